/* Silences (ar/silence.h): the set owned by the core thread, an array of heap silences in
 * creation order (so mute results and listings are stable). Sets are small (tens to
 * thousands), so lookups by id are linear scans: O(n) per API call and O(n * matchers)
 * per alert checked. Every change bumps the generation and queues a copy of the new
 * version in the transaction (ar/txn.h), so the API answers only after it is in SQLite. */
#include "ar/silence.h"

#include "ar/log.h"
#include "ar/store_silences.h"
#include "ar/txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NS_PER_SEC 1000000000LL

struct silence_set {
    struct silence **v;
    size_t n;
    size_t cap;
    uint64_t generation;
    size_t max_silences; /* active + pending allowed; 0 = unlimited */
};

void silence_set_limit(struct silence_set *set, size_t max_silences)
{
    set->max_silences = max_silences;
}

void silence_free(struct silence *s)
{
    if (s == NULL) {
        return;
    }
    matcher_list_cleanup(&s->matchers);
    free(s->created_by);
    free(s->comment);
    free(s);
}

struct silence *silence_dup(const struct silence *s)
{
    struct silence *c = ar_calloc(1, sizeof(*c));

    memcpy(c->id, s->id, sizeof(c->id));
    matcher_list_init(&c->matchers);
    for (size_t i = 0; i < s->matchers.n; i++) {
        matcher_list_add_take(&c->matchers, matcher_dup(s->matchers.v[i]));
    }
    c->starts_at = s->starts_at;
    c->ends_at = s->ends_at;
    c->updated_at = s->updated_at;
    c->starts_off_min = s->starts_off_min;
    c->ends_off_min = s->ends_off_min;
    c->created_by = ar_strdup(s->created_by ? s->created_by : "");
    c->comment = ar_strdup(s->comment ? s->comment : "");
    return c;
}

void silence_request_cleanup(struct silence_request *r)
{
    for (size_t i = 0; i < r->nmatchers; i++) {
        free(r->matchers[i].name);
        free(r->matchers[i].value);
    }
    free(r->matchers);
    free(r->id);
    free(r->created_by);
    free(r->comment);
    memset(r, 0, sizeof(*r));
}

struct silence_set *silence_set_new(void)
{
    return ar_calloc(1, sizeof(struct silence_set));
}

void silence_set_free(struct silence_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        silence_free(set->v[i]);
    }
    free(set->v);
    free(set);
}

static void set_add_take(struct silence_set *set, struct silence *s)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->v = ar_realloc(set->v, set->cap * sizeof(*set->v));
    }
    set->v[set->n++] = s;
    set->generation++;
}

static void load_cb(struct silence *s, void *ctx)
{
    set_add_take(ctx, s);
}

int silence_set_load(struct silence_set *set, struct store *st)
{
    int rc = store_load_silences(st, load_cb, set);

    if (rc == AR_OK) {
        log_info("silence", "loaded %zu silences from storage", set->n);
    }
    return rc;
}

enum silence_state silence_state_at(const struct silence *s, int64_t now_ns)
{
    if (now_ns < s->starts_at) {
        return SILENCE_PENDING;
    }
    return now_ns > s->ends_at ? SILENCE_EXPIRED : SILENCE_ACTIVE;
}

const char *silence_state_name(enum silence_state st)
{
    static const char *const names[] = {"pending", "active", "expired"};

    return names[st];
}

static struct silence *find(const struct silence_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i]->id, id) == 0) {
            return set->v[i];
        }
    }
    return NULL;
}

const struct silence *silence_set_find(const struct silence_set *set, const char *id)
{
    return find(set, id);
}

size_t silence_set_size(const struct silence_set *set)
{
    return set->n;
}

const struct silence *silence_set_at(const struct silence_set *set, size_t i)
{
    return set->v[i];
}

size_t silence_set_mutes(const struct silence_set *set, const struct labelset *ls, int64_t now_ns,
                         const char **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < set->n; i++) {
        const struct silence *s = set->v[i];
        if (silence_state_at(s, now_ns) == SILENCE_ACTIVE && matchers_match(&s->matchers, ls)) {
            if (n < max) {
                out[n] = s->id;
            }
            n++;
        }
    }
    return n;
}

/* Durable writes: each change queues a private copy, because the core may change or drop
 * the silence before the writer thread runs. */
struct silence_write {
    struct silence *s; /* NULL for a GC deletion */
    char id[37];
    const char *event;
    int64_t at_ns;
    char *origin; /* NULL: this instance's change; else the peer that made it */
};

static int apply_write(struct store *st, void *data)
{
    struct silence_write *w = data;

    if (w->s == NULL) {
        return store_silence_delete(st, w->id);
    }
    return store_silence_append_from(st, w->s, w->event, w->at_ns, w->origin);
}

static void free_write(void *data)
{
    struct silence_write *w = data;

    silence_free(w->s);
    free(w->origin);
    free(w);
}

static void queue_write(struct txn *txn, const struct silence *s, const char *id, const char *event,
                        int64_t at_ns)
{
    struct silence_write *w = ar_calloc(1, sizeof(*w));

    if (s != NULL) {
        w->s = silence_dup(s);
    }
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->event = event;
    w->at_ns = at_ns;
    txn_write(txn, apply_write, w, free_write);
}

/* Turns the anchored pattern regex_compile reports (`^(?:v)$`) back into the pattern as
 * given, since 0.25 compiles silence regexes unanchored for validation. */
static void unanchor_message(const char *value, const char *msg, struct buf *out)
{
    char *anchored = ar_asprintf("`^(?:%s)$`", value);
    const char *hit = strstr(msg, anchored);

    if (hit == NULL) {
        buf_puts(out, msg);
    } else {
        buf_append(out, msg, (size_t)(hit - msg));
        buf_putc(out, '`');
        buf_puts(out, value);
        buf_putc(out, '`');
        buf_puts(out, hit + strlen(anchored));
    }
    free(anchored);
}

/* COMPAT: 0.25 silence validation, in order, with its messages (before the
 * "silence invalid: " prefix). Builds the compiled matchers into out. */
static int build_matchers(const struct silence_request *req, struct matcher_list *out,
                          struct ar_error *err)
{
    bool all_match_empty = true;
    struct buf msg;

    buf_init(&msg, 900);
    for (size_t i = 0; i < req->nmatchers; i++) {
        const struct silence_matcher_spec *sp = &req->matchers[i];
        struct matcher *m = NULL;
        struct ar_error rerr;
        if (!label_name_is_classic(sp->name)) {
            buf_printf(&msg, "invalid label matcher %zu: invalid label name ", i);
            buf_go_quote(&msg, sp->name);
            goto fail;
        }
        if ((sp->op == MATCHER_EQ || sp->op == MATCHER_NE) &&
            !utf8_is_valid(sp->value, strlen(sp->value))) {
            buf_printf(&msg, "invalid label matcher %zu: invalid label value ", i);
            buf_go_quote(&msg, sp->value);
            goto fail;
        }
        if (matcher_new(sp->name, sp->op, sp->value, &m, &rerr) != AR_OK) {
            buf_printf(&msg, "invalid label matcher %zu: invalid regular expression ", i);
            buf_go_quote(&msg, sp->value);
            buf_puts(&msg, ": ");
            unanchor_message(sp->value, rerr.msg, &msg);
            goto fail;
        }
        /* COMPAT: only = and =~ can match the empty string for this rule; != and !~
         * never count, whatever their value. */
        if (sp->op == MATCHER_NE || sp->op == MATCHER_NRE || !matcher_matches(m, "")) {
            all_match_empty = false;
        }
        matcher_list_add_take(out, m);
    }
    if (req->nmatchers == 0) {
        buf_puts(&msg, "at least one matcher required");
        goto fail;
    }
    if (all_match_empty) {
        buf_puts(&msg, "at least one matcher must not match the empty string");
        goto fail;
    }
    buf_cleanup(&msg);
    return AR_OK;
fail:
    ar_error_set(err, "silence invalid: %s", buf_str(&msg));
    buf_cleanup(&msg);
    return AR_EINVAL;
}

static bool same_matchers(const struct silence *s, const struct silence_request *req)
{
    if (s->matchers.n != req->nmatchers) {
        return false;
    }
    for (size_t i = 0; i < req->nmatchers; i++) {
        const struct matcher *m = s->matchers.v[i];
        const struct silence_matcher_spec *sp = &req->matchers[i];
        if (m->op != sp->op || strcmp(m->name, sp->name) != 0 || strcmp(m->value, sp->value) != 0) {
            return false;
        }
    }
    return true;
}

static int64_t whole_seconds(int64_t ns)
{
    int64_t q = ns / NS_PER_SEC;

    return (ns % NS_PER_SEC < 0) ? q - 1 : q;
}

/* COMPAT: when an existing silence may be changed in place (0.25 canUpdate). The active
 * case compares start times to the second, as observed on 0.25, so clients echoing the
 * millisecond start they read keep the id. */
static bool can_update(const struct silence *s, const struct silence_request *req, int64_t now)
{
    if (!same_matchers(s, req)) {
        return false;
    }
    switch (silence_state_at(s, now)) {
    case SILENCE_ACTIVE:
        return whole_seconds(req->starts_at) == whole_seconds(s->starts_at) && req->ends_at >= now;
    case SILENCE_PENDING:
        return req->starts_at >= now;
    case SILENCE_EXPIRED:
    default:
        return false;
    }
}

static void random_uuid(char out[37])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof(r)) {
        ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            log_error("silence", "getrandom failed: %s", strerror(errno));
            abort();
        }
        got += (size_t)k;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static void expire_in_place(struct silence_set *set, struct silence *s, int64_t now,
                            struct txn *txn)
{
    switch (silence_state_at(s, now)) {
    case SILENCE_EXPIRED:
        return; /* COMPAT: expiring an expired silence changes nothing and succeeds */
    case SILENCE_PENDING:
        s->starts_at = now;
        s->starts_off_min = 0;
        /* fall through */
    case SILENCE_ACTIVE:
        s->ends_at = now;
        s->ends_off_min = 0;
        break;
    }
    s->updated_at = now;
    set->generation++;
    queue_write(txn, s, s->id, "expired", now);
}

int silence_set_upsert(struct silence_set *set, const struct silence_request *req, int64_t now_ns,
                       struct txn *txn, char out_id[37], struct ar_error *err)
{
    struct silence *prev = NULL;
    struct silence *s;
    struct matcher_list ml;
    bool in_place = false;

    if (req->id != NULL && req->id[0] != '\0') {
        prev = find(set, req->id);
        if (prev == NULL) {
            ar_error_set(err, "silence not found");
            return AR_ENOTFOUND;
        }
        in_place = can_update(prev, req, now_ns);
        if (!in_place) {
            /* COMPAT: the old silence is expired before the new one is validated, so an
             * invalid replacement still ends the old silence (0.25). */
            expire_in_place(set, prev, now_ns, txn);
        }
    }
    matcher_list_init(&ml);
    if (build_matchers(req, &ml, err) != AR_OK) {
        matcher_list_cleanup(&ml);
        return AR_EINVAL;
    }
    if (!in_place && set->max_silences > 0) {
        /* Limit on silences that can still mute (active and pending), as newest
         * Alertmanager's --silences.max-silences: a flood of silences is refused. */
        size_t live = 0;
        for (size_t i = 0; i < set->n; i++) {
            live += silence_state_at(set->v[i], now_ns) != SILENCE_EXPIRED;
        }
        if (live + 1 > set->max_silences) {
            ar_error_set(err, "exceeded maximum number of silences: %zu (limit: %zu)", live + 1,
                         set->max_silences);
            matcher_list_cleanup(&ml);
            return AR_EINVAL;
        }
    }
    if (in_place) {
        s = prev;
        matcher_list_cleanup(&s->matchers);
        free(s->created_by);
        free(s->comment);
    } else {
        s = ar_calloc(1, sizeof(*s));
        random_uuid(s->id);
    }
    s->matchers = ml;
    s->starts_at = req->starts_at;
    s->starts_off_min = req->starts_off_min;
    s->ends_at = req->ends_at;
    s->ends_off_min = req->ends_off_min;
    if (!in_place && s->starts_at < now_ns) {
        s->starts_at = now_ns; /* COMPAT: a new silence never starts in the past */
        s->starts_off_min = 0;
    }
    s->updated_at = now_ns;
    s->created_by = ar_strdup(req->created_by ? req->created_by : "");
    s->comment = ar_strdup(req->comment ? req->comment : "");
    if (in_place) {
        set->generation++;
    } else {
        set_add_take(set, s);
    }
    queue_write(txn, s, s->id, in_place ? "updated" : "created", now_ns);
    memcpy(out_id, s->id, 37);
    return AR_OK;
}

int silence_set_expire(struct silence_set *set, const char *id, int64_t now_ns, struct txn *txn)
{
    struct silence *s = find(set, id);

    if (s == NULL) {
        return AR_ENOTFOUND;
    }
    expire_in_place(set, s, now_ns, txn);
    return AR_OK;
}

void silence_set_gc(struct silence_set *set, int64_t now_ns, int64_t retention_ns, struct txn *txn)
{
    size_t kept = 0;

    for (size_t i = 0; i < set->n; i++) {
        struct silence *s = set->v[i];
        /* COMPAT: kept until endsAt + retention (6.2). */
        if (s->ends_at < now_ns - retention_ns) {
            queue_write(txn, NULL, s->id, NULL, now_ns);
            silence_free(s);
            set->generation++;
            continue;
        }
        set->v[kept++] = s;
    }
    set->n = kept;
}

void silence_set_count(const struct silence_set *set, int64_t now_ns, size_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    for (size_t i = 0; i < set->n; i++) {
        counts[silence_state_at(set->v[i], now_ns)]++;
    }
}

bool silence_set_merge(struct silence_set *set, struct silence *s, const char *origin,
                       int64_t now_ns, struct txn *txn)
{
    struct silence_write *w;

    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i]->id, s->id) != 0) {
            continue;
        }
        if (s->updated_at <= set->v[i]->updated_at) {
            silence_free(s); /* ours is as new or newer: last writer wins */
            return false;
        }
        silence_free(set->v[i]);
        set->v[i] = s;
        set->generation++;
        goto persist;
    }
    set_add_take(set, s);
persist:
    w = ar_calloc(1, sizeof(*w));
    w->s = silence_dup(s);
    snprintf(w->id, sizeof(w->id), "%s", s->id);
    w->event = s->ends_at <= s->updated_at ? "expired" : "updated";
    w->at_ns = now_ns;
    w->origin = origin != NULL ? ar_strdup(origin) : NULL;
    txn_write(txn, apply_write, w, free_write);
    return true;
}

uint64_t silence_set_generation(const struct silence_set *set)
{
    return set->generation;
}

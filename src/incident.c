/* Incidents (ar/incident.h): the set of unresolved incidents owned by the core thread, the
 * hooks the pipeline calls at each flush, acknowledgements and notes; every change queued
 * in the turn's transaction through store_incidents.c. */
#include "ar/incident.h"

#include "ar/audit.h"
#include "ar/buf.h"
#include "ar/json_out.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/store_incidents.h"
#include "ar/txn.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const incident_section_keys[] = {
    "identification", "mitigation",  "post_incident_analysis", "reporting",
    "action_plan",    "conclusions", "recommendations",        NULL};
const char *const incident_section_titles[] = {
    "Identification", "Mitigation",  "Post-incident analysis", "Reporting",
    "Action plan",    "Conclusions", "Recommendations",        NULL};

enum inc_state { INC_OPEN, INC_ACKED, INC_RESOLVED };
static const char *const state_names[] = {"open", "acknowledged", "resolved"};

/* An alert that joined the incident (its labels and annotations are in incident_alerts). */
struct inc_alert {
    uint64_t fp;
    bool resolved;
};

struct incident {
    struct incident *next; /* hash chain */
    uint64_t hash;
    int64_t id;
    char *receiver;
    char *group_key;
    char *group_labels; /* JSON object */
    char *severity;
    enum inc_state state;
    int64_t opened_at;
    int64_t acked_at;
    char *acked_by;
    char *ack_comment;
    char *ack_origin;  /* peer name of the acknowledgement's instance ("": this one; memory only) */
    char *cluster_key; /* the episode's name on every instance (incident_cluster_key) */
    struct inc_alert *alerts; /* sorted by fingerprint */
    size_t nalerts;
    size_t cap;
    uint64_t *muted; /* fingerprint ^ kind of muted events recorded, sorted (memory only) */
    size_t nmuted;
    size_t muted_cap;
};

struct incident_set {
    struct incident **table;
    size_t nbuckets; /* power of two */
    size_t count;
    int64_t next_id;
    int64_t next_note_id;
    /* the incident of the flush in progress (set by incident_flush_begin, cleared when it
     * leaves the set): the hooks of that flush find it without hashing the group key */
    struct incident *hot;
};

static uint64_t key_hash(const char *receiver, const char *group_key)
{
    uint64_t h = labels_fnv1a_add(labels_fnv1a_init(), receiver, strlen(receiver) + 1);

    return labels_fnv1a_add(h, group_key, strlen(group_key));
}

static void inc_free(struct incident *inc)
{
    free(inc->alerts);
    free(inc->muted);
    free(inc->receiver);
    free(inc->group_key);
    free(inc->group_labels);
    free(inc->severity);
    free(inc->acked_by);
    free(inc->ack_comment);
    free(inc->ack_origin);
    free(inc->cluster_key);
    free(inc);
}

struct incident_set *incident_set_new(void)
{
    struct incident_set *s = ar_calloc(1, sizeof(*s));

    s->nbuckets = 64;
    s->table = ar_calloc(s->nbuckets, sizeof(*s->table));
    s->next_id = 1;
    s->next_note_id = 1;
    return s;
}

void incident_set_free(struct incident_set *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->nbuckets; i++) {
        struct incident *inc = s->table[i];
        while (inc != NULL) {
            struct incident *next = inc->next;
            inc_free(inc);
            inc = next;
        }
    }
    free(s->table);
    free(s);
}

size_t incident_set_count(const struct incident_set *s)
{
    return s->count;
}

static void set_insert(struct incident_set *s, struct incident *inc)
{
    if (s->count + 1 > s->nbuckets) {
        size_t nb = s->nbuckets * 2;
        struct incident **t = ar_calloc(nb, sizeof(*t));
        for (size_t i = 0; i < s->nbuckets; i++) {
            struct incident *x = s->table[i];
            while (x != NULL) {
                struct incident *next = x->next;
                x->next = t[x->hash & (nb - 1)];
                t[x->hash & (nb - 1)] = x;
                x = next;
            }
        }
        free(s->table);
        s->table = t;
        s->nbuckets = nb;
    }
    inc->next = s->table[inc->hash & (s->nbuckets - 1)];
    s->table[inc->hash & (s->nbuckets - 1)] = inc;
    s->count++;
}

static void set_remove(struct incident_set *s, struct incident *inc)
{
    struct incident **pp = &s->table[inc->hash & (s->nbuckets - 1)];

    while (*pp != inc) {
        pp = &(*pp)->next;
    }
    *pp = inc->next;
    s->count--;
    if (s->hot == inc) {
        s->hot = NULL;
    }
}

static struct incident *find_key(const struct incident_set *s, const char *receiver,
                                 const char *group_key)
{
    uint64_t h = key_hash(receiver, group_key);

    for (struct incident *inc = s->table[h & (s->nbuckets - 1)]; inc != NULL; inc = inc->next) {
        if (inc->hash == h && strcmp(inc->group_key, group_key) == 0 &&
            strcmp(inc->receiver, receiver) == 0) {
            return inc;
        }
    }
    return NULL;
}

/* The open incident id of that group (the pipeline's lookups), or NULL. */
static struct incident *find_of(const struct incident_set *s, int64_t id, const char *receiver,
                                const char *group_key)
{
    struct incident *inc;

    if (id == 0) {
        return NULL;
    }
    inc = s->hot;
    if (inc != NULL && inc->id == id && strcmp(inc->group_key, group_key) == 0 &&
        strcmp(inc->receiver, receiver) == 0) {
        return inc;
    }
    inc = find_key(s, receiver, group_key);
    return inc != NULL && inc->id == id ? inc : NULL;
}

static struct incident *find_id(const struct incident_set *s, int64_t id)
{
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (struct incident *inc = s->table[i]; inc != NULL; inc = inc->next) {
            if (inc->id == id) {
                return inc;
            }
        }
    }
    return NULL;
}

/* ---- durable writes ---- */

static int row_apply(struct store *st, void *data)
{
    return store_incident_put(st, data);
}

static void row_free(void *data)
{
    incident_row_free(data);
}

/* An alert joining (firing) or resolving: its event and its incident_alerts row, serialised
 * on the writer thread from the alert itself (immutable, referenced until written), so a
 * flush on the core thread only takes a reference. */
struct alert_change {
    int64_t incident_id;
    int64_t at;
    struct alert *alert;
    bool resolved;
};

static int alert_change_apply(struct store *st, void *data)
{
    struct alert_change *c = data;
    struct labelset scratch;
    struct buf labels;
    struct buf ann;
    struct buf detail;
    char fp[17];
    int rc;

    fingerprint_format(c->alert->fp, fp);
    buf_init(&labels, 0);
    json_put_labelset(&labels, &c->alert->labels);
    labelset_init(&scratch);
    buf_init(&ann, 0);
    json_put_labelset(&ann, alert_annotations(c->alert, &scratch));
    labelset_cleanup(&scratch);
    buf_init(&detail, 0);
    /* appended, not buf_printf'd: formatting the two JSON objects through vsnprintf (twice)
     * was half the cost of an alert joining */
    buf_reserve(&detail, 48 + sizeof(fp) + labels.len + ann.len);
    buf_puts(&detail, "{\"fingerprint\":\"");
    buf_puts(&detail, fp);
    buf_puts(&detail, "\",\"labels\":");
    buf_append(&detail, buf_str(&labels), labels.len);
    buf_puts(&detail, ",\"annotations\":");
    buf_append(&detail, buf_str(&ann), ann.len);
    buf_putc(&detail, '}');
    rc = store_incident_event(st, c->incident_id, c->at,
                              c->resolved ? "alert_resolved" : "alert_firing", buf_str(&detail));
    if (rc == AR_OK) {
        rc = store_incident_alert_put(st, c->incident_id, fp, c->resolved, buf_str(&labels),
                                      buf_str(&ann));
    }
    buf_cleanup(&labels);
    buf_cleanup(&ann);
    buf_cleanup(&detail);
    return rc;
}

static void alert_change_free(void *data)
{
    struct alert_change *c = data;

    alert_unref(c->alert);
    free(c);
}

static void write_alert_change(struct txn *txn, int64_t id, struct alert *a, bool resolved)
{
    struct alert_change *c = ar_calloc(1, sizeof(*c));

    c->incident_id = id;
    c->at = txn_now(txn);
    c->alert = alert_ref(a);
    c->resolved = resolved;
    txn_write(txn, alert_change_apply, c, alert_change_free);
}

/* Queues the incident's current row. */
static void write_row(const struct incident *inc, int64_t resolved_at, struct txn *txn)
{
    struct incident_row *r = ar_calloc(1, sizeof(*r));

    r->id = inc->id;
    r->receiver = ar_strdup(inc->receiver);
    r->group_key = ar_strdup(inc->group_key);
    r->group_labels = ar_strdup(inc->group_labels);
    r->severity = ar_strdup(inc->severity);
    r->state = ar_strdup(state_names[inc->state]);
    r->opened_at = inc->opened_at;
    r->acked_at = inc->acked_at;
    r->acked_by = ar_strdup(inc->acked_by ? inc->acked_by : "");
    r->ack_comment = ar_strdup(inc->ack_comment ? inc->ack_comment : "");
    r->resolved_at = resolved_at;
    r->cluster_key = ar_strdup(inc->cluster_key ? inc->cluster_key : "");
    txn_write(txn, row_apply, r, row_free);
}

struct event_row {
    int64_t incident_id;
    int64_t at;
    const char *kind; /* static */
    char *detail;
    char *origin; /* NULL: this instance */
};

static int event_apply(struct store *st, void *data)
{
    struct event_row *e = data;

    return store_incident_event_from(st, e->incident_id, e->at, e->kind, e->detail, e->origin);
}

static void event_free(void *data)
{
    struct event_row *e = data;

    free(e->detail);
    free(e->origin);
    free(e);
}

/* Queues a timeline event; takes detail (a JSON object built in a buf). origin: NULL for
 * this instance's own events, else the peer name of the instance it came from. */
static void write_event_from(struct txn *txn, int64_t id, const char *kind, struct buf *detail,
                             const char *origin)
{
    struct event_row *e = ar_calloc(1, sizeof(*e));

    e->incident_id = id;
    e->at = txn_now(txn);
    e->kind = kind;
    e->detail = buf_take(detail);
    e->origin = origin ? ar_strdup(origin) : NULL;
    txn_write(txn, event_apply, e, event_free);
}

static void write_event(struct txn *txn, int64_t id, const char *kind, struct buf *detail)
{
    write_event_from(txn, id, kind, detail, NULL);
}

/* ---- severity ---- */

static int severity_rank(const char *s)
{
    static const struct {
        const char *name;
        int rank;
    } ranks[] = {{"critical", 6}, {"page", 6},    {"high", 5}, {"error", 5},
                 {"major", 5},    {"warning", 4}, {"warn", 4}, {"medium", 4},
                 {"minor", 3},    {"low", 3},     {"info", 2}, {"none", 1}};

    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(ranks); i++) {
        if (strcasecmp(s, ranks[i].name) == 0) {
            return ranks[i].rank;
        }
    }
    return 1; /* a value we do not know still beats none */
}

static void raise_severity(struct incident *inc, const char *sev)
{
    if (sev != NULL && severity_rank(sev) > severity_rank(inc->severity)) {
        free(inc->severity);
        inc->severity = ar_strdup(sev);
    }
}

/* ---- alerts of an incident ---- */

static struct inc_alert *alert_find(struct incident *inc, uint64_t fp, size_t *pos)
{
    size_t lo = 0;
    size_t hi = inc->nalerts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inc->alerts[mid].fp < fp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *pos = lo;
    return lo < inc->nalerts && inc->alerts[lo].fp == fp ? &inc->alerts[lo] : NULL;
}

static struct inc_alert *alert_insert(struct incident *inc, size_t pos, uint64_t fp)
{
    if (inc->nalerts == inc->cap) {
        inc->cap = inc->cap ? inc->cap * 2 : 4;
        inc->alerts = ar_realloc(inc->alerts, inc->cap * sizeof(*inc->alerts));
    }
    memmove(&inc->alerts[pos + 1], &inc->alerts[pos], (inc->nalerts - pos) * sizeof(*inc->alerts));
    inc->nalerts++;
    memset(&inc->alerts[pos], 0, sizeof(inc->alerts[pos]));
    inc->alerts[pos].fp = fp;
    return &inc->alerts[pos];
}

/* {"fingerprint":"...","labels":{...}} for alert events. */
static void alert_detail(struct buf *b, const struct alert *a)
{
    char fp[17];

    fingerprint_format(a->fp, fp);
    buf_printf(b, "{\"fingerprint\":\"%s\",\"labels\":", fp);
    json_put_labelset(b, &a->labels);
}

/* A decimal integer, as %lld would print it. */
static void put_int(struct buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        tmp[--i] = '-';
    }
    buf_append(b, tmp + i, sizeof(tmp) - i);
}

/* ---- pipeline hooks ---- */

static struct incident *open_incident(struct incident_set *s, const char *receiver,
                                      const char *group_key, const struct labelset *group_labels,
                                      int64_t episode, int64_t now_ns)
{
    struct incident *inc = ar_calloc(1, sizeof(*inc));
    struct buf b;

    inc->cluster_key = incident_cluster_key(receiver, group_key, episode);
    inc->id = s->next_id++;
    inc->hash = key_hash(receiver, group_key);
    inc->receiver = ar_strdup(receiver);
    inc->group_key = ar_strdup(group_key);
    buf_init(&b, 0);
    json_put_labelset(&b, group_labels);
    inc->group_labels = buf_take(&b);
    inc->severity = ar_strdup("");
    inc->state = INC_OPEN;
    inc->opened_at = now_ns;
    set_insert(s, inc);
    return inc;
}

int64_t incident_flush_begin(struct incident_set *s, const char *receiver, const char *group_key,
                             const struct labelset *group_labels, struct alert *const *snap,
                             size_t n, int64_t now_ns, struct txn *txn)
{
    struct incident *inc = find_key(s, receiver, group_key);
    bool opened = false;
    bool joined = false;
    struct buf b;

    if (inc == NULL) {
        bool fires = false;
        int64_t episode = 0; /* the earliest startsAt of the firing alerts (cluster key) */
        for (size_t i = 0; i < n; i++) {
            if (!alert_resolved_at(snap[i], now_ns)) {
                if (!fires || snap[i]->starts_at < episode) {
                    episode = snap[i]->starts_at;
                }
                fires = true;
            }
        }
        if (!fires) {
            return 0;
        }
        inc = open_incident(s, receiver, group_key, group_labels, episode, now_ns);
        opened = true;
    }
    s->hot = inc;
    for (size_t i = 0; i < n; i++) {
        const struct alert *a = snap[i];
        bool resolved = alert_resolved_at(a, now_ns);
        size_t pos;
        struct inc_alert *ia = alert_find(inc, a->fp, &pos);
        if (ia == NULL && resolved) {
            continue; /* resolved before it ever joined (a leftover of an earlier episode) */
        }
        if (ia == NULL || (ia->resolved && !resolved)) {
            if (ia == NULL) {
                ia = alert_insert(inc, pos, a->fp);
            }
            ia->resolved = false;
            raise_severity(inc, labelset_get(&a->labels, "severity"));
            write_alert_change(txn, inc->id, snap[i], false);
            joined = true;
        } else if (resolved && !ia->resolved) {
            ia->resolved = true;
            write_alert_change(txn, inc->id, snap[i], true);
        }
    }
    if (joined && !opened && inc->state == INC_ACKED) {
        /* a new alert notifies as usual and ends the acknowledgement */
        inc->state = INC_OPEN;
        buf_init(&b, 0);
        buf_puts(&b, "{\"reason\":\"new alert joined\",\"acknowledgedBy\":");
        json_put_cstr(&b, inc->acked_by ? inc->acked_by : "");
        buf_putc(&b, '}');
        write_event(txn, inc->id, "ack_cleared", &b);
    }
    if (joined) { /* severity or acknowledgement changed */
        write_row(inc, 0, txn);
    }
    return inc->id;
}

void incident_muted(struct incident_set *s, int64_t id, const char *receiver, const char *group_key,
                    const struct alert *a, const char *how, const char *by, struct txn *txn)
{
    struct incident *inc = find_of(s, id, receiver, group_key);
    uint64_t tag;
    size_t lo;
    size_t hi;
    struct buf b;

    if (inc == NULL) {
        return;
    }
    tag = a->fp ^ (how[0] == 's' ? 0x5111ULL : 0x1A41ULL) * 0x9E3779B97F4A7C15ULL;
    /* recorded once per alert and kind: a silenced alert comes here at every flush of its
     * group, so the check is a binary search, not a scan */
    lo = 0;
    hi = inc->nmuted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inc->muted[mid] < tag) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < inc->nmuted && inc->muted[lo] == tag) {
        return;
    }
    if (inc->nmuted == inc->muted_cap) {
        inc->muted_cap = inc->muted_cap ? inc->muted_cap * 2 : 8;
        inc->muted = ar_realloc(inc->muted, inc->muted_cap * sizeof(*inc->muted));
    }
    memmove(&inc->muted[lo + 1], &inc->muted[lo], (inc->nmuted - lo) * sizeof(*inc->muted));
    inc->muted[lo] = tag;
    inc->nmuted++;
    buf_init(&b, 0);
    alert_detail(&b, a);
    buf_puts(&b, how[0] == 's' ? ",\"silenceID\":" : ",\"inhibitedBy\":");
    json_put_cstr(&b, by);
    buf_putc(&b, '}');
    write_event(txn, inc->id, how[0] == 's' ? "silenced" : "inhibited", &b);
}

bool incident_acknowledged(const struct incident_set *s, int64_t id, const char *receiver,
                           const char *group_key)
{
    const struct incident *inc = find_of(s, id, receiver, group_key);

    return inc != NULL && inc->state == INC_ACKED;
}

void incident_notify_outcome(struct txn *txn, int64_t id, int64_t delivery_id, const char *receiver,
                             const char *integration, int64_t sent_at, size_t nfiring,
                             size_t nresolved, const char *outcome, int attempts, const char *error)
{
    struct buf b;

    if (id == 0) {
        return;
    }
    /* once per notification: put together without buf_printf (vsnprintf twice each) */
    buf_init(&b, 0);
    buf_puts(&b, "{\"deliveryID\":");
    put_int(&b, delivery_id);
    buf_puts(&b, ",\"receiver\":");
    json_put_cstr(&b, receiver);
    buf_puts(&b, ",\"integration\":");
    json_put_cstr(&b, integration);
    buf_puts(&b, ",\"sentAt\":");
    json_put_time(&b, sent_at, 0);
    buf_puts(&b, ",\"firing\":");
    put_int(&b, (int64_t)nfiring);
    buf_puts(&b, ",\"resolved\":");
    put_int(&b, (int64_t)nresolved);
    buf_puts(&b, ",\"outcome\":");
    json_put_cstr(&b, outcome);
    buf_puts(&b, ",\"attempts\":");
    put_int(&b, attempts);
    buf_puts(&b, ",\"error\":");
    json_put_cstr(&b, error ? error : "");
    buf_putc(&b, '}');
    write_event(txn, id, "notification", &b);
}

void incident_ack_message_outcome(struct txn *txn, int64_t id, const char *receiver,
                                  const char *integration, const char *outcome, int attempts,
                                  const char *error)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "{\"receiver\":");
    json_put_cstr(&b, receiver);
    buf_puts(&b, ",\"integration\":");
    json_put_cstr(&b, integration);
    buf_puts(&b, ",\"outcome\":");
    json_put_cstr(&b, outcome);
    buf_printf(&b, ",\"attempts\":%d,\"error\":", attempts);
    json_put_cstr(&b, error ? error : "");
    buf_putc(&b, '}');
    write_event(txn, id, "ack_message", &b);
}

void incident_flush_end(struct incident_set *s, int64_t id, const char *receiver,
                        const char *group_key, bool ok, bool all_resolved, int64_t now_ns,
                        struct txn *txn)
{
    struct incident *inc = find_of(s, id, receiver, group_key);
    struct buf b;

    if (inc == NULL || !ok || !all_resolved) {
        return;
    }
    inc->state = INC_RESOLVED;
    buf_init(&b, 0);
    buf_puts(&b, "{}");
    write_event(txn, inc->id, "resolved", &b);
    write_row(inc, now_ns, txn);
    set_remove(s, inc);
    inc_free(inc);
}

size_t incident_set_close_orphans(struct incident_set *s,
                                  bool (*exists)(void *ctx, const char *receiver,
                                                 const char *group_key),
                                  void *ctx, struct txn *txn)
{
    size_t closed = 0;

    for (size_t i = 0; i < s->nbuckets; i++) {
        struct incident *inc = s->table[i];
        while (inc != NULL) {
            struct incident *next = inc->next;
            if (!exists(ctx, inc->receiver, inc->group_key)) {
                struct buf b;
                buf_init(&b, 0);
                buf_puts(&b, "{\"reason\":\"its aggregation group no longer exists\"}");
                inc->state = INC_RESOLVED;
                write_event(txn, inc->id, "closed", &b);
                write_row(inc, txn_now(txn), txn);
                set_remove(s, inc);
                inc_free(inc);
                closed++;
            }
            inc = next;
        }
    }
    return closed;
}

/* ---- API operations ---- */

int incident_ack(struct incident_set *s, int64_t id, const char *by, const char *comment,
                 const char *client, const char *user, struct txn *txn, char **prev_by)
{
    struct incident *inc = find_id(s, id);
    bool won;
    struct buf b;
    char ids[24];

    if (inc == NULL) {
        return AR_ENOTFOUND;
    }
    won = inc->state == INC_OPEN;
    buf_init(&b, 0);
    buf_puts(&b, "{\"by\":");
    json_put_cstr(&b, by);
    buf_puts(&b, ",\"comment\":");
    json_put_cstr(&b, comment ? comment : "");
    buf_printf(&b, ",\"effective\":%s", won ? "true" : "false");
    if (!won) {
        buf_puts(&b, ",\"acknowledgedBy\":");
        json_put_cstr(&b, inc->acked_by ? inc->acked_by : "");
    }
    buf_putc(&b, '}');
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    audit_record(txn, "incident.ack", ids, client, user, buf_str(&b));
    write_event(txn, id, "acknowledged", &b);
    if (!won) {
        *prev_by = ar_strdup(inc->acked_by ? inc->acked_by : "");
        return AR_EEXIST;
    }
    inc->state = INC_ACKED;
    inc->acked_at = txn_now(txn);
    free(inc->acked_by);
    free(inc->ack_comment);
    free(inc->ack_origin);
    inc->acked_by = ar_strdup(by);
    inc->ack_comment = ar_strdup(comment ? comment : "");
    inc->ack_origin = ar_strdup("");
    write_row(inc, 0, txn);
    return AR_OK;
}

char *incident_cluster_key(const char *receiver, const char *group_key, int64_t episode)
{
    return ar_asprintf("%s\x1f%s\x1f%lld", receiver, group_key, (long long)episode);
}

/* The open incident named key, or NULL: the group's incident (by receiver and group key,
 * the parts of the key before its first and last 0x1f) when it is of that episode. */
static struct incident *find_cluster_key(const struct incident_set *s, const char *key)
{
    const char *first = strchr(key, '\x1f');
    const char *last = strrchr(key, '\x1f');
    struct incident *inc;
    char *receiver;
    char *group_key;

    if (first == NULL || last == first) {
        return NULL;
    }
    receiver = ar_strndup(key, (size_t)(first - key));
    group_key = ar_strndup(first + 1, (size_t)(last - first - 1));
    inc = find_key(s, receiver, group_key);
    free(receiver);
    free(group_key);
    return inc != NULL && inc->cluster_key != NULL && strcmp(inc->cluster_key, key) == 0 ? inc
                                                                                         : NULL;
}

int incident_ack_remote(struct incident_set *s, const char *cluster_key, const char *origin,
                        const char *self, int64_t at, const char *by, const char *comment,
                        struct txn *txn)
{
    struct incident *inc = find_cluster_key(s, cluster_key);
    bool wins;
    struct buf b;

    if (inc == NULL) {
        return AR_ENOTFOUND;
    }
    if (inc->state == INC_OPEN) {
        wins = true;
    } else {
        /* both acknowledged: the earliest wins everywhere, ties by peer name */
        const char *cur = inc->ack_origin && inc->ack_origin[0] ? inc->ack_origin : self;
        wins = at < inc->acked_at || (at == inc->acked_at && strcmp(origin, cur) < 0);
    }
    buf_init(&b, 0);
    buf_puts(&b, "{\"by\":");
    json_put_cstr(&b, by);
    buf_puts(&b, ",\"comment\":");
    json_put_cstr(&b, comment ? comment : "");
    buf_printf(&b, ",\"effective\":%s", wins ? "true" : "false");
    if (inc->state == INC_ACKED) {
        buf_puts(&b, wins ? ",\"supersedes\":" : ",\"acknowledgedBy\":");
        json_put_cstr(&b, inc->acked_by ? inc->acked_by : "");
    }
    buf_puts(&b, ",\"origin\":");
    json_put_cstr(&b, origin);
    buf_puts(&b, ",\"at\":");
    json_put_time(&b, at, 0);
    buf_putc(&b, '}');
    write_event_from(txn, inc->id, "acknowledged", &b, origin);
    if (!wins) {
        return AR_EEXIST;
    }
    inc->state = INC_ACKED;
    inc->acked_at = at;
    free(inc->acked_by);
    free(inc->ack_comment);
    free(inc->ack_origin);
    inc->acked_by = ar_strdup(by);
    inc->ack_comment = ar_strdup(comment ? comment : "");
    inc->ack_origin = ar_strdup(origin);
    write_row(inc, 0, txn);
    return AR_OK;
}

static int note_apply(struct store *st, void *data)
{
    return store_incident_note(st, data);
}

static void note_free(void *data)
{
    incident_note_row_free(data);
}

/* Queues note row n (taking it) with a new id, and returns the id. */
static int64_t write_note(struct incident_set *s, struct incident_note_row *n, struct txn *txn)
{
    n->id = s->next_note_id++;
    txn_write(txn, note_apply, n, note_free);
    return n->id;
}

/* Initialises b with the detail of a "note" event: the note's id, section, author, the note
 * it replaces when it replaces one, and its origin instance when it came from a peer (origin
 * non-NULL). */
static void note_event(struct buf *b, int64_t note_id, const char *section, const char *author,
                       int64_t replaces, const char *origin)
{
    buf_init(b, 0);
    buf_printf(b, "{\"noteID\":%lld,\"section\":", (long long)note_id);
    json_put_cstr(b, section);
    buf_puts(b, ",\"author\":");
    json_put_cstr(b, author);
    if (replaces != 0) {
        buf_printf(b, ",\"replaces\":%lld", (long long)replaces);
    }
    if (origin != NULL) {
        buf_puts(b, ",\"origin\":");
        json_put_cstr(b, origin);
    }
    buf_putc(b, '}');
}

int64_t incident_note_add_remote(struct incident_set *s, int64_t id, const char *section,
                                 const char *author, const char *text, int64_t replaces,
                                 const char *origin, int64_t origin_seq, int64_t at,
                                 struct txn *txn)
{
    struct incident_note_row *n = ar_calloc(1, sizeof(*n));
    int64_t note_id;
    struct buf b;

    n->incident_id = id;
    n->at = at;
    n->section = ar_strdup(section);
    n->author = ar_strdup(author);
    n->text = ar_strdup(text);
    n->replaces = replaces;
    n->origin = ar_strdup(origin);
    n->origin_seq = origin_seq;
    note_id = write_note(s, n, txn);
    note_event(&b, note_id, section, author, replaces, origin);
    write_event_from(txn, id, "note", &b, origin);
    return note_id;
}

int64_t incident_note_add(struct incident_set *s, int64_t id, const char *section,
                          const char *author, const char *text, int64_t replaces,
                          const char *client, const char *user, struct txn *txn)
{
    struct incident_note_row *n = ar_calloc(1, sizeof(*n));
    int64_t note_id;
    struct buf b;
    char ids[24];

    n->incident_id = id;
    n->at = txn_now(txn);
    n->section = ar_strdup(section);
    n->author = ar_strdup(author);
    n->text = ar_strdup(text);
    n->replaces = replaces;
    note_id = write_note(s, n, txn);
    note_event(&b, note_id, section, author, replaces, NULL);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    audit_record(txn, "incident.note", ids, client, user, buf_str(&b));
    write_event(txn, id, "note", &b);
    return note_id;
}

bool incident_section_valid(const char *section)
{
    for (size_t i = 0; incident_section_keys[i] != NULL; i++) {
        if (strcmp(section, incident_section_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- load ---- */

static struct incident *from_row(const struct incident_row *r)
{
    struct incident *inc = ar_calloc(1, sizeof(*inc));
    json_error_t jerr;
    json_t *alerts = json_loads(r->alerts, 0, &jerr);
    size_t i;
    json_t *a;

    inc->id = r->id;
    inc->hash = key_hash(r->receiver, r->group_key);
    inc->receiver = ar_strdup(r->receiver);
    inc->group_key = ar_strdup(r->group_key);
    inc->group_labels = ar_strdup(r->group_labels);
    inc->severity = ar_strdup(r->severity);
    inc->state = strcmp(r->state, "acknowledged") == 0 ? INC_ACKED : INC_OPEN;
    inc->opened_at = r->opened_at;
    inc->acked_at = r->acked_at;
    inc->acked_by = ar_strdup(r->acked_by);
    inc->ack_comment = ar_strdup(r->ack_comment);
    inc->cluster_key = ar_strdup(r->cluster_key ? r->cluster_key : "");
    json_array_foreach(alerts, i, a)
    {
        uint64_t fp;
        size_t pos;
        const char *fps = json_string_value(json_object_get(a, "fingerprint"));
        if (fps == NULL || fingerprint_parse(fps, &fp) != AR_OK ||
            alert_find(inc, fp, &pos) != NULL) {
            continue;
        }
        struct inc_alert *ia = alert_insert(inc, pos, fp);
        ia->resolved = json_is_true(json_object_get(a, "resolved"));
    }
    json_decref(alerts);
    return inc;
}

int incident_set_load(struct incident_set *s, struct store *st)
{
    struct incident_row **rows = NULL;
    size_t n = 0;
    int rc = store_incidents_next_ids(st, &s->next_id, &s->next_note_id);

    if (rc == AR_OK) {
        rc = store_incidents_load_open(st, &rows, &n);
    }
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct incident *inc = from_row(rows[i]);
        if (find_key(s, inc->receiver, inc->group_key) != NULL) {
            inc_free(inc); /* never two open incidents for one group */
        } else {
            set_insert(s, inc);
        }
        incident_row_free(rows[i]);
    }
    free(rows);
    if (s->count > 0) {
        log_info("incidents", "loaded %zu open incidents", s->count);
    }
    return AR_OK;
}

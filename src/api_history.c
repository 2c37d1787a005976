/* The history endpoints (ar/api.h): GET /api/x/history/alerts (alert state changes from the
 * history blocks, ar/store_history.h) and GET /api/x/history/notifications (deliveries and
 * their log, store_history_notifications). Both read on the HTTP thread over read-only
 * connections of their own, never on the core thread, and page with an opaque cursor: the
 * position of the last event returned, in the order asked for. Matchers are API v2's
 * filter= (matcher_parse), receiver= is its regex, matched through the current route tree
 * (COMPAT 1.4); errors are v2 handler errors, a bare JSON string (COMPAT 1.1). */
#define _GNU_SOURCE /* memmem */
#include "ar/api_history.h"
#include "ar/api.h"
#include "ar/api_reply.h"

#include "ar/clock.h"
#include "ar/history_bloom.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/matcher.h"
#include "ar/outbox.h"
#include "ar/store_history.h"
#include "ar/timefmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_LIMIT_DEFAULT 100
#define HISTORY_LIMIT_MAX     1000
#define VIEW_MAX              128 /* labels of a line decoded without jansson (labels_view) */

/* ---- parameters ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void history_cursor_encode(char kind, bool newest_first, const int64_t v[3], char *out, size_t cap)
{
    char plain[96];
    int n = snprintf(plain, sizeof(plain), "%c%c:%lld:%lld:%lld", kind, newest_first ? 'n' : 'o',
                     (long long)v[0], (long long)v[1], (long long)v[2]);
    size_t o = 0;

    for (int i = 0; i < n && o + 2 < cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%02x", (unsigned char)plain[i]);
    }
    out[o] = '\0';
}

int history_cursor_decode(const char *s, char kind, bool newest_first, int64_t v[3])
{
    char plain[96];
    size_t n = strlen(s);
    long long a;
    long long b;
    long long c;
    char k;
    char o;
    char tail;

    if (n == 0 || n % 2 != 0 || n / 2 >= sizeof(plain)) {
        return AR_EINVAL;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]);
        int lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return AR_EINVAL;
        }
        plain[i] = (char)(hi * 16 + lo);
    }
    plain[n / 2] = '\0';
    if (sscanf(plain, "%c%c:%lld:%lld:%lld%c", &k, &o, &a, &b, &c, &tail) != 5 || k != kind ||
        o != (newest_first ? 'n' : 'o')) {
        return AR_EINVAL;
    }
    v[0] = a;
    v[1] = b;
    v[2] = c;
    return AR_OK;
}

void history_params_cleanup(struct history_params *p)
{
    matcher_list_cleanup(&p->matchers);
    regex_free(p->receiver_re);
    p->receiver_re = NULL;
}

static int parse_time(const char *name, const char *v, int64_t *out, char *msg, size_t cap)
{
    int16_t off;

    if (time_parse_rfc3339(v, strlen(v), out, &off) != AR_OK || *out == AR_TIME_UNSET) {
        snprintf(msg, cap, "%s must be an RFC 3339 time (e.g. 2024-05-01T12:00:00Z), got %.100s",
                 name, v);
        return AR_EINVAL;
    }
    return AR_OK;
}

int history_params_parse(const struct http_request *req, char kind, struct history_params *p,
                         char *msg, size_t cap)
{
    struct ar_error err;
    const char *v;

    memset(p, 0, sizeof(*p));
    matcher_list_init(&p->matchers);
    p->from_ns = INT64_MIN;
    p->to_ns = INT64_MAX;
    p->newest_first = true;
    p->limit = HISTORY_LIMIT_DEFAULT;
    for (size_t i = 0; i < req->nparams; i++) {
        const char *key = req->params[i].key;
        const char *val = req->params[i].value;
        if (strcmp(key, "filter") == 0 && kind == 'a') {
            struct matcher *m = NULL;
            /* COMPAT 1.4: one matcher per filter value, v2's parser and its messages */
            if (matcher_parse(val, &m, &err) != AR_OK) {
                snprintf(msg, cap, "%s", err.msg);
                return AR_EINVAL;
            }
            matcher_list_add_take(&p->matchers, m);
        } else if (strcmp(key, "receiver") == 0 && p->receiver_re == NULL) {
            if (regex_compile(val, &p->receiver_re, &err) != AR_OK) {
                snprintf(msg, cap, "failed to parse receiver param: %s", err.msg);
                return AR_EINVAL;
            }
        }
    }
    if ((v = http_request_param(req, "from")) != NULL && v[0] != '\0' &&
        parse_time("from", v, &p->from_ns, msg, cap) != AR_OK) {
        return AR_EINVAL;
    }
    if ((v = http_request_param(req, "to")) != NULL && v[0] != '\0' &&
        parse_time("to", v, &p->to_ns, msg, cap) != AR_OK) {
        return AR_EINVAL;
    }
    if (p->from_ns > p->to_ns) {
        snprintf(msg, cap, "from must not be after to");
        return AR_EINVAL;
    }
    if ((v = http_request_param(req, "order")) != NULL && v[0] != '\0') {
        if (strcmp(v, "newest") == 0) {
            p->newest_first = true;
        } else if (strcmp(v, "oldest") == 0) {
            p->newest_first = false;
        } else {
            snprintf(msg, cap, "order must be newest or oldest, got %.100s", v);
            return AR_EINVAL;
        }
    }
    if ((v = http_request_param(req, "limit")) != NULL && v[0] != '\0') {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end != '\0' || n < 1 || n > HISTORY_LIMIT_MAX) {
            snprintf(msg, cap, "limit must be an integer from 1 to %d, got %.100s",
                     HISTORY_LIMIT_MAX, v);
            return AR_EINVAL;
        }
        p->limit = (size_t)n;
    }
    if ((v = http_request_param(req, "cursor")) != NULL && v[0] != '\0') {
        if (history_cursor_decode(v, kind, p->newest_first, p->cursor) != AR_OK) {
            snprintf(msg, cap,
                     "invalid cursor: pass nextCursor of a reply to the same "
                     "query (same order)");
            return AR_EINVAL;
        }
        p->has_cursor = true;
    }
    return AR_OK;
}

/* ---- alerts ---- */

struct receiver_names {
    const char *v[64];
    size_t n;
};

static void collect_receiver(const struct route *r, void *ctx)
{
    struct receiver_names *rn = ctx;

    for (size_t i = 0; i < rn->n; i++) {
        if (strcmp(rn->v[i], r->receiver) == 0) {
            return;
        }
    }
    if (rn->n < AR_ARRAY_LEN(rn->v)) {
        rn->v[rn->n++] = r->receiver;
    }
}

struct alerts_scan {
    const struct history_params *p;
    const struct route *route;
    char **needles; /* per equality matcher with a value: `"name":"value"` as written */
    size_t *needle_len;
    size_t nneedles;
    struct buf *out;
    size_t n;
    struct store_history_pos last;
    bool full;
    struct buf scratch; /* decoded labels of the current line (labels_view) */
    struct label view[VIEW_MAX];
};

/* The event time from the line's head ({"at":N,...}, as both writers put it first). */
static bool line_at(const char *line, size_t len, int64_t *at)
{
    char num[24];
    size_t k = 0;

    if (len < 7 || memcmp(line, "{\"at\":", 6) != 0) {
        return false;
    }
    for (size_t i = 6;
         i < len && k + 1 < sizeof(num) && (line[i] == '-' || (line[i] >= '0' && line[i] <= '9'));
         i++) {
        num[k++] = line[i];
    }
    num[k] = '\0';
    if (k == 0) {
        return false;
    }
    *at = strtoll(num, NULL, 10);
    return true;
}

static const char *str_or_empty(json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

static void put_time_field(struct buf *b, const char *name, json_t *v)
{
    buf_printf(b, ",\"%s\":", name);
    if (json_is_integer(v)) {
        json_put_time(b, (int64_t)json_integer_value(v), 0);
    } else {
        buf_puts(b, "null");
    }
}

/* One JSON string at *p (past its opening quote) decoded into out (NUL-terminated); false
 * for anything a writer of history lines does not produce. */
static bool view_string(const char **p, const char *end, char **out)
{
    const char *q = *p;
    char *o = *out;

    while (q < end && *q != '"') {
        unsigned cp;
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        if (++q >= end) {
            return false;
        }
        switch (*q++) {
        case '"':
            *o++ = '"';
            continue;
        case '\\':
            *o++ = '\\';
            continue;
        case '/':
            *o++ = '/';
            continue;
        case 'b':
            *o++ = '\b';
            continue;
        case 'f':
            *o++ = '\f';
            continue;
        case 'n':
            *o++ = '\n';
            continue;
        case 'r':
            *o++ = '\r';
            continue;
        case 't':
            *o++ = '\t';
            continue;
        case 'u':
            break;
        default:
            return false;
        }
        cp = 0;
        for (int i = 0; i < 4; i++) {
            int d = q < end ? hexval((char)(*q | 0x20)) : -1;
            if (d < 0) {
                return false;
            }
            cp = cp * 16 + (unsigned)d;
            q++;
        }
        if (cp >= 0xd800 && cp < 0xe000) {
            return false; /* surrogates: left to the full parser */
        }
        if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xc0 | (cp >> 6));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *o++ = (char)(0xe0 | (cp >> 12));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    if (q >= end) {
        return false;
    }
    *o++ = '\0';
    *p = q + 1;
    *out = o;
    return true;
}

/* The labels object of a history line ({"name":"value",...} as json_put_labelset writes
 * it: no spaces, names in byte order) as a set of views into scratch, without jansson or
 * an allocation per string; false when the text is not of that form (the caller then
 * parses with jansson). The set is never cleaned up: it owns nothing. */
static bool labels_view(const char *p, const char *end, struct buf *scratch, struct label *v,
                        struct labelset *ls)
{
    char *o;

    buf_reset(scratch);
    buf_reserve(scratch, (size_t)(end - p) + 1); /* decoded text is never longer */
    o = scratch->data;
    memset(ls, 0, sizeof(*ls));
    ls->v = v;
    if (p >= end || *p++ != '{') {
        return false;
    }
    if (p < end && *p == '}') {
        return true;
    }
    for (;;) {
        char *name = o;
        char *value;
        if (ls->n == VIEW_MAX || p >= end || *p++ != '"' || !view_string(&p, end, &o) || p >= end ||
            *p++ != ':' || p >= end || *p++ != '"') {
            return false;
        }
        value = o;
        if (!view_string(&p, end, &o)) {
            return false;
        }
        if (ls->n > 0 && strcmp(v[ls->n - 1].name, name) >= 0) {
            return false; /* not in order: labelset_get's search needs it */
        }
        v[ls->n].name = name;
        v[ls->n++].value = value;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p < end && *p == '}';
    }
}

static bool alerts_line(const char *line, size_t len, const struct store_history_pos *pos,
                        bool plain, void *ctx)
{
    struct alerts_scan *sc = ctx;
    const struct history_params *p = sc->p;
    struct receiver_names rn = {.n = 0};
    struct labelset labels;
    struct labelset annotations;
    json_error_t jerr;
    json_t *ev = NULL;
    json_t *lo;
    const char *lab;
    int64_t at;
    bool keep = true;
    bool view = false;

    if (!line_at(line, len, &at) || at < p->from_ns || at > p->to_ns) {
        return true;
    }
    /* an equality matcher's pair must appear in the line as the writer encodes it: most
     * events of a selective query are skipped here, without parsing */
    for (size_t i = 0; i < sc->nneedles && !plain; i++) {
        if (memmem(line, len, sc->needles[i], sc->needle_len[i]) == NULL) {
            return true;
        }
    }
    /* filtering parses the labels object alone (the fields before it hold no such text);
     * only a kept event is parsed whole */
    lab = memmem(line, len, "\"labels\":", 9);
    if (lab == NULL) {
        return true;
    }
    lab += 9;
    if (labels_view(lab, line + len, &sc->scratch, sc->view, &labels)) {
        view = true;
    } else {
        lo = json_loadb(lab, len - (size_t)(lab - line), JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
                        &jerr);
        if (lo == NULL) {
            log_warn("api", "history: an event line does not parse: %s", jerr.text);
            return true;
        }
        api_labels_from_json(lo, &labels);
        json_decref(lo);
    }
    if (!matchers_match(&p->matchers, &labels)) {
        keep = false;
    }
    if (keep && sc->route != NULL) {
        route_match(sc->route, &labels, collect_receiver, &rn);
        if (p->receiver_re != NULL) {
            keep = false;
            for (size_t r = 0; r < rn.n && !keep; r++) {
                keep = regex_match(p->receiver_re, rn.v[r], strlen(rn.v[r]));
            }
        }
    }
    if (keep && (ev = json_loadb(line, len, 0, &jerr)) == NULL) {
        log_warn("api", "history: an event line does not parse: %s", jerr.text);
        keep = false;
    }
    if (keep) {
        struct buf *b = sc->out;
        if (sc->n++ > 0) {
            buf_putc(b, ',');
        }
        char when[48];
        /* to the nanosecond, so a window from and to an event's time holds it */
        time_format_rfc3339_nano(at, 0, when);
        buf_printf(b, "{\"at\":\"%s\",\"event\":", when);
        json_put_cstr(b, str_or_empty(json_object_get(ev, "event")));
        buf_puts(b, ",\"fingerprint\":");
        json_put_cstr(b, str_or_empty(json_object_get(ev, "fingerprint")));
        put_time_field(b, "startsAt", json_object_get(ev, "startsAt"));
        put_time_field(b, "endsAt", json_object_get(ev, "endsAt"));
        buf_puts(b, ",\"labels\":");
        json_put_labelset(b, &labels);
        api_labels_from_json(json_object_get(ev, "annotations"), &annotations);
        buf_puts(b, ",\"annotations\":");
        json_put_labelset(b, &annotations);
        labelset_cleanup(&annotations);
        buf_puts(b, ",\"receivers\":[");
        for (size_t r = 0; r < rn.n; r++) {
            if (r > 0) {
                buf_putc(b, ',');
            }
            json_put_cstr(b, rn.v[r]);
        }
        buf_puts(b, "]}");
        sc->last = *pos;
        sc->full = sc->n == p->limit;
    }
    if (!view) {
        labelset_cleanup(&labels);
    }
    json_decref(ev);
    return !sc->full;
}

int history_alerts_query(const char *dir, const struct route *route, const struct history_params *p,
                         struct buf *out)
{
    struct alerts_scan sc;
    struct store_history_pos after;
    struct store_history_query q;
    uint64_t *pairs;
    int rc;

    memset(&sc, 0, sizeof(sc));
    sc.p = p;
    sc.route = route;
    sc.out = out;
    buf_init(&sc.scratch, 0);
    sc.needles = ar_calloc(p->matchers.n + 1, sizeof(*sc.needles));
    sc.needle_len = ar_calloc(p->matchers.n + 1, sizeof(*sc.needle_len));
    pairs = ar_calloc(p->matchers.n + 1, sizeof(*pairs));
    for (size_t i = 0; i < p->matchers.n; i++) {
        const struct matcher *m = p->matchers.v[i];
        if (m->op == MATCHER_EQ && m->value[0] != '\0') {
            struct buf nb;
            buf_init(&nb, 0);
            json_put_cstr(&nb, m->name);
            buf_putc(&nb, ':');
            json_put_cstr(&nb, m->value);
            sc.needle_len[sc.nneedles] = nb.len;
            pairs[sc.nneedles] = history_pair_hash(m->name, m->value);
            sc.needles[sc.nneedles++] = buf_take(&nb);
        }
    }
    q.from_ns = p->from_ns;
    q.to_ns = p->to_ns;
    q.newest_first = p->newest_first;
    q.after = NULL;
    q.pairs = pairs; /* blocks without every pair are skipped undecoded */
    q.npairs = sc.nneedles;
    if (p->has_cursor) {
        after.last_at = p->cursor[0];
        after.id = p->cursor[1];
        after.line = p->cursor[2];
        q.after = &after;
    }
    buf_puts(out, "{\"events\":[");
    rc = store_history_scan(dir, &q, alerts_line, &sc);
    buf_putc(out, ']');
    if (sc.full) {
        char cur[200];
        int64_t v[3] = {sc.last.last_at, sc.last.id, sc.last.line};
        history_cursor_encode('a', p->newest_first, v, cur, sizeof(cur));
        buf_printf(out, ",\"nextCursor\":\"%s\"", cur);
    }
    buf_putc(out, '}');
    for (size_t i = 0; i < sc.nneedles; i++) {
        free(sc.needles[i]);
    }
    free(sc.needles);
    free(sc.needle_len);
    free(pairs);
    buf_cleanup(&sc.scratch);
    return rc;
}

/* ---- notifications ---- */

static bool receiver_kept(const char *name, void *ctx)
{
    return regex_match(ctx, name, strlen(name));
}

int history_notifications_query(const char *dir, const struct history_params *p, const char *state,
                                const char *integration, struct buf *out)
{
    struct store_notification_query q;
    int64_t last[2] = {0, 0};
    size_t n = 0;
    int rc;

    memset(&q, 0, sizeof(q));
    q.from_ns = p->from_ns;
    q.to_ns = p->to_ns;
    q.newest_first = p->newest_first;
    q.limit = p->limit;
    q.has_after = p->has_cursor;
    q.after_created = p->cursor[0];
    q.after_id = p->cursor[1];
    q.state = state;
    q.integration = integration;
    if (p->receiver_re != NULL) {
        q.keep_receiver = receiver_kept;
        q.ctx = p->receiver_re;
    }
    buf_puts(out, "{\"notifications\":[");
    rc = store_history_notifications(dir, &q, out, &n, last);
    buf_putc(out, ']');
    if (n == p->limit) {
        char cur[200];
        int64_t v[3] = {last[0], last[1], 0};
        history_cursor_encode('n', p->newest_first, v, cur, sizeof(cur));
        buf_printf(out, ",\"nextCursor\":\"%s\"", cur);
    }
    buf_putc(out, '}');
    return rc;
}

/* ---- routes ---- */

void api_history(struct api *api, const struct http_request *req, const char *path,
                 struct http_response *resp)
{
    struct history_params p;
    char msg[1200];
    bool alerts = strcmp(path, "/alerts") == 0;
    int rc;

    if (!alerts && strcmp(path, "/notifications") != 0) {
        snprintf(msg, sizeof(msg), "path /api/x/history%s was not found", path);
        api_reply_error_object(resp, 404, 404, msg);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        api_reply_method_not_allowed(req, resp, "GET");
        return;
    }
    if (history_params_parse(req, alerts ? 'a' : 'n', &p, msg, sizeof(msg)) != AR_OK) {
        history_params_cleanup(&p);
        api_reply_json_string(resp, 400, msg);
        return;
    }
    if (alerts) {
        struct config *cfg = core_config(api->core);
        rc = history_alerts_query(api->storage_path, cfg->route, &p, &resp->body);
        config_unref(cfg);
    } else {
        const char *state = http_request_param(req, "state");
        const char *integration = http_request_param(req, "integration");
        if (state != NULL && state[0] != '\0' && !outbox_state_valid(state)) {
            history_params_cleanup(&p);
            api_reply_json_string(resp, 400, "state must be pending, delivered or dead");
            return;
        }
        rc = history_notifications_query(
            api->storage_path, &p, state != NULL && state[0] ? state : NULL,
            integration != NULL && integration[0] ? integration : NULL, &resp->body);
    }
    history_params_cleanup(&p);
    if (rc != AR_OK) {
        buf_reset(&resp->body);
        api_reply_json_string(resp, 500, "failed to read the history");
        return;
    }
    api_reply_json(resp, 200);
}

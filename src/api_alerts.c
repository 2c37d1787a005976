/* POST and GET /api/v2/alerts and GET /api/v2/alerts/groups (COMPAT 1.3-1.5). POST decodes
 * on the HTTP thread, hands the alerts to the core and defers its reply (http_defer) until
 * the writer has committed them, so no thread waits for the commit. GETs take a
 * snapshot of references (and statuses) from the core, then filter, sort and serialise on
 * the HTTP thread; both stream their bodies, so a large reply neither holds up ingestion nor
 * exists as one buffer. */
#include "ar/api.h"
#include "ar/api_reply.h"

#include "ar/clock.h"
#include "ar/dispatch.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/matcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The reply to a POST once its valid alerts are committed (rc) or refused. */
static void post_reply(struct http_response *resp, int rc, const struct ingest_result *r)
{
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to store alerts");
    } else if (r->errors.len > 0) {
        /* COMPAT: valid alerts are kept; the reply lists every invalid one (0.25: "; "). */
        api_reply_json_string(resp, 400, buf_str(&r->errors));
    } else {
        api_reply_json(resp, 200);
    }
}

struct post_wait {
    struct http_deferred *d;
    struct ingest_result r; /* the core took the alerts' references; the array stays ours */
};

/* Writer thread, after the commit: finishes the deferred reply. */
static void post_committed(void *ctx, int rc)
{
    struct post_wait *w = ctx;
    struct http_response resp;

    memset(&resp, 0, sizeof(resp));
    buf_init(&resp.body, 0);
    post_reply(&resp, rc, &w->r);
    http_deferred_finish(w->d, resp.status, resp.content_type, &resp.body);
    buf_cleanup(&resp.body);
    w->r.nalerts = 0; /* references went to the core */
    ingest_result_cleanup(&w->r);
    free(w);
}

void api_alerts_post(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct ingest_result r;
    struct config *cfg;

    if (req->body_too_large) {
        api_reply_error_object(resp, 413, 413, "request body too large");
        log_warn("api", "rejected oversized alerts body from %s", req->client);
        return;
    }
    if (!api_check_media_type(req, resp)) {
        return;
    }
    cfg = core_config(api->core);
    ingest_result_init(&r);
    ingest_parse(req->body, req->body_len, clock_now_ns(),
                 cfg->global.resolve_timeout_ms * 1000000LL, &api->limits, &r);
    config_unref(cfg);
    if (r.shape_status != 0) {
        api_reply_json(resp, r.shape_status);
        buf_append(&resp->body, r.shape_body.data, r.shape_body.len);
        ingest_result_cleanup(&r);
        return;
    }
    __atomic_add_fetch(&api->counters.alerts_received_firing, r.nfiring, __ATOMIC_RELAXED);
    __atomic_add_fetch(&api->counters.alerts_received_resolved, r.nresolved, __ATOMIC_RELAXED);
    __atomic_add_fetch(&api->counters.alerts_invalid, r.ninvalid, __ATOMIC_RELAXED);
    if (r.nalerts > 0) {
        /* the reply waits for the commit without holding a thread: see post_committed */
        struct post_wait *w = ar_malloc(sizeof(*w));
        w->d = http_defer(req, resp);
        w->r = r;
        core_ingest_async(api->core, w->r.alerts, w->r.nalerts, post_committed, w);
        return;
    }
    post_reply(resp, AR_OK, &r);
    ingest_result_cleanup(&r);
}

/* GET /api/v2/alerts lists alerts by fingerprint: the sort compares copies of the
 * fingerprints, not the alerts (following 100k pointers per comparison was 1/8 of a GET). */
struct fp_index {
    uint64_t fp;
    size_t i; /* into the snapshot (and its statuses) */
};

static int cmp_fp_index(const void *a, const void *b)
{
    uint64_t x = ((const struct fp_index *)a)->fp;
    uint64_t y = ((const struct fp_index *)b)->fp;

    return x < y ? -1 : x > y;
}

struct receiver_list {
    const char *names[64];
    size_t n;
};

static void collect_receiver(const struct route *r, void *ctx)
{
    struct receiver_list *rl = ctx;

    if (rl->n < AR_ARRAY_LEN(rl->names)) {
        rl->names[rl->n++] = r->receiver;
    }
}

static void put_status(struct buf *b, const struct alert_status *st)
{
    char fp[17];

    buf_puts(b, "\"status\":{\"inhibitedBy\":[");
    if (st->inhibited) {
        fingerprint_format(st->inhibited_by, fp);
        buf_printf(b, "\"%s\"", fp);
    }
    buf_puts(b, "],\"silencedBy\":[");
    for (size_t i = 0; i < st->nsilenced; i++) {
        if (i > 0) {
            buf_putc(b, ',');
        }
        json_put_cstr(b, st->silenced_by[i]);
    }
    buf_puts(b, st->inhibited || st->nsilenced > 0 ? "],\"state\":\"suppressed\"}"
                                                   : "],\"state\":\"active\"}");
}

/* One gettable alert, fields in Alertmanager's order (COMPAT 1.4). */
static void put_alert(struct buf *b, const struct alert *a, const struct receiver_list *rl,
                      const struct alert_status *st)
{
    char fp[17];

    buf_puts(b, "{\"annotations\":");
    alert_put_annotations_json(b, a);
    buf_puts(b, ",\"endsAt\":");
    json_put_time(b, a->ends_at, a->ends_off_min);
    fingerprint_format(a->fp, fp);
    buf_puts(b, ",\"fingerprint\":\"");
    buf_append(b, fp, 16);
    buf_puts(b, "\",\"receivers\":[");
    for (size_t i = 0; i < rl->n; i++) {
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(b, rl->names[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"startsAt\":");
    json_put_time(b, a->starts_at, a->starts_off_min);
    buf_putc(b, ',');
    put_status(b, st);
    buf_puts(b, ",\"updatedAt\":");
    json_put_time(b, a->updated_at, 0);
    if (a->generator_url != NULL) {
        buf_puts(b, ",\"generatorURL\":");
        json_put_cstr(b, a->generator_url);
    }
    buf_puts(b, ",\"labels\":");
    json_put_labelset(b, &a->labels);
    buf_putc(b, '}');
}

/* Query parameters shared by GET /alerts and GET /alerts/groups. */
struct alert_filter {
    struct matcher_list matchers;
    struct ar_regex *receiver_re;
    bool active;
    bool silenced;
    bool inhibited;
};

static void filter_cleanup(struct alert_filter *f)
{
    regex_free(f->receiver_re);
    matcher_list_cleanup(&f->matchers);
}

/* Parses the filter params; on error writes the 400 reply and returns false. */
static bool filter_parse(const struct http_request *req, struct alert_filter *f,
                         struct http_response *resp)
{
    struct ar_error err;

    matcher_list_init(&f->matchers);
    f->receiver_re = NULL;
    f->active = api_param_bool(req, "active", true);
    f->silenced = api_param_bool(req, "silenced", true);
    f->inhibited = api_param_bool(req, "inhibited", true);
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, "filter") == 0) {
            struct matcher *m = NULL;
            /* COMPAT: one matcher per filter value. */
            if (matcher_parse(req->params[i].value, &m, &err) != AR_OK) {
                api_reply_json_string(resp, 400, err.msg);
                return false;
            }
            matcher_list_add_take(&f->matchers, m);
        } else if (strcmp(req->params[i].key, "receiver") == 0 && f->receiver_re == NULL) {
            if (regex_compile(req->params[i].value, &f->receiver_re, &err) != AR_OK) {
                char msg[1200];
                snprintf(msg, sizeof(msg), "failed to parse receiver param: %s", err.msg);
                api_reply_json_string(resp, 400, msg);
                return false;
            }
        }
    }
    return true;
}

/* COMPAT 1.4: state and label filters (receiver handled by the caller). */
static bool filter_keeps(const struct alert_filter *f, const struct alert *a,
                         const struct alert_status *st)
{
    bool suppressed = st->inhibited || st->nsilenced > 0;

    if (!f->active && !suppressed) {
        return false;
    }
    if (!f->silenced && st->nsilenced > 0) {
        return false;
    }
    if (!f->inhibited && st->inhibited) {
        return false;
    }
    return matchers_match(&f->matchers, &a->labels);
}

/* GET /api/v2/alerts streams its body: the snapshot is taken up front, and each alert is
 * filtered and serialised while MHD sends, so a reply of a million alerts never exists as
 * one buffer. */
struct alerts_stream {
    struct alert_filter f;
    struct config *cfg;
    struct alert **snap;
    struct alert_status *status;
    struct fp_index *order;
    size_t n;
    size_t pos;     /* next index into order */
    size_t written; /* alerts written so far */
    struct buf out; /* serialised, not yet handed to MHD */
    size_t out_off;
    bool done;
};

static void alerts_stream_free(void *cls)
{
    struct alerts_stream *st = cls;

    core_snapshot_free(st->snap, st->status, st->n);
    free(st->order);
    config_unref(st->cfg);
    filter_cleanup(&st->f);
    buf_cleanup(&st->out);
    free(st);
}

/* Serialises kept alerts into st->out until it holds at least want bytes or all are done. */
static void alerts_stream_produce(void *ctx, size_t want)
{
    struct alerts_stream *st = ctx;

    while (st->out.len - st->out_off < want && !st->done) {
        if (st->pos == st->n) {
            buf_putc(&st->out, ']');
            st->done = true;
            break;
        }
        size_t i = st->order[st->pos++].i;
        struct alert *a = st->snap[i];
        struct receiver_list rl;
        bool keep;

        /* fingerprint order is random memory order: fetch ahead (the struct first, its
         * label blocks once the struct has arrived) */
        if (st->pos + 8 < st->n) {
            __builtin_prefetch(st->snap[st->order[st->pos + 8].i]);
        }
        if (st->pos + 3 < st->n) {
            const struct alert *ahead = st->snap[st->order[st->pos + 3].i];
            __builtin_prefetch(ahead->labels.v);
            __builtin_prefetch(ahead->annotations.v); /* zipped or not */
        }
        keep = filter_keeps(&st->f, a, &st->status[i]);

        if (!keep) {
            continue;
        }
        rl.n = 0;
        route_match(st->cfg->route, &a->labels, collect_receiver, &rl);
        if (st->f.receiver_re != NULL) {
            keep = false;
            for (size_t r = 0; r < rl.n && !keep; r++) {
                keep = regex_match(st->f.receiver_re, rl.names[r], strlen(rl.names[r]));
            }
        }
        if (keep) {
            if (st->written++ > 0) {
                buf_putc(&st->out, ',');
            }
            put_alert(&st->out, a, &rl, &st->status[i]);
        }
    }
}

/* Copies staged bytes out; the stage is refilled only once it is empty, so no byte is ever
 * moved within it (MHD often asks for less than a whole stage: whatever room its buffer has
 * left; moving the rest down after each such read copied the body several times over). */
static size_t stage_read(struct buf *stage, size_t *off, char *dst, size_t max)
{
    size_t n = stage->len - *off;

    if (n > max) {
        n = max;
    }
    memcpy(dst, stage->data + *off, n);
    *off += n;
    return n;
}

/* Fills dst (MHD's buffer; small writes cost a send each) from the stage, refilling it with
 * produce(ctx, want) whenever it is empty; 0 once produce adds nothing. */
static size_t stage_fill(struct buf *stage, size_t *off, char *dst, size_t max,
                         void (*produce)(void *ctx, size_t want), void *ctx)
{
    size_t total = 0;

    while (total < max) {
        if (*off == stage->len) {
            buf_reset(stage);
            *off = 0;
            produce(ctx, max - total);
            if (stage->len == 0) {
                break;
            }
        }
        total += stage_read(stage, off, dst + total, max - total);
    }
    return total;
}

static size_t alerts_stream_read(void *cls, char *buf, size_t max)
{
    struct alerts_stream *st = cls;

    return stage_fill(&st->out, &st->out_off, buf, max, alerts_stream_produce, st);
}

void api_alerts_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct alerts_stream *st = ar_calloc(1, sizeof(*st));

    if (!filter_parse(req, &st->f, resp)) {
        filter_cleanup(&st->f);
        free(st);
        return;
    }
    st->cfg = core_config(api->core);
    st->n = core_snapshot(api->core, clock_now_ns(), &st->snap, &st->status);
    /* sort an index so statuses stay aligned with their alerts */
    st->order = ar_malloc((st->n ? st->n : 1) * sizeof(*st->order));
    for (size_t i = 0; i < st->n; i++) {
        st->order[i].fp = st->snap[i]->fp;
        st->order[i].i = i;
    }
    qsort(st->order, st->n, sizeof(*st->order), cmp_fp_index);
    buf_init(&st->out, 0);
    buf_putc(&st->out, '[');
    api_reply_json(resp, 200);
    resp->stream = alerts_stream_read;
    resp->stream_cls = st;
    resp->stream_free = alerts_stream_free;
}

/* GET /api/v2/alerts/groups streams too: the core thread hands over the groups in API order
 * (COMPAT 1.5) with references to their alerts and each alert's status; filtering and
 * serialisation happen here while MHD sends. */
struct groups_stream {
    struct alert_filter f;
    struct config *cfg;
    struct groups_snapshot snap;
    struct alert_status *status;
    int64_t now_ns;
    size_t pos;     /* next group */
    size_t written; /* groups written so far */
    struct buf out;
    size_t out_off;
    bool done;
};

static void groups_stream_free(void *cls)
{
    struct groups_stream *st = cls;

    core_groups_free(&st->snap, st->status);
    config_unref(st->cfg);
    filter_cleanup(&st->f);
    buf_cleanup(&st->out);
    free(st);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* In the groups answer an alert's receivers are those of the listed groups holding it:
 * the ones the receiver filter keeps, sorted by name, duplicates kept (Alertmanager 0.25
 * collects them per group and sorts them; found by tests/difftest). */
static void group_receivers(struct receiver_list *rl, const struct ar_regex *re)
{
    size_t n = 0;

    for (size_t i = 0; i < rl->n; i++) {
        if (re == NULL || regex_match(re, rl->names[i], strlen(rl->names[i]))) {
            rl->names[n++] = rl->names[i];
        }
    }
    rl->n = n;
    qsort(rl->names, rl->n, sizeof(rl->names[0]), cmp_name);
}

static void groups_stream_group(struct groups_stream *st, const struct group_snap *g)
{
    size_t shown = 0;

    if (st->f.receiver_re != NULL) {
        const char *name = st->snap.text.data + g->receiver_off;
        if (!regex_match(st->f.receiver_re, name, strlen(name))) {
            return;
        }
    }
    for (size_t i = g->first; i < g->first + g->nalerts; i++) {
        const struct alert *a = st->snap.alerts[i];
        struct receiver_list rl;
        /* fetch ahead, as alerts_stream_produce does (the snapshot's alerts are contiguous
         * across groups) */
        if (i + 8 < st->snap.nalerts) {
            __builtin_prefetch(st->snap.alerts[i + 8]);
        }
        if (i + 3 < st->snap.nalerts) {
            __builtin_prefetch(st->snap.alerts[i + 3]->labels.v);
            __builtin_prefetch(st->snap.alerts[i + 3]->annotations.v); /* zipped or not */
        }
        if (!filter_keeps(&st->f, a, &st->status[i]) || a->ends_at < st->now_ns) {
            continue;
        }
        if (shown++ == 0) {
            buf_puts(&st->out, st->written++ > 0 ? ",{\"alerts\":[" : "{\"alerts\":[");
        } else {
            buf_putc(&st->out, ',');
        }
        rl.n = 0;
        route_match(st->cfg->route, &a->labels, collect_receiver, &rl);
        group_receivers(&rl, st->f.receiver_re);
        put_alert(&st->out, a, &rl, &st->status[i]);
    }
    if (shown > 0) {
        buf_append(&st->out, st->snap.text.data + g->tail_off, g->tail_len);
    }
}

/* Serialises whole groups until the stage holds want bytes or all are done. */
static void groups_stream_produce(void *ctx, size_t want)
{
    struct groups_stream *st = ctx;

    while (st->out.len < want && !st->done) {
        if (st->pos == st->snap.ngroups) {
            buf_putc(&st->out, ']');
            st->done = true;
            break;
        }
        groups_stream_group(st, &st->snap.groups[st->pos++]);
    }
}

static size_t groups_stream_read(void *cls, char *buf, size_t max)
{
    struct groups_stream *st = cls;

    return stage_fill(&st->out, &st->out_off, buf, max, groups_stream_produce, st);
}

void api_alert_groups_get(struct api *api, const struct http_request *req,
                          struct http_response *resp)
{
    struct groups_stream *st = ar_calloc(1, sizeof(*st));

    if (!filter_parse(req, &st->f, resp)) {
        filter_cleanup(&st->f);
        free(st);
        return;
    }
    st->cfg = core_config(api->core);
    st->now_ns = clock_now_ns();
    st->status = core_groups(api->core, &st->snap);
    buf_init(&st->out, 0);
    buf_putc(&st->out, '[');
    api_reply_json(resp, 200);
    resp->stream = groups_stream_read;
    resp->stream_cls = st;
    resp->stream_free = groups_stream_free;
}

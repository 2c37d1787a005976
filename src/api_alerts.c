/* POST and GET /api/v2/alerts (COMPAT 1.3, 1.4). POST decodes on the HTTP thread and
 * blocks until the core has committed the alerts. GET takes a snapshot of references from
 * the core, then filters, sorts and serialises on the HTTP thread, so a large response does
 * not hold up ingestion. */
#include "ar/api.h"

#include "ar/clock.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/matcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* COMPAT: request bodies must be application/json (parameters allowed). */
static bool check_media_type(const struct http_request *req, struct http_response *resp)
{
    const char *ct = http_request_header(req, "Content-Type");
    char msg[400];
    size_t n;

    if (ct != NULL) {
        n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) {
            n--;
        }
        if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
            return true;
        }
    }
    snprintf(msg, sizeof(msg), "unsupported media type \"%.*s\", only [application/json] are allowed",
             ct ? (int)strcspn(ct, ";") : 0, ct ? ct : "");
    api_reply_error_object(resp, 415, 415, msg);
    return false;
}

void api_alerts_post(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct ingest_result r;
    struct config *cfg;
    int rc;

    if (req->body_too_large) {
        api_reply_error_object(resp, 413, 413, "request body too large");
        log_warn("api", "rejected oversized alerts body from %s", req->client);
        return;
    }
    if (!check_media_type(req, resp)) {
        return;
    }
    cfg = core_config(api->core);
    ingest_result_init(&r);
    ingest_parse(req->body, req->body_len, clock_now_ns(),
                 cfg->global.resolve_timeout_ms * 1000000LL, &api->limits, &r);
    config_unref(cfg);
    if (r.shape_status != 0) {
        resp->status = r.shape_status;
        resp->content_type = "application/json";
        buf_append(&resp->body, r.shape_body.data, r.shape_body.len);
        ingest_result_cleanup(&r);
        return;
    }
    __atomic_add_fetch(&api->counters.alerts_received_firing, r.nfiring, __ATOMIC_RELAXED);
    __atomic_add_fetch(&api->counters.alerts_received_resolved, r.nresolved, __ATOMIC_RELAXED);
    __atomic_add_fetch(&api->counters.alerts_invalid, r.ninvalid, __ATOMIC_RELAXED);
    rc = AR_OK;
    if (r.nalerts > 0) {
        rc = core_ingest(api->core, r.alerts, r.nalerts);
        r.nalerts = 0; /* the core took the references */
    }
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to store alerts");
    } else if (r.errors.len > 0) {
        /* COMPAT: valid alerts are kept; the reply lists every invalid one (0.25: "; "). */
        api_reply_json_string(resp, 400, buf_str(&r.errors));
    } else {
        resp->status = 200;
        resp->content_type = "application/json";
    }
    ingest_result_cleanup(&r);
}

static int cmp_fp(const void *a, const void *b)
{
    uint64_t x = (*(struct alert *const *)a)->fp;
    uint64_t y = (*(struct alert *const *)b)->fp;

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

static void put_alert(struct buf *b, const struct alert *a, const struct receiver_list *rl)
{
    char fp[17];

    buf_puts(b, "{\"annotations\":");
    json_put_labelset(b, &a->annotations);
    buf_puts(b, ",\"endsAt\":");
    json_put_time(b, a->ends_at, a->ends_off_min);
    fingerprint_format(a->fp, fp);
    buf_printf(b, ",\"fingerprint\":\"%s\",\"receivers\":[", fp);
    for (size_t i = 0; i < rl->n; i++) {
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(b, rl->names[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"startsAt\":");
    json_put_time(b, a->starts_at, a->starts_off_min);
    buf_puts(b, ",\"status\":{\"inhibitedBy\":[],\"silencedBy\":[],\"state\":\"active\"},"
                "\"updatedAt\":");
    json_put_time(b, a->updated_at, 0);
    if (a->generator_url != NULL) {
        buf_puts(b, ",\"generatorURL\":");
        json_put_cstr(b, a->generator_url);
    }
    buf_puts(b, ",\"labels\":");
    json_put_labelset(b, &a->labels);
    buf_putc(b, '}');
}

void api_alerts_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct matcher_list filters;
    struct ar_regex *receiver_re = NULL;
    struct ar_error err;
    struct alert **snap = NULL;
    struct config *cfg = NULL;
    size_t n;
    size_t written = 0;
    bool active = api_param_bool(req, "active", true);

    /* silenced / inhibited / unprocessed filters select nothing until silences and
     * inhibition exist: every alert is "active". */
    matcher_list_init(&filters);
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, "filter") == 0) {
            struct matcher *m = NULL;
            /* COMPAT: one matcher per filter value. */
            if (matcher_parse(req->params[i].value, &m, &err) != AR_OK) {
                api_reply_json_string(resp, 400, err.msg);
                goto out;
            }
            matcher_list_add_take(&filters, m);
        } else if (strcmp(req->params[i].key, "receiver") == 0 && receiver_re == NULL) {
            if (regex_compile(req->params[i].value, &receiver_re, &err) != AR_OK) {
                char msg[1200];
                snprintf(msg, sizeof(msg), "failed to parse receiver param: %s", err.msg);
                api_reply_json_string(resp, 400, msg);
                goto out;
            }
        }
    }
    cfg = core_config(api->core);
    n = core_snapshot(api->core, clock_now_ns(), &snap);
    qsort(snap, n, sizeof(*snap), cmp_fp);
    resp->status = 200;
    resp->content_type = "application/json";
    buf_reserve(&resp->body, n * 512 + 2);
    buf_putc(&resp->body, '[');
    for (size_t i = 0; i < n; i++) {
        struct alert *a = snap[i];
        struct receiver_list rl;
        bool keep = active && matchers_match(&filters, &a->labels);

        rl.n = 0;
        if (keep) {
            route_match(cfg->route, &a->labels, collect_receiver, &rl);
        }
        if (keep && receiver_re != NULL) {
            keep = false;
            for (size_t k = 0; k < rl.n && !keep; k++) {
                keep = regex_match(receiver_re, rl.names[k], strlen(rl.names[k]));
            }
        }
        if (keep) {
            if (written++ > 0) {
                buf_putc(&resp->body, ',');
            }
            put_alert(&resp->body, a, &rl);
        }
        alert_unref(a);
    }
    buf_putc(&resp->body, ']');
    free(snap);
out:
    config_unref(cfg);
    regex_free(receiver_re);
    matcher_list_cleanup(&filters);
}

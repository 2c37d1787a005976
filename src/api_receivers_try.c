/* POST /api/x/receivers/{name}/test (Alertmanager #2845): builds a sample alert group for the
 * named receiver of the running configuration, hands one job per integration to the notifier
 * (same payload builders, retries and http_config as real notifications, but a short deadline
 * and no notification log), waits for every outcome and reports them. The sample alert can be
 * replaced by a JSON body holding a list of alerts in the POST /api/v2/alerts format. */
#include "ar/api.h"
#include "ar/api_reply.h"

#include "ar/clock.h"
#include "ar/config_receivers.h"
#include "ar/dispatch.h"
#include "ar/json_out.h"
#include "ar/notify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_DEADLINE_NS (15LL * AR_NS_PER_SEC)

struct try_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t left;
    struct notify_result *results; /* one per integration */
};

struct try_slot {
    struct try_wait *w;
    size_t index;
};

static void try_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct try_slot *slot = ctx;
    struct try_wait *w = slot->w;

    pthread_mutex_lock(&w->mu);
    w->results[slot->index] = *res;
    w->left--;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* The seed alert of the product description, firing since a minute ago. */
static struct alert *sample_alert(int64_t now)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", "monitor_service_down");
    labelset_set(&a->labels, "instance", "cadvisor:8080");
    labelset_set(&a->labels, "job", "cadvisor");
    labelset_set(&a->labels, "monitor", "docker-host-alpha");
    labelset_set(&a->labels, "severity", "critical");
    labelset_set(&a->annotations, "summary", "alertrouter test notification");
    labelset_set(&a->annotations, "description",
                 "Sent by POST /api/x/receivers/{name}/test to check this receiver.");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = now - 60 * AR_NS_PER_SEC;
    a->ends_at = now + 300 * AR_NS_PER_SEC;
    a->updated_at = now;
    return a;
}

void api_receivers_try(struct api *api, const struct http_request *req, const char *rest,
                       struct http_response *resp)
{
    char name[256];
    const char *slash = strchr(rest, '/');
    struct config *cfg;
    const struct receiver *recv;
    struct ingest_result ir;
    struct alert **alerts = NULL;
    size_t nalerts = 0;
    struct labelset gl;
    struct try_wait w;
    struct try_slot *slots;
    struct buf key;
    int64_t now = clock_now_ns();
    struct alert *sample = NULL;

    if (slash == NULL || strcmp(slash, "/test") != 0 || (size_t)(slash - rest) >= sizeof(name)) {
        api_reply_error_object(resp, 404, 404, "path was not found");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        api_reply_error_object(resp, 405, 405, "method not allowed, but [POST] is");
        http_response_header(resp, "Allow", "POST");
        return;
    }
    if (api->notifier == NULL) {
        api_reply_json_string(resp, 503, "no notifier running");
        return;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(slash - rest), rest);
    cfg = core_config(api->core);
    recv = config_find_receiver(cfg, name);
    if (recv == NULL) {
        char msg[400];
        snprintf(msg, sizeof(msg), "receiver \"%s\" not found", name);
        api_reply_json_string(resp, 404, msg);
        config_unref(cfg);
        return;
    }
    ingest_result_init(&ir);
    if (req->body_len > 0) {
        ingest_parse(req->body, req->body_len, now, cfg->global.resolve_timeout_ms * AR_NS_PER_MS,
                     &api->limits, &ir);
        if (ir.shape_status != 0 || ir.errors.len > 0 || ir.nalerts == 0) {
            api_reply_json_string(resp, 400,
                                  ir.errors.len ? buf_str(&ir.errors)
                                                : "body must be a non-empty list of valid alerts");
            ingest_result_cleanup(&ir);
            config_unref(cfg);
            return;
        }
        alerts = ir.alerts;
        nalerts = ir.nalerts;
    } else {
        sample = sample_alert(now);
        alerts = &sample;
        nalerts = 1;
    }
    dispatch_sort_alerts(alerts, nalerts);
    labelset_init(&gl);
    labelset_set(&gl, "alertname",
                 labelset_get(&alerts[0]->labels, "alertname")
                     ? labelset_get(&alerts[0]->labels, "alertname")
                     : "test");
    buf_init(&key, 0);
    dispatch_format_group_key("{}/test", &gl, &key);

    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.left = recv->nintegrations;
    w.results = ar_calloc(recv->nintegrations + 1, sizeof(*w.results));
    slots = ar_calloc(recv->nintegrations + 1, sizeof(*slots));
    char *ext = ar_strdup(api->external_url ? api->external_url : "");
    for (size_t n = strlen(ext); n > 0 && ext[n - 1] == '/'; n--) {
        ext[n - 1] = '\0'; /* shown without the trailing slash, as in notifications */
    }
    for (size_t i = 0; i < recv->nintegrations; i++) {
        struct notify_data *nd =
            notify_data_new(cfg, recv, buf_str(&key), &gl, alerts, NULL, nalerts, ext, now);
        slots[i].w = &w;
        slots[i].index = i;
        notifier_submit(api->notifier, notify_job_new(nd, &recv->integrations[i],
                                                      clock_monotonic_ns() + TEST_DEADLINE_NS,
                                                      try_done, &slots[i]));
        notify_data_unref(nd);
    }
    pthread_mutex_lock(&w.mu);
    while (w.left > 0) {
        pthread_cond_wait(&w.cv, &w.mu);
    }
    pthread_mutex_unlock(&w.mu);

    api_reply_json(resp, 200);
    buf_puts(&resp->body, "{\"receiver\":");
    json_put_cstr(&resp->body, name);
    buf_puts(&resp->body, ",\"results\":[");
    for (size_t i = 0; i < recv->nintegrations; i++) {
        const struct integration *in = &recv->integrations[i];
        const struct notify_result *r = &w.results[i];
        buf_printf(&resp->body,
                   "%s{\"integration\":\"%s[%d]\",\"ok\":%s,\"attempts\":%d,"
                   "\"status\":%ld,\"latencyMs\":%.3f,\"error\":",
                   i ? "," : "", integration_type_name(in->type), in->index,
                   r->ok ? "true" : "false", r->attempts, r->last_status,
                   (double)r->latency_ns / 1e6);
        json_put_cstr(&resp->body, r->error);
        buf_putc(&resp->body, '}');
    }
    buf_puts(&resp->body, "]}");

    free(ext);
    free(w.results);
    free(slots);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    buf_cleanup(&key);
    labelset_cleanup(&gl);
    alert_unref(sample);
    ingest_result_cleanup(&ir);
    config_unref(cfg);
}

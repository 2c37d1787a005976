/* GET /api/v2/status, GET /api/v2/receivers (COMPAT 1.7, 1.8) and /metrics in the
 * Prometheus text format (the alert ingestion series of COMPAT 10 plus alertrouter_*
 * storage series; the full metric set grows with the pipeline). */
#include "ar/api.h"

#include "ar/json_out.h"

#include <stdio.h>
#include <string.h>

void api_status_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct config *cfg = core_config(api->core);
    struct buf *b = &resp->body;

    resp->status = 200;
    resp->content_type = "application/json";
    buf_puts(b, "{\"cluster\":{\"peers\":[],\"status\":\"disabled\"},\"config\":{\"original\":");
    json_put_cstr(b, cfg->original_yaml ? cfg->original_yaml : "");
    buf_puts(b, "},\"uptime\":");
    json_put_time(b, api->start_ns, 0);
    /* amtool warns when major.minor differ from its own; we speak the 0.25 API, and name
     * ourselves in the build metadata. */
    buf_puts(b, ",\"versionInfo\":{\"branch\":\"main\",\"buildDate\":\"" __DATE__ "\","
                "\"buildUser\":\"alertrouter\",\"goVersion\":\"none (C11)\","
                "\"revision\":\"alertrouter-" AR_VERSION "\","
                "\"version\":\"0.25.0+alertrouter." AR_VERSION "\"}}");
    config_unref(cfg);
}

void api_receivers_get(struct api *api, const struct http_request *req,
                       struct http_response *resp)
{
    struct config *cfg = core_config(api->core);
    struct buf *b = &resp->body;

    resp->status = 200;
    resp->content_type = "application/json";
    buf_putc(b, '[');
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(b, receiver_name(cfg->receivers[i]));
        buf_putc(b, '}');
    }
    buf_puts(b, "]\n");
    config_unref(cfg);
}

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void api_metrics_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct buf *b = &resp->body;
    const struct api_counters *c = &api->counters;

    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_printf(b,
               "# HELP alertmanager_alerts_received_total The total number of received alerts.\n"
               "# TYPE alertmanager_alerts_received_total counter\n"
               "alertmanager_alerts_received_total{status=\"firing\",version=\"v2\"} %llu\n"
               "alertmanager_alerts_received_total{status=\"resolved\",version=\"v2\"} %llu\n"
               "# HELP alertmanager_alerts_invalid_total The total number of received alerts "
               "that were invalid.\n"
               "# TYPE alertmanager_alerts_invalid_total counter\n"
               "alertmanager_alerts_invalid_total{version=\"v2\"} %llu\n"
               "# HELP alertmanager_cluster_enabled Indicates whether the clustering is enabled "
               "or not.\n"
               "# TYPE alertmanager_cluster_enabled gauge\n"
               "alertmanager_cluster_enabled 0\n"
               "# HELP alertrouter_alerts_stored Alerts held in memory and in the database.\n"
               "# TYPE alertrouter_alerts_stored gauge\n"
               "alertrouter_alerts_stored %zu\n"
               "# HELP alertrouter_store_commits_total SQLite transactions committed.\n"
               "# TYPE alertrouter_store_commits_total counter\n"
               "alertrouter_store_commits_total %llu\n"
               "# HELP alertrouter_http_requests_total HTTP requests received.\n"
               "# TYPE alertrouter_http_requests_total counter\n"
               "alertrouter_http_requests_total %llu\n",
               (unsigned long long)load(&c->alerts_received_firing),
               (unsigned long long)load(&c->alerts_received_resolved),
               (unsigned long long)load(&c->alerts_invalid), core_alert_count(api->core),
               (unsigned long long)core_commits(api->core),
               (unsigned long long)load(&c->http_requests));
}

/* GET /api/v2/status and GET /api/v2/receivers (COMPAT 1.7, 1.8). */
#include "ar/api.h"
#include "ar/api_reply.h"

#include "ar/cluster.h"
#include "ar/ha_sync.h"
#include "ar/json_out.h"
#include "ar/pg_health.h"

#include <stdio.h>
#include <string.h>

void api_status_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct config *cfg = core_config(api->core);
    struct buf *b = &resp->body;

    api_reply_json(resp, 200);
    if (api->ha != NULL && api->cluster != NULL) {
        /* PostgreSQL mode (docs/ha.md "Membership"): the live instances, "ready" while
         * PostgreSQL answers, "settling" (COMPAT 1.7, one of upstream's values) with the
         * last known peers while it does not. */
        struct store_pg_peer peers[HA_SYNC_MAX_PEERS];
        size_t n = ha_sync_peers(api->ha, peers, HA_SYNC_MAX_PEERS);
        buf_puts(b, "{\"cluster\":{\"name\":");
        json_put_cstr(b, api->cluster->name);
        buf_puts(b, ",\"peers\":[");
        for (size_t i = 0; i < n; i++) {
            buf_puts(b, i ? ",{\"address\":" : "{\"address\":");
            json_put_cstr(b, peers[i].address);
            buf_puts(b, ",\"name\":");
            json_put_cstr(b, peers[i].name);
            buf_putc(b, '}');
        }
        buf_puts(b, "],\"status\":");
        json_put_cstr(b, pg_health_up() ? "ready" : "settling");
        buf_puts(b, "},\"config\":{\"original\":");
    } else if (api->cluster != NULL && api->cluster->enabled) {
        /* COMPAT: a lone settled Alertmanager: its name, itself as the only peer, "ready".
         * (Upstream says "settling" for its first seconds while gossip settles; there is
         * no gossip here, so alertrouter is ready at once.) */
        buf_puts(b, "{\"cluster\":{\"name\":");
        json_put_cstr(b, api->cluster->name);
        buf_puts(b, ",\"peers\":[{\"address\":");
        json_put_cstr(b, api->cluster->address);
        buf_puts(b, ",\"name\":");
        json_put_cstr(b, api->cluster->name);
        buf_puts(b, "}],\"status\":\"ready\"},\"config\":{\"original\":");
    } else {
        buf_puts(b, "{\"cluster\":{\"peers\":[],\"status\":\"disabled\"},"
                    "\"config\":{\"original\":");
    }
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

void api_receivers_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct config *cfg = core_config(api->core);
    struct buf *b = &resp->body;

    api_reply_json(resp, 200);
    buf_putc(b, '[');
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(b, receiver_name(cfg->receivers[i]));
        buf_putc(b, '}');
    }
    buf_puts(b, "]\n");
    config_unref(cfg);
}

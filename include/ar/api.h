/* The HTTP API: Alertmanager's API v2, health, reload and metrics endpoints, and
 * alertrouter's extensions under /api/x/, routed under --web.route-prefix. api.c routes,
 * answers health and reload itself and serves /api/x/audit; api_reply.c writes the shared
 * reply shapes (COMPAT 1.1, ar/api_reply.h). The other handlers: api_alerts.c (alerts,
 * groups), api_silences.c, api_status.c (status, receivers), api_metrics.c,
 * api_receivers_try.c (receiver tests), api_deliveries.c (/api/x/deliveries) and
 * api_history.c (/api/x/history/). */
#ifndef AR_API_H
#define AR_API_H

#include "ar/core.h"
#include "ar/http.h"
#include "ar/ingest.h"

/* This instance as a cluster of one (ar/cluster.h). */
struct cluster_self;
/* Replication and membership on PostgreSQL (ar/ha_sync.h). */
struct ha_sync;
struct ha_claims;

struct api_counters {
    uint64_t alerts_received_firing;
    uint64_t alerts_received_resolved;
    uint64_t alerts_invalid;
    uint64_t http_requests;
    uint64_t rate_limited;
};

/* Reload hook: reloads the config file; returns AR_OK or fills err. */
typedef int (*api_reload_fn)(void *ctx, struct ar_error *err);

struct api {
    struct core *core;
    const char *route_prefix; /* "" for the root, else "/foo" (no trailing slash) */
    const char *external_url; /* e.g. http://host:9093/ */
    int64_t start_ns;         /* process start (uptime in /api/v2/status) */
    struct ingest_limits limits;
    api_reload_fn reload;
    void *reload_ctx;
    struct notifier *notifier;          /* for delivery metrics; may be NULL */
    struct ratelimit *ratelimit;        /* per-client request rate; may be NULL */
    const char *storage_path;           /* --storage.path, for read-only queries (audit trail) */
    struct api_counters counters;       /* updated atomically */
    bool reload_ok;                     /* last reload attempt succeeded (atomic) */
    int64_t reload_ok_at_ns;            /* time of the last successful (re)load (atomic) */
    struct http_metrics *http_metrics;  /* per-route HTTP histograms; may be NULL */
    const struct cluster_self *cluster; /* --cluster.* answer for status and metrics */
    struct ha_sync *ha;                 /* PostgreSQL mode: peers, queued writes; else NULL */
    uint64_t scrapes_in_flight;         /* promhttp_metric_handler_requests_in_flight (atomic) */
    uint64_t scrapes_total;             /* promhttp_metric_handler_requests_total{code="200"} */
    struct ha_claims *claims;           /* PostgreSQL mode: flush claims metrics; else NULL */
};

/* The per-route HTTP histograms for the API's routes (ar/http_metrics.h); the caller passes
 * them to http_server_start (http_options.metrics) and sets api.http_metrics for /metrics. */
struct http_metrics *api_http_metrics_new(void);

/* http_handler for http_server_start; ctx is a struct api. */
void api_handle(void *ctx, const struct http_request *req, struct http_response *resp);

/* Endpoint handlers (path already stripped of the prefix). */
void api_alerts_post(struct api *api, const struct http_request *req, struct http_response *resp);
void api_alerts_get(struct api *api, const struct http_request *req, struct http_response *resp);
void api_alert_groups_get(struct api *api, const struct http_request *req,
                          struct http_response *resp);
void api_status_get(struct api *api, const struct http_request *req, struct http_response *resp);
void api_receivers_get(struct api *api, const struct http_request *req, struct http_response *resp);
void api_metrics_get(struct api *api, const struct http_request *req, struct http_response *resp);
/* POST /api/x/receivers/{name}/test: sends a sample notification through every integration
 * of a receiver and reports each outcome (rest = "{name}/test"). */
void api_receivers_try(struct api *api, const struct http_request *req, const char *rest,
                       struct http_response *resp);
/* Durable outbox (api_deliveries.c), /api/x/deliveries (path is what follows it: "",
 * "/ID", "/ID/replay"):
 *   GET  /api/x/deliveries?state=pending|delivered|dead&limit=N   newest first
 *   GET  /api/x/deliveries/ID                                      with its log
 *   POST /api/x/deliveries/ID/replay      dead -> re-sent now, 202 {"id":ID}; a delivered
 *                                         one keeps no payload: 409 */
void api_deliveries(struct api *api, const struct http_request *req, const char *path,
                    struct http_response *resp);
/* History (api_history.c, parameters in ar/api_history.h), /api/x/history (path is what
 * follows it: "/alerts" or "/notifications"), GET only. */
void api_history(struct api *api, const struct http_request *req, const char *path,
                 struct http_response *resp);
/* Incidents (api_incidents.c), /api/x/incidents (path is what follows it):
 *   GET  /api/x/incidents?state=&filter=&from=&to=&limit=   newest first
 *   GET  /api/x/incidents/ID                                with its timeline and notes
 *   POST /api/x/incidents/ID/ack    {"by","comment"}: 200 the incident; 409 when already
 *                                   acknowledged (the attempt is still recorded) or resolved
 *   POST /api/x/incidents/ID/notes  {"section","author","text","replaces"}: 201 the note
 *   GET  /api/x/incidents/ID/report?format=markdown|html|json */
void api_incidents(struct api *api, const struct http_request *req, const char *path,
                   struct http_response *resp);
/* Silences (api_silences.c): answers GET/POST /silences and GET/DELETE /silence/{id} and
 * returns true when path is one of those; false leaves the request to the caller. */
bool api_silences_route(struct api *api, const struct http_request *req, const char *path,
                        struct http_response *resp);

#endif

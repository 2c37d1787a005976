/* API routing (ar/api.h): the route prefix, CORS, the CSRF rule, per-client rate limiting,
 * the web UI (ar/web_ui.h), API v2,
 * health/reload/metrics, and alertrouter's extensions under /api/x/ (audit trail,
 * deliveries, history, incidents, receiver tests). The reply shapes are ar/api_reply.h's. */
#include "ar/api.h"

#include "ar/api_reply.h"
#include "ar/audit.h"
#include "ar/clock.h"
#include "ar/ha_sync.h"
#include "ar/http_metrics.h"
#include "ar/pg_health.h"
#include "ar/ratelimit.h"
#include "ar/timefmt.h"
#include "ar/web_ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is(const struct http_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

static void handle_v2(struct api *api, const struct http_request *req, const char *path,
                      struct http_response *resp)
{
    char msg[300];

    if (strcmp(path, "/alerts") == 0) {
        if (is(req, "GET")) {
            api_alerts_get(api, req, resp);
        } else if (is(req, "POST")) {
            api_alerts_post(api, req, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET,POST");
        }
        return;
    }
    if (strcmp(path, "/alerts/groups") == 0) {
        if (is(req, "GET")) {
            api_alert_groups_get(api, req, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET");
        }
        return;
    }
    if (strcmp(path, "/status") == 0) {
        if (is(req, "GET")) {
            api_status_get(api, req, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET");
        }
        return;
    }
    if (strcmp(path, "/receivers") == 0) {
        if (is(req, "GET")) {
            api_receivers_get(api, req, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET");
        }
        return;
    }
    if (api_silences_route(api, req, path, resp)) {
        return;
    }
    snprintf(msg, sizeof(msg), "path %s%s was not found", "/api/v2", path);
    api_reply_error_object(resp, 404, 404, msg);
}

/* alertrouter's own extensions live under /api/x/, so the v2 shapes never change. */
static void handle_x(struct api *api, const struct http_request *req, const char *path,
                     struct http_response *resp)
{
    char msg[300];

    if (strcmp(path, "/audit") == 0) {
        if (!is(req, "GET")) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        const char *lim = http_request_param(req, "limit");
        const char *since = http_request_param(req, "since");
        long long limit = lim ? strtoll(lim, NULL, 10) : 100;
        int64_t since_ns = 0;
        int16_t off;
        if (limit <= 0 || limit > 10000) {
            limit = 100;
        }
        if (since != NULL && time_parse_rfc3339(since, strlen(since), &since_ns, &off) != AR_OK) {
            api_reply_json_string(resp, 400, "since must be an RFC 3339 time");
            return;
        }
        if (audit_query(api->storage_path, since_ns == AR_TIME_UNSET ? 0 : since_ns, (size_t)limit,
                        &resp->body) != AR_OK) {
            api_reply_json_string(resp, 500, "failed to read the audit trail");
            return;
        }
        api_reply_json(resp, 200);
        return;
    }
    if (strcmp(path, "/deliveries") == 0 || strncmp(path, "/deliveries/", 12) == 0) {
        api_deliveries(api, req, path + 11, resp); /* durable outbox, api_deliveries.c */
        return;
    }
    if (strncmp(path, "/history/", 9) == 0) {
        api_history(api, req, path + 8, resp); /* api_history.c */
        return;
    }
    if (strcmp(path, "/incidents") == 0 || strncmp(path, "/incidents/", 11) == 0) {
        api_incidents(api, req, path + 10, resp); /* api_incidents.c */
        return;
    }
    if (strncmp(path, "/receivers/", 11) == 0) {
        api_receivers_try(api, req, path + 11, resp);
        return;
    }
    snprintf(msg, sizeof(msg), "path /api/x%s was not found", path);
    api_reply_error_object(resp, 404, 404, msg);
}

/* Route label values for ar/http_metrics.h, indexed by enum api_route. COMPAT: the names
 * Alertmanager 0.25 gives its router's routes ("/", "/-/healthy", "/-/ready", "/-/reload",
 * "/metrics"; without the route prefix). 0.25 does not observe its API v2 at all; alertrouter
 * does, naming each route by its OpenAPI path under /api/v2 (and /api/x for extensions). */
enum api_route {
    ROUTE_NONE,
    ROUTE_ROOT,
    ROUTE_HEALTHY,
    ROUTE_READY,
    ROUTE_RELOAD,
    ROUTE_METRICS,
    ROUTE_V2_ALERTS,
    ROUTE_V2_ALERT_GROUPS,
    ROUTE_V2_SILENCES,
    ROUTE_V2_SILENCE,
    ROUTE_V2_STATUS,
    ROUTE_V2_RECEIVERS,
    ROUTE_X_AUDIT,
    ROUTE_X_DELIVERIES,
    ROUTE_X_DELIVERY,
    ROUTE_X_DELIVERY_REPLAY,
    ROUTE_X_RECEIVER_TEST,
    ROUTE_X_HISTORY_ALERTS,
    ROUTE_X_HISTORY_NOTIFICATIONS,
    ROUTE_X_INCIDENTS,
    ROUTE_X_INCIDENT,
    ROUTE_X_INCIDENT_ACK,
    ROUTE_X_INCIDENT_NOTES,
    ROUTE_X_INCIDENT_REPORT,
    ROUTE_COUNT
};

static const char *const route_names[ROUTE_COUNT] = {
    [ROUTE_NONE] = "",
    [ROUTE_ROOT] = "/",
    [ROUTE_HEALTHY] = "/-/healthy",
    [ROUTE_READY] = "/-/ready",
    [ROUTE_RELOAD] = "/-/reload",
    [ROUTE_METRICS] = "/metrics",
    [ROUTE_V2_ALERTS] = "/api/v2/alerts",
    [ROUTE_V2_ALERT_GROUPS] = "/api/v2/alerts/groups",
    [ROUTE_V2_SILENCES] = "/api/v2/silences",
    [ROUTE_V2_SILENCE] = "/api/v2/silence/{silenceID}",
    [ROUTE_V2_STATUS] = "/api/v2/status",
    [ROUTE_V2_RECEIVERS] = "/api/v2/receivers",
    [ROUTE_X_AUDIT] = "/api/x/audit",
    [ROUTE_X_DELIVERIES] = "/api/x/deliveries",
    [ROUTE_X_DELIVERY] = "/api/x/deliveries/{id}",
    [ROUTE_X_DELIVERY_REPLAY] = "/api/x/deliveries/{id}/replay",
    [ROUTE_X_RECEIVER_TEST] = "/api/x/receivers/{name}/test",
    [ROUTE_X_HISTORY_ALERTS] = "/api/x/history/alerts",
    [ROUTE_X_HISTORY_NOTIFICATIONS] = "/api/x/history/notifications",
    [ROUTE_X_INCIDENTS] = "/api/x/incidents",
    [ROUTE_X_INCIDENT] = "/api/x/incidents/{id}",
    [ROUTE_X_INCIDENT_ACK] = "/api/x/incidents/{id}/ack",
    [ROUTE_X_INCIDENT_NOTES] = "/api/x/incidents/{id}/notes",
    [ROUTE_X_INCIDENT_REPORT] = "/api/x/incidents/{id}/report",
};

struct http_metrics *api_http_metrics_new(void)
{
    return http_metrics_new(route_names, ROUTE_COUNT);
}

/* One path segment of at least one byte, then `tail` exactly. */
static bool segment_then(const char *p, const char *tail)
{
    size_t n = strcspn(p, "/");

    return n > 0 && strcmp(p + n, tail) == 0;
}

/* The route a prefix-stripped path belongs to; ROUTE_NONE for paths no handler serves. */
static enum api_route route_of(const char *path)
{
    static const struct {
        const char *path;
        enum api_route route;
    } exact[] = {
        {"", ROUTE_ROOT},
        {"/", ROUTE_ROOT},
        {"/-/healthy", ROUTE_HEALTHY},
        {"/-/ready", ROUTE_READY},
        {"/-/reload", ROUTE_RELOAD},
        {"/metrics", ROUTE_METRICS},
        {"/api/v2/alerts", ROUTE_V2_ALERTS},
        {"/api/v2/alerts/groups", ROUTE_V2_ALERT_GROUPS},
        {"/api/v2/silences", ROUTE_V2_SILENCES},
        {"/api/v2/status", ROUTE_V2_STATUS},
        {"/api/v2/receivers", ROUTE_V2_RECEIVERS},
        {"/api/x/audit", ROUTE_X_AUDIT},
        {"/api/x/deliveries", ROUTE_X_DELIVERIES},
        {"/api/x/deliveries/", ROUTE_X_DELIVERIES},
        {"/api/x/history/alerts", ROUTE_X_HISTORY_ALERTS},
        {"/api/x/history/notifications", ROUTE_X_HISTORY_NOTIFICATIONS},
        {"/api/x/incidents", ROUTE_X_INCIDENTS},
        {"/api/x/incidents/", ROUTE_X_INCIDENTS},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(exact); i++) {
        if (strcmp(path, exact[i].path) == 0) {
            return exact[i].route;
        }
    }
    if (strncmp(path, "/api/v2/silence/", 16) == 0 && segment_then(path + 16, "")) {
        return ROUTE_V2_SILENCE;
    }
    if (strncmp(path, "/api/x/deliveries/", 18) == 0) {
        if (segment_then(path + 18, "")) {
            return ROUTE_X_DELIVERY;
        }
        if (segment_then(path + 18, "/replay")) {
            return ROUTE_X_DELIVERY_REPLAY;
        }
    }
    if (strncmp(path, "/api/x/incidents/", 17) == 0) {
        static const struct {
            const char *tail;
            enum api_route route;
        } tails[] = {{"", ROUTE_X_INCIDENT},
                     {"/ack", ROUTE_X_INCIDENT_ACK},
                     {"/notes", ROUTE_X_INCIDENT_NOTES},
                     {"/report", ROUTE_X_INCIDENT_REPORT}};
        for (size_t i = 0; i < AR_ARRAY_LEN(tails); i++) {
            if (segment_then(path + 17, tails[i].tail)) {
                return tails[i].route;
            }
        }
    }
    if (strncmp(path, "/api/x/receivers/", 17) == 0 && segment_then(path + 17, "/test")) {
        return ROUTE_X_RECEIVER_TEST;
    }
    return ROUTE_NONE;
}

/* Routes the request; *stripped is set to the path without the route prefix once the
 * request got past the rate limit and the prefix (what the route metrics label). */
static void dispatch(struct api *api, const struct http_request *req, struct http_response *resp,
                     const char **stripped)
{
    const char *path = req->path;
    size_t plen = strlen(api->route_prefix);
    const char *origin = http_request_header(req, "Origin");
    char refused[300];

    __atomic_add_fetch(&api->counters.http_requests, 1, __ATOMIC_RELAXED);
    if (!ratelimit_allow(api->ratelimit, req->client, clock_monotonic_ns())) {
        __atomic_add_fetch(&api->counters.rate_limited, 1, __ATOMIC_RELAXED);
        api_reply_plain(resp, 429, "Too Many Requests\n");
        http_response_header(resp, "Retry-After", "1");
        return;
    }
    if (plen > 0) {
        if (strcmp(path, "/") == 0) {
            char loc[512];
            *stripped = "/";
            snprintf(loc, sizeof(loc), "%s", api->route_prefix);
            resp->status = 302;
            http_response_header(resp, "Location", loc);
            return;
        }
        if (strncmp(path, api->route_prefix, plen) != 0 ||
            (path[plen] != '/' && path[plen] != '\0')) {
            api_reply_plain(resp, 404, "404 page not found\n");
            return;
        }
        path += plen;
    }
    *stripped = path;
    if (!web_csrf_allowed(req, api->external_url, refused, sizeof(refused))) {
        api_reply_error_object(resp, 403, 403, refused); /* README.md, "Web UI" */
        return;
    }
    if (strncmp(path, "/api/v2/", 8) == 0) {
        const char *preflight = http_request_header(req, "Access-Control-Request-Method");
        http_response_header(resp, "Vary", "Origin");
        if (origin != NULL) {
            http_response_header(resp, "Access-Control-Allow-Origin", "*");
        }
        /* COMPAT: a CORS preflight for GET/POST/HEAD is answered 200 with the method echoed */
        if (is(req, "OPTIONS") && origin != NULL && preflight != NULL &&
            (strcmp(preflight, "GET") == 0 || strcmp(preflight, "POST") == 0 ||
             strcmp(preflight, "HEAD") == 0)) {
            resp->status = 200;
            http_response_header(resp, "Access-Control-Allow-Methods", preflight);
            http_response_header(resp, "Vary", "Access-Control-Request-Method");
            return;
        }
        handle_v2(api, req, path + 7, resp);
        return;
    }
    if (strncmp(path, "/api/x/", 7) == 0) {
        handle_x(api, req, path + 6, resp);
        return;
    }
    if (strcmp(path, "/-/healthy") == 0 || strcmp(path, "/-/ready") == 0) {
        char why[256];
        if (!is(req, "GET") && !is(req, "HEAD")) {
            api_reply_plain(resp, 405, "Method Not Allowed\n");
            http_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
        } else if (strcmp(path, "/-/ready") == 0 && api->core != NULL &&
                   txn_writer_failing(core_writer(api->core), why, sizeof(why))) {
            /* not ready while nothing can be acknowledged: a POST would get 500 */
            char text[320];
            snprintf(text, sizeof(text), "not ready: storage commits are failing: %s\n", why);
            api_reply_plain(resp, 503, text);
        } else if (strcmp(path, "/-/ready") == 0 && api->ha != NULL && !pg_health_up()) {
            /* routing and notifying go on from memory: a load balancer must not drop
             * every instance during a PostgreSQL outage (docs/ha.md "Membership") */
            char text[320];
            struct pg_health_view hv;
            struct ha_sync_view sv;
            char since[48];
            pg_health_get(&hv);
            ha_sync_get(api->ha, &sv);
            time_format_rfc3339_ms(hv.down_since_ns, 0, since);
            snprintf(text, sizeof(text),
                     "ready (degraded: storage unreachable since %s, %lld writes queued)\n", since,
                     (long long)sv.queued_writes);
            api_reply_plain(resp, 200, text);
        } else {
            api_reply_plain(resp, 200, "OK");
        }
        return;
    }
    if (strcmp(path, "/-/reload") == 0) {
        struct ar_error err;
        if (!is(req, "POST") && !is(req, "PUT")) {
            api_reply_plain(resp, 405, "Only POST or PUT requests allowed\n");
            return;
        }
        if (api->reload == NULL || api->reload(api->reload_ctx, &err) == AR_OK) {
            resp->status = 200;
            return;
        }
        char text[1200];
        snprintf(text, sizeof(text), "failed to reload config: %s\n", err.msg);
        api_reply_plain(resp, 500, text);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        api_metrics_get(api, req, resp);
        return;
    }
    if (web_ui_serve(req, path, api->route_prefix, resp)) { /* "/" and "/ui/..." */
        return;
    }
    api_reply_plain(resp, 404, "404 page not found\n");
}

void api_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const char *path = NULL;

    dispatch(ctx, req, resp, &path);
    /* COMPAT: Alertmanager's router does not observe refused methods (405) */
    if (path != NULL && resp->status != 405) {
        resp->route = (int)route_of(path);
    }
}

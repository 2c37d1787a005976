/* API routing and shared reply shapes (ar/api.h): the route prefix, CORS, per-client rate
 * limiting, API v2, health/reload/metrics, and alertrouter's extensions under /api/x/
 * (audit trail, deliveries, receiver tests). Handlers write either a bare JSON string
 * (errors raised by handlers) or a {code,message} object (errors of the request-validation
 * layer: unknown path, wrong method, wrong media type), as Alertmanager does. */
#include "ar/api.h"

#include "ar/audit.h"
#include "ar/clock.h"
#include "ar/json_out.h"
#include "ar/ratelimit.h"
#include "ar/timefmt.h"
#include "ar/log.h"
#include "ar/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void api_reply_json_string(struct http_response *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    json_put_cstr(&resp->body, msg);
    buf_putc(&resp->body, '\n');
}

void api_reply_error_object(struct http_response *resp, int status, int code, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_printf(&resp->body, "{\"code\":%d,\"message\":", code);
    json_put_cstr(&resp->body, msg);
    buf_putc(&resp->body, '}');
}

bool api_check_media_type(const struct http_request *req, struct http_response *resp)
{
    const char *ct = http_request_header(req, "Content-Type");
    char msg[400];
    size_t n;

    if (ct == NULL || ct[0] == '\0') {
        ct = "application/octet-stream"; /* COMPAT: Go's default for a body without a type */
    }
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) {
        n--;
    }
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
        return true;
    }
    snprintf(msg, sizeof(msg),
             "unsupported media type \"%.*s\", only [application/json] are allowed",
             (int)strcspn(ct, ";"), ct);
    api_reply_error_object(resp, 415, 415, msg);
    return false;
}

bool api_param_bool(const struct http_request *req, const char *key, bool def)
{
    static const char *const truthy[] = {"true", "1",   "yes",     "y",       "on",
                                         "t",    "ok",  "enabled", "checked", "selected"};
    const char *v = http_request_param(req, key);

    if (v == NULL) {
        return def;
    }
    /* COMPAT: any value outside the truthy list is false, never a 400. */
    for (size_t i = 0; i < AR_ARRAY_LEN(truthy); i++) {
        if (strcasecmp(v, truthy[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void method_not_allowed(const struct http_request *req, struct http_response *resp,
                               const char *allow)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "method %s is not allowed, but [%s] are", req->method, allow);
    api_reply_error_object(resp, 405, 405, msg);
    http_response_header(resp, "Allow", allow);
}

static void plain(struct http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, text);
}

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
            method_not_allowed(req, resp, "GET,POST");
        }
        return;
    }
    if (strcmp(path, "/alerts/groups") == 0) {
        if (is(req, "GET")) {
            api_alert_groups_get(api, req, resp);
        } else {
            method_not_allowed(req, resp, "GET");
        }
        return;
    }
    if (strcmp(path, "/status") == 0) {
        if (is(req, "GET")) {
            api_status_get(api, req, resp);
        } else {
            method_not_allowed(req, resp, "GET");
        }
        return;
    }
    if (strcmp(path, "/receivers") == 0) {
        if (is(req, "GET")) {
            api_receivers_get(api, req, resp);
        } else {
            method_not_allowed(req, resp, "GET");
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
            method_not_allowed(req, resp, "GET");
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
        if (audit_query(api->storage_path, since_ns == AR_TIME_UNSET ? 0 : since_ns,
                        (size_t)limit, &resp->body) != AR_OK) {
            api_reply_json_string(resp, 500, "failed to read the audit trail");
            return;
        }
        resp->status = 200;
        resp->content_type = "application/json";
        return;
    }
    if (strcmp(path, "/deliveries") == 0 || strncmp(path, "/deliveries/", 12) == 0) {
        outbox_api(api, req, path + 11, resp); /* durable outbox, ar/outbox.h */
        return;
    }
    if (strncmp(path, "/receivers/", 11) == 0) {
        api_receiver_test(api, req, path + 11, resp);
        return;
    }
    snprintf(msg, sizeof(msg), "path /api/x%s was not found", path);
    api_reply_error_object(resp, 404, 404, msg);
}

void api_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct api *api = ctx;
    const char *path = req->path;
    size_t plen = strlen(api->route_prefix);
    const char *origin = http_request_header(req, "Origin");

    __atomic_add_fetch(&api->counters.http_requests, 1, __ATOMIC_RELAXED);
    if (!ratelimit_allow(api->ratelimit, req->client, clock_monotonic_ns())) {
        __atomic_add_fetch(&api->counters.rate_limited, 1, __ATOMIC_RELAXED);
        plain(resp, 429, "Too Many Requests\n");
        http_response_header(resp, "Retry-After", "1");
        return;
    }
    if (plen > 0) {
        if (strcmp(path, "/") == 0) {
            char loc[512];
            snprintf(loc, sizeof(loc), "%s", api->route_prefix);
            resp->status = 302;
            http_response_header(resp, "Location", loc);
            return;
        }
        if (strncmp(path, api->route_prefix, plen) != 0 ||
            (path[plen] != '/' && path[plen] != '\0')) {
            plain(resp, 404, "404 page not found\n");
            return;
        }
        path += plen;
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
            plain(resp, 405, "Method Not Allowed\n");
            http_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
        } else if (strcmp(path, "/-/ready") == 0 && api->core != NULL &&
                   core_commits_failing(api->core, why, sizeof(why))) {
            /* not ready while nothing can be acknowledged: a POST would get 500 */
            char text[320];
            snprintf(text, sizeof(text), "not ready: storage commits are failing: %s\n", why);
            plain(resp, 503, text);
        } else {
            plain(resp, 200, "OK");
        }
        return;
    }
    if (strcmp(path, "/-/reload") == 0) {
        struct ar_error err;
        if (!is(req, "POST") && !is(req, "PUT")) {
            plain(resp, 405, "Only POST or PUT requests allowed\n");
            return;
        }
        if (api->reload == NULL || api->reload(api->reload_ctx, &err) == AR_OK) {
            resp->status = 200;
            return;
        }
        char text[1200];
        snprintf(text, sizeof(text), "failed to reload config: %s\n", err.msg);
        plain(resp, 500, text);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        api_metrics_get(api, req, resp);
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "") == 0) {
        plain(resp, 200, "alertrouter: Alertmanager-compatible API at /api/v2/\n");
        return;
    }
    plain(resp, 404, "404 page not found\n");
}

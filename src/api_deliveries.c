/* The durable outbox's HTTP endpoints, /api/x/deliveries (ar/api.h): list, one delivery with
 * its log, and replay of a dead one through the core (core_outbox_replay). Reads use the
 * outbox's read-only queries (ar/outbox.h). */
#include "ar/api.h"
#include "ar/api_reply.h"
#include "ar/outbox.h"

#include <stdlib.h>
#include <string.h>

static void replay(struct api *api, int64_t id, struct http_response *resp)
{
    struct outbox_row *row = NULL;
    struct ar_error err;
    int rc = outbox_query_row(api->storage_path, id, &row);

    if (rc == AR_ENOTFOUND) {
        api_reply_json_string(resp, 404, "delivery not found");
        return;
    }
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to read the delivery");
        return;
    }
    if (strcmp(row->state, "pending") == 0) {
        api_reply_json_string(resp, 409, "delivery is pending: it is being delivered");
        outbox_row_free(row);
        return;
    }
    if (row->payload[0] == '\0') {
        api_reply_json_string(resp, 409,
                              strcmp(row->state, "delivered") == 0
                                  ? "delivery was delivered: its payload is not kept"
                                  : "delivery was superseded by a later notification for the "
                                    "same receiver, integration and group: replay that one");
        outbox_row_free(row);
        return;
    }
    err.msg[0] = '\0';
    rc = core_outbox_replay(api->core, row, &err);
    outbox_row_free(row);
    if (rc == AR_OK) {
        api_reply_json(resp, 202);
        buf_reset(&resp->body);
        buf_printf(&resp->body, "{\"id\":%lld,\"state\":\"pending\"}", (long long)id);
        return;
    }
    if (rc == AR_EDB) {
        api_reply_json_string(resp, 500, "replay could not be recorded");
    } else {
        api_reply_json_string(resp, 409, err.msg[0] ? err.msg : "cannot replay");
    }
}

void api_deliveries(struct api *api, const struct http_request *req, const char *path,
                    struct http_response *resp)
{
    const char *rest;
    int64_t id;

    if (strcmp(path, "") == 0 || strcmp(path, "/") == 0) {
        const char *state = http_request_param(req, "state");
        const char *lim = http_request_param(req, "limit");
        long long limit = lim ? strtoll(lim, NULL, 10) : 100;
        if (strcmp(req->method, "GET") != 0) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        if (state != NULL && state[0] == '\0') {
            state = NULL;
        }
        if (state != NULL && !outbox_state_valid(state)) {
            api_reply_json_string(resp, 400, "state must be pending, delivered or dead");
            return;
        }
        if (limit <= 0 || limit > 10000) {
            limit = 100;
        }
        if (outbox_query_list(api->storage_path, state, (size_t)limit, &resp->body) != AR_OK) {
            buf_reset(&resp->body);
            api_reply_json_string(resp, 500, "failed to read the deliveries");
            return;
        }
        api_reply_json(resp, 200);
        return;
    }
    if (path[0] != '/') {
        api_reply_error_object(resp, 404, 404, "path not found");
        return;
    }
    path++;
    rest = strchr(path, '/');
    if (!outbox_id_parse(path, rest ? (size_t)(rest - path) : strlen(path), &id)) {
        api_reply_json_string(resp, 400, "invalid delivery id");
        return;
    }
    if (rest == NULL) {
        int rc;
        if (strcmp(req->method, "GET") != 0) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        rc = outbox_query_get(api->storage_path, id, &resp->body);
        if (rc != AR_OK) {
            buf_reset(&resp->body);
            api_reply_json_string(resp, rc == AR_ENOTFOUND ? 404 : 500,
                                  rc == AR_ENOTFOUND ? "delivery not found"
                                                     : "failed to read the delivery");
            return;
        }
        api_reply_json(resp, 200);
        return;
    }
    if (strcmp(rest, "/replay") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            api_reply_method_not_allowed(req, resp, "POST");
            return;
        }
        replay(api, id, resp);
        return;
    }
    api_reply_error_object(resp, 404, 404, "path not found");
}

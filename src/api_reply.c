/* Reply shapes and request checks shared by the API handlers (ar/api_reply.h). */
#include "ar/api_reply.h"

#include "ar/json_out.h"
#include "ar/labels.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

void api_reply_json(struct http_response *resp, int status)
{
    resp->status = status;
    resp->content_type = "application/json";
}

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
    static const char *const truthy[] = {"true", "1",  "yes",     "y",       "on",
                                         "t",    "ok", "enabled", "checked", "selected"};
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

void api_reply_method_not_allowed(const struct http_request *req, struct http_response *resp,
                                  const char *allow)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "method %s is not allowed, but [%s] are", req->method, allow);
    api_reply_error_object(resp, 405, 405, msg);
    http_response_header(resp, "Allow", allow);
}

void api_reply_plain(struct http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, text);
}

void api_labels_from_json(json_t *o, struct labelset *ls)
{
    const char *k;
    json_t *v;

    labelset_init(ls);
    json_object_foreach(o, k, v)
    {
        if (json_is_string(v)) {
            labelset_set(ls, k, json_string_value(v));
        }
    }
}

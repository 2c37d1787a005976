/* The reply shapes and request checks every API handler shares (COMPAT 1.1): a bare JSON
 * string (errors raised by handlers), a {code,message} object (errors of the
 * request-validation layer: unknown path, wrong method, wrong media type), plain text, and
 * the boolean query parameter and Content-Type rules of Alertmanager's API. */
#ifndef AR_API_REPLY_H
#define AR_API_REPLY_H

#include "ar/http.h"

/* status with the JSON body the handler wrote (or is about to write, or streams). */
void api_reply_json(struct http_response *resp, int status);
/* status with msg as a JSON string; replaces the body. */
void api_reply_json_string(struct http_response *resp, int status, const char *msg);
/* status with {"code":code,"message":msg}; replaces the body. */
void api_reply_error_object(struct http_response *resp, int status, int code, const char *msg);
/* 405 {code,message} naming the allowed methods, with the Allow header (allow: "GET, POST"). */
void api_reply_method_not_allowed(const struct http_request *req, struct http_response *resp,
                                  const char *allow);
/* status with text as text/plain; replaces the body. */
void api_reply_plain(struct http_response *resp, int status, const char *text);

/* The boolean query parameter key, def when absent. */
bool api_param_bool(const struct http_request *req, const char *key, bool def);
/* COMPAT: request bodies must be application/json (parameters allowed); otherwise writes
 * the 415 {code,message} reply (a missing type is reported as application/octet-stream). */
bool api_check_media_type(const struct http_request *req, struct http_response *resp);

/* The string members of a JSON object (NULL or not an object: none) as a labelset, which
 * this initialises; stored rows keep labels and annotations as such objects. */
struct json_t;
struct labelset;
void api_labels_from_json(struct json_t *o, struct labelset *ls);

#endif

/* HTTP transport on libmicrohttpd: listens on each --web.listen-address, collects the
 * request (bounded body, query parameters including repeated ones), hands it to one handler
 * function and sends its response. One thread per connection, so a handler may block on the
 * core; MHD's connection timeout closes slow or half-closed clients.
 *
 * With a web configuration (--web.config.file, ar/web_config.h) a listener speaks HTTPS when
 * the configuration in force at start has TLS; every handshake then uses the configuration
 * in force when the connection was accepted (certificate, TLS versions, client-certificate
 * policy), and every request the one in force when it arrived (basic auth, checked before
 * the handler on every endpoint; extra response headers, added to every response). */
#ifndef AR_HTTP_H
#define AR_HTTP_H

#include "ar/buf.h"

struct web_config_slot; /* ar/web_config.h */
struct http_metrics;    /* ar/http_metrics.h */

struct http_param {
    const char *key;
    const char *value; /* "" when the parameter had no value */
};

struct http_header_out {
    char *name;
    char *value;
};

struct http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* URL path, percent-decoded by MHD */
    const char *client; /* client address, e.g. "127.0.0.1" */
    const char *body;   /* NUL-terminated; may be "" */
    size_t body_len;
    bool body_too_large; /* body exceeded the limit and was discarded */
    struct http_param *params;
    size_t nparams;
    void *conn; /* the MHD connection, for header lookups */
    void *cc;   /* the request's state in the HTTP layer (http_defer) */
};

/* A streamed body: called repeatedly on the connection's thread to fill buf with up to max
 * bytes; returns the count (> 0) or 0 at the end. stream_free(cls) runs when the response
 * is done (also when the client went away). */
typedef size_t (*http_stream_fn)(void *cls, char *buf, size_t max);

struct http_response {
    int status;
    const char *content_type; /* static string; NULL for no Content-Type */
    struct buf body;          /* ignored when stream is set */
    http_stream_fn stream;    /* large bodies: produced while sending, chunked encoding */
    void *stream_cls;
    void (*stream_free)(void *cls);
    struct http_header_out headers[8];
    size_t nheaders;
    int route;     /* http_metrics route index of the handler that answered; 0: not observed */
    bool deferred; /* set by http_defer: the response comes from http_deferred_finish */
};

/* Deferred responses. The server runs a few threads for all connections, so a handler must
 * not block on slow work (a commit): it calls http_defer, which suspends the connection,
 * starts the work and returns at once; what it already put in resp (headers) is kept.
 * When the work is done, any thread calls http_deferred_finish exactly once with the
 * status, a static content type (or NULL) and the body (taken; NULL for none), which
 * queues the response. */
struct http_deferred;
struct http_deferred *http_defer(const struct http_request *req, struct http_response *resp);
void http_deferred_finish(struct http_deferred *d, int status, const char *content_type,
                          struct buf *body);

/* Returns the request header value or NULL (case-insensitive name). */
const char *http_request_header(const struct http_request *req, const char *name);
/* The user name of an "Authorization: Basic ..." header ("" when absent or not basic,
 * "<invalid>" when not UTF-8) into out (bounded): the identity the audit trail records.
 * The password is never decoded. */
void http_request_basic_user(const struct http_request *req, char *out, size_t outsz);
/* First value of a query parameter or NULL. */
const char *http_request_param(const struct http_request *req, const char *key);
/* Adds a response header (copied). */
void http_response_header(struct http_response *resp, const char *name, const char *value);

typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);

struct http_server;

struct http_options {
    size_t max_body_bytes; /* larger bodies are discarded and flagged */
    unsigned connection_timeout_s;
    unsigned connection_limit;
    unsigned per_address_limit;   /* connections from one client address; 0: no cap */
    struct web_config_slot *web;  /* borrowed, outlives the server; NULL: plain HTTP, no auth */
    struct http_metrics *metrics; /* borrowed, outlives the server; NULL: not instrumented */
};

/* Starts listening on addr ("host:port", ":port", "[::1]:port"). */
int http_server_start(const char *addr, const struct http_options *opt, http_handler handler,
                      void *ctx, struct http_server **out, struct ar_error *err);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const struct http_server *s);
/* Stops accepting, lets requests already started finish (up to 10 s; new requests on kept-
 * alive connections get 503 meanwhile), stops, frees. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif

/* Connection deadlines for the HTTP layer (private to http.c; see http_guard.c). */
#ifndef AR_HTTP_GUARD_H
#define AR_HTTP_GUARD_H

#include "ar/common.h"

#include <sys/socket.h>

struct http_guard_opts {
    int64_t idle_ns;        /* a connection with no request in progress, in total */
    int64_t header_ns;      /* from the request line to the end of the headers */
    int64_t min_body_rate;  /* bytes/s a body still uploading after 5 s must average */
    size_t soft_max;        /* beyond this many connections, a new one evicts the oldest
                               idle or header-incomplete one */
    size_t per_address_max; /* beyond this many from one client address, a new one from
                               it evicts one of that address's (as above), else is closed;
                               0: no such cap */
    uint64_t *closed;       /* GUARD_REASONS counters added to atomically (for /metrics);
                               NULL: the guard's own */
};

/* Why the guard closed a connection (index of http_guard_opts.closed). */
enum http_guard_reason {
    GUARD_IDLE,
    GUARD_HEADERS,
    GUARD_BODY,
    GUARD_EVICTED,
    GUARD_PER_ADDRESS,
    GUARD_REASONS
};

struct http_guard;
struct guard_conn;

struct http_guard *http_guard_new(const struct http_guard_opts *o);
void http_guard_free(struct http_guard *g); /* after every connection closed; NULL is fine */

/* Connection life, called from the HTTP threads. addr: the client's address (NULL if
 * unknown: then no per-address cap applies). */
struct guard_conn *http_guard_open(struct http_guard *g, int fd, const struct sockaddr *addr);
void http_guard_close(struct http_guard *g, struct guard_conn *c);
void http_guard_request_line(struct http_guard *g, struct guard_conn *c); /* headers begin */
void http_guard_headers_done(struct http_guard *g, struct guard_conn *c); /* body begins */
void http_guard_body(struct http_guard *g, struct guard_conn *c, size_t n);
void http_guard_busy(struct http_guard *g, struct guard_conn *c); /* handler, reply */
void http_guard_idle(struct http_guard *g, struct guard_conn *c); /* request done */

#endif

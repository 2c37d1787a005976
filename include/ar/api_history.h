/* The history endpoints' query parameters and readers (src/api_history.c), shared by the API
 * (/api/x/history/alerts, /api/x/history/notifications) and its unit tests:
 *   filter=    API v2 matchers (alerts only), repeatable, all must match
 *   receiver=  API v2 receiver regex, anchored; alerts: any receiver the current route tree
 *              gives the labels; notifications: the delivery's receiver
 *   from=, to= RFC 3339 window (inclusive), from <= to
 *   order=     newest (default) or oldest
 *   limit=     1..1000, default 100
 *   cursor=    nextCursor of the previous page of the same query and order */
#ifndef AR_API_HISTORY_H
#define AR_API_HISTORY_H

#include "ar/buf.h"
#include "ar/config.h"
#include "ar/http.h"
#include "ar/matcher.h"

struct history_params {
    struct matcher_list matchers;
    struct ar_regex *receiver_re; /* NULL: any receiver */
    int64_t from_ns;              /* INT64_MIN when not given */
    int64_t to_ns;                /* INT64_MAX when not given */
    bool newest_first;
    size_t limit;
    bool has_cursor;
    int64_t cursor[3]; /* alerts: block last_at, block id, line; notifications: created, id */
};

/* kind: 'a' (alerts) or 'n' (notifications). On error writes the 400 message to msg; either
 * way the caller ends with history_params_cleanup. */
int history_params_parse(const struct http_request *req, char kind, struct history_params *p,
                         char *msg, size_t cap);
void history_params_cleanup(struct history_params *p);

/* The opaque cursor: kind, order and three positions, as text in hex. Decode: AR_EINVAL when
 * it is not one, or of another kind or order. */
void history_cursor_encode(char kind, bool newest_first, const int64_t v[3], char *out, size_t cap);
int history_cursor_decode(const char *s, char kind, bool newest_first, int64_t v[3]);

/* {"events":[...],"nextCursor":"..."} (nextCursor when the page is full) from the history
 * in dir; route (may be NULL) gives each event's receivers. */
int history_alerts_query(const char *dir, const struct route *route, const struct history_params *p,
                         struct buf *out);
/* {"notifications":[...],"nextCursor":"..."}; state, integration NULL: any. integration
 * matches the name ("webhook[0]") or its type ("webhook"). */
int history_notifications_query(const char *dir, const struct history_params *p, const char *state,
                                const char *integration, struct buf *out);

#endif

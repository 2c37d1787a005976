/* Per-route HTTP instrumentation: Alertmanager's alertmanager_http_request_duration_seconds
 * and alertmanager_http_response_size_bytes histograms (labels handler, method) and the
 * in-flight GET gauge (COMPAT 10).
 *
 * The route table is fixed when the metrics are created (the API knows its routes), so an
 * observation is a few relaxed atomic additions into a preallocated cell: no lock and no
 * allocation on the request path. A response names its route by index (http_response.route,
 * 0 = not observed, as Alertmanager does not observe unknown paths or refused methods). */
#ifndef AR_HTTP_METRICS_H
#define AR_HTTP_METRICS_H

#include "ar/buf.h"

#include <stdint.h>

/* Label values of the method label, in the order series are printed (alphabetical). */
enum http_method_label {
    HTTP_M_DELETE,
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_OPTIONS,
    HTTP_M_PATCH,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_OTHER,
    HTTP_M_COUNT
};

#define HTTP_DURATION_BUCKETS 10
#define HTTP_SIZE_BUCKETS     7

struct http_metrics;

/* route_names[0] is unused (route 0 = not observed); the array must outlive the metrics. */
struct http_metrics *http_metrics_new(const char *const *route_names, size_t nroutes);
void http_metrics_free(struct http_metrics *m); /* accepts NULL */

enum http_method_label http_method_label_of(const char *method);

/* Records one handled request; route 0 or out of range is ignored. Accepts m == NULL. */
void http_metrics_observe(struct http_metrics *m, int route, enum http_method_label method,
                          int64_t duration_ns, uint64_t response_bytes);
/* alertmanager_http_requests_in_flight{method="get"}: +1 when a GET arrives, -1 when done. */
void http_metrics_in_flight_add(struct http_metrics *m, int delta);

/* alertrouter_http_connections_closed_total{reason}: the counters the connection guard adds
 * to (idle, headers, body, evicted). */
#define HTTP_CONN_CLOSE_REASONS 5
uint64_t *http_metrics_conn_closed(struct http_metrics *m);

/* Appends the families in the exposition format (only series observed at least once, as
 * Alertmanager's vectors do; the in-flight gauge and the concurrency counter always). */
void http_metrics_write(const struct http_metrics *m, struct buf *b);

#endif

/* Per-route HTTP histograms (ar/http_metrics.h). Buckets are stored per bucket (not
 * cumulative) so an observation touches one bucket, the count and the sums; the writer
 * accumulates. Readers may see a count one ahead of its buckets during a concurrent
 * observation; the next scrape is consistent again, which is all a counter needs. */
#include "ar/http_metrics.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* COMPAT: Alertmanager 0.25's buckets for both HTTP histograms (measured on /metrics). */
static const double duration_bounds_s[HTTP_DURATION_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 0.75,
                                                                1,    2,   5,    20,  60};
static const uint64_t size_bounds[HTTP_SIZE_BUCKETS] = {100,     1000,     10000,    100000,
                                                        1000000, 10000000, 100000000};

static const char *const method_names[HTTP_M_COUNT] = {
    "delete", "get", "head", "options", "patch", "post", "put", "other",
};

struct cell {
    uint64_t count;
    uint64_t duration_sum_ns;
    uint64_t size_sum;
    uint64_t duration_bucket[HTTP_DURATION_BUCKETS + 1]; /* last: above every bound */
    uint64_t size_bucket[HTTP_SIZE_BUCKETS + 1];
};

struct http_metrics {
    const char *const *names;
    size_t nroutes;
    size_t *order;      /* route indices sorted by name, as Prometheus clients print */
    struct cell *cells; /* nroutes * HTTP_M_COUNT */
    int64_t in_flight_get;
    uint64_t conn_closed[HTTP_CONN_CLOSE_REASONS]; /* by the connection guard (atomic) */
};

static const struct http_metrics *sort_ctx;

static int by_name(const void *a, const void *b)
{
    return strcmp(sort_ctx->names[*(const size_t *)a], sort_ctx->names[*(const size_t *)b]);
}

struct http_metrics *http_metrics_new(const char *const *route_names, size_t nroutes)
{
    struct http_metrics *m = ar_calloc(1, sizeof(*m));

    m->names = route_names;
    m->nroutes = nroutes;
    m->cells = ar_calloc(nroutes * HTTP_M_COUNT, sizeof(*m->cells));
    m->order = ar_calloc(nroutes, sizeof(*m->order));
    for (size_t i = 0; i < nroutes; i++) {
        m->order[i] = i;
    }
    /* once, at start-up, before any thread exists */
    sort_ctx = m;
    if (nroutes > 1) {
        qsort(m->order + 1, nroutes - 1, sizeof(*m->order), by_name);
    }
    sort_ctx = NULL;
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (m == NULL) {
        return;
    }
    free(m->cells);
    free(m->order);
    free(m);
}

enum http_method_label http_method_label_of(const char *method)
{
    for (int i = 0; i < HTTP_M_OTHER; i++) {
        if (strcasecmp(method, method_names[i]) == 0) {
            return (enum http_method_label)i;
        }
    }
    return HTTP_M_OTHER;
}

static void add(uint64_t *p, uint64_t v)
{
    __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void http_metrics_observe(struct http_metrics *m, int route, enum http_method_label method,
                          int64_t duration_ns, uint64_t response_bytes)
{
    struct cell *c;
    int k = 0;

    if (m == NULL || route <= 0 || (size_t)route >= m->nroutes || method < 0 ||
        method >= HTTP_M_COUNT) {
        return;
    }
    if (duration_ns < 0) {
        duration_ns = 0;
    }
    c = &m->cells[(size_t)route * HTTP_M_COUNT + (size_t)method];
    while (k < HTTP_DURATION_BUCKETS && (double)duration_ns > duration_bounds_s[k] * 1e9) {
        k++;
    }
    add(&c->duration_bucket[k], 1);
    for (k = 0; k < HTTP_SIZE_BUCKETS && response_bytes > size_bounds[k]; k++) {
    }
    add(&c->size_bucket[k], 1);
    add(&c->duration_sum_ns, (uint64_t)duration_ns);
    add(&c->size_sum, response_bytes);
    add(&c->count, 1);
}

void http_metrics_in_flight_add(struct http_metrics *m, int delta)
{
    if (m != NULL) {
        __atomic_add_fetch(&m->in_flight_get, delta, __ATOMIC_RELAXED);
    }
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram family, a series per observed (route, method): durations in seconds
 * (duration) or response sizes in bytes. */
static void write_histogram(const struct http_metrics *m, struct buf *b, const char *name,
                            bool duration)
{
    int nb = duration ? HTTP_DURATION_BUCKETS : HTTP_SIZE_BUCKETS;

    for (size_t i = 1; i < m->nroutes; i++) {
        size_t r = m->order[i];
        for (int me = 0; me < HTTP_M_COUNT; me++) {
            const struct cell *c = &m->cells[r * HTTP_M_COUNT + (size_t)me];
            const char *h = m->names[r];
            const char *mn = method_names[me];
            uint64_t n = load(&c->count);
            uint64_t cum = 0;
            if (n == 0) {
                continue;
            }
            for (int k = 0; k < nb; k++) {
                cum += load(duration ? &c->duration_bucket[k] : &c->size_bucket[k]);
                buf_printf(b, "%s_bucket{handler=\"%s\",method=\"%s\",le=\"%g\"} %llu\n", name, h,
                           mn, duration ? duration_bounds_s[k] : (double)size_bounds[k],
                           (unsigned long long)cum);
            }
            buf_printf(b, "%s_bucket{handler=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n", name, h, mn,
                       (unsigned long long)n);
            if (duration) {
                buf_printf(b, "%s_sum{handler=\"%s\",method=\"%s\"} %.9g\n", name, h, mn,
                           (double)load(&c->duration_sum_ns) / 1e9);
            } else {
                buf_printf(b, "%s_sum{handler=\"%s\",method=\"%s\"} %llu\n", name, h, mn,
                           (unsigned long long)load(&c->size_sum));
            }
            buf_printf(b, "%s_count{handler=\"%s\",method=\"%s\"} %llu\n", name, h, mn,
                       (unsigned long long)n);
        }
    }
}

uint64_t *http_metrics_conn_closed(struct http_metrics *m)
{
    return m != NULL ? m->conn_closed : NULL;
}

void http_metrics_write(const struct http_metrics *m, struct buf *b)
{
    static const char dur[] = "alertmanager_http_request_duration_seconds";
    static const char size[] = "alertmanager_http_response_size_bytes";

    if (m == NULL) {
        return;
    }
    {
        static const char *const why[HTTP_CONN_CLOSE_REASONS] = {"idle", "headers", "body",
                                                                 "evicted", "per_address"};
        head(b, "alertrouter_http_connections_closed_total", "counter",
             "Connections the server closed: idle past --web.read-timeout, headers or a body "
             "too slow, evicted to let a new client in, or over the per-address limit.");
        for (int i = 0; i < HTTP_CONN_CLOSE_REASONS; i++) {
            buf_printf(b, "alertrouter_http_connections_closed_total{reason=\"%s\"} %llu\n", why[i],
                       (unsigned long long)__atomic_load_n(&m->conn_closed[i], __ATOMIC_RELAXED));
        }
    }
    /* COMPAT: alertrouter has no GET concurrency limit (--web.get-concurrency is accepted
     * and ignored), so no request is ever refused for it: the counter stays 0. */
    head(b, "alertmanager_http_concurrency_limit_exceeded_total", "counter",
         "Total number of times an HTTP request failed because the concurrency limit was "
         "reached.");
    buf_puts(b, "alertmanager_http_concurrency_limit_exceeded_total{method=\"get\"} 0\n");
    head(b, dur, "histogram", "Histogram of latencies for HTTP requests.");
    write_histogram(m, b, dur, true);
    head(b, "alertmanager_http_requests_in_flight", "gauge",
         "Current number of HTTP requests being processed.");
    buf_printf(b, "alertmanager_http_requests_in_flight{method=\"get\"} %lld\n",
               (long long)__atomic_load_n(&m->in_flight_get, __ATOMIC_RELAXED));
    head(b, size, "histogram", "Histogram of response size for HTTP requests.");
    write_histogram(m, b, size, false);
}

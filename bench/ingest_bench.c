/* CPU cost per alert of each ingest stage, measured in-process so other load on the machine
 * barely matters (process CPU time, all threads): decoding + validation of a 100-alert body
 * (yajl), and the core (merge, routing into groups, log rows, SQLite group commit on the
 * writer thread) for distinct alerts and for re-posts of the same alerts.
 *
 * Build: cmake --build build --target ingest_bench
 * Run:   build/bench/ingest_bench [batches]   (default 200 batches of 100 alerts) */
#define _POSIX_C_SOURCE 200809L
#include "ar/clock.h"
#include "ar/core.h"
#include "ar/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ~850-byte alerts like bench/loadgen.c's */
static size_t make_body(char *out, size_t cap, int base, int n)
{
    size_t len = 0;

    len += (size_t)snprintf(out + len, cap - len, "[");
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(
            out + len, cap - len,
            "%s{\"labels\":{\"alertname\":\"HighRequestLatency%d\",\"cluster\":\"prod-eu-west-1\","
            "\"env\":\"production\",\"instance\":\"10.1.%d.%d:9100\",\"job\":\"node-exporter\","
            "\"namespace\":\"payments\",\"pod\":\"payments-api-7d9f8b6c5-x%d\",\"service\":"
            "\"payments-api\",\"severity\":\"critical\"},\"annotations\":{\"summary\":\"High "
            "request latency on payments-api\",\"description\":\"The 99th percentile latency "
            "of payments-api has been above 500ms for more than 5 minutes on this instance; "
            "check the upstream database and the connection pool saturation dashboards.\","
            "\"runbook_url\":\"https://runbooks.example.com/payments/high-latency\"},"
            "\"startsAt\":\"2026-11-29T09:00:00Z\",\"endsAt\":\"2026-11-29T23:00:00Z\","
            "\"generatorURL\":\"http://prometheus.example.com:9090/graph?g0.expr=histogram_"
            "quantile%%280.99%%29\"}",
            i ? "," : "", (base + i) % 50, (base + i) / 250 % 250, (base + i) % 250, base + i);
    }
    len += (size_t)snprintf(out + len, cap - len, "]");
    return len;
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 200;
    char *body = malloc(1 << 20);
    struct ingest_limits lim = {0};
    char dir[] = "/tmp/ar-ingest-bench-XXXXXX";
    struct config *cfg = NULL;
    struct ar_error err;
    struct store *st = NULL;
    struct core *c = NULL;
    struct core_options opt = {0};
    double t0;
    double parse_s = 0;
    double core_distinct_s = 0;
    double core_repost_s = 0;
    size_t len;
    char cmd[128];

    if (mkdtemp(dir) == NULL ||
        config_load_string(config_default_text(), "<embedded>", &cfg, &err) != AR_OK ||
        store_open(dir, &st, &err) != AR_OK || core_new(st, cfg, &opt, &c) != AR_OK ||
        core_start(c) != AR_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    lim.strings = core_strings(c); /* decode pools strings as the server does */
    len = make_body(body, 1 << 20, 0, 100);
    printf("alert size: ~%zu bytes of JSON\n", len / 100);
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < batches; b++) {
            struct ingest_result r;
            len = make_body(body, 1 << 20, pass == 0 ? b * 100 : (b % 10) * 100, 100);
            t0 = cpu_s();
            ingest_result_init(&r);
            ingest_parse(body, len, clock_now_ns(), 300LL * AR_NS_PER_SEC, &lim, &r);
            parse_s += cpu_s() - t0;
            t0 = cpu_s();
            core_ingest(c, r.alerts, r.nalerts);
            r.nalerts = 0;
            if (pass == 0) {
                core_distinct_s += cpu_s() - t0;
            } else {
                core_repost_s += cpu_s() - t0;
            }
            ingest_result_cleanup(&r);
        }
    }
    printf("decode+validate: %.2f us/alert\n", parse_s / (2.0 * batches * 100) * 1e6);
    printf("core, distinct alerts (merge, route, group, log, commit): %.2f us/alert\n",
           core_distinct_s / (batches * 100.0) * 1e6);
    printf("core, re-posted alerts: %.2f us/alert\n", core_repost_s / (batches * 100.0) * 1e6);
    core_stop(c);
    core_free(c);
    store_close(st);
    config_unref(cfg);
    free(body);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

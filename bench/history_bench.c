/* The alert history's two benchmark helpers (bench/history.py runs both), in-process on the
 * storage module's own writer (store_add_alert_event, one zstd block per commit):
 *
 *   history_bench cost [commits]
 *       CPU per recorded state change: commits of 100 ~890-byte alerts (9 labels, 3
 *       annotations, as bench/loadgen.c's) written as alert log rows alone, then as rows
 *       plus one history event each; the difference per event is what recording costs the
 *       writer (JSON line + compression + its share of the block insert). Process CPU time.
 *
 *   history_bench fill DIR EVENTS DAYS
 *       A database in DIR holding EVENTS state changes spread evenly over the DAYS before
 *       now, written by that same writer in commits of 1-8 events (Prometheus sends the
 *       alerts of one evaluation together): the real format, at past times no live server
 *       can be made to record. 200 alert names x 25 instances; each alert alternates
 *       firing / resolved, a few annotation changes ('updated').
 *
 * Build: cmake --build build --target history_bench  ->  build/bench/history_bench */
#define _POSIX_C_SOURCE 200809L
#include "ar/clock.h"
#include "ar/store.h"

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

static struct alert *make_alert(int name, int inst, int version)
{
    struct alert *a = alert_new();
    char v[160];

    snprintf(v, sizeof(v), "HighRequestLatency%d", name);
    labelset_set(&a->labels, "alertname", v);
    labelset_set(&a->labels, "cluster", "prod-eu-west-1");
    labelset_set(&a->labels, "env", "production");
    snprintf(v, sizeof(v), "10.1.%d.%d:9100", name % 250, inst);
    labelset_set(&a->labels, "instance", v);
    labelset_set(&a->labels, "job", "node-exporter");
    labelset_set(&a->labels, "namespace", "payments");
    snprintf(v, sizeof(v), "payments-api-7d9f8b6c5-x%d", inst);
    labelset_set(&a->labels, "pod", v);
    labelset_set(&a->labels, "service", "payments-api");
    labelset_set(&a->labels, "severity", name % 4 == 0 ? "critical" : "warning");
    labelset_set(&a->annotations, "summary", "High request latency on payments-api");
    snprintf(v, sizeof(v),
             "The 99th percentile latency of payments-api has been above 500ms for more "
             "than 5 minutes on this instance; current value %d ms.",
             500 + version);
    labelset_set(&a->annotations, "description", v);
    labelset_set(&a->annotations, "runbook_url",
                 "https://runbooks.example.com/payments/high-request-latency");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = clock_now_ns();
    a->ends_at = a->starts_at + 300LL * 1000000000LL;
    a->updated_at = a->starts_at;
    return a;
}

static int cost(int commits)
{
    char dir[] = "/tmp/ar-history-bench-XXXXXX";
    struct store *st = NULL;
    struct ar_error err;
    struct alert *alerts[100];
    double t[2] = {0, 0};
    int64_t seq = 1;

    if (mkdtemp(dir) == NULL || store_open(dir, &st, &err) != AR_OK) {
        fprintf(stderr, "cannot open a store in %s\n", dir);
        return 1;
    }
    for (int i = 0; i < 100; i++) {
        alerts[i] = make_alert(i, i % 25, i);
    }
    /* alternate the two kinds of commit so both see the same database growth */
    for (int c = 0; c < 2 * commits; c++) {
        int with = c % 2;
        double t0 = cpu_s();
        store_begin(st);
        for (int i = 0; i < 100; i++) {
            store_log_put(st, seq++, alerts[i]);
            if (with) {
                store_add_alert_event(st, alerts[i], "firing", clock_now_ns());
            }
        }
        if (store_commit(st) != AR_OK) {
            fprintf(stderr, "commit failed\n");
            return 1;
        }
        t[with] += cpu_s() - t0;
    }
    printf("{\"events\":%d,\"rows_only_us_per_alert\":%.3f,\"rows_and_event_us_per_alert\":%.3f,"
           "\"history_us_per_event\":%.3f}\n",
           commits * 100, t[0] * 1e6 / (commits * 100.0), t[1] * 1e6 / (commits * 100.0),
           (t[1] - t[0]) * 1e6 / (commits * 100.0));
    for (int i = 0; i < 100; i++) {
        alert_unref(alerts[i]);
    }
    store_close(st);
    {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0) {
            return 1;
        }
    }
    return 0;
}

#define NAMES 200
#define INSTS 25

static int fill(const char *dir, long events, int days)
{
    struct store *st = NULL;
    struct ar_error err;
    static unsigned char firing[NAMES * INSTS];
    static unsigned short versions[NAMES * INSTS];
    int64_t now = clock_now_ns();
    int64_t span = (int64_t)days * 86400LL * 1000000000LL;
    int64_t start = now - span;
    unsigned rng = 12345;
    long done = 0;
    long commits = 0;
    double t0 = cpu_s();

    if (store_open(dir, &st, &err) != AR_OK) {
        fprintf(stderr, "%s: %s\n", dir, err.msg);
        return 1;
    }
    while (done < events) {
        int n = 1 + (int)((rng = rng * 1103515245u + 12345u) >> 16) % 8;
        int64_t at = start + (int64_t)((double)span * (double)done / (double)events);
        store_begin(st);
        for (int k = 0; k < n && done < events; k++, done++) {
            int idx = (int)((rng = rng * 1103515245u + 12345u) >> 8) % (NAMES * INSTS);
            int upd = ((rng >> 4) % 10) == 0;
            const char *ev;
            struct alert *a;
            if (firing[idx] && upd) {
                versions[idx]++;
                ev = "updated";
            } else {
                firing[idx] = !firing[idx];
                ev = firing[idx] ? "firing" : "resolved";
            }
            a = make_alert(idx / INSTS, idx % INSTS, versions[idx]);
            store_add_alert_event(st, a, ev, at);
            alert_unref(a);
        }
        if (store_commit(st) != AR_OK) {
            fprintf(stderr, "commit failed: %s\n", store_errmsg(st));
            return 1;
        }
        commits++;
    }
    store_close(st);
    printf("{\"events\":%ld,\"commits\":%ld,\"days\":%d,\"fill_cpu_s\":%.1f}\n", done, commits,
           days, cpu_s() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "cost") == 0) {
        return cost(argc >= 3 ? atoi(argv[2]) : 500);
    }
    if (argc >= 5 && strcmp(argv[1], "fill") == 0) {
        return fill(argv[2], atol(argv[3]), atoi(argv[4]));
    }
    fprintf(stderr, "usage: history_bench cost [commits] | fill DIR EVENTS DAYS\n");
    return 2;
}

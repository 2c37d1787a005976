/* CPU cost per webhook notification of the notifier alone (src/notify_engine.c), in-process:
 * what a fan-out costs on the delivery side without the HTTP ingest, the core or the store,
 * to set beside bench/curl_client.c's bare libcurl floor (same sink, same parallelism).
 *
 * One thread plays the core: it builds each notification's data (one firing alert with the
 * labels and annotations of bench/pipeline.py's fan-out, its own group), makes a webhook job
 * and submits it, keeping at most --parallel jobs outstanding (the fan-out's sink sees ~32
 * connections). The notifier renders the webhook body and POSTs it through libcurl's multi
 * interface. Reports notifications/s and the process CPU (CLOCK_PROCESS_CPUTIME_ID) per
 * notification, split into the submitting thread and the rest (the notifier). Every
 * notification must be answered 200; exit status 1 otherwise.
 *
 * Build: cmake --build build --target notify_bench
 * Run:   build/bench/notify_bench --port PORT [--requests 10000] [--parallel 32]
 *        against a webhook receiver on 127.0.0.1:PORT, e.g. bench/sink.c --max-records 1 */
#define _POSIX_C_SOURCE 200809L
#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/config_receivers.h"
#include "ar/notify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int outstanding;
    int ok;
    int failed;
};

static void on_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct tally *t = ctx;

    (void)job;
    pthread_mutex_lock(&t->mu);
    t->outstanding--;
    if (res->ok) {
        t->ok++;
    } else if (t->failed++ < 3) {
        fprintf(stderr, "notification failed: %s\n", res->error);
    }
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The data of notification i: one firing alert in its own group, like pipeline.py's. */
static struct notify_data *make_data(const struct receiver *rcv, int i)
{
    struct alert *a = alert_new();
    struct labelset gl;
    struct notify_data *d;
    char name[64], text[160], key[96];
    int64_t now = clock_now_ns();

    snprintf(name, sizeof(name), "Fan-%06d", i);
    labelset_set(&a->labels, "alertname", name);
    labelset_set(&a->labels, "instance", "10.1.0.42:9100");
    labelset_set(&a->labels, "job", "node-exporter");
    labelset_set(&a->labels, "severity", "critical");
    labelset_set(&a->labels, "service", "payments-api");
    snprintf(text, sizeof(text),
             "The 99th percentile latency of payments-api has been above 500ms for more than "
             "5 minutes (alert %d).", i);
    labelset_set(&a->annotations, "description", text);
    labelset_set(&a->annotations, "summary", "High request latency on payments-api");
    labelset_set(&a->annotations, "runbook_url", "https://runbooks.example.com/latency");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = now - AR_NS_PER_SEC;
    a->ends_at = now + 3600 * AR_NS_PER_SEC;
    a->generator_url = ar_strdup("http://prometheus:9090/graph?g0.expr=latency");
    labelset_init(&gl);
    labelset_set(&gl, "alertname", name);
    snprintf(key, sizeof(key), "{}:{alertname=\"%s\"}", name);
    d = notify_data_new(NULL, rcv, key, &gl, &a, NULL, 1, "http://alertrouter:9093", now);
    labelset_cleanup(&gl);
    alert_unref(a);
    return d;
}

static void usage(void)
{
    fprintf(stderr, "usage: notify_bench --port N [--requests 10000] [--parallel 32]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, requests = 10000, parallel = 32;
    char url[96];
    struct http_config http;
    struct webhook_config wc;
    struct integration integ;
    struct receiver rcv;
    struct tally t = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    struct notifier *n;
    double wall0, cpu0, main0, wall, cpu, main_cpu;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            usage();
        } else if (strcmp(argv[i], "--port") == 0) {
            port = atoi(v);
        } else if (strcmp(argv[i], "--requests") == 0) {
            requests = atoi(v);
        } else if (strcmp(argv[i], "--parallel") == 0) {
            parallel = atoi(v);
        } else {
            usage();
        }
        i++;
    }
    if (port <= 0 || port > 65535 || requests <= 0 || requests > 1000000 || parallel <= 0) {
        usage();
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
    memset(&http, 0, sizeof(http));
    memset(&wc, 0, sizeof(wc));
    memset(&integ, 0, sizeof(integ));
    memset(&rcv, 0, sizeof(rcv));
    http.follow_redirects = true; /* the defaults of a webhook_configs entry */
    http.enable_http2 = true;
    wc.send_resolved = true;
    wc.http_config = &http;
    wc.url = url;
    integ.type = INTEGRATION_WEBHOOK;
    integ.cfg = &wc;
    integ.send_resolved = true;
    rcv.name = "hook";

    n = notifier_new(NULL);
    if (notifier_start(n) != AR_OK) {
        fprintf(stderr, "notifier_start failed\n");
        return 2;
    }
    wall0 = clock_s(CLOCK_MONOTONIC);
    cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    main0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < requests; i++) {
        struct notify_data *d = make_data(&rcv, i);
        struct notify_job *job;

        pthread_mutex_lock(&t.mu);
        while (t.outstanding >= parallel) {
            pthread_cond_wait(&t.cv, &t.mu);
        }
        t.outstanding++;
        pthread_mutex_unlock(&t.mu);
        job = notify_job_new(d, &integ, clock_monotonic_ns() + 30 * AR_NS_PER_SEC, on_done, &t);
        notify_data_unref(d);
        notifier_submit(n, job);
    }
    pthread_mutex_lock(&t.mu);
    while (t.outstanding > 0) {
        pthread_cond_wait(&t.cv, &t.mu);
    }
    pthread_mutex_unlock(&t.mu);
    wall = clock_s(CLOCK_MONOTONIC) - wall0;
    cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    main_cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - main0;
    notifier_free(n);
    printf("{\"requests\":%d,\"ok\":%d,\"failed\":%d,\"seconds\":%.6f,\"notifications_per_s\":%.1f,"
           "\"cpu_us_per_notification\":%.2f,\"submitter_us\":%.2f,\"notifier_us\":%.2f,"
           "\"parallel\":%d}\n",
           requests, t.ok, t.failed, wall, wall > 0 ? t.ok / wall : 0.0, cpu / requests * 1e6,
           main_cpu / requests * 1e6, (cpu - main_cpu) / requests * 1e6, parallel);
    return t.ok == requests ? 0 : 1;
}

/* Template rendering benchmark: renders the default Slack title and text for a 10-alert group
 * N times (as a notifier does: each field is an anonymous template calling a named one) and
 * prints microseconds per render. Target: < 20 us per title+text render.
 *
 * Build: cmake --build build --target tmpl_bench
 * Run:   build/bench/tmpl_bench [N]      (default N = 100000) */
#include "ar/tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct tmpl_value *group(void)
{
    struct tmpl_value *d = tmpl_data_new("team-ops", true, "http://alertmanager.example:9093");
    int i;

    for (i = 0; i < 10; i++) {
        char inst[32];
        struct tmpl_value *a = tmpl_alert_new(i < 8 ? "firing" : "resolved", 1795771311 + i, 0,
                                              i < 8 ? TMPL_ZERO_TIME_SEC : 1795771411, 0,
                                              "http://prometheus:9090/graph?g0.expr=up", "fp");

        snprintf(inst, sizeof(inst), "node-%02d:9100", i);
        tmpl_kv_set(tmpl_alert_labels(a), "alertname", "InstanceDown");
        tmpl_kv_set(tmpl_alert_labels(a), "instance", inst);
        tmpl_kv_set(tmpl_alert_labels(a), "job", "node");
        tmpl_kv_set(tmpl_alert_labels(a), "severity", "critical");
        tmpl_kv_set(tmpl_alert_labels(a), "team", "ops");
        tmpl_kv_set(tmpl_alert_annotations(a), "summary", "Instance is down");
        tmpl_kv_set(tmpl_alert_annotations(a), "description", "No scrape for 5 minutes");
        tmpl_data_add_alert_take(d, a);
    }
    tmpl_kv_set(tmpl_data_group_labels(d), "alertname", "InstanceDown");
    tmpl_data_finish(d, true);
    return d;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *d = group();
    struct ar_error err;
    struct buf b;
    double t0;
    double t1;
    long i;
    char *out = NULL;

    if (tmpl_set_load_defaults(set, &err) != AR_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    buf_init(&b, 0);
    t0 = now_us();
    for (i = 0; i < n; i++) {
        buf_reset(&b);
        if (tmpl_set_execute(set, "slack.default.title", TMPL_TEXT, d, &b, &err) != AR_OK ||
            tmpl_set_execute(set, "slack.default.text", TMPL_TEXT, d, &b, &err) != AR_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    t1 = now_us();
    printf("named execute (title+text):         %.2f us/render  [%s]\n", (t1 - t0) / (double)n,
           buf_str(&b));
    t0 = now_us();
    for (i = 0; i < n; i++) {
        if (tmpl_render(set, "{{ template \"slack.default.title\" . }}", TMPL_TEXT, d, &out,
                        &err) != AR_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        free(out);
        if (tmpl_render(set, "{{ template \"slack.default.text\" . }}", TMPL_TEXT, d, &out, &err) !=
            AR_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        free(out);
    }
    t1 = now_us();
    printf("anonymous field templates (parse+execute title+text): %.2f us/render\n",
           (t1 - t0) / (double)n);
    t0 = now_us();
    for (i = 0; i < n / 10; i++) {
        buf_reset(&b);
        tmpl_set_execute(set, "email.default.html", TMPL_HTML, d, &b, &err);
    }
    t1 = now_us();
    printf("email.default.html (HTML mode):      %.2f us/render (%zu bytes)\n",
           (t1 - t0) / (double)(n / 10 ? n / 10 : 1), b.len);
    buf_cleanup(&b);
    tmpl_value_unref(d);
    tmpl_set_free(set);
    return 0;
}

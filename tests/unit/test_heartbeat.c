/* Unit tests for the heartbeat state machine (heartbeat.c): nothing raised before the
 * timeout, the raised alert's labels and annotations, renewal, resolution when a matching
 * alert returns, reconfiguration (kept state, removal, relabelling) and adoption of stored
 * heartbeat alerts after a restart. Times are given explicitly; no clock is read. */
#include "check.h"

#include "ar/heartbeat.h"

#include <stdlib.h>
#include <string.h>

#define SEC   1000000000LL
#define WALL0 (1700000000LL * SEC) /* wall clock at mono 0 */

static struct config_ext *ext_of(const char *text)
{
    struct config_ext *x = NULL;
    struct ar_error err;

    if (config_ext_load_string(text, "ext.yml", NULL, &x, &err) != AR_OK) {
        fprintf(stderr, "ext: %s\n", err.msg);
        exit(1);
    }
    return x;
}

static const char *EXT = "heartbeats:\n"
                         "  - name: wd\n"
                         "    matchers: ['alertname=\"Watchdog\"']\n"
                         "    timeout: 10s\n"
                         "    labels: {severity: critical}\n"
                         "    annotations: {summary: custom}\n";

/* Runs at mono t (seconds), returns the emitted alerts' count; *out kept for inspection. */
static size_t run_at(struct heartbeat_set *hs, double t, struct alert ***out)
{
    int64_t mono = (int64_t)(t * SEC);
    return heartbeat_set_run(hs, WALL0 + mono, mono, out);
}

static void free_out(struct alert **out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        alert_unref(out[i]);
    }
    free(out);
}

static void observe_at(struct heartbeat_set *hs, double t, const char *alertname)
{
    struct labelset ls;
    int64_t mono = (int64_t)(t * SEC);

    labelset_init(&ls);
    labelset_set(&ls, "alertname", alertname);
    labelset_set(&ls, "prometheus", "k8s");
    heartbeat_set_observe(hs, &ls, WALL0 + mono, mono);
    labelset_cleanup(&ls);
}

static void test_lost_and_back(void)
{
    struct heartbeat_set *hs = heartbeat_set_new();
    struct config_ext *x = ext_of(EXT);
    struct alert **out = NULL;
    struct labelset scratch;
    size_t n;

    CHECK_INT(heartbeat_set_count(hs), 0);
    CHECK(heartbeat_set_next_deadline(hs) == INT64_MAX);
    heartbeat_set_configure(hs, x, 100 * SEC); /* started at mono 100 s */
    config_ext_unref(x);                       /* the set keeps its own reference */
    CHECK_INT(heartbeat_set_count(hs), 1);
    CHECK_INT(heartbeat_set_next_deadline(hs), 110 * SEC);
    n = run_at(hs, 109.9, &out);
    CHECK_INT(n, 0); /* not before the timeout since start */
    free_out(out, n);

    /* seen at 105 s: the deadline moves to 115 s */
    observe_at(hs, 105, "Other");
    CHECK_INT(heartbeat_set_next_deadline(hs), 110 * SEC);
    observe_at(hs, 105, "Watchdog");
    CHECK_INT(heartbeat_set_next_deadline(hs), 115 * SEC);
    n = run_at(hs, 114, &out);
    CHECK_INT(n, 0);
    free_out(out, n);

    n = run_at(hs, 115, &out);
    CHECK_INT(n, 1);
    if (n == 1) {
        struct alert *a = out[0];
        CHECK_STR(labelset_get(&a->labels, "alertname"), HEARTBEAT_ALERTNAME);
        CHECK_STR(labelset_get(&a->labels, "heartbeat"), "wd");
        CHECK_STR(labelset_get(&a->labels, "severity"), "critical");
        CHECK_INT(a->labels.n, 3);
        CHECK(a->fp == labelset_fingerprint(&a->labels));
        const struct labelset *ann = alert_annotations(a, &scratch);
        CHECK_STR(labelset_get(ann, "summary"), "custom"); /* configured wins */
        CHECK_STR(labelset_get(ann, "last_seen"), "2023-11-14T22:15:05.000Z");
        CHECK(strstr(labelset_get(ann, "description"), "{alertname=\"Watchdog\"}") != NULL);
        CHECK(strstr(labelset_get(ann, "description"), "for 10s") != NULL);
        labelset_cleanup(&scratch);
        CHECK_INT(a->starts_at, WALL0 + 115 * SEC);
        CHECK_INT(a->ends_at, WALL0 + 115 * SEC + HEARTBEAT_LIFETIME_NS);
        CHECK(!a->timeout);
    }
    free_out(out, n);

    struct heartbeat_status *st = NULL;
    n = heartbeat_set_status(hs, &st);
    CHECK_INT(n, 1);
    CHECK_STR(st[0].name, "wd");
    CHECK(st[0].missing);
    CHECK_INT(st[0].last_seen_ns, WALL0 + 105 * SEC);
    heartbeat_status_free(st, n);

    /* renewed every minute while missing, with the same start */
    CHECK_INT(heartbeat_set_next_deadline(hs), 115 * SEC + HEARTBEAT_REFRESH_NS);
    n = run_at(hs, 170, &out);
    CHECK_INT(n, 0);
    free_out(out, n);
    n = run_at(hs, 175, &out);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(out[0]->starts_at, WALL0 + 115 * SEC);
        CHECK_INT(out[0]->ends_at, WALL0 + 175 * SEC + HEARTBEAT_LIFETIME_NS);
        CHECK_INT(out[0]->updated_at, WALL0 + 175 * SEC);
    }
    free_out(out, n);

    /* the Watchdog returns: resolved at the next run, with endsAt = now */
    observe_at(hs, 180, "Watchdog");
    CHECK_INT(heartbeat_set_next_deadline(hs), 0);
    n = run_at(hs, 180.5, &out);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(labelset_get(&out[0]->labels, "heartbeat"), "wd");
        CHECK_INT(out[0]->starts_at, WALL0 + 115 * SEC);
        CHECK_INT(out[0]->ends_at, WALL0 + (int64_t)(180.5 * SEC));
    }
    free_out(out, n);
    n = heartbeat_set_status(hs, &st);
    CHECK(!st[0].missing);
    heartbeat_status_free(st, n);
    CHECK_INT(heartbeat_set_next_deadline(hs), 190 * SEC);
    heartbeat_set_free(hs);
}

static void test_never_seen_and_removed(void)
{
    struct heartbeat_set *hs = heartbeat_set_new();
    struct config_ext *x = ext_of(EXT);
    struct alert **out = NULL;
    struct labelset scratch;
    size_t n;

    heartbeat_set_configure(hs, x, 0);
    config_ext_unref(x);
    n = run_at(hs, 10, &out);
    CHECK_INT(n, 1);
    if (n == 1) {
        const struct labelset *ann = alert_annotations(out[0], &scratch);
        CHECK_STR(labelset_get(ann, "last_seen"), "never since start");
        labelset_cleanup(&scratch);
    }
    free_out(out, n);

    /* a reload keeping the heartbeat keeps its raised alert: nothing new is emitted */
    x = ext_of(EXT);
    heartbeat_set_configure(hs, x, 11 * SEC);
    config_ext_unref(x);
    n = run_at(hs, 12, &out);
    CHECK_INT(n, 0);
    free_out(out, n);

    /* relabelled: the old alert resolves, the new one is raised at once */
    x = ext_of("heartbeats:\n  - name: wd\n    matchers: [alertname=Watchdog]\n    timeout: 10s\n");
    heartbeat_set_configure(hs, x, 13 * SEC);
    config_ext_unref(x);
    n = run_at(hs, 13, &out);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(labelset_get(&out[0]->labels, "severity"), "critical");
        CHECK_INT(out[0]->ends_at, WALL0 + 13 * SEC);
        CHECK(labelset_get(&out[1]->labels, "severity") == NULL);
        CHECK(out[1]->ends_at > WALL0 + 13 * SEC);
    }
    free_out(out, n);

    /* removed: its alert resolves */
    heartbeat_set_configure(hs, NULL, 20 * SEC);
    CHECK_INT(heartbeat_set_count(hs), 0);
    CHECK_INT(heartbeat_set_next_deadline(hs), 0);
    n = run_at(hs, 20, &out);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(labelset_get(&out[0]->labels, "heartbeat"), "wd");
        CHECK_INT(out[0]->ends_at, WALL0 + 20 * SEC);
    }
    free_out(out, n);
    CHECK(heartbeat_set_next_deadline(hs) == INT64_MAX);
    heartbeat_set_free(hs);
}

static void test_adopt_after_restart(void)
{
    struct heartbeat_set *hs = heartbeat_set_new();
    struct config_ext *x = ext_of(EXT);
    struct alert **out = NULL;
    size_t n;

    /* the previous run raised wd and a since removed heartbeat "gone" */
    heartbeat_set_configure(hs, x, 0);
    n = run_at(hs, 10, &out);
    CHECK_INT(n, 1);
    struct alert *stored = n == 1 ? alert_ref(out[0]) : NULL;
    free_out(out, n);
    heartbeat_set_free(hs);
    if (stored == NULL) {
        config_ext_unref(x);
        return;
    }
    struct alert *gone = alert_dup(stored);
    labelset_set(&gone->labels, "heartbeat", "gone");
    gone->fp = labelset_fingerprint(&gone->labels);
    struct alert *watchdog = alert_new();
    labelset_set(&watchdog->labels, "alertname", "Watchdog");
    watchdog->fp = labelset_fingerprint(&watchdog->labels);
    watchdog->starts_at = WALL0;
    watchdog->ends_at = WALL0 + 3600 * SEC;
    watchdog->updated_at = WALL0 + 7 * SEC;

    /* restart at mono 100 s (wall WALL0 + 100 s), within the alert's lifetime */
    hs = heartbeat_set_new();
    heartbeat_set_configure(hs, x, 100 * SEC);
    config_ext_unref(x);
    heartbeat_set_adopt(hs, stored, WALL0 + 100 * SEC);
    heartbeat_set_adopt(hs, gone, WALL0 + 100 * SEC);
    heartbeat_set_adopt(hs, watchdog, WALL0 + 100 * SEC);

    struct heartbeat_status *st = NULL;
    n = heartbeat_set_status(hs, &st);
    CHECK(st[0].missing);                           /* taken over, not raised anew */
    CHECK_INT(st[0].last_seen_ns, WALL0 + 7 * SEC); /* from the stored Watchdog */
    heartbeat_status_free(st, n);

    n = run_at(hs, 100, &out);
    CHECK_INT(n, 2); /* gone resolved, wd renewed */
    if (n == 2) {
        CHECK_STR(labelset_get(&out[0]->labels, "heartbeat"), "gone");
        CHECK_INT(out[0]->ends_at, WALL0 + 100 * SEC);
        CHECK_STR(labelset_get(&out[1]->labels, "heartbeat"), "wd");
        CHECK_INT(out[1]->starts_at, stored->starts_at);
        CHECK_INT(out[1]->ends_at, WALL0 + 100 * SEC + HEARTBEAT_LIFETIME_NS);
    }
    free_out(out, n);

    /* a resolved stored heartbeat alert is left alone */
    struct alert *old = alert_dup(gone);
    old->ends_at = WALL0 + 50 * SEC;
    heartbeat_set_adopt(hs, old, WALL0 + 100 * SEC);
    n = run_at(hs, 101, &out);
    CHECK_INT(n, 0);
    free_out(out, n);

    alert_unref(old);
    alert_unref(stored);
    alert_unref(gone);
    alert_unref(watchdog);
    heartbeat_set_free(hs);
}

int main(void)
{
    test_lost_and_back();
    test_never_seen_and_removed();
    test_adopt_after_restart();
    return CHECK_DONE();
}

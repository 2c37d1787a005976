/* Unit tests for the dispatcher on a fake clock (no sleeping): group_wait, group_interval,
 * repeat_interval, dedup against the notification log, removal of resolved alerts after a
 * successful flush, retry after a failed one, immediate flush of old alerts, send_resolved,
 * group keys and inhibition at flush time. Jobs are captured instead of delivered. */
#include "ar/clock.h"
#include "ar/dispatch.h"
#include "ar/inhibit.h"
#include "ar/nflog.h"
#include "ar/silence.h"
#include "ar/txn.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

#define S(x) ((int64_t)(x)*AR_NS_PER_SEC)
#define T0   S(1700000000)

static const char *cfg_text = "route:\n"
                              "  receiver: hook\n"
                              "  group_by: [alertname]\n"
                              "  group_wait: 2s\n"
                              "  group_interval: 5s\n"
                              "  repeat_interval: 1m\n"
                              "  routes:\n"
                              "  - matchers: ['team=\"quiet\"']\n"
                              "    receiver: firing-only\n"
                              "receivers:\n"
                              "- name: hook\n"
                              "  webhook_configs:\n"
                              "  - url: http://127.0.0.1:1/\n"
                              "- name: firing-only\n"
                              "  webhook_configs:\n"
                              "  - url: http://127.0.0.1:1/\n"
                              "    send_resolved: false\n"
                              "inhibit_rules:\n"
                              "- source_matchers: ['alertname=\"Big\"']\n"
                              "  target_matchers: ['alertname=\"Small\"']\n";

struct fixture {
    struct config *cfg;
    struct nflog *nflog;
    struct silence_set *silences;
    struct inhibitor *inhibitor;
    struct dispatcher *d;
    struct dispatch_metrics metrics;
    struct notify_job *jobs[16];
    size_t njobs;
    struct send_ctx *done_sc;
    struct notify_result done_res;
    struct txn_batch *writes; /* what the dispatcher queued (nflog rows), never committed */
};

static void capture(void *ctx, struct notify_job *job)
{
    struct fixture *f = ctx;

    if (f->njobs < 16) {
        f->jobs[f->njobs++] = job;
    } else {
        notify_job_free(job);
    }
}

static void on_done(void *ctx, struct send_ctx *sc, const struct notify_result *res)
{
    struct fixture *f = ctx;

    f->done_sc = sc;
    f->done_res = *res;
}

static void setup_with(struct fixture *f, const char *text)
{
    struct ar_error err;
    struct dispatch_env env;

    memset(f, 0, sizeof(*f));
    clock_fake_set(T0, S(1000));
    if (config_load_string(text, "t.yml", &f->cfg, &err) != AR_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        exit(1);
    }
    f->nflog = nflog_new();
    f->silences = silence_set_new();
    f->inhibitor = inhibitor_new(f->cfg);
    memset(&env, 0, sizeof(env));
    env.metrics = &f->metrics;
    env.nflog = f->nflog;
    env.silences = f->silences;
    env.inhibitor = f->inhibitor;
    env.external_url = "http://am.example:9093";
    env.retention_ns = S(3600);
    env.send_done = on_done;
    env.send_done_ctx = f;
    env.submit = capture;
    env.submit_ctx = f;
    f->d = dispatcher_new(f->cfg, &env);
    f->writes = txn_batch_new();
}

static void setup(struct fixture *f)
{
    setup_with(f, cfg_text);
}

static void teardown(struct fixture *f)
{
    for (size_t i = 0; i < f->njobs; i++) {
        notify_job_free(f->jobs[i]);
    }
    dispatcher_free(f->d);
    txn_batch_free(f->writes);
    inhibitor_free(f->inhibitor);
    silence_set_free(f->silences);
    nflog_free(f->nflog);
    config_unref(f->cfg);
    clock_fake_clear();
}

static struct alert *mk(const char *name, const char *extra, int64_t starts, int64_t ends)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", name);
    if (extra != NULL) {
        labelset_set(&a->labels, "team", extra);
    }
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = starts;
    a->ends_at = ends;
    a->updated_at = clock_now_ns();
    return a;
}

static void put(struct fixture *f, struct alert *a)
{
    inhibitor_put(f->inhibitor, a);
    dispatcher_put(f->d, a, clock_now_ns(), clock_monotonic_ns());
    alert_unref(a);
}

static void run_at(struct fixture *f, int64_t offset)
{
    clock_fake_set(T0 + offset, S(1000) + offset);
    struct txn txn = {f->writes, clock_now_ns()};

    dispatcher_run(f->d, txn.now_ns, clock_monotonic_ns(), &txn);
}

/* Completes captured job i as the notifier would. */
static void complete(struct fixture *f, size_t i, bool ok)
{
    struct notify_job *job = f->jobs[i];
    struct notify_result res;
    struct txn txn = {f->writes, clock_now_ns()};

    memset(&res, 0, sizeof(res));
    res.ok = ok;
    res.attempts = 1;
    if (!ok) {
        snprintf(res.error, sizeof(res.error), "unexpected status code 500");
    }
    job->done(job, &res, job->ctx);
    dispatcher_send_done(f->d, f->done_sc, &f->done_res, &txn);
    notify_job_free(job);
    f->jobs[i] = f->jobs[--f->njobs];
}

static void test_timers_and_dedup(void)
{
    struct fixture f;

    setup(&f);
    put(&f, mk("A", NULL, T0, T0 + S(300)));
    CHECK(dispatcher_next_deadline(f.d) == S(1000) + S(2));
    run_at(&f, S(2) - 1);
    CHECK_INT(f.njobs, 0);
    run_at(&f, S(2)); /* group_wait elapsed */
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        CHECK_INT(f.jobs[0]->data->nalerts, 1);
        CHECK_STR(f.jobs[0]->data->group_key, "{}:{alertname=\"A\"}");
        CHECK_STR(f.jobs[0]->data->receiver_name, "hook");
        complete(&f, 0, true);
    }
    CHECK(dispatcher_next_deadline(f.d) == S(1000) + S(7));
    /* unchanged at the next tick: dedup says nothing to send */
    run_at(&f, S(7));
    CHECK_INT(f.njobs, 0);
    /* a second alert joins: sent together at the next group_interval tick */
    clock_fake_set(T0 + S(8), S(1008));
    put(&f, mk("A", "x", T0 + S(8), T0 + S(300)));
    run_at(&f, S(11));
    CHECK_INT(f.njobs, 0);
    run_at(&f, S(12));
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        CHECK_INT(f.jobs[0]->data->nalerts, 2);
        complete(&f, 0, true);
    }
    /* repeat_interval (1m) since the send at 12 s: at 72 s exactly it has not yet elapsed
     * (strictly before), so the first tick after it, 77 s, re-sends */
    for (int t = 17; t <= 72; t += 5) {
        run_at(&f, S(t));
    }
    CHECK_INT(f.njobs, 0);
    run_at(&f, S(77));
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        complete(&f, 0, true);
    }
    CHECK_INT(f.metrics.notifications[INTEGRATION_WEBHOOK], 3);
    teardown(&f);
}

static void test_resolve_and_retry(void)
{
    struct fixture f;

    setup(&f);
    put(&f, mk("B", NULL, T0, T0 + S(300)));
    run_at(&f, S(2));
    CHECK_INT(f.njobs, 1);
    complete(&f, 0, true);
    /* resolved at 3 s: sent at the next tick (send_resolved defaults to true) */
    clock_fake_set(T0 + S(3), S(1003));
    put(&f, mk("B", NULL, T0, T0 + S(3)));
    run_at(&f, S(7));
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        CHECK(f.jobs[0]->data->resolved[0]);
        /* the delivery fails: the resolved alert stays and is sent again */
        complete(&f, 0, false);
    }
    CHECK_INT(f.metrics.notifications_failed[INTEGRATION_WEBHOOK], 1);
    run_at(&f, S(12));
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        complete(&f, 0, true);
    }
    /* removed after the successful flush: later ticks send nothing */
    run_at(&f, S(17));
    run_at(&f, S(80));
    CHECK_INT(f.njobs, 0);
    teardown(&f);
}

static void test_old_alert_and_send_resolved(void)
{
    struct fixture f;

    setup(&f);
    /* started long before: flushes at once instead of waiting group_wait */
    put(&f, mk("C", "quiet", T0 - S(60), T0 + S(300)));
    CHECK(dispatcher_next_deadline(f.d) == S(1000));
    run_at(&f, 0);
    CHECK_INT(f.njobs, 1);
    if (f.njobs == 1) {
        CHECK_STR(f.jobs[0]->data->receiver_name, "firing-only");
        CHECK_STR(f.jobs[0]->data->group_key, "{}/{team=\"quiet\"}:{alertname=\"C\"}");
        complete(&f, 0, true);
    }
    /* resolution: send_resolved false sends nothing, yet the group forgets the alert */
    clock_fake_set(T0 + S(1), S(1001));
    put(&f, mk("C", "quiet", T0 - S(60), T0 + S(1)));
    run_at(&f, S(5));
    CHECK_INT(f.njobs, 0);
    run_at(&f, S(200));
    CHECK_INT(f.njobs, 0);
    teardown(&f);
}

static void test_inhibition(void)
{
    struct fixture f;

    setup(&f);
    put(&f, mk("Big", NULL, T0, T0 + S(300)));
    put(&f, mk("Small", NULL, T0, T0 + S(300)));
    run_at(&f, S(2));
    CHECK_INT(f.njobs, 1); /* only Big's group: Small is inhibited */
    if (f.njobs == 1) {
        CHECK_STR(f.jobs[0]->data->group_key, "{}:{alertname=\"Big\"}");
        complete(&f, 0, true);
    }
    teardown(&f);
}

/* COMPAT 5.2: sibling routes with the same matchers print the same group key, yet each
 * route keeps its own group and notifies its own receiver (the chat + e-mail shape). */
static const char *same_key_cfg = "route:\n"
                                  "  receiver: chat\n"
                                  "  group_by: [alertname]\n"
                                  "  group_wait: 2s\n"
                                  "  group_interval: 5s\n"
                                  "  repeat_interval: 1m\n"
                                  "  routes:\n"
                                  "  - receiver: chat\n"
                                  "    matchers: ['team=\"sec\"']\n"
                                  "    continue: true\n"
                                  "  - receiver: email\n"
                                  "    matchers: ['team=\"sec\"']\n"
                                  "    continue: true\n"
                                  "receivers:\n"
                                  "- name: chat\n"
                                  "  webhook_configs:\n"
                                  "  - url: http://127.0.0.1:1/\n"
                                  "- name: email\n"
                                  "  webhook_configs:\n"
                                  "  - url: http://127.0.0.1:1/\n";

static void test_same_key_sibling_routes(void)
{
    struct fixture f;
    struct groups_snapshot snap;
    bool chat = false;
    bool email = false;

    setup_with(&f, same_key_cfg);
    put(&f, mk("Down", "sec", T0, T0 + S(300)));
    CHECK_INT(dispatcher_group_count(f.d), 2);
    run_at(&f, S(2));
    CHECK_INT(f.njobs, 2);
    for (size_t i = 0; i < f.njobs; i++) {
        CHECK_STR(f.jobs[i]->data->group_key, "{}/{team=\"sec\"}:{alertname=\"Down\"}");
        chat = chat || strcmp(f.jobs[i]->data->receiver_name, "chat") == 0;
        email = email || strcmp(f.jobs[i]->data->receiver_name, "email") == 0;
    }
    CHECK(chat && email);
    /* the groups API lists both, same labels, ordered by receiver */
    dispatcher_groups_snapshot(f.d, &snap);
    CHECK_INT(snap.ngroups, 2);
    if (snap.ngroups == 2) {
        CHECK_STR(snap.text.data + snap.groups[0].receiver_off, "chat");
        CHECK_STR(snap.text.data + snap.groups[1].receiver_off, "email");
    }
    groups_snapshot_cleanup(&snap);
    /* each receiver has its own log entry: both resolved notifications go out too */
    while (f.njobs > 0) {
        complete(&f, 0, true);
    }
    clock_fake_set(T0 + S(3), S(1003));
    put(&f, mk("Down", "sec", T0, T0 + S(3)));
    run_at(&f, S(7));
    CHECK_INT(f.njobs, 2);
    for (size_t i = 0; i < f.njobs; i++) {
        CHECK(f.jobs[i]->data->resolved[0]);
    }
    while (f.njobs > 0) {
        complete(&f, 0, true);
    }
    teardown(&f);
}

static void test_group_key_quoting(void)
{
    struct labelset ls;
    struct buf b;

    labelset_init(&ls);
    labelset_set(&ls, "alertname", "A");
    labelset_set(&ls, "q", "x\"y\\z\n");
    buf_init(&b, 0);
    dispatch_format_group_key("{}/{team=\"a\"}", &ls, &b);
    CHECK_STR(buf_str(&b), "{}/{team=\"a\"}:{alertname=\"A\", q=\"x\\\"y\\\\z\\n\"}");
    buf_cleanup(&b);
    labelset_cleanup(&ls);
}

int main(void)
{
    test_timers_and_dedup();
    test_resolve_and_retry();
    test_old_alert_and_send_resolved();
    test_inhibition();
    test_same_key_sibling_routes();
    test_group_key_quoting();
    return CHECK_DONE();
}

/* Notification engine and webhook notifier tests: payloads against goldens captured from
 * Alertmanager 0.25 (tests/data/notify, see capture.py there), truncation and redaction,
 * and the curl multi engine end to end against a small libmicrohttpd sink on 127.0.0.1
 * (success, retry after 500, Retry-After on 429, 404 not retried, hanging sink with a
 * timeout, many concurrent jobs, stop cancelling pending jobs). Timing checks use wide
 * tolerances so a loaded 2-core machine passes. Run from tests/data. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/dispatch.h"
#include "ar/integration.h"
#include "ar/notify.h"
#include "ar/timefmt.h"
#include "check.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = ar_malloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        n = 0;
    }
    data[n] = '\0';
    fclose(f);
    if (len != NULL) {
        *len = (size_t)n;
    }
    return data;
}

static int64_t parse_time(const char *s)
{
    int64_t ns = 0;
    int16_t off = 0;

    if (time_parse_rfc3339(s, strlen(s), &ns, &off) != AR_OK) {
        fprintf(stderr, "bad time %s\n", s);
        return 0;
    }
    return ns;
}

static void labels_from_json(struct labelset *ls, json_t *obj)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v)
    {
        labelset_set(ls, k, json_string_value(v));
    }
}

static struct alert *alert_from_json(json_t *j)
{
    struct alert *a = alert_new();
    const char *s;
    int16_t off = 0;

    labels_from_json(&a->labels, json_object_get(j, "labels"));
    if (json_object_get(j, "annotations") != NULL) {
        labels_from_json(&a->annotations, json_object_get(j, "annotations"));
    }
    s = json_string_value(json_object_get(j, "generatorURL"));
    if (s != NULL && s[0] != '\0') {
        a->generator_url = ar_strdup(s);
    }
    s = json_string_value(json_object_get(j, "startsAt"));
    time_parse_rfc3339(s, strlen(s), &a->starts_at, &off);
    a->starts_off_min = off;
    s = json_string_value(json_object_get(j, "endsAt"));
    time_parse_rfc3339(s, strlen(s), &a->ends_at, &off);
    a->ends_off_min = off;
    a->updated_at = a->starts_at;
    a->fp = labelset_fingerprint(&a->labels);
    return a;
}

static const int64_t golden_now = 1795824000LL * AR_NS_PER_SEC; /* 2026-11-28T00:00:00Z */

static struct receiver test_receiver(const char *name)
{
    struct receiver r;

    memset(&r, 0, sizeof(r));
    r.name = (char *)name;
    return r;
}

/* ---- golden payloads --------------------------------------------------------------------- */

static void test_golden(void)
{
    json_error_t jerr;
    json_t *cases = json_load_file("notify/cases.json", 0, &jerr);
    size_t ci;
    json_t *c;
    int compared = 0;

    CHECK(cases != NULL);
    if (cases == NULL) {
        fprintf(stderr, "cases.json: %s\n", jerr.text);
        return;
    }
    CHECK_INT(parse_time("2026-11-28T00:00:00Z"), golden_now);
    json_array_foreach(cases, ci, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *send_resolved = json_object_get(c, "send_resolved");
        json_t *max = json_object_get(c, "max_alerts");
        json_t *group_by = json_object_get(c, "group_by");
        size_t pi;
        json_t *phase;

        json_array_foreach(json_object_get(c, "phases"), pi, phase)
        {
            char path[256];
            char *golden;
            size_t golden_len = 0;
            json_t *gj;
            struct alert *alerts[16];
            size_t n = 0;
            size_t ai;
            json_t *aj;
            struct labelset group_labels;
            struct receiver rcv = test_receiver(name);
            struct notify_data *d;
            struct buf body;

            snprintf(path, sizeof(path), "notify/%s.%zu.json", name, pi);
            golden = read_file(path, &golden_len);
            CHECK(golden != NULL);
            if (golden == NULL) {
                continue;
            }
            gj = json_loads(golden, 0, &jerr);
            json_array_foreach(phase, ai, aj)
            {
                struct alert *a = alert_from_json(aj);

                /* the dispatcher's filtering for send_resolved: false (COMPAT 5.6 6c) */
                if (json_is_false(send_resolved) && alert_resolved_at(a, golden_now)) {
                    alert_unref(a);
                    continue;
                }
                alerts[n++] = a;
            }
            dispatch_sort_alerts(alerts, n);
            labelset_init(&group_labels);
            for (size_t i = 0; i < n; i++) {
                for (size_t l = 0; l < alerts[i]->labels.n; l++) {
                    const struct label *lb = &alerts[i]->labels.v[l];
                    size_t gi;
                    json_t *g;

                    json_array_foreach(group_by, gi, g)
                    {
                        const char *gn = json_string_value(g);

                        if (strcmp(gn, "...") == 0 || strcmp(gn, lb->name) == 0) {
                            labelset_set(&group_labels, lb->name, lb->value);
                        }
                    }
                }
            }
            d = notify_data_new(NULL, &rcv, json_string_value(json_object_get(gj, "groupKey")),
                                &group_labels, alerts, NULL, n, "http://am.example:9093",
                                golden_now);
            buf_init(&body, 0);
            CHECK_INT(notify_webhook_body(d, max != NULL ? json_integer_value(max) : 0, &body),
                      AR_OK);
            CHECK_INT(body.len, golden_len);
            CHECK_STR(buf_str(&body), golden);
            compared++;
            buf_cleanup(&body);
            notify_data_unref(d);
            for (size_t i = 0; i < n; i++) {
                alert_unref(alerts[i]);
            }
            labelset_cleanup(&group_labels);
            json_decref(gj);
            free(golden);
        }
    }
    CHECK_INT(compared, 7);
    json_decref(cases);
}

/* A group of n firing alerts a0..a{n-1} (plus optional resolved flags). */
static struct notify_data *make_data(const struct receiver *rcv, size_t n, const bool *resolved)
{
    struct alert *alerts[400];
    struct labelset gl;
    struct notify_data *d;

    labelset_init(&gl);
    labelset_set(&gl, "alertname", "X");
    for (size_t i = 0; i < n; i++) {
        char v[32];

        alerts[i] = alert_new();
        labelset_set(&alerts[i]->labels, "alertname", "X");
        snprintf(v, sizeof(v), "a%03zu", i);
        labelset_set(&alerts[i]->labels, "i", v);
        labelset_set(&alerts[i]->annotations, "same", "s");
        labelset_set(&alerts[i]->annotations, "diff", v);
        alerts[i]->fp = labelset_fingerprint(&alerts[i]->labels);
        alerts[i]->starts_at = golden_now - AR_NS_PER_SEC;
        alerts[i]->ends_at = golden_now - (resolved != NULL && resolved[i] ? 1 : -1000);
    }
    d = notify_data_new(NULL, rcv, "{}:{alertname=\"X\"}", &gl, alerts, resolved, n,
                        "http://am:9093", golden_now);
    for (size_t i = 0; i < n; i++) {
        alert_unref(alerts[i]);
    }
    labelset_cleanup(&gl);
    return d;
}

static void test_truncation(void)
{
    struct receiver rcv = test_receiver("r");
    bool resolved[3] = {true, true, false};
    struct notify_data *d = make_data(&rcv, 3, resolved);
    struct buf b;
    json_t *j;

    buf_init(&b, 0);
    CHECK_INT(notify_webhook_body(d, 2, &b), AR_OK);
    j = json_loads(buf_str(&b), 0, NULL);
    CHECK(j != NULL);
    CHECK_INT(json_array_size(json_object_get(j, "alerts")), 2);
    CHECK_INT(json_integer_value(json_object_get(j, "truncatedAlerts")), 1);
    /* status and commons are those of the kept alerts */
    CHECK_STR(json_string_value(json_object_get(j, "status")), "resolved");
    CHECK_INT(json_object_size(json_object_get(j, "commonAnnotations")), 1);
    CHECK(b.data[b.len - 1] == '\n');
    json_decref(j);

    buf_reset(&b);
    CHECK_INT(notify_webhook_body(d, 0, &b), AR_OK);
    j = json_loads(buf_str(&b), 0, NULL);
    CHECK_INT(json_array_size(json_object_get(j, "alerts")), 3);
    CHECK_INT(json_integer_value(json_object_get(j, "truncatedAlerts")), 0);
    CHECK_STR(json_string_value(json_object_get(j, "status")), "firing");
    json_decref(j);

    buf_reset(&b);
    CHECK_INT(notify_webhook_body(d, 5, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "\"truncatedAlerts\":0}\n") != NULL);
    CHECK(notify_data_has_firing(d));
    buf_cleanup(&b);
    notify_data_unref(d);
}

static void test_redact(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"https://hooks.example/x/y", "https://hooks.example/x/y"},
        {"https://user:pw@hooks.example:8443/x?token=abc",
         "https://<redacted>@hooks.example:8443/x?<redacted>"},
        {"http://h/p?x=1#frag", "http://h/p?<redacted>"},
        {"http://u@h", "http://<redacted>@h"},
        {"http://h/a@b", "http://h/a@b"},
        {"", ""},
    };
    char out[128];

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        notify_redact_url(cases[i].in, out, sizeof(out));
        CHECK_STR(out, cases[i].want);
    }
    notify_redact_url("http://u:p@h/?q", out, 8);
    CHECK_INT(strlen(out), 7);
}

static void test_url_file(void)
{
    char path[] = "/tmp/ar_notify_url_XXXXXX";
    int fd = mkstemp(path);
    struct receiver rcv = test_receiver("r");
    struct notify_data *d = make_data(&rcv, 1, NULL);
    struct webhook_config wc;
    struct notify_request req;
    struct ar_error err;
    struct integration integ = {INTEGRATION_WEBHOOK, 0, &wc, true};

    CHECK(fd >= 0);
    CHECK(write(fd, "  http://127.0.0.1:9/hook?t=1 \n", 31) == 31);
    close(fd);
    memset(&wc, 0, sizeof(wc));
    wc.url_file = path;
    wc.send_resolved = true;
    notify_request_init(&req);
    CHECK_INT(integration_build_request(d, &integ, &req, &err), AR_OK);
    CHECK_STR(req.url, "http://127.0.0.1:9/hook?t=1");
    CHECK_STR(req.method, "POST");
    CHECK_STR(req.content_type, "application/json");
    notify_request_cleanup(&req);
    unlink(path);
    notify_request_init(&req);
    CHECK(integration_build_request(d, &integ, &req, &err) != AR_OK);
    CHECK(strstr(err.msg, "url_file") != NULL);
    notify_request_cleanup(&req);
    integ.type = INTEGRATION_EMAIL;
    notify_request_init(&req);
    CHECK_INT(integration_build_request(d, &integ, &req, &err), AR_ENOTFOUND);
    notify_request_cleanup(&req);
    notify_data_unref(d);
}

/* ---- HTTP sink ---------------------------------------------------------------------------- */

#define MAX_PATHS  16
#define MAX_PARKED 1024

struct path_stat {
    char path[64];
    int count;
    char last_body[4096];
    char last_ct[64];
    char last_ua[64];
    char last_auth[128];
    char last_host[128];
    char last_x[256]; /* X-V|X-S|X-F */
};

struct conn_state {
    struct buf body;
    bool parked;  /* suspended, waiting for its due time */
    bool resumed; /* due time passed */
    int64_t due_ns;
    struct MHD_Connection *conn;
};

static struct {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    struct path_stat paths[MAX_PATHS];
    struct conn_state *parked[MAX_PARKED];
    size_t nparked;
    pthread_t resumer;
    bool stop;
} sink;

static struct path_stat *path_get(const char *path)
{
    for (int i = 0; i < MAX_PATHS; i++) {
        if (strcmp(sink.paths[i].path, path) == 0) {
            return &sink.paths[i];
        }
        if (sink.paths[i].path[0] == '\0') {
            snprintf(sink.paths[i].path, sizeof(sink.paths[i].path), "%s", path);
            return &sink.paths[i];
        }
    }
    return &sink.paths[MAX_PATHS - 1];
}

static int path_count(const char *path)
{
    int c;

    pthread_mutex_lock(&sink.lock);
    c = path_get(path)->count;
    pthread_mutex_unlock(&sink.lock);
    return c;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *body,
                             const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (hname != NULL) {
        MHD_add_response_header(r, hname, hvalue);
    }
    rc = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return rc;
}

static void park(struct conn_state *cs, struct MHD_Connection *conn, int64_t delay_ns)
{
    cs->parked = true;
    cs->conn = conn;
    cs->due_ns = delay_ns < 0 ? INT64_MAX : clock_monotonic_ns() + delay_ns;
    pthread_mutex_lock(&sink.lock);
    if (sink.nparked < MAX_PARKED) {
        sink.parked[sink.nparked++] = cs;
    }
    pthread_mutex_unlock(&sink.lock);
    MHD_suspend_connection(conn);
}

/* Paths: /ok, /flaky (500 then 200), /ratelimit (429 Retry-After: 1, then 200),
 * /ratedate (503 with an HTTP-date 2s ahead, then 200), /notfound (404 "nope"),
 * /slow (200 after 500ms), /hang (never answers until shutdown). */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct conn_state *cs = *con_cls;
    struct path_stat *ps;
    int count;
    const char *v;

    if (cs == NULL) {
        cs = ar_calloc(1, sizeof(*cs));
        buf_init(&cs->body, 0);
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        buf_append(&cs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cs->parked) {
        return reply(conn, 200, "late", NULL, NULL);
    }
    pthread_mutex_lock(&sink.lock);
    ps = path_get(url);
    count = ++ps->count;
    snprintf(ps->last_body, sizeof(ps->last_body), "%s", buf_str(&cs->body));
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    snprintf(ps->last_ct, sizeof(ps->last_ct), "%s", v != NULL ? v : "");
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
    snprintf(ps->last_ua, sizeof(ps->last_ua), "%s", v != NULL ? v : "");
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    snprintf(ps->last_auth, sizeof(ps->last_auth), "%s", v != NULL ? v : "");
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    snprintf(ps->last_host, sizeof(ps->last_host), "%s", v != NULL ? v : "");
    {
        const char *xv = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-V");
        const char *xs = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-S");
        const char *xf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-F");

        snprintf(ps->last_x, sizeof(ps->last_x), "%s|%s|%s", xv != NULL ? xv : "",
                 xs != NULL ? xs : "", xf != NULL ? xf : "");
    }
    pthread_mutex_unlock(&sink.lock);

    if (strcmp(url, "/flaky") == 0 && count == 1) {
        return reply(conn, 500, "boom", NULL, NULL);
    }
    if (strcmp(url, "/ratelimit") == 0 && count == 1) {
        return reply(conn, 429, "slow down", "Retry-After", "1");
    }
    if (strcmp(url, "/ratedate") == 0 && count == 1) {
        char date[64];
        time_t t = time(NULL) + 3;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        return reply(conn, 503, "", "Retry-After", date);
    }
    if (strcmp(url, "/notfound") == 0) {
        return reply(conn, 404, "nope", NULL, NULL);
    }
    if (strcmp(url, "/slow") == 0) {
        park(cs, conn, 500 * AR_NS_PER_MS);
        return MHD_YES;
    }
    if (strcmp(url, "/hang") == 0) {
        park(cs, conn, -1);
        return MHD_YES;
    }
    return reply(conn, 200, "", NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct conn_state *cs = *con_cls;

    if (cs == NULL) {
        return;
    }
    pthread_mutex_lock(&sink.lock);
    for (size_t i = 0; i < sink.nparked; i++) {
        if (sink.parked[i] == cs) {
            sink.parked[i] = sink.parked[--sink.nparked];
            break;
        }
    }
    pthread_mutex_unlock(&sink.lock);
    buf_cleanup(&cs->body);
    free(cs);
    *con_cls = NULL;
}

static void *resumer_main(void *arg)
{
    for (;;) {
        int64_t now = clock_monotonic_ns();
        bool stop;

        pthread_mutex_lock(&sink.lock);
        stop = sink.stop;
        for (size_t i = 0; i < sink.nparked; i++) {
            struct conn_state *cs = sink.parked[i];

            if (!cs->resumed && (stop || cs->due_ns <= now)) {
                cs->resumed = true;
                MHD_resume_connection(cs->conn);
            }
        }
        pthread_mutex_unlock(&sink.lock);
        if (stop) {
            return NULL;
        }
        usleep(5000);
    }
}

static bool sink_start(void)
{
    const union MHD_DaemonInfo *info;

    pthread_mutex_init(&sink.lock, NULL);
    sink.d = MHD_start_daemon(
        MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)2000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_SOCK_ADDR, NULL,
        MHD_OPTION_END);
    if (sink.d == NULL) {
        return false;
    }
    info = MHD_get_daemon_info(sink.d, MHD_DAEMON_INFO_BIND_PORT);
    sink.port = info->port;
    pthread_create(&sink.resumer, NULL, resumer_main, NULL);
    return true;
}

static void sink_stop(void)
{
    pthread_mutex_lock(&sink.lock);
    sink.stop = true;
    pthread_mutex_unlock(&sink.lock);
    pthread_join(sink.resumer, NULL);
    MHD_stop_daemon(sink.d);
    pthread_mutex_destroy(&sink.lock);
}

/* ---- engine -------------------------------------------------------------------------------- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int ok;
    bool on_loop_thread_twice;
    struct notify_result last;
    int64_t done_mono_ns;
    int nretrying; /* job->retrying calls */
    struct notify_result retried[4];
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static void waiter_cleanup(struct waiter *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
}

static void on_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->lock);
    w->done++;
    if (res->ok) {
        w->ok++;
    }
    w->last = *res;
    w->done_mono_ns = clock_monotonic_ns();
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* job->retrying: records each failed attempt that will be retried */
static void on_retrying(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->lock);
    if (w->nretrying < (int)AR_ARRAY_LEN(w->retried)) {
        w->retried[w->nretrying] = *res;
    }
    w->nretrying++;
    pthread_mutex_unlock(&w->lock);
}

/* Waits until w->done reaches want or timeout_s passes; returns w->done. */
static int waiter_wait(struct waiter *w, int want, int timeout_s)
{
    struct timespec ts;
    int done;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_s;
    pthread_mutex_lock(&w->lock);
    while (w->done < want) {
        if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) != 0) {
            break;
        }
    }
    done = w->done;
    pthread_mutex_unlock(&w->lock);
    return done;
}

struct target {
    char url[256];
    struct http_config http;
    struct webhook_config wc;
    struct integration integ;
};

static void target_init(struct target *t, const char *fmt_path, int64_t timeout_ns)
{
    memset(t, 0, sizeof(*t));
    if (strstr(fmt_path, "://") != NULL) {
        snprintf(t->url, sizeof(t->url), "%s", fmt_path);
    } else {
        snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d%s", sink.port, fmt_path);
    }
    t->http.follow_redirects = true;
    t->http.enable_http2 = true;
    t->wc.send_resolved = true;
    t->wc.http_config = &t->http;
    t->wc.url = t->url;
    t->wc.timeout_ns = timeout_ns;
    t->integ.type = INTEGRATION_WEBHOOK;
    t->integ.cfg = &t->wc;
    t->integ.send_resolved = true;
}

/* Submits one job to t with the given deadline and waits for it. Returns elapsed seconds. */
static double run_one(struct notifier *n, struct notify_data *d, struct target *t,
                      double deadline_s, struct waiter *w, int wait_s)
{
    int64_t start = clock_monotonic_ns();
    struct notify_job *job =
        notify_job_new(d, &t->integ, start + (int64_t)(deadline_s * 1e9), on_done, w);

    notifier_submit(n, job);
    CHECK_INT(waiter_wait(w, 1, wait_s), 1);
    return (double)(w->done_mono_ns - start) / 1e9;
}

static void test_engine(void)
{
    struct notifier *n = notifier_new(NULL);
    struct receiver rcv = test_receiver("team");
    struct notify_data *d = make_data(&rcv, 2, NULL);
    struct target t;
    struct waiter w;
    double el;
    struct buf want;
    struct notify_metrics m;

    CHECK_INT(notifier_start(n), AR_OK);

    /* success, headers and body as sent */
    target_init(&t, "/ok", 0);
    waiter_init(&w);
    el = run_one(n, d, &t, 10, &w, 20);
    CHECK(w.last.ok);
    CHECK_INT(w.last.attempts, 1);
    CHECK_INT(w.last.last_status, 200);
    CHECK_STR(w.last.error, "");
    CHECK(el < 5);
    buf_init(&want, 0);
    notify_webhook_body(d, 0, &want);
    pthread_mutex_lock(&sink.lock);
    CHECK_STR(path_get("/ok")->last_body, buf_str(&want));
    CHECK_STR(path_get("/ok")->last_ct, "application/json");
    CHECK_STR(path_get("/ok")->last_ua, "Alertmanager/0.25.0");
    CHECK_STR(path_get("/ok")->last_auth, "");
    pthread_mutex_unlock(&sink.lock);
    buf_cleanup(&want);
    waiter_cleanup(&w);

    /* basic auth with a password file; bearer credentials */
    {
        char path[] = "/tmp/ar_notify_pw_XXXXXX";
        int fd = mkstemp(path);
        struct basic_auth ba = {"user", NULL, NULL, path};
        struct http_authorization az = {NULL, "tok123", NULL};

        CHECK(write(fd, "pass\n", 5) == 5);
        close(fd);
        target_init(&t, "/auth", 0);
        t.http.basic_auth = &ba;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(w.last.ok);
        pthread_mutex_lock(&sink.lock);
        CHECK_STR(path_get("/auth")->last_auth, "Basic dXNlcjpwYXNz"); /* user:pass */
        pthread_mutex_unlock(&sink.lock);
        waiter_cleanup(&w);
        t.http.basic_auth = NULL;
        t.http.authorization = &az;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(w.last.ok);
        pthread_mutex_lock(&sink.lock);
        CHECK_STR(path_get("/auth")->last_auth, "Bearer tok123");
        pthread_mutex_unlock(&sink.lock);
        waiter_cleanup(&w);
        unlink(path);
    }

    /* http_headers: values, secrets and files; a line break in a value is refused */
    {
        char path[] = "/tmp/ar_notify_hdr_XXXXXX";
        int fd = mkstemp(path);
        struct http_header_line lines[3] = {
            {"X-F", path, true}, {"X-S", "s3", false}, {"X-V", "v 1", false}};
        struct http_header_line bad_lines[1] = {{"X-V", "a\r\nX-Evil: 1", false}};

        CHECK(write(fd, " from-file\n", 11) == 11);
        close(fd);
        target_init(&t, "/hdr", 0);
        t.http.header_lines = lines;
        t.http.nheader_lines = 3;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(w.last.ok);
        pthread_mutex_lock(&sink.lock);
        CHECK_STR(path_get("/hdr")->last_x, "v 1|s3|from-file");
        pthread_mutex_unlock(&sink.lock);
        waiter_cleanup(&w);
        t.http.header_lines = bad_lines;
        t.http.nheader_lines = 1;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(!w.last.ok);
        CHECK_INT(w.last.attempts, 1);
        CHECK(strstr(w.last.error, "invalid value for header X-V") != NULL);
        CHECK_INT(path_count("/hdr"), 1);
        waiter_cleanup(&w);
        unlink(path);
    }

    /* proxy_url: the sink plays an HTTP proxy and sees the absolute target URL; headers for
     * the proxy's CONNECT are not sent to plain-http targets */
    {
        char proxy[64];
        struct http_header_line plines[1] = {{"X-V", "to-proxy", false}};

        snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", sink.port);
        target_init(&t, "http://alert.invalid/proxied?x=1", 0);
        t.http.proxy_url = proxy;
        t.http.proxy_header_lines = plines;
        t.http.nproxy_header_lines = 1;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(w.last.ok);
        CHECK_INT(path_count("http://alert.invalid/proxied"), 1);
        pthread_mutex_lock(&sink.lock);
        CHECK_STR(path_get("http://alert.invalid/proxied")->last_x, "||");
        pthread_mutex_unlock(&sink.lock);
        waiter_cleanup(&w);
    }

    /* an unreadable password file is retried until the deadline; oauth2 without a token
     * URL is refused at once (the client-credentials flow itself: tests/e2e/11-oauth2.py) */
    {
        struct basic_auth ba = {"user", NULL, NULL, "/nonexistent/ar_pw"};
        struct oauth2_config oa;

        memset(&oa, 0, sizeof(oa));
        target_init(&t, "/auth", 0);
        t.http.basic_auth = &ba;
        waiter_init(&w);
        el = run_one(n, d, &t, 1.2, &w, 20);
        CHECK(!w.last.ok);
        CHECK(w.last.attempts >= 2);
        CHECK(strstr(w.last.error, "notify retry canceled after ") != NULL);
        CHECK(strstr(w.last.error, "unable to read basic auth password file") != NULL);
        CHECK(el >= 1.1);
        waiter_cleanup(&w);
        t.http.basic_auth = NULL;
        t.http.oauth2 = &oa;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(!w.last.ok);
        CHECK_INT(w.last.attempts, 1);
        CHECK(strstr(w.last.error, "oauth2") != NULL);
        waiter_cleanup(&w);
    }

    /* 500 then success: retried after the first backoff (0.5s ±50%); the failed attempt is
     * reported to job->retrying once, the success only to done() */
    target_init(&t, "/flaky", 0);
    waiter_init(&w);
    {
        int64_t start = clock_monotonic_ns();
        struct notify_job *job =
            notify_job_new(d, &t.integ, start + 10000 * AR_NS_PER_MS, on_done, &w);

        job->retrying = on_retrying;
        notifier_submit(n, job);
        CHECK_INT(waiter_wait(&w, 1, 20), 1);
        el = (double)(w.done_mono_ns - start) / 1e9;
    }
    CHECK(w.last.ok);
    CHECK_INT(w.last.attempts, 2);
    CHECK_INT(path_count("/flaky"), 2);
    CHECK(el >= 0.2);
    CHECK(el < 5);
    CHECK_INT(w.nretrying, 1);
    CHECK(!w.retried[0].ok && w.retried[0].retryable);
    CHECK_INT(w.retried[0].attempts, 1);
    CHECK_INT(w.retried[0].last_status, 500);
    CHECK(strstr(w.retried[0].error, "unexpected status code 500") != NULL);
    CHECK(w.retried[0].latency_ns > 0);
    waiter_cleanup(&w);

    /* 429 with Retry-After: 1 waits at least a second */
    target_init(&t, "/ratelimit", 0);
    waiter_init(&w);
    el = run_one(n, d, &t, 10, &w, 20);
    CHECK(w.last.ok);
    CHECK_INT(w.last.attempts, 2);
    CHECK(el >= 0.95);
    CHECK(el < 6);
    waiter_cleanup(&w);

    /* 503 with an HTTP-date ~3s ahead (second resolution: at least ~2s) */
    target_init(&t, "/ratedate", 0);
    waiter_init(&w);
    el = run_one(n, d, &t, 15, &w, 30);
    CHECK(w.last.ok);
    CHECK_INT(w.last.attempts, 2);
    CHECK(el >= 1.9);
    CHECK(el < 9);
    waiter_cleanup(&w);

    /* 404 is final */
    target_init(&t, "/notfound", 0);
    waiter_init(&w);
    el = run_one(n, d, &t, 10, &w, 20);
    CHECK(!w.last.ok);
    CHECK_INT(w.last.attempts, 1);
    CHECK_INT(w.last.last_status, 404);
    CHECK(!w.last.retryable);
    CHECK(strstr(w.last.error, "unexpected status code 404: nope") != NULL);
    usleep(300 * 1000);
    CHECK_INT(path_count("/notfound"), 1);
    CHECK(el < 5);
    waiter_cleanup(&w);

    /* hanging sink: each attempt times out after 300ms, the job gives up at its 2s deadline */
    target_init(&t, "/hang", 300 * AR_NS_PER_MS);
    waiter_init(&w);
    el = run_one(n, d, &t, 2, &w, 20);
    CHECK(!w.last.ok);
    CHECK(w.last.attempts >= 2);
    CHECK(w.last.retryable);
    CHECK(strstr(w.last.error, "notify retry canceled after ") != NULL);
    CHECK(strstr(w.last.error, "imeout") != NULL || strstr(w.last.error, "imed out") != NULL);
    CHECK(el >= 1.9);
    CHECK(el < 6);
    if (strstr(w.last.error, "notify retry canceled after ") == NULL) {
        fprintf(stderr, "hang error: %s\n", w.last.error);
    }
    waiter_cleanup(&w);

    /* transport error against a closed port; secrets in the URL stay out of the error */
    target_init(&t, "http://user:s3cret@127.0.0.1:1/x?token=s3cret", 0);
    waiter_init(&w);
    el = run_one(n, d, &t, 1.5, &w, 20);
    CHECK(!w.last.ok);
    CHECK(w.last.attempts >= 2);
    CHECK(strstr(w.last.error, "s3cret") == NULL);
    CHECK(strstr(w.last.error, "127.0.0.1:1") != NULL);
    CHECK(el < 6);
    waiter_cleanup(&w);

    /* many concurrent deliveries, each answered after 500ms */
    {
        enum { MANY = 300 };
        int64_t start = clock_monotonic_ns();

        target_init(&t, "/slow", 0);
        waiter_init(&w);
        for (int i = 0; i < MANY; i++) {
            notifier_submit(n,
                            notify_job_new(d, &t.integ, start + 30 * AR_NS_PER_SEC, on_done, &w));
        }
        CHECK_INT(waiter_wait(&w, MANY, 60), MANY);
        CHECK_INT(w.ok, MANY);
        el = (double)(w.done_mono_ns - start) / 1e9;
        /* serially this would take 150s */
        CHECK(el < 20);
        printf("%d concurrent deliveries (500ms each) in %.2fs\n", MANY, el);
        waiter_cleanup(&w);
    }

    notifier_metrics(n, &m);
    CHECK(m.type[INTEGRATION_WEBHOOK].requests_total >= 310);
    CHECK(m.type[INTEGRATION_WEBHOOK].requests_failed >= 5);
    CHECK(m.type[INTEGRATION_WEBHOOK].latency_count == m.type[INTEGRATION_WEBHOOK].requests_total);
    CHECK(m.type[INTEGRATION_WEBHOOK].latency_bucket[0] <=
          m.type[INTEGRATION_WEBHOOK].latency_bucket[4]);
    CHECK(m.type[INTEGRATION_WEBHOOK].notifications_total >= 309);
    CHECK_INT(notifier_pending(n), 0);

    /* stop cancels pending and in-flight jobs: hanging ones and ones waiting for a retry */
    {
        struct target t2;

        target_init(&t, "/hang", 0);
        target_init(&t2, "http://127.0.0.1:1/x", 0);
        waiter_init(&w);
        for (int i = 0; i < 5; i++) {
            notifier_submit(n,
                            notify_job_new(d, &t.integ, clock_monotonic_ns() + 60 * AR_NS_PER_SEC,
                                           on_done, &w));
            notifier_submit(n,
                            notify_job_new(d, &t2.integ, clock_monotonic_ns() + 60 * AR_NS_PER_SEC,
                                           on_done, &w));
        }
        usleep(300 * 1000);
        CHECK_INT(w.done, 0);
        notifier_stop(n);
        CHECK_INT(w.done, 10);
        CHECK_INT(w.ok, 0);
        CHECK(strstr(w.last.error, "canceled") != NULL);
        CHECK(w.last.canceled);
        /* after stop, submit completes at once */
        notifier_submit(n, notify_job_new(d, &t.integ, 0, on_done, &w));
        CHECK_INT(w.done, 11);
        CHECK(w.last.canceled);
        CHECK_INT(notifier_pending(n), 0);
        waiter_cleanup(&w);
    }
    notifier_free(n);
    notify_data_unref(d);

    /* a notifier never started still completes its jobs on stop */
    n = notifier_new(NULL);
    d = make_data(&rcv, 1, NULL);
    target_init(&t, "/ok", 0);
    waiter_init(&w);
    notifier_submit(n, notify_job_new(d, &t.integ, 0, on_done, &w));
    notifier_free(n);
    CHECK_INT(w.done, 1);
    waiter_cleanup(&w);
    notify_data_unref(d);
}

/* A one-connection CONNECT proxy: records the CONNECT request head, then relays bytes
 * between the client and the requested 127.0.0.1 port until either side closes. */
struct connect_proxy {
    int lfd;
    int port;
    pthread_t thread;
    char head[1024];
};

static void *connect_proxy_main(void *arg)
{
    struct connect_proxy *cp = arg;
    int c = accept(cp->lfd, NULL, NULL);
    size_t len = 0;
    int target_port = 0;
    int t;
    struct sockaddr_in sa;
    const char *colon;
    struct pollfd pf[2];
    char buf[16384];

    if (c < 0) {
        return NULL;
    }
    while (len + 1 < sizeof(cp->head) && strstr(cp->head, "\r\n\r\n") == NULL) {
        ssize_t r = read(c, cp->head + len, 1);

        if (r <= 0) {
            close(c);
            return NULL;
        }
        len += (size_t)r;
        cp->head[len] = '\0';
    }
    colon = strchr(cp->head, ':');
    if (colon != NULL) {
        target_port = (int)strtol(colon + 1, NULL, 10);
    }
    t = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)target_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(t, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(t);
        close(c);
        return NULL;
    }
    if (write(c, "HTTP/1.1 200 Connection established\r\n\r\n", 39) != 39) {
        close(t);
        close(c);
        return NULL;
    }
    pf[0].fd = c;
    pf[1].fd = t;
    pf[0].events = pf[1].events = POLLIN;
    for (;;) {
        ssize_t r;
        int from;

        if (poll(pf, 2, 10000) <= 0) {
            break;
        }
        from = (pf[0].revents & (POLLIN | POLLHUP)) ? 0 : 1;
        r = read(pf[from].fd, buf, sizeof(buf));
        if (r <= 0 || write(pf[1 - from].fd, buf, (size_t)r) != r) {
            break;
        }
    }
    close(t);
    close(c);
    return NULL;
}

static bool connect_proxy_start(struct connect_proxy *cp)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    memset(cp, 0, sizeof(*cp));
    cp->lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (cp->lfd < 0 || bind(cp->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(cp->lfd, 4) != 0 || getsockname(cp->lfd, (struct sockaddr *)&sa, &sl) != 0) {
        return false;
    }
    cp->port = ntohs(sa.sin_port);
    pthread_create(&cp->thread, NULL, connect_proxy_main, cp);
    return true;
}

static void connect_proxy_stop(struct connect_proxy *cp)
{
    pthread_join(cp->thread, NULL);
    close(cp->lfd);
}

/* TLS: a certificate for alert.test served on 127.0.0.1, checked with ca_file / inline ca,
 * server_name and insecure_skip_verify. */
static void test_tls(void)
{
    char *key = read_file("notify/tls/server.key", NULL);
    char *cert = read_file("notify/tls/server.pem", NULL);
    char *ca = read_file("notify/tls/ca.pem", NULL);
    struct MHD_Daemon *td;
    struct notifier *n;
    struct receiver rcv = test_receiver("tls");
    struct notify_data *d;
    struct target t;
    struct waiter w;
    char url[128];
    char hostport[64];

    CHECK(key != NULL && cert != NULL && ca != NULL);
    if (key == NULL || cert == NULL || ca == NULL || !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        free(key);
        free(cert);
        free(ca);
        return;
    }
    td = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL,
                          NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                          MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
                          MHD_OPTION_END);
    CHECK(td != NULL);
    if (td == NULL) {
        free(key);
        free(cert);
        free(ca);
        return;
    }
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%d",
             MHD_get_daemon_info(td, MHD_DAEMON_INFO_BIND_PORT)->port);
    snprintf(url, sizeof(url), "https://%s/tls", hostport);
    n = notifier_new(NULL);
    CHECK_INT(notifier_start(n), AR_OK);
    d = make_data(&rcv, 1, NULL);

    /* the certificate names alert.test, not 127.0.0.1: verification fails (retried) */
    target_init(&t, url, 0);
    t.http.tls_config.ca_file = "notify/tls/ca.pem";
    waiter_init(&w);
    run_one(n, d, &t, 1, &w, 20);
    CHECK(!w.last.ok);
    CHECK(w.last.retryable);
    CHECK_INT(path_count("/tls"), 0);
    waiter_cleanup(&w);

    /* server_name makes it verify; the Host header stays the URL's */
    t.http.tls_config.server_name = "alert.test";
    waiter_init(&w);
    run_one(n, d, &t, 10, &w, 20);
    CHECK(w.last.ok);
    if (!w.last.ok) {
        fprintf(stderr, "tls server_name: %s\n", w.last.error);
    }
    CHECK_INT(path_count("/tls"), 1);
    pthread_mutex_lock(&sink.lock);
    CHECK_STR(path_get("/tls")->last_host, hostport);
    pthread_mutex_unlock(&sink.lock);
    waiter_cleanup(&w);

    /* inline CA */
    t.http.tls_config.ca_file = NULL;
    t.http.tls_config.ca = ca;
    waiter_init(&w);
    run_one(n, d, &t, 10, &w, 20);
    CHECK(w.last.ok);
    CHECK_INT(path_count("/tls"), 2);
    waiter_cleanup(&w);

    /* insecure_skip_verify without any CA or name */
    target_init(&t, url, 0);
    t.http.tls_config.insecure_skip_verify = true;
    waiter_init(&w);
    run_one(n, d, &t, 10, &w, 20);
    CHECK(w.last.ok);
    CHECK_INT(path_count("/tls"), 3);
    waiter_cleanup(&w);

    /* https through a CONNECT proxy, with proxy_connect_header sent to the proxy only */
    {
        struct connect_proxy cp;
        char proxy[64];
        struct http_header_line plines[1] = {{"X-V", "pt1", false}};

        CHECK(connect_proxy_start(&cp));
        snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", cp.port);
        target_init(&t, url, 0);
        t.http.tls_config.insecure_skip_verify = true;
        t.http.proxy_url = proxy;
        t.http.proxy_header_lines = plines;
        t.http.nproxy_header_lines = 1;
        waiter_init(&w);
        run_one(n, d, &t, 10, &w, 20);
        CHECK(w.last.ok);
        CHECK_INT(path_count("/tls"), 4);
        notifier_free(n); /* closes the tunnel */
        n = NULL;
        connect_proxy_stop(&cp);
        CHECK(strncmp(cp.head, "CONNECT 127.0.0.1:", 18) == 0);
        CHECK(strstr(cp.head, "\r\nX-V: pt1\r\n") != NULL);
        pthread_mutex_lock(&sink.lock);
        CHECK_STR(path_get("/tls")->last_x, "||"); /* not sent to the target */
        pthread_mutex_unlock(&sink.lock);
        waiter_cleanup(&w);
    }

    notifier_free(n);
    notify_data_unref(d);
    MHD_stop_daemon(td);
    free(key);
    free(cert);
    free(ca);
}

int main(void)
{
    test_golden();
    test_truncation();
    test_redact();
    test_url_file();
    if (!sink_start()) {
        fprintf(stderr, "cannot start the HTTP sink\n");
        return 1;
    }
    test_engine();
    test_tls();
    sink_stop();
    curl_global_cleanup();
    return CHECK_DONE();
}

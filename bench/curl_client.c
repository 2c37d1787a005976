/* curl_client: the libcurl floor for webhook delivery (used by bench/floor.py).
 *
 * POSTs --requests copies of one ~1 KB Alertmanager-style webhook body to
 * http://127.0.0.1:<port><path> with nothing else going on: no templates, no database, no
 * retries, no timers. What it costs is what libcurl itself (plus the kernel's loopback
 * TCP) costs per notification, the floor under any libcurl-based notifier.
 *
 * Each of --threads threads owns one multi handle and --parallel/--threads easy handles
 * (the remainder spread over the first threads), so --parallel is the total number of
 * requests in flight whatever the thread count. A thread loops on curl_multi_perform +
 * curl_multi_poll; a finished easy handle is removed, curl_easy_reset, set up again and
 * re-added for the next request while requests are left (the threads claim them from one
 * shared counter). curl_easy_reset keeps the handle's live connections, so connections
 * are reused (keep-alive) the way a long-running notifier reuses them.
 * Every request: CURLOPT_POSTFIELDS (+ size), "Content-Type: application/json",
 * User-Agent "Alertmanager/0.25.0", an empty "Expect:" (no 100-continue round trip),
 * HTTP/1.1, no proxy, response body discarded; a reply other than 200 or a transfer
 * error is counted as failed.
 *
 * Prints one JSON line on stdout:
 *   {"requests":N,"ok":..,"failed":..,"seconds":..,"requests_per_s":..,"cpu_s":..,
 *    "threads":T,"parallel":P,"body_bytes":B,"timed_out":0|1}
 * seconds and cpu_s (CLOCK_PROCESS_CPUTIME_ID: all threads, user + system) cover the
 * time from just before the first request to the last completion; handle setup before
 * and cleanup after are not counted. Exit status 1 when any request failed or the
 * --max-seconds bound (default 60) stopped the run early. Loopback only: the host is fixed
 * to 127.0.0.1.
 *
 * Build (done by bench/floor.py automatically, into $TMPDIR/ar-bench-<uid>/):
 *     cc -O2 -Wall -Werror -o curl_client bench/curl_client.c -lcurl -lpthread
 * Example (bench/sink.c listening on 9099):
 *     ./curl_client --port 9099 --requests 10000 --parallel 32 --threads 2
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS  64
#define MAX_PARALLEL 4096

struct worker {
    pthread_t thread;
    int handles;
    CURLM *multi;
    CURL **easy;
    struct curl_slist *headers; /* per thread: nothing shared between the multi handles */
    long ok, failed;
};

static int port;
static const char *path = "/hook";
static long total_requests = 10000;
static int parallel = 32;
static int nthreads = 1;
static size_t body_target = 1000;
static double max_seconds = 60;

static char url[256];
static char *body;
static size_t body_len;
static long claimed;      /* requests handed out so far (__atomic) */
static double deadline;   /* CLOCK_MONOTONIC seconds */
static int timed_out;     /* __atomic */

static double now_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One Alertmanager webhook notification (version 4) with a single firing alert, padded
 * in the description annotation up to about body_target bytes. */
static void build_body(void)
{
    static const char head[] =
        "{\"receiver\":\"hook\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"FloorBench\",\"cluster\":\"prod-eu-1\","
        "\"instance\":\"10.0.3.17:9100\",\"job\":\"node-exporter\",\"namespace\":\"namespace-42\","
        "\"pod\":\"api-server-42-7f9c8d6b5-x2k4q\",\"severity\":\"critical\",\"team\":\"team-7\"},"
        "\"annotations\":{\"summary\":\"Instance 10.0.3.17:9100 of job node-exporter is down\","
        "\"description\":\"";
    static const char tail[] =
        "\"},\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
        "\"generatorURL\":\"http://prometheus-0:9090/graph?g0.expr=up%3D%3D0\","
        "\"fingerprint\":\"5e1c0f3a9b7d2e46\"}],\"groupLabels\":{\"alertname\":\"FloorBench\"},"
        "\"commonLabels\":{\"alertname\":\"FloorBench\"},\"commonAnnotations\":{},"
        "\"externalURL\":\"http://alertrouter:9093\",\"version\":\"4\","
        "\"groupKey\":\"{}:{alertname=\\\"FloorBench\\\"}\",\"truncatedAlerts\":0}";
    static const char filler[] = "The node has been unreachable for more than five minutes. ";
    size_t fixed = sizeof(head) - 1 + sizeof(tail) - 1;
    size_t pad = body_target > fixed ? body_target - fixed : 0;
    body = malloc(fixed + pad + 1);
    if (!body) {
        perror("malloc");
        exit(2);
    }
    memcpy(body, head, sizeof(head) - 1);
    body_len = sizeof(head) - 1;
    for (size_t i = 0; i < pad; i++) {
        body[body_len++] = filler[i % (sizeof(filler) - 1)];
    }
    memcpy(body + body_len, tail, sizeof(tail) - 1);
    body_len += sizeof(tail) - 1;
    body[body_len] = '\0';
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *user)
{
    (void)ptr;
    (void)user;
    return size * nmemb;
}

static void set_request(struct worker *w, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "Alertmanager/0.25.0");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
}

/* Claims one request from the shared budget; 0 when none is left or time is up. */
static int claim(void)
{
    if (__atomic_load_n(&claimed, __ATOMIC_RELAXED) >= total_requests) {
        return 0;
    }
    if (now_clock(CLOCK_MONOTONIC) >= deadline) {
        __atomic_store_n(&timed_out, 1, __ATOMIC_RELAXED);
        return 0;
    }
    if (__atomic_fetch_add(&claimed, 1, __ATOMIC_RELAXED) < total_requests) {
        return 1;
    }
    return 0;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    int running = 0;
    for (int i = 0; i < w->handles; i++) {
        if (!claim()) {
            break;
        }
        set_request(w, w->easy[i]);
        curl_multi_add_handle(w->multi, w->easy[i]);
        running++;
    }
    while (running > 0) {
        int still = 0;
        curl_multi_perform(w->multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            CURL *e = m->easy_handle;
            long code = 0;
            CURLcode rc = m->data.result;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            if (rc == CURLE_OK && code == 200) {
                w->ok++;
            } else {
                w->failed++;
                if (w->failed <= 3) {
                    fprintf(stderr, "request failed: %s, HTTP %ld\n", curl_easy_strerror(rc), code);
                }
            }
            curl_multi_remove_handle(w->multi, e);
            running--;
            if (claim()) {
                curl_easy_reset(e);
                set_request(w, e);
                curl_multi_add_handle(w->multi, e);
                running++;
            }
        }
        if (running > 0) {
            curl_multi_poll(w->multi, NULL, 0, 100, NULL);
            if (now_clock(CLOCK_MONOTONIC) >= deadline + 15) {
                /* transfers stuck well past the bound (their own timeout is 10 s) */
                __atomic_store_n(&timed_out, 1, __ATOMIC_RELAXED);
                break;
            }
        }
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: curl_client --port N [--path /hook] [--requests 10000] [--parallel 32]\n"
                    "                   [--threads 1] [--body-bytes 1000] [--max-seconds 60]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            usage();
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--port")) {
            port = atoi(v);
        } else if (!strcmp(a, "--path")) {
            path = v;
        } else if (!strcmp(a, "--requests")) {
            total_requests = atol(v);
        } else if (!strcmp(a, "--parallel")) {
            parallel = atoi(v);
        } else if (!strcmp(a, "--threads")) {
            nthreads = atoi(v);
        } else if (!strcmp(a, "--body-bytes")) {
            body_target = (size_t)atol(v);
        } else if (!strcmp(a, "--max-seconds")) {
            max_seconds = atof(v);
        } else {
            usage();
        }
    }
    if (port <= 0 || port > 65535 || total_requests < 1 || total_requests > 100000000L ||
        parallel < 1 || parallel > MAX_PARALLEL || nthreads < 1 || nthreads > MAX_THREADS ||
        nthreads > parallel || path[0] != '/' || strlen(path) > 128 ||
        body_target > 1048576 || max_seconds <= 0 || max_seconds > 3600) {
        usage();
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    build_body();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 2;
    }

    struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
    if (!ws) {
        perror("calloc");
        return 2;
    }
    for (int t = 0; t < nthreads; t++) {
        struct worker *w = &ws[t];
        w->handles = parallel / nthreads + (t < parallel % nthreads ? 1 : 0);
        w->multi = curl_multi_init();
        w->easy = calloc((size_t)w->handles, sizeof(CURL *));
        if (!w->multi || !w->easy) {
            fprintf(stderr, "out of memory\n");
            return 2;
        }
        curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->handles);
        for (int i = 0; i < w->handles; i++) {
            w->easy[i] = curl_easy_init();
            if (!w->easy[i]) {
                fprintf(stderr, "curl_easy_init failed\n");
                return 2;
            }
        }
        w->headers = curl_slist_append(NULL, "Content-Type: application/json");
        w->headers = curl_slist_append(w->headers, "Expect:");
    }

    double t0 = now_clock(CLOCK_MONOTONIC);
    double c0 = now_clock(CLOCK_PROCESS_CPUTIME_ID);
    deadline = t0 + max_seconds;
    int started = 0;
    for (int t = 1; t < nthreads; t++) {
        if (pthread_create(&ws[t].thread, NULL, run_worker, &ws[t]) != 0) {
            perror("pthread_create");
            break;
        }
        started = t;
    }
    run_worker(&ws[0]);
    for (int t = 1; t <= started; t++) {
        pthread_join(ws[t].thread, NULL);
    }
    double secs = now_clock(CLOCK_MONOTONIC) - t0;
    double cpu = now_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;

    long ok = 0, failed = 0;
    for (int t = 0; t < nthreads; t++) {
        ok += ws[t].ok;
        failed += ws[t].failed;
    }
    printf("{\"requests\":%ld,\"ok\":%ld,\"failed\":%ld,\"seconds\":%.6f,\"requests_per_s\":%.1f,"
           "\"cpu_s\":%.6f,\"threads\":%d,\"parallel\":%d,\"body_bytes\":%zu,\"timed_out\":%d}\n",
           ok + failed, ok, failed, secs, secs > 0 ? (double)ok / secs : 0.0, cpu, nthreads,
           parallel, body_len, __atomic_load_n(&timed_out, __ATOMIC_RELAXED));
    fflush(stdout);

    for (int t = 0; t < nthreads; t++) {
        for (int i = 0; i < ws[t].handles; i++) {
            curl_multi_remove_handle(ws[t].multi, ws[t].easy[i]);
            curl_easy_cleanup(ws[t].easy[i]);
        }
        curl_multi_cleanup(ws[t].multi);
        curl_slist_free_all(ws[t].headers);
        free(ws[t].easy);
    }
    free(ws);
    free(body);
    curl_global_cleanup();
    return (failed || timed_out || ok < total_requests) ? 1 : 0;
}

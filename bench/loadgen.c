/* loadgen: a small epoll HTTP/1.1 load generator for POST /api/v2/alerts.
 *
 * Opens --conns keep-alive connections to 127.0.0.1:<port> and keeps one request in
 * flight on each. Every request carries --batch alerts of ~800 bytes (9 labels,
 * summary/description annotations, generatorURL, explicit startsAt/endsAt), built
 * from an alert index: "distinct" mode hands out fresh indices (every alert is new),
 * "repeat" mode cycles over --repeat-set indices (the same alerts re-posted).
 * --alertname-prefix P makes the alertname unique per alert ("P<index>" instead of
 * "BenchAlert<index % 50>"), e.g. one aggregation group per alert with group_by: [alertname]
 * (used by bench/pipeline.py); without it the alerts are unchanged.
 * Stops after --duration seconds, --max-requests requests or --max-alerts alerts,
 * whichever comes first, then prints one JSON line with counts, rate and latency
 * percentiles. Loopback only: the host is fixed to 127.0.0.1.
 *
 * Build (done by bench/run.py automatically):
 *     cc -O2 -Wall -o loadgen bench/loadgen.c
 * Example:
 *     ./loadgen --port 9093 --conns 8 --batch 10 --duration 5 --mode distinct
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    char *req;       /* whole request (headers + body) */
    size_t req_len;
    size_t req_off;  /* bytes written so far */
    char rbuf[16384];
    size_t rlen;
    double t_start;  /* monotonic seconds when the request was started */
    int alerts;      /* alerts in the in-flight request */
    int busy;
};

static int port = 9093;
static const char *prefix = "";
static int nconns = 8;
static int batch = 1;
static double duration = 5.0;
static long max_requests = 0;
static long max_alerts = 0;
static int repeat_mode = 0;
static long repeat_set = 1000;
static long start_index = 0;
static const char *starts_at = "2026-01-01T00:00:00.000Z";
static const char *ends_at = "2099-01-01T00:00:00.000Z";
static const char *run_id = "r0";
static const char *alertname_prefix = NULL; /* NULL: "BenchAlert<i % 50>" */

static long next_index;
static long sent_requests, sent_alerts, ok_requests, ok_alerts, non200, errors;
static double *lat;
static size_t lat_n, lat_cap;

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
    perror(msg);
    exit(2);
}

/* Appends one alert (index i) as JSON to buf at *len; returns new length. */
static size_t put_alert(char *buf, size_t len, size_t cap, long i)
{
    static const char *sev[] = {"warning", "critical", "info"};
    char name[192];
    if (alertname_prefix) {
        snprintf(name, sizeof(name), "%s%ld", alertname_prefix, i);
    } else {
        snprintf(name, sizeof(name), "BenchAlert%ld", i % 50);
    }
    int n = snprintf(
        buf + len, cap - len,
        "{\"labels\":{\"alertname\":\"%s\",\"cluster\":\"prod-eu-%ld\","
        "\"namespace\":\"namespace-%ld\",\"pod\":\"api-server-%ld-7f9c8d6b5-x2k4q\","
        "\"instance\":\"10.%ld.%ld.%ld:9100\",\"job\":\"node-exporter\",\"severity\":\"%s\","
        "\"team\":\"team-%ld\",\"run\":\"%s\"},"
        "\"annotations\":{\"summary\":\"Instance 10.%ld.%ld.%ld:9100 of job node-exporter is "
        "down\",\"description\":\"10.%ld.%ld.%ld:9100 of job node-exporter in namespace "
        "namespace-%ld has been down for more than 5 minutes. Check the node, the kubelet "
        "and the network policy of the namespace; see the runbook for the escalation path "
        "and contact the owning team-%ld if the outage lasts longer than 30 minutes.\","
        "\"runbook_url\":\"https://runbooks.example.com/node-exporter/InstanceDown\"},"
        "\"startsAt\":\"%s\",\"endsAt\":\"%s\","
        "\"generatorURL\":\"http://prometheus-0.prometheus.monitoring.svc:9090/graph?g0.expr="
        "up%%7Bjob%%3D%%22node-exporter%%22%%7D+%%3D%%3D+0&g0.tab=1\"}",
        name, i % 4, i % 97, i, (i >> 16) & 255, (i >> 8) & 255, i & 255, sev[i % 3],
        i % 13, run_id, (i >> 16) & 255, (i >> 8) & 255, i & 255, (i >> 16) & 255,
        (i >> 8) & 255, i & 255, i % 97, i % 13, starts_at, ends_at);
    if (n < 0 || (size_t)n >= cap - len) {
        fprintf(stderr, "request buffer too small\n");
        exit(2);
    }
    return len + (size_t)n;
}

static void build_request(struct conn *c)
{
    size_t cap = (size_t)batch * 1400 + 512;
    char *body = malloc(cap);
    size_t len = 0;
    if (!body) {
        die("malloc");
    }
    body[len++] = '[';
    for (int k = 0; k < batch; k++) {
        long i;
        if (repeat_mode) {
            i = start_index + (next_index++ % repeat_set);
        } else {
            i = start_index + next_index++;
        }
        if (k > 0) {
            body[len++] = ',';
        }
        len = put_alert(body, len, cap - 1, i);
    }
    body[len++] = ']';
    free(c->req);
    c->req = malloc(len + 256);
    if (!c->req) {
        die("malloc");
    }
    int h = snprintf(c->req, 256,
                     "POST %s/api/v2/alerts HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     prefix, port, len);
    memcpy(c->req + h, body, len);
    c->req_len = (size_t)h + len;
    c->req_off = 0;
    c->alerts = batch;
    free(body);
}

static int connect_one(int ep, struct conn *c)
{
    struct sockaddr_in sa;
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        die("socket");
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        die("epoll_ctl");
    }
    c->rlen = 0;
    return 0;
}

static int want_more(double t0)
{
    if (now_mono() - t0 >= duration) {
        return 0;
    }
    if (max_requests > 0 && sent_requests >= max_requests) {
        return 0;
    }
    if (max_alerts > 0 && sent_alerts + batch > max_alerts) {
        return 0;
    }
    return 1;
}

static void start_request(int ep, struct conn *c)
{
    build_request(c);
    c->busy = 1;
    c->t_start = now_mono();
    sent_requests++;
    sent_alerts += c->alerts;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void reconnect(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (connect_one(ep, c) < 0) {
        errors++;
    }
}

/* Returns 1 when a full response is in rbuf (status in *status, consumed bytes in *used). */
static int parse_response(struct conn *c, int *status, size_t *used)
{
    char *end;
    if (c->rlen < 12) {
        return 0;
    }
    c->rbuf[c->rlen < sizeof(c->rbuf) ? c->rlen : sizeof(c->rbuf) - 1] = '\0';
    end = strstr(c->rbuf, "\r\n\r\n");
    if (!end) {
        return 0;
    }
    *status = atoi(c->rbuf + 9);
    size_t clen = 0;
    for (char *p = c->rbuf; p < end; p++) {
        if ((*p == 'C' || *p == 'c') && strncasecmp(p, "Content-Length:", 15) == 0) {
            clen = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    size_t total = (size_t)(end + 4 - c->rbuf) + clen;
    if (c->rlen < total) {
        return 0;
    }
    *used = total;
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--port")) {
            port = atoi(v), i++;
        } else if (!strcmp(a, "--prefix")) {
            prefix = v, i++;
        } else if (!strcmp(a, "--conns")) {
            nconns = atoi(v), i++;
        } else if (!strcmp(a, "--batch")) {
            batch = atoi(v), i++;
        } else if (!strcmp(a, "--duration")) {
            duration = atof(v), i++;
        } else if (!strcmp(a, "--max-requests")) {
            max_requests = atol(v), i++;
        } else if (!strcmp(a, "--max-alerts")) {
            max_alerts = atol(v), i++;
        } else if (!strcmp(a, "--mode")) {
            repeat_mode = !strcmp(v, "repeat"), i++;
        } else if (!strcmp(a, "--repeat-set")) {
            repeat_set = atol(v), i++;
        } else if (!strcmp(a, "--start-index")) {
            start_index = atol(v), i++;
        } else if (!strcmp(a, "--starts-at")) {
            starts_at = v, i++;
        } else if (!strcmp(a, "--ends-at")) {
            ends_at = v, i++;
        } else if (!strcmp(a, "--run-id")) {
            run_id = v, i++;
        } else if (!strcmp(a, "--alertname-prefix")) {
            alertname_prefix = v, i++;
        } else if (!strcmp(a, "--print-alert")) {
            char buf[4096];
            size_t n = put_alert(buf, 0, sizeof(buf), 12345);
            printf("%.*s\n%zu bytes\n", (int)n, buf, n);
            return 0;
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (nconns < 1 || batch < 1 || repeat_set < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    lat_cap = 1 << 22;
    lat = malloc(lat_cap * sizeof(*lat));
    struct conn *conns = calloc((size_t)nconns, sizeof(*conns));
    if (!lat || !conns) {
        die("malloc");
    }
    int ep = epoll_create1(0);
    if (ep < 0) {
        die("epoll_create1");
    }
    double t0 = now_mono();
    int in_flight = 0;
    for (int i = 0; i < nconns; i++) {
        if (connect_one(ep, &conns[i]) < 0) {
            die("connect");
        }
        if (want_more(t0)) {
            start_request(ep, &conns[i]);
            in_flight++;
        }
    }
    struct epoll_event evs[256];
    while (in_flight > 0) {
        double left = duration - (now_mono() - t0) + 10.0; /* grace for in-flight replies */
        if (left <= 0) {
            break;
        }
        int n = epoll_wait(ep, evs, 256, 200);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            if (!c->busy) {
                continue;
            }
            if ((evs[k].events & EPOLLOUT) && c->req_off < c->req_len) {
                ssize_t w = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
                if (w < 0 && errno != EAGAIN) {
                    errors++;
                    reconnect(ep, c);
                    c->busy = 0;
                    in_flight--;
                    if (c->fd >= 0 && want_more(t0)) {
                        start_request(ep, c);
                        in_flight++;
                    }
                    continue;
                }
                if (w > 0) {
                    c->req_off += (size_t)w;
                }
                if (c->req_off == c->req_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 - c->rlen);
                int status = 0;
                size_t used = 0;
                if (r > 0) {
                    c->rlen += (size_t)r;
                }
                if (r > 0 && !parse_response(c, &status, &used)) {
                    if (c->rlen >= sizeof(c->rbuf) - 1) {
                        c->rlen = 0; /* oversized reply: drop it, count as error below */
                        errors++;
                    }
                    continue;
                }
                if (r < 0 && errno == EAGAIN) {
                    continue;
                }
                c->busy = 0;
                in_flight--;
                if (r <= 0) {
                    errors++;
                    reconnect(ep, c);
                } else {
                    double dt = now_mono() - c->t_start;
                    if (lat_n < lat_cap) {
                        lat[lat_n++] = dt;
                    }
                    if (status == 200) {
                        ok_requests++;
                        ok_alerts += c->alerts;
                    } else {
                        non200++;
                        if (non200 <= 3) {
                            fprintf(stderr, "status %d: %.*s\n", status, (int)c->rlen, c->rbuf);
                        }
                    }
                    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                    c->rlen -= used;
                }
                if (c->fd >= 0 && want_more(t0)) {
                    start_request(ep, c);
                    in_flight++;
                }
            }
        }
    }
    double secs = now_mono() - t0;
    qsort(lat, lat_n, sizeof(*lat), cmp_double);
    double p50 = lat_n ? lat[lat_n / 2] : 0, p99 = lat_n ? lat[(size_t)(lat_n * 0.99)] : 0;
    printf("{\"requests\":%ld,\"ok_requests\":%ld,\"ok_alerts\":%ld,\"non200\":%ld,"
           "\"errors\":%ld,\"seconds\":%.3f,\"alerts_per_s\":%.1f,\"requests_per_s\":%.1f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"next_index\":%ld}\n",
           sent_requests, ok_requests, ok_alerts, non200, errors, secs,
           secs > 0 ? ok_alerts / secs : 0, secs > 0 ? ok_requests / secs : 0, p50 * 1e3,
           p99 * 1e3, start_index + next_index);
    for (int i = 0; i < nconns; i++) {
        if (conns[i].fd >= 0) {
            close(conns[i].fd);
        }
        free(conns[i].req);
    }
    free(conns);
    free(lat);
    close(ep);
    return (errors || non200) ? 1 : 0;
}


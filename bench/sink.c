/* sink: a fast webhook receiver for the notification-pipeline benchmark.
 *
 * Build (done by bench/pipeline.py automatically, into $TMPDIR/ar-bench-<uid>/):
 *     cc -O2 -Wall -o sink bench/sink.c
 * Run:
 *     ./sink [--port 0] [--max-records 200000] [--max-seconds 3600]
 *            [--fail-percent P] [--fail-period S --fail-for F] [--seed N]
 * It listens on 127.0.0.1 only (port 0 picks a free port) and prints "port <n>" on stdout
 * once it accepts connections.
 *
 * One thread, plain sockets + epoll, HTTP/1.1 keep-alive (pipelined requests are answered
 * in order). Requests need a Content-Length body (or none); "Expect: 100-continue" gets an
 * interim 100, chunked bodies get 411 (counted in "bad").
 *   POST <any path but /reset>  a webhook notification: answered 200 with an empty body.
 *                               Records the arrival time (CLOCK_REALTIME ns, taken when the
 *                               whole body has been read), the "groupKey" and the first
 *                               alert's "alertname" (plain string search, JSON escapes kept
 *                               as sent) and the number of alerts ("fingerprint" keys).
 *   GET /stats                  {"count":N,"first_ns":..,"last_ns":..,"alerts":..,
 *                                "bytes":..,"bad":..,"dropped":..,"requests":..,
 *                                "connections":<accepted>,"max_open":<most open at once>}
 *   GET /arrivals[?from=K]      text, one line per notification from record K (default 0):
 *                               <arrival ns> TAB <alerts> TAB <alertname> TAB <groupKey>
 *                               with &status=1 a fifth column: the payload's top-level
 *                               "status" (firing, resolved; empty when absent)
 *   GET /wait?count=N&timeout_ms=T
 *                               long poll: answers /stats once count >= N or after T ms
 *                               (at most 600000), so a driver need not poll in a loop.
 *   POST /reset                 forgets all records.
 * Failures on purpose (a receiver that fails now and then, for bench/soak.py): with
 * --fail-percent P a notification is answered 500 with probability P% (pseudo-random,
 * --seed); with --fail-period S --fail-for F every notification in the last F seconds of
 * each S-second period (counted from the start) is answered 500. A failed notification is
 * not recorded (a retry that succeeds is); it is counted in "failed" of /stats.
 * Bounds: at most --max-records records are kept (later ones are counted in "dropped" but
 * still answered 200), the process exits after --max-seconds, and it exits when its parent
 * dies (PR_SET_PDEATHSIG). Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN  256
#define HEADER_MAX    (64 * 1024)
#define BODY_MAX      (256u * 1024 * 1024)
#define WAIT_MAX_MS   600000L

struct record {
    int64_t ns;
    int alerts;
    char *alertname;
    char *group_key;
    char status; /* 'f' firing, 'r' resolved, 0 neither (the payload's first "status") */
};

struct conn {
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    int sent_continue; /* 100 Continue already sent for the request at the head of in */
    int closing;       /* close once out is flushed */
    /* long poll */
    int waiting;
    long wait_count;
    int64_t wait_deadline_ms;
    struct conn *wprev, *wnext;
};

static struct record *recs;
static size_t nrecs, max_records = 200000;
static long long total_alerts, total_bytes, bad, dropped, requests, connections, max_open, open_now;
static long long failed;
static double fail_percent, fail_period, fail_for;
static int64_t start_ms;
static uint64_t rng_state = 1;
static int ep;
static struct conn *waiters;

static int64_t now_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *msg)
{
    perror(msg);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        die("realloc");
    }
    return q;
}

static void out_append(struct conn *c, const char *s, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n) {
            cap *= 2;
        }
        c->out = xrealloc(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        out_append(c, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t len)
{
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                       : status == 411 ? "Length Required"
                       : status == 500 ? "Internal Server Error" : "Bad Request";
    out_printf(c, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", status, reason, len);
    if (ctype) {
        out_printf(c, "Content-Type: %s\r\n", ctype);
    }
    out_append(c, "\r\n", 2);
    if (len) {
        out_append(c, body, len);
    }
}

/* Copies the JSON string value that follows key (e.g. "\"groupKey\":\"") up to the first
 * unescaped quote, escapes kept; "" when absent. Caps at NAME_MAX_LEN. */
static char *json_value_after(const char *body, size_t len, const char *from, const char *key)
{
    size_t klen = strlen(key);
    const char *start = from ? from : body;
    const char *p = memmem(start, len - (size_t)(start - body), key, klen);
    char out[NAME_MAX_LEN + 1];
    size_t n = 0;
    if (p) {
        const char *end = body + len;
        for (p += klen; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end) {
                if (n + 2 <= NAME_MAX_LEN) {
                    out[n++] = p[0];
                    out[n++] = p[1];
                }
                p++;
                continue;
            }
            if (n < NAME_MAX_LEN && *p != '\t' && *p != '\n') {
                out[n++] = *p;
            }
        }
    }
    out[n] = '\0';
    return strdup(out);
}

static void stats_body(char *buf, size_t cap)
{
    snprintf(buf, cap,
             "{\"count\":%zu,\"first_ns\":%lld,\"last_ns\":%lld,\"alerts\":%lld,"
             "\"bytes\":%lld,\"bad\":%lld,\"dropped\":%lld,\"requests\":%lld,"
             "\"connections\":%lld,\"max_open\":%lld,\"failed\":%lld}\n",
             nrecs, nrecs ? (long long)recs[0].ns : 0LL,
             nrecs ? (long long)recs[nrecs - 1].ns : 0LL, total_alerts, total_bytes, bad,
             dropped, requests, connections, max_open, failed);
}

static void want_write(struct conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void waiter_remove(struct conn *c)
{
    if (!c->waiting) {
        return;
    }
    if (c->wprev) {
        c->wprev->wnext = c->wnext;
    } else {
        waiters = c->wnext;
    }
    if (c->wnext) {
        c->wnext->wprev = c->wprev;
    }
    c->wprev = c->wnext = NULL;
    c->waiting = 0;
}

static void flush_out(struct conn *c);

static void wake_waiters(int64_t now_ms)
{
    char body[512];
    struct conn *c = waiters;
    while (c) {
        struct conn *next = c->wnext;
        if ((long)nrecs >= c->wait_count || now_ms >= c->wait_deadline_ms) {
            waiter_remove(c);
            stats_body(body, sizeof(body));
            respond(c, 200, "application/json", body, strlen(body));
            flush_out(c);
        }
        c = next;
    }
}

static long query_long(const char *q, const char *name, long dflt)
{
    size_t n = strlen(name);
    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            return atol(p + n + 1);
        }
    }
    return dflt;
}

static void handle_get(struct conn *c, const char *path)
{
    char body[512];
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (q) {
        q++;
    }
    if (plen == 6 && !strncmp(path, "/stats", 6)) {
        stats_body(body, sizeof(body));
        respond(c, 200, "application/json", body, strlen(body));
    } else if (plen == 9 && !strncmp(path, "/arrivals", 9)) {
        long from = query_long(q, "from", 0);
        int with_status = query_long(q, "status", 0) != 0;
        size_t len = 0, cap = 4096;
        char *text = malloc(cap);
        if (!text) {
            die("malloc");
        }
        for (size_t i = from > 0 ? (size_t)from : 0; i < nrecs; i++) {
            size_t need = strlen(recs[i].alertname) + strlen(recs[i].group_key) + 64;
            if (len + need > cap) {
                while (len + need > cap) {
                    cap *= 2;
                }
                text = xrealloc(text, cap);
            }
            const char *st = recs[i].status == 'f' ? "firing"
                             : recs[i].status == 'r' ? "resolved" : "";
            len += (size_t)snprintf(text + len, cap - len, "%lld\t%d\t%s\t%s%s%s\n",
                                    (long long)recs[i].ns, recs[i].alerts, recs[i].alertname,
                                    recs[i].group_key, with_status ? "\t" : "",
                                    with_status ? st : "");
        }
        respond(c, 200, "text/plain; charset=utf-8", text, len);
        free(text);
    } else if (plen == 5 && !strncmp(path, "/wait", 5)) {
        long n = query_long(q, "count", 1);
        long t = query_long(q, "timeout_ms", 10000);
        if (t < 0 || t > WAIT_MAX_MS) {
            t = WAIT_MAX_MS;
        }
        if ((long)nrecs >= n || t == 0) {
            stats_body(body, sizeof(body));
            respond(c, 200, "application/json", body, strlen(body));
        } else {
            c->waiting = 1;
            c->wait_count = n;
            c->wait_deadline_ms = now_mono_ms() + t;
            c->wprev = NULL;
            c->wnext = waiters;
            if (waiters) {
                waiters->wprev = c;
            }
            waiters = c;
        }
    } else {
        respond(c, 404, "text/plain", "not found\n", 10);
    }
}

/* xorshift64*: a uniform number in [0, 100) */
static double rand_percent(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 100.0;
}

/* Whether this notification is to be answered 500 (--fail-percent, --fail-period). */
static int should_fail(void)
{
    if (fail_period > 0 && fail_for > 0) {
        double t = (double)(now_mono_ms() - start_ms) / 1000.0;
        if (t - fail_period * (double)(int64_t)(t / fail_period) >= fail_period - fail_for) {
            return 1;
        }
    }
    return fail_percent > 0 && rand_percent() < fail_percent;
}

static void handle_post(struct conn *c, const char *path, const char *body, size_t len,
                        int64_t arrived)
{
    if (!strcmp(path, "/reset")) {
        for (size_t i = 0; i < nrecs; i++) {
            free(recs[i].alertname);
            free(recs[i].group_key);
        }
        nrecs = 0;
        total_alerts = total_bytes = bad = dropped = requests = connections = failed = 0;
        max_open = open_now;
        respond(c, 200, NULL, NULL, 0);
        return;
    }
    requests++;
    total_bytes += (long long)len;
    if (should_fail()) {
        failed++;
        respond(c, 500, "text/plain", "failing on purpose\n", 19);
        return;
    }
    if (nrecs >= max_records) {
        dropped++;
        respond(c, 200, NULL, NULL, 0);
        return;
    }
    struct record *r = &recs[nrecs];
    int alerts = 0;
    const char *p = body, *end = body + len;
    while ((p = memmem(p, (size_t)(end - p), "\"fingerprint\":", 14)) != NULL) {
        alerts++;
        p += 14;
    }
    const char *alerts_at = memmem(body, len, "\"alerts\":[", 10);
    r->ns = arrived;
    r->alerts = alerts;
    r->group_key = json_value_after(body, len, NULL, "\"groupKey\":\"");
    r->alertname = json_value_after(body, len, alerts_at, "\"alertname\":\"");
    {
        /* the top-level status comes before "alerts" in both servers' payloads */
        const char *st = memmem(body, len, "\"status\":\"", 10);
        r->status = 0;
        if (st && (size_t)(end - st) > 11) {
            r->status = st[10] == 'f' ? 'f' : st[10] == 'r' ? 'r' : 0;
        }
    }
    total_alerts += alerts;
    nrecs++;
    respond(c, 200, NULL, NULL, 0);
}

static void close_conn(struct conn *c)
{
    waiter_remove(c);
    open_now--;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void flush_out(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                want_write(c);
                return;
            }
            c->closing = 1;
            c->out_off = c->out_len;
            break;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Handles every complete request at the head of c->in. Returns 0, or -1 to close. */
static int process(struct conn *c)
{
    while (!c->waiting && c->in_len > 0) {
        char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!hend) {
            if (c->in_len > HEADER_MAX) {
                return -1;
            }
            return 0;
        }
        size_t hlen = (size_t)(hend + 4 - c->in);
        size_t clen = 0;
        int chunked = 0, expect = 0, conn_close = 0;
        for (char *line = strstr(c->in, "\r\n"); line && line < hend; line = strstr(line + 2, "\r\n")) {
            char *h = line + 2;
            if (!strncasecmp(h, "Content-Length:", 15)) {
                clen = strtoul(h + 15, NULL, 10);
            } else if (!strncasecmp(h, "Transfer-Encoding:", 18)) {
                chunked = 1;
            } else if (!strncasecmp(h, "Expect:", 7)) {
                const char *v = h + 7;
                while (*v == ' ') {
                    v++;
                }
                expect = !strncasecmp(v, "100-continue", 12);
            } else if (!strncasecmp(h, "Connection:", 11)) {
                const char *v = h + 11;
                while (*v == ' ') {
                    v++;
                }
                conn_close = !strncasecmp(v, "close", 5);
            }
        }
        char method[16] = "", path[1024] = "";
        if (sscanf(c->in, "%15s %1023s", method, path) != 2) {
            bad++;
            respond(c, 400, NULL, NULL, 0);
            c->closing = 1;
            return 0;
        }
        if (chunked) {
            bad++;
            respond(c, 411, NULL, NULL, 0);
            c->closing = 1;
            return 0;
        }
        if (clen > BODY_MAX) {
            bad++;
            respond(c, 400, NULL, NULL, 0);
            c->closing = 1;
            return 0;
        }
        if (c->in_len < hlen + clen) {
            if (expect && !c->sent_continue) {
                out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->sent_continue = 1;
            }
            return 0;
        }
        int64_t arrived = now_real_ns();
        if (!strcmp(method, "POST")) {
            handle_post(c, path, c->in + hlen, clen, arrived);
        } else if (!strcmp(method, "GET")) {
            handle_get(c, path);
        } else {
            bad++;
            respond(c, 400, NULL, NULL, 0);
        }
        c->sent_continue = 0;
        memmove(c->in, c->in + hlen + clen, c->in_len - hlen - clen);
        c->in_len -= hlen + clen;
        c->in[c->in_len] = '\0';
        if (conn_close) {
            c->closing = 1;
            return 0;
        }
    }
    return 0;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 65536 + 1) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
        if (r > 0) {
            c->in_len += (size_t)r;
            c->in[c->in_len] = '\0';
            if ((size_t)r < c->in_cap - c->in_len - 1) {
                break; /* drained for now */
            }
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            break;
        }
        close_conn(c); /* EOF or error */
        return;
    }
    size_t before = nrecs;
    if (process(c) < 0) {
        close_conn(c);
        return;
    }
    if (nrecs != before && waiters) {
        wake_waiters(now_mono_ms());
    }
    flush_out(c);
    if (c->closing && c->out_len == 0) {
        close_conn(c);
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    double max_seconds = 3600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--port")) {
            port = atoi(v), i++;
        } else if (!strcmp(a, "--max-records")) {
            max_records = strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--max-seconds")) {
            max_seconds = atof(v), i++;
        } else if (!strcmp(a, "--fail-percent")) {
            fail_percent = atof(v), i++;
        } else if (!strcmp(a, "--fail-period")) {
            fail_period = atof(v), i++;
        } else if (!strcmp(a, "--fail-for")) {
            fail_for = atof(v), i++;
        } else if (!strcmp(a, "--seed")) {
            rng_state = strtoull(v, NULL, 10) | 1, i++;
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (max_records < 1 || max_seconds <= 0 || fail_percent < 0 || fail_percent > 100 ||
        fail_period < 0 || fail_for < 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    recs = calloc(max_records, sizeof(*recs));
    if (!recs) {
        die("calloc");
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    if (lfd < 0) {
        die("socket");
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die("bind");
    }
    if (listen(lfd, 65535) < 0) { /* the kernel caps it at net.core.somaxconn */
        die("listen");
    }
    socklen_t sl = sizeof(sa);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    ep = epoll_create1(0);
    if (ep < 0) {
        die("epoll_create1");
    }
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    start_ms = now_mono_ms();
    int64_t t_end = start_ms + (int64_t)(max_seconds * 1000);
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = now_mono_ms();
        if (now >= t_end) {
            break;
        }
        int timeout = (int)(t_end - now < 1000 ? t_end - now : 1000);
        if (waiters) {
            timeout = timeout < 20 ? timeout : 20;
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) {
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *nc = calloc(1, sizeof(*nc));
                    if (!nc) {
                        die("calloc");
                    }
                    nc->fd = fd;
                    connections++;
                    if (++open_now > max_open) {
                        max_open = open_now;
                    }
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (evs[k].events & EPOLLOUT) {
                flush_out(c);
                if (c->closing && c->out_len == 0) {
                    close_conn(c);
                    continue;
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                on_readable(c);
            }
        }
        if (waiters) {
            /* a woken waiter may have pipelined requests behind it; they are handled when
             * the next bytes arrive (the drivers here send one request at a time) */
            wake_waiters(now_mono_ms());
        }
    }
    return 0;
}

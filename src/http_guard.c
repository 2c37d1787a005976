/* Connection deadlines an attacker cannot stretch (http_guard.h).
 *
 * libmicrohttpd's own timeout is an idle timeout that every received byte resets, so a
 * client sending one header byte every few seconds (slowloris) keeps its connection for as
 * long as it likes, and enough of them hold every connection slot. The guard keeps each
 * connection's phase and when it began, and a sweeper thread closes (shutdown(2); the HTTP
 * layer then sees the end of the stream and frees the connection) those over a total
 * deadline: idle without a request, receiving headers, or receiving a body slower than a
 * minimum rate. A request being handled, waiting for its commit or being answered has no
 * deadline here. When more than soft_max connections are open, a new one evicts the one
 * that has been sending its headers longest (else the one idle longest), so a new client
 * (Prometheus) always gets in and one between its requests is the last to be closed.
 * The same holds within one client address beyond per_address_max, so one host (an
 * attacker, or a runaway script) cannot take more than its share of the table; when all of
 * that address's connections are busy, its newcomer is the one closed. Among idle ones a
 * connection that never completed a request goes before one that did (a proven client).
 *
 * Locking: one mutex over the list, taken for a few instructions per phase change and by
 * the sweeper every 250 ms. A record is removed (under the mutex) before libmicrohttpd
 * closes its socket, so a shutdown never reaches a reused descriptor. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "http_guard.h"

#include "ar/clock.h"
#include "ar/log.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SWEEP_NS   (250LL * AR_NS_PER_MS)
#define BODY_GRACE (5LL * AR_NS_PER_SEC) /* a body is judged by its rate after 5 s */

enum phase { PH_IDLE, PH_HEADERS, PH_BODY, PH_BUSY };

struct guard_conn {
    struct guard_conn *prev;
    struct guard_conn *next;
    int fd;
    enum phase phase;
    int64_t since; /* monotonic, start of the phase */
    uint64_t body_bytes;
    bool closing; /* shut down by the guard, not yet closed */
    bool served;  /* completed a request */
    bool has_addr;
    uint8_t addr[17]; /* family tag + IPv4 (mapped addresses too) or IPv6 bytes */
};

struct http_guard {
    struct http_guard_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct guard_conn head; /* circular list, oldest first */
    size_t open;
    bool stop;
    pthread_t sweeper;
    uint64_t own_closed[GUARD_REASONS];
    uint64_t *closed; /* o.closed or own_closed */
};

static const char *const reason_text[GUARD_REASONS] = {
    "idle too long", "headers too slow", "body too slow", "evicted for a new connection",
    "over the per-address connection limit"};

/* Under mu. */
static void cut(struct http_guard *g, struct guard_conn *c, enum http_guard_reason why)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    __atomic_add_fetch(&g->closed[why], 1, __ATOMIC_RELAXED);
    shutdown(c->fd, SHUT_RDWR);
    log_debug("http", "closing a connection: %s", reason_text[why]);
}

static void sweep(struct http_guard *g, int64_t now)
{
    for (struct guard_conn *c = g->head.next; c != &g->head; c = c->next) {
        int64_t age = now - c->since;
        if (c->closing) {
            continue;
        }
        if (c->phase == PH_IDLE && age > g->o.idle_ns) {
            cut(g, c, GUARD_IDLE);
        } else if (c->phase == PH_HEADERS && age > g->o.header_ns) {
            cut(g, c, GUARD_HEADERS);
        } else if (c->phase == PH_BODY && age > BODY_GRACE && g->o.min_body_rate > 0 &&
                   (double)__atomic_load_n(&c->body_bytes, __ATOMIC_RELAXED) * AR_NS_PER_SEC /
                           (double)age <
                       (double)g->o.min_body_rate) {
            cut(g, c, GUARD_BODY);
        }
    }
}

static void *sweeper_main(void *arg)
{
    struct http_guard *g = arg;

    pthread_setname_np(pthread_self(), "ar-http-guard");
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SWEEP_NS;
        if (ts.tv_nsec >= AR_NS_PER_SEC) {
            ts.tv_sec++;
            ts.tv_nsec -= AR_NS_PER_SEC;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        sweep(g, clock_monotonic_ns());
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct http_guard *http_guard_new(const struct http_guard_opts *o)
{
    struct http_guard *g = ar_calloc(1, sizeof(*g));

    g->o = *o;
    g->closed = o->closed != NULL ? o->closed : g->own_closed;
    g->head.next = g->head.prev = &g->head;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->sweeper, NULL, sweeper_main, g) != 0) {
        log_error("http", "cannot start the connection guard thread");
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
        return NULL;
    }
    return g;
}

void http_guard_free(struct http_guard *g)
{
    if (g == NULL) {
        return;
    }
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->sweeper, NULL);
    while (g->head.next != &g->head) {
        struct guard_conn *c = g->head.next;
        g->head.next = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

/* Under mu: moves c to the list's end with a new phase (the list stays oldest first). */
static void enter(struct http_guard *g, struct guard_conn *c, enum phase p)
{
    c->phase = p;
    c->since = clock_monotonic_ns();
    c->prev->next = c->next;
    c->next->prev = c->prev;
    c->prev = g->head.prev;
    c->next = &g->head;
    g->head.prev->next = c;
    g->head.prev = c;
}

/* The address as a comparable key: IPv4 and IPv4-mapped IPv6 give the same one. */
static bool addr_key(const struct sockaddr *sa, uint8_t key[17])
{
    memset(key, 0, 17);
    if (sa == NULL) {
        return false;
    }
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 16);
        }
        return true;
    }
    return false;
}

/* Under mu: the connection to close for a newcomer, among those of one address (addr) or
 * all (NULL): the one sending its headers longest, else the longest idle that never
 * completed a request, else the longest idle. NULL when all are busy. The list is oldest
 * first, so the first match of each kind is the oldest. */
static struct guard_conn *victim_for(struct http_guard *g, const uint8_t *addr, size_t *count)
{
    struct guard_conn *headers = NULL;
    struct guard_conn *fresh = NULL;
    struct guard_conn *idle = NULL;

    *count = 0;
    for (struct guard_conn *v = g->head.next; v != &g->head; v = v->next) {
        if (v->closing || (addr != NULL && (!v->has_addr || memcmp(v->addr, addr, 17) != 0))) {
            continue;
        }
        ++*count;
        if (v->phase == PH_HEADERS && headers == NULL) {
            headers = v;
        } else if (v->phase == PH_IDLE && !v->served && fresh == NULL) {
            fresh = v;
        } else if (v->phase == PH_IDLE && idle == NULL) {
            idle = v;
        }
    }
    return headers != NULL ? headers : fresh != NULL ? fresh : idle;
}

struct guard_conn *http_guard_open(struct http_guard *g, int fd, const struct sockaddr *addr)
{
    struct guard_conn *c = ar_calloc(1, sizeof(*c));
    bool refuse = false;

    c->fd = fd;
    c->next = c->prev = c;
    c->has_addr = addr_key(addr, c->addr);
    pthread_mutex_lock(&g->mu);
    g->open++;
    if (c->has_addr && g->o.per_address_max > 0) {
        size_t same = 0;
        struct guard_conn *victim = victim_for(g, c->addr, &same);
        if (same >= g->o.per_address_max) {
            if (victim != NULL) {
                cut(g, victim, GUARD_PER_ADDRESS);
            } else {
                refuse = true; /* all of this address's connections are busy */
            }
        }
    }
    if (!refuse && g->open > g->o.soft_max) {
        /* room for the newcomer (a client between requests is the last to go) */
        size_t all = 0;
        struct guard_conn *victim = victim_for(g, NULL, &all);
        if (victim != NULL) {
            cut(g, victim, GUARD_EVICTED);
        }
    }
    enter(g, c, PH_IDLE);
    if (refuse) {
        cut(g, c, GUARD_PER_ADDRESS);
    }
    pthread_mutex_unlock(&g->mu);
    return c;
}

void http_guard_close(struct http_guard *g, struct guard_conn *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&g->mu);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    g->open--;
    pthread_mutex_unlock(&g->mu);
    free(c);
}

static void set_phase(struct http_guard *g, struct guard_conn *c, enum phase p)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&g->mu);
    enter(g, c, p);
    if (p == PH_BODY) {
        __atomic_store_n(&c->body_bytes, 0, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&g->mu);
}

void http_guard_request_line(struct http_guard *g, struct guard_conn *c)
{
    set_phase(g, c, PH_HEADERS);
}

void http_guard_headers_done(struct http_guard *g, struct guard_conn *c)
{
    set_phase(g, c, PH_BODY);
}

void http_guard_body(struct http_guard *g, struct guard_conn *c, size_t n)
{
    if (c != NULL) {
        __atomic_add_fetch(&c->body_bytes, (uint64_t)n, __ATOMIC_RELAXED);
    }
}

void http_guard_busy(struct http_guard *g, struct guard_conn *c)
{
    set_phase(g, c, PH_BUSY);
}

void http_guard_idle(struct http_guard *g, struct guard_conn *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&g->mu);
    c->served = true;
    enter(g, c, PH_IDLE);
    pthread_mutex_unlock(&g->mu);
}

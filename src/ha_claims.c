/* The claimer thread (ar/ha_claims.h): a queue of claim requests from the core, batched
 * into one INSERT ... ON CONFLICT per round of distinct keys and repeat interval, on its own
 * PostgreSQL connection (statement_timeout 2 s, reconnect with backoff 1 s doubling to
 * 10 s); the outcomes of sends (done, released, or kept when a stop canceled them), the renewal of
 * open leases every lease/3, and the unclaimed sends of an outage, recorded as done claims once
 * PostgreSQL answers again. Every round trip's outcome goes to pg_health. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ar/ha_claims.h"

#include "store_pg_conn.h"

#include "ar/buf.h"
#include "ar/clock.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/pg_health.h"
#include "ar/store_pg_claims.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX      1000 /* keys per statement */
#define BACKOFF_MIN_NS (1LL * AR_NS_PER_SEC)
#define BACKOFF_MAX_NS (10LL * AR_NS_PER_SEC)
#define UNCLAIMED_MAX  10000

struct fin {
    struct fin *next;
    struct store_pg_claim_key k; /* strings owned */
    bool delivered;
    bool canceled; /* kept: neither done nor released */
    bool unclaimed;
    int64_t sent_ms;
};

struct ha_claims {
    char *conninfo;
    char *password;
    char *owner;
    int64_t lease_ms;
    size_t max_unclaimed;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ha_claim_req *head, *tail; /* claim queue */
    struct fin *fins;                 /* outcomes to record */
    bool stop;
    bool started;
    pthread_t thread;
    struct ha_claims_stats stats;

    /* claimer thread only */
    struct store_pg *pg;
    int64_t backoff_ns;
    int64_t next_connect_mono;
    int64_t opened_mono;     /* when hc->pg was opened */
    int64_t reconciled_mono; /* last reconciliation */
    int64_t next_probe_mono; /* while pg_health says down */
    int64_t open;            /* claims won and not yet finished */
    int64_t next_renew_mono;
    /* PostgreSQL's clock at the first connection: claims made before (a previous run's,
     * never resumed) are not renewed, so others take them over once their lease ran out */
    int64_t run_started_ms;
    struct fin *unclaimed; /* delivered without a claim, newest first */
    size_t nunclaimed;
    uint64_t unclaimed_dropped;
};

const char *ha_claim_result_name(enum ha_claim_result r)
{
    switch (r) {
    case HA_CLAIM_WON:
        return "won";
    case HA_CLAIM_TAKEOVER:
        return "takeover";
    case HA_CLAIM_UNCLAIMED:
        return "unclaimed";
    case HA_CLAIM_LOST:
    case HA_CLAIM_LOST_DONE:
        break;
    }
    return "lost";
}

bool ha_claim_sends(enum ha_claim_result r)
{
    return r == HA_CLAIM_WON || r == HA_CLAIM_TAKEOVER || r == HA_CLAIM_UNCLAIMED;
}

static void put_fps(struct buf *b, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char fp[17];
        fingerprint_format(v[i], fp);
        if (i > 0) {
            buf_putc(b, ' ');
        }
        buf_puts(b, fp);
    }
}

void ha_claims_state_hash(const uint64_t *firing, size_t nfiring, const uint64_t *resolved,
                          size_t nresolved, uint8_t out[HA_CLAIM_HASH_LEN])
{
    struct buf f;
    struct buf r;

    buf_init(&f, 0);
    buf_init(&r, 0);
    put_fps(&f, firing, nfiring);
    put_fps(&r, resolved, nresolved);
    store_pg_state_hash(buf_str(&f), buf_str(&r), out);
    buf_cleanup(&f);
    buf_cleanup(&r);
}

static int cmp_key(const struct ha_claim_req *a, const struct ha_claim_req *b)
{
    int c = strcmp(a->receiver, b->receiver);

    if (c == 0) {
        c = strcmp(a->integration, b->integration);
    }
    if (c == 0) {
        c = strcmp(a->group_key, b->group_key);
    }
    if (c == 0) {
        c = memcmp(a->state_hash, b->state_hash, HA_CLAIM_HASH_LEN);
    }
    return c;
}

static int cmp_req(const void *pa, const void *pb)
{
    const struct ha_claim_req *a = *(struct ha_claim_req *const *)pa;
    const struct ha_claim_req *b = *(struct ha_claim_req *const *)pb;

    if (a->repeat_ms != b->repeat_ms) {
        return a->repeat_ms < b->repeat_ms ? -1 : 1;
    }
    return cmp_key(a, b);
}

struct ranked {
    struct ha_claim_req *req;
    size_t at; /* index in the caller's array */
};

static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa;
    const struct ranked *b = pb;
    int c = cmp_req(&a->req, &b->req);

    return c != 0 ? c : (a->at > b->at) - (a->at < b->at);
}

size_t ha_claims_plan_rounds(struct ha_claim_req *const *v, size_t n, size_t *round)
{
    struct ranked *s = ar_malloc((n ? n : 1) * sizeof(*s));
    size_t rounds = 0;
    size_t base = 0; /* first round of the current repeat interval */
    size_t dup = 0;  /* earlier copies of the current key */

    /* sorted by repeat interval, then key: a new repeat interval starts new rounds after
     * every round so far; the k-th copy of one key goes to the interval's k-th round */
    for (size_t i = 0; i < n; i++) {
        s[i].req = v[i];
        s[i].at = i;
    }
    qsort(s, n, sizeof(*s), cmp_ranked);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || s[i].req->repeat_ms != s[i - 1].req->repeat_ms) {
            base = rounds;
            dup = 0;
        } else if (cmp_key(s[i].req, s[i - 1].req) == 0) {
            dup++;
        } else {
            dup = 0;
        }
        round[s[i].at] = base + dup;
        if (base + dup + 1 > rounds) {
            rounds = base + dup + 1;
        }
    }
    free(s);
    return rounds;
}

struct ha_claims *ha_claims_new(const struct ha_claims_options *opt)
{
    struct ha_claims *hc = ar_calloc(1, sizeof(*hc));

    hc->conninfo = ar_strdup(opt->conninfo);
    hc->password = opt->password ? ar_strdup(opt->password) : NULL;
    hc->owner = ar_strdup(opt->owner);
    hc->lease_ms = opt->lease_ms > 0 ? opt->lease_ms : 30000;
    hc->max_unclaimed = opt->max_unclaimed ? opt->max_unclaimed : UNCLAIMED_MAX;
    pthread_mutex_init(&hc->mu, NULL);
    pthread_cond_init(&hc->cv, NULL);
    return hc;
}

static void fin_free(struct fin *f)
{
    free((char *)f->k.receiver);
    free((char *)f->k.integration);
    free((char *)f->k.group_key);
    free(f);
}

static void fins_free(struct fin *f)
{
    while (f != NULL) {
        struct fin *next = f->next;
        fin_free(f);
        f = next;
    }
}

/* ---- the connection ---- */

static void disconnect(struct ha_claims *hc, const char *why)
{
    pg_health_fail("claims", why);
    store_pg_close(hc->pg);
    hc->pg = NULL;
    hc->backoff_ns = hc->backoff_ns ? hc->backoff_ns * 2 : BACKOFF_MIN_NS;
    if (hc->backoff_ns > BACKOFF_MAX_NS) {
        hc->backoff_ns = BACKOFF_MAX_NS;
    }
    hc->next_connect_mono = clock_monotonic_ns() + hc->backoff_ns;
}

static void fail(struct ha_claims *hc)
{
    char msg[256];

    if (hc->opened_mono < pg_health_recovered_mono()) {
        /* opened before the last outage and found broken only now: not a new outage;
         * reconnect at the next use (a real one is reported by that attempt) */
        log_debug("cluster", "claims: connection from before the last outage dropped: %s",
                  store_pg_message(store_pg_conn(hc->pg), msg, sizeof(msg)));
        store_pg_close(hc->pg);
        hc->pg = NULL;
        hc->next_connect_mono = 0;
        return;
    }
    disconnect(hc, store_pg_message(store_pg_conn(hc->pg), msg, sizeof(msg)));
}

/* A connection, or false without trying while the backoff runs. */
static bool connected(struct ha_claims *hc)
{
    struct ar_error err;

    if (hc->pg != NULL) {
        return true;
    }
    if (clock_monotonic_ns() < hc->next_connect_mono) {
        return false;
    }
    hc->opened_mono = clock_monotonic_ns();
    if (store_pg_open(hc->conninfo, hc->password, &hc->pg, &err) != AR_OK) {
        hc->pg = NULL;
        disconnect(hc, err.msg);
        return false;
    }
    if (store_pg_command(hc->pg, "SET statement_timeout = 2000") != AR_OK ||
        (hc->run_started_ms == 0 && store_pg_claims_now_ms(hc->pg, &hc->run_started_ms) != AR_OK)) {
        fail(hc);
        return false;
    }
    hc->backoff_ns = 0;
    pg_health_ok("claims", hc->opened_mono);
    return true;
}

/* ---- work ---- */

static void count(struct ha_claims *hc, enum ha_claim_result r)
{
    pthread_mutex_lock(&hc->mu);
    hc->stats.results[r]++;
    pthread_mutex_unlock(&hc->mu);
}

static void decide(struct ha_claims *hc, struct ha_claim_req *req, enum ha_claim_result r)
{
    req->result = r;
    if (r == HA_CLAIM_WON || r == HA_CLAIM_TAKEOVER) {
        if (hc->open++ == 0) {
            /* the claim itself set a full lease: the first renewal is due in lease/3 */
            hc->next_renew_mono = clock_monotonic_ns() + hc->lease_ms / 3 * AR_NS_PER_MS;
        }
    }
    count(hc, r);
    req->decided(req);
}

static void key_of(const struct ha_claim_req *req, struct store_pg_claim_key *k)
{
    k->receiver = req->receiver;
    k->integration = req->integration;
    k->group_key = req->group_key;
    memcpy(k->state_hash, req->state_hash, HA_CLAIM_HASH_LEN);
}

/* Claims v[0..n) (one repeat interval, distinct keys, sorted) in statements of BATCH_MAX. */
static void claim_round(struct ha_claims *hc, struct ha_claim_req **v, size_t n)
{
    struct store_pg_claim_key *keys = ar_malloc((n ? n : 1) * sizeof(*keys));
    enum store_pg_claim_outcome *out = ar_malloc((n ? n : 1) * sizeof(*out));

    for (size_t i = 0; i < n; i++) {
        key_of(v[i], &keys[i]);
    }
    for (size_t at = 0; at < n; at += BATCH_MAX) {
        size_t m = n - at < BATCH_MAX ? n - at : BATCH_MAX;
        int64_t now = clock_monotonic_ns();
        bool skip = !connected(hc);
        if (!skip && !pg_health_up()) {
            /* another thread saw the outage: probe once a second, answer the rest at once */
            skip = now < hc->next_probe_mono;
            hc->next_probe_mono = skip ? hc->next_probe_mono : now + BACKOFF_MIN_NS;
        }
        if (skip) {
            /* known down: no wait per flush */
            for (size_t i = at; i < at + m; i++) {
                decide(hc, v[i], HA_CLAIM_UNCLAIMED);
            }
            continue;
        }
        pthread_mutex_lock(&hc->mu);
        hc->stats.round_trips++;
        pthread_mutex_unlock(&hc->mu);
        int64_t started = clock_monotonic_ns();
        if (store_pg_claim_batch(hc->pg, keys + at, m, hc->owner, hc->lease_ms, v[at]->repeat_ms,
                                 out + at) != AR_OK) {
            fail(hc);
            for (size_t i = at; i < at + m; i++) {
                decide(hc, v[i], HA_CLAIM_UNCLAIMED);
            }
            continue;
        }
        pg_health_ok("claims", started);
        for (size_t i = at; i < at + m; i++) {
            static const enum ha_claim_result map[] = {
                [STORE_PG_CLAIM_LOST] = HA_CLAIM_LOST,
                [STORE_PG_CLAIM_LOST_DONE] = HA_CLAIM_LOST_DONE,
                [STORE_PG_CLAIM_WON] = HA_CLAIM_WON,
                [STORE_PG_CLAIM_TAKEOVER] = HA_CLAIM_TAKEOVER,
            };
            decide(hc, v[i], map[out[i]]);
        }
    }
    free(keys);
    free(out);
}

static void claim_all(struct ha_claims *hc, struct ha_claim_req *list)
{
    size_t n = 0;
    struct ha_claim_req **v;
    size_t *round;
    size_t rounds;

    for (struct ha_claim_req *r = list; r != NULL; r = r->next) {
        n++;
    }
    if (n == 0) {
        return;
    }
    v = ar_malloc(n * sizeof(*v));
    round = ar_malloc(n * sizeof(*round));
    n = 0;
    for (struct ha_claim_req *r = list; r != NULL; r = r->next) {
        v[n++] = r;
    }
    rounds = ha_claims_plan_rounds(v, n, round);
    {
        struct ha_claim_req **rv = ar_malloc(n * sizeof(*rv));
        for (size_t k = 0; k < rounds; k++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (round[i] == k) {
                    rv[m++] = v[i];
                }
            }
            /* one order on every instance: concurrent batches lock rows alike */
            qsort(rv, m, sizeof(*rv), cmp_req);
            claim_round(hc, rv, m);
        }
        free(rv);
    }
    free(v);
    free(round);
}

static void remember_unclaimed(struct ha_claims *hc, struct fin *f)
{
    f->next = hc->unclaimed;
    hc->unclaimed = f;
    if (++hc->nunclaimed > hc->max_unclaimed) {
        /* drop the oldest: at worst one more duplicate later */
        struct fin **pp = &hc->unclaimed;
        while ((*pp)->next != NULL) {
            pp = &(*pp)->next;
        }
        fin_free(*pp);
        *pp = NULL;
        hc->nunclaimed--;
        hc->unclaimed_dropped++;
    }
}

/* Outcomes: done (delivered) or released (failed) in one statement each; a canceled send's
 * claim is kept for its resumed delivery. */
static void finish_all(struct ha_claims *hc, struct fin *list)
{
    for (int pass = 0; pass < 2; pass++) {
        bool done = pass == 0;
        size_t n = 0;
        struct store_pg_claim_key *keys;
        for (struct fin *f = list; f != NULL; f = f->next) {
            n += !f->unclaimed && !f->canceled && f->delivered == done;
        }
        if (n == 0) {
            continue;
        }
        keys = ar_malloc(n * sizeof(*keys));
        n = 0;
        for (struct fin *f = list; f != NULL; f = f->next) {
            if (!f->unclaimed && !f->canceled && f->delivered == done) {
                keys[n++] = f->k;
            }
        }
        if (connected(hc)) {
            int64_t started = clock_monotonic_ns();
            if (store_pg_claims_finish_batch(hc->pg, keys, n, hc->owner, done) != AR_OK) {
                fail(hc); /* the lease will run out: another instance may resend */
            } else {
                pg_health_ok("claims", started);
            }
        }
        free(keys);
    }
    while (list != NULL) {
        struct fin *next = list->next;
        if (!list->unclaimed) {
            hc->open--;
            fin_free(list);
        } else if (list->delivered) {
            remember_unclaimed(hc, list);
        } else {
            fin_free(list);
        }
        list = next;
    }
}

static void reconcile(struct ha_claims *hc)
{
    struct store_pg_claim_key *keys;
    int64_t *sent;
    size_t n = 0;
    int64_t inserted = 0;

    if (hc->unclaimed == NULL || hc->pg == NULL || !pg_health_up()) {
        return;
    }
    keys = ar_malloc(hc->nunclaimed * sizeof(*keys));
    sent = ar_malloc(hc->nunclaimed * sizeof(*sent));
    for (struct fin *f = hc->unclaimed; f != NULL; f = f->next) {
        keys[n] = f->k;
        sent[n++] = f->sent_ms;
    }
    int64_t started = clock_monotonic_ns();
    if (store_pg_claims_insert_done(hc->pg, keys, sent, n, hc->owner, &inserted) != AR_OK) {
        fail(hc);
    } else {
        pg_health_ok("claims", started);
        /* once per outage at info: later sends of the same outage are counted (metric) */
        log_at(hc->reconciled_mono < pg_health_recovered_mono() ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
               "cluster",
               "recorded %zu notifications sent while PostgreSQL was unreachable as done "
               "claims (%lld new)",
               n, (long long)inserted);
        hc->reconciled_mono = clock_monotonic_ns();
        pthread_mutex_lock(&hc->mu);
        hc->stats.reconciled += (uint64_t)inserted;
        pthread_mutex_unlock(&hc->mu);
        fins_free(hc->unclaimed);
        hc->unclaimed = NULL;
        hc->nunclaimed = 0;
    }
    free(keys);
    free(sent);
}

static void renew(struct ha_claims *hc)
{
    int64_t now = clock_monotonic_ns();

    if (hc->open <= 0 || now < hc->next_renew_mono) {
        return;
    }
    hc->next_renew_mono = now + hc->lease_ms / 3 * AR_NS_PER_MS;
    if (!connected(hc)) {
        return;
    }
    pthread_mutex_lock(&hc->mu);
    hc->stats.renewals++;
    pthread_mutex_unlock(&hc->mu);
    /* every lease/3: those that would run out before the next renewal but one (a claim made
     * since the last renewal keeps most of its lease) */
    int64_t started = clock_monotonic_ns();
    if (store_pg_claims_renew(hc->pg, hc->owner, hc->lease_ms, hc->lease_ms * 2 / 3,
                              hc->run_started_ms, NULL) != AR_OK) {
        fail(hc);
    } else {
        pg_health_ok("claims", started);
    }
}

static void *claimer(void *arg)
{
    struct ha_claims *hc = arg;

    for (;;) {
        struct ha_claim_req *list;
        struct fin *fins;
        bool stop;

        pthread_mutex_lock(&hc->mu);
        while (!hc->stop && hc->head == NULL && hc->fins == NULL) {
            struct timespec ts;
            int64_t wait = 1000LL * AR_NS_PER_MS;
            if (hc->open > 0) {
                int64_t left = hc->next_renew_mono - clock_monotonic_ns();
                wait = left < 0 ? 0 : left < wait ? left : wait;
            }
            if (wait == 0) {
                break;
            }
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)((ts.tv_nsec + wait) / AR_NS_PER_SEC);
            ts.tv_nsec = (long)((ts.tv_nsec + wait) % AR_NS_PER_SEC);
            if (pthread_cond_timedwait(&hc->cv, &hc->mu, &ts) != 0) {
                break;
            }
        }
        list = hc->head;
        hc->head = hc->tail = NULL;
        fins = hc->fins;
        hc->fins = NULL;
        stop = hc->stop;
        pthread_mutex_unlock(&hc->mu);
        if (stop) {
            for (struct ha_claim_req *r = list, *next; r != NULL; r = next) {
                next = r->next;
                decide(hc, r, HA_CLAIM_UNCLAIMED);
            }
            if (fins != NULL) {
                finish_all(hc, fins); /* what completed before the stop */
            }
            break;
        }
        claim_all(hc, list);
        if (fins != NULL) {
            finish_all(hc, fins);
        }
        renew(hc);
        if (hc->unclaimed != NULL && hc->pg == NULL) {
            connected(hc); /* probe, so reconciliation does not wait for the next claim */
        }
        reconcile(hc);
    }
    return NULL;
}

int ha_claims_start(struct ha_claims *hc)
{
    if (pthread_create(&hc->thread, NULL, claimer, hc) != 0) {
        return AR_EIO;
    }
    pthread_setname_np(hc->thread, "ar-claims");
    hc->started = true;
    return AR_OK;
}

void ha_claims_stop(struct ha_claims *hc)
{
    if (hc == NULL || !hc->started) {
        return;
    }
    pthread_mutex_lock(&hc->mu);
    hc->stop = true;
    pthread_cond_signal(&hc->cv);
    pthread_mutex_unlock(&hc->mu);
    pthread_join(hc->thread, NULL);
    hc->started = false;
}

void ha_claims_free(struct ha_claims *hc)
{
    if (hc == NULL) {
        return;
    }
    store_pg_close(hc->pg);
    fins_free(hc->fins);
    fins_free(hc->unclaimed);
    if (hc->password != NULL) {
        explicit_bzero(hc->password, strlen(hc->password));
    }
    free(hc->password);
    free(hc->conninfo);
    free(hc->owner);
    pthread_mutex_destroy(&hc->mu);
    pthread_cond_destroy(&hc->cv);
    free(hc);
}

void ha_claims_submit(struct ha_claims *hc, struct ha_claim_req *req)
{
    req->next = NULL;
    pthread_mutex_lock(&hc->mu);
    if (hc->stop) {
        pthread_mutex_unlock(&hc->mu);
        req->result = HA_CLAIM_UNCLAIMED;
        req->decided(req);
        return;
    }
    if (hc->tail != NULL) {
        hc->tail->next = req;
    } else {
        hc->head = req;
    }
    hc->tail = req;
    pthread_cond_signal(&hc->cv);
    pthread_mutex_unlock(&hc->mu);
}

void ha_claims_finished(struct ha_claims *hc, const struct ha_claim_req *req,
                        enum ha_send_outcome outcome)
{
    struct fin *f = ar_calloc(1, sizeof(*f));

    f->k.receiver = ar_strdup(req->receiver);
    f->k.integration = ar_strdup(req->integration);
    f->k.group_key = ar_strdup(req->group_key);
    memcpy(f->k.state_hash, req->state_hash, HA_CLAIM_HASH_LEN);
    f->delivered = outcome == HA_SEND_DELIVERED;
    f->canceled = outcome == HA_SEND_CANCELED;
    f->unclaimed = req->result == HA_CLAIM_UNCLAIMED;
    f->sent_ms = clock_now_ns() / AR_NS_PER_MS;
    pthread_mutex_lock(&hc->mu);
    if (hc->stop) {
        pthread_mutex_unlock(&hc->mu);
        fin_free(f);
        return;
    }
    f->next = hc->fins;
    hc->fins = f;
    pthread_cond_signal(&hc->cv);
    pthread_mutex_unlock(&hc->mu);
}

void ha_claims_get_stats(const struct ha_claims *hc, struct ha_claims_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&hc->mu);
    *out = hc->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&hc->mu);
}

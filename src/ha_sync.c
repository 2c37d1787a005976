/* Replication of silences and the notification log on PostgreSQL (ar/ha_sync.h): the
 * publisher and subscriber threads, the connection helpers they share with the membership
 * thread (src/ha_members.c), and the module's life cycle. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ar/ha_sync.h"

#include "ha_sync_internal.h"
#include "store_pg_conn.h"

#include "ar/clock.h"
#include "ar/core.h"
#include "ar/log.h"
#include "ar/nflog.h"
#include "ar/pg_health.h"
#include "ar/silence.h"
#include "ar/store.h"
#include "ar/store_pg.h"
#include "ar/store_pg_listen.h"
#include "ar/store_pg_nflog.h"
#include "ar/store_pg_silences.h"
#include "ar/store_replica.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS       1000
#define BACKOFF_MAX_MS       10000
#define STATEMENT_TIMEOUT_MS 2000
#define POLL_MS              1000   /* fallback poll when no NOTIFY comes */
#define LISTEN_SLICE_MS      100    /* the subscriber sees a stop this soon (shutdown) */
#define PUBLISH_BATCH        500    /* rows per PostgreSQL transaction */
#define PG_GC_INTERVAL_MS    600000 /* expired and superseded nflog rows in PostgreSQL */

/* ---- shared helpers ---- */

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool stopping(struct ha_sync *h)
{
    bool s;

    pthread_mutex_lock(&h->mu);
    s = h->stop;
    pthread_mutex_unlock(&h->mu);
    return s;
}

bool ha_sync_sleep(struct ha_sync *h, int64_t ms)
{
    struct timespec ts;
    bool go_on;

    deadline_in(&ts, ms);
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0) {
            break; /* timed out */
        }
    }
    go_on = !h->stop;
    pthread_mutex_unlock(&h->mu);
    return go_on;
}

/* Waits for a kick (a local commit of a row to publish), at most ms; false when stopping. */
static bool wait_kick(struct ha_sync *h, int64_t ms)
{
    struct timespec ts;
    bool go_on;

    deadline_in(&ts, ms);
    pthread_mutex_lock(&h->mu);
    while (!h->stop && !h->kick) {
        if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0) {
            break;
        }
    }
    h->kick = false;
    go_on = !h->stop;
    pthread_mutex_unlock(&h->mu);
    return go_on;
}

/* The store's commit hook, on the writer thread: wake the publisher. */
static void kick(void *ctx)
{
    struct ha_sync *h = ctx;

    pthread_mutex_lock(&h->mu);
    h->kick = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

struct store_pg *ha_sync_connect(struct ha_sync *h, const char *who)
{
    struct store_pg *pg = NULL;
    struct ar_error err;
    char sql[64];
    char msg[512];
    int64_t started = clock_monotonic_ns();

    if (store_pg_open(h->conninfo, h->password, &pg, &err) != AR_OK) {
        pg_health_fail(who, err.msg);
        return NULL;
    }
    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", STATEMENT_TIMEOUT_MS);
    if (store_pg_command(pg, sql) != AR_OK) {
        pg_health_fail(who, store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        store_pg_close(pg);
        return NULL;
    }
    pg_health_ok(who, started);
    return pg;
}

/* Closes *pg after a failed round trip. A connection found already lost (the server went
 * away, maybe long ago, e.g. restarted during an idle spell) is not reported: the caller
 * reconnects at once and reports that attempt's outcome, so a recovered link does not log
 * a second outage for a stale socket. Returns true in that case. */
static bool drop(struct store_pg **pg, const char *who)
{
    char msg[512];
    bool lost = PQstatus(store_pg_conn(*pg)) == CONNECTION_BAD;

    if (!lost) {
        pg_health_fail(who, store_pg_message(store_pg_conn(*pg), msg, sizeof(msg)));
    }
    store_pg_close(*pg);
    *pg = NULL;
    return lost;
}

bool ha_sync_drop(struct store_pg **pg, const char *who)
{
    return drop(pg, who);
}

static int64_t next_backoff(int64_t ms)
{
    return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* ---- publisher ---- */

struct pub {
    struct ha_sync *h;
    struct store_pg *pg;
    int64_t last;                     /* highest local seq/id pushed in this batch */
    struct store_pg_nflog_batch rows; /* nflog: sent in one statement */
};

static int pub_silence(int64_t seq, const char *event, int64_t at_ns, const struct silence *s,
                       void *ctx)
{
    struct pub *p = ctx;

    if (store_pg_silence_publish(p->pg, s, event, at_ns, p->h->name, seq) != AR_OK) {
        return AR_EDB;
    }
    p->last = seq;
    return 0;
}

static int pub_nflog(int64_t id, const struct nflog_entry *e, void *ctx)
{
    struct pub *p = ctx;

    store_pg_nflog_batch_add(&p->rows, e, id);
    p->last = id;
    return 0;
}

/* One transaction pushing up to PUBLISH_BATCH rows of each kind after the cursors, which
 * advance only once it committed. *more: a batch was full. AR_EDB: PostgreSQL failed
 * (AR_EIO: the local read did). */
static int publish_once(struct ha_sync *h, struct store_pg *pg, struct store_replica *rep,
                        int64_t *scur, int64_t *ncur, bool *more)
{
    struct pub ps = {h, pg, *scur, {0}};
    struct pub pn = {h, pg, *ncur, {0}};
    size_t ns = 0;
    size_t nn = 0;
    int rc;

    *more = false;
    if (store_replica_pending(rep, *scur, *ncur) == 0) {
        return AR_OK;
    }
    if (store_pg_command(pg, "BEGIN") != AR_OK) {
        return AR_EDB;
    }
    store_pg_nflog_batch_init(&pn.rows);
    rc = store_replica_silences(rep, *scur, PUBLISH_BATCH, pub_silence, &ps, &ns);
    if (rc == AR_OK) {
        rc = store_replica_nflog(rep, *ncur, PUBLISH_BATCH, pub_nflog, &pn, &nn);
        if (rc == AR_OK && store_pg_nflog_batch_publish(pg, &pn.rows, h->name) != AR_OK) {
            rc = AR_EDB;
        }
    }
    store_pg_nflog_batch_cleanup(&pn.rows);
    if (rc != AR_OK) {
        bool pg_failed = PQtransactionStatus(store_pg_conn(pg)) != PQTRANS_INTRANS;
        store_pg_command(pg, "ROLLBACK");
        return pg_failed ? AR_EDB : AR_EIO; /* PostgreSQL or the local read */
    }
    /* one NOTIFY for the batch's nflog rows, delivered at commit (silence rows notify
     * each: there are few) */
    if ((nn > 0 && store_pg_nflog_announce(pg) != AR_OK) ||
        store_pg_command(pg, "COMMIT") != AR_OK) {
        return AR_EDB;
    }
    *scur = ps.last;
    *ncur = pn.last;
    *more = ns == PUBLISH_BATCH || nn == PUBLISH_BATCH;
    if (ns + nn > 0) {
        log_debug("sync", "published %zu silence events and %zu notification log rows", ns, nn);
    }
    return AR_OK;
}

static void set_queued(struct ha_sync *h, struct store_replica *rep, int64_t scur, int64_t ncur)
{
    int64_t q = rep != NULL ? store_replica_pending(rep, scur, ncur) : -1;

    __atomic_store_n(&h->queued, q, __ATOMIC_RELAXED);
}

static void *publisher_main(void *arg)
{
    struct ha_sync *h = arg;
    struct store_pg *pg = NULL;
    struct store_replica *rep = NULL;
    int64_t scur = 0;
    int64_t ncur = 0;
    int64_t backoff = BACKOFF_MIN_MS;
    struct ar_error err;

    while (!stopping(h)) {
        bool more = false;
        int rc;
        if (rep == NULL && store_replica_open(h->dir, &rep, &err) != AR_OK) {
            log_error("sync", "%s", err.msg);
            if (!ha_sync_sleep(h, BACKOFF_MAX_MS)) {
                break;
            }
            continue;
        }
        if (pg == NULL) {
            pg = ha_sync_connect(h, "sync");
            if (pg != NULL &&
                (store_pg_max_origin_seq(pg, "silence_events", h->name, &scur) != AR_OK ||
                 store_pg_max_origin_seq(pg, "nflog", h->name, &ncur) != AR_OK)) {
                if (drop(&pg, "sync")) {
                    continue;
                }
            }
            if (pg == NULL) {
                set_queued(h, rep, scur, ncur);
                if (!ha_sync_sleep(h, backoff)) {
                    break;
                }
                backoff = next_backoff(backoff);
                continue;
            }
            backoff = BACKOFF_MIN_MS;
        }
        rc = publish_once(h, pg, rep, &scur, &ncur, &more);
        if (rc == AR_EDB) {
            if (!drop(&pg, "sync") && !ha_sync_sleep(h, backoff)) {
                break;
            }
            continue;
        }
        if (rc == AR_EIO) {
            store_replica_close(rep); /* reopened on the next turn */
            rep = NULL;
        }
        set_queued(h, rep, scur, ncur);
        if (!more && !wait_kick(h, POLL_MS)) {
            break;
        }
    }
    store_pg_close(pg);
    store_replica_close(rep);
    return NULL;
}

/* ---- subscriber ---- */

struct incoming {
    int64_t expired_before; /* silences that ended before it are gone here (GC) */
    struct silence **s;
    char **s_origin;
    size_t ns;
    size_t cap_s;
    struct nflog_entry **e;
    char **e_origin;
    size_t ne;
    size_t cap_e;
    size_t applied;
};

static void take_silence(struct silence *s, const char *origin, void *ctx)
{
    struct incoming *in = ctx;

    if (s->ends_at < in->expired_before) {
        silence_free(s); /* collected here already; applying it would only add it again */
        return;
    }
    if (in->ns == in->cap_s) {
        in->cap_s = in->cap_s ? in->cap_s * 2 : 16;
        in->s = ar_realloc(in->s, in->cap_s * sizeof(*in->s));
        in->s_origin = ar_realloc(in->s_origin, in->cap_s * sizeof(*in->s_origin));
    }
    in->s[in->ns] = s;
    in->s_origin[in->ns++] = ar_strdup(origin);
}

static void take_nflog(struct nflog_entry *e, const char *origin, void *ctx)
{
    struct incoming *in = ctx;

    if (in->ne == in->cap_e) {
        in->cap_e = in->cap_e ? in->cap_e * 2 : 16;
        in->e = ar_realloc(in->e, in->cap_e * sizeof(*in->e));
        in->e_origin = ar_realloc(in->e_origin, in->cap_e * sizeof(*in->e_origin));
    }
    in->e[in->ne] = e;
    in->e_origin[in->ne++] = ar_strdup(origin);
}

/* On the core thread: every row is taken by the merge (applied or freed). */
static int apply_incoming(struct core *c, struct txn *txn, void *arg)
{
    struct incoming *in = arg;

    for (size_t i = 0; i < in->ns; i++) {
        in->applied +=
            silence_set_merge(core_silences(c), in->s[i], in->s_origin[i], txn_now(txn), txn);
        in->s[i] = NULL;
    }
    for (size_t i = 0; i < in->ne; i++) {
        in->applied += nflog_merge(core_nflog(c), in->e[i], in->e_origin[i], txn);
        in->e[i] = NULL;
    }
    return AR_OK;
}

static void incoming_reset(struct incoming *in)
{
    for (size_t i = 0; i < in->ns; i++) {
        silence_free(in->s[i]);
        free(in->s_origin[i]);
    }
    for (size_t i = 0; i < in->ne; i++) {
        nflog_entry_free(in->e[i]);
        free(in->e_origin[i]);
    }
    in->ns = 0;
    in->ne = 0;
    in->applied = 0;
}

static void incoming_free(struct incoming *in)
{
    incoming_reset(in);
    free(in->s);
    free(in->s_origin);
    free(in->e);
    free(in->e_origin);
}

static void *subscriber_main(void *arg)
{
    static const char *const channels[] = {STORE_PG_SILENCES_CHANNEL, STORE_PG_NFLOG_CHANNEL};
    struct ha_sync *h = arg;
    struct store_pg *pg = NULL;
    struct store_pg_listener *lis = NULL;
    struct incoming in;
    int64_t scur = 0; /* PostgreSQL seq / id read so far: from 0 at start (catch-up) */
    int64_t ncur = 0;
    int64_t backoff = BACKOFF_MIN_MS;
    int64_t next_gc = clock_monotonic_ns() + (int64_t)PG_GC_INTERVAL_MS * 1000000;
    struct ar_error err;

    memset(&in, 0, sizeof(in));
    while (!stopping(h)) {
        int64_t started;
        int rc;
        if (pg == NULL) {
            pg = ha_sync_connect(h, "sync");
            if (pg == NULL) {
                if (!ha_sync_sleep(h, backoff)) {
                    break;
                }
                backoff = next_backoff(backoff);
                continue;
            }
        }
        if (lis == NULL) {
            /* LISTEN before reading, so nothing committed in between is missed */
            if (store_pg_listen_open(h->conninfo, h->password, channels, 2, &lis, &err) != AR_OK) {
                pg_health_fail("sync", err.msg);
                store_pg_close(pg);
                pg = NULL;
                if (!ha_sync_sleep(h, backoff)) {
                    break;
                }
                backoff = next_backoff(backoff);
                continue;
            }
        }
        in.expired_before = h->retention_ns > 0 ? clock_now_ns() - h->retention_ns : INT64_MIN;
        started = clock_monotonic_ns();
        if (store_pg_silences_since_from(pg, scur, h->name, take_silence, &in, &scur) != AR_OK ||
            store_pg_nflog_since_from(pg, ncur, h->name, clock_now_ns(), take_nflog, &in, &ncur) !=
                AR_OK) {
            incoming_reset(&in);
            store_pg_listen_close(lis);
            lis = NULL;
            if (!drop(&pg, "sync") && !ha_sync_sleep(h, backoff)) {
                break;
            }
            backoff = next_backoff(backoff);
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        pg_health_ok("sync", started);
        if (in.ns + in.ne > 0) {
            int64_t t0 = clock_monotonic_ns();
            core_call(h->core, apply_incoming, &in);
            __atomic_add_fetch(&h->applied, in.applied, __ATOMIC_RELAXED);
            log_debug("sync", "applied %zu of %zu rows from other instances in %.1f ms", in.applied,
                      in.ns + in.ne, (double)(clock_monotonic_ns() - t0) / 1e6);
            incoming_reset(&in);
        }
        if (clock_monotonic_ns() >= next_gc) {
            next_gc = clock_monotonic_ns() + (int64_t)PG_GC_INTERVAL_MS * 1000000;
            if (store_pg_nflog_gc(pg, clock_now_ns()) != AR_OK) {
                drop(&pg, "sync");
                continue;
            }
        }
        /* in slices, so a shutdown does not wait out the poll (it took a second) */
        rc = 0;
        for (int64_t waited = 0; rc == 0 && waited < POLL_MS && !stopping(h);
             waited += LISTEN_SLICE_MS) {
            rc = store_pg_listen_wait(lis, LISTEN_SLICE_MS, NULL, 0, NULL, 0);
        }
        while (rc == 1) {
            rc = store_pg_listen_wait(lis, 0, NULL, 0, NULL, 0); /* drain: one read covers all */
        }
        if (rc == AR_EDB) {
            store_pg_listen_close(lis); /* the next read tells whether the server is there */
            lis = NULL;
        }
    }
    incoming_free(&in);
    store_pg_listen_close(lis);
    store_pg_close(pg);
    return NULL;
}

/* ---- life cycle and views ---- */

struct ha_sync *ha_sync_new(const struct ha_sync_options *opt)
{
    struct ha_sync *h = ar_calloc(1, sizeof(*h));

    h->conninfo = ar_strdup(opt->conninfo);
    h->password = opt->password != NULL ? ar_strdup(opt->password) : NULL;
    snprintf(h->name, sizeof(h->name), "%s", opt->name);
    snprintf(h->address, sizeof(h->address), "%s", opt->address ? opt->address : "");
    h->api_url = ar_strdup(opt->api_url ? opt->api_url : "");
    h->dir = ar_strdup(opt->storage_path);
    h->retention_ns = opt->retention_ns;
    h->queued = -1;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    /* until the first heartbeat: this instance alone */
    snprintf(h->peers[0].name, sizeof(h->peers[0].name), "%s", h->name);
    snprintf(h->peers[0].address, sizeof(h->peers[0].address), "%s", h->address);
    h->npeers = 1;
    return h;
}

int ha_sync_start(struct ha_sync *h, struct core *c, struct store *st, struct ar_error *err)
{
    void *(*mains[3])(void *) = {publisher_main, subscriber_main, ha_members_main};
    const char *names[3] = {"ar-ha-publish", "ar-ha-subscribe", "ar-ha-members"};

    h->core = c;
    h->store = st;
    store_set_commit_hook(st, kick, h);
    for (size_t i = 0; i < 3; i++) {
        if (pthread_create(&h->threads[i], NULL, mains[i], h) != 0) {
            ar_error_set(err, "cannot start the %s thread", names[i]);
            ha_sync_stop(h);
            return AR_EIO;
        }
        pthread_setname_np(h->threads[i], names[i]);
        h->nthreads++;
    }
    return AR_OK;
}

void ha_sync_stop(struct ha_sync *h)
{
    if (h == NULL) {
        return;
    }
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < h->nthreads; i++) {
        pthread_join(h->threads[i], NULL);
    }
    h->nthreads = 0;
}

void ha_sync_free(struct ha_sync *h)
{
    if (h == NULL) {
        return;
    }
    if (h->store != NULL) {
        store_set_commit_hook(h->store, NULL, NULL);
    }
    if (h->password != NULL) {
        explicit_bzero(h->password, strlen(h->password));
        free(h->password);
    }
    free(h->conninfo);
    free(h->api_url);
    free(h->dir);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

void ha_sync_get(struct ha_sync *h, struct ha_sync_view *out)
{
    memset(out, 0, sizeof(*out));
    out->queued_writes = __atomic_load_n(&h->queued, __ATOMIC_RELAXED);
    out->applied = __atomic_load_n(&h->applied, __ATOMIC_RELAXED);
    pthread_mutex_lock(&h->mu);
    out->npeers = h->npeers;
    out->peers_known = h->peers_known;
    pthread_mutex_unlock(&h->mu);
}

size_t ha_sync_peers(struct ha_sync *h, struct store_pg_peer *out, size_t cap)
{
    size_t n;

    pthread_mutex_lock(&h->mu);
    n = h->npeers < cap ? h->npeers : cap;
    memcpy(out, h->peers, n * sizeof(*out));
    pthread_mutex_unlock(&h->mu);
    return n;
}

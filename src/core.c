/* The core thread (ar/core.h).
 *
 * Core thread: the one owner of all routing state — the alert store, the silence set, the
 * notification log, the inhibitor and the dispatcher (groups and their timers). It pops
 * messages (ingest, snapshot, groups, call, send-done, stop) from a mutex-protected queue,
 * handles them, runs due group flushes, GC of resolved alerts (every gc_interval) and
 * maintenance (silence and nflog GC, history and outbox retention, every maintenance
 * interval), keeps the alert log compact, then hands one write batch per turn to the writer
 * thread (ar/txn.h), which commits it and only then answers the requests waiting on it. API
 * handlers reach core state only through messages (core_call); the notifier thread reports
 * back with send-done messages. At start it loads alerts, silences, the nflog and pending
 * deliveries, and rebuilds the pipeline (also on every config swap). It also owns the
 * lifetime of the string pool that stored alerts point into (filled by the decoders, freed
 * last). Once a minute it queues a measure of the database that applies --storage.max-bytes
 * (store_prune.c). Heartbeats (ar/heartbeat.h) are a timer like GC: posted alerts mark them
 * seen, and the alerts raised or resolved for them are ingested as posted ones. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ar/core.h"

#include "ar/alert_store.h"
#include "ar/clock.h"
#include "ar/dispatch.h"
#include "ar/heartbeat.h"
#include "ar/incident.h"
#include "ar/inhibit.h"
#include "ar/log.h"
#include "ar/nflog.h"
#include "ar/notify.h"
#include "ar/outbox.h"
#include "ar/silence.h"
#include "ar/strpool.h"
#include "ar/textpack.h"
#include "ar/txn.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum msg_kind {
    MSG_INGEST,
    MSG_SNAPSHOT,
    MSG_GROUPS,
    MSG_CALL,
    MSG_SEND_DONE,
    MSG_SEND_RETRY,
    MSG_STOP
};

struct msg {
    enum msg_kind kind;
    struct msg *next;
    struct txn_waiter done;
    /* ingest */
    struct alert **alerts;
    size_t nalerts;
    /* call */
    core_fn fn;
    void *arg;
    int call_result;
    /* snapshot */
    int64_t now_ns;
    struct alert **snap;
    struct alert_status *status;
    bool want_status;
    size_t nsnap;
    /* groups */
    struct groups_snapshot *gsnap;
    struct alert_status *gstatus;
    /* send done, send retry (heap messages, no waiter) */
    struct send_ctx *sc;
    int64_t delivery_id; /* send retry */
    struct notify_result res;
};

struct core {
    struct alert_store *alerts;
    struct strpool *strings; /* repeated label/annotation strings of stored alerts */
    struct textpack *texts;  /* compresses stored alerts' annotations */
    struct core_options opt;

    pthread_mutex_t cfg_mu;
    struct config *cfg;

    pthread_mutex_t mu; /* core queue */
    pthread_cond_t cv;
    struct msg *head;
    struct msg *tail;

    struct txn_writer *writer;
    int64_t used_bytes;                 /* database bytes in use at the last size check (atomic) */
    uint64_t pruned[STORE_PRUNE_KINDS]; /* rows pruned by the size cap (atomic) */
    struct store_prune_stats staged;    /* the last size check's, until its commit (writer) */

    pthread_t core_thread;
    bool started;
    size_t count; /* alerts in memory, for metrics (written by core thread) */

    /* alert_log bookkeeping (core thread) */
    int64_t next_seq;       /* next alert_log sequence number */
    size_t log_rows;        /* rows in alert_log once queued writes commit */
    struct alert **compact; /* compaction: live alerts to re-append, NULL when idle */
    size_t ncompact;
    size_t compact_pos;
    int64_t compact_below; /* rows with seq below this go once all are re-appended */
    size_t compact_rows;   /* log rows below compact_below */

    struct silence_set *silences;
    struct incident_set *incidents; /* ar/incident.h, survives reloads */
    struct nflog *nflog;
    struct inhibitor *inhibitor;   /* for cfg */
    struct dispatcher *dispatcher; /* for cfg */
    struct dispatch_metrics dmetrics;
    struct heartbeat_set *heartbeats; /* from cfg->ext */

    /* durable outbox (ar/outbox.h), core thread */
    int64_t next_delivery_id;
    struct outbox_row **resume; /* pending rows loaded at start, re-submitted in turn one */
    size_t nresume;
};

/* Appends a log row for a's current state. */
static void log_put(struct core *c, struct txn *txn, struct alert *a)
{
    txn_alert_put(txn, a, c->next_seq++);
    c->log_rows++;
}

/* A re-post that changed only the end/update times (the common case: Prometheus re-sends
 * every evaluation) is logged as a small 'touch' row instead of the whole alert. */
static bool only_times_changed(const struct alert *old, const struct alert *res)
{
    return old->starts_at == res->starts_at && old->starts_off_min == res->starts_off_min &&
           alert_annotations_equal(old, res) &&
           ((old->generator_url == NULL && res->generator_url == NULL) ||
            (old->generator_url != NULL && res->generator_url != NULL &&
             strcmp(old->generator_url, res->generator_url) == 0));
}

static void log_touch(struct core *c, struct txn *txn, struct alert *a)
{
    txn_alert_touch(txn, a, c->next_seq++);
    c->log_rows++;
}

static void log_delete(struct core *c, struct txn *txn, struct alert *a)
{
    txn_alert_delete(txn, a, c->next_seq++);
    c->log_rows++;
}

/* Merges one posted alert into the store and records the rows to write. */
static void ingest_one(struct core *c, struct alert *a, struct txn *txn)
{
    int64_t now = txn_now(txn);
    struct alert *old = alert_store_find(c->alerts, a->fp);
    struct alert *res;
    bool was_firing = old != NULL && !alert_resolved_at(old, now);
    bool is_firing;

    if (old != NULL) {
        res = alert_merge(old, a, now);
        alert_unref(a);
    } else {
        res = a;
    }
    is_firing = !alert_resolved_at(res, now);
    /* History: record transitions, not every re-post. A re-post that moves startsAt while
     * the alert is still firing is no transition: a client that sends endsAt without
     * startsAt gets startsAt = endsAt (COMPAT 1.3), so every re-post replaces the alert
     * with a new startsAt, and recording each one grew the history by a row per re-post.
     * A reactivation (the stored alert had resolved) is a new firing. */
    if (is_firing && !was_firing) {
        txn_alert_event(txn, res, "firing", now);
    } else if (!is_firing && (was_firing || old == NULL)) {
        txn_alert_event(txn, res, "resolved", now);
    } else if (is_firing && !alert_annotations_equal(old, res)) {
        /* the same fingerprint means the same labels: what a firing alert can change is its
         * annotations (e.g. a value in the description) */
        txn_alert_event(txn, res, "updated", now);
    }
    if (old != NULL && only_times_changed(old, res)) {
        log_touch(c, txn, res);
    } else {
        log_put(c, txn, res);
    }
    alert_store_put_take(c->alerts, res);
    inhibitor_put(c->inhibitor, res);
    dispatcher_put(c->dispatcher, res, now, clock_monotonic_ns());
}

/* The alerts a collection frees leave holes all over the heap, which glibc keeps mapped (the
 * resident size then only rises from one collection to the next) unless malloc_trim gives
 * the free pages back. That walks every arena and took 24-77 ms for a 300 MB heap in the
 * soak run, so it runs on a short-lived thread of its own, never on the core thread; the
 * flag keeps it to one at a time. */
static int trim_running;

static void *trim_main(void *arg)
{
    int64_t t0 = clock_monotonic_ns();

    (void)arg;
    pthread_setname_np(pthread_self(), "ar-trim");
    malloc_trim(0);
    log_debug("core", "returned free heap pages in %.1f ms",
              (double)(clock_monotonic_ns() - t0) / 1e6);
    __atomic_store_n(&trim_running, 0, __ATOMIC_RELEASE);
    return NULL;
}

static void trim_in_background(void)
{
    pthread_attr_t attr;
    pthread_t t;

    if (__atomic_exchange_n(&trim_running, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, trim_main, NULL) != 0) {
        __atomic_store_n(&trim_running, 0, __ATOMIC_RELEASE);
    }
    pthread_attr_destroy(&attr);
}

static void gc(struct core *c, struct txn *txn)
{
    int64_t now = txn_now(txn);
    struct alert **victims = NULL;
    size_t n = 0;
    size_t cap = 0;
    struct alert *a;

    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        if (alert_resolved_at(a, now)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                victims = ar_realloc(victims, cap * sizeof(*victims));
            }
            victims[n++] = a;
        }
    }
    for (size_t i = 0; i < n; i++) {
        log_delete(c, txn, victims[i]);
        txn_alert_event(txn, victims[i], "deleted", now);
        inhibitor_remove(c->inhibitor, victims[i]->fp);
        alert_store_remove(c->alerts, victims[i]->fp);
    }
    free(victims);
    if (n > 0) {
        log_info("core", "garbage-collected %zu resolved alerts", n);
        trim_in_background();
    }
}

static void post(struct core *c, struct msg *m);

static int history_gc_apply(struct store *st, void *data)
{
    return store_history_gc(st, *(int64_t *)data);
}

/* Maintenance: deletes the history blocks whose events all precede before_ns. */
static void history_gc(struct txn *txn, int64_t before_ns)
{
    int64_t *at = ar_malloc(sizeof(*at));

    *at = before_ns;
    txn_write(txn, history_gc_apply, at, free);
}

/* Notifier thread: hands a finished send back to the core thread. */
static void core_send_done(void *ctx, struct send_ctx *sc, const struct notify_result *res)
{
    struct core *c = ctx;
    struct msg *m = ar_calloc(1, sizeof(*m));

    m->kind = MSG_SEND_DONE;
    m->sc = sc;
    m->res = *res;
    post(c, m);
}

/* Notifier thread: hands a failed attempt that will be retried to the core thread, which
 * logs it in the same turn transaction as other delivery events. */
static void core_send_retry(void *ctx, int64_t delivery_id, const struct notify_result *res)
{
    struct core *c = ctx;
    struct msg *m = ar_calloc(1, sizeof(*m));

    m->kind = MSG_SEND_RETRY;
    m->delivery_id = delivery_id;
    m->res = *res;
    post(c, m);
}

static int claim_decided_fn(struct core *c, struct txn *txn, void *arg)
{
    dispatcher_claim_decided(c->dispatcher, arg, txn);
    return AR_OK;
}

static void claim_decided_noop(void *ctx, int rc)
{
    (void)ctx;
    (void)rc;
}

/* Claimer thread (ar/ha_claims.h): a claim's decision goes to the core thread. */
static void core_claim_decided(void *ctx, struct claim_wait *cw)
{
    core_call_async(ctx, claim_decided_fn, cw, claim_decided_noop, NULL);
}

static void status_of(struct core *c, const struct alert *a, int64_t now, struct alert_status *st)
{
    const char *ids[64];
    size_t n = silence_set_mutes(c->silences, &a->labels, now, ids, AR_ARRAY_LEN(ids));

    if (n > AR_ARRAY_LEN(ids)) {
        n = AR_ARRAY_LEN(ids);
    }
    st->nsilenced = n;
    st->silenced_by = n ? ar_malloc(n * sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        st->silenced_by[i] = ar_strdup(ids[i]);
    }
    st->inhibited = inhibitor_check(c->inhibitor, &a->labels, a->fp, now, &st->inhibited_by);
}

static void snapshot(struct core *c, struct msg *m)
{
    struct alert *a;
    size_t n = 0;
    size_t cap = alert_store_count(c->alerts) + 1;

    m->snap = ar_malloc(cap * sizeof(*m->snap));
    if (m->want_status) {
        m->status = ar_calloc(cap, sizeof(*m->status));
    }
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        /* COMPAT: alerts whose end lies strictly in the past are never listed. */
        if (a->ends_at < m->now_ns) {
            continue;
        }
        if (m->status != NULL) {
            status_of(c, a, m->now_ns, &m->status[n]);
        }
        m->snap[n++] = alert_ref(a);
    }
    m->nsnap = n;
}

static void groups_snapshot(struct core *c, struct msg *m)
{
    int64_t now = clock_now_ns();

    if (c->dispatcher != NULL) {
        dispatcher_groups_snapshot(c->dispatcher, m->gsnap);
    } else {
        memset(m->gsnap, 0, sizeof(*m->gsnap));
    }
    m->gstatus = ar_calloc(m->gsnap->nalerts + 1, sizeof(*m->gstatus));
    for (size_t i = 0; i < m->gsnap->nalerts; i++) {
        status_of(c, m->gsnap->alerts[i], now, &m->gstatus[i]);
    }
}

/* (Re)builds the inhibitor and dispatcher for c->cfg from every stored alert: timers
 * restart, old alerts flush at once, the notification log prevents duplicates (COMPAT 5.9). */
static void rebuild_pipeline(struct core *c)
{
    struct dispatch_env env;
    struct alert *a;
    int64_t now = clock_now_ns();
    int64_t mono = clock_monotonic_ns();

    dispatcher_free(c->dispatcher);
    inhibitor_free(c->inhibitor);
    c->inhibitor = inhibitor_new(c->cfg);
    memset(&env, 0, sizeof(env));
    env.notifier = c->opt.notifier;
    env.metrics = &c->dmetrics;
    env.nflog = c->nflog;
    env.silences = c->silences;
    env.incidents = c->incidents;
    env.inhibitor = c->inhibitor;
    env.external_url = c->opt.external_url ? c->opt.external_url : "";
    env.retention_ns = c->opt.retention_ns;
    env.send_done = core_send_done;
    env.send_retry = core_send_retry;
    env.send_done_ctx = c;
    env.next_delivery_id = &c->next_delivery_id;
    env.deadline_ns = c->opt.notify_deadline_ns;
    env.claims = c->opt.claims;
    env.claim_decided = core_claim_decided;
    c->dispatcher = dispatcher_new(c->cfg, &env);
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        inhibitor_put(c->inhibitor, a);
    }
    if (c->opt.notifier == NULL) {
        return; /* nothing would deliver: keep no groups */
    }
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        dispatcher_put(c->dispatcher, a, now, mono);
    }
}

/* Applies cfg->ext's heartbeats and lets them take over or resolve the heartbeat alerts in
 * the store (left by a previous run or the previous configuration). */
static void configure_heartbeats(struct core *c)
{
    int64_t now = clock_now_ns();
    struct alert *a;

    heartbeat_set_configure(c->heartbeats, c->cfg->ext, clock_monotonic_ns());
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        heartbeat_set_adopt(c->heartbeats, a, now);
    }
}

/* Ingests what the heartbeats raise, renew or resolve, as posted alerts. */
static void run_heartbeats(struct core *c, struct txn *txn)
{
    struct alert **out;
    size_t n = heartbeat_set_run(c->heartbeats, txn_now(txn), clock_monotonic_ns(), &out);

    for (size_t i = 0; i < n; i++) {
        ingest_one(c, out[i], txn);
    }
    free(out);
}

/* Keeps alert_log within about twice the live set: once it grows past that, every live
 * alert is re-appended (COMPACT_CHUNK per loop turn, so ingestion keeps flowing) and then
 * the rows written before the compaction started are deleted in one statement. */
#define SIZE_CHECK_INTERVAL_NS (60LL * AR_NS_PER_SEC) /* --storage.max-bytes */
#define COMPACT_CHUNK          20000
#define COMPACT_SLACK          10000

static void compact_step(struct core *c, struct txn *txn)
{
    size_t live = alert_store_count(c->alerts);
    struct alert *a;

    if (c->compact == NULL) {
        if (c->log_rows <= 2 * live + COMPACT_SLACK) {
            return;
        }
        c->compact = ar_malloc((live + 1) * sizeof(*c->compact));
        c->ncompact = 0;
        c->compact_pos = 0;
        c->compact_below = c->next_seq;
        c->compact_rows = c->log_rows;
        for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
            c->compact[c->ncompact++] = alert_ref(a);
        }
        log_info("store", "compacting alert log: %zu rows for %zu live alerts", c->log_rows, live);
    }
    for (size_t k = 0; k < COMPACT_CHUNK && c->compact_pos < c->ncompact; k++) {
        struct alert *cur;
        a = c->compact[c->compact_pos++];
        /* Re-append the current state in full: rows written since the compaction began may
         * be 'touch' rows that need a base, and that base is about to be truncated. */
        cur = alert_store_find(c->alerts, a->fp);
        if (cur != NULL) {
            log_put(c, txn, cur);
        }
        alert_unref(a);
    }
    if (c->compact_pos == c->ncompact) {
        txn_alert_truncate(txn, c->compact_below);
        c->log_rows -= c->compact_rows;
        AR_FREE(c->compact);
        c->ncompact = 0;
    }
}

/* Re-submits the deliveries left pending by the previous run (crash, kill -9, restart)
 * with a fresh deadline; those whose receiver or integration is gone become dead letters. */
static void resume_deliveries(struct core *c, struct txn *txn)
{
    size_t resumed = 0;

    for (size_t i = 0; i < c->nresume; i++) {
        struct outbox_row *r = c->resume[i];
        struct ar_error err;
        int rc = AR_ENOTFOUND;
        if (c->opt.notifier == NULL) {
            ar_error_set(&err, "no notifier to deliver with");
        } else {
            rc = dispatcher_resubmit(c->dispatcher, r->id, r->receiver, r->integration,
                                     r->group_key, r->payload, true, &err);
        }
        if (rc == AR_OK) {
            resumed++;
        } else {
            struct notify_result res;
            memset(&res, 0, sizeof(res));
            snprintf(res.error, sizeof(res.error), "not resumed: %s", err.msg);
            log_error("outbox", "delivery %lld %s", (long long)r->id, res.error);
            outbox_record_event(txn, r->id, "dead", "dead", &res);
        }
        outbox_row_free(r);
    }
    if (resumed > 0) {
        log_info("outbox", "resumed %zu pending deliveries", resumed);
    }
    AR_FREE(c->resume);
    c->nresume = 0;
}

/* Writer thread, once a minute: measures the database and applies --storage.max-bytes. */
/* Writer thread: the size check and pruning, inside the turn's transaction. Its figures
 * are staged and published by size_check_committed once that transaction is committed, so
 * /metrics never counts as pruned what a reader of the database still sees. */
static int size_check_apply(struct store *st, void *data)
{
    struct core *c = data;

    memset(&c->staged, 0, sizeof(c->staged));
    return store_prune_to_cap(st, c->opt.max_bytes, &c->staged);
}

/* Writer thread, after the commit (or its failure: then the next check publishes). */
static void size_check_committed(void *ctx, int result)
{
    struct core *c = ctx;

    if (result != AR_OK) {
        return;
    }
    __atomic_store_n(&c->used_bytes, c->staged.used_bytes, __ATOMIC_RELAXED);
    for (int k = 0; k < STORE_PRUNE_KINDS; k++) {
        __atomic_add_fetch(&c->pruned[k], c->staged.pruned[k], __ATOMIC_RELAXED);
    }
    memset(&c->staged, 0, sizeof(c->staged));
}

int64_t core_storage_used_bytes(struct core *c)
{
    return __atomic_load_n(&c->used_bytes, __ATOMIC_RELAXED);
}

void core_storage_pruned(struct core *c, uint64_t out[STORE_PRUNE_KINDS])
{
    for (int k = 0; k < STORE_PRUNE_KINDS; k++) {
        out[k] = __atomic_load_n(&c->pruned[k], __ATOMIC_RELAXED);
    }
}

/* The incidents' orphan check (incident_set_close_orphans) against the dispatcher. */
static bool has_group(void *ctx, const char *receiver, const char *group_key)
{
    return dispatcher_has_group(ctx, receiver, group_key);
}

static void *core_main(void *arg)
{
    struct core *c = arg;
    int64_t next_size_check = clock_monotonic_ns();
    int64_t next_gc = clock_monotonic_ns() + c->opt.gc_interval_ns;
    int64_t next_maintenance = clock_monotonic_ns() + c->opt.maintenance_interval_ns;
    bool stop = false;

    while (!stop) {
        struct msg *list;
        struct txn_batch *b = txn_batch_new();
        int64_t now;

        pthread_mutex_lock(&c->mu);
        while (c->head == NULL) {
            int64_t next = next_gc < next_maintenance ? next_gc : next_maintenance;
            next = next_size_check < next ? next_size_check : next;
            int64_t due = dispatcher_next_deadline(c->dispatcher);
            int64_t hb_due = heartbeat_set_next_deadline(c->heartbeats);
            due = hb_due < due ? hb_due : due;
            int64_t wait = (due < next ? due : next) - clock_monotonic_ns();
            struct timespec ts;
            if (wait <= 0) {
                break;
            }
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(wait / AR_NS_PER_SEC);
            ts.tv_nsec += (long)(wait % AR_NS_PER_SEC);
            if (ts.tv_nsec >= AR_NS_PER_SEC) {
                ts.tv_sec++;
                ts.tv_nsec -= AR_NS_PER_SEC;
            }
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        }
        list = c->head;
        c->head = c->tail = NULL;
        pthread_mutex_unlock(&c->mu);

        now = clock_now_ns();
        struct txn turn = {b, now}; /* messages act at the time the turn started */
        if (c->resume != NULL) {
            resume_deliveries(c, &turn);
        }
        for (struct msg *m = list, *next; m != NULL; m = next) {
            next = m->next;
            switch (m->kind) {
            case MSG_INGEST:
                if (heartbeat_set_count(c->heartbeats) > 0) {
                    int64_t mono = clock_monotonic_ns();
                    for (size_t i = 0; i < m->nalerts; i++) {
                        if (!alert_resolved_at(m->alerts[i], now)) {
                            heartbeat_set_observe(c->heartbeats, &m->alerts[i]->labels, now, mono);
                        }
                    }
                }
                for (size_t i = 0; i < m->nalerts; i++) {
                    ingest_one(c, m->alerts[i], &turn);
                }
                txn_wait(&turn, &m->done);
                break;
            case MSG_SNAPSHOT:
                snapshot(c, m);
                txn_waiter_signal(&m->done, AR_OK);
                break;
            case MSG_GROUPS:
                groups_snapshot(c, m);
                txn_waiter_signal(&m->done, AR_OK);
                break;
            case MSG_SEND_DONE:
                dispatcher_send_done(c->dispatcher, m->sc, &m->res, &turn);
                free(m); /* heap message: nobody waits for it */
                break;
            case MSG_SEND_RETRY:
                dispatcher_send_retry(m->delivery_id, &m->res, &turn);
                free(m); /* heap message: nobody waits for it */
                break;
            case MSG_CALL: {
                size_t before = txn_batch_rows(b);
                m->call_result = m->fn(c, &turn, m->arg);
                if (txn_batch_rows(b) > before) {
                    txn_wait(&turn, &m->done); /* answered after the commit */
                } else {
                    txn_waiter_signal(&m->done, AR_OK);
                }
                break;
            }
            case MSG_STOP:
                stop = true;
                txn_waiter_signal(&m->done, AR_OK);
                break;
            }
        }
        if (clock_monotonic_ns() >= heartbeat_set_next_deadline(c->heartbeats)) {
            struct txn txn = {b, clock_now_ns()};
            run_heartbeats(c, &txn);
        }
        if (clock_monotonic_ns() >= next_gc) {
            struct txn txn = {b, clock_now_ns()};
            gc(c, &txn);
            next_gc = clock_monotonic_ns() + c->opt.gc_interval_ns;
        }
        if (clock_monotonic_ns() >= next_size_check) {
            struct txn txn = {b, clock_now_ns()};
            struct txn_waiter *w = ar_calloc(1, sizeof(*w));
            txn_write(&txn, size_check_apply, c, NULL);
            txn_waiter_init_async(w, size_check_committed, c, w);
            txn_wait(&txn, w);
            /* once a minute, or at the maintenance interval when that is shorter */
            next_size_check =
                clock_monotonic_ns() + (c->opt.maintenance_interval_ns < SIZE_CHECK_INTERVAL_NS
                                            ? c->opt.maintenance_interval_ns
                                            : SIZE_CHECK_INTERVAL_NS);
        }
        if (clock_monotonic_ns() >= next_maintenance) {
            struct txn txn = {b, clock_now_ns()};
            silence_set_gc(c->silences, txn.now_ns, c->opt.retention_ns, &txn);
            nflog_gc(c->nflog, txn.now_ns, &txn);
            /* the history (--history.retention): alert state changes and finished
             * notifications with their log */
            history_gc(&txn, txn.now_ns - c->opt.history_retention_ns);
            outbox_gc(&txn, txn.now_ns - c->opt.history_retention_ns);
            if (c->opt.notifier != NULL) { /* without one, groups are never kept */
                incident_set_close_orphans(c->incidents, has_group, c->dispatcher, &txn);
            }
            next_maintenance = clock_monotonic_ns() + c->opt.maintenance_interval_ns;
        }
        {
            struct txn txn = {b, clock_now_ns()};
            dispatcher_run(c->dispatcher, txn.now_ns, clock_monotonic_ns(), &txn);
        }
        compact_step(c, &turn);
        __atomic_store_n(&c->count, alert_store_count(c->alerts), __ATOMIC_RELAXED);
        if (!txn_batch_empty(b)) {
            txn_writer_submit(c->writer, b);
        } else {
            txn_batch_free(b);
        }
    }
    return NULL;
}

static void load_prepare(struct alert *a, const struct alert *prev, void *ctx)
{
    struct core *c = ctx;

    alert_pool(a, prev, c->strings, c->texts);
}

static void load_keep(struct alert *a, void *ctx)
{
    struct core *c = ctx;

    alert_store_put_take(c->alerts, a);
}

int core_new(struct store *st, struct config *cfg, const struct core_options *opt,
             struct core **out)
{
    struct core *c = ar_calloc(1, sizeof(*c));
    int rc;

    c->opt = *opt;
    c->used_bytes = -1;
    if (c->opt.gc_interval_ns <= 0) {
        c->opt.gc_interval_ns = 30LL * 60 * AR_NS_PER_SEC;
    }
    if (c->opt.retention_ns <= 0) {
        c->opt.retention_ns = 120LL * 3600 * AR_NS_PER_SEC;
    }
    if (c->opt.history_retention_ns <= 0) {
        c->opt.history_retention_ns = 90LL * 24 * 3600 * AR_NS_PER_SEC;
    }
    if (c->opt.maintenance_interval_ns <= 0) {
        c->opt.maintenance_interval_ns = 15LL * 60 * AR_NS_PER_SEC;
    }
    c->heartbeats = heartbeat_set_new();
    c->silences = silence_set_new();
    silence_set_limit(c->silences, c->opt.max_silences);
    c->alerts = alert_store_new();
    c->strings = strpool_new(0);
    c->texts = textpack_new(0);
    c->cfg = config_ref(cfg);
    pthread_mutex_init(&c->cfg_mu, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->writer = txn_writer_new(st);
    struct store_load_stats stats;
    struct store_load_hooks hooks = {load_prepare, load_keep, c};
    rc = store_load_alerts(st, &hooks, &stats);
    if (rc != AR_OK) {
        core_free(c);
        return rc;
    }
    c->next_seq = stats.next_seq;
    c->log_rows = stats.log_rows;
    rc = silence_set_load(c->silences, st);
    if (rc == AR_OK) {
        c->incidents = incident_set_new();
        rc = incident_set_load(c->incidents, st);
    }
    if (rc != AR_OK) {
        core_free(c);
        return rc;
    }
    c->nflog = nflog_new();
    rc = nflog_load(c->nflog, st, clock_now_ns());
    if (rc != AR_OK) {
        core_free(c);
        return rc;
    }
    rc = store_outbox_next_id(st, &c->next_delivery_id);
    if (rc == AR_OK) {
        rc = store_outbox_load(st, "pending", &c->resume, &c->nresume);
    }
    if (rc != AR_OK) {
        core_free(c);
        return rc;
    }
    rebuild_pipeline(c);
    configure_heartbeats(c);
    c->count = alert_store_count(c->alerts);
    log_info("core", "loaded %zu alerts from storage", c->count);
    *out = c;
    return AR_OK;
}

int core_start(struct core *c)
{
    if (txn_writer_start(c->writer) != AR_OK) {
        return AR_ENOMEM;
    }
    if (pthread_create(&c->core_thread, NULL, core_main, c) != 0) {
        txn_writer_stop(c->writer);
        return AR_ENOMEM;
    }
    pthread_setname_np(c->core_thread, "ar-core"); /* visible in top -H, perf, /proc */
    c->started = true;
    return AR_OK;
}

/* Queues a message for the core thread (signalled as txn_writer_submit explains). */
static void post(struct core *c, struct msg *m)
{
    bool was_empty;

    pthread_mutex_lock(&c->mu);
    was_empty = c->head == NULL;
    if (c->tail) {
        c->tail->next = m;
    } else {
        c->head = m;
    }
    c->tail = m;
    pthread_mutex_unlock(&c->mu);
    if (was_empty) {
        pthread_cond_signal(&c->cv);
    }
}

void core_stop(struct core *c)
{
    struct msg m;

    if (c == NULL || !c->started) {
        return;
    }
    /* Cancel deliveries first, while the core still processes their completions (a
     * canceled flush is retried after restart: at-least-once). */
    if (c->opt.notifier != NULL) {
        notifier_stop(c->opt.notifier);
    }
    memset(&m, 0, sizeof(m));
    m.kind = MSG_STOP;
    txn_waiter_init(&m.done);
    post(c, &m);
    txn_waiter_wait(&m.done);
    txn_waiter_cleanup(&m.done);
    pthread_join(c->core_thread, NULL);
    /* completions posted during the last turn */
    while (c->head != NULL) {
        struct msg *left = c->head;
        c->head = left->next;
        if (left->kind == MSG_SEND_DONE) {
            struct txn txn = {NULL, clock_now_ns()}; /* writes are dropped */
            struct notify_result r = left->res;
            r.ok = false; /* the log write could not commit any more */
            dispatcher_send_done(c->dispatcher, left->sc, &r, &txn);
            free(left);
        } else if (left->kind == MSG_SEND_RETRY) {
            free(left); /* the log write could not commit any more */
        } else if (left->kind == MSG_INGEST && left->done.fn != NULL) {
            /* posted after the stop (the HTTP layer drains first, so only by misuse) */
            for (size_t i = 0; i < left->nalerts; i++) {
                alert_unref(left->alerts[i]);
            }
            txn_waiter_signal(&left->done, AR_EDB);
        }
    }
    c->tail = NULL;
    txn_writer_stop(c->writer);
    c->started = false;
}

void core_free(struct core *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = c->compact_pos; i < c->ncompact; i++) {
        alert_unref(c->compact[i]);
    }
    free(c->compact);
    for (size_t i = 0; i < c->nresume; i++) {
        outbox_row_free(c->resume[i]);
    }
    free(c->resume);
    dispatcher_free(c->dispatcher);
    inhibitor_free(c->inhibitor);
    heartbeat_set_free(c->heartbeats);
    nflog_free(c->nflog);
    silence_set_free(c->silences);
    incident_set_free(c->incidents);
    alert_store_free(c->alerts);
    config_unref(c->cfg);
    txn_writer_free(c->writer);
    strpool_free(c->strings); /* last: alerts above may point into it */
    textpack_free(c->texts);  /* likewise: packed annotations need its dictionary */
    pthread_mutex_destroy(&c->cfg_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

int core_ingest(struct core *c, struct alert **alerts, size_t n)
{
    struct msg m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.kind = MSG_INGEST;
    m.alerts = alerts;
    m.nalerts = n;
    txn_waiter_init(&m.done);
    post(c, &m);
    rc = txn_waiter_wait(&m.done);
    txn_waiter_cleanup(&m.done);
    return rc;
}

void core_ingest_async(struct core *c, struct alert **alerts, size_t n,
                       void (*done)(void *ctx, int rc), void *ctx)
{
    struct msg *m = ar_calloc(1, sizeof(*m));

    m->kind = MSG_INGEST;
    m->alerts = alerts;
    m->nalerts = n;
    txn_waiter_init_async(&m->done, done, ctx, m);
    post(c, m);
}

int core_call(struct core *c, core_fn fn, void *arg)
{
    struct msg m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.kind = MSG_CALL;
    m.fn = fn;
    m.arg = arg;
    txn_waiter_init(&m.done);
    post(c, &m);
    rc = txn_waiter_wait(&m.done);
    txn_waiter_cleanup(&m.done);
    if (m.call_result != AR_OK) {
        return m.call_result;
    }
    return rc;
}

void core_call_async(struct core *c, core_fn fn, void *arg, void (*done)(void *ctx, int rc),
                     void *ctx)
{
    struct msg *m = ar_calloc(1, sizeof(*m));

    m->kind = MSG_CALL;
    m->fn = fn;
    m->arg = arg;
    txn_waiter_init_async(&m->done, done, ctx, m);
    post(c, m);
}

size_t core_snapshot(struct core *c, int64_t now_ns, struct alert ***out,
                     struct alert_status **status_out)
{
    struct msg m;

    memset(&m, 0, sizeof(m));
    m.kind = MSG_SNAPSHOT;
    m.now_ns = now_ns;
    m.want_status = status_out != NULL;
    txn_waiter_init(&m.done);
    post(c, &m);
    txn_waiter_wait(&m.done);
    txn_waiter_cleanup(&m.done);
    *out = m.snap;
    if (status_out != NULL) {
        *status_out = m.status;
    }
    return m.nsnap;
}

static void status_cleanup(struct alert_status *st)
{
    for (size_t i = 0; i < st->nsilenced; i++) {
        free(st->silenced_by[i]);
    }
    free(st->silenced_by);
}

void core_snapshot_free(struct alert **alerts, struct alert_status *status, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        alert_unref(alerts[i]);
        if (status != NULL) {
            status_cleanup(&status[i]);
        }
    }
    free(alerts);
    free(status);
}

struct alert_status *core_groups(struct core *c, struct groups_snapshot *snap)
{
    struct msg m;

    memset(&m, 0, sizeof(m));
    m.kind = MSG_GROUPS;
    m.gsnap = snap;
    txn_waiter_init(&m.done);
    post(c, &m);
    txn_waiter_wait(&m.done);
    txn_waiter_cleanup(&m.done);
    return m.gstatus;
}

void core_groups_free(struct groups_snapshot *snap, struct alert_status *status)
{
    for (size_t i = 0; i < snap->nalerts; i++) {
        status_cleanup(&status[i]);
    }
    free(status);
    groups_snapshot_cleanup(snap);
}

struct strpool *core_strings(struct core *c)
{
    return c->strings;
}

struct textpack *core_texts(struct core *c)
{
    return c->texts;
}

struct config *core_config(struct core *c)
{
    struct config *cfg;

    pthread_mutex_lock(&c->cfg_mu);
    cfg = config_ref(c->cfg);
    pthread_mutex_unlock(&c->cfg_mu);
    return cfg;
}

static int swap_config(struct core *c, struct txn *txn, void *arg)
{
    struct config *old;

    pthread_mutex_lock(&c->cfg_mu);
    old = c->cfg;
    c->cfg = config_ref(arg);
    pthread_mutex_unlock(&c->cfg_mu);
    if (c->dispatcher != NULL) {
        rebuild_pipeline(c);
        configure_heartbeats(c);
    }
    config_unref(old);
    return AR_OK;
}

void core_set_config(struct core *c, struct config *cfg)
{
    struct txn txn = {NULL, 0};

    /* The core thread reads c->cfg without the lock, so only it swaps the pointer. */
    if (c->started) {
        core_call(c, swap_config, cfg);
    } else {
        swap_config(c, &txn, cfg);
    }
}

size_t core_alert_count(struct core *c)
{
    return __atomic_load_n(&c->count, __ATOMIC_RELAXED);
}

struct txn_writer *core_writer(struct core *c)
{
    return c->writer;
}

struct silence_set *core_silences(struct core *c)
{
    return c->silences;
}

struct nflog *core_nflog(struct core *c)
{
    return c->nflog;
}

struct incident_set *core_incidents(struct core *c)
{
    return c->incidents;
}

static int stats_fn(struct core *c, struct txn *txn, void *arg)
{
    struct core_stats *out = arg;
    int64_t now = txn_now(txn);
    const struct dispatch_metrics *dm = dispatcher_metrics(c->dispatcher);
    struct alert *a;

    memset(out, 0, sizeof(*out));
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        const char *ids[1];
        uint64_t by;
        if (alert_resolved_at(a, now)) {
            continue;
        }
        if (silence_set_mutes(c->silences, &a->labels, now, ids, 1) > 0 ||
            inhibitor_check(c->inhibitor, &a->labels, a->fp, now, &by)) {
            out->alerts_suppressed++;
        } else {
            out->alerts_active++;
        }
    }
    silence_set_count(c->silences, now, out->silences);
    out->groups = dispatcher_group_count(c->dispatcher);
    out->nflog_entries = nflog_count(c->nflog);
    _Static_assert(INTEGRATION_TYPE_COUNT <= 32, "core_status.notifications has 32 slots");
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        out->notifications[t] = dm->notifications[t];
        out->notifications_failed[t] = dm->notifications_failed[t];
    }
    return AR_OK;
}

void core_stats(struct core *c, struct core_stats *out)
{
    core_call(c, stats_fn, out);
}

/* ---- durable outbox: replay ---- */

struct replay_arg {
    const struct outbox_row *row;
    struct ar_error *err;
};

static int replay_fn(struct core *c, struct txn *txn, void *arg)
{
    struct replay_arg *ra = arg;
    int rc;

    if (c->opt.notifier == NULL) {
        ar_error_set(ra->err, "no notifier to deliver with");
        return AR_ESTATE;
    }
    rc = dispatcher_resubmit(c->dispatcher, ra->row->id, ra->row->receiver, ra->row->integration,
                             ra->row->group_key, ra->row->payload, false, ra->err);
    if (rc == AR_OK) {
        outbox_record_event(txn, ra->row->id, "pending", "replayed", NULL);
    }
    return rc;
}

int core_outbox_replay(struct core *c, const struct outbox_row *row, struct ar_error *err)
{
    struct replay_arg ra = {row, err};

    return core_call(c, replay_fn, &ra);
}

/* ---- heartbeats ---- */

struct heartbeats_arg {
    struct heartbeat_status *st;
    size_t n;
};

static int heartbeats_fn(struct core *c, struct txn *txn, void *arg)
{
    struct heartbeats_arg *ha = arg;

    (void)txn;
    ha->n = heartbeat_set_status(c->heartbeats, &ha->st);
    return AR_OK;
}

size_t core_heartbeats(struct core *c, struct heartbeat_status **out)
{
    struct heartbeats_arg ha = {NULL, 0};

    core_call(c, heartbeats_fn, &ha);
    *out = ha.st;
    return ha.n;
}

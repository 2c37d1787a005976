/* Core and writer threads (ar/core.h).
 *
 * Core thread: the one owner of all routing state — the alert store, the silence set, the
 * notification log, the inhibitor and the dispatcher (groups and their timers). It pops
 * messages (ingest, snapshot, groups, call, send-done, stop) from a mutex-protected queue,
 * handles them, runs due group flushes, GC of resolved alerts (every gc_interval) and
 * maintenance (silence and nflog GC, outbox cleanup, every maintenance interval), keeps the
 * alert log compact, then hands one write batch per turn to the writer. API handlers reach
 * core state only through messages (core_call); the notifier thread reports back with
 * send-done messages. At start it loads alerts, silences, the nflog and pending deliveries,
 * and rebuilds the pipeline (also on every config swap). It also owns the lifetime of the
 * string pool that stored alerts point into (filled by the decoders, freed last).
 *
 * Writer thread: pops every queued batch, applies all of them inside one SQLite transaction,
 * commits, then signals the completions attached to those batches (group commit: a 200
 * means "in the database"): a waiting thread, or a callback for core_ingest_async (the HTTP
 * layer's deferred replies). A failed commit keeps the rows, answers the waiting requests with
 * AR_EDB, is retried every second and shows in /-/ready (core_commits_failing). Once a minute
 * it also measures the database and applies --storage.max-bytes (store_prune.c). */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ar/core.h"

#include "ar/alert_store.h"
#include "ar/clock.h"
#include "ar/dispatch.h"
#include "ar/inhibit.h"
#include "ar/log.h"
#include "ar/nflog.h"
#include "ar/notify.h"
#include "ar/outbox.h"
#include "ar/silence.h"
#include "ar/strpool.h"
#include "ar/textpack.h"
#include "ar/timefmt.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct completion {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int result;
    /* asynchronous (core_ingest_async): called instead of waking a waiter, then the
     * heap message that holds this completion is freed */
    void (*fn)(void *ctx, int result);
    void *ctx;
    void *owner;
};

static void completion_init(struct completion *c)
{
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->done = false;
    c->result = AR_OK;
}

static void completion_cleanup(struct completion *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static void completion_signal(struct completion *c, int result)
{
    if (c->fn != NULL) {
        void (*fn)(void *ctx, int result) = c->fn;
        void *ctx = c->ctx;
        void *owner = c->owner;
        fn(ctx, result);
        free(owner);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->result = result;
    c->done = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int completion_wait(struct completion *c)
{
    pthread_mutex_lock(&c->mu);
    while (!c->done) {
        pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return c->result;
}

enum msg_kind { MSG_INGEST, MSG_SNAPSHOT, MSG_GROUPS, MSG_CALL, MSG_SEND_DONE, MSG_STOP };

struct msg {
    enum msg_kind kind;
    struct msg *next;
    struct completion done;
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
    /* send done (heap message, no waiter) */
    struct send_ctx *sc;
    struct notify_result res;
};

enum op_kind { OP_PUT, OP_TOUCH, OP_DELETE, OP_EVENT, OP_TRUNCATE, OP_APPLY };

struct write_op {
    enum op_kind kind;
    struct alert *alert; /* reference; NULL for OP_TRUNCATE and OP_APPLY */
    const char *event;   /* static string for OP_EVENT */
    int64_t at_ns;       /* OP_EVENT: time of the change */
    int64_t seq;         /* OP_PUT/OP_DELETE: log position; OP_TRUNCATE: first row kept */
    int (*apply)(struct store *st, void *data); /* OP_APPLY */
    void *data;
    void (*free_data)(void *data);
};

struct write_batch {
    struct write_op *ops;
    size_t nops;
    size_t cap;
    struct completion **waiters; /* signalled after commit */
    size_t nwaiters;
    size_t wcap;
    struct write_batch *next;
};

struct core {
    struct store *store;
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

    pthread_mutex_t wmu; /* writer queue */
    pthread_cond_t wcv;
    struct write_batch *whead;
    struct write_batch *wtail;
    bool wstop;
    struct write_batch *retry; /* rows of a failed commit, tried again first */
    bool commit_failing;       /* the last commit failed (under wmu) */
    int64_t used_bytes;        /* database bytes in use at the last size check (atomic) */
    uint64_t pruned[STORE_PRUNE_KINDS]; /* rows pruned by the size cap (atomic) */
    char commit_error[256];    /* its cause (under wmu) */

    pthread_t core_thread;
    pthread_t writer_thread;
    bool started;
    size_t count;     /* alerts in memory, for metrics (written by core thread) */
    uint64_t commits; /* successful commits */
    uint64_t commit_ns_sum;                    /* total commit latency */
    uint64_t commit_bucket[CORE_COMMIT_BUCKETS]; /* cumulative histogram */

    /* alert_log bookkeeping (core thread) */
    int64_t next_seq;        /* next alert_log sequence number */
    size_t log_rows;         /* rows in alert_log once queued writes commit */
    struct alert **compact;  /* compaction: live alerts to re-append, NULL when idle */
    size_t ncompact;
    size_t compact_pos;
    int64_t compact_below;   /* rows with seq below this go once all are re-appended */
    size_t compact_rows;     /* log rows below compact_below */

    struct silence_set *silences;
    struct nflog *nflog;
    struct inhibitor *inhibitor;   /* for cfg */
    struct dispatcher *dispatcher; /* for cfg */
    struct dispatch_metrics dmetrics;

    /* durable outbox (ar/outbox.h), core thread */
    int64_t next_delivery_id;
    struct outbox_row **resume; /* pending rows loaded at start, re-submitted in turn one */
    size_t nresume;
};

struct core_txn {
    struct core *core;
    struct write_batch *batch;
    int64_t now;
};

int64_t core_txn_now(const struct core_txn *txn)
{
    return txn->now;
}

struct silence_set *core_txn_silences(struct core_txn *txn)
{
    return txn->core->silences;
}

static void batch_op(struct write_batch *b, enum op_kind kind, struct alert *a, const char *event,
                     int64_t at, int64_t seq)
{
    if (b->nops == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->ops = ar_realloc(b->ops, b->cap * sizeof(*b->ops));
    }
    b->ops[b->nops].kind = kind;
    b->ops[b->nops].alert = a ? alert_ref(a) : NULL;
    b->ops[b->nops].event = event;
    b->ops[b->nops].at_ns = at;
    b->ops[b->nops].seq = seq;
    b->ops[b->nops].apply = NULL;
    b->ops[b->nops].data = NULL;
    b->ops[b->nops].free_data = NULL;
    b->nops++;
}

void core_txn_write(struct core_txn *txn, int (*apply)(struct store *st, void *data),
                    void *data, void (*free_data)(void *data))
{
    struct write_batch *b = txn->batch;

    if (b == NULL) {
        /* completions handled by core_stop after the last turn: nothing commits any more */
        if (free_data != NULL) {
            free_data(data);
        }
        return;
    }
    batch_op(b, OP_APPLY, NULL, NULL, 0, 0);
    b->ops[b->nops - 1].apply = apply;
    b->ops[b->nops - 1].data = data;
    b->ops[b->nops - 1].free_data = free_data;
}

/* Appends a log row for a's current state. */
static void log_put(struct core *c, struct write_batch *b, struct alert *a)
{
    batch_op(b, OP_PUT, a, NULL, 0, c->next_seq++);
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

static void log_touch(struct core *c, struct write_batch *b, struct alert *a)
{
    batch_op(b, OP_TOUCH, a, NULL, 0, c->next_seq++);
    c->log_rows++;
}

static void log_delete(struct core *c, struct write_batch *b, struct alert *a)
{
    batch_op(b, OP_DELETE, a, NULL, 0, c->next_seq++);
    c->log_rows++;
}

static void batch_waiter(struct write_batch *b, struct completion *c)
{
    if (b->nwaiters == b->wcap) {
        b->wcap = b->wcap ? b->wcap * 2 : 16;
        b->waiters = ar_realloc(b->waiters, b->wcap * sizeof(*b->waiters));
    }
    b->waiters[b->nwaiters++] = c;
}

static void batch_free(struct write_batch *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->nops; i++) {
        alert_unref(b->ops[i].alert);
        if (b->ops[i].free_data != NULL) {
            b->ops[i].free_data(b->ops[i].data);
        }
    }
    free(b->ops);
    free(b->waiters);
    free(b);
}

/* Moves the ops of src to the end of dst (src keeps its waiters). */
static void batch_move_ops(struct write_batch *dst, struct write_batch *src)
{
    for (size_t i = 0; i < src->nops; i++) {
        if (dst->nops == dst->cap) {
            dst->cap = dst->cap ? dst->cap * 2 : 64;
            dst->ops = ar_realloc(dst->ops, dst->cap * sizeof(*dst->ops));
        }
        dst->ops[dst->nops++] = src->ops[i];
    }
    src->nops = 0;
}

static int apply_ops(struct store *st, const struct write_batch *b)
{
    for (size_t i = 0; i < b->nops; i++) {
        const struct write_op *op = &b->ops[i];
        int rc;
        switch (op->kind) {
        case OP_PUT:
            store_log_put(st, op->seq, op->alert);
            rc = AR_OK;
            break;
        case OP_TOUCH:
            store_log_touch(st, op->seq, op->alert);
            rc = AR_OK;
            break;
        case OP_DELETE:
            store_log_delete(st, op->seq, op->alert->fp);
            rc = AR_OK;
            break;
        case OP_TRUNCATE:
            rc = store_truncate_log(st, op->seq);
            break;
        case OP_APPLY:
            rc = op->apply(st, op->data);
            break;
        default:
            rc = store_add_alert_event(st, op->alert, op->event, op->at_ns);
            break;
        }
        if (rc != AR_OK) {
            return rc;
        }
    }
    return AR_OK;
}

static void *writer_main(void *arg)
{
    struct core *c = arg;

    for (;;) {
        struct write_batch *list;
        struct write_batch *all;
        bool stop;
        int rc;

        pthread_mutex_lock(&c->wmu);
        while (c->whead == NULL && !c->wstop) {
            if (c->retry == NULL) {
                pthread_cond_wait(&c->wcv, &c->wmu);
                continue;
            }
            /* rows of a failed commit wait: try again within a second even if nothing else
             * comes, so the store (and /-/ready) recovers once the disk does */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (pthread_cond_timedwait(&c->wcv, &c->wmu, &ts) != 0) {
                break;
            }
        }
        list = c->whead;
        c->whead = c->wtail = NULL;
        stop = c->wstop;
        pthread_mutex_unlock(&c->wmu);

        /* One transaction for the rows of every batch queued meanwhile, after any rows a
         * failed commit left behind. */
        all = c->retry ? c->retry : ar_calloc(1, sizeof(*all));
        c->retry = NULL;
        for (struct write_batch *b = list; b != NULL; b = b->next) {
            batch_move_ops(all, b);
        }
        rc = AR_OK;
        if (all->nops > 0) {
            int64_t t0 = clock_monotonic_ns();
            rc = store_begin(c->store);
            if (rc == AR_OK) {
                rc = apply_ops(c->store, all);
            }
            if (rc == AR_OK) {
                rc = store_commit(c->store);
            }
            pthread_mutex_lock(&c->wmu);
            if (rc != AR_OK) {
                if (!c->commit_failing) {
                    log_error("store", "commit of %zu changes to %s failed, will retry every "
                                       "second: %s", all->nops, store_path(c->store),
                              store_errmsg(c->store));
                }
                c->commit_failing = true;
                snprintf(c->commit_error, sizeof(c->commit_error), "%s: %s",
                         store_path(c->store), store_errmsg(c->store));
            } else if (c->commit_failing) {
                c->commit_failing = false;
                log_info("store", "commits succeed again (%zu changes)", all->nops);
            }
            pthread_mutex_unlock(&c->wmu);
            if (rc != AR_OK) {
                store_rollback(c->store);
            } else {
                int64_t took = clock_monotonic_ns() - t0;
                __atomic_add_fetch(&c->commits, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&c->commit_ns_sum, (uint64_t)took, __ATOMIC_RELAXED);
                for (int k = 0; k < CORE_COMMIT_BUCKETS; k++) {
                    if (took <= core_commit_bounds_ns[k]) {
                        __atomic_add_fetch(&c->commit_bucket[k], 1, __ATOMIC_RELAXED);
                    }
                }
                log_debug("store", "committed %zu changes in %.3f ms", all->nops,
                          (double)(clock_monotonic_ns() - t0) / 1e6);
            }
        }
        if (rc == AR_OK) {
            batch_free(all);
        } else {
            c->retry = all;
        }
        while (list != NULL) {
            struct write_batch *next = list->next;
            for (size_t i = 0; i < list->nwaiters; i++) {
                completion_signal(list->waiters[i], rc);
            }
            batch_free(list);
            list = next;
        }
        if (stop) {
            if (c->retry != NULL && c->retry->nops > 0) {
                /* last try at shutdown */
                if (store_begin(c->store) == AR_OK && apply_ops(c->store, c->retry) == AR_OK &&
                    store_commit(c->store) == AR_OK) {
                    log_info("store", "flushed %zu pending changes", c->retry->nops);
                } else {
                    store_rollback(c->store);
                    log_error("store", "could not flush %zu changes at shutdown",
                              c->retry->nops);
                }
            }
            batch_free(c->retry);
            c->retry = NULL;
            pthread_mutex_lock(&c->wmu);
            bool empty = c->whead == NULL;
            pthread_mutex_unlock(&c->wmu);
            if (empty) {
                return NULL;
            }
        }
    }
}

/* Queues for the writer thread. The waiter re-checks its queue under the lock before it
 * sleeps, so only an append to an empty queue needs a signal, and it is sent after the
 * unlock: signalling under the lock woke the writer straight into a held mutex. */
static void writer_submit(struct core *c, struct write_batch *b)
{
    bool was_empty;

    pthread_mutex_lock(&c->wmu);
    was_empty = c->whead == NULL;
    if (c->wtail) {
        c->wtail->next = b;
    } else {
        c->whead = b;
    }
    c->wtail = b;
    pthread_mutex_unlock(&c->wmu);
    if (was_empty) {
        pthread_cond_signal(&c->wcv);
    }
}

/* Merges one posted alert into the store and records the rows to write. */
static void ingest_one(struct core *c, struct alert *a, int64_t now, struct write_batch *b)
{
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
        batch_op(b, OP_EVENT, res, "firing", now, 0);
    } else if (!is_firing && (was_firing || old == NULL)) {
        batch_op(b, OP_EVENT, res, "resolved", now, 0);
    }
    if (old != NULL && only_times_changed(old, res)) {
        log_touch(c, b, res);
    } else {
        log_put(c, b, res);
    }
    alert_store_put_take(c->alerts, res);
    inhibitor_put(c->inhibitor, res);
    dispatcher_put(c->dispatcher, res, now, clock_monotonic_ns());
}

static void gc(struct core *c, int64_t now, struct write_batch *b)
{
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
        log_delete(c, b, victims[i]);
        batch_op(b, OP_EVENT, victims[i], "deleted", now, 0);
        inhibitor_remove(c->inhibitor, victims[i]->fp);
        alert_store_remove(c->alerts, victims[i]->fp);
    }
    free(victims);
    if (n > 0) {
        /* The freed alerts leave holes all over the heap; glibc keeps them mapped (the
         * resident size only ever rises between collections) unless asked to give free
         * pages back. Once per collection: measured at ~1 ms for a 300 MB heap. */
        int64_t t0 = clock_monotonic_ns();
        malloc_trim(0);
        log_info("core", "garbage-collected %zu resolved alerts (free pages returned in %.1f ms)",
                 n, (double)(clock_monotonic_ns() - t0) / 1e6);
    }
}

static void post(struct core *c, struct msg *m);

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

static void status_of(struct core *c, const struct alert *a, int64_t now,
                      struct alert_status *st)
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
    env.inhibitor = c->inhibitor;
    env.external_url = c->opt.external_url ? c->opt.external_url : "";
    env.retention_ns = c->opt.retention_ns;
    env.send_done = core_send_done;
    env.send_done_ctx = c;
    env.next_delivery_id = &c->next_delivery_id;
    env.deadline_ns = c->opt.notify_deadline_ns;
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

/* Keeps alert_log within about twice the live set: once it grows past that, every live
 * alert is re-appended (COMPACT_CHUNK per loop turn, so ingestion keeps flowing) and then
 * the rows written before the compaction started are deleted in one statement. */
#define SIZE_CHECK_INTERVAL_NS (60LL * AR_NS_PER_SEC) /* --storage.max-bytes */
#define COMPACT_CHUNK 20000
#define COMPACT_SLACK 10000

static void compact_step(struct core *c, struct write_batch *b)
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
        log_info("store", "compacting alert log: %zu rows for %zu live alerts", c->log_rows,
                 live);
    }
    for (size_t k = 0; k < COMPACT_CHUNK && c->compact_pos < c->ncompact; k++) {
        struct alert *cur;
        a = c->compact[c->compact_pos++];
        /* Re-append the current state in full: rows written since the compaction began may
         * be 'touch' rows that need a base, and that base is about to be truncated. */
        cur = alert_store_find(c->alerts, a->fp);
        if (cur != NULL) {
            log_put(c, b, cur);
        }
        alert_unref(a);
    }
    if (c->compact_pos == c->ncompact) {
        batch_op(b, OP_TRUNCATE, NULL, NULL, 0, c->compact_below);
        c->log_rows -= c->compact_rows;
        AR_FREE(c->compact);
        c->ncompact = 0;
    }
}

/* Re-submits the deliveries left pending by the previous run (crash, kill -9, restart)
 * with a fresh deadline; those whose receiver or integration is gone become dead letters. */
static void resume_deliveries(struct core *c, struct core_txn *txn)
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
static int size_check_apply(struct store *st, void *data)
{
    struct core *c = data;
    struct store_prune_stats ps = {0};
    int rc = store_prune_to_cap(st, c->opt.max_bytes, &ps);

    __atomic_store_n(&c->used_bytes, ps.used_bytes, __ATOMIC_RELAXED);
    for (int k = 0; k < STORE_PRUNE_KINDS; k++) {
        __atomic_add_fetch(&c->pruned[k], ps.pruned[k], __ATOMIC_RELAXED);
    }
    return rc;
}

static void no_free(void *data)
{
    (void)data;
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

static void *core_main(void *arg)
{
    struct core *c = arg;
    int64_t next_size_check = clock_monotonic_ns();
    int64_t next_gc = clock_monotonic_ns() + c->opt.gc_interval_ns;
    int64_t next_maintenance = clock_monotonic_ns() + c->opt.maintenance_interval_ns;
    bool stop = false;

    while (!stop) {
        struct msg *list;
        struct write_batch *b = ar_calloc(1, sizeof(*b));
        int64_t now;

        pthread_mutex_lock(&c->mu);
        while (c->head == NULL) {
            int64_t next = next_gc < next_maintenance ? next_gc : next_maintenance;
            next = next_size_check < next ? next_size_check : next;
            int64_t due = dispatcher_next_deadline(c->dispatcher);
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
        if (c->resume != NULL) {
            struct core_txn txn = {c, b, now};
            resume_deliveries(c, &txn);
        }
        for (struct msg *m = list, *next; m != NULL; m = next) {
            next = m->next;
            switch (m->kind) {
            case MSG_INGEST:
                for (size_t i = 0; i < m->nalerts; i++) {
                    ingest_one(c, m->alerts[i], now, b);
                }
                batch_waiter(b, &m->done);
                break;
            case MSG_SNAPSHOT:
                snapshot(c, m);
                completion_signal(&m->done, AR_OK);
                break;
            case MSG_GROUPS:
                groups_snapshot(c, m);
                completion_signal(&m->done, AR_OK);
                break;
            case MSG_SEND_DONE: {
                struct core_txn txn = {c, b, now};
                dispatcher_send_done(c->dispatcher, m->sc, &m->res, &txn);
                free(m); /* heap message: nobody waits for it */
                break;
            }
            case MSG_CALL: {
                struct core_txn txn = {c, b, now};
                size_t before = b->nops;
                m->call_result = m->fn(&txn, m->arg);
                if (b->nops > before) {
                    batch_waiter(b, &m->done); /* answered after the commit */
                } else {
                    completion_signal(&m->done, AR_OK);
                }
                break;
            }
            case MSG_STOP:
                stop = true;
                completion_signal(&m->done, AR_OK);
                break;
            }
        }
        if (clock_monotonic_ns() >= next_gc) {
            gc(c, clock_now_ns(), b);
            next_gc = clock_monotonic_ns() + c->opt.gc_interval_ns;
        }
        if (clock_monotonic_ns() >= next_size_check) {
            struct core_txn txn = {c, b, clock_now_ns()};
            core_txn_write(&txn, size_check_apply, c, no_free);
            /* once a minute, or at the maintenance interval when that is shorter */
            next_size_check = clock_monotonic_ns() +
                              (c->opt.maintenance_interval_ns < SIZE_CHECK_INTERVAL_NS
                                   ? c->opt.maintenance_interval_ns
                                   : SIZE_CHECK_INTERVAL_NS);
        }
        if (clock_monotonic_ns() >= next_maintenance) {
            struct core_txn txn = {c, b, clock_now_ns()};
            silence_set_gc(c->silences, txn.now, c->opt.retention_ns, &txn);
            nflog_gc(c->nflog, txn.now, &txn);
            outbox_gc(&txn, txn.now - c->opt.retention_ns);
            next_maintenance = clock_monotonic_ns() + c->opt.maintenance_interval_ns;
        }
        {
            struct core_txn txn = {c, b, clock_now_ns()};
            dispatcher_run(c->dispatcher, txn.now, clock_monotonic_ns(), &txn);
        }
        compact_step(c, b);
        __atomic_store_n(&c->count, alert_store_count(c->alerts), __ATOMIC_RELAXED);
        if (b->nops > 0 || b->nwaiters > 0) {
            writer_submit(c, b);
        } else {
            batch_free(b);
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

    c->store = st;
    c->opt = *opt;
    c->used_bytes = -1;
    if (c->opt.gc_interval_ns <= 0) {
        c->opt.gc_interval_ns = 30LL * 60 * AR_NS_PER_SEC;
    }
    if (c->opt.retention_ns <= 0) {
        c->opt.retention_ns = 120LL * 3600 * AR_NS_PER_SEC;
    }
    if (c->opt.maintenance_interval_ns <= 0) {
        c->opt.maintenance_interval_ns = 15LL * 60 * AR_NS_PER_SEC;
    }
    c->silences = silence_set_new();
    silence_set_limit(c->silences, c->opt.max_silences);
    c->alerts = alert_store_new();
    c->strings = strpool_new(0);
    c->texts = textpack_new(0);
    c->cfg = config_ref(cfg);
    pthread_mutex_init(&c->cfg_mu, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_mutex_init(&c->wmu, NULL);
    pthread_cond_init(&c->wcv, NULL);
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
    c->count = alert_store_count(c->alerts);
    log_info("core", "loaded %zu alerts from storage", c->count);
    *out = c;
    return AR_OK;
}

int core_start(struct core *c)
{
    if (pthread_create(&c->writer_thread, NULL, writer_main, c) != 0) {
        return AR_ENOMEM;
    }
    pthread_setname_np(c->writer_thread, "ar-writer"); /* visible in top -H, perf, /proc */
    if (pthread_create(&c->core_thread, NULL, core_main, c) != 0) {
        pthread_mutex_lock(&c->wmu);
        c->wstop = true;
        pthread_cond_signal(&c->wcv);
        pthread_mutex_unlock(&c->wmu);
        pthread_join(c->writer_thread, NULL);
        return AR_ENOMEM;
    }
    pthread_setname_np(c->core_thread, "ar-core");
    c->started = true;
    return AR_OK;
}

/* Queues a message for the core thread (signalled as writer_submit explains). */
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
    completion_init(&m.done);
    post(c, &m);
    completion_wait(&m.done);
    completion_cleanup(&m.done);
    pthread_join(c->core_thread, NULL);
    /* completions posted during the last turn */
    while (c->head != NULL) {
        struct msg *left = c->head;
        c->head = left->next;
        if (left->kind == MSG_SEND_DONE) {
            struct core_txn txn = {c, NULL, clock_now_ns()};
            struct notify_result r = left->res;
            r.ok = false; /* the log write could not commit any more */
            dispatcher_send_done(c->dispatcher, left->sc, &r, &txn);
            free(left);
        } else if (left->kind == MSG_INGEST && left->done.fn != NULL) {
            /* posted after the stop (the HTTP layer drains first, so only by misuse) */
            for (size_t i = 0; i < left->nalerts; i++) {
                alert_unref(left->alerts[i]);
            }
            completion_signal(&left->done, AR_EDB);
        }
    }
    c->tail = NULL;
    pthread_mutex_lock(&c->wmu);
    c->wstop = true;
    pthread_cond_signal(&c->wcv);
    pthread_mutex_unlock(&c->wmu);
    pthread_join(c->writer_thread, NULL);
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
    nflog_free(c->nflog);
    silence_set_free(c->silences);
    alert_store_free(c->alerts);
    config_unref(c->cfg);
    batch_free(c->retry);
    strpool_free(c->strings); /* last: alerts above may point into it */
    textpack_free(c->texts);  /* likewise: packed annotations need its dictionary */
    pthread_mutex_destroy(&c->cfg_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->wmu);
    pthread_cond_destroy(&c->wcv);
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
    completion_init(&m.done);
    post(c, &m);
    rc = completion_wait(&m.done);
    completion_cleanup(&m.done);
    return rc;
}

void core_ingest_async(struct core *c, struct alert **alerts, size_t n,
                       void (*done)(void *ctx, int rc), void *ctx)
{
    struct msg *m = ar_calloc(1, sizeof(*m));

    m->kind = MSG_INGEST;
    m->alerts = alerts;
    m->nalerts = n;
    m->done.fn = done;
    m->done.ctx = ctx;
    m->done.owner = m;
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
    completion_init(&m.done);
    post(c, &m);
    rc = completion_wait(&m.done);
    completion_cleanup(&m.done);
    if (m.call_result != AR_OK) {
        return m.call_result;
    }
    return rc;
}

size_t core_snapshot(struct core *c, int64_t now_ns, struct alert ***out,
                     struct alert_status **status_out)
{
    struct msg m;

    memset(&m, 0, sizeof(m));
    m.kind = MSG_SNAPSHOT;
    m.now_ns = now_ns;
    m.want_status = status_out != NULL;
    completion_init(&m.done);
    post(c, &m);
    completion_wait(&m.done);
    completion_cleanup(&m.done);
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
    completion_init(&m.done);
    post(c, &m);
    completion_wait(&m.done);
    completion_cleanup(&m.done);
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

static int swap_config(struct core_txn *txn, void *arg)
{
    struct core *c = txn->core;
    struct config *old;

    pthread_mutex_lock(&c->cfg_mu);
    old = c->cfg;
    c->cfg = config_ref(arg);
    pthread_mutex_unlock(&c->cfg_mu);
    if (c->dispatcher != NULL) {
        rebuild_pipeline(c);
    }
    config_unref(old);
    return AR_OK;
}

void core_set_config(struct core *c, struct config *cfg)
{
    struct core_txn txn = {c, NULL, 0};

    /* The core thread reads c->cfg without the lock, so only it swaps the pointer. */
    if (c->started) {
        core_call(c, swap_config, cfg);
    } else {
        swap_config(&txn, cfg);
    }
}

size_t core_alert_count(struct core *c)
{
    return __atomic_load_n(&c->count, __ATOMIC_RELAXED);
}

bool core_commits_failing(struct core *c, char *why, size_t n)
{
    bool failing;

    pthread_mutex_lock(&c->wmu);
    failing = c->commit_failing;
    if (failing && why != NULL && n > 0) {
        snprintf(why, n, "%s", c->commit_error);
    }
    pthread_mutex_unlock(&c->wmu);
    return failing;
}

uint64_t core_commits(struct core *c)
{
    return __atomic_load_n(&c->commits, __ATOMIC_RELAXED);
}

const int64_t core_commit_bounds_ns[CORE_COMMIT_BUCKETS] = {
    100000, 500000, 1000000, 5000000, 10000000, 50000000, 100000000, 1000000000};

void core_commit_latency(struct core *c, uint64_t buckets[CORE_COMMIT_BUCKETS],
                         uint64_t *sum_ns)
{
    for (int k = 0; k < CORE_COMMIT_BUCKETS; k++) {
        buckets[k] = __atomic_load_n(&c->commit_bucket[k], __ATOMIC_RELAXED);
    }
    *sum_ns = __atomic_load_n(&c->commit_ns_sum, __ATOMIC_RELAXED);
}

static int stats_fn(struct core_txn *txn, void *arg)
{
    struct core *c = txn->core;
    struct core_stats *out = arg;
    const struct dispatch_metrics *dm = dispatcher_metrics(c->dispatcher);
    struct alert *a;

    memset(out, 0, sizeof(*out));
    for (size_t it = 0; (a = alert_store_next(c->alerts, &it)) != NULL;) {
        const char *ids[1];
        uint64_t by;
        if (alert_resolved_at(a, txn->now)) {
            continue;
        }
        if (silence_set_mutes(c->silences, &a->labels, txn->now, ids, 1) > 0 ||
            inhibitor_check(c->inhibitor, &a->labels, a->fp, txn->now, &by)) {
            out->alerts_suppressed++;
        } else {
            out->alerts_active++;
        }
    }
    silence_set_count(c->silences, txn->now, out->silences);
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

static int replay_fn(struct core_txn *txn, void *arg)
{
    struct replay_arg *ra = arg;
    struct core *c = txn->core;
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

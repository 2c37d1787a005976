/* Transactions (ar/txn.h): write batches, waiters and the writer thread.
 *
 * A batch is the list of writes one core turn queued (typed alert log rows, or apply
 * callbacks with their data) and the waiters to answer after they commit. The writer thread
 * pops every queued batch, applies all of them inside one SQLite transaction, commits, then
 * answers the waiters of those batches (group commit: a 200 means "in the database"): a
 * waiting thread, or a callback (the HTTP layer's deferred replies). A failed commit keeps
 * the rows, answers the waiting requests with AR_EDB, is retried every second and shows in
 * txn_writer_failing (/-/ready). */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ar/txn.h"

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/log.h"
#include "ar/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- waiters ---- */

void txn_waiter_init(struct txn_waiter *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = false;
    w->result = AR_OK;
    w->fn = NULL;
    w->ctx = NULL;
    w->owner = NULL;
}

void txn_waiter_init_async(struct txn_waiter *w, void (*fn)(void *ctx, int result), void *ctx,
                           void *owner)
{
    w->fn = fn;
    w->ctx = ctx;
    w->owner = owner;
}

void txn_waiter_cleanup(struct txn_waiter *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

void txn_waiter_signal(struct txn_waiter *w, int result)
{
    if (w->fn != NULL) {
        void (*fn)(void *ctx, int result) = w->fn;
        void *ctx = w->ctx;
        void *owner = w->owner;
        fn(ctx, result);
        free(owner);
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->result = result;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int txn_waiter_wait(struct txn_waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        pthread_cond_wait(&w->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return w->result;
}

/* ---- batches ---- */

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

struct txn_batch {
    struct write_op *ops;
    size_t nops;
    size_t cap;
    struct txn_waiter **waiters; /* signalled after commit */
    size_t nwaiters;
    size_t wcap;
    struct txn_batch *next; /* writer queue */
};

int64_t txn_now(const struct txn *txn)
{
    return txn->now_ns;
}

struct txn_batch *txn_batch_new(void)
{
    return ar_calloc(1, sizeof(struct txn_batch));
}

size_t txn_batch_rows(const struct txn_batch *b)
{
    return b->nops;
}

bool txn_batch_empty(const struct txn_batch *b)
{
    return b->nops == 0 && b->nwaiters == 0;
}

static struct write_op *batch_op(struct txn_batch *b, enum op_kind kind, struct alert *a,
                                 const char *event, int64_t at, int64_t seq)
{
    struct write_op *op;

    if (b->nops == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->ops = ar_realloc(b->ops, b->cap * sizeof(*b->ops));
    }
    op = &b->ops[b->nops++];
    op->kind = kind;
    op->alert = a ? alert_ref(a) : NULL;
    op->event = event;
    op->at_ns = at;
    op->seq = seq;
    op->apply = NULL;
    op->data = NULL;
    op->free_data = NULL;
    return op;
}

void txn_write(struct txn *txn, int (*apply)(struct store *st, void *data), void *data,
               void (*free_data)(void *data))
{
    struct write_op *op;

    if (txn->batch == NULL) {
        /* completions handled by core_stop after the last turn: nothing commits any more */
        if (free_data != NULL) {
            free_data(data);
        }
        return;
    }
    op = batch_op(txn->batch, OP_APPLY, NULL, NULL, 0, 0);
    op->apply = apply;
    op->data = data;
    op->free_data = free_data;
}

void txn_alert_put(struct txn *txn, struct alert *a, int64_t seq)
{
    batch_op(txn->batch, OP_PUT, a, NULL, 0, seq);
}

void txn_alert_touch(struct txn *txn, struct alert *a, int64_t seq)
{
    batch_op(txn->batch, OP_TOUCH, a, NULL, 0, seq);
}

void txn_alert_delete(struct txn *txn, struct alert *a, int64_t seq)
{
    batch_op(txn->batch, OP_DELETE, a, NULL, 0, seq);
}

void txn_alert_event(struct txn *txn, struct alert *a, const char *event, int64_t at_ns)
{
    batch_op(txn->batch, OP_EVENT, a, event, at_ns, 0);
}

void txn_alert_truncate(struct txn *txn, int64_t first_kept_seq)
{
    batch_op(txn->batch, OP_TRUNCATE, NULL, NULL, 0, first_kept_seq);
}

void txn_wait(struct txn *txn, struct txn_waiter *w)
{
    struct txn_batch *b = txn->batch;

    if (b->nwaiters == b->wcap) {
        b->wcap = b->wcap ? b->wcap * 2 : 16;
        b->waiters = ar_realloc(b->waiters, b->wcap * sizeof(*b->waiters));
    }
    b->waiters[b->nwaiters++] = w;
}

void txn_batch_free(struct txn_batch *b)
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
static void batch_move_ops(struct txn_batch *dst, struct txn_batch *src)
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

static int apply_ops(struct store *st, const struct txn_batch *b)
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

/* ---- the writer thread ---- */

struct txn_writer {
    struct store *store;
    pthread_mutex_t mu; /* queue */
    pthread_cond_t cv;
    struct txn_batch *head;
    struct txn_batch *tail;
    bool stop;
    struct txn_batch *retry; /* rows of a failed commit, tried again first */
    bool failing;            /* the last commit failed (under mu) */
    char error[256];         /* its cause (under mu) */
    pthread_t thread;
    bool started;
    uint64_t commits;                           /* successful commits (atomic) */
    uint64_t commit_ns_sum;                     /* total commit latency (atomic) */
    uint64_t commit_bucket[TXN_COMMIT_BUCKETS]; /* cumulative histogram (atomic) */
};

const int64_t txn_commit_bounds_ns[TXN_COMMIT_BUCKETS] = {
    100000, 500000, 1000000, 5000000, 10000000, 50000000, 100000000, 1000000000};

static void *writer_main(void *arg)
{
    struct txn_writer *w = arg;

    for (;;) {
        struct txn_batch *list;
        struct txn_batch *all;
        bool stop;
        int rc;

        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stop) {
            if (w->retry == NULL) {
                pthread_cond_wait(&w->cv, &w->mu);
                continue;
            }
            /* rows of a failed commit wait: try again within a second even if nothing else
             * comes, so the store (and /-/ready) recovers once the disk does */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0) {
                break;
            }
        }
        list = w->head;
        w->head = w->tail = NULL;
        stop = w->stop;
        pthread_mutex_unlock(&w->mu);

        /* One transaction for the rows of every batch queued meanwhile, after any rows a
         * failed commit left behind. */
        all = w->retry ? w->retry : txn_batch_new();
        w->retry = NULL;
        for (struct txn_batch *b = list; b != NULL; b = b->next) {
            batch_move_ops(all, b);
        }
        rc = AR_OK;
        if (all->nops > 0) {
            int64_t t0 = clock_monotonic_ns();
            rc = store_begin(w->store);
            if (rc == AR_OK) {
                rc = apply_ops(w->store, all);
            }
            if (rc == AR_OK) {
                rc = store_commit(w->store);
            }
            pthread_mutex_lock(&w->mu);
            if (rc != AR_OK) {
                if (!w->failing) {
                    log_error("store",
                              "commit of %zu changes to %s failed, will retry every "
                              "second: %s",
                              all->nops, store_path(w->store), store_errmsg(w->store));
                }
                w->failing = true;
                snprintf(w->error, sizeof(w->error), "%s: %s", store_path(w->store),
                         store_errmsg(w->store));
            } else if (w->failing) {
                w->failing = false;
                log_info("store", "commits succeed again (%zu changes)", all->nops);
            }
            pthread_mutex_unlock(&w->mu);
            if (rc != AR_OK) {
                store_rollback(w->store);
            } else {
                int64_t took = clock_monotonic_ns() - t0;
                __atomic_add_fetch(&w->commits, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&w->commit_ns_sum, (uint64_t)took, __ATOMIC_RELAXED);
                for (int k = 0; k < TXN_COMMIT_BUCKETS; k++) {
                    if (took <= txn_commit_bounds_ns[k]) {
                        __atomic_add_fetch(&w->commit_bucket[k], 1, __ATOMIC_RELAXED);
                    }
                }
                log_debug("store", "committed %zu changes in %.3f ms", all->nops,
                          (double)(clock_monotonic_ns() - t0) / 1e6);
            }
        }
        if (rc == AR_OK) {
            txn_batch_free(all);
        } else {
            w->retry = all;
        }
        while (list != NULL) {
            struct txn_batch *next = list->next;
            for (size_t i = 0; i < list->nwaiters; i++) {
                txn_waiter_signal(list->waiters[i], rc);
            }
            txn_batch_free(list);
            list = next;
        }
        if (stop) {
            if (w->retry != NULL && w->retry->nops > 0) {
                /* last try at shutdown */
                if (store_begin(w->store) == AR_OK && apply_ops(w->store, w->retry) == AR_OK &&
                    store_commit(w->store) == AR_OK) {
                    log_info("store", "flushed %zu pending changes", w->retry->nops);
                } else {
                    store_rollback(w->store);
                    log_error("store", "could not flush %zu changes at shutdown", w->retry->nops);
                }
            }
            txn_batch_free(w->retry);
            w->retry = NULL;
            pthread_mutex_lock(&w->mu);
            bool empty = w->head == NULL;
            pthread_mutex_unlock(&w->mu);
            if (empty) {
                return NULL;
            }
        }
    }
}

struct txn_writer *txn_writer_new(struct store *st)
{
    struct txn_writer *w = ar_calloc(1, sizeof(*w));

    w->store = st;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return w;
}

int txn_writer_start(struct txn_writer *w)
{
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        return AR_ENOMEM;
    }
    pthread_setname_np(w->thread, "ar-writer"); /* visible in top -H, perf, /proc */
    w->started = true;
    return AR_OK;
}

/* The writer re-checks its queue under the lock before it sleeps, so only an append to an
 * empty queue needs a signal, and it is sent after the unlock: signalling under the lock
 * woke the writer straight into a held mutex. */
void txn_writer_submit(struct txn_writer *w, struct txn_batch *b)
{
    bool was_empty;

    pthread_mutex_lock(&w->mu);
    was_empty = w->head == NULL;
    if (w->tail) {
        w->tail->next = b;
    } else {
        w->head = b;
    }
    w->tail = b;
    pthread_mutex_unlock(&w->mu);
    if (was_empty) {
        pthread_cond_signal(&w->cv);
    }
}

void txn_writer_stop(struct txn_writer *w)
{
    if (w == NULL || !w->started) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void txn_writer_free(struct txn_writer *w)
{
    if (w == NULL) {
        return;
    }
    txn_batch_free(w->retry);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

uint64_t txn_writer_commits(struct txn_writer *w)
{
    return __atomic_load_n(&w->commits, __ATOMIC_RELAXED);
}

void txn_writer_commit_latency(struct txn_writer *w, uint64_t buckets[TXN_COMMIT_BUCKETS],
                               uint64_t *sum_ns)
{
    for (int k = 0; k < TXN_COMMIT_BUCKETS; k++) {
        buckets[k] = __atomic_load_n(&w->commit_bucket[k], __ATOMIC_RELAXED);
    }
    *sum_ns = __atomic_load_n(&w->commit_ns_sum, __ATOMIC_RELAXED);
}

bool txn_writer_failing(struct txn_writer *w, char *why, size_t n)
{
    bool failing;

    pthread_mutex_lock(&w->mu);
    failing = w->failing;
    if (failing && why != NULL && n > 0) {
        snprintf(why, n, "%s", w->error);
    }
    pthread_mutex_unlock(&w->mu);
    return failing;
}

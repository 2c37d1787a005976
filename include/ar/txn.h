/* Transactions: the write batch one turn of the core thread fills, the time that turn acts
 * at, the waiters answered once the batch is committed, and the writer thread that commits
 * every queued batch in one SQLite transaction (group commit: a waiter is answered only
 * after COMMIT, so a 200 always means "in the database").
 *
 * Modules that change durable state (silences, nflog, outbox, audit, ...) take a struct txn
 * and queue their rows with txn_write; they never see the core (ar/core.h), which only
 * schedules: it opens a batch per turn, passes txns down and hands the batch to the writer. */
#ifndef AR_TXN_H
#define AR_TXN_H

#include "ar/common.h"

#include <pthread.h>

struct alert;
struct store;

/* The rows queued during one turn and the waiters to answer after their commit. */
struct txn_batch;

/* What a module writing durable state gets: where its writes go and "now" for them. A
 * plain value built by the scheduler for each step of a turn. */
struct txn {
    struct txn_batch *batch; /* NULL once nothing commits any more (shutdown): writes dropped */
    int64_t now_ns;          /* wall clock this step acts at */
};

int64_t txn_now(const struct txn *txn);

/* Queues apply(st, data) in txn's transaction; free_data(data) runs after it (also when
 * the commit fails for good, or at once when txn has no batch). apply returns AR_OK or an
 * error that rolls back and retries. free_data may be NULL. */
void txn_write(struct txn *txn, int (*apply)(struct store *st, void *data), void *data,
               void (*free_data)(void *data));

/* Alert log rows (store_log_*, store_add_alert_event, store_truncate_log), queued without an
 * allocation each since ingestion writes one per posted alert. The batch holds a reference
 * to a until it is written; event is a static string. txn must have a batch. */
void txn_alert_put(struct txn *txn, struct alert *a, int64_t seq);
void txn_alert_touch(struct txn *txn, struct alert *a, int64_t seq);
void txn_alert_delete(struct txn *txn, struct alert *a, int64_t seq);
void txn_alert_event(struct txn *txn, struct alert *a, const char *event, int64_t at_ns);
void txn_alert_truncate(struct txn *txn, int64_t first_kept_seq);

/* ---- waiters ----
 *
 * A thread waiting for its request to be handled (txn_waiter_init / _wait / _cleanup), or a
 * callback run instead (txn_waiter_init_async). The scheduler embeds one in each request. */
struct txn_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int result;
    /* asynchronous: fn(ctx, result) runs instead of waking a waiter, then owner (the heap
     * request holding this waiter) is freed */
    void (*fn)(void *ctx, int result);
    void *ctx;
    void *owner;
};

void txn_waiter_init(struct txn_waiter *w);
void txn_waiter_init_async(struct txn_waiter *w, void (*fn)(void *ctx, int result), void *ctx,
                           void *owner);
void txn_waiter_cleanup(struct txn_waiter *w); /* not for async waiters */
/* Answers w with result: wakes its thread, or runs its callback and frees its owner. */
void txn_waiter_signal(struct txn_waiter *w, int result);
int txn_waiter_wait(struct txn_waiter *w); /* the result signalled */
/* Answers w after txn's batch commits: AR_OK, or AR_EDB when the commit failed. txn must
 * have a batch. */
void txn_wait(struct txn *txn, struct txn_waiter *w);

/* ---- batches ---- */

struct txn_batch *txn_batch_new(void);
/* Discards b without writing it: runs every free_data, drops the alert references. The
 * waiters are not answered. Accepts NULL. */
void txn_batch_free(struct txn_batch *b);
size_t txn_batch_rows(const struct txn_batch *b); /* writes queued so far */
bool txn_batch_empty(const struct txn_batch *b);  /* no writes and no waiters */

/* ---- the writer thread ----
 *
 * Pops every queued batch, applies all of them inside one transaction on the store, commits,
 * then answers their waiters. A failed commit keeps the rows, answers the waiters with
 * AR_EDB, is retried every second (also with nothing new queued, so the store recovers once
 * the disk does) and shows in txn_writer_failing. */
struct txn_writer;

struct txn_writer *txn_writer_new(struct store *st); /* st must outlive the writer */
int txn_writer_start(struct txn_writer *w);          /* starts the "ar-writer" thread */
/* Queues b (taken) for the next commit; any thread. */
void txn_writer_submit(struct txn_writer *w, struct txn_batch *b);
/* Commits what is queued (one last try for rows of a failed commit), stops and joins. */
void txn_writer_stop(struct txn_writer *w);
void txn_writer_free(struct txn_writer *w); /* accepts NULL; after txn_writer_stop */

/* Commit metrics: successful commits, latency histogram (cumulative buckets, upper bounds
 * in ns), and whether the last commit attempt failed (why gets the storage error). */
#define TXN_COMMIT_BUCKETS 8
extern const int64_t txn_commit_bounds_ns[TXN_COMMIT_BUCKETS];
uint64_t txn_writer_commits(struct txn_writer *w);
void txn_writer_commit_latency(struct txn_writer *w, uint64_t buckets[TXN_COMMIT_BUCKETS],
                               uint64_t *sum_ns);
bool txn_writer_failing(struct txn_writer *w, char *why, size_t n);

#endif

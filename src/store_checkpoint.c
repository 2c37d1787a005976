/* WAL checkpoints off the commit path (store_checkpoint.h).
 *
 * With SQLite's automatic checkpoint, the commit that pushes the WAL past its threshold
 * also copies the whole WAL (32 MiB at 8,192 pages) into the database before it returns,
 * so now and then one commit, and every POST waiting for it, takes tens to hundreds of
 * milliseconds longer: the ingest p99 tail. Here the writer's wal_hook only notes the WAL's
 * size after each commit and wakes this thread, which runs PASSIVE checkpoints on its own
 * connection: they copy what no reader still needs, never take the write lock, and the
 * writer goes on committing meanwhile. Passes repeat until the WAL is wholly copied (the
 * writer then starts the WAL from its beginning on its next commit), at most one wake-up
 * per 100 ms. Should the WAL still reach 8 times the threshold (the thread starved of
 * CPU), the writer checkpoints itself, as SQLite would have.
 *
 * Locking: mu guards pending and stop; the hook runs on the writer thread inside
 * sqlite3_step and only signals. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store_checkpoint.h"

#include "ar/clock.h"
#include "ar/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define MIN_GAP_NS   (100LL * AR_NS_PER_MS) /* between two wake-ups */
#define RETRY_NS     (20LL * AR_NS_PER_MS)  /* between passes while readers hold frames */
#define MAX_PASSES   50
#define INLINE_TIMES 8 /* WAL size, in thresholds, at which the writer checkpoints itself */

struct store_checkpointer {
    sqlite3 *db; /* the thread's own connection */
    int threshold;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool pending;
    bool stop;
    bool warned;
};

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / AR_NS_PER_SEC), (long)(ns % AR_NS_PER_SEC)};
    nanosleep(&ts, NULL);
}

/* One round: passes until every frame is in the database, or a pass fails. */
static void checkpoint_round(struct store_checkpointer *cp)
{
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        int log_frames = 0;
        int copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                           &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            if (!cp->warned) {
                log_warn("store", "WAL checkpoint failed: %s (retried after the next commits)",
                         sqlite3_errmsg(cp->db));
                cp->warned = true;
            }
            return;
        }
        cp->warned = false;
        if (rc == SQLITE_OK && copied >= log_frames) {
            return;
        }
        sleep_ns(RETRY_NS);
    }
}

static void *checkpointer_main(void *arg)
{
    struct store_checkpointer *cp = arg;

    pthread_setname_np(pthread_self(), "ar-checkpoint");
    pthread_mutex_lock(&cp->mu);
    while (!cp->stop) {
        if (!cp->pending) {
            pthread_cond_wait(&cp->cv, &cp->mu);
            continue;
        }
        cp->pending = false;
        pthread_mutex_unlock(&cp->mu);
        checkpoint_round(cp);
        sleep_ns(MIN_GAP_NS);
        pthread_mutex_lock(&cp->mu);
    }
    pthread_mutex_unlock(&cp->mu);
    return NULL;
}

/* The writer's wal_hook: after each commit, with the WAL's size in frames. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct store_checkpointer *cp = arg;

    if (frames < cp->threshold) {
        return SQLITE_OK;
    }
    if (frames >= INLINE_TIMES * cp->threshold) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    pthread_mutex_lock(&cp->mu);
    if (!cp->pending) {
        cp->pending = true;
        pthread_cond_signal(&cp->cv);
    }
    pthread_mutex_unlock(&cp->mu);
    return SQLITE_OK;
}

struct store_checkpointer *store_checkpointer_start(const char *path, sqlite3 *writer,
                                                    int threshold)
{
    struct store_checkpointer *cp = ar_calloc(1, sizeof(*cp));

    cp->threshold = threshold;
    if (sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(cp->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK) {
        log_warn("store",
                 "cannot open a checkpoint connection (%s): checkpoints stay on "
                 "the commit path",
                 cp->db != NULL ? sqlite3_errmsg(cp->db) : "out of memory");
        sqlite3_close(cp->db);
        free(cp);
        return NULL;
    }
    pthread_mutex_init(&cp->mu, NULL);
    pthread_cond_init(&cp->cv, NULL);
    if (pthread_create(&cp->thread, NULL, checkpointer_main, cp) != 0) {
        log_warn("store", "cannot start the checkpoint thread: checkpoints stay on the "
                          "commit path");
        pthread_mutex_destroy(&cp->mu);
        pthread_cond_destroy(&cp->cv);
        sqlite3_close(cp->db);
        free(cp);
        return NULL;
    }
    sqlite3_wal_hook(writer, on_commit, cp); /* replaces the automatic checkpoint */
    return cp;
}

void store_checkpointer_stop(struct store_checkpointer *cp)
{
    if (cp == NULL) {
        return;
    }
    pthread_mutex_lock(&cp->mu);
    cp->stop = true;
    pthread_cond_signal(&cp->cv);
    pthread_mutex_unlock(&cp->mu);
    pthread_join(cp->thread, NULL);
    pthread_mutex_destroy(&cp->mu);
    pthread_cond_destroy(&cp->cv);
    sqlite3_close(cp->db);
    free(cp);
}

/* Unit tests for transactions (ar/txn.h) without a core: writes dropped or discarded run
 * their free_data, the writer thread commits a batch against a real SQLite file before it
 * answers the batch's waiters, and a failed commit answers AR_EDB, shows as failing and is
 * retried within about a second until it succeeds. */
#include "ar/store.h"
#include "ar/txn.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct probe {
    int applied;   /* apply calls (writer thread) */
    int fail_left; /* apply calls still to fail */
    int freed;     /* free_data calls */
};

static int probe_apply(struct store *st, void *data)
{
    struct probe *p = data;

    __atomic_add_fetch(&p->applied, 1, __ATOMIC_SEQ_CST);
    if (p->fail_left > 0) {
        p->fail_left--;
        return AR_EDB;
    }
    return AR_OK;
}

static void probe_free(void *data)
{
    struct probe *p = data;

    __atomic_add_fetch(&p->freed, 1, __ATOMIC_SEQ_CST);
}

static void test_dropped_and_discarded(void)
{
    struct probe p = {0};
    struct txn gone = {NULL, 5};
    struct txn txn = {txn_batch_new(), 7};

    CHECK_INT(txn_now(&txn), 7);
    txn_write(&gone, probe_apply, &p, probe_free); /* after shutdown: freed at once */
    CHECK_INT(p.freed, 1);
    CHECK(txn_batch_empty(txn.batch));
    txn_write(&txn, probe_apply, &p, probe_free);
    txn_write(&txn, probe_apply, &p, NULL);
    CHECK_INT(txn_batch_rows(txn.batch), 2);
    CHECK(!txn_batch_empty(txn.batch));
    CHECK_INT(p.freed, 1);
    txn_batch_free(txn.batch); /* discarded: never applied, data freed */
    CHECK_INT(p.applied, 0);
    CHECK_INT(p.freed, 2);
}

/* Queues one probe write in a new batch, submits it and waits for its answer. */
static int commit_one(struct txn_writer *w, struct probe *p)
{
    struct txn txn = {txn_batch_new(), 1};
    struct txn_waiter done;
    int rc;

    txn_write(&txn, probe_apply, p, probe_free);
    txn_waiter_init(&done);
    txn_wait(&txn, &done);
    txn_writer_submit(w, txn.batch);
    rc = txn_waiter_wait(&done);
    txn_waiter_cleanup(&done);
    return rc;
}

static void test_writer(const char *dir)
{
    struct ar_error err;
    struct store *st = NULL;
    struct txn_writer *w;
    struct probe ok = {0};
    struct probe bad = {.fail_left = 1};
    char why[256] = "";
    uint64_t buckets[TXN_COMMIT_BUCKETS];
    uint64_t sum_ns;

    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    w = txn_writer_new(st);
    CHECK_INT(txn_writer_start(w), AR_OK);

    CHECK_INT(commit_one(w, &ok), AR_OK);
    CHECK_INT(ok.applied, 1);
    CHECK_INT(ok.freed, 1);
    CHECK_INT(txn_writer_commits(w), 1);
    txn_writer_commit_latency(w, buckets, &sum_ns);
    CHECK_INT(buckets[TXN_COMMIT_BUCKETS - 1], 1); /* under a second */
    CHECK(!txn_writer_failing(w, why, sizeof(why)));

    /* the first apply fails: the waiter hears AR_EDB, the rows are kept and retried */
    CHECK_INT(commit_one(w, &bad), AR_EDB);
    CHECK(txn_writer_failing(w, why, sizeof(why)));
    CHECK(strstr(why, dir) != NULL);
    CHECK_INT(bad.freed, 0);
    for (int i = 0; i < 40 && txn_writer_failing(w, NULL, 0); i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(!txn_writer_failing(w, NULL, 0));
    CHECK_INT(__atomic_load_n(&bad.applied, __ATOMIC_SEQ_CST), 2);
    CHECK_INT(__atomic_load_n(&bad.freed, __ATOMIC_SEQ_CST), 1);
    CHECK_INT(txn_writer_commits(w), 2);

    txn_writer_stop(w);
    txn_writer_free(w);
    store_close(st);
}

int main(void)
{
    char dir[] = "/tmp/ar-txn-test-XXXXXX";
    char cmd[600];

    test_dropped_and_discarded();
    CHECK(mkdtemp(dir) != NULL);
    test_writer(dir);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    return CHECK_DONE();
}

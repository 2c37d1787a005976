/* Unit tests for the notification log: the dedup rule row by row (COMPAT 5.7) and
 * persistence through a real SQLite file across a restart. */
#include "ar/clock.h"
#include "ar/core.h"
#include "ar/nflog.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) ((int64_t)(x)*AR_NS_PER_SEC)

static void test_dedup(void)
{
    struct nflog *l = nflog_new();
    const struct nflog_entry *e;
    uint64_t f12[] = {1, 2};
    uint64_t f1[] = {1};
    uint64_t f123[] = {1, 2, 3};
    uint64_t r2[] = {2};
    uint64_t r23[] = {2, 3};
    struct txn txn = {txn_batch_new(), S(100)};

    /* rows 1-2: no entry */
    CHECK(nflog_needs_send(NULL, f1, 1, NULL, 0, true, S(100), S(60)));
    CHECK(!nflog_needs_send(NULL, NULL, 0, r2, 1, true, S(100), S(60)));
    nflog_record(l, "r", "webhook[0]", "{}:{}", S(100), f12, 2, NULL, 0, S(1000), &txn);
    e = nflog_find(l, "r/webhook[0]/{}:{}");
    CHECK(e != NULL);
    /* row 3: a new firing alert */
    CHECK(nflog_needs_send(e, f123, 3, NULL, 0, true, S(101), S(60)));
    /* unchanged, within repeat interval: no (row 7); after it: yes (row 6) */
    CHECK(!nflog_needs_send(e, f12, 2, NULL, 0, true, S(101), S(60)));
    CHECK(nflog_needs_send(e, f12, 2, NULL, 0, true, S(161), S(60)));
    /* a subset still firing: no change in firing set */
    CHECK(!nflog_needs_send(e, f1, 1, NULL, 0, false, S(101), S(60)));
    /* row 5: newly resolved, only with send_resolved */
    CHECK(nflog_needs_send(e, f1, 1, r2, 1, true, S(101), S(60)));
    CHECK(!nflog_needs_send(e, f1, 1, r2, 1, false, S(101), S(60)));
    /* row 4: everything resolved: yes, even without send_resolved */
    CHECK(nflog_needs_send(e, NULL, 0, f12, 2, false, S(101), S(60)));
    nflog_record(l, "r", "webhook[0]", "{}:{}", S(102), NULL, 0, r23, 2, S(1000), &txn);
    e = nflog_find(l, "r/webhook[0]/{}:{}");
    CHECK(!nflog_needs_send(e, NULL, 0, r23, 2, true, S(103), S(60)));
    CHECK_INT(nflog_count(l), 1);
    CHECK_INT(txn_batch_rows(txn.batch), 2); /* each send queued for persistence */
    txn_batch_free(txn.batch);
    nflog_free(l);
}

struct rec_arg {
    struct nflog *l;
    int64_t now;
};

static int record_fn(struct core *c, struct txn *txn, void *arg)
{
    struct rec_arg *a = arg;
    uint64_t f[] = {7, 3};

    nflog_record(a->l, "team", "webhook[1]", "{}:{alertname=\"A\"}", a->now, f, 2, NULL, 0,
                 a->now + S(3600), txn);
    nflog_record(a->l, "team", "webhook[2]", "{}:{}", a->now, f, 1, NULL, 0, a->now + S(1), txn);
    return AR_OK;
}

static int gc_fn(struct core *c, struct txn *txn, void *arg)
{
    struct rec_arg *a = arg;

    nflog_gc(a->l, a->now + S(2), txn);
    return AR_OK;
}

static void test_persistence(void)
{
    char dir[] = "/tmp/ar-nflog-test-XXXXXX";
    struct config *cfg = NULL;
    struct ar_error err;
    struct store *st = NULL;
    struct core *c = NULL;
    struct core_options opt = {0};
    struct rec_arg arg;
    struct nflog *l = nflog_new();
    const struct nflog_entry *e;
    char cmd[600];

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(config_load_string(config_default_text(), "<embedded>", &cfg, &err), AR_OK);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(core_new(st, cfg, &opt, &c), AR_OK);
    CHECK_INT(core_start(c), AR_OK);
    arg.l = l;
    arg.now = clock_now_ns();
    CHECK_INT(core_call(c, record_fn, &arg), AR_OK);
    CHECK_INT(core_call(c, gc_fn, &arg), AR_OK); /* drops the 1 s entry */
    CHECK_INT(nflog_count(l), 1);
    core_stop(c);
    core_free(c);
    nflog_free(l);

    l = nflog_new();
    CHECK_INT(nflog_load(l, st, arg.now), AR_OK);
    CHECK_INT(nflog_count(l), 1);
    e = nflog_find(l, "team/webhook[1]/{}:{alertname=\"A\"}");
    CHECK(e != NULL);
    if (e != NULL) {
        CHECK_INT(e->nfiring, 2);
        CHECK(e->firing[0] == 3 && e->firing[1] == 7);
        CHECK(e->sent_at == arg.now);
        CHECK_STR(e->group_key, "{}:{alertname=\"A\"}");
    }
    nflog_free(l);
    store_close(st);
    config_unref(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    test_dedup();
    test_persistence();
    return CHECK_DONE();
}

/* Unit tests of the local side of replication (docs/ha.md, "Replication of silences and the
 * notification log"), on a real SQLite file: own rows (origin NULL) are what the publisher
 * reads and counts as queued, received rows keep their origin and are never read for
 * publication, the commit hook fires only after a commit that wrote own rows, ids are not
 * reused after the newest row is deleted (AUTOINCREMENT, migrations/0013), and the merge
 * rules: last writer (updated_at / sent_at) wins. */
#include "ar/nflog.h"
#include "ar/silence.h"
#include "ar/store.h"
#include "ar/store_nflog.h"
#include "ar/store_replica.h"
#include "ar/store_silences.h"
#include "ar/txn.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct silence *make_silence(const char *id, int64_t updated_at)
{
    struct silence *s = ar_calloc(1, sizeof(*s));
    struct matcher *m = NULL;
    struct ar_error err;

    snprintf(s->id, sizeof(s->id), "%s", id);
    matcher_list_init(&s->matchers);
    CHECK(matcher_new("alertname", MATCHER_EQ, "X", &m, &err) == AR_OK);
    matcher_list_add_take(&s->matchers, m);
    s->starts_at = 1000;
    s->ends_at = 4000000000000000000LL;
    s->updated_at = updated_at;
    s->created_by = ar_strdup("me");
    s->comment = ar_strdup("c");
    return s;
}

static struct nflog_entry *make_entry(const char *key, int64_t sent_at)
{
    struct nflog_entry *e = ar_calloc(1, sizeof(*e));

    e->key = ar_strdup(key);
    e->receiver = ar_strdup("team");
    e->integration = ar_strdup("webhook[0]");
    e->group_key = ar_strdup("{}");
    e->sent_at = sent_at;
    e->firing = ar_calloc(1, sizeof(uint64_t));
    e->firing[0] = 0x42;
    e->nfiring = 1;
    e->expires_at = 4000000000000000000LL;
    return e;
}

static int hooked;

static void hook(void *ctx)
{
    (void)ctx;
    hooked++;
}

struct seen {
    int64_t ids[8];
    size_t n;
};

static int see_silence(int64_t seq, const char *event, int64_t at_ns, const struct silence *s,
                       void *ctx)
{
    struct seen *v = ctx;

    (void)event;
    (void)at_ns;
    (void)s;
    if (v->n < 8) {
        v->ids[v->n++] = seq;
    }
    return 0;
}

static int see_entry(int64_t id, const struct nflog_entry *e, void *ctx)
{
    struct seen *v = ctx;

    (void)e;
    if (v->n < 8) {
        v->ids[v->n++] = id;
    }
    return 0;
}

static void test_local_rows(void)
{
    char dir[] = "/tmp/ar-test-ha-XXXXXX";
    struct store *st = NULL;
    struct store_replica *rep = NULL;
    struct ar_error err;
    struct silence *own = make_silence("11111111-1111-4111-8111-111111111111", 5);
    struct silence *theirs = make_silence("22222222-2222-4222-8222-222222222222", 6);
    struct nflog_entry *e = make_entry("team/webhook[0]/{}", 7);
    struct seen v = {0};
    char cmd[600];
    size_t n = 0;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    store_set_commit_hook(st, hook, NULL);
    CHECK_INT(store_replica_open(dir, &rep, &err), AR_OK);

    /* received rows only: no hook, nothing to publish */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_append_from(st, theirs, "created", 1, "PEER"), AR_OK);
    CHECK_INT(store_nflog_append_from(st, e, "PEER"), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(hooked, 0);
    CHECK_INT(store_replica_pending(rep, 0, 0), 0);

    /* own rows: the hook runs once per commit, after it */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_append(st, own, "created", 2), AR_OK);
    CHECK_INT(store_nflog_append(st, e), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(hooked, 1);
    /* a rolled-back own write does not wake anyone later */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_append(st, own, "updated", 3), AR_OK);
    store_rollback(st);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_append_from(st, theirs, "updated", 4, "PEER"), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(hooked, 1);

    CHECK_INT(store_replica_pending(rep, 0, 0), 2);
    CHECK_INT(store_replica_silences(rep, 0, 10, see_silence, &v, &n), AR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(v.ids[0], 2); /* seq 1 and 3 are the peer's */
    CHECK_INT(store_replica_pending(rep, 2, 0), 1);
    v.n = 0;
    CHECK_INT(store_replica_nflog(rep, 0, 10, see_entry, &v, &n), AR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(v.ids[0], 2);
    CHECK_INT(store_replica_pending(rep, 2, 2), 0);

    /* the newest seq deleted (GC): the next row does not reuse it */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_delete(st, theirs->id), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_silence_append(st, own, "expired", 5), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    v.n = 0;
    CHECK_INT(store_replica_silences(rep, 2, 10, see_silence, &v, &n), AR_OK);
    CHECK_INT(n, 1);
    CHECK_INT(v.ids[0], 4);

    store_replica_close(rep);
    store_close(st);
    silence_free(own);
    silence_free(theirs);
    nflog_entry_free(e);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

static void test_merge(void)
{
    struct silence_set *set = silence_set_new();
    struct nflog *l = nflog_new();
    struct txn txn = {NULL, 100}; /* no batch: the queued writes are dropped */
    const char *id = "33333333-3333-4333-8333-333333333333";

    CHECK(silence_set_merge(set, make_silence(id, 10), "PEER", 100, &txn));
    CHECK_INT(silence_set_size(set), 1);
    /* an older or equal version loses; a newer one (an expiry, say) wins */
    CHECK(!silence_set_merge(set, make_silence(id, 9), "PEER", 100, &txn));
    CHECK(!silence_set_merge(set, make_silence(id, 10), "PEER", 100, &txn));
    {
        struct silence *later = make_silence(id, 20);
        later->ends_at = 20;
        CHECK(silence_set_merge(set, later, "PEER", 100, &txn));
    }
    CHECK_INT(silence_set_size(set), 1);
    CHECK_INT(silence_set_find(set, id)->ends_at, 20);

    CHECK(nflog_merge(l, make_entry("k", 50), "PEER", &txn));
    CHECK(!nflog_merge(l, make_entry("k", 40), "PEER", &txn));
    CHECK(nflog_merge(l, make_entry("k", 60), "PEER", &txn));
    CHECK_INT(nflog_find(l, "k")->sent_at, 60);
    CHECK_INT(nflog_count(l), 1);

    silence_set_free(set);
    nflog_free(l);
}

int main(void)
{
    test_local_rows();
    test_merge();
    return CHECK_DONE();
}

/* Unit tests for silences: states, Alertmanager 0.25's update-in-place versus new-id rules,
 * validation messages, matching, expiry, GC, and a persistence round trip through a real
 * SQLite file via the core (core_call commits before returning). */
#include "ar/clock.h"
#include "ar/core.h"
#include "ar/silence.h"
#include "ar/txn.h"
#include "check.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEC AR_NS_PER_SEC

struct spec {
    const char *name;
    enum matcher_op op;
    const char *value;
};

/* Fills r with the matchers (up to 4) and times; r owns copies. */
static void mkreq(struct silence_request *r, const char *id, const struct spec *ms, size_t n,
                  int64_t starts, int64_t ends)
{
    memset(r, 0, sizeof(*r));
    r->id = id ? ar_strdup(id) : NULL;
    r->matchers = ar_calloc(n ? n : 1, sizeof(*r->matchers));
    for (size_t i = 0; i < n; i++) {
        r->matchers[i].name = ar_strdup(ms[i].name);
        r->matchers[i].value = ar_strdup(ms[i].value);
        r->matchers[i].op = ms[i].op;
    }
    r->nmatchers = n;
    r->starts_at = starts;
    r->ends_at = ends;
    r->created_by = ar_strdup("me");
    r->comment = ar_strdup("c");
}

static int upsert(struct silence_set *set, const char *id, const struct spec *ms, size_t n,
                  int64_t starts, int64_t ends, int64_t now, char out[37], struct ar_error *err)
{
    struct silence_request r;
    struct txn txn = {txn_batch_new(), now};
    int rc;

    mkreq(&r, id, ms, n, starts, ends);
    rc = silence_set_upsert(set, &r, now, &txn, out, err);
    silence_request_cleanup(&r);
    txn_batch_free(txn.batch); /* the writes are not committed here */
    return rc;
}

static const struct spec AB[] = {{"a", MATCHER_EQ, "b"}};

static void test_states(void)
{
    struct silence s = {.starts_at = 10, .ends_at = 20};

    CHECK_INT(silence_state_at(&s, 9), SILENCE_PENDING);
    CHECK_INT(silence_state_at(&s, 10), SILENCE_ACTIVE);
    CHECK_INT(silence_state_at(&s, 20), SILENCE_ACTIVE);
    CHECK_INT(silence_state_at(&s, 21), SILENCE_EXPIRED);
    CHECK_STR(silence_state_name(SILENCE_PENDING), "pending");
    CHECK_STR(silence_state_name(SILENCE_ACTIVE), "active");
    CHECK_STR(silence_state_name(SILENCE_EXPIRED), "expired");
}

static void test_validation(void)
{
    static const struct {
        struct spec m[2];
        size_t n;
        const char *msg;
    } cases[] = {
        {{{"a-b", MATCHER_EQ, "x"}},
         1,
         "silence invalid: invalid label matcher 0: invalid label name \"a-b\""},
        {{{"", MATCHER_EQ, "x"}},
         1,
         "silence invalid: invalid label matcher 0: invalid label name \"\""},
        {{{"a\n", MATCHER_EQ, "x"}},
         1,
         "silence invalid: invalid label matcher 0: invalid label name \"a\\n\""},
        {{{"a", MATCHER_RE, "("}},
         1,
         "silence invalid: invalid label matcher 0: invalid regular expression \"(\": error "
         "parsing regexp: missing closing ): `(`"},
        {{{"a", MATCHER_EQ, "b"}, {"b", MATCHER_RE, "a**"}},
         2,
         "silence invalid: invalid label matcher 1: invalid regular expression \"a**\": error "
         "parsing regexp: invalid nested repetition operator: `**`"},
        {{{"a", MATCHER_EQ, ""}},
         1,
         "silence invalid: at least one matcher must not match the empty string"},
        {{{"a", MATCHER_RE, ".*"}, {"b", MATCHER_EQ, ""}},
         2,
         "silence invalid: at least one matcher must not match the empty string"},
        {{{"a", MATCHER_RE, ".*"}, {"b", MATCHER_NE, "x"}}, 2, NULL}, /* != never counts */
        {{{"a", MATCHER_NRE, ".*"}}, 1, NULL},
        {{{"a", MATCHER_RE, "x|"}},
         1,
         "silence invalid: at least one matcher must not match the empty string"},
    };
    int64_t now = clock_now_ns();

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct silence_set *set = silence_set_new();
        struct ar_error err;
        char id[37];
        int rc = upsert(set, NULL, cases[i].m, cases[i].n, now, now + 3600 * SEC, now, id, &err);
        if (cases[i].msg == NULL) {
            CHECK_INT(rc, AR_OK);
            CHECK_INT(silence_set_size(set), 1);
        } else {
            CHECK_INT(rc, AR_EINVAL);
            CHECK_STR(err.msg, cases[i].msg);
            CHECK_INT(silence_set_size(set), 0);
        }
        silence_set_free(set);
    }
}

static void test_create_update(void)
{
    struct silence_set *set = silence_set_new();
    struct ar_error err;
    int64_t now = clock_now_ns();
    char id[37];
    char id2[37];
    const struct silence *s;
    uint64_t gen;
    static const struct spec OTHER[] = {{"a", MATCHER_EQ, "c"}};

    /* creation: start in the past is clamped to now; UUID v4 */
    CHECK_INT(upsert(set, NULL, AB, 1, now - 60 * SEC, now + 3600 * SEC, now, id, &err), AR_OK);
    CHECK_INT(strlen(id), 36);
    CHECK(id[14] == '4');
    CHECK(strchr("89ab", id[19]) != NULL);
    s = silence_set_find(set, id);
    CHECK(s != NULL && s->starts_at == now && s->updated_at == now);
    CHECK_INT(silence_state_at(s, now), SILENCE_ACTIVE);

    /* unknown id */
    CHECK_INT(
        upsert(set, "5e510a03-8d98-42ea-b1dd-46fad73c1350", AB, 1, now, now + SEC, now, id2, &err),
        AR_ENOTFOUND);
    CHECK_STR(err.msg, "silence not found");

    /* active: same matchers, same start second -> in place (start taken as sent) */
    gen = silence_set_generation(set);
    int64_t sec_start = (now / SEC) * SEC;
    CHECK_INT(upsert(set, id, AB, 1, sec_start, now + 7200 * SEC, now + SEC, id2, &err), AR_OK);
    CHECK_STR(id2, id);
    s = silence_set_find(set, id);
    CHECK(s->ends_at == now + 7200 * SEC && s->starts_at == sec_start);
    CHECK(s->updated_at == now + SEC);
    CHECK(silence_set_generation(set) > gen);
    CHECK_INT(silence_set_size(set), 1);

    /* active: a start in another second -> new id, old one expired */
    CHECK_INT(
        upsert(set, id, AB, 1, sec_start + 2 * SEC, now + 7200 * SEC, now + 2 * SEC, id2, &err),
        AR_OK);
    CHECK(strcmp(id2, id) != 0);
    CHECK_INT(silence_set_size(set), 2);
    s = silence_set_find(set, id);
    CHECK(s->ends_at == now + 2 * SEC);
    CHECK_INT(silence_state_at(s, now + 3 * SEC), SILENCE_EXPIRED);
    s = silence_set_find(set, id2);
    CHECK(s->starts_at == now + 2 * SEC);

    /* expired silences are never updated in place */
    char id3[37];
    CHECK_INT(upsert(set, id, AB, 1, now + 10 * SEC, now + 7200 * SEC, now + 3 * SEC, id3, &err),
              AR_OK);
    CHECK(strcmp(id3, id) != 0 && strcmp(id3, id2) != 0);
    CHECK_INT(silence_set_size(set), 3);

    /* pending: start not in the past -> in place; start in the past -> new id */
    char pid[37];
    char pid2[37];
    CHECK_INT(upsert(set, NULL, AB, 1, now + 100 * SEC, now + 200 * SEC, now, pid, &err), AR_OK);
    CHECK_INT(silence_state_at(silence_set_find(set, pid), now), SILENCE_PENDING);
    CHECK_INT(upsert(set, pid, AB, 1, now + 50 * SEC, now + 300 * SEC, now, pid2, &err), AR_OK);
    CHECK_STR(pid2, pid);
    CHECK(silence_set_find(set, pid)->starts_at == now + 50 * SEC);
    /* different matchers -> new id, the pending one expired (start = end = now) */
    CHECK_INT(upsert(set, pid, OTHER, 1, now + 50 * SEC, now + 300 * SEC, now + SEC, pid2, &err),
              AR_OK);
    CHECK(strcmp(pid2, pid) != 0);
    s = silence_set_find(set, pid);
    CHECK(s->starts_at == now + SEC && s->ends_at == now + SEC);

    /* invalid replacement: the old silence is still expired first (0.25) */
    static const struct spec BAD[] = {{"a-b", MATCHER_EQ, "x"}};
    size_t before = silence_set_size(set);
    CHECK_INT(upsert(set, pid2, BAD, 1, now + 50 * SEC, now + 300 * SEC, now + 2 * SEC, id3, &err),
              AR_EINVAL);
    CHECK_INT(silence_set_size(set), before);
    s = silence_set_find(set, pid2);
    CHECK_INT(silence_state_at(s, now + 3 * SEC), SILENCE_EXPIRED);
    silence_set_free(set);
}

static void test_expire_mutes_count_gc(void)
{
    struct silence_set *set = silence_set_new();
    struct ar_error err;
    int64_t now = clock_now_ns();
    char active[37];
    char pending[37];
    char other[37];
    const char *out[4];
    struct labelset ls;
    struct txn txn = {txn_batch_new(), now};
    struct txn gc = {txn_batch_new(), now};
    size_t counts[3];
    static const struct spec RE[] = {{"job", MATCHER_RE, "api|web"}, {"env", MATCHER_NE, "dev"}};

    CHECK_INT(upsert(set, NULL, AB, 1, now, now + 100 * SEC, now, active, &err), AR_OK);
    CHECK_INT(upsert(set, NULL, AB, 1, now + 10 * SEC, now + 100 * SEC, now, pending, &err), AR_OK);
    CHECK_INT(upsert(set, NULL, RE, 2, now, now + 100 * SEC, now, other, &err), AR_OK);

    labelset_init(&ls);
    labelset_set(&ls, "a", "b");
    CHECK_INT(silence_set_mutes(set, &ls, now + SEC, out, 4), 1);
    CHECK_STR(out[0], active);
    labelset_set(&ls, "job", "web");
    CHECK_INT(silence_set_mutes(set, &ls, now + SEC, out, 4), 2);
    labelset_set(&ls, "env", "dev");
    CHECK_INT(silence_set_mutes(set, &ls, now + SEC, out, 4), 1);
    labelset_set(&ls, "job", "webx"); /* anchored */
    labelset_remove(&ls, "env");
    CHECK_INT(silence_set_mutes(set, &ls, now + SEC, out, 4), 1);

    silence_set_count(set, now + SEC, counts);
    CHECK_INT(counts[SILENCE_ACTIVE], 2);
    CHECK_INT(counts[SILENCE_PENDING], 1);
    CHECK_INT(counts[SILENCE_EXPIRED], 0);

    /* expire: active -> endsAt = now; pending -> both now; expired -> unchanged */
    CHECK_INT(silence_set_expire(set, active, now + 2 * SEC, &txn), AR_OK);
    CHECK(silence_set_find(set, active)->ends_at == now + 2 * SEC);
    CHECK_INT(silence_set_expire(set, pending, now + 2 * SEC, &txn), AR_OK);
    CHECK(silence_set_find(set, pending)->starts_at == now + 2 * SEC);
    CHECK(silence_set_find(set, pending)->ends_at == now + 2 * SEC);
    CHECK_INT(silence_set_expire(set, active, now + 5 * SEC, &txn), AR_OK);
    CHECK(silence_set_find(set, active)->ends_at == now + 2 * SEC);
    CHECK(silence_set_find(set, active)->updated_at == now + 2 * SEC);
    CHECK_INT(silence_set_expire(set, "nope", now, &txn), AR_ENOTFOUND);
    labelset_set(&ls, "job", "x");
    CHECK_INT(silence_set_mutes(set, &ls, now + 3 * SEC, out, 4), 0);
    silence_set_count(set, now + 3 * SEC, counts);
    CHECK_INT(counts[SILENCE_EXPIRED], 2);

    /* GC: kept until endsAt + retention */
    silence_set_gc(set, now + 12 * SEC, 10 * SEC, &gc);
    CHECK_INT(silence_set_size(set), 3);
    silence_set_gc(set, now + 13 * SEC, 10 * SEC, &gc);
    CHECK_INT(silence_set_size(set), 1);
    CHECK(silence_set_find(set, other) != NULL);
    CHECK_INT(txn_batch_rows(gc.batch), 2); /* one delete queued per silence dropped */
    txn_batch_free(txn.batch);
    txn_batch_free(gc.batch);
    labelset_cleanup(&ls);
    silence_set_free(set);
}

/* ---- persistence through the core ---- */

struct call {
    struct silence_request req;
    char id[37];
    struct ar_error err;
    int64_t retention;
};

static int upsert_fn(struct core *core, struct txn *txn, void *arg)
{
    struct call *c = arg;

    return silence_set_upsert(core_silences(core), &c->req, txn_now(txn), txn, c->id, &c->err);
}

static int expire_fn(struct core *core, struct txn *txn, void *arg)
{
    struct call *c = arg;

    return silence_set_expire(core_silences(core), c->id, txn_now(txn), txn);
}

static int gc_fn(struct core *core, struct txn *txn, void *arg)
{
    struct call *c = arg;

    silence_set_gc(core_silences(core), txn_now(txn), c->retention, txn);
    return AR_OK;
}

static int size_fn(struct core *core, struct txn *txn, void *arg)
{
    return (int)silence_set_size(core_silences(core));
}

struct snap {
    char id[37];
    int64_t starts_at;
    int64_t ends_at;
    int16_t starts_off;
    char comment[32];
    char matcher[64];
};

static int snap_fn(struct core *core, struct txn *txn, void *arg)
{
    struct snap *sn = arg;
    const struct silence *s = silence_set_find(core_silences(core), sn->id);
    struct buf b;

    if (s == NULL) {
        return AR_ENOTFOUND;
    }
    sn->starts_at = s->starts_at;
    sn->ends_at = s->ends_at;
    sn->starts_off = s->starts_off_min;
    snprintf(sn->comment, sizeof(sn->comment), "%s", s->comment);
    buf_init(&b, 0);
    matcher_list_format(&s->matchers, &b);
    snprintf(sn->matcher, sizeof(sn->matcher), "%s", buf_str(&b));
    buf_cleanup(&b);
    return AR_OK;
}

static struct core *open_core(const char *dir, struct store **st, struct config *cfg)
{
    struct ar_error err;
    struct core *c = NULL;
    struct core_options opt = {0};

    CHECK_INT(store_open(dir, st, &err), AR_OK);
    CHECK_INT(core_new(*st, cfg, &opt, &c), AR_OK);
    CHECK_INT(core_start(c), AR_OK);
    return c;
}

static void close_core(struct core *c, struct store *st)
{
    core_stop(c);
    core_free(c);
    store_close(st);
}

static int count_rows(const char *dir, const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *s;
    int n = -1;

    snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_persistence(void)
{
    char dir[] = "/tmp/ar-silence-test-XXXXXX";
    struct config *cfg = NULL;
    struct ar_error err;
    struct store *st = NULL;
    struct core *c;
    struct call a;
    struct call b;
    struct snap sn;
    char cmd[600];
    int64_t now = clock_now_ns();
    static const struct spec M[] = {{"job", MATCHER_RE, "a\"b|c"}, {"x", MATCHER_NE, "y"}};

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(config_load_string(config_default_text(), "<embedded>", &cfg, &err), AR_OK);
    c = open_core(dir, &st, cfg);

    memset(&a, 0, sizeof(a));
    mkreq(&a.req, NULL, M, 2, now + 3600 * SEC, now + 7200 * SEC);
    a.req.starts_off_min = 120;
    CHECK_INT(core_call(c, upsert_fn, &a), AR_OK);
    memset(&b, 0, sizeof(b));
    mkreq(&b.req, NULL, AB, 1, now, now + 7200 * SEC);
    CHECK_INT(core_call(c, upsert_fn, &b), AR_OK);
    /* update a in place (pending), then expire b */
    silence_request_cleanup(&a.req);
    mkreq(&a.req, a.id, M, 2, now + 1800 * SEC, now + 7200 * SEC);
    free(a.req.comment);
    a.req.comment = ar_strdup("updated");
    char keep[37];
    memcpy(keep, a.id, 37);
    CHECK_INT(core_call(c, upsert_fn, &a), AR_OK);
    CHECK_STR(a.id, keep);
    CHECK_INT(core_call(c, expire_fn, &b), AR_OK);
    close_core(c, st);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM silence_events"), 4);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM silence_events WHERE event='expired'"), 1);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM silence_events WHERE event='updated'"), 1);

    /* restart: same state */
    c = open_core(dir, &st, cfg);
    CHECK_INT(core_call(c, size_fn, NULL), 2);
    memset(&sn, 0, sizeof(sn));
    memcpy(sn.id, a.id, 37);
    CHECK_INT(core_call(c, snap_fn, &sn), AR_OK);
    CHECK(sn.starts_at == now + 1800 * SEC);
    CHECK(sn.ends_at == now + 7200 * SEC);
    CHECK_STR(sn.comment, "updated");
    CHECK_STR(sn.matcher, "{job=~\"a\\\"b|c\",x!=\"y\"}");
    memcpy(sn.id, b.id, 37);
    CHECK_INT(core_call(c, snap_fn, &sn), AR_OK);
    CHECK(sn.ends_at < clock_now_ns());

    /* GC with zero retention drops the expired one, durably */
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    b.retention = 1;
    CHECK_INT(core_call(c, gc_fn, &b), AR_OK);
    CHECK_INT(core_call(c, size_fn, NULL), 1);
    close_core(c, st);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM silence_events"), 2);
    c = open_core(dir, &st, cfg);
    CHECK_INT(core_call(c, size_fn, NULL), 1);
    close_core(c, st);

    silence_request_cleanup(&a.req);
    silence_request_cleanup(&b.req);
    config_unref(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    test_states();
    test_validation();
    test_create_update();
    test_expire_mutes_count_gc();
    test_persistence();
    return CHECK_DONE();
}

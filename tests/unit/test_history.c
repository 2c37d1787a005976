/* Unit tests for the history queries: the query parameters and their errors, the opaque
 * cursor, the matcher pre-filter and receiver filter of history_alerts_query, paging in both
 * orders over a real database (every event once), the 60 s block span, retention
 * (store_history_gc) and the notification history over deliveries and their log. */
#include "ar/api_history.h"
#include "ar/history_bloom.h"
#include "ar/store.h"
#include "ar/store_history.h"
#include "ar/store_outbox.h"
#include "check.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000000LL

static int parse(struct http_param *ps, size_t n, char kind, struct history_params *p, char *msg)
{
    struct http_request req;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/api/x/history/alerts";
    req.params = ps;
    req.nparams = n;
    msg[0] = '\0';
    return history_params_parse(&req, kind, p, msg, 512);
}

static void test_params(void)
{
    struct history_params p;
    char msg[512];
    struct http_param ok[] = {{"filter", "alertname=\"A\""},
                              {"filter", "sev=~\"crit.*\""},
                              {"receiver", "ops|team"},
                              {"from", "2024-01-01T00:00:00Z"},
                              {"to", "2024-01-02T00:00:00+01:00"},
                              {"order", "oldest"},
                              {"limit", "1000"}};
    static const struct {
        struct http_param p;
        const char *needle;
    } bad[] = {
        {{"filter", "alertname"}, "bad matcher format: alertname"},
        {{"filter", "a=~\"(\""}, "error parsing regexp"},
        {{"receiver", "("}, "failed to parse receiver param"},
        {{"from", "2024-01-01"}, "from must be an RFC 3339 time"},
        {{"to", "soon"}, "to must be an RFC 3339 time"},
        {{"order", "random"}, "order must be newest or oldest"},
        {{"limit", "0"}, "limit must be an integer from 1 to 1000"},
        {{"limit", "1001"}, "limit must be an integer from 1 to 1000"},
        {{"limit", "5x"}, "limit must be an integer from 1 to 1000"},
        {{"cursor", "xyz"}, "invalid cursor"},
        {{"cursor", "61"}, "invalid cursor"},
    };
    struct http_param window[] = {{"from", "2024-01-02T00:00:00Z"}, {"to", "2024-01-01T00:00:00Z"}};

    CHECK_INT(parse(ok, sizeof(ok) / sizeof(ok[0]), 'a', &p, msg), AR_OK);
    CHECK_INT(p.matchers.n, 2);
    CHECK(p.receiver_re != NULL && regex_match(p.receiver_re, "ops", 3) &&
          !regex_match(p.receiver_re, "opsx", 4));
    CHECK_INT(p.from_ns, 1704067200LL * SEC);
    CHECK_INT(p.to_ns, (1704153600LL - 3600) * SEC);
    CHECK(!p.newest_first);
    CHECK_INT(p.limit, 1000);
    CHECK(!p.has_cursor);
    history_params_cleanup(&p);

    CHECK_INT(parse(NULL, 0, 'a', &p, msg), AR_OK); /* defaults */
    CHECK(p.newest_first && p.limit == 100 && p.from_ns == INT64_MIN && p.to_ns == INT64_MAX);
    history_params_cleanup(&p);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_param one = bad[i].p;
        CHECK_INT(parse(&one, 1, 'a', &p, msg), AR_EINVAL);
        if (strstr(msg, bad[i].needle) == NULL) {
            fprintf(stderr, "param %s=%s: message [%s]\n", one.key, one.value, msg);
            CHECK(false);
        }
        history_params_cleanup(&p);
    }
    CHECK_INT(parse(window, 2, 'a', &p, msg), AR_EINVAL);
    CHECK_STR(msg, "from must not be after to");
    history_params_cleanup(&p);
}

static void test_cursor(void)
{
    char cur[200];
    int64_t v[3] = {-5, INT64_MAX, 7};
    int64_t got[3] = {0, 0, 0};

    history_cursor_encode('a', true, v, cur, sizeof(cur));
    CHECK_INT(history_cursor_decode(cur, 'a', true, got), AR_OK);
    CHECK(got[0] == -5 && got[1] == INT64_MAX && got[2] == 7);
    CHECK_INT(history_cursor_decode(cur, 'a', false, got), AR_EINVAL); /* another order */
    CHECK_INT(history_cursor_decode(cur, 'n', true, got), AR_EINVAL);  /* another kind */
    cur[strlen(cur) - 1] = 'g';
    CHECK_INT(history_cursor_decode(cur, 'a', true, got), AR_EINVAL);
    CHECK_INT(history_cursor_decode("", 'a', true, got), AR_EINVAL);
}

static struct alert *mk(const char *name, const char *instance, const char *summary)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", name);
    labelset_set(&a->labels, "instance", instance);
    if (summary != NULL) {
        labelset_set(&a->annotations, "summary", summary);
    }
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = 1;
    a->ends_at = 2;
    return a;
}

/* Fingerprint + event + at of every event of a reply, as one string per event. */
static size_t reply_keys(const char *json, char keys[][96], size_t cap, char *next, size_t ncap)
{
    json_t *o = json_loads(json, 0, NULL);
    json_t *evs = json_object_get(o, "events");
    const char *nc = json_string_value(json_object_get(o, "nextCursor"));
    size_t i;
    json_t *e;

    json_array_foreach(evs, i, e)
    {
        if (i < cap) {
            snprintf(keys[i], 96, "%s %s %s", json_string_value(json_object_get(e, "at")),
                     json_string_value(json_object_get(e, "fingerprint")),
                     json_string_value(json_object_get(e, "event")));
        }
    }
    snprintf(next, ncap, "%s", nc != NULL ? nc : "");
    i = json_array_size(evs);
    json_decref(o);
    return i;
}

static size_t query(const char *dir, struct history_params *p, char keys[][96], size_t cap,
                    char *next)
{
    struct buf out;
    size_t n;

    buf_init(&out, 0);
    CHECK_INT(history_alerts_query(dir, NULL, p, &out), AR_OK);
    n = reply_keys(buf_str(&out), keys, cap, next, 200);
    buf_cleanup(&out);
    return n;
}

static void test_alert_queries(void)
{
    char dir[] = "/tmp/ar-history-XXXXXX";
    struct store *st = NULL;
    struct ar_error err;
    struct alert *a[5];
    char full[64][96];
    char page[64][96];
    char all[64][96];
    char next[200];
    struct history_params p;
    size_t nfull;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    a[0] = mk("A", "x", "one");
    a[1] = mk("B", "y", NULL);
    labelset_set(&a[1]->annotations, "instance", "x"); /* a matcher's needle, as annotation */
    a[2] = mk("A", "z", NULL);
    a[3] = mk("C", "x", NULL);
    a[4] = mk("A", "x", "two");
    /* 5 transactions at 10 s steps (the third with 3 events), then one spanning 2 min:
     * split into blocks of at most 60 s */
    for (int t = 0; t < 5; t++) {
        CHECK_INT(store_begin(st), AR_OK);
        CHECK_INT(
            store_add_alert_event(st, a[t], t == 4 ? "updated" : "firing", (10 + t * 10) * SEC),
            AR_OK);
        if (t == 2) {
            CHECK_INT(store_add_alert_event(st, a[0], "resolved", (10 + t * 10) * SEC), AR_OK);
            CHECK_INT(store_add_alert_event(st, a[1], "resolved", (10 + t * 10) * SEC), AR_OK);
        }
        CHECK_INT(store_commit(st), AR_OK);
    }
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_add_alert_event(st, a[3], "resolved", 100 * SEC), AR_OK);
    CHECK_INT(store_add_alert_event(st, a[3], "deleted", 220 * SEC), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    store_close(st);
    st = NULL;

    memset(&p, 0, sizeof(p));
    matcher_list_init(&p.matchers);
    p.from_ns = INT64_MIN;
    p.to_ns = INT64_MAX;
    p.newest_first = true;
    p.limit = 1000;
    nfull = query(dir, &p, full, 64, next);
    CHECK_INT(nfull, 9);
    CHECK(next[0] == '\0');
    CHECK(strstr(full[0], " deleted") != NULL && strstr(full[8], " firing") != NULL);

    /* pages of every size, both orders: every event once, in the full reply's order */
    for (int order = 0; order < 2; order++) {
        for (size_t limit = 1; limit <= 10; limit++) {
            size_t got = 0;
            p.newest_first = order == 0;
            p.limit = limit;
            p.has_cursor = false;
            for (int guard = 0; guard < 20; guard++) {
                size_t n = query(dir, &p, page, 64, next);
                for (size_t i = 0; i < n && got < 64; i++) {
                    memcpy(all[got++], page[i], 96);
                }
                if (next[0] == '\0') {
                    break;
                }
                CHECK_INT(history_cursor_decode(next, 'a', p.newest_first, p.cursor), AR_OK);
                p.has_cursor = true;
            }
            CHECK_INT(got, nfull);
            for (size_t i = 0; i < nfull && i < got; i++) {
                CHECK_STR(all[i], full[order == 0 ? i : nfull - 1 - i]);
            }
        }
    }
    p.newest_first = true;
    p.limit = 1000;
    p.has_cursor = false;

    /* the window holds events by time; the split block of t=100 s and 220 s is found */
    p.from_ns = 200 * SEC;
    CHECK_INT(query(dir, &p, page, 64, next), 1);
    CHECK(strstr(page[0], " deleted") != NULL);
    p.from_ns = 30 * SEC;
    p.to_ns = 30 * SEC;
    CHECK_INT(query(dir, &p, page, 64, next), 3);
    p.from_ns = INT64_MIN;
    p.to_ns = INT64_MAX;

    /* an equality matcher: B's annotation holds A's needle, still filtered by its labels */
    {
        struct matcher *m = NULL;
        CHECK_INT(matcher_parse("instance=\"x\"", &m, &err), AR_OK);
        matcher_list_add_take(&p.matchers, m);
        CHECK_INT(query(dir, &p, page, 64, next), 6); /* A x3, C x3; not B */
        CHECK_INT(matcher_parse("alertname=~\"A|B\"", &m, &err), AR_OK);
        matcher_list_add_take(&p.matchers, m);
        CHECK_INT(query(dir, &p, page, 64, next), 3);
        matcher_list_cleanup(&p.matchers);
        matcher_list_init(&p.matchers);
        CHECK_INT(matcher_parse("instance=\"\"", &m, &err), AR_OK); /* empty: no pre-filter */
        matcher_list_add_take(&p.matchers, m);
        CHECK_INT(query(dir, &p, page, 64, next), 0);
    }
    history_params_cleanup(&p);

    /* blocks span at most 60 s */
    {
        char path[300];
        sqlite3 *db;
        sqlite3_stmt *s;
        snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        CHECK(sqlite3_prepare_v2(db, "SELECT count(*), max(last_at - first_at) FROM history_blocks",
                                 -1, &s, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(s) == SQLITE_ROW);
        CHECK_INT(sqlite3_column_int(s, 0), 7);
        CHECK(sqlite3_column_int64(s, 1) <= STORE_HISTORY_MAX_SPAN_NS);
        sqlite3_finalize(s);
        sqlite3_close(db);
    }

    /* retention: blocks whose events all precede the horizon go */
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_history_gc(st, 45 * SEC), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    store_close(st);
    p.limit = 1000;
    matcher_list_init(&p.matchers);
    CHECK_INT(query(dir, &p, page, 64, next), 3); /* t=50 s, 100 s, 220 s */
    history_params_cleanup(&p);

    for (int i = 0; i < 5; i++) {
        alert_unref(a[i]);
    }
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
}

static void test_notifications(void)
{
    char dir[] = "/tmp/ar-history-n-XXXXXX";
    struct store *st = NULL;
    struct ar_error err;
    struct delivery_attempt fail = {1, 500, "500 Internal Server Error", SEC / 10};
    struct delivery_attempt ok = {3, 200, "", SEC / 2};
    struct history_params p;
    struct buf out;
    uint64_t fp = 0x0102030405060708ULL;
    struct delivery_summary sum;
    json_t *o;
    json_t *ns;

    memset(&sum, 0, sizeof(sum));
    sum.nfiring = 1;
    sum.new_firing = &fp;
    sum.nnew_firing = 1;
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(
        store_outbox_insert(st, 1, 10 * SEC, "team", "webhook[0]", "{}:{a=\"1\"}", "{}", &sum),
        AR_OK);
    CHECK_INT(store_outbox_event(st, 1, 12 * SEC, "delivered", "delivered", &ok), AR_OK);
    CHECK_INT(store_outbox_insert(st, 2, 20 * SEC, "ops", "email[0]", "{}:{a=\"2\"}", "{}", NULL),
              AR_OK);
    CHECK_INT(store_outbox_event(st, 2, 25 * SEC, "dead", "dead", &fail), AR_OK);
    CHECK_INT(store_outbox_insert(st, 3, 30 * SEC, "team", "slack[0]", "{}:{a=\"3\"}", "{}", NULL),
              AR_OK);
    CHECK_INT(store_commit(st), AR_OK);

    memset(&p, 0, sizeof(p));
    matcher_list_init(&p.matchers);
    p.from_ns = INT64_MIN;
    p.to_ns = INT64_MAX;
    p.newest_first = true;
    p.limit = 100;
    buf_init(&out, 0);
    CHECK_INT(history_notifications_query(dir, &p, NULL, NULL, &out), AR_OK);
    o = json_loads(buf_str(&out), 0, NULL);
    ns = json_object_get(o, "notifications");
    CHECK_INT(json_array_size(ns), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ns, 0), "id")), 3);
    {
        json_t *d = json_array_get(ns, 2);
        json_t *log = json_object_get(d, "log");
        CHECK_INT(json_integer_value(json_object_get(d, "attempts")), 3);
        CHECK_INT(json_integer_value(json_object_get(d, "retries")), 2);
        CHECK_STR(json_string_value(json_array_get(
                      json_object_get(json_object_get(d, "alerts"), "newFiring"), 0)),
                  "0102030405060708");
        CHECK_INT(json_array_size(log), 1);
        CHECK_INT(json_integer_value(json_object_get(json_array_get(log, 0), "httpStatus")), 200);
        CHECK(json_is_true(json_object_get(json_array_get(ns, 1), "deadLetter")));
    }
    json_decref(o);

    /* filters: state, integration type, receiver regex, window; pages */
    buf_reset(&out);
    CHECK_INT(history_notifications_query(dir, &p, "dead", NULL, &out), AR_OK);
    CHECK(strstr(buf_str(&out), "\"id\":2,") != NULL && strstr(buf_str(&out), "\"id\":1,") == NULL);
    buf_reset(&out);
    CHECK_INT(history_notifications_query(dir, &p, NULL, "slack", &out), AR_OK);
    CHECK(strstr(buf_str(&out), "\"id\":3,") != NULL && strstr(buf_str(&out), "\"id\":1,") == NULL);
    buf_reset(&out);
    CHECK_INT(regex_compile("te.m", &p.receiver_re, &err), AR_OK);
    p.from_ns = 15 * SEC;
    CHECK_INT(history_notifications_query(dir, &p, NULL, NULL, &out), AR_OK);
    CHECK(strstr(buf_str(&out), "\"id\":3,") != NULL &&
          strstr(buf_str(&out), "\"id\":1,") == NULL && strstr(buf_str(&out), "\"id\":2,") == NULL);
    regex_free(p.receiver_re);
    p.receiver_re = NULL;
    p.from_ns = INT64_MIN;
    p.newest_first = false;
    p.limit = 2;
    buf_reset(&out);
    CHECK_INT(history_notifications_query(dir, &p, NULL, NULL, &out), AR_OK);
    o = json_loads(buf_str(&out), 0, NULL);
    CHECK_INT(json_array_size(json_object_get(o, "notifications")), 2);
    CHECK_INT(history_cursor_decode(json_string_value(json_object_get(o, "nextCursor")), 'n', false,
                                    p.cursor),
              AR_OK);
    json_decref(o);
    p.has_cursor = true;
    buf_reset(&out);
    CHECK_INT(history_notifications_query(dir, &p, NULL, NULL, &out), AR_OK);
    CHECK(strstr(buf_str(&out), "\"id\":3,") != NULL && strstr(buf_str(&out), "\"id\":1,") == NULL);
    CHECK(strstr(buf_str(&out), "nextCursor") == NULL);

    /* retention (outbox gc): finished rows go, the pending one stays */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_gc(st, 40 * SEC), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    p.has_cursor = false;
    p.limit = 100;
    buf_reset(&out);
    CHECK_INT(history_notifications_query(dir, &p, NULL, NULL, &out), AR_OK);
    /* the dead letter kept its payload (replayable): it stays too */
    CHECK(strstr(buf_str(&out), "\"id\":1,") == NULL && strstr(buf_str(&out), "\"id\":2,") &&
          strstr(buf_str(&out), "\"id\":3,") != NULL);
    store_close(st);
    buf_cleanup(&out);
    history_params_cleanup(&p);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
}

/* The block filter: no false negatives, few false positives at its 8 bits per pair. */
static void test_bloom(void)
{
    unsigned char bloom[2048];
    size_t bytes = history_bloom_bytes(40);
    int fp = 0;
    char v[32];

    CHECK_INT(history_bloom_bytes(0), 8);
    CHECK_INT(history_bloom_bytes(40), 64);
    CHECK_INT(history_bloom_bytes(1000000), 2048);
    memset(bloom, 0, sizeof(bloom));
    for (int i = 0; i < 40; i++) {
        snprintf(v, sizeof(v), "value%d", i);
        history_bloom_add(bloom, bytes, history_pair_hash("name", v));
    }
    for (int i = 0; i < 40; i++) {
        snprintf(v, sizeof(v), "value%d", i);
        CHECK(history_bloom_has(bloom, bytes, history_pair_hash("name", v)));
    }
    for (int i = 40; i < 10040; i++) {
        snprintf(v, sizeof(v), "value%d", i);
        fp += history_bloom_has(bloom, bytes, history_pair_hash("name", v));
    }
    CHECK(fp < 400); /* ~1% expected (8 bits per pair, 3 probes) */
    /* name and value are kept apart: a="bc" is not ab="c" */
    CHECK(history_pair_hash("a", "bc") != history_pair_hash("ab", "c"));
}

/* Label text with every escape the writer produces reads back the same, matched by a regex
 * (the path that decodes labels without jansson) and by equality. */
static void test_escaped_labels(void)
{
    char dir[] = "/tmp/ar-history-e-XXXXXX";
    static const char weird[] = "q\" b\\ nl\n tab\t ctl\x01 / \xc3\xa9 \xf0\x9f\x94\xa5 <&>";
    struct store *st = NULL;
    struct ar_error err;
    struct alert *a = mk("W", weird, NULL);
    struct history_params p;
    struct buf out;
    json_t *o;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_add_alert_event(st, a, "firing", 5 * SEC), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    store_close(st);
    for (int eqm = 0; eqm < 2; eqm++) {
        struct matcher *m = NULL;
        memset(&p, 0, sizeof(p));
        matcher_list_init(&p.matchers);
        p.from_ns = INT64_MIN;
        p.to_ns = INT64_MAX;
        p.newest_first = true;
        p.limit = 10;
        CHECK_INT(matcher_new("instance", eqm ? MATCHER_EQ : MATCHER_RE, eqm ? weird : "(?s)q.*>",
                              &m, &err),
                  AR_OK);
        matcher_list_add_take(&p.matchers, m);
        buf_init(&out, 0);
        CHECK_INT(history_alerts_query(dir, NULL, &p, &out), AR_OK);
        o = json_loads(buf_str(&out), 0, NULL);
        CHECK_STR(json_string_value(json_object_get(
                      json_object_get(json_array_get(json_object_get(o, "events"), 0), "labels"),
                      "instance")),
                  weird);
        json_decref(o);
        buf_cleanup(&out);
        history_params_cleanup(&p);
    }
    alert_unref(a);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
}

/* Blocks written before 0011: a plain block of the 0009 conversion (SQLite's JSON, labels on
 * "firing" only) and a zstd block without a Bloom filter are read and filtered as well. */
static void test_older_blocks(void)
{
    char dir[] = "/tmp/ar-history-o-XXXXXX";
    char path[300];
    struct store *st = NULL;
    struct ar_error err;
    struct alert *a = mk("Old", "x", "s");
    struct history_params p;
    struct matcher *m = NULL;
    char keys[8][96];
    char next[200];
    sqlite3 *db;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_add_alert_event(st, a, "firing", 20 * SEC), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    store_close(st);
    snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(
              db,
              "UPDATE history_blocks SET labels_bloom = NULL;"
              "INSERT INTO history_blocks (first_at, last_at, events, format, data) "
              "VALUES (10000000000, 11000000000, 2, 0, CAST("
              "'{\"at\":10000000000,\"event\":\"firing\",\"fingerprint\":\"00000000000000aa\","
              "\"startsAt\":1,\"endsAt\":2,\"labels\":{\"alertname\":\"Old\",\"instance\":\"x\"}}'"
              " || char(10) || "
              "'{\"at\":11000000000,\"event\":\"resolved\",\"fingerprint\":\"00000000000000aa\","
              "\"startsAt\":1,\"endsAt\":2,\"labels\":null}' || char(10) AS BLOB))",
              NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    memset(&p, 0, sizeof(p));
    matcher_list_init(&p.matchers);
    p.from_ns = INT64_MIN;
    p.to_ns = INT64_MAX;
    p.newest_first = false;
    p.limit = 10;
    CHECK_INT(query(dir, &p, keys, 8, next), 3);
    CHECK(strstr(keys[0], "00000000000000aa firing") != NULL);
    CHECK(strstr(keys[1], "00000000000000aa resolved") != NULL);
    CHECK_INT(matcher_parse("instance=\"x\"", &m, &err), AR_OK);
    matcher_list_add_take(&p.matchers, m);
    CHECK_INT(query(dir, &p, keys, 8, next), 2); /* the resolved line has no labels */
    history_params_cleanup(&p);
    alert_unref(a);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
}

int main(void)
{
    test_older_blocks();
    test_escaped_labels();
    test_bloom();
    test_params();
    test_cursor();
    test_alert_queries();
    test_notifications();
    return CHECK_DONE();
}

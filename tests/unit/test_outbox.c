/* Durable outbox (ar/outbox.h): payload round trip, store rows and state transitions, the
 * read-only queries, the upgrade of a database written before the payloads had a table of
 * their own (0006), and the resume at start of a delivery whose target is gone. */
#include "ar/alert.h"
#include "ar/buf.h"
#include "ar/clock.h"
#include "ar/config.h"
#include "ar/core.h"
#include "ar/embedded.h"
#include "ar/outbox.h"
#include "ar/store.h"

#include "check.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct alert *mk(const char *name, int64_t starts, int64_t ends, const char *url)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", name);
    labelset_set(&a->labels, "job", "api");
    labelset_set(&a->annotations, "summary", "it \"broke\"\n");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = starts;
    a->ends_at = ends;
    a->updated_at = starts + 5;
    a->starts_off_min = 60;
    a->generator_url = url ? ar_strdup(url) : NULL;
    return a;
}

static void test_payload(void)
{
    struct config *cfg = NULL;
    struct ar_error err;
    struct alert *v[2];
    bool res[2] = {false, true};
    struct labelset gl;
    struct notify_data *nd;
    struct outbox_payload p;
    uint64_t firing[1];
    uint64_t resolved[1];
    char *json;

    CHECK_INT(config_load_string(config_default_text(), "<embedded>", &cfg, &err), AR_OK);
    v[0] = mk("A", 1000000000, 0, "http://prom/graph?g0=1");
    v[1] = mk("B", 2000000000, 3000000000, NULL);
    firing[0] = v[0]->fp;
    resolved[0] = v[1]->fp;
    labelset_init(&gl);
    labelset_set(&gl, "job", "api");
    nd = notify_data_new(cfg, cfg->receivers[0], "{}:{job=\"api\"}", &gl, v, res, 2,
                         "http://am:9093", 4000000000);
    json = outbox_payload_encode(NULL, nd, firing, 1, resolved, 1, 7200);
    CHECK(json != NULL && strstr(json, "\"alerts\"") != NULL);
    {
        /* a kept scratch buffer gives the same text, also when it is reused (and grown) */
        struct buf scratch;
        char *again;

        buf_init(&scratch, 0);
        buf_puts(&scratch, "left over from an earlier payload");
        for (int i = 0; i < 2; i++) {
            again = outbox_payload_encode(&scratch, nd, firing, 1, resolved, 1, 7200);
            CHECK_STR(again, json);
            free(again);
        }
        buf_cleanup(&scratch);
    }
    CHECK_INT(outbox_payload_decode(json, &p, &err), AR_OK);
    CHECK_INT(p.nalerts, 2);
    if (p.nalerts == 2) {
        for (int i = 0; i < 2; i++) {
            CHECK(labelset_equal(&p.alerts[i]->labels, &v[i]->labels));
            CHECK(labelset_equal(&p.alerts[i]->annotations, &v[i]->annotations));
            CHECK(p.alerts[i]->fp == v[i]->fp);
            CHECK(p.alerts[i]->starts_at == v[i]->starts_at);
            CHECK(p.alerts[i]->ends_at == v[i]->ends_at);
            CHECK(p.alerts[i]->updated_at == v[i]->updated_at);
            CHECK_INT(p.alerts[i]->starts_off_min, 60);
            CHECK(p.resolved[i] == res[i]);
        }
        CHECK_STR(p.alerts[0]->generator_url, "http://prom/graph?g0=1");
        CHECK(p.alerts[1]->generator_url == NULL);
    }
    CHECK(labelset_equal(&p.group_labels, &gl));
    CHECK_STR(p.external_url, "http://am:9093");
    CHECK(p.now_ns == 4000000000);
    CHECK(p.expiry_ns == 7200);
    CHECK(p.nfiring == 1 && p.firing[0] == firing[0]);
    CHECK(p.nresolved_fps == 1 && p.resolved_fps[0] == resolved[0]);
    outbox_payload_cleanup(&p);

    CHECK_INT(outbox_payload_decode("{nope", &p, &err), AR_EINVAL);
    outbox_payload_cleanup(&p);
    CHECK_INT(outbox_payload_decode("{\"alerts\":[]}", &p, &err), AR_EINVAL);
    outbox_payload_cleanup(&p);
    CHECK_INT(outbox_payload_decode("{\"alerts\":[{\"labels\":{\"a\":1}}]}", &p, &err), AR_EINVAL);
    outbox_payload_cleanup(&p);

    free(json);
    notify_data_unref(nd);
    labelset_cleanup(&gl);
    alert_unref(v[0]);
    alert_unref(v[1]);
    config_unref(cfg);
}

/* The single integer a query on <dir>/alertrouter.db returns, -1 on error. */
static int count_rows(const char *dir, const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int v = -1;

    snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void test_store(void)
{
    char dir[] = "/tmp/ar-outbox-test-XXXXXX";
    char cmd[600];
    struct ar_error err;
    struct store *st = NULL;
    struct outbox_row **rows = NULL;
    struct outbox_row *row = NULL;
    size_t n = 0;
    int64_t next = 0;
    struct buf b;
    size_t pending;
    size_t dead;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_outbox_next_id(st, &next), AR_OK);
    CHECK(next == 1);
    CHECK_INT(store_begin(st), AR_OK);
    {
        const uint64_t nf[2] = {0x1122334455667788ULL, 0xa0b0c0d0e0f00102ULL};
        const struct delivery_summary sum = {3, 1, nf, 2, NULL, 0};
        CHECK_INT(store_outbox_insert(st, 1, 100, "team", "webhook[0]", "{}:{}", "{\"a\":1}", &sum),
                  AR_OK);
    }
    CHECK_INT(store_outbox_insert(st, 2, 200, "team", "slack[1]", "{}:{}", "{\"a\":2}", NULL),
              AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(store_outbox_next_id(st, &next), AR_OK);
    CHECK(next == 3);
    CHECK_INT(store_outbox_load(st, "pending", &rows, &n), AR_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK(rows[0]->id == 1 && rows[1]->id == 2);
        CHECK_STR(rows[1]->integration, "slack[1]");
        CHECK_STR(rows[1]->payload, "{\"a\":2}");
        CHECK_STR(rows[0]->state, "pending");
    }
    for (size_t i = 0; i < n; i++) {
        outbox_row_free(rows[i]);
    }
    free(rows);

    struct delivery_attempt ok_att = {2, 200, "", 1500000};
    struct delivery_attempt bad_att = {3, 503,
                                       "notify retry canceled after 3 attempts: "
                                       "unexpected status code 503",
                                       3000000000};
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_event(st, 1, 300, "delivered", "delivered", &ok_att), AR_OK);
    CHECK_INT(store_outbox_event(st, 2, 300, NULL, "canceled", NULL), AR_OK);
    CHECK_INT(store_outbox_event(st, 2, 400, "dead", "dead", &bad_att), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(store_outbox_load(st, "pending", &rows, &n), AR_OK);
    CHECK_INT(n, 0);
    free(rows);
    CHECK_INT(store_outbox_load(st, "dead", &rows, &n), AR_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK(rows[0]->id == 2);
        CHECK_INT(rows[0]->attempts, 3);
        CHECK(rows[0]->last_status == 503);
        CHECK(strstr(rows[0]->last_error, "503") != NULL);
        outbox_row_free(rows[0]);
    }
    free(rows);

    /* read-only queries (the API's connection) */
    buf_init(&b, 0);
    CHECK_INT(outbox_query_list(dir, "dead", 10, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "\"id\":2") != NULL && strstr(buf_str(&b), "\"id\":1,") == NULL);
    buf_reset(&b);
    CHECK_INT(outbox_query_list(dir, "delivered", 10, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "[{\"id\":1,") == buf_str(&b));
    CHECK(strstr(buf_str(&b), "\"id\":2") == NULL);
    buf_reset(&b);
    CHECK_INT(outbox_query_list(dir, "pending", 10, &b), AR_OK);
    CHECK_STR(buf_str(&b), "[]");
    buf_reset(&b);
    CHECK_INT(outbox_query_list(dir, NULL, 10, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "[{\"id\":2") == buf_str(&b)); /* newest first */
    buf_reset(&b);
    CHECK_INT(outbox_query_get(dir, 2, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "\"outcome\":\"canceled\"") != NULL);
    CHECK(strstr(buf_str(&b), "\"outcome\":\"dead\",\"httpStatus\":503") != NULL);
    CHECK(strstr(buf_str(&b), "\"latencySeconds\":3.000000") != NULL);
    buf_reset(&b);
    /* delivered: the summary stays, the payload went with the delivered event */
    CHECK_INT(outbox_query_get(dir, 1, &b), AR_OK);
    CHECK(strstr(buf_str(&b), "\"firing\":3,\"resolved\":1,\"newFiring\":"
                              "[\"1122334455667788\",\"a0b0c0d0e0f00102\"],"
                              "\"newResolved\":[],\"alerts\":[]") != NULL);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads WHERE id = 1"), 0);
    buf_reset(&b);
    CHECK_INT(outbox_query_get(dir, 99, &b), AR_ENOTFOUND);
    buf_cleanup(&b);
    CHECK_INT(outbox_query_row(dir, 1, &row), AR_OK);
    CHECK(row != NULL && strcmp(row->state, "delivered") == 0 && row->attempts == 2);
    outbox_row_free(row);
    CHECK_INT(outbox_query_row(dir, 99, &row), AR_ENOTFOUND);
    CHECK_INT(outbox_query_counts(dir, &pending, &dead), AR_OK);
    CHECK(pending == 0 && dead == 1);

    /* maintenance: delivered rows older than the horizon go with their log; dead ones stay */
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_gc(st, 350), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(outbox_query_row(dir, 1, &row), AR_ENOTFOUND);
    CHECK_INT(outbox_query_row(dir, 2, &row), AR_OK);
    CHECK(row != NULL && strcmp(row->payload, "{\"a\":2}") == 0);
    outbox_row_free(row);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads"), 1); /* dead 2's */

    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* A pending delivery left by a previous run whose receiver no longer exists becomes a dead
 * letter at start, with the reason in its error. */
static void test_resume_gone(void)
{
    char dir[] = "/tmp/ar-outbox-test-XXXXXX";
    char cmd[600];
    struct config *cfg = NULL;
    struct ar_error err;
    struct store *st = NULL;
    struct core *c = NULL;
    struct core_options opt = {0};
    struct outbox_row **rows = NULL;
    size_t n = 0;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(config_load_string(config_default_text(), "<embedded>", &cfg, &err), AR_OK);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_insert(st, 7, 100, "gone", "webhook[0]", "{}:{}", "{}", NULL), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(core_new(st, cfg, &opt, &c), AR_OK);
    CHECK_INT(core_start(c), AR_OK);
    core_stop(c); /* the writer commits the first turn's rows before it stops */
    core_free(c);
    CHECK_INT(store_outbox_load(st, "dead", &rows, &n), AR_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK(rows[0]->id == 7);
        CHECK(strstr(rows[0]->last_error, "not resumed") != NULL);
        outbox_row_free(rows[0]);
    }
    free(rows);
    store_close(st);
    config_unref(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* A database as the binary before migration 0006 left it (payload inside `deliveries`):
 * opening it moves every payload to delivery_payloads, drops the column, and the rows read
 * back whole through the same functions as new ones; 0007 then drops the payloads of
 * delivered rows. */
static void test_upgrade_0006(void)
{
    char dir[] = "/tmp/ar-outbox-upgrade-XXXXXX";
    char path[256];
    char cmd[600];
    struct ar_error err;
    struct store *st = NULL;
    struct outbox_row **rows = NULL;
    struct outbox_row *row = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    size_t pending;
    size_t dead;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    for (const struct ar_embedded_file *m = ar_migrations; m->name != NULL; m++) {
        if (strtol(m->name, NULL, 10) <= 5) {
            CHECK(sqlite3_exec(db, m->data, NULL, NULL, NULL) == SQLITE_OK);
        }
    }
    CHECK(sqlite3_exec(db,
                       "PRAGMA user_version = 5;"
                       "INSERT INTO deliveries (id, created_at, receiver, integration, group_key, "
                       "state, attempts, last_status, updated_at, payload) VALUES "
                       "(1, 10, 'team', 'webhook[0]', '{}:{}', 'delivered', 1, 200, 11, "
                       "'{\"p\":1}'),"
                       "(2, 20, 'team', 'webhook[0]', '{}:{}', 'pending', 0, 0, 20, '{\"p\":2}'),"
                       "(3, 30, 'team', 'slack[0]', '{}:{}', 'dead', 3, 500, 33, '{\"p\":3}');",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_outbox_load(st, "pending", &rows, &n), AR_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK(rows[0]->id == 2);
        CHECK_STR(rows[0]->payload, "{\"p\":2}");
        outbox_row_free(rows[0]);
    }
    free(rows);
    CHECK_INT(outbox_query_row(dir, 3, &row), AR_OK);
    CHECK(row != NULL && strcmp(row->payload, "{\"p\":3}") == 0);
    CHECK(row != NULL && strcmp(row->state, "dead") == 0);
    outbox_row_free(row);
    /* 0007: a delivered notification keeps its row, not its payload */
    CHECK_INT(outbox_query_row(dir, 1, &row), AR_OK);
    CHECK(row != NULL && strcmp(row->payload, "") == 0 && strcmp(row->state, "delivered") == 0);
    outbox_row_free(row);
    CHECK_INT(outbox_query_counts(dir, &pending, &dead), AR_OK);
    CHECK(pending == 1 && dead == 1);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads"), 2);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM pragma_table_info('deliveries') "
                              "WHERE name = 'payload'"),
              0);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* A dead letter keeps its payload for a replay until a later delivery of the same receiver,
 * integration and group is recorded; other groups' dead letters keep theirs. */
static void test_dead_letter_superseded(void)
{
    char dir[] = "/tmp/ar-outbox-dead-XXXXXX";
    char cmd[600];
    struct ar_error err;
    struct store *st = NULL;
    struct delivery_attempt bad_att = {1, 500, "", 0};

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_insert(st, 1, 10, "pager", "webhook[0]", "{}:{a=\"1\"}", "{}", NULL),
              AR_OK);
    CHECK_INT(store_outbox_insert(st, 2, 10, "pager", "webhook[0]", "{}:{a=\"2\"}", "{}", NULL),
              AR_OK);
    CHECK_INT(store_outbox_event(st, 1, 20, "dead", "dead", &bad_att), AR_OK);
    CHECK_INT(store_outbox_event(st, 2, 20, "dead", "dead", &bad_att), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads"), 2);
    CHECK_INT(store_begin(st), AR_OK);
    CHECK_INT(store_outbox_insert(st, 3, 30, "pager", "webhook[0]", "{}:{a=\"1\"}", "{}", NULL),
              AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    /* 1 is superseded by 3; 2 (another group) and 3 keep their payloads */
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads WHERE id = 1"), 0);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM delivery_payloads WHERE id IN (2, 3)"), 2);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM deliveries WHERE id = 1 AND state = 'dead'"),
              1);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    test_payload();
    test_store();
    test_dead_letter_superseded();
    test_upgrade_0006();
    test_resume_gone();
    return CHECK_DONE();
}

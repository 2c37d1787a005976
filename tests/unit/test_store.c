/* Unit tests for SQLite storage on a real database file: migrations, alert rows surviving
 * a close and reopen byte for byte, deletion, history events. */
#include "ar/embedded.h"
#include "ar/store.h"
#include "ar/timefmt.h"
#include "check.h"
#include "history.h"

#include <jansson.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct loaded {
    struct alert *v[16];
    size_t n;
};

static void collect(struct alert *a, void *ctx)
{
    struct loaded *l = ctx;

    if (l->n < 16) {
        l->v[l->n++] = a;
    } else {
        alert_unref(a);
    }
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

static bool first_labels(const char *line, size_t len, const struct store_history_pos *pos,
                         bool plain, void *ctx);

/* A database as the binary before migration 0009 left it (one alert_events row per event):
 * opening it turns the rows into plain history blocks of up to 1,000 events, in order, and
 * drops the table; the reader sees every event with its labels. */
static void test_upgrade_0009(void)
{
    char dir[] = "/tmp/ar-store-upgrade-XXXXXX";
    char path[256];
    char cmd[600];
    struct ar_error err;
    struct store *st = NULL;
    sqlite3 *db = NULL;
    char *labels_json = NULL;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/alertrouter.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    for (const struct ar_embedded_file *m = ar_migrations; m->name != NULL; m++) {
        if (strtol(m->name, NULL, 10) <= 8) {
            CHECK(sqlite3_exec(db, m->data, NULL, NULL, NULL) == SQLITE_OK);
        }
    }
    CHECK(sqlite3_exec(db,
                       "PRAGMA user_version = 8;"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 2500) "
                       "INSERT INTO alert_events (fingerprint, at, event, labels, starts_at, "
                       "ends_at) SELECT i, i * 10, CASE WHEN i % 2 THEN 'firing' ELSE "
                       "'resolved' END, CASE WHEN i % 2 THEN json_object('alertname', "
                       "'a' || i) END, i, i + 1 FROM n;",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    store_close(st);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM history_blocks WHERE format = 0"), 3);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM sqlite_master WHERE name = 'alert_events'"), 0);
    CHECK_INT(history_count(dir, "firing", NULL), 1250);
    CHECK_INT(history_count(dir, "resolved", NULL), 1250);
    CHECK_INT(history_count(dir, "firing", "\"alertname\":\"a2499\""), 1);
    CHECK_INT(history_read(dir, 0, 15, first_labels, &labels_json), AR_OK);
    CHECK_STR(labels_json, "{\"alertname\": \"a1\"}");
    free(labels_json);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* Keeps the "labels" object of the first history line as JSON text. */
static bool first_labels(const char *line, size_t len, const struct store_history_pos *pos,
                         bool plain, void *ctx)
{
    char **out = ctx;
    json_t *o = json_loadb(line, len, 0, NULL);

    (void)pos;
    (void)plain;
    if (*out == NULL) {
        *out = json_dumps(json_object_get(o, "labels"), JSON_ENCODE_ANY);
    }
    json_decref(o);
    return true;
}

int main(void)
{
    char *labels_json = NULL;
    char dir[] = "/tmp/ar-store-test-XXXXXX";
    struct store *st = NULL;
    struct ar_error err;
    struct alert *a = alert_new();
    struct alert *b = alert_new();
    struct loaded l = {0};
    char cmd[600];

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK(store_schema_version(st) >= 1);

    labelset_set(&a->labels, "alertname", "monitor_service_down");
    labelset_set(&a->labels, "weird", "quote\" back\\ nl\n uni \xc3\xa9 \xf0\x9f\x94\xa5 <&>");
    labelset_set(&a->annotations, "summary", "down");
    a->fp = labelset_fingerprint(&a->labels);
    a->generator_url = strdup("http://prometheus:9090/graph");
    a->starts_at = 1764406800123456789LL;
    a->starts_off_min = 120;
    a->ends_at = 1764407100000000000LL;
    a->updated_at = 1764406801000000000LL;
    a->timeout = true;
    labelset_set(&b->labels, "alertname", "other");
    b->fp = labelset_fingerprint(&b->labels);
    b->starts_at = b->ends_at = b->updated_at = 1;

    /* an older state of a, replaced later in the log */
    labelset_set(&a->annotations, "summary", "old");
    CHECK_INT(store_begin(st), AR_OK);
    store_log_put(st, 1, a);
    store_log_put(st, 2, b);
    CHECK_INT(store_add_alert_event(st, a, "firing", 5), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    labelset_set(&a->annotations, "summary", "down");
    CHECK_INT(store_begin(st), AR_OK);
    store_log_put(st, 3, a);
    store_log_delete(st, 4, b->fp);
    CHECK_INT(store_commit(st), AR_OK);
    /* a rolled-back transaction leaves nothing behind */
    CHECK_INT(store_begin(st), AR_OK);
    store_log_put(st, 5, b);
    CHECK_INT(store_add_alert_event(st, b, "firing", 6), AR_OK);
    store_rollback(st);
    store_close(st);
    st = NULL;

    /* history: one compressed block per commit with events, the labels round-trip */
    CHECK_INT(history_count(dir, "firing", NULL), 1);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM history_blocks WHERE format = 1"), 1);
    CHECK_INT(history_read(dir, 0, 100, first_labels, &labels_json), AR_OK);
    {
        json_t *o = json_loads(labels_json, 0, NULL);
        const char *w = json_string_value(json_object_get(o, "weird"));
        CHECK(w != NULL && strcmp(w, labelset_get(&a->labels, "weird")) == 0);
        json_decref(o);
        free(labels_json);
        labels_json = NULL;
    }
    CHECK_INT(history_read(dir, 6, 100, first_labels, &labels_json), AR_OK);
    CHECK(labels_json == NULL); /* the window after the only block's events */
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM alert_log"), 2); /* one block per commit */
    CHECK_INT(store_open(dir, &st, &err), AR_OK); /* migrations are not re-applied */
    struct store_load_stats stats;
    CHECK_INT(store_load_alerts(st, &(struct store_load_hooks){NULL, collect, &l}, &stats), AR_OK);
    CHECK_INT(stats.next_seq, 5);
    CHECK_INT(stats.log_rows, 4);
    CHECK_INT(l.n, 1);
    if (l.n == 1) {
        struct alert *r = l.v[0];
        CHECK(labelset_equal(&r->labels, &a->labels));
        CHECK(labelset_equal(&r->annotations, &a->annotations));
        CHECK(r->fp == a->fp);
        CHECK_STR(r->generator_url, "http://prometheus:9090/graph");
        CHECK(r->starts_at == a->starts_at);
        CHECK_INT(r->starts_off_min, 120);
        CHECK(r->ends_at == a->ends_at);
        CHECK(r->updated_at == a->updated_at);
        CHECK(r->timeout);
    }
    for (size_t i = 0; i < l.n; i++) {
        alert_unref(l.v[i]);
    }
    /* compaction: re-append the live alert, drop the prefix; the state is unchanged */
    CHECK_INT(store_begin(st), AR_OK);
    store_log_put(st, 5, a);
    CHECK_INT(store_truncate_log(st, 5), AR_OK);
    CHECK_INT(store_commit(st), AR_OK);
    /* a touch record only moves the end and update times */
    a->ends_at += 1000;
    a->updated_at += 1000;
    CHECK_INT(store_begin(st), AR_OK);
    store_log_touch(st, 6, a);
    CHECK_INT(store_commit(st), AR_OK);
    CHECK_INT(count_rows(dir, "SELECT count(*) FROM alert_log"), 2);
    l.n = 0;
    CHECK_INT(store_load_alerts(st, &(struct store_load_hooks){NULL, collect, &l}, &stats), AR_OK);
    CHECK_INT(l.n, 1);
    CHECK_INT(stats.next_seq, 7);
    CHECK_INT(stats.log_rows, 2);
    if (l.n == 1) {
        CHECK(labelset_equal(&l.v[0]->labels, &a->labels));
        CHECK(labelset_equal(&l.v[0]->annotations, &a->annotations));
        CHECK(l.v[0]->ends_at == a->ends_at);
        CHECK(l.v[0]->updated_at == a->updated_at);
        CHECK(l.v[0]->starts_at == a->starts_at);
        alert_unref(l.v[0]);
    }
    store_close(st);
    alert_unref(a);
    alert_unref(b);

    /* an unwritable location is an error, not a crash */
    CHECK(store_open("/proc/no-such-dir/x", &st, &err) != AR_OK);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    test_upgrade_0009();
    return CHECK_DONE();
}

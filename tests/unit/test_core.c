/* Unit tests for the core and writer threads on a real SQLite file: every acknowledged
 * ingest is durable, re-posts merge, the append-only alert log is compacted without
 * changing the state a restart sees, and GC removes resolved alerts durably. */
#include "ar/clock.h"
#include "ar/core.h"
#include "check.h"
#include "history.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct alert *mk(int i, int version, int64_t starts, int64_t now, int64_t ends)
{
    struct alert *a = alert_new();
    char v[32];

    snprintf(v, sizeof(v), "a%d", i);
    labelset_set(&a->labels, "alertname", v);
    snprintf(v, sizeof(v), "v%d", version);
    labelset_set(&a->annotations, "version", v);
    labelset_pack(&a->labels);
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = starts;
    a->ends_at = ends;
    a->updated_at = now;
    return a;
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

static struct core *open_core(const char *dir, struct store **st, struct config *cfg, int64_t gc_ns)
{
    struct ar_error err;
    struct core *c = NULL;
    struct core_options opt = {.gc_interval_ns = gc_ns};

    CHECK_INT(store_open(dir, st, &err), AR_OK);
    CHECK_INT(core_new(*st, cfg, &opt, &c), AR_OK);
    CHECK_INT(core_start(c), AR_OK);
    return c;
}

int main(void)
{
    char dir[] = "/tmp/ar-core-test-XXXXXX";
    struct config *cfg = NULL;
    struct ar_error err;
    struct store *st = NULL;
    struct core *c;
    struct alert **snap;
    size_t n;
    int64_t now = clock_now_ns();
    int64_t far = now + 3600 * AR_NS_PER_SEC;
    char cmd[600];
    const int nalerts = 100;
    const int rounds = 150; /* 15,000 puts: past the compaction threshold */

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(config_load_string(config_default_text(), "<embedded>", &cfg, &err), AR_OK);
    c = open_core(dir, &st, cfg, 3600 * AR_NS_PER_SEC);
    for (int r = 0; r < rounds; r++) {
        struct alert *batch[100];
        for (int i = 0; i < nalerts; i++) {
            batch[i] = mk(i, r, now - AR_NS_PER_SEC + r * AR_NS_PER_MS, clock_now_ns(), far);
        }
        CHECK_INT(core_ingest(c, batch, (size_t)nalerts), AR_OK);
    }
    n = core_snapshot(c, clock_now_ns(), &snap, NULL);
    CHECK_INT(n, nalerts);
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(labelset_get(&snap[i]->annotations, "version"), "v149");
        /* merged re-posts keep the earliest start */
        CHECK(snap[i]->starts_at == now - AR_NS_PER_SEC);
    }
    core_snapshot_free(snap, NULL, n);
    core_stop(c);
    core_free(c);
    store_close(st);
    /* compaction kept the log near the live set */
    /* one block per commit, and compaction kept the records near the live set */
    int rows = count_rows(dir, "SELECT count(*) FROM alert_log");
    CHECK(rows > 0 && rows <= rounds + 10);
    CHECK_INT(history_count(dir, "firing", NULL), nalerts);

    /* identical re-posts (Prometheus' periodic re-sends) are logged as small touch rows,
     * across another compaction; the latest end time survives a restart */
    c = open_core(dir, &st, cfg, 3600 * AR_NS_PER_SEC);
    for (int r = 0; r < rounds; r++) {
        struct alert *batch[100];
        for (int i = 0; i < nalerts; i++) {
            batch[i] = mk(i, 149, now - AR_NS_PER_SEC, clock_now_ns(), far + r);
        }
        CHECK_INT(core_ingest(c, batch, (size_t)nalerts), AR_OK);
    }
    core_stop(c);
    core_free(c);
    store_close(st);
    /* touch records are small: the blocks of this phase average well under a put's size */
    CHECK(count_rows(dir, "SELECT sum(length(records)) FROM alert_log") < rounds * nalerts * 40);
    CHECK(count_rows(dir, "SELECT count(*) FROM alert_log") <= 2 * rounds + 10);

    /* restart: same state */
    c = open_core(dir, &st, cfg, 200 * AR_NS_PER_MS);
    n = core_snapshot(c, clock_now_ns(), &snap, NULL);
    CHECK_INT(n, nalerts);
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(labelset_get(&snap[i]->annotations, "version"), "v149");
        CHECK(snap[i]->ends_at == far + rounds - 1);
    }
    core_snapshot_free(snap, NULL, n);
    /* resolve half of them, let GC (200 ms) delete those */
    {
        struct alert *batch[50];
        int64_t t = clock_now_ns();
        for (int i = 0; i < 50; i++) {
            batch[i] = mk(i, 999, t - AR_NS_PER_MS, t, t);
        }
        CHECK_INT(core_ingest(c, batch, 50), AR_OK);
    }
    for (int tries = 0; tries < 100 && core_alert_count(c) != 50; tries++) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK_INT(core_alert_count(c), 50);
    core_stop(c);
    core_free(c);
    store_close(st);
    c = open_core(dir, &st, cfg, 3600 * AR_NS_PER_SEC);
    CHECK_INT(core_alert_count(c), 50);
    core_stop(c);
    core_free(c);
    store_close(st);
    CHECK_INT(history_count(dir, "deleted", NULL), 50);

    /* a client that sends endsAt without startsAt gets startsAt = endsAt, so each re-post
     * replaces the alert with a later startsAt: still one firing in the history, not a row
     * per re-post */
    c = open_core(dir, &st, cfg, 3600 * AR_NS_PER_SEC);
    for (int r = 0; r < 20; r++) {
        int64_t e = far + r * AR_NS_PER_SEC;
        struct alert *one[1] = {mk(500, r, e, clock_now_ns(), e)};
        CHECK_INT(core_ingest(c, one, 1), AR_OK);
    }
    core_stop(c);
    core_free(c);
    store_close(st);
    CHECK_INT(history_count(dir, "firing", "\"a500\""), 1);

    config_unref(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    return CHECK_DONE();
}

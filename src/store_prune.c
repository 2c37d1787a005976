/* Size cap of the database (ar/store.h, --storage.max-bytes). Runs on the writer's
 * connection inside a transaction, once a minute. When the pages in use exceed the cap it
 * deletes, oldest first and in chunks, what only serves as a record: history blocks first,
 * then delivered notifications (their rows and attempt log), then audit entries, until the
 * database is back under 90% of the cap. Live state (alerts, silences, the notification
 * log, pending and dead deliveries) is never pruned. Freed pages are reused by SQLite, so
 * the file stops growing instead of shrinking (no VACUUM on the write path). */
#include "ar/store.h"

#include "ar/log.h"

#include <sqlite3.h>
#include <stdio.h>

#define PRUNE_CHUNK  500 /* delivery and audit rows deleted per statement */
#define PRUNE_TARGET 0.9 /* prune down to this fraction of the cap */

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

int64_t store_used_bytes(struct store *st)
{
    sqlite3 *db = store_db(st);
    int64_t pages = pragma_int(db, "PRAGMA page_count");
    int64_t free_pages = pragma_int(db, "PRAGMA freelist_count");
    int64_t size = pragma_int(db, "PRAGMA page_size");

    if (pages < 0 || free_pages < 0 || size < 0) {
        return -1;
    }
    return (pages - free_pages) * size;
}

/* Deletes the oldest rows of one kind: history blocks until about `excess` bytes of them
 * are gone (blocks differ in size: one per transaction), other kinds PRUNE_CHUNK rows at a
 * time. The number deleted, or -1. */
static int prune_chunk(sqlite3 *db, int kind, int64_t excess)
{
    static const char *const sql[][3] = {
        {"DELETE FROM history_blocks WHERE id <= coalesce("
         "(SELECT id FROM (SELECT id, sum(length(data)) OVER (ORDER BY id) AS upto "
         "FROM history_blocks) WHERE upto >= ?2 ORDER BY id LIMIT 1), "
         "(SELECT max(id) FROM history_blocks))",
         NULL, NULL},
        {"CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY); "
         "DELETE FROM prune_ids",
         "INSERT INTO prune_ids SELECT id FROM deliveries WHERE state = 'delivered' "
         "ORDER BY id LIMIT ?1",
         "DELETE FROM delivery_log WHERE delivery_id IN (SELECT id FROM prune_ids); "
         "DELETE FROM delivery_payloads WHERE id IN (SELECT id FROM prune_ids); "
         "DELETE FROM deliveries WHERE id IN (SELECT id FROM prune_ids)"},
        {"DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id LIMIT ?1)", NULL,
         NULL},
    };
    int n = 0;

    if (sql[kind][1] == NULL) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql[kind][0], -1, &s, NULL) != SQLITE_OK) {
            return -1;
        }
        if (sqlite3_bind_parameter_count(s) >= 2) {
            sqlite3_bind_int64(s, 2, excess);
        } else {
            sqlite3_bind_int(s, 1, PRUNE_CHUNK);
        }
        n = sqlite3_step(s) == SQLITE_DONE ? sqlite3_changes(db) : -1;
        sqlite3_finalize(s);
        return n;
    }
    {
        sqlite3_stmt *s = NULL;
        if (sqlite3_exec(db, sql[kind][0], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, sql[kind][1], -1, &s, NULL) != SQLITE_OK) {
            return -1;
        }
        sqlite3_bind_int(s, 1, PRUNE_CHUNK);
        n = sqlite3_step(s) == SQLITE_DONE ? sqlite3_changes(db) : -1;
        sqlite3_finalize(s);
        if (n > 0 && sqlite3_exec(db, sql[kind][2], NULL, NULL, NULL) != SQLITE_OK) {
            return -1;
        }
        return n;
    }
}

int store_prune_to_cap(struct store *st, int64_t max_bytes, struct store_prune_stats *out)
{
    static const char *const what[STORE_PRUNE_KINDS] = {"history blocks", "delivered notifications",
                                                        "audit entries"};
    sqlite3 *db = store_db(st);
    int64_t used = store_used_bytes(st);
    int64_t target = (int64_t)((double)max_bytes * PRUNE_TARGET);
    int64_t before = used;

    out->used_bytes = used;
    if (max_bytes <= 0 || used < 0 || used <= max_bytes) {
        return AR_OK;
    }
    for (int k = 0; k < STORE_PRUNE_KINDS && used > target; k++) {
        for (;;) {
            int n = prune_chunk(db, k, used - target);
            if (n < 0) {
                log_error("store", "pruning %s: %s", what[k], sqlite3_errmsg(db));
                return AR_EDB;
            }
            out->pruned[k] += (uint64_t)n;
            used = store_used_bytes(st);
            if (n == 0 || used <= target || (k > 0 && n < PRUNE_CHUNK)) {
                break;
            }
        }
    }
    out->used_bytes = used;
    log_warn("store",
             "database over --storage.max-bytes=%lld: pruned the oldest records, %lld -> %lld "
             "bytes in use (deleted: history blocks %llu, delivered notifications %llu, audit "
             "entries %llu)%s",
             (long long)max_bytes, (long long)before, (long long)used,
             (unsigned long long)out->pruned[0], (unsigned long long)out->pruned[1],
             (unsigned long long)out->pruned[2],
             used > max_bytes ? "; still over: only live state is left" : "");
    return AR_OK;
}

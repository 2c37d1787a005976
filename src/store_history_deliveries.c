/* Notification history reads (ar/store_history.h, store_history_notifications): the
 * deliveries of a time window through deliveries_by_created (0011_history_queries.sql),
 * newest or oldest first from a position, each with the alerts it was sent for (the
 * fingerprints new to the receiver's notification log, 0007_delivery_summary.sql) and every
 * outcome in delivery_log (0005_deliveries.sql). Part of the storage module; read-only
 * connection of its own. */
#include "ar/store_history.h"

#include "ar/buf.h"
#include "ar/json_out.h"
#include "ar/labels.h"
#include "ar/log.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void store_history_put_fps(struct buf *out, sqlite3_stmt *s, int col)
{
    const unsigned char *p = sqlite3_column_blob(s, col);
    size_t n = (size_t)sqlite3_column_bytes(s, col) / 8;

    buf_putc(out, '[');
    for (size_t i = 0; i < n && p != NULL; i++) {
        uint64_t fp = 0;
        char hex[17];
        for (int k = 0; k < 8; k++) {
            fp = (fp << 8) | p[8 * i + (size_t)k];
        }
        fingerprint_format(fp, hex);
        buf_printf(out, "%s\"%s\"", i > 0 ? "," : "", hex);
    }
    buf_putc(out, ']');
}

static bool integration_matches(const char *name, const char *want)
{
    size_t n = strlen(want);

    return strcmp(name, want) == 0 || (strncmp(name, want, n) == 0 && name[n] == '[');
}

int store_history_put_delivery_log(struct buf *out, sqlite3_stmt *lg, int64_t id)
{
    size_t n = 0;
    int rc;

    sqlite3_bind_int64(lg, 1, id);
    buf_puts(out, ",\"log\":[");
    while ((rc = sqlite3_step(lg)) == SQLITE_ROW) {
        if (n++ > 0) {
            buf_putc(out, ',');
        }
        buf_puts(out, "{\"at\":");
        json_put_time(out, sqlite3_column_int64(lg, 0), 0);
        buf_puts(out, ",\"outcome\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(lg, 1));
        buf_printf(out, ",\"httpStatus\":%lld,\"error\":", (long long)sqlite3_column_int64(lg, 2));
        json_put_cstr(out, (const char *)sqlite3_column_text(lg, 3));
        buf_printf(out, ",\"attempts\":%d,\"latencySeconds\":%.6f}", sqlite3_column_int(lg, 4),
                   (double)sqlite3_column_int64(lg, 5) / 1e9);
    }
    buf_putc(out, ']');
    sqlite3_reset(lg);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

#define NOTIF_COLUMNS                                                                              \
    "SELECT id, created_at, receiver, integration, group_key, state, attempts, last_status, "      \
    "last_error, updated_at, firing_count, resolved_count, new_firing, new_resolved "              \
    "FROM deliveries WHERE created_at >= ?1 AND created_at <= ?2 AND (?5 IS NULL OR state = ?5) "

int store_history_notifications(const char *dir, const struct store_notification_query *q,
                                struct buf *out, size_t *n, int64_t last[2])
{
    static const char newest_sql[] =
        NOTIF_COLUMNS "AND (created_at, id) < (?3, ?4) ORDER BY created_at DESC, id DESC";
    static const char oldest_sql[] =
        NOTIF_COLUMNS "AND (created_at, id) > (?3, ?4) ORDER BY created_at, id";
    char *path = ar_asprintf("%s/alertrouter.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    sqlite3_stmt *lg = NULL;
    int rc = AR_OK;
    int step = SQLITE_DONE;

    *n = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, q->newest_first ? newest_sql : oldest_sql, -1, &s, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT at, outcome, http_status, error, attempts, latency_ns "
                           "FROM delivery_log WHERE delivery_id = ?1 ORDER BY id",
                           -1, &lg, NULL) != SQLITE_OK) {
        log_error("store", "notification history: %s: %s", path,
                  db ? sqlite3_errmsg(db) : "cannot open");
        rc = AR_EDB;
        goto done;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_bind_int64(s, 1, q->from_ns);
    sqlite3_bind_int64(s, 2, q->to_ns);
    if (q->has_after) {
        sqlite3_bind_int64(s, 3, q->after_created);
        sqlite3_bind_int64(s, 4, q->after_id);
    } else {
        sqlite3_bind_int64(s, 3, q->newest_first ? INT64_MAX : INT64_MIN);
        sqlite3_bind_int64(s, 4, q->newest_first ? INT64_MAX : INT64_MIN);
    }
    if (q->state != NULL) {
        sqlite3_bind_text(s, 5, q->state, -1, SQLITE_STATIC);
    }
    while (*n < q->limit && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *receiver = (const char *)sqlite3_column_text(s, 2);
        const char *integration = (const char *)sqlite3_column_text(s, 3);
        const char *state = (const char *)sqlite3_column_text(s, 5);
        int attempts = sqlite3_column_int(s, 6);
        if (receiver == NULL || integration == NULL || state == NULL ||
            (q->integration != NULL && !integration_matches(integration, q->integration)) ||
            (q->keep_receiver != NULL && !q->keep_receiver(receiver, q->ctx))) {
            continue;
        }
        if ((*n)++ > 0) {
            buf_putc(out, ',');
        }
        last[0] = sqlite3_column_int64(s, 1);
        last[1] = sqlite3_column_int64(s, 0);
        buf_printf(out, "{\"id\":%lld,\"createdAt\":", (long long)last[1]);
        json_put_time(out, last[0], 0);
        buf_puts(out, ",\"receiver\":");
        json_put_cstr(out, receiver);
        buf_puts(out, ",\"integration\":");
        json_put_cstr(out, integration);
        buf_puts(out, ",\"groupKey\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 4));
        buf_puts(out, ",\"state\":");
        json_put_cstr(out, state);
        buf_printf(out, ",\"deadLetter\":%s", strcmp(state, "dead") == 0 ? "true" : "false");
        buf_printf(out, ",\"firing\":%lld,\"resolved\":%lld",
                   (long long)sqlite3_column_int64(s, 10), (long long)sqlite3_column_int64(s, 11));
        buf_puts(out, ",\"alerts\":{\"newFiring\":");
        store_history_put_fps(out, s, 12);
        buf_puts(out, ",\"newResolved\":");
        store_history_put_fps(out, s, 13);
        buf_printf(out,
                   "},\"attempts\":%d,\"retries\":%d,\"lastStatus\":%lld,\"lastError\":", attempts,
                   attempts > 1 ? attempts - 1 : 0, (long long)sqlite3_column_int64(s, 7));
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 8));
        buf_puts(out, ",\"updatedAt\":");
        json_put_time(out, sqlite3_column_int64(s, 9), 0);
        if (store_history_put_delivery_log(out, lg, last[1]) != AR_OK) {
            rc = AR_EDB;
            break;
        }
        buf_putc(out, '}');
    }
    if (rc == AR_OK && step != SQLITE_ROW && step != SQLITE_DONE) {
        log_error("store", "notification history: %s", sqlite3_errmsg(db));
        rc = AR_EDB;
    }
done:
    sqlite3_finalize(lg);
    sqlite3_finalize(s);
    sqlite3_close(db);
    free(path);
    return rc;
}

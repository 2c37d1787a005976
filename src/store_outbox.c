/* Outbox SQL (ar/outbox.h): deliveries, delivery_payloads and delivery_log, part of the storage
 * module (the writer's connection through store_db, or a read-only connection of its own for
 * the API). */
#include "ar/store_outbox.h"

#include "ar/buf.h"
#include "ar/json_out.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/store.h"
#include "ar/store_history.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writes ---- */

/* Binds sorted fingerprints as a blob of 8-byte big-endian values (NULL when none); the
 * blob is built in buf, which must live until the statement has run. */
static void bind_fps(sqlite3_stmt *s, int col, const uint64_t *fps, size_t n, struct buf *b)
{
    if (n == 0) {
        sqlite3_bind_null(s, col);
        return;
    }
    buf_reset(b);
    buf_reserve(b, n * 8);
    for (size_t i = 0; i < n; i++) {
        unsigned char be[8];
        for (int k = 0; k < 8; k++) {
            be[k] = (unsigned char)(fps[i] >> (56 - 8 * k));
        }
        buf_append(b, (const char *)be, 8);
    }
    sqlite3_bind_blob(s, col, b->data, (int)b->len, SQLITE_STATIC);
}

/* Deletes the payloads of this key's dead letters older than id. */
static int supersede_dead(struct store *st, int64_t id, const char *receiver,
                          const char *integration, const char *group_key)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *q;
    sqlite3_stmt *d;
    int rc = AR_OK;
    int step;

    if ((q = store_stmt(st, "SELECT id FROM deliveries WHERE state = 'dead' AND receiver = ?1 "
                            "AND integration = ?2 AND group_key = ?3 AND id < ?4")) == NULL ||
        (d = store_stmt(st, "DELETE FROM delivery_payloads WHERE id = ?1")) == NULL) {
        log_error("store", "delivery_payloads supersede: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_text(q, 1, receiver, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, integration, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, group_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_bind_int64(d, 1, sqlite3_column_int64(q, 0));
        rc = sqlite3_step(d) == SQLITE_DONE ? AR_OK : AR_EDB;
        store_stmt_done(d);
        if (rc != AR_OK) {
            break;
        }
    }
    if (rc == AR_OK && step != SQLITE_DONE) {
        rc = AR_EDB;
    }
    store_stmt_done(q);
    return rc;
}

int store_outbox_insert(struct store *st, int64_t id, int64_t at, const char *receiver,
                        const char *integration, const char *group_key, const char *payload,
                        const struct delivery_summary *sum)
{
    static const struct delivery_summary none;
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    struct buf fb;
    struct buf rb;
    int rc;

    if (sum == NULL) {
        sum = &none;
    }
    if ((s = store_stmt(st, "INSERT INTO deliveries (id, created_at, receiver, integration, "
                            "group_key, state, updated_at, firing_count, resolved_count, "
                            "new_firing, new_resolved) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?2, ?6, ?7, ?8, ?9)")) ==
        NULL) {
        log_error("store", "deliveries insert: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    buf_init(&fb, 0);
    buf_init(&rb, 0);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, receiver, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, integration, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, group_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)sum->nfiring);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)sum->nresolved);
    bind_fps(s, 8, sum->new_firing, sum->nnew_firing, &fb);
    bind_fps(s, 9, sum->new_resolved, sum->nnew_resolved, &rb);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    store_stmt_done(s);
    buf_cleanup(&fb);
    buf_cleanup(&rb);
    if (rc == AR_OK) {
        /* the payload is written once, in a table of its own (0006_delivery_payloads.sql) */
        if ((s = store_stmt(st, "INSERT INTO delivery_payloads (id, payload) VALUES (?1, ?2)")) ==
            NULL) {
            log_error("store", "delivery_payloads insert: %s", sqlite3_errmsg(db));
            return AR_EDB;
        }
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, payload, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
        store_stmt_done(s);
    }
    if (rc == AR_OK) {
        /* older dead letters of the same receiver, integration and group are superseded:
         * their rows stay, their payloads go (0010_dead_letters_superseded.sql). Found by
         * the partial index deliveries_dead_by_key and deleted one by one: usually there is
         * none, and a DELETE ... IN (SELECT ...) built a temporary table for every delivery. */
        rc = supersede_dead(st, id, receiver, integration, group_key);
    }
    if (rc != AR_OK) {
        log_error("store", "deliveries insert: %s", sqlite3_errmsg(db));
    }
    return rc;
}

int store_outbox_event(struct store *st, int64_t id, int64_t at, const char *state,
                       const char *outcome, const struct delivery_attempt *res)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc;

    if (state != NULL) {
        if ((s = store_stmt(st, "UPDATE deliveries SET state = ?2, attempts = attempts + ?3, "
                                "last_status = ?4, last_error = ?5, updated_at = ?6 "
                                "WHERE id = ?1")) == NULL) {
            log_error("store", "deliveries update: %s", sqlite3_errmsg(db));
            return AR_EDB;
        }
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, res ? res->attempts : 0);
        sqlite3_bind_int64(s, 4, res ? res->last_status : 0);
        sqlite3_bind_text(s, 5, res && res->error ? res->error : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, at);
        rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
        store_stmt_done(s);
        if (rc != AR_OK) {
            log_error("store", "deliveries update: %s", sqlite3_errmsg(db));
            return rc;
        }
        if (strcmp(state, "delivered") == 0) {
            /* sent: nothing will send it again, so the payload goes (0007) */
            if ((s = store_stmt(st, "DELETE FROM delivery_payloads WHERE id = ?1")) == NULL) {
                log_error("store", "delivery_payloads delete: %s", sqlite3_errmsg(db));
                return AR_EDB;
            }
            sqlite3_bind_int64(s, 1, id);
            rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
            store_stmt_done(s);
            if (rc != AR_OK) {
                log_error("store", "delivery_payloads delete: %s", sqlite3_errmsg(db));
                return rc;
            }
        }
    }
    if ((s = store_stmt(st, "INSERT INTO delivery_log (delivery_id, at, outcome, http_status, "
                            "error, attempts, latency_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) ==
        NULL) {
        log_error("store", "delivery_log insert: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, res ? res->last_status : 0);
    sqlite3_bind_text(s, 5, res && res->error ? res->error : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, res ? res->attempts : 0);
    sqlite3_bind_int64(s, 7, res ? res->latency_ns : 0);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "delivery_log insert: %s", sqlite3_errmsg(db));
    }
    store_stmt_done(s);
    return rc;
}

/* ---- reads at start ---- */

int store_outbox_next_id(struct store *st, int64_t *out)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) + 1 FROM deliveries", -1, &s, NULL) !=
        SQLITE_OK) {
        log_error("store", "deliveries: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    rc = sqlite3_step(s) == SQLITE_ROW ? AR_OK : AR_EDB;
    if (rc == AR_OK) {
        *out = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return rc;
}

/* A delivery with its payload (the payload may be missing in a damaged database: "" then). */
#define ROW_COLUMNS                                                                                \
    "d.id, d.created_at, d.receiver, d.integration, d.group_key, d.state, d.attempts, "            \
    "d.last_status, d.last_error, p.payload"
#define ROW_FROM "deliveries d LEFT JOIN delivery_payloads p ON p.id = d.id"
/* Pending and dead rows are found through the partial index deliveries_open, which SQLite
 * uses only when the query repeats its condition. */
#define OPEN_ONLY "d.state <> 'delivered'"

static struct outbox_row *row_of(sqlite3_stmt *s)
{
    struct outbox_row *r = ar_calloc(1, sizeof(*r));

    r->id = sqlite3_column_int64(s, 0);
    r->created_at = sqlite3_column_int64(s, 1);
    r->receiver = store_col_dup(s, 2);
    r->integration = store_col_dup(s, 3);
    r->group_key = store_col_dup(s, 4);
    r->state = store_col_dup(s, 5);
    r->attempts = sqlite3_column_int(s, 6);
    r->last_status = (long)sqlite3_column_int64(s, 7);
    r->last_error = store_col_dup(s, 8);
    r->payload = store_col_dup(s, 9);
    return r;
}

int store_outbox_load(struct store *st, const char *state, struct outbox_row ***out, size_t *n)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT " ROW_COLUMNS " FROM " ROW_FROM
                           " WHERE d.state = ?1 AND " OPEN_ONLY " ORDER BY d.id",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "deliveries: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = ar_realloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = row_of(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

/* ---- read-only queries ---- */

/* Summary object of the row at the current step (columns ROW_COLUMNS, payload unused). */
static void put_row(struct buf *out, sqlite3_stmt *s)
{
    buf_printf(out, "{\"id\":%lld,\"createdAt\":", (long long)sqlite3_column_int64(s, 0));
    json_put_time(out, sqlite3_column_int64(s, 1), 0);
    buf_puts(out, ",\"receiver\":");
    json_put_cstr(out, (const char *)sqlite3_column_text(s, 2));
    buf_puts(out, ",\"integration\":");
    json_put_cstr(out, (const char *)sqlite3_column_text(s, 3));
    buf_puts(out, ",\"groupKey\":");
    json_put_cstr(out, (const char *)sqlite3_column_text(s, 4));
    buf_puts(out, ",\"state\":");
    json_put_cstr(out, (const char *)sqlite3_column_text(s, 5));
    buf_printf(out, ",\"attempts\":%d,\"lastStatus\":%lld,\"lastError\":", sqlite3_column_int(s, 6),
               (long long)sqlite3_column_int64(s, 7));
    json_put_cstr(out, (const char *)sqlite3_column_text(s, 8));
    buf_puts(out, ",\"updatedAt\":");
    json_put_time(out, sqlite3_column_int64(s, 10), 0);
}

int outbox_query_list(const char *dir, const char *state, size_t limit, struct buf *out)
{
    /* every state but 'delivered' through the partial index; 'delivered' (most rows) and
     * "all" walk the table from its newest row */
    static const char all_sql[] =
        "SELECT " ROW_COLUMNS ", d.updated_at FROM " ROW_FROM " ORDER BY d.id DESC LIMIT ?2";
    static const char delivered_sql[] = "SELECT " ROW_COLUMNS ", d.updated_at FROM " ROW_FROM
                                        " WHERE d.state = ?1 ORDER BY d.id DESC LIMIT ?2";
    static const char open_sql[] =
        "SELECT " ROW_COLUMNS ", d.updated_at FROM " ROW_FROM " WHERE d.state = ?1 AND " OPEN_ONLY
        " ORDER BY d.id DESC LIMIT ?2";
    const char *sql = state == NULL                     ? all_sql
                      : strcmp(state, "delivered") == 0 ? delivered_sql
                                                        : open_sql;
    sqlite3 *db = store_open_ro(dir, "outbox");
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    int rc;

    if (db == NULL) {
        return AR_EDB;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        log_error("outbox", "query: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return AR_EDB;
    }
    if (state != NULL) {
        sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    buf_putc(out, '[');
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n++ > 0) {
            buf_putc(out, ',');
        }
        put_row(out, s);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

int outbox_query_get(const char *dir, int64_t id, struct buf *out)
{
    sqlite3 *db = store_open_ro(dir, "outbox");
    sqlite3_stmt *s = NULL;
    int rc;

    if (db == NULL) {
        return AR_EDB;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT " ROW_COLUMNS ", d.updated_at, d.firing_count, "
                           "d.resolved_count, d.new_firing, d.new_resolved FROM " ROW_FROM
                           " WHERE d.id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        sqlite3_close(db);
        return rc == SQLITE_DONE ? AR_ENOTFOUND : AR_EDB;
    }
    put_row(out, s);
    buf_printf(out, ",\"firing\":%lld,\"resolved\":%lld,\"newFiring\":",
               (long long)sqlite3_column_int64(s, 11), (long long)sqlite3_column_int64(s, 12));
    store_history_put_fps(out, s, 13);
    buf_puts(out, ",\"newResolved\":");
    store_history_put_fps(out, s, 14);
    {
        /* the alerts' labels, for the operator deciding on a replay (no URLs: none stored;
         * none at all once delivered: the payload is not kept then) */
        json_error_t jerr;
        const char *payload = (const char *)sqlite3_column_text(s, 9);
        json_t *p = json_loads(payload != NULL ? payload : "", 0, &jerr);
        json_t *alerts = json_object_get(p, "alerts");
        size_t i;
        json_t *a;
        buf_puts(out, ",\"alerts\":[");
        json_array_foreach(alerts, i, a)
        {
            char *txt = json_dumps(json_object_get(a, "labels"), JSON_COMPACT | JSON_SORT_KEYS);
            if (i > 0) {
                buf_putc(out, ',');
            }
            buf_printf(out, "{\"labels\":%s,\"resolved\":%s}", txt ? txt : "{}",
                       json_is_true(json_object_get(a, "resolved")) ? "true" : "false");
            free(txt);
        }
        buf_putc(out, ']');
        json_decref(p);
    }
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(db,
                           "SELECT at, outcome, http_status, error, attempts, latency_ns "
                           "FROM delivery_log WHERE delivery_id = ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return AR_EDB;
    }
    rc = store_history_put_delivery_log(out, s, id);
    buf_putc(out, '}');
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

int outbox_query_row(const char *dir, int64_t id, struct outbox_row **out)
{
    sqlite3 *db = store_open_ro(dir, "outbox");
    sqlite3_stmt *s = NULL;
    int rc;

    *out = NULL;
    if (db == NULL) {
        return AR_EDB;
    }
    if (sqlite3_prepare_v2(db, "SELECT " ROW_COLUMNS " FROM " ROW_FROM " WHERE d.id = ?1", -1, &s,
                           NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = row_of(s);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc == SQLITE_ROW ? AR_OK : rc == SQLITE_DONE ? AR_ENOTFOUND : AR_EDB;
}

int outbox_query_counts(const char *dir, size_t *pending, size_t *dead)
{
    sqlite3 *db = store_open_ro(dir, "outbox");
    sqlite3_stmt *s = NULL;
    int rc;

    *pending = *dead = 0;
    if (db == NULL) {
        return AR_EDB;
    }
    if (sqlite3_prepare_v2(
            db, "SELECT d.state, count(*) FROM deliveries d WHERE " OPEN_ONLY " GROUP BY d.state",
            -1, &s, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return AR_EDB;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *st = (const char *)sqlite3_column_text(s, 0);
        size_t n = (size_t)sqlite3_column_int64(s, 1);
        if (st != NULL && strcmp(st, "pending") == 0) {
            *pending = n;
        } else {
            *dead = n;
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

int store_outbox_gc(struct store *st, int64_t before_ns)
{
    sqlite3 *db = store_db(st);
    /* finished: delivered, or dead and superseded (its payload is gone, 0010), last
     * changed before the horizon; found through deliveries_by_created (a row is created
     * before it is last updated) */
#define FINISHED                                                                                   \
    "SELECT id FROM deliveries WHERE created_at < ?1 AND updated_at < ?1 AND "                     \
    "(state = 'delivered' OR (state = 'dead' AND id NOT IN (SELECT id FROM delivery_payloads)))"
    static const char *const sql[3] = {"DELETE FROM delivery_log WHERE delivery_id IN (" FINISHED
                                       ")",
                                       "DELETE FROM delivery_payloads WHERE id IN (" FINISHED ")",
                                       "DELETE FROM deliveries WHERE id IN (" FINISHED ")"};
#undef FINISHED

    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *s = NULL;
        int rc;
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
            log_error("store", "deliveries gc: %s", sqlite3_errmsg(db));
            return AR_EDB;
        }
        sqlite3_bind_int64(s, 1, before_ns);
        rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
        if (rc != AR_OK) {
            log_error("store", "deliveries gc: %s", sqlite3_errmsg(db));
        }
        sqlite3_finalize(s);
        if (rc != AR_OK) {
            return rc;
        }
    }
    return AR_OK;
}

void outbox_row_free(struct outbox_row *r)
{
    if (r == NULL) {
        return;
    }
    free(r->receiver);
    free(r->integration);
    free(r->group_key);
    free(r->state);
    free(r->last_error);
    free(r->payload);
    free(r);
}

/* The SQL of incidents (ar/store_incidents.h): incident rows, timeline events and notes;
 * the writer's statements, the load at start and the read-only queries of the API. */
#include "ar/store_incidents.h"

#include "ar/buf.h"
#include "ar/log.h"
#include "ar/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLUMNS                                                                                \
    "id, receiver, group_key, group_labels, severity, state, opened_at, acked_at, acked_by, "      \
    "ack_comment, resolved_at, cluster_key"

void incident_row_free(struct incident_row *r)
{
    if (r == NULL) {
        return;
    }
    free(r->receiver);
    free(r->group_key);
    free(r->group_labels);
    free(r->severity);
    free(r->state);
    free(r->acked_by);
    free(r->ack_comment);
    free(r->alerts);
    free(r->cluster_key);
    free(r);
}

void incident_note_row_free(struct incident_note_row *n)
{
    if (n == NULL) {
        return;
    }
    free(n->section);
    free(n->author);
    free(n->text);
    free(n->origin);
    free(n);
}

static struct incident_row *row_read(sqlite3_stmt *s)
{
    struct incident_row *r = ar_calloc(1, sizeof(*r));

    r->id = sqlite3_column_int64(s, 0);
    r->receiver = store_col_dup(s, 1);
    r->group_key = store_col_dup(s, 2);
    r->group_labels = store_col_dup(s, 3);
    r->severity = store_col_dup(s, 4);
    r->state = store_col_dup(s, 5);
    r->opened_at = sqlite3_column_int64(s, 6);
    r->acked_at = sqlite3_column_int64(s, 7);
    r->acked_by = store_col_dup(s, 8);
    r->ack_comment = store_col_dup(s, 9);
    r->resolved_at = sqlite3_column_int64(s, 10);
    r->cluster_key = store_col_dup(s, 11);
    return r;
}

/* r->alerts from incident_alerts (db: the writer's connection at start, or a read-only one). */
static int read_alerts(sqlite3 *db, struct incident_row *r)
{
    sqlite3_stmt *s = NULL;
    struct buf b;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT fingerprint, resolved, labels, annotations FROM incident_alerts"
                           " WHERE incident_id = ?1 ORDER BY fingerprint",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("incidents", "alerts: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, r->id);
    buf_init(&b, 0);
    buf_putc(&b, '[');
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        buf_printf(
            &b, "%s{\"fingerprint\":\"%s\",\"resolved\":%s,\"labels\":%s,\"annotations\":%s}",
            b.len > 1 ? "," : "", (const char *)sqlite3_column_text(s, 0),
            sqlite3_column_int(s, 1) ? "true" : "false", (const char *)sqlite3_column_text(s, 2),
            (const char *)sqlite3_column_text(s, 3));
    }
    buf_putc(&b, ']');
    sqlite3_finalize(s);
    free(r->alerts);
    r->alerts = buf_take(&b);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

/* ---- writer ---- */

int store_incident_put(struct store *st, const struct incident_row *r)
{
    /* an upsert, not INSERT OR REPLACE: a replace deletes and re-inserts the row with its
     * index entries, about 1.5x the cost of this in-place write (docs/benchmarks.md) */
    sqlite3_stmt *s = store_stmt(
        st,
        "INSERT INTO incidents (" ROW_COLUMNS
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE "
        "SET receiver = excluded.receiver, group_key = excluded.group_key, "
        "group_labels = excluded.group_labels, severity = excluded.severity, "
        "state = excluded.state, opened_at = excluded.opened_at, "
        "acked_at = excluded.acked_at, acked_by = excluded.acked_by, "
        "ack_comment = excluded.ack_comment, resolved_at = excluded.resolved_at, "
        "cluster_key = excluded.cluster_key");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_text(s, 2, r->receiver, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->group_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, r->group_labels, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, r->opened_at);
    sqlite3_bind_int64(s, 8, r->acked_at);
    sqlite3_bind_text(s, 9, r->acked_by ? r->acked_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, r->ack_comment ? r->ack_comment : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, r->resolved_at);
    sqlite3_bind_text(s, 12, r->cluster_key ? r->cluster_key : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "incident write: %s", store_errmsg(st));
    }
    store_stmt_done(s);
    return rc;
}

int store_incident_alert_put(struct store *st, int64_t incident_id, const char *fingerprint,
                             bool resolved, const char *labels, const char *annotations)
{
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO incident_alerts (incident_id, fingerprint, "
                                     "resolved, labels, annotations) VALUES (?1, ?2, ?3, ?4, ?5) "
                                     "ON CONFLICT (incident_id, fingerprint) DO UPDATE SET "
                                     "resolved = excluded.resolved, labels = excluded.labels, "
                                     "annotations = excluded.annotations");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, incident_id);
    sqlite3_bind_text(s, 2, fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, resolved ? 1 : 0);
    sqlite3_bind_text(s, 4, labels, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, annotations, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "incident alert write: %s", store_errmsg(st));
    }
    store_stmt_done(s);
    return rc;
}

int store_incident_event(struct store *st, int64_t incident_id, int64_t at, const char *kind,
                         const char *detail_json)
{
    return store_incident_event_from(st, incident_id, at, kind, detail_json, "");
}

int store_incident_event_from(struct store *st, int64_t incident_id, int64_t at, const char *kind,
                              const char *detail_json, const char *origin)
{
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO incident_events (incident_id, at, kind, detail, "
                                     "origin) VALUES (?1, ?2, ?3, ?4, ?5)");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, incident_id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, detail_json ? detail_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, origin ? origin : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "incident event write: %s", store_errmsg(st));
    }
    store_stmt_done(s);
    return rc;
}

int store_incident_note(struct store *st, const struct incident_note_row *n)
{
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO incident_notes (id, incident_id, at, section, "
                                     "author, text, replaces, origin, origin_seq) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, n->id);
    sqlite3_bind_int64(s, 2, n->incident_id);
    sqlite3_bind_int64(s, 3, n->at);
    sqlite3_bind_text(s, 4, n->section, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, n->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, n->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, n->replaces);
    sqlite3_bind_text(s, 8, n->origin ? n->origin : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, n->origin_seq);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "incident note write: %s", store_errmsg(st));
    }
    store_stmt_done(s);
    return rc;
}

/* ---- start ---- */

int store_incidents_load_open(struct store *st, struct incident_row ***out, size_t *n)
{
    sqlite3_stmt *s = NULL;
    struct incident_row **v = NULL;
    size_t cnt = 0;
    size_t cap = 0;
    int rc;

    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT " ROW_COLUMNS
                           " FROM incidents WHERE state != 'resolved' ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "incidents load: %s", store_errmsg(st));
        return AR_EDB;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            v = ar_realloc(v, cap * sizeof(*v));
        }
        v[cnt++] = row_read(s);
    }
    sqlite3_finalize(s);
    for (size_t i = 0; i < cnt && rc == SQLITE_DONE; i++) {
        if (read_alerts(store_db(st), v[i]) != AR_OK) {
            rc = SQLITE_ERROR;
        }
    }
    if (rc != SQLITE_DONE) {
        log_error("store", "incidents load: %s", store_errmsg(st));
        for (size_t i = 0; i < cnt; i++) {
            incident_row_free(v[i]);
        }
        free(v);
        return AR_EDB;
    }
    *out = v;
    *n = cnt;
    return AR_OK;
}

static int max_id(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = AR_EDB;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0) + 1;
        rc = AR_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

int store_incidents_next_ids(struct store *st, int64_t *next_incident, int64_t *next_note)
{
    if (max_id(store_db(st), "SELECT COALESCE(MAX(id), 0) FROM incidents", next_incident) !=
            AR_OK ||
        max_id(store_db(st), "SELECT COALESCE(MAX(id), 0) FROM incident_notes", next_note) !=
            AR_OK) {
        log_error("store", "incident ids: %s", store_errmsg(st));
        return AR_EDB;
    }
    return AR_OK;
}

/* ---- read-only queries ---- */

sqlite3 *store_incidents_open_ro(const char *dir)
{
    return store_open_ro(dir, "incidents");
}

int store_incident_get(sqlite3 *db, int64_t id, struct incident_row **out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT " ROW_COLUMNS " FROM incidents WHERE id = ?1", -1, &s,
                           NULL) != SQLITE_OK) {
        log_error("incidents", "get: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        struct incident_row *r = row_read(s);
        sqlite3_finalize(s);
        if (read_alerts(db, r) != AR_OK) {
            incident_row_free(r);
            return AR_EDB;
        }
        *out = r;
        return AR_OK;
    }
    rc = rc == SQLITE_DONE ? AR_ENOTFOUND : AR_EDB;
    sqlite3_finalize(s);
    return rc;
}

int store_incidents_each(sqlite3 *db, const char *state, int64_t from_ns, int64_t to_ns,
                         bool (*fn)(void *ctx, const struct incident_row *r), void *ctx)
{
    sqlite3_stmt *s = NULL;
    int rc;

    /* overlapping the window: opened before its end, not resolved before its start */
    if (sqlite3_prepare_v2(db,
                           "SELECT " ROW_COLUMNS " FROM incidents"
                           " WHERE (?1 IS NULL OR state = ?1) AND (?3 = 0 OR opened_at <= ?3)"
                           " AND (?2 = 0 OR resolved_at = 0 OR resolved_at >= ?2)"
                           " ORDER BY opened_at DESC, id DESC",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("incidents", "list: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    if (state != NULL) {
        sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(s, 2, from_ns);
    sqlite3_bind_int64(s, 3, to_ns);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct incident_row *r = row_read(s);
        bool more;
        if (read_alerts(db, r) != AR_OK) {
            incident_row_free(r);
            rc = SQLITE_ERROR;
            break;
        }
        more = fn(ctx, r);
        incident_row_free(r);
        if (!more) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

int store_incident_events_each(sqlite3 *db, int64_t incident_id,
                               void (*fn)(void *ctx, int64_t seq, int64_t at, const char *kind,
                                          const char *detail_json),
                               void *ctx)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT seq, at, kind, detail FROM incident_events"
                           " WHERE incident_id = ?1 ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("incidents", "events: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, incident_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fn(ctx, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
           (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

int store_incident_notes_each(sqlite3 *db, int64_t incident_id,
                              void (*fn)(void *ctx, const struct incident_note_row *n), void *ctx)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, at, section, author, text, replaces FROM incident_notes"
                           " WHERE incident_id = ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("incidents", "notes: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, incident_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct incident_note_row n;
        n.id = sqlite3_column_int64(s, 0);
        n.incident_id = incident_id;
        n.at = sqlite3_column_int64(s, 1);
        n.section = (char *)sqlite3_column_text(s, 2);
        n.author = (char *)sqlite3_column_text(s, 3);
        n.text = (char *)sqlite3_column_text(s, 4);
        n.replaces = sqlite3_column_int64(s, 5);
        fn(ctx, &n);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

int store_incident_note_owner(sqlite3 *db, int64_t note_id, int64_t *incident_id)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT incident_id FROM incident_notes WHERE id = ?1", -1, &s,
                           NULL) != SQLITE_OK) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, note_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *incident_id = sqlite3_column_int64(s, 0);
        rc = AR_OK;
    } else {
        rc = rc == SQLITE_DONE ? AR_ENOTFOUND : AR_EDB;
    }
    sqlite3_finalize(s);
    return rc;
}

/* The publisher of ar/ha_records.h: reads the rows this instance wrote to its local SQLite
 * store past each stream's cursor and inserts them into the shared PostgreSQL tables
 * (migrations/pg/0004) with origin = the peer name and origin_seq = the local id. Every
 * insert is idempotent (ON CONFLICT (origin, origin_seq)), so a batch retried after a lost
 * commit is stored once; cursors come back from PostgreSQL on every (re)connect. Rows that
 * came from another instance (local origin column set) are skipped. Summary rows only:
 * delivery payloads stay local (they are the receivers' request bodies); delivery errors are
 * the local log's, already redacted by the notifiers (notify_redact_url). */
#include "ha_records_internal.h"

#include "ar/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 500

static const char *const pub_table[PUB_COUNT] = {
    [PUB_AUDIT] = "audit_log",           [PUB_DELIVERIES] = "deliveries",
    [PUB_DELIVERY_LOG] = "delivery_log", [PUB_HISTORY] = "history_blocks",
    [PUB_EVENTS] = "incident_events",    [PUB_NOTES] = "incident_notes"};

static void set_pg_error(struct ha_records_conn *c, const PGresult *r)
{
    const char *m = r != NULL ? PQresultErrorMessage(r) : "";
    size_t n;

    if (m == NULL || m[0] == '\0') {
        m = PQerrorMessage(c->conn);
    }
    snprintf(c->error, sizeof(c->error), "%s", m && m[0] ? m : "connection lost");
    n = strlen(c->error);
    while (n > 0 && (c->error[n - 1] == '\n' || c->error[n - 1] == ' ')) {
        c->error[--n] = '\0';
    }
}

/* Runs sql with n text parameters (lens/fmts NULL) or mixed ones; AR_OK when it returned
 * what a command or query returns. */
static int pexec(struct ha_records_conn *c, const char *sql, int n, const char *const *v,
                 const int *lens, const int *fmts)
{
    PGresult *r = PQexecParams(c->conn, sql, n, NULL, v, lens, fmts, 0);
    ExecStatusType t = PQresultStatus(r);
    int rc = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? AR_OK : AR_EDB;

    if (rc != AR_OK) {
        set_pg_error(c, r);
    }
    PQclear(r);
    return rc;
}

int ha_publish_cursors(struct ha_records_conn *c)
{
    for (int i = 0; i < PUB_COUNT; i++) {
        char sql[160];
        const char *v[1] = {c->name};
        PGresult *r;
        snprintf(sql, sizeof(sql), "SELECT coalesce(max(origin_seq), 0) FROM %s WHERE origin = $1",
                 pub_table[i]);
        r = PQexecParams(c->conn, sql, 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            set_pg_error(c, r);
            PQclear(r);
            return AR_EDB;
        }
        c->cursor[i] = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    return AR_OK;
}

static const char *col(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);

    return t ? t : "";
}

/* A decimal integer into one of the slots of a row's parameters. */
struct nums {
    char v[16][24];
    int n;
};

static const char *num(struct nums *ns, int64_t x)
{
    char *p = ns->v[ns->n++ % 16];

    snprintf(p, 24, "%" PRId64, x);
    return p;
}

static sqlite3_stmt *local_query(struct ha_records_conn *c, const char *sql, int64_t cursor)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(c->local, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(c->error, sizeof(c->error), "local store: %s", sqlite3_errmsg(c->local));
        log_error("ha", "records: local read: %s", sqlite3_errmsg(c->local));
        sqlite3_finalize(s);
        return NULL;
    }
    sqlite3_bind_int64(s, 1, cursor);
    return s;
}

/* ---- one function per stream: each handles one batch past its cursor inside the caller's
 * transaction and returns how many local rows it went past (0: nothing new) or -1. ---- */

static int pub_audit(struct ha_records_conn *c, int64_t *cur)
{
    sqlite3_stmt *s = local_query(c,
                                  "SELECT id, at, action, object_id, client, user, detail"
                                  " FROM audit_log WHERE id > ?1 ORDER BY id LIMIT 500",
                                  *cur);
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct nums ns = {0};
        int64_t id = sqlite3_column_int64(s, 0);
        const char *v[8] = {num(&ns, sqlite3_column_int64(s, 1)),
                            col(s, 2),
                            col(s, 3),
                            col(s, 4),
                            col(s, 5),
                            col(s, 6),
                            c->name,
                            num(&ns, id)};
        if (pexec(c,
                  "INSERT INTO audit_log (at, action, object_id, client, \"user\", detail, origin,"
                  " origin_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                  " ON CONFLICT (origin, origin_seq) DO NOTHING",
                  8, v, NULL, NULL) != AR_OK) {
            sqlite3_finalize(s);
            return -1;
        }
        *cur = id;
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

#define DELIVERY_UPDATE                                                                            \
    "state = EXCLUDED.state, attempts = EXCLUDED.attempts, last_status = EXCLUDED.last_status, "   \
    "last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at"

/* Upserts the summary of local delivery row at s's columns first..first+10 (id, created_at,
 * receiver, integration, group_key, state, attempts, last_status, last_error, updated_at,
 * firing_count, resolved_count). */
static int put_delivery(struct ha_records_conn *c, sqlite3_stmt *s, int first)
{
    struct nums ns = {0};
    const char *v[13] = {num(&ns, sqlite3_column_int64(s, first + 1)),
                         col(s, first + 2),
                         col(s, first + 3),
                         col(s, first + 4),
                         col(s, first + 5),
                         num(&ns, sqlite3_column_int64(s, first + 6)),
                         num(&ns, sqlite3_column_int64(s, first + 7)),
                         col(s, first + 8),
                         num(&ns, sqlite3_column_int64(s, first + 9)),
                         num(&ns, sqlite3_column_int64(s, first + 10)),
                         num(&ns, sqlite3_column_int64(s, first + 11)),
                         c->name,
                         num(&ns, sqlite3_column_int64(s, first))};

    return pexec(c,
                 "INSERT INTO deliveries (created_at, receiver, integration, group_key, state,"
                 " attempts, last_status, last_error, updated_at, firing_count, resolved_count,"
                 " origin, origin_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                 " $13) ON CONFLICT (origin, origin_seq) DO UPDATE SET " DELIVERY_UPDATE,
                 13, v, NULL, NULL);
}

#define DELIVERY_COLUMNS                                                                           \
    "d.id, d.created_at, d.receiver, d.integration, d.group_key, d.state, d.attempts, "            \
    "d.last_status, d.last_error, d.updated_at, d.firing_count, d.resolved_count"

static int pub_deliveries(struct ha_records_conn *c, int64_t *cur)
{
    sqlite3_stmt *s = local_query(c,
                                  "SELECT " DELIVERY_COLUMNS " FROM deliveries d WHERE d.id > ?1"
                                  " ORDER BY d.id LIMIT 500",
                                  *cur);
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (put_delivery(c, s, 0) != AR_OK) {
            sqlite3_finalize(s);
            return -1;
        }
        *cur = sqlite3_column_int64(s, 0);
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

/* An attempt: the delivery's current summary, then the attempt's row. Stops at an attempt of
 * a delivery not published yet (the next round publishes it first). */
static int pub_delivery_log(struct ha_records_conn *c, int64_t *cur, int64_t deliveries_cur)
{
    sqlite3_stmt *s = local_query(
        c,
        "SELECT l.id, l.delivery_id, l.at, l.outcome, l.http_status, l.error, l.attempts,"
        " l.latency_ns, " DELIVERY_COLUMNS " FROM delivery_log l LEFT JOIN deliveries d"
        " ON d.id = l.delivery_id WHERE l.id > ?1 ORDER BY l.id LIMIT 500",
        *cur);
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct nums ns = {0};
        int64_t id = sqlite3_column_int64(s, 0);
        int64_t did = sqlite3_column_int64(s, 1);
        if (did > deliveries_cur) {
            break;
        }
        if (sqlite3_column_type(s, 8) != SQLITE_NULL) { /* else collected locally already */
            const char *v[10] = {c->name,
                                 num(&ns, did),
                                 num(&ns, sqlite3_column_int64(s, 2)),
                                 col(s, 3),
                                 num(&ns, sqlite3_column_int64(s, 4)),
                                 col(s, 5),
                                 num(&ns, sqlite3_column_int64(s, 6)),
                                 num(&ns, sqlite3_column_int64(s, 7)),
                                 num(&ns, id),
                                 NULL};
            if (put_delivery(c, s, 8) != AR_OK ||
                pexec(c,
                      "INSERT INTO delivery_log (delivery_id, at, outcome, http_status, error,"
                      " attempts, latency_ns, origin, origin_seq) SELECT id, $3, $4, $5, $6, $7,"
                      " $8, $1, $9 FROM deliveries WHERE origin = $1 AND origin_seq = $2"
                      " ON CONFLICT (origin, origin_seq) DO NOTHING",
                      9, v, NULL, NULL) != AR_OK) {
                sqlite3_finalize(s);
                return -1;
            }
        }
        *cur = id;
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

static int pub_history(struct ha_records_conn *c, int64_t *cur)
{
    /* blocks are written once per transaction and never changed: a cursor suffices */
    sqlite3_stmt *s = local_query(c,
                                  "SELECT id, first_at, last_at, events, format, data"
                                  " FROM history_blocks WHERE id > ?1 ORDER BY id LIMIT 100",
                                  *cur);
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct nums ns = {0};
        int64_t id = sqlite3_column_int64(s, 0);
        const char *v[7] = {num(&ns, sqlite3_column_int64(s, 1)),
                            num(&ns, sqlite3_column_int64(s, 2)),
                            num(&ns, sqlite3_column_int64(s, 3)),
                            num(&ns, sqlite3_column_int64(s, 4)),
                            (const char *)sqlite3_column_blob(s, 5),
                            c->name,
                            num(&ns, id)};
        int lens[7] = {0, 0, 0, 0, sqlite3_column_bytes(s, 5), 0, 0};
        int fmts[7] = {0, 0, 0, 0, 1, 0, 0};
        if (v[4] == NULL) {
            v[4] = "";
        }
        if (pexec(c,
                  "INSERT INTO history_blocks (first_at, last_at, events, format, data, origin,"
                  " origin_seq) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                  " ON CONFLICT (origin, origin_seq) DO NOTHING",
                  7, v, lens, fmts) != AR_OK) {
            sqlite3_finalize(s);
            return -1;
        }
        *cur = id;
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

/* A timeline event: the incident's current row (also after an event applied from another
 * instance, e.g. a remote acknowledgement), then the event unless it came from another
 * instance. *acks counts the acknowledgements among them (they are NOTIFYed). */
static int pub_events(struct ha_records_conn *c, int64_t *cur, int *acks)
{
    sqlite3_stmt *s = local_query(
        c,
        "SELECT e.seq, e.incident_id, e.at, e.kind, e.detail, e.origin, i.cluster_key,"
        " i.receiver, i.group_key, i.group_labels, i.severity, i.state, i.opened_at,"
        " i.acked_at, i.acked_by, i.ack_comment, i.resolved_at FROM incident_events e"
        " JOIN incidents i ON i.id = e.incident_id WHERE e.seq > ?1 ORDER BY e.seq LIMIT 500",
        *cur);
    int n = 0;
    int64_t last_incident = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct nums ns = {0};
        int64_t seq = sqlite3_column_int64(s, 0);
        int64_t iid = sqlite3_column_int64(s, 1);
        if (iid != last_incident) { /* this instance's incident, whoever changed it */
            const char *v[13] = {c->name,
                                 num(&ns, iid),
                                 col(s, 6),
                                 col(s, 7),
                                 col(s, 8),
                                 col(s, 9),
                                 col(s, 10),
                                 col(s, 11),
                                 num(&ns, sqlite3_column_int64(s, 12)),
                                 num(&ns, sqlite3_column_int64(s, 13)),
                                 col(s, 14),
                                 col(s, 15),
                                 num(&ns, sqlite3_column_int64(s, 16))};
            if (pexec(c,
                      "INSERT INTO incidents (origin, origin_seq, cluster_key, receiver, group_key,"
                      " group_labels, severity, state, opened_at, acked_at, acked_by, ack_comment,"
                      " resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                      " $13) ON CONFLICT (origin, origin_seq) DO UPDATE SET"
                      " cluster_key = EXCLUDED.cluster_key, group_labels = EXCLUDED.group_labels,"
                      " severity = EXCLUDED.severity, state = EXCLUDED.state,"
                      " acked_at = EXCLUDED.acked_at, acked_by = EXCLUDED.acked_by,"
                      " ack_comment = EXCLUDED.ack_comment, resolved_at = EXCLUDED.resolved_at",
                      13, v, NULL, NULL) != AR_OK) {
                sqlite3_finalize(s);
                return -1;
            }
            last_incident = iid;
        }
        if (col(s, 5)[0] != '\0') { /* the event came from another instance */
            *cur = seq;
            n++;
            continue;
        }
        {
            const char *v[7] = {c->name,
                                num(&ns, seq),
                                num(&ns, iid),
                                col(s, 6),
                                num(&ns, sqlite3_column_int64(s, 2)),
                                col(s, 3),
                                col(s, 4)};
            if (pexec(c,
                      "INSERT INTO incident_events (origin, origin_seq, incident_seq, cluster_key,"
                      " at, kind, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                      " ON CONFLICT (origin, origin_seq) DO NOTHING",
                      7, v, NULL, NULL) != AR_OK) {
                sqlite3_finalize(s);
                return -1;
            }
        }
        if (strcmp(col(s, 3), "acknowledged") == 0) {
            (*acks)++;
        }
        *cur = seq;
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

/* A note, naming the version it replaces by that version's origin and id there. */
static int pub_notes(struct ha_records_conn *c, int64_t *cur, int *notes)
{
    sqlite3_stmt *s = local_query(
        c,
        "SELECT n.id, n.incident_id, n.at, n.section, n.author, n.text, n.replaces, n.origin,"
        " i.cluster_key, r.origin, r.origin_seq FROM incident_notes n"
        " JOIN incidents i ON i.id = n.incident_id"
        " LEFT JOIN incident_notes r ON r.id = n.replaces"
        " WHERE n.id > ?1 ORDER BY n.id LIMIT 500",
        *cur);
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct nums ns = {0};
        int64_t id = sqlite3_column_int64(s, 0);
        int64_t replaces = sqlite3_column_int64(s, 6);
        const char *rorigin = "";
        int64_t rseq = 0;
        if (col(s, 7)[0] != '\0') {
            *cur = id;
            n++;
            continue;
        }
        if (replaces != 0 && sqlite3_column_type(s, 9) != SQLITE_NULL) {
            rorigin = col(s, 9)[0] ? col(s, 9) : c->name;
            rseq = col(s, 9)[0] ? sqlite3_column_int64(s, 10) : replaces;
        }
        {
            const char *v[11] = {c->name,
                                 num(&ns, id),
                                 num(&ns, sqlite3_column_int64(s, 1)),
                                 col(s, 8),
                                 num(&ns, sqlite3_column_int64(s, 2)),
                                 col(s, 3),
                                 col(s, 4),
                                 col(s, 5),
                                 rorigin,
                                 num(&ns, rseq),
                                 NULL};
            if (pexec(
                    c,
                    "INSERT INTO incident_notes (origin, origin_seq, incident_seq, cluster_key,"
                    " at, section, author, text, replaces_origin, replaces_seq) VALUES ($1, $2,"
                    " $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (origin, origin_seq) DO NOTHING",
                    10, v, NULL, NULL) != AR_OK) {
                sqlite3_finalize(s);
                return -1;
            }
        }
        (*notes)++;
        *cur = id;
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

int ha_publish(struct ha_records_conn *c, size_t *sent)
{
    for (int round = 0; round < 20; round++) {
        int64_t cur[PUB_COUNT];
        int acks = 0;
        int notes = 0;
        int total = 0;
        int k;
        memcpy(cur, c->cursor, sizeof(cur));
        /* the local reads of one round see one snapshot of the store */
        if (sqlite3_exec(c->local, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(c->error, sizeof(c->error), "local store: %s", sqlite3_errmsg(c->local));
            return AR_EDB;
        }
        if (pexec(c, "BEGIN", 0, NULL, NULL, NULL) != AR_OK) {
            sqlite3_exec(c->local, "ROLLBACK", NULL, NULL, NULL);
            return AR_EDB;
        }
        if ((k = pub_audit(c, &cur[PUB_AUDIT])) < 0) {
            goto fail;
        }
        total += k;
        if ((k = pub_deliveries(c, &cur[PUB_DELIVERIES])) < 0) {
            goto fail;
        }
        total += k;
        if ((k = pub_delivery_log(c, &cur[PUB_DELIVERY_LOG], cur[PUB_DELIVERIES])) < 0) {
            goto fail;
        }
        total += k;
        if ((k = pub_history(c, &cur[PUB_HISTORY])) < 0) {
            goto fail;
        }
        total += k;
        if ((k = pub_events(c, &cur[PUB_EVENTS], &acks)) < 0) {
            goto fail;
        }
        total += k;
        if ((k = pub_notes(c, &cur[PUB_NOTES], &notes)) < 0) {
            goto fail;
        }
        total += k;
        sqlite3_exec(c->local, "COMMIT", NULL, NULL, NULL);
        if (total == 0) {
            pexec(c, "ROLLBACK", 0, NULL, NULL, NULL);
            return AR_OK;
        }
        /* delivered at commit, so a listener never reads before the rows are there */
        if ((acks + notes > 0 &&
             pexec(c, "SELECT pg_notify('ar_records', '')", 0, NULL, NULL, NULL) != AR_OK) ||
            pexec(c, "COMMIT", 0, NULL, NULL, NULL) != AR_OK) {
            return AR_EDB;
        }
        memcpy(c->cursor, cur, sizeof(cur));
        *sent += (size_t)total;
        continue;
    fail:
        sqlite3_exec(c->local, "ROLLBACK", NULL, NULL, NULL);
        return AR_EDB;
    }
    return AR_OK;
}

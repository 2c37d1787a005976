/* The publisher of ar/ha_records.h: reads the rows this instance wrote to its local SQLite
 * store past each stream's cursor and inserts them into the shared PostgreSQL tables
 * (migrations/pg/0004) with origin = the peer name and origin_seq = the local id. Every
 * insert is idempotent (ON CONFLICT (origin, origin_seq)), so a batch retried after a lost
 * commit is stored once; cursors come back from PostgreSQL on every (re)connect. Rows that
 * came from another instance (local origin column set) are skipped. Summary rows only:
 * delivery payloads stay local (they are the receivers' request bodies); delivery errors are
 * the local log's, already redacted by the notifiers (notify_redact_url). A stream's batch
 * goes out as one statement per table: each parameter is a PostgreSQL array of the rows'
 * values, spread by unnest (a statement per row cost PostgreSQL more CPU in a fan-out than
 * the three instances spent together: bench/ha.py with pg_stat_statements). */
#include "ha_records_internal.h"

#include "ar/log.h"
#include "ar/pg_array.h"

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

/* AR_OK when r is what a command or query returns; else the error is kept. Clears r. */
static int result_ok(struct ha_records_conn *c, PGresult *r)
{
    ExecStatusType t = PQresultStatus(r);
    int rc = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? AR_OK : AR_EDB;

    if (rc != AR_OK) {
        set_pg_error(c, r);
    }
    PQclear(r);
    return rc;
}

/* Runs sql with n text parameters. */
static int pexec(struct ha_records_conn *c, const char *sql, int n, const char *const *v)
{
    return result_ok(c, PQexecParams(c->conn, sql, n, NULL, v, NULL, NULL, 0));
}

/* As pexec, for the stream statements (static texts, run at every batch): each is parsed
 * and planned once per connection, named "pub<i>". */
static int pexec_prepared(struct ha_records_conn *c, const char *sql, int n, const char *const *v)
{
    char name[16];
    int i = 0;

    while (i < c->nprepared && c->prepared[i] != sql) {
        i++;
    }
    if (i == (int)AR_ARRAY_LEN(c->prepared)) {
        return pexec(c, sql, n, v);
    }
    snprintf(name, sizeof(name), "pub%d", i);
    if (i == c->nprepared) {
        if (result_ok(c, PQprepare(c->conn, name, sql, n, NULL)) != AR_OK) {
            return AR_EDB;
        }
        c->prepared[c->nprepared++] = sql;
    }
    return result_ok(c, PQexecPrepared(c->conn, name, n, v, NULL, NULL, 0));
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

/* ---- the streams as one table: each is a local query past its cursor (the local id or seq
 * in column 0), a PostgreSQL statement and how each of its parameters is taken from the row;
 * a hook only where a stream does more than insert each row. ---- */

/* How one parameter is taken: a local column as an integer, as text, as a blob (sent as
 * binary bytea), this instance's name (origin), or a value the stream's hook computed. */
enum pub_arg_kind { ARG_END, ARG_INT, ARG_TEXT, ARG_BLOB, ARG_ORIGIN, ARG_EXTRA };

struct pub_arg {
    enum pub_arg_kind kind;
    int col; /* the local column (ARG_INT/TEXT/BLOB) or the extra's index (ARG_EXTRA) */
};

#define INT(n)                                                                                     \
    {                                                                                              \
        ARG_INT, (n)                                                                               \
    }
#define TEXT(n)                                                                                    \
    {                                                                                              \
        ARG_TEXT, (n)                                                                              \
    }
#define BLOB(n)                                                                                    \
    {                                                                                              \
        ARG_BLOB, (n)                                                                              \
    }
#define ORIGIN                                                                                     \
    {                                                                                              \
        ARG_ORIGIN, 0                                                                              \
    }
#define EXTRA(n)                                                                                   \
    {                                                                                              \
        ARG_EXTRA, (n)                                                                             \
    }

/* A parameter list, ended by an ARG_END. */
#define ARGS(...) ((const struct pub_arg[]){__VA_ARGS__, {ARG_END, 0}})

#define MAX_ARGS 16

/* The state of one publishing round, shared by the streams' hooks. */
struct pub_round {
    int64_t cur[PUB_COUNT];
    int notify;            /* acknowledgements and notes published (they are NOTIFYed) */
    int64_t last_incident; /* the incident whose row the events stream upserted last */
    const char *extra[2];  /* values a hook computed for ARG_EXTRA */
    char extra_num[24];
};

/* One statement's rows, gathered as one PostgreSQL array literal per parameter ($k::type[]
 * in the statement, spread by unnest), sent when the stream's batch ends. */
struct rows {
    const char *sql;
    int n; /* parameters; 0: no row yet */
    size_t count;
    struct buf a[MAX_ARGS];
};

/* A flush of a stream's rows once the arrays hold this many bytes (history blocks). */
#define ROWS_MAX_BYTES (4u << 20)

/* Adds the row args take from the local row s (columns counted from base) to w, whose
 * statement is sql. */
static void rows_add(struct rows *w, const char *sql, const struct ha_records_conn *c,
                     sqlite3_stmt *s, int base, const struct pub_arg *args,
                     const struct pub_round *r)
{
    int n = 0;

    if (w->n == 0) {
        w->sql = sql;
        while (n < MAX_ARGS && args[n].kind != ARG_END) {
            pg_array_begin(&w->a[n]);
            n++;
        }
        w->n = n;
    }
    for (n = 0; n < w->n; n++) {
        struct buf *b = &w->a[n];
        int i = base + args[n].col;
        switch (args[n].kind) {
        case ARG_INT:
            pg_array_int(b, sqlite3_column_int64(s, i));
            break;
        case ARG_TEXT:
            pg_array_str(b, col(s, i));
            break;
        case ARG_BLOB:
            pg_array_bytea(b, sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i));
            break;
        case ARG_ORIGIN:
            pg_array_str(b, c->name);
            break;
        case ARG_EXTRA:
            pg_array_str(b, r->extra[args[n].col]);
            break;
        case ARG_END:
            break;
        }
    }
    w->count++;
}

static size_t rows_bytes(const struct rows *w)
{
    size_t n = 0;

    for (int i = 0; i < w->n; i++) {
        n += w->a[i].len;
    }
    return n;
}

static void rows_cleanup(struct rows *w)
{
    for (int i = 0; i < w->n; i++) {
        buf_cleanup(&w->a[i]);
    }
    w->n = 0;
    w->count = 0;
}

/* Sends w's rows in one statement and empties it. */
static int rows_flush(struct ha_records_conn *c, struct rows *w)
{
    const char *v[MAX_ARGS];
    int rc;

    if (w->count == 0) {
        return AR_OK;
    }
    for (int i = 0; i < w->n; i++) {
        pg_array_end(&w->a[i]);
        v[i] = buf_str(&w->a[i]);
    }
    rc = pexec_prepared(c, w->sql, w->n, v);
    rows_cleanup(w);
    return rc;
}

/* What a hook says of a row. */
enum pub_verdict {
    ROW_SEND, /* insert it with the stream's statement */
    ROW_SKIP, /* nothing to insert, but the cursor goes past it */
    ROW_STOP  /* not yet: the batch ends before it */
};

struct pub_stream {
    const char *select; /* the local rows past ?1, at most a batch, id first */
    const char *insert; /* idempotent: ON CONFLICT (origin, origin_seq); $k: arrays */
    const struct pub_arg *args;
    /* may add a row of another table to side, sent before the stream's own rows */
    enum pub_verdict (*hook)(struct ha_records_conn *c, sqlite3_stmt *s, struct pub_round *r,
                             struct rows *side);
};

#define DELIVERY_UPDATE                                                                            \
    "state = EXCLUDED.state, attempts = EXCLUDED.attempts, last_status = EXCLUDED.last_status, "   \
    "last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at"

#define DELIVERY_COLUMNS                                                                           \
    "d.id, d.created_at, d.receiver, d.integration, d.group_key, d.state, d.attempts, "            \
    "d.last_status, d.last_error, d.updated_at, d.firing_count, d.resolved_count"

/* The upsert of deliveries' summaries from DELIVERY_COLUMNS (id, created_at, receiver,
 * integration, group_key, state, attempts, last_status, last_error, updated_at,
 * firing_count, resolved_count). A delivery may come twice in one batch (an attempt's
 * current summary, read in one snapshot): one row per delivery, since one statement cannot
 * update a row twice. */
static const char delivery_insert[] =
    "INSERT INTO deliveries (created_at, receiver, integration, group_key, state,"
    " attempts, last_status, last_error, updated_at, firing_count, resolved_count,"
    " origin, origin_seq) SELECT DISTINCT ON (u.s) u.* FROM "
    "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],"
    " $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[],"
    " $13::bigint[]) AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, s)"
    " ORDER BY u.s ON CONFLICT (origin, origin_seq) DO UPDATE SET " DELIVERY_UPDATE;
#define DELIVERY_ARGS                                                                              \
    ARGS(INT(1), TEXT(2), TEXT(3), TEXT(4), TEXT(5), INT(6), INT(7), TEXT(8), INT(9), INT(10),     \
         INT(11), ORIGIN, INT(0))

/* An attempt: the delivery's current summary first. Stops at an attempt of a delivery not
 * published yet (the next round publishes it first). */
static enum pub_verdict delivery_log_hook(struct ha_records_conn *c, sqlite3_stmt *s,
                                          struct pub_round *r, struct rows *side)
{
    if (sqlite3_column_int64(s, 1) > r->cur[PUB_DELIVERIES]) {
        return ROW_STOP;
    }
    if (sqlite3_column_type(s, 8) == SQLITE_NULL) { /* collected locally already */
        return ROW_SKIP;
    }
    rows_add(side, delivery_insert, c, s, 8, DELIVERY_ARGS, r);
    return ROW_SEND;
}

/* Incidents' current rows, one per incident (as deliveries above). */
static const char incident_upsert[] =
    "INSERT INTO incidents (origin, origin_seq, cluster_key, receiver, group_key,"
    " group_labels, severity, state, opened_at, acked_at, acked_by, ack_comment,"
    " resolved_at) SELECT DISTINCT ON (u.s) u.* FROM "
    "unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],"
    " $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[],"
    " $13::bigint[]) AS u(o, s, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13)"
    " ORDER BY u.s ON CONFLICT (origin, origin_seq) DO UPDATE SET"
    " cluster_key = EXCLUDED.cluster_key, group_labels = EXCLUDED.group_labels,"
    " severity = EXCLUDED.severity, state = EXCLUDED.state,"
    " acked_at = EXCLUDED.acked_at, acked_by = EXCLUDED.acked_by,"
    " ack_comment = EXCLUDED.ack_comment, resolved_at = EXCLUDED.resolved_at";
#define INCIDENT_ARGS                                                                              \
    ARGS(ORIGIN, INT(1), TEXT(6), TEXT(7), TEXT(8), TEXT(9), TEXT(10), TEXT(11), INT(12), INT(13), \
         TEXT(14), TEXT(15), INT(16))

/* A timeline event: the incident's current row (also after an event applied from another
 * instance, e.g. a remote acknowledgement), then the event unless it came from another
 * instance. Acknowledgements are NOTIFYed. */
static enum pub_verdict events_hook(struct ha_records_conn *c, sqlite3_stmt *s, struct pub_round *r,
                                    struct rows *side)
{
    int64_t iid = sqlite3_column_int64(s, 1);

    if (iid != r->last_incident) { /* this instance's incident, whoever changed it */
        rows_add(side, incident_upsert, c, s, 0, INCIDENT_ARGS, r);
        r->last_incident = iid;
    }
    if (col(s, 5)[0] != '\0') { /* the event came from another instance */
        return ROW_SKIP;
    }
    if (strcmp(col(s, 3), "acknowledged") == 0) {
        r->notify++;
    }
    return ROW_SEND;
}

/* A note, naming the version it replaces by that version's origin and id there (extras 0
 * and 1). Notes are NOTIFYed. */
static enum pub_verdict notes_hook(struct ha_records_conn *c, sqlite3_stmt *s, struct pub_round *r,
                                   struct rows *side)
{
    int64_t replaces = sqlite3_column_int64(s, 6);
    int64_t rseq = 0;

    (void)side;
    if (col(s, 7)[0] != '\0') { /* the note came from another instance */
        return ROW_SKIP;
    }
    r->extra[0] = "";
    if (replaces != 0 && sqlite3_column_type(s, 9) != SQLITE_NULL) {
        r->extra[0] = col(s, 9)[0] ? col(s, 9) : c->name;
        rseq = col(s, 9)[0] ? sqlite3_column_int64(s, 10) : replaces;
    }
    snprintf(r->extra_num, sizeof(r->extra_num), "%" PRId64, rseq);
    r->extra[1] = r->extra_num;
    r->notify++;
    return ROW_SEND;
}

static const struct pub_stream streams[PUB_COUNT] = {
    [PUB_AUDIT] =
        {"SELECT id, at, action, object_id, client, user, detail"
         " FROM audit_log WHERE id > ?1 ORDER BY id LIMIT 500",
         "INSERT INTO audit_log (at, action, object_id, client, \"user\", detail, origin,"
         " origin_seq) SELECT * FROM "
         "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
         " $7::text[], $8::bigint[]) ON CONFLICT (origin, origin_seq) DO NOTHING",
         ARGS(INT(1), TEXT(2), TEXT(3), TEXT(4), TEXT(5), TEXT(6), ORIGIN, INT(0)), NULL},
    [PUB_DELIVERIES] = {"SELECT " DELIVERY_COLUMNS " FROM deliveries d WHERE d.id > ?1"
                        " ORDER BY d.id LIMIT 500",
                        delivery_insert, DELIVERY_ARGS, NULL},
    [PUB_DELIVERY_LOG] =
        {"SELECT l.id, l.delivery_id, l.at, l.outcome, l.http_status, l.error,"
         " l.attempts, l.latency_ns, " DELIVERY_COLUMNS
         " FROM delivery_log l LEFT JOIN deliveries d"
         " ON d.id = l.delivery_id WHERE l.id > ?1 ORDER BY l.id LIMIT 500",
         "INSERT INTO delivery_log (delivery_id, at, outcome, http_status, error,"
         " attempts, latency_ns, origin, origin_seq) SELECT d.id, u.c3, u.c4,"
         " u.c5, u.c6, u.c7, u.c8, u.o, u.s FROM "
         "unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],"
         " $7::bigint[], $8::bigint[], $9::bigint[]) AS u(o, d, c3, c4, c5, c6,"
         " c7, c8, s) JOIN deliveries d ON d.origin = u.o AND d.origin_seq = u.d"
         " ON CONFLICT (origin, origin_seq) DO NOTHING",
         ARGS(ORIGIN, INT(1), INT(2), TEXT(3), INT(4), TEXT(5), INT(6), INT(7), INT(0)),
         delivery_log_hook},
    /* blocks are written once per transaction and never changed: a cursor suffices */
    [PUB_HISTORY] =
        {"SELECT id, first_at, last_at, events, format, data"
         " FROM history_blocks WHERE id > ?1 ORDER BY id LIMIT 100",
         "INSERT INTO history_blocks (first_at, last_at, events, format, data, origin,"
         " origin_seq) SELECT * FROM "
         "unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[],"
         " $7::bigint[]) ON CONFLICT (origin, origin_seq) DO NOTHING",
         ARGS(INT(1), INT(2), INT(3), INT(4), BLOB(5), ORIGIN, INT(0)), NULL},
    [PUB_EVENTS] =
        {"SELECT e.seq, e.incident_id, e.at, e.kind, e.detail, e.origin,"
         " i.cluster_key, i.receiver, i.group_key, i.group_labels, i.severity, i.state,"
         " i.opened_at, i.acked_at, i.acked_by, i.ack_comment, i.resolved_at"
         " FROM incident_events e JOIN incidents i ON i.id = e.incident_id"
         " WHERE e.seq > ?1 ORDER BY e.seq LIMIT 500",
         "INSERT INTO incident_events (origin, origin_seq, incident_seq, cluster_key,"
         " at, kind, detail) SELECT * FROM "
         "unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],"
         " $7::text[]) ON CONFLICT (origin, origin_seq) DO NOTHING",
         ARGS(ORIGIN, INT(0), INT(1), TEXT(6), INT(2), TEXT(3), TEXT(4)), events_hook},
    [PUB_NOTES] =
        {"SELECT n.id, n.incident_id, n.at, n.section, n.author, n.text, n.replaces,"
         " n.origin, i.cluster_key, r.origin, r.origin_seq FROM incident_notes n"
         " JOIN incidents i ON i.id = n.incident_id"
         " LEFT JOIN incident_notes r ON r.id = n.replaces"
         " WHERE n.id > ?1 ORDER BY n.id LIMIT 500",
         "INSERT INTO incident_notes (origin, origin_seq, incident_seq, cluster_key,"
         " at, section, author, text, replaces_origin, replaces_seq) SELECT * FROM "
         "unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],"
         " $7::text[], $8::text[], $9::text[], $10::bigint[])"
         " ON CONFLICT (origin, origin_seq) DO NOTHING",
         ARGS(ORIGIN, INT(0), INT(1), TEXT(8), INT(2), TEXT(3), TEXT(4), TEXT(5), EXTRA(0),
              EXTRA(1)),
         notes_hook},
};

/* A stop ends a round early: what was published commits, the rest waits in the local
 * store for the next start (a stop must not wait for a 10,000-row backlog). */
static bool stop_asked(const struct ha_records_conn *c)
{
    return c->stop != NULL && __atomic_load_n(c->stop, __ATOMIC_RELAXED) != 0;
}

/* Sends what a stream gathered: the hook's rows first (an attempt's delivery). */
static int stream_flush(struct ha_records_conn *c, struct rows *side, struct rows *own)
{
    return rows_flush(c, side) == AR_OK && rows_flush(c, own) == AR_OK ? AR_OK : AR_EDB;
}

/* One batch of stream k past its cursor, inside the caller's transaction: how many local rows
 * it went past (0: nothing new) or -1. */
static int pub_stream(struct ha_records_conn *c, int k, struct pub_round *r)
{
    const struct pub_stream *st = &streams[k];
    sqlite3_stmt *s = local_query(c, st->select, r->cur[k]);
    struct rows side = {0};
    struct rows own = {0};
    int n = 0;

    if (s == NULL) {
        return -1;
    }
    while (!stop_asked(c) && sqlite3_step(s) == SQLITE_ROW) {
        enum pub_verdict v = st->hook != NULL ? st->hook(c, s, r, &side) : ROW_SEND;
        if (v == ROW_STOP) {
            break;
        }
        if (v == ROW_SEND) {
            rows_add(&own, st->insert, c, s, 0, st->args, r);
        }
        r->cur[k] = sqlite3_column_int64(s, 0);
        n++;
        if (rows_bytes(&own) + rows_bytes(&side) > ROWS_MAX_BYTES &&
            stream_flush(c, &side, &own) != AR_OK) {
            n = -1;
            break;
        }
    }
    sqlite3_finalize(s);
    if (n >= 0 && stream_flush(c, &side, &own) != AR_OK) {
        n = -1;
    }
    rows_cleanup(&side);
    rows_cleanup(&own);
    return n;
}

int ha_publish(struct ha_records_conn *c, size_t *sent)
{
    for (int round = 0; round < 20 && !stop_asked(c); round++) {
        struct pub_round r = {0};
        int total = 0;
        memcpy(r.cur, c->cursor, sizeof(r.cur));
        /* the local reads of one round see one snapshot of the store */
        if (sqlite3_exec(c->local, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(c->error, sizeof(c->error), "local store: %s", sqlite3_errmsg(c->local));
            return AR_EDB;
        }
        if (pexec(c, "BEGIN", 0, NULL) != AR_OK) {
            sqlite3_exec(c->local, "ROLLBACK", NULL, NULL, NULL);
            return AR_EDB;
        }
        /* in the order of the enum: attempts after the deliveries they belong to */
        for (int k = 0; k < PUB_COUNT; k++) {
            int m = pub_stream(c, k, &r);
            if (m < 0) {
                goto fail;
            }
            total += m;
        }
        sqlite3_exec(c->local, "COMMIT", NULL, NULL, NULL);
        if (total == 0) {
            pexec(c, "ROLLBACK", 0, NULL);
            return AR_OK;
        }
        /* delivered at commit, so a listener never reads before the rows are there */
        if ((r.notify > 0 && pexec(c, "SELECT pg_notify('ar_records', '')", 0, NULL) != AR_OK) ||
            pexec(c, "COMMIT", 0, NULL) != AR_OK) {
            return AR_EDB;
        }
        memcpy(c->cursor, r.cur, sizeof(r.cur));
        *sent += (size_t)total;
        continue;
    fail:
        sqlite3_exec(c->local, "ROLLBACK", NULL, NULL, NULL);
        return AR_EDB;
    }
    return AR_OK;
}

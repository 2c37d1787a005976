/* The records thread of ar/ha_records.h: connection management (statement_timeout 2 s,
 * reconnect with backoff 1 s doubling to 10 s, outcomes to ar/pg_health.h), the loop that
 * publishes (ha_records_publish.c) and the subscriber that applies acknowledgements and
 * notes of other instances to the local incidents through core_call. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ha_records_internal.h"

#include "ar/clock.h"
#include "ar/core.h"
#include "ar/incident.h"
#include "ar/log.h"
#include "ar/pg_health.h"
#include "ar/store.h"
#include "ar/store_incidents.h"
#include "ar/store_pg.h"
#include "ar/store_pg_listen.h"
#include "ar/txn.h"
#include "store_pg_conn.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANNEL "ar_records"
#define WAIT_MS 200        /* between publishing rounds; a NOTIFY wakes the subscriber at once */
#define POLL_NS 1000000000 /* the subscriber's fallback poll */

struct ha_records {
    char *conninfo;
    char *password;
    char *name;
    char *storage_path;
    struct core *core;
    pthread_t thread;
    int stop; /* atomic */
    struct store_pg *pg;
    struct store_pg_listener *listener;
    int64_t opened_mono; /* when pg and listener were opened */
    struct ha_records_conn c;
    int64_t remote_cursor[2];    /* last PostgreSQL seq applied: acks, notes */
    struct pending_ack *pending; /* acknowledgements waiting for their local incident */
    size_t npending;
};

enum { SUB_ACKS, SUB_NOTES, SUB_RETRY };

/* An acknowledgement of an episode this instance has no open incident for yet (it receives
 * the alerts later, or started after it was made): retried at every poll for
 * PENDING_NS, so an instance that opens the incident a moment later holds its repeats back
 * too. Kept in memory only (its cursor moved on). */
#define PENDING_MAX 256
#define PENDING_NS  (10 * 60 * INT64_C(1000000000))
struct pending_ack {
    char *cluster_key;
    char *origin;
    char *by;
    char *comment;
    int64_t at;
    int64_t until; /* monotonic */
};
static const char *const sub_stream[2] = {"acks", "notes"};

static bool stopping(struct ha_records *h)
{
    return __atomic_load_n(&h->stop, __ATOMIC_RELAXED) != 0;
}

static void disconnect(struct ha_records *h)
{
    store_pg_listen_close(h->listener);
    h->listener = NULL;
    store_pg_close(h->pg);
    h->pg = NULL;
    h->c.conn = NULL;
}

static int connect_pg(struct ha_records *h)
{
    static const char *const channels[] = {CHANNEL};
    struct ar_error err;
    PGresult *r;

    h->opened_mono = clock_monotonic_ns();
    if (store_pg_open(h->conninfo, h->password, &h->pg, &err) != AR_OK) {
        snprintf(h->c.error, sizeof(h->c.error), "%s", err.msg);
        return AR_EDB;
    }
    h->c.conn = store_pg_conn(h->pg);
    h->c.nprepared = 0;
    r = PQexec(h->c.conn, "SET statement_timeout = 2000");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(h->c.error, sizeof(h->c.error), "%s", PQresultErrorMessage(r));
        PQclear(r);
        disconnect(h);
        return AR_EDB;
    }
    PQclear(r);
    if (store_pg_listen_open(h->conninfo, h->password, channels, 1, &h->listener, &err) != AR_OK) {
        snprintf(h->c.error, sizeof(h->c.error), "%s", err.msg);
        disconnect(h);
        return AR_EDB;
    }
    if (ha_publish_cursors(&h->c) != AR_OK) {
        disconnect(h);
        return AR_EDB;
    }
    return AR_OK;
}

/* ---- the subscriber ---- */

struct cursor_row {
    const char *stream; /* static */
    int64_t seq;
};

static int cursor_apply(struct store *st, void *data)
{
    struct cursor_row *r = data;
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO ha_records_cursor (stream, seq) VALUES (?1, ?2)"
                                     " ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_text(s, 1, r->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, r->seq);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    store_stmt_done(s);
    return rc;
}

/* One remote row to apply on the core thread, with the cursor it advances (in the same
 * transaction, so a row is applied once across restarts). */
struct remote_call {
    int stream;
    int64_t seq;
    const char *self;
    /* acks */
    const char *origin;
    const char *cluster_key;
    int64_t at;
    const char *by;
    const char *comment;
    /* notes: the local incident and the local note replaced (resolved beforehand) */
    int64_t incident_id;
    int64_t origin_seq;
    const char *section;
    const char *author;
    const char *text;
    int64_t replaces;
    int result;
};

static int remote_fn(struct core *core, struct txn *txn, void *arg)
{
    struct remote_call *rc = arg;
    struct cursor_row *cr;

    if (rc->cluster_key != NULL && rc->stream != SUB_NOTES) {
        rc->result = incident_ack_remote(core_incidents(core), rc->cluster_key, rc->origin,
                                         rc->self, rc->at, rc->by, rc->comment, txn);
    } else if (rc->incident_id != 0 && rc->stream == SUB_NOTES) {
        incident_note_add_remote(core_incidents(core), rc->incident_id, rc->section, rc->author,
                                 rc->text, rc->replaces, rc->origin, rc->origin_seq, rc->at, txn);
        rc->result = AR_OK;
    }
    if (rc->stream == SUB_RETRY) {
        return AR_OK;
    }
    cr = ar_calloc(1, sizeof(*cr));
    cr->stream = sub_stream[rc->stream];
    cr->seq = rc->seq;
    txn_write(txn, cursor_apply, cr, free);
    return AR_OK;
}

static int64_t local_int(sqlite3 *db, const char *sql, const char *a, int64_t b, int64_t dflt)
{
    sqlite3_stmt *s = NULL;
    int64_t v = dflt;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(s) >= 2) {
            sqlite3_bind_int64(s, 2, b);
        }
        if (sqlite3_step(s) == SQLITE_ROW) {
            v = sqlite3_column_int64(s, 0);
        }
    }
    sqlite3_finalize(s);
    return v;
}

static void read_remote_cursors(struct ha_records *h)
{
    for (int i = 0; i < 2; i++) {
        h->remote_cursor[i] = local_int(
            h->c.local, "SELECT seq FROM ha_records_cursor WHERE stream = ?1", sub_stream[i], 0, 0);
    }
}

/* Applies one batch of remote acknowledgements (1) or notes (2); 0 when none is new. */
static int pull(struct ha_records *h, int stream, int *applied)
{
    static const char *const sql[2] = {
        "SELECT seq, origin, cluster_key, at, detail, 0, '', '', '', '', 0 FROM incident_events"
        " WHERE kind = 'acknowledged' AND seq > $1 AND origin <> $2 ORDER BY seq LIMIT 200",
        "SELECT seq, origin, cluster_key, at, '', origin_seq, section, author, text,"
        " replaces_origin, replaces_seq FROM incident_notes WHERE seq > $1 AND origin <> $2"
        " ORDER BY seq LIMIT 200"};
    char cur[24];
    const char *v[2] = {cur, h->name};
    PGresult *r;
    int n;

    snprintf(cur, sizeof(cur), "%lld", (long long)h->remote_cursor[stream]);
    r = PQexecParams(h->c.conn, sql[stream], 2, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(h->c.error, sizeof(h->c.error), "%s", PQresultErrorMessage(r));
        PQclear(r);
        return AR_EDB;
    }
    n = PQntuples(r);
    for (int i = 0; i < n && !stopping(h); i++) {
        struct remote_call call;
        json_t *detail = NULL;
        memset(&call, 0, sizeof(call));
        call.result = AR_ENOTFOUND;
        call.stream = stream;
        call.seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        call.self = h->name;
        call.origin = PQgetvalue(r, i, 1);
        call.at = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        if (stream == SUB_ACKS) {
            detail = json_loads(PQgetvalue(r, i, 4), 0, NULL);
            /* only acknowledgements that were in force where they were made */
            if (json_is_true(json_object_get(detail, "effective")) &&
                PQgetvalue(r, i, 2)[0] != '\0') {
                call.cluster_key = PQgetvalue(r, i, 2);
                call.by = json_string_value(json_object_get(detail, "by"));
                call.comment = json_string_value(json_object_get(detail, "comment"));
                if (call.by == NULL) {
                    call.cluster_key = NULL;
                }
            }
        } else if (PQgetvalue(r, i, 2)[0] != '\0') {
            const char *rorigin = PQgetvalue(r, i, 9);
            int64_t rseq = strtoll(PQgetvalue(r, i, 10), NULL, 10);
            call.origin_seq = strtoll(PQgetvalue(r, i, 5), NULL, 10);
            call.section = PQgetvalue(r, i, 6);
            call.author = PQgetvalue(r, i, 7);
            call.text = PQgetvalue(r, i, 8);
            /* the local incident of the same episode (resolved or not), newest first */
            call.incident_id = local_int(h->c.local,
                                         "SELECT id FROM incidents WHERE cluster_key = ?1"
                                         " ORDER BY id DESC LIMIT 1",
                                         PQgetvalue(r, i, 2), 0, 0);
            if (call.incident_id != 0 &&
                local_int(h->c.local,
                          "SELECT count(*) FROM incident_notes WHERE origin = ?1"
                          " AND origin_seq = ?2",
                          call.origin, call.origin_seq, 0) > 0) {
                call.incident_id = 0; /* applied already */
            }
            if (rorigin[0] == '\0' || rseq == 0) {
                call.replaces = 0;
            } else if (strcmp(rorigin, h->name) == 0) {
                call.replaces = rseq; /* one of ours */
            } else {
                call.replaces = local_int(h->c.local,
                                          "SELECT id FROM incident_notes WHERE origin = ?1"
                                          " AND origin_seq = ?2",
                                          rorigin, rseq, 0);
            }
        }
        if (core_call(h->core, remote_fn, &call) != AR_OK) {
            json_decref(detail);
            PQclear(r);
            snprintf(h->c.error, sizeof(h->c.error), "local store: commit failed");
            return AR_OK; /* retried at the next round; not PostgreSQL's failure */
        }
        if (call.result == AR_OK && (call.cluster_key != NULL || call.incident_id != 0)) {
            (*applied)++;
        }
        if (call.result == AR_ENOTFOUND && call.cluster_key != NULL && h->npending < PENDING_MAX) {
            struct pending_ack *p = &h->pending[h->npending++];
            p->cluster_key = ar_strdup(call.cluster_key);
            p->origin = ar_strdup(call.origin);
            p->by = ar_strdup(call.by);
            p->comment = ar_strdup(call.comment ? call.comment : "");
            p->at = call.at;
            p->until = clock_monotonic_ns() + PENDING_NS;
        }
        h->remote_cursor[stream] = call.seq;
        json_decref(detail);
    }
    PQclear(r);
    return n > 0 ? 1 : 0;
}

static void pending_free(struct pending_ack *p)
{
    free(p->cluster_key);
    free(p->origin);
    free(p->by);
    free(p->comment);
}

/* Retries the waiting acknowledgements; drops those applied (or refused) and expired. */
static void retry_pending(struct ha_records *h)
{
    size_t kept = 0;
    int64_t now = clock_monotonic_ns();

    for (size_t i = 0; i < h->npending; i++) {
        struct pending_ack *p = &h->pending[i];
        struct remote_call call;
        memset(&call, 0, sizeof(call));
        call.stream = SUB_RETRY;
        call.self = h->name;
        call.origin = p->origin;
        call.cluster_key = p->cluster_key;
        call.at = p->at;
        call.by = p->by;
        call.comment = p->comment;
        call.result = AR_ENOTFOUND;
        if (stopping(h) || core_call(h->core, remote_fn, &call) != AR_OK ||
            (call.result == AR_ENOTFOUND && p->until > now)) {
            h->pending[kept++] = *p;
        } else {
            pending_free(p);
        }
    }
    h->npending = kept;
}

static int pull_all(struct ha_records *h)
{
    retry_pending(h);
    for (int stream = 0; stream < 2; stream++) {
        int applied = 0;
        int rc;
        while ((rc = pull(h, stream, &applied)) == 1 && !stopping(h)) {
        }
        if (rc == AR_EDB) {
            return AR_EDB;
        }
        if (applied > 0) {
            log_debug("ha", "applied %d %s from other instances", applied, sub_stream[stream]);
        }
    }
    return AR_OK;
}

/* ---- the thread ---- */

static void sleep_ms(struct ha_records *h, int64_t ms)
{
    for (int64_t left = ms; left > 0 && !stopping(h); left -= 100) {
        struct timespec ts = {0, (left < 100 ? left : 100) * 1000000};
        nanosleep(&ts, NULL);
    }
}

static void *run(void *arg)
{
    struct ha_records *h = arg;
    int64_t backoff_ms = 1000;
    int64_t last_poll = 0;

    pthread_setname_np(pthread_self(), "ar-ha-records");
    while (!stopping(h)) {
        size_t sent = 0;
        int64_t started;
        int w;
        if (h->c.local == NULL) {
            h->c.local = store_incidents_open_ro(h->storage_path);
            if (h->c.local == NULL) {
                sleep_ms(h, 1000);
                continue;
            }
            read_remote_cursors(h);
        }
        if (h->pg == NULL) {
            if (connect_pg(h) != AR_OK) {
                pg_health_fail("records", h->c.error);
                sleep_ms(h, backoff_ms);
                backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
                continue;
            }
            backoff_ms = 1000;
            last_poll = 0; /* catch up by reading, not by NOTIFY */
        }
        started = clock_monotonic_ns();
        if (ha_publish(&h->c, &sent) != AR_OK) {
            goto failed;
        }
        if (clock_monotonic_ns() - last_poll >= POLL_NS) {
            if (pull_all(h) != AR_OK) {
                goto failed;
            }
            last_poll = clock_monotonic_ns();
        }
        pg_health_ok("records", started);
        w = store_pg_listen_wait(h->listener, WAIT_MS, NULL, 0, NULL, 0);
        if (w == AR_EDB) {
            snprintf(h->c.error, sizeof(h->c.error), "listener connection lost");
            goto failed;
        }
        if (w == 1) {
            while (store_pg_listen_wait(h->listener, 0, NULL, 0, NULL, 0) == 1) {
            }
            last_poll = 0; /* something new: read it at once */
        }
        continue;
    failed:
        if (h->opened_mono < pg_health_recovered_mono()) {
            /* connections from before the last outage, found broken only now: not a new
             * outage; reconnect at once (that attempt reports a real one) */
            log_debug("ha", "records: connection from before the last outage dropped: %s",
                      h->c.error);
            disconnect(h);
            continue;
        }
        pg_health_fail("records", h->c.error);
        disconnect(h);
        sleep_ms(h, backoff_ms);
        backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
    }
    disconnect(h);
    sqlite3_close(h->c.local);
    h->c.local = NULL;
    return NULL;
}

int ha_records_start(const struct ha_records_options *o, struct ha_records **out,
                     struct ar_error *err)
{
    struct ha_records *h = ar_calloc(1, sizeof(*h));

    h->conninfo = ar_strdup(o->conninfo);
    h->password = o->password ? ar_strdup(o->password) : NULL;
    h->name = ar_strdup(o->name);
    h->storage_path = ar_strdup(o->storage_path);
    h->core = o->core;
    h->c.name = h->name;
    h->c.stop = &h->stop;
    h->pending = ar_calloc(PENDING_MAX, sizeof(*h->pending));
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        ar_error_set(err, "cannot start the records thread");
        ha_records_stop(h);
        return AR_EINVAL;
    }
    *out = h;
    return AR_OK;
}

void ha_records_stop(struct ha_records *h)
{
    if (h == NULL) {
        return;
    }
    if (h->thread != 0) {
        __atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
        pthread_join(h->thread, NULL);
    }
    free(h->conninfo);
    if (h->password != NULL) {
        explicit_bzero(h->password, strlen(h->password));
        free(h->password);
    }
    free(h->name);
    free(h->storage_path);
    for (size_t i = 0; i < h->npending; i++) {
        pending_free(&h->pending[i]);
    }
    free(h->pending);
    free(h);
}

/* Reading this instance's unpublished rows (ar/store_replica.h): three statements prepared
 * once on a read-only connection; each call is its own read transaction. */
#include "ar/store_replica.h"

#include "ar/log.h"
#include "ar/silence.h"
#include "ar/store.h"
#include "ar/store_silences.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_replica {
    sqlite3 *db;
    sqlite3_stmt *silences;
    sqlite3_stmt *nflog;
    sqlite3_stmt *pending;
};

static const char SQL_SILENCES[] =
    "SELECT seq, event, at, id, matchers, starts_at, starts_off, ends_at, ends_off, updated_at, "
    "created_by, comment FROM silence_events WHERE seq > ?1 AND origin IS NULL ORDER BY seq "
    "LIMIT ?2";
static const char SQL_NFLOG[] =
    "SELECT id, key, receiver, integration, group_key, sent_at, firing, resolved, expires_at "
    "FROM nflog WHERE id > ?1 AND origin IS NULL ORDER BY id LIMIT ?2";
static const char SQL_PENDING[] =
    "SELECT (SELECT count(*) FROM silence_events WHERE seq > ?1 AND origin IS NULL) + "
    "(SELECT count(*) FROM nflog WHERE id > ?2 AND origin IS NULL)";

int store_replica_open(const char *dir, struct store_replica **out, struct ar_error *err)
{
    struct store_replica *r = ar_calloc(1, sizeof(*r));
    char *path = ar_asprintf("%s/alertrouter.db", dir);

    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(r->db, 2000) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, SQL_SILENCES, -1, &r->silences, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, SQL_NFLOG, -1, &r->nflog, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, SQL_PENDING, -1, &r->pending, NULL) != SQLITE_OK) {
        ar_error_set(err, "%s: opening a reader for replication: %s", path,
                     r->db ? sqlite3_errmsg(r->db) : "out of memory");
        free(path);
        store_replica_close(r);
        return AR_EDB;
    }
    free(path);
    *out = r;
    return AR_OK;
}

void store_replica_close(struct store_replica *r)
{
    if (r == NULL) {
        return;
    }
    sqlite3_finalize(r->silences);
    sqlite3_finalize(r->nflog);
    sqlite3_finalize(r->pending);
    sqlite3_close(r->db);
    free(r);
}

static int finish(struct store_replica *r, sqlite3_stmt *q, int step, int stopped, const char *what)
{
    if (stopped == 0 && step != SQLITE_DONE && step != SQLITE_ROW) {
        log_debug("store", "replication: reading %s: %s", what, sqlite3_errmsg(r->db));
        stopped = AR_EDB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return stopped;
}

int store_replica_silences(struct store_replica *r, int64_t after, int limit,
                           int (*cb)(int64_t seq, const char *event, int64_t at_ns,
                                     const struct silence *s, void *ctx),
                           void *ctx, size_t *n)
{
    sqlite3_stmt *q = r->silences;
    int step = SQLITE_DONE;
    int stopped = 0;

    *n = 0;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int(q, 2, limit);
    while (stopped == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ar_error err;
        int ok;
        int64_t seq = sqlite3_column_int64(q, 0);
        struct silence *s = store_silence_from_row(q, 3, &ok, &err);
        if (ok != AR_OK) {
            /* cannot be published; skipped, as loading skips it */
            log_warn("store", "replication: skipping silence %s: %s", s->id, err.msg);
            silence_free(s);
            continue;
        }
        stopped = cb(seq, store_col_text(q, 1), sqlite3_column_int64(q, 2), s, ctx);
        silence_free(s);
        if (stopped == 0) {
            (*n)++;
        }
    }
    return finish(r, q, stopped ? SQLITE_DONE : step, stopped, "silences");
}

int store_replica_nflog(struct store_replica *r, int64_t after, int limit,
                        int (*cb)(int64_t id, const struct nflog_entry *e, void *ctx), void *ctx,
                        size_t *n)
{
    sqlite3_stmt *q = r->nflog;
    int step = SQLITE_DONE;
    int stopped = 0;

    *n = 0;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int(q, 2, limit);
    while (stopped == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct nflog_entry e;
        memset(&e, 0, sizeof(e));
        e.key = (char *)store_col_text(q, 1);
        e.receiver = (char *)store_col_text(q, 2);
        e.integration = (char *)store_col_text(q, 3);
        e.group_key = (char *)store_col_text(q, 4);
        e.sent_at = sqlite3_column_int64(q, 5);
        e.nfiring = store_nflog_parse_set(store_col_text(q, 6), &e.firing);
        e.nresolved = store_nflog_parse_set(store_col_text(q, 7), &e.resolved);
        e.expires_at = sqlite3_column_int64(q, 8);
        stopped = cb(sqlite3_column_int64(q, 0), &e, ctx);
        free(e.firing);
        free(e.resolved);
        if (stopped == 0) {
            (*n)++;
        }
    }
    return finish(r, q, stopped ? SQLITE_DONE : step, stopped, "the notification log");
}

int64_t store_replica_pending(struct store_replica *r, int64_t silences_after, int64_t nflog_after)
{
    sqlite3_stmt *q = r->pending;
    int64_t v = -1;

    sqlite3_bind_int64(q, 1, silences_after);
    sqlite3_bind_int64(q, 2, nflog_after);
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return v;
}

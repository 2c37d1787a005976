/* Audit trail (ar/audit.h), part of the storage module's SQL. */
#include "ar/audit.h"

#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/store.h"
#include "ar/txn.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct audit_row {
    int64_t at;
    char *action;
    char *object_id;
    char *client;
    char *user;
    char *detail;
};

static void row_free(void *data)
{
    struct audit_row *r = data;

    free(r->action);
    free(r->object_id);
    free(r->client);
    free(r->user);
    free(r->detail);
    free(r);
}

static int row_apply(struct store *st, void *data)
{
    struct audit_row *r = data;
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc;

    if ((s = store_stmt(st, "INSERT INTO audit_log (at, action, object_id, client, user, detail) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) == NULL) {
        log_error("store", "audit insert: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, r->at);
    sqlite3_bind_text(s, 2, r->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, r->client, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->detail, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "audit insert: %s", sqlite3_errmsg(db));
    }
    store_stmt_done(s);
    return rc;
}

void audit_record(struct txn *txn, const char *action, const char *object_id, const char *client,
                  const char *user, const char *detail_json)
{
    struct audit_row *r = ar_calloc(1, sizeof(*r));

    r->at = txn_now(txn);
    r->action = ar_strdup(action);
    r->object_id = ar_strdup(object_id ? object_id : "");
    r->client = ar_strdup(client ? client : "");
    r->user = ar_strdup(user ? user : "");
    r->detail = ar_strdup(detail_json ? detail_json : "{}");
    log_info("audit", "%s %s by user=\"%s\" client=%s", r->action, r->object_id, r->user,
             r->client);
    txn_write(txn, row_apply, r, row_free);
}

int audit_query(const char *storage_dir, int64_t since_ns, size_t limit, struct buf *out)
{
    char *path = ar_asprintf("%s/alertrouter.db", storage_dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    int rc;

    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    free(path);
    if (rc != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT at, action, object_id, client, user, detail FROM audit_log "
                           "WHERE at >= ?1 ORDER BY id DESC LIMIT ?2",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("audit", "query: %s", db ? sqlite3_errmsg(db) : "cannot open database");
        sqlite3_close(db);
        return AR_EDB;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_bind_int64(s, 1, since_ns);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    buf_putc(out, '[');
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(s, 5);
        if (n++ > 0) {
            buf_putc(out, ',');
        }
        buf_puts(out, "{\"time\":");
        json_put_time(out, sqlite3_column_int64(s, 0), 0);
        buf_puts(out, ",\"action\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 1));
        buf_puts(out, ",\"objectID\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 2));
        buf_puts(out, ",\"client\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 3));
        buf_puts(out, ",\"user\":");
        json_put_cstr(out, (const char *)sqlite3_column_text(s, 4));
        buf_puts(out, ",\"detail\":");
        buf_puts(out, detail && detail[0] == '{' ? detail : "{}");
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? AR_OK : AR_EDB;
}

/* Notification log SQL (ar/store_nflog.h), part of the storage module. Fingerprint sets are
 * stored as space-separated hex so the table reads well in the sqlite3 shell. */
#include "ar/store_nflog.h"

#include "ar/buf.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void nflog_entry_free(struct nflog_entry *e)
{
    if (e == NULL) {
        return;
    }
    free(e->key);
    free(e->receiver);
    free(e->integration);
    free(e->group_key);
    free(e->firing);
    free(e->resolved);
    free(e);
}

void store_nflog_format_set(struct buf *b, const uint64_t *v, size_t n)
{
    char fp[17];

    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        fingerprint_format(v[i], fp);
        if (i > 0) {
            buf_putc(b, ' ');
        }
        buf_append(b, fp, 16);
    }
}

size_t store_nflog_parse_set(const char *s, uint64_t **out)
{
    size_t n = 0;
    size_t cap = 0;
    uint64_t *v = NULL;
    char fp[17];

    while (s != NULL && *s != '\0') {
        uint64_t x;
        while (*s == ' ') {
            s++;
        }
        if (strlen(s) < 16) {
            break;
        }
        memcpy(fp, s, 16);
        fp[16] = '\0';
        s += 16;
        if (fingerprint_parse(fp, &x) != AR_OK) {
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = ar_realloc(v, cap * sizeof(*v));
        }
        v[n++] = x;
    }
    *out = v;
    return n;
}

int store_nflog_append(struct store *st, const struct nflog_entry *e)
{
    return store_nflog_append_from(st, e, NULL);
}

int store_nflog_append_from(struct store *st, const struct nflog_entry *e, const char *origin)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    struct buf f;
    struct buf r;
    int rc;

    if ((s = store_stmt(st, "INSERT INTO nflog (key, receiver, integration, group_key, sent_at, "
                            "firing, resolved, expires_at, origin) VALUES (?1, ?2, ?3, ?4, ?5, "
                            "?6, ?7, ?8, ?9)")) == NULL) {
        log_error("store", "nflog insert: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    buf_init(&f, 0);
    buf_init(&r, 0);
    store_nflog_format_set(&f, e->firing, e->nfiring);
    store_nflog_format_set(&r, e->resolved, e->nresolved);
    sqlite3_bind_text(s, 1, e->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->receiver, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->integration, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, e->group_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, e->sent_at);
    sqlite3_bind_text(s, 6, buf_str(&f), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, buf_str(&r), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, e->expires_at);
    if (origin != NULL) {
        sqlite3_bind_text(s, 9, origin, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 9);
    }
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "nflog insert: %s", sqlite3_errmsg(db));
    } else if (origin == NULL) {
        store_mark_shared_write(st);
    }
    store_stmt_done(s);
    buf_cleanup(&f);
    buf_cleanup(&r);
    return rc;
}

int store_nflog_load(struct store *st, int64_t now_ns, void (*cb)(struct nflog_entry *e, void *ctx),
                     void *ctx)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT key, receiver, integration, group_key, sent_at, firing, "
                           "resolved, expires_at FROM nflog n WHERE expires_at > ?1 AND id = "
                           "(SELECT max(id) FROM nflog m WHERE m.key = n.key)",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "nflog load: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, now_ns);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct nflog_entry *e = ar_calloc(1, sizeof(*e));
        e->key = ar_strdup((const char *)sqlite3_column_text(s, 0));
        e->receiver = ar_strdup((const char *)sqlite3_column_text(s, 1));
        e->integration = ar_strdup((const char *)sqlite3_column_text(s, 2));
        e->group_key = ar_strdup((const char *)sqlite3_column_text(s, 3));
        e->sent_at = sqlite3_column_int64(s, 4);
        e->nfiring = store_nflog_parse_set((const char *)sqlite3_column_text(s, 5), &e->firing);
        e->nresolved = store_nflog_parse_set((const char *)sqlite3_column_text(s, 6), &e->resolved);
        e->expires_at = sqlite3_column_int64(s, 7);
        cb(e, ctx);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        log_error("store", "nflog load: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    return AR_OK;
}

int store_nflog_gc(struct store *st, int64_t now_ns)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "DELETE FROM nflog WHERE expires_at <= ?1 OR id < (SELECT max(id) "
                           "FROM nflog m WHERE m.key = nflog.key)",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "nflog gc: %s", sqlite3_errmsg(db));
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, now_ns);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    sqlite3_finalize(s);
    return rc;
}

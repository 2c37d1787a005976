/* SQLite storage (ar/store.h). WAL journal with synchronous=NORMAL: a committed
 * transaction is in the WAL file (written with write(2)) before sqlite3_step returns, so it
 * survives kill -9 of the process; only a power loss may drop the last transactions before
 * a checkpoint. Statements are prepared once. Label sets are stored as JSON objects written
 * by json_out.c and read back with a small decoder for exactly that form, because startup
 * reads every row. Alerts are kept as an append-only log (see migrations/0001_alerts.sql). */
#include "ar/store.h"

#include "ar/alert_store.h"
#include "ar/buf.h"
#include "ar/embedded.h"
#include "ar/json_out.h"
#include "ar/log.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_APPEND_PUT,
    ST_APPEND_DELETE,
    ST_APPEND_TOUCH,
    ST_TRUNCATE,
    ST_ADD_EVENT,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_APPEND_PUT] = "INSERT INTO alert_log (seq, fingerprint, op, labels, annotations, "
                      "generator_url, starts_at, starts_off, ends_at, ends_off, updated_at, "
                      "timeout) VALUES (?11, ?1, 'put', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_APPEND_DELETE] = "INSERT INTO alert_log (seq, fingerprint, op) VALUES (?2, ?1, 'delete')",
    [ST_APPEND_TOUCH] = "INSERT INTO alert_log (seq, fingerprint, op, ends_at, ends_off, "
                       "updated_at, timeout) VALUES (?1, ?2, 'touch', ?3, ?4, ?5, ?6)",
    [ST_TRUNCATE] = "DELETE FROM alert_log WHERE seq < ?1",
    [ST_ADD_EVENT] = "INSERT INTO alert_events (fingerprint, at, event, labels, starts_at, "
                     "ends_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    struct buf scratch1; /* labels JSON */
    struct buf scratch2; /* annotations JSON */
    int version;
};

const char *store_errmsg(struct store *st)
{
    return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

static int exec_sql(struct store *st, const char *sql, struct ar_error *err, const char *what)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ar_error_set(err, "%s: %s", what, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return AR_EDB;
    }
    return AR_OK;
}

/* Applies every embedded migration numbered above user_version, one transaction each. */
static int migrate(struct store *st, struct ar_error *err)
{
    sqlite3_stmt *s = NULL;
    int current = 0;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        current = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    st->version = current;
    for (const struct ar_embedded_file *m = ar_migrations; m->name != NULL; m++) {
        int num = (int)strtol(m->name, NULL, 10);
        char pragma[64];
        if (num <= current) {
            continue;
        }
        if (exec_sql(st, "BEGIN", err, m->name) != AR_OK ||
            exec_sql(st, m->data, err, m->name) != AR_OK) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return AR_EDB;
        }
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", num);
        if (exec_sql(st, pragma, err, m->name) != AR_OK ||
            exec_sql(st, "COMMIT", err, m->name) != AR_OK) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return AR_EDB;
        }
        st->version = num;
        log_info("store", "applied migration %s", m->name);
    }
    return AR_OK;
}

int store_open(const char *dir, struct store **out, struct ar_error *err)
{
    struct store *st;
    char *path;
    int rc;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        ar_error_set(err, "cannot create storage directory %s: %s", dir, strerror(errno));
        return AR_EIO;
    }
    st = ar_calloc(1, sizeof(*st));
    buf_init(&st->scratch1, 0);
    buf_init(&st->scratch2, 0);
    path = ar_asprintf("%s/alertrouter.db", dir);
    rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                            SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ar_error_set(err, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "?");
        free(path);
        store_close(st);
        return AR_EDB;
    }
    free(path);
    sqlite3_busy_timeout(st->db, 5000);
    /* The working set lives in memory and the database is only written while running, so
     * a generous page cache keeps B-tree updates from re-reading pages, and a larger WAL
     * checkpoint threshold spreads checkpoint cost over more commits. */
    if (exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                     "PRAGMA foreign_keys=ON; PRAGMA cache_size=-262144; "
                     "PRAGMA mmap_size=1073741824; PRAGMA wal_autocheckpoint=8192; "
                     "PRAGMA temp_store=MEMORY;",
                 err, "configuring database") != AR_OK ||
        migrate(st, err) != AR_OK) {
        store_close(st);
        return AR_EDB;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            ar_error_set(err, "preparing statement: %s", sqlite3_errmsg(st->db));
            store_close(st);
            return AR_EDB;
        }
    }
    *out = st;
    return AR_OK;
}

void store_close(struct store *st)
{
    if (st == NULL) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    sqlite3_close(st->db);
    buf_cleanup(&st->scratch1);
    buf_cleanup(&st->scratch2);
    free(st);
}

int store_schema_version(struct store *st)
{
    return st->version;
}

static int step_reset(struct store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("store", "statement failed: %s", sqlite3_errmsg(st->db));
        return AR_EDB;
    }
    return AR_OK;
}

int store_begin(struct store *st)
{
    return step_reset(st, ST_BEGIN);
}

int store_commit(struct store *st)
{
    return step_reset(st, ST_COMMIT);
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        step_reset(st, ST_ROLLBACK);
    }
}

int store_append_alert(struct store *st, int64_t seq, const struct alert *a)
{
    sqlite3_stmt *s = st->stmt[ST_APPEND_PUT];

    buf_reset(&st->scratch1);
    buf_reset(&st->scratch2);
    json_put_labelset(&st->scratch1, &a->labels);
    json_put_labelset(&st->scratch2, &a->annotations);
    sqlite3_bind_int64(s, 1, (sqlite3_int64)a->fp);
    sqlite3_bind_text(s, 2, st->scratch1.data, (int)st->scratch1.len, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, st->scratch2.data, (int)st->scratch2.len, SQLITE_STATIC);
    if (a->generator_url != NULL) {
        sqlite3_bind_text(s, 4, a->generator_url, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(s, 5, a->starts_at);
    sqlite3_bind_int(s, 6, a->starts_off_min);
    sqlite3_bind_int64(s, 7, a->ends_at);
    sqlite3_bind_int(s, 8, a->ends_off_min);
    sqlite3_bind_int64(s, 9, a->updated_at);
    sqlite3_bind_int(s, 10, a->timeout);
    sqlite3_bind_int64(s, 11, seq);
    return step_reset(st, ST_APPEND_PUT);
}

int store_append_delete(struct store *st, int64_t seq, uint64_t fp)
{
    sqlite3_bind_int64(st->stmt[ST_APPEND_DELETE], 1, (sqlite3_int64)fp);
    sqlite3_bind_int64(st->stmt[ST_APPEND_DELETE], 2, seq);
    return step_reset(st, ST_APPEND_DELETE);
}

int store_append_touch(struct store *st, int64_t seq, const struct alert *a)
{
    sqlite3_stmt *s = st->stmt[ST_APPEND_TOUCH];

    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)a->fp);
    sqlite3_bind_int64(s, 3, a->ends_at);
    sqlite3_bind_int(s, 4, a->ends_off_min);
    sqlite3_bind_int64(s, 5, a->updated_at);
    sqlite3_bind_int(s, 6, a->timeout);
    return step_reset(st, ST_APPEND_TOUCH);
}

int store_truncate_log(struct store *st, int64_t below)
{
    sqlite3_bind_int64(st->stmt[ST_TRUNCATE], 1, below);
    return step_reset(st, ST_TRUNCATE);
}

int store_add_alert_event(struct store *st, const struct alert *a, const char *event,
                          int64_t at_ns)
{
    sqlite3_stmt *s = st->stmt[ST_ADD_EVENT];

    sqlite3_bind_int64(s, 1, (sqlite3_int64)a->fp);
    sqlite3_bind_int64(s, 2, at_ns);
    sqlite3_bind_text(s, 3, event, -1, SQLITE_STATIC);
    if (strcmp(event, "firing") == 0) {
        buf_reset(&st->scratch1);
        json_put_labelset(&st->scratch1, &a->labels);
        sqlite3_bind_text(s, 4, st->scratch1.data, (int)st->scratch1.len, SQLITE_STATIC);
    }
    sqlite3_bind_int64(s, 5, a->starts_at);
    sqlite3_bind_int64(s, 6, a->ends_at);
    return step_reset(st, ST_ADD_EVENT);
}

/* Decodes the 4 hex digits at p. */
static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        } else {
            return AR_EINVAL;
        }
    }
    *out = v;
    return AR_OK;
}

static void put_utf8(struct buf *b, unsigned cp)
{
    char o[4];

    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        buf_append(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        buf_append(b, o, 3);
    } else {
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        buf_append(b, o, 4);
    }
}

/* Reads one JSON string starting at *pp (at the opening quote) into a new heap string. */
static char *read_string(const char **pp, struct buf *tmp)
{
    const char *p = *pp;

    if (*p != '"') {
        return NULL;
    }
    p++;
    buf_reset(tmp);
    buf_putc(tmp, '\0');
    buf_reset(tmp);
    while (*p != '"') {
        const char *run = p;
        while (*p != '"' && *p != '\\' && *p != '\0') {
            p++;
        }
        buf_append(tmp, run, (size_t)(p - run));
        if (*p == '\0') {
            return NULL;
        }
        if (*p == '\\') {
            unsigned cp;
            p++;
            switch (*p) {
            case 'n':
                buf_putc(tmp, '\n');
                break;
            case 'r':
                buf_putc(tmp, '\r');
                break;
            case 't':
                buf_putc(tmp, '\t');
                break;
            case 'u':
                if (hex4(p + 1, &cp) != AR_OK) {
                    return NULL;
                }
                p += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
                    unsigned lo;
                    if (hex4(p + 3, &lo) == AR_OK && lo >= 0xdc00 && lo < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        p += 6;
                    }
                }
                put_utf8(tmp, cp);
                break;
            case '\0':
                return NULL;
            default:
                buf_putc(tmp, *p);
                break;
            }
            p++;
        }
    }
    *pp = p + 1;
    return ar_strndup(buf_str(tmp), tmp->len);
}

/* Decodes {"k":"v",...} as written by json_put_labelset. */
static int decode_labelset(const char *p, struct labelset *out, struct buf *tmp)
{
    if (p == NULL || *p++ != '{') {
        return AR_EINVAL;
    }
    while (*p != '}') {
        char *name;
        char *value;
        if (*p == ',') {
            p++;
        }
        name = read_string(&p, tmp);
        if (name == NULL || *p++ != ':') {
            free(name);
            return AR_EINVAL;
        }
        value = read_string(&p, tmp);
        if (value == NULL) {
            free(name);
            return AR_EINVAL;
        }
        labelset_set_take(out, name, value);
    }
    return AR_OK;
}

int store_load_alerts(struct store *st, void (*cb)(struct alert *a, void *ctx), void *ctx,
                      struct store_load_stats *stats)
{
    sqlite3_stmt *s = NULL;
    struct alert_store *live = alert_store_new();
    struct alert *a;
    struct buf tmp;
    int rc;
    size_t bad = 0;

    stats->next_seq = 1;
    stats->log_rows = 0;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT seq, fingerprint, op, labels, annotations, generator_url, "
                           "starts_at, starts_off, ends_at, ends_off, updated_at, timeout "
                           "FROM alert_log ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "loading alerts: %s", sqlite3_errmsg(st->db));
        alert_store_free(live);
        return AR_EDB;
    }
    buf_init(&tmp, 0);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(s, 2);
        const char *url = (const char *)sqlite3_column_text(s, 5);

        stats->next_seq = sqlite3_column_int64(s, 0) + 1;
        stats->log_rows++;
        if (op != NULL && strcmp(op, "delete") == 0) {
            alert_store_remove(live, (uint64_t)sqlite3_column_int64(s, 1));
            continue;
        }
        if (op != NULL && strcmp(op, "touch") == 0) {
            struct alert *old = alert_store_find(live, (uint64_t)sqlite3_column_int64(s, 1));
            if (old != NULL) {
                a = alert_dup(old);
                a->ends_at = sqlite3_column_int64(s, 8);
                a->ends_off_min = (int16_t)sqlite3_column_int(s, 9);
                a->updated_at = sqlite3_column_int64(s, 10);
                a->timeout = sqlite3_column_int(s, 11) != 0;
                alert_store_put_take(live, a);
            }
            continue;
        }
        a = alert_new();
        if (decode_labelset((const char *)sqlite3_column_text(s, 3), &a->labels, &tmp) !=
                AR_OK ||
            decode_labelset((const char *)sqlite3_column_text(s, 4), &a->annotations, &tmp) !=
                AR_OK) {
            bad++;
            alert_unref(a);
            continue;
        }
        a->fp = labelset_fingerprint(&a->labels);
        a->generator_url = url && *url ? ar_strdup(url) : NULL;
        a->starts_at = sqlite3_column_int64(s, 6);
        a->starts_off_min = (int16_t)sqlite3_column_int(s, 7);
        a->ends_at = sqlite3_column_int64(s, 8);
        a->ends_off_min = (int16_t)sqlite3_column_int(s, 9);
        a->updated_at = sqlite3_column_int64(s, 10);
        a->timeout = sqlite3_column_int(s, 11) != 0;
        labelset_pack(&a->labels);
        labelset_pack(&a->annotations);
        alert_store_put_take(live, a);
    }
    buf_cleanup(&tmp);
    sqlite3_finalize(s);
    if (bad > 0) {
        log_warn("store", "skipped %zu unreadable alert rows", bad);
    }
    if (rc != SQLITE_DONE) {
        log_error("store", "loading alerts: %s", sqlite3_errmsg(st->db));
        alert_store_free(live);
        return AR_EDB;
    }
    for (size_t it = 0; (a = alert_store_next(live, &it)) != NULL;) {
        cb(alert_ref(a), ctx);
    }
    alert_store_free(live);
    return AR_OK;
}

struct sqlite3 *store_db(struct store *st)
{
    return st->db;
}

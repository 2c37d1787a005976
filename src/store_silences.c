/* Silence persistence (ar/store_silences.h). Silence writes are rare (a person or amtool
 * creating, updating or expiring one), so statements are prepared per call rather than
 * cached in struct store, which keeps store.c free of silence knowledge. Matchers are
 * stored as a JSON array written with json_out.c and read back with jansson at start. */
#include "ar/store_silences.h"

#include "ar/buf.h"
#include "ar/embedded.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(store_db(st), sql, -1, out, NULL) != SQLITE_OK) {
        log_error("store", "prepare failed: %s", store_errmsg(st));
        return AR_EDB;
    }
    return AR_OK;
}

void store_silence_matchers_to_json(const struct matcher_list *l, struct buf *b)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        const struct matcher *m = l->v[i];
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(b, m->name);
        buf_printf(b, ",\"op\":\"%s\",\"value\":", matcher_op_str(m->op));
        json_put_cstr(b, m->value);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

int store_silence_append(struct store *st, const struct silence *s, const char *event,
                         int64_t at_ns)
{
    return store_silence_append_from(st, s, event, at_ns, NULL);
}

int store_silence_append_from(struct store *st, const struct silence *s, const char *event,
                              int64_t at_ns, const char *origin)
{
    static const char sql[] =
        "INSERT INTO silence_events (id, event, at, matchers, starts_at, starts_off, ends_at, "
        "ends_off, updated_at, created_by, comment, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12)";
    sqlite3_stmt *q = NULL;
    struct buf m;
    int rc = prepare(st, sql, &q);

    if (rc != AR_OK) {
        return rc;
    }
    buf_init(&m, 0);
    store_silence_matchers_to_json(&s->matchers, &m);
    sqlite3_bind_text(q, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, event, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, at_ns);
    sqlite3_bind_text(q, 4, buf_str(&m), (int)m.len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, s->starts_at);
    sqlite3_bind_int(q, 6, s->starts_off_min);
    sqlite3_bind_int64(q, 7, s->ends_at);
    sqlite3_bind_int(q, 8, s->ends_off_min);
    sqlite3_bind_int64(q, 9, s->updated_at);
    sqlite3_bind_text(q, 10, s->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 11, s->comment, -1, SQLITE_STATIC);
    if (origin != NULL) {
        sqlite3_bind_text(q, 12, origin, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(q, 12);
    }
    if (sqlite3_step(q) != SQLITE_DONE) {
        log_error("store", "appending silence %s: %s", s->id, store_errmsg(st));
        rc = AR_EDB;
    } else if (origin == NULL) {
        store_mark_shared_write(st);
    }
    sqlite3_finalize(q);
    buf_cleanup(&m);
    return rc;
}

int store_silence_delete(struct store *st, const char *id)
{
    sqlite3_stmt *q = NULL;
    int rc = prepare(st, "DELETE FROM silence_events WHERE id = ?1", &q);

    if (rc != AR_OK) {
        return rc;
    }
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        log_error("store", "deleting silence %s: %s", id, store_errmsg(st));
        rc = AR_EDB;
    }
    sqlite3_finalize(q);
    return rc;
}

static enum matcher_op op_parse(const char *s)
{
    if (strcmp(s, "!=") == 0) {
        return MATCHER_NE;
    }
    if (strcmp(s, "=~") == 0) {
        return MATCHER_RE;
    }
    if (strcmp(s, "!~") == 0) {
        return MATCHER_NRE;
    }
    return MATCHER_EQ;
}

int store_silence_matchers_from_json(const char *text, struct matcher_list *out,
                                     struct ar_error *err)
{
    json_error_t jerr;
    json_t *arr = json_loads(text, 0, &jerr);
    size_t i;
    json_t *el;
    int rc = AR_OK;

    if (!json_is_array(arr)) {
        ar_error_set(err, "matchers column is not a JSON array");
        json_decref(arr);
        return AR_EINVAL;
    }
    json_array_foreach(arr, i, el)
    {
        const char *name = json_string_value(json_object_get(el, "name"));
        const char *op = json_string_value(json_object_get(el, "op"));
        const char *value = json_string_value(json_object_get(el, "value"));
        struct matcher *m = NULL;
        if (name == NULL || op == NULL || value == NULL) {
            ar_error_set(err, "matcher %zu incomplete", i);
            rc = AR_EINVAL;
            break;
        }
        rc = matcher_new(name, op_parse(op), value, &m, err);
        if (rc != AR_OK) {
            break;
        }
        matcher_list_add_take(out, m);
    }
    json_decref(arr);
    return rc;
}

/* 0002 landed after 0003_nflog.sql, and store.c skips migrations numbered at or below
 * user_version, so a database created in between lacks silence_events: apply the embedded
 * 0002 migration here when the table is missing. */
static int ensure_schema(struct store *st)
{
    sqlite3_stmt *q = NULL;
    bool present;
    char *msg = NULL;
    int rc = prepare(st,
                     "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                     "name = 'silence_events'",
                     &q);

    if (rc != AR_OK) {
        return rc;
    }
    present = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (present) {
        return AR_OK;
    }
    for (const struct ar_embedded_file *m = ar_migrations; m->name != NULL; m++) {
        if (strncmp(m->name, "0002_", 5) != 0) {
            continue;
        }
        log_warn("store",
                 "silence_events missing (database migrated past 0002 before it "
                 "existed); applying %s",
                 m->name);
        if (sqlite3_exec(store_db(st), m->data, NULL, NULL, &msg) != SQLITE_OK) {
            log_error("store", "applying %s: %s", m->name, msg ? msg : store_errmsg(st));
            sqlite3_free(msg);
            return AR_EDB;
        }
        return AR_OK;
    }
    return AR_EDB;
}

struct silence *store_silence_from_row(struct sqlite3_stmt *q, int first, int *rc,
                                       struct ar_error *err)
{
    struct silence *s = ar_calloc(1, sizeof(*s));

    snprintf(s->id, sizeof(s->id), "%s", store_col_text(q, first));
    matcher_list_init(&s->matchers);
    *rc = store_silence_matchers_from_json(store_col_text(q, first + 1), &s->matchers, err);
    if (*rc != AR_OK) {
        return s;
    }
    s->starts_at = sqlite3_column_int64(q, first + 2);
    s->starts_off_min = (int16_t)sqlite3_column_int(q, first + 3);
    s->ends_at = sqlite3_column_int64(q, first + 4);
    s->ends_off_min = (int16_t)sqlite3_column_int(q, first + 5);
    s->updated_at = sqlite3_column_int64(q, first + 6);
    s->created_by = ar_strdup(store_col_text(q, first + 7));
    s->comment = ar_strdup(store_col_text(q, first + 8));
    return s;
}

int store_load_silences(struct store *st, void (*cb)(struct silence *s, void *ctx), void *ctx)
{
    /* The latest event of each id, in order of each id's first event. */
    static const char sql[] =
        "SELECT e.id, e.matchers, e.starts_at, e.starts_off, e.ends_at, e.ends_off, "
        "e.updated_at, e.created_by, e.comment FROM silence_events e "
        "WHERE e.seq = (SELECT MAX(seq) FROM silence_events WHERE id = e.id) "
        "ORDER BY (SELECT MIN(seq) FROM silence_events WHERE id = e.id)";
    sqlite3_stmt *q = NULL;
    int rc = ensure_schema(st);
    int step;

    if (rc == AR_OK) {
        rc = prepare(st, sql, &q);
    }
    if (rc != AR_OK) {
        return rc;
    }
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ar_error err;
        int ok;
        struct silence *s = store_silence_from_row(q, 0, &ok, &err);
        if (ok != AR_OK) {
            log_warn("store", "skipping stored silence %s: %s", s->id, err.msg);
            matcher_list_cleanup(&s->matchers); /* all it holds so far */
            free(s);
            continue;
        }
        cb(s, ctx);
    }
    if (step != SQLITE_DONE) {
        log_error("store", "loading silences: %s", store_errmsg(st));
        rc = AR_EDB;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Alert history reads (ar/store_history.h): selects the blocks of a time window through
 * history_blocks_by_time and hands their lines to the caller, decompressing zstd blocks
 * (format 1) into one reused buffer. Plain blocks (format 0) are the rows converted by the
 * 0009 migration. store_history_scan walks a window in either direction from a position
 * (the API's cursor); how far past the window a block may end is 0011_history_queries.sql's. */
#include "ar/store_history.h"

#include "ar/buf.h"
#include "ar/history_bloom.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAX_BLOCK_BYTES (256u << 20) /* a decoded block larger than this is refused */

/* The JSON lines of the block at the current step (columns: format, data), decompressed into
 * out when needed; AR_EIO when it does not decode. */
static int block_text(sqlite3_stmt *s, int col, ZSTD_DCtx **dc, struct buf *out, const char **p,
                      size_t *n)
{
    const char *data = sqlite3_column_blob(s, col + 1);
    size_t len = (size_t)sqlite3_column_bytes(s, col + 1);

    if (sqlite3_column_int(s, col) == 1) {
        unsigned long long size = ZSTD_getFrameContentSize(data, len);
        size_t got;
        if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
            size > MAX_BLOCK_BYTES) {
            return AR_EIO;
        }
        if (*dc == NULL && (*dc = ZSTD_createDCtx()) == NULL) {
            return AR_EIO;
        }
        buf_reset(out);
        buf_reserve(out, (size_t)size + 1);
        got = ZSTD_decompressDCtx(*dc, out->data, (size_t)size + 1, data, len);
        if (ZSTD_isError(got)) {
            return AR_EIO;
        }
        data = out->data;
        len = got;
    }
    *p = data != NULL ? data : "";
    *n = data != NULL ? len : 0;
    return AR_OK;
}

int store_history_gc(struct store *st, int64_t before_ns)
{
    sqlite3_stmt *s = store_stmt(st, "DELETE FROM history_blocks WHERE id IN (SELECT id FROM "
                                     "history_blocks WHERE last_at < ?1 LIMIT 50000)");
    int rc;

    if (s == NULL) {
        return AR_EDB;
    }
    sqlite3_bind_int64(s, 1, before_ns);
    rc = sqlite3_step(s) == SQLITE_DONE ? AR_OK : AR_EDB;
    if (rc != AR_OK) {
        log_error("store", "history retention: %s", sqlite3_errmsg(store_db(st)));
    }
    store_stmt_done(s);
    return rc;
}

/* How far past a window's end a block that overlaps it may end: STORE_HISTORY_MAX_SPAN_NS,
 * or the widest span of the blocks written before 0011 while any of them is left. */
static int64_t span_bound(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int64_t span = STORE_HISTORY_MAX_SPAN_NS;

    if (sqlite3_prepare_v2(db,
                           "SELECT span_ns FROM history_span WHERE EXISTS "
                           "(SELECT 1 FROM history_blocks WHERE id < below_id)",
                           -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > span) {
        span = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return span;
}

/* Offsets of the lines of one block (starts; the next start - 1 is the end). */
struct lines {
    size_t *start;
    size_t *len;
    size_t n;
    size_t cap;
};

static void split_lines(struct lines *l, const char *p, size_t n)
{
    size_t off = 0;

    l->n = 0;
    while (off < n) {
        const char *nl = memchr(p + off, '\n', n - off);
        size_t len = nl != NULL ? (size_t)(nl - (p + off)) : n - off;
        if (len > 0) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 64;
                l->start = ar_realloc(l->start, l->cap * sizeof(*l->start));
                l->len = ar_realloc(l->len, l->cap * sizeof(*l->len));
            }
            l->start[l->n] = off;
            l->len[l->n++] = len;
        }
        off += len + 1;
    }
}

int store_history_scan(const char *dir, const struct store_history_query *q,
                       store_history_scan_fn fn, void *ctx)
{
    /* the window's blocks through history_blocks_by_time (last_at, then rowid): a range of
     * the index, in its order, from the cursor on */
    static const char newest_sql[] =
        "SELECT id, last_at, labels_bloom, format, data FROM history_blocks "
        "WHERE last_at >= ?1 AND last_at <= ?3 AND first_at <= ?2 AND (last_at, id) <= (?4, ?5) "
        "ORDER BY last_at DESC, id DESC";
    static const char oldest_sql[] =
        "SELECT id, last_at, labels_bloom, format, data FROM history_blocks "
        "WHERE last_at >= ?1 AND last_at <= ?3 AND first_at <= ?2 AND (last_at, id) >= (?4, ?5) "
        "ORDER BY last_at, id";
    sqlite3 *db = store_open_ro(dir, "store");
    sqlite3_stmt *s = NULL;
    ZSTD_DCtx *dc = NULL;
    struct buf out;
    struct lines lines = {0};
    int rc = AR_OK;
    int step = SQLITE_DONE;
    bool stop = false;
    int64_t span;
    int64_t upper;

    buf_init(&out, 0);
    if (db == NULL || sqlite3_prepare_v2(db, q->newest_first ? newest_sql : oldest_sql, -1, &s,
                                         NULL) != SQLITE_OK) {
        if (db != NULL) {
            log_error("store", "history: %s", sqlite3_errmsg(db));
        }
        rc = AR_EDB;
        goto done;
    }
    span = span_bound(db);
    upper = q->to_ns > INT64_MAX - span ? INT64_MAX : q->to_ns + span;
    sqlite3_bind_int64(s, 1, q->from_ns);
    sqlite3_bind_int64(s, 2, q->to_ns);
    sqlite3_bind_int64(s, 3, upper);
    if (q->after != NULL) {
        sqlite3_bind_int64(s, 4, q->after->last_at);
        sqlite3_bind_int64(s, 5, q->after->id);
    } else {
        sqlite3_bind_int64(s, 4, q->newest_first ? INT64_MAX : INT64_MIN);
        sqlite3_bind_int64(s, 5, q->newest_first ? INT64_MAX : INT64_MIN);
    }
    while (!stop && (step = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_history_pos pos;
        const char *data;
        size_t n;
        pos.id = sqlite3_column_int64(s, 0);
        pos.last_at = sqlite3_column_int64(s, 1);
        if (q->npairs > 0 && sqlite3_column_type(s, 2) == SQLITE_BLOB) {
            /* read before the data column, so a skipped block's data is never loaded */
            const unsigned char *bloom = sqlite3_column_blob(s, 2);
            size_t bytes = (size_t)sqlite3_column_bytes(s, 2);
            bool maybe = bytes > 0 && (bytes & (bytes - 1)) == 0;
            for (size_t i = 0; i < q->npairs && maybe; i++) {
                maybe = history_bloom_has(bloom, bytes, q->pairs[i]);
            }
            if (!maybe) {
                continue;
            }
        }
        if ((rc = block_text(s, 3, &dc, &out, &data, &n)) != AR_OK) {
            break;
        }
        split_lines(&lines, data, n);
        for (size_t k = 0; k < lines.n && !stop; k++) {
            size_t i = q->newest_first ? lines.n - 1 - k : k;
            pos.line = (int64_t)i;
            if (q->after != NULL && pos.id == q->after->id && pos.last_at == q->after->last_at &&
                (q->newest_first ? pos.line >= q->after->line : pos.line <= q->after->line)) {
                continue; /* returned by an earlier page */
            }
            stop =
                !fn(data + lines.start[i], lines.len[i], &pos, sqlite3_column_int(s, 3) == 0, ctx);
        }
    }
    if (rc == AR_OK && !stop && step != SQLITE_DONE) {
        rc = AR_EDB;
    }
    if (rc == AR_EIO) {
        log_error("store", "history: %s/alertrouter.db: a block does not decode", dir);
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    ZSTD_freeDCtx(dc);
    buf_cleanup(&out);
    free(lines.start);
    free(lines.len);
    return rc;
}

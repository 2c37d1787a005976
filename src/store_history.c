/* Alert history reads (ar/store_history.h): selects the blocks of a time window through
 * history_blocks_by_time and hands their lines to the caller, decompressing zstd blocks
 * (format 1) into one reused buffer. Plain blocks (format 0) are the rows converted by the
 * 0009 migration. */
#include "ar/store_history.h"

#include "ar/buf.h"
#include "ar/log.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAX_BLOCK_BYTES (256u << 20) /* a decoded block larger than this is refused */

static bool each_line(const char *p, size_t n, store_history_fn fn, void *ctx)
{
    const char *end = p + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && !fn(p, len, ctx)) {
            return false;
        }
        p += len + 1;
    }
    return true;
}

int store_history_read(const char *dir, int64_t from_ns, int64_t to_ns, store_history_fn fn,
                       void *ctx)
{
    char *path = ar_asprintf("%s/alertrouter.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    ZSTD_DCtx *dc = NULL;
    struct buf out;
    int rc = AR_OK;
    int step;

    buf_init(&out, 0);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT format, data FROM history_blocks "
                           "WHERE last_at >= ?1 AND first_at <= ?2 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "history: %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        rc = AR_EDB;
        goto done;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_bind_int64(s, 1, from_ns);
    sqlite3_bind_int64(s, 2, to_ns);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *data = sqlite3_column_blob(s, 1);
        size_t n = (size_t)sqlite3_column_bytes(s, 1);
        if (sqlite3_column_int(s, 0) == 1) {
            unsigned long long size = ZSTD_getFrameContentSize(data, n);
            size_t got;
            if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
                size > MAX_BLOCK_BYTES) {
                rc = AR_EIO;
                break;
            }
            if (dc == NULL) {
                dc = ZSTD_createDCtx();
            }
            buf_reset(&out);
            buf_reserve(&out, (size_t)size + 1);
            got = ZSTD_decompressDCtx(dc, out.data, (size_t)size + 1, data, n);
            if (dc == NULL || ZSTD_isError(got)) {
                rc = AR_EIO;
                break;
            }
            data = out.data;
            n = got;
        }
        if (data != NULL && !each_line(data, n, fn, ctx)) {
            break;
        }
    }
    if (rc == AR_OK && step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = AR_EDB;
    }
    if (rc == AR_EIO) {
        log_error("store", "history: %s: a block does not decode", path);
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    ZSTD_freeDCtx(dc);
    buf_cleanup(&out);
    free(path);
    return rc;
}

/* SQLite storage (ar/store.h). WAL journal with synchronous=NORMAL by default: a committed
 * transaction is in the WAL file (written with write(2)) before sqlite3_step returns, so it
 * survives kill -9 of the process; only a power loss or an OS crash may drop the last
 * transactions before a checkpoint. --storage.synchronous=full (store_set_synchronous_full)
 * adds an fsync of the WAL to every commit, so they survive a power loss too. Statements are
 * prepared once (fixed ones here, others through the store_stmt cache used by store_*.c and
 * audit.c). Alert state is an append-only log of binary records written as one block row per
 * transaction (see migrations/0001_alerts.sql), so a commit of many alerts costs one B-tree insert;
 * history events are JSON lines written as one zstd block per transaction (see
 * migrations/0009_history_blocks.sql), read back by store_history.c. WAL checkpoints run on a
 * thread of their own (store_checkpoint.c), off the commit path. */
#include "ar/store.h"

#include "ar/alert_store.h"
#include "ar/buf.h"
#include "ar/embedded.h"
#include "ar/history_bloom.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/textpack.h"
#include "store_checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define WAL_CHECKPOINT_PAGES 8192 /* as PRAGMA wal_autocheckpoint below: 32 MiB */

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_APPEND_BLOCK,
    ST_TRUNCATE,
    ST_ADD_HISTORY,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_APPEND_BLOCK] = "INSERT INTO alert_log (first_seq, last_seq, records) "
                        "VALUES (?1, ?2, ?3)",
    [ST_TRUNCATE] = "DELETE FROM alert_log WHERE last_seq < ?1",
    [ST_ADD_HISTORY] = "INSERT INTO history_blocks (first_at, last_at, events, format, data, "
                       "labels_bloom) VALUES (?1, ?2, ?3, 1, ?4, ?5)",
};

#define STMT_CACHE 32
/* Level 1: on the writer's blocks of repetitive JSON lines it compresses as well as level 3
 * (a 65 KB block: 3,031 bytes at 1, 3,306 at 3) and cost about half the instructions; it was a
 * quarter of the writer thread's work per ingested alert (callgrind, batch 10). */
#define HISTORY_ZSTD_LEVEL 1

struct store {
    sqlite3 *db;
    struct store_checkpointer *checkpointer; /* WAL checkpoints off the commit path */
    char *path;                              /* <dir>/alertrouter.db, named in errors */
    sqlite3_stmt *stmt[ST_COUNT];
    const char *cached_sql[STMT_CACHE]; /* store_stmt: SQL text (static strings) */
    sqlite3_stmt *cached[STMT_CACHE];
    struct buf scratch1; /* labels JSON */
    struct buf scratch2; /* annotations JSON */
    struct buf block;    /* alert log records of the current transaction */
    int64_t block_first; /* sequence number of its first record */
    int64_t block_last;
    struct buf history; /* history events of the current transaction, JSON lines */
    size_t history_n;
    int64_t history_first;
    int64_t history_last;
    struct buf zhistory;   /* its zstd frame */
    uint64_t *pair_hashes; /* of its events' label pairs, for the block's Bloom filter */
    size_t npairs;
    size_t cap_pairs;
    unsigned char *bloom;
    ZSTD_CCtx *zc;
    /* The packed annotations last decompressed (annotation_pairs): ingest writes a new
     * alert's history event and its log record one after the other, and both need them. Only
     * within a transaction, whose operations hold their alerts (and so the sets). */
    const void *ann_set;
    char *ann_pairs;
    size_t ann_cap;
    uint32_t ann_n;
    int version;
    bool shared_write;              /* own silence/nflog rows in this transaction */
    void (*commit_hook)(void *ctx); /* store_set_commit_hook (read on the committing thread) */
    void *commit_hook_ctx;
};

void store_set_commit_hook(struct store *st, void (*hook)(void *ctx), void *ctx)
{
    __atomic_store_n(&st->commit_hook_ctx, ctx, __ATOMIC_RELEASE);
    __atomic_store_n(&st->commit_hook, hook, __ATOMIC_RELEASE);
}

void store_mark_shared_write(struct store *st)
{
    st->shared_write = true;
}

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

/* Prefixes err with the database path, so a message such as "attempt to write a readonly
 * database" says which file (e.g. an existing database on a read-only file system). */
static void name_path(const struct store *st, struct ar_error *err)
{
    char msg[sizeof(err->msg)];
    char *probe = ar_asprintf("%s.write-probe", st->path);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);

    snprintf(msg, sizeof(msg), "%s", err->msg);
    if (fd >= 0) {
        close(fd);
        unlink(probe);
        ar_error_set(err, "%s: %s", st->path, msg);
    } else {
        /* SQLite says "unable to open database file" or "readonly database" for a directory
         * it cannot create its WAL in; say why */
        ar_error_set(err, "%s: %s (cannot write in the storage directory: %s)", st->path, msg,
                     strerror(errno));
    }
    free(probe);
}

/* Process-wide SQLite settings, made before the library initialises (the first open).
 * Memory statistics off: nothing reads them (no sqlite3_memory_used, sqlite3_status), and
 * keeping them takes a global mutex and bookkeeping on every SQLite malloc and free, about a
 * tenth of the writer thread's instructions during a fan-out (docs/benchmarks.md). */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* SQLITE_MISUSE if already running */
}

int store_open(const char *dir, struct store **out, struct ar_error *err)
{
    static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

    struct store *st;
    char *path;
    int rc;

    pthread_once(&setup_once, sqlite_setup);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        ar_error_set(err, "cannot create storage directory %s: %s", dir, strerror(errno));
        return AR_EIO;
    }
    st = ar_calloc(1, sizeof(*st));
    buf_init(&st->scratch1, 0);
    buf_init(&st->scratch2, 0);
    buf_init(&st->block, 0);
    buf_init(&st->history, 0);
    buf_init(&st->zhistory, 0);
    path = ar_asprintf("%s/alertrouter.db", dir);
    st->path = path;
    rc = sqlite3_open_v2(path, &st->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ar_error_set(err, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "?");
        store_close(st);
        return AR_EDB;
    }
    sqlite3_busy_timeout(st->db, 5000);
    /* The working set lives in memory and the database is only appended to while running
     * (alert log blocks, event rows at the end of their B-trees), so a small page cache is
     * enough; a larger WAL checkpoint threshold spreads checkpoint cost over more commits.
     * A burst (a fan-out's payloads) can grow the WAL past that threshold; once checkpointed
     * it is truncated back to 64 MiB instead of keeping its largest size on disk. */
    if (exec_sql(st,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                 "PRAGMA foreign_keys=ON; PRAGMA cache_size=-8192; "
                 "PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864; "
                 "PRAGMA temp_store=MEMORY;",
                 err, "configuring database") != AR_OK ||
        migrate(st, err) != AR_OK) {
        name_path(st, err);
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
    /* from here on, checkpoints run on a thread of their own (store_checkpoint.c) */
    st->checkpointer = store_checkpointer_start(path, st->db, WAL_CHECKPOINT_PAGES);
    *out = st;
    return AR_OK;
}

void store_close(struct store *st)
{
    if (st == NULL) {
        return;
    }
    store_checkpointer_stop(st->checkpointer); /* before the last connection closes */
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(st->cached[i]);
    }
    sqlite3_close(st->db);
    free(st->path);
    buf_cleanup(&st->scratch1);
    buf_cleanup(&st->scratch2);
    buf_cleanup(&st->block);
    buf_cleanup(&st->history);
    buf_cleanup(&st->zhistory);
    free(st->pair_hashes);
    free(st->bloom);
    free(st->ann_pairs);
    ZSTD_freeCCtx(st->zc);
    free(st);
}

int store_set_synchronous_full(struct store *st, struct ar_error *err)
{
    if (exec_sql(st, "PRAGMA synchronous=FULL;", err, "setting synchronous=FULL") != AR_OK) {
        name_path(st, err);
        return AR_EDB;
    }
    return AR_OK;
}

const char *store_path(const struct store *st)
{
    return st->path;
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
    st->ann_set = NULL;
    return step_reset(st, ST_BEGIN);
}

/* The transaction's history events as one compressed block (0009_history_blocks.sql). */
static int write_history_block(struct store *st)
{
    sqlite3_stmt *s = st->stmt[ST_ADD_HISTORY];
    size_t bound = ZSTD_compressBound(st->history.len);
    size_t n;

    if (st->zc == NULL && (st->zc = ZSTD_createCCtx()) == NULL) {
        return AR_ENOMEM;
    }
    buf_reset(&st->zhistory);
    buf_reserve(&st->zhistory, bound);
    n = ZSTD_compressCCtx(st->zc, st->zhistory.data, bound, st->history.data, st->history.len,
                          HISTORY_ZSTD_LEVEL);
    if (ZSTD_isError(n)) {
        log_error("store", "history block: %s", ZSTD_getErrorName(n));
        return AR_EIO;
    }
    sqlite3_bind_int64(s, 1, st->history_first);
    sqlite3_bind_int64(s, 2, st->history_last);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)st->history_n);
    sqlite3_bind_blob(s, 4, st->zhistory.data, (int)n, SQLITE_STATIC);
    {
        size_t bytes = history_bloom_bytes(st->npairs);
        st->bloom = ar_realloc(st->bloom, bytes);
        memset(st->bloom, 0, bytes);
        for (size_t i = 0; i < st->npairs; i++) {
            history_bloom_add(st->bloom, bytes, st->pair_hashes[i]);
        }
        sqlite3_bind_blob(s, 5, st->bloom, (int)bytes, SQLITE_STATIC);
    }
    return step_reset(st, ST_ADD_HISTORY);
}

static void history_reset(struct store *st)
{
    buf_reset(&st->history);
    st->history_n = 0;
    st->npairs = 0;
}

int store_commit(struct store *st)
{
    st->ann_set = NULL;
    if (st->history_n > 0) {
        int rc = write_history_block(st);
        if (rc != AR_OK) {
            return rc;
        }
        history_reset(st);
    }
    if (st->block.len > 0) {
        sqlite3_stmt *s = st->stmt[ST_APPEND_BLOCK];
        int rc;
        sqlite3_bind_int64(s, 1, st->block_first);
        sqlite3_bind_int64(s, 2, st->block_last);
        sqlite3_bind_blob(s, 3, st->block.data, (int)st->block.len, SQLITE_STATIC);
        rc = step_reset(st, ST_APPEND_BLOCK);
        if (rc != AR_OK) {
            return rc;
        }
        buf_reset(&st->block);
    }
    int rc = step_reset(st, ST_COMMIT);
    if (rc == AR_OK && st->shared_write) {
        void (*hook)(void *) = __atomic_load_n(&st->commit_hook, __ATOMIC_ACQUIRE);
        st->shared_write = false;
        if (hook != NULL) {
            hook(__atomic_load_n(&st->commit_hook_ctx, __ATOMIC_ACQUIRE));
        }
    }
    return rc;
}

void store_rollback(struct store *st)
{
    st->ann_set = NULL;
    st->shared_write = false;
    buf_reset(&st->block);
    history_reset(st);
    if (!sqlite3_get_autocommit(st->db)) {
        step_reset(st, ST_ROLLBACK);
    }
}

/* ---- alert log record encoding (see migrations/0001_alerts.sql) ---- */

enum { REC_PUT = 1, REC_TOUCH = 2, REC_DELETE = 3 };

static void put_u8(struct buf *b, unsigned v)
{
    buf_putc(b, (char)(v & 0xff));
}

static void put_le(struct buf *b, uint64_t v, int bytes)
{
    char tmp[8];

    for (int i = 0; i < bytes; i++) {
        tmp[i] = (char)(v >> (8 * i));
    }
    buf_append(b, tmp, (size_t)bytes);
}

/* A 4-byte length and n bytes, written in place after one reservation (two buf_appends
 * per string were a tenth of writing an alert's record). */
static void put_bytes(struct buf *b, const char *s, size_t n)
{
    unsigned char *o;

    if (buf_reserve(b, n + 4) != AR_OK) {
        return;
    }
    o = (unsigned char *)b->data + b->len;
    for (int i = 0; i < 4; i++) {
        o[i] = (unsigned char)(n >> (8 * i));
    }
    if (n > 0) {
        memcpy(o + 4, s, n);
    }
    b->len += n + 4;
    b->data[b->len] = '\0';
}

static void put_str(struct buf *b, const char *s)
{
    put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

static void put_set(struct buf *b, const struct labelset *ls)
{
    put_le(b, ls->n, 2);
    for (size_t i = 0; i < ls->n; i++) {
        put_str(b, ls->v[i].name);
        put_str(b, ls->v[i].value);
    }
}

/* put_set from n serialised "name\0value\0" pairs (alert_annotation_pairs) */
static void put_pairs(struct buf *b, const char *pairs, uint32_t n)
{
    put_le(b, n, 2);
    for (uint32_t i = 0; i < 2 * n; i++) {
        size_t len = strlen(pairs);

        put_bytes(b, pairs, len);
        pairs += len + 1;
    }
}

static void begin_record(struct store *st, int64_t seq, unsigned kind, uint64_t fp)
{
    if (st->block.len == 0) {
        st->block_first = seq;
    }
    st->block_last = seq;
    put_u8(&st->block, kind);
    put_le(&st->block, fp, 8);
}

/* a's annotations as "name\0value\0" pairs (*n of them), or NULL when they are not packed */
static const char *annotation_pairs(struct store *st, const struct alert *a, uint32_t *n)
{
    const struct packed_set *p = (const struct packed_set *)(const void *)a->annotations.v;

    if (!a->annotations.zipped) {
        return NULL;
    }
    if (st->ann_set != p) {
        size_t need = packed_set_raw_len(p);
        if (need > st->ann_cap) {
            st->ann_pairs = ar_realloc(st->ann_pairs, need);
            st->ann_cap = need;
        }
        st->ann_n = packed_set_read(p, st->ann_pairs);
        st->ann_set = p;
    }
    *n = st->ann_n;
    return st->ann_pairs;
}

void store_log_put(struct store *st, int64_t seq, const struct alert *a)
{
    struct buf *b = &st->block;

    begin_record(st, seq, REC_PUT, a->fp);
    put_le(b, (uint64_t)a->starts_at, 8);
    put_le(b, (uint64_t)(uint16_t)a->starts_off_min, 2);
    put_le(b, (uint64_t)a->ends_at, 8);
    put_le(b, (uint64_t)(uint16_t)a->ends_off_min, 2);
    put_le(b, (uint64_t)a->updated_at, 8);
    put_u8(b, a->timeout);
    put_str(b, a->generator_url);
    put_set(b, &a->labels);
    {
        uint32_t n;
        const char *pairs = annotation_pairs(st, a, &n);

        if (pairs != NULL) {
            put_pairs(b, pairs, n); /* packed: no set built on the writer thread */
        } else {
            put_set(b, &a->annotations);
        }
    }
}

void store_log_touch(struct store *st, int64_t seq, const struct alert *a)
{
    struct buf *b = &st->block;

    begin_record(st, seq, REC_TOUCH, a->fp);
    put_le(b, (uint64_t)a->ends_at, 8);
    put_le(b, (uint64_t)(uint16_t)a->ends_off_min, 2);
    put_le(b, (uint64_t)a->updated_at, 8);
    put_u8(b, a->timeout);
}

void store_log_delete(struct store *st, int64_t seq, uint64_t fp)
{
    begin_record(st, seq, REC_DELETE, fp);
}

int store_truncate_log(struct store *st, int64_t below)
{
    sqlite3_bind_int64(st->stmt[ST_TRUNCATE], 1, below);
    return step_reset(st, ST_TRUNCATE);
}

static void put_i64(struct buf *b, int64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        tmp[--n] = '-';
    }
    buf_append(b, tmp + n, sizeof(tmp) - n);
}

int store_add_alert_event(struct store *st, const struct alert *a, const char *event, int64_t at_ns)
{
    struct buf *h = &st->history;
    char fp[17];

    if (st->history_n > 0 && (at_ns - st->history_first > STORE_HISTORY_MAX_SPAN_NS ||
                              st->history_last - at_ns > STORE_HISTORY_MAX_SPAN_NS)) {
        /* a block spans at most STORE_HISTORY_MAX_SPAN_NS, so a reader knows how far past a
         * window's end an overlapping block may end (0011_history_queries.sql) */
        int rc = write_history_block(st);
        if (rc != AR_OK) {
            return rc;
        }
        history_reset(st);
    }
    if (st->history_n == 0) {
        st->history_first = at_ns;
        st->history_last = at_ns;
    }
    st->history_first = at_ns < st->history_first ? at_ns : st->history_first;
    st->history_last = at_ns > st->history_last ? at_ns : st->history_last;
    st->history_n++;
    fingerprint_format(a->fp, fp);
    /* appended piece by piece: printf's formatting was a fifth of recording an event */
    buf_puts(h, "{\"at\":");
    put_i64(h, at_ns);
    buf_puts(h, ",\"event\":\"");
    buf_puts(h, event);
    buf_puts(h, "\",\"fingerprint\":\"");
    buf_append(h, fp, 16);
    buf_puts(h, "\",\"startsAt\":");
    put_i64(h, a->starts_at);
    buf_puts(h, ",\"endsAt\":");
    put_i64(h, a->ends_at);
    buf_puts(h, ",\"labels\":");
    /* every event carries labels and annotations (since 0011), so a query filters and shows
     * any event without looking for its alert's firing event */
    json_put_labelset(h, &a->labels);
    if (st->npairs + a->labels.n > st->cap_pairs) {
        st->cap_pairs = (st->npairs + a->labels.n) * 2;
        st->pair_hashes = ar_realloc(st->pair_hashes, st->cap_pairs * sizeof(*st->pair_hashes));
    }
    for (uint32_t i = 0; i < a->labels.n; i++) {
        st->pair_hashes[st->npairs++] =
            history_pair_hash(a->labels.v[i].name, a->labels.v[i].value);
    }
    buf_puts(h, ",\"annotations\":");
    {
        uint32_t n;
        const char *pairs = annotation_pairs(st, a, &n);

        if (pairs != NULL) {
            json_put_pairs(h, pairs, n);
        } else {
            json_put_labelset(h, &a->annotations);
        }
    }
    buf_puts(h, "}\n");
    return AR_OK;
}

/* Bounded reader over one block. */
struct reader {
    const unsigned char *p;
    const unsigned char *end;
    bool bad;
};

static uint64_t get_le(struct reader *r, int bytes)
{
    uint64_t v = 0;

    if (r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    for (int i = 0; i < bytes; i++) {
        v |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += bytes;
    return v;
}

/* Returns a pointer to n bytes inside the block (not NUL-terminated) or NULL. */
static const char *get_bytes(struct reader *r, size_t *n)
{
    const char *s;

    *n = (size_t)get_le(r, 4);
    if (r->bad || (size_t)(r->end - r->p) < *n) {
        r->bad = true;
        return NULL;
    }
    s = (const char *)r->p;
    r->p += *n;
    return s;
}

static void get_set(struct reader *r, struct labelset *ls, struct buf *tmp)
{
    size_t n = (size_t)get_le(r, 2);
    const char **names;
    const char **values;
    size_t *offs;

    if (r->bad) {
        return;
    }
    buf_reset(tmp);
    offs = ar_malloc((2 * n + 1) * sizeof(*offs));
    for (size_t i = 0; i < 2 * n && !r->bad; i++) {
        size_t len;
        const char *s = get_bytes(r, &len);
        if (s == NULL) {
            break;
        }
        offs[i] = tmp->len;
        buf_append(tmp, s, len);
        buf_putc(tmp, '\0');
    }
    if (!r->bad) {
        names = ar_malloc((n + 1) * sizeof(*names));
        values = ar_malloc((n + 1) * sizeof(*values));
        for (size_t i = 0; i < n; i++) {
            names[i] = tmp->data + offs[2 * i];
            values[i] = tmp->data + offs[2 * i + 1];
        }
        labelset_build_packed(ls, names, values, n);
        free(names);
        free(values);
    }
    free(offs);
}

/* Applies every record of one block to the replay table; returns records read. */
static size_t replay_block(struct alert_store *live, const void *data, size_t len, struct buf *tmp,
                           size_t *bad, const struct store_load_hooks *h)
{
    struct reader r = {data, (const unsigned char *)data + len, false};
    size_t n = 0;

    while (r.p < r.end && !r.bad) {
        unsigned kind = (unsigned)get_le(&r, 1);
        uint64_t fp = get_le(&r, 8);
        struct alert *a;
        n++;
        if (kind == REC_DELETE) {
            alert_store_remove(live, fp);
        } else if (kind == REC_TOUCH) {
            int64_t ends = (int64_t)get_le(&r, 8);
            int16_t ends_off = (int16_t)get_le(&r, 2);
            int64_t updated = (int64_t)get_le(&r, 8);
            bool timeout = get_le(&r, 1) != 0;
            struct alert *old = alert_store_find(live, fp);
            if (old != NULL && !r.bad) {
                a = alert_dup(old);
                a->ends_at = ends;
                a->ends_off_min = ends_off;
                a->updated_at = updated;
                a->timeout = timeout;
                alert_store_put_take(live, a);
            }
        } else if (kind == REC_PUT) {
            size_t ulen;
            const char *url;
            a = alert_new();
            a->starts_at = (int64_t)get_le(&r, 8);
            a->starts_off_min = (int16_t)get_le(&r, 2);
            a->ends_at = (int64_t)get_le(&r, 8);
            a->ends_off_min = (int16_t)get_le(&r, 2);
            a->updated_at = (int64_t)get_le(&r, 8);
            a->timeout = get_le(&r, 1) != 0;
            url = get_bytes(&r, &ulen);
            if (url != NULL && ulen > 0) {
                a->generator_url = ar_strndup(url, ulen);
            }
            get_set(&r, &a->labels, tmp);
            get_set(&r, &a->annotations, tmp);
            if (r.bad || a->labels.n == 0) {
                alert_unref(a);
                break;
            }
            a->fp = labelset_fingerprint(&a->labels);
            if (a->fp != fp) {
                (*bad)++;
            }
            if (h->prepare != NULL) {
                h->prepare(a, alert_store_find(live, a->fp), h->ctx);
            }
            alert_store_put_take(live, a);
        } else {
            r.bad = true;
        }
    }
    if (r.bad) {
        (*bad)++;
    }
    return n;
}

int store_load_alerts(struct store *st, const struct store_load_hooks *h,
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
                           "SELECT first_seq, last_seq, records FROM alert_log ORDER BY first_seq",
                           -1, &s, NULL) != SQLITE_OK) {
        log_error("store", "loading alerts: %s", sqlite3_errmsg(st->db));
        alert_store_free(live);
        return AR_EDB;
    }
    buf_init(&tmp, 0);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        stats->next_seq = sqlite3_column_int64(s, 1) + 1;
        stats->log_rows += replay_block(live, data, len, &tmp, &bad, h);
    }
    buf_cleanup(&tmp);
    sqlite3_finalize(s);
    if (bad > 0) {
        log_warn("store", "%zu damaged alert log blocks or records skipped", bad);
    }
    if (rc != SQLITE_DONE) {
        log_error("store", "loading alerts: %s", sqlite3_errmsg(st->db));
        alert_store_free(live);
        return AR_EDB;
    }
    for (size_t it = 0; (a = alert_store_next(live, &it)) != NULL;) {
        h->keep(alert_ref(a), h->ctx);
    }
    alert_store_free(live);
    return AR_OK;
}

struct sqlite3 *store_db(struct store *st)
{
    return st->db;
}

int store_instance_get_or_put(struct store *st, const char *key, const char *fresh, char *out,
                              size_t cap)
{
    sqlite3_stmt *s = NULL;
    int rc = AR_EDB;

    /* INSERT OR IGNORE then SELECT: an existing value is never replaced */
    if (sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO instance (key, value) VALUES (?, ?)", -1,
                           &s, NULL) != SQLITE_OK) {
        goto out;
    }
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, fresh, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM instance WHERE key = ?", -1, &s, NULL) !=
        SQLITE_OK) {
        goto out;
    }
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        goto out;
    }
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
    rc = AR_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

int store_instance_get(struct store *st, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    int rc = AR_EDB;

    if (sqlite3_prepare_v2(st->db, "SELECT value FROM instance WHERE key = ?", -1, &s, NULL) !=
        SQLITE_OK) {
        return AR_EDB;
    }
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        rc = AR_OK;
        break;
    case SQLITE_DONE:
        rc = AR_ENOTFOUND;
        break;
    default:
        break;
    }
    sqlite3_finalize(s);
    return rc;
}

struct sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
    int i;

    for (i = 0; i < STMT_CACHE && st->cached_sql[i] != NULL; i++) {
        if (st->cached_sql[i] == sql || strcmp(st->cached_sql[i], sql) == 0) {
            return st->cached[i];
        }
    }
    if (i == STMT_CACHE) {
        return NULL; /* callers only pass a handful of fixed statements */
    }
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->cached[i], NULL) !=
        SQLITE_OK) {
        log_error("store", "preparing statement: %s", sqlite3_errmsg(st->db));
        return NULL;
    }
    st->cached_sql[i] = sql;
    return st->cached[i];
}

void store_stmt_done(struct sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

sqlite3 *store_open_ro(const char *dir, const char *who)
{
    char *path = ar_asprintf("%s/alertrouter.db", dir);
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        log_error(who, "open %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open database");
        sqlite3_close(db);
        db = NULL;
    } else {
        sqlite3_busy_timeout(db, 2000);
    }
    free(path);
    return db;
}

const char *store_col_text(struct sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? (const char *)t : "";
}

char *store_col_dup(struct sqlite3_stmt *s, int i)
{
    return ar_strdup(store_col_text(s, i));
}

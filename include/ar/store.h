/* Durable storage: the only module that speaks SQL. Opens <dir>/alertrouter.db in WAL
 * mode, applies the embedded migrations (tracked in PRAGMA user_version) and offers a narrow
 * set of operations. One connection, used by one thread at a time: at start by main to
 * load state, afterwards by the writer thread only. Writes happen inside store_begin /
 * store_commit so callers batch many changes into one transaction (group commit). */
#ifndef AR_STORE_H
#define AR_STORE_H

#include "ar/alert.h"

struct store;

/* Creates dir if needed, opens the database, migrates. */
int store_open(const char *dir, struct store **out, struct ar_error *err);
void store_close(struct store *st); /* accepts NULL */
/* Power-loss durability (--storage.synchronous=full): every commit also waits for an fsync
 * of the WAL. The default (NORMAL) survives a crash of the process, not of the machine. */
int store_set_synchronous_full(struct store *st, struct ar_error *err);
/* The database file, for messages. */
const char *store_path(const struct store *st);

/* Size cap (store_prune.c). Bytes of the pages in use (file size less free pages). */
int64_t store_used_bytes(struct store *st);
/* Pruned rows by kind: history blocks, delivered notifications, audit entries. */
#define STORE_PRUNE_KINDS 3
struct store_prune_stats {
    int64_t used_bytes;                 /* after this run */
    uint64_t pruned[STORE_PRUNE_KINDS]; /* rows deleted by this run */
};
/* Inside a transaction: when more than max_bytes are in use, deletes the oldest history,
 * then delivered notifications, then audit entries, down to 90% of the cap (live state is
 * never deleted), and logs what it did. max_bytes <= 0: only measures. */
int store_prune_to_cap(struct store *st, int64_t max_bytes, struct store_prune_stats *out);
/* Schema version after migration (number of the last applied migration). */
int store_schema_version(struct store *st);

struct store_load_stats {
    int64_t next_seq; /* first unused alert_log sequence number */
    size_t log_rows;  /* rows in alert_log */
};

/* Replays alert_log in order: prepare (optional) sees each decoded alert version before it
 * is kept, with the version it replaces (or NULL), e.g. to move its strings into a pool while
 * the replay runs rather than after (peak memory); keep(alert, ctx) is then called for
 * every alert alive at the end and takes ownership. Fills stats. */
struct store_load_hooks {
    void (*prepare)(struct alert *a, const struct alert *prev, void *ctx);
    void (*keep)(struct alert *a, void *ctx);
    void *ctx;
};
int store_load_alerts(struct store *st, const struct store_load_hooks *h,
                      struct store_load_stats *stats);

int store_begin(struct store *st);
/* Writes the pending alert log block (if any) and commits. */
int store_commit(struct store *st);
/* Rolls back and discards the pending alert log block. */
void store_rollback(struct store *st);
/* Alert log records, appended to the block of the current transaction. */
void store_log_put(struct store *st, int64_t seq, const struct alert *a);
/* A re-post that changed only ends_at, updated_at and the timeout flag. */
void store_log_touch(struct store *st, int64_t seq, const struct alert *a);
void store_log_delete(struct store *st, int64_t seq, uint64_t fp);
/* Compaction: deletes the blocks whose records all precede `below`. */
int store_truncate_log(struct store *st, int64_t below);
/* Appends to the alert history: event is "firing", "resolved", "deleted" or "updated"
 * (annotations changed while firing), with a's labels and annotations. The events of a
 * transaction are written at store_commit as one compressed block (store_history.h reads
 * them back); a block spans at most STORE_HISTORY_MAX_SPAN_NS of event times. */
#define STORE_HISTORY_MAX_SPAN_NS (60LL * 1000000000LL)
int store_add_alert_event(struct store *st, const struct alert *a, const char *event,
                          int64_t at_ns);
/* Retention (store_history.c): deletes the history blocks whose events all precede
 * before_ns, at most 50,000 per call (a first run after an upgrade spreads over runs). */
int store_history_gc(struct store *st, int64_t before_ns);
/* The connection, for the store_*.c files that hold the SQL of other core state
 * (store_silences.c, store_nflog.c); never used outside the storage module. */
struct sqlite3 *store_db(struct store *st);
/* A prepared statement for a fixed SQL text (a string literal), prepared once and cached
 * for the connection's lifetime; NULL on error (logged). After stepping, hand it back with
 * store_stmt_done (reset + clear bindings), never finalize it. For write paths that run per
 * notification or per API change. */
struct sqlite3_stmt *store_stmt(struct store *st, const char *sql);
void store_stmt_done(struct sqlite3_stmt *s);
/* A read-only connection of its own to <dir>/alertrouter.db (busy timeout 2 s), for the
 * readers beside the writer (API queries); NULL when it cannot open, logged under who. */
struct sqlite3 *store_open_ro(const char *dir, const char *who);
/* Column i of the current row of s as text, "" when it is NULL; borrowed until s steps again. */
const char *store_col_text(struct sqlite3_stmt *s, int i);
/* The same as an owned copy (free it). */
char *store_col_dup(struct sqlite3_stmt *s, int i);
/* The value stored for key in the instance table; if there is none, stores `fresh` first
 * (so the first caller's value wins for good). Writes at most cap bytes into out.
 * Used at start only (cluster peer name). */
int store_instance_get_or_put(struct store *st, const char *key, const char *fresh, char *out,
                              size_t cap);
/* The value stored for key, or AR_ENOTFOUND when there is none. */
int store_instance_get(struct store *st, const char *key, char *out, size_t cap);
/* Replication (ar/ha_sync.h): store_silence_append and store_nflog_append of this
 * instance's own rows mark the transaction; after it commits, hook(ctx) runs on the
 * committing thread (it must be quick: it wakes the publisher). NULL removes the hook. */
void store_set_commit_hook(struct store *st, void (*hook)(void *ctx), void *ctx);
void store_mark_shared_write(struct store *st);
/* Last SQLite error message (for logs). */
const char *store_errmsg(struct store *st);

#endif

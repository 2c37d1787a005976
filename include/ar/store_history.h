/* Reading the alert history (migrations/0009_history_blocks.sql): blocks of JSON lines, one
 * per transaction, zstd-compressed. The writer side is store_add_alert_event (ar/store.h).
 * Part of the storage module; reads use a read-only connection of their own, never the
 * writer's. */
#ifndef AR_STORE_HISTORY_H
#define AR_STORE_HISTORY_H

#include "ar/common.h"

/* A position in the history's order: blocks by (last_at, id), lines in block order. */
struct store_history_pos {
    int64_t last_at;
    int64_t id;
    int64_t line;
};

struct store_history_query {
    int64_t from_ns; /* blocks overlapping [from_ns, to_ns] */
    int64_t to_ns;
    bool newest_first;                     /* else oldest first */
    const struct store_history_pos *after; /* start after this event; NULL: at the start */
    const uint64_t *pairs; /* pair hashes every event must have (equality matchers): blocks */
    size_t npairs;         /* whose Bloom filter lacks one are skipped undecoded */
};

/* Called with each event line (without its newline) and its position; plain is true for
 * the lines the 0009 migration converted (labels on "firing" events only, no annotations,
 * encoded by SQLite). Return false to stop. */
typedef bool (*store_history_scan_fn)(const char *line, size_t len,
                                      const struct store_history_pos *pos, bool plain, void *ctx);

/* Walks the events of the blocks overlapping the window in the query's order, after its
 * position; the caller filters lines by "at". Reads on a connection of its own. AR_OK,
 * AR_EDB, AR_EIO. */
int store_history_scan(const char *dir, const struct store_history_query *q,
                       store_history_scan_fn fn, void *ctx);

/* ---- notifications (store_history_deliveries.c): deliveries and their delivery_log ---- */

struct buf;

struct store_notification_query {
    int64_t from_ns; /* created in [from_ns, to_ns] */
    int64_t to_ns;
    bool newest_first;
    size_t limit;
    bool has_after; /* start after (after_created, after_id) in the query's order */
    int64_t after_created;
    int64_t after_id;
    const char *state;       /* NULL: any */
    const char *integration; /* NULL: any; else the name ("webhook[0]") or its type */
    bool (*keep_receiver)(const char *name, void *ctx); /* NULL: any */
    void *ctx;
};

/* Appends the JSON objects of up to q->limit notifications, comma-separated, to out; *n is
 * how many and last the position (created, id) of the last one. Reads through
 * deliveries_by_created on a connection of its own. AR_OK or AR_EDB. */
/* The delivery_log rows of delivery id as `,"log":[...]`, from lg prepared as
 * `SELECT at, outcome, http_status, error, attempts, latency_ns FROM delivery_log
 * WHERE delivery_id = ?1 ORDER BY id` (reset afterwards): the shape /api/x/deliveries/{id}
 * and /api/x/history/notifications share. */
struct sqlite3_stmt;
int store_history_put_delivery_log(struct buf *out, struct sqlite3_stmt *lg, int64_t id);
/* Column col of s, a blob of 8-byte big-endian fingerprints (deliveries.new_firing,
 * new_resolved), as a JSON array of hex strings. */
void store_history_put_fps(struct buf *out, struct sqlite3_stmt *s, int col);

int store_history_notifications(const char *dir, const struct store_notification_query *q,
                                struct buf *out, size_t *n, int64_t last[2]);

#endif

/* The SQL of the durable outbox (migrations/0005_deliveries.sql, 0007): its rows, what a
 * delivered row keeps of its notification, and the reads and writes on them. Part of the
 * storage layer: it knows nothing of the delivery model above it (ar/outbox.h), which
 * queues these writes with txn_write and hands down an attempt's outcome as plain fields. */
#ifndef AR_STORE_OUTBOX_H
#define AR_STORE_OUTBOX_H

#include "ar/buf.h"
#include "ar/common.h"

struct store;

/* ---- rows ---- */

struct outbox_row {
    int64_t id;
    int64_t created_at;
    char *receiver;
    char *integration;
    char *group_key;
    char *state;
    int attempts;
    long last_status;
    char *last_error;
    char *payload;
};
void outbox_row_free(struct outbox_row *r); /* accepts NULL */

/* What a delivery row keeps of its notification once the payload is gone (delivered): how
 * many alerts it carried in each state, and the sorted fingerprints that were new to the
 * receiver's notification log (why it was sent). Arrays are borrowed. */
struct delivery_summary {
    size_t nfiring;
    size_t nresolved;
    const uint64_t *new_firing;
    size_t nnew_firing;
    const uint64_t *new_resolved;
    size_t nnew_resolved;
};

/* An attempt's outcome as stored (delivery_log, and the row's summary). */
struct delivery_attempt {
    int attempts;       /* HTTP attempts made */
    long last_status;   /* last HTTP status, 0 when none */
    const char *error;  /* "" on success; secrets already redacted */
    int64_t latency_ns; /* from submit to completion */
};

/* ---- writes (inside store_begin/store_commit; the writer, or tests) ---- */

int store_outbox_gc(struct store *st, int64_t before_ns);
int store_outbox_insert(struct store *st, int64_t id, int64_t at, const char *receiver,
                        const char *integration, const char *group_key, const char *payload,
                        const struct delivery_summary *sum); /* sum may be NULL */
int store_outbox_event(struct store *st, int64_t id, int64_t at, const char *state,
                       const char *outcome,
                       const struct delivery_attempt *att); /* att may be NULL */

/* ---- reads on the writer's connection, at start (before the threads run) ---- */

/* First unused delivery id. */
int store_outbox_next_id(struct store *st, int64_t *out);
/* Every row in `state`, oldest first (new array of new rows). */
int store_outbox_load(struct store *st, const char *state, struct outbox_row ***out, size_t *n);

/* ---- read-only queries for the API (own connection on <dir>/alertrouter.db) ---- */

/* JSON array, newest first; state NULL = every state. */
int outbox_query_list(const char *dir, const char *state, size_t limit, struct buf *out);
/* JSON object of one delivery with its log ("log": [...], oldest first); AR_ENOTFOUND. */
int outbox_query_get(const char *dir, int64_t id, struct buf *out);
/* One row (payload included); AR_ENOTFOUND. */
int outbox_query_row(const char *dir, int64_t id, struct outbox_row **out);
/* Counts by state for the gauges. */
int outbox_query_counts(const char *dir, size_t *pending, size_t *dead);

#endif

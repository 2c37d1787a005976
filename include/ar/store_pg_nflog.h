/* The notification log in PostgreSQL (migrations/pg/0001_base.sql, docs/ha.md section 4):
 * SQLite's nflog rows, stamped with the writing instance (origin) and announced with NOTIFY
 * on STORE_PG_NFLOG_CHANNEL (an append in its statement, publication once per transaction),
 * so every instance learns what another
 * sent and its dedup rule (COMPAT 5.7) sees the cluster's sends, not only its own. */
#ifndef AR_STORE_PG_NFLOG_H
#define AR_STORE_PG_NFLOG_H

#include "ar/buf.h"
#include "ar/store_nflog.h"
#include "ar/store_pg.h"

#define STORE_PG_NFLOG_CHANNEL "ar_nflog"

/* Appends e and notifies the channel with the row's id; *id_out (may be NULL) gets it. */
int store_pg_nflog_append(struct store_pg *pg, const struct nflog_entry *e, const char *origin,
                          int64_t *id_out);
/* Calls cb(entry, ctx) for every row with id > after_id not written by skip_origin (NULL:
 * none skipped) and not expired at now_ns, in id order (cb takes ownership); *last_id gets
 * the highest id read, skipped rows included. With after_id 0 this is the start-up load
 * (the newest row of each key wins when applied in order). */
int store_pg_nflog_since(struct store_pg *pg, int64_t after_id, const char *skip_origin,
                         int64_t now_ns, void (*cb)(struct nflog_entry *e, void *ctx), void *ctx,
                         int64_t *last_id);
/* The same, also passing each row's origin (borrowed for the call). */
int store_pg_nflog_since_from(struct store_pg *pg, int64_t after_id, const char *skip_origin,
                              int64_t now_ns,
                              void (*cb)(struct nflog_entry *e, const char *origin, void *ctx),
                              void *ctx, int64_t *last_id);
/* Deletes expired rows and rows superseded by a newer one of the same key. */
int store_pg_nflog_gc(struct store_pg *pg, int64_t now_ns);

/* Publication (src/ha_sync.c): rows gathered into one statement, each appended as row
 * origin_seq (its local id) of origin unless (origin, origin_seq) is already there. No
 * NOTIFY per row: the publisher calls store_pg_nflog_announce once per transaction (a NOTIFY
 * per row cost PostgreSQL a queue entry and every listener a wake-up per notification in a
 * fan-out). */
struct store_pg_nflog_batch {
    size_t count;
    struct buf col[9]; /* one array literal per column (store_pg_nflog.c) */
};
void store_pg_nflog_batch_init(struct store_pg_nflog_batch *b);
void store_pg_nflog_batch_add(struct store_pg_nflog_batch *b, const struct nflog_entry *e,
                              int64_t origin_seq);
/* Inserts the gathered rows as origin's (none: AR_OK at once) and empties b. */
int store_pg_nflog_batch_publish(struct store_pg *pg, struct store_pg_nflog_batch *b,
                                 const char *origin);
void store_pg_nflog_batch_cleanup(struct store_pg_nflog_batch *b);
/* NOTIFY on STORE_PG_NFLOG_CHANNEL, delivered when the caller's transaction commits. */
int store_pg_nflog_announce(struct store_pg *pg);

#endif

/* The local side of replication on PostgreSQL (docs/ha.md, "Replication of silences and
 * the notification log"): a read-only SQLite connection of its own to <dir>/alertrouter.db
 * (WAL: it reads beside the writer, never blocking it) through which the publisher
 * (src/ha_sync.c) finds this instance's own silence events and notification log rows
 * (origin NULL, migrations/0013_origin.sql) that PostgreSQL has not got yet. The local
 * database is the outage spool: nothing is copied elsewhere. */
#ifndef AR_STORE_REPLICA_H
#define AR_STORE_REPLICA_H

#include "ar/silence_record.h"
#include "ar/store_nflog.h"

struct store_replica;

int store_replica_open(const char *dir, struct store_replica **out, struct ar_error *err);
void store_replica_close(struct store_replica *r); /* accepts NULL */

/* This instance's silence events with seq > after, oldest first, at most limit: cb(seq,
 * event, at_ns, s, ctx) with s borrowed for the call; cb returning non-zero stops (its value
 * is returned). *n gets the rows passed to cb. Otherwise AR_OK or AR_EDB. */
int store_replica_silences(struct store_replica *r, int64_t after, int limit,
                           int (*cb)(int64_t seq, const char *event, int64_t at_ns,
                                     const struct silence *s, void *ctx),
                           void *ctx, size_t *n);
/* The same for this instance's notification log rows with id > after (e borrowed). */
int store_replica_nflog(struct store_replica *r, int64_t after, int limit,
                        int (*cb)(int64_t id, const struct nflog_entry *e, void *ctx), void *ctx,
                        size_t *n);
/* Own rows after the two cursors, not yet published: alertrouter_storage_queued_writes.
 * -1 on error. */
int64_t store_replica_pending(struct store_replica *r, int64_t silences_after, int64_t nflog_after);

#endif

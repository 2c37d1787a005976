/* Silences in PostgreSQL (migrations/pg/0001_base.sql, docs/ha.md section 4): the same
 * append-only silence_events as SQLite's, each row stamped with the instance that wrote it
 * (origin) and announced with NOTIFY on STORE_PG_SILENCES_CHANNEL in the same statement,
 * so a listener is woken only once the row is committed and readable. */
#ifndef AR_STORE_PG_SILENCES_H
#define AR_STORE_PG_SILENCES_H

#include "ar/silence_record.h"
#include "ar/store_pg.h"

#define STORE_PG_SILENCES_CHANNEL "ar_silences"

/* Appends s as it is after the change (event "created", "updated" or "expired") and
 * notifies the channel with the row's seq; *seq_out (may be NULL) gets that seq. */
int store_pg_silence_append(struct store_pg *pg, const struct silence *s, const char *event,
                            int64_t at_ns, const char *origin, int64_t *seq_out);
/* Calls cb(silence, ctx) for every row with seq > after_seq written by another origin than
 * skip_origin (NULL: none skipped), in seq order (a silence's latest version comes last, so
 * an upsert by id ends in its current state); cb takes ownership. *last_seq gets the
 * highest seq read (after_seq when none), including skipped rows. This is both the
 * catch-up after a NOTIFY and the 1 s fallback poll. */
int store_pg_silences_since(struct store_pg *pg, int64_t after_seq, const char *skip_origin,
                            void (*cb)(struct silence *s, void *ctx), void *ctx, int64_t *last_seq);

/* The same, also passing each row's origin (borrowed for the call). */
int store_pg_silences_since_from(struct store_pg *pg, int64_t after_seq, const char *skip_origin,
                                 void (*cb)(struct silence *s, const char *origin, void *ctx),
                                 void *ctx, int64_t *last_seq);
/* Publication (src/ha_sync.c): appends s as the row origin_seq (its local seq) of origin,
 * with its NOTIFY, unless (origin, origin_seq) is already there (a retried batch whose
 * commit answer was lost): then nothing happens and AR_OK is returned. */
int store_pg_silence_publish(struct store_pg *pg, const struct silence *s, const char *event,
                             int64_t at_ns, const char *origin, int64_t origin_seq);
/* The publication cursor: the highest origin_seq of origin's rows in table
 * ("silence_events" or "nflog"; 0 when none). */
int store_pg_max_origin_seq(struct store_pg *pg, const char *table, const char *origin,
                            int64_t *out);

#endif

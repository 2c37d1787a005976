/* Silence persistence (migrations/0002_silences.sql): the SQL behind silence.c. Every
 * change appends the whole silence to silence_events; loading takes each id's latest row;
 * garbage collection deletes an id's rows. Runs on whichever thread owns the store at the
 * time (main at start, the writer thread afterwards). */
#ifndef AR_STORE_SILENCES_H
#define AR_STORE_SILENCES_H

#include "ar/silence_record.h"
#include "ar/store.h"

struct buf;
struct sqlite3_stmt;

/* Appends s as it is after the change; event is "created", "updated" or "expired". The
 * row is this instance's own (origin NULL: published in PostgreSQL mode, ar/ha_sync.h). */
int store_silence_append(struct store *st, const struct silence *s, const char *event,
                         int64_t at_ns);
/* The same with the row's origin: NULL for this instance, else the peer name of the
 * instance that made the change (received from PostgreSQL, never published again). */
int store_silence_append_from(struct store *st, const struct silence *s, const char *event,
                              int64_t at_ns, const char *origin);
/* Deletes every event of id (GC). */
int store_silence_delete(struct store *st, const char *id);
/* Calls cb(silence, ctx) with the latest version of each stored silence, in order of first
 * creation; cb takes ownership. Rows whose matchers no longer compile are skipped with a
 * warning. Returns AR_OK or AR_EDB. */
int store_load_silences(struct store *st, void (*cb)(struct silence *s, void *ctx), void *ctx);

/* The matchers column's JSON (an array of {"name","op","value"} in posted order), shared
 * with the PostgreSQL store (store_pg_silences.c). from_json appends to out. */
void store_silence_matchers_to_json(const struct matcher_list *l, struct buf *b);
int store_silence_matchers_from_json(const char *text, struct matcher_list *out,
                                     struct ar_error *err);
/* A silence from a local row whose columns first.. are id, matchers, starts_at, starts_off,
 * ends_at, ends_off, updated_at, created_by, comment (shared with store_replica.c). Always a
 * silence (the caller frees it); AR_EINVAL in *rc with err set, and only its id read, when
 * its matchers do not parse. */
struct silence *store_silence_from_row(struct sqlite3_stmt *q, int first, int *rc,
                                       struct ar_error *err);

#endif

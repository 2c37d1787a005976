/* SQL of the notification log (part of the storage module; see store.h), and the record it
 * stores, which the notification log (nflog.h) keeps in memory. */
#ifndef AR_STORE_NFLOG_H
#define AR_STORE_NFLOG_H

#include "ar/common.h"

struct buf;
struct store;

/* One row: per (receiver, integration, group key) the last successful send. */
struct nflog_entry {
    char *key;
    char *receiver;
    char *integration;
    char *group_key;
    int64_t sent_at;  /* ns */
    uint64_t *firing; /* sorted fingerprints */
    size_t nfiring;
    uint64_t *resolved; /* sorted */
    size_t nresolved;
    int64_t expires_at; /* ns */
};

/* Appends one entry this instance recorded (origin NULL, to be published in PostgreSQL
 * mode, ar/ha_sync.h). */
int store_nflog_append(struct store *st, const struct nflog_entry *e);
/* The same with the row's origin: NULL for this instance, else the peer name of the
 * instance that sent it (a row received from PostgreSQL, never published again). */
int store_nflog_append_from(struct store *st, const struct nflog_entry *e, const char *origin);
/* Calls cb for the newest row of every key not expired at now_ns (cb takes ownership). */
int store_nflog_load(struct store *st, int64_t now_ns, void (*cb)(struct nflog_entry *e, void *ctx),
                     void *ctx);
/* Deletes expired rows and rows superseded by a newer one of the same key. */
int store_nflog_gc(struct store *st, int64_t now_ns);
void nflog_entry_free(struct nflog_entry *e); /* accepts NULL */

/* A fingerprint set as the firing/resolved columns hold it (space-separated 16-digit hex, in
 * the given order), replacing b's contents; shared with the PostgreSQL store and the flush
 * claim's state hash. parse_set reads it back (stops at the first malformed item) into a
 * fresh array *out (NULL when empty) and returns its length. */
void store_nflog_format_set(struct buf *b, const uint64_t *v, size_t n);
size_t store_nflog_parse_set(const char *s, uint64_t **out);

#endif

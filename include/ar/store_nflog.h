/* SQL of the notification log (part of the storage module; see store.h). */
#ifndef AR_STORE_NFLOG_H
#define AR_STORE_NFLOG_H

#include "ar/nflog.h"

/* Appends one entry. */
int store_nflog_append(struct store *st, const struct nflog_entry *e);
/* Calls cb for the newest row of every key not expired at now_ns (cb takes ownership). */
int store_nflog_load(struct store *st, int64_t now_ns,
                     void (*cb)(struct nflog_entry *e, void *ctx), void *ctx);
/* Deletes expired rows and rows superseded by a newer one of the same key. */
int store_nflog_gc(struct store *st, int64_t now_ns);
void nflog_entry_free(struct nflog_entry *e);

#endif

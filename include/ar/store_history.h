/* Reading the alert history (migrations/0009_history_blocks.sql): blocks of JSON lines, one
 * per transaction, zstd-compressed. The writer side is store_add_alert_event (ar/store.h).
 * Part of the storage module; reads use a read-only connection of their own, never the
 * writer's. */
#ifndef AR_STORE_HISTORY_H
#define AR_STORE_HISTORY_H

#include "ar/common.h"

/* Called with each event line (without its newline) of the blocks that overlap
 * [from_ns, to_ns], oldest block first; return false to stop. Lines of a block that fall
 * outside the window are passed too: the caller filters by "at". */
typedef bool (*store_history_fn)(const char *line, size_t len, void *ctx);

/* Reads <dir>/alertrouter.db. AR_OK, AR_EDB (database), AR_EIO (a block does not decode). */
int store_history_read(const char *dir, int64_t from_ns, int64_t to_ns, store_history_fn fn,
                       void *ctx);

#endif

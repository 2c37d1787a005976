/* WAL checkpoints on a thread of their own (private to store.c; see store_checkpoint.c). */
#ifndef AR_STORE_CHECKPOINT_H
#define AR_STORE_CHECKPOINT_H

#include "ar/common.h"

#include <sqlite3.h>

struct store_checkpointer;

/* Takes over writer's checkpoints: after a commit leaves threshold pages or more in the
 * WAL, a thread with its own connection to path copies them into the database. NULL (and
 * writer keeps SQLite's automatic checkpoints) if that connection or thread cannot start. */
struct store_checkpointer *store_checkpointer_start(const char *path, sqlite3 *writer,
                                                    int threshold);
/* Stops the thread and closes its connection (before writer is closed); NULL is fine. */
void store_checkpointer_stop(struct store_checkpointer *cp);

#endif

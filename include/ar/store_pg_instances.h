/* The table of live instances in PostgreSQL (migrations/pg/0002_cluster.sql, docs/ha.md
 * section 2): each instance upserts its row at start and every few seconds; the peers shown
 * in /api/v2/status (COMPAT 1.7) are the rows whose heartbeat is recent by the server's
 * clock. */
#ifndef AR_STORE_PG_INSTANCES_H
#define AR_STORE_PG_INSTANCES_H

#include "ar/store_pg.h"

#include <stddef.h>

struct store_pg_peer {
    char name[64];
    char address[300];
};

/* Inserts or refreshes this instance's row: heartbeat = now(); started_at is kept from the
 * first call of this process (fresh_start true resets it). */
int store_pg_instance_beat(struct store_pg *pg, const char *name, const char *address,
                           const char *api_url, const char *version, bool fresh_start);
/* Deletes this instance's row (a clean shutdown): the others stop listing it at their next
 * heartbeat instead of after the live age. */
int store_pg_instance_leave(struct store_pg *pg, const char *name);
/* The instances whose heartbeat is younger than max_age_ms, sorted by name (as
 * Alertmanager sorts peers), at most cap into out; *n gets how many were written. */
int store_pg_instances_live(struct store_pg *pg, int64_t max_age_ms, struct store_pg_peer *out,
                            size_t cap, size_t *n);

#endif

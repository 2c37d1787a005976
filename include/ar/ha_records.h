/* Records shared through PostgreSQL (issue 14, docs/ha.md "Incidents, acknowledgements,
 * notes, audit, deliveries and history"): one thread per instance, with its own PostgreSQL
 * connections, that
 *  - publishes the rows this instance wrote to its local SQLite store (audit log,
 *    deliveries and their attempts, history blocks, incidents with their timelines and
 *    notes) to the shared tables of migrations/pg/0005, each row with origin (the peer
 *    name) and origin_seq (its local id), resuming after max(origin_seq) of its own origin
 *    on every (re)connect: the local store is the outage spool;
 *  - applies the acknowledgements and notes written on other instances (LISTEN on
 *    ar_records, plus a poll every second) to the local incident of the same episode
 *    (incident_cluster_key) through core_call, persisting them marked with their origin
 *    (migrations/0014) so they are never published back.
 * Neither the core thread nor the writer waits on PostgreSQL. */
#ifndef AR_HA_RECORDS_H
#define AR_HA_RECORDS_H

#include "ar/common.h"

struct core;
struct ha_records;

struct ha_records_options {
    const char *conninfo;     /* --storage.url */
    const char *password;     /* NULL: libpq's own sources */
    const char *name;         /* this instance's peer name (origin of its rows) */
    const char *storage_path; /* the local SQLite store's directory */
    struct core *core;
};

/* Starts the thread (it connects, and reconnects with backoff, on its own). */
int ha_records_start(const struct ha_records_options *o, struct ha_records **out,
                     struct ar_error *err);
/* Stops and joins the thread; accepts NULL. Call before core_stop. */
void ha_records_stop(struct ha_records *h);

#endif

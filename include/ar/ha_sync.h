/* Replication and membership on PostgreSQL (docs/ha.md, "Replication of silences and the
 * notification log" and "Membership"; issue 14). In PostgreSQL mode every instance keeps
 * its local SQLite store; this module shares what must be the same everywhere:
 *
 * - the publisher thread pushes this instance's own silence events and notification log
 *   rows (origin NULL locally) to PostgreSQL as (origin = peer name, origin_seq = local
 *   seq/id), idempotently; on every (re)connect its cursor is max(origin_seq) of its own
 *   origin there, so the local database is the outage spool. A local commit of such a row
 *   wakes it (store_set_commit_hook), so propagation takes one round trip, not a poll;
 * - the subscriber thread LISTENs on ar_silences and ar_nflog (plus a 1 s poll by seq),
 *   applies other instances' rows to the running core (core_call: silence_set_merge,
 *   nflog_merge) and keeps them locally with their origin;
 * - the membership thread (src/ha_members.c) beats every 5 s in the instances table and
 *   reads the live peers for /api/v2/status and the metrics.
 *
 * Every thread has its own connections (statement_timeout 2 s), reconnects with backoff
 * (1 s doubling to 10 s) and reports each round trip to pg_health (ar/pg_health.h). None of
 * them ever blocks the core or the writer thread. */
#ifndef AR_HA_SYNC_H
#define AR_HA_SYNC_H

#include "ar/common.h"
#include "ar/store_pg_instances.h"

#include <stddef.h>
#include <stdint.h>

struct core;
struct store;

struct ha_sync_options {
    const char *conninfo;     /* --storage.url */
    const char *password;     /* --storage.password-file's, or NULL (libpq: PGPASSWORD) */
    const char *name;         /* this instance's peer name (ULID) */
    const char *address;      /* advertised in the instances table */
    const char *api_url;      /* --web.external-url */
    const char *storage_path; /* --storage.path: the local database the publisher reads */
    int64_t retention_ns;     /* --data.retention: older expired silences are not applied */
};

struct ha_sync;

/* Copies opt; starts nothing. */
struct ha_sync *ha_sync_new(const struct ha_sync_options *opt);
/* Starts the publisher, subscriber and membership threads on core (started) and st (its
 * store, for the commit hook). */
int ha_sync_start(struct ha_sync *h, struct core *c, struct store *st, struct ar_error *err);
/* Stops and joins the threads (before core_stop: the subscriber calls into the core).
 * Rows committed afterwards are published at the next start. */
void ha_sync_stop(struct ha_sync *h);
/* After core_stop (the store's commit hook may still fire until then). Accepts NULL. */
void ha_sync_free(struct ha_sync *h);

/* For /api/v2/status, /-/ready and /metrics (any thread). */
struct ha_sync_view {
    int64_t queued_writes; /* own rows not yet published (-1 unknown) */
    uint64_t applied;      /* rows of other instances applied here */
    size_t npeers;         /* live peers, this instance included */
    bool peers_known;      /* a heartbeat round trip succeeded at least once */
};
void ha_sync_get(struct ha_sync *h, struct ha_sync_view *out);
/* The live peers (the last ones known while PostgreSQL is down), sorted by name; at most
 * cap into out; returns how many. */
size_t ha_sync_peers(struct ha_sync *h, struct store_pg_peer *out, size_t cap);

/* ---- shared by src/ha_sync.c and src/ha_members.c ---- */
#define HA_SYNC_MAX_PEERS 16
/* Interruptible sleep: false when stopping. */
bool ha_sync_sleep(struct ha_sync *h, int64_t ms);
/* Opens a connection for `who` with statement_timeout; reports failures to pg_health. */
struct store_pg *ha_sync_connect(struct ha_sync *h, const char *who);
/* Closes pg after a failed round trip and reports it (libpq's reason), unless the
 * connection was found already lost (e.g. a server restart while it was idle): then it
 * returns true and the caller reconnects at once, reporting that attempt instead. */
bool ha_sync_drop(struct store_pg **pg, const char *who);
/* The membership thread's body (src/ha_members.c). */
void *ha_members_main(void *arg);

#endif

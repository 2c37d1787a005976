/* The notification log (COMPAT 5.7): per (receiver, integration, group key) the time of the
 * last successful send and the firing/resolved alerts it carried, and the dedup rule that
 * decides whether a flush must notify. Owned by the core thread; persisted as appended rows
 * (store_nflog.c) so a restart neither resends nor forgets. */
#ifndef AR_NFLOG_H
#define AR_NFLOG_H

#include "ar/common.h"
#include "ar/store_nflog.h" /* struct nflog_entry, the stored record */

struct store;
struct txn;

struct nflog;

struct nflog *nflog_new(void);
void nflog_free(struct nflog *l); /* accepts NULL */
int nflog_load(struct nflog *l, struct store *st, int64_t now_ns);
/* Builds the key "<receiver>/<integration>/<group key>" into a new string. */
char *nflog_key(const char *receiver, const char *integration, const char *group_key);
/* The entry the dedup rule must see for key: a claim in force, else the last send. */
const struct nflog_entry *nflog_find(const struct nflog *l, const char *key);
/* Records a successful send (arrays are copied and sorted) and queues its persistence in
 * txn. */
void nflog_record(struct nflog *l, const char *receiver, const char *integration,
                  const char *group_key, int64_t now_ns, const uint64_t *firing, size_t nfiring,
                  const uint64_t *resolved, size_t nresolved, int64_t expires_at, struct txn *txn);
/* The origin of a row recorded from the cluster's claim table (nflog_record_claimed). */
#define NFLOG_ORIGIN_CLAIM "claim"
/* PostgreSQL mode: records a send the cluster's claim table says was made (a claim lost as
 * done, ar/ha_claims.h), like nflog_record but kept with origin NFLOG_ORIGIN_CLAIM: never
 * published, since every instance that lost the claim records it itself. */
void nflog_record_claimed(struct nflog *l, const char *receiver, const char *integration,
                          const char *group_key, int64_t now_ns, const uint64_t *firing,
                          size_t nfiring, const uint64_t *resolved, size_t nresolved,
                          int64_t expires_at, struct txn *txn);
/* Replication (ar/ha_sync.h): takes e, a send another instance (origin, its peer name)
 * recorded, so the dedup rule (COMPAT 5.7) sees the cluster's sends: kept when it is newer
 * (sent_at) than the entry of its key, and queued on txn with its origin (kept across a
 * restart, never published again); else dropped. Returns true when kept. */
bool nflog_merge(struct nflog *l, struct nflog_entry *e, const char *origin, struct txn *txn);
/* A delivery resumed after a restart is on its way again. Until it completes, nflog_find
 * answers for its key with a claim holding the delivery's firing/resolved sets as if they
 * had been sent at flushed_at, so the rebuilt group does not send the same state a second
 * time (COMPAT 5.9), while a real change still notifies. Memory only: the claim is not a
 * send, and a restart during the resumed send resumes it again. */
void nflog_claim(struct nflog *l, const char *receiver, const char *integration,
                 const char *group_key, int64_t flushed_at, const uint64_t *firing, size_t nfiring,
                 const uint64_t *resolved, size_t nresolved, int64_t expires_at);
/* Ends the claim made with this flushed_at, when its delivery completed either way (a
 * later claim for the same key stays). After a failure the group's next tick sends. */
void nflog_unclaim(struct nflog *l, const char *receiver, const char *integration,
                   const char *group_key, int64_t flushed_at);
/* Drops expired entries (memory and storage). */
void nflog_gc(struct nflog *l, int64_t now_ns, struct txn *txn);
size_t nflog_count(const struct nflog *l);

/* COMPAT 5.7 dedup: true when a flush with these sorted firing/resolved sets must notify. */
bool nflog_needs_send(const struct nflog_entry *e, const uint64_t *firing, size_t nfiring,
                      const uint64_t *resolved, size_t nresolved, bool send_resolved,
                      int64_t now_ns, int64_t repeat_interval_ns);

#endif

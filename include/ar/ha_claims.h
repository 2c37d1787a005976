/* The flush claim in the pipeline (issue 14, docs/ha.md "The flush claim in the pipeline"):
 * in PostgreSQL mode a notification that a flush decided to send is first claimed in the
 * shared flush_claims table, so that one instance of the cluster sends it. The claimer
 * thread owns its own PostgreSQL connection: the core hands it requests (never waiting),
 * it claims them in batches (one statement per round trip, however many flushes are
 * queued) and calls each request's decided() back on its own thread. It also marks claims
 * done once delivered, renews this instance's open leases every lease/3 while deliveries
 * are on their way, and, when PostgreSQL is unreachable, answers "unclaimed" at once (send:
 * a possible duplicate, never a loss), remembers those sends (bounded) and records them as
 * done claims when the database is back. */
#ifndef AR_HA_CLAIMS_H
#define AR_HA_CLAIMS_H

#include "ar/common.h"

#include <stdint.h>

#define HA_CLAIM_HASH_LEN 32 /* SHA-256, as STORE_PG_STATE_HASH_LEN */

enum ha_claim_result {
    HA_CLAIM_WON,       /* inserted, re-claimed after the repeat interval, or this instance's
                         * own unfinished claim (a delivery resumed after a restart): send */
    HA_CLAIM_TAKEOVER,  /* the previous owner's lease ran out before it was done: send */
    HA_CLAIM_UNCLAIMED, /* PostgreSQL failed or is down: send anyway */
    HA_CLAIM_LOST,      /* another instance holds a live claim: skip, retry next flush */
    HA_CLAIM_LOST_DONE, /* another instance sent this state within the repeat interval: skip */
};
#define HA_CLAIM_RESULTS 5

/* The result's metric label: won, takeover, unclaimed, lost (both LOST kinds). */
const char *ha_claim_result_name(enum ha_claim_result r);
/* True for the results that send. */
bool ha_claim_sends(enum ha_claim_result r);

/* One claim. The caller allocates it (usually embedded in its own continuation), fills the
 * key, repeat_ms and decided, and keeps it alive until decided() has run; decided is called
 * exactly once, on the claimer thread (or the caller's, after ha_claims_stop). */
struct ha_claim_req {
    struct ha_claim_req *next; /* the claimer's queue */
    const char *receiver;
    const char *integration; /* "webhook[0]" */
    const char *group_key;
    uint8_t state_hash[HA_CLAIM_HASH_LEN];
    int64_t repeat_ms; /* the route's repeat_interval */
    enum ha_claim_result result;
    void (*decided)(struct ha_claim_req *req);
};

/* The state hash of a flush (store_pg_state_hash): firing and resolved fingerprint sets,
 * each sorted ascending, written as the notification log writes them. Pure. */
void ha_claims_state_hash(const uint64_t *firing, size_t nfiring, const uint64_t *resolved,
                          size_t nresolved, uint8_t out[HA_CLAIM_HASH_LEN]);

/* Splits n keys into rounds so that no round holds the same (receiver, integration, group,
 * hash) twice (one INSERT ... ON CONFLICT cannot touch a row twice) and each round has one
 * repeat interval: round[i] gets the round number of v[i]; returns the number of rounds.
 * Pure (tests/unit/test_ha_claims.c). */
size_t ha_claims_plan_rounds(struct ha_claim_req *const *v, size_t n, size_t *round);

struct ha_claims_options {
    const char *conninfo;
    const char *password; /* NULL: libpq's own sources */
    const char *owner;    /* this instance's name */
    int64_t lease_ms;     /* --cluster.claim-lease */
    size_t max_unclaimed; /* remembered unclaimed sends, 0 = 10000 */
};

struct ha_claims;

/* Copies opt; connects lazily on its thread. */
struct ha_claims *ha_claims_new(const struct ha_claims_options *opt);
int ha_claims_start(struct ha_claims *hc);
/* Decides whatever is still queued as unclaimed and joins the thread; later requests are
 * decided unclaimed at once on the caller's thread. */
void ha_claims_stop(struct ha_claims *hc);
void ha_claims_free(struct ha_claims *hc); /* accepts NULL; after ha_claims_stop */

/* Queues req (never blocks on PostgreSQL). */
void ha_claims_submit(struct ha_claims *hc, struct ha_claim_req *req);
/* How a send that ha_claim_sends() allowed ended. */
enum ha_send_outcome {
    HA_SEND_DELIVERED, /* the claim is done (an unclaimed send is remembered for reconciliation) */
    HA_SEND_FAILED,    /* the claim is released: the next instance to flush takes it over */
    HA_SEND_CANCELED,  /* a stop canceled it: the claim stays, its lease running, for the
                        * delivery this instance resumes at its next start (its own unfinished
                        * claim is won again); if it does not come back, another instance
                        * takes it over once the lease has run out */
};
/* Records the outcome of a send. Copies the key. */
void ha_claims_finished(struct ha_claims *hc, const struct ha_claim_req *req,
                        enum ha_send_outcome outcome);

struct ha_claims_stats {
    uint64_t results[HA_CLAIM_RESULTS];
    uint64_t round_trips; /* claim statements run */
    uint64_t reconciled;  /* unclaimed sends recorded as done claims */
    uint64_t renewals;    /* renew statements run */
};
void ha_claims_get_stats(const struct ha_claims *hc, struct ha_claims_stats *out);

#endif

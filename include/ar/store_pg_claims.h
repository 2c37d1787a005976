/* Flush claims (migrations/pg/0002_cluster.sql, docs/ha.md section 3): before an instance
 * sends a notification it claims (receiver, integration, group key, hash of the alerts'
 * state) in one conditional statement; the claim carries a lease so that another instance
 * takes the work over when its owner dies mid-send. Leases and repeat intervals are
 * measured on the server's clock (now()), never the instances'. */
#ifndef AR_STORE_PG_CLAIMS_H
#define AR_STORE_PG_CLAIMS_H

#include "ar/store_pg.h"

#include <stdint.h>

#define STORE_PG_STATE_HASH_LEN 32 /* SHA-256 */

struct store_pg_claim_key {
    const char *receiver;
    const char *integration; /* e.g. "webhook[0]" */
    const char *group_key;
    uint8_t state_hash[STORE_PG_STATE_HASH_LEN];
};

/* The state hash of a flush: SHA-256 of the firing fingerprints, a newline, the resolved
 * ones, each list as the nflog writes it (sorted lowercase hex, space-separated). */
void store_pg_state_hash(const char *firing, const char *resolved,
                         uint8_t out[STORE_PG_STATE_HASH_LEN]);

/* Claims k for owner: *won is true when this call inserted the claim, took over a claim
 * whose lease had expired without being done, re-claimed owner's own unfinished claim (a
 * delivery its previous run left on its way), or re-claimed one done at least repeat_ms ago
 * (the route's repeat_interval); false when another live claim or a recent send holds it.
 * The lease runs lease_ms from now. */
int store_pg_claim(struct store_pg *pg, const struct store_pg_claim_key *k, const char *owner,
                   int64_t lease_ms, int64_t repeat_ms, bool *won);
/* Marks k done by owner (the outcome is recorded); no effect when another owner took it. */
int store_pg_claim_done(struct store_pg *pg, const struct store_pg_claim_key *k, const char *owner);
/* Extends the open claims of owner made since since_ms (Unix ms, the server's clock) whose
 * lease runs out within due_ms, by lease_ms from now (while they retry); *n gets how many
 * (may be NULL). */
int store_pg_claims_renew(struct store_pg *pg, const char *owner, int64_t lease_ms, int64_t due_ms,
                          int64_t since_ms, int64_t *n);
/* The server's clock, Unix ms (claims are timed by it, not by the instances' clocks). */
int store_pg_claims_now_ms(struct store_pg *pg, int64_t *ms);

/* Batches (ar/ha_claims.h): one statement for n keys, the keys given in one order on every
 * instance (sorted) so that concurrent batches lock rows in the same order. No key may
 * appear twice in one batch. */
enum store_pg_claim_outcome {
    STORE_PG_CLAIM_LOST,      /* a live claim of another instance holds it */
    STORE_PG_CLAIM_LOST_DONE, /* sent by someone less than repeat_ms ago */
    STORE_PG_CLAIM_WON,       /* inserted, re-claimed after the repeat interval, or own */
    STORE_PG_CLAIM_TAKEOVER,  /* taken from an owner whose lease expired before done */
};
/* Claims every key as store_pg_claim does; out[i] gets the outcome of keys[i]. */
int store_pg_claim_batch(struct store_pg *pg, const struct store_pg_claim_key *keys, size_t n,
                         const char *owner, int64_t lease_ms, int64_t repeat_ms,
                         enum store_pg_claim_outcome *out);
/* done: marks owner's open claims of keys done. Otherwise releases them (lease_until = now:
 * the next instance to flush takes them over); a send canceled by a stop is neither (the
 * claim stays for the resumed delivery). */
int store_pg_claims_finish_batch(struct store_pg *pg, const struct store_pg_claim_key *keys,
                                 size_t n, const char *owner, bool done);
/* Records sends made without a claim (PostgreSQL was down) as claims done at sent_ms[i]
 * (Unix ms), unless a claim of that key exists; *inserted gets how many (may be NULL). */
int store_pg_claims_insert_done(struct store_pg *pg, const struct store_pg_claim_key *keys,
                                const int64_t *sent_ms, size_t n, const char *owner,
                                int64_t *inserted);

#endif

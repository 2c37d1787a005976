/* Unit tests for the pure parts of the flush claimer (ar/ha_claims.h): the state hash is the
 * store's SHA-256 of the notification log's text for the two fingerprint sets, and a batch
 * is split into rounds without a key twice in one statement and with one repeat interval
 * per round. */
#include "ar/ha_claims.h"
#include "ar/store_pg_claims.h"
#include "check.h"

#include <string.h>

static void test_state_hash(void)
{
    uint64_t firing[2] = {1, 0xabcdef0123456789ULL};
    uint64_t resolved[1] = {2};
    uint8_t got[HA_CLAIM_HASH_LEN];
    uint8_t want[STORE_PG_STATE_HASH_LEN];

    ha_claims_state_hash(firing, 2, resolved, 1, got);
    store_pg_state_hash("0000000000000001 abcdef0123456789", "0000000000000002", want);
    CHECK(memcmp(got, want, sizeof(got)) == 0);
    /* the same fingerprints on the other side give another hash */
    ha_claims_state_hash(resolved, 1, firing, 2, got);
    CHECK(memcmp(got, want, sizeof(got)) != 0);
    ha_claims_state_hash(NULL, 0, NULL, 0, got);
    store_pg_state_hash("", "", want);
    CHECK(memcmp(got, want, sizeof(got)) == 0);
}

static void req(struct ha_claim_req *r, const char *group, uint8_t h, int64_t repeat_ms)
{
    memset(r, 0, sizeof(*r));
    r->receiver = "team";
    r->integration = "webhook[0]";
    r->group_key = group;
    r->state_hash[0] = h;
    r->repeat_ms = repeat_ms;
}

static void test_rounds(void)
{
    struct ha_claim_req r[6];
    struct ha_claim_req *v[6];
    size_t round[6];

    req(&r[0], "g1", 1, 1000);
    req(&r[1], "g2", 1, 1000);
    req(&r[2], "g1", 1, 1000); /* the same key again: a later round */
    req(&r[3], "g1", 2, 1000); /* another state of g1: same round as r[0] */
    req(&r[4], "g3", 1, 5000); /* another repeat interval: its own round */
    req(&r[5], "g1", 1, 1000); /* a third copy */
    for (int i = 0; i < 6; i++) {
        v[i] = &r[i];
    }
    CHECK_INT(ha_claims_plan_rounds(v, 6, round), 4);
    CHECK_INT(round[0], round[1]);
    CHECK_INT(round[0], round[3]);
    CHECK(round[2] != round[0] && round[5] != round[0] && round[5] != round[2]);
    CHECK(round[4] != round[0] && round[4] != round[2] && round[4] != round[5]);
    /* one repeat interval: one round */
    CHECK_INT(ha_claims_plan_rounds(v, 2, round), 1);
    CHECK_INT(ha_claims_plan_rounds(v, 0, round), 0);
}

static void test_names(void)
{
    CHECK_STR(ha_claim_result_name(HA_CLAIM_WON), "won");
    CHECK_STR(ha_claim_result_name(HA_CLAIM_LOST_DONE), "lost");
    CHECK_STR(ha_claim_result_name(HA_CLAIM_TAKEOVER), "takeover");
    CHECK(ha_claim_sends(HA_CLAIM_UNCLAIMED) && !ha_claim_sends(HA_CLAIM_LOST));
}

int main(void)
{
    test_state_hash();
    test_rounds();
    test_names();
    return CHECK_DONE();
}

/* Unit tests for per-client token buckets: burst, refill over time, clients independent,
 * disabled limiter, many clients in a fixed table. */
#include "ar/ratelimit.h"
#include "check.h"

#include <stdio.h>

#define MS 1000000LL

int main(void)
{
    struct ratelimit *rl = ratelimit_new(10, 3); /* 10/s, burst 3 */
    struct ratelimit *off = ratelimit_new(0, 0);
    int allowed = 0;
    char name[32];

    for (int i = 0; i < 5; i++) {
        allowed += ratelimit_allow(rl, "10.0.0.1", 0);
    }
    CHECK_INT(allowed, 3);                            /* burst */
    CHECK(ratelimit_allow(rl, "10.0.0.2", 0));        /* another client has its own bucket */
    CHECK(!ratelimit_allow(rl, "10.0.0.1", 50 * MS)); /* half a token refilled */
    CHECK(ratelimit_allow(rl, "10.0.0.1", 150 * MS)); /* one token after 100 ms */
    CHECK(!ratelimit_allow(rl, "10.0.0.1", 150 * MS));
    CHECK(ratelimit_allow(rl, "10.0.0.1", 10000 * MS));
    for (int i = 0; i < 100; i++) {
        CHECK(ratelimit_allow(off, "x", 0)); /* disabled */
    }
    /* far more clients than slots: still bounded and working */
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        ratelimit_allow(rl, name, 20000 * MS + i);
    }
    CHECK(ratelimit_allow(rl, "fresh-client", 30000 * MS));
    ratelimit_free(rl);
    ratelimit_free(off);
    return CHECK_DONE();
}

/* Per-client request rate limiting: a token bucket per client address (refill `rate` per
 * second up to `burst`), in a fixed-size table where a new client may evict an idle one.
 * Thread-safe (one mutex; the critical section is a few arithmetic operations). */
#ifndef AR_RATELIMIT_H
#define AR_RATELIMIT_H

#include "ar/common.h"

struct ratelimit;

/* rate <= 0 disables limiting (ratelimit_allow always true). */
struct ratelimit *ratelimit_new(double rate_per_s, double burst);
void ratelimit_free(struct ratelimit *rl); /* accepts NULL */
/* Takes one token for client at time now_ns (monotonic); false when none is left. */
bool ratelimit_allow(struct ratelimit *rl, const char *client, int64_t now_ns);

#endif

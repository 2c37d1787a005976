/* The health of this instance's link to the shared PostgreSQL store (docs/ha.md §5), one
 * state for the whole process: every thread that talks to PostgreSQL (replication,
 * claims, membership) reports each round trip's outcome here. The first failure after a
 * success logs one error line (masked URL, libpq's reason), the first success after a
 * failure one info line with the outage length; nothing in between, so an outage is two
 * log lines, not one per alert. /-/ready, /api/v2/status and the metrics read it. */
#ifndef AR_PG_HEALTH_H
#define AR_PG_HEALTH_H

#include "ar/common.h"

#include <stdint.h>

struct pg_health_view {
    bool configured;         /* --storage.url given */
    bool up;                 /* the last round trip succeeded */
    int64_t down_since_ns;   /* wall clock of the first failure; 0 while up */
    int64_t outage_total_ns; /* completed outages, summed */
    uint64_t failures;       /* failed round trips, all threads */
    char last_error[256];    /* libpq's reason for the last failure, no secrets */
};

/* Called once at start in PostgreSQL mode; display is the masked URL. */
void pg_health_configure(const char *display);
/* A round trip by `who` (e.g. "sync", "claims") succeeded or failed. started_mono: when the
 * round trip that succeeded began (clock_monotonic_ns); one that began before the link was
 * seen down does not end the outage (its success may be reported after another thread's
 * failure: that would log a recovery and a second outage). */
void pg_health_ok(const char *who, int64_t started_mono);
void pg_health_fail(const char *who, const char *reason);
bool pg_health_up(void);
/* Monotonic time of the last down-to-up transition (0: none yet). A thread whose connection
 * was opened before it and fails now holds a connection the outage broke: it reconnects
 * without reporting a new outage (pg_health_fail would log a second one). */
int64_t pg_health_recovered_mono(void);
void pg_health_get(struct pg_health_view *out);

#endif

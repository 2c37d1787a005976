/* Wall and monotonic clocks behind one switch so unit tests can drive time (ar/clock.h).
 * The fake clock is process-wide and meant for single-threaded tests. */
#include "ar/clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static atomic_bool fake_on;
static _Atomic int64_t fake_wall;
static _Atomic int64_t fake_mono;

int64_t clock_now_ns(void)
{
    struct timespec ts;

    if (atomic_load(&fake_on)) {
        return atomic_load(&fake_wall);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t clock_monotonic_ns(void)
{
    struct timespec ts;

    if (atomic_load(&fake_on)) {
        return atomic_load(&fake_mono);
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void clock_fake_set(int64_t wall_ns, int64_t mono_ns)
{
    atomic_store(&fake_wall, wall_ns);
    atomic_store(&fake_mono, mono_ns);
    atomic_store(&fake_on, true);
}

void clock_fake_clear(void)
{
    atomic_store(&fake_on, false);
}

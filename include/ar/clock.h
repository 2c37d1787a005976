/* The one source of time. Wall-clock time (ns since the Unix epoch) is what the API
 * shows; monotonic time (ns) schedules timers. Tests may install a fake clock. */
#ifndef AR_CLOCK_H
#define AR_CLOCK_H

#include <stdint.h>

#define AR_NS_PER_MS  1000000LL
#define AR_NS_PER_SEC 1000000000LL

int64_t clock_now_ns(void);       /* wall clock */
int64_t clock_monotonic_ns(void); /* monotonic */

/* Fake clock for tests: when set, both functions return fake values. */
void clock_fake_set(int64_t wall_ns, int64_t mono_ns);
void clock_fake_clear(void);

#endif

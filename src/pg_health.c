/* One up/down state for the PostgreSQL link (ar/pg_health.h): a mutex-guarded record and
 * the two transition log lines. */
#include "ar/pg_health.h"

#include "ar/clock.h"
#include "ar/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pg_health_view state = {.up = true};
static char display[512];
static int64_t recovered_mono;
static int64_t down_since_mono;

void pg_health_configure(const char *shown)
{
    pthread_mutex_lock(&lock);
    state.configured = true;
    state.up = true;
    snprintf(display, sizeof(display), "%s", shown != NULL ? shown : "");
    pthread_mutex_unlock(&lock);
}

void pg_health_ok(const char *who, int64_t started_mono)
{
    int64_t now;
    int64_t lasted = 0;
    bool recovered = false;

    pthread_mutex_lock(&lock);
    if (!state.up && started_mono > down_since_mono) {
        now = clock_now_ns();
        lasted = now - state.down_since_ns;
        state.outage_total_ns += lasted;
        state.down_since_ns = 0;
        state.up = true;
        recovered = true;
        recovered_mono = clock_monotonic_ns();
    }
    pthread_mutex_unlock(&lock);
    if (recovered) {
        log_info("store", "PostgreSQL %s reachable again after %.1f s (noticed by %s)", display,
                 (double)lasted / 1e9, who);
    }
}

void pg_health_fail(const char *who, const char *reason)
{
    bool went_down = false;

    pthread_mutex_lock(&lock);
    state.failures++;
    snprintf(state.last_error, sizeof(state.last_error), "%s", reason != NULL ? reason : "");
    if (state.up) {
        state.up = false;
        state.down_since_ns = clock_now_ns();
        down_since_mono = clock_monotonic_ns();
        went_down = true;
    }
    pthread_mutex_unlock(&lock);
    if (went_down) {
        log_error("store",
                  "PostgreSQL %s unreachable (noticed by %s): %s; routing and notifying go on "
                  "from memory, shared writes are queued until it returns",
                  display, who, reason != NULL ? reason : "");
    }
}

bool pg_health_up(void)
{
    bool up;

    pthread_mutex_lock(&lock);
    up = state.up;
    pthread_mutex_unlock(&lock);
    return up;
}

int64_t pg_health_recovered_mono(void)
{
    int64_t v;

    pthread_mutex_lock(&lock);
    v = recovered_mono;
    pthread_mutex_unlock(&lock);
    return v;
}

void pg_health_get(struct pg_health_view *out)
{
    pthread_mutex_lock(&lock);
    *out = state;
    pthread_mutex_unlock(&lock);
}

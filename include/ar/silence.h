/* Silences (COMPAT 1.6, 6.2): the set of silences owned by the core thread, their states,
 * Alertmanager's create/update/expire rules and validation, matching against alerts, and
 * persistence through the store. Every function here runs on the core thread (API handlers
 * reach it through core_call); nothing is locked. */
#ifndef AR_SILENCE_H
#define AR_SILENCE_H

#include "ar/common.h"
#include "ar/labels.h"
#include "ar/matcher.h"

struct store;
struct core_txn;

enum silence_state { SILENCE_PENDING = 0, SILENCE_ACTIVE, SILENCE_EXPIRED };

struct silence {
    char id[37];                 /* UUID v4, lowercase */
    struct matcher_list matchers; /* in the order given */
    int64_t starts_at;           /* ns since epoch */
    int64_t ends_at;
    int64_t updated_at;
    char *created_by;
    char *comment;
};

struct silence_set;

struct silence_set *silence_set_new(void);
void silence_set_free(struct silence_set *set); /* accepts NULL */
/* Loads the stored silences (at start, before the core thread runs). */
int silence_set_load(struct silence_set *set, struct store *st);

enum silence_state silence_state_at(const struct silence *s, int64_t now_ns);
const char *silence_state_name(enum silence_state st); /* "pending", "active", "expired" */

/* Ids of the ACTIVE silences whose matchers all match ls, in a stable order, written to
 * out[0..max) as borrowed pointers valid until the set changes. Returns how many match. */
size_t silence_set_mutes(const struct silence_set *set, const struct labelset *ls,
                         int64_t now_ns, const char **out, size_t max);

/* Drops silences expired for longer than retention_ns, durably (queued on txn). */
void silence_set_gc(struct silence_set *set, int64_t now_ns, int64_t retention_ns,
                    struct core_txn *txn);

/* Counts by state for metrics (alertmanager_silences{state}). */
void silence_set_count(const struct silence_set *set, int64_t now_ns, size_t counts[3]);

/* Changes generation: bumped on every change, so callers can cache mute results. */
uint64_t silence_set_generation(const struct silence_set *set);

#endif

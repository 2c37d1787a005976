/* Silences (COMPAT 1.6, 6.2): the set of silences owned by the core thread, their states,
 * Alertmanager's create/update/expire rules and validation, matching against alerts, and
 * persistence through the store. Every function here runs on the core thread (API handlers
 * reach it through core_call); nothing is locked. */
#ifndef AR_SILENCE_H
#define AR_SILENCE_H

#include "ar/common.h"
#include "ar/labels.h"
#include "ar/matcher.h"
#include "ar/silence_record.h" /* struct silence */

struct store;
struct txn;

enum silence_state { SILENCE_PENDING = 0, SILENCE_ACTIVE, SILENCE_EXPIRED };

/* One matcher of a silence as posted, before validation (COMPAT 1.6). */
struct silence_matcher_spec {
    char *name;
    char *value;
    enum matcher_op op;
};

/* A create/update request as decoded from POST /api/v2/silences. Times are AR_TIME_UNSET
 * when Go's zero time was sent. Owned strings; release with silence_request_cleanup. */
struct silence_request {
    char *id; /* NULL or "" for a new silence */
    struct silence_matcher_spec *matchers;
    size_t nmatchers;
    int64_t starts_at;
    int64_t ends_at;
    int16_t starts_off_min;
    int16_t ends_off_min;
    char *created_by;
    char *comment;
};

void silence_free(struct silence *s); /* accepts NULL */
struct silence *silence_dup(const struct silence *s);
void silence_request_cleanup(struct silence_request *r);

struct silence_set;

struct silence_set *silence_set_new(void);
/* At most max_silences active + pending silences (0 = unlimited); creating one more fails
 * with AR_EINVAL and `exceeded maximum number of silences: N (limit: M)`. */
void silence_set_limit(struct silence_set *set, size_t max_silences);
void silence_set_free(struct silence_set *set); /* accepts NULL */
/* Loads the stored silences (at start, before the core thread runs). */
int silence_set_load(struct silence_set *set, struct store *st);

enum silence_state silence_state_at(const struct silence *s, int64_t now_ns);
const char *silence_state_name(enum silence_state st); /* "pending", "active", "expired" */

/* Ids of the ACTIVE silences whose matchers all match ls, in a stable order, written to
 * out[0..max) as borrowed pointers valid until the set changes. Returns how many match. */
size_t silence_set_mutes(const struct silence_set *set, const struct labelset *ls, int64_t now_ns,
                         const char **out, size_t max);

/* Drops silences expired for longer than retention_ns, durably (queued on txn). */
void silence_set_gc(struct silence_set *set, int64_t now_ns, int64_t retention_ns, struct txn *txn);

/* Counts by state for metrics (alertmanager_silences{state}). */
void silence_set_count(const struct silence_set *set, int64_t now_ns, size_t counts[3]);

/* Creates or updates a silence with Alertmanager 0.25's rules (COMPAT 1.6): an unknown
 * non-empty id gives AR_ENOTFOUND; an existing silence is updated in place when its matchers
 * are identical and the new times are allowed for its state, otherwise it is expired (unless
 * already expired) and a new silence with a fresh UUID is created, its start clamped to now.
 * Validation (label names, regexes, the empty-string rule) happens after that expiry, as
 * upstream, and fails with AR_EINVAL and "silence invalid: ..." in err. The API's own checks
 * (start before end, end not in the past) are the caller's. On success writes the id to
 * out_id and queues the new version on txn. req stays the caller's. */
int silence_set_upsert(struct silence_set *set, const struct silence_request *req, int64_t now_ns,
                       struct txn *txn, char out_id[37], struct ar_error *err);

/* Expires a silence (COMPAT 1.6 DELETE): active -> endsAt = now; pending -> startsAt =
 * endsAt = now; expired -> unchanged. AR_ENOTFOUND for an unknown id. Queues the change. */
int silence_set_expire(struct silence_set *set, const char *id, int64_t now_ns, struct txn *txn);

/* Replication (ar/ha_sync.h): applies s (taken), a silence as another instance (origin,
 * its peer name) last wrote it: added when unknown, replacing ours when its updated_at is
 * later (last writer wins, expiry included: an expiry sets updated_at), else dropped.
 * An applied change is queued on txn with its origin, so it survives a restart and is not
 * published again. No limit applies: the silence is already in force elsewhere. Returns
 * true when applied. */
bool silence_set_merge(struct silence_set *set, struct silence *s, const char *origin,
                       int64_t now_ns, struct txn *txn);
/* Borrowed silence by id, or NULL. */
const struct silence *silence_set_find(const struct silence_set *set, const char *id);
/* Iteration in insertion order: silence_set_at(set, i) for i < silence_set_size(set).
 * Pointers stay valid until the set changes. */
size_t silence_set_size(const struct silence_set *set);
const struct silence *silence_set_at(const struct silence_set *set, size_t i);

/* Changes generation: bumped on every change, so callers can cache mute results. */
uint64_t silence_set_generation(const struct silence_set *set);

#endif

/* Heartbeats (dead-man's switches) configured in the extensions file (ar/config_ext.h): the
 * state of each one and the alerts alertrouter raises for it. Owned and driven by the core
 * thread (core.c) like GC: no locking here.
 *
 * A heartbeat is "seen" when a posted, firing alert matches its matchers. When none has been
 * seen for its timeout (counted from start or from the reconfiguration that added it, so
 * nothing is raised before one timeout has elapsed), heartbeat_set_run emits a firing alert
 *   alertname="AlertrouterHeartbeatMissing", heartbeat="<name>", plus the configured labels,
 * with the configured annotations and `last_seen` (RFC 3339 time, or "never since start"),
 * defaulting `summary` and `description`. Its endsAt is an explicit now + 4 min, renewed every
 * minute while the heartbeat stays missing (as Prometheus renews its alerts), so a stopped
 * alertrouter leaves nothing firing forever. When a matching alert arrives again, or the
 * heartbeat is removed from the configuration, the next run emits the same alert with
 * endsAt = now (resolved). The core ingests what runs emit exactly as posted alerts. */
#ifndef AR_HEARTBEAT_H
#define AR_HEARTBEAT_H

#include "ar/alert.h"
#include "ar/common.h"
#include "ar/config_ext.h"

#define HEARTBEAT_ALERTNAME   "AlertrouterHeartbeatMissing"
#define HEARTBEAT_LABEL       "heartbeat"
#define HEARTBEAT_REFRESH_NS  (60LL * 1000000000LL)      /* renewal of a raised alert */
#define HEARTBEAT_LIFETIME_NS (4 * HEARTBEAT_REFRESH_NS) /* its endsAt ahead of now */

struct heartbeat_set;

struct heartbeat_set *heartbeat_set_new(void);
void heartbeat_set_free(struct heartbeat_set *hs); /* accepts NULL */

/* Applies the heartbeats of ext (NULL: none), keeping the state of those whose name stays;
 * new ones start their timeout at mono_ns. Call heartbeat_set_adopt for every stored alert
 * afterwards, so raised alerts left by a previous run or configuration are taken over or
 * resolved. Holds a reference to ext. */
void heartbeat_set_configure(struct heartbeat_set *hs, struct config_ext *ext, int64_t mono_ns);
/* A stored alert seen after heartbeat_set_configure: a firing heartbeat alert of a configured
 * heartbeat with the same labels becomes that heartbeat's raised alert (renewed at the next
 * run); one of a removed heartbeat, or with other labels, is resolved at the next run. A
 * firing alert matching a heartbeat sets its last-seen time (not its deadline). */
void heartbeat_set_adopt(struct heartbeat_set *hs, struct alert *a, int64_t now_ns);

/* Number of heartbeats configured: the ingest path skips heartbeat_set_observe when 0. */
size_t heartbeat_set_count(const struct heartbeat_set *hs);
/* A posted alert (before its merge), firing at now_ns: each heartbeat it matches is seen. */
void heartbeat_set_observe(struct heartbeat_set *hs, const struct labelset *labels, int64_t now_ns,
                           int64_t mono_ns);
/* Monotonic time of the next heartbeat_set_run with work to do (0: now); INT64_MAX when
 * none. */
int64_t heartbeat_set_next_deadline(const struct heartbeat_set *hs);
/* Emits the alerts due at (now_ns, mono_ns) into *out (a new array of new references, the
 * caller takes both; *out is NULL when none) and returns their number. */
size_t heartbeat_set_run(struct heartbeat_set *hs, int64_t now_ns, int64_t mono_ns,
                         struct alert ***out);

/* For /metrics: per heartbeat, in configuration order. */
struct heartbeat_status {
    char *name;           /* heap */
    int64_t last_seen_ns; /* wall clock; 0 when never seen since start */
    bool missing;         /* its alert is raised */
};
/* A copy of every heartbeat's status (free with heartbeat_status_free). */
size_t heartbeat_set_status(const struct heartbeat_set *hs, struct heartbeat_status **out);
void heartbeat_status_free(struct heartbeat_status *st, size_t n);

#endif

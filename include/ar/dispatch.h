/* The dispatcher (COMPAT 5): routes every alert version into aggregation groups, runs each
 * group's timers (group_wait, group_interval, repeat via the notification log) and its
 * flushes through Alertmanager's per-receiver pipeline: inhibition, active/mute time
 * intervals, silences, then per integration dedup, delivery (by the notifier thread) and
 * set-notifies. Owned by the core thread; rebuilt from the alert store on reload. Group
 * timers live in a binary heap, so the next deadline is O(1) and a re-arm O(log groups). */
#ifndef AR_DISPATCH_H
#define AR_DISPATCH_H

#include "ar/alert.h"
#include "ar/buf.h"
#include "ar/config.h"
#include "ar/notify.h"

struct txn;
struct nflog;
struct silence_set;
struct inhibitor;
struct incident_set;
struct dispatcher;
struct send_ctx;

struct dispatch_metrics;
struct ha_claims;
struct claim_wait;

struct dispatch_env {
    struct notifier *notifier;
    struct dispatch_metrics *metrics; /* counters, owned by the caller (survive reloads) */
    struct nflog *nflog;              /* survives reloads */
    struct silence_set *silences;
    struct inhibitor *inhibitor;    /* for the config of this dispatcher */
    struct incident_set *incidents; /* ar/incident.h, survives reloads; NULL: none kept */
    const char *external_url;
    int64_t retention_ns; /* nflog entries expire after min(this, 2 x repeat) */
    /* Called on the notifier thread when a send completes; must hand (sc, res) back to the
     * core thread, which then calls dispatcher_send_done. */
    void (*send_done)(void *ctx, struct send_ctx *sc, const struct notify_result *res);
    void *send_done_ctx;
    /* Optional: called on the notifier thread (with send_done_ctx) after a failed attempt of
     * an outbox delivery that will be retried (notify_job.retrying); must hand (delivery_id,
     * res) to the core thread, which then calls dispatcher_send_retry. */
    void (*send_retry)(void *ctx, int64_t delivery_id, const struct notify_result *res);
    /* Hands a job to delivery; NULL means notifier_submit(notifier, job). Tests capture jobs
     * here and complete them by calling job->done themselves. */
    void (*submit)(void *ctx, struct notify_job *job);
    void *submit_ctx;
    /* Durable outbox (ar/outbox.h): next deliveries id, owned by the caller; NULL keeps no
     * outbox (every send is still delivered, nothing is recorded). */
    int64_t *next_delivery_id;
    /* Deadline of each delivery; 0 = COMPAT 5.8 max(group_interval, 10s) (re-submitted
     * stored deliveries: 10s). */
    int64_t deadline_ns;
    /* PostgreSQL mode (ar/ha_claims.h): a send that passed dedup is claimed first, on the
     * claimer thread; NULL sends at once. claim_decided is called on the claimer thread
     * (with send_done_ctx) and must hand cw to the core thread, which then calls
     * dispatcher_claim_decided. */
    struct ha_claims *claims;
    void (*claim_decided)(void *ctx, struct claim_wait *cw);
};

struct dispatcher *dispatcher_new(struct config *cfg, const struct dispatch_env *env);
/* Frees every group; sends still in flight complete harmlessly later. */
void dispatcher_free(struct dispatcher *d);

/* Routes the current version of an alert into its groups (now: wall and monotonic). */
void dispatcher_put(struct dispatcher *d, struct alert *a, int64_t now_wall, int64_t now_mono);
/* Monotonic time of the next due group timer, or INT64_MAX. */
int64_t dispatcher_next_deadline(const struct dispatcher *d);
/* Flushes every group whose timer is due; also sweeps empty groups every 30 s. */
void dispatcher_run(struct dispatcher *d, int64_t now_wall, int64_t now_mono, struct txn *txn);
/* Completion of one send (core thread). d is the current dispatcher, possibly not the one
 * that started the send (after a reload). Frees sc. */
void dispatcher_send_done(struct dispatcher *d, struct send_ctx *sc,
                          const struct notify_result *res, struct txn *txn);

/* The claim of a send was decided (core thread, PostgreSQL mode): won, taken over or
 * unclaimed: the pending outbox row and the job go out as without claims; lost: nothing
 * is sent, nothing recorded in the notification log, and a claim held live by another
 * instance leaves the group's resolved alerts in place so that its next flush claims
 * again (and takes over should the owner die before it is done). Frees cw. */
void dispatcher_claim_decided(struct dispatcher *d, struct claim_wait *cw, struct txn *txn);

/* A failed attempt of delivery delivery_id that the notifier retries (core thread): appends
 * its 'retry' event to delivery_log, in txn. */
void dispatcher_send_retry(int64_t delivery_id, const struct notify_result *res, struct txn *txn);

/* Re-submits a stored delivery (ar/outbox.h) to the integration of that name in the
 * current configuration, with a fresh deadline; its completion comes back through
 * dispatcher_send_done like any other and updates the row. record_nflog (resume after a
 * restart): the notification log holds a claim with the stored firing/resolved sets while
 * the send is on its way, and records them on success, so the rebuilt group does not send
 * the same state again (nflog_claim). AR_OK; AR_ENOTFOUND when the receiver or integration no
 * longer exists, AR_EINVAL for an unreadable payload (err says which). */
int dispatcher_resubmit(struct dispatcher *d, int64_t id, const char *receiver,
                        const char *integration, const char *group_key, const char *payload,
                        bool record_nflog, struct ar_error *err);

size_t dispatcher_group_count(const struct dispatcher *d);
/* True when a group of that receiver and group key exists and its receiver has integrations
 * (the incidents' orphan check: groups of a receiver without any have no incidents). */
bool dispatcher_has_group(const struct dispatcher *d, const char *receiver, const char *group_key);

/* Counters for alertmanager_notifications_total / _failed_total (per integration type). */
struct dispatch_metrics {
    uint64_t notifications[INTEGRATION_TYPE_COUNT];
    uint64_t notifications_failed[INTEGRATION_TYPE_COUNT];
};
const struct dispatch_metrics *dispatcher_metrics(const struct dispatcher *d);

/* Non-empty aggregation groups as GET /api/v2/alerts/groups lists them (COMPAT 1.5):
 * ordered by group labels (label-set order), ties by receiver; each group's alerts in
 * COMPAT 2.7 order. Built on the core thread with a handful of allocations: the alerts are
 * references, each group's labels and receiver are already serialised JSON, and the group
 * order is kept between calls until a group is created or removed. */
struct group_snap {
    size_t first; /* index of the group's first alert in alerts[] */
    size_t nalerts;
    size_t receiver_off; /* in text: the receiver name, NUL-terminated */
    size_t tail_off;     /* in text: `],"labels":{...},"receiver":{"name":"..."}}` */
    size_t tail_len;
};
struct groups_snapshot {
    struct group_snap *groups;
    size_t ngroups;
    struct alert **alerts; /* references */
    size_t nalerts;
    struct buf text;
};
void dispatcher_groups_snapshot(struct dispatcher *d, struct groups_snapshot *out);
void groups_snapshot_cleanup(struct groups_snapshot *s);

/* Go-quoted group key for the labels (COMPAT 5.2), appended to out. */
void dispatch_format_group_key(const char *route_key, const struct labelset *group_labels,
                               struct buf *out);
/* COMPAT 2.7 order of alerts inside notifications and groups. */
void dispatch_sort_alerts(struct alert **v, size_t n);

#endif

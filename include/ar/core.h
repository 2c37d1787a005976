/* The core: the one thread that owns alert state and schedules the work on it. HTTP
 * threads hand work to the core through a queue and wait on a completion; the core merges,
 * then passes the resulting rows to the writer thread (ar/txn.h), which commits everything
 * queued in one transaction (group commit) and only then completes the waiting requests,
 * so a 200 always means "in the database". */
#ifndef AR_CORE_H
#define AR_CORE_H

#include "ar/alert.h"
#include "ar/config.h"
#include "ar/store.h"
#include "ar/txn.h"

struct core;

struct notifier;
struct ha_claims;

struct core_options {
    int64_t gc_interval_ns;          /* --alerts.gc-interval: resolved alerts are deleted */
    struct notifier *notifier;       /* delivers notifications; NULL: groups never flush */
    const char *external_url;        /* shown in notifications */
    int64_t retention_ns;            /* --data.retention: expired silences, nflog entries */
    int64_t history_retention_ns;    /* --history.retention: history blocks, finished deliveries */
    int64_t maintenance_interval_ns; /* --data.maintenance-interval */
    size_t max_silences;             /* --silences.max-silences, 0 = unlimited */
    int64_t notify_deadline_ns;      /* --notify.deadline, 0 = max(group_interval, 10s) */
    int64_t max_bytes;               /* --storage.max-bytes, 0 = no cap (store_prune_to_cap) */
    struct ha_claims *claims;        /* PostgreSQL mode: flush claims (ar/ha_claims.h), or NULL */
};

/* Loads the stored alerts into memory. Takes a reference to cfg; st must outlive core. */
int core_new(struct store *st, struct config *cfg, const struct core_options *opt,
             struct core **out);
int core_start(struct core *c); /* starts the writer and core threads */
void core_stop(struct core *c); /* finishes queued work, stops and joins both threads */
void core_free(struct core *c); /* accepts NULL; call after core_stop */

/* Merges the alerts (taking the caller's references to each) and returns once they are
 * committed: AR_OK, or AR_EDB when the transaction failed (the alerts stay in memory and
 * are retried with the next commit). */
int core_ingest(struct core *c, struct alert **alerts, size_t n);
/* The same without waiting: done(ctx, rc) runs on the writer thread once the alerts are
 * committed (AR_OK) or the commit failed (AR_EDB); it must be quick. alerts (the array)
 * must stay valid until then. */
void core_ingest_async(struct core *c, struct alert **alerts, size_t n,
                       void (*done)(void *ctx, int rc), void *ctx);

/* Status of an alert at read time (COMPAT 2.6). */
struct alert_status {
    char **silenced_by; /* ids of active silences matching (heap strings) */
    size_t nsilenced;
    bool inhibited;
    uint64_t inhibited_by; /* fingerprint of the inhibiting source */
};

/* References to every alert not yet resolved at now_ns (endsAt >= now), in no particular
 * order, with their status when status_out is not NULL. The caller frees with
 * core_snapshot_free. */
size_t core_snapshot(struct core *c, int64_t now_ns, struct alert ***out,
                     struct alert_status **status_out);
void core_snapshot_free(struct alert **alerts, struct alert_status *status, size_t n);

/* Aggregation groups (GET /api/v2/alerts/groups, ar/dispatch.h) and the status of each of
 * their alerts (status[i] for snap->alerts[i]). Free with core_groups_free. */
struct groups_snapshot;
struct alert_status *core_groups(struct core *c, struct groups_snapshot *snap);
void core_groups_free(struct groups_snapshot *snap, struct alert_status *status);

/* The pool holding the repeated strings of stored alerts (ar/strpool.h): decoders move new
 * alerts' strings into it before handing them to core_ingest. */
struct strpool *core_strings(struct core *c);
/* The compressor of stored alerts' annotations (ar/textpack.h): decoders pack new alerts'
 * annotations with it, alongside core_strings. */
struct textpack *core_texts(struct core *c);

/* The configuration in force (a new reference), and its replacement. */
struct config *core_config(struct core *c);
void core_set_config(struct core *c, struct config *cfg);

/* Running arbitrary work on the core thread.
 *
 * core_call runs fn(c, txn, arg) on the core thread, between other messages, and returns
 * once every write fn queued in txn (txn_write) is committed. It returns fn's result, or
 * AR_EDB when fn succeeded but the commit failed. This is how API handlers for silences and
 * other core-owned state read and change it without locks. */
struct silence_set;
typedef int (*core_fn)(struct core *c, struct txn *txn, void *arg);
int core_call(struct core *c, core_fn fn, void *arg);
/* Same without waiting: returns at once; done(ctx, rc) runs once fn's writes are committed
 * (rc: AR_OK, or AR_EDB when the commit failed; fn's own result is not kept), on the writer
 * thread, or on the core thread when fn wrote nothing.
 * For work started from threads that must not block (the notifier's completions). */
void core_call_async(struct core *c, core_fn fn, void *arg, void (*done)(void *ctx, int rc),
                     void *ctx);

/* The core's silence set: on the core thread only (inside a core_fn). */
struct silence_set *core_silences(struct core *c);
/* The core's notification log (ar/nflog.h): on the core thread only (inside a core_fn). */
struct nflog;
struct nflog *core_nflog(struct core *c);
/* The core's incidents (ar/incident.h): on the core thread only (inside a core_fn). */
struct incident_set;
struct incident_set *core_incidents(struct core *c);

/* Gauges computed on the core thread for /metrics. */
struct core_stats {
    size_t alerts_active;     /* not resolved, not suppressed */
    size_t alerts_suppressed; /* not resolved, silenced or inhibited */
    size_t silences[3];       /* pending, active, expired */
    size_t groups;            /* aggregation groups */
    size_t nflog_entries;
    uint64_t notifications[32]; /* by integration type (dispatch_metrics) */
    uint64_t notifications_failed[32];
};
void core_stats(struct core *c, struct core_stats *out);

/* The writer thread committing the core's batches: commit counters, latency and failure
 * (txn_writer_commits, txn_writer_failing, ...) for /metrics and /-/ready. */
struct txn_writer *core_writer(struct core *c);

/* Counters for metrics. */
size_t core_alert_count(struct core *c);
/* Database bytes in use at the last size check (once a minute; -1 before the first) and
 * rows pruned by --storage.max-bytes so far, by kind (ar/store.h). */
int64_t core_storage_used_bytes(struct core *c);
void core_storage_pruned(struct core *c, uint64_t out[STORE_PRUNE_KINDS]);

/* Durable outbox (ar/outbox.h): re-submits a stored delivery (read by the caller) now,
 * through the core thread; logs 'replayed' and sets it pending. AR_OK once committed;
 * AR_ENOTFOUND/AR_EINVAL/AR_ESTATE with err filled when it cannot be sent. */
struct outbox_row;
int core_outbox_replay(struct core *c, const struct outbox_row *row, struct ar_error *err);

/* Heartbeats (ar/heartbeat.h): a copy of each one's status, in configuration order; free
 * with heartbeat_status_free. */
struct heartbeat_status;
size_t core_heartbeats(struct core *c, struct heartbeat_status **out);

#endif

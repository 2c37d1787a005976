/* The core: the one thread that owns alert state, and the writer thread that makes it
 * durable. HTTP threads hand work to the core through a queue and wait on a completion;
 * the core merges, then passes the resulting rows to the writer, which commits everything
 * queued in one transaction (group commit) and only then completes the waiting requests,
 * so a 200 always means "in the database". */
#ifndef AR_CORE_H
#define AR_CORE_H

#include "ar/alert.h"
#include "ar/config.h"
#include "ar/store.h"

struct core;

struct core_options {
    int64_t gc_interval_ns; /* --alerts.gc-interval: resolved alerts are deleted this often */
};

/* Loads the stored alerts into memory. Takes a reference to cfg; st must outlive core. */
int core_new(struct store *st, struct config *cfg, const struct core_options *opt,
             struct core **out);
int core_start(struct core *c);  /* starts the core and writer threads */
void core_stop(struct core *c);  /* finishes queued work, stops and joins both threads */
void core_free(struct core *c);  /* accepts NULL; call after core_stop */

/* Merges the alerts (taking the caller's references to each) and returns once they are
 * committed: AR_OK, or AR_EDB when the transaction failed (the alerts stay in memory and
 * are retried with the next commit). */
int core_ingest(struct core *c, struct alert **alerts, size_t n);

/* References to every alert not yet resolved at now_ns (endsAt >= now), in no particular
 * order. The caller unrefs each and frees the array. */
size_t core_snapshot(struct core *c, int64_t now_ns, struct alert ***out);

/* The configuration in force (a new reference), and its replacement. */
struct config *core_config(struct core *c);
void core_set_config(struct core *c, struct config *cfg);

/* Counters for metrics. */
size_t core_alert_count(struct core *c);
uint64_t core_commits(struct core *c);

#endif

/* Inhibition (COMPAT 6.1): for each inhibit rule, an index of the alerts matching its source
 * matchers, keyed by a hash of their `equal` label values, so checking a target costs one
 * lookup per rule instead of a scan of all alerts. Owned by the core thread; rebuilt when
 * the configuration changes. */
#ifndef AR_INHIBIT_H
#define AR_INHIBIT_H

#include "ar/alert.h"
#include "ar/config.h"

struct inhibitor;

/* Rules are borrowed from cfg, which must outlive the inhibitor. */
struct inhibitor *inhibitor_new(const struct config *cfg);
void inhibitor_free(struct inhibitor *in); /* accepts NULL */
/* Records the current version of an alert (takes its own reference when it is a source). */
void inhibitor_put(struct inhibitor *in, struct alert *a);
/* Forgets an alert deleted from the store. */
void inhibitor_remove(struct inhibitor *in, uint64_t fp);
/* True when a FIRING source alert inhibits the target (labels ls, fingerprint fp) at now;
 * *by receives the source's fingerprint. */
bool inhibitor_check(const struct inhibitor *in, const struct labelset *ls, uint64_t fp,
                     int64_t now_ns, uint64_t *by);
size_t inhibitor_rule_count(const struct inhibitor *in);

#endif

/* Shared storage for strings that many alerts repeat (label names, values such as
 * job="node-exporter", runbook URLs, generatorURLs), so a million stored alerts do not keep a
 * million copies of each. Thread-safe (sharded locks): alerts are pooled where they are
 * decoded, on the HTTP threads. A pooled string is immutable and lives until the pool is
 * freed (after every alert), so any thread may read it through the alerts it holds.
 *
 * Admission keeps unique values (pod names, instance addresses) out of the pool: a name is
 * pooled at once, a value once a second owner (alert fingerprint) is seen with it, so
 * Prometheus re-posting the same alert never admits its values (a small lossy table
 * remembers values seen once, with their owner). The pool never frees a string while
 * running, so its size is capped; past the cap, strings stay in their alert's own block. */
#ifndef AR_STRPOOL_H
#define AR_STRPOOL_H

#include "ar/common.h"

struct strpool;

/* max_bytes: cap on the string bytes held (0 = default, 32 MiB). */
struct strpool *strpool_new(size_t max_bytes);
void strpool_free(struct strpool *p); /* accepts NULL */

/* The pooled copy of s, or NULL when s is not (yet) admitted: is_name admits at once,
 * otherwise on a sighting by an owner other than the last one. */
const char *strpool_intern(struct strpool *p, const char *s, bool is_name, uint32_t owner);

struct strpool_stats {
    size_t strings; /* distinct strings held */
    size_t bytes;   /* their bytes, NULs included */
};
void strpool_stats(struct strpool *p, struct strpool_stats *out);

#endif

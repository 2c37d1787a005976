/* Shared storage for strings that many alerts repeat (label names, values such as
 * job="node-exporter", runbook URLs, generatorURLs), so a million stored alerts do not keep a
 * million copies of each. Owned by the core thread: only it looks up and adds strings. A
 * pooled string is immutable and lives until the pool is freed (after every alert), so
 * other threads may read it through the alerts they hold.
 *
 * Admission keeps unique values (pod names, instance addresses) out of the pool: a name is
 * pooled at once, a value only once a second copy is seen (a small lossy table remembers
 * hashes of values seen once). The pool never frees a string while running, so its size is
 * capped; past the cap, strings stay in their alert's own block as before. */
#ifndef AR_STRPOOL_H
#define AR_STRPOOL_H

#include "ar/common.h"

struct strpool;

/* max_bytes: cap on the string bytes held (0 = default, 32 MiB). */
struct strpool *strpool_new(size_t max_bytes);
void strpool_free(struct strpool *p); /* accepts NULL */

/* The pooled copy of s, or NULL when s is not (yet) admitted: is_name admits at once,
 * otherwise on the second sighting. */
const char *strpool_intern(struct strpool *p, const char *s, bool is_name);

struct strpool_stats {
    size_t strings; /* distinct strings held */
    size_t bytes;   /* their bytes, NULs included */
    uint64_t hits;  /* strpool_intern calls answered with a pooled copy */
};
void strpool_stats(const struct strpool *p, struct strpool_stats *out);

#endif

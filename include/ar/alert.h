/* One alert as Alertmanager models it (COMPAT 2.1-2.4). Alerts are immutable once
 * published to the alert store and shared by reference: the store, API snapshots and (later)
 * aggregation groups and in-flight notifications each hold a reference. A merge builds a
 * new alert instead of changing the stored one. Reference counts are atomic, so snapshots
 * may be read and released on HTTP threads. */
#ifndef AR_ALERT_H
#define AR_ALERT_H

#include "ar/common.h"
#include "ar/labels.h"

struct alert {
    uint64_t fp;                 /* labelset_fingerprint(&labels) */
    struct labelset labels;      /* non-empty, validated */
    struct labelset annotations; /* may be zipped (ar/textpack.h): read them through
                                  * alert_annotations() */
    char *generator_url;         /* NULL when empty */
    int64_t starts_at;           /* ns since epoch */
    int64_t ends_at;             /* ns; the resolve_timeout guess when timeout is set */
    int64_t updated_at;          /* ns; time of the last POST that touched it */
    int refs;                    /* atomic; freed at 0 */
    int16_t starts_off_min;      /* UTC offsets supplied by the client, for display */
    int16_t ends_off_min;
    bool timeout;    /* ends_at was synthesised from resolve_timeout */
    bool url_pooled; /* generator_url is held by a string pool, not owned */
};

struct alert *alert_new(void); /* refs = 1, empty sets, times unset */
struct alert *alert_ref(struct alert *a);
void alert_unref(struct alert *a); /* accepts NULL */
/* Deep copy with refs = 1. */
struct alert *alert_dup(const struct alert *a);

/* The annotations of a. When they are packed they are unpacked into *scratch and the result
 * points there; otherwise it points into a. Either way the caller ends with
 * labelset_cleanup(scratch), and reads the result only until then. */
const struct labelset *alert_annotations(const struct alert *a, struct labelset *scratch);
/* Same annotations (packed or not). */
bool alert_annotations_equal(const struct alert *a, const struct alert *b);
/* For writers that only stream the annotations out, without building a set: when they are
 * packed, decompresses them into buf (cap bytes) or, when larger, into a heap block left in
 * *heap (the caller frees it; NULL otherwise) and returns the n serialised
 * "name\0value\0" pairs in name order (ar/textpack.h); returns NULL when they are not
 * packed (read a->annotations then). */
const char *alert_annotation_pairs(const struct alert *a, char *buf, size_t cap, char **heap,
                                   uint32_t *n);
struct buf;
/* Appends the annotations as a JSON object (json_put_labelset's output) through
 * alert_annotation_pairs: nothing is allocated for common sizes. */
int alert_put_annotations_json(struct buf *b, const struct alert *a);

struct strpool;
struct textpack;
/* Moves a's strings into a string pool (ar/strpool.h) where they repeat: label names,
 * values and the generatorURL that other alerts share (a->fp must be set: it is the owner
 * for admission); compresses its annotations with texts (ar/textpack.h) when texts is not
 * NULL and has a dictionary. prev, when not NULL, is a version a replaces: its pooled label
 * sets, packed annotations and URL are reused when equal. a must not be shared with other
 * threads yet. */
void alert_pool(struct alert *a, const struct alert *prev, struct strpool *pool,
                struct textpack *texts);
/* alert_pool for a freshly decoded alert (refs = 1, not shared), returning a replacement
 * whose struct and blocks are allocated together, in the order they are read: moving the
 * strings in place left an alert's parts apart in memory and slowed every later walk over
 * the alerts (GET of 10k groups: +3 ms). a is consumed. */
struct alert *alert_pool_fresh(struct alert *a, struct strpool *pool, struct textpack *texts);

/* Resolved at time now: ends_at is set and ends_at <= now. */
bool alert_resolved_at(const struct alert *a, int64_t now_ns);

/* COMPAT 2.3: merges a newly posted alert into the stored one with the same fingerprint.
 * "Resolved" is judged at now_ns. Returns a new alert (refs = 1); neither argument changes. */
struct alert *alert_merge(const struct alert *old, const struct alert *newer, int64_t now_ns);

#endif

/* Alert objects: reference counting, deep copies, Alertmanager's merge rule for re-posted
 * alerts, and how a stored alert keeps its strings: pooled (ar/strpool.h) and its
 * annotations packed (ar/textpack.h), read back through alert_annotations() (ar/alert.h). */
#include "ar/alert.h"

#include "ar/json_out.h"
#include "ar/strpool.h"
#include "ar/textpack.h"
#include "ar/timefmt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct alert *alert_new(void)
{
    struct alert *a = ar_calloc(1, sizeof(*a));

    a->refs = 1;
    labelset_init(&a->labels);
    labelset_init(&a->annotations);
    a->starts_at = AR_TIME_UNSET;
    a->ends_at = AR_TIME_UNSET;
    a->updated_at = AR_TIME_UNSET;
    return a;
}

struct alert *alert_ref(struct alert *a)
{
    __atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
    return a;
}

void alert_unref(struct alert *a)
{
    int left;

    if (a == NULL) {
        return;
    }
    left = __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL);
    assert(left >= 0);
    if (left > 0) {
        return;
    }
    labelset_cleanup(&a->labels);
    labelset_cleanup(&a->annotations);
    if (!a->url_pooled) {
        free(a->generator_url);
    }
    free(a);
}

struct alert *alert_dup(const struct alert *a)
{
    struct alert *c = ar_malloc(sizeof(*c));

    *c = *a;
    c->refs = 1;
    labelset_dup(&c->labels, &a->labels);
    labelset_dup(&c->annotations, &a->annotations);
    if (!a->url_pooled) {
        c->generator_url = a->generator_url ? ar_strdup(a->generator_url) : NULL;
    }
    return c;
}

static void pool_set(struct labelset *ls, const struct labelset *prev, struct strpool *pool,
                     uint32_t owner)
{
    if (ls->pooled) {
        return;
    }
    if (prev != NULL && prev->pooled && labelset_equal(ls, prev)) {
        labelset_cleanup(ls);
        labelset_dup(ls, prev);
        return;
    }
    labelset_pool(ls, pool, owner);
}

struct alert *alert_pool_fresh(struct alert *a, struct strpool *pool, struct textpack *texts)
{
    struct alert *c = ar_malloc(sizeof(*c));

    *c = *a; /* takes over a's sets and URL; a's struct alone is freed below */
    free(a);
    alert_pool(c, NULL, pool, texts);
    return c;
}

/* Packs a's annotations (reusing prev's block when they are the same); true when packed. */
static bool pack_annotations(struct alert *a, const struct alert *prev, struct textpack *texts)
{
    struct packed_set *p;

    if (a->annotations.zipped) {
        return true;
    }
    if (texts == NULL || a->annotations.n == 0) {
        return false;
    }
    if (prev != NULL && prev->annotations.zipped && alert_annotations_equal(a, prev)) {
        labelset_cleanup(&a->annotations);
        labelset_dup(&a->annotations, &prev->annotations);
        return true;
    }
    p = textpack_pack(texts, &a->annotations);
    if (p == NULL) {
        return false;
    }
    labelset_cleanup(&a->annotations);
    a->annotations.v = (struct label *)(void *)p; /* zipped: an opaque block */
    a->annotations.cap = (uint32_t)packed_set_bytes(p);
    a->annotations.packed = true;
    a->annotations.zipped = true;
    return true;
}

void alert_pool(struct alert *a, const struct alert *prev, struct strpool *pool,
                struct textpack *texts)
{
    const char *url;

    pool_set(&a->labels, prev ? &prev->labels : NULL, pool, (uint32_t)a->fp);
    if (!pack_annotations(a, prev, texts)) {
        pool_set(&a->annotations, prev ? &prev->annotations : NULL, pool, (uint32_t)a->fp);
    }
    if (a->generator_url == NULL || a->url_pooled) {
        return;
    }
    if (prev != NULL && prev->url_pooled && strcmp(prev->generator_url, a->generator_url) == 0) {
        url = prev->generator_url;
    } else {
        url = strpool_intern(pool, a->generator_url, false, (uint32_t)a->fp);
    }
    if (url != NULL) {
        free(a->generator_url);
        a->generator_url = (char *)url;
        a->url_pooled = true;
    }
}

const struct labelset *alert_annotations(const struct alert *a, struct labelset *scratch)
{
    labelset_init(scratch);
    if (!a->annotations.zipped) {
        return &a->annotations;
    }
    packed_set_unpack((const struct packed_set *)(const void *)a->annotations.v, scratch);
    return scratch;
}

const char *alert_annotation_pairs(const struct alert *a, char *buf, size_t cap, char **heap,
                                   uint32_t *n)
{
    const struct packed_set *p = (const struct packed_set *)(const void *)a->annotations.v;
    char *out = buf;

    *heap = NULL;
    if (!a->annotations.zipped) {
        return NULL;
    }
    if (packed_set_raw_len(p) > cap) {
        out = *heap = ar_malloc(packed_set_raw_len(p));
    }
    *n = packed_set_read(p, out);
    return out;
}

int alert_put_annotations_json(struct buf *b, const struct alert *a)
{
    char stackbuf[2048];
    char *heap;
    uint32_t n;
    const char *pairs = alert_annotation_pairs(a, stackbuf, sizeof(stackbuf), &heap, &n);
    int rc = pairs ? json_put_pairs(b, pairs, n) : json_put_labelset(b, &a->annotations);

    free(heap);
    return rc;
}

bool alert_annotations_equal(const struct alert *a, const struct alert *b)
{
    struct labelset sa;
    struct labelset sb;
    bool eq;

    if (a->annotations.zipped && b->annotations.zipped) {
        return packed_set_equal((const struct packed_set *)(const void *)a->annotations.v,
                                (const struct packed_set *)(const void *)b->annotations.v);
    }
    eq = labelset_equal(alert_annotations(a, &sa), alert_annotations(b, &sb));
    labelset_cleanup(&sa);
    labelset_cleanup(&sb);
    return eq;
}

bool alert_resolved_at(const struct alert *a, int64_t now_ns)
{
    return a->ends_at != AR_TIME_UNSET && a->ends_at <= now_ns;
}

struct alert *alert_merge(const struct alert *old, const struct alert *newer, int64_t now_ns)
{
    const struct alert *a = old;
    const struct alert *b = newer;
    struct alert *res;

    /* COMPAT: without overlapping active intervals the new alert simply replaces the old. */
    bool overlap = (old->starts_at < newer->ends_at && newer->ends_at < old->ends_at) ||
                   (old->starts_at < newer->starts_at && newer->starts_at < old->ends_at);
    if (!overlap) {
        return alert_dup(newer);
    }
    /* Copy whichever was updated later; the other one is `a`. */
    if (old->updated_at > newer->updated_at) {
        a = newer;
        b = old;
    }
    res = alert_dup(b);
    if (a->starts_at < res->starts_at) {
        res->starts_at = a->starts_at;
        res->starts_off_min = a->starts_off_min;
    }
    /* The result keeps an explicit later end of the other alert while it is firing; a
     * resolved newer alert keeps its own end unless the other also ended, later. */
    if (alert_resolved_at(b, now_ns)) {
        if (alert_resolved_at(a, now_ns) && a->ends_at > b->ends_at) {
            res->ends_at = a->ends_at;
            res->ends_off_min = a->ends_off_min;
        }
    } else if (a->ends_at > b->ends_at && !a->timeout) {
        res->ends_at = a->ends_at;
        res->ends_off_min = a->ends_off_min;
    }
    return res;
}

/* Inhibition index (ar/inhibit.h). Per rule: `sources` maps fingerprint -> current alert for
 * every alert matching the source matchers, and `buckets` maps the hash of its `equal`
 * label values to the fingerprints sharing it. A fingerprint's labels never change, so an
 * alert matches a rule's source matchers for its whole life; only its firing state is
 * checked at query time. */
#include "ar/inhibit.h"

#include "ar/alert_store.h"

#include <stdlib.h>
#include <string.h>

struct bucket {
    uint64_t key; /* equal-hash */
    uint64_t *fps;
    size_t n;
    size_t cap;
    struct bucket *next; /* chain */
};

struct rule_index {
    const struct inhibit_rule *rule;
    struct alert_store *sources;
    struct bucket **table;
    size_t nbuckets; /* power of two */
    size_t count;
};

struct inhibitor {
    struct rule_index *rules;
    size_t nrules;
};

static uint64_t equal_hash(const struct inhibit_rule *r, const struct labelset *ls)
{
    static const char sep = (char)0xff;
    uint64_t h = labels_fnv1a_init();

    for (size_t i = 0; i < r->equal.n; i++) {
        const char *v = labelset_get(ls, r->equal.v[i]);
        if (v != NULL) {
            h = labels_fnv1a_add(h, v, strlen(v));
        }
        h = labels_fnv1a_add(h, &sep, 1);
    }
    return h;
}

static bool equal_labels(const struct inhibit_rule *r, const struct labelset *a,
                         const struct labelset *b)
{
    for (size_t i = 0; i < r->equal.n; i++) {
        const char *x = labelset_get(a, r->equal.v[i]);
        const char *y = labelset_get(b, r->equal.v[i]);
        /* COMPAT: a label missing on both sides counts as equal (empty string) */
        if (strcmp(x ? x : "", y ? y : "") != 0) {
            return false;
        }
    }
    return true;
}

static struct bucket *bucket_find(const struct rule_index *ri, uint64_t key)
{
    for (struct bucket *b = ri->table[key & (ri->nbuckets - 1)]; b != NULL; b = b->next) {
        if (b->key == key) {
            return b;
        }
    }
    return NULL;
}

static void grow(struct rule_index *ri)
{
    size_t n = ri->nbuckets * 2;
    struct bucket **t = ar_calloc(n, sizeof(*t));

    for (size_t i = 0; i < ri->nbuckets; i++) {
        struct bucket *b = ri->table[i];
        while (b != NULL) {
            struct bucket *next = b->next;
            b->next = t[b->key & (n - 1)];
            t[b->key & (n - 1)] = b;
            b = next;
        }
    }
    free(ri->table);
    ri->table = t;
    ri->nbuckets = n;
}

static void bucket_add(struct rule_index *ri, uint64_t key, uint64_t fp)
{
    struct bucket *b = bucket_find(ri, key);

    if (b == NULL) {
        if (ri->count + 1 > ri->nbuckets) {
            grow(ri);
        }
        b = ar_calloc(1, sizeof(*b));
        b->key = key;
        b->next = ri->table[key & (ri->nbuckets - 1)];
        ri->table[key & (ri->nbuckets - 1)] = b;
        ri->count++;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->fps[i] == fp) {
            return;
        }
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->fps = ar_realloc(b->fps, b->cap * sizeof(*b->fps));
    }
    b->fps[b->n++] = fp;
}

static void bucket_del(struct rule_index *ri, uint64_t key, uint64_t fp)
{
    struct bucket *b = bucket_find(ri, key);

    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->fps[i] == fp) {
            b->fps[i] = b->fps[--b->n];
            return;
        }
    }
}

struct inhibitor *inhibitor_new(const struct config *cfg)
{
    struct inhibitor *in = ar_calloc(1, sizeof(*in));

    in->nrules = cfg->ninhibit_rules;
    in->rules = ar_calloc(in->nrules ? in->nrules : 1, sizeof(*in->rules));
    for (size_t i = 0; i < in->nrules; i++) {
        in->rules[i].rule = cfg->inhibit_rules[i];
        in->rules[i].sources = alert_store_new_sized(16);
        in->rules[i].nbuckets = 64;
        in->rules[i].table = ar_calloc(64, sizeof(struct bucket *));
    }
    return in;
}

void inhibitor_free(struct inhibitor *in)
{
    if (in == NULL) {
        return;
    }
    for (size_t i = 0; i < in->nrules; i++) {
        struct rule_index *ri = &in->rules[i];
        for (size_t k = 0; k < ri->nbuckets; k++) {
            struct bucket *b = ri->table[k];
            while (b != NULL) {
                struct bucket *next = b->next;
                free(b->fps);
                free(b);
                b = next;
            }
        }
        free(ri->table);
        alert_store_free(ri->sources);
    }
    free(in->rules);
    free(in);
}

void inhibitor_put(struct inhibitor *in, struct alert *a)
{
    for (size_t i = 0; i < in->nrules; i++) {
        struct rule_index *ri = &in->rules[i];
        if (!matchers_match(&ri->rule->source, &a->labels)) {
            continue;
        }
        if (alert_store_find(ri->sources, a->fp) == NULL) {
            bucket_add(ri, equal_hash(ri->rule, &a->labels), a->fp);
        }
        alert_store_put_take(ri->sources, alert_ref(a));
    }
}

void inhibitor_remove(struct inhibitor *in, uint64_t fp)
{
    for (size_t i = 0; i < in->nrules; i++) {
        struct rule_index *ri = &in->rules[i];
        struct alert *a = alert_store_find(ri->sources, fp);
        if (a != NULL) {
            bucket_del(ri, equal_hash(ri->rule, &a->labels), fp);
            alert_store_remove(ri->sources, fp);
        }
    }
}

bool inhibitor_check(const struct inhibitor *in, const struct labelset *ls, uint64_t fp,
                     int64_t now_ns, uint64_t *by)
{
    for (size_t i = 0; i < in->nrules; i++) {
        const struct rule_index *ri = &in->rules[i];
        const struct bucket *b;
        bool target_is_source;

        if (!matchers_match(&ri->rule->target, ls)) {
            continue;
        }
        b = bucket_find(ri, equal_hash(ri->rule, ls));
        if (b == NULL) {
            continue;
        }
        target_is_source = matchers_match(&ri->rule->source, ls);
        for (size_t k = 0; k < b->n; k++) {
            const struct alert *s = alert_store_find(ri->sources, b->fps[k]);
            if (s == NULL || s->fp == fp || alert_resolved_at(s, now_ns) ||
                !equal_labels(ri->rule, &s->labels, ls)) {
                continue;
            }
            /* COMPAT: when the target also matches the source side, a source that also
             * matches the target side cannot inhibit it. */
            if (target_is_source && matchers_match(&ri->rule->target, &s->labels)) {
                continue;
            }
            *by = s->fp;
            return true;
        }
    }
    return false;
}

size_t inhibitor_rule_count(const struct inhibitor *in)
{
    return in->nrules;
}

/* Label sets (ar/labels.h): a sorted array, so lookup is a binary search (O(log n)),
 * insertion O(n), fingerprinting O(total bytes). */
#include "ar/labels.h"

#include "ar/strpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

void labelset_init(struct labelset *ls)
{
    ls->v = NULL;
    ls->n = 0;
    ls->cap = 0;
    ls->packed = false;
    ls->pooled = false;
    ls->zipped = false;
}

void labelset_cleanup(struct labelset *ls)
{
    if (ls == NULL) {
        return;
    }
    if (!ls->packed) {
        for (size_t i = 0; i < ls->n; i++) {
            free(ls->v[i].name);
            free(ls->v[i].value);
        }
    }
    free(ls->v);
    labelset_init(ls);
}

void labelset_pack(struct labelset *ls)
{
    size_t total = ls->n * sizeof(struct label);
    struct label *v;
    char *p;

    if (ls->packed || ls->n == 0) { /* zipped sets are packed too */
        return;
    }
    for (size_t i = 0; i < ls->n; i++) {
        total += strlen(ls->v[i].name) + strlen(ls->v[i].value) + 2;
    }
    v = ar_malloc(total);
    p = (char *)(v + ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        size_t nl = strlen(ls->v[i].name) + 1;
        size_t vl = strlen(ls->v[i].value) + 1;
        memcpy(p, ls->v[i].name, nl);
        v[i].name = p;
        p += nl;
        memcpy(p, ls->v[i].value, vl);
        v[i].value = p;
        p += vl;
        free(ls->v[i].name);
        free(ls->v[i].value);
    }
    free(ls->v);
    ls->v = v;
    ls->cap = total;
    ls->packed = true;
}

void labelset_pool(struct labelset *ls, struct strpool *pool, uint32_t owner)
{
    const char *nv[64];
    const char **pv = ls->n * 2 <= AR_ARRAY_LEN(nv) ? nv : ar_malloc(ls->n * 2 * sizeof(*pv));
    size_t total = ls->n * sizeof(struct label);
    struct label *v;
    char *p;

    if (ls->pooled || ls->n == 0) { /* n is 0 for zipped sets */
        if (pv != nv) {
            free(pv);
        }
        return;
    }
    for (size_t i = 0; i < ls->n; i++) {
        pv[2 * i] = strpool_intern(pool, ls->v[i].name, true, owner);
        pv[2 * i + 1] = strpool_intern(pool, ls->v[i].value, false, owner);
        if (pv[2 * i] == NULL) {
            total += strlen(ls->v[i].name) + 1;
        }
        if (pv[2 * i + 1] == NULL) {
            total += strlen(ls->v[i].value) + 1;
        }
    }
    v = ar_malloc(total);
    p = (char *)(v + ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        for (int k = 0; k < 2; k++) {
            const char *src = k == 0 ? ls->v[i].name : ls->v[i].value;
            const char *dst = pv[2 * i + k];
            if (dst == NULL) {
                size_t len = strlen(src) + 1;
                memcpy(p, src, len);
                dst = p;
                p += len;
            }
            if (k == 0) {
                v[i].name = (char *)dst;
            } else {
                v[i].value = (char *)dst;
            }
        }
    }
    {
        size_t n = ls->n;
        labelset_cleanup(ls);
        ls->v = v;
        ls->n = n;
    }
    ls->cap = total;
    ls->packed = true;
    ls->pooled = true;
    if (pv != nv) {
        free(pv);
    }
}

struct pair_ref {
    const char *name;
    const char *value;
    size_t pos; /* input position: later wins */
};

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair_ref *a = pa;
    const struct pair_ref *b = pb;
    int c = strcmp(a->name, b->name);

    if (c != 0) {
        return c;
    }
    return a->pos < b->pos ? -1 : 1;
}

/* An alert's dozen labels sort faster by insertion than through qsort (glibc's merge sort
 * with an indirect call per comparison was ~1,100 instructions per set, callgrind); cmp_pair
 * is a total order, so the result is the same. */
static void sort_pairs(struct pair_ref *v, size_t n)
{
    if (n > 32) {
        qsort(v, n, sizeof(*v), cmp_pair);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct pair_ref x = v[i];
        size_t j = i;

        while (j > 0 && cmp_pair(&v[j - 1], &x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

void labelset_build_packed(struct labelset *ls, const char *const *names, const char *const *values,
                           size_t n)
{
    struct pair_ref stackbuf[32];
    struct pair_ref *v = n <= 32 ? stackbuf : ar_malloc(n * sizeof(*v));
    size_t k = 0;
    size_t total = 0;
    struct label *out;
    char *p;

    labelset_cleanup(ls);
    for (size_t i = 0; i < n; i++) {
        v[i].name = names[i];
        v[i].value = values[i];
        v[i].pos = i;
    }
    sort_pairs(v, n);
    /* keep the last of each run of equal names */
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(v[i].name, v[i + 1].name) == 0) {
            continue;
        }
        v[k++] = v[i];
        total += strlen(v[i].name) + strlen(v[i].value) + 2;
    }
    if (k > 0) {
        out = ar_malloc(k * sizeof(*out) + total);
        p = (char *)(out + k);
        for (size_t i = 0; i < k; i++) {
            size_t nl = strlen(v[i].name) + 1;
            size_t vl = strlen(v[i].value) + 1;
            memcpy(p, v[i].name, nl);
            out[i].name = p;
            p += nl;
            memcpy(p, v[i].value, vl);
            out[i].value = p;
            p += vl;
        }
        ls->v = out;
        ls->n = k;
        ls->cap = k * sizeof(*out) + total;
        ls->packed = true;
    }
    if (v != stackbuf) {
        free(v);
    }
}

/* Gives every string its own allocation again before a mutation. */
static void unpack(struct labelset *ls)
{
    struct label *v;

    if (ls->zipped) {
        /* a programming error: the block would be lost */
        fprintf(stderr, "alertrouter: mutation of a compressed label set\n");
        abort();
    }
    if (!ls->packed) {
        return;
    }
    v = ar_malloc((ls->n ? ls->n : 1) * sizeof(*v));
    for (size_t i = 0; i < ls->n; i++) {
        v[i].name = ar_strdup(ls->v[i].name);
        v[i].value = ar_strdup(ls->v[i].value);
    }
    free(ls->v);
    ls->v = v;
    ls->cap = ls->n ? ls->n : 1;
    ls->packed = false;
    ls->pooled = false;
}

/* Index of name, or -(insertion point) - 1. */
static long find(const struct labelset *ls, const char *name)
{
    return ar_bsearch_name(ls->v, ls->n, sizeof(*ls->v), offsetof(struct label, name), name);
}

void labelset_set_take(struct labelset *ls, char *name, char *value)
{
    long i;
    size_t at;

    unpack(ls);
    i = find(ls, name);
    if (i >= 0) {
        free(name);
        free(ls->v[i].value);
        ls->v[i].value = value;
        return;
    }
    at = (size_t)(-i - 1);
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 8;
        ls->v = ar_realloc(ls->v, ls->cap * sizeof(*ls->v));
    }
    memmove(ls->v + at + 1, ls->v + at, (ls->n - at) * sizeof(*ls->v));
    ls->v[at].name = name;
    ls->v[at].value = value;
    ls->n++;
}

void labelset_set(struct labelset *ls, const char *name, const char *value)
{
    labelset_set_take(ls, ar_strdup(name), ar_strdup(value));
}

void labelset_remove(struct labelset *ls, const char *name)
{
    long i = find(ls, name);

    if (i < 0) {
        return;
    }
    unpack(ls);
    free(ls->v[i].name);
    free(ls->v[i].value);
    memmove(ls->v + i, ls->v + i + 1, (ls->n - (size_t)i - 1) * sizeof(*ls->v));
    ls->n--;
}

const char *labelset_get(const struct labelset *ls, const char *name)
{
    long i = find(ls, name);

    return i >= 0 ? ls->v[i].value : NULL;
}

void labelset_dup(struct labelset *dst, const struct labelset *src)
{
    if (src->packed) {
        /* one block (cap bytes): copy it and rebase the pointers into it; pooled strings
         * outside the block are shared as they are */
        const char *lo = (const char *)src->v;
        const char *hi = lo + src->cap;
        char *base = ar_malloc(src->cap);
        memcpy(base, src->v, src->cap);
        dst->v = (struct label *)(void *)base;
        for (size_t i = 0; i < src->n; i++) {
            if (src->v[i].name >= lo && src->v[i].name < hi) {
                dst->v[i].name = base + (src->v[i].name - lo);
            }
            if (src->v[i].value >= lo && src->v[i].value < hi) {
                dst->v[i].value = base + (src->v[i].value - lo);
            }
        }
        dst->n = src->n;
        dst->cap = src->cap;
        dst->packed = true;
        dst->pooled = src->pooled;
        dst->zipped = src->zipped;
        return;
    }
    dst->n = src->n;
    dst->cap = src->n;
    dst->packed = false;
    dst->pooled = false;
    dst->zipped = false;
    dst->v = src->n ? ar_malloc(src->n * sizeof(*dst->v)) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        dst->v[i].name = ar_strdup(src->v[i].name);
        dst->v[i].value = ar_strdup(src->v[i].value);
    }
}

bool labelset_equal(const struct labelset *a, const struct labelset *b)
{
    if (a->zipped || b->zipped) {
        return a->zipped && b->zipped && a->cap == b->cap && memcmp(a->v, b->v, a->cap) == 0;
    }
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].name, b->v[i].name) != 0 || strcmp(a->v[i].value, b->v[i].value) != 0) {
            return false;
        }
    }
    return true;
}

uint64_t labels_fnv1a_init(void)
{
    return FNV_OFFSET;
}

uint64_t labels_fnv1a_add(uint64_t h, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t labelset_fingerprint(const struct labelset *ls)
{
    static const char sep = (char)0xff;
    uint64_t h = FNV_OFFSET;

    /* COMPAT: name 0xFF value 0xFF per label, names in byte order. */
    for (size_t i = 0; i < ls->n; i++) {
        h = labels_fnv1a_add(h, ls->v[i].name, strlen(ls->v[i].name));
        h = labels_fnv1a_add(h, &sep, 1);
        h = labels_fnv1a_add(h, ls->v[i].value, strlen(ls->v[i].value));
        h = labels_fnv1a_add(h, &sep, 1);
    }
    return h;
}

void fingerprint_format(uint64_t fp, char out[17])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--) {
        out[i] = hex[fp & 0xf];
        fp >>= 4;
    }
    out[16] = '\0';
}

int fingerprint_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (strlen(s) != 16) {
        return AR_EINVAL;
    }
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return AR_EINVAL;
        }
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return AR_OK;
}

int labelset_compare(const struct labelset *a, const struct labelset *b)
{
    size_t i = 0;
    size_t j = 0;

    /* COMPAT: fewer labels first; then walk the sorted union of names: the set missing a
     * name sorts first, else the first differing value decides. */
    if (a->n != b->n) {
        return a->n < b->n ? -1 : 1;
    }
    while (i < a->n && j < b->n) {
        int c = strcmp(a->v[i].name, b->v[j].name);
        if (c < 0) {
            return 1; /* b lacks a->v[i].name: b first */
        }
        if (c > 0) {
            return -1; /* a lacks b->v[j].name: a first */
        }
        c = strcmp(a->v[i].value, b->v[j].value);
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
        i++;
        j++;
    }
    return 0;
}

bool label_name_is_classic(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;

    if (*p == '\0' || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_')) {
        return false;
    }
    for (p++; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_')) {
            return false;
        }
    }
    return true;
}

bool utf8_is_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t len;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += len;
    }
    return true;
}

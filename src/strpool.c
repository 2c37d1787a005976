/* String pool (ar/strpool.h): strings appended to 64 KiB chunks that never move, found
 * through an open-addressing hash table (linear probing, grown at 70% load). The
 * "seen once" table is a direct-mapped array of hash tags: a collision only makes a value
 * wait for one more sighting, or (rarely) admits a value seen once. */
#include "ar/strpool.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES   (64 * 1024)
#define SEEN_SLOTS    (1u << 14)
#define DEFAULT_MAX   ((size_t)32 * 1024 * 1024)

struct slot {
    uint64_t hash;
    const char *s; /* NULL = empty */
};

struct strpool {
    struct slot *tab;
    size_t tab_cap; /* power of two */
    size_t n;
    char **blocks; /* chunks, and long strings in blocks of their own */
    size_t nblocks;
    char *cur;       /* chunk being filled */
    size_t cur_used; /* bytes used in cur */
    size_t bytes;
    size_t max_bytes;
    uint64_t hits;
    uint32_t *seen; /* SEEN_SLOTS tags of values seen once */
};

struct strpool *strpool_new(size_t max_bytes)
{
    struct strpool *p = ar_calloc(1, sizeof(*p));

    p->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
    p->tab_cap = 1024;
    p->tab = ar_calloc(p->tab_cap, sizeof(*p->tab));
    p->seen = ar_calloc(SEEN_SLOTS, sizeof(*p->seen));
    return p;
}

void strpool_free(struct strpool *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->nblocks; i++) {
        free(p->blocks[i]);
    }
    free(p->blocks);
    free(p->tab);
    free(p->seen);
    free(p);
}

static void grow(struct strpool *p)
{
    size_t cap = p->tab_cap * 2;
    struct slot *t = ar_calloc(cap, sizeof(*t));

    for (size_t i = 0; i < p->tab_cap; i++) {
        if (p->tab[i].s != NULL) {
            size_t j = p->tab[i].hash & (cap - 1);
            while (t[j].s != NULL) {
                j = (j + 1) & (cap - 1);
            }
            t[j] = p->tab[i];
        }
    }
    free(p->tab);
    p->tab = t;
    p->tab_cap = cap;
}

static char *new_block(struct strpool *p, size_t size)
{
    p->blocks = ar_realloc(p->blocks, (p->nblocks + 1) * sizeof(*p->blocks));
    p->blocks[p->nblocks] = ar_malloc(size);
    return p->blocks[p->nblocks++];
}

/* Copies s (len bytes + NUL) into pool storage. */
static const char *store(struct strpool *p, const char *s, size_t len)
{
    size_t need = len + 1;
    char *dst;

    if (need > CHUNK_BYTES / 4) {
        dst = new_block(p, need);
    } else {
        if (p->cur == NULL || CHUNK_BYTES - p->cur_used < need) {
            p->cur = new_block(p, CHUNK_BYTES);
            p->cur_used = 0;
        }
        dst = p->cur + p->cur_used;
        p->cur_used += need;
    }
    memcpy(dst, s, need);
    return dst;
}

/* 8 bytes per step (annotation texts run to hundreds of bytes; FNV's byte loop showed). */
static uint64_t hash_bytes(const char *s, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = len * k;
    uint64_t w;

    for (; len >= 8; s += 8, len -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * k;
    return h ^ (h >> 32);
}

const char *strpool_intern(struct strpool *p, const char *s, bool is_name)
{
    size_t len = strlen(s);
    uint64_t h = hash_bytes(s, len);
    size_t j = h & (p->tab_cap - 1);

    for (; p->tab[j].s != NULL; j = (j + 1) & (p->tab_cap - 1)) {
        if (p->tab[j].hash == h && strcmp(p->tab[j].s, s) == 0) {
            p->hits++;
            return p->tab[j].s;
        }
    }
    if (!is_name) {
        uint32_t *tag = &p->seen[(h >> 32) & (SEEN_SLOTS - 1)];
        uint32_t want = (uint32_t)h | 1u; /* 0 means an empty slot */
        if (*tag != want) {
            *tag = want;
            return NULL;
        }
        *tag = 0;
    }
    if (p->bytes + len + 1 > p->max_bytes) {
        return NULL;
    }
    p->tab[j].hash = h;
    p->tab[j].s = store(p, s, len);
    p->n++;
    p->bytes += len + 1;
    if (p->n * 10 > p->tab_cap * 7) {
        const char *r = p->tab[j].s;
        grow(p);
        return r;
    }
    return p->tab[j].s;
}

void strpool_stats(const struct strpool *p, struct strpool_stats *out)
{
    out->strings = p->n;
    out->bytes = p->bytes;
    out->hits = p->hits;
}

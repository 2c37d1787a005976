/* String pool (ar/strpool.h): 16 shards chosen by hash, each a mutex, an open-addressing
 * table (linear probing, grown at 70% load) and 64 KiB chunks that never move, so a string
 * handed out stays valid and immutable. Strings longer than a quarter chunk get a block of
 * their own. The "seen once" table is a direct-mapped array of (hash tag, owner) words read
 * and written with relaxed atomics: a lost update or a collision only makes a value wait for
 * one more sighting, or (rarely) admits a value seen once. */
#include "ar/strpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS      16
#define CHUNK_BYTES (64 * 1024)
#define SEEN_SETS   (1u << 14) /* of two words each */
#define DEFAULT_MAX ((size_t)32 * 1024 * 1024)

struct slot {
    uint64_t hash;
    const char *s; /* NULL = empty */
};

struct shard {
    pthread_mutex_t mu;
    struct slot *tab;
    size_t cap; /* power of two */
    size_t n;
    char **blocks; /* chunks, and long strings in blocks of their own */
    size_t nblocks;
    char *cur;       /* chunk being filled */
    size_t cur_used; /* bytes used in cur */
};

struct strpool {
    struct shard shard[SHARDS];
    uint64_t id; /* unique per pool: tags the per-thread cache entries */
    size_t max_bytes;
    size_t bytes;   /* atomic */
    uint64_t *seen; /* SEEN_SETS x 2 words: tag << 32 | owner; atomic */
};

/* Per-thread cache of recent answers: names and common values are found without a lock.
 * Pooled strings never move or change, so a cached pointer stays valid for its pool. */
#define TCACHE_SLOTS 256
static __thread struct tcache_entry {
    uint64_t pool_id;
    uint64_t hash;
    const char *s;
} tcache[TCACHE_SLOTS];
static uint64_t next_pool_id = 1; /* atomic */

struct strpool *strpool_new(size_t max_bytes)
{
    struct strpool *p = ar_calloc(1, sizeof(*p));

    p->id = __atomic_fetch_add(&next_pool_id, 1, __ATOMIC_RELAXED);
    p->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&p->shard[i].mu, NULL);
        p->shard[i].cap = 64;
        p->shard[i].tab = ar_calloc(p->shard[i].cap, sizeof(struct slot));
    }
    p->seen = ar_calloc(2 * SEEN_SETS, sizeof(*p->seen));
    return p;
}

void strpool_free(struct strpool *p)
{
    if (p == NULL) {
        return;
    }
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &p->shard[i];
        for (size_t k = 0; k < sh->nblocks; k++) {
            free(sh->blocks[k]);
        }
        free(sh->blocks);
        free(sh->tab);
        pthread_mutex_destroy(&sh->mu);
    }
    free(p->seen);
    free(p);
}

static void grow(struct shard *sh)
{
    size_t cap = sh->cap * 2;
    struct slot *t = ar_calloc(cap, sizeof(*t));

    for (size_t i = 0; i < sh->cap; i++) {
        if (sh->tab[i].s != NULL) {
            size_t j = (sh->tab[i].hash >> 4) & (cap - 1);
            while (t[j].s != NULL) {
                j = (j + 1) & (cap - 1);
            }
            t[j] = sh->tab[i];
        }
    }
    free(sh->tab);
    sh->tab = t;
    sh->cap = cap;
}

static char *new_block(struct shard *sh, size_t size)
{
    sh->blocks = ar_realloc(sh->blocks, (sh->nblocks + 1) * sizeof(*sh->blocks));
    sh->blocks[sh->nblocks] = ar_malloc(size);
    return sh->blocks[sh->nblocks++];
}

/* Copies s (len bytes + NUL) into the shard's storage. */
static const char *store(struct shard *sh, const char *s, size_t len)
{
    size_t need = len + 1;
    char *dst;

    if (need > CHUNK_BYTES / 4) {
        dst = new_block(sh, need);
    } else {
        if (sh->cur == NULL || CHUNK_BYTES - sh->cur_used < need) {
            sh->cur = new_block(sh, CHUNK_BYTES);
            sh->cur_used = 0;
        }
        dst = sh->cur + sh->cur_used;
        sh->cur_used += need;
    }
    memcpy(dst, s, need);
    return dst;
}

/* 8 bytes per step (annotation texts run to hundreds of bytes). */
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

/* Second sighting by another owner? Records this one otherwise. Two ways per set: with one,
 * two values that always arrive in the same order and share a slot evicted each other
 * before a second owner came, and neither was ever admitted. */
static bool admit(struct strpool *p, uint64_t h, uint32_t owner)
{
    uint64_t *set = &p->seen[2 * ((h >> 40) & (SEEN_SETS - 1))];
    uint64_t tag = ((uint64_t)((uint32_t)h | 1u)) << 32;

    for (int w = 0; w < 2; w++) {
        uint64_t cur = __atomic_load_n(&set[w], __ATOMIC_RELAXED);
        if ((cur & 0xffffffff00000000ULL) == tag) {
            if ((uint32_t)cur == owner) {
                return false; /* the same alert again: still one owner */
            }
            __atomic_store_n(&set[w], 0, __ATOMIC_RELAXED);
            return true;
        }
    }
    __atomic_store_n(&set[1], __atomic_load_n(&set[0], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&set[0], tag | owner, __ATOMIC_RELAXED);
    return false;
}

const char *strpool_intern(struct strpool *p, const char *s, bool is_name, uint32_t owner)
{
    size_t len = strlen(s);
    uint64_t h = hash_bytes(s, len);
    struct shard *sh = &p->shard[h & (SHARDS - 1)];
    struct tcache_entry *e = &tcache[(h >> 8) & (TCACHE_SLOTS - 1)];
    const char *r = NULL;
    size_t j;

    if (e->pool_id == p->id && e->hash == h && strcmp(e->s, s) == 0) {
        return e->s;
    }
    pthread_mutex_lock(&sh->mu);
    for (j = (h >> 4) & (sh->cap - 1); sh->tab[j].s != NULL; j = (j + 1) & (sh->cap - 1)) {
        if (sh->tab[j].hash == h && strcmp(sh->tab[j].s, s) == 0) {
            r = sh->tab[j].s;
            break;
        }
    }
    if (r != NULL) {
        pthread_mutex_unlock(&sh->mu);
        e->pool_id = p->id;
        e->hash = h;
        e->s = r;
        return r;
    }
    if ((is_name || admit(p, h, owner)) &&
        __atomic_load_n(&p->bytes, __ATOMIC_RELAXED) + len + 1 <= p->max_bytes) {
        r = store(sh, s, len);
        sh->tab[j].hash = h;
        sh->tab[j].s = r;
        sh->n++;
        __atomic_add_fetch(&p->bytes, len + 1, __ATOMIC_RELAXED);
        if (sh->n * 10 > sh->cap * 7) {
            grow(sh);
        }
    }
    pthread_mutex_unlock(&sh->mu);
    return r;
}

void strpool_stats(struct strpool *p, struct strpool_stats *out)
{
    out->strings = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&p->shard[i].mu);
        out->strings += p->shard[i].n;
        pthread_mutex_unlock(&p->shard[i].mu);
    }
    out->bytes = __atomic_load_n(&p->bytes, __ATOMIC_RELAXED);
}

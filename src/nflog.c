/* Notification log (ar/nflog.h): a string-keyed hash table of entries (chained, grows at
 * load factor 1) plus the dedup rule, and a second table of claims (resumed deliveries in
 * flight after a restart, memory only) that lookups consult first. Writes go through txn_write
 * so an entry is durable in the same commit cycle as the state that produced it. */
#include "ar/nflog.h"

#include "ar/buf.h"

#include "ar/labels.h"
#include "ar/store.h"
#include "ar/store_nflog.h"
#include "ar/txn.h"

#include <stdlib.h>
#include <string.h>

struct node {
    struct nflog_entry *e;
    uint64_t hash;
    struct node *next;
};

struct nflog {
    struct node **table;
    size_t nbuckets; /* power of two */
    size_t count;
    struct nflog *claims; /* resumed deliveries in flight (memory only); NULL until one */
};

static uint64_t hash_str(const char *s)
{
    return labels_fnv1a_add(labels_fnv1a_init(), s, strlen(s));
}

struct nflog *nflog_new(void)
{
    struct nflog *l = ar_calloc(1, sizeof(*l));

    l->nbuckets = 256;
    l->table = ar_calloc(l->nbuckets, sizeof(*l->table));
    return l;
}

void nflog_free(struct nflog *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->nbuckets; i++) {
        struct node *n = l->table[i];
        while (n != NULL) {
            struct node *next = n->next;
            nflog_entry_free(n->e);
            free(n);
            n = next;
        }
    }
    free(l->table);
    nflog_free(l->claims);
    free(l);
}

char *nflog_key(const char *receiver, const char *integration, const char *group_key)
{
    /* appended piece by piece: through ar_asprintf (vsnprintf twice) this was ~2,300
     * instructions, twice per notification on the core thread */
    struct buf k;

    buf_init(&k, 0);
    buf_reserve(&k, strlen(receiver) + strlen(integration) + strlen(group_key) + 3);
    buf_puts(&k, receiver);
    buf_putc(&k, '/');
    buf_puts(&k, integration);
    buf_putc(&k, '/');
    buf_puts(&k, group_key);
    return buf_take(&k);
}

static struct node *find_node(const struct nflog *l, const char *key, uint64_t h)
{
    for (struct node *n = l->table[h & (l->nbuckets - 1)]; n != NULL; n = n->next) {
        if (n->hash == h && strcmp(n->e->key, key) == 0) {
            return n;
        }
    }
    return NULL;
}

const struct nflog_entry *nflog_find(const struct nflog *l, const char *key)
{
    uint64_t h = hash_str(key);
    struct node *n = l->claims != NULL ? find_node(l->claims, key, h) : NULL;

    if (n == NULL) {
        n = find_node(l, key, h);
    }
    return n ? n->e : NULL;
}

/* Drops the entry with this key if it was recorded with this sent_at. */
static void remove_entry(struct nflog *l, const char *key, int64_t sent_at)
{
    uint64_t h = hash_str(key);

    for (struct node **pp = &l->table[h & (l->nbuckets - 1)]; *pp != NULL; pp = &(*pp)->next) {
        struct node *n = *pp;
        if (n->hash == h && strcmp(n->e->key, key) == 0) {
            if (n->e->sent_at == sent_at) {
                *pp = n->next;
                nflog_entry_free(n->e);
                free(n);
                l->count--;
            }
            return;
        }
    }
}

static void grow(struct nflog *l)
{
    size_t nb = l->nbuckets * 2;
    struct node **t = ar_calloc(nb, sizeof(*t));

    for (size_t i = 0; i < l->nbuckets; i++) {
        struct node *n = l->table[i];
        while (n != NULL) {
            struct node *next = n->next;
            n->next = t[n->hash & (nb - 1)];
            t[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(l->table);
    l->table = t;
    l->nbuckets = nb;
}

/* Inserts or replaces (taking e). */
static void put_entry(struct nflog *l, struct nflog_entry *e)
{
    uint64_t h = hash_str(e->key);
    struct node *n = find_node(l, e->key, h);

    if (n != NULL) {
        nflog_entry_free(n->e);
        n->e = e;
        return;
    }
    if (l->count + 1 > l->nbuckets) {
        grow(l);
    }
    n = ar_malloc(sizeof(*n));
    n->e = e;
    n->hash = h;
    n->next = l->table[h & (l->nbuckets - 1)];
    l->table[h & (l->nbuckets - 1)] = n;
    l->count++;
}

static void load_cb(struct nflog_entry *e, void *ctx)
{
    put_entry(ctx, e);
}

int nflog_load(struct nflog *l, struct store *st, int64_t now_ns)
{
    return store_nflog_load(st, now_ns, load_cb, l);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t *copy_sorted(const uint64_t *v, size_t n)
{
    uint64_t *c = ar_malloc((n ? n : 1) * sizeof(*c));

    if (n > 0) {
        memcpy(c, v, n * sizeof(*c));
        qsort(c, n, sizeof(*c), cmp_u64);
    }
    return c;
}

static struct nflog_entry *entry_dup(const struct nflog_entry *e)
{
    struct nflog_entry *c = ar_calloc(1, sizeof(*c));

    c->key = ar_strdup(e->key);
    c->receiver = ar_strdup(e->receiver);
    c->integration = ar_strdup(e->integration);
    c->group_key = ar_strdup(e->group_key);
    c->sent_at = e->sent_at;
    c->firing = copy_sorted(e->firing, e->nfiring);
    c->nfiring = e->nfiring;
    c->resolved = copy_sorted(e->resolved, e->nresolved);
    c->nresolved = e->nresolved;
    c->expires_at = e->expires_at;
    return c;
}

static int apply_append(struct store *st, void *data)
{
    return store_nflog_append(st, data);
}

/* A row another instance sent, persisted with its origin. */
struct merged_write {
    struct nflog_entry *e;
    char *origin;
};

static int apply_merged(struct store *st, void *data)
{
    struct merged_write *m = data;

    return store_nflog_append_from(st, m->e, m->origin);
}

static void free_merged(void *data)
{
    struct merged_write *m = data;

    nflog_entry_free(m->e);
    free(m->origin);
    free(m);
}

static void free_entry(void *data)
{
    nflog_entry_free(data);
}

static struct nflog_entry *entry_new(const char *receiver, const char *integration,
                                     const char *group_key, int64_t now_ns, const uint64_t *firing,
                                     size_t nfiring, const uint64_t *resolved, size_t nresolved,
                                     int64_t expires_at)
{
    struct nflog_entry *e = ar_calloc(1, sizeof(*e));

    e->key = nflog_key(receiver, integration, group_key);
    e->receiver = ar_strdup(receiver);
    e->integration = ar_strdup(integration);
    e->group_key = ar_strdup(group_key);
    e->sent_at = now_ns;
    e->firing = copy_sorted(firing, nfiring);
    e->nfiring = nfiring;
    e->resolved = copy_sorted(resolved, nresolved);
    e->nresolved = nresolved;
    e->expires_at = expires_at;
    return e;
}

void nflog_record(struct nflog *l, const char *receiver, const char *integration,
                  const char *group_key, int64_t now_ns, const uint64_t *firing, size_t nfiring,
                  const uint64_t *resolved, size_t nresolved, int64_t expires_at, struct txn *txn)
{
    struct nflog_entry *e = entry_new(receiver, integration, group_key, now_ns, firing, nfiring,
                                      resolved, nresolved, expires_at);

    txn_write(txn, apply_append, entry_dup(e), free_entry);
    put_entry(l, e);
}

/* Takes e into l and queues its persistence with origin (never published). */
static void put_from(struct nflog *l, struct nflog_entry *e, const char *origin, struct txn *txn)
{
    struct merged_write *m = ar_calloc(1, sizeof(*m));

    m->e = entry_dup(e);
    m->origin = ar_strdup(origin);
    txn_write(txn, apply_merged, m, free_merged);
    put_entry(l, e);
}

void nflog_record_claimed(struct nflog *l, const char *receiver, const char *integration,
                          const char *group_key, int64_t now_ns, const uint64_t *firing,
                          size_t nfiring, const uint64_t *resolved, size_t nresolved,
                          int64_t expires_at, struct txn *txn)
{
    put_from(l,
             entry_new(receiver, integration, group_key, now_ns, firing, nfiring, resolved,
                       nresolved, expires_at),
             NFLOG_ORIGIN_CLAIM, txn);
}

bool nflog_merge(struct nflog *l, struct nflog_entry *e, const char *origin, struct txn *txn)
{
    struct node *n = find_node(l, e->key, hash_str(e->key));

    if (n != NULL && n->e->sent_at >= e->sent_at) {
        nflog_entry_free(e); /* ours is as new or newer */
        return false;
    }
    put_from(l, e, origin, txn);
    return true;
}

void nflog_claim(struct nflog *l, const char *receiver, const char *integration,
                 const char *group_key, int64_t flushed_at, const uint64_t *firing, size_t nfiring,
                 const uint64_t *resolved, size_t nresolved, int64_t expires_at)
{
    if (l->claims == NULL) {
        l->claims = nflog_new();
    }
    /* memory only: a claim never outlives the process */
    put_entry(l->claims, entry_new(receiver, integration, group_key, flushed_at, firing, nfiring,
                                   resolved, nresolved, expires_at));
}

void nflog_unclaim(struct nflog *l, const char *receiver, const char *integration,
                   const char *group_key, int64_t flushed_at)
{
    char *key;

    if (l->claims == NULL) {
        return;
    }
    key = nflog_key(receiver, integration, group_key);
    remove_entry(l->claims, key, flushed_at);
    free(key);
}

static int apply_gc(struct store *st, void *data)
{
    return store_nflog_gc(st, *(int64_t *)data);
}

void nflog_gc(struct nflog *l, int64_t now_ns, struct txn *txn)
{
    int64_t *when = ar_malloc(sizeof(*when));

    for (size_t i = 0; i < l->nbuckets; i++) {
        struct node **pp = &l->table[i];
        while (*pp != NULL) {
            struct node *n = *pp;
            if (n->e->expires_at <= now_ns) {
                *pp = n->next;
                nflog_entry_free(n->e);
                free(n);
                l->count--;
            } else {
                pp = &n->next;
            }
        }
    }
    *when = now_ns;
    txn_write(txn, apply_gc, when, free);
}

size_t nflog_count(const struct nflog *l)
{
    return l->count;
}

/* a ⊆ b for sorted arrays */
static bool subset(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t j = 0;

    for (size_t i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i]) {
            j++;
        }
        if (j == nb || b[j] != a[i]) {
            return false;
        }
    }
    return true;
}

bool nflog_needs_send(const struct nflog_entry *e, const uint64_t *firing, size_t nfiring,
                      const uint64_t *resolved, size_t nresolved, bool send_resolved,
                      int64_t now_ns, int64_t repeat_interval_ns)
{
    /* COMPAT 5.7, first matching row wins */
    if (e == NULL) {
        return nfiring > 0;
    }
    if (!subset(firing, nfiring, e->firing, e->nfiring)) {
        return true;
    }
    if (nfiring == 0) {
        return e->nfiring > 0;
    }
    if (send_resolved && !subset(resolved, nresolved, e->resolved, e->nresolved)) {
        return true;
    }
    return e->sent_at < now_ns - repeat_interval_ns;
}

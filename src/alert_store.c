/* Fingerprint-keyed hash table of alerts (ar/alert_store.h). Capacity is a power of two
 * kept at most 70% full; fingerprints are already FNV hashes but are mixed once more so
 * sequential label values spread well. */
#include "ar/alert_store.h"

#include <stdlib.h>

struct alert_store {
    struct alert **slots; /* NULL = empty */
    size_t cap;           /* power of two */
    size_t count;
};

static size_t slot_of(uint64_t fp, size_t cap)
{
    fp ^= fp >> 33;
    fp *= 0xff51afd7ed558ccdULL;
    fp ^= fp >> 33;
    return (size_t)fp & (cap - 1);
}

struct alert_store *alert_store_new_sized(size_t expected)
{
    struct alert_store *s = ar_calloc(1, sizeof(*s));

    s->cap = 8;
    while (s->cap * 7 < expected * 10) {
        s->cap *= 2;
    }
    s->slots = ar_calloc(s->cap, sizeof(*s->slots));
    return s;
}

struct alert_store *alert_store_new(void)
{
    return alert_store_new_sized(700);
}

void alert_store_free(struct alert_store *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->cap; i++) {
        alert_unref(s->slots[i]);
    }
    free(s->slots);
    free(s);
}

size_t alert_store_count(const struct alert_store *s)
{
    return s->count;
}

struct alert *alert_store_find(const struct alert_store *s, uint64_t fp)
{
    for (size_t i = slot_of(fp, s->cap);; i = (i + 1) & (s->cap - 1)) {
        struct alert *a = s->slots[i];
        if (a == NULL) {
            return NULL;
        }
        if (a->fp == fp) {
            return a;
        }
    }
}

static void grow(struct alert_store *s)
{
    struct alert **old = s->slots;
    size_t old_cap = s->cap;

    s->cap *= 2;
    s->slots = ar_calloc(s->cap, sizeof(*s->slots));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i] != NULL) {
            size_t j = slot_of(old[i]->fp, s->cap);
            while (s->slots[j] != NULL) {
                j = (j + 1) & (s->cap - 1);
            }
            s->slots[j] = old[i];
        }
    }
    free(old);
}

void alert_store_put_take(struct alert_store *s, struct alert *a)
{
    size_t i;

    if ((s->count + 1) * 10 > s->cap * 7) {
        grow(s);
    }
    for (i = slot_of(a->fp, s->cap); s->slots[i] != NULL; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i]->fp == a->fp) {
            alert_unref(s->slots[i]);
            s->slots[i] = a;
            return;
        }
    }
    s->slots[i] = a;
    s->count++;
}

bool alert_store_remove(struct alert_store *s, uint64_t fp)
{
    size_t mask = s->cap - 1;
    size_t i = slot_of(fp, s->cap);

    while (s->slots[i] != NULL && s->slots[i]->fp != fp) {
        i = (i + 1) & mask;
    }
    if (s->slots[i] == NULL) {
        return false;
    }
    alert_unref(s->slots[i]);
    s->slots[i] = NULL;
    s->count--;
    /* Backward-shift: move later entries of the cluster into the hole when their home slot
     * does not lie cyclically between the hole and their position. */
    for (size_t j = (i + 1) & mask; s->slots[j] != NULL; j = (j + 1) & mask) {
        size_t home = slot_of(s->slots[j]->fp, s->cap);
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            s->slots[j] = NULL;
            i = j;
        }
    }
    return true;
}

struct alert *alert_store_next(const struct alert_store *s, size_t *it)
{
    while (*it < s->cap) {
        struct alert *a = s->slots[(*it)++];
        if (a != NULL) {
            return a;
        }
    }
    return NULL;
}

/* Silences (ar/silence.h): the set owned by the core thread. */
#include "ar/silence.h"

#include <stdlib.h>

struct silence_set {
    struct silence **v;
    size_t n;
    uint64_t generation;
};

struct silence_set *silence_set_new(void)
{
    return ar_calloc(1, sizeof(struct silence_set));
}

void silence_set_free(struct silence_set *set)
{
    if (set == NULL) {
        return;
    }
    free(set->v);
    free(set);
}

int silence_set_load(struct silence_set *set, struct store *st)
{
    return AR_OK;
}

enum silence_state silence_state_at(const struct silence *s, int64_t now_ns)
{
    if (now_ns < s->starts_at) {
        return SILENCE_PENDING;
    }
    return now_ns > s->ends_at ? SILENCE_EXPIRED : SILENCE_ACTIVE;
}

const char *silence_state_name(enum silence_state st)
{
    static const char *const names[] = {"pending", "active", "expired"};

    return names[st];
}

size_t silence_set_mutes(const struct silence_set *set, const struct labelset *ls,
                         int64_t now_ns, const char **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < set->n; i++) {
        const struct silence *s = set->v[i];
        if (silence_state_at(s, now_ns) == SILENCE_ACTIVE && matchers_match(&s->matchers, ls)) {
            if (n < max) {
                out[n] = s->id;
            }
            n++;
        }
    }
    return n;
}

void silence_set_gc(struct silence_set *set, int64_t now_ns, int64_t retention_ns,
                    struct core_txn *txn)
{
}

void silence_set_count(const struct silence_set *set, int64_t now_ns, size_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    for (size_t i = 0; i < set->n; i++) {
        counts[silence_state_at(set->v[i], now_ns)]++;
    }
}

uint64_t silence_set_generation(const struct silence_set *set)
{
    return set->generation;
}

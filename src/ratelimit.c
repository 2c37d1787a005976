/* Token buckets per client address (ar/ratelimit.h). The table is open-addressed by a hash
 * of the address with a short probe; when every probed slot belongs to another client, the
 * one idle longest is reused, so memory stays fixed whatever the number of clients. */
#include "ar/ratelimit.h"

#include "ar/labels.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096 /* power of two */
#define PROBE 8

struct bucket {
    char client[48]; /* "" = free */
    double tokens;
    int64_t last_ns;
};

struct ratelimit {
    pthread_mutex_t mu;
    double rate;
    double burst;
    struct bucket slots[SLOTS];
};

struct ratelimit *ratelimit_new(double rate_per_s, double burst)
{
    struct ratelimit *rl = ar_calloc(1, sizeof(*rl));

    pthread_mutex_init(&rl->mu, NULL);
    rl->rate = rate_per_s;
    rl->burst = burst >= 1 ? burst : 1;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL) {
        return;
    }
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

bool ratelimit_allow(struct ratelimit *rl, const char *client, int64_t now_ns)
{
    uint64_t h;
    struct bucket *b = NULL;
    struct bucket *oldest = NULL;
    bool ok;

    if (rl == NULL || rl->rate <= 0) {
        return true;
    }
    h = labels_fnv1a_add(labels_fnv1a_init(), client, strlen(client));
    pthread_mutex_lock(&rl->mu);
    for (int i = 0; i < PROBE; i++) {
        struct bucket *s = &rl->slots[(h + (uint64_t)i) & (SLOTS - 1)];
        if (strncmp(s->client, client, sizeof(s->client) - 1) == 0 && s->client[0] != '\0') {
            b = s;
            break;
        }
        if (oldest == NULL || s->client[0] == '\0' ||
            (oldest->client[0] != '\0' && s->last_ns < oldest->last_ns)) {
            oldest = s;
        }
    }
    if (b == NULL) {
        b = oldest;
        snprintf(b->client, sizeof(b->client), "%s", client);
        b->tokens = rl->burst;
        b->last_ns = now_ns;
    }
    b->tokens += (double)(now_ns - b->last_ns) / 1e9 * rl->rate;
    if (b->tokens > rl->burst) {
        b->tokens = rl->burst;
    }
    b->last_ns = now_ns;
    ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

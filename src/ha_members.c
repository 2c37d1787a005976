/* Membership on PostgreSQL (ar/ha_sync.h, docs/ha.md "Membership"): the thread that beats
 * this instance's row in the instances table every 5 s and reads the live peers (heartbeat
 * younger than 15 s on the server's clock) for /api/v2/status and the metrics. While
 * PostgreSQL is down the last known peers stay. A clean shutdown deletes the row, so the
 * others drop this instance at their next heartbeat. */
#include "ar/ha_sync.h"

#include "ha_sync_internal.h"

#include "ar/clock.h"
#include "ar/pg_health.h"
#include "ar/store_pg.h"
#include "ar/store_pg_instances.h"

#include <string.h>

#define BEAT_MS 5000
#define LIVE_MS 15000

void *ha_members_main(void *arg)
{
    struct ha_sync *h = arg;
    struct store_pg *pg = NULL;
    bool fresh = true;
    int64_t backoff = 1000;

    for (;;) {
        struct store_pg_peer peers[HA_SYNC_MAX_PEERS];
        size_t n = 0;
        int64_t started;
        if (pg == NULL && (pg = ha_sync_connect(h, "members")) == NULL) {
            if (!ha_sync_sleep(h, backoff)) {
                break;
            }
            backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
            continue;
        }
        started = clock_monotonic_ns();
        if (store_pg_instance_beat(pg, h->name, h->address, h->api_url, AR_VERSION, fresh) !=
                AR_OK ||
            store_pg_instances_live(pg, LIVE_MS, peers, HA_SYNC_MAX_PEERS, &n) != AR_OK) {
            if (!ha_sync_drop(&pg, "members") && !ha_sync_sleep(h, backoff)) {
                break;
            }
            continue;
        }
        fresh = false;
        backoff = 1000;
        pg_health_ok("members", started);
        pthread_mutex_lock(&h->mu);
        memcpy(h->peers, peers, n * sizeof(peers[0]));
        h->npeers = n;
        h->peers_known = true;
        pthread_mutex_unlock(&h->mu);
        if (!ha_sync_sleep(h, BEAT_MS)) {
            break;
        }
    }
    if (pg != NULL) {
        store_pg_instance_leave(pg, h->name); /* best effort: else it ages out */
    }
    store_pg_close(pg);
    return NULL;
}

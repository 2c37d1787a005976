/* The state shared by the replication threads (src/ha_sync.c) and the membership thread
 * (src/ha_members.c) of one struct ha_sync (ar/ha_sync.h); private to those two files. */
#ifndef AR_HA_SYNC_INTERNAL_H
#define AR_HA_SYNC_INTERNAL_H

#include "ar/ha_sync.h"

#include <pthread.h>

struct ha_sync {
    char *conninfo;
    char *password; /* NULL: libpq's own sources; zeroed before it is freed */
    char name[64];
    char address[300];
    char *api_url;
    char *dir;
    int64_t retention_ns;
    struct core *core;
    struct store *store;
    pthread_mutex_t mu; /* the fields below */
    pthread_cond_t cv;  /* stop, kick */
    bool stop;
    bool kick;
    pthread_t threads[3];
    size_t nthreads;
    struct store_pg_peer peers[HA_SYNC_MAX_PEERS];
    size_t npeers;
    bool peers_known;
    int64_t queued;   /* atomic */
    uint64_t applied; /* atomic */
};

#endif

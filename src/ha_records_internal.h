/* State shared by the two halves of ar/ha_records.h: the thread and the subscriber
 * (ha_records.c) and the publisher (ha_records_publish.c). Private to them. */
#ifndef AR_HA_RECORDS_INTERNAL_H
#define AR_HA_RECORDS_INTERNAL_H

#include "ar/ha_records.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>

/* The publisher's streams: one cursor each (the last local id published). */
enum ha_pub_stream {
    PUB_AUDIT,
    PUB_DELIVERIES,
    PUB_DELIVERY_LOG,
    PUB_HISTORY,
    PUB_EVENTS,
    PUB_NOTES,
    PUB_COUNT
};

struct ha_records_conn {
    PGconn *conn;     /* statements (statement_timeout 2 s) */
    sqlite3 *local;   /* read-only connection to the local store */
    const char *name; /* origin */
    const int *stop;  /* set (atomic) when the instance stops: publishing ends early */
    int64_t cursor[PUB_COUNT];
    char error[256]; /* the last failure's reason (no secrets) */
    /* the statements prepared on conn, by the address of their (static) text; emptied
     * whenever conn is (re)opened */
    const char *prepared[16];
    int nprepared;
};

/* Reads every cursor as max(origin_seq) of this origin. AR_OK or AR_EDB (error set). */
int ha_publish_cursors(struct ha_records_conn *c);
/* Publishes what the local store holds past the cursors, in transactions of at most a few
 * hundred rows each; *sent counts the rows. AR_OK or AR_EDB (error set; reconnect). */
int ha_publish(struct ha_records_conn *c, size_t *sent);

#endif

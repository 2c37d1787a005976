/* A PostgreSQL connection that only LISTENs (docs/ha.md section 4): the thread that keeps
 * instances in step waits on it for NOTIFYs of silences, acknowledgements, notes and the
 * notification log, then reads the new rows through its own store connection. */
#ifndef AR_STORE_PG_LISTEN_H
#define AR_STORE_PG_LISTEN_H

#include "ar/common.h"

#include <stddef.h>

struct store_pg_listener;

/* Connects (conninfo and password as store_pg_open) and LISTENs on each of the n channels
 * (plain identifiers). */
int store_pg_listen_open(const char *conninfo, const char *password, const char *const *channels,
                         size_t n, struct store_pg_listener **out, struct ar_error *err);
void store_pg_listen_close(struct store_pg_listener *l); /* accepts NULL */

/* Waits up to timeout_ms for a notification. 1: one arrived, its channel copied into
 * channel (cap bytes) and its payload into payload (pcap bytes; either may be NULL);
 * further queued ones are returned by the next calls without waiting. 0: timeout.
 * AR_EDB: the connection failed (reopen it, then catch up by reading, not by NOTIFY). */
int store_pg_listen_wait(struct store_pg_listener *l, int timeout_ms, char *channel, size_t cap,
                         char *payload, size_t pcap);

#endif

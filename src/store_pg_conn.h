/* The libpq connection of a struct store_pg, for the store_pg_*.c files that hold the SQL of
 * one kind of shared state (silences, claims); never used outside the PostgreSQL store. */
#ifndef AR_STORE_PG_CONN_H
#define AR_STORE_PG_CONN_H

#include "ar/store_pg.h"

#include <libpq-fe.h>

PGconn *store_pg_conn(struct store_pg *pg);
/* libpq's last message without its trailing newline, into buf. */
const char *store_pg_message(PGconn *conn, char *buf, size_t cap);
/* Runs sql with n text parameters. Its result (the caller clears it) when it ended in status
 * want with, if rows >= 0, that many rows; else NULL, with libpq's message in msg. */
PGresult *store_pg_exec(struct store_pg *pg, const char *sql, int n, const char *const *v,
                        ExecStatusType want, int rows, char *msg, size_t cap);

#endif

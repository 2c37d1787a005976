/* PostgreSQL storage (--storage.url; docs/ha.md): the libpq connection and the schema
 * migrations (migrations/pg/, embedded as ar_pg_migrations), applied under a session-level
 * advisory lock so several instances starting at once migrate once. What stores state in it
 * comes in later stages; until then main refuses --storage.url after this check. */
#ifndef AR_STORE_PG_H
#define AR_STORE_PG_H

#include "ar/common.h"

struct store_pg;

/* The advisory lock key every instance takes around migrations. */
#define STORE_PG_MIGRATION_LOCK 7411401

/* Connects with conninfo (any libpq form; a URL or key=value) and password (NULL: libpq's
 * own sources, PGPASSWORD or ~/.pgpass), checks the server version and migrates. AR_EIO
 * when no connection could be made, AR_EDB for anything after it. Messages
 * show the connection string masked (ar/pg_url.h), never the password. */
int store_pg_open(const char *conninfo, const char *password, struct store_pg **out,
                  struct ar_error *err);
void store_pg_close(struct store_pg *pg); /* accepts NULL */
/* The connection string as it may be shown (password masked). */
const char *store_pg_display(const struct store_pg *pg);
/* Number of the last applied migration. */
int store_pg_schema_version(const struct store_pg *pg);
/* The server's version, e.g. 150018. */
int store_pg_server_version(const struct store_pg *pg);
/* Runs a command without parameters or rows (BEGIN, COMMIT, ROLLBACK): AR_OK or AR_EDB. */
int store_pg_command(struct store_pg *pg, const char *sql);

#endif

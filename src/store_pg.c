/* PostgreSQL connection and migrations (ar/store_pg.h).
 *
 * Migrations run under pg_advisory_lock(STORE_PG_MIGRATION_LOCK), a session lock: a second
 * instance starting at the same moment waits for the first, then finds every version
 * recorded in schema_migrations and applies nothing. Each migration is one transaction
 * together with its schema_migrations row (PostgreSQL's DDL is transactional), so a crash
 * mid-migration leaves the previous version. A database migrated by a newer alertrouter
 * (versions this binary does not know) is refused. */
#include "ar/store_pg.h"

#include "store_pg_conn.h"

#include "ar/embedded.h"
#include "ar/log.h"
#include "ar/pg_url.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_MIN_SERVER_VERSION 120000 /* generated columns, ON CONFLICT, identity columns */

struct store_pg {
    PGconn *conn;
    int version;
    int server_version;
    char display[1024];
};

const char *store_pg_message(PGconn *conn, char *buf, size_t cap)
{
    size_t len;

    snprintf(buf, cap, "%s", conn ? PQerrorMessage(conn) : "out of memory");
    len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) {
        buf[--len] = '\0';
    }
    return buf;
}

PGresult *store_pg_exec(struct store_pg *pg, const char *sql, int n, const char *const *v,
                        ExecStatusType want, int rows, char *msg, size_t cap)
{
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, v, NULL, NULL, 0);

    if (PQresultStatus(r) != want || (rows >= 0 && PQntuples(r) != rows)) {
        store_pg_message(pg->conn, msg, cap);
        PQclear(r);
        return NULL;
    }
    return r;
}

int store_pg_command(struct store_pg *pg, const char *sql)
{
    PGresult *r = PQexec(pg->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? AR_OK : AR_EDB;

    PQclear(r);
    return rc;
}

/* Runs sql (one or more statements, no parameters); AR_OK when it ended in status want. */
static int exec_status(struct store_pg *pg, const char *sql, ExecStatusType want,
                       struct ar_error *err, const char *what)
{
    PGresult *r = PQexec(pg->conn, sql);
    char msg[512];

    if (PQresultStatus(r) != want) {
        ar_error_set(err, "PostgreSQL %s: %s: %s", store_pg_display(pg), what,
                     store_pg_message(pg->conn, msg, sizeof(msg)));
        PQclear(r);
        return AR_EDB;
    }
    PQclear(r);
    return AR_OK;
}

static int exec_cmd(struct store_pg *pg, const char *sql, struct ar_error *err, const char *what)
{
    return exec_status(pg, sql, PGRES_COMMAND_OK, err, what);
}

static int exec_tuples(struct store_pg *pg, const char *sql, struct ar_error *err, const char *what)
{
    return exec_status(pg, sql, PGRES_TUPLES_OK, err, what);
}

/* Highest version in schema_migrations (0 when empty). */
static int applied_version(struct store_pg *pg, int *out, struct ar_error *err)
{
    PGresult *r = PQexec(pg->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    char msg[512];

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        ar_error_set(err, "PostgreSQL %s: reading schema_migrations: %s", store_pg_display(pg),
                     store_pg_message(pg->conn, msg, sizeof(msg)));
        PQclear(r);
        return AR_EDB;
    }
    *out = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return AR_OK;
}

static int apply_one(struct store_pg *pg, const struct ar_embedded_file *m, int num,
                     struct ar_error *err)
{
    char numtext[16];
    const char *params[2];
    PGresult *r;
    char msg[512];

    if (exec_cmd(pg, "BEGIN", err, m->name) != AR_OK) {
        return AR_EDB;
    }
    r = PQexec(pg->conn, m->data);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        ar_error_set(err, "PostgreSQL %s: migration %s: %s", store_pg_display(pg), m->name,
                     store_pg_message(pg->conn, msg, sizeof(msg)));
        PQclear(r);
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        return AR_EDB;
    }
    PQclear(r);
    snprintf(numtext, sizeof(numtext), "%d", num);
    params[0] = numtext;
    params[1] = m->name;
    r = PQexecParams(pg->conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                     NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        ar_error_set(err, "PostgreSQL %s: recording migration %s: %s", store_pg_display(pg),
                     m->name, store_pg_message(pg->conn, msg, sizeof(msg)));
        PQclear(r);
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        return AR_EDB;
    }
    PQclear(r);
    if (exec_cmd(pg, "COMMIT", err, m->name) != AR_OK) {
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        return AR_EDB;
    }
    log_info("store", "applied PostgreSQL migration %s", m->name);
    return AR_OK;
}

/* Inside the advisory lock: creates schema_migrations, applies what is missing. */
static int migrate_locked(struct store_pg *pg, struct ar_error *err)
{
    int current = 0;
    int known = 0;

    if (exec_cmd(pg,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version integer PRIMARY KEY,"
                 " name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 err, "creating schema_migrations") != AR_OK ||
        applied_version(pg, &current, err) != AR_OK) {
        return AR_EDB;
    }
    for (const struct ar_embedded_file *m = ar_pg_migrations; m->name != NULL; m++) {
        int num = (int)strtol(m->name, NULL, 10);
        if (num > known) {
            known = num;
        }
    }
    if (current > known) {
        ar_error_set(err,
                     "PostgreSQL %s: the schema is at version %d, newer than this alertrouter "
                     "knows (%d): it was migrated by a later release",
                     store_pg_display(pg), current, known);
        return AR_EDB;
    }
    for (const struct ar_embedded_file *m = ar_pg_migrations; m->name != NULL; m++) {
        int num = (int)strtol(m->name, NULL, 10);
        if (num <= current) {
            continue;
        }
        if (apply_one(pg, m, num, err) != AR_OK) {
            return AR_EDB;
        }
        current = num;
    }
    pg->version = current;
    return AR_OK;
}

static int migrate(struct store_pg *pg, struct ar_error *err)
{
    char sql[96];
    int rc;

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", STORE_PG_MIGRATION_LOCK);
    if (exec_tuples(pg, sql, err, "taking the migration lock") != AR_OK) {
        return AR_EDB;
    }
    rc = migrate_locked(pg, err);
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", STORE_PG_MIGRATION_LOCK);
    if (exec_tuples(pg, sql, rc == AR_OK ? err : NULL, "releasing the migration lock") != AR_OK &&
        rc == AR_OK) {
        rc = AR_EDB;
    }
    return rc;
}

/* The server's notices (e.g. "relation ... already exists, skipping") go to the debug log,
 * not to stderr as libpq's default processor would print them. */
static void on_notice(void *arg, const char *message)
{
    size_t len = strlen(message);

    while (len > 0 && message[len - 1] == '\n') {
        len--;
    }
    log_debug("store", "PostgreSQL: %.*s", (int)len, message);
}

int store_pg_open(const char *conninfo, const char *password, struct store_pg **out,
                  struct ar_error *err)
{
    /* defaults first: the connection string given (dbname, expanded) overrides them, and an
     * explicit password (from --storage.password-file) overrides the string's */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", "password",
                          NULL};
    const char *vals[] = {"10", "alertrouter", conninfo, password, NULL};
    struct store_pg *pg = ar_calloc(1, sizeof(*pg));
    char msg[512];

    if (password == NULL) {
        keys[3] = NULL;
    }
    pg_url_mask(conninfo, pg->display, sizeof(pg->display));
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        ar_error_set(err, "cannot connect to PostgreSQL %s: %s", pg->display,
                     store_pg_message(pg->conn, msg, sizeof(msg)));
        store_pg_close(pg);
        return AR_EIO; /* unreachable (or refused us): may be passing */
    }
    PQsetNoticeProcessor(pg->conn, on_notice, NULL);
    pg->server_version = PQserverVersion(pg->conn);
    if (pg->server_version < PG_MIN_SERVER_VERSION) {
        ar_error_set(err,
                     "PostgreSQL %s: server version %d is older than 12, which alertrouter "
                     "needs",
                     pg->display, pg->server_version);
        store_pg_close(pg);
        return AR_EDB;
    }
    if (migrate(pg, err) != AR_OK) {
        store_pg_close(pg);
        return AR_EDB;
    }
    *out = pg;
    return AR_OK;
}

void store_pg_close(struct store_pg *pg)
{
    if (pg == NULL) {
        return;
    }
    if (pg->conn != NULL) {
        PQfinish(pg->conn);
    }
    free(pg);
}

const char *store_pg_display(const struct store_pg *pg)
{
    return pg->display;
}

int store_pg_schema_version(const struct store_pg *pg)
{
    return pg->version;
}

int store_pg_server_version(const struct store_pg *pg)
{
    return pg->server_version;
}

PGconn *store_pg_conn(struct store_pg *pg)
{
    return pg->conn;
}

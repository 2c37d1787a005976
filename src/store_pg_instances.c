/* The instances table (ar/store_pg_instances.h): one upsert per heartbeat, one select for
 * the live peers, both on the server's clock. */
#include "ar/store_pg_instances.h"

#include "store_pg_conn.h"

#include "ar/log.h"

#include <stdio.h>
#include <stdlib.h>

int store_pg_instance_beat(struct store_pg *pg, const char *name, const char *address,
                           const char *api_url, const char *version, bool fresh_start)
{
    static const char sql[] =
        "INSERT INTO instances (name, address, api_url, version, started_at, heartbeat) "
        "VALUES ($1, $2, $3, $4, now(), now()) ON CONFLICT (name) DO UPDATE "
        "SET address = EXCLUDED.address, api_url = EXCLUDED.api_url, "
        "version = EXCLUDED.version, heartbeat = now(), started_at = CASE WHEN $5 "
        "THEN now() ELSE instances.started_at END";
    const char *v[5] = {name, address, api_url, version, fresh_start ? "true" : "false"};
    char msg[512];
    PGresult *r = store_pg_exec(pg, sql, 5, v, PGRES_COMMAND_OK, -1, msg, sizeof(msg));
    int rc = AR_OK;

    if (r == NULL) {
        log_debug("store", "PostgreSQL: instance heartbeat: %s", msg);
        rc = AR_EDB;
    }
    PQclear(r);
    return rc;
}

int store_pg_instances_live(struct store_pg *pg, int64_t max_age_ms, struct store_pg_peer *out,
                            size_t cap, size_t *n)
{
    static const char sql[] =
        "SELECT name, address FROM instances "
        "WHERE heartbeat > now() - $1::bigint * interval '1 millisecond' ORDER BY name";
    char age[24];
    const char *v[1] = {age};
    PGresult *r;
    char msg[512];
    size_t k = 0;

    snprintf(age, sizeof(age), "%lld", (long long)max_age_ms);
    r = store_pg_exec(pg, sql, 1, v, PGRES_TUPLES_OK, -1, msg, sizeof(msg));
    if (r == NULL) {
        log_debug("store", "PostgreSQL: reading instances: %s", msg);
        return AR_EDB;
    }
    for (int i = 0; i < PQntuples(r) && k < cap; i++) {
        snprintf(out[k].name, sizeof(out[k].name), "%s", PQgetvalue(r, i, 0));
        snprintf(out[k].address, sizeof(out[k].address), "%s", PQgetvalue(r, i, 1));
        k++;
    }
    PQclear(r);
    *n = k;
    return AR_OK;
}

int store_pg_instance_leave(struct store_pg *pg, const char *name)
{
    const char *v[1] = {name};
    char msg[512];
    PGresult *r = store_pg_exec(pg, "DELETE FROM instances WHERE name = $1", 1, v, PGRES_COMMAND_OK,
                                -1, msg, sizeof(msg));
    int rc = AR_OK;

    if (r == NULL) {
        log_debug("store", "PostgreSQL: instance leaving: %s", msg);
        rc = AR_EDB;
    }
    PQclear(r);
    return rc;
}

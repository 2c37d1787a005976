/* Flush claims (ar/store_pg_claims.h). One INSERT ... ON CONFLICT DO UPDATE ... WHERE
 * RETURNING decides atomically, under the primary key's row lock, whether this instance may
 * send: a row back means yes. The conflict branch updates only an expired, unfinished claim
 * (its owner died: take over, at least once) or a finished one older than the repeat
 * interval; otherwise no row comes back and the caller skips the send. */
#include "ar/store_pg_claims.h"

#include "store_pg_conn.h"

#include "ar/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_pg_state_hash(const char *firing, const char *resolved,
                         uint8_t out[STORE_PG_STATE_HASH_LEN])
{
    char *text = ar_asprintf("%s\n%s", firing, resolved);
    unsigned int n = 0;

    EVP_Digest(text, strlen(text), out, &n, EVP_sha256(), NULL);
    free(text);
}

/* Parameters 1-4: receiver, integration, group key, state hash (binary bytea). */
static void key_params(const struct store_pg_claim_key *k, const char **v, int *len, int *fmt)
{
    v[0] = k->receiver;
    v[1] = k->integration;
    v[2] = k->group_key;
    v[3] = (const char *)k->state_hash;
    for (int i = 0; i < 3; i++) {
        len[i] = 0;
        fmt[i] = 0;
    }
    len[3] = STORE_PG_STATE_HASH_LEN;
    fmt[3] = 1;
}

int store_pg_claim(struct store_pg *pg, const struct store_pg_claim_key *k, const char *owner,
                   int64_t lease_ms, int64_t repeat_ms, bool *won)
{
    static const char sql[] =
        "INSERT INTO flush_claims AS f (receiver, integration, group_key, state_hash, owner, "
        "claimed_at, lease_until) VALUES ($1, $2, $3, $4, $5, now(), "
        "now() + $6::bigint * interval '1 millisecond') "
        "ON CONFLICT (receiver, integration, group_key, state_hash) DO UPDATE "
        "SET owner = EXCLUDED.owner, claimed_at = now(), lease_until = EXCLUDED.lease_until, "
        "done_at = NULL "
        "WHERE (f.done_at IS NULL AND f.lease_until < now()) "
        "OR (f.done_at IS NOT NULL AND "
        "f.done_at + $7::bigint * interval '1 millisecond' <= now()) "
        "RETURNING f.owner";
    const char *v[7];
    int len[7];
    int fmt[7];
    char lease[24];
    char repeat[24];
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    key_params(k, v, len, fmt);
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    snprintf(repeat, sizeof(repeat), "%lld", (long long)repeat_ms);
    v[4] = owner;
    v[5] = lease;
    v[6] = repeat;
    for (int i = 4; i < 7; i++) {
        len[i] = 0;
        fmt[i] = 0;
    }
    r = PQexecParams(store_pg_conn(pg), sql, 7, NULL, v, len, fmt, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error("store", "PostgreSQL: claiming %s/%s/%s: %s", k->receiver, k->integration,
                  k->group_key, store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        rc = AR_EDB;
    } else {
        *won = PQntuples(r) == 1;
    }
    PQclear(r);
    return rc;
}

int store_pg_claim_done(struct store_pg *pg, const struct store_pg_claim_key *k, const char *owner)
{
    static const char sql[] =
        "UPDATE flush_claims SET done_at = now() WHERE receiver = $1 AND integration = $2 "
        "AND group_key = $3 AND state_hash = $4 AND owner = $5 AND done_at IS NULL";
    const char *v[5];
    int len[5];
    int fmt[5];
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    key_params(k, v, len, fmt);
    v[4] = owner;
    len[4] = 0;
    fmt[4] = 0;
    r = PQexecParams(store_pg_conn(pg), sql, 5, NULL, v, len, fmt, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_error("store", "PostgreSQL: finishing claim %s/%s/%s: %s", k->receiver, k->integration,
                  k->group_key, store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        rc = AR_EDB;
    }
    PQclear(r);
    return rc;
}

int store_pg_claims_renew(struct store_pg *pg, const char *owner, int64_t lease_ms, int64_t *n)
{
    static const char sql[] =
        "UPDATE flush_claims SET lease_until = now() + $2::bigint * interval '1 millisecond' "
        "WHERE owner = $1 AND done_at IS NULL";
    char lease[24];
    const char *v[2] = {owner, lease};
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    r = PQexecParams(store_pg_conn(pg), sql, 2, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_error("store", "PostgreSQL: renewing the leases of %s: %s", owner,
                  store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        rc = AR_EDB;
    } else if (n != NULL) {
        *n = strtoll(PQcmdTuples(r), NULL, 10);
    }
    PQclear(r);
    return rc;
}

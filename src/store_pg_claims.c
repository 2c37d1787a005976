/* Flush claims (ar/store_pg_claims.h): one row per (receiver, integration, group, state
 * hash); an instance sends only when its statement answered "won". One INSERT ... ON
 * CONFLICT DO UPDATE ... WHERE ... RETURNING decides atomically, under the row lock, whether
 * this instance may send: a row back means yes. The conflict branch takes an unfinished
 * claim whose lease ran out (its owner died: take over, at least once) or this owner's own
 * (resumed after a restart), or a finished one older than the repeat interval; otherwise no
 * row comes back and the caller skips the send. The batch form runs it over n keys in key
 * order. */
#include "ar/store_pg_claims.h"

#include "store_pg_conn.h"

#include "ar/buf.h"
#include "ar/log.h"
#include "ar/pg_array.h"

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

/* The conflict branch of both claim forms ($7: the repeat interval in ms): an unfinished
 * claim is taken when its lease ran out (its owner died: take over, at least once) or when
 * it is this owner's own (left by its previous run, whose stop kept the claims of the sends
 * it canceled, and resumed now: docs/ha.md "Restarts"); a finished one is taken once the
 * repeat interval has passed since it was done. */
#define CLAIM_CONFLICT                                                                             \
    "ON CONFLICT (receiver, integration, group_key, state_hash) DO UPDATE "                        \
    "SET owner = EXCLUDED.owner, claimed_at = now(), lease_until = EXCLUDED.lease_until, "         \
    "done_at = NULL "                                                                              \
    "WHERE (f.done_at IS NULL AND (f.lease_until < now() OR f.owner = EXCLUDED.owner)) "           \
    "OR (f.done_at IS NOT NULL AND f.done_at + $7::bigint * interval '1 millisecond' <= now()) "

/* A lease's end, the lease in ms being parameter $6 (claims) or $2 (renewal). */
#define LEASE_UNTIL   "now() + $6::bigint * interval '1 millisecond'"
#define LEASE_UNTIL_2 "now() + $2::bigint * interval '1 millisecond'"

/* Every statement that locks claim rows locks them in one order, the order of the claim
 * batch's keys (ha_claims.c sorts them bytewise, as the "C" collation does): a renewal that
 * locked in table order deadlocked with another instance's claim batch (PostgreSQL needs
 * deadlock_timeout, 1 s, to see it, and the claims waiting behind ran into their timeout).
 * KEY_ORDER orders flush_claims rows, KEY_ORDER_K the batch's keys (k.r, k.i, k.g, k.h).
 * Lookups of the batch's rows go key by key (a LATERAL subquery, which the planner cannot
 * turn into a join: the primary key finds the row whatever the statistics say; on a fresh
 * table growing by thousands of rows a second they are stale, and a join planned from them
 * scanned every open claim once per key); done/release locks them that way in the order of
 * a sorted copy of the keys (ks). */
#define KEY_ORDER                                                                                  \
    "ORDER BY receiver COLLATE \"C\", integration COLLATE \"C\", group_key COLLATE \"C\", "        \
    "state_hash"
#define KEY_ORDER_K "ORDER BY k.r COLLATE \"C\", k.i COLLATE \"C\", k.g COLLATE \"C\", k.h"
/* Row f is key k; row f is row l of a CTE of locked keys. */
#define KEY_IS_K                                                                                   \
    "f.receiver = k.r AND f.integration = k.i AND f.group_key = k.g AND f.state_hash = k.h"
#define KEY_IS_L                                                                                   \
    "f.receiver = l.receiver AND f.integration = l.integration AND f.group_key = l.group_key "     \
    "AND f.state_hash = l.state_hash"

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
        "now() + $6::bigint * interval '1 millisecond') " CLAIM_CONFLICT "RETURNING f.owner";
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

/* A statement over several rows may lock rows that another instance's statement locks in
 * another order (a claim batch against a finish batch or a renewal): PostgreSQL then aborts
 * one of them with a deadlock (40P01) or a serialization failure (40001). Each statement
 * here is autocommitted on its own, so running it again is safe; without this, one
 * deadlock counted as an outage and sent every queued flush unclaimed. */
static PGresult *exec_rows(struct store_pg *pg, const char *sql, int n, const char *const *v)
{
    PGresult *r = NULL;

    for (int attempt = 0; attempt < 4; attempt++) {
        const char *state;
        r = PQexecParams(store_pg_conn(pg), sql, n, NULL, v, NULL, NULL, 0);
        state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (PQresultStatus(r) != PGRES_FATAL_ERROR || state == NULL ||
            (strcmp(state, "40P01") != 0 && strcmp(state, "40001") != 0)) {
            break;
        }
        log_debug("store", "PostgreSQL: claim statement aborted (SQLSTATE %s), running it again",
                  state);
        PQclear(r);
        r = NULL;
    }
    return r;
}

int store_pg_claims_renew(struct store_pg *pg, const char *owner, int64_t lease_ms, int64_t due_ms,
                          int64_t since_ms, int64_t *n)
{
    /* the open claims of this run whose lease runs out within due_ms (the partial index on
     * lease_until finds them): a fan-out's thousands of claims made a moment ago are left
     * alone, and so are a previous run's that nothing resumed (others take them over) */
    static const char sql[] =
        "WITH l AS MATERIALIZED (SELECT receiver, integration, group_key, state_hash FROM "
        "flush_claims WHERE done_at IS NULL AND lease_until < now() + $3::bigint * interval "
        "'1 millisecond' AND owner = $1 AND claimed_at >= to_timestamp($4::bigint / 1000.0) "
        "" KEY_ORDER " FOR UPDATE) "
        "UPDATE flush_claims f SET lease_until = " LEASE_UNTIL_2 " FROM l "
        "WHERE " KEY_IS_L " AND f.done_at IS NULL";
    char lease[24];
    char due[24];
    char since[24];
    const char *v[4] = {owner, lease, due, since};
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    snprintf(due, sizeof(due), "%lld", (long long)due_ms);
    snprintf(since, sizeof(since), "%lld", (long long)since_ms);
    r = exec_rows(pg, sql, 4, v);
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

int store_pg_claims_now_ms(struct store_pg *pg, int64_t *ms)
{
    char msg[512];
    PGresult *r = store_pg_exec(pg, "SELECT (extract(epoch FROM now()) * 1000)::bigint", 0, NULL,
                                PGRES_TUPLES_OK, 1, msg, sizeof(msg));

    if (r == NULL) {
        log_debug("store", "PostgreSQL: reading the clock: %s", msg);
        return AR_EDB;
    }
    *ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return AR_OK;
}

/* ---- batches ---- */

/* The four key arrays ($1-$4: receivers, integrations, group keys, hashes as hex), text. */
struct key_arrays {
    struct buf a[4];
};

static void key_arrays_build(struct key_arrays *ka, const struct store_pg_claim_key *keys, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    for (int j = 0; j < 4; j++) {
        pg_array_begin(&ka->a[j]);
        buf_reserve(&ka->a[j], 64 * n + 2);
    }
    for (size_t i = 0; i < n; i++) {
        char h[2 * STORE_PG_STATE_HASH_LEN + 1];
        for (int j = 0; j < STORE_PG_STATE_HASH_LEN; j++) {
            h[2 * j] = hex[keys[i].state_hash[j] >> 4];
            h[2 * j + 1] = hex[keys[i].state_hash[j] & 15];
        }
        h[2 * STORE_PG_STATE_HASH_LEN] = '\0';
        pg_array_str(&ka->a[0], keys[i].receiver);
        pg_array_str(&ka->a[1], keys[i].integration);
        pg_array_str(&ka->a[2], keys[i].group_key);
        pg_array_str(&ka->a[3], h);
    }
    for (int j = 0; j < 4; j++) {
        pg_array_end(&ka->a[j]);
    }
}

static void key_arrays_cleanup(struct key_arrays *ka)
{
    for (int j = 0; j < 4; j++) {
        buf_cleanup(&ka->a[j]);
    }
}

#define KEYS_CTE                                                                                   \
    "WITH k AS (SELECT r, i, g, decode(h, 'hex') AS h, n FROM unnest($1::text[], $2::text[], "     \
    "$3::text[], $4::text[]) WITH ORDINALITY AS t(r, i, g, h, n)) "

int store_pg_claim_batch(struct store_pg *pg, const struct store_pg_claim_key *keys, size_t n,
                         const char *owner, int64_t lease_ms, int64_t repeat_ms,
                         enum store_pg_claim_outcome *out)
{
    /* old: the rows as they were before this statement (every part of one statement sees
     * the same snapshot), looked up key by key, to tell a fresh claim from a takeover and
     * a live claim from a recent send. The claim itself is one INSERT ... ON CONFLICT DO
     * UPDATE ... WHERE in key order: it locks every conflicting row, also where the WHERE
     * fails, and in one pass, so it cannot deadlock with another key-ordered statement (a
     * form that inserted new keys and locked takeovers in two parts of one statement did,
     * with another instance's batch: statement timeouts, taken for an outage, sends
     * unclaimed). A row inserted concurrently and not yet visible reads as live. */
    static const char sql[] = KEYS_CTE
        ", old AS (SELECT k.n, x.done, x.mine FROM k CROSS JOIN LATERAL (SELECT "
        "f.done_at IS NOT NULL AS done, f.owner = $5 AS mine FROM flush_claims f "
        "WHERE " KEY_IS_K " OFFSET 0) x) "
        ", c AS (INSERT INTO flush_claims AS f (receiver, integration, group_key, state_hash, "
        "owner, claimed_at, lease_until) SELECT r, i, g, h, $5, now(), " LEASE_UNTIL " FROM k "
        "ORDER BY n " CLAIM_CONFLICT "RETURNING receiver, integration, group_key, state_hash) "
        "SELECT k.n, c.receiver IS NOT NULL, old.done, old.mine FROM k "
        "LEFT JOIN c ON c.receiver = k.r AND c.integration = k.i AND c.group_key = k.g "
        "AND c.state_hash = k.h LEFT JOIN old ON old.n = k.n ORDER BY k.n";
    struct key_arrays ka;
    char lease[24];
    char repeat[24];
    const char *v[7];
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    key_arrays_build(&ka, keys, n);
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    snprintf(repeat, sizeof(repeat), "%lld", (long long)repeat_ms);
    for (int j = 0; j < 4; j++) {
        v[j] = buf_str(&ka.a[j]);
    }
    v[4] = owner;
    v[5] = lease;
    v[6] = repeat;
    r = exec_rows(pg, sql, 7, v);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || (size_t)PQntuples(r) != n) {
        log_debug("store", "PostgreSQL: claiming %zu flushes: %s", n,
                  store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        rc = AR_EDB;
    } else {
        for (size_t i = 0; i < n; i++) {
            bool won = PQgetvalue(r, (int)i, 1)[0] == 't';
            bool had = !PQgetisnull(r, (int)i, 2);
            bool done = had && PQgetvalue(r, (int)i, 2)[0] == 't';
            bool mine = had && PQgetvalue(r, (int)i, 3)[0] == 't';
            if (won) {
                out[i] = had && !done && !mine ? STORE_PG_CLAIM_TAKEOVER : STORE_PG_CLAIM_WON;
            } else {
                out[i] = done ? STORE_PG_CLAIM_LOST_DONE : STORE_PG_CLAIM_LOST;
            }
        }
    }
    PQclear(r);
    key_arrays_cleanup(&ka);
    return rc;
}

int store_pg_claims_finish_batch(struct store_pg *pg, const struct store_pg_claim_key *keys,
                                 size_t n, const char *owner, bool done)
{
#define FINISH_LOCKED                                                                              \
    KEYS_CTE ", ks AS MATERIALIZED (SELECT r, i, g, h FROM k " KEY_ORDER_K ") "                    \
             ", l AS MATERIALIZED (SELECT x.* FROM ks AS k CROSS JOIN LATERAL (SELECT "            \
             "f.receiver, f.integration, f.group_key, f.state_hash FROM flush_claims f WHERE "     \
             "" KEY_IS_K " AND f.owner = $5 AND f.done_at IS NULL FOR UPDATE) x) "
    static const char done_sql[] =
        FINISH_LOCKED "UPDATE flush_claims f SET done_at = now() FROM l WHERE " KEY_IS_L;
    static const char release_sql[] =
        FINISH_LOCKED "UPDATE flush_claims f SET lease_until = now() FROM l WHERE " KEY_IS_L;
    struct key_arrays ka;
    const char *v[5];
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    key_arrays_build(&ka, keys, n);
    for (int j = 0; j < 4; j++) {
        v[j] = buf_str(&ka.a[j]);
    }
    v[4] = owner;
    r = exec_rows(pg, done ? done_sql : release_sql, 5, v);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        store_pg_message(store_pg_conn(pg), msg, sizeof(msg));
        log_debug("store", "PostgreSQL: %s %zu claims: %s", done ? "finishing" : "releasing", n,
                  msg);
        rc = AR_EDB;
    }
    PQclear(r);
    key_arrays_cleanup(&ka);
    return rc;
}

int store_pg_claims_insert_done(struct store_pg *pg, const struct store_pg_claim_key *keys,
                                const int64_t *sent_ms, size_t n, const char *owner,
                                int64_t *inserted)
{
    static const char sql[] =
        "WITH k AS (SELECT r COLLATE \"C\" AS r, i COLLATE \"C\" AS i, g COLLATE \"C\" AS g, "
        "decode(h, 'hex') AS h, to_timestamp(s / 1000.0) AS s "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::bigint[]) "
        "AS t(r, i, g, h, s)) "
        "INSERT INTO flush_claims (receiver, integration, group_key, state_hash, owner, "
        "claimed_at, lease_until, done_at) SELECT DISTINCT ON (r, i, g, h) r, i, g, h, $5, s, s, s "
        "FROM k ORDER BY r, i, g, h, s DESC ON CONFLICT DO NOTHING";
    struct key_arrays ka;
    struct buf sent;
    const char *v[6];
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    key_arrays_build(&ka, keys, n);
    pg_array_begin(&sent);
    for (size_t i = 0; i < n; i++) {
        pg_array_int(&sent, sent_ms[i]);
    }
    pg_array_end(&sent);
    for (int j = 0; j < 4; j++) {
        v[j] = buf_str(&ka.a[j]);
    }
    v[4] = owner;
    v[5] = buf_str(&sent);
    r = exec_rows(pg, sql, 6, v);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_debug("store", "PostgreSQL: recording %zu unclaimed sends: %s", n,
                  store_pg_message(store_pg_conn(pg), msg, sizeof(msg)));
        rc = AR_EDB;
    } else if (inserted != NULL) {
        *inserted = strtoll(PQcmdTuples(r), NULL, 10);
    }
    PQclear(r);
    buf_cleanup(&sent);
    key_arrays_cleanup(&ka);
    return rc;
}

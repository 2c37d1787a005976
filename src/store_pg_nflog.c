/* Notification log in PostgreSQL (ar/store_pg_nflog.h). Fingerprint sets use SQLite's text
 * form (store_nflog_format_set), so both backends' rows read alike. An append and its NOTIFY
 * are one statement, as for silences; publication gathers a batch into one statement (arrays
 * through unnest) and NOTIFYs once per transaction. Either is delivered at commit. */
#include "ar/store_pg_nflog.h"

#include "store_pg_conn.h"

#include "ar/buf.h"
#include "ar/log.h"
#include "ar/pg_array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first NFLOG_PARAMS parameters of an insert into nflog (key, receiver, integration,
 * group_key, sent_at, firing, resolved, expires_at), in num and the sets f and r (initialized
 * here; the caller cleans them up). */
#define NFLOG_PARAMS 8

static void nflog_params(const struct nflog_entry *e, struct buf *f, struct buf *r, char num[2][24],
                         const char **v)
{
    buf_init(f, 0);
    buf_init(r, 0);
    store_nflog_format_set(f, e->firing, e->nfiring);
    store_nflog_format_set(r, e->resolved, e->nresolved);
    snprintf(num[0], 24, "%lld", (long long)e->sent_at);
    snprintf(num[1], 24, "%lld", (long long)e->expires_at);
    v[0] = e->key;
    v[1] = e->receiver;
    v[2] = e->integration;
    v[3] = e->group_key;
    v[4] = num[0];
    v[5] = buf_str(f);
    v[6] = buf_str(r);
    v[7] = num[1];
}

int store_pg_nflog_append(struct store_pg *pg, const struct nflog_entry *e, const char *origin,
                          int64_t *id_out)
{
    static const char sql[] =
        "WITH r AS (INSERT INTO nflog (key, receiver, integration, group_key, sent_at, firing, "
        "resolved, expires_at, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "RETURNING id) SELECT id, pg_notify('" STORE_PG_NFLOG_CHANNEL "', id::text) FROM r";
    struct buf f;
    struct buf r;
    char num[2][24];
    const char *v[9];
    PGresult *res;
    char msg[512];
    int rc = AR_OK;

    nflog_params(e, &f, &r, num, v);
    v[NFLOG_PARAMS] = origin ? origin : "";
    res = store_pg_exec(pg, sql, 9, v, PGRES_TUPLES_OK, 1, msg, sizeof(msg));
    if (res == NULL) {
        log_debug("store", "PostgreSQL: nflog insert: %s", msg);
        rc = AR_EDB;
    } else if (id_out != NULL) {
        *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    buf_cleanup(&f);
    buf_cleanup(&r);
    return rc;
}

struct plain_cb {
    void (*cb)(struct nflog_entry *e, void *ctx);
    void *ctx;
};

static void drop_origin(struct nflog_entry *e, const char *origin, void *ctx)
{
    struct plain_cb *p = ctx;

    (void)origin;
    p->cb(e, p->ctx);
}

int store_pg_nflog_since(struct store_pg *pg, int64_t after_id, const char *skip_origin,
                         int64_t now_ns, void (*cb)(struct nflog_entry *e, void *ctx), void *ctx,
                         int64_t *last_id)
{
    struct plain_cb p = {cb, ctx};

    return store_pg_nflog_since_from(pg, after_id, skip_origin, now_ns, drop_origin, &p, last_id);
}

int store_pg_nflog_since_from(struct store_pg *pg, int64_t after_id, const char *skip_origin,
                              int64_t now_ns,
                              void (*cb)(struct nflog_entry *e, const char *origin, void *ctx),
                              void *ctx, int64_t *last_id)
{
    static const char sql[] =
        "SELECT id, origin, expires_at > $2, key, receiver, integration, group_key, sent_at, "
        "firing, resolved, expires_at FROM nflog WHERE id > $1 ORDER BY id";
    char after[24];
    char now[24];
    const char *v[2] = {after, now};
    PGresult *res;
    char msg[512];
    int64_t last = after_id;
    int n;

    snprintf(after, sizeof(after), "%lld", (long long)after_id);
    snprintf(now, sizeof(now), "%lld", (long long)now_ns);
    res = store_pg_exec(pg, sql, 2, v, PGRES_TUPLES_OK, -1, msg, sizeof(msg));
    if (res == NULL) {
        log_debug("store", "PostgreSQL: reading the nflog: %s", msg);
        return AR_EDB;
    }
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        struct nflog_entry *e;
        last = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if ((skip_origin != NULL && strcmp(PQgetvalue(res, i, 1), skip_origin) == 0) ||
            strcmp(PQgetvalue(res, i, 2), "t") != 0) {
            continue;
        }
        e = ar_calloc(1, sizeof(*e));
        e->key = ar_strdup(PQgetvalue(res, i, 3));
        e->receiver = ar_strdup(PQgetvalue(res, i, 4));
        e->integration = ar_strdup(PQgetvalue(res, i, 5));
        e->group_key = ar_strdup(PQgetvalue(res, i, 6));
        e->sent_at = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        e->nfiring = store_nflog_parse_set(PQgetvalue(res, i, 8), &e->firing);
        e->nresolved = store_nflog_parse_set(PQgetvalue(res, i, 9), &e->resolved);
        e->expires_at = strtoll(PQgetvalue(res, i, 10), NULL, 10);
        cb(e, PQgetvalue(res, i, 1), ctx);
    }
    PQclear(res);
    *last_id = last;
    return AR_OK;
}

int store_pg_nflog_gc(struct store_pg *pg, int64_t now_ns)
{
    static const char sql[] =
        "DELETE FROM nflog n WHERE expires_at <= $1 OR id < (SELECT max(id) FROM nflog m "
        "WHERE m.key = n.key)";
    char now[24];
    const char *v[1] = {now};
    PGresult *res;
    char msg[512];
    int rc = AR_OK;

    snprintf(now, sizeof(now), "%lld", (long long)now_ns);
    res = store_pg_exec(pg, sql, 1, v, PGRES_COMMAND_OK, -1, msg, sizeof(msg));
    if (res == NULL) {
        log_debug("store", "PostgreSQL: nflog gc: %s", msg);
        rc = AR_EDB;
    }
    PQclear(res);
    return rc;
}

/* Columns of a published row, in the order of the batch's arrays. */
enum {
    NB_KEY,
    NB_RECEIVER,
    NB_INTEGRATION,
    NB_GROUP,
    NB_SENT,
    NB_FIRING,
    NB_RESOLVED,
    NB_EXPIRES,
    NB_SEQ,
    NB_COLUMNS
};

void store_pg_nflog_batch_init(struct store_pg_nflog_batch *b)
{
    _Static_assert(AR_ARRAY_LEN(b->col) == NB_COLUMNS, "one array per column");
    b->count = 0;
    for (int i = 0; i < NB_COLUMNS; i++) {
        pg_array_begin(&b->col[i]);
    }
}

void store_pg_nflog_batch_add(struct store_pg_nflog_batch *b, const struct nflog_entry *e,
                              int64_t origin_seq)
{
    struct buf set;

    pg_array_str(&b->col[NB_KEY], e->key);
    pg_array_str(&b->col[NB_RECEIVER], e->receiver);
    pg_array_str(&b->col[NB_INTEGRATION], e->integration);
    pg_array_str(&b->col[NB_GROUP], e->group_key);
    pg_array_int(&b->col[NB_SENT], e->sent_at);
    buf_init(&set, 0);
    store_nflog_format_set(&set, e->firing, e->nfiring);
    pg_array_text(&b->col[NB_FIRING], set.data ? set.data : "", set.len);
    buf_reset(&set);
    store_nflog_format_set(&set, e->resolved, e->nresolved);
    pg_array_text(&b->col[NB_RESOLVED], set.data ? set.data : "", set.len);
    buf_cleanup(&set);
    pg_array_int(&b->col[NB_EXPIRES], e->expires_at);
    pg_array_int(&b->col[NB_SEQ], origin_seq);
    b->count++;
}

void store_pg_nflog_batch_cleanup(struct store_pg_nflog_batch *b)
{
    for (int i = 0; i < NB_COLUMNS; i++) {
        buf_cleanup(&b->col[i]);
    }
    b->count = 0;
}

int store_pg_nflog_batch_publish(struct store_pg *pg, struct store_pg_nflog_batch *b,
                                 const char *origin)
{
    static const char sql[] =
        "INSERT INTO nflog (key, receiver, integration, group_key, sent_at, firing, resolved, "
        "expires_at, origin_seq, origin) SELECT *, $10 FROM unnest($1::text[], $2::text[], "
        "$3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], "
        "$9::bigint[]) ON CONFLICT (origin, origin_seq) DO NOTHING";
    const char *v[NB_COLUMNS + 1];
    PGresult *res;
    char msg[512];
    int rc = AR_OK;

    if (b->count == 0) {
        return AR_OK;
    }
    for (int i = 0; i < NB_COLUMNS; i++) {
        pg_array_end(&b->col[i]);
        v[i] = buf_str(&b->col[i]);
    }
    v[NB_COLUMNS] = origin;
    res = store_pg_exec(pg, sql, NB_COLUMNS + 1, v, PGRES_COMMAND_OK, -1, msg, sizeof(msg));
    if (res == NULL) {
        log_debug("store", "PostgreSQL: publishing %zu nflog rows: %s", b->count, msg);
        rc = AR_EDB;
    }
    PQclear(res);
    store_pg_nflog_batch_cleanup(b);
    store_pg_nflog_batch_init(b);
    return rc;
}

int store_pg_nflog_announce(struct store_pg *pg)
{
    char msg[512];
    PGresult *res = store_pg_exec(pg, "SELECT pg_notify('" STORE_PG_NFLOG_CHANNEL "', '')", 0, NULL,
                                  PGRES_TUPLES_OK, 1, msg, sizeof(msg));

    if (res == NULL) {
        log_debug("store", "PostgreSQL: nflog notify: %s", msg);
        return AR_EDB;
    }
    PQclear(res);
    return AR_OK;
}

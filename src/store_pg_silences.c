/* Silences in PostgreSQL (ar/store_pg_silences.h). The insert and its NOTIFY are one
 * statement (a CTE), hence one implicit transaction: PostgreSQL delivers the notification at
 * commit, never for a row that is not there. The NOTIFY payload (the seq) is only a hint:
 * readers always read every row above the last seq they saw, so a coalesced or missed
 * notification loses nothing. */
#include "ar/store_pg_silences.h"

#include "store_pg_conn.h"

#include "ar/buf.h"
#include "ar/log.h"
#include "ar/store_silences.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first SILENCE_PARAMS parameters of an insert into silence_events (id, event, at,
 * matchers, starts_at, starts_off, ends_at, ends_off, updated_at, created_by, comment), in
 * num and m (initialized here; the caller cleans it up). */
#define SILENCE_PARAMS 11

static void silence_params(const struct silence *s, const char *event, int64_t at_ns, struct buf *m,
                           char num[6][24], const char **params)
{
    buf_init(m, 0);
    store_silence_matchers_to_json(&s->matchers, m);
    snprintf(num[0], 24, "%lld", (long long)at_ns);
    snprintf(num[1], 24, "%lld", (long long)s->starts_at);
    snprintf(num[2], 24, "%d", s->starts_off_min);
    snprintf(num[3], 24, "%lld", (long long)s->ends_at);
    snprintf(num[4], 24, "%d", s->ends_off_min);
    snprintf(num[5], 24, "%lld", (long long)s->updated_at);
    params[0] = s->id;
    params[1] = event;
    params[2] = num[0];
    params[3] = buf_str(m);
    params[4] = num[1];
    params[5] = num[2];
    params[6] = num[3];
    params[7] = num[4];
    params[8] = num[5];
    params[9] = s->created_by ? s->created_by : "";
    params[10] = s->comment ? s->comment : "";
}

int store_pg_silence_append(struct store_pg *pg, const struct silence *s, const char *event,
                            int64_t at_ns, const char *origin, int64_t *seq_out)
{
    static const char sql[] =
        "WITH r AS (INSERT INTO silence_events (id, event, at, matchers, starts_at, starts_off, "
        "ends_at, ends_off, updated_at, created_by, comment, origin) VALUES ($1, $2, $3, $4, "
        "$5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq) "
        "SELECT seq, pg_notify('" STORE_PG_SILENCES_CHANNEL "', seq::text) FROM r";
    char num[6][24];
    const char *params[12];
    struct buf m;
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    silence_params(s, event, at_ns, &m, num, params);
    params[SILENCE_PARAMS] = origin ? origin : "";
    r = store_pg_exec(pg, sql, 12, params, PGRES_TUPLES_OK, 1, msg, sizeof(msg));
    if (r == NULL) {
        log_debug("store", "PostgreSQL: appending silence %s: %s", s->id, msg);
        rc = AR_EDB;
    } else if (seq_out != NULL) {
        *seq_out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    buf_cleanup(&m);
    return rc;
}

struct plain_cb {
    void (*cb)(struct silence *s, void *ctx);
    void *ctx;
};

static void drop_origin(struct silence *s, const char *origin, void *ctx)
{
    struct plain_cb *p = ctx;

    (void)origin;
    p->cb(s, p->ctx);
}

int store_pg_silences_since(struct store_pg *pg, int64_t after_seq, const char *skip_origin,
                            void (*cb)(struct silence *s, void *ctx), void *ctx, int64_t *last_seq)
{
    struct plain_cb p = {cb, ctx};

    return store_pg_silences_since_from(pg, after_seq, skip_origin, drop_origin, &p, last_seq);
}

int store_pg_silences_since_from(struct store_pg *pg, int64_t after_seq, const char *skip_origin,
                                 void (*cb)(struct silence *s, const char *origin, void *ctx),
                                 void *ctx, int64_t *last_seq)
{
    static const char sql[] =
        "SELECT seq, origin, id, matchers, starts_at, starts_off, ends_at, ends_off, "
        "updated_at, created_by, comment FROM silence_events WHERE seq > $1 ORDER BY seq";
    char after[24];
    const char *params[1] = {after};
    PGresult *r;
    char msg[512];
    int64_t last = after_seq;
    int n;

    snprintf(after, sizeof(after), "%lld", (long long)after_seq);
    r = store_pg_exec(pg, sql, 1, params, PGRES_TUPLES_OK, -1, msg, sizeof(msg));
    if (r == NULL) {
        log_debug("store", "PostgreSQL: reading silences: %s", msg);
        return AR_EDB;
    }
    n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct silence *s;
        struct ar_error err;
        last = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        if (skip_origin != NULL && strcmp(PQgetvalue(r, i, 1), skip_origin) == 0) {
            continue;
        }
        s = ar_calloc(1, sizeof(*s));
        snprintf(s->id, sizeof(s->id), "%s", PQgetvalue(r, i, 2));
        matcher_list_init(&s->matchers);
        if (store_silence_matchers_from_json(PQgetvalue(r, i, 3), &s->matchers, &err) != AR_OK) {
            log_warn("store", "skipping stored silence %s: %s", s->id, err.msg);
            matcher_list_cleanup(&s->matchers);
            free(s);
            continue;
        }
        s->starts_at = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        s->starts_off_min = (int16_t)strtol(PQgetvalue(r, i, 5), NULL, 10);
        s->ends_at = strtoll(PQgetvalue(r, i, 6), NULL, 10);
        s->ends_off_min = (int16_t)strtol(PQgetvalue(r, i, 7), NULL, 10);
        s->updated_at = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        s->created_by = ar_strdup(PQgetvalue(r, i, 9));
        s->comment = ar_strdup(PQgetvalue(r, i, 10));
        cb(s, PQgetvalue(r, i, 1), ctx);
    }
    PQclear(r);
    *last_seq = last;
    return AR_OK;
}

int store_pg_silence_publish(struct store_pg *pg, const struct silence *s, const char *event,
                             int64_t at_ns, const char *origin, int64_t origin_seq)
{
    static const char sql[] =
        "WITH r AS (INSERT INTO silence_events (id, event, at, matchers, starts_at, starts_off, "
        "ends_at, ends_off, updated_at, created_by, comment, origin, origin_seq) VALUES ($1, "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (origin, origin_seq) DO NOTHING RETURNING seq) "
        "SELECT seq, pg_notify('" STORE_PG_SILENCES_CHANNEL "', seq::text) FROM r";
    char num[6][24];
    char oseq[24];
    const char *params[13];
    struct buf m;
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    silence_params(s, event, at_ns, &m, num, params);
    snprintf(oseq, sizeof(oseq), "%lld", (long long)origin_seq);
    params[SILENCE_PARAMS] = origin;
    params[SILENCE_PARAMS + 1] = oseq;
    r = store_pg_exec(pg, sql, 13, params, PGRES_TUPLES_OK, -1, msg, sizeof(msg));
    if (r == NULL) {
        log_debug("store", "PostgreSQL: publishing silence %s: %s", s->id, msg);
        rc = AR_EDB;
    }
    PQclear(r);
    buf_cleanup(&m);
    return rc;
}

int store_pg_max_origin_seq(struct store_pg *pg, const char *table, const char *origin,
                            int64_t *out)
{
    char sql[128];
    const char *params[1] = {origin};
    PGresult *r;
    char msg[512];
    int rc = AR_OK;

    if (strcmp(table, "silence_events") != 0 && strcmp(table, "nflog") != 0) {
        return AR_EINVAL;
    }
    snprintf(sql, sizeof(sql), "SELECT coalesce(max(origin_seq), 0) FROM %s WHERE origin = $1",
             table);
    r = store_pg_exec(pg, sql, 1, params, PGRES_TUPLES_OK, 1, msg, sizeof(msg));
    if (r == NULL) {
        log_debug("store", "PostgreSQL: reading the publication cursor of %s: %s", table, msg);
        rc = AR_EDB;
    } else {
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return rc;
}

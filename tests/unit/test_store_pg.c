/* Unit tests of the PostgreSQL store against a real server (docs/ha.md): migrations applied
 * once by two connections, a silence and a notification log entry appended by instance A
 * reaching instance B's listener by NOTIFY and read back whole, an instance's own rows and
 * expired entries skipped, superseded entries collected, and the flush claim's rules
 * (first claim wins, others skip, repeat interval, takeover after an expired lease, lease
 * renewal), publication by (origin, origin_seq) (idempotent, with its cursor), and the live
 * instances (heartbeats by the server's clock, sorted by name). Needs
 * AR_TEST_PG_URL (tests/e2e/26-pg-units.py starts a server and sets it); without it the test
 * reports itself skipped (exit 77, ctest's SKIP_RETURN_CODE). */
#include "ar/clock.h"
#include "ar/embedded.h"
#include "ar/silence.h"
#include "ar/store_pg.h"
#include "ar/store_pg_claims.h"
#include "ar/store_pg_instances.h"
#include "ar/store_pg_listen.h"
#include "ar/store_pg_nflog.h"
#include "ar/store_pg_silences.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *url;

/* The number of the last embedded PostgreSQL migration (the schema version after opening). */
static int last_pg_migration(void)
{
    int last = 0;

    for (const struct ar_embedded_file *m = ar_pg_migrations; m->name != NULL; m++) {
        last = atoi(m->name);
    }
    return last;
}

static struct store_pg *open_store(void)
{
    struct store_pg *pg = NULL;
    struct ar_error err;

    if (store_pg_open(url, NULL, &pg, &err) != AR_OK) {
        fprintf(stderr, "store_pg_open: %s\n", err.msg);
        exit(1);
    }
    return pg;
}

static struct silence *make_silence(const char *id, int64_t ends_at)
{
    struct silence *s = ar_calloc(1, sizeof(*s));
    struct matcher *m = NULL;
    struct ar_error err;

    snprintf(s->id, sizeof(s->id), "%s", id);
    matcher_list_init(&s->matchers);
    CHECK(matcher_new("alertname", MATCHER_EQ, "DiskFull", &m, &err) == AR_OK);
    matcher_list_add_take(&s->matchers, m);
    CHECK(matcher_new("team", MATCHER_RE, "db|ops", &m, &err) == AR_OK);
    matcher_list_add_take(&s->matchers, m);
    s->starts_at = 1700000000000000000LL;
    s->ends_at = ends_at;
    s->updated_at = 1700000000123456789LL;
    s->starts_off_min = 120;
    s->ends_off_min = -300;
    s->created_by = ar_strdup("alice");
    s->comment = ar_strdup("maintenance, 'quoted' \"text\" ünïcode");
    return s;
}

struct got {
    struct silence *v[8];
    size_t n;
    char origins[8][32]; /* note_origin */
};

static void collect(struct silence *s, void *ctx)
{
    struct got *g = ctx;

    if (g->n < 8) {
        g->v[g->n++] = s;
    } else {
        silence_free(s);
    }
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        silence_free(g->v[i]);
    }
    g->n = 0;
}

static void test_silence_propagation(void)
{
    struct store_pg *a = open_store();
    struct store_pg *b = open_store();
    const char *channels[] = {STORE_PG_SILENCES_CHANNEL};
    struct store_pg_listener *lb = NULL;
    struct ar_error err;
    struct silence *s = make_silence("6a1f3c1e-0d5b-4c47-9a4e-2c7f0b9d1e01", 1700003600000000000LL);
    struct got g = {0};
    char channel[64];
    char payload[32];
    int64_t seq = 0;
    int64_t last_b = 0;
    int64_t last_a = 0;
    int64_t t0;
    int rc;

    CHECK_INT(store_pg_schema_version(a), last_pg_migration());
    CHECK_INT(store_pg_schema_version(b), last_pg_migration());
    CHECK(store_pg_listen_open(url, NULL, channels, 1, &lb, &err) == AR_OK);
    /* nothing yet: a short wait times out */
    CHECK_INT(store_pg_listen_wait(lb, 100, channel, sizeof(channel), NULL, 0), 0);
    CHECK(store_pg_silences_since(b, 0, "B", collect, &g, &last_b) == AR_OK);
    CHECK_INT(g.n, 0);

    t0 = clock_monotonic_ns();
    CHECK(store_pg_silence_append(a, s, "created", 1700000000000000001LL, "A", &seq) == AR_OK);
    CHECK(seq > 0);
    rc = store_pg_listen_wait(lb, 5000, channel, sizeof(channel), payload, sizeof(payload));
    CHECK_INT(rc, 1);
    printf("NOTIFY from A reached B's listener after %.1f ms\n",
           (double)(clock_monotonic_ns() - t0) / 1e6);
    CHECK_STR(channel, STORE_PG_SILENCES_CHANNEL);
    CHECK_INT(strtoll(payload, NULL, 10), seq);

    CHECK(store_pg_silences_since(b, last_b, "B", collect, &g, &last_b) == AR_OK);
    CHECK_INT(g.n, 1);
    CHECK_INT(last_b, seq);
    if (g.n == 1) {
        const struct silence *r = g.v[0];
        CHECK_STR(r->id, s->id);
        CHECK_INT(r->matchers.n, 2);
        CHECK_STR(r->matchers.v[0]->name, "alertname");
        CHECK_STR(r->matchers.v[1]->value, "db|ops");
        CHECK_INT(r->matchers.v[1]->op, MATCHER_RE);
        CHECK_INT(r->starts_at, s->starts_at);
        CHECK_INT(r->ends_at, s->ends_at);
        CHECK_INT(r->updated_at, s->updated_at);
        CHECK_INT(r->starts_off_min, 120);
        CHECK_INT(r->ends_off_min, -300);
        CHECK_STR(r->created_by, "alice");
        CHECK_STR(r->comment, s->comment);
    }
    got_free(&g);

    /* the writer skips its own rows but moves past them */
    CHECK(store_pg_silences_since(a, 0, "A", collect, &g, &last_a) == AR_OK);
    CHECK_INT(g.n, 0);
    CHECK_INT(last_a, seq);

    /* an update: B reads only the new version */
    s->ends_at = 1700000001000000000LL;
    s->updated_at += 1000;
    CHECK(store_pg_silence_append(a, s, "expired", 1700000001000000000LL, "A", NULL) == AR_OK);
    CHECK_INT(store_pg_listen_wait(lb, 5000, channel, sizeof(channel), NULL, 0), 1);
    CHECK(store_pg_silences_since(b, last_b, "B", collect, &g, &last_b) == AR_OK);
    CHECK_INT(g.n, 1);
    if (g.n == 1) {
        CHECK_INT(g.v[0]->ends_at, 1700000001000000000LL);
    }
    got_free(&g);

    silence_free(s);
    store_pg_listen_close(lb);
    store_pg_close(a);
    store_pg_close(b);
}

struct entries {
    struct nflog_entry *v[8];
    size_t n;
};

static void collect_entry(struct nflog_entry *e, void *ctx)
{
    struct entries *g = ctx;

    if (g->n < 8) {
        g->v[g->n++] = e;
    } else {
        nflog_entry_free(e);
    }
}

static void entries_free(struct entries *g)
{
    for (size_t i = 0; i < g->n; i++) {
        nflog_entry_free(g->v[i]);
    }
    g->n = 0;
}

static void test_nflog_propagation(void)
{
    struct store_pg *a = open_store();
    struct store_pg *b = open_store();
    const char *channels[] = {STORE_PG_SILENCES_CHANNEL, STORE_PG_NFLOG_CHANNEL};
    struct store_pg_listener *lb = NULL;
    struct ar_error err;
    uint64_t firing[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    uint64_t resolved[1] = {0x00000000000000ffULL};
    struct nflog_entry e = {
        .key = "team/webhook[0]/{}:{alertname=\"A\"}",
        .receiver = "team",
        .integration = "webhook[0]",
        .group_key = "{}:{alertname=\"A\"}",
        .sent_at = 1700000000000000000LL,
        .firing = firing,
        .nfiring = 2,
        .resolved = resolved,
        .nresolved = 1,
        .expires_at = 1700000900000000000LL,
    };
    struct entries g = {0};
    char channel[64];
    int64_t id = 0;
    int64_t last = 0;
    int64_t now = 1700000000500000000LL;

    CHECK(store_pg_listen_open(url, NULL, channels, 2, &lb, &err) == AR_OK);
    CHECK(store_pg_nflog_append(a, &e, "A", &id) == AR_OK);
    CHECK(id > 0);
    CHECK_INT(store_pg_listen_wait(lb, 5000, channel, sizeof(channel), NULL, 0), 1);
    CHECK_STR(channel, STORE_PG_NFLOG_CHANNEL);
    CHECK(store_pg_nflog_since(b, 0, "B", now, collect_entry, &g, &last) == AR_OK);
    CHECK_INT(g.n, 1);
    CHECK_INT(last, id);
    if (g.n == 1) {
        CHECK_STR(g.v[0]->key, e.key);
        CHECK_STR(g.v[0]->group_key, e.group_key);
        CHECK_INT(g.v[0]->sent_at, e.sent_at);
        CHECK_INT(g.v[0]->expires_at, e.expires_at);
        CHECK_INT(g.v[0]->nfiring, 2);
        CHECK(g.v[0]->nfiring == 2 && g.v[0]->firing[1] == 0xfedcba9876543210ULL);
        CHECK(g.v[0]->nresolved == 1 && g.v[0]->resolved[0] == 0xffULL);
    }
    entries_free(&g);
    /* own rows skipped; an entry expired at now is not handed out */
    CHECK(store_pg_nflog_since(a, 0, "A", now, collect_entry, &g, &last) == AR_OK);
    CHECK_INT(g.n, 0);
    CHECK(store_pg_nflog_since(b, 0, "B", e.expires_at, collect_entry, &g, &last) == AR_OK);
    CHECK_INT(g.n, 0);
    /* a newer send of the same key supersedes the first; gc keeps only it */
    e.sent_at += 1000;
    e.nresolved = 0;
    CHECK(store_pg_nflog_append(b, &e, "B", &id) == AR_OK);
    CHECK(store_pg_nflog_gc(a, now) == AR_OK);
    CHECK(store_pg_nflog_since(a, 0, NULL, now, collect_entry, &g, &last) == AR_OK);
    CHECK_INT(g.n, 1);
    if (g.n == 1) {
        CHECK_INT(g.v[0]->sent_at, e.sent_at);
        CHECK_INT(g.v[0]->nresolved, 0);
    }
    entries_free(&g);

    store_pg_listen_close(lb);
    store_pg_close(a);
    store_pg_close(b);
}

static void note_origin(struct silence *s, const char *origin, void *ctx)
{
    struct got *g = ctx;

    if (g->n < 8) {
        snprintf(g->origins[g->n], sizeof(g->origins[0]), "%s", origin);
    }
    collect(s, ctx);
}

/* Publication (src/ha_sync.c): idempotent by (origin, origin_seq), the cursor is the
 * highest origin_seq of an origin, readers get each row's origin. */
static void test_publication(void)
{
    struct store_pg *a = open_store();
    struct store_pg *b = open_store();
    struct silence *s = make_silence("6f1c2f4e-0000-4000-8000-00000000a0b1", 1700000900000000000LL);
    struct got g = {0};
    int64_t cur = -1;
    int64_t last = 0;
    struct store_pg_nflog_batch nb;
    uint64_t firing[1] = {0x42ULL};
    struct nflog_entry e = {
        .key = "team/webhook[0]/{}:{alertname=\"P\"}",
        .receiver = "team",
        .integration = "webhook[0]",
        .group_key = "{}:{alertname=\"P\"}",
        .sent_at = 1700000000000000000LL,
        .firing = firing,
        .nfiring = 1,
        .expires_at = 4000000000000000000LL,
    };
    struct entries ge = {0};

    CHECK(store_pg_max_origin_seq(a, "silence_events", "PUB", &cur) == AR_OK);
    CHECK_INT(cur, 0);
    CHECK(store_pg_max_origin_seq(a, "nope", "PUB", &cur) == AR_EINVAL);
    CHECK(store_pg_silence_publish(a, s, "created", 1700000000000000001LL, "PUB", 7) == AR_OK);
    /* the same row again (a batch retried after a lost COMMIT answer): no second row */
    CHECK(store_pg_silence_publish(a, s, "created", 1700000000000000001LL, "PUB", 7) == AR_OK);
    s->updated_at += 5;
    CHECK(store_pg_silence_publish(a, s, "updated", 1700000000000000002LL, "PUB", 9) == AR_OK);
    CHECK(store_pg_max_origin_seq(b, "silence_events", "PUB", &cur) == AR_OK);
    CHECK_INT(cur, 9);
    CHECK(store_pg_silences_since_from(b, 0, "B", note_origin, &g, &last) == AR_OK);
    {
        size_t mine = 0;
        for (size_t i = 0; i < g.n; i++) {
            if (strcmp(g.v[i]->id, s->id) == 0) {
                CHECK_STR(g.origins[i], "PUB");
                mine++;
            }
        }
        CHECK_INT(mine, 2);
    }
    got_free(&g);

    /* published twice (a batch whose COMMIT answer was lost): stored once */
    store_pg_nflog_batch_init(&nb);
    store_pg_nflog_batch_add(&nb, &e, 3);
    CHECK(store_pg_nflog_batch_publish(a, &nb, "PUB") == AR_OK);
    store_pg_nflog_batch_add(&nb, &e, 3);
    CHECK(store_pg_nflog_batch_publish(a, &nb, "PUB") == AR_OK);
    CHECK(store_pg_nflog_batch_publish(a, &nb, "PUB") == AR_OK); /* empty */
    store_pg_nflog_batch_cleanup(&nb);
    CHECK(store_pg_max_origin_seq(b, "nflog", "PUB", &cur) == AR_OK);
    CHECK_INT(cur, 3);
    CHECK(store_pg_nflog_since(b, 0, "B", 1700000000500000000LL, collect_entry, &ge, &last) ==
          AR_OK);
    {
        size_t mine = 0;
        for (size_t i = 0; i < ge.n; i++) {
            mine += strcmp(ge.v[i]->key, e.key) == 0;
        }
        CHECK_INT(mine, 1);
    }
    entries_free(&ge);
    silence_free(s);
    store_pg_close(a);
    store_pg_close(b);
}

static void key(struct store_pg_claim_key *k, const char *group, const char *firing)
{
    k->receiver = "team";
    k->integration = "webhook[0]";
    k->group_key = group;
    store_pg_state_hash(firing, "", k->state_hash);
}

static void test_claims(void)
{
    struct store_pg *a = open_store();
    struct store_pg *b = open_store();
    struct store_pg_claim_key k1;
    struct store_pg_claim_key k2;
    uint8_t h1[STORE_PG_STATE_HASH_LEN];
    uint8_t h2[STORE_PG_STATE_HASH_LEN];
    bool won = false;
    int64_t n = 0;
    int64_t since = 0;
    int64_t deadline;

    /* SHA-256 of "\n" (no firing, no resolved) starts 01 ba 47 19 */
    store_pg_state_hash("", "", h1);
    CHECK(h1[0] == 0x01 && h1[1] == 0xba && h1[2] == 0x47 && h1[3] == 0x19);
    store_pg_state_hash("aa", "", h1);
    store_pg_state_hash("", "aa", h2);
    CHECK(memcmp(h1, h2, sizeof(h1)) != 0);

    key(&k1, "{}:{alertname=\"A\"}", "0000000000000001 0000000000000002");
    CHECK(store_pg_claim(a, &k1, "A", 60000, 3600000, &won) == AR_OK);
    CHECK(won);
    CHECK(store_pg_claim(b, &k1, "B", 60000, 3600000, &won) == AR_OK);
    CHECK(!won); /* A's live claim */
    CHECK(store_pg_claim(a, &k1, "A", 60000, 3600000, &won) == AR_OK);
    CHECK(won); /* A's own unfinished claim (a delivery resumed after a restart) */
    CHECK(store_pg_claim(b, &k1, "B", 60000, 3600000, &won) == AR_OK);
    CHECK(!won); /* still A's */
    CHECK(store_pg_claim_done(a, &k1, "A") == AR_OK);
    CHECK(store_pg_claim(a, &k1, "A", 60000, 3600000, &won) == AR_OK);
    CHECK(!won); /* done, even by A itself, within the repeat interval */
    CHECK(store_pg_claim(b, &k1, "B", 60000, 3600000, &won) == AR_OK);
    CHECK(!won); /* sent within the repeat interval */
    CHECK(store_pg_claim(b, &k1, "B", 60000, 0, &won) == AR_OK);
    CHECK(won); /* repeat interval elapsed */
    CHECK(store_pg_claim(a, &k1, "A", 60000, 0, &won) == AR_OK);
    CHECK(!won); /* B's claim is live again */

    /* another state of the same group is another claim */
    key(&k2, "{}:{alertname=\"A\"}", "0000000000000001");
    CHECK(store_pg_claim(a, &k2, "A", 1, 3600000, &won) == AR_OK);
    CHECK(won);
    /* A dies holding it: B takes it over once the lease (1 ms) has passed */
    won = false;
    deadline = clock_monotonic_ns() + 10 * 1000000000LL;
    while (!won && clock_monotonic_ns() < deadline) {
        CHECK(store_pg_claim(b, &k2, "B", 60000, 3600000, &won) == AR_OK);
        if (!won) {
            nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
        }
    }
    CHECK(won);
    /* A, back, cannot finish or retake what B holds */
    CHECK(store_pg_claim_done(a, &k2, "A") == AR_OK);
    CHECK(store_pg_claim(a, &k2, "A", 60000, 0, &won) == AR_OK);
    CHECK(!won);
    /* B renews its open leases (k1 and k2) that run out within the due time: none within
     * 1 s, both within 61 s; none made since now (a later run of B does not renew them) */
    CHECK(store_pg_claims_renew(b, "B", 60000, 1000, 0, &n) == AR_OK);
    CHECK_INT(n, 0);
    CHECK(store_pg_claims_renew(b, "B", 60000, 61000, 0, &n) == AR_OK);
    CHECK_INT(n, 2);
    nanosleep(&(struct timespec){0, 5 * 1000000}, NULL);
    CHECK(store_pg_claims_now_ms(b, &since) == AR_OK);
    CHECK(since > 1700000000000LL);
    CHECK(store_pg_claims_renew(b, "B", 60000, 61000, since, &n) == AR_OK);
    CHECK_INT(n, 0);
    CHECK(store_pg_claim_done(b, &k2, "B") == AR_OK);
    CHECK(store_pg_claims_renew(b, "B", 60000, 61000, 0, &n) == AR_OK);
    CHECK_INT(n, 1);

    store_pg_close(a);
    store_pg_close(b);
}

/* The batch forms (ar/ha_claims.h): outcomes per key in one statement, group keys with
 * quotes and backslashes intact, done/release, unclaimed sends recorded as done claims. */
static void test_claim_batch(void)
{
    struct store_pg *a = open_store();
    struct store_pg *b = open_store();
    struct store_pg_claim_key k[3];
    enum store_pg_claim_outcome out[3];
    int64_t sent[3] = {0, 0, 0};
    int64_t n = -1;
    int64_t deadline;

    key(&k[0], "{}:{alertname=\"B\\\"q\\\\x\"}", "0000000000000001");
    key(&k[1], "{}:{alertname=\"C,{}\"}", "0000000000000001");
    key(&k[2], "{}:{alertname=\"D\"}", "0000000000000001");
    CHECK(store_pg_claim_batch(a, k, 2, "A", 60000, 3600000, out) == AR_OK);
    CHECK(out[0] == STORE_PG_CLAIM_WON && out[1] == STORE_PG_CLAIM_WON);
    CHECK(store_pg_claim_batch(b, k, 3, "B", 60000, 3600000, out) == AR_OK);
    CHECK(out[0] == STORE_PG_CLAIM_LOST && out[1] == STORE_PG_CLAIM_LOST);
    CHECK(out[2] == STORE_PG_CLAIM_WON);
    /* A's own unfinished claims are won again, as won, not taken over */
    CHECK(store_pg_claim_batch(a, k, 2, "A", 60000, 3600000, out) == AR_OK);
    CHECK(out[0] == STORE_PG_CLAIM_WON && out[1] == STORE_PG_CLAIM_WON);
    /* the single-key form sees the same rows: the group keys arrived unmangled */
    {
        bool won = true;
        CHECK(store_pg_claim(b, &k[0], "B", 60000, 3600000, &won) == AR_OK);
        CHECK(!won);
    }
    CHECK(store_pg_claims_finish_batch(a, k, 1, "A", true) == AR_OK);      /* k0 done */
    CHECK(store_pg_claims_finish_batch(a, k + 1, 1, "A", false) == AR_OK); /* k1 released */
    CHECK(store_pg_claim_batch(b, k, 2, "B", 60000, 3600000, out) == AR_OK);
    CHECK(out[0] == STORE_PG_CLAIM_LOST_DONE);
    /* released: taken over at once (the lease ends at now(), strictly before a later now()) */
    deadline = clock_monotonic_ns() + 10 * 1000000000LL;
    while (out[1] != STORE_PG_CLAIM_TAKEOVER && clock_monotonic_ns() < deadline) {
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
        CHECK(store_pg_claim_batch(b, k + 1, 1, "B", 60000, 3600000, out + 1) == AR_OK);
    }
    CHECK(out[1] == STORE_PG_CLAIM_TAKEOVER);

    /* an outage's sends: inserted as done unless a claim exists */
    key(&k[0], "{}:{alertname=\"E\"}", "0000000000000001");
    sent[0] = clock_now_ns() / 1000000;
    CHECK(store_pg_claims_insert_done(a, k, sent, 2, "A", &n) == AR_OK);
    CHECK_INT(n, 1);
    CHECK(store_pg_claim_batch(b, k, 1, "B", 60000, 3600000, out) == AR_OK);
    CHECK(out[0] == STORE_PG_CLAIM_LOST_DONE);

    store_pg_close(a);
    store_pg_close(b);
}

static void test_instances(void)
{
    struct store_pg *a = open_store();
    struct store_pg_peer peers[4];
    size_t n = 0;
    int64_t deadline;

    CHECK(store_pg_instance_beat(a, "01BBBBBBBBBBBBBBBBBBBBBBBB", "127.0.0.1:9094",
                                 "http://b:9093/", "0.1.0", true) == AR_OK);
    CHECK(store_pg_instance_beat(a, "01AAAAAAAAAAAAAAAAAAAAAAAA", "127.0.0.2:9094",
                                 "http://a:9093/", "0.1.0", true) == AR_OK);
    CHECK(store_pg_instances_live(a, 60000, peers, 4, &n) == AR_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(peers[0].name, "01AAAAAAAAAAAAAAAAAAAAAAAA");
        CHECK_STR(peers[0].address, "127.0.0.2:9094");
        CHECK_STR(peers[1].name, "01BBBBBBBBBBBBBBBBBBBBBBBB");
    }
    CHECK(store_pg_instances_live(a, 60000, peers, 1, &n) == AR_OK);
    CHECK_INT(n, 1);
    /* with a 1 s window both fall out once their heartbeats age; a new beat brings one back
     * (1 s is generous for the beat-then-read below on a slow machine) */
    deadline = clock_monotonic_ns() + 20 * 1000000000LL;
    do {
        nanosleep(&(struct timespec){0, 100 * 1000000}, NULL);
        CHECK(store_pg_instances_live(a, 1000, peers, 4, &n) == AR_OK);
    } while (n != 0 && clock_monotonic_ns() < deadline);
    CHECK_INT(n, 0);
    CHECK(store_pg_instance_beat(a, "01BBBBBBBBBBBBBBBBBBBBBBBB", "127.0.0.1:9095",
                                 "http://b:9093/", "0.1.0", false) == AR_OK);
    CHECK(store_pg_instances_live(a, 1000, peers, 4, &n) == AR_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(peers[0].address, "127.0.0.1:9095");
    }
    CHECK(store_pg_instances_live(a, 3600000, peers, 4, &n) == AR_OK);
    CHECK_INT(n, 2);
    store_pg_close(a);
}

int main(void)
{
    url = getenv("AR_TEST_PG_URL");
    if (url == NULL || url[0] == '\0') {
        printf("skipped: AR_TEST_PG_URL is not set (tests/e2e/26-pg-units.py runs this test "
               "against a real PostgreSQL)\n");
        return 77;
    }
    test_silence_propagation();
    test_nflog_propagation();
    test_publication();
    test_claims();
    test_claim_batch();
    test_instances();
    return CHECK_DONE();
}

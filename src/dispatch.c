/* Aggregation groups and flushes (ar/dispatch.h).
 *
 * A group is identified by its route and its group labels (COMPAT 5.2); the group key string
 * (route key + group labels) is what notifications, the notification log and the outbox
 * carry, but it is not an identity: sibling routes with the same matchers print the same
 * key, and their groups must stay apart, each notifying its own receiver. A group holds its own
 * references to the current version of each alert (an alert_store keyed by fingerprint),
 * its timer (a slot in the dispatcher's min-heap) and at most one flush in flight. A flush
 * snapshots the alerts, filters them through the pipeline, and submits one notify_job per
 * integration that passes dedup; the flush completes when every job has reported back
 * through dispatcher_send_done. A tick that comes while a flush is in flight is kept and run
 * as soon as that flush completes, as Alertmanager's synchronous flush would.
 *
 * For GET /api/v2/alerts/groups the dispatcher keeps the groups' API order (re-sorted only
 * after a group is created or removed) and each group's serialised labels/receiver tail.
 *
 * Flush state outlives groups: a reload frees the groups but in-flight sends still find
 * their struct flush (with group == NULL) and record the notification log. */
#include "ar/dispatch.h"

#include "ar/alert_store.h"
#include "ar/clock.h"
#include "ar/ha_claims.h"
#include "ar/incident.h"
#include "ar/inhibit.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/nflog.h"
#include "ar/outbox.h"
#include "ar/silence.h"
#include "ar/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_INTERVAL_NS (30LL * AR_NS_PER_SEC) /* COMPAT 0.25: empty groups reaped */
#define MIN_DEADLINE_NS   (10LL * AR_NS_PER_SEC) /* COMPAT 5.8: max(group_interval, 10s) */
#define FLUSH_BUDGET_NS   (2LL * AR_NS_PER_MS)   /* flushing per core turn; the rest stay due */

struct agroup;

struct flush {
    struct agroup *group; /* NULL once the group is gone */
    int pending;          /* sends outstanding */
    bool failed;
    struct alert **snap; /* every alert of the group at flush time (references) */
    size_t nsnap;
    int64_t now_wall;
    int64_t incident_id; /* the group's incident (ar/incident.h), 0 for none */
    bool retry;          /* a claim was held live by another instance: keep resolved alerts */
};

struct send_ctx {
    struct flush *flush; /* NULL for a stored delivery re-submitted (resume, replay) */
    int64_t delivery_id; /* deliveries row, 0 without an outbox */
    bool record_nflog;   /* re-submitted: record the stored sets on success */
    int64_t incident_id; /* the flush's incident, 0 for none */
    char *receiver;
    char *integration; /* "webhook[0]" */
    enum integration_type type;
    char *group_key;
    uint64_t *firing;
    size_t nfiring;
    uint64_t *resolved;
    size_t nresolved;
    int64_t now_wall;
    int64_t expires_at;
    /* completion, called on the notifier thread (the core forwards it to its own thread) */
    void (*send_done)(void *ctx, struct send_ctx *sc, const struct notify_result *res);
    void (*send_retry)(void *ctx, int64_t delivery_id, const struct notify_result *res);
    void *send_done_ctx;
    struct claim_wait *claim; /* PostgreSQL mode: the claim this send won, else NULL */
};

/* A send waiting for its claim (PostgreSQL mode): what flush_integration would have done
 * at once, kept until the claimer decides. */
struct claim_wait {
    struct ha_claim_req req; /* strings point into sc */
    struct ha_claims *claims;
    void (*forward)(void *ctx, struct claim_wait *cw);
    void *forward_ctx;
    struct notify_job *job;
    struct send_ctx *sc;
    char *payload; /* the outbox row's, NULL without an outbox */
    struct delivery_summary sum;
    uint64_t *news; /* sum's arrays */
};

struct agroup {
    char *key;
    uint64_t hash;
    struct agroup *next;       /* hash chain */
    const struct route *route; /* inside the dispatcher's config */
    struct labelset labels;
    struct alert_store *alerts; /* fingerprint -> current version */
    int64_t next_mono;          /* timer; INT64_MAX when unarmed */
    size_t heap_idx;
    bool has_flushed;
    bool tick_pending; /* a tick came during the flush in flight */
    struct flush *inflight;
    char *api_tail; /* `],"labels":{...},"receiver":{"name":"..."}}` for the groups API */
    size_t api_tail_len;
};

struct dispatcher {
    struct config *cfg;
    struct dispatch_env env;
    struct agroup **table;
    size_t nbuckets;
    size_t ngroups;
    struct agroup **heap;
    size_t nheap;
    size_t heap_cap;
    int64_t next_sweep_mono;
    /* API order of all groups (dispatcher_groups_snapshot); rebuilt when stale */
    struct agroup **order;
    size_t norder;
    bool order_stale;
    struct buf payload_scratch; /* outbox payloads are built here (outbox_payload_encode) */
};

/* ---- heap of group timers ---- */

static void heap_swap(struct dispatcher *d, size_t i, size_t j)
{
    struct agroup *t = d->heap[i];

    d->heap[i] = d->heap[j];
    d->heap[j] = t;
    d->heap[i]->heap_idx = i;
    d->heap[j]->heap_idx = j;
}

static void heap_up(struct dispatcher *d, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (d->heap[p]->next_mono <= d->heap[i]->next_mono) {
            break;
        }
        heap_swap(d, i, p);
        i = p;
    }
}

static void heap_down(struct dispatcher *d, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < d->nheap && d->heap[l]->next_mono < d->heap[m]->next_mono) {
            m = l;
        }
        if (r < d->nheap && d->heap[r]->next_mono < d->heap[m]->next_mono) {
            m = r;
        }
        if (m == i) {
            return;
        }
        heap_swap(d, i, m);
        i = m;
    }
}

static void heap_push(struct dispatcher *d, struct agroup *g)
{
    if (d->nheap == d->heap_cap) {
        d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 64;
        d->heap = ar_realloc(d->heap, d->heap_cap * sizeof(*d->heap));
    }
    g->heap_idx = d->nheap;
    d->heap[d->nheap++] = g;
    heap_up(d, g->heap_idx);
}

static void heap_remove(struct dispatcher *d, struct agroup *g)
{
    size_t i = g->heap_idx;

    d->nheap--;
    if (i != d->nheap) {
        heap_swap(d, i, d->nheap);
        heap_down(d, i);
        heap_up(d, i);
    }
}

static void arm(struct dispatcher *d, struct agroup *g, int64_t at_mono)
{
    int64_t old = g->next_mono;

    g->next_mono = at_mono;
    if (at_mono < old) {
        heap_up(d, g->heap_idx);
    } else {
        heap_down(d, g->heap_idx);
    }
}

/* ---- group keys and ordering ---- */

void dispatch_format_group_key(const char *route_key, const struct labelset *group_labels,
                               struct buf *out)
{
    buf_puts(out, route_key);
    buf_puts(out, ":{");
    for (size_t i = 0; i < group_labels->n; i++) {
        if (i > 0) {
            buf_puts(out, ", ");
        }
        buf_puts(out, group_labels->v[i].name);
        buf_putc(out, '=');
        buf_go_quote(out, group_labels->v[i].value);
    }
    buf_putc(out, '}');
}

/* COMPAT 2.7: by job (present first), then instance, then label-set order. */
static int cmp_label(const struct alert *a, const struct alert *b, const char *name)
{
    const char *x = labelset_get(&a->labels, name);
    const char *y = labelset_get(&b->labels, name);

    if (x != NULL && y != NULL) {
        return strcmp(x, y);
    }
    if (x != NULL) {
        return -1;
    }
    return y != NULL ? 1 : 0;
}

static int cmp_alerts(const void *pa, const void *pb)
{
    const struct alert *a = *(struct alert *const *)pa;
    const struct alert *b = *(struct alert *const *)pb;
    int c = cmp_label(a, b, "job");

    if (c == 0) {
        c = cmp_label(a, b, "instance");
    }
    if (c == 0) {
        c = labelset_compare(&a->labels, &b->labels);
    }
    return c;
}

void dispatch_sort_alerts(struct alert **v, size_t n)
{
    /* labelset_compare is a total order on distinct label sets, so qsort's instability
     * cannot reorder elements that compare equal (equal sets would be the same alert). */
    qsort(v, n, sizeof(*v), cmp_alerts);
}

/* ---- groups ---- */

static uint64_t hash_str(const char *s)
{
    return labels_fnv1a_add(labels_fnv1a_init(), s, strlen(s));
}

/* The group of route r with this key, i.e. with these group labels. */
static struct agroup *group_find(const struct dispatcher *d, const struct route *r, const char *key,
                                 uint64_t h)
{
    for (struct agroup *g = d->table[h & (d->nbuckets - 1)]; g != NULL; g = g->next) {
        if (g->hash == h && g->route == r && strcmp(g->key, key) == 0) {
            return g;
        }
    }
    return NULL;
}

static void table_grow(struct dispatcher *d)
{
    size_t nb = d->nbuckets * 2;
    struct agroup **t = ar_calloc(nb, sizeof(*t));

    for (size_t i = 0; i < d->nbuckets; i++) {
        struct agroup *g = d->table[i];
        while (g != NULL) {
            struct agroup *next = g->next;
            g->next = t[g->hash & (nb - 1)];
            t[g->hash & (nb - 1)] = g;
            g = next;
        }
    }
    free(d->table);
    d->table = t;
    d->nbuckets = nb;
}

static void group_free(struct agroup *g)
{
    if (g->inflight != NULL) {
        g->inflight->group = NULL;
    }
    alert_store_free(g->alerts);
    labelset_cleanup(&g->labels);
    free(g->api_tail);
    free(g->key);
    free(g);
}

static void group_destroy(struct dispatcher *d, struct agroup *g)
{
    struct agroup **pp = &d->table[g->hash & (d->nbuckets - 1)];

    while (*pp != g) {
        pp = &(*pp)->next;
    }
    *pp = g->next;
    heap_remove(d, g);
    d->ngroups--;
    d->order_stale = true;
    group_free(g);
}

struct dispatcher *dispatcher_new(struct config *cfg, const struct dispatch_env *env)
{
    struct dispatcher *d = ar_calloc(1, sizeof(*d));

    d->cfg = config_ref(cfg);
    d->env = *env;
    d->nbuckets = 256;
    d->table = ar_calloc(d->nbuckets, sizeof(*d->table));
    buf_init(&d->payload_scratch, 0);
    d->next_sweep_mono = clock_monotonic_ns() + SWEEP_INTERVAL_NS;
    return d;
}

void dispatcher_free(struct dispatcher *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < d->nbuckets; i++) {
        struct agroup *g = d->table[i];
        while (g != NULL) {
            struct agroup *next = g->next;
            group_free(g);
            g = next;
        }
    }
    free(d->table);
    free(d->heap);
    free(d->order);
    buf_cleanup(&d->payload_scratch);
    config_unref(d->cfg);
    free(d);
}

size_t dispatcher_group_count(const struct dispatcher *d)
{
    return d->ngroups;
}

bool dispatcher_has_group(const struct dispatcher *d, const char *receiver, const char *group_key)
{
    uint64_t h = hash_str(group_key);

    for (struct agroup *g = d->table[h & (d->nbuckets - 1)]; g != NULL; g = g->next) {
        if (g->hash == h && strcmp(g->key, group_key) == 0 &&
            strcmp(g->route->receiver, receiver) == 0) {
            return g->route->receiver_ref != NULL && g->route->receiver_ref->nintegrations > 0;
        }
    }
    return false;
}

const struct dispatch_metrics *dispatcher_metrics(const struct dispatcher *d)
{
    return d->env.metrics;
}

static void group_labels_of(const struct route *r, const struct labelset *ls, struct labelset *out)
{
    labelset_init(out);
    if (r->group_by_all) {
        labelset_dup(out, ls);
        return;
    }
    for (size_t i = 0; i < r->ngroup_by; i++) {
        const char *v = labelset_get(ls, r->group_by[i]);
        if (v != NULL) {
            labelset_set(out, r->group_by[i], v);
        }
    }
}

static void group_api_tail(struct agroup *g)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "],\"labels\":");
    json_put_labelset(&b, &g->labels);
    buf_puts(&b, ",\"receiver\":{\"name\":");
    json_put_cstr(&b, g->route->receiver);
    buf_puts(&b, "}}");
    g->api_tail_len = b.len;
    g->api_tail = buf_take(&b);
}

static void put_into_route(struct dispatcher *d, const struct route *r, struct alert *a,
                           int64_t now_wall, int64_t now_mono)
{
    struct labelset gl;
    struct buf key;
    struct agroup *g;
    uint64_t h;

    group_labels_of(r, &a->labels, &gl);
    buf_init(&key, 0);
    dispatch_format_group_key(r->key, &gl, &key);
    h = hash_str(buf_str(&key));
    g = group_find(d, r, buf_str(&key), h);
    if (g == NULL) {
        if (d->ngroups + 1 > d->nbuckets) {
            table_grow(d);
        }
        g = ar_calloc(1, sizeof(*g));
        g->key = buf_take(&key);
        g->hash = h;
        g->route = r;
        g->labels = gl;
        labelset_init(&gl);
        group_api_tail(g);
        g->alerts = alert_store_new_sized(4); /* most groups hold a few alerts */
        g->next = d->table[h & (d->nbuckets - 1)];
        d->table[h & (d->nbuckets - 1)] = g;
        d->ngroups++;
        d->order_stale = true;
        /* COMPAT: a new group waits group_wait from now (not from startsAt). */
        g->next_mono = now_mono + r->group_wait_ms * AR_NS_PER_MS;
        heap_push(d, g);
        log_debug("dispatch", "new aggregation group %s receiver=%s", g->key, r->receiver);
    }
    buf_cleanup(&key);
    labelset_cleanup(&gl);
    alert_store_put_take(g->alerts, alert_ref(a));
    /* COMPAT 0.25: before the first flush, an alert already older than group_wait makes the
     * group flush at once. */
    if (!g->has_flushed && a->starts_at + r->group_wait_ms * AR_NS_PER_MS < now_wall &&
        g->next_mono > now_mono) {
        arm(d, g, now_mono);
    }
}

struct route_collect {
    const struct route *v[64];
    size_t n;
};

static void collect_route(const struct route *r, void *ctx)
{
    struct route_collect *rc = ctx;

    if (rc->n < AR_ARRAY_LEN(rc->v)) {
        rc->v[rc->n++] = r;
    }
}

void dispatcher_put(struct dispatcher *d, struct alert *a, int64_t now_wall, int64_t now_mono)
{
    struct route_collect rc;

    rc.n = 0;
    route_match(d->cfg->route, &a->labels, collect_route, &rc);
    for (size_t i = 0; i < rc.n; i++) {
        put_into_route(d, rc.v[i], a, now_wall, now_mono);
    }
}

int64_t dispatcher_next_deadline(const struct dispatcher *d)
{
    int64_t next = d->next_sweep_mono;

    if (d->nheap > 0 && d->heap[0]->next_mono < next) {
        next = d->heap[0]->next_mono;
    }
    return next;
}

/* ---- flushing ---- */

static bool interval_active(const struct config *cfg, char **names, size_t n, int64_t now_wall)
{
    int64_t unix_s = now_wall / AR_NS_PER_SEC;

    for (size_t i = 0; i < n; i++) {
        const struct time_interval *ti = config_find_time_interval(cfg, names[i]);
        if (ti != NULL && time_interval_contains(ti, unix_s)) {
            return true;
        }
    }
    return false;
}

static void flush_free(struct flush *f)
{
    for (size_t i = 0; i < f->nsnap; i++) {
        alert_unref(f->snap[i]);
    }
    free(f->snap);
    free(f);
}

/* A delivery's context: names copied, the completion from the dispatcher's env; firing and
 * resolved are taken (heap arrays, freed with it). */
static struct send_ctx *send_ctx_new(const struct dispatcher *d, const char *receiver,
                                     const char *integration, enum integration_type type,
                                     const char *group_key, uint64_t *firing, size_t nfiring,
                                     uint64_t *resolved, size_t nresolved, int64_t now_wall,
                                     int64_t expires_at)
{
    struct send_ctx *sc = ar_calloc(1, sizeof(*sc));

    sc->receiver = ar_strdup(receiver);
    sc->integration = ar_strdup(integration);
    sc->type = type;
    sc->group_key = ar_strdup(group_key);
    sc->firing = firing;
    sc->nfiring = nfiring;
    sc->resolved = resolved;
    sc->nresolved = nresolved;
    sc->now_wall = now_wall;
    sc->expires_at = expires_at;
    sc->send_done = d->env.send_done;
    sc->send_retry = d->env.send_retry;
    sc->send_done_ctx = d->env.send_done_ctx;
    return sc;
}

static uint64_t *fps_dup(const uint64_t *v, size_t n)
{
    uint64_t *copy = ar_malloc((n ? n : 1) * sizeof(*copy));

    memcpy(copy, v, n * sizeof(*copy));
    return copy;
}

static void send_ctx_free(struct send_ctx *sc)
{
    free(sc->receiver);
    free(sc->integration);
    free(sc->group_key);
    free(sc->firing);
    free(sc->resolved);
    free(sc);
}

static void flush_group(struct dispatcher *d, struct agroup *g, int64_t now_wall, int64_t now_mono,
                        struct txn *txn);

/* After a flush: COMPAT 5.5. */
static void flush_finish(struct dispatcher *d, struct flush *f, int64_t now_mono, struct txn *txn)
{
    struct agroup *g = f->group;

    if (g != NULL) {
        g->inflight = NULL;
        if (f->incident_id != 0) {
            bool all_resolved = true;
            for (size_t i = 0; i < f->nsnap && all_resolved; i++) {
                all_resolved = alert_resolved_at(f->snap[i], f->now_wall);
            }
            incident_flush_end(d->env.incidents, f->incident_id, g->route->receiver, g->key,
                               !f->failed, all_resolved, txn_now(txn), txn);
        }
        if (!f->failed && !f->retry) {
            for (size_t i = 0; i < f->nsnap; i++) {
                struct alert *s = f->snap[i];
                /* resolved at flush time and not updated since the snapshot */
                if (alert_resolved_at(s, f->now_wall) && alert_store_find(g->alerts, s->fp) == s) {
                    alert_store_remove(g->alerts, s->fp);
                }
            }
        }
        if (g->tick_pending) {
            g->tick_pending = false;
            arm(d, g, now_mono + g->route->group_interval_ms * AR_NS_PER_MS);
            flush_group(d, g, clock_now_ns(), now_mono, txn);
        }
    }
    flush_free(f);
}

/* The notifier calls back here on its thread; the core's env callback forwards to the
 * core thread. */
static void job_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct send_ctx *sc = ctx;

    sc->send_done(sc->send_done_ctx, sc, res);
}

/* A failed attempt that will be retried (notifier thread): outbox deliveries only. */
static void job_retrying(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct send_ctx *sc = ctx;

    if (sc->delivery_id != 0 && sc->send_retry != NULL) {
        sc->send_retry(sc->send_done_ctx, sc->delivery_id, res);
    }
}

static uint64_t *fps_of(struct alert **v, size_t n, bool resolved, int64_t now, size_t *out_n)
{
    uint64_t *fps = ar_malloc((n ? n : 1) * sizeof(*fps));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (alert_resolved_at(v[i], now) == resolved) {
            fps[k++] = v[i]->fp;
        }
    }
    *out_n = k;
    return fps;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* out = a \ b for sorted arrays; returns the count written to out. */
static size_t sorted_minus(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                           uint64_t *out)
{
    size_t j = 0;
    size_t n = 0;

    for (size_t i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i]) {
            j++;
        }
        if (j == nb || b[j] != a[i]) {
            out[n++] = a[i];
        }
    }
    return n;
}

/* What one flush decided to notify, shared by its integrations: the alerts that passed the
 * pipeline's filters and their firing and resolved fingerprint sets (sorted). */
struct flush_set {
    struct alert **kept;
    size_t nkept;
    uint64_t *firing;
    size_t nfiring;
    uint64_t *resolved;
    size_t nresolved;
    int64_t expiry; /* nflog entry lifetime */
};

/* Stage 1: a flush of g holding a sorted snapshot of its alerts. */
static struct flush *flush_begin(struct agroup *g, int64_t now_wall)
{
    struct flush *f = ar_calloc(1, sizeof(*f));
    struct alert *a;

    g->has_flushed = true;
    f->group = g;
    f->now_wall = now_wall;
    f->snap = ar_malloc(alert_store_count(g->alerts) * sizeof(*f->snap));
    for (size_t it = 0; (a = alert_store_next(g->alerts, &it)) != NULL;) {
        f->snap[f->nsnap++] = alert_ref(a);
    }
    dispatch_sort_alerts(f->snap, f->nsnap);
    g->inflight = f;
    return f;
}

/* Stages 2-5 (COMPAT 5.6), evaluated in another order with the same outcome: first the time
 * intervals (stages 3-4), which drop the whole group at once, then per alert inhibition
 * (stage 2) and silences (stage 5). Fills s->kept; false when nothing is left. */
static bool flush_filter(struct dispatcher *d, const struct route *r, const struct flush *f,
                         struct flush_set *s, struct txn *txn)
{
    int64_t now = f->now_wall;
    bool muted =
        (r->nactive_time_intervals > 0 &&
         !interval_active(d->cfg, r->active_time_intervals, r->nactive_time_intervals, now)) ||
        (r->nmute_time_intervals > 0 &&
         interval_active(d->cfg, r->mute_time_intervals, r->nmute_time_intervals, now));

    s->kept = ar_malloc((f->nsnap ? f->nsnap : 1) * sizeof(*s->kept));
    s->nkept = 0;
    for (size_t i = 0; i < f->nsnap && !muted; i++) {
        struct alert *a = f->snap[i];
        const char *ids[1];
        uint64_t by;
        if (d->env.inhibitor != NULL &&
            inhibitor_check(d->env.inhibitor, &a->labels, a->fp, now, &by)) {
            if (f->incident_id != 0) {
                char fp[17];
                fingerprint_format(by, fp);
                incident_muted(d->env.incidents, f->incident_id, r->receiver, f->group->key, a,
                               "inhibited", fp, txn);
            }
            continue;
        }
        if (d->env.silences != NULL &&
            silence_set_mutes(d->env.silences, &a->labels, now, ids, 1) > 0) {
            if (f->incident_id != 0) {
                incident_muted(d->env.incidents, f->incident_id, r->receiver, f->group->key, a,
                               "silenced", ids[0], txn);
            }
            continue;
        }
        s->kept[s->nkept++] = a;
    }
    return s->nkept > 0;
}

/* The pending outbox row of a delivery, with what was new to the receiver's log (e): its
 * payload (heap) and summary, whose arrays live in the returned heap array. */
static uint64_t *pending_row_of(struct dispatcher *d, const struct flush_set *s,
                                const struct integration *integ, const struct nflog_entry *e,
                                struct notify_data *nd, char **payload,
                                struct delivery_summary *sum)
{
    uint64_t *news = ar_malloc((s->nfiring + s->nresolved + 1) * sizeof(*news));

    sum->nfiring = s->nfiring;
    sum->nresolved = integ->send_resolved ? s->nresolved : 0;
    sum->new_firing = news;
    sum->nnew_firing =
        sorted_minus(s->firing, s->nfiring, e ? e->firing : NULL, e ? e->nfiring : 0, news);
    sum->new_resolved = news + sum->nnew_firing;
    sum->nnew_resolved = integ->send_resolved
                             ? sorted_minus(s->resolved, s->nresolved, e ? e->resolved : NULL,
                                            e ? e->nresolved : 0, news + sum->nnew_firing)
                             : 0;
    *payload = outbox_payload_encode(&d->payload_scratch, nd, s->firing, s->nfiring, s->resolved,
                                     s->nresolved, s->expiry);
    return news;
}

static void flush_record_pending(struct dispatcher *d, const struct flush_set *s,
                                 const struct integration *integ, const struct nflog_entry *e,
                                 struct send_ctx *sc, struct notify_data *nd, struct txn *txn)
{
    /* Durable outbox: the pending row joins this turn's transaction, while the job may
     * start at once. Should the process die before that commit, the nflog entry of this
     * send was not written either (it is recorded later, in the completion's turn), so the
     * group's normal flush after restart sends again: nothing decided is lost, at worst
     * delivered twice. */
    struct delivery_summary sum;
    char *payload;
    uint64_t *news = pending_row_of(d, s, integ, e, nd, &payload, &sum);

    sc->delivery_id = (*d->env.next_delivery_id)++;
    outbox_record_pending(txn, sc->delivery_id, sc->receiver, sc->integration, sc->group_key,
                          payload, &sum);
    free(news);
}

static void submit_job(struct dispatcher *d, struct notify_job *job)
{
    if (d->env.submit != NULL) {
        d->env.submit(d->env.submit_ctx, job);
    } else {
        notifier_submit(d->env.notifier, job);
    }
}

/* The notification log entry of a state this instance sent at done_at, expiring as the
 * flush set it to. */
static void record_sent(struct dispatcher *d, const struct send_ctx *sc, int64_t done_at,
                        struct txn *txn)
{
    nflog_record(d->env.nflog, sc->receiver, sc->integration, sc->group_key, done_at, sc->firing,
                 sc->nfiring, sc->resolved, sc->nresolved,
                 done_at + (sc->expires_at - sc->now_wall), txn);
}

/* Claimer thread: the decision goes to the core thread. */
static void claim_decided(struct ha_claim_req *req)
{
    struct claim_wait *cw = (struct claim_wait *)req;

    cw->forward(cw->forward_ctx, cw);
}

/* A send waiting for the claimer's decision on its (receiver, integration, group, state). */
static struct claim_wait *claim_wait_new(struct dispatcher *d, struct send_ctx *sc,
                                         struct notify_job *job, int64_t repeat_ms)
{
    struct claim_wait *cw = ar_calloc(1, sizeof(*cw));

    cw->req.receiver = sc->receiver;
    cw->req.integration = sc->integration;
    cw->req.group_key = sc->group_key;
    ha_claims_state_hash(sc->firing, sc->nfiring, sc->resolved, sc->nresolved, cw->req.state_hash);
    cw->req.repeat_ms = repeat_ms;
    cw->req.decided = claim_decided;
    cw->claims = d->env.claims;
    cw->forward = d->env.claim_decided;
    cw->forward_ctx = d->env.send_done_ctx;
    cw->job = job;
    cw->sc = sc;
    return cw;
}

/* PostgreSQL mode: hands the send to the claimer instead of sending it (the flush stays in
 * flight until dispatcher_claim_decided). */
static void flush_claim(struct dispatcher *d, const struct flush_set *s,
                        const struct integration *integ, const struct nflog_entry *e,
                        struct send_ctx *sc, struct notify_data *nd, struct notify_job *job)
{
    struct claim_wait *cw = claim_wait_new(d, sc, job, sc->flush->group->route->repeat_interval_ms);

    if (d->env.next_delivery_id != NULL) {
        cw->news = pending_row_of(d, s, integ, e, nd, &cw->payload, &cw->sum);
    }
    ha_claims_submit(d->env.claims, &cw->req);
}

static void claim_wait_free(struct claim_wait *cw)
{
    free(cw->payload);
    free(cw->news);
    free(cw);
}

void dispatcher_claim_decided(struct dispatcher *d, struct claim_wait *cw, struct txn *txn)
{
    struct send_ctx *sc = cw->sc;
    struct flush *f = sc->flush;

    if (ha_claim_sends(cw->req.result)) {
        if (cw->payload != NULL && d->env.next_delivery_id != NULL) {
            sc->delivery_id = (*d->env.next_delivery_id)++;
            outbox_record_pending(txn, sc->delivery_id, sc->receiver, sc->integration,
                                  sc->group_key, cw->payload, &cw->sum);
            cw->payload = NULL; /* taken */
        }
        free(cw->news);
        cw->news = NULL;
        sc->claim = cw;
        d->env.metrics->notifications[sc->type]++;
        submit_job(d, cw->job);
        cw->job = NULL;
        return;
    }
    /* lost: another instance sends (or sent) it */
    log_debug("dispatch", "claim lost receiver=%s integration=%s group=%s", sc->receiver,
              sc->integration, sc->group_key);
    if (f == NULL && sc->record_nflog) {
        /* a resumed delivery another instance took over while this one was down, or that
         * was delivered before a crash lost its local record: its outbox row ends here */
        outbox_record_event(txn, sc->delivery_id, "delivered", "claimed_elsewhere", NULL);
        nflog_unclaim(d->env.nflog, sc->receiver, sc->integration, sc->group_key, sc->now_wall);
    }
    if (cw->req.result == HA_CLAIM_LOST_DONE) {
        /* the cluster sent this state: recorded here too, so this instance's dedup, and
         * the resolved notification that follows it, do not depend on the sender having
         * published its own record (it may have died between its send and that; then
         * nobody would send the resolved state). Not published in turn: every instance
         * that lost the claim records it itself. */
        int64_t now = clock_now_ns();
        nflog_record_claimed(d->env.nflog, sc->receiver, sc->integration, sc->group_key, now,
                             sc->firing, sc->nfiring, sc->resolved, sc->nresolved,
                             now + (sc->expires_at - sc->now_wall), txn);
    }
    notify_job_free(cw->job);
    if (f != NULL && cw->req.result == HA_CLAIM_LOST) {
        f->retry = true;
    }
    send_ctx_free(sc);
    claim_wait_free(cw);
    if (f != NULL && --f->pending == 0) {
        flush_finish(d, f, clock_monotonic_ns(), txn);
    }
}

/* Stages 6-7 for one integration: the notification log's dedup (COMPAT 5.7), the alerts it
 * gets (send_resolved), the outbox row and the job handed to the notifier. */
static void flush_integration(struct dispatcher *d, struct flush *f, const struct flush_set *s,
                              const struct integration *integ, int64_t now_mono, struct txn *txn)
{
    struct agroup *g = f->group;
    const struct route *r = g->route;
    int64_t now_wall = f->now_wall;
    char name[64];
    char *key;
    const struct nflog_entry *e;
    struct alert **send = s->kept;
    size_t nsend = s->nkept;
    struct alert **only_firing = NULL;

    snprintf(name, sizeof(name), "%s[%d]", integration_type_name(integ->type), integ->index);
    key = nflog_key(r->receiver, name, g->key);
    e = nflog_find(d->env.nflog, key);
    free(key);
    if (!nflog_needs_send(e, s->firing, s->nfiring, s->resolved, s->nresolved, integ->send_resolved,
                          now_wall, r->repeat_interval_ms * AR_NS_PER_MS)) {
        return;
    }
    if (f->incident_id != 0 &&
        incident_acknowledged(d->env.incidents, f->incident_id, r->receiver, g->key) &&
        !nflog_needs_send(e, s->firing, s->nfiring, s->resolved, s->nresolved, integ->send_resolved,
                          now_wall, INT64_MAX / 4)) {
        /* acknowledged: only the repeat is due, and an acknowledgement holds it back */
        return;
    }
    if (!integ->send_resolved) {
        only_firing = ar_malloc(s->nkept * sizeof(*only_firing));
        nsend = 0;
        for (size_t k = 0; k < s->nkept; k++) {
            if (!alert_resolved_at(s->kept[k], now_wall)) {
                only_firing[nsend++] = s->kept[k];
            }
        }
        send = only_firing;
    }
    if (nsend == 0) {
        /* COMPAT 5.6: nothing to send for send_resolved: false; counts as success and the
         * log forgets the firing set. */
        nflog_record(d->env.nflog, r->receiver, name, g->key, now_wall, s->firing, s->nfiring,
                     s->resolved, s->nresolved, now_wall + s->expiry, txn);
        free(only_firing);
        return;
    }
    {
        struct notify_data *nd = notify_data_new(d->cfg, r->receiver_ref, g->key, &g->labels, send,
                                                 NULL, nsend, d->env.external_url, now_wall);
        int64_t gi = r->group_interval_ms * AR_NS_PER_MS;
        struct send_ctx *sc = send_ctx_new(
            d, r->receiver, name, integ->type, g->key, fps_dup(s->firing, s->nfiring), s->nfiring,
            fps_dup(s->resolved, s->nresolved), s->nresolved, now_wall, now_wall + s->expiry);
        struct notify_job *job;

        sc->flush = f;
        if (d->env.next_delivery_id != NULL && d->env.claims == NULL) {
            flush_record_pending(d, s, integ, e, sc, nd, txn);
        }
        sc->incident_id = f->incident_id;
        if (d->env.deadline_ns > 0) {
            gi = d->env.deadline_ns; /* --notify.deadline */
        } else if (gi < MIN_DEADLINE_NS) {
            gi = MIN_DEADLINE_NS;
        }
        job = notify_job_new(nd, integ, now_mono + gi, job_done, sc);
        job->retrying = job_retrying;
        f->pending++;
        log_debug("dispatch", "flush group=%s receiver=%s integration=%s alerts=%zu", g->key,
                  r->receiver, name, nsend);
        if (d->env.claims != NULL) {
            flush_claim(d, s, integ, e, sc, nd, job); /* sent once the claim is decided */
        } else {
            d->env.metrics->notifications[integ->type]++;
            submit_job(d, job);
        }
        notify_data_unref(nd);
    }
    free(only_firing);
}

/* One flush of g, as Alertmanager's pipeline (COMPAT 5.6): snapshot, filters, then each
 * integration of the receiver; flush_finish once every send has completed. */
static void flush_group(struct dispatcher *d, struct agroup *g, int64_t now_wall, int64_t now_mono,
                        struct txn *txn)
{
    const struct route *r = g->route;
    const struct receiver *recv = r->receiver_ref;
    struct flush_set s = {0};
    struct flush *f;

    if (alert_store_count(g->alerts) == 0) {
        return;
    }
    f = flush_begin(g, now_wall);
    if (d->env.incidents != NULL && recv != NULL && recv->nintegrations > 0) {
        /* a receiver without integrations (a blackhole route) pages nobody: no incident */
        f->incident_id = incident_flush_begin(d->env.incidents, r->receiver, g->key, &g->labels,
                                              f->snap, f->nsnap, now_wall, txn);
    }
    if (!flush_filter(d, r, f, &s, txn) || recv == NULL || recv->nintegrations == 0) {
        /* COMPAT: nothing left (or nowhere to send): the flush succeeds without touching
         * the notification log. */
        free(s.kept);
        flush_finish(d, f, now_mono, txn);
        return;
    }
    s.firing = fps_of(s.kept, s.nkept, false, now_wall, &s.nfiring);
    s.resolved = fps_of(s.kept, s.nkept, true, now_wall, &s.nresolved);
    qsort(s.firing, s.nfiring, sizeof(*s.firing), cmp_u64);
    qsort(s.resolved, s.nresolved, sizeof(*s.resolved), cmp_u64);
    s.expiry = 2 * r->repeat_interval_ms * AR_NS_PER_MS;
    if (d->env.retention_ns > 0 && d->env.retention_ns < s.expiry) {
        s.expiry = d->env.retention_ns;
    }
    f->pending = 1; /* held while submitting, so an immediate completion cannot finish it */
    for (size_t i = 0; i < recv->nintegrations; i++) {
        flush_integration(d, f, &s, &recv->integrations[i], now_mono, txn);
    }
    free(s.firing);
    free(s.resolved);
    free(s.kept);
    if (--f->pending == 0) {
        flush_finish(d, f, now_mono, txn);
    }
}

/* Outcome of a delivery in the outbox: delivered; a canceled job (shutdown) stays pending
 * and is resumed at the next start; any other failure is final (the notifier retried until
 * the deadline, or the error was not retryable) and the delivery becomes a dead letter. */
static void outbox_done(const struct send_ctx *sc, const struct notify_result *res, struct txn *txn)
{
    if (sc->delivery_id == 0) {
        return;
    }
    if (res->ok) {
        outbox_record_event(txn, sc->delivery_id, "delivered", "delivered", res);
    } else if (res->canceled) {
        outbox_record_event(txn, sc->delivery_id, NULL, "canceled", res);
    } else {
        outbox_record_event(txn, sc->delivery_id, "dead", res->retryable ? "dead" : "failed", res);
    }
}

void dispatcher_send_done(struct dispatcher *d, struct send_ctx *sc,
                          const struct notify_result *res, struct txn *txn)
{
    struct flush *f = sc->flush;

    outbox_done(sc, res, txn);
    if (sc->claim != NULL) {
        ha_claims_finished(sc->claim->claims, &sc->claim->req,
                           res->ok         ? HA_SEND_DELIVERED
                           : res->canceled ? HA_SEND_CANCELED
                                           : HA_SEND_FAILED);
        claim_wait_free(sc->claim);
        sc->claim = NULL;
    }
    incident_notify_outcome(txn, sc->incident_id, sc->delivery_id, sc->receiver, sc->integration,
                            sc->now_wall, sc->nfiring, sc->nresolved,
                            res->ok          ? "delivered"
                            : res->canceled  ? "canceled"
                            : res->retryable ? "dead"
                                             : "failed",
                            res->attempts, res->error);
    if (f == NULL && sc->record_nflog) {
        nflog_unclaim(d->env.nflog, sc->receiver, sc->integration, sc->group_key, sc->now_wall);
    }
    if (f != NULL && !res->ok) {
        f->failed = true; /* the flush keeps its alerts for the next one */
    }
    if (res->ok) {
        /* COMPAT 5.6 6d: set-notifies per integration, even if a sibling failed. 0.25 stamps
         * the entry with the wall clock when the send completed (after any retries), not
         * with the flush time: repeat_interval counts from delivery. */
        if (f != NULL || sc->record_nflog) {
            record_sent(d, sc, clock_now_ns(), txn);
        }
    } else if (res->canceled) {
        /* a stop: the delivery stays pending in the outbox and resumes at the next start,
         * so it is neither a failure nor worth a line each (the notifier says how many) */
        log_debug("notify", "notify canceled by the stop receiver=%s integration=%s group=%s",
                  sc->receiver, sc->integration, sc->group_key);
    } else {
        d->env.metrics->notifications_failed[sc->type]++;
        log_error("notify",
                  "notify failed receiver=%s integration=%s group=%s attempts=%d "
                  "err=\"%s\"",
                  sc->receiver, sc->integration, sc->group_key, res->attempts, res->error);
    }
    send_ctx_free(sc);
    if (f != NULL && --f->pending == 0) {
        flush_finish(d, f, clock_monotonic_ns(), txn);
    }
}

void dispatcher_send_retry(int64_t delivery_id, const struct notify_result *res, struct txn *txn)
{
    outbox_record_event(txn, delivery_id, NULL, "retry", res);
}

int dispatcher_resubmit(struct dispatcher *d, int64_t id, const char *receiver,
                        const char *integration, const char *group_key, const char *payload,
                        bool record_nflog, struct ar_error *err)
{
    const struct receiver *recv = NULL;
    const struct integration *integ = NULL;
    struct outbox_payload p;
    struct notify_data *nd;
    struct send_ctx *sc;
    struct notify_job *job;
    int64_t repeat_ms;

    for (size_t i = 0; i < d->cfg->nreceivers && recv == NULL; i++) {
        if (strcmp(d->cfg->receivers[i]->name, receiver) == 0) {
            recv = d->cfg->receivers[i];
        }
    }
    if (recv == NULL) {
        ar_error_set(err, "receiver %s no longer exists in the configuration", receiver);
        return AR_ENOTFOUND;
    }
    for (size_t i = 0; i < recv->nintegrations && integ == NULL; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s[%d]", integration_type_name(recv->integrations[i].type),
                 recv->integrations[i].index);
        if (strcmp(name, integration) == 0) {
            integ = &recv->integrations[i];
        }
    }
    if (integ == NULL) {
        ar_error_set(err, "integration %s of receiver %s no longer exists in the configuration",
                     integration, receiver);
        return AR_ENOTFOUND;
    }
    if (outbox_payload_decode(payload, &p, err) != AR_OK) {
        return AR_EINVAL;
    }
    nd = notify_data_new(d->cfg, recv, group_key, &p.group_labels, p.alerts, p.resolved, p.nalerts,
                         p.external_url, p.now_ns);
    if (record_nflog) {
        /* resumed after a restart: the rebuilt group must not send this state again */
        nflog_claim(d->env.nflog, receiver, integration, group_key, p.now_ns, p.firing, p.nfiring,
                    p.resolved_fps, p.nresolved_fps, p.now_ns + p.expiry_ns);
    }
    repeat_ms = p.expiry_ns / 2 / AR_NS_PER_MS; /* the expiry is twice the repeat interval */
    sc = send_ctx_new(d, receiver, integration, integ->type, group_key, p.firing, p.nfiring,
                      p.resolved_fps, p.nresolved_fps, p.now_ns, p.now_ns + p.expiry_ns);
    p.firing = p.resolved_fps = NULL; /* the context took them */
    sc->delivery_id = id;
    sc->record_nflog = record_nflog;
    outbox_payload_cleanup(&p);
    /* a fresh deadline: the route may be gone, so the COMPAT 5.8 minimum */
    job = notify_job_new(nd, integ,
                         clock_monotonic_ns() +
                             (d->env.deadline_ns > 0 ? d->env.deadline_ns : MIN_DEADLINE_NS),
                         job_done, sc);
    job->retrying = job_retrying;
    notify_data_unref(nd);
    log_info("dispatch", "re-submitting delivery %lld receiver=%s integration=%s group=%s",
             (long long)id, receiver, integration, group_key);
    if (record_nflog && d->env.claims != NULL) {
        /* resumed in a cluster: claimed first, like a flush (its outbox row exists
         * already); this instance's own claim from before the restart is won again, one
         * another instance took over is not */
        ha_claims_submit(d->env.claims, &claim_wait_new(d, sc, job, repeat_ms)->req);
        return AR_OK;
    }
    d->env.metrics->notifications[integ->type]++;
    submit_job(d, job);
    return AR_OK;
}

void dispatcher_run(struct dispatcher *d, int64_t now_wall, int64_t now_mono, struct txn *txn)
{
    int64_t started = clock_monotonic_ns();

    while (d->nheap > 0 && d->heap[0]->next_mono <= now_mono) {
        struct agroup *g = d->heap[0];
        if (clock_monotonic_ns() - started >= FLUSH_BUDGET_NS) {
            /* the rest stay due: the core commits what is flushed so far, answers its
             * messages (waiting POSTs) and comes straight back */
            break;
        }
        /* COMPAT: re-armed to group_interval before flushing */
        arm(d, g, now_mono + g->route->group_interval_ms * AR_NS_PER_MS);
        if (g->inflight != NULL) {
            g->tick_pending = true;
            continue;
        }
        flush_group(d, g, now_wall, now_mono, txn);
    }
    if (now_mono >= d->next_sweep_mono) {
        d->next_sweep_mono = now_mono + SWEEP_INTERVAL_NS;
        for (size_t i = 0; i < d->nbuckets; i++) {
            struct agroup *g = d->table[i];
            while (g != NULL) {
                struct agroup *next = g->next;
                if (alert_store_count(g->alerts) == 0 && g->inflight == NULL) {
                    group_destroy(d, g);
                }
                g = next;
            }
        }
    }
}

static int cmp_group_order(const void *pa, const void *pb)
{
    const struct agroup *a = *(const struct agroup *const *)pa;
    const struct agroup *b = *(const struct agroup *const *)pb;
    int c = labelset_compare(&a->labels, &b->labels);

    return c != 0 ? c : strcmp(a->route->receiver, b->route->receiver);
}

void dispatcher_groups_snapshot(struct dispatcher *d, struct groups_snapshot *out)
{
    size_t total = 0;
    struct alert *a;

    if (d->order_stale || d->order == NULL) {
        d->order = ar_realloc(d->order, (d->ngroups + 1) * sizeof(*d->order));
        d->norder = 0;
        for (size_t i = 0; i < d->nbuckets; i++) {
            for (struct agroup *g = d->table[i]; g != NULL; g = g->next) {
                d->order[d->norder++] = g;
            }
        }
        qsort(d->order, d->norder, sizeof(*d->order), cmp_group_order);
        d->order_stale = false;
    }
    for (size_t i = 0; i < d->norder; i++) {
        total += alert_store_count(d->order[i]->alerts);
    }
    memset(out, 0, sizeof(*out));
    out->groups = ar_malloc((d->norder + 1) * sizeof(*out->groups));
    out->alerts = ar_malloc((total + 1) * sizeof(*out->alerts));
    buf_init(&out->text, 0);
    buf_reserve(&out->text, d->norder * 96);
    for (size_t i = 0; i < d->norder; i++) {
        const struct agroup *g = d->order[i];
        struct group_snap *gs;
        if (alert_store_count(g->alerts) == 0) {
            continue;
        }
        gs = &out->groups[out->ngroups++];
        gs->first = out->nalerts;
        for (size_t it = 0; (a = alert_store_next(g->alerts, &it)) != NULL;) {
            out->alerts[out->nalerts++] = alert_ref(a);
        }
        gs->nalerts = out->nalerts - gs->first;
        dispatch_sort_alerts(out->alerts + gs->first, gs->nalerts);
        gs->receiver_off = out->text.len;
        buf_append(&out->text, g->route->receiver, strlen(g->route->receiver) + 1);
        gs->tail_off = out->text.len;
        gs->tail_len = g->api_tail_len;
        buf_append(&out->text, g->api_tail, g->api_tail_len);
    }
}

void groups_snapshot_cleanup(struct groups_snapshot *s)
{
    for (size_t i = 0; i < s->nalerts; i++) {
        alert_unref(s->alerts[i]);
    }
    free(s->alerts);
    free(s->groups);
    buf_cleanup(&s->text);
    memset(s, 0, sizeof(*s));
}

/* Heartbeat state and the alerts raised for missing heartbeats (ar/heartbeat.h). The core
 * thread calls every function here; the state is per heartbeat: last seen (wall clock, for
 * people), the monotonic deadline, and the raised alert while it is missing. */
#include "ar/heartbeat.h"

#include "ar/buf.h"
#include "ar/clock.h"
#include "ar/duration.h"
#include "ar/log.h"
#include "ar/matcher.h"
#include "ar/timefmt.h"

#include <stdlib.h>
#include <string.h>

struct hb {
    const struct heartbeat_cfg *cfg; /* owned by hs->ext */
    struct labelset labels;          /* of its alert */
    uint64_t fp;
    int64_t last_seen_ns;  /* wall clock, 0 = never since start */
    int64_t deadline_mono; /* raise when reached and not raised */
    struct alert *raised;  /* latest version of its firing alert, NULL when not missing */
    int64_t refresh_mono;  /* renew the raised alert when reached */
    bool returned;         /* seen while raised: resolve at the next run */
};

struct heartbeat_set {
    struct config_ext *ext;
    struct hb *v;
    size_t n;
    struct alert **resolve; /* firing alerts of removed or relabelled heartbeats */
    size_t nresolve;
};

struct heartbeat_set *heartbeat_set_new(void)
{
    return ar_calloc(1, sizeof(struct heartbeat_set));
}

static void hb_cleanup(struct hb *h)
{
    labelset_cleanup(&h->labels);
    alert_unref(h->raised);
}

void heartbeat_set_free(struct heartbeat_set *hs)
{
    if (hs == NULL) {
        return;
    }
    for (size_t i = 0; i < hs->n; i++) {
        hb_cleanup(&hs->v[i]);
    }
    free(hs->v);
    for (size_t i = 0; i < hs->nresolve; i++) {
        alert_unref(hs->resolve[i]);
    }
    free(hs->resolve);
    config_ext_unref(hs->ext);
    free(hs);
}

static bool pending_resolve(const struct heartbeat_set *hs, uint64_t fp)
{
    for (size_t i = 0; i < hs->nresolve; i++) {
        if (hs->resolve[i]->fp == fp) {
            return true;
        }
    }
    return false;
}

/* Takes the reference to a. */
static void queue_resolve(struct heartbeat_set *hs, struct alert *a)
{
    if (pending_resolve(hs, a->fp)) {
        alert_unref(a);
        return;
    }
    hs->resolve = ar_realloc(hs->resolve, (hs->nresolve + 1) * sizeof(*hs->resolve));
    hs->resolve[hs->nresolve++] = a;
}

static struct hb *find_hb(struct hb *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].cfg->name, name) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

void heartbeat_set_configure(struct heartbeat_set *hs, struct config_ext *ext, int64_t mono_ns)
{
    size_t n = config_ext_nheartbeats(ext);
    struct hb *v = ar_calloc(n ? n : 1, sizeof(*v));

    for (size_t i = 0; i < n; i++) {
        const struct heartbeat_cfg *cfg = config_ext_heartbeat(ext, i);
        struct hb *h = &v[i];
        struct hb *old = find_hb(hs->v, hs->n, cfg->name);

        h->cfg = cfg;
        labelset_init(&h->labels);
        for (size_t k = 0; k < cfg->labels.n; k++) {
            labelset_set(&h->labels, cfg->labels.keys[k], cfg->labels.values[k]);
        }
        labelset_set(&h->labels, "alertname", HEARTBEAT_ALERTNAME);
        labelset_set(&h->labels, HEARTBEAT_LABEL, cfg->name);
        h->fp = labelset_fingerprint(&h->labels);
        if (old == NULL) {
            h->deadline_mono = mono_ns + cfg->timeout_ms * AR_NS_PER_MS;
            continue;
        }
        /* kept: same last seen; the deadline moves by the change of timeout */
        h->last_seen_ns = old->last_seen_ns;
        h->deadline_mono =
            old->deadline_mono + (cfg->timeout_ms - old->cfg->timeout_ms) * AR_NS_PER_MS;
        h->raised = old->raised;
        h->refresh_mono = old->refresh_mono;
        h->returned = old->returned;
        old->raised = NULL;
        if (h->raised != NULL && h->raised->fp != h->fp) {
            /* its labels changed: the old alert resolves and, if still missing, a new
             * one is raised at once */
            queue_resolve(hs, h->raised);
            h->raised = NULL;
            if (!h->returned) {
                h->deadline_mono = mono_ns;
            }
            h->returned = false;
        }
    }
    for (size_t i = 0; i < hs->n; i++) {
        if (hs->v[i].raised != NULL) { /* a removed heartbeat: its alert resolves */
            queue_resolve(hs, hs->v[i].raised);
            hs->v[i].raised = NULL;
        }
        hb_cleanup(&hs->v[i]);
    }
    free(hs->v);
    hs->v = v;
    hs->n = n;
    config_ext_ref(ext);
    config_ext_unref(hs->ext);
    hs->ext = ext;
}

void heartbeat_set_adopt(struct heartbeat_set *hs, struct alert *a, int64_t now_ns)
{
    const char *alertname = labelset_get(&a->labels, "alertname");

    if (alert_resolved_at(a, now_ns)) {
        return;
    }
    if (alertname != NULL && strcmp(alertname, HEARTBEAT_ALERTNAME) == 0) {
        const char *name = labelset_get(&a->labels, HEARTBEAT_LABEL);
        struct hb *h = name != NULL ? find_hb(hs->v, hs->n, name) : NULL;
        if (h != NULL && h->fp == a->fp) {
            if (h->raised == NULL) {
                h->refresh_mono = 0; /* renew at the next run */
            }
            alert_unref(h->raised);
            h->raised = alert_ref(a);
        } else if (name != NULL) {
            queue_resolve(hs, alert_ref(a));
        }
        return;
    }
    for (size_t i = 0; i < hs->n; i++) {
        struct hb *h = &hs->v[i];
        if (a->updated_at > h->last_seen_ns && matchers_match(&h->cfg->matchers, &a->labels)) {
            h->last_seen_ns = a->updated_at;
        }
    }
}

size_t heartbeat_set_count(const struct heartbeat_set *hs)
{
    return hs->n;
}

void heartbeat_set_observe(struct heartbeat_set *hs, const struct labelset *labels, int64_t now_ns,
                           int64_t mono_ns)
{
    for (size_t i = 0; i < hs->n; i++) {
        struct hb *h = &hs->v[i];
        if (!matchers_match(&h->cfg->matchers, labels)) {
            continue;
        }
        h->last_seen_ns = now_ns;
        h->deadline_mono = mono_ns + h->cfg->timeout_ms * AR_NS_PER_MS;
        if (h->raised != NULL) {
            h->returned = true;
        }
    }
}

int64_t heartbeat_set_next_deadline(const struct heartbeat_set *hs)
{
    int64_t next = INT64_MAX;

    if (hs->nresolve > 0) {
        return 0;
    }
    for (size_t i = 0; i < hs->n; i++) {
        const struct hb *h = &hs->v[i];
        int64_t t = h->raised == NULL ? h->deadline_mono : (h->returned ? 0 : h->refresh_mono);
        if (t < next) {
            next = t;
        }
    }
    return next;
}

/* The alert for a heartbeat that just went missing. */
static struct alert *raise_alert(const struct hb *h, int64_t now_ns)
{
    const struct heartbeat_cfg *cfg = h->cfg;
    struct alert *a = alert_new();
    char since[40];
    char timeout[32];
    struct buf m;

    labelset_dup(&a->labels, &h->labels);
    a->fp = h->fp;
    if (h->last_seen_ns != 0) {
        time_format_rfc3339_ms(h->last_seen_ns, 0, since);
    } else {
        snprintf(since, sizeof(since), "never since start");
    }
    duration_format(cfg->timeout_ms, timeout, sizeof(timeout));
    buf_init(&m, 0);
    matcher_list_format(&cfg->matchers, &m);
    for (size_t k = 0; k < cfg->annotations.n; k++) {
        labelset_set(&a->annotations, cfg->annotations.keys[k], cfg->annotations.values[k]);
    }
    labelset_set(&a->annotations, "last_seen", since);
    if (labelset_get(&a->annotations, "summary") == NULL) {
        char *s = ar_asprintf("Heartbeat %s is missing", cfg->name);
        labelset_set(&a->annotations, "summary", s);
        free(s);
    }
    if (labelset_get(&a->annotations, "description") == NULL) {
        char *s = ar_asprintf("No firing alert matching %s was received for %s (last seen: %s): "
                              "the alerting pipeline may be broken.",
                              buf_str(&m), timeout, since);
        labelset_set(&a->annotations, "description", s);
        free(s);
    }
    buf_cleanup(&m);
    a->starts_at = now_ns;
    a->ends_at = now_ns + HEARTBEAT_LIFETIME_NS;
    a->updated_at = now_ns;
    return a;
}

/* A copy of a ending at ends_ns, updated now. */
static struct alert *copy_until(const struct alert *a, int64_t ends_ns, int64_t now_ns)
{
    struct alert *c = alert_dup(a);

    c->ends_at = ends_ns;
    c->ends_off_min = 0;
    c->timeout = false;
    c->updated_at = now_ns;
    return c;
}

static void emit(struct alert ***out, size_t *n, size_t *cap, struct alert *a)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *out = ar_realloc(*out, *cap * sizeof(**out));
    }
    (*out)[(*n)++] = a;
}

size_t heartbeat_set_run(struct heartbeat_set *hs, int64_t now_ns, int64_t mono_ns,
                         struct alert ***out)
{
    size_t n = 0;
    size_t cap = 0;

    *out = NULL;
    for (size_t i = 0; i < hs->nresolve; i++) {
        log_info("heartbeat", "resolving the alert of heartbeat %s (removed or relabelled)",
                 labelset_get(&hs->resolve[i]->labels, HEARTBEAT_LABEL));
        emit(out, &n, &cap, copy_until(hs->resolve[i], now_ns, now_ns));
        alert_unref(hs->resolve[i]);
    }
    AR_FREE(hs->resolve);
    hs->nresolve = 0;
    for (size_t i = 0; i < hs->n; i++) {
        struct hb *h = &hs->v[i];
        if (h->raised != NULL && h->returned) {
            log_info("heartbeat", "heartbeat %s is back: resolving its alert", h->cfg->name);
            emit(out, &n, &cap, copy_until(h->raised, now_ns, now_ns));
            alert_unref(h->raised);
            h->raised = NULL;
            h->returned = false;
        } else if (h->raised != NULL && mono_ns >= h->refresh_mono) {
            struct alert *a = copy_until(h->raised, now_ns + HEARTBEAT_LIFETIME_NS, now_ns);
            alert_unref(h->raised);
            h->raised = alert_ref(a);
            h->refresh_mono = mono_ns + HEARTBEAT_REFRESH_NS;
            emit(out, &n, &cap, a);
        } else if (h->raised == NULL && mono_ns >= h->deadline_mono) {
            struct alert *a = raise_alert(h, now_ns);
            log_warn("heartbeat", "heartbeat %s missing: no matching alert for %lld ms, raising %s",
                     h->cfg->name, (long long)h->cfg->timeout_ms, HEARTBEAT_ALERTNAME);
            h->raised = alert_ref(a);
            h->refresh_mono = mono_ns + HEARTBEAT_REFRESH_NS;
            emit(out, &n, &cap, a);
        }
    }
    return n;
}

size_t heartbeat_set_status(const struct heartbeat_set *hs, struct heartbeat_status **out)
{
    struct heartbeat_status *st = ar_calloc(hs->n ? hs->n : 1, sizeof(*st));

    for (size_t i = 0; i < hs->n; i++) {
        st[i].name = ar_strdup(hs->v[i].cfg->name);
        st[i].last_seen_ns = hs->v[i].last_seen_ns;
        st[i].missing = hs->v[i].raised != NULL && !hs->v[i].returned;
    }
    *out = st;
    return hs->n;
}

void heartbeat_status_free(struct heartbeat_status *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].name);
    }
    free(st);
}

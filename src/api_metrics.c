/* GET /metrics: the Prometheus text exposition with Alertmanager's metric names and labels
 * (COMPAT 10) plus alertrouter_* series for storage, memory (packed annotations) and
 * delivery. Integration series are pre-created with zeros, as upstream does, for every
 * integration type with a metric_rank in the integration table (ar/integration.h). */
#include "ar/api.h"

#include "ar/clock.h"
#include "ar/cluster.h"
#include "ar/config_ext.h"
#include "ar/config_receivers.h"
#include "ar/ha_claims.h"
#include "ar/ha_sync.h"
#include "ar/heartbeat.h"
#include "ar/http_metrics.h"
#include "ar/integration.h"
#include "ar/notify.h"
#include "ar/outbox.h"
#include "ar/pg_health.h"
#include "ar/process_metrics.h"
#include "ar/textpack.h"

#include <stdio.h>
#include <string.h>

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled series: its HELP and TYPE lines and its value, as an unsigned
 * integer (one_u), a signed one (one_i) or seconds with millisecond precision (one_seconds). */
static void one_u(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    head(b, name, type, help);
    buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void one_i(struct buf *b, const char *name, const char *type, const char *help, int64_t v)
{
    head(b, name, type, help);
    buf_printf(b, "%s %lld\n", name, (long long)v);
}

static void one_seconds(struct buf *b, const char *name, const char *type, const char *help,
                        double v)
{
    head(b, name, type, help);
    buf_printf(b, "%s %.3f\n", name, v);
}

/* A label value in the text exposition format: backslash, quote and newline escaped. */
static void put_label_value(struct buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            buf_putc(b, '\\');
            buf_putc(b, *s);
        } else if (*s == '\n') {
            buf_puts(b, "\\n");
        } else {
            buf_putc(b, *s);
        }
    }
}

/* Heartbeats of the extensions file (ar/heartbeat.h), from the core thread. */
static void heartbeat_metrics(struct buf *b, struct core *core)
{
    struct heartbeat_status *st = NULL;
    size_t n = core_heartbeats(core, &st);

    if (n > 0) {
        head(b, "alertrouter_heartbeat_last_seen_timestamp_seconds", "gauge",
             "When an alert matching the heartbeat was last received (0: never since start).");
        for (size_t i = 0; i < n; i++) {
            buf_puts(b, "alertrouter_heartbeat_last_seen_timestamp_seconds{heartbeat=\"");
            put_label_value(b, st[i].name);
            buf_printf(b, "\"} %.3f\n", (double)st[i].last_seen_ns / 1e9);
        }
        head(b, "alertrouter_heartbeat_missing", "gauge",
             "1 while the heartbeat's " HEARTBEAT_ALERTNAME " alert is raised, else 0.");
        for (size_t i = 0; i < n; i++) {
            buf_puts(b, "alertrouter_heartbeat_missing{heartbeat=\"");
            put_label_value(b, st[i].name);
            buf_printf(b, "\"} %d\n", st[i].missing ? 1 : 0);
        }
    }
    heartbeat_status_free(st, n);
}

static void per_integration(struct buf *b, const char *name, const char *type, const char *help,
                            const uint64_t *by_type)
{
    enum integration_type metric_types[INTEGRATION_TYPE_COUNT];
    size_t ntypes = integration_metric_types(metric_types);

    head(b, name, type, help);
    for (size_t i = 0; i < ntypes; i++) {
        buf_printf(b, "%s{integration=\"%s\"} %llu\n", name, integration_type_name(metric_types[i]),
                   (unsigned long long)by_type[metric_types[i]]);
    }
}

static double config_hash_value(const struct config *cfg)
{
    /* COMPAT: the first 6 bytes of the MD5, little-endian, as a float */
    uint64_t v = 0;

    for (int i = 5; i >= 0; i--) {
        v = (v << 8) | cfg->source_md5[i];
    }
    return (double)v;
}

/* PostgreSQL mode: the flush claims' outcomes (ar/ha_claims.h, docs/ha.md). */
static void claims_families(struct buf *b, const struct ha_claims *hc)
{
    static const enum ha_claim_result shown[] = {HA_CLAIM_WON, HA_CLAIM_LOST, HA_CLAIM_UNCLAIMED,
                                                 HA_CLAIM_TAKEOVER};
    struct ha_claims_stats st;

    if (hc == NULL) {
        return;
    }
    ha_claims_get_stats(hc, &st);
    head(b, "alertrouter_flush_claims_total", "counter",
         "Flush claims by outcome: won, lost (another instance sends), unclaimed (PostgreSQL "
         "unreachable: sent anyway), takeover (an expired claim taken over).");
    for (size_t i = 0; i < AR_ARRAY_LEN(shown); i++) {
        uint64_t n = st.results[shown[i]];
        if (shown[i] == HA_CLAIM_LOST) {
            n += st.results[HA_CLAIM_LOST_DONE];
        }
        buf_printf(b, "alertrouter_flush_claims_total{result=\"%s\"} %llu\n",
                   ha_claim_result_name(shown[i]), (unsigned long long)n);
    }
    one_u(b, "alertrouter_flush_claim_round_trips_total", "counter",
          "Claim statements sent to PostgreSQL (one per batch of flushes).", st.round_trips);
    one_u(b, "alertrouter_flush_claims_reconciled_total", "counter",
          "Notifications sent without a claim during an outage, recorded as done claims after.",
          st.reconciled);
}

/* COMPAT: with clustering enabled, 0.25 adds its memberlist families. alertrouter exports
 * those that describe membership, with a one-member cluster's values (what 0.25 shows for
 * a lone settled peer); the gossip traffic families (messages, reconnections, oversized
 * messages, refresh joins) are left out: there is no gossip for them to count. */
static void cluster_families(struct buf *b, const struct cluster_self *cl, size_t members)
{
    bool on = cl != NULL && cl->enabled;

    one_u(b, "alertmanager_cluster_enabled", "gauge",
          "Indicates whether the clustering is enabled or not.", on ? 1 : 0);
    if (!on) {
        return;
    }
    one_u(b, "alertmanager_cluster_failed_peers", "gauge",
          "Number indicating the current number of failed peers in the cluster.", 0);
    one_u(b, "alertmanager_cluster_health_score", "gauge",
          "Health score of the cluster. Lower values are better and zero means 'totally "
          "healthy'.",
          0);
    one_u(b, "alertmanager_cluster_members", "gauge",
          "Number indicating current number of members in cluster.", members);
    head(b, "alertmanager_cluster_peer_info", "gauge",
         "A metric with a constant '1' value labeled by peer name.");
    buf_printf(b, "alertmanager_cluster_peer_info{peer=\"%s\"} 1\n", cl->name);
    one_u(b, "alertmanager_cluster_peers_joined_total", "counter",
          "A counter of the number of peers that have joined.", 1); /* itself, as upstream */
    one_u(b, "alertmanager_cluster_peers_left_total", "counter",
          "A counter of the number of peers that have left.", 0);
    one_u(b, "alertmanager_peer_position", "gauge",
          "Position the Alertmanager instance believes it's in. The position determines a "
          "peer's behavior in the cluster.",
          0);
}

void api_metrics_get(struct api *api, const struct http_request *req, struct http_response *resp)
{
    struct buf *b = &resp->body;
    const struct api_counters *c = &api->counters;
    struct core_stats st;
    struct notify_metrics nm;
    struct ha_sync_view hs;
    struct config *cfg = core_config(api->core);
    uint64_t tmp[INTEGRATION_TYPE_COUNT];
    enum integration_type metric_types[INTEGRATION_TYPE_COUNT];
    size_t nmetric_types = integration_metric_types(metric_types);
    size_t nrecv = 0;
    size_t ninteg = 0;

    /* COMPAT: as promhttp, the scrape being served counts as in flight, and a scrape is
     * counted in the total once it is written (so the first scrape shows 0) */
    __atomic_add_fetch(&api->scrapes_in_flight, 1, __ATOMIC_RELAXED);
    core_stats(api->core, &st);
    memset(&nm, 0, sizeof(nm));
    if (api->notifier != NULL) {
        notifier_metrics(api->notifier, &nm);
    }
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        if (cfg->receivers[i]->is_used) {
            nrecv++;
            ninteg += cfg->receivers[i]->nintegrations;
        }
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";

    head(b, "alertmanager_alerts", "gauge", "How many alerts by state.");
    buf_printf(b, "alertmanager_alerts{state=\"active\"} %zu\n", st.alerts_active);
    buf_printf(b, "alertmanager_alerts{state=\"suppressed\"} %zu\n", st.alerts_suppressed);
    buf_printf(b, "alertmanager_alerts{state=\"unprocessed\"} 0\n");
    head(b, "alertmanager_alerts_received_total", "counter",
         "The total number of received alerts.");
    buf_printf(b, "alertmanager_alerts_received_total{status=\"firing\",version=\"v2\"} %llu\n",
               (unsigned long long)load(&c->alerts_received_firing));
    buf_printf(b, "alertmanager_alerts_received_total{status=\"resolved\",version=\"v2\"} %llu\n",
               (unsigned long long)load(&c->alerts_received_resolved));
    head(b, "alertmanager_alerts_invalid_total", "counter",
         "The total number of received alerts that were invalid.");
    buf_printf(b, "alertmanager_alerts_invalid_total{version=\"v2\"} %llu\n",
               (unsigned long long)load(&c->alerts_invalid));

    per_integration(b, "alertmanager_notifications_total", "counter",
                    "The total number of attempted notifications.", st.notifications);
    per_integration(b, "alertmanager_notifications_failed_total", "counter",
                    "The total number of failed notifications.", st.notifications_failed);
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        tmp[t] = nm.type[t].requests_total;
    }
    per_integration(b, "alertmanager_notification_requests_total", "counter",
                    "The total number of attempted notification requests.", tmp);
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        tmp[t] = nm.type[t].requests_failed;
    }
    per_integration(b, "alertmanager_notification_requests_failed_total", "counter",
                    "The total number of failed notification requests.", tmp);
    head(b, "alertmanager_notification_latency_seconds", "histogram",
         "The latency of notifications in seconds.");
    for (size_t i = 0; i < nmetric_types; i++) {
        const struct notify_type_metrics *m = &nm.type[metric_types[i]];
        const char *name = integration_type_name(metric_types[i]);
        for (int k = 0; k < NOTIFY_LATENCY_BUCKETS; k++) {
            buf_printf(b,
                       "alertmanager_notification_latency_seconds_bucket{integration=\"%s\","
                       "le=\"%g\"} %llu\n",
                       name, notify_latency_bounds_s[k], (unsigned long long)m->latency_bucket[k]);
        }
        buf_printf(b,
                   "alertmanager_notification_latency_seconds_bucket{integration=\"%s\","
                   "le=\"+Inf\"} %llu\n",
                   name, (unsigned long long)m->latency_count);
        buf_printf(b, "alertmanager_notification_latency_seconds_sum{integration=\"%s\"} %g\n",
                   name, m->latency_sum_s);
        buf_printf(b, "alertmanager_notification_latency_seconds_count{integration=\"%s\"} %llu\n",
                   name, (unsigned long long)m->latency_count);
    }

    head(b, "alertmanager_silences", "gauge", "How many silences by state.");
    buf_printf(b, "alertmanager_silences{state=\"active\"} %zu\n", st.silences[1]);
    buf_printf(b, "alertmanager_silences{state=\"expired\"} %zu\n", st.silences[2]);
    buf_printf(b, "alertmanager_silences{state=\"pending\"} %zu\n", st.silences[0]);
    one_u(b, "alertmanager_dispatcher_aggregation_groups", "gauge",
          "Number of active aggregation groups", st.groups);
    head(b, "alertmanager_config_hash", "gauge",
         "Hash of the currently loaded alertmanager configuration.");
    buf_printf(b, "alertmanager_config_hash %.17g\n", config_hash_value(cfg));
    one_u(b, "alertmanager_config_last_reload_successful", "gauge",
          "Whether the last configuration reload attempt was successful.",
          __atomic_load_n(&api->reload_ok, __ATOMIC_RELAXED) ? 1 : 0);
    one_seconds(b, "alertmanager_config_last_reload_success_timestamp_seconds", "gauge",
                "Timestamp of the last successful configuration reload.",
                (double)__atomic_load_n(&api->reload_ok_at_ns, __ATOMIC_RELAXED) / 1e9);
    one_u(b, "alertmanager_receivers", "gauge", "Number of configured receivers.", nrecv);
    one_u(b, "alertmanager_integrations", "gauge", "Number of configured integrations.", ninteg);
    if (api->ha != NULL) {
        ha_sync_get(api->ha, &hs);
    }
    cluster_families(b, api->cluster, api->ha != NULL ? hs.npeers : 1);
    claims_families(b, api->claims);
    head(b, "alertmanager_build_info", "gauge",
         "A metric with a constant '1' value labeled by version, revision, branch, and goversion "
         "from which alertmanager was built.");
    buf_puts(b,
             "alertmanager_build_info{branch=\"main\",goversion=\"none\",revision="
             "\"alertrouter-" AR_VERSION "\",version=\"0.25.0+alertrouter." AR_VERSION "\"} 1\n");

    if (api->ha != NULL) {
        /* PostgreSQL mode (docs/ha.md "Membership") */
        struct pg_health_view hv;
        int64_t outage_ns;
        pg_health_get(&hv);
        outage_ns = hv.outage_total_ns;
        if (!hv.up && hv.down_since_ns > 0) {
            outage_ns += clock_now_ns() - hv.down_since_ns;
        }
        one_u(b, "alertrouter_storage_up", "gauge",
              "Whether the last round trip to the shared PostgreSQL store succeeded.",
              hv.up ? 1 : 0);
        one_seconds(
            b, "alertrouter_storage_outage_seconds_total", "counter",
            "Time the shared PostgreSQL store was unreachable, the current outage included.",
            (double)outage_ns / 1e9);
        one_i(b, "alertrouter_storage_queued_writes", "gauge",
              "Silence and notification log rows of this instance not yet published to "
              "PostgreSQL.",
              hs.queued_writes > 0 ? hs.queued_writes : 0);
        one_u(b, "alertrouter_storage_replicated_rows_total", "counter",
              "Silence and notification log rows of other instances applied here.", hs.applied);
        one_u(b, "alertrouter_cluster_members", "gauge",
              "Live instances in the instances table (last known while PostgreSQL is down).",
              hs.npeers);
    }
    one_u(b, "alertrouter_alerts_stored", "gauge", "Alerts held in memory and in the database.",
          core_alert_count(api->core));
    {
        struct textpack_stats tps;

        textpack_stats(core_texts(api->core), &tps);
        one_u(b, "alertrouter_annotations_packed_total", "counter",
              "Annotation sets stored compressed (against the learned dictionary).", tps.packed);
        head(b, "alertrouter_annotations_packed_bytes_total", "counter",
             "Bytes of the annotation sets counted above, before (raw) and after (packed) "
             "compression.");
        buf_printf(b, "alertrouter_annotations_packed_bytes_total{form=\"raw\"} %llu\n",
                   (unsigned long long)tps.raw_bytes);
        buf_printf(b, "alertrouter_annotations_packed_bytes_total{form=\"packed\"} %llu\n",
                   (unsigned long long)tps.zip_bytes);
        one_u(b, "alertrouter_annotations_dictionary_bytes", "gauge",
              "Size of the annotation dictionary (0 while it is being learned).", tps.dict_bytes);
    }
    one_u(b, "alertrouter_store_commits_total", "counter", "SQLite transactions committed.",
          txn_writer_commits(core_writer(api->core)));
    {
        uint64_t buckets[TXN_COMMIT_BUCKETS];
        uint64_t sum_ns;
        txn_writer_commit_latency(core_writer(api->core), buckets, &sum_ns);
        head(b, "alertrouter_store_commit_duration_seconds", "histogram",
             "Latency of SQLite transactions (group commits) on the writer thread.");
        for (int k = 0; k < TXN_COMMIT_BUCKETS; k++) {
            buf_printf(b, "alertrouter_store_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       (double)txn_commit_bounds_ns[k] / 1e9, (unsigned long long)buckets[k]);
        }
        buf_printf(b, "alertrouter_store_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                   (unsigned long long)txn_writer_commits(core_writer(api->core)));
        buf_printf(b, "alertrouter_store_commit_duration_seconds_sum %.6f\n", (double)sum_ns / 1e9);
        buf_printf(b, "alertrouter_store_commit_duration_seconds_count %llu\n",
                   (unsigned long long)txn_writer_commits(core_writer(api->core)));
    }
    {
        static const char *const kinds[STORE_PRUNE_KINDS] = {"history", "deliveries", "audit"};
        uint64_t pruned[STORE_PRUNE_KINDS];
        one_i(b, "alertrouter_storage_used_bytes", "gauge",
              "Database bytes in use (pages less free pages) at the last size check.",
              core_storage_used_bytes(api->core));
        core_storage_pruned(api->core, pruned);
        head(b, "alertrouter_storage_pruned_rows_total", "counter",
             "Rows deleted because the database outgrew --storage.max-bytes, by kind.");
        for (int k = 0; k < STORE_PRUNE_KINDS; k++) {
            buf_printf(b, "alertrouter_storage_pruned_rows_total{kind=\"%s\"} %llu\n", kinds[k],
                       (unsigned long long)pruned[k]);
        }
    }
    one_u(b, "alertrouter_nflog_entries", "gauge", "Entries in the notification log.",
          st.nflog_entries);
    {
        /* durable outbox (ar/outbox.h): read on the API's own read-only connection */
        size_t pending = 0;
        size_t dead = 0;
        if (api->storage_path != NULL) {
            outbox_query_counts(api->storage_path, &pending, &dead);
        }
        one_u(b, "alertrouter_deliveries_pending", "gauge",
              "Notifications in the durable outbox not yet delivered nor dead.", pending);
        one_u(b, "alertrouter_dead_letters", "gauge",
              "Notifications that failed for good (deadline or final error), replayable "
              "through /api/x/deliveries.",
              dead);
    }
    if (config_ext_nheartbeats(cfg->ext) > 0) {
        heartbeat_metrics(b, api->core);
    }
    one_u(b, "alertrouter_notifications_in_flight", "gauge",
          "Notifications handed to the notifier and not yet completed.",
          api->notifier ? notifier_pending(api->notifier) : 0);
    one_u(b, "alertrouter_http_rate_limited_total", "counter",
          "HTTP requests refused with 429 by --web.rate-limit.", load(&c->rate_limited));
    one_u(b, "alertrouter_http_requests_total", "counter", "HTTP requests received.",
          load(&c->http_requests));
    http_metrics_write(api->http_metrics, b);
    process_metrics_write(b);
    one_u(b, "promhttp_metric_handler_requests_in_flight", "gauge",
          "Current number of scrapes being served.", load(&api->scrapes_in_flight));
    head(b, "promhttp_metric_handler_requests_total", "counter",
         "Total number of scrapes by HTTP status code.");
    buf_printf(b, "promhttp_metric_handler_requests_total{code=\"200\"} %llu\n",
               (unsigned long long)load(&api->scrapes_total));
    buf_puts(b, "promhttp_metric_handler_requests_total{code=\"500\"} 0\n");
    buf_puts(b, "promhttp_metric_handler_requests_total{code=\"503\"} 0\n");
    __atomic_add_fetch(&api->scrapes_total, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&api->scrapes_in_flight, 1, __ATOMIC_RELAXED);
    config_unref(cfg);
}

/* PagerDuty notifier (COMPAT 9.10): Events API v2 (routing_key) posted to `url`, or the v1
 * generic API (service_key). dedup_key / incident_key is the SHA-256 hex of the group key.
 * Fields follow 0.25's message structs (omitempty as there); details are rendered and sent
 * as strings (0.25), sorted by key. An event over 512000 bytes has its details replaced by
 * one "error" entry. Retries: v2 5xx and 429; v1 5xx and 403 (only 5xx/429 here, as the
 * engine classifies statuses).
 * Also owns the `pagerduty_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define PD_SUMMARY_MAX 1024
#define PD_EVENT_MAX   512000
#define PD_V1_URL      "https://events.pagerduty.com/generic/2010-04-15/create_event.json"

struct detail {
    const char *key;
    char *value;
};

static int detail_cmp(const void *a, const void *b)
{
    return strcmp(((const struct detail *)a)->key, ((const struct detail *)b)->key);
}

static void put_kv(struct buf *b, const char *key, const char *v, bool omitempty)
{
    if (omitempty && (v == NULL || v[0] == '\0')) {
        return;
    }
    buf_puts(b, ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
    notify_json_str(b, v);
}

static void put_details(struct buf *b, const struct detail *det, size_t n)
{
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(b, ',');
        }
        notify_json_str(b, det[i].key);
        buf_putc(b, ':');
        notify_json_str(b, det[i].value);
    }
    buf_putc(b, '}');
}

/* v2 event body (without the trailing newline handling) from rendered parts. */
static void put_v2(struct buf *b, struct notify_tmpl *t, const struct pagerduty_config *c,
                   const char *routing_key, const char *dedup, bool resolve, const char *summary,
                   const char *source, const char *severity, const char *klass,
                   const char *component, const char *group, const struct detail *det, size_t n,
                   const char *client, const char *client_url, const char *error_detail)
{
    buf_putc(b, '{');
    if (routing_key[0] != '\0') {
        buf_puts(b, "\"routing_key\":");
        notify_json_str(b, routing_key);
        buf_putc(b, ',');
    }
    buf_puts(b, "\"dedup_key\":\"");
    buf_puts(b, dedup);
    buf_puts(b, resolve ? "\",\"event_action\":\"resolve\"" : "\",\"event_action\":\"trigger\"");
    buf_puts(b, ",\"payload\":{\"summary\":");
    notify_json_str(b, summary);
    buf_puts(b, ",\"source\":");
    notify_json_str(b, source);
    buf_puts(b, ",\"severity\":");
    notify_json_str(b, severity);
    put_kv(b, "class", klass, true);
    put_kv(b, "component", component, true);
    put_kv(b, "group", group, true);
    if (error_detail != NULL) {
        buf_puts(b, ",\"custom_details\":{\"error\":");
        notify_json_str(b, error_detail);
        buf_putc(b, '}');
    } else if (n > 0) {
        buf_puts(b, ",\"custom_details\":");
        put_details(b, det, n);
    }
    buf_putc(b, '}');
    put_kv(b, "client", client, true);
    put_kv(b, "client_url", client_url, true);
    /* images and links without src / href are dropped; empty lists are omitted */
    bool any = false;
    for (size_t i = 0; i < c->images.n; i++) {
        const char *src = notify_tmpl_text(t, c->images.v[i]->src);
        const char *alt = notify_tmpl_text(t, c->images.v[i]->alt);
        const char *href = notify_tmpl_text(t, c->images.v[i]->href);
        if (src[0] == '\0') {
            continue;
        }
        buf_puts(b, any ? ",{\"src\":" : ",\"images\":[{\"src\":");
        any = true;
        notify_json_str(b, src);
        buf_puts(b, ",\"alt\":");
        notify_json_str(b, alt);
        buf_puts(b, ",\"href\":");
        notify_json_str(b, href);
        buf_putc(b, '}');
    }
    if (any) {
        buf_putc(b, ']');
    }
    any = false;
    for (size_t i = 0; i < c->links.n; i++) {
        const char *href = notify_tmpl_text(t, c->links.v[i]->href);
        const char *text = notify_tmpl_text(t, c->links.v[i]->text);
        if (href[0] == '\0') {
            continue;
        }
        buf_puts(b, any ? ",{\"href\":" : ",\"links\":[{\"href\":");
        any = true;
        notify_json_str(b, href);
        buf_puts(b, ",\"text\":");
        notify_json_str(b, text);
        buf_putc(b, '}');
    }
    if (any) {
        buf_putc(b, ']');
    }
    buf_puts(b, "}\n");
}

int notify_pagerduty_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err)
{
    const struct pagerduty_config *c = cfg;
    bool v1 = (c->service_key != NULL && c->service_key[0] != '\0') ||
              (c->service_key_file != NULL && c->service_key_file[0] != '\0');
    struct notify_tmpl t;
    struct detail *det;
    size_t n = 0;
    char *key = NULL;
    char *summary = NULL;
    char dedup[65];
    bool tr;
    bool resolve = !notify_data_has_firing(d);
    int rc;

    if (v1) {
        rc = notify_secret(c->service_key, c->service_key_file, "service_key", &key, err);
    } else {
        rc = notify_secret(c->routing_key, c->routing_key_file, "routing_key", &key, err);
    }
    if (rc != AR_OK) {
        return rc;
    }
    notify_sha256_hex(d->group_key != NULL ? d->group_key : "", dedup);
    notify_tmpl_init(&t, d);
    det = ar_calloc(c->details.n + 1, sizeof(*det));
    /* COMPAT: each detail is rendered on its own; an error fails the send */
    for (size_t i = 0; i < c->details.n; i++) {
        char *v = NULL;
        struct ar_error e;

        rc = notify_render(d, t.data, c->details.values[i] != NULL ? c->details.values[i] : "",
                           false, &v, &e);
        if (rc != AR_OK) {
            ar_error_set(err, "\"%s\": failed to template: %s", c->details.keys[i], e.msg);
            goto out;
        }
        det[n].key = c->details.keys[i];
        det[n].value = v;
        n++;
    }
    qsort(det, n, sizeof(*det), detail_cmp);
    struct buf *b = &out->body;
    if (v1) {
        summary = notify_truncate_runes(notify_tmpl_text(&t, c->description), PD_SUMMARY_MAX, &tr);
        const char *skey = notify_tmpl_text(&t, key);
        const char *client = resolve ? "" : notify_tmpl_text(&t, c->client);
        const char *client_url = resolve ? "" : notify_tmpl_text(&t, c->client_url);
        if (t.rc != AR_OK) {
            ar_error_set(err, "failed to template PagerDuty v1 message: %s", t.err.msg);
            rc = t.rc;
            goto out;
        }
        buf_puts(b, "{\"service_key\":");
        notify_json_str(b, skey);
        buf_puts(b, ",\"incident_key\":\"");
        buf_puts(b, dedup);
        buf_puts(b, resolve ? "\",\"event_type\":\"resolve\"" : "\",\"event_type\":\"trigger\"");
        put_kv(b, "description", summary, true);
        buf_puts(b, ",\"event_action\":\"\",\"payload\":null");
        put_kv(b, "client", client, true);
        put_kv(b, "client_url", client_url, true);
        if (n > 0) {
            buf_puts(b, ",\"details\":");
            put_details(b, det, n);
        }
        rc = buf_puts(b, "}\n");
        out->url = ar_strdup(PD_V1_URL);
    } else {
        summary = notify_truncate_runes(notify_tmpl_text(&t, c->description), PD_SUMMARY_MAX, &tr);
        const char *rkey = notify_tmpl_text(&t, key);
        const char *client = notify_tmpl_text(&t, c->client);
        const char *client_url = notify_tmpl_text(&t, c->client_url);
        const char *source = notify_tmpl_text(&t, c->source);
        const char *severity = notify_tmpl_text(
            &t, c->severity != NULL && c->severity[0] != '\0' ? c->severity : "error");
        const char *klass = notify_tmpl_text(&t, c->class_);
        const char *component = notify_tmpl_text(&t, c->component);
        const char *group = notify_tmpl_text(&t, c->group);
        size_t start = b->len;

        put_v2(b, &t, c, rkey, dedup, resolve, summary, source, severity, klass, component, group,
               det, n, client, client_url, NULL);
        if (t.rc != AR_OK) {
            ar_error_set(err, "failed to template PagerDuty v2 message: %s", t.err.msg);
            rc = t.rc;
            goto out;
        }
        if (rkey[0] == '\0') {
            ar_error_set(err, "routing key cannot be empty");
            rc = AR_EINVAL;
            goto out;
        }
        if (b->len - start > PD_EVENT_MAX) {
            /* COMPAT: the details are dropped when the event is too large */
            buf_reset(b);
            put_v2(b, &t, c, rkey, dedup, resolve, summary, source, severity, klass, component,
                   group, det, n, client, client_url,
                   "Custom details have been removed because the original event exceeds the "
                   "maximum size of 512KB");
        }
        rc = buf_puts(b, "");
        out->url = ar_strdup(c->url != NULL ? c->url : "");
    }
    if (rc != AR_OK) {
        ar_error_set(err, "build pagerduty body: %s", ar_strerror(rc));
        goto out;
    }
    out->http = c->http_config;
    out->timeout_ns = c->timeout_ns;
    if (v1) {
        /* the row's class is Events API v2's; v1 answers 403 when throttled, not 429 */
        out->retry_429 = false;
        out->retry_status_extra = 403; /* COMPAT: Events API v1 answers 403 when throttled */
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(det[i].value);
    }
    free(det);
    free(key);
    free(summary);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `pagerduty_configs` key table --------------------------------- */

static const struct field pd_image_fields[] = {
    STR(struct pagerduty_image, "src", src),
    STR(struct pagerduty_image, "alt", alt),
    STR(struct pagerduty_image, "href", href),
};
static const struct table pd_image_table =
    TABLE("config.PagerdutyImage", struct pagerduty_image, pd_image_fields, NULL);

static const struct field pd_link_fields[] = {
    STR(struct pagerduty_link, "href", href),
    STR(struct pagerduty_link, "text", text),
};
static const struct table pd_link_table =
    TABLE("config.PagerdutyLink", struct pagerduty_link, pd_link_fields, NULL);

static int pagerduty_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct pagerduty_config *p = obj;

    if (cfg_empty(p->routing_key) && cfg_empty(p->service_key) && cfg_empty(p->routing_key_file) &&
        cfg_empty(p->service_key_file)) {
        return ctx_error(c, n, "missing service or routing key in PagerDuty config");
    }
    int rc = cfg_at_most_one(c, n, "routing_key", p->routing_key, "routing_key_file",
                             p->routing_key_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "service_key", p->service_key, "service_key_file",
                             p->service_key_file);
    }
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit(&p->source, p->client);
    cfg_map_add_missing(&p->details, "firing",
                        "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}");
    cfg_map_add_missing(&p->details, "resolved",
                        "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}");
    cfg_map_add_missing(&p->details, "num_firing", "{{ .Alerts.Firing | len }}");
    cfg_map_add_missing(&p->details, "num_resolved", "{{ .Alerts.Resolved | len }}");
    cfg_inherit_http(&p->http_config, c);
    if (p->url == NULL && c->global != NULL) {
        if (cfg_empty(c->global->pagerduty_url)) {
            return ctx_error(c, n, "no global PagerDuty URL set");
        }
        cfg_inherit(&p->url, c->global->pagerduty_url);
    }
    return AR_OK;
}

#define T struct pagerduty_config
static const struct field pagerduty_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "service_key", service_key),
    STR(T, "service_key_file", service_key_file),
    SECRET(T, "routing_key", routing_key),
    STR(T, "routing_key_file", routing_key_file),
    URLF(T, "url", url),
    STRD(T, "client", client, "{{ template \"pagerduty.default.client\" . }}"),
    STRD(T, "client_url", client_url, "{{ template \"pagerduty.default.clientURL\" . }}"),
    STRD(T, "description", description, "{{ template \"pagerduty.default.description\" .}}"),
    FIELD(T, "details", details, FT_STRMAP, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "images", images, FT_LIST, FF_OMITEMPTY, &pd_image_table),
    SUBFIELD(T, "links", links, FT_LIST, FF_OMITEMPTY, &pd_link_table),
    STR(T, "source", source),
    STR(T, "severity", severity),
    STR(T, "class", class_),
    STR(T, "component", component),
    STR(T, "group", group),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
};
#undef T
const struct table pagerduty_config_table =
    TABLE("config.plain", struct pagerduty_config, pagerduty_fields, pagerduty_check);

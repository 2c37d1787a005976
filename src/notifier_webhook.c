/* Webhook notifier payload (COMPAT 9.1, 9.2): the Alertmanager 0.25 "version 4" JSON body,
 * written field by field in Go's struct order with Go's escaping, so the bytes equal what
 * Alertmanager sends for the same group (tests/data/notify holds captured goldens).
 * max_alerts keeps the first N alerts; status and the common labels/annotations are computed
 * over the kept alerts only, as upstream builds its template data after truncating.
 * Cost: O(alerts × labels) per body.
 * Also owns the `webhook_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/alert.h"
#include "ar/json_out.h"
#include "ar/notify.h"
#include "ar/timefmt.h"
#include "config_internal.h"

#define WEBHOOK_BODY_MAX (64u * 1024 * 1024)

/* COMPAT: template data (and so the webhook payload) shows the receiver name passed through
 * Go's regexp.QuoteMeta. */
static int put_quotemeta(struct buf *b, const char *name)
{
    struct buf tmp;
    int rc;

    buf_init(&tmp, 0);
    for (const char *p = name; *p != '\0'; p++) {
        if (strchr("\\.+*?()|[]{}^$", *p) != NULL) {
            buf_putc(&tmp, '\\');
        }
        buf_putc(&tmp, *p);
    }
    rc = json_put_string(b, buf_str(&tmp), tmp.len);
    buf_cleanup(&tmp);
    return rc;
}

static int put_time(struct buf *b, int64_t ns, int16_t off)
{
    char t[48];
    size_t n = time_format_rfc3339_nano(ns, off, t);

    buf_putc(b, '"');
    buf_append(b, t, n);
    return buf_putc(b, '"');
}

static int put_alert(struct buf *b, const struct alert *a, bool resolved)
{
    char fp[17];

    buf_puts(b, resolved ? "{\"status\":\"resolved\",\"labels\":"
                         : "{\"status\":\"firing\",\"labels\":");
    json_put_labelset(b, &a->labels);
    buf_puts(b, ",\"annotations\":");
    alert_put_annotations_json(b, a);
    buf_puts(b, ",\"startsAt\":");
    put_time(b, a->starts_at, a->starts_off_min);
    buf_puts(b, ",\"endsAt\":");
    /* COMPAT 5.4: firing alerts have their endsAt cleared at flush. */
    put_time(b, resolved ? a->ends_at : AR_TIME_UNSET, resolved ? a->ends_off_min : 0);
    buf_puts(b, ",\"generatorURL\":");
    json_put_cstr(b, a->generator_url != NULL ? a->generator_url : "");
    buf_puts(b, ",\"fingerprint\":\"");
    fingerprint_format(a->fp, fp);
    buf_puts(b, fp);
    return buf_puts(b, "\"}");
}

int notify_webhook_message(const struct notify_data *d, uint64_t max_alerts, const char *version,
                           size_t max_shown, struct buf *out)
{
    size_t n = d->nalerts;
    size_t truncated = 0;
    struct labelset common_labels;
    struct labelset common_annotations;
    bool all_resolved = true;
    int rc;

    if (max_alerts > 0 && n > max_alerts) {
        truncated = n - (size_t)max_alerts;
        n = (size_t)max_alerts;
    }
    notify_common_labels(d, n, false, &common_labels);
    notify_common_labels(d, n, true, &common_annotations);
    for (size_t i = 0; i < n; i++) {
        if (!d->resolved[i]) {
            all_resolved = false;
        }
    }
    /* COMPAT: Go's Alerts.Status() is "resolved" unless some alert fires (so also for none) */

    buf_puts(out, "{\"receiver\":");
    put_quotemeta(out, d->receiver_name);
    buf_puts(out, all_resolved ? ",\"status\":\"resolved\"" : ",\"status\":\"firing\"");
    buf_puts(out, ",\"alerts\":[");
    for (size_t i = 0; i < n && (max_shown == 0 || i < max_shown); i++) {
        if (i > 0) {
            buf_putc(out, ',');
        }
        put_alert(out, d->alerts[i], d->resolved[i]);
    }
    buf_puts(out, "],\"groupLabels\":");
    json_put_labelset(out, &d->group_labels);
    buf_puts(out, ",\"commonLabels\":");
    json_put_labelset(out, &common_labels);
    buf_puts(out, ",\"commonAnnotations\":");
    json_put_labelset(out, &common_annotations);
    buf_puts(out, ",\"externalURL\":");
    json_put_cstr(out, d->external_url != NULL ? d->external_url : "");
    buf_puts(out, ",\"version\":");
    json_put_cstr(out, version);
    buf_puts(out, ",\"groupKey\":");
    json_put_cstr(out, d->group_key != NULL ? d->group_key : "");
    rc = buf_printf(out, ",\"truncatedAlerts\":%zu}\n", truncated);
    labelset_cleanup(&common_labels);
    labelset_cleanup(&common_annotations);
    /* Every append above fails only at the buffer maximum, after which later ones fail too
     * (the buffer is left unchanged), so checking the last is enough. */
    return rc;
}

int notify_webhook_body(const struct notify_data *d, uint64_t max_alerts, struct buf *out)
{
    return notify_webhook_message(d, max_alerts, "4", 0, out);
}

int notify_webhook_build(const struct notify_data *d, const struct webhook_config *wc,
                         struct notify_request *out, struct ar_error *err)
{
    char *url = NULL;
    int rc;

    /* COMPAT 9.1: URL files are read on every send and trimmed. */
    rc = notify_required_secret(wc->url, wc->url_file, "url", "webhook", &url, err);
    if (rc != AR_OK) {
        return rc;
    }
    out->body.max = WEBHOOK_BODY_MAX;
    /* One allocation for the usual body (about 1 KB per alert) instead of growing it from
     * 256 bytes on every notification; larger groups still grow as needed. */
    buf_reserve(&out->body, 1024 + 1536 * (d->nalerts < 8 ? d->nalerts : 8));
    rc = notify_webhook_body(d, wc->max_alerts, &out->body);
    if (rc != AR_OK) {
        free(url);
        ar_error_set(err, "build webhook body: %s", ar_strerror(rc));
        return rc;
    }
    out->method = "POST";
    out->url = url;
    out->content_type = "application/json";
    out->http = wc->http_config;
    out->timeout_ns = wc->timeout_ns;
    return AR_OK;
}

/* ---- configuration: the `webhook_configs` key table --------------------------------- */

static int webhook_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct webhook_config *w = obj;
    if (cfg_empty(w->url) && cfg_empty(w->url_file)) {
        return ctx_error(c, n, "one of url or url_file must be configured");
    }
    if (!cfg_empty(w->url) && !cfg_empty(w->url_file)) {
        return ctx_error(c, n, "at most one of url & url_file must be configured");
    }
    cfg_inherit_http(&w->http_config, c);
    return AR_OK;
}

#define T struct webhook_config
static const struct field webhook_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    FIELD(T, "url", url, FT_URL, 0, NULL),
    FIELD(T, "url_file", url_file, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "max_alerts", max_alerts, FT_UINT64, 0, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "payload", payload, FT_ANY, FF_OMITEMPTY, NULL),
};
#undef T
const struct table webhook_config_table =
    TABLE("config.plain", struct webhook_config, webhook_fields, webhook_check);

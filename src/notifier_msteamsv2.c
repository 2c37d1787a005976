/* Microsoft Teams Workflows notifier (COMPAT 9.5, newest 0.28+; 0.25 lacks it): an Adaptive
 * Card with a heading (colored by status) and the rendered text. Retries: 5xx only.
 * Also owns the `msteamsv2_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

int notify_msteamsv2_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err)
{
    const struct msteamsv2_config *c = cfg;
    struct notify_tmpl t;
    char *url = NULL;
    int rc = notify_required_secret(c->webhook_url, c->webhook_url_file, "webhook_url", "msteamsv2",
                                    &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    const char *title = notify_tmpl_title(&t, c->title);
    const char *text = notify_tmpl_body(&t, c->text);
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    struct buf *b = &out->body;
    buf_puts(b, "{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                "\"application/vnd.microsoft.card.adaptive\",\"contentUrl\":null,\"content\":{"
                "\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
                "\"type\":\"AdaptiveCard\",\"version\":\"1.2\",\"body\":[{\"type\":\"TextBlock\","
                "\"text\":");
    notify_json_str(b, title);
    buf_puts(b, ",\"weight\":\"Bolder\",\"size\":\"Medium\",\"wrap\":true,\"style\":\"heading\","
                "\"color\":");
    buf_puts(b, notify_data_has_firing(d) ? "\"Attention\"" : "\"Good\"");
    buf_puts(b, "},{\"type\":\"TextBlock\",\"text\":");
    notify_json_str(b, text);
    rc = buf_puts(b, ",\"wrap\":true}],\"msteams\":{\"width\":\"full\"}}}]}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build msteamsv2 body: %s", ar_strerror(rc));
        goto out;
    }
    out->url = url;
    url = NULL;
    out->http = c->http_config;
out:
    free(url);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `msteamsv2_configs` key table --------------------------------- */

static int msteamsv2_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct msteamsv2_config *t = obj;
    int rc = cfg_webhook_url_or_file(c, n, t->webhook_url, t->webhook_url_file);
    cfg_inherit_http(&t->http_config, c);
    return rc;
}

#define T struct msteamsv2_config
static const struct field msteamsv2_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SURL(T, "webhook_url", webhook_url),
    STR(T, "webhook_url_file", webhook_url_file),
    STRD(T, "title", title, "{{ template \"msteamsv2.default.title\" . }}"),
    STRD(T, "text", text, "{{ template \"msteamsv2.default.text\" . }}"),
};
#undef T
const struct table msteamsv2_config_table =
    TABLE("msteamsv2.plain", struct msteamsv2_config, msteamsv2_fields, msteamsv2_check);

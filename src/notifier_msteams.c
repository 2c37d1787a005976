/* Microsoft Teams legacy connector notifier (COMPAT 9.4, newest 0.26+; 0.25 lacks it): a
 * MessageCard with rendered title, summary and text, themed by status. Retries: 5xx only.
 * Also owns the `msteams_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

int notify_msteams_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err)
{
    const struct msteams_config *c = cfg;
    struct notify_tmpl t;
    char *url = NULL;
    int rc = notify_required_secret(c->webhook_url, c->webhook_url_file, "webhook_url", "msteams",
                                    &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    const char *title = notify_tmpl_title(&t, c->title);
    const char *summary = notify_tmpl_title(&t, c->summary);
    const char *text = notify_tmpl_body(&t, c->text);
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    struct buf *b = &out->body;
    buf_puts(b, "{\"@context\":\"http://schema.org/extensions\",\"type\":\"MessageCard\","
                "\"title\":");
    notify_json_str(b, title);
    buf_puts(b, ",\"summary\":");
    notify_json_str(b, summary);
    buf_puts(b, ",\"text\":");
    notify_json_str(b, text);
    buf_puts(b, ",\"themeColor\":");
    rc = buf_puts(b, notify_data_has_firing(d) ? "\"8C1A1A\"}\n" : "\"2DC72D\"}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build msteams body: %s", ar_strerror(rc));
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

/* ---- configuration: the `msteams_configs` key table --------------------------------- */

static int msteams_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct msteams_config *t = obj;
    int rc = cfg_webhook_url_or_file(c, n, t->webhook_url, t->webhook_url_file);
    cfg_inherit_http(&t->http_config, c);
    return rc;
}

#define T struct msteams_config
static const struct field msteams_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SURL(T, "webhook_url", webhook_url),
    STR(T, "webhook_url_file", webhook_url_file),
    STRD(T, "title", title, "{{ template \"msteams.default.title\" . }}"),
    STRD(T, "summary", summary, "{{ template \"msteams.default.summary\" . }}"),
    STRD(T, "text", text, "{{ template \"msteams.default.text\" . }}"),
};
#undef T
const struct table msteams_config_table =
    TABLE("msteams.plain", struct msteams_config, msteams_fields, msteams_check);

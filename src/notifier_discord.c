/* Discord notifier (COMPAT 9.6): one embed with the rendered title and message, colored by
 * the group status. Newest limits (title 256, description 4096, content 2000 runes) are
 * applied; 0.25 output is the same below them. Retries: 5xx only.
 * Also owns the `discord_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define DISCORD_TITLE_MAX   256
#define DISCORD_DESC_MAX    4096
#define DISCORD_CONTENT_MAX 2000

int notify_discord_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err)
{
    const struct discord_config *c = cfg;
    struct notify_tmpl t;
    char *url = NULL;
    bool tr;
    int rc = notify_required_secret(c->webhook_url, c->webhook_url_file, "webhook_url", "discord",
                                    &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    char *title = notify_truncate_runes(notify_tmpl_title(&t, c->title), DISCORD_TITLE_MAX, &tr);
    char *desc = notify_truncate_runes(notify_tmpl_body(&t, c->message), DISCORD_DESC_MAX, &tr);
    char *content =
        notify_truncate_runes(notify_tmpl_text(&t, c->content), DISCORD_CONTENT_MAX, &tr);
    const char *username = notify_tmpl_text(&t, c->username);
    const char *avatar = notify_tmpl_text(&t, c->avatar_url);
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    /* COMPAT: Go's Alerts.Status() is firing or resolved, so grey is never used here */
    long color = notify_data_has_firing(d) ? 0x992D22 : 0x2ECC71;
    struct buf *b = &out->body;
    buf_puts(b, "{\"content\":");
    notify_json_str(b, content);
    buf_puts(b, ",\"embeds\":[{\"title\":");
    notify_json_str(b, title);
    buf_puts(b, ",\"description\":");
    notify_json_str(b, desc);
    buf_printf(b, ",\"color\":%ld}]", color);
    if (username[0] != '\0') {
        buf_puts(b, ",\"username\":");
        notify_json_str(b, username);
    }
    if (avatar[0] != '\0') {
        buf_puts(b, ",\"avatar_url\":");
        notify_json_str(b, avatar);
    }
    rc = buf_puts(b, "}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build discord body: %s", ar_strerror(rc));
        goto out;
    }
    out->url = url;
    url = NULL;
    out->http = c->http_config;
out:
    free(url);
    free(title);
    free(desc);
    free(content);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `discord_configs` key table --------------------------------- */

static int discord_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct discord_config *d = obj;
    if (d->webhook_url == NULL && cfg_empty(d->webhook_url_file)) {
        return ctx_error(c, n, "one of webhook_url or webhook_url_file must be configured");
    }
    if (d->webhook_url != NULL && !cfg_empty(d->webhook_url_file)) {
        return ctx_error(c, n, "at most one of webhook_url & webhook_url_file must be configured");
    }
    cfg_inherit_http(&d->http_config, c);
    return AR_OK;
}

#define T struct discord_config
static const struct field discord_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SURL(T, "webhook_url", webhook_url),
    STR(T, "webhook_url_file", webhook_url_file),
    STR(T, "content", content),
    STRD(T, "title", title, "{{ template \"discord.default.title\" . }}"),
    STRD(T, "message", message, "{{ template \"discord.default.message\" . }}"),
    STR(T, "username", username),
    STR(T, "avatar_url", avatar_url),
};
#undef T
const struct table discord_config_table =
    TABLE("config.plain", struct discord_config, discord_fields, discord_check);

/* Webex notifier (COMPAT 9.9): {"markdown":<message>,"roomId":<room>} posted to api_url with
 * the http_config authorization (bearer token); the message is cut to 7439 bytes.
 * Retries: 5xx only.
 * Also owns the `webex_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define WEBEX_MESSAGE_MAX_BYTES 7439

int notify_webex_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                       struct ar_error *err)
{
    const struct webex_config *c = cfg;
    struct notify_tmpl t;
    bool tr;
    int rc = AR_OK;

    if (c->api_url == NULL || c->api_url[0] == '\0') {
        ar_error_set(err, "webex has no api_url");
        return AR_EINVAL;
    }
    notify_tmpl_init(&t, d);
    char *msg =
        notify_truncate_bytes(notify_tmpl_message(&t, c->message), WEBEX_MESSAGE_MAX_BYTES, &tr);
    /* COMPAT: 0.25 sends room_id as written (newest renders it as a template) */
    const char *room = c->room_id != NULL ? c->room_id : "";
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    struct buf *b = &out->body;
    buf_puts(b, "{\"markdown\":");
    notify_json_str(b, msg);
    if (room[0] != '\0') {
        buf_puts(b, ",\"roomId\":");
        notify_json_str(b, room);
    }
    rc = buf_puts(b, "}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build webex body: %s", ar_strerror(rc));
        goto out;
    }
    out->url = ar_strdup(c->api_url);
    out->http = c->http_config;
out:
    free(msg);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `webex_configs` key table --------------------------------- */

static int webex_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct webex_config *w = obj;
    if (cfg_empty(w->room_id)) {
        return ctx_error(c, n, "missing room_id on webex_config");
    }
    if (w->http_config == NULL || w->http_config->authorization == NULL) {
        return ctx_error(c, n, "missing webex_configs.http_config.authorization");
    }
    if (w->api_url == NULL && c->global != NULL) {
        if (cfg_empty(c->global->webex_api_url)) {
            return ctx_error(c, n, "no global Webex URL set");
        }
        cfg_inherit(&w->api_url, c->global->webex_api_url);
    }
    return AR_OK;
}

#define T struct webex_config
static const struct field webex_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    URLF(T, "api_url", api_url),
    STRD(T, "message", message, "{{ template \"webex.default.message\" . }}"),
    FIELD(T, "room_id", room_id, FT_STR, 0, NULL),
};
#undef T
const struct table webex_config_table =
    TABLE("config.plain", struct webex_config, webex_fields, webex_check);

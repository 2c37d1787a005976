/* Webex notifier (COMPAT 9.9): {"markdown":<message>,"roomId":<room>} posted to api_url with
 * the http_config authorization (bearer token); the message is cut to 7439 bytes.
 * Retries: 5xx only. */
#include <stdlib.h>
#include <string.h>

#include "ar/notify.h"

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
        notify_truncate_bytes(notify_tmpl_text(&t, c->message), WEBEX_MESSAGE_MAX_BYTES, &tr);
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

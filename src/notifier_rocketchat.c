/* Rocket.Chat notifier (COMPAT 9.8, newest 0.28+; 0.25 lacks it): POST
 * <api_url>/api/v1/chat.postMessage with X-Auth-Token (token) and X-User-Id (token_id)
 * headers; body channel, emoji, avatar and one attachment (title <= 1024 runes, link, text,
 * images, color — red firing / green resolved by default — fields, button actions), empty
 * fields omitted. A template error fails the send. Retries: 5xx only.
 * A 2xx reply must be JSON with "success":true (COMPAT 9.8, checkJSONResponseError): else a
 * final error `channel "<channel>": error response from Rocketchat: <error>`; a body that
 * does not decode is retried. Tokens never appear in error texts.
 * Also owns the `rocketchat_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define ROCKETCHAT_TITLE_MAX 1024

bool notify_rocketchat_check(const struct notify_reply *r, char *err, size_t errsz, bool *retryable)
{
    return notify_reply_json_flag(r, "success", "Rocketchat", err, errsz, retryable);
}

int notify_rocketchat_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err)
{
    const struct rocketchat_config *c = cfg;
    struct notify_tmpl t;
    char *token = NULL;
    char *token_id = NULL;
    int rc = notify_secret(c->token, c->token_file, "token", &token, err);

    if (rc != AR_OK) {
        return rc;
    }
    rc = notify_secret(c->token_id, c->token_id_file, "token_id", &token_id, err);
    if (rc != AR_OK) {
        free(token);
        return rc;
    }
    notify_tmpl_init(&t, d);
    struct buf *b = &out->body;
    struct notify_json_obj m = {b, true};
    const char *channel = notify_tmpl_text(&t, c->channel);
    struct buf pre;

    buf_init(&pre, 0);
    buf_puts(&pre, "channel ");
    buf_go_quote(&pre, channel);
    buf_puts(&pre, ": ");
    out->error_prefix = buf_take(&pre);
    buf_cleanup(&pre);
    notify_json_obj_put(&m, "channel", channel);
    notify_json_obj_put(&m, "emoji", notify_tmpl_text(&t, c->emoji));
    notify_json_obj_put(&m, "avatar", notify_tmpl_text(&t, c->icon_url));
    buf_puts(b, m.first ? "{\"attachments\":[" : ",\"attachments\":[");
    struct notify_json_obj a = {b, true};
    bool tr;
    char *title = notify_truncate_runes(notify_tmpl_title(&t, c->title), ROCKETCHAT_TITLE_MAX, &tr);
    notify_json_obj_put(&a, "title", title);
    free(title);
    notify_json_obj_put(&a, "title_link", notify_tmpl_text(&t, c->title_link));
    notify_json_obj_put(&a, "text", notify_tmpl_body(&t, c->text));
    notify_json_obj_put(&a, "image_url", notify_tmpl_text(&t, c->image_url));
    notify_json_obj_put(&a, "thumb_url", notify_tmpl_text(&t, c->thumb_url));
    notify_json_obj_put(&a, "color", notify_tmpl_text(&t, c->color));
    if (c->fields.n > 0) {
        buf_puts(b, a.first ? "{\"fields\":[" : ",\"fields\":[");
        a.first = false;
        for (size_t i = 0; i < c->fields.n; i++) {
            const struct rocketchat_field *f = c->fields.v[i];
            bool is_short = f->short_ >= 0 ? f->short_ != 0 : c->short_fields;
            struct notify_json_obj fm = {b, false};

            if (i > 0) {
                buf_putc(b, ',');
            }
            buf_puts(b, is_short ? "{\"short\":true" : "{\"short\":false");
            notify_json_obj_put(&fm, "title", notify_tmpl_text(&t, f->title));
            notify_json_obj_put(&fm, "value", notify_tmpl_text(&t, f->value));
            buf_putc(b, '}');
        }
        buf_putc(b, ']');
    }
    if (c->actions.n > 0) {
        buf_puts(b, a.first ? "{\"actions\":[" : ",\"actions\":[");
        a.first = false;
        for (size_t i = 0; i < c->actions.n; i++) {
            const struct rocketchat_action *ac = c->actions.v[i];
            struct notify_json_obj am = {b, false};

            if (i > 0) {
                buf_putc(b, ',');
            }
            /* only buttons exist; the two flags are always written */
            buf_puts(b, "{\"type\":\"button\"");
            notify_json_obj_put(&am, "text", notify_tmpl_text(&t, ac->text));
            notify_json_obj_put(&am, "url", notify_tmpl_text(&t, ac->url));
            buf_puts(b, ",\"is_webview\":false");
            notify_json_obj_put(&am, "msg", notify_tmpl_text(&t, ac->msg));
            buf_puts(b, ",\"msg_in_chat_window\":false}");
        }
        buf_putc(b, ']');
    }
    buf_puts(b, a.first ? "{}]" : "}]");
    rc = buf_puts(b, "}\n");
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    if (rc != AR_OK) {
        ar_error_set(err, "build rocketchat body: %s", ar_strerror(rc));
        goto out;
    }
    struct buf u;
    buf_init(&u, 0);
    const char *base = c->api_url != NULL ? c->api_url : "";
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/') {
        blen--;
    }
    buf_append(&u, base, blen);
    buf_puts(&u, "/api/v1/chat.postMessage");
    out->url = buf_take(&u);
    buf_cleanup(&u);
    notify_request_add_header(out, "X-Auth-Token", token);
    notify_request_add_header(out, "X-User-Id", token_id);
    out->http = c->http_config;
    out->check = notify_rocketchat_check;
out:
    free(token);
    free(token_id);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `rocketchat_configs` key table --------------------------------- */

static const struct field rc_field_fields[] = {
    STR(struct rocketchat_field, "title", title),
    STR(struct rocketchat_field, "value", value),
    FIELD(struct rocketchat_field, "short", short_, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table rc_field_table =
    TABLE("rocketchat.RocketchatAttachmentField", struct rocketchat_field, rc_field_fields, NULL);

static const struct field rc_action_fields[] = {
    STR(struct rocketchat_action, "type", type),
    STR(struct rocketchat_action, "text", text),
    STR(struct rocketchat_action, "url", url),
    STR(struct rocketchat_action, "msg", msg),
};
static const struct table rc_action_table = TABLE("rocketchat.RocketchatAttachmentAction",
                                                  struct rocketchat_action, rc_action_fields, NULL);

static int rocketchat_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct rocketchat_config *r = obj;
    const struct config_global *g = c->global;

    int rc = cfg_at_most_one(c, n, "token", r->token, "token_file", r->token_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "token_id", r->token_id, "token_id_file", r->token_id_file);
    }
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit_http(&r->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (r->api_url == NULL) {
        cfg_inherit(&r->api_url, g->rocketchat_api_url);
        cfg_inherit(&r->api_url, "https://open.rocket.chat/");
    }
    if (cfg_empty(r->token) && cfg_empty(r->token_file)) {
        if (cfg_empty(g->rocketchat_token) && cfg_empty(g->rocketchat_token_file)) {
            return ctx_error(c, n, "no global Rocketchat Token set either inline or in a file");
        }
        cfg_inherit(&r->token, g->rocketchat_token);
        cfg_inherit(&r->token_file, g->rocketchat_token_file);
    }
    if (cfg_empty(r->token_id) && cfg_empty(r->token_id_file)) {
        if (cfg_empty(g->rocketchat_token_id) && cfg_empty(g->rocketchat_token_id_file)) {
            return ctx_error(c, n, "no global Rocketchat TokenID set either inline or in a file");
        }
        cfg_inherit(&r->token_id, g->rocketchat_token_id);
        cfg_inherit(&r->token_id_file, g->rocketchat_token_id_file);
    }
    return AR_OK;
}

#define T struct rocketchat_config
static const struct field rocketchat_fields[] = {
    SENDRES(T, "false"),
    HTTPF(T),
    URLF(T, "api_url", api_url),
    SECRET(T, "token_id", token_id),
    STR(T, "token_id_file", token_id_file),
    SECRET(T, "token", token),
    STR(T, "token_file", token_file),
    STR(T, "channel", channel),
    STRD(T, "color", color, "{{ if eq .Status \"firing\" }}red{{ else }}green{{ end }}"),
    STRD(T, "title", title, "{{ template \"rocketchat.default.title\" . }}"),
    STRD(T, "title_link", title_link, "{{ template \"rocketchat.default.titlelink\" . }}"),
    STRD(T, "text", text, "{{ template \"rocketchat.default.text\" . }}"),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &rc_field_table),
    FIELD(T, "short_fields", short_fields, FT_BOOL, 0, NULL),
    STRD(T, "emoji", emoji, "{{ template \"rocketchat.default.emoji\" . }}"),
    STRD(T, "icon_url", icon_url, "{{ template \"rocketchat.default.iconurl\" . }}"),
    STR(T, "image_url", image_url),
    STR(T, "thumb_url", thumb_url),
    FIELD(T, "link_names", link_names, FT_BOOL, 0, NULL),
    SUBFIELD(T, "actions", actions, FT_LIST, FF_OMITEMPTY, &rc_action_table),
};
#undef T
const struct table rocketchat_config_table =
    TABLE("rocketchat.plain", struct rocketchat_config, rocketchat_fields, rocketchat_check);

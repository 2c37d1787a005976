/* Slack notifier (COMPAT 9.3): one attachment rendered from the configured templates, in
 * the field order and with the omissions of Alertmanager 0.25's request struct. Template
 * errors do not stop the send (COMPAT: later fields render empty). Retries: 5xx only.
 *
 * Replies (as newest Alertmanager, notify/slack slackResponseHandler): a 2xx whose
 * Content-Type does not start with application/json must be exactly "ok" (incoming
 * webhooks), anything else (an empty body included) is a final error "received an error
 * response from Slack: <body>"; a JSON reply (Web API) needs "ok":true, else the final error
 * "error response from Slack: <error>"; a JSON body that does not decode is retried. Errors
 * start with `channel "<channel>": `. 0.25 took any 2xx as success.
 * Also owns the `slack_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define SLACK_TITLE_MAX_RUNES 1024

bool notify_slack_check(const struct notify_reply *r, char *err, size_t errsz, bool *retryable)
{
    char ex[256];

    *retryable = false;
    if (strncmp(r->content_type, "application/json", 16) != 0) {
        if (!r->truncated && r->len == 2 && memcmp(r->body, "ok", 2) == 0) {
            return true;
        }
        notify_reply_excerpt(r->body, r->len, ex, sizeof(ex));
        snprintf(err, errsz, "received an error response from Slack: %s", ex);
        return false;
    }
    return notify_reply_json_flag(r, "ok", "Slack", err, errsz, retryable);
}

static void put_opt(struct buf *b, const char *key, const char *v, bool *first)
{
    if (v == NULL || v[0] == '\0') {
        return;
    }
    buf_puts(b, *first ? "{\"" : ",\"");
    *first = false;
    buf_puts(b, key);
    buf_puts(b, "\":");
    notify_json_str(b, v);
}

static void put_fields(struct buf *b, struct notify_tmpl *t, const struct slack_config *c)
{
    buf_puts(b, ",\"fields\":[");
    for (size_t i = 0; i < c->fields.n; i++) {
        const struct slack_field *f = c->fields.v[i];
        bool first = true;
        bool is_short = f->short_ >= 0 ? f->short_ != 0 : c->short_fields;

        if (i > 0) {
            buf_putc(b, ',');
        }
        put_opt(b, "title", notify_tmpl_text(t, f->title), &first);
        put_opt(b, "value", notify_tmpl_text(t, f->value), &first);
        buf_puts(b, first ? "{" : ",");
        buf_puts(b, is_short ? "\"short\":true}" : "\"short\":false}");
    }
    buf_putc(b, ']');
}

static void put_actions(struct buf *b, struct notify_tmpl *t, const struct slack_config *c)
{
    buf_puts(b, ",\"actions\":[");
    for (size_t i = 0; i < c->actions.n; i++) {
        const struct slack_action *a = c->actions.v[i];
        bool first = true;

        if (i > 0) {
            buf_putc(b, ',');
        }
        put_opt(b, "type", notify_tmpl_text(t, a->type), &first);
        put_opt(b, "text", notify_tmpl_text(t, a->text), &first);
        put_opt(b, "url", notify_tmpl_text(t, a->url), &first);
        put_opt(b, "style", notify_tmpl_text(t, a->style), &first);
        put_opt(b, "name", notify_tmpl_text(t, a->name), &first);
        put_opt(b, "value", notify_tmpl_text(t, a->value), &first);
        /* COMPAT: 0.25 does not send the confirm field (observed) */
        buf_puts(b, first ? "{}" : "}");
    }
    buf_putc(b, ']');
}

int notify_slack_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                       struct ar_error *err)
{
    const struct slack_config *c = cfg;
    struct notify_tmpl t;
    struct buf att;
    char *url = NULL;
    bool truncated;
    int rc;

    rc = notify_required_secret(c->api_url, c->api_url_file, "api_url", "slack", &url, err);
    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    buf_init(&att, 0);
    /* attachment, in the order upstream renders the fields */
    char *title =
        notify_truncate_runes(notify_tmpl_title(&t, c->title), SLACK_TITLE_MAX_RUNES, &truncated);
    bool first = true;
    put_opt(&att, "title", title, &first);
    put_opt(&att, "title_link", notify_tmpl_text(&t, c->title_link), &first);
    put_opt(&att, "pretext", notify_tmpl_text(&t, c->pretext), &first);
    buf_puts(&att, first ? "{\"text\":" : ",\"text\":");
    notify_json_str(&att, notify_tmpl_body(&t, c->text));
    buf_puts(&att, ",\"fallback\":");
    notify_json_str(&att, notify_tmpl_title(&t, c->fallback));
    buf_puts(&att, ",\"callback_id\":");
    notify_json_str(&att, notify_tmpl_text(&t, c->callback_id));
    const char *image_url = notify_tmpl_text(&t, c->image_url);
    const char *thumb_url = notify_tmpl_text(&t, c->thumb_url);
    const char *footer = notify_tmpl_text(&t, c->footer);
    const char *color = notify_tmpl_text(&t, c->color);
    if (c->fields.n > 0) {
        put_fields(&att, &t, c);
    }
    if (c->actions.n > 0) {
        put_actions(&att, &t, c);
    }
    put_opt(&att, "image_url", image_url, &first);
    put_opt(&att, "thumb_url", thumb_url, &first);
    buf_puts(&att, ",\"footer\":");
    notify_json_str(&att, footer);
    put_opt(&att, "color", color, &first);
    buf_puts(&att, ",\"mrkdwn_in\":[");
    if (c->mrkdwn_in.n == 0) {
        buf_puts(&att, "\"fallback\",\"pretext\",\"text\"");
    }
    for (size_t i = 0; i < c->mrkdwn_in.n; i++) {
        if (i > 0) {
            buf_putc(&att, ',');
        }
        notify_json_str(&att, c->mrkdwn_in.v[i]);
    }
    buf_puts(&att, "]}");

    /* request */
    first = true;
    struct buf *b = &out->body;
    const char *channel = notify_tmpl_text(&t, c->channel);
    struct buf pre;

    buf_init(&pre, 0);
    buf_puts(&pre, "channel ");
    buf_go_quote(&pre, channel);
    buf_puts(&pre, ": ");
    out->error_prefix = buf_take(&pre);
    buf_cleanup(&pre);
    put_opt(b, "channel", channel, &first);
    put_opt(b, "username", notify_tmpl_text(&t, c->username), &first);
    put_opt(b, "icon_emoji", notify_tmpl_text(&t, c->icon_emoji), &first);
    put_opt(b, "icon_url", notify_tmpl_text(&t, c->icon_url), &first);
    if (c->link_names) {
        buf_puts(b, first ? "{\"link_names\":true" : ",\"link_names\":true");
        first = false;
    }
    buf_puts(b, first ? "{\"attachments\":[" : ",\"attachments\":[");
    buf_append(b, att.data, att.len);
    rc = buf_puts(b, "]}\n");
    buf_cleanup(&att);
    free(title);
    /* COMPAT 9.3: Slack sends even when a template failed (the rest rendered empty) */
    notify_tmpl_cleanup(&t);
    if (rc != AR_OK) {
        free(url);
        ar_error_set(err, "build slack body: %s", ar_strerror(rc));
        return rc;
    }
    out->url = url;
    out->http = c->http_config;
    out->timeout_ns = c->timeout_ns;
    out->check = notify_slack_check;
    return AR_OK;
}

/* ---- configuration: the `slack_configs` key table --------------------------------- */

static int slack_confirm_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct slack_confirm *s = obj;
    if (cfg_empty(s->text)) {
        return ctx_error(c, n, "missing text in Slack confirmation configuration");
    }
    return AR_OK;
}

static const struct field slack_confirm_fields[] = {
    STR(struct slack_confirm, "text", text),
    STR(struct slack_confirm, "title", title),
    STR(struct slack_confirm, "ok_text", ok_text),
    STR(struct slack_confirm, "dismiss_text", dismiss_text),
};
static const struct table slack_confirm_table =
    TABLE("config.plain", struct slack_confirm, slack_confirm_fields, slack_confirm_check);

static int slack_action_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct slack_action *a = obj;
    if (cfg_empty(a->type)) {
        return ctx_error(c, n, "missing type in Slack action configuration");
    }
    if (cfg_empty(a->text)) {
        return ctx_error(c, n, "missing text in Slack action configuration");
    }
    if (!cfg_empty(a->url)) {
        AR_FREE(a->name);
        AR_FREE(a->value);
        table_free(&slack_confirm_table, a->confirm);
        a->confirm = NULL;
    } else if (!cfg_empty(a->name)) {
        AR_FREE(a->url);
    } else {
        return ctx_error(c, n, "missing name or url in Slack action configuration");
    }
    return AR_OK;
}

static const struct field slack_action_fields[] = {
    STR(struct slack_action, "type", type),
    STR(struct slack_action, "text", text),
    STR(struct slack_action, "url", url),
    STR(struct slack_action, "style", style),
    STR(struct slack_action, "name", name),
    STR(struct slack_action, "value", value),
    SUBFIELD(struct slack_action, "confirm", confirm, FT_STRUCTP, FF_OMITEMPTY,
             &slack_confirm_table),
};
static const struct table slack_action_table =
    TABLE("config.plain", struct slack_action, slack_action_fields, slack_action_check);

static int slack_field_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct slack_field *f = obj;
    if (cfg_empty(f->title)) {
        return ctx_error(c, n, "missing title in Slack field configuration");
    }
    if (cfg_empty(f->value)) {
        return ctx_error(c, n, "missing value in Slack field configuration");
    }
    return AR_OK;
}

static const struct field slack_field_fields[] = {
    STR(struct slack_field, "title", title),
    STR(struct slack_field, "value", value),
    FIELD(struct slack_field, "short", short_, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table slack_field_table =
    TABLE("config.plain", struct slack_field, slack_field_fields, slack_field_check);

static int slack_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct slack_config *s = obj;
    const struct config_global *g = c->global;

    if (s->api_url != NULL && !cfg_empty(s->api_url_file)) {
        return ctx_error(c, n, "at most one of api_url & api_url_file must be configured");
    }
    int rc = cfg_at_most_one(c, n, "app_token", s->app_token, "app_token_file", s->app_token_file);
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit_http(&s->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (s->api_url == NULL && cfg_empty(s->api_url_file) && cfg_empty(s->app_token) &&
        cfg_empty(s->app_token_file)) {
        if (g->slack_api_url == NULL && cfg_empty(g->slack_api_url_file) &&
            cfg_empty(g->slack_app_token) && cfg_empty(g->slack_app_token_file)) {
            return ctx_error(c, n, "no global Slack API URL set either inline or in a file");
        }
        cfg_inherit(&s->api_url, g->slack_api_url);
        cfg_inherit(&s->api_url_file, g->slack_api_url_file);
        if (s->api_url == NULL && cfg_empty(s->api_url_file)) {
            cfg_inherit(&s->app_token, g->slack_app_token);
            cfg_inherit(&s->app_token_file, g->slack_app_token_file);
        }
    }
    if (!cfg_empty(s->app_token) || !cfg_empty(s->app_token_file)) {
        cfg_inherit(&s->app_url, g->slack_app_url);
        cfg_inherit(&s->app_url, "https://slack.com/api/chat.postMessage");
    }
    return AR_OK;
}

#define T struct slack_config
static const struct field slack_fields[] = {
    SENDRES(T, "false"),
    HTTPF(T),
    SURL(T, "api_url", api_url),
    STR(T, "api_url_file", api_url_file),
    SECRET(T, "app_token", app_token),
    STR(T, "app_token_file", app_token_file),
    URLF(T, "app_url", app_url),
    STR(T, "channel", channel),
    STRD(T, "username", username, "{{ template \"slack.default.username\" . }}"),
    STRD(T, "color", color, "{{ if eq .Status \"firing\" }}danger{{ else }}good{{ end }}"),
    STRD(T, "title", title, "{{ template \"slack.default.title\" . }}"),
    STRD(T, "title_link", title_link, "{{ template \"slack.default.titlelink\" . }}"),
    STRD(T, "pretext", pretext, "{{ template \"slack.default.pretext\" . }}"),
    STRD(T, "text", text, "{{ template \"slack.default.text\" . }}"),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &slack_field_table),
    FIELD(T, "short_fields", short_fields, FT_BOOL, 0, NULL),
    STRD(T, "footer", footer, "{{ template \"slack.default.footer\" . }}"),
    STRD(T, "fallback", fallback, "{{ template \"slack.default.fallback\" . }}"),
    STRD(T, "callback_id", callback_id, "{{ template \"slack.default.callbackid\" . }}"),
    STRD(T, "icon_emoji", icon_emoji, "{{ template \"slack.default.iconemoji\" . }}"),
    STRD(T, "icon_url", icon_url, "{{ template \"slack.default.iconurl\" . }}"),
    STR(T, "image_url", image_url),
    STR(T, "thumb_url", thumb_url),
    FIELD(T, "link_names", link_names, FT_BOOL, 0, NULL),
    FIELD(T, "mrkdwn_in", mrkdwn_in, FT_STRLIST, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "actions", actions, FT_LIST, FF_OMITEMPTY, &slack_action_table),
    STR(T, "message_text", message_text),
    FIELD(T, "update_message", update_message, FT_BOOL, FF_OMITEMPTY, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
};
#undef T
const struct table slack_config_table =
    TABLE("config.plain", struct slack_config, slack_fields, slack_check);

/* Telegram notifier (COMPAT 9.7): POST <api_url>/bot<token>/sendMessage with the parameters
 * Alertmanager's Telegram client sends (a JSON object of strings, keys sorted). In HTML parse
 * mode the message is rendered with HTML escaping; it is truncated to 4096 runes (0.25).
 * The URL holds the bot token: it is never put in error texts (notify_redact_url hides it).
 * COMPAT deviation: upstream retries every failure; the engine retries 5xx, 429 and
 * transport errors only.
 * Also owns the `telegram_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define TELEGRAM_MESSAGE_MAX 4096

int notify_telegram_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err)
{
    const struct telegram_config *c = cfg;
    struct notify_tmpl t;
    char *token = NULL;
    char *chat = NULL;
    char *msg = NULL;
    bool tr;
    int rc = notify_secret(c->bot_token, c->bot_token_file, "bot_token", &token, err);

    if (rc != AR_OK) {
        return rc;
    }
    if (c->chat_id_file != NULL && c->chat_id_file[0] != '\0') {
        rc = notify_secret(NULL, c->chat_id_file, "chat_id", &chat, err);
        if (rc != AR_OK) {
            free(token);
            return rc;
        }
    } else {
        char num[32];

        snprintf(num, sizeof(num), "%" PRId64, c->chat_id);
        chat = ar_strdup(num);
    }
    bool html = c->parse_mode != NULL && strcmp(c->parse_mode, "HTML") == 0;
    notify_tmpl_init(&t, d);
    t.html = html;
    msg = notify_truncate_runes(notify_tmpl_message(&t, c->message), TELEGRAM_MESSAGE_MAX, &tr);
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    /* keys in sorted order, as the client encodes a map of strings */
    struct buf *b = &out->body;
    buf_puts(b, "{\"chat_id\":");
    notify_json_str(b, chat);
    if (c->disable_notifications) {
        buf_puts(b, ",\"disable_notification\":\"true\"");
    }
    buf_puts(b, ",\"disable_web_page_preview\":\"true\"");
    if (c->message_thread_id != 0) {
        buf_printf(b, ",\"message_thread_id\":\"%" PRId64 "\"", c->message_thread_id);
    }
    /* the acknowledgement message is plain text: no markup to escape */
    if (c->parse_mode != NULL && c->parse_mode[0] != '\0' && d->override_title == NULL) {
        buf_puts(b, ",\"parse_mode\":");
        notify_json_str(b, c->parse_mode);
    }
    buf_puts(b, ",\"text\":");
    notify_json_str(b, msg);
    rc = buf_puts(b, "}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build telegram body: %s", ar_strerror(rc));
        goto out;
    }
    struct buf u;
    buf_init(&u, 0);
    buf_printf(&u, "%s/bot%s/sendMessage", c->api_url != NULL ? c->api_url : "", token);
    out->url = buf_take(&u);
    buf_cleanup(&u);
    /* COMPAT: 0.25's Telegram client sends Go's default User-Agent (observed); curl uses a
     * custom header in place of its own */
    notify_request_add_header(out, "User-Agent", "Go-http-client/1.1");
    out->http = c->http_config;
out:
    free(token);
    free(chat);
    free(msg);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `telegram_configs` key table --------------------------------- */

static int telegram_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct telegram_config *t = obj;
    const struct config_global *g = c->global;

    int rc = cfg_at_most_one(c, n, "bot_token", t->bot_token, "bot_token_file", t->bot_token_file);
    if (rc != AR_OK) {
        return rc;
    }
    if (cfg_empty(t->bot_token) && cfg_empty(t->bot_token_file) && g != NULL) {
        cfg_inherit(&t->bot_token, g->telegram_bot_token);
        cfg_inherit(&t->bot_token_file, g->telegram_bot_token_file);
    }
    if (cfg_empty(t->bot_token) && cfg_empty(t->bot_token_file)) {
        return ctx_error(c, n, "missing bot_token on telegram_config");
    }
    if (t->chat_id == 0 && cfg_empty(t->chat_id_file)) {
        return ctx_error(c, n, "missing chat_id on telegram_config");
    }
    if (t->chat_id != 0 && !cfg_empty(t->chat_id_file)) {
        return ctx_error(c, n, "at most one of chat_id & chat_id_file must be configured");
    }
    if (!cfg_empty(t->parse_mode) && strcmp(t->parse_mode, "Markdown") != 0 &&
        strcmp(t->parse_mode, "MarkdownV2") != 0 && strcmp(t->parse_mode, "HTML") != 0) {
        return ctx_error(c, n,
                         "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, "
                         "HTML or empty string");
    }
    cfg_inherit_http(&t->http_config, c);
    if (t->api_url == NULL && g != NULL) {
        cfg_inherit(&t->api_url, g->telegram_api_url);
    }
    return AR_OK;
}

#define T struct telegram_config
static const struct field telegram_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    FIELD(T, "api_url", api_url, FT_URL, 0, NULL),
    SECRET(T, "bot_token", bot_token),
    STR(T, "bot_token_file", bot_token_file),
    FIELD(T, "chat_id", chat_id, FT_INT64, FF_OMITEMPTY, NULL),
    STR(T, "chat_id_file", chat_id_file),
    FIELD(T, "message_thread_id", message_thread_id, FT_INT64, FF_OMITEMPTY, NULL),
    STRD(T, "message", message, "{{ template \"telegram.default.message\" . }}"),
    FIELD(T, "disable_notifications", disable_notifications, FT_BOOL, FF_OMITEMPTY, NULL),
    STRD(T, "parse_mode", parse_mode, "HTML"),
};
#undef T
const struct table telegram_config_table =
    TABLE("config.plain", struct telegram_config, telegram_fields, telegram_check);

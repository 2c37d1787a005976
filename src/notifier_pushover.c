/* Pushover notifier (COMPAT 9.13): POST https://api.pushover.net/1/messages.json with the
 * parameters form-encoded (keys sorted, as Go's url.Values.Encode): token, user, title
 * (<= 250 runes), message (<= 1024 runes, then trimmed, "(no details)" when empty; rendered with
 * HTML escaping when html is set), url (<= 512 runes), url_title, priority, retry/expire in
 * seconds, sound, html=1; device, ttl and monospace (newer fields) only when set.
 * COMPAT: 0.25 puts the parameters in the URL query and posts an empty text/plain body
 * (observed, tests/data/notify/chat); this builder does the same so requests are identical.
 * The engine prints URLs with the query redacted, so token and user key never appear in
 * error texts. Retries: 5xx only.
 * Also owns the `pushover_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/clock.h"
#include "ar/notify.h"
#include "ar/tmpl.h"
#include "config_internal.h"

#define PUSHOVER_URL         "https://api.pushover.net/1/messages.json"
#define PUSHOVER_TITLE_MAX   250
#define PUSHOVER_MESSAGE_MAX 1024
#define PUSHOVER_URL_MAX     512

int notify_pushover_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err)
{
    const struct pushover_config *c = cfg;
    struct notify_tmpl t;
    char *token = NULL;
    char *user = NULL;
    char *title = NULL;
    char *msg = NULL;
    char *url = NULL;
    char num[32];
    bool tr;
    int rc = notify_secret(c->token, c->token_file, "token", &token, err);

    if (rc != AR_OK) {
        return rc;
    }
    rc = notify_secret(c->user_key, c->user_key_file, "user_key", &user, err);
    if (rc != AR_OK) {
        free(token);
        return rc;
    }
    notify_tmpl_init(&t, d);
    struct tmpl_value *m = tmpl_map_new(TMPL_K_KV);
    tmpl_kv_set(m, "token", notify_tmpl_text(&t, token));
    tmpl_kv_set(m, "user", notify_tmpl_text(&t, user));
    title = notify_truncate_runes(notify_tmpl_text(&t, c->title), PUSHOVER_TITLE_MAX, &tr);
    tmpl_kv_set(m, "title", title);
    t.html = c->html; /* COMPAT: only the message is rendered as HTML */
    msg = notify_truncate_runes(notify_tmpl_text(&t, c->message), PUSHOVER_MESSAGE_MAX, &tr);
    t.html = false;
    /* COMPAT: the message is cut, then trimmed of surrounding white space (observed) */
    const char *ms = msg;
    size_t ml = strlen(msg);
    while (*ms != '\0' && isspace((unsigned char)*ms)) {
        ms++;
        ml--;
    }
    while (ml > 0 && isspace((unsigned char)ms[ml - 1])) {
        ml--;
    }
    char *trimmed = ar_strndup(ms, ml);
    tmpl_kv_set(m, "message", trimmed[0] != '\0' ? trimmed : "(no details)");
    free(trimmed);
    url = notify_truncate_runes(notify_tmpl_text(&t, c->url), PUSHOVER_URL_MAX, &tr);
    tmpl_kv_set(m, "url", url);
    tmpl_kv_set(m, "url_title", notify_tmpl_text(&t, c->url_title));
    tmpl_kv_set(m, "priority", notify_tmpl_text(&t, c->priority));
    snprintf(num, sizeof(num), "%" PRId64, (int64_t)(c->retry_ns / AR_NS_PER_SEC));
    tmpl_kv_set(m, "retry", num);
    snprintf(num, sizeof(num), "%" PRId64, (int64_t)(c->expire_ns / AR_NS_PER_SEC));
    tmpl_kv_set(m, "expire", num);
    if (c->ttl_ns > 0) {
        snprintf(num, sizeof(num), "%" PRId64, (int64_t)(c->ttl_ns / AR_NS_PER_SEC));
        tmpl_kv_set(m, "ttl", num);
    }
    const char *device = notify_tmpl_text(&t, c->device);
    if (device[0] != '\0') {
        tmpl_kv_set(m, "device", device);
    }
    tmpl_kv_set(m, "sound", notify_tmpl_text(&t, c->sound));
    if (c->html) {
        tmpl_kv_set(m, "html", "1");
    } else if (c->monospace) {
        tmpl_kv_set(m, "monospace", "1");
    }
    if (t.rc != AR_OK) {
        ar_error_set(err, "templating error: %s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    struct buf q;
    buf_init(&q, 0);
    struct buf *b = &q;
    buf_puts(b, PUSHOVER_URL "?");
    for (size_t i = 0; i < m->u.map.n; i++) {
        if (i > 0) {
            buf_putc(b, '&');
        }
        notify_query_escape(b, m->u.map.keys[i]);
        buf_putc(b, '=');
        notify_query_escape(b, m->u.map.vals[i]->u.s.p);
    }
    out->url = buf_take(&q);
    buf_cleanup(&q);
    out->content_type = "text/plain";
    out->http = c->http_config;
out:
    tmpl_value_unref(m);
    free(token);
    free(user);
    free(title);
    free(msg);
    free(url);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `pushover_configs` key table --------------------------------- */

static int pushover_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct pushover_config *p = obj;

    if (cfg_empty(p->user_key) && cfg_empty(p->user_key_file)) {
        return ctx_error(c, n, "missing user key in Pushover config");
    }
    int rc = cfg_at_most_one(c, n, "user_key", p->user_key, "user_key_file", p->user_key_file);
    if (rc != AR_OK) {
        return rc;
    }
    if (cfg_empty(p->token) && cfg_empty(p->token_file)) {
        return ctx_error(c, n, "missing token in Pushover config");
    }
    rc = cfg_at_most_one(c, n, "token", p->token, "token_file", p->token_file);
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit_http(&p->http_config, c);
    return AR_OK;
}

#define T struct pushover_config
static const struct field pushover_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "user_key", user_key),
    STR(T, "user_key_file", user_key_file),
    SECRET(T, "token", token),
    STR(T, "token_file", token_file),
    STRD(T, "title", title, "{{ template \"pushover.default.title\" . }}"),
    STRD(T, "message", message, "{{ template \"pushover.default.message\" . }}"),
    STRD(T, "url", url, "{{ template \"pushover.default.url\" . }}"),
    STR(T, "url_title", url_title),
    STR(T, "device", device),
    STR(T, "sound", sound),
    STRD(T, "priority", priority, "{{ if eq .Status \"firing\" }}2{{ else }}0{{ end }}"),
    FIELD(T, "retry", retry_ns, FT_GODURATION, FF_OMITEMPTY, "1m"),
    FIELD(T, "expire", expire_ns, FT_GODURATION, FF_OMITEMPTY, "1h"),
    FIELD(T, "ttl", ttl_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "html", html, FT_BOOL, 0, NULL),
    FIELD(T, "monospace", monospace, FT_BOOL, FF_OMITEMPTY, NULL),
};
#undef T
const struct table pushover_config_table =
    TABLE("config.plain", struct pushover_config, pushover_fields, pushover_check);

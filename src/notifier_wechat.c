/* WeChat Work notifier (COMPAT 9.16): an access token fetched with
 * `GET <api_url>gettoken?corpid=..&corpsecret=..` (both rendered; the secret from api_secret
 * or api_secret_file) and kept for two hours per api_url, corp_id and secret, then
 * `POST <api_url>message/send?access_token=<token>` with the message JSON: text (or markdown,
 * by message_type) content, touser, toparty, totag and agentid (rendered, left out when
 * empty), safe "0", msgtype. The reply is judged by its errcode: 0 delivered, 42001 (token
 * expired) forgets the token and retries with a new one, anything else is final with the
 * service's errmsg; a status other than 200 or an undecodable reply is retried. Tokens and
 * secrets stay out of logs (URL queries are redacted).
 * Also owns the `wechat_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/clock.h"
#include "ar/notify.h"
#include "config_internal.h"

#define TOKEN_TTL_NS  (2LL * 3600 * AR_NS_PER_SEC)
#define TOKEN_SLOTS   32
#define TOKEN_EXPIRED 42001

/* Tokens by SHA-256 of api_url, corp_id and secret; shared by every WeChat config. */
struct token_slot {
    char key[65];
    char *token;
    int64_t at_mono_ns;
};

static struct token_slot tokens[TOKEN_SLOTS];
static size_t tokens_next; /* slot reused next when all are taken */
static pthread_mutex_t tokens_lock = PTHREAD_MUTEX_INITIALIZER;

static char *token_get(const char *key)
{
    char *t = NULL;
    int64_t now = clock_monotonic_ns();

    pthread_mutex_lock(&tokens_lock);
    for (size_t i = 0; i < TOKEN_SLOTS; i++) {
        if (tokens[i].token != NULL && strcmp(tokens[i].key, key) == 0 &&
            now - tokens[i].at_mono_ns <= TOKEN_TTL_NS) {
            t = ar_strdup(tokens[i].token);
            break;
        }
    }
    pthread_mutex_unlock(&tokens_lock);
    return t;
}

/* Stores token for key (NULL forgets it). */
static void token_put(const char *key, const char *token)
{
    struct token_slot *slot = NULL;

    pthread_mutex_lock(&tokens_lock);
    for (size_t i = 0; i < TOKEN_SLOTS && slot == NULL; i++) {
        if (tokens[i].token != NULL && strcmp(tokens[i].key, key) == 0) {
            slot = &tokens[i];
        }
    }
    for (size_t i = 0; i < TOKEN_SLOTS && slot == NULL && token != NULL; i++) {
        if (tokens[i].token == NULL) {
            slot = &tokens[i];
        }
    }
    if (slot == NULL && token != NULL) {
        slot = &tokens[tokens_next++ % TOKEN_SLOTS];
    }
    if (slot != NULL) {
        free(slot->token);
        slot->token = token != NULL ? ar_strdup(token) : NULL;
        snprintf(slot->key, sizeof(slot->key), "%s", key);
        slot->at_mono_ns = clock_monotonic_ns();
    }
    pthread_mutex_unlock(&tokens_lock);
}

/* What the `then` steps need: the token's key, the corp id for the error text, and the
 * message/send URL without its token. */
struct wechat_step {
    char key[65];
    char *corp_id;
    char *send_base; /* "<api_url>message/send?access_token=" */
};

static void step_free(void *ctx)
{
    struct wechat_step *s = ctx;

    if (s != NULL) {
        free(s->corp_id);
        free(s->send_base);
        free(s);
    }
}

static struct wechat_step *step_new(const char *key, const char *corp_id, const char *send_base)
{
    struct wechat_step *s = ar_calloc(1, sizeof(*s));

    snprintf(s->key, sizeof(s->key), "%s", key);
    s->corp_id = ar_strdup(corp_id != NULL ? corp_id : "");
    s->send_base = ar_strdup(send_base);
    return s;
}

static char *send_url(const char *send_base, const char *token)
{
    struct buf b;
    char *url;

    buf_init(&b, 0);
    buf_puts(&b, send_base);
    notify_query_escape(&b, token);
    url = ar_strdup(buf_str(&b));
    buf_cleanup(&b);
    return url;
}

/* gettoken answered: keep the token and put it into the message/send URL. */
static bool token_then(struct notify_request *r, const struct notify_reply *reply, char *err,
                       size_t errsz, bool *retryable)
{
    const struct wechat_step *s = r->then_ctx;
    json_t *root = json_loadb(reply->body, reply->len, 0, NULL);
    const char *token = json_string_value(json_object_get(root, "access_token"));

    *retryable = false; /* COMPAT: upstream gives up on a bad gettoken reply */
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errsz, "could not decode the gettoken reply");
        json_decref(root);
        return false;
    }
    if (token == NULL || token[0] == '\0') {
        snprintf(err, errsz, "invalid APISecret for CorpID: %s", s->corp_id);
        json_decref(root);
        return false;
    }
    token_put(s->key, token);
    if (r->next != NULL) {
        free(r->next->url);
        r->next->url = send_url(s->send_base, token);
    }
    json_decref(root);
    return true;
}

/* message/send answered: errcode 0 is success. */
static bool send_then(struct notify_request *r, const struct notify_reply *reply, char *err,
                      size_t errsz, bool *retryable)
{
    const struct wechat_step *s = r->then_ctx;
    json_t *root;
    json_t *code;
    bool ok = false;

    if (reply->status != 200) {
        *retryable = true;
        snprintf(err, errsz, "unexpected status code %ld", reply->status);
        return false;
    }
    root = json_loadb(reply->body, reply->len, 0, NULL);
    code = json_object_get(root, "errcode");
    if (root == NULL || !json_is_object(root) || (code != NULL && !json_is_integer(code))) {
        char excerpt[256];
        notify_reply_excerpt(reply->body, reply->len, excerpt, sizeof(excerpt));
        snprintf(err, errsz, "could not unmarshal JSON response \"%s\"", excerpt);
        *retryable = true;
    } else if (code == NULL || json_integer_value(code) == 0) {
        ok = true;
    } else {
        const char *msg = json_string_value(json_object_get(root, "errmsg"));
        snprintf(err, errsz, "%s", msg != NULL ? msg : "");
        *retryable = json_integer_value(code) == TOKEN_EXPIRED;
        if (*retryable) {
            token_put(s->key, NULL); /* a new one at the next attempt (rebuild_on_retry) */
        }
    }
    json_decref(root);
    return ok;
}

static void put_opt(struct buf *b, const char *key, const char *v)
{
    if (v[0] != '\0') {
        buf_printf(b, ",\"%s\":", key);
        notify_json_str(b, v);
    }
}

int notify_wechat_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                        struct ar_error *err)
{
    const struct wechat_config *c = cfg;
    const char *api_url = c->api_url != NULL ? c->api_url : "";
    size_t base_len = strcspn(api_url, "?#"); /* Go replaces the query, appends to the path */
    struct notify_tmpl t;
    struct notify_request *send = out;
    char *secret = NULL;
    char *token = NULL;
    char *send_base = NULL;
    char *keytext;
    char key[65];
    int rc = notify_secret(c->api_secret, c->api_secret_file, "api_secret", &secret, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    const char *corp = notify_tmpl_text(&t, c->corp_id);
    const char *sec = notify_tmpl_text(&t, secret);
    const char *to_user = notify_tmpl_text(&t, c->to_user);
    const char *to_party = notify_tmpl_text(&t, c->to_party);
    const char *to_tag = notify_tmpl_text(&t, c->to_tag);
    const char *agent = notify_tmpl_text(&t, c->agent_id);
    const char *message = notify_tmpl_text(&t, c->message);
    if (t.rc != AR_OK) {
        ar_error_set(err, "templating error: %s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    keytext = ar_asprintf("%s\n%s\n%s", api_url, corp, sec);
    notify_sha256_hex(keytext, key);
    free(keytext);
    send_base = ar_asprintf("%.*smessage/send?access_token=", (int)base_len, api_url);
    token = token_get(key);
    if (token == NULL) {
        /* first the token: GET gettoken, whose reply completes the message/send URL */
        struct buf u;
        buf_init(&u, 0);
        buf_append(&u, api_url, base_len);
        buf_puts(&u, "gettoken?corpid=");
        notify_query_escape(&u, corp);
        buf_puts(&u, "&corpsecret=");
        notify_query_escape(&u, sec);
        out->method = "GET";
        out->url = ar_strdup(buf_str(&u));
        buf_cleanup(&u);
        out->http = c->http_config;
        out->then = token_then;
        out->then_ctx = step_new(key, c->corp_id, send_base);
        out->then_free = step_free;
        send = notify_request_chain_new(out);
        send->url = ar_strdup(""); /* written by token_then */
    } else {
        send->url = send_url(send_base, token);
    }
    send->then = send_then;
    send->then_ctx = step_new(key, c->corp_id, send_base);
    send->then_free = step_free;
    send->method = "POST";
    send->http = c->http_config;
    send->retry_any_status = true; /* COMPAT: every status but 200 is retried */
    send->rebuild_on_retry = true;
    bool markdown = c->message_type != NULL && strcmp(c->message_type, "markdown") == 0;
    struct buf *b = &send->body;
    buf_puts(b, "{\"text\":{\"content\":");
    notify_json_str(b, markdown ? "" : message);
    buf_putc(b, '}');
    put_opt(b, "touser", to_user);
    put_opt(b, "toparty", to_party);
    put_opt(b, "totag", to_tag);
    put_opt(b, "agentid", agent);
    buf_puts(b, ",\"safe\":\"0\"");
    put_opt(b, "msgtype", c->message_type != NULL ? c->message_type : "");
    buf_puts(b, ",\"markdown\":{\"content\":");
    notify_json_str(b, markdown ? message : "");
    rc = buf_puts(b, "}}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build wechat body: %s", ar_strerror(rc));
    }
out:
    free(send_base);
    free(token);
    free(secret);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `wechat_configs` key table --------------------------------- */

static int wechat_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct wechat_config *w = obj;
    const struct config_global *g = c->global;

    if (cfg_empty(w->message_type)) {
        free(w->message_type);
        w->message_type = ar_strdup("text");
    }
    if (strcmp(w->message_type, "text") != 0 && strcmp(w->message_type, "markdown") != 0) {
        return ctx_error(c, n,
                         "weChat message type \"%s\" does not match valid options "
                         "^(text|markdown)$",
                         w->message_type);
    }
    int rc =
        cfg_at_most_one(c, n, "api_secret", w->api_secret, "api_secret_file", w->api_secret_file);
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit_http(&w->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (w->api_url == NULL) {
        if (cfg_empty(g->wechat_api_url)) {
            return ctx_error(c, n, "no global Wechat URL set");
        }
        cfg_inherit(&w->api_url, g->wechat_api_url);
    }
    if (cfg_empty(w->api_secret) && cfg_empty(w->api_secret_file)) {
        if (cfg_empty(g->wechat_api_secret) && cfg_empty(g->wechat_api_secret_file)) {
            return ctx_error(c, n, "no global Wechat ApiSecret set");
        }
        cfg_inherit(&w->api_secret, g->wechat_api_secret);
        cfg_inherit(&w->api_secret_file, g->wechat_api_secret_file);
    }
    if (cfg_empty(w->corp_id)) {
        if (cfg_empty(g->wechat_api_corp_id)) {
            return ctx_error(c, n, "no global Wechat CorpID set");
        }
        cfg_inherit(&w->corp_id, g->wechat_api_corp_id);
    }
    cfg_url_ensure_slash(&w->api_url);
    return AR_OK;
}

#define T struct wechat_config
static const struct field wechat_fields[] = {
    SENDRES(T, "false"),
    HTTPF(T),
    SECRET(T, "api_secret", api_secret),
    STR(T, "api_secret_file", api_secret_file),
    STR(T, "corp_id", corp_id),
    STRD(T, "message", message, "{{ template \"wechat.default.message\" . }}"),
    URLF(T, "api_url", api_url),
    STRD(T, "to_user", to_user, "{{ template \"wechat.default.to_user\" . }}"),
    STRD(T, "to_party", to_party, "{{ template \"wechat.default.to_party\" . }}"),
    STRD(T, "to_tag", to_tag, "{{ template \"wechat.default.to_tag\" . }}"),
    STRD(T, "agent_id", agent_id, "{{ template \"wechat.default.agent_id\" . }}"),
    STR(T, "message_type", message_type),
};
#undef T
const struct table wechat_config_table =
    TABLE("config.plain", struct wechat_config, wechat_fields, wechat_check);

/* Key tables and validation for `global`, `http_config` (COMPAT 4.9) and every receiver
 * integration type (COMPAT 4.5, 9). Tables list fields in the order of Alertmanager's Go
 * structs (0.25 first; keys only newer versions know are omitempty so a 0.25-style config
 * re-serialises as 0.25 does). Each integration's check applies Alertmanager's rules:
 * value-or-file exclusivity, required keys, and inheritance of empty fields from
 * `global` (ctx.global, decoded before the receivers), including http_config. */
#include "ar/integration.h"
#include "ar/notifier_email.h"
#include "config_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ------------------------------------------------------------------------------ */

bool cfg_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

void cfg_inherit(char **dst, const char *src)
{
    if (cfg_empty(*dst) && !cfg_empty(src)) {
        free(*dst);
        *dst = ar_strdup(src);
    }
}

int cfg_at_most_one(struct ctx *c, const struct ynode *n, const char *a, const char *av,
                       const char *b, const char *bv)
{
    if (!cfg_empty(av) && !cfg_empty(bv)) {
        return ctx_error(c, n, "at most one of %s & %s must be configured", a, b);
    }
    return AR_OK;
}

static void header_lines_dup(struct http_config *dst, const struct http_config *src);

void cfg_inherit_http(struct http_config **dst, const struct ctx *c)
{
    if (*dst == NULL && c->global != NULL && c->global->http_config != NULL) {
        *dst = table_dup(&http_config_table, c->global->http_config);
        header_lines_dup(*dst, c->global->http_config);
    }
}

/* Appends '/' to the path part of a URL when missing (Alertmanager does it for API bases). */
void cfg_url_ensure_slash(char **url)
{
    char *u = *url;
    if (u == NULL) {
        return;
    }
    size_t end = strcspn(u, "?#");
    if (end > 0 && u[end - 1] == '/') {
        return;
    }
    char *fixed = ar_malloc(strlen(u) + 2);
    memcpy(fixed, u, end);
    fixed[end] = '/';
    strcpy(fixed + end + 1, u + end);
    free(u);
    *url = fixed;
}

void cfg_map_add_missing(struct str_map *m, const char *key, const char *value)
{
    if (str_map_get(m, key) != NULL) {
        return;
    }
    m->keys = ar_realloc(m->keys, (m->n + 1) * sizeof(char *));
    m->values = ar_realloc(m->values, (m->n + 1) * sizeof(char *));
    size_t pos = m->n;
    while (pos > 0 && yaml_key_compare(m->keys[pos - 1], key) > 0) {
        m->keys[pos] = m->keys[pos - 1];
        m->values[pos] = m->values[pos - 1];
        pos--;
    }
    m->keys[pos] = ar_strdup(key);
    m->values[pos] = ar_strdup(value);
    m->n++;
}

int cfg_webhook_url_or_file(struct ctx *c, const struct ynode *n, const char *url, const char *file)
{
    if (url == NULL && cfg_empty(file)) {
        return ctx_error(c, n, "one of webhook_url or webhook_url_file must be configured");
    }
    if (url != NULL && !cfg_empty(file)) {
        return ctx_error(c, n,
                         "at most one of webhook_url & webhook_url_file must be configured");
    }
    return AR_OK;
}

/* ---- tls_config, http_config -------------------------------------------------------------- */

static int tls_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct tls_config *t = obj;
    int rc = cfg_at_most_one(c, n, "ca", t->ca, "ca_file", t->ca_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "cert", t->cert, "cert_file", t->cert_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "key", t->key, "key_file", t->key_file);
    }
    if (rc == AR_OK && (!cfg_empty(t->cert) || !cfg_empty(t->cert_file)) && cfg_empty(t->key) &&
        cfg_empty(t->key_file)) {
        rc = ctx_error(c, n, "exactly one of key or key_file must be configured when a client "
                             "certificate is configured");
    }
    if (rc == AR_OK && (!cfg_empty(t->key) || !cfg_empty(t->key_file)) && cfg_empty(t->cert) &&
        cfg_empty(t->cert_file)) {
        rc = ctx_error(c, n, "exactly one of cert or cert_file must be configured when a client "
                             "key is configured");
    }
    return rc;
}

static const struct field tls_fields[] = {
    FIELD(struct tls_config, "ca", ca, FT_STR, FF_OMITEMPTY, NULL),
    PATHF(struct tls_config, "ca_file", ca_file),
    FIELD(struct tls_config, "cert", cert, FT_STR, FF_OMITEMPTY, NULL),
    PATHF(struct tls_config, "cert_file", cert_file),
    SECRET(struct tls_config, "key", key),
    PATHF(struct tls_config, "key_file", key_file),
    STR(struct tls_config, "server_name", server_name),
    FIELD(struct tls_config, "insecure_skip_verify", insecure_skip_verify, FT_BOOL, 0, NULL),
    FIELD(struct tls_config, "min_version", min_version, FT_TLSVERSION, FF_OMITEMPTY, NULL),
    FIELD(struct tls_config, "max_version", max_version, FT_TLSVERSION, FF_OMITEMPTY, NULL),
};
const struct table tls_config_table = TABLE("config.plain", struct tls_config, tls_fields,
                                            tls_check);

/* COMPAT: upstream resolves relative TLS files against the config directory only inside
 * http_config; email and global SMTP TLS files are used as written. */
static const struct field tls_fields_asis[] = {
    FIELD(struct tls_config, "ca", ca, FT_STR, FF_OMITEMPTY, NULL),
    STR(struct tls_config, "ca_file", ca_file),
    FIELD(struct tls_config, "cert", cert, FT_STR, FF_OMITEMPTY, NULL),
    STR(struct tls_config, "cert_file", cert_file),
    SECRET(struct tls_config, "key", key),
    STR(struct tls_config, "key_file", key_file),
    STR(struct tls_config, "server_name", server_name),
    FIELD(struct tls_config, "insecure_skip_verify", insecure_skip_verify, FT_BOOL, 0, NULL),
    FIELD(struct tls_config, "min_version", min_version, FT_TLSVERSION, FF_OMITEMPTY, NULL),
    FIELD(struct tls_config, "max_version", max_version, FT_TLSVERSION, FF_OMITEMPTY, NULL),
};
static const struct table smtp_tls_config_table =
    TABLE("config.plain", struct tls_config, tls_fields_asis, tls_check);

static const struct field basic_auth_fields[] = {
    FIELD(struct basic_auth, "username", username, FT_STR, 0, NULL),
    PATHF(struct basic_auth, "username_file", username_file),
    SECRET(struct basic_auth, "password", password),
    PATHF(struct basic_auth, "password_file", password_file),
};
static const struct table basic_auth_table =
    TABLE("config.plain", struct basic_auth, basic_auth_fields, NULL);

static const struct field authorization_fields[] = {
    STR(struct http_authorization, "type", type),
    SECRET(struct http_authorization, "credentials", credentials),
    PATHF(struct http_authorization, "credentials_file", credentials_file),
};
static const struct table authorization_table =
    TABLE("config.Authorization", struct http_authorization, authorization_fields, NULL);

static const struct field oauth2_fields[] = {
    FIELD(struct oauth2_config, "client_id", client_id, FT_STR, 0, NULL),
    FIELD(struct oauth2_config, "client_secret", client_secret, FT_SECRET, 0, NULL),
    FIELD(struct oauth2_config, "client_secret_file", client_secret_file, FT_STR, FF_PATH,
          NULL),
    FIELD(struct oauth2_config, "scopes", scopes, FT_STRLIST, FF_OMITEMPTY, NULL),
    FIELD(struct oauth2_config, "token_url", token_url, FT_STR, 0, NULL),
    FIELD(struct oauth2_config, "endpoint_params", endpoint_params, FT_STRMAP, FF_OMITEMPTY,
          NULL),
    /* COMPAT: proxy URLs are parsed but their scheme is not restricted */
    STR(struct oauth2_config, "proxy_url", proxy_url),
    SUBFIELD(struct oauth2_config, "tls_config", tls_config, FT_STRUCT, FF_OMITEMPTY,
             &tls_config_table),
};
static const struct table oauth2_table =
    TABLE("config.OAuth2", struct oauth2_config, oauth2_fields, NULL);

static void header_lines_decode(struct http_config *h, const struct ynode *n);
static void http_cleanup(void *obj);

static int http_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct http_config *h = obj;
    int rc;

    header_lines_decode(h, n);
    rc = cfg_at_most_one(c, n, "bearer_token", h->bearer_token, "bearer_token_file",
                         h->bearer_token_file);
    if (rc != AR_OK) {
        return rc;
    }
    bool bearer = !cfg_empty(h->bearer_token) || !cfg_empty(h->bearer_token_file);
    if ((h->basic_auth != NULL || h->oauth2 != NULL) && bearer) {
        return ctx_error(c, n,
                         "at most one of basic_auth, oauth2, bearer_token & bearer_token_file "
                         "must be configured");
    }
    if (h->basic_auth != NULL) {
        rc = cfg_at_most_one(c, n, "basic_auth username", h->basic_auth->username,
                         "username_file", h->basic_auth->username_file);
        if (rc == AR_OK && !cfg_empty(h->basic_auth->password) &&
            !cfg_empty(h->basic_auth->password_file)) {
            rc = ctx_error(c, n,
                           "at most one of basic_auth password & password_file must be "
                           "configured");
        }
        if (rc != AR_OK) {
            return rc;
        }
    }
    if (h->authorization != NULL) {
        struct http_authorization *a = h->authorization;
        if (bearer) {
            return ctx_error(c, n,
                             "authorization is not compatible with bearer_token & "
                             "bearer_token_file");
        }
        if (!cfg_empty(a->credentials) && !cfg_empty(a->credentials_file)) {
            return ctx_error(c, n,
                             "at most one of authorization credentials & credentials_file must "
                             "be configured");
        }
        /* trim the type, default Bearer */
        if (a->type != NULL) {
            char *s = a->type;
            size_t len = strlen(s);
            size_t start = 0;
            while (start < len && isspace((unsigned char)s[start])) {
                start++;
            }
            while (len > start && isspace((unsigned char)s[len - 1])) {
                len--;
            }
            char *trimmed = ar_strndup(s + start, len - start);
            free(a->type);
            a->type = trimmed;
        }
        if (cfg_empty(a->type)) {
            free(a->type);
            a->type = ar_strdup("Bearer");
        }
        if (strcasecmp(a->type, "basic") == 0) {
            return ctx_error(c, n,
                             "authorization type cannot be set to \"basic\", use \"basic_auth\" "
                             "instead");
        }
        if (h->basic_auth != NULL || h->oauth2 != NULL) {
            return ctx_error(c, n,
                             "at most one of basic_auth, oauth2 & authorization must be "
                             "configured");
        }
    } else if (bearer) {
        /* COMPAT: bearer_token(_file) is turned into authorization {type: Bearer} */
        h->authorization = ar_calloc(1, sizeof(*h->authorization));
        h->authorization->type = ar_strdup("Bearer");
        h->authorization->credentials = h->bearer_token;
        h->authorization->credentials_file = h->bearer_token_file;
        h->bearer_token = NULL;
        h->bearer_token_file = NULL;
    }
    if (h->oauth2 != NULL) {
        struct oauth2_config *o = h->oauth2;
        if (h->basic_auth != NULL) {
            return ctx_error(c, n,
                             "at most one of basic_auth, oauth2 & authorization must be "
                             "configured");
        }
        if (cfg_empty(o->client_id)) {
            return ctx_error(c, n, "oauth2 client_id must be configured");
        }
        if (cfg_empty(o->client_secret) && cfg_empty(o->client_secret_file)) {
            return ctx_error(c, n,
                             "either oauth2 client_secret or client_secret_file must be "
                             "configured");
        }
        if (cfg_empty(o->token_url)) {
            return ctx_error(c, n, "oauth2 token_url must be configured");
        }
        if (!cfg_empty(o->client_secret) && !cfg_empty(o->client_secret_file)) {
            return ctx_error(c, n,
                             "at most one of oauth2 client_secret & client_secret_file must be "
                             "configured");
        }
    }
    if (!cfg_empty(h->no_proxy) && cfg_empty(h->proxy_url)) {
        return ctx_error(c, n, "if no_proxy is configured, proxy_url must also be configured");
    }
    if (h->proxy_from_environment && !cfg_empty(h->proxy_url)) {
        return ctx_error(c, n,
                         "if proxy_from_environment is configured, proxy_url must not be "
                         "configured");
    }
    return AR_OK;
}

static void header_line_add(struct http_config *h, size_t *cap, const char *name,
                            const char *value, bool is_file)
{
    if (h->nheader_lines == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        h->header_lines = ar_realloc(h->header_lines, *cap * sizeof(*h->header_lines));
    }
    h->header_lines[h->nheader_lines].name = ar_strdup(name);
    h->header_lines[h->nheader_lines].value = ar_strdup(value);
    h->header_lines[h->nheader_lines].is_file = is_file;
    h->nheader_lines++;
}

/* http_headers (prometheus/common): each name maps to {values, secrets, files}. Decoded here,
 * once, into the lines the notifier sends: names in the map's order, and for each its values,
 * secrets and files in that order; entries of other shapes add nothing. */
static void header_lines_decode(struct http_config *h, const struct ynode *n)
{
    static const char *const kinds[] = {"values", "secrets", "files"};
    const struct ynode *hh = n != NULL ? ynode_map_find(n, "http_headers") : NULL;
    size_t cap = 0;

    http_cleanup(h);
    if (hh == NULL || hh->kind != YN_MAP) {
        return;
    }
    for (size_t i = 0; i < h->http_headers.n; i++) {
        const struct ynode *v = ynode_map_find(hh, h->http_headers.keys[i]);
        for (size_t k = 0; v != NULL && v->kind == YN_MAP && k < AR_ARRAY_LEN(kinds); k++) {
            const struct ynode *list = ynode_map_find(v, kinds[k]);
            for (size_t j = 0; list != NULL && list->kind == YN_SEQ && j < list->n; j++) {
                if (list->items[j]->kind == YN_SCALAR) {
                    header_line_add(h, &cap, h->http_headers.keys[i], list->items[j]->value,
                                    k == 2);
                }
            }
        }
    }
}

static void header_lines_dup(struct http_config *dst, const struct http_config *src)
{
    size_t cap = 0;

    dst->header_lines = NULL;
    dst->nheader_lines = 0;
    for (size_t i = 0; i < src->nheader_lines; i++) {
        header_line_add(dst, &cap, src->header_lines[i].name, src->header_lines[i].value,
                        src->header_lines[i].is_file);
    }
}

static void http_cleanup(void *obj)
{
    struct http_config *h = obj;

    for (size_t i = 0; i < h->nheader_lines; i++) {
        free(h->header_lines[i].name);
        free(h->header_lines[i].value);
    }
    AR_FREE(h->header_lines);
    h->nheader_lines = 0;
}

static const struct field http_fields[] = {
    SUBFIELD(struct http_config, "basic_auth", basic_auth, FT_STRUCTP, FF_OMITEMPTY,
             &basic_auth_table),
    SUBFIELD(struct http_config, "authorization", authorization, FT_STRUCTP, FF_OMITEMPTY,
             &authorization_table),
    SUBFIELD(struct http_config, "oauth2", oauth2, FT_STRUCTP, FF_OMITEMPTY, &oauth2_table),
    SECRET(struct http_config, "bearer_token", bearer_token),
    PATHF(struct http_config, "bearer_token_file", bearer_token_file),
    STR(struct http_config, "proxy_url", proxy_url),
    STR(struct http_config, "no_proxy", no_proxy),
    FIELD(struct http_config, "proxy_from_environment", proxy_from_environment, FT_BOOL,
          FF_OMITEMPTY, NULL),
    FIELD(struct http_config, "proxy_connect_header", proxy_connect_header, FT_ANYMAP,
          FF_OMITEMPTY | FF_SECRET_LEAVES, NULL),
    SUBFIELD(struct http_config, "tls_config", tls_config, FT_STRUCT, FF_OMITEMPTY,
             &tls_config_table),
    FIELD(struct http_config, "follow_redirects", follow_redirects, FT_BOOL, 0, "true"),
    FIELD(struct http_config, "enable_http2", enable_http2, FT_BOOL, 0, "true"),
    FIELD(struct http_config, "http_headers", http_headers, FT_ANYMAP,
          FF_OMITEMPTY | FF_SECRET_KEYED, NULL),
};
const struct table http_config_table = {"config.plain", sizeof(struct http_config), http_fields,
                                        AR_ARRAY_LEN(http_fields), http_check, NULL, NULL,
                                        http_cleanup};

/* ---- global ------------------------------------------------------------------------------- */

static int global_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct config_global *g = obj;
    int rc = AR_OK;

    if (g->http_config == NULL) {
        g->http_config = ar_calloc(1, sizeof(*g->http_config));
        decode_defaults(&http_config_table, g->http_config);
    }
    if (g->slack_api_url != NULL && !cfg_empty(g->slack_api_url_file)) {
        return ctx_error(c, n,
                         "at most one of slack_api_url & slack_api_url_file must be configured");
    }
    rc = cfg_at_most_one(c, n, "slack_app_token", g->slack_app_token, "slack_app_token_file",
                     g->slack_app_token_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "opsgenie_api_key", g->opsgenie_api_key, "opsgenie_api_key_file",
                         g->opsgenie_api_key_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "victorops_api_key", g->victorops_api_key,
                         "victorops_api_key_file", g->victorops_api_key_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "smtp_auth_password", g->smtp_auth_password,
                         "smtp_auth_password_file", g->smtp_auth_password_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "smtp_auth_secret", g->smtp_auth_secret, "smtp_auth_secret_file",
                         g->smtp_auth_secret_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "wechat_api_secret", g->wechat_api_secret,
                         "wechat_api_secret_file", g->wechat_api_secret_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "telegram_bot_token", g->telegram_bot_token,
                         "telegram_bot_token_file", g->telegram_bot_token_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "rocketchat_token", g->rocketchat_token,
                         "rocketchat_token_file", g->rocketchat_token_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "rocketchat_token_id", g->rocketchat_token_id,
                         "rocketchat_token_id_file", g->rocketchat_token_id_file);
    }
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "mattermost_webhook_url", g->mattermost_webhook_url,
                         "mattermost_webhook_url_file", g->mattermost_webhook_url_file);
    }
    return rc;
}

#define G struct config_global
static const struct field global_fields[] = {
    FIELD(G, "resolve_timeout", resolve_timeout_ms, FT_DURATION, 0, "5m"),
    SUBFIELD(G, "http_config", http_config, FT_STRUCTP, FF_OMITEMPTY, &http_config_table),
    URLF(G, "jira_api_url", jira_api_url),
    STR(G, "smtp_from", smtp_from),
    STRD(G, "smtp_hello", smtp_hello, "localhost"),
    FIELD(G, "smtp_smarthost", smtp_smarthost, FT_HOSTPORT, FF_OMITEMPTY, NULL),
    STR(G, "smtp_auth_username", smtp_auth_username),
    SECRET(G, "smtp_auth_password", smtp_auth_password),
    STR(G, "smtp_auth_password_file", smtp_auth_password_file),
    SECRET(G, "smtp_auth_secret", smtp_auth_secret),
    STR(G, "smtp_auth_secret_file", smtp_auth_secret_file),
    STR(G, "smtp_auth_identity", smtp_auth_identity),
    FIELD(G, "smtp_require_tls", smtp_require_tls, FT_BOOL, 0, "true"),
    SUBFIELD(G, "smtp_tls_config", smtp_tls_config, FT_STRUCTP, FF_OMITEMPTY,
             &smtp_tls_config_table),
    FIELD(G, "smtp_force_implicit_tls", smtp_force_implicit_tls, FT_OPTBOOL, FF_OMITEMPTY, NULL),
    SURL(G, "slack_api_url", slack_api_url),
    STR(G, "slack_api_url_file", slack_api_url_file),
    SECRET(G, "slack_app_token", slack_app_token),
    STR(G, "slack_app_token_file", slack_app_token_file),
    URLF(G, "slack_app_url", slack_app_url),
    FIELD(G, "pagerduty_url", pagerduty_url, FT_URL, FF_OMITEMPTY,
          "https://events.pagerduty.com/v2/enqueue"),
    FIELD(G, "opsgenie_api_url", opsgenie_api_url, FT_URL, FF_OMITEMPTY,
          "https://api.opsgenie.com/"),
    SECRET(G, "opsgenie_api_key", opsgenie_api_key),
    STR(G, "opsgenie_api_key_file", opsgenie_api_key_file),
    FIELD(G, "wechat_api_url", wechat_api_url, FT_URL, FF_OMITEMPTY,
          "https://qyapi.weixin.qq.com/cgi-bin/"),
    SECRET(G, "wechat_api_secret", wechat_api_secret),
    STR(G, "wechat_api_secret_file", wechat_api_secret_file),
    STR(G, "wechat_api_corp_id", wechat_api_corp_id),
    FIELD(G, "victorops_api_url", victorops_api_url, FT_URL, FF_OMITEMPTY,
          "https://alert.victorops.com/integrations/generic/20131114/alert/"),
    SECRET(G, "victorops_api_key", victorops_api_key),
    STR(G, "victorops_api_key_file", victorops_api_key_file),
    FIELD(G, "telegram_api_url", telegram_api_url, FT_URL, FF_OMITEMPTY,
          "https://api.telegram.org"),
    SECRET(G, "telegram_bot_token", telegram_bot_token),
    STR(G, "telegram_bot_token_file", telegram_bot_token_file),
    FIELD(G, "webex_api_url", webex_api_url, FT_URL, FF_OMITEMPTY,
          "https://webexapis.com/v1/messages"),
    URLF(G, "rocketchat_api_url", rocketchat_api_url),
    SECRET(G, "rocketchat_token", rocketchat_token),
    STR(G, "rocketchat_token_file", rocketchat_token_file),
    SECRET(G, "rocketchat_token_id", rocketchat_token_id),
    STR(G, "rocketchat_token_id_file", rocketchat_token_id_file),
    SURL(G, "mattermost_webhook_url", mattermost_webhook_url),
    STR(G, "mattermost_webhook_url_file", mattermost_webhook_url_file),
};
#undef G
const struct table global_table =
    TABLE("config.plain", struct config_global, global_fields, global_check);

/* ---- webhook ------------------------------------------------------------------------------ */

static int webhook_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct webhook_config *w = obj;
    if (cfg_empty(w->url) && cfg_empty(w->url_file)) {
        return ctx_error(c, n, "one of url or url_file must be configured");
    }
    if (!cfg_empty(w->url) && !cfg_empty(w->url_file)) {
        return ctx_error(c, n, "at most one of url & url_file must be configured");
    }
    cfg_inherit_http(&w->http_config, c);
    return AR_OK;
}

#define T struct webhook_config
static const struct field webhook_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    FIELD(T, "url", url, FT_URL, 0, NULL),
    FIELD(T, "url_file", url_file, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "max_alerts", max_alerts, FT_UINT64, 0, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "payload", payload, FT_ANY, FF_OMITEMPTY, NULL),
};
#undef T
const struct table webhook_config_table =
    TABLE("config.plain", struct webhook_config, webhook_fields, webhook_check);

/* ---- email -------------------------------------------------------------------------------- */

/* Go's textproto.CanonicalMIMEHeaderKey. */
static char *canonical_header(const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        bool ok = isalnum(ch) || ch == '-' ||
                  (ch > 0x20 && ch < 0x7f && strchr("!#$%&'*+.^_`|~", ch) != NULL);
        if (!ok) {
            return ar_strdup(s);
        }
    }
    char *out = ar_strdup(s);
    bool upper = true;
    for (char *p = out; *p; p++) {
        if (upper && *p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 'a' + 'A');
        } else if (!upper && *p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
        }
        upper = *p == '-';
    }
    return out;
}

/* An auth_secret is only ever used by SMTP AUTH CRAM-MD5. Where libesmtp cannot load that
 * mechanism (notifier_email.c), a config whose only credential is the secret could never
 * authenticate: libesmtp would skip the mechanism and send MAIL unauthenticated, so the
 * failure would surface later as the server's refusal. Refused at load instead. */
static int email_check_auth(struct ctx *c, const struct ynode *n, const struct email_config *e)
{
    if (cfg_empty(e->auth_username) || (cfg_empty(e->auth_secret) && cfg_empty(e->auth_secret_file)) ||
        !cfg_empty(e->auth_password) || !cfg_empty(e->auth_password_file)) {
        return AR_OK;
    }
    if (email_auth_cram_md5_available()) {
        return AR_OK;
    }
    return ctx_error(c, n,
                     "auth_secret is used only by SMTP AUTH CRAM-MD5, which libesmtp cannot "
                     "load on this system (its plugin sasl-crammd5.so is missing); set "
                     "auth_password for PLAIN or LOGIN instead");
}

static int email_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct email_config *e = obj;
    const struct config_global *g = c->global;

    if (cfg_empty(e->to)) {
        return ctx_error(c, n, "missing to address in email config");
    }
    int rc = cfg_at_most_one(c, n, "auth_password", e->auth_password, "auth_password_file",
                         e->auth_password_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "auth_secret", e->auth_secret, "auth_secret_file",
                         e->auth_secret_file);
    }
    if (rc != AR_OK) {
        return rc;
    }
    /* canonicalise header names; duplicates after canonicalisation are an error */
    for (size_t i = 0; i < e->headers.n; i++) {
        char *canon = canonical_header(e->headers.keys[i]);
        free(e->headers.keys[i]);
        e->headers.keys[i] = canon;
    }
    str_map_resort(&e->headers);
    for (size_t i = 1; i < e->headers.n; i++) {
        if (strcmp(e->headers.keys[i - 1], e->headers.keys[i]) == 0) {
            return ctx_error(c, n, "duplicate header \"%s\" in email config",
                             e->headers.keys[i]);
        }
    }
    if (g == NULL) {
        return email_check_auth(c, n, e);
    }
    /* COMPAT: inheritance from global.smtp_* (config.go) */
    if (cfg_empty(e->smarthost)) {
        if (cfg_empty(g->smtp_smarthost)) {
            return ctx_error(c, n, "no global SMTP smarthost set");
        }
        cfg_inherit(&e->smarthost, g->smtp_smarthost);
    }
    if (cfg_empty(e->from)) {
        if (cfg_empty(g->smtp_from)) {
            return ctx_error(c, n, "no global SMTP from set");
        }
        cfg_inherit(&e->from, g->smtp_from);
    }
    cfg_inherit(&e->hello, g->smtp_hello);
    cfg_inherit(&e->auth_username, g->smtp_auth_username);
    if (cfg_empty(e->auth_password) && cfg_empty(e->auth_password_file)) {
        cfg_inherit(&e->auth_password, g->smtp_auth_password);
        cfg_inherit(&e->auth_password_file, g->smtp_auth_password_file);
    }
    if (cfg_empty(e->auth_secret) && cfg_empty(e->auth_secret_file)) {
        cfg_inherit(&e->auth_secret, g->smtp_auth_secret);
        cfg_inherit(&e->auth_secret_file, g->smtp_auth_secret_file);
    }
    cfg_inherit(&e->auth_identity, g->smtp_auth_identity);
    if (e->require_tls < 0) {
        e->require_tls = g->smtp_require_tls ? 1 : 0;
    }
    if (e->force_implicit_tls < 0) {
        e->force_implicit_tls = g->smtp_force_implicit_tls;
    }
    if (table_is_zero(&tls_config_table, &e->tls_config) && g->smtp_tls_config != NULL) {
        table_cleanup(&tls_config_table, &e->tls_config);
        struct tls_config *copy = table_dup(&tls_config_table, g->smtp_tls_config);
        e->tls_config = *copy;
        free(copy);
    }
    return email_check_auth(c, n, e);
}

static const struct field threading_fields[] = {
    FIELD(struct email_threading_config, "enabled", enabled, FT_BOOL, FF_OMITEMPTY, NULL),
    STR(struct email_threading_config, "thread_by_date", thread_by_date),
};
static const struct table threading_table =
    TABLE("config.ThreadingConfig", struct email_threading_config, threading_fields, NULL);

#define T struct email_config
static const struct field email_fields[] = {
    SENDRES(T, "false"),
    STR(T, "to", to),
    STR(T, "from", from),
    STR(T, "hello", hello),
    FIELD(T, "smarthost", smarthost, FT_HOSTPORT, FF_OMITEMPTY, NULL),
    STR(T, "auth_username", auth_username),
    SECRET(T, "auth_password", auth_password),
    STR(T, "auth_password_file", auth_password_file),
    SECRET(T, "auth_secret", auth_secret),
    STR(T, "auth_secret_file", auth_secret_file),
    STR(T, "auth_identity", auth_identity),
    FIELD(T, "headers", headers, FT_STRMAP, FF_OMITEMPTY, NULL),
    STRD(T, "html", html, "{{ template \"email.default.html\" . }}"),
    STR(T, "text", text),
    FIELD(T, "require_tls", require_tls, FT_OPTBOOL, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "tls_config", tls_config, FT_STRUCT, FF_OMITEMPTY, &smtp_tls_config_table),
    FIELD(T, "force_implicit_tls", force_implicit_tls, FT_OPTBOOL, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "threading", threading, FT_STRUCTP, FF_OMITEMPTY, &threading_table),
};
#undef T
const struct table email_config_table =
    TABLE("config.plain", struct email_config, email_fields, email_check);

/* ---- slack -------------------------------------------------------------------------------- */

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
static const struct table slack_confirm_table = TABLE(
    "config.plain", struct slack_confirm, slack_confirm_fields,
    slack_confirm_check);

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

/* ---- pagerduty ---------------------------------------------------------------------------- */

static const struct field pd_image_fields[] = {
    STR(struct pagerduty_image, "src", src),
    STR(struct pagerduty_image, "alt", alt),
    STR(struct pagerduty_image, "href", href),
};
static const struct table pd_image_table =
    TABLE("config.PagerdutyImage", struct pagerduty_image, pd_image_fields, NULL);

static const struct field pd_link_fields[] = {
    STR(struct pagerduty_link, "href", href),
    STR(struct pagerduty_link, "text", text),
};
static const struct table pd_link_table =
    TABLE("config.PagerdutyLink", struct pagerduty_link, pd_link_fields, NULL);

static int pagerduty_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct pagerduty_config *p = obj;

    if (cfg_empty(p->routing_key) && cfg_empty(p->service_key) && cfg_empty(p->routing_key_file) &&
        cfg_empty(p->service_key_file)) {
        return ctx_error(c, n, "missing service or routing key in PagerDuty config");
    }
    int rc = cfg_at_most_one(c, n, "routing_key", p->routing_key, "routing_key_file",
                         p->routing_key_file);
    if (rc == AR_OK) {
        rc = cfg_at_most_one(c, n, "service_key", p->service_key, "service_key_file",
                         p->service_key_file);
    }
    if (rc != AR_OK) {
        return rc;
    }
    cfg_inherit(&p->source, p->client);
    cfg_map_add_missing(&p->details, "firing",
                    "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}");
    cfg_map_add_missing(&p->details, "resolved",
                    "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}");
    cfg_map_add_missing(&p->details, "num_firing", "{{ .Alerts.Firing | len }}");
    cfg_map_add_missing(&p->details, "num_resolved", "{{ .Alerts.Resolved | len }}");
    cfg_inherit_http(&p->http_config, c);
    if (p->url == NULL && c->global != NULL) {
        if (cfg_empty(c->global->pagerduty_url)) {
            return ctx_error(c, n, "no global PagerDuty URL set");
        }
        cfg_inherit(&p->url, c->global->pagerduty_url);
    }
    return AR_OK;
}

#define T struct pagerduty_config
static const struct field pagerduty_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "service_key", service_key),
    STR(T, "service_key_file", service_key_file),
    SECRET(T, "routing_key", routing_key),
    STR(T, "routing_key_file", routing_key_file),
    URLF(T, "url", url),
    STRD(T, "client", client, "{{ template \"pagerduty.default.client\" . }}"),
    STRD(T, "client_url", client_url, "{{ template \"pagerduty.default.clientURL\" . }}"),
    STRD(T, "description", description, "{{ template \"pagerduty.default.description\" .}}"),
    FIELD(T, "details", details, FT_STRMAP, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "images", images, FT_LIST, FF_OMITEMPTY, &pd_image_table),
    SUBFIELD(T, "links", links, FT_LIST, FF_OMITEMPTY, &pd_link_table),
    STR(T, "source", source),
    STR(T, "severity", severity),
    STR(T, "class", class_),
    STR(T, "component", component),
    STR(T, "group", group),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
};
#undef T
const struct table pagerduty_config_table =
    TABLE("config.plain", struct pagerduty_config, pagerduty_fields, pagerduty_check);

/* ---- opsgenie ----------------------------------------------------------------------------- */

static const struct field og_responder_fields[] = {
    STR(struct opsgenie_responder, "id", id),
    STR(struct opsgenie_responder, "name", name),
    STR(struct opsgenie_responder, "username", username),
    STR(struct opsgenie_responder, "type", type),
};
static const struct table og_responder_table = TABLE(
    "config.OpsGenieConfigResponder", struct opsgenie_responder, og_responder_fields, NULL);

static int opsgenie_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct opsgenie_config *o = obj;
    const struct config_global *g = c->global;

    int rc = cfg_at_most_one(c, n, "api_key", o->api_key, "api_key_file", o->api_key_file);
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < o->responders.n; i++) {
        struct opsgenie_responder *r = o->responders.v[i];
        if (r == NULL) {
            continue;
        }
        if (cfg_empty(r->id) && cfg_empty(r->username) && cfg_empty(r->name)) {
            return ctx_error(c, n,
                             "opsGenieConfig responder {%s %s %s %s} has to have at least one "
                             "of id, username or name specified",
                             r->id ? r->id : "", r->name ? r->name : "",
                             r->username ? r->username : "", r->type ? r->type : "");
        }
        if (r->type != NULL && strstr(r->type, "{{") != NULL) {
            continue;
        }
        /* COMPAT: validated lowercased, but the stored value keeps its spelling (upstream
         * lowercases a copy) */
        char *t = ar_strdup(r->type ? r->type : "");
        for (char *p = t; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        if (strcmp(t, "team") != 0 && strcmp(t, "teams") != 0 && strcmp(t, "user") != 0 &&
            strcmp(t, "escalation") != 0 && strcmp(t, "schedule") != 0) {
            rc = ctx_error(c, n,
                           "opsGenieConfig responder {%s %s %s %s} type does not match valid "
                           "options ^(team|teams|user|escalation|schedule)$",
                           r->id ? r->id : "", r->name ? r->name : "",
                           r->username ? r->username : "", t);
            free(t);
            return rc;
        }
        free(t);
    }
    cfg_inherit_http(&o->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (o->api_url == NULL) {
        if (cfg_empty(g->opsgenie_api_url)) {
            return ctx_error(c, n, "no global OpsGenie URL set");
        }
        cfg_inherit(&o->api_url, g->opsgenie_api_url);
    }
    cfg_url_ensure_slash(&o->api_url);
    if (cfg_empty(o->api_key) && cfg_empty(o->api_key_file)) {
        if (cfg_empty(g->opsgenie_api_key) && cfg_empty(g->opsgenie_api_key_file)) {
            return ctx_error(c, n, "no global OpsGenie API Key set either inline or in a file");
        }
        cfg_inherit(&o->api_key, g->opsgenie_api_key);
        cfg_inherit(&o->api_key_file, g->opsgenie_api_key_file);
    }
    return AR_OK;
}

#define T struct opsgenie_config
static const struct field opsgenie_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "api_key", api_key),
    STR(T, "api_key_file", api_key_file),
    URLF(T, "api_url", api_url),
    STRD(T, "message", message, "{{ template \"opsgenie.default.message\" . }}"),
    STRD(T, "description", description, "{{ template \"opsgenie.default.description\" . }}"),
    STRD(T, "source", source, "{{ template \"opsgenie.default.source\" . }}"),
    FIELD(T, "details", details, FT_STRMAP, FF_OMITEMPTY, NULL),
    STR(T, "entity", entity),
    SUBFIELD(T, "responders", responders, FT_LIST, FF_OMITEMPTY, &og_responder_table),
    STR(T, "actions", actions),
    STR(T, "tags", tags),
    STR(T, "note", note),
    STR(T, "priority", priority),
    FIELD(T, "update_alerts", update_alerts, FT_BOOL, FF_OMITEMPTY, NULL),
};
#undef T
const struct table opsgenie_config_table =
    TABLE("config.plain", struct opsgenie_config, opsgenie_fields, opsgenie_check);

/* ---- wechat ------------------------------------------------------------------------------- */

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
    int rc = cfg_at_most_one(c, n, "api_secret", w->api_secret, "api_secret_file",
                         w->api_secret_file);
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

/* ---- pushover ----------------------------------------------------------------------------- */

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

/* ---- victorops ---------------------------------------------------------------------------- */

static int victorops_check(void *obj, struct ctx *c, const struct ynode *n)
{
    static const char *const reserved[] = {"routing_key",     "message_type",
                                           "state_message",   "entity_display_name",
                                           "monitoring_tool", "entity_id",
                                           "entity_state"};
    struct victorops_config *v = obj;
    const struct config_global *g = c->global;

    if (cfg_empty(v->routing_key)) {
        return ctx_error(c, n, "missing Routing key in VictorOps config");
    }
    int rc = cfg_at_most_one(c, n, "api_key", v->api_key, "api_key_file", v->api_key_file);
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(reserved); i++) {
        if (str_map_get(&v->custom_fields, reserved[i]) != NULL) {
            return ctx_error(c, n,
                             "victorOps config contains custom field %s which cannot be used "
                             "as it conflicts with the fixed/static fields",
                             reserved[i]);
        }
    }
    cfg_inherit_http(&v->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (v->api_url == NULL) {
        if (cfg_empty(g->victorops_api_url)) {
            return ctx_error(c, n, "no global VictorOps URL set");
        }
        cfg_inherit(&v->api_url, g->victorops_api_url);
    }
    cfg_url_ensure_slash(&v->api_url);
    if (cfg_empty(v->api_key) && cfg_empty(v->api_key_file)) {
        if (cfg_empty(g->victorops_api_key) && cfg_empty(g->victorops_api_key_file)) {
            return ctx_error(c, n, "no global VictorOps API Key set");
        }
        cfg_inherit(&v->api_key, g->victorops_api_key);
        cfg_inherit(&v->api_key_file, g->victorops_api_key_file);
    }
    return AR_OK;
}

#define T struct victorops_config
static const struct field victorops_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "api_key", api_key),
    STR(T, "api_key_file", api_key_file),
    FIELD(T, "api_url", api_url, FT_URL, 0, NULL),
    FIELD(T, "routing_key", routing_key, FT_STR, 0, NULL),
    FIELD(T, "message_type", message_type, FT_STR, 0, "CRITICAL"),
    FIELD(T, "state_message", state_message, FT_STR, 0,
          "{{ template \"victorops.default.state_message\" . }}"),
    FIELD(T, "entity_display_name", entity_display_name, FT_STR, 0,
          "{{ template \"victorops.default.entity_display_name\" . }}"),
    FIELD(T, "monitoring_tool", monitoring_tool, FT_STR, 0,
          "{{ template \"victorops.default.monitoring_tool\" . }}"),
    FIELD(T, "custom_fields", custom_fields, FT_STRMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table victorops_config_table =
    TABLE("config.plain", struct victorops_config, victorops_fields, victorops_check);

/* ---- sns ---------------------------------------------------------------------------------- */

static const struct field sigv4_fields[] = {
    STR(struct sigv4_config, "region", region),
    STR(struct sigv4_config, "access_key", access_key),
    SECRET(struct sigv4_config, "secret_key", secret_key),
    STR(struct sigv4_config, "profile", profile),
    STR(struct sigv4_config, "role_arn", role_arn),
};
static const struct table sigv4_table =
    TABLE("sigv4.SigV4Config", struct sigv4_config, sigv4_fields, NULL);

static int sns_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct sns_config *s = obj;
    bool a = cfg_empty(s->target_arn);
    bool b = cfg_empty(s->topic_arn);
    bool d = cfg_empty(s->phone_number);
    /* COMPAT: Go evaluates (a != b) != d */
    if ((a != b) != d) {
        return ctx_error(c, n,
                         "must provide either a Target ARN, Topic ARN, or Phone Number for SNS "
                         "config");
    }
    cfg_inherit_http(&s->http_config, c);
    return AR_OK;
}

#define T struct sns_config
static const struct field sns_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    STR(T, "api_url", api_url),
    SUBFIELD(T, "sigv4", sigv4, FT_STRUCT, 0, &sigv4_table),
    STR(T, "topic_arn", topic_arn),
    STR(T, "phone_number", phone_number),
    STR(T, "target_arn", target_arn),
    STRD(T, "subject", subject, "{{ template \"sns.default.subject\" . }}"),
    STRD(T, "message", message, "{{ template \"sns.default.message\" . }}"),
    FIELD(T, "attributes", attributes, FT_STRMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table sns_config_table =
    TABLE("config.plain", struct sns_config, sns_fields, sns_check);

/* ---- telegram ----------------------------------------------------------------------------- */

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

/* ---- discord ------------------------------------------------------------------------------ */

static int discord_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct discord_config *d = obj;
    if (d->webhook_url == NULL && cfg_empty(d->webhook_url_file)) {
        return ctx_error(c, n, "one of webhook_url or webhook_url_file must be configured");
    }
    if (d->webhook_url != NULL && !cfg_empty(d->webhook_url_file)) {
        return ctx_error(c, n,
                         "at most one of webhook_url & webhook_url_file must be configured");
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

/* ---- webex -------------------------------------------------------------------------------- */

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

/* ---- msteams, msteamsv2 ------------------------------------------------------------------- */

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
const struct table msteamsv2_config_table = TABLE(
    "msteamsv2.plain", struct msteamsv2_config, msteamsv2_fields, msteamsv2_check);

/* ---- mattermost --------------------------------------------------------------------------- */

static int mm_field_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct mattermost_field *f = obj;
    if (cfg_empty(f->title)) {
        return ctx_error(c, n, "missing title in Mattermost field configuration");
    }
    if (cfg_empty(f->value)) {
        return ctx_error(c, n, "missing value in Mattermost field configuration");
    }
    return AR_OK;
}

static const struct field mm_field_fields[] = {
    STR(struct mattermost_field, "title", title),
    STR(struct mattermost_field, "value", value),
    FIELD(struct mattermost_field, "short", short_, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table mm_field_table =
    TABLE("mattermost.plain", struct mattermost_field, mm_field_fields,
          mm_field_check);

#define T struct mattermost_attachment
static const struct field mm_attachment_fields[] = {
    STR(T, "fallback", fallback),
    STR(T, "color", color),
    STR(T, "pretext", pretext),
    STR(T, "text", text),
    STR(T, "author_name", author_name),
    STR(T, "author_link", author_link),
    STR(T, "author_icon", author_icon),
    STR(T, "title", title),
    STR(T, "title_link", title_link),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &mm_field_table),
    STR(T, "thumb_url", thumb_url),
    STR(T, "footer", footer),
    STR(T, "footer_icon", footer_icon),
    STR(T, "image_url", image_url),
};
#undef T
static const struct table mm_attachment_table = TABLE(
    "mattermost.MattermostAttachment", struct mattermost_attachment, mm_attachment_fields, NULL);

static const struct field mm_props_fields[] = {
    STR(struct mattermost_props, "card", card),
};
static const struct table mm_props_table =
    TABLE("mattermost.MattermostProps", struct mattermost_props, mm_props_fields, NULL);

static const struct field mm_priority_fields[] = {
    STR(struct mattermost_priority, "priority", priority),
    FIELD(struct mattermost_priority, "requested_ack", requested_ack, FT_BOOL, FF_OMITEMPTY,
          NULL),
    FIELD(struct mattermost_priority, "persistent_notifications", persistent_notifications,
          FT_BOOL, FF_OMITEMPTY, NULL),
};
static const struct table mm_priority_table = TABLE(
    "mattermost.MattermostPriority", struct mattermost_priority, mm_priority_fields, NULL);

static int mattermost_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct mattermost_config *m = obj;
    const struct config_global *g = c->global;

    if (m->webhook_url != NULL && !cfg_empty(m->webhook_url_file)) {
        return ctx_error(c, n,
                         "at most one of webhook_url & webhook_url_file must be configured");
    }
    if (m->webhook_url == NULL && cfg_empty(m->webhook_url_file) && g != NULL) {
        cfg_inherit(&m->webhook_url, g->mattermost_webhook_url);
        cfg_inherit(&m->webhook_url_file, g->mattermost_webhook_url_file);
    }
    if (m->webhook_url == NULL && cfg_empty(m->webhook_url_file)) {
        return ctx_error(c, n, "missing webhook_url or webhook_url_file on mattermost_config");
    }
    cfg_inherit_http(&m->http_config, c);
    return AR_OK;
}

#define T struct mattermost_config
static const struct field mattermost_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SURL(T, "webhook_url", webhook_url),
    STR(T, "webhook_url_file", webhook_url_file),
    STR(T, "channel", channel),
    STRD(T, "username", username, "{{ template \"mattermost.default.username\" . }}"),
    STRD(T, "text", text, "{{ template \"mattermost.default.text\" . }}"),
    STRD(T, "fallback", fallback, "{{ template \"mattermost.default.fallback\" . }}"),
    STRD(T, "color", color, "{{ template \"mattermost.default.color\" . }}"),
    STR(T, "pretext", pretext),
    STR(T, "author_name", author_name),
    STR(T, "author_link", author_link),
    STR(T, "author_icon", author_icon),
    STRD(T, "title", title, "{{ template \"mattermost.default.title\" . }}"),
    STRD(T, "title_link", title_link, "{{ template \"mattermost.default.titlelink\" . }}"),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &mm_field_table),
    STR(T, "thumb_url", thumb_url),
    STR(T, "footer", footer),
    STR(T, "footer_icon", footer_icon),
    STR(T, "image_url", image_url),
    STR(T, "icon_url", icon_url),
    STR(T, "icon_emoji", icon_emoji),
    SUBFIELD(T, "attachments", attachments, FT_LIST, FF_OMITEMPTY, &mm_attachment_table),
    STR(T, "type", type),
    SUBFIELD(T, "props", props, FT_STRUCTP, FF_OMITEMPTY, &mm_props_table),
    SUBFIELD(T, "priority", priority, FT_STRUCTP, FF_OMITEMPTY, &mm_priority_table),
};
#undef T
const struct table mattermost_config_table = TABLE(
    "mattermost.plain", struct mattermost_config, mattermost_fields, mattermost_check);

/* ---- rocketchat --------------------------------------------------------------------------- */

static const struct field rc_field_fields[] = {
    STR(struct rocketchat_field, "title", title),
    STR(struct rocketchat_field, "value", value),
    FIELD(struct rocketchat_field, "short", short_, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table rc_field_table = TABLE(
    "rocketchat.RocketchatAttachmentField", struct rocketchat_field, rc_field_fields, NULL);

static const struct field rc_action_fields[] = {
    STR(struct rocketchat_action, "type", type),
    STR(struct rocketchat_action, "text", text),
    STR(struct rocketchat_action, "url", url),
    STR(struct rocketchat_action, "msg", msg),
};
static const struct table rc_action_table = TABLE(
    "rocketchat.RocketchatAttachmentAction", struct rocketchat_action, rc_action_fields, NULL);

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
            return ctx_error(c, n,
                             "no global Rocketchat TokenID set either inline or in a file");
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
const struct table rocketchat_config_table = TABLE(
    "rocketchat.plain", struct rocketchat_config, rocketchat_fields, rocketchat_check);

/* ---- jira --------------------------------------------------------------------------------- */

/* A Jira field is either a template string or {template, enable_update}. */
static const struct field jira_field_fields[] = {
    STR(struct jira_field, "template", template_),
    FIELD(struct jira_field, "enable_update", enable_update, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table jira_field_map_table =
    TABLE("jira.JiraFieldConfig", struct jira_field, jira_field_fields, NULL);

static int jira_field_decode(void *obj, const struct ynode *node, struct ctx *c)
{
    struct jira_field *f = obj;
    if (node != NULL && node->kind == YN_SCALAR && !ynode_is_null(node)) {
        free(f->template_);
        f->template_ = ar_strdup(node->value);
        return AR_OK;
    }
    return decode_into(&jira_field_map_table, obj, node, c);
}

static const struct table jira_field_table = {
    "jira.JiraFieldConfig", sizeof(struct jira_field), jira_field_fields,
    AR_ARRAY_LEN(jira_field_fields), NULL, jira_field_decode, NULL, NULL};

/* A YAML value as the JSON value Go's yaml.v2 decoding into interface{} gives. */
static json_t *yaml_to_json(const struct ynode *n)
{
    json_t *v;
    bool b;

    if (n == NULL) {
        return json_null();
    }
    if (n->kind == YN_MAP) {
        v = json_object();
        for (size_t i = 0; i < n->n; i++) {
            json_object_set_new(v, ynode_key(n, i)->value, yaml_to_json(ynode_val(n, i)));
        }
        return v;
    }
    if (n->kind == YN_SEQ) {
        v = json_array();
        for (size_t i = 0; i < n->n; i++) {
            json_array_append_new(v, yaml_to_json(n->items[i]));
        }
        return v;
    }
    if (n->plain && ynode_is_null(n)) {
        return json_null();
    }
    if (n->plain && yaml_parse_bool(n->value, &b)) {
        return json_boolean(b);
    }
    if (n->plain && yaml_needs_quotes(n->value)) {
        char *end;
        long long i = strtoll(n->value, &end, 0);
        double d;
        if (*end == '\0') {
            return json_integer(i);
        }
        d = strtod(n->value, &end);
        if (*end == '\0' && d == d && d - d == 0) {
            return json_real(d);
        }
    }
    return json_stringn(n->value, n->len);
}

static void jira_cleanup(void *obj)
{
    struct jira_config *j = obj;

    for (size_t i = 0; j->fields_json != NULL && i < j->fields.n; i++) {
        free(j->fields_json[i]);
    }
    AR_FREE(j->fields_json);
}

static int jira_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct jira_config *j = obj;
    const struct ynode *fields = ynode_map_find(n, "fields");

    jira_cleanup(j);
    j->fields_json = ar_calloc(j->fields.n + 1, sizeof(*j->fields_json));
    for (size_t i = 0; i < j->fields.n; i++) {
        const struct ynode *v = NULL;
        json_t *val;
        for (size_t k = 0; fields != NULL && fields->kind == YN_MAP && k < fields->n; k++) {
            if (strcmp(ynode_key(fields, k)->value, j->fields.keys[i]) == 0) {
                v = ynode_val(fields, k);
            }
        }
        val = yaml_to_json(v);
        j->fields_json[i] = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(val);
        if (j->fields_json[i] == NULL) {
            j->fields_json[i] = ar_strdup("null");
        }
    }

    if (cfg_empty(j->project)) {
        return ctx_error(c, n, "missing project in jira_config");
    }
    if (cfg_empty(j->issue_type)) {
        return ctx_error(c, n, "missing issue_type in jira_config");
    }
    if (!cfg_empty(j->api_type) && strcmp(j->api_type, "auto") != 0 &&
        strcmp(j->api_type, "cloud") != 0 && strcmp(j->api_type, "datacenter") != 0) {
        return ctx_error(c, n,
                         "unknown api_type on jira_config, must be auto, cloud or datacenter");
    }
    if (cfg_empty(j->summary.template_)) {
        free(j->summary.template_);
        j->summary.template_ = ar_strdup("{{ template \"jira.default.summary\" . }}");
    }
    if (cfg_empty(j->description.template_)) {
        free(j->description.template_);
        j->description.template_ = ar_strdup("{{ template \"jira.default.description\" . }}");
    }
    cfg_inherit_http(&j->http_config, c);
    if (j->api_url == NULL && c->global != NULL) {
        if (cfg_empty(c->global->jira_api_url)) {
            return ctx_error(c, n, "no global Jira Cloud URL set");
        }
        cfg_inherit(&j->api_url, c->global->jira_api_url);
    }
    return AR_OK;
}

#define T struct jira_config
static const struct field jira_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    URLF(T, "api_url", api_url),
    STR(T, "api_type", api_type),
    STR(T, "project", project),
    SUBFIELD(T, "summary", summary, FT_STRUCT, FF_OMITEMPTY, &jira_field_table),
    SUBFIELD(T, "description", description, FT_STRUCT, FF_OMITEMPTY, &jira_field_table),
    FIELD(T, "labels", labels, FT_STRLIST, FF_OMITEMPTY, NULL),
    STRD(T, "priority", priority, "{{ template \"jira.default.priority\" . }}"),
    STR(T, "issue_type", issue_type),
    STR(T, "reopen_transition", reopen_transition),
    STR(T, "resolve_transition", resolve_transition),
    STR(T, "wont_fix_resolution", wont_fix_resolution),
    FIELD(T, "reopen_duration", reopen_duration_ms, FT_DURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "fields", fields, FT_ANYMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table jira_config_table = {"jira.plain",  sizeof(struct jira_config),
                                        jira_fields,   AR_ARRAY_LEN(jira_fields),
                                        jira_check,    NULL,
                                        NULL,          jira_cleanup};

/* ---- incident.io -------------------------------------------------------------------------- */

static int incidentio_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct incidentio_config *i = obj;

    if (i->url == NULL && cfg_empty(i->url_file)) {
        return ctx_error(c, n, "one of url or url_file must be configured");
    }
    if (i->url != NULL && !cfg_empty(i->url_file)) {
        return ctx_error(c, n, "at most one of url & url_file must be configured");
    }
    int rc = cfg_at_most_one(c, n, "alert_source_token", i->alert_source_token,
                         "alert_source_token_file", i->alert_source_token_file);
    if (rc != AR_OK) {
        return rc;
    }
    bool token = !cfg_empty(i->alert_source_token) || !cfg_empty(i->alert_source_token_file);
    bool auth = i->http_config != NULL && i->http_config->authorization != NULL;
    if (token && auth) {
        return ctx_error(c, n,
                         "cannot specify alert_source_token or alert_source_token_file when "
                         "using http_config.authorization");
    }
    if (!token && !auth) {
        return ctx_error(c, n,
                         "at least one of alert_source_token, alert_source_token_file or "
                         "http_config.authorization must be configured");
    }
    cfg_inherit_http(&i->http_config, c);
    return AR_OK;
}

#define T struct incidentio_config
static const struct field incidentio_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    FIELD(T, "url", url, FT_URL, 0, NULL),
    FIELD(T, "url_file", url_file, FT_STR, 0, NULL),
    SECRET(T, "alert_source_token", alert_source_token),
    STR(T, "alert_source_token_file", alert_source_token_file),
    FIELD(T, "max_alerts", max_alerts, FT_UINT64, 0, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, 0, NULL),
};
#undef T
const struct table incidentio_config_table = TABLE(
    "incidentio.plain", struct incidentio_config, incidentio_fields, incidentio_check);

/* ---- receiver ----------------------------------------------------------------------------- */

static int receiver_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct receiver *r = obj;
    if (cfg_empty(r->name)) {
        return ctx_error(c, n, "missing name in receiver");
    }
    /* newest: labels, with "name" implied and required to match */
    const char *lname = str_map_get(&r->labels, "name");
    if (lname != NULL && strcmp(lname, r->name) != 0) {
        return ctx_error_key(c, n, "labels",
                             "receiver label \"name\" must match receiver name \"%s\", got "
                             "\"%s\"",
                             r->name, lname);
    }
    receiver_build_integrations(r);
    return AR_OK;
}

static void receiver_cleanup(void *obj)
{
    struct receiver *r = obj;
    AR_FREE(r->integrations);
    r->nintegrations = 0;
}

/* name and labels, then one `<name>_configs` list per row of the integration table, in the
 * order of the receiver's Go struct (filled before main by receiver_fields_init) */
#define T struct receiver
static struct field receiver_fields[2 + INTEGRATION_TYPE_COUNT] = {
    FIELD(T, "name", name, FT_STR, 0, NULL),
    FIELD(T, "labels", labels, FT_LABELMAP, FF_OMITEMPTY, NULL),
};
#undef T

__attribute__((constructor)) static void receiver_fields_init(void)
{
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        const struct integration_def *def = integration_def_get((enum integration_type)t);
        struct field *f = &receiver_fields[2 + def->yaml_rank];

        f->name = def->configs_key;
        f->type = FT_LIST;
        f->off = def->receiver_offset;
        f->flags = FF_OMITEMPTY;
        f->def = NULL;
        f->sub = def->config;
    }
}

const struct table receiver_table = {
    "config.plain", sizeof(struct receiver), receiver_fields, AR_ARRAY_LEN(receiver_fields),
    receiver_check, NULL, NULL, receiver_cleanup};

static void add_integrations(struct receiver *r, size_t *cap, enum integration_type type,
                             void *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            continue;
        }
        if (r->nintegrations == *cap) {
            *cap = *cap ? *cap * 2 : 4;
            r->integrations = ar_realloc(r->integrations, *cap * sizeof(*r->integrations));
        }
        struct integration *in = &r->integrations[r->nintegrations++];
        in->type = type;
        in->index = (int)i;
        in->cfg = items[i];
        /* every integration struct starts with `bool send_resolved` */
        memcpy(&in->send_resolved, items[i], sizeof(bool));
    }
}

void receiver_prepare_used(struct receiver *r)
{
    /* COMPAT: building the email notifier fills Subject, To and From headers into the
     * configuration, so they show in the re-serialised config of used receivers. */
    for (size_t i = 0; i < r->email_configs.n; i++) {
        struct email_config *e = r->email_configs.v[i];
        if (e == NULL) {
            continue;
        }
        cfg_map_add_missing(&e->headers, "Subject", "{{ template \"email.default.subject\" . }}");
        cfg_map_add_missing(&e->headers, "To", e->to ? e->to : "");
        cfg_map_add_missing(&e->headers, "From", e->from ? e->from : "");
    }
}

void receiver_build_integrations(struct receiver *r)
{
    size_t cap = 0;

    AR_FREE(r->integrations);
    r->nintegrations = 0;
    /* the integration table is in build order */
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        const struct integration_def *def = integration_def_get((enum integration_type)t);
        const char *list = (const char *)r + def->receiver_offset; /* AR_PTR_LIST: v, n */
        void **items;
        size_t n;

        memcpy(&items, list, sizeof(items));
        memcpy(&n, list + sizeof(void **), sizeof(n));
        add_integrations(r, &cap, def->type, items, n);
    }
}

const char *receiver_name(const struct receiver *r)
{
    return r->name;
}

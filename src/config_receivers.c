/* Key tables and validation for `global`, `tls_config`, `http_config` (COMPAT 4.9) and the
 * receiver (COMPAT 4.5), plus the helpers every integration's key table uses (cfg_*). The
 * tables of the integrations themselves live in their notifier_<type>.c files and are found
 * through the integration table (ar/integration.h): the receiver's *_configs keys are built
 * from it. Tables list fields in the order of Alertmanager's Go structs (0.25 first; keys
 * only newer versions know are omitempty so a 0.25-style config re-serialises as 0.25 does).
 * Each integration's check applies Alertmanager's rules: value-or-file exclusivity,
 * required keys, and inheritance of empty fields from `global` (ctx.global, decoded before
 * the receivers), including http_config. */
#include "config_internal.h"

#include <ctype.h>
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
    size_t len = strlen(u);
    char *fixed = ar_malloc(len + 2);
    memcpy(fixed, u, end);
    fixed[end] = '/';
    memcpy(fixed + end + 1, u + end, len - end + 1); /* the rest and its NUL */
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
        return ctx_error(c, n, "at most one of webhook_url & webhook_url_file must be configured");
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
        rc = ctx_error(c, n,
                       "exactly one of key or key_file must be configured when a client "
                       "certificate is configured");
    }
    if (rc == AR_OK && (!cfg_empty(t->key) || !cfg_empty(t->key_file)) && cfg_empty(t->cert) &&
        cfg_empty(t->cert_file)) {
        rc = ctx_error(c, n,
                       "exactly one of cert or cert_file must be configured when a client "
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
const struct table tls_config_table =
    TABLE("config.plain", struct tls_config, tls_fields, tls_check);

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
const struct table smtp_tls_config_table =
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
    FIELD(struct oauth2_config, "client_secret_file", client_secret_file, FT_STR, FF_PATH, NULL),
    FIELD(struct oauth2_config, "scopes", scopes, FT_STRLIST, FF_OMITEMPTY, NULL),
    FIELD(struct oauth2_config, "token_url", token_url, FT_STR, 0, NULL),
    FIELD(struct oauth2_config, "endpoint_params", endpoint_params, FT_STRMAP, FF_OMITEMPTY, NULL),
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
        rc = cfg_at_most_one(c, n, "basic_auth username", h->basic_auth->username, "username_file",
                             h->basic_auth->username_file);
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

static void header_line_add(struct http_header_line **lines, size_t *n, size_t *cap,
                            const char *name, const char *value, bool is_file)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *lines = ar_realloc(*lines, *cap * sizeof(**lines));
    }
    (*lines)[*n].name = ar_strdup(name);
    (*lines)[*n].value = ar_strdup(value);
    (*lines)[*n].is_file = is_file;
    (*n)++;
}

static void header_lines_free(struct http_header_line **lines, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*lines)[i].name);
        free((*lines)[i].value);
    }
    AR_FREE(*lines);
    *n = 0;
}

static void header_lines_copy(struct http_header_line **dst, size_t *ndst,
                              const struct http_header_line *src, size_t nsrc)
{
    size_t cap = 0;

    *dst = NULL;
    *ndst = 0;
    for (size_t i = 0; i < nsrc; i++) {
        header_line_add(dst, ndst, &cap, src[i].name, src[i].value, src[i].is_file);
    }
}

/* http_headers (prometheus/common): each name maps to {values, secrets, files}. Decoded here,
 * once, into the lines the notifier sends: names in the map's order, and for each its values,
 * secrets and files in that order; entries of other shapes add nothing. proxy_connect_header
 * maps each name to a list of (secret) values. */
static void header_lines_decode(struct http_config *h, const struct ynode *n)
{
    static const char *const kinds[] = {"values", "secrets", "files"};
    const struct ynode *hh = n != NULL ? ynode_map_find(n, "http_headers") : NULL;
    const struct ynode *ph = n != NULL ? ynode_map_find(n, "proxy_connect_header") : NULL;
    size_t cap = 0;

    http_cleanup(h);
    for (size_t i = 0; hh != NULL && hh->kind == YN_MAP && i < h->http_headers.n; i++) {
        const struct ynode *v = ynode_map_find(hh, h->http_headers.keys[i]);
        for (size_t k = 0; v != NULL && v->kind == YN_MAP && k < AR_ARRAY_LEN(kinds); k++) {
            const struct ynode *list = ynode_map_find(v, kinds[k]);
            for (size_t j = 0; list != NULL && list->kind == YN_SEQ && j < list->n; j++) {
                if (list->items[j]->kind == YN_SCALAR) {
                    header_line_add(&h->header_lines, &h->nheader_lines, &cap,
                                    h->http_headers.keys[i], list->items[j]->value, k == 2);
                }
            }
        }
    }
    cap = 0;
    for (size_t i = 0; ph != NULL && ph->kind == YN_MAP && i < h->proxy_connect_header.n; i++) {
        const struct ynode *list = ynode_map_find(ph, h->proxy_connect_header.keys[i]);
        for (size_t j = 0; list != NULL && list->kind == YN_SEQ && j < list->n; j++) {
            if (list->items[j]->kind == YN_SCALAR) {
                header_line_add(&h->proxy_header_lines, &h->nproxy_header_lines, &cap,
                                h->proxy_connect_header.keys[i], list->items[j]->value, false);
            }
        }
    }
}

static void header_lines_dup(struct http_config *dst, const struct http_config *src)
{
    header_lines_copy(&dst->header_lines, &dst->nheader_lines, src->header_lines,
                      src->nheader_lines);
    header_lines_copy(&dst->proxy_header_lines, &dst->nproxy_header_lines, src->proxy_header_lines,
                      src->nproxy_header_lines);
}

static void http_cleanup(void *obj)
{
    struct http_config *h = obj;

    header_lines_free(&h->header_lines, &h->nheader_lines);
    header_lines_free(&h->proxy_header_lines, &h->nproxy_header_lines);
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
const struct table http_config_table = {"config.plain", sizeof(struct http_config),
                                        http_fields,    AR_ARRAY_LEN(http_fields),
                                        http_check,     NULL,
                                        NULL,           http_cleanup};

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
        rc = cfg_at_most_one(c, n, "rocketchat_token", g->rocketchat_token, "rocketchat_token_file",
                             g->rocketchat_token_file);
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
        const struct integration_decode *def = integration_decode_of((enum integration_type)t);
        struct field *f = &receiver_fields[2 + def->yaml_rank];

        f->name = def->configs_key;
        f->type = FT_LIST;
        f->off = def->receiver_offset;
        f->flags = FF_OMITEMPTY;
        f->def = NULL;
        f->sub = def->config;
    }
}

const struct table receiver_table = {"config.plain",
                                     sizeof(struct receiver),
                                     receiver_fields,
                                     AR_ARRAY_LEN(receiver_fields),
                                     receiver_check,
                                     NULL,
                                     NULL,
                                     receiver_cleanup};

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
        /* every integration struct starts with `bool send_resolved` (asserted in integration.c) */
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
        const struct integration_decode *def = integration_decode_of((enum integration_type)t);
        const char *list = (const char *)r + def->receiver_offset; /* AR_PTR_LIST: v, n */
        void **items;
        size_t n;

        memcpy(&items, list, sizeof(items));
        memcpy(&n, list + sizeof(void **), sizeof(n));
        add_integrations(r, &cap, (enum integration_type)t, items, n);
    }
}

const char *receiver_name(const struct receiver *r)
{
    return r->name;
}

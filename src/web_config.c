/* The web configuration file (ar/web_config.h): YAML via the config loader's node tree
 * (config_yaml.h), validation as exporter-toolkit v0.8 (Alertmanager 0.25), TLS material
 * prepared as GnuTLS objects, basic auth with libcrypt's bcrypt.
 *
 * GnuTLS functions are called through a table filled once with dlsym() on the libgnutls
 * that libmicrohttpd loaded (only libmicrohttpd is on our link line). The table is filled
 * under pthread_once and read-only afterwards.
 *
 * Basic-auth cache: WEB_CACHE_SIZE entries of HMAC-SHA256(process key, user NUL hash NUL
 * password) with an expiry; only successes are cached, for WEB_CACHE_TTL_NS, and the cache
 * dies with its configuration, so a reload that changes a hash invalidates it. */
#include "ar/web_config.h"

#include "ar/buf.h"
#include "ar/clock.h"
#include "ar/log.h"
#include "config_yaml.h"

#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define WEB_MAX_FILE_BYTES (1 << 20)
#define WEB_MAX_NODES      10000
#define WEB_MAX_CHAIN      16
#define WEB_CACHE_SIZE     64
#define WEB_CACHE_TTL_NS   (60 * AR_NS_PER_SEC)

/* COMPAT: exporter-toolkit's hash of "fakepassword", checked for unknown users so the
 * response time does not reveal which user names exist. */
static const char FAKE_HASH[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/* ---------------------------------------------------------------------------------------
 * GnuTLS, resolved at run time */

#define GNUTLS_FUNCS(X)                                                                            \
    X(gnutls_strerror)                                                                             \
    X(gnutls_priority_init)                                                                        \
    X(gnutls_priority_deinit)                                                                      \
    X(gnutls_priority_set_direct)                                                                  \
    X(gnutls_certificate_server_set_request)                                                       \
    X(gnutls_session_set_verify_function)                                                          \
    X(gnutls_session_get_ptr)                                                                      \
    X(gnutls_certificate_get_peers)                                                                \
    X(gnutls_certificate_allocate_credentials)                                                     \
    X(gnutls_certificate_free_credentials)                                                         \
    X(gnutls_certificate_set_x509_key_mem2)                                                        \
    X(gnutls_x509_crt_init)                                                                        \
    X(gnutls_x509_crt_import)                                                                      \
    X(gnutls_x509_crt_deinit)                                                                      \
    X(gnutls_x509_trust_list_init)                                                                 \
    X(gnutls_x509_trust_list_deinit)                                                               \
    X(gnutls_x509_trust_list_add_trust_mem)                                                        \
    X(gnutls_x509_trust_list_add_system_trust)                                                     \
    X(gnutls_x509_trust_list_verify_crt2)                                                          \
    X(gnutls_pcert_list_import_x509_raw)                                                           \
    X(gnutls_pcert_deinit)                                                                         \
    X(gnutls_privkey_init)                                                                         \
    X(gnutls_privkey_import_x509_raw)                                                              \
    X(gnutls_privkey_deinit)                                                                       \
    X(gnutls_hmac_fast)                                                                            \
    X(gnutls_rnd)

static struct {
#define X(name) __typeof__(name) *name; /* NOLINT(bugprone-macro-parentheses): a declarator */
    GNUTLS_FUNCS(X)
#undef X
} gt;
static pthread_once_t gt_once = PTHREAD_ONCE_INIT;
static char gt_error[256];
static unsigned char hmac_key[32];

static void gt_resolve(void)
{
    /* POSIX dlopen of the soname libmicrohttpd links: returns the copy already loaded. */
    void *h = dlopen("libgnutls.so.30", RTLD_LAZY);

    if (h == NULL) {
        snprintf(gt_error, sizeof(gt_error), "cannot load GnuTLS: %s", dlerror());
        return;
    }
#define X(name)                                                                                    \
    *(void **)(&gt.name) = dlsym(h, #name);                                                        \
    if (gt.name == NULL) {                                                                         \
        snprintf(gt_error, sizeof(gt_error), "GnuTLS lacks %s", #name);                            \
        return;                                                                                    \
    }
    GNUTLS_FUNCS(X)
#undef X
    if (gt.gnutls_rnd(GNUTLS_RND_KEY, hmac_key, sizeof(hmac_key)) != 0) {
        snprintf(gt_error, sizeof(gt_error), "GnuTLS random generator failed");
    }
}

int web_config_tls_available(struct ar_error *err)
{
    pthread_once(&gt_once, gt_resolve);
    if (gt_error[0] != '\0') {
        ar_error_set(err, "%s", gt_error);
        return AR_EIO;
    }
    return AR_OK;
}

/* ---------------------------------------------------------------------------------------
 * the configuration object */

struct web_user {
    char *name;
    char *hash;
};

struct cache_entry {
    unsigned char digest[32];
    int64_t expires_ns; /* monotonic; 0 = empty */
};

struct web_config {
    int refs;
    char *name;

    bool has_tls;
    enum web_client_auth client_auth;
    int min_version; /* 10..13 for TLS1.0..TLS1.3 */
    int max_version;
    bool prefer_server;
    char *curves;     /* GnuTLS "+GROUP-..." items, or NULL */
    char *priorities; /* full GnuTLS priority string */
    char *cert_path;
    char *key_path;
    char *ca_path;
    gnutls_pcert_st pcerts[WEB_MAX_CHAIN];
    unsigned npcerts;
    gnutls_privkey_t key;
    gnutls_x509_trust_list_t cas; /* client CAs; NULL unless a verifying policy */

    struct web_header *headers;
    size_t nheaders;
    struct web_user *users;
    size_t nusers;

    pthread_mutex_t cache_mu;
    struct cache_entry cache[WEB_CACHE_SIZE];
    size_t cache_next;
};

struct web_config *web_config_ref(struct web_config *wc)
{
    __atomic_add_fetch(&wc->refs, 1, __ATOMIC_RELAXED);
    return wc;
}

void web_config_unref(struct web_config *wc)
{
    if (wc == NULL || __atomic_sub_fetch(&wc->refs, 1, __ATOMIC_ACQ_REL) > 0) {
        return;
    }
    for (unsigned i = 0; i < wc->npcerts; i++) {
        gt.gnutls_pcert_deinit(&wc->pcerts[i]);
    }
    if (wc->key != NULL) {
        gt.gnutls_privkey_deinit(wc->key);
    }
    if (wc->cas != NULL) {
        gt.gnutls_x509_trust_list_deinit(wc->cas, 1);
    }
    for (size_t i = 0; i < wc->nheaders; i++) {
        free(wc->headers[i].name);
        free(wc->headers[i].value);
    }
    for (size_t i = 0; i < wc->nusers; i++) {
        free(wc->users[i].name);
        explicit_bzero(wc->users[i].hash, strlen(wc->users[i].hash));
        free(wc->users[i].hash);
    }
    explicit_bzero(wc->cache, sizeof(wc->cache));
    pthread_mutex_destroy(&wc->cache_mu);
    free(wc->headers);
    free(wc->users);
    free(wc->name);
    free(wc->curves);
    free(wc->priorities);
    free(wc->cert_path);
    free(wc->key_path);
    free(wc->ca_path);
    free(wc);
}

bool web_config_has_tls(const struct web_config *wc)
{
    return wc->has_tls;
}

enum web_client_auth web_config_client_auth(const struct web_config *wc)
{
    return wc->client_auth;
}

const char *web_config_tls_priorities(const struct web_config *wc)
{
    return wc->priorities;
}

const struct web_header *web_config_headers(const struct web_config *wc, size_t *n)
{
    *n = wc->nheaders;
    return wc->headers;
}

bool web_config_has_users(const struct web_config *wc)
{
    return wc->nusers > 0;
}

/* ---------------------------------------------------------------------------------------
 * decoding */

struct dec {
    const char *name; /* file name for messages */
    char *dir;        /* its directory, for relative paths */
    struct ar_error *err;
};

static int dec_error(struct dec *d, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dec_error(struct dec *d, const struct ynode *n, const char *fmt, ...)
{
    char msg[900];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n != NULL) {
        ar_error_set(d->err, "%s:%d: %s", d->name, n->line, msg);
    } else {
        ar_error_set(d->err, "%s: %s", d->name, msg);
    }
    return AR_EINVAL;
}

/* A string field: any scalar (yaml.v2 stores the text of ints and bools in strings);
 * null leaves *out NULL. */
static int dec_string(struct dec *d, const struct ynode *n, char **out)
{
    if (n->kind != YN_SCALAR) {
        return dec_error(d, n, "cannot unmarshal %s into string", ynode_tag(n));
    }
    free(*out);
    *out = ynode_is_null(n) ? NULL : ar_strndup(n->value, n->len);
    return AR_OK;
}

static int dec_bool(struct dec *d, const struct ynode *n, bool *out)
{
    if (n->kind == YN_SCALAR && ynode_is_null(n)) {
        return AR_OK;
    }
    if (n->kind != YN_SCALAR || !n->plain || !yaml_parse_bool(n->value, out)) {
        return dec_error(d, n, "cannot unmarshal %s `%.*s` into bool", ynode_tag(n),
                         n->kind == YN_SCALAR ? (int)n->len : 0,
                         n->kind == YN_SCALAR ? n->value : "");
    }
    return AR_OK;
}

static int dec_map(struct dec *d, const struct ynode *n, const char *type)
{
    if (n->kind != YN_MAP) {
        return dec_error(d, n, "cannot unmarshal %s into %s", ynode_tag(n), type);
    }
    for (size_t i = 0; i < n->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(ynode_key(n, i)->value, ynode_key(n, j)->value) == 0) {
                return dec_error(d, ynode_key(n, i), "key \"%s\" already set in map",
                                 ynode_key(n, i)->value);
            }
        }
    }
    return AR_OK;
}

static int tls_version_parse(struct dec *d, const struct ynode *n, int *out)
{
    static const struct {
        const char *name;
        int v;
    } versions[] = {{"TLS10", 10}, {"TLS11", 11}, {"TLS12", 12}, {"TLS13", 13}};
    char *s = NULL;
    int rc = dec_string(d, n, &s);

    if (rc != AR_OK || s == NULL) {
        return rc;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(versions); i++) {
        if (strcmp(s, versions[i].name) == 0) {
            *out = versions[i].v;
            free(s);
            return AR_OK;
        }
    }
    rc = dec_error(d, n, "unknown TLS version: %s", s);
    free(s);
    return rc;
}

static int curves_parse(struct dec *d, const struct ynode *n, char **out)
{
    static const struct {
        const char *go;
        const char *gnutls;
    } curves[] = {{"CurveP256", "+GROUP-SECP256R1"},
                  {"CurveP384", "+GROUP-SECP384R1"},
                  {"CurveP521", "+GROUP-SECP521R1"},
                  {"X25519", "+GROUP-X25519"}};
    char buf[256] = "-GROUP-ALL";

    if (n->kind == YN_SCALAR && ynode_is_null(n)) {
        return AR_OK;
    }
    if (n->kind != YN_SEQ) {
        return dec_error(d, n, "cannot unmarshal %s into []web.Curve", ynode_tag(n));
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *it = n->items[i];
        size_t k = 0;
        if (it->kind != YN_SCALAR) {
            return dec_error(d, it, "cannot unmarshal %s into string", ynode_tag(it));
        }
        while (k < AR_ARRAY_LEN(curves) && strcmp(curves[k].go, it->value) != 0) {
            k++;
        }
        if (k == AR_ARRAY_LEN(curves)) {
            return dec_error(d, it, "unknown curve: %s", it->value);
        }
        size_t used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, ":%s", curves[k].gnutls);
    }
    if (n->n > 0) {
        free(*out);
        *out = ar_strdup(buf);
    }
    return AR_OK;
}

static char *join_dir(const struct dec *d, const char *path)
{
    if (path == NULL || path[0] == '/' || d->dir == NULL) {
        return path ? ar_strdup(path) : NULL;
    }
    return ar_asprintf("%s/%s", d->dir, path);
}

static int decode_tls(struct dec *d, struct web_config *wc, const struct ynode *m)
{
    char *auth = NULL;
    char *cert = NULL;
    char *key = NULL;
    char *ca = NULL;
    int rc;

    if (m->kind == YN_SCALAR && ynode_is_null(m)) {
        return AR_OK;
    }
    rc = dec_map(d, m, "web.TLSConfig");
    for (size_t i = 0; rc == AR_OK && i < m->n; i++) {
        const struct ynode *k = ynode_key(m, i);
        const struct ynode *v = ynode_val(m, i);
        if (strcmp(k->value, "cert_file") == 0) {
            rc = dec_string(d, v, &cert);
        } else if (strcmp(k->value, "key_file") == 0) {
            rc = dec_string(d, v, &key);
        } else if (strcmp(k->value, "client_ca_file") == 0) {
            rc = dec_string(d, v, &ca);
        } else if (strcmp(k->value, "client_auth_type") == 0) {
            rc = dec_string(d, v, &auth);
        } else if (strcmp(k->value, "min_version") == 0) {
            rc = tls_version_parse(d, v, &wc->min_version);
        } else if (strcmp(k->value, "max_version") == 0) {
            rc = tls_version_parse(d, v, &wc->max_version);
        } else if (strcmp(k->value, "prefer_server_cipher_suites") == 0) {
            rc = dec_bool(d, v, &wc->prefer_server);
        } else if (strcmp(k->value, "curve_preferences") == 0) {
            rc = curves_parse(d, v, &wc->curves);
        } else if (strcmp(k->value, "cipher_suites") == 0) {
            /* Go names single TLS 1.2 suites; GnuTLS priorities select key exchanges,
             * ciphers and MACs separately, so an exact translation is not possible.
             * Refusing is safer than silently allowing more suites than asked for. */
            if (!(v->kind == YN_SCALAR && ynode_is_null(v)) && !(v->kind == YN_SEQ && v->n == 0)) {
                rc = dec_error(d, k,
                               "cipher_suites is not supported by alertrouter (GnuTLS "
                               "chooses among its NORMAL suites); remove it");
            }
        } else {
            rc = dec_error(d, k, "field %s not found in type web.TLSConfig", k->value);
        }
    }
    if (rc != AR_OK) {
        goto out;
    }
    /* COMPAT: exporter-toolkit's ConfigToTLSConfig rules and messages. */
    wc->has_tls = cert != NULL || key != NULL || auth != NULL || ca != NULL;
    if (!wc->has_tls) {
        goto out;
    }
    if (cert == NULL) {
        rc = dec_error(d, m, "tls_server_config: missing cert_file");
        goto out;
    }
    if (key == NULL) {
        rc = dec_error(d, m, "tls_server_config: missing key_file");
        goto out;
    }
    if (auth == NULL || strcmp(auth, "NoClientCert") == 0) {
        wc->client_auth = WEB_CLIENT_AUTH_NONE;
    } else if (strcmp(auth, "RequestClientCert") == 0) {
        wc->client_auth = WEB_CLIENT_AUTH_REQUEST;
    } else if (strcmp(auth, "RequireAnyClientCert") == 0 ||
               strcmp(auth, "RequireClientCert") == 0) {
        wc->client_auth = WEB_CLIENT_AUTH_REQUIRE_ANY;
    } else if (strcmp(auth, "VerifyClientCertIfGiven") == 0) {
        wc->client_auth = WEB_CLIENT_AUTH_VERIFY_IF_GIVEN;
    } else if (strcmp(auth, "RequireAndVerifyClientCert") == 0) {
        wc->client_auth = WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY;
    } else {
        rc = dec_error(d, m, "tls_server_config: Invalid ClientAuth: %s", auth);
        goto out;
    }
    if (ca != NULL && wc->client_auth == WEB_CLIENT_AUTH_NONE) {
        rc = dec_error(d, m,
                       "tls_server_config: Client CA's have been configured without a "
                       "Client Auth Policy");
        goto out;
    }
    wc->cert_path = join_dir(d, cert);
    wc->key_path = join_dir(d, key);
    wc->ca_path = join_dir(d, ca);
out:
    free(auth);
    free(cert);
    free(key);
    free(ca);
    return rc;
}

/* COMPAT: exporter-toolkit's extraHTTPHeaders: only these may be set, some only to one of
 * the listed values. */
static int header_check(struct dec *d, const struct ynode *k, const char *name, const char *value)
{
    static const struct {
        const char *name;
        const char *values[3];
    } allowed[] = {
        {"Strict-Transport-Security", {NULL}},
        {"X-Content-Type-Options", {"nosniff", NULL}},
        {"X-Frame-Options", {"deny", "sameorigin", NULL}},
        {"X-XSS-Protection", {NULL}},
        {"Content-Security-Policy", {NULL}},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(allowed); i++) {
        if (strcmp(allowed[i].name, name) != 0) {
            continue;
        }
        if (allowed[i].values[0] == NULL) {
            return AR_OK;
        }
        for (size_t j = 0; allowed[i].values[j] != NULL; j++) {
            if (strcmp(allowed[i].values[j], value) == 0) {
                return AR_OK;
            }
        }
        return dec_error(d, k,
                         "invalid value for %s. Expected one of: [\"%s\"%s%s%s], but "
                         "got: \"%s\"",
                         name, allowed[i].values[0], allowed[i].values[1] ? " \"" : "",
                         allowed[i].values[1] ? allowed[i].values[1] : "",
                         allowed[i].values[1] ? "\"" : "", value);
    }
    return dec_error(d, k, "HTTP header \"%s\" can not be configured", name);
}

static bool header_value_ok(const char *v)
{
    for (; *v; v++) {
        if (*v == '\r' || *v == '\n' || *v == '\0') {
            return false;
        }
    }
    return true;
}

static int decode_http(struct dec *d, struct web_config *wc, const struct ynode *m)
{
    int rc;

    if (m->kind == YN_SCALAR && ynode_is_null(m)) {
        return AR_OK;
    }
    rc = dec_map(d, m, "web.HTTPConfig");
    for (size_t i = 0; rc == AR_OK && i < m->n; i++) {
        const struct ynode *k = ynode_key(m, i);
        const struct ynode *v = ynode_val(m, i);
        if (strcmp(k->value, "http2") == 0) {
            bool http2 = true; /* accepted; libmicrohttpd speaks HTTP/1.1 only */
            rc = dec_bool(d, v, &http2);
        } else if (strcmp(k->value, "headers") == 0) {
            if (v->kind == YN_SCALAR && ynode_is_null(v)) {
                continue;
            }
            rc = dec_map(d, v, "map[string]string");
            if (rc != AR_OK) {
                break;
            }
            wc->headers = ar_calloc(v->n ? v->n : 1, sizeof(*wc->headers));
            for (size_t j = 0; rc == AR_OK && j < v->n; j++) {
                char *value = NULL;
                rc = dec_string(d, ynode_val(v, j), &value);
                if (rc != AR_OK) {
                    break;
                }
                if (value == NULL) {
                    value = ar_strdup("");
                }
                rc = header_check(d, ynode_key(v, j), ynode_key(v, j)->value, value);
                if (rc == AR_OK && !header_value_ok(value)) {
                    rc = dec_error(d, ynode_val(v, j), "invalid value for header %s",
                                   ynode_key(v, j)->value);
                }
                if (rc != AR_OK) {
                    free(value);
                    break;
                }
                wc->headers[wc->nheaders].name = ar_strdup(ynode_key(v, j)->value);
                wc->headers[wc->nheaders].value = value;
                wc->nheaders++;
            }
        } else {
            rc = dec_error(d, k, "field %s not found in type web.HTTPConfig", k->value);
        }
    }
    return rc;
}

/* bcrypt modular crypt syntax: $2a$/$2b$/$2y$, two-digit cost 04..31, '$', 53 characters of
 * bcrypt's base64 (22 salt + 31 hash). */
static bool bcrypt_hash_valid(const char *h)
{
    static const char alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int cost;

    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || strchr("aby", h[2]) == NULL ||
        h[3] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$') {
        return false;
    }
    cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31) {
        return false;
    }
    for (size_t i = 7; i < 60; i++) {
        if (strchr(alphabet, h[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static int decode_users(struct dec *d, struct web_config *wc, const struct ynode *m)
{
    int rc;

    if (m->kind == YN_SCALAR && ynode_is_null(m)) {
        return AR_OK;
    }
    rc = dec_map(d, m, "map[string]config.Secret");
    if (rc != AR_OK) {
        return rc;
    }
    wc->users = ar_calloc(m->n ? m->n : 1, sizeof(*wc->users));
    for (size_t i = 0; i < m->n; i++) {
        const struct ynode *k = ynode_key(m, i);
        char *hash = NULL;
        rc = dec_string(d, ynode_val(m, i), &hash);
        if (rc != AR_OK) {
            return rc;
        }
        /* never echo the hash: it is a secret */
        if (hash == NULL || !bcrypt_hash_valid(hash)) {
            free(hash);
            return dec_error(d, ynode_val(m, i),
                             "basic_auth_users.%s: not a bcrypt hash ($2a$, $2b$ or $2y$, "
                             "cost 04-31, 60 characters)",
                             k->value);
        }
        wc->users[wc->nusers].name = ar_strdup(k->value);
        wc->users[wc->nusers].hash = hash;
        wc->nusers++;
    }
    return AR_OK;
}

/* ---------------------------------------------------------------------------------------
 * TLS material */

static int read_file(const char *path, char **out, size_t *len, struct ar_error *err)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;

    if (f == NULL) {
        ar_error_set(err, "open %s: %s", path, strerror(errno));
        return AR_EIO;
    }
    buf_init(&b, WEB_MAX_FILE_BYTES);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != AR_OK) {
            fclose(f);
            buf_cleanup(&b);
            ar_error_set(err, "%s: larger than %d bytes", path, WEB_MAX_FILE_BYTES);
            return AR_ELIMIT;
        }
    }
    if (ferror(f)) {
        ar_error_set(err, "read %s: %s", path, strerror(errno));
        fclose(f);
        buf_cleanup(&b);
        return AR_EIO;
    }
    fclose(f);
    *len = b.len;
    *out = ar_strndup(b.data ? b.data : "", b.len);
    buf_cleanup(&b);
    return AR_OK;
}

static void wipe_free(char *p, size_t n)
{
    if (p != NULL) {
        explicit_bzero(p, n);
        free(p);
    }
}

static int build_priorities(struct dec *d, struct web_config *wc)
{
    char buf[512];
    size_t used;
    gnutls_priority_t prio;
    const char *errpos = NULL;
    int rc;

    if (wc->min_version > wc->max_version) {
        return dec_error(d, NULL,
                         "tls_server_config: min_version TLS%d%d is above max_version "
                         "TLS%d%d: no TLS version left",
                         wc->min_version / 10, wc->min_version % 10, wc->max_version / 10,
                         wc->max_version % 10);
    }
    snprintf(buf, sizeof(buf), "NORMAL:-VERS-ALL");
    for (int v = wc->max_version; v >= wc->min_version; v--) {
        used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, ":+VERS-TLS1.%d", v - 10);
    }
    if (wc->curves != NULL) {
        used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, ":%s", wc->curves);
    }
    if (wc->prefer_server) {
        used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, ":%%SERVER_PRECEDENCE");
    }
    rc = gt.gnutls_priority_init(&prio, buf, &errpos);
    if (rc < 0) {
        return dec_error(d, NULL,
                         "tls_server_config: GnuTLS rejects priorities \"%s\" at \"%s\": %s", buf,
                         errpos ? errpos : "", gt.gnutls_strerror(rc));
    }
    gt.gnutls_priority_deinit(prio);
    wc->priorities = ar_strdup(buf);
    return AR_OK;
}

static int load_tls(struct dec *d, struct web_config *wc)
{
    char *cert = NULL;
    char *key = NULL;
    char *ca = NULL;
    size_t cert_len = 0;
    size_t key_len = 0;
    size_t ca_len = 0;
    gnutls_datum_t cd;
    gnutls_datum_t kd;
    gnutls_certificate_credentials_t cred = NULL;
    struct ar_error ferr;
    int rc;

    if (web_config_tls_available(&ferr) != AR_OK) {
        return dec_error(d, NULL, "TLS: %s", ferr.msg);
    }
    rc = build_priorities(d, wc);
    if (rc != AR_OK) {
        return rc;
    }
    if (read_file(wc->cert_path, &cert, &cert_len, &ferr) != AR_OK ||
        read_file(wc->key_path, &key, &key_len, &ferr) != AR_OK) {
        rc = dec_error(d, NULL, "tls_server_config: failed to load X509KeyPair: %s", ferr.msg);
        goto out;
    }
    cd.data = (unsigned char *)cert;
    cd.size = (unsigned)cert_len;
    kd.data = (unsigned char *)key;
    kd.size = (unsigned)key_len;
    /* A throw-away credential checks that the key matches the certificate. */
    rc = gt.gnutls_certificate_allocate_credentials(&cred);
    if (rc == 0) {
        rc = gt.gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (rc < 0) {
        rc = dec_error(d, NULL, "tls_server_config: failed to load X509KeyPair (%s, %s): %s",
                       wc->cert_path, wc->key_path, gt.gnutls_strerror(rc));
        goto out;
    }
    wc->npcerts = WEB_MAX_CHAIN;
    rc =
        gt.gnutls_pcert_list_import_x509_raw(wc->pcerts, &wc->npcerts, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        wc->npcerts = 0;
        rc = dec_error(d, NULL, "tls_server_config: cert_file %s: %s", wc->cert_path,
                       gt.gnutls_strerror(rc));
        goto out;
    }
    rc = gt.gnutls_privkey_init(&wc->key);
    if (rc == 0) {
        rc = gt.gnutls_privkey_import_x509_raw(wc->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (rc < 0) {
        rc = dec_error(d, NULL, "tls_server_config: key_file %s: %s", wc->key_path,
                       gt.gnutls_strerror(rc));
        goto out;
    }
    if (wc->client_auth == WEB_CLIENT_AUTH_VERIFY_IF_GIVEN ||
        wc->client_auth == WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY) {
        rc = gt.gnutls_x509_trust_list_init(&wc->cas, 0);
        if (rc < 0) {
            wc->cas = NULL;
            rc = dec_error(d, NULL, "tls_server_config: %s", gt.gnutls_strerror(rc));
            goto out;
        }
        if (wc->ca_path == NULL) {
            /* COMPAT: Go verifies against the system roots when no client CA is given */
            rc = gt.gnutls_x509_trust_list_add_system_trust(wc->cas, 0, 0);
        } else if (read_file(wc->ca_path, &ca, &ca_len, &ferr) != AR_OK) {
            rc = dec_error(d, NULL, "tls_server_config: client_ca_file: %s", ferr.msg);
            goto out;
        } else {
            gnutls_datum_t cad = {(unsigned char *)ca, (unsigned)ca_len};
            rc = gt.gnutls_x509_trust_list_add_trust_mem(wc->cas, &cad, NULL, GNUTLS_X509_FMT_PEM,
                                                         0, 0);
            if (rc == 0 || rc == GNUTLS_E_NO_CERTIFICATE_FOUND) {
                rc = dec_error(d, NULL,
                               "tls_server_config: client_ca_file %s holds no PEM "
                               "certificate",
                               wc->ca_path);
                goto out;
            }
        }
        if (rc < 0) {
            rc = dec_error(d, NULL, "tls_server_config: client CAs: %s", gt.gnutls_strerror(rc));
            goto out;
        }
    } else if (wc->ca_path != NULL) {
        /* RequestClientCert / RequireAnyClientCert never verify; still check the file is
         * readable like upstream does */
        if (read_file(wc->ca_path, &ca, &ca_len, &ferr) != AR_OK) {
            rc = dec_error(d, NULL, "tls_server_config: client_ca_file: %s", ferr.msg);
            goto out;
        }
    }
    rc = AR_OK;
out:
    if (cred != NULL) {
        gt.gnutls_certificate_free_credentials(cred);
    }
    free(cert);
    wipe_free(key, key_len);
    free(ca);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * loading */

int web_config_load_string(const char *text, size_t len, const char *name, struct web_config **out,
                           struct ar_error *err)
{
    struct ydoc doc;
    struct dec d;
    struct web_config *wc;
    const char *slash = strrchr(name, '/');
    int rc;

    memset(&d, 0, sizeof(d));
    d.name = name;
    d.err = err;
    d.dir = slash ? ar_strndup(name, (size_t)(slash - name)) : NULL;
    if (slash == name) {
        free(d.dir);
        d.dir = ar_strdup("/");
    }
    rc = ydoc_parse(text, len, name, WEB_MAX_NODES, &doc, err);
    if (rc != AR_OK) {
        free(d.dir);
        return rc;
    }
    wc = ar_calloc(1, sizeof(*wc));
    wc->refs = 1;
    wc->name = ar_strdup(name);
    wc->min_version = 12; /* COMPAT: exporter-toolkit's defaults TLS12..TLS13 */
    wc->max_version = 13;
    wc->prefer_server = true;
    pthread_mutex_init(&wc->cache_mu, NULL);
    if (doc.root != NULL && !(doc.root->kind == YN_SCALAR && ynode_is_null(doc.root))) {
        const struct ynode *m = doc.root;
        rc = dec_map(&d, m, "web.Config");
        for (size_t i = 0; rc == AR_OK && i < m->n; i++) {
            const struct ynode *k = ynode_key(m, i);
            const struct ynode *v = ynode_val(m, i);
            if (strcmp(k->value, "tls_server_config") == 0) {
                rc = decode_tls(&d, wc, v);
            } else if (strcmp(k->value, "http_server_config") == 0) {
                rc = decode_http(&d, wc, v);
            } else if (strcmp(k->value, "basic_auth_users") == 0) {
                rc = decode_users(&d, wc, v);
            } else {
                rc = dec_error(&d, k, "field %s not found in type web.Config", k->value);
            }
        }
    }
    if (rc == AR_OK && wc->has_tls) {
        rc = load_tls(&d, wc);
    }
    ydoc_cleanup(&doc);
    free(d.dir);
    if (rc != AR_OK) {
        web_config_unref(wc);
        return rc;
    }
    *out = wc;
    return AR_OK;
}

int web_config_load_file(const char *path, struct web_config **out, struct ar_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = read_file(path, &text, &len, err);
    if (rc != AR_OK) {
        return rc;
    }
    rc = web_config_load_string(text, len, path, out, err);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * basic auth */

static pthread_mutex_t bcrypt_mu = PTHREAD_MUTEX_INITIALIZER;
static struct crypt_data bcrypt_data; /* guarded by bcrypt_mu (32 KiB: not on a stack) */

static bool const_time_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = (unsigned char)(alen != blen);
    size_t n = alen < blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

bool web_config_bcrypt_verify(const char *hash, const char *password)
{
    const char *got;
    bool ok = false;

    if (!bcrypt_hash_valid(hash)) {
        return false;
    }
    /* COMPAT: upstream runs one bcrypt at a time (CPU-bound; bounds the cost of floods). */
    pthread_mutex_lock(&bcrypt_mu);
    got = crypt_r(password, hash, &bcrypt_data);
    if (got != NULL && got[0] != '*') {
        ok = const_time_eq(got, strlen(got), hash, strlen(hash));
    }
    explicit_bzero(&bcrypt_data, sizeof(bcrypt_data));
    pthread_mutex_unlock(&bcrypt_mu);
    return ok;
}

/* Go's base64.StdEncoding (padding required) into out (capacity cap); -1 on bad input. */
static long base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    size_t pad = 0;

    if (len % 4 != 0) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        const char *p;
        if (in[i] == '=') {
            if (i < len - 2) {
                return -1;
            }
            pad++;
            continue;
        }
        if (pad > 0 || (p = strchr(alphabet, in[i])) == NULL || in[i] == '\0') {
            return -1;
        }
        acc = (acc << 6) | (unsigned)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap) {
                return -1;
            }
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)n;
}

static void cache_digest(const char *user, const char *hash, const char *pass, size_t pass_len,
                         unsigned char digest[32])
{
    size_t ul = strlen(user);
    size_t hl = strlen(hash);
    size_t len = ul + 1 + hl + 1 + pass_len;
    char *msg = ar_malloc(len);

    memcpy(msg, user, ul + 1);
    memcpy(msg + ul + 1, hash, hl + 1);
    memcpy(msg + ul + 1 + hl + 1, pass, pass_len);
    gt.gnutls_hmac_fast(GNUTLS_MAC_SHA256, hmac_key, sizeof(hmac_key), msg, len, digest);
    wipe_free(msg, len);
}

bool web_config_check_basic_auth(struct web_config *wc, const char *authorization)
{
    unsigned char decoded[1024];
    unsigned char digest[32];
    const char *colon;
    const char *user_hash = FAKE_HASH;
    bool known = false;
    bool ok = false;
    bool use_cache;
    long n;
    char *user;
    char *pass;
    int64_t now;

    if (wc->nusers == 0) {
        return true;
    }
    /* COMPAT: Go's Request.BasicAuth: case-insensitive "Basic " prefix, StdEncoding, the
     * first ':' separates user and password. */
    if (authorization == NULL || strncasecmp(authorization, "Basic ", 6) != 0) {
        return false;
    }
    n = base64_decode(authorization + 6, strlen(authorization + 6), decoded, sizeof(decoded) - 1);
    if (n < 0) {
        return false;
    }
    decoded[n] = '\0';
    colon = memchr(decoded, ':', (size_t)n);
    if (colon == NULL || memchr(decoded, '\0', (size_t)n) != NULL) {
        explicit_bzero(decoded, sizeof(decoded));
        return false;
    }
    user = (char *)decoded;
    pass = (char *)colon + 1;
    *(char *)colon = '\0';
    for (size_t i = 0; i < wc->nusers; i++) {
        if (strcmp(wc->users[i].name, user) == 0) {
            user_hash = wc->users[i].hash;
            known = true;
            break;
        }
    }
    use_cache = known && web_config_tls_available(NULL) == AR_OK;
    now = clock_monotonic_ns();
    if (use_cache) {
        cache_digest(user, user_hash, pass, strlen(pass), digest);
        pthread_mutex_lock(&wc->cache_mu);
        for (size_t i = 0; i < WEB_CACHE_SIZE; i++) {
            if (wc->cache[i].expires_ns > now &&
                const_time_eq((const char *)wc->cache[i].digest, 32, (const char *)digest, 32)) {
                ok = true;
                break;
            }
        }
        pthread_mutex_unlock(&wc->cache_mu);
    }
    if (!ok) {
        ok = web_config_bcrypt_verify(user_hash, pass) && known;
        if (ok && use_cache) {
            pthread_mutex_lock(&wc->cache_mu);
            memcpy(wc->cache[wc->cache_next].digest, digest, 32);
            wc->cache[wc->cache_next].expires_ns = now + WEB_CACHE_TTL_NS;
            wc->cache_next = (wc->cache_next + 1) % WEB_CACHE_SIZE;
            pthread_mutex_unlock(&wc->cache_mu);
        }
    }
    explicit_bzero(decoded, sizeof(decoded));
    explicit_bzero(digest, sizeof(digest));
    return ok;
}

/* ---------------------------------------------------------------------------------------
 * TLS sessions */

static web_config_session_lookup session_lookup; /* set before any handshake */

static struct web_config *session_config(gnutls_session_t session)
{
    web_config_session_lookup fn = __atomic_load_n(&session_lookup, __ATOMIC_ACQUIRE);

    return fn ? fn(gt.gnutls_session_get_ptr(session)) : NULL;
}

/* The client_auth_type policy, run by GnuTLS after the client's Certificate message (also
 * when it sent none). Nonzero fails the handshake with a certificate alert. */
static int verify_client(gnutls_session_t session)
{
    struct web_config *wc = session_config(session);
    const gnutls_datum_t *peers;
    unsigned npeers = 0;
    gnutls_x509_crt_t chain[WEB_MAX_CHAIN];
    unsigned nchain = 0;
    unsigned status = 0;
    gnutls_typed_vdata_st purpose;
    int rc;

    if (wc == NULL) {
        return -1;
    }
    peers = gt.gnutls_certificate_get_peers(session, &npeers);
    if (peers == NULL || npeers == 0) {
        /* COMPAT: Go's "tls: client didn't provide a certificate" */
        return (wc->client_auth == WEB_CLIENT_AUTH_REQUIRE_ANY ||
                wc->client_auth == WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY)
                   ? -1
                   : 0;
    }
    if (wc->client_auth != WEB_CLIENT_AUTH_VERIFY_IF_GIVEN &&
        wc->client_auth != WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY) {
        return 0;
    }
    for (unsigned i = 0; i < npeers && i < WEB_MAX_CHAIN; i++) {
        if (gt.gnutls_x509_crt_init(&chain[nchain]) < 0) {
            break;
        }
        nchain++;
        if (gt.gnutls_x509_crt_import(chain[nchain - 1], &peers[i], GNUTLS_X509_FMT_DER) < 0) {
            status = GNUTLS_CERT_INVALID;
            break;
        }
    }
    if (status == 0 && nchain == 0) {
        status = GNUTLS_CERT_INVALID;
    }
    if (status == 0) {
        /* COMPAT: Go requires the client-auth extended key usage (when the certificate has
         * an EKU extension) */
        purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
        purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT;
        purpose.size = 0;
        rc = gt.gnutls_x509_trust_list_verify_crt2(wc->cas, chain, nchain, &purpose, 1, 0, &status,
                                                   NULL);
        if (rc < 0) {
            status = GNUTLS_CERT_INVALID;
        }
    }
    for (unsigned i = 0; i < nchain; i++) {
        gt.gnutls_x509_crt_deinit(chain[i]);
    }
    if (status != 0) {
        log_debug("http", "client certificate rejected (GnuTLS status 0x%x)", status);
        return -1;
    }
    return 0;
}

int web_config_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
                                 int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                                 int pk_algos_length, gnutls_pcert_st **pcert,
                                 unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    struct web_config *wc = session_config(session);

    if (wc == NULL || wc->npcerts == 0 || wc->key == NULL) {
        return -1;
    }
    *pcert = wc->pcerts;
    *pcert_length = wc->npcerts;
    *privkey = wc->key;
    return 0;
}

int web_config_tls_session_setup(struct web_config *wc, gnutls_session_t session,
                                 web_config_session_lookup lookup)
{
    const char *errpos = NULL;
    gnutls_certificate_request_t req = GNUTLS_CERT_IGNORE;

    if (web_config_tls_available(NULL) != AR_OK || !wc->has_tls) {
        return AR_EIO;
    }
    __atomic_store_n(&session_lookup, lookup, __ATOMIC_RELEASE);
    if (gt.gnutls_priority_set_direct(session, wc->priorities, &errpos) < 0) {
        return AR_EIO;
    }
    switch (wc->client_auth) {
    case WEB_CLIENT_AUTH_NONE:
        req = GNUTLS_CERT_IGNORE;
        break;
    case WEB_CLIENT_AUTH_REQUEST:
    case WEB_CLIENT_AUTH_VERIFY_IF_GIVEN:
        req = GNUTLS_CERT_REQUEST;
        break;
    case WEB_CLIENT_AUTH_REQUIRE_ANY:
    case WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY:
        req = GNUTLS_CERT_REQUIRE;
        break;
    }
    gt.gnutls_certificate_server_set_request(session, req);
    if (req != GNUTLS_CERT_IGNORE) {
        gt.gnutls_session_set_verify_function(session, verify_client);
    }
    return AR_OK;
}

/* ---------------------------------------------------------------------------------------
 * slot */

struct web_config_slot {
    pthread_mutex_t mu;
    struct web_config *wc; /* may be NULL */
};

struct web_config_slot *web_config_slot_new(struct web_config *wc_take)
{
    struct web_config_slot *slot = ar_calloc(1, sizeof(*slot));

    pthread_mutex_init(&slot->mu, NULL);
    slot->wc = wc_take;
    return slot;
}

void web_config_slot_free(struct web_config_slot *slot)
{
    if (slot == NULL) {
        return;
    }
    web_config_unref(slot->wc);
    pthread_mutex_destroy(&slot->mu);
    free(slot);
}

struct web_config *web_config_slot_get(struct web_config_slot *slot)
{
    struct web_config *wc;

    pthread_mutex_lock(&slot->mu);
    wc = slot->wc ? web_config_ref(slot->wc) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return wc;
}

void web_config_slot_set(struct web_config_slot *slot, struct web_config *wc_take)
{
    struct web_config *old;

    pthread_mutex_lock(&slot->mu);
    old = slot->wc;
    slot->wc = wc_take;
    pthread_mutex_unlock(&slot->mu);
    web_config_unref(old);
}

int web_config_slot_reload(struct web_config_slot *slot, const char *path, struct ar_error *err)
{
    struct web_config *wc = NULL;
    struct web_config *old;
    int rc = web_config_load_file(path, &wc, err);

    if (rc != AR_OK) {
        return rc;
    }
    pthread_mutex_lock(&slot->mu);
    old = slot->wc;
    if ((old != NULL && old->has_tls) != wc->has_tls) {
        pthread_mutex_unlock(&slot->mu);
        ar_error_set(err, "%s: %s TLS needs a restart; keeping the running web configuration", path,
                     wc->has_tls ? "enabling" : "disabling");
        web_config_unref(wc);
        return AR_EINVAL;
    }
    slot->wc = wc;
    pthread_mutex_unlock(&slot->mu);
    web_config_unref(old);
    return AR_OK;
}

static struct web_config_slot *default_slot;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_slot_free(void)
{
    web_config_slot_free(default_slot);
    default_slot = NULL;
}

static void default_slot_create(void)
{
    default_slot = web_config_slot_new(NULL);
    atexit(default_slot_free);
}

struct web_config_slot *web_config_slot_default(void)
{
    pthread_once(&default_once, default_slot_create);
    return default_slot;
}

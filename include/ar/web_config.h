/* The web configuration file (--web.config.file, COMPAT 11): the Prometheus
 * exporter-toolkit format shared by Alertmanager, Prometheus and the exporters:
 *
 *   tls_server_config:  {cert_file, key_file, client_auth_type, client_ca_file,
 *                        min_version, max_version, curve_preferences,
 *                        prefer_server_cipher_suites, cipher_suites}
 *   http_server_config: {http2, headers}
 *   basic_auth_users:   {name: bcrypt hash}
 *
 * A `struct web_config` is loaded and validated whole (YAML, header names and values,
 * bcrypt hash syntax, certificate, key and CA files) and is immutable afterwards except
 * for its small cache of successful basic-auth checks; it is refcounted so a connection or
 * request keeps the configuration it started with across a reload. A `struct web_config_slot`
 * holds the configuration in force and swaps it on reload, keeping the old one when the new
 * file is invalid.
 *
 * TLS runs on libmicrohttpd's GnuTLS backend. GnuTLS is not on our link line (only
 * libmicrohttpd is), so its functions are looked up at run time in the copy libmicrohttpd
 * already loaded; web_config_load_file() fails with a clear message when that is impossible.
 *
 * Cost: loading runs GnuTLS imports and no bcrypt; a basic-auth check costs one bcrypt run
 * (tens of ms at cost 10, serialised process-wide like upstream) unless the same
 * (user, password) succeeded within the last minute; the cache holds HMAC-SHA256 digests
 * under a random per-process key, never passwords. */
#ifndef AR_WEB_CONFIG_H
#define AR_WEB_CONFIG_H

#include "ar/common.h"

#include <gnutls/abstract.h> /* types only: functions are resolved at run time */
#include <gnutls/gnutls.h>

/* tls_server_config.client_auth_type, as Go's crypto/tls policies. */
enum web_client_auth {
    WEB_CLIENT_AUTH_NONE = 0,           /* NoClientCert (default) */
    WEB_CLIENT_AUTH_REQUEST,            /* RequestClientCert: asked for, never checked */
    WEB_CLIENT_AUTH_REQUIRE_ANY,        /* RequireAnyClientCert: required, not verified */
    WEB_CLIENT_AUTH_VERIFY_IF_GIVEN,    /* VerifyClientCertIfGiven */
    WEB_CLIENT_AUTH_REQUIRE_AND_VERIFY, /* RequireAndVerifyClientCert */
};

struct web_header {
    char *name;
    char *value;
};

struct web_config;

/* Reads and validates the file. Relative certificate paths are resolved against the
 * file's directory (as upstream). Errors are one sentence naming the file and line:
 * `web.yml:4: field foo not found in type web.TLSConfig`. Returns AR_OK, AR_EINVAL or
 * AR_EIO; *out (owned, refcount 1) is written only on success. */
int web_config_load_file(const char *path, struct web_config **out, struct ar_error *err);
/* Same from text; name is used in messages and its directory for relative paths. */
int web_config_load_string(const char *text, size_t len, const char *name, struct web_config **out,
                           struct ar_error *err);
struct web_config *web_config_ref(struct web_config *wc);
/* Accepts NULL. */
void web_config_unref(struct web_config *wc);

/* True when tls_server_config asks for TLS (upstream: any of cert_file, key_file,
 * client_auth_type, client_ca_file set). */
bool web_config_has_tls(const struct web_config *wc);
enum web_client_auth web_config_client_auth(const struct web_config *wc);
/* GnuTLS priority string for the configured versions/curves, e.g.
 * "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3:%SERVER_PRECEDENCE". Borrowed. */
const char *web_config_tls_priorities(const struct web_config *wc);
/* http_server_config.headers in file order (borrowed); *n receives the count. */
const struct web_header *web_config_headers(const struct web_config *wc, size_t *n);
bool web_config_has_users(const struct web_config *wc);

/* Checks an Authorization header value (may be NULL) against basic_auth_users: Go's
 * Request.BasicAuth parsing, bcrypt verification via libcrypt, constant-time comparison,
 * a fixed dummy hash for unknown users so timing does not reveal them. Returns true when
 * access is granted (always when no users are configured). Thread-safe. */
bool web_config_check_basic_auth(struct web_config *wc, const char *authorization);
/* Verifies one password against one bcrypt hash ($2a$/$2b$/$2y$); constant-time compare,
 * no cache. Exposed for tests. */
bool web_config_bcrypt_verify(const char *hash, const char *password);

/* --- TLS glue for http.c --- */

/* Maps the GnuTLS session's user pointer (libmicrohttpd sets it to the connection) to the
 * configuration the connection runs with (borrowed), or NULL. */
typedef struct web_config *(*web_config_session_lookup)(void *session_ptr);

/* Prepares a new server session before its handshake: priorities (TLS versions), the
 * client-certificate request mode and the verification callback of the client_auth_type
 * policy. lookup is remembered process-wide for the callbacks. Returns AR_OK or AR_EIO. */
int web_config_tls_session_setup(struct web_config *wc, gnutls_session_t session,
                                 web_config_session_lookup lookup);
/* The server certificate callback (a gnutls_certificate_retrieve_function2, passed as
 * MHD_OPTION_HTTPS_CERT_CALLBACK): serves the certificate chain and key of the session's
 * configuration (via the lookup), so a reload rotates them for new connections. The
 * returned objects stay owned by the configuration. */
int web_config_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
                                 int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                                 int pk_algos_length, gnutls_pcert_st **pcert,
                                 unsigned int *pcert_length, gnutls_privkey_t *privkey);
/* AR_OK when GnuTLS functions could be resolved; otherwise a message in err. */
int web_config_tls_available(struct ar_error *err);

/* --- the configuration in force --- */

struct web_config_slot;

/* A slot holding wc (ownership taken; may be NULL for "no web configuration"). */
struct web_config_slot *web_config_slot_new(struct web_config *wc_take);
/* Accepts NULL. */
void web_config_slot_free(struct web_config_slot *slot);
/* The configuration in force with a reference for the caller (unref it), or NULL. */
struct web_config *web_config_slot_get(struct web_config_slot *slot);
/* Puts wc (ownership taken; may be NULL) in force, releasing the previous one. */
void web_config_slot_set(struct web_config_slot *slot, struct web_config *wc_take);
/* Loads path and swaps it in. On error the running configuration stays and err says why;
 * switching TLS on or off is refused (listeners are HTTP or HTTPS for their lifetime). */
int web_config_slot_reload(struct web_config_slot *slot, const char *path, struct ar_error *err);
/* The daemon's process-wide slot (created empty on first use, freed at exit). */
struct web_config_slot *web_config_slot_default(void);

#endif

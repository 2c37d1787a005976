/* Implicit TLS for SMTP clients that only speak plain SMTP or STARTTLS (libesmtp): a
 * per-delivery relay. tls_relay_start opens the TLS connection to the server itself
 * (OpenSSL, verification configured by the caller's SSL_CTX), then listens on 127.0.0.1
 * port 0 and starts a thread that accepts exactly one connection — checked to come from a
 * socket of this process, so another local user cannot borrow the authenticated TLS session
 * — and copies bytes both ways until either side closes. The SMTP client is pointed at
 * tls_relay_address() and talks plain SMTP through it.
 *
 * Cost: one thread and three sockets per delivery while it lasts; email volume is small. */
#ifndef AR_TLS_RELAY_H
#define AR_TLS_RELAY_H

#include <openssl/ssl.h>

#include "ar/common.h"

struct tls_relay;

/* Connects to hostport ("host:port", "[v6]:port"), performs the TLS handshake with ctx
 * (borrowed; the caller keeps it alive until tls_relay_free) sending server_name as SNI
 * unless it is an IP address, and starts the relay. Connect and handshake are bounded by
 * timeout_ms, and so is the wait for the client's connection and each idle period of the
 * relay. On failure returns AR_EIO with Go's wording in err ("dial tcp ...: connect:
 * connection refused", "x509: certificate ..."), nothing left running. */
int tls_relay_start(SSL_CTX *ctx, const char *hostport, const char *server_name, long timeout_ms,
                    struct tls_relay **out, struct ar_error *err);
/* "127.0.0.1:<port>" of the listening side; borrowed, valid until tls_relay_free. */
const char *tls_relay_address(const struct tls_relay *r);
/* Stops the relay (wakes and joins its thread), closes everything. Accepts NULL. */
void tls_relay_free(struct tls_relay *r);

#endif

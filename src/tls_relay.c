/* Implicit-TLS relay for the email notifier (see include/ar/tls_relay.h).
 *
 * Lifecycle: tls_relay_start runs on the caller's thread: TCP connect (non-blocking, polled
 * against a deadline), TLS handshake (non-blocking, same deadline), listen on 127.0.0.1:0,
 * start the relay thread. The thread accepts connections until one comes from a socket of
 * this process (others are closed at once), closes the listener, then pumps bytes between
 * the plain socket and the TLS stream with non-blocking I/O and poll(2). It ends when either
 * side closes or fails, when nothing moves for timeout_ms, or when tls_relay_free writes to
 * the wake pipe. Only tls_relay_free releases resources, after joining the thread.
 *
 * Invariant: the relay never reads or logs what passes through it (credentials travel
 * there). */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar/clock.h"
#include "ar/tls_relay.h"

#define RELAY_BUF 16384

struct tls_relay {
    SSL *ssl;
    int tls_fd;    /* TCP connection to the server, carrying TLS */
    int listen_fd; /* 127.0.0.1:port, closed by the thread once a client is accepted */
    int wake[2];   /* tls_relay_free writes wake[1] */
    long timeout_ms;
    struct sockaddr_in listen_addr;
    char address[32];
    pthread_t thread;
    bool started;
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Milliseconds left until deadline_ns (monotonic), at least 0. */
static int left_ms(int64_t deadline_ns)
{
    int64_t d = (deadline_ns - clock_monotonic_ns()) / AR_NS_PER_MS;

    return d < 0 ? 0 : d > 600000 ? 600000 : (int)d;
}

static bool is_ip_literal(const char *s)
{
    unsigned char b[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* Splits "host:port" / "[v6]:port"; false when malformed. */
static bool split_hostport(const char *hp, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon = strrchr(hp, ':');
    size_t hl;

    if (colon == NULL || colon[1] == '\0') {
        return false;
    }
    hl = (size_t)(colon - hp);
    if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']') {
        hp++;
        hl -= 2;
    }
    if (hl >= hostsz || strlen(colon + 1) >= portsz) {
        return false;
    }
    memcpy(host, hp, hl);
    host[hl] = '\0';
    snprintf(port, portsz, "%s", colon + 1);
    return true;
}

/* TCP connect to hostport before the deadline: a connected non-blocking socket or -1 with
 * Go's "dial tcp" wording in err. */
static int dial(const char *hostport, int64_t deadline_ns, struct ar_error *err)
{
    char host[256];
    char port[16];
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    int last_errno = 0;
    int rc;
    int fd = -1;

    if (!split_hostport(hostport, host, sizeof(host), port, sizeof(port))) {
        ar_error_set(err, "dial tcp %s: address: missing port in address", hostport);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        ar_error_set(err, "dial tcp: lookup %s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        struct pollfd pfd;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        set_nonblock(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (errno != EINPROGRESS) {
            last_errno = errno;
            close_fd(&fd);
            continue;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        rc = poll(&pfd, 1, left_ms(deadline_ns));
        if (rc <= 0) {
            last_errno = rc == 0 ? ETIMEDOUT : errno;
            close_fd(&fd);
            continue;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            last_errno = soerr != 0 ? soerr : errno;
            close_fd(&fd);
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        char why[128];

        /* COMPAT: Go's syscall errors are lowercase ("connection refused") */
        snprintf(why, sizeof(why), "%s",
                 last_errno == ETIMEDOUT ? "i/o timeout" : strerror(last_errno));
        if (why[0] >= 'A' && why[0] <= 'Z') {
            why[0] = (char)(why[0] - 'A' + 'a');
        }
        ar_error_set(err, "dial tcp %s: connect: %s", hostport, why);
    }
    return fd;
}

/* Non-blocking handshake polled against the deadline. */
static int handshake(SSL *ssl, int fd, int64_t deadline_ns, struct ar_error *err)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd};
        int r = SSL_connect(ssl);
        int e;

        if (r == 1) {
            return AR_OK;
        }
        e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            pfd.events = POLLIN;
        } else if (e == SSL_ERROR_WANT_WRITE) {
            pfd.events = POLLOUT;
        } else {
            long vr = SSL_get_verify_result(ssl);
            unsigned long le = ERR_peek_last_error();
            char msg[256];

            if (vr != X509_V_OK) {
                /* COMPAT: Go's errors start with "x509: " */
                ar_error_set(err, "x509: certificate verification failed: %s",
                             X509_verify_cert_error_string(vr));
            } else if (le != 0) {
                ERR_error_string_n(le, msg, sizeof(msg));
                ar_error_set(err, "tls: handshake failed: %s", msg);
            } else {
                ar_error_set(err, "tls: handshake failed: connection closed");
            }
            ERR_clear_error();
            return AR_EIO;
        }
        r = poll(&pfd, 1, left_ms(deadline_ns));
        if (r == 0) {
            ar_error_set(err, "tls: handshake: i/o timeout");
            return AR_EIO;
        }
        if (r < 0 && errno != EINTR) {
            ar_error_set(err, "tls: handshake: %s", strerror(errno));
            return AR_EIO;
        }
    }
}

static bool same_in(const struct sockaddr_storage *a, const struct sockaddr_in *b)
{
    const struct sockaddr_in *x = (const struct sockaddr_in *)a;

    return a->ss_family == AF_INET && x->sin_port == b->sin_port &&
           x->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* True when peer is the local end of a socket of this process connected to our listener:
 * scans /proc/self/fd (a handful of descriptors in this daemon). Fails closed. */
static bool peer_is_ours(const struct tls_relay *r, const struct sockaddr_in *peer)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    bool found = false;

    if (d == NULL) {
        return false;
    }
    while (!found && (de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct stat st;
        struct sockaddr_storage a;
        socklen_t al = sizeof(a);

        if (*end != '\0' || end == de->d_name || fd == dirfd(d)) {
            continue;
        }
        if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        if (getsockname((int)fd, (struct sockaddr *)&a, &al) != 0 || !same_in(&a, peer)) {
            continue;
        }
        al = sizeof(a);
        if (getpeername((int)fd, (struct sockaddr *)&a, &al) == 0 && same_in(&a, &r->listen_addr)) {
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* Waits for the client's connection; -1 on timeout, wake-up or error. */
static int accept_ours(struct tls_relay *r)
{
    int64_t deadline = clock_monotonic_ns() + (int64_t)r->timeout_ms * AR_NS_PER_MS;

    for (;;) {
        struct pollfd p[2] = {{.fd = r->listen_fd, .events = POLLIN},
                              {.fd = r->wake[0], .events = POLLIN}};
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        int c;
        int rc = poll(p, 2, left_ms(deadline));

        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc <= 0 || (p[1].revents & POLLIN) != 0) {
            return -1;
        }
        c = accept4(r->listen_fd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return -1;
        }
        if (pl == sizeof(peer) && peer.sin_family == AF_INET && peer_is_ours(r, &peer)) {
            return c;
        }
        close(c); /* not our client: it never sees the TLS session */
    }
}

static void pump(struct tls_relay *r, int plain)
{
    char *p2t = malloc(RELAY_BUF); /* plain -> TLS */
    char *t2p = malloc(RELAY_BUF); /* TLS -> plain */
    size_t p2t_len = 0, p2t_off = 0, t2p_len = 0, t2p_off = 0;
    bool tls_eof = false;

    if (p2t == NULL || t2p == NULL) {
        goto out;
    }
    for (;;) {
        short ev_plain = 0;
        short ev_tls = 0;
        bool progress = false;
        struct pollfd p[3];
        int rc;

        /* server -> client */
        if (t2p_len == 0 && !tls_eof) {
            int n = SSL_read(r->ssl, t2p, RELAY_BUF);

            if (n > 0) {
                t2p_len = (size_t)n;
                t2p_off = 0;
                progress = true;
            } else {
                int e = SSL_get_error(r->ssl, n);

                if (e == SSL_ERROR_WANT_READ) {
                    ev_tls |= POLLIN;
                } else if (e == SSL_ERROR_WANT_WRITE) {
                    ev_tls |= POLLOUT;
                } else {
                    tls_eof = true;
                }
            }
        }
        if (t2p_off < t2p_len) {
            ssize_t w = send(plain, t2p + t2p_off, t2p_len - t2p_off, MSG_NOSIGNAL);

            if (w > 0) {
                t2p_off += (size_t)w;
                if (t2p_off == t2p_len) {
                    t2p_len = t2p_off = 0;
                }
                progress = true;
            } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                ev_plain |= POLLOUT;
            } else {
                goto out;
            }
        } else if (tls_eof) {
            goto out; /* the server closed and everything it sent was passed on */
        }
        /* client -> server */
        if (p2t_len == 0) {
            ssize_t n = recv(plain, p2t, RELAY_BUF, 0);

            if (n > 0) {
                p2t_len = (size_t)n;
                p2t_off = 0;
                progress = true;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                ev_plain |= POLLIN;
            } else {
                SSL_shutdown(r->ssl); /* the client hung up (after QUIT) */
                goto out;
            }
        }
        if (p2t_off < p2t_len) {
            int w = SSL_write(r->ssl, p2t + p2t_off, (int)(p2t_len - p2t_off));

            if (w > 0) {
                p2t_off += (size_t)w;
                if (p2t_off == p2t_len) {
                    p2t_len = p2t_off = 0;
                }
                progress = true;
            } else {
                int e = SSL_get_error(r->ssl, w);

                if (e == SSL_ERROR_WANT_READ) {
                    ev_tls |= POLLIN;
                } else if (e == SSL_ERROR_WANT_WRITE) {
                    ev_tls |= POLLOUT;
                } else {
                    goto out;
                }
            }
        }
        if (progress || SSL_pending(r->ssl) > 0) {
            continue;
        }
        p[0] = (struct pollfd){.fd = plain, .events = ev_plain};
        p[1] = (struct pollfd){.fd = r->tls_fd, .events = ev_tls};
        p[2] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
        rc = poll(p, 3, (int)r->timeout_ms);
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc <= 0 || (p[2].revents & POLLIN) != 0) {
            goto out; /* idle for timeout_ms, or stopped */
        }
    }
out:
    free(p2t);
    free(t2p);
}

static void *relay_main(void *arg)
{
    struct tls_relay *r = arg;
    int plain = accept_ours(r);

    close_fd(&r->listen_fd); /* exactly one client */
    if (plain >= 0) {
        set_nonblock(plain);
        pump(r, plain);
        close(plain);
    }
    return NULL;
}

int tls_relay_start(SSL_CTX *ctx, const char *hostport, const char *server_name, long timeout_ms,
                    struct tls_relay **out, struct ar_error *err)
{
    struct tls_relay *r = ar_calloc(1, sizeof(*r));
    int64_t deadline = clock_monotonic_ns() + (int64_t)timeout_ms * AR_NS_PER_MS;
    socklen_t al = sizeof(r->listen_addr);

    r->tls_fd = r->listen_fd = r->wake[0] = r->wake[1] = -1;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    r->tls_fd = dial(hostport, deadline, err);
    if (r->tls_fd < 0) {
        goto fail;
    }
    r->ssl = SSL_new(ctx);
    if (r->ssl == NULL || SSL_set_fd(r->ssl, r->tls_fd) != 1) {
        ar_error_set(err, "tls: cannot create TLS session");
        goto fail;
    }
    SSL_set_mode(r->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (server_name != NULL && server_name[0] != '\0' && !is_ip_literal(server_name)) {
        SSL_set_tlsext_host_name(r->ssl, server_name); /* COMPAT: Go sends no SNI for IPs */
    }
    if (handshake(r->ssl, r->tls_fd, deadline, err) != AR_OK) {
        goto fail;
    }
    if (pipe2(r->wake, O_CLOEXEC) != 0) {
        ar_error_set(err, "tls relay: pipe: %s", strerror(errno));
        goto fail;
    }
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    r->listen_addr.sin_family = AF_INET;
    r->listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->listen_addr.sin_port = 0;
    if (r->listen_fd < 0 ||
        bind(r->listen_fd, (struct sockaddr *)&r->listen_addr, sizeof(r->listen_addr)) != 0 ||
        listen(r->listen_fd, 1) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&r->listen_addr, &al) != 0) {
        ar_error_set(err, "tls relay: listen on 127.0.0.1: %s", strerror(errno));
        goto fail;
    }
    snprintf(r->address, sizeof(r->address), "127.0.0.1:%u", ntohs(r->listen_addr.sin_port));
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        ar_error_set(err, "tls relay: cannot start thread");
        goto fail;
    }
    r->started = true;
    *out = r;
    return AR_OK;
fail:
    tls_relay_free(r);
    return AR_EIO;
}

const char *tls_relay_address(const struct tls_relay *r)
{
    return r->address;
}

void tls_relay_free(struct tls_relay *r)
{
    if (r == NULL) {
        return;
    }
    if (r->started) {
        ssize_t w;

        do {
            w = write(r->wake[1], "x", 1);
        } while (w < 0 && errno == EINTR);
        pthread_join(r->thread, NULL);
    }
    SSL_free(r->ssl); /* accepts NULL */
    close_fd(&r->tls_fd);
    close_fd(&r->listen_fd);
    close_fd(&r->wake[0]);
    close_fd(&r->wake[1]);
    free(r);
}

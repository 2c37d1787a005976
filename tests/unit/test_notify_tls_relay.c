/* Implicit-TLS relay of the email notifier (tls_relay.c) against a small OpenSSL echo server
 * on 127.0.0.1 using the test certificate for alert.test (tests/data/notify/tls): bytes pass
 * both ways through the loopback side; a connection from another process (a forked child
 * connecting first) is refused and never sees the TLS session; certificate name mismatch and
 * connection refused give Go's wording. Run from tests/data. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ar/tls_relay.h"
#include "check.h"

struct echo_server {
    int fd;
    int port;
    SSL_CTX *ctx;
    pthread_t thread;
};

/* Accepts one TLS client and answers each read with "echo:" + the bytes, until EOF. */
static void *echo_main(void *arg)
{
    struct echo_server *es = arg;
    int c = accept(es->fd, NULL, NULL);
    SSL *ssl;
    char buf[256];
    char out[300];

    if (c < 0) {
        return NULL;
    }
    ssl = SSL_new(es->ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
        SSL_write(ssl, "220 hello\r\n", 11);
        for (;;) {
            int n = SSL_read(ssl, buf, sizeof(buf));

            if (n <= 0) {
                break;
            }
            snprintf(out, sizeof(out), "echo:%.*s", n, buf);
            SSL_write(ssl, out, (int)strlen(out));
        }
    }
    SSL_free(ssl);
    close(c);
    return NULL;
}

static bool echo_start(struct echo_server *es)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);

    es->ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(es->ctx, "notify/tls/server.pem") != 1 ||
        SSL_CTX_use_PrivateKey_file(es->ctx, "notify/tls/server.key", SSL_FILETYPE_PEM) != 1) {
        return false;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    es->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(es->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(es->fd, 4) != 0 ||
        getsockname(es->fd, (struct sockaddr *)&a, &al) != 0) {
        return false;
    }
    es->port = ntohs(a.sin_port);
    return pthread_create(&es->thread, NULL, echo_main, es) == 0;
}

static void echo_stop(struct echo_server *es)
{
    pthread_join(es->thread, NULL);
    close(es->fd);
    SSL_CTX_free(es->ctx);
}

static SSL_CTX *client_ctx(const char *name)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_load_verify_locations(ctx, "notify/tls/ca.pem", NULL);
    X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), name, 0);
    return ctx;
}

static int connect_to(const char *address)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    const char *colon = strrchr(address, ':');

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static size_t read_some(int fd, char *buf, size_t sz)
{
    struct timeval tv = {5, 0};
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = recv(fd, buf, sz - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

static void test_relay(void)
{
    struct echo_server es;
    SSL_CTX *ctx = client_ctx("alert.test");
    struct tls_relay *r = NULL;
    struct ar_error err = {{0}};
    char hp[64];
    char buf[256];
    int pipefd[2];
    pid_t child;
    int fd;

    CHECK(echo_start(&es));
    snprintf(hp, sizeof(hp), "127.0.0.1:%d", es.port);
    CHECK_INT(tls_relay_start(ctx, hp, "alert.test", 3000, &r, &err), AR_OK);
    if (r == NULL) {
        fprintf(stderr, "relay: %s\n", err.msg);
        SSL_CTX_free(ctx);
        return;
    }
    CHECK(strncmp(tls_relay_address(r), "127.0.0.1:", 10) == 0);

    /* another process connects first: refused, it reads nothing of the session */
    CHECK(pipe(pipefd) == 0);
    child = fork();
    if (child == 0) {
        int c = connect_to(tls_relay_address(r));
        char b[64];
        char verdict = c >= 0 && read_some(c, b, sizeof(b)) == 0 ? 'y' : 'n';

        if (write(pipefd[1], &verdict, 1) != 1) {
            _exit(2);
        }
        _exit(0);
    }
    {
        char verdict = 0;

        CHECK(read(pipefd[0], &verdict, 1) == 1);
        CHECK(verdict == 'y'); /* connected, then closed without data */
        waitpid(child, NULL, 0);
        close(pipefd[0]);
        close(pipefd[1]);
    }

    /* our own connection gets the server's bytes and its answers */
    fd = connect_to(tls_relay_address(r));
    CHECK(fd >= 0);
    read_some(fd, buf, sizeof(buf));
    CHECK_STR(buf, "220 hello\r\n");
    CHECK(send(fd, "EHLO x\r\n", 8, 0) == 8);
    read_some(fd, buf, sizeof(buf));
    CHECK_STR(buf, "echo:EHLO x\r\n");
    close(fd);
    tls_relay_free(r);
    echo_stop(&es);
    SSL_CTX_free(ctx);
}

static void test_errors(void)
{
    struct echo_server es;
    SSL_CTX *ctx = client_ctx("other.test");
    struct tls_relay *r = NULL;
    struct ar_error err = {{0}};
    char hp[64];

    CHECK(echo_start(&es));
    snprintf(hp, sizeof(hp), "127.0.0.1:%d", es.port);
    CHECK_INT(tls_relay_start(ctx, hp, "other.test", 3000, &r, &err), AR_EIO);
    CHECK(r == NULL);
    CHECK(strncmp(err.msg, "x509: certificate verification failed", 37) == 0);
    echo_stop(&es);

    CHECK_INT(tls_relay_start(ctx, "127.0.0.1:1", "other.test", 3000, &r, &err), AR_EIO);
    CHECK_STR(err.msg, "dial tcp 127.0.0.1:1: connect: connection refused");
    SSL_CTX_free(ctx);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_relay();
    test_errors();
    return CHECK_DONE();
}

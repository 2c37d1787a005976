/* libmicrohttpd glue (ar/http.h). HTTP_THREADS epoll threads serve every connection. Per
 * request a `struct conn_ctx` accumulates the upload; when the upload is complete the handler
 * runs once and the response is queued, or the handler defers it (http_defer: the connection
 * is suspended until http_deferred_finish resumes it from another thread, e.g. after a
 * commit). Bodies over max_body_bytes are drained and discarded, not buffered; framing that
 * RFC 9112 refuses (framing_refused) is answered before any body is read. Connection
 * deadlines and eviction live in http_guard.c; a graceful stop lets started requests finish.
 *
 * Web configuration: on the first call for a request the configuration in force is
 * referenced into the conn_ctx; basic auth is decided there, before any body is read (a
 * refused request gets upstream's 401 at once), and its headers are added to the response.
 * For HTTPS, MHD's connection-start notification (which runs before the handshake, in the
 * accepting thread) references the configuration into a `struct tls_conn` socket context
 * and prepares the GnuTLS session from it; the certificate and verification callbacks find
 * it again through the session's pointer (the MHD connection). */
#include "ar/http.h"

#include "ar/clock.h"
#include "ar/http_metrics.h"
#include "ar/labels.h"
#include "ar/log.h"
#include "ar/web_config.h"
#include "http_guard.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler handler;
    void *ctx;
    struct http_options opt;
    unsigned port;
    bool tls;
    struct http_guard *guard; /* connection deadlines; NULL if it could not start */
    int requests;             /* requests between their first call and completion (atomic) */
    bool stopping;            /* http_server_stop began: new requests get 503 (atomic) */
};

#define STOP_GRACE_NS (10LL * AR_NS_PER_SEC) /* in-flight requests may finish within this */
/* Threads serving all connections (epoll each); a request that waits for its commit is
 * suspended (http_defer), so this does not grow with connections or load. */
#define HTTP_THREADS 4
/* Connection deadlines (http_guard.c): headers within 10 s of the request line (or
 * --web.read-timeout if shorter), bodies still uploading after 5 s at 1 KiB/s at least, and room
 * for this many connections beyond --web.max-connections, each of which evicts an idle or slow one.
 */
#define HEADER_DEADLINE_NS (10LL * AR_NS_PER_SEC)
#define MIN_BODY_RATE      1024
#define CONNECTION_SLACK   64u
/* libmicrohttpd's buffer per connection (headers and read buffer; bodies are copied out as
 * they arrive): 16 KiB instead of its 32, so 5,000 idle keep-alive connections cost ~90 MiB
 * less (docs/benchmarks.md). Request headers may take ~12 KiB of it. */
#define CONNECTION_MEMORY (16u * 1024u)

struct conn_ctx {
    struct buf body;
    bool too_large;
    bool is_get;            /* counted in the in-flight GET gauge until completion */
    int64_t start_ns;       /* monotonic, at the request's first call (headers read) */
    struct web_config *web; /* referenced at the request's first call; may be NULL */
    /* A deferred response (http_defer): the connection is suspended; resp holds what the
     * handler set before deferring (headers, route), the finisher adds the rest. */
    struct MHD_Connection *conn;
    bool deferred;
    pthread_mutex_t mu; /* the fields below, and the handoff of resp */
    bool finished;      /* http_deferred_finish ran; the connection was resumed */
    struct http_response resp;
};

/* The struct http_deferred handed to a handler is its request's conn_ctx. */
struct http_deferred {
    struct conn_ctx cc;
};

/* Socket context of an HTTPS connection. */
/* Socket context of every connection: its deadlines, and for HTTPS its configuration. */
struct sock_ctx {
    struct guard_conn *guard; /* http_guard.c */
    struct web_config *web;   /* HTTPS: referenced at accept; the handshake uses it */
};

static struct guard_conn *guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const struct sock_ctx *sc = ci ? ci->socket_context : NULL;

    return sc ? sc->guard : NULL;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

void http_request_basic_user(const struct http_request *req, char *out, size_t outsz)
{
    const char *authorization = http_request_header(req, "Authorization");
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    out[0] = '\0';
    if (authorization == NULL || strncasecmp(authorization, "Basic ", 6) != 0) {
        return;
    }
    /* decode only up to the ':' that ends the user name */
    for (const char *p = authorization + 6; *p != '\0' && *p != '='; p++) {
        int v = b64val(*p);
        if (v < 0) {
            break;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            char c;
            bits -= 8;
            c = (char)((acc >> bits) & 0xff);
            if (c == ':' || o + 1 >= outsz) {
                break;
            }
            out[o++] = c;
        }
    }
    out[o] = '\0';
    if (!utf8_is_valid(out, o)) {
        snprintf(out, outsz, "<invalid>");
    }
}

const char *http_request_param(const struct http_request *req, const char *key)
{
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, key) == 0) {
            return req->params[i].value;
        }
    }
    return NULL;
}

void http_response_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders < AR_ARRAY_LEN(resp->headers)) {
        resp->headers[resp->nheaders].name = ar_strdup(name);
        resp->headers[resp->nheaders].value = ar_strdup(value);
        resp->nheaders++;
    }
}

struct param_collect {
    struct http_param *v;
    size_t n;
    size_t cap;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct param_collect *pc = cls;

    if (pc->n == pc->cap) {
        pc->cap = pc->cap ? pc->cap * 2 : 8;
        pc->v = ar_realloc(pc->v, pc->cap * sizeof(*pc->v));
    }
    pc->v[pc->n].key = key;
    pc->v[pc->n].value = value ? value : "";
    pc->n++;
    return MHD_YES;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(out, cap, "unknown");
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    if (ci->client_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  out, (socklen_t)cap);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, out,
                  (socklen_t)cap);
    }
}

struct stream_ctx {
    http_stream_fn fn;
    void *cls;
    void (*free_fn)(void *cls);
    /* a streamed response is observed when it ends, with every byte produced */
    struct http_metrics *metrics;
    int route;
    enum http_method_label method;
    int64_t start_ns;
    uint64_t bytes;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_ctx *sc = cls;
    size_t n = sc->fn(sc->cls, buf, max);

    sc->bytes += n;
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_done(void *cls)
{
    struct stream_ctx *sc = cls;

    http_metrics_observe(sc->metrics, sc->route, sc->method, clock_monotonic_ns() - sc->start_ns,
                         sc->bytes);
    if (sc->free_fn != NULL) {
        sc->free_fn(sc->cls);
    }
    free(sc);
}

/* http_server_config.headers; a header the handler set itself wins. */
static void add_web_headers(struct MHD_Response *r, const struct web_config *web)
{
    const struct web_header *h;
    size_t n = 0;

    if (web == NULL) {
        return;
    }
    h = web_config_headers(web, &n);
    for (size_t i = 0; i < n; i++) {
        if (MHD_get_response_header(r, h[i].name) == NULL) {
            MHD_add_response_header(r, h[i].name, h[i].value);
        }
    }
}

/* COMPAT: exporter-toolkit answers a failed basic auth with Go's http.Error: status 401,
 * "Unauthorized\n", text/plain, nosniff, and the challenge (no realm). The configured
 * headers are set before the check upstream, so they are on this response too. */
static enum MHD_Result queue_unauthorized(struct MHD_Connection *conn, const struct web_config *web)
{
    static const char body[] = "Unauthorized\n";
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic");
    add_web_headers(r, web);
    ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- request framing (RFC 9112 section 6), checked once the headers are in ---- */

struct framing {
    int ncl;             /* Content-Length headers */
    bool cl_conflict;    /* two of them disagree */
    const char *cl;      /* the first */
    bool te;             /* a Transfer-Encoding header */
    bool te_unsupported; /* other than exactly "chunked" (MHD decodes only that) */
};

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->ncl++ == 0) {
            f->cl = value;
        } else if (strcmp(f->cl, value) != 0) {
            f->cl_conflict = true;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->te_unsupported = f->te_unsupported || f->te || strcasecmp(value, "chunked") != 0;
        f->te = true;
    }
    return MHD_YES;
}

/* A plain-text answer that closes the connection, as Go's server writes its own errors. */
static enum MHD_Result queue_close(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* COMPAT: Go's server answers a transfer coding it does not implement with 501 and
 * conflicting Content-Length headers with 400, before any body is read; a declared body
 * larger than --api.max-body-bytes gets 413 at once (never "100 Continue"). True when the
 * request was refused (*ret: the result of queueing the answer). */
static bool framing_refused(struct http_server *s, struct MHD_Connection *conn,
                            enum MHD_Result *ret)
{
    struct framing f = {0};

    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_framing, &f);
    if (f.te_unsupported) {
        log_debug("http", "refused: unsupported Transfer-Encoding");
        *ret = queue_close(conn, MHD_HTTP_NOT_IMPLEMENTED, "Unsupported transfer encoding");
        return true;
    }
    if (f.cl_conflict) {
        log_debug("http", "refused: conflicting Content-Length headers");
        *ret = queue_close(conn, MHD_HTTP_BAD_REQUEST, "400 Bad Request");
        return true;
    }
    if (f.cl != NULL && s->opt.max_body_bytes > 0) {
        char *end = NULL;
        unsigned long long n = strtoull(f.cl, &end, 10);
        if (end != f.cl && n > (unsigned long long)s->opt.max_body_bytes) {
            static const char body[] = "{\"code\":413,\"message\":\"request body too large\"}";
            struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
                                                                     MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
            log_warn("http", "refused a declared body of %llu bytes (--api.max-body-bytes=%zu)", n,
                     s->opt.max_body_bytes);
            *ret = MHD_queue_response(conn, MHD_HTTP_CONTENT_TOO_LARGE, r);
            MHD_destroy_response(r);
            return true;
        }
    }
    return false;
}

/* Queues resp (taking its body, headers and stream) on the connection. */
static enum MHD_Result queue_resp(struct http_server *s, struct MHD_Connection *conn,
                                  struct conn_ctx *cc, const char *method,
                                  struct http_response *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    uint64_t body_bytes = 0;

    if (resp->stream != NULL) {
        struct stream_ctx *sc = ar_malloc(sizeof(*sc));
        sc->fn = resp->stream;
        sc->cls = resp->stream_cls;
        sc->free_fn = resp->stream_free;
        sc->metrics = resp->route > 0 ? s->opt.metrics : NULL;
        sc->route = resp->route;
        sc->method = http_method_label_of(method);
        sc->start_ns = cc->start_ns;
        sc->bytes = 0;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, stream_reader, sc,
                                              stream_done);
        buf_cleanup(&resp->body);
    } else {
        body_bytes = resp->body.len;
        r = MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : "",
                                            resp->body.data ? MHD_RESPMEM_MUST_FREE
                                                            : MHD_RESPMEM_PERSISTENT);
        resp->body.data = NULL; /* now owned by MHD */
    }
    if (resp->content_type != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    }
    for (size_t i = 0; i < resp->nheaders; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    resp->nheaders = 0;
    add_web_headers(r, cc->web);
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    if (resp->stream == NULL && resp->route > 0) {
        http_metrics_observe(s->opt.metrics, resp->route, http_method_label_of(method),
                             clock_monotonic_ns() - cc->start_ns, body_bytes);
    }
    return ret;
}

struct http_deferred *http_defer(const struct http_request *req, struct http_response *resp)
{
    struct conn_ctx *cc = req->cc;

    /* suspended before the work starts, so a finish that comes at once finds it so */
    cc->deferred = true;
    resp->deferred = true;
    MHD_suspend_connection(cc->conn);
    return (struct http_deferred *)cc;
}

void http_deferred_finish(struct http_deferred *d, int status, const char *content_type,
                          struct buf *body)
{
    struct conn_ctx *cc = &d->cc;

    pthread_mutex_lock(&cc->mu);
    cc->resp.status = status;
    cc->resp.content_type = content_type;
    if (body != NULL) {
        buf_cleanup(&cc->resp.body);
        cc->resp.body = *body;
        buf_init(body, 0);
    }
    cc->finished = true;
    pthread_mutex_unlock(&cc->mu);
    MHD_resume_connection(cc->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_ctx *cc = *con_cls;
    struct http_request req;
    struct http_response resp;
    struct param_collect pc = {0};
    char client[64];
    enum MHD_Result ret;

    if (cc == NULL) {
        if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
            /* a new request on a kept-alive connection during a graceful stop */
            return queue_close(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
        }
        __atomic_add_fetch(&s->requests, 1, __ATOMIC_ACQ_REL);
        cc = ar_calloc(1, sizeof(*cc));
        buf_init(&cc->body, s->opt.max_body_bytes);
        pthread_mutex_init(&cc->mu, NULL);
        cc->conn = conn;
        *con_cls = cc;
        /* COMPAT: the clock starts before the body is read, as a Go handler reads it */
        cc->start_ns = clock_monotonic_ns();
        if (s->opt.metrics != NULL && strcmp(method, "GET") == 0) {
            cc->is_get = true;
            http_metrics_in_flight_add(s->opt.metrics, 1);
        }
        if (s->opt.web != NULL) {
            cc->web = web_config_slot_get(s->opt.web);
        }
        if (cc->web != NULL &&
            !web_config_check_basic_auth(
                cc->web, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION))) {
            return queue_unauthorized(conn, cc->web);
        }
        if (framing_refused(s, conn, &ret)) {
            return ret;
        }
        http_guard_headers_done(s->guard, guard_of(conn));
        return MHD_YES;
    }
    if (cc->deferred) {
        /* resumed: the deferred response is complete */
        pthread_mutex_lock(&cc->mu);
        if (!cc->finished) {
            pthread_mutex_unlock(&cc->mu);
            return MHD_YES; /* not ours to answer yet (cannot happen: resumed by the finish) */
        }
        pthread_mutex_unlock(&cc->mu);
        cc->deferred = false;
        return queue_resp(s, conn, cc, method, &cc->resp);
    }
    if (*upload_data_size > 0) {
        http_guard_body(s->guard, guard_of(conn), *upload_data_size);
        if (!cc->too_large && buf_append(&cc->body, upload_data, *upload_data_size) != AR_OK) {
            cc->too_large = true;
            buf_cleanup(&cc->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_guard_busy(s->guard, guard_of(conn));
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &pc);
    client_address(conn, client, sizeof(client));
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.client = client;
    req.body = buf_str(&cc->body);
    req.body_len = cc->body.len;
    req.body_too_large = cc->too_large;
    req.params = pc.v;
    req.nparams = pc.n;
    req.conn = conn;
    req.cc = cc;
    memset(&resp, 0, sizeof(resp));
    resp.status = 500;
    buf_init(&resp.body, 0);
    s->handler(s->ctx, &req, &resp);
    free(pc.v);
    if (resp.deferred) {
        /* Keep what the handler set so far (headers, route) for when the finish comes; the
         * finisher fills status, type and body under the same lock, so the order of the two
         * does not matter. The request's body may go now. */
        pthread_mutex_lock(&cc->mu);
        {
            struct buf body = cc->resp.body;
            int status = cc->resp.status;
            const char *type = cc->resp.content_type;
            buf_cleanup(&resp.body);
            cc->resp = resp;
            if (cc->finished) {
                cc->resp.body = body;
                cc->resp.status = status;
                cc->resp.content_type = type;
            } else {
                buf_init(&cc->resp.body, 0);
            }
        }
        pthread_mutex_unlock(&cc->mu);
        buf_cleanup(&cc->body);
        return MHD_YES;
    }
    return queue_resp(s, conn, cc, method, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct conn_ctx *cc = *con_cls;

    http_guard_idle(s->guard, guard_of(conn));
    if (cc != NULL) {
        __atomic_sub_fetch(&s->requests, 1, __ATOMIC_ACQ_REL);
        if (cc->is_get) {
            http_metrics_in_flight_add(s->opt.metrics, -1);
        }
        buf_cleanup(&cc->body);
        buf_cleanup(&cc->resp.body);
        for (size_t i = 0; i < cc->resp.nheaders; i++) {
            free(cc->resp.headers[i].name);
            free(cc->resp.headers[i].value);
        }
        pthread_mutex_destroy(&cc->mu);
        web_config_unref(cc->web);
        free(cc);
        *con_cls = NULL;
    }
}

/* web_config_session_lookup: the GnuTLS session pointer is the MHD connection. */
static struct web_config *tls_lookup(void *session_ptr)
{
    const union MHD_ConnectionInfo *ci;
    const struct sock_ctx *tc;

    if (session_ptr == NULL) {
        return NULL;
    }
    ci = MHD_get_connection_info((struct MHD_Connection *)session_ptr,
                                 MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    tc = ci ? ci->socket_context : NULL;
    return tc ? tc->web : NULL;
}

/* MHD's messages on HTTPS listeners are mostly about clients failing handshakes: debug. */
/* libmicrohttpd's fatal errors abort the process; say which one first, in the log. */
static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    log_error("http", "libmicrohttpd fatal error at %s:%u: %s", file ? file : "?", line,
              reason ? reason : "?");
    abort();
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.')) {
        msg[--n] = '\0';
    }
    log_debug("http", "libmicrohttpd: %s", msg);
}

/* Runs in the accepting thread when a connection starts (for HTTPS right after MHD created
 * the TLS session, before the handshake) and when it is closed (before its socket is). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    struct sock_ctx *tc = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (tc != NULL) {
            http_guard_close(s->guard, tc->guard);
            web_config_unref(tc->web);
            free(tc);
            *socket_context = NULL;
        }
        return;
    }
    tc = ar_calloc(1, sizeof(*tc));
    *socket_context = tc;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (s->guard != NULL && ci != NULL) {
        const union MHD_ConnectionInfo *peer =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        tc->guard =
            http_guard_open(s->guard, ci->connect_fd, peer != NULL ? peer->client_addr : NULL);
    }
    if (!s->tls) {
        return;
    }
    tc->web = web_config_slot_get(s->opt.web);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (tc->web == NULL || ci == NULL || ci->tls_session == NULL ||
        web_config_tls_session_setup(tc->web, ci->tls_session, tls_lookup) != AR_OK) {
        /* without a configuration the certificate callback fails the handshake */
        log_error("http", "cannot prepare a TLS session; refusing the connection");
        web_config_unref(tc->web);
        tc->web = NULL;
    }
}

/* MHD's URI logger runs once a request line is in: the headers' deadline starts. Its
 * result becomes the request's *con_cls, which must start NULL. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *s = cls;

    (void)uri;
    http_guard_request_line(s->guard, guard_of(conn));
    return NULL;
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len, bool *any,
                      struct ar_error *err)
{
    char host[256];
    const char *colon;
    const char *port_s;
    char *end;
    long port;

    memset(ss, 0, sizeof(*ss));
    *any = false;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':') {
            ar_error_set(err, "invalid listen address %s", addr);
            return AR_EINVAL;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
        port_s = close + 2;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL) {
            ar_error_set(err, "invalid listen address %s: missing port", addr);
            return AR_EINVAL;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
        port_s = colon + 1;
    }
    port = strtol(port_s, &end, 10);
    if (*port_s == '\0' || *end != '\0' || port < 0 || port > 65535) {
        ar_error_set(err, "invalid port in listen address %s", addr);
        return AR_EINVAL;
    }
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        *len = sizeof(*in);
        *any = host[0] == '\0';
        return AR_OK;
    }
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t)port);
            *len = sizeof(*in);
            return AR_OK;
        }
    }
    {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            *len = sizeof(*in6);
            return AR_OK;
        }
    }
    ar_error_set(err, "invalid host in listen address %s (use an IP address)", addr);
    return AR_EINVAL;
}

int http_server_start(const char *addr, const struct http_options *opt, http_handler handler,
                      void *ctx, struct http_server **out, struct ar_error *err)
{
    struct http_server *s;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool any;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC /* quiesce */;
    const union MHD_DaemonInfo *di;
    char *priorities = NULL;

    if (parse_addr(addr, &ss, &len, &any, err) != AR_OK) {
        return AR_EINVAL;
    }
    s = ar_calloc(1, sizeof(*s));
    s->handler = handler;
    s->ctx = ctx;
    s->opt = *opt;
    if (any) {
        /* ":9093" listens on every IPv4 and IPv6 address, like Go's net.Listen */
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        uint16_t port = ((struct sockaddr_in *)&ss)->sin_port;
        memset(&ss, 0, sizeof(ss));
        in6->sin6_family = AF_INET6;
        in6->sin6_port = port;
        in6->sin6_addr = in6addr_any;
        len = sizeof(*in6);
        flags |= MHD_USE_DUAL_STACK;
    } else if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (opt->web != NULL) {
        struct web_config *wc = web_config_slot_get(opt->web);
        s->tls = wc != NULL && web_config_has_tls(wc);
        if (s->tls) {
            priorities = ar_strdup(web_config_tls_priorities(wc));
        }
        web_config_unref(wc);
    }
    MHD_set_panic_func(mhd_panic, NULL);
    {
        struct http_guard_opts go = {0};
        go.idle_ns = (int64_t)opt->connection_timeout_s * AR_NS_PER_SEC;
        go.header_ns = go.idle_ns < HEADER_DEADLINE_NS ? go.idle_ns : HEADER_DEADLINE_NS;
        go.min_body_rate = MIN_BODY_RATE;
        go.soft_max = opt->connection_limit;
        go.per_address_max = opt->per_address_limit;
        go.closed = http_metrics_conn_closed(opt->metrics);
        s->guard = http_guard_new(&go);
    }
    if (s->tls) {
        /* Certificates come from the callback and priorities are set again per session,
         * both from the configuration in force, so a reload applies to new connections. */
        s->daemon = MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_CONNECTION_TIMEOUT, opt->connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
            opt->connection_limit + CONNECTION_SLACK, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned)HTTP_THREADS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_HTTPS_PRIORITIES, priorities,
            MHD_OPTION_HTTPS_CERT_CALLBACK, web_config_tls_cert_callback,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_URI_LOG_CALLBACK,
            on_request_line, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    } else {
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
            opt->connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
            opt->connection_limit + CONNECTION_SLACK, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned)HTTP_THREADS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
            MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s, MHD_OPTION_END);
    }
    free(priorities);
    if (s->daemon == NULL) {
        ar_error_set(err, "cannot listen on %s", addr);
        http_guard_free(s->guard);
        free(s);
        return AR_EIO;
    }
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    *out = s;
    return AR_OK;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    MHD_socket listener;
    int64_t deadline = clock_monotonic_ns() + STOP_GRACE_NS;
    int left;

    if (s == NULL) {
        return;
    }
    /* Stop accepting; requests already started (an upload, a wait for the commit) finish
     * within the grace period, new ones on kept-alive connections get 503. */
    __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
    listener = MHD_quiesce_daemon(s->daemon);
    while ((left = __atomic_load_n(&s->requests, __ATOMIC_ACQUIRE)) > 0 &&
           clock_monotonic_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (left > 0) {
        log_warn("http", "stopping with %d requests unfinished after %lld s", left,
                 STOP_GRACE_NS / AR_NS_PER_SEC);
    }
    MHD_stop_daemon(s->daemon);
    if (listener != MHD_INVALID_SOCKET) {
        close(listener);
    }
    http_guard_free(s->guard);
    free(s);
}

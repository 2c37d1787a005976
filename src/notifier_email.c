/* Email notifier (COMPAT 9.12): message text as Alertmanager builds it, SMTP with libesmtp,
 * and the worker pool that runs email jobs off the libcurl notifier thread.
 *
 * Message: rendered headers (config order: the loader keeps them sorted, upstream's order is
 * map iteration, so any order is compatible), Message-Id, Date, Content-Type, MIME-Version,
 * then a multipart/alternative body as Go's mime/multipart writes it (first part opens with
 * "--b", later ones with "\r\n--b", part headers sorted, close "\r\n--b--\r\n").
 *
 * Pool: jobs wait in one list (by wake time); each worker takes the earliest due job, runs
 * one blocking SMTP attempt bounded by timeouts, then finishes it or puts it back with its
 * next wake time. A stop cancels waiting jobs at once; attempts in progress end by their
 * timeouts (at most EMAIL_ATTEMPT_MAX_MS). Cost: O(jobs) per pick; email volume is small.
 *
 * Implicit TLS (COMPAT 9.12, newest rule: force_implicit_tls when set, else port 465):
 * libesmtp has no such mode, so the worker opens the TLS connection itself (tls_relay.c,
 * verification from tls_config as for STARTTLS, TLS 1.2-1.3 as Go) and libesmtp speaks plain
 * SMTP to a loopback relay accepting only this process's connection. STARTTLS is never tried
 * on top of it, and it satisfies require_tls (0.25 still asked for STARTTLS there).
 *
 * AUTH (COMPAT 9.12): the first server-listed mechanism with usable credentials. libesmtp
 * walks the server's list and takes the first mechanism it can load: PLAIN and LOGIN are
 * enabled only when a password is set (AUTH_PLUGIN_PLAIN); CRAM-MD5 cannot be disabled per
 * session, so without a secret its exchange is canceled ("*") and libesmtp moves on to the
 * next mechanism, the same choice as Go after one extra round trip. Debian's libesmtp 1.1.0
 * looks for the plugin file sasl-cram-md5.so (the mechanism name lowercased) but ships
 * sasl-crammd5.so; auth_load_cram_md5 loads it once under that file name through the public
 * auth_set_mechanism, after which libesmtp finds it by its keyword CRAM-MD5 in its list of
 * loaded plugins. No system file is touched; with a libesmtp that finds the plugin by itself
 * the extra load is a harmless miss.
 *
 * Known limits (COMPAT deviations, all from libesmtp 1.1):
 *  - STARTTLS negotiates TLS 1.2 at most unless tls_config asks for 1.3 (see tls_ctx_new).
 *  - When no listed mechanism has usable credentials Go stops ("find auth mechanism: ...");
 *    libesmtp goes on with MAIL unauthenticated (the error names the missing credential if
 *    the server then refuses).
 *  - After a failed AUTH libesmtp goes on with MAIL; a server requiring authentication then
 *    refuses it and the error names the AUTH reply ("*smtp.plainAuth auth: 535 ..."), but a
 *    server accepting anonymous mail gets the message (Go stops at the AUTH failure).
 *  - MAIL FROM carries no BODY=8BITMIME / SMTPUTF8 (the message is 7-bit anyway).
 *  - auth_secret_file is trimmed like auth_password_file (notify_read_secret_file); upstream
 *    keeps a trailing newline in the secret, so its HMAC key differs from the server's.
 *  - Where the CRAM-MD5 plugin cannot be loaded at all, libesmtp would skip the mechanism
 *    and send MAIL unauthenticated; a config relying on auth_secret alone is refused at load
 *    instead (email_auth_cram_md5_available, config_receivers.c).
 *  - Go's client has no read deadline; here each protocol wait (TLS handshake included) is
 *    bounded by min(job deadline, EMAIL_ATTEMPT_MAX_MS), so a silent server costs a retry.
 * Also owns the `email_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stddef.h>
#include <strings.h>
/* before libesmtp.h, which declares its SSL_CTX functions only when OpenSSL is seen */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <auth-client.h>
#include <libesmtp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/config.h"
#include "ar/log.h"
#include "ar/notifier_email.h"
#include "ar/tls_relay.h"
#include "ar/tmpl.h"
#include "config_internal.h"

#define EMAIL_ATTEMPT_MAX_MS 60000 /* per protocol wait, also bounded by the job deadline */
#define EMAIL_ATTEMPT_MIN_MS 1000
#define QP_LINE_MAX          76

static const char upperhex[] = "0123456789ABCDEF";

/* ---- encodings -------------------------------------------------------------------------- */

struct qp_writer {
    struct buf *out;
    char line[QP_LINE_MAX + 2];
    int i;
    bool cr;
};

static void qp_flush(struct qp_writer *w)
{
    buf_append(w->out, w->line, (size_t)w->i);
    w->i = 0;
}

static void qp_soft_break(struct qp_writer *w)
{
    w->line[w->i++] = '=';
    buf_append(w->out, w->line, (size_t)w->i);
    buf_puts(w->out, "\r\n");
    w->i = 0;
}

static void qp_encode_byte(struct qp_writer *w, unsigned char b)
{
    if (QP_LINE_MAX - 1 - w->i < 3) {
        qp_soft_break(w);
    }
    w->line[w->i++] = '=';
    w->line[w->i++] = upperhex[b >> 4];
    w->line[w->i++] = upperhex[b & 0x0f];
}

/* COMPAT: a space or tab before a line end is encoded, as Go's writer does. */
static void qp_check_last(struct qp_writer *w)
{
    if (w->i > 0 && (w->line[w->i - 1] == ' ' || w->line[w->i - 1] == '\t')) {
        unsigned char b = (unsigned char)w->line[--w->i];

        qp_encode_byte(w, b);
    }
}

static void qp_plain(struct qp_writer *w, unsigned char b)
{
    if (b == '\n' || b == '\r') {
        if (w->cr && b == '\n') {
            w->cr = false;
            return;
        }
        if (b == '\r') {
            w->cr = true;
        }
        qp_check_last(w);
        w->line[w->i++] = '\r';
        w->line[w->i++] = '\n';
        qp_flush(w);
        return;
    }
    if (w->i == QP_LINE_MAX - 1) {
        qp_soft_break(w);
    }
    w->line[w->i++] = (char)b;
    w->cr = false;
}

void email_qp_encode(const char *s, size_t len, struct buf *out)
{
    struct qp_writer w = {.out = out};

    for (size_t k = 0; k < len; k++) {
        unsigned char b = (unsigned char)s[k];

        if ((b >= '!' && b <= '~' && b != '=') || b == ' ' || b == '\t' || b == '\n' || b == '\r') {
            qp_plain(&w, b);
        } else {
            qp_encode_byte(&w, b);
        }
    }
    qp_check_last(&w);
    qp_flush(&w);
}

static size_t utf8_rune_len(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned char c = s[0];

    if (c < 0xC2 || c > 0xF4) {
        return 1;
    }
    n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > left) {
        return 1;
    }
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            return 1;
        }
    }
    /* overlongs and surrogates count as invalid, as utf8.DecodeRune */
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F)) {
        return 1;
    }
    return n;
}

void email_q_encode(const char *s, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    bool needs = false;
    int cur = 0;
    const int max_content = 75 - (int)strlen("=?utf-8?q?") - 2;

    for (size_t k = 0; k < len; k++) {
        if ((u[k] < ' ' || u[k] > '~') && u[k] != '\t') {
            needs = true;
            break;
        }
    }
    if (!needs) {
        buf_append(out, s, len);
        return;
    }
    buf_puts(out, "=?utf-8?q?");
    for (size_t k = 0; k < len;) {
        size_t rl;
        int enc;

        if (u[k] >= ' ' && u[k] <= '~' && u[k] != '=' && u[k] != '?' && u[k] != '_') {
            rl = 1;
            enc = 1;
        } else {
            rl = utf8_rune_len(u + k, len - k);
            enc = 3 * (int)rl;
        }
        if (cur + enc > max_content) {
            buf_puts(out, "?= =?utf-8?q?");
            cur = 0;
        }
        for (size_t j = k; j < k + rl; j++) {
            unsigned char b = u[j];

            if (b == ' ') {
                buf_putc(out, '_');
            } else if (b >= '!' && b <= '~' && b != '=' && b != '?' && b != '_') {
                buf_putc(out, (char)b);
            } else {
                buf_putc(out, '=');
                buf_putc(out, upperhex[b >> 4]);
                buf_putc(out, upperhex[b & 0x0f]);
            }
        }
        cur += enc;
        k += rl;
    }
    buf_puts(out, "?=");
}

void email_canonical_key(const char *key, char *out, size_t outsz)
{
    bool upper = true;
    size_t n = strlen(key);

    if (outsz == 0) {
        return;
    }
    for (size_t k = 0; k < n; k++) {
        char c = key[k];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-')) {
            snprintf(out, outsz, "%s", key); /* COMPAT: Go leaves such keys alone */
            return;
        }
    }
    for (size_t k = 0; k < n && k + 1 < outsz; k++) {
        char c = key[k];

        if (upper && c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        } else if (!upper && c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        out[k] = c;
        upper = c == '-';
        out[k + 1] = '\0';
    }
    if (n == 0) {
        out[0] = '\0';
    }
}

/* ---- message ---------------------------------------------------------------------------- */

static uint64_t rand64(void)
{
    uint64_t v = 0;

    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
        v = (uint64_t)clock_monotonic_ns() * 0x9e3779b97f4a7c15ULL;
    }
    return v;
}

void email_make_boundary(char out[61])
{
    unsigned char raw[30];

    for (size_t k = 0; k < sizeof(raw); k += 8) {
        uint64_t v = rand64();
        size_t n = sizeof(raw) - k < 8 ? sizeof(raw) - k : 8;

        memcpy(raw + k, &v, n);
    }
    for (size_t k = 0; k < sizeof(raw); k++) {
        out[2 * k] = "0123456789abcdef"[raw[k] >> 4];
        out[2 * k + 1] = "0123456789abcdef"[raw[k] & 0x0f];
    }
    out[60] = '\0';
}

void email_make_message_id(int64_t now_ns, char *out, size_t outsz)
{
    char host[256];

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    /* COMPAT: <unixnano.random64@hostname>; Go's rand.Uint64 spans the full 64 bits */
    snprintf(out, outsz, "<%lld.%llu@%s>", (long long)now_ns, (unsigned long long)rand64(), host);
}

void email_format_date(int64_t now_ns, char *out, size_t outsz)
{
    time_t t = (time_t)(now_ns / AR_NS_PER_SEC);
    struct tm tm;
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    long off;

    localtime_r(&t, &tm);
    off = tm.tm_gmtoff / 60;
    /* RFC 1123Z as Go's time.RFC1123Z, independent of the C locale */
    snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

static void put_part(struct buf *out, const char *boundary, bool first, const char *ctype,
                     const char *body)
{
    buf_printf(out, "%s--%s\r\n", first ? "" : "\r\n", boundary);
    buf_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n");
    buf_printf(out, "Content-Type: %s\r\n\r\n", ctype);
    email_qp_encode(body, strlen(body), out);
}

int email_message_build(const struct notify_header *headers, size_t nheaders, const char *text,
                        const char *html, const struct email_message_opts *opts, struct buf *out)
{
    char boundary[61];
    char id[400];
    char date[64];
    bool has_id = false;
    bool first = true;
    int64_t now = clock_now_ns();

    for (size_t i = 0; i < nheaders; i++) {
        buf_printf(out, "%s: ", headers[i].name);
        email_q_encode(headers[i].value, out);
        buf_puts(out, "\r\n");
        if (strcmp(headers[i].name, "Message-Id") == 0) {
            has_id = true;
        }
    }
    if (opts != NULL && opts->boundary != NULL) {
        snprintf(boundary, sizeof(boundary), "%s", opts->boundary);
    } else {
        email_make_boundary(boundary);
    }
    if (!has_id) {
        if (opts != NULL && opts->message_id != NULL) {
            snprintf(id, sizeof(id), "%s", opts->message_id);
        } else {
            email_make_message_id(now, id, sizeof(id));
        }
        buf_printf(out, "Message-Id: %s\r\n", id);
    }
    if (opts != NULL && opts->date != NULL) {
        snprintf(date, sizeof(date), "%s", opts->date);
    } else {
        email_format_date(now, date, sizeof(date));
    }
    buf_printf(out, "Date: %s\r\n", date);
    /* COMPAT: two spaces before boundary, as Alertmanager writes it */
    buf_printf(out, "Content-Type: multipart/alternative;  boundary=%s\r\n", boundary);
    buf_puts(out, "MIME-Version: 1.0\r\n");
    buf_puts(out, "\r\n");
    if (text != NULL && text[0] != '\0') {
        put_part(out, boundary, first, "text/plain; charset=UTF-8", text);
        first = false;
    }
    if (html != NULL && html[0] != '\0') {
        put_part(out, boundary, first, "text/html; charset=UTF-8", html);
        first = false;
    }
    if (first) {
        buf_printf(out, "--%s--\r\n", boundary);
    } else {
        buf_printf(out, "\r\n--%s--\r\n", boundary);
    }
    return out->max > 0 && out->len >= out->max ? AR_ELIMIT : AR_OK;
}

/* ---- addresses -------------------------------------------------------------------------- */

static char *trim_dup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        n--;
    }
    return ar_strndup(s, n);
}

/* One mailbox: "Name <a@b>" or "a@b". Simplified RFC 5322: quoted display names and
 * comments are skipped, the addr-spec must hold one '@' with text on both sides. */
static int parse_mailbox(const char *s, size_t n, char **addr, struct ar_error *err)
{
    char *m = trim_dup(s, n);
    char *lt = strrchr(m, '<');
    char *spec;
    char *at;

    if (m[0] == '\0') {
        free(m);
        ar_error_set(err, "mail: no address");
        return AR_EINVAL;
    }
    if (lt != NULL) {
        char *gt = strchr(lt, '>');

        if (gt == NULL) {
            free(m);
            ar_error_set(err, "mail: unclosed angle-addr");
            return AR_EINVAL;
        }
        *gt = '\0';
        spec = trim_dup(lt + 1, strlen(lt + 1));
    } else {
        spec = trim_dup(m, strlen(m));
    }
    free(m);
    at = strrchr(spec, '@');
    if (at == NULL || at == spec || at[1] == '\0' || strpbrk(spec, " \t<>,") != NULL) {
        free(spec);
        ar_error_set(err, "mail: missing @ in addr-spec");
        return AR_EINVAL;
    }
    *addr = spec;
    return AR_OK;
}

int email_parse_addresses(const char *list, char ***out, size_t *n, struct ar_error *err)
{
    char **v = NULL;
    size_t cnt = 0;
    const char *start = list;
    bool quoted = false;
    int angle = 0;

    for (const char *p = list;; p++) {
        if (*p == '"' && (p == list || p[-1] != '\\')) {
            quoted = !quoted;
        } else if (!quoted && *p == '<') {
            angle++;
        } else if (!quoted && *p == '>' && angle > 0) {
            angle--;
        }
        if (*p == '\0' || (*p == ',' && !quoted && angle == 0)) {
            char *addr;
            int rc = parse_mailbox(start, (size_t)(p - start), &addr, err);

            if (rc != AR_OK) {
                for (size_t k = 0; k < cnt; k++) {
                    free(v[k]);
                }
                free(v);
                return rc;
            }
            v = ar_realloc(v, (cnt + 1) * sizeof(*v));
            v[cnt++] = addr;
            if (*p == '\0') {
                break;
            }
            start = p + 1;
        }
    }
    *out = v;
    *n = cnt;
    return AR_OK;
}

static void free_addresses(char **v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(v[k]);
    }
    free(v);
}

/* ---- templates -------------------------------------------------------------------------- */

void email_rendered_cleanup(struct email_rendered *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->to);
    free(r->from);
    free(r->text);
    free(r->html);
    memset(r, 0, sizeof(*r));
}

int email_render(const struct notify_data *d, const struct email_config *ec,
                 struct email_rendered *out, struct ar_error *err)
{
    /* the config's template set (built-in ones without a config), shared helpers */
    struct tmpl_value *data = notify_tmpl_data(d);
    struct email_rendered r;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = notify_render(d, data, ec->from != NULL ? ec->from : "", false, &r.from, err);
    if (rc != AR_OK) {
        ar_error_prefix(err, "execute 'from' template");
        goto out;
    }
    rc = notify_render(d, data, ec->to != NULL ? ec->to : "", false, &r.to, err);
    if (rc != AR_OK) {
        ar_error_prefix(err, "execute 'to' template");
        goto out;
    }
    r.headers = ar_calloc(ec->headers.n > 0 ? ec->headers.n : 1, sizeof(*r.headers));
    for (size_t i = 0; i < ec->headers.n; i++) {
        char *v = NULL;

        rc = notify_render(d, data, ec->headers.values[i], false, &v, err);
        if (rc != AR_OK) {
            ar_error_prefix(err, "execute \"%s\" header template", ec->headers.keys[i]);
            goto out;
        }
        r.headers[r.nheaders].name = ar_strdup(ec->headers.keys[i]);
        r.headers[r.nheaders].value = v;
        r.nheaders++;
    }
    if (ec->text != NULL && ec->text[0] != '\0') {
        rc = notify_render(d, data, ec->text, false, &r.text, err);
        if (rc != AR_OK) {
            ar_error_prefix(err, "execute text template");
            goto out;
        }
    }
    if (ec->html != NULL && ec->html[0] != '\0') {
        rc = notify_render(d, data, ec->html, true, &r.html, err);
        if (rc != AR_OK) {
            ar_error_prefix(err, "execute html template");
            goto out;
        }
    }
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    email_rendered_cleanup(&r);
    tmpl_value_unref(data);
    return rc;
}

/* ---- SMTP with libesmtp ----------------------------------------------------------------- */

struct smtp_state {
    const struct email_config *ec;
    const char *user;
    const char *password; /* secret: never printed */
    const char *secret;   /* secret: never printed */
    bool starttls_missing;
    bool tls_bad_cert;
    char auth_fail[256];   /* server reply to a failed AUTH */
    char auth_missing[80]; /* a mechanism skipped for lack of credentials (Go's text) */
    bool auth_canceled;    /* the current exchange was canceled by us: ignore its reply */
    bool in_auth;
    auth_context_t actx; /* to tell which mechanism asks for credentials */
};

static void smtp_event(smtp_session_t session, int event_no, void *arg, ...)
{
    struct smtp_state *st = arg;
    va_list ap;
    int *ok;

    va_start(ap, arg);
    switch (event_no) {
    case SMTP_EV_EXTNA_STARTTLS:
        st->starttls_missing = true;
        break;
    case SMTP_EV_WEAK_CIPHER:
        (void)va_arg(ap, long);
        ok = va_arg(ap, int *);
        *ok = 1;
        break;
    case SMTP_EV_INVALID_PEER_CERTIFICATE:
        (void)va_arg(ap, long);
        ok = va_arg(ap, int *);
        *ok = st->ec->tls_config.insecure_skip_verify ? 1 : 0;
        st->tls_bad_cert = *ok == 0;
        break;
    case SMTP_EV_WRONG_PEER_CERTIFICATE:
        /* libesmtp's own name check knows no IP SANs; OpenSSL already checked the name
         * (X509_VERIFY_PARAM in tls_ctx_new) as Go does, or verification is off */
        ok = va_arg(ap, int *);
        *ok = 1;
        break;
    case SMTP_EV_NO_PEER_CERTIFICATE:
        ok = va_arg(ap, int *);
        *ok = st->ec->tls_config.insecure_skip_verify ? 1 : 0;
        st->tls_bad_cert = *ok == 0;
        break;
    case SMTP_EV_NO_CLIENT_CERTIFICATE:
    case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
    case SMTP_EV_UNUSABLE_CA_LIST:
        ok = va_arg(ap, int *);
        *ok = 1;
        break;
    default:
        break;
    }
    va_end(ap);
}

/* Watches the protocol for a failed AUTH exchange. Only server lines are inspected; what the
 * client writes (credentials) is never looked at nor kept. */
static void smtp_monitor(const char *b, int len, int writing, void *arg)
{
    struct smtp_state *st = arg;

    if (writing == SMTP_CB_WRITING) {
        st->in_auth = len >= 5 && strncmp(b, "AUTH ", 5) == 0 ? true : st->in_auth;
        return;
    }
    if (writing != SMTP_CB_READING || !st->in_auth || len < 3) {
        return;
    }
    if (b[0] == '5' || b[0] == '4') {
        int n = len;

        while (n > 0 && (b[n - 1] == '\r' || b[n - 1] == '\n')) {
            n--;
        }
        if (st->auth_fail[0] == '\0' && !st->auth_canceled) {
            snprintf(st->auth_fail, sizeof(st->auth_fail), "%.*s", n, b);
        }
        st->auth_canceled = false;
        st->in_auth = false;
    } else if (b[0] == '2') {
        st->auth_fail[0] = '\0'; /* a later mechanism succeeded */
        st->auth_missing[0] = '\0';
        st->in_auth = false;
    }
}

static int smtp_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    struct smtp_state *st = arg;

    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_USER) {
            result[i] = (char *)(st->user != NULL ? st->user : "");
        } else if (req[i].flags & AUTH_PASS) {
            /* CRAM-MD5 asks for the shared secret, the others for the password */
            const char *mech = st->actx != NULL ? auth_mechanism_name(st->actx) : NULL;
            const char *v = st->password;

            if (mech != NULL && strcmp(mech, "CRAM-MD5") == 0) {
                v = st->secret;
            }
            if (v == NULL || v[0] == '\0') {
                /* COMPAT: Go skips a mechanism without credentials; here the exchange is
                 * canceled and libesmtp tries the server's next mechanism */
                snprintf(st->auth_missing, sizeof(st->auth_missing),
                         "missing %s for %s auth mechanism",
                         mech != NULL && strcmp(mech, "CRAM-MD5") == 0 ? "secret" : "password",
                         mech != NULL ? mech : "AUTH");
                st->auth_canceled = true;
                return 0;
            }
            result[i] = (char *)v;
        } else if (req[i].flags & AUTH_REALM) {
            result[i] = (char *)(st->ec->auth_identity != NULL ? st->ec->auth_identity : "");
        } else {
            result[i] = (char *)"";
        }
    }
    return 1;
}

static int tls_version_of(const char *v)
{
    if (v == NULL || v[0] == '\0') {
        return 0;
    }
    if (strcmp(v, "TLS10") == 0) {
        return TLS1_VERSION;
    }
    if (strcmp(v, "TLS11") == 0) {
        return TLS1_1_VERSION;
    }
    if (strcmp(v, "TLS12") == 0) {
        return TLS1_2_VERSION;
    }
    if (strcmp(v, "TLS13") == 0) {
        return TLS1_3_VERSION;
    }
    return 0;
}

/* The name the server certificate must carry (tls_config.server_name, else the smarthost
 * host, brackets of an IPv6 literal removed). */
static void tls_server_name(const struct tls_config *tc, const char *smarthost, char *out,
                            size_t outsz)
{
    const char *colon;

    if (tc->server_name != NULL && tc->server_name[0] != '\0') {
        snprintf(out, outsz, "%s", tc->server_name);
        return;
    }
    colon = strrchr(smarthost, ':');
    snprintf(out, outsz, "%.*s",
             (int)(colon != NULL ? (size_t)(colon - smarthost) : strlen(smarthost)), smarthost);
    if (out[0] == '[' && out[strlen(out) - 1] == ']') {
        memmove(out, out + 1, strlen(out));
        out[strlen(out) - 1] = '\0';
    }
}

/* TLS context for STARTTLS and implicit TLS: verification of the chain and of the server name
 * (tls_config server_name, else the smarthost host; an IP matches IP SANs) as Go's crypto/tls. */
static SSL_CTX *tls_ctx_new(const struct tls_config *tc, const char *smarthost, bool implicit,
                            struct ar_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char host[256];

    if (ctx == NULL) {
        ar_error_set(err, "parse TLS configuration: cannot create TLS context");
        return NULL;
    }
    /* COMPAT deviation: TLS 1.2 at most unless max_version/min_version asks for 1.3.
     * libesmtp 1.1 stalls after a TLS 1.3 handshake when the server's session tickets
     * arrive late (it waits for its read timeout before sending EHLO). */
    {
        int lo = tls_version_of(tc->min_version);
        int hi = tls_version_of(tc->max_version);

        SSL_CTX_set_min_proto_version(ctx, lo != 0 ? lo : TLS1_2_VERSION);
        if (hi == 0) {
            /* the implicit-TLS relay is not libesmtp: Go's default range (1.2-1.3) */
            hi = lo == TLS1_3_VERSION || implicit ? TLS1_3_VERSION : TLS1_2_VERSION;
        }
        SSL_CTX_set_max_proto_version(ctx, hi);
    }
    if (tc->insecure_skip_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);

        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        tls_server_name(tc, smarthost, host, sizeof(host));
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
            X509_VERIFY_PARAM_set1_host(vp, host, 0);
        }
        if (tc->ca_file != NULL && tc->ca_file[0] != '\0') {
            if (SSL_CTX_load_verify_locations(ctx, tc->ca_file, NULL) != 1) {
                ar_error_set(err, "parse TLS configuration: unable to load specified CA cert %s",
                             tc->ca_file);
                SSL_CTX_free(ctx);
                return NULL;
            }
        } else {
            SSL_CTX_set_default_verify_paths(ctx);
        }
    }
    if (tc->cert_file != NULL && tc->cert_file[0] != '\0' && tc->key_file != NULL &&
        tc->key_file[0] != '\0') {
        if (SSL_CTX_use_certificate_chain_file(ctx, tc->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, tc->key_file, SSL_FILETYPE_PEM) != 1) {
            ar_error_set(err,
                         "parse TLS configuration: unable to use specified client cert (%s) "
                         "& key (%s)",
                         tc->cert_file, tc->key_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    ERR_clear_error();
    return ctx;
}

static bool smarthost_port_is(const char *hostport, const char *port)
{
    const char *c = hostport != NULL ? strrchr(hostport, ':') : NULL;

    return c != NULL && strcmp(c + 1, port) == 0;
}

/* COMPAT 9.12 (newest): force_implicit_tls decides when set, else port 465 means TLS. */
static bool use_implicit_tls(const struct email_config *ec)
{
    if (ec->force_implicit_tls >= 0) {
        return ec->force_implicit_tls != 0;
    }
    return smarthost_port_is(ec->smarthost, "465");
}

static const char *status_text(const smtp_status_t *s, char *buf, size_t bufsz)
{
    size_t n;

    snprintf(buf, bufsz, "%d %s", s->code, s->text != NULL ? s->text : "");
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
    return buf;
}

struct rcpt_scan {
    char err[300];
};

static void rcpt_check(smtp_recipient_t r, const char *mailbox, void *arg)
{
    struct rcpt_scan *sc = arg;
    const smtp_status_t *s = smtp_recipient_status(r);
    char t[256];

    if (sc->err[0] == '\0' && s != NULL && s->code != 0 && s->code / 100 != 2) {
        snprintf(sc->err, sizeof(sc->err), "send RCPT command: %s", status_text(s, t, sizeof(t)));
    }
}

int email_send_once(const struct notify_data *d, const struct email_config *ec, long timeout_ms,
                    bool *retryable, struct ar_error *err)
{
    struct email_rendered r;
    struct smtp_state st;
    struct buf msg;
    struct email_message_opts mo = {0};
    char **from = NULL;
    char **to = NULL;
    size_t nfrom = 0;
    size_t nto = 0;
    char *password = NULL;
    char *secret = NULL;
    smtp_session_t session = NULL;
    smtp_message_t message;
    auth_context_t actx = NULL;
    SSL_CTX *ctx = NULL;
    struct tls_relay *relay = NULL;
    bool implicit;
    int rc;

    *retryable = false;
    memset(&st, 0, sizeof(st));
    buf_init(&msg, 0);
    if (ec->smarthost == NULL || ec->smarthost[0] == '\0') {
        ar_error_set(err, "no smarthost configured");
        return AR_EINVAL;
    }
    implicit = use_implicit_tls(ec);
    rc = email_render(d, ec, &r, err);
    if (rc != AR_OK) {
        return rc; /* COMPAT: template errors are not retried */
    }
    rc = email_parse_addresses(r.from, &from, &nfrom, err);
    if (rc != AR_OK) {
        ar_error_prefix(err, "parse 'from' addresses");
        goto out;
    }
    if (nfrom != 1) {
        ar_error_set(err, "must be exactly one 'from' address (got: %zu)", nfrom);
        rc = AR_EINVAL;
        goto out;
    }
    rc = email_parse_addresses(r.to, &to, &nto, err);
    if (rc != AR_OK) {
        ar_error_prefix(err, "parse 'to' addresses");
        goto out;
    }
    email_message_build(r.headers, r.nheaders, r.text, r.html, &mo, &msg);
    if (ec->auth_password_file != NULL && ec->auth_password_file[0] != '\0' &&
        notify_read_secret_file(ec->auth_password_file, &password) != AR_OK) {
        ar_error_set(err, "could not read %s", ec->auth_password_file);
        rc = AR_EIO;
        *retryable = true;
        goto out;
    }
    if (ec->auth_secret_file != NULL && ec->auth_secret_file[0] != '\0' &&
        notify_read_secret_file(ec->auth_secret_file, &secret) != AR_OK) {
        ar_error_set(err, "could not read %s", ec->auth_secret_file);
        rc = AR_EIO;
        *retryable = true;
        goto out;
    }
    st.ec = ec;
    st.user = ec->auth_username;
    st.password = password != NULL ? password : ec->auth_password;
    st.secret = secret != NULL ? secret : ec->auth_secret;

    session = smtp_create_session();
    if (session == NULL) {
        ar_error_set(err, "create SMTP client: out of memory");
        rc = AR_ENOMEM;
        *retryable = true;
        goto out;
    }
    if (implicit) {
        char name[256];

        ctx = tls_ctx_new(&ec->tls_config, ec->smarthost, true, err);
        if (ctx == NULL) {
            rc = AR_EINVAL; /* COMPAT: "parse TLS configuration" is final */
            goto out;
        }
        tls_server_name(&ec->tls_config, ec->smarthost, name, sizeof(name));
        rc = tls_relay_start(ctx, ec->smarthost, name, timeout_ms, &relay, err);
        if (rc != AR_OK) {
            ar_error_prefix(err, "establish TLS connection to server");
            *retryable = true;
            goto out;
        }
        smtp_set_server(session, tls_relay_address(relay));
    } else {
        smtp_set_server(session, ec->smarthost);
    }
    smtp_set_hostname(session, ec->hello != NULL && ec->hello[0] != '\0' ? ec->hello : "localhost");
    for (int w = Timeout_GREETING; w <= Timeout_DATA2; w++) {
        smtp_set_timeout(session, w | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
    }
    smtp_set_eventcb(session, smtp_event, &st);
    smtp_set_monitorcb(session, smtp_monitor, &st, 0);
    /* COMPAT: Go's client stops at the first rejected recipient */
    smtp_option_require_all_recipients(session, 1);
    if (ec->require_tls && !implicit) {
        /* COMPAT (newest): implicit TLS satisfies require_tls; STARTTLS is not stacked */
        ctx = tls_ctx_new(&ec->tls_config, ec->smarthost, false, err);
        if (ctx == NULL) {
            rc = AR_EINVAL;
            goto out;
        }
        /* borrowed by the session (libesmtp never frees it): freed below */
        smtp_starttls_set_ctx(session, ctx);
        smtp_starttls_enable(session, Starttls_REQUIRED);
    } else {
        smtp_starttls_enable(session, Starttls_DISABLED);
    }
    if (ec->auth_username != NULL && ec->auth_username[0] != '\0') {
        actx = auth_create_context();
        st.actx = actx;
        /* PLAIN and LOGIN only with a password (COMPAT 9.12: usable credentials) */
        auth_set_mechanism_flags(
            actx, st.password != NULL && st.password[0] != '\0' ? AUTH_PLUGIN_PLAIN : 0, 0);
        auth_set_interact_cb(actx, smtp_interact, &st);
        smtp_auth_set_context(session, actx);
    }
    message = smtp_add_message(session);
    smtp_set_reverse_path(message, from[0]);
    for (size_t i = 0; i < nto; i++) {
        smtp_add_recipient(message, to[i]);
    }
    smtp_set_message_str(message, (void *)buf_str(&msg));

    if (!smtp_start_session(session)) {
        char t[256];
        int e = smtp_errno();

        *retryable = true;
        rc = AR_EIO;
        if (st.starttls_missing) {
            ar_error_set(err,
                         "'require_tls' is true (default) but \"%s\" does not advertise the "
                         "STARTTLS extension",
                         ec->smarthost);
        } else if (st.tls_bad_cert) {
            ar_error_set(err, "send STARTTLS command: x509: certificate verification failed");
        } else {
            ar_error_set(err, "establish connection to server: %s",
                         smtp_strerror(e, t, sizeof(t)) != NULL ? t : "unknown error");
        }
        goto out;
    }
    {
        const smtp_status_t *ms = smtp_message_transfer_status(message);
        const smtp_status_t *rp = smtp_reverse_path_status(message);
        struct rcpt_scan sc = {{0}};
        char t[256];

        if (ms != NULL && ms->code / 100 == 2) {
            rc = AR_OK;
            goto out;
        }
        *retryable = true; /* COMPAT: protocol failures are retried */
        rc = AR_EIO;
        smtp_enumerate_recipients(message, rcpt_check, &sc);
        if (st.tls_bad_cert) {
            ar_error_set(err, "send STARTTLS command: x509: certificate verification failed");
        } else if (st.starttls_missing) {
            ar_error_set(err,
                         "'require_tls' is true (default) but \"%s\" does not advertise the "
                         "STARTTLS extension",
                         ec->smarthost);
        } else if (st.auth_fail[0] == '\0' && st.auth_missing[0] != '\0' && rp != NULL &&
                   rp->code / 100 != 2) {
            ar_error_set(err, "find auth mechanism: %s", st.auth_missing);
        } else if (st.auth_fail[0] != '\0') {
            const char *mech = actx != NULL ? auth_mechanism_name(actx) : NULL;

            ar_error_set(err, "%s auth: %s",
                         mech == NULL                    ? "smtp"
                         : strcmp(mech, "CRAM-MD5") == 0 ? "*smtp.cramMD5Auth"
                         : strcmp(mech, "LOGIN") == 0    ? "*email.loginAuth"
                                                         : "*smtp.plainAuth",
                         st.auth_fail);
        } else if (rp != NULL && rp->code != 0 && rp->code / 100 != 2) {
            ar_error_set(err, "send MAIL command: %s", status_text(rp, t, sizeof(t)));
        } else if (sc.err[0] != '\0') {
            ar_error_set(err, "%s", sc.err);
        } else if (ms != NULL && ms->code != 0) {
            ar_error_set(err, "send DATA command: %s", status_text(ms, t, sizeof(t)));
        } else {
            int e = smtp_errno();

            ar_error_set(err, "send message: %s",
                         e != 0 && smtp_strerror(e, t, sizeof(t)) != NULL ? t : "no reply");
        }
    }
out:
    if (session != NULL) {
        smtp_destroy_session(session);
    }
    tls_relay_free(relay); /* after libesmtp closed its side; accepts NULL */
    if (actx != NULL) {
        auth_destroy_context(actx);
    }
    SSL_CTX_free(ctx); /* accepts NULL */
    if (password != NULL) {
        memset(password, 0, strlen(password));
        free(password);
    }
    if (secret != NULL) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    free_addresses(from, nfrom);
    free_addresses(to, nto);
    buf_cleanup(&msg);
    email_rendered_cleanup(&r);
    return rc;
}

/* ---- worker pool ------------------------------------------------------------------------ */

struct email_job {
    struct notify_job *job;
    struct email_job *next;
    int64_t submit_mono_ns;
    int64_t wake_mono_ns;
    int64_t backoff_ns;
    int attempts;
    bool last_retryable;
    char last_error[400];
};

struct email_pool {
    int nthreads;
    int64_t min_backoff_ns;
    int64_t max_backoff_ns;
    pthread_t *threads;
    bool started;
    bool joined;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job arrived, a wake time changed, or stop */
    /* under lock */
    struct email_job *waiting; /* unsorted; workers pick the earliest due */
    bool stopping;
    size_t pending;
    uint64_t rng;
    struct notify_type_metrics metrics;
};

static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
static bool auth_has_cram_md5;  /* written once under auth_once */
static bool auth_cram_disabled; /* email_auth_cram_md5_disable: tests, before any load */

/* Debian's libesmtp 1.1.0 maps mechanism "CRAM-MD5" to plugin file sasl-cram-md5.so but the
 * package ships sasl-crammd5.so. Asking once for mechanism "crammd5" loads that file; the
 * plugin registers under its keyword "CRAM-MD5", where later sessions find it (libesmtp
 * searches loaded plugins by keyword before opening files). */
static void auth_load_cram_md5(void)
{
    auth_context_t probe = auth_create_context();

    if (probe == NULL) {
        return;
    }
    if (auth_set_mechanism(probe, "CRAM-MD5") == 0 && auth_set_mechanism(probe, "crammd5") == 0) {
        log_warn("notify", "libesmtp cannot load its CRAM-MD5 plugin (sasl-crammd5.so): SMTP "
                           "AUTH CRAM-MD5 unavailable, configs that rely on auth_secret are "
                           "refused");
    } else {
        auth_has_cram_md5 = true;
    }
    auth_destroy_context(probe);
}

static void auth_init_once(void)
{
    auth_client_init();
    auth_load_cram_md5();
}

bool email_auth_cram_md5_available(void)
{
    pthread_once(&auth_once, auth_init_once);
    return auth_has_cram_md5 && !auth_cram_disabled;
}

void email_auth_cram_md5_disable(void)
{
    auth_cram_disabled = true;
}

struct email_pool *email_pool_new(int nthreads, int64_t min_backoff_ns, int64_t max_backoff_ns)
{
    struct email_pool *p = ar_calloc(1, sizeof(*p));
    pthread_condattr_t ca;

    pthread_once(&auth_once, auth_init_once);
    p->nthreads = nthreads > 0 ? nthreads : 2;
    p->min_backoff_ns = min_backoff_ns > 0 ? min_backoff_ns : 500 * AR_NS_PER_MS;
    p->max_backoff_ns = max_backoff_ns > 0 ? max_backoff_ns : 60 * AR_NS_PER_SEC;
    p->threads = ar_calloc((size_t)p->nthreads, sizeof(*p->threads));
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->rng = rand64() | 1;
    return p;
}

/* Calls done() and frees the job; the lock is not held. */
static void ejob_complete(struct email_pool *p, struct email_job *ej, bool ok, bool canceled,
                          const char *error)
{
    struct notify_result res;
    struct notify_job *job = ej->job;

    memset(&res, 0, sizeof(res));
    res.ok = ok;
    res.canceled = canceled;
    res.attempts = ej->attempts;
    res.retryable = !ok && ej->last_retryable;
    snprintf(res.error, sizeof(res.error), "%s", ok ? "" : error);
    res.latency_ns = clock_monotonic_ns() - ej->submit_mono_ns;
    pthread_mutex_lock(&p->lock);
    p->metrics.notifications_total++;
    if (!ok) {
        p->metrics.notifications_failed++;
    }
    p->pending--; /* before done(), as the notifier does */
    pthread_mutex_unlock(&p->lock);
    if (job->done != NULL) {
        job->done(job, &res, job->ctx);
    }
    notify_job_free(job);
    free(ej);
}

static void ejob_finish(struct email_pool *p, struct email_job *ej, bool ok, const char *error)
{
    ejob_complete(p, ej, ok, false, error);
}

static void metrics_attempt(struct email_pool *p, bool ok, int64_t lat_ns)
{
    double s = (double)lat_ns / 1e9;

    pthread_mutex_lock(&p->lock);
    p->metrics.requests_total++;
    if (!ok) {
        p->metrics.requests_failed++;
    }
    for (int i = 0; i < NOTIFY_LATENCY_BUCKETS; i++) {
        if (s <= notify_latency_bounds_s[i]) {
            p->metrics.latency_bucket[i]++;
        }
    }
    p->metrics.latency_sum_s += s;
    p->metrics.latency_count++;
    pthread_mutex_unlock(&p->lock);
}

static double rand_unit(struct email_pool *p) /* under lock */
{
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return (double)((p->rng * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

static void deadline_fail(struct email_pool *p, struct email_job *ej)
{
    char msg[512];

    /* COMPAT 5.8 */
    snprintf(msg, sizeof(msg), "notify retry canceled after %d attempts: %s", ej->attempts,
             ej->last_error[0] != '\0' ? ej->last_error : "context deadline exceeded");
    ejob_finish(p, ej, false, msg);
}

/* One attempt of ej (lock not held); finishes it or returns it with its next wake time. */
static struct email_job *ejob_attempt(struct email_pool *p, struct email_job *ej)
{
    struct notify_job *job = ej->job;
    const struct email_config *ec = job->integ->cfg;
    int64_t start = clock_monotonic_ns();
    long timeout_ms = EMAIL_ATTEMPT_MAX_MS;
    struct ar_error err;
    bool retryable = false;
    int rc;

    if (job->deadline_mono_ns > 0) {
        int64_t left = (job->deadline_mono_ns - start) / AR_NS_PER_MS;

        timeout_ms = left < timeout_ms ? (long)left : timeout_ms;
        timeout_ms = timeout_ms < EMAIL_ATTEMPT_MIN_MS ? EMAIL_ATTEMPT_MIN_MS : timeout_ms;
    }
    err.msg[0] = '\0';
    ej->attempts++;
    rc = email_send_once(job->data, ec, timeout_ms, &retryable, &err);
    metrics_attempt(p, rc == AR_OK, clock_monotonic_ns() - start);
    if (rc == AR_OK) {
        ejob_finish(p, ej, true, "");
        return NULL;
    }
    snprintf(ej->last_error, sizeof(ej->last_error), "%s", err.msg);
    ej->last_retryable = retryable;
    if (!retryable) {
        char msg[512];

        snprintf(msg, sizeof(msg),
                 "notify retry canceled due to unrecoverable error after %d attempts: %s",
                 ej->attempts, ej->last_error);
        ejob_finish(p, ej, false, msg);
        return NULL;
    }
    if (job->deadline_mono_ns > 0 && clock_monotonic_ns() >= job->deadline_mono_ns) {
        deadline_fail(p, ej);
        return NULL;
    }
    if (job->retrying != NULL) {
        struct notify_result res;

        memset(&res, 0, sizeof(res));
        res.retryable = true;
        res.attempts = ej->attempts;
        snprintf(res.error, sizeof(res.error), "%s", ej->last_error);
        res.latency_ns = clock_monotonic_ns() - start;
        job->retrying(job, &res, job->ctx);
    }
    log_debug("notify",
              "notify attempt %d for receiver %s integration email[%d] failed, will retry: %s",
              ej->attempts, job->data->receiver_name, job->integ->index, ej->last_error);
    return ej;
}

static void cancel_waiting(struct email_pool *p)
{
    struct email_job *q;
    size_t canceled = 0;

    pthread_mutex_lock(&p->lock);
    q = p->waiting;
    p->waiting = NULL;
    pthread_mutex_unlock(&p->lock);
    while (q != NULL) {
        struct email_job *next = q->next;

        ejob_complete(p, q, false, true, "notification canceled");
        canceled++;
        q = next;
    }
    if (canceled > 0) {
        log_warn("notify",
                 "stop: %zu e-mails not sent yet were canceled; with the outbox they stay "
                 "pending and are resumed at the next start",
                 canceled);
    }
}

static void *worker_main(void *arg)
{
    struct email_pool *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct email_job **best = NULL;
        struct email_job *ej;
        int64_t best_w = 0;
        int64_t now;

        if (p->stopping) {
            break;
        }
        now = clock_monotonic_ns();
        for (struct email_job **pp = &p->waiting; *pp != NULL; pp = &(*pp)->next) {
            int64_t w = (*pp)->wake_mono_ns;
            int64_t dl = (*pp)->job->deadline_mono_ns;

            if (dl > 0 && dl < w) {
                w = dl;
            }
            if (best == NULL || w < best_w) {
                best = pp;
                best_w = w;
            }
        }
        if (best == NULL) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        ej = *best;
        if (ej->wake_mono_ns > now &&
            !(ej->job->deadline_mono_ns > 0 && ej->job->deadline_mono_ns <= now)) {
            int64_t w = ej->wake_mono_ns;
            struct timespec ts;

            if (ej->job->deadline_mono_ns > 0 && ej->job->deadline_mono_ns < w) {
                w = ej->job->deadline_mono_ns;
            }
            ts.tv_sec = (time_t)(w / AR_NS_PER_SEC);
            ts.tv_nsec = (long)(w % AR_NS_PER_SEC);
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
            continue;
        }
        *best = ej->next;
        ej->next = NULL;
        pthread_mutex_unlock(&p->lock);
        if (ej->job->deadline_mono_ns > 0 && ej->job->deadline_mono_ns <= now) {
            deadline_fail(p, ej);
            ej = NULL;
        } else {
            ej = ejob_attempt(p, ej);
        }
        pthread_mutex_lock(&p->lock);
        if (ej != NULL) {
            double jitter = 0.5 + rand_unit(p);
            int64_t wait = (int64_t)((double)ej->backoff_ns * jitter);

            if (wait > p->max_backoff_ns) {
                wait = p->max_backoff_ns;
            }
            ej->backoff_ns = (int64_t)((double)ej->backoff_ns * 1.5);
            if (ej->backoff_ns > p->max_backoff_ns) {
                ej->backoff_ns = p->max_backoff_ns;
            }
            ej->wake_mono_ns = clock_monotonic_ns() + wait;
            ej->next = p->waiting;
            p->waiting = ej;
            if (p->stopping) {
                pthread_mutex_unlock(&p->lock);
                cancel_waiting(p);
                pthread_mutex_lock(&p->lock);
            }
            pthread_cond_broadcast(&p->cond);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int email_pool_start(struct email_pool *p)
{
    if (p->started) {
        return AR_ESTATE;
    }
    for (int i = 0; i < p->nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            pthread_mutex_lock(&p->lock);
            p->stopping = true;
            pthread_cond_broadcast(&p->cond);
            pthread_mutex_unlock(&p->lock);
            for (int k = 0; k < i; k++) {
                pthread_join(p->threads[k], NULL);
            }
            p->joined = true;
            return AR_EIO;
        }
    }
    p->started = true;
    return AR_OK;
}

void email_pool_submit(struct email_pool *p, struct notify_job *job)
{
    struct email_job *ej = ar_calloc(1, sizeof(*ej));
    bool stopped;

    ej->job = job;
    ej->submit_mono_ns = clock_monotonic_ns();
    ej->wake_mono_ns = ej->submit_mono_ns;
    ej->backoff_ns = p->min_backoff_ns;
    pthread_mutex_lock(&p->lock);
    stopped = p->stopping;
    p->pending++;
    if (!stopped) {
        ej->next = p->waiting;
        p->waiting = ej;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    if (stopped) {
        ejob_complete(p, ej, false, true, "notification canceled");
    }
}

void email_pool_stop(struct email_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (p->started && !p->joined) {
        for (int i = 0; i < p->nthreads; i++) {
            pthread_join(p->threads[i], NULL);
        }
        p->joined = true;
    }
    cancel_waiting(p);
}

void email_pool_free(struct email_pool *p)
{
    if (p == NULL) {
        return;
    }
    email_pool_stop(p);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

void email_pool_metrics_add(struct email_pool *p, struct notify_metrics *out)
{
    struct notify_type_metrics *m = &out->type[INTEGRATION_EMAIL];

    pthread_mutex_lock(&p->lock);
    m->requests_total += p->metrics.requests_total;
    m->requests_failed += p->metrics.requests_failed;
    for (int i = 0; i < NOTIFY_LATENCY_BUCKETS; i++) {
        m->latency_bucket[i] += p->metrics.latency_bucket[i];
    }
    m->latency_sum_s += p->metrics.latency_sum_s;
    m->latency_count += p->metrics.latency_count;
    m->notifications_total += p->metrics.notifications_total;
    m->notifications_failed += p->metrics.notifications_failed;
    pthread_mutex_unlock(&p->lock);
}

size_t email_pool_pending(struct email_pool *p)
{
    size_t v;

    pthread_mutex_lock(&p->lock);
    v = p->pending;
    pthread_mutex_unlock(&p->lock);
    return v;
}

/* ---- configuration: the `email_configs` key table --------------------------------- */

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
    if (cfg_empty(e->auth_username) ||
        (cfg_empty(e->auth_secret) && cfg_empty(e->auth_secret_file)) ||
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
            return ctx_error(c, n, "duplicate header \"%s\" in email config", e->headers.keys[i]);
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

/* Email notifier (COMPAT 9.12): message building and SMTP delivery with libesmtp.
 *
 * Message building is pure (email_message_build): rendered headers in the given order, then
 * Message-Id (unless configured), Date, Content-Type multipart/alternative (two spaces before
 * boundary, as Alertmanager writes it) and MIME-Version, followed by the text part (when
 * set) and the html part, each quoted-printable as Go's mime/quotedprintable writes it.
 * Header values with non-ASCII bytes are RFC 2047 Q-encoded as Go's mime.QEncoding does.
 * Boundary, Message-Id and Date are injectable so tests compare bytes.
 *
 * Delivery runs on a small pool of worker threads (libesmtp is blocking), so the libcurl
 * notifier thread never waits on SMTP. notify_engine.c routes INTEGRATION_EMAIL jobs from
 * notifier_submit to the pool; the pool keeps the notifier's contract: retries with the same
 * backoff (0.5s × 1.5^k, ±50% jitter, capped), the job deadline, done() exactly once (from
 * an email worker thread, or from the caller of email_pool_submit/email_pool_stop after a
 * stop), then the job is freed. Passwords and secrets never appear in error texts or logs. */
#ifndef AR_NOTIFIER_EMAIL_H
#define AR_NOTIFIER_EMAIL_H

#include "ar/buf.h"
#include "ar/common.h"
#include "ar/config_receivers.h"
#include "ar/notify.h"

/* ---- message building ------------------------------------------------------------------ */

/* Values that are random or time-based; NULL fields are generated. */
struct email_message_opts {
    const char *boundary;   /* Go multipart: 60 hex digits */
    const char *message_id; /* "<unixnano.random64@hostname>" */
    const char *date;       /* RFC 1123Z, "Mon, 02 Jan 2006 15:04:05 -0700" */
};

/* Builds the whole message (CRLF line ends) into out. headers are rendered values (not yet
 * RFC 2047 encoded), names canonical, written in the given order. text/html may be NULL or
 * empty (no such part). AR_OK or AR_ELIMIT when out's maximum is reached. */
int email_message_build(const struct notify_header *headers, size_t nheaders, const char *text,
                        const char *html, const struct email_message_opts *opts, struct buf *out);

/* Go's quotedprintable.Writer over s (CRLF line ends, soft breaks at 76 columns). */
void email_qp_encode(const char *s, size_t len, struct buf *out);
/* Go's mime.QEncoding.Encode("utf-8", s): s unchanged unless it has a byte outside
 * printable ASCII (tab allowed), else encoded words of at most 75 bytes. */
void email_q_encode(const char *s, struct buf *out);
/* textproto.CanonicalMIMEHeaderKey into out (bounded, NUL-terminated). Keys with bytes
 * other than letters, digits and '-' are returned unchanged, as Go does. */
void email_canonical_key(const char *key, char *out, size_t outsz);
/* A fresh boundary (60 hex digits), Message-Id and Date for wall time now_ns. */
void email_make_boundary(char out[61]);
void email_make_message_id(int64_t now_ns, char *out, size_t outsz);
void email_format_date(int64_t now_ns, char *out, size_t outsz);

/* Addresses of an RFC 5322 address list ("A <a@x>, b@y"): the addr-spec of each, display
 * names and comments dropped. *out is a new array of heap strings (free each and the array).
 * AR_EINVAL with a sentence in err for an empty or malformed list. */
int email_parse_addresses(const char *list, char ***out, size_t *n, struct ar_error *err);

/* Renders headers, to, from, text and html of ec for d with the config's templates. */
struct email_rendered {
    struct notify_header *headers; /* canonical names, rendered values */
    size_t nheaders;
    char *to;
    char *from;
    char *text;
    char *html;
};
int email_render(const struct notify_data *d, const struct email_config *ec,
                 struct email_rendered *out, struct ar_error *err);
void email_rendered_cleanup(struct email_rendered *r);

/* ---- delivery -------------------------------------------------------------------------- */

/* One SMTP attempt. *retryable tells whether a failure may be retried; err holds the text.
 * timeout_ms bounds each protocol wait. AR_OK on success. */
int email_send_once(const struct notify_data *d, const struct email_config *ec, long timeout_ms,
                    bool *retryable, struct ar_error *err);

struct email_pool;

/* True when libesmtp can run SMTP AUTH CRAM-MD5 here (its sasl-crammd5 plugin loaded; see
 * notifier_email.c). Initialises libesmtp's auth client once (thread-safe). The config loader
 * asks it so that an auth_secret which could never be used is a load-time error. */
bool email_auth_cram_md5_available(void);
/* Tests only: from now on, email_auth_cram_md5_available answers false, as on a system
 * without the plugin. */
void email_auth_cram_md5_disable(void);

/* nthreads <= 0: 2. Backoff bounds as the notifier's (> 0). Never NULL. */
struct email_pool *email_pool_new(int nthreads, int64_t min_backoff_ns, int64_t max_backoff_ns);
int email_pool_start(struct email_pool *p); /* AR_OK or AR_EIO */
/* Thread-safe; the pool owns job from here on (see file comment). */
void email_pool_submit(struct email_pool *p, struct notify_job *job);
/* Cancels queued jobs ("notification canceled"), waits for attempts in progress (bounded
 * by their timeouts) and joins the workers. Idempotent. */
void email_pool_stop(struct email_pool *p);
void email_pool_free(struct email_pool *p); /* accepts NULL */
/* Adds the pool's email counters into out->type[INTEGRATION_EMAIL]. */
void email_pool_metrics_add(struct email_pool *p, struct notify_metrics *out);
size_t email_pool_pending(struct email_pool *p);

#endif

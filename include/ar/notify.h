/* Notification delivery (COMPAT 5.6 stage 6c, 5.8, 9): the data one send sees, the jobs the
 * dispatcher submits, and the notifier, one thread running a libcurl multi loop that sends
 * every job's HTTP request, retries with backoff on timers inside the same loop and calls
 * each job's completion callback exactly once from that thread. Hundreds of deliveries run
 * concurrently without a thread each.
 *
 * Payloads are built per integration type by the builder of its row in the integration
 * table (ar/integration.h, integration_build_request). Webhook lives in notifier_webhook.c, the
 * chat/HTTP integrations in notifier_<type>.c; their templated fields are rendered with the
 * configuration's template set (config->tmpl) against one template Data per send
 * (notify_tmpl.c).
 *
 * Secrets (URL userinfo and query strings, passwords, tokens) never appear in error texts
 * or logs: URLs are redacted with notify_redact_url before being printed.
 *
 * http_config support: basic_auth (and *_file), authorization / bearer_token (and
 * credentials_file / bearer_token_file), tls_config (ca, ca_file, cert(_file), key(_file),
 * server_name (https without proxy), insecure_skip_verify, min_version, max_version),
 * proxy_url, no_proxy, proxy_from_environment (environment proxies are ignored otherwise, as
 * in Go), follow_redirects (at most 10), enable_http2, http_headers (values, secrets, files;
 * file paths used as written). *_file secrets and header files are read at each attempt; an
 * unreadable one fails that attempt (retried), proxy_connect_header (CONNECT only, as Go),
 * oauth2 client credentials (token fetched with the same client settings, cached until it
 * expires).
 *
 * Retry classes: 2xx success (unless the request's reply check says otherwise: Slack,
 * Rocket.Chat); 5xx, 429 and transport errors (timeouts included) retried; everything else
 * final. A request may chain follow-ups (Opsgenie update_alerts) sent in order after it
 * succeeded, each retried alone, with one outcome for the job. COMPAT deviation: 0.25 webhooks
 * do not retry 429 nor read Retry-After; the engine does (notify_request.retry_429 lets a
 * builder opt out). */
#ifndef AR_NOTIFY_H
#define AR_NOTIFY_H

#include "ar/buf.h"
#include "ar/common.h"
#include "ar/config.h"
#include "ar/config_receivers.h"
#include "ar/labels.h"

struct alert;

/* ---- data of one send ---------------------------------------------------------------- */

/* Immutable once built; shared by every job of one flush (refcount is atomic, so jobs may
 * release it from the notifier thread while the core still holds it). */
struct notify_data {
    int refs;                        /* atomic; freed at 0 */
    struct config *cfg;              /* reference: integration configs live inside it */
    const struct receiver *receiver; /* inside cfg */
    char *receiver_name;
    char *group_key; /* e.g. {}:{alertname="x"} */
    struct labelset group_labels;
    struct alert **alerts; /* references, sorted (COMPAT 2.7) and filtered */
    bool *resolved;        /* per alert: resolved as of now_ns */
    size_t nalerts;
    char *external_url;
    int64_t now_ns; /* flush time, wall clock */
    /* A message of alertrouter's own in place of the rendered one (the incident
     * acknowledgement message, incidents.ack_message): when title is set, the chat builders
     * send title and text instead of their configured title and text templates (a single
     * message field gets "title\ntext"); NULL for every notification of a group. */
    char *override_title;
    char *override_text;
    char *override_message;
};

/* Sets d's override (see struct notify_data) before d is shared. */
void notify_data_set_override(struct notify_data *d, const char *title, const char *text);

/* Builds the data of one send. Takes references to cfg and to each alert; copies the
 * strings and group labels. resolved may be NULL: then each flag is computed with
 * alert_resolved_at(alert, now_ns). Firing alerts are shown with Go's zero endsAt. The
 * caller has already sorted and filtered alerts (only firing ones for send_resolved:false).
 * Returns refs = 1; never NULL. */
struct notify_data *notify_data_new(struct config *cfg, const struct receiver *receiver,
                                    const char *group_key, const struct labelset *group_labels,
                                    struct alert *const *alerts, const bool *resolved,
                                    size_t nalerts, const char *external_url, int64_t now_ns);
struct notify_data *notify_data_ref(struct notify_data *d);
void notify_data_unref(struct notify_data *d); /* accepts NULL */

/* True when some alert of d is firing. */
bool notify_data_has_firing(const struct notify_data *d);

/* ---- requests built by the per-type payload builders --------------------------------- */

struct notify_header {
    char *name;
    char *value;
};

/* A 2xx reply as the engine received it, for notify_request.check. */
struct notify_reply {
    long status;
    const char *content_type; /* Content-Type header value, "" when absent */
    const char *body;         /* NUL-terminated; at most NOTIFY_CHECK_BODY_MAX bytes */
    size_t len;
    bool truncated; /* the body was longer than what is kept */
};

#define NOTIFY_CHECK_BODY_MAX (64 * 1024)

/* Judges a 2xx reply (COMPAT 9.3, 9.8: Slack, Rocket.Chat answer errors with 200). Returns
 * true when the reply means success; otherwise writes what the service answered into err
 * (bounded, no secrets) and sets *retryable. Runs on the notifier thread. */
typedef bool (*notify_check_fn)(const struct notify_reply *reply, char *err, size_t errsz,
                                bool *retryable);

struct notify_request;

/* Runs after a request's 2xx reply passed its check, on the notifier thread: reads what the
 * service answered and completes the requests chained after r (e.g. puts a token fetched by
 * r into the URL of r->next). True to go on; false with err written (bounded, no secrets)
 * and *retryable set otherwise. */
typedef bool (*notify_then_fn)(struct notify_request *r, const struct notify_reply *reply,
                               char *err, size_t errsz, bool *retryable);

/* One HTTP request to send. Owned by its job; notify_request_cleanup frees it with the
 * requests chained after it. */
struct notify_request {
    const char *method;            /* static string, "POST", "PUT" or "GET" (no body) */
    char *url;                     /* may contain secrets: never log unredacted */
    struct notify_header *headers; /* extra headers besides Content-Type/User-Agent */
    size_t nheaders;
    const char *content_type; /* static, e.g. "application/json" */
    struct buf body;
    const struct http_config *http; /* client settings (inside the config), may be NULL */
    int64_t timeout_ns;             /* per-attempt timeout from the integration, 0 = none */
    /* COMPAT 5.8: besides 5xx, which statuses the notifier retries (e.g. 429 for some) */
    bool retry_429;
    /* Telegram 0.25: every failed request is retried; PagerDuty v1: also 403 */
    bool retry_any_status;
    long retry_status_extra; /* one more retryable status, 0 = none */
    /* AWS Signature Version 4 (SNS): libcurl's CURLOPT_AWS_SIGV4 provider string
     * ("aws:amz:<region>:<service>") and the key pair it signs with; heap, NULL = unsigned */
    char *aws_sigv4;
    char *aws_key_id;
    char *aws_secret; /* secret */
    /* The request carries its own Authorization header: http_config's authorization (and
     * bearer_token) is not sent (incident.io alert_source_token) */
    bool auth_replaced;
    /* Optional check of a 2xx reply body; NULL = every 2xx is a success. */
    notify_check_fn check;
    char *error_prefix; /* heap, put before check errors (e.g. `channel "#a": `), or NULL */
    /* Optional step after a good reply (WeChat: the token for message/send); then_ctx is
     * the builder's data for it, released with then_free (may be NULL) */
    notify_then_fn then;
    void *then_ctx;
    void (*then_free)(void *ctx);
    /* After a retryable failure of this request the job's request is built again before the
     * next attempt, as upstream runs its whole Notify again (WeChat: a fresh token) */
    bool rebuild_on_retry;
    /* Sent after this request succeeded, in order (Opsgenie update_alerts: the PUTs after
     * the create). Each request of the chain is retried by the same rules and counts
     * against the same deadline; the job has one outcome: success only when the last one
     * succeeded. Owned (heap); NULL = none. */
    struct notify_request *next;
};

void notify_request_init(struct notify_request *r);
void notify_request_cleanup(struct notify_request *r);
void notify_request_add_header(struct notify_request *r, const char *name, const char *value);
/* Appends a new request to r's chain: a heap request initialised with notify_request_init
 * and with r's http settings, timeout and retry classes, returned borrowed (r owns it). */
struct notify_request *notify_request_chain_new(struct notify_request *r);

/* Builds one integration's request into out (initialised by the caller, retry class set from
 * the integration table); cfg is the type's config struct. */
typedef int (*notify_build_fn)(const struct notify_data *d, const void *cfg,
                               struct notify_request *out, struct ar_error *err);

/* Webhook builder (notifier_webhook.c), also used directly by tests. */
int notify_webhook_build(const struct notify_data *d, const struct webhook_config *wc,
                         struct notify_request *out, struct ar_error *err);
/* Only the webhook JSON body (version "4", trailing newline) into out. */
int notify_webhook_body(const struct notify_data *d, uint64_t max_alerts, struct buf *out);
/* The same message (template Data, version, groupKey, truncatedAlerts) with another version
 * string (incident.io: "1"); max_shown > 0 writes only the first max_shown alerts while status
 * and common labels stay those of the first max_alerts (incident.io's size fallback). */
int notify_webhook_message(const struct notify_data *d, uint64_t max_alerts, const char *version,
                           size_t max_shown, struct buf *out);

/* Labels (annotations when of_annotations) with the same value on each of the first n
 * alerts of d, into out (initialised here; the caller cleans it up). Empty when n is 0. */
void notify_common_labels(const struct notify_data *d, size_t n, bool of_annotations,
                          struct labelset *out);
/* Reads a *_file secret (URL, password, token) at send time, trimmed of surrounding
 * whitespace (COMPAT 4.8). *out is a new heap string. AR_OK, AR_EIO or AR_ELIMIT (> 64 KiB). */
int notify_read_secret_file(const char *path, char **out);

/* Copies url for messages with secrets hidden: userinfo becomes "<redacted>@" and a query
 * string "?<redacted>" ("https://<redacted>@host/path?<redacted>"). out is bounded by outsz
 * and always NUL-terminated. */
void notify_redact_url(const char *url, char *out, size_t outsz);

/* ---- helpers shared by the chat/HTTP notifiers (notify.c, notify_tmpl.c) -------------- */

struct tmpl_value;

/* Template `Data` of one send (COMPAT 8.2): receiver (regex-quoted), status, alerts with
 * their fields, group/common labels and annotations, external URL. New reference (release
 * with tmpl_value_unref); read-only, so one Data may be rendered from several threads. */
struct tmpl_value *notify_tmpl_data(const struct notify_data *d);
/* Renders text (an anonymous template that may call the configuration's named templates,
 * or the built-in ones when d has no config) with dot = data. An empty text gives "".
 * *out is a new heap string; on error AR_EINVAL/AR_ELIMIT with the template error in err. */
int notify_render(const struct notify_data *d, const struct tmpl_value *data, const char *text,
                  bool html, char **out, struct ar_error *err);

/* Renders several fields in order with Go's TmplText contract: after the first error every
 * later field renders as "" and the first error is kept. */
struct notify_tmpl {
    const struct notify_data *d;
    struct tmpl_value *data;
    bool html;
    int rc;
    struct ar_error err;
    char **owned; /* results, freed by notify_tmpl_cleanup */
    size_t nowned;
};
void notify_tmpl_init(struct notify_tmpl *t, const struct notify_data *d);
void notify_tmpl_cleanup(struct notify_tmpl *t);
/* Borrowed result valid until notify_tmpl_cleanup; "" for NULL text or after an error. */
const char *notify_tmpl_text(struct notify_tmpl *t, const char *text);
/* notify_tmpl_text of a title, a body text, or the single message of an integration that
 * has one, unless the data carries an override (notify_data_set_override): then the
 * override's title, text or "title\ntext", unrendered. */
const char *notify_tmpl_title(struct notify_tmpl *t, const char *text);
const char *notify_tmpl_body(struct notify_tmpl *t, const char *text);
const char *notify_tmpl_message(struct notify_tmpl *t, const char *text);

/* Reads a secret given inline or as a *_file (read now, trimmed). Error texts name the file
 * only, never the secret. *out is a new heap string ("" when neither is set). */
int notify_secret(const char *value, const char *file, const char *what, char **out,
                  struct ar_error *err);
/* notify_secret for a value the integration cannot send without (webhook URLs, api_url):
 * AR_EINVAL with "<type> has no <what>" when it is empty, out left NULL. */
int notify_required_secret(const char *value, const char *file, const char *what, const char *type,
                           char **out, struct ar_error *err);

/* COMPAT 9.1: Go's Truncate family. Rune-based: at most n runes, the last one replaced by
 * "…" when cut (n <= 3: plain cut). Byte-based: at most n bytes ("…" is 3 of them; the cut
 * may split a rune, as upstream). Returns a new heap string; *truncated tells. */
char *notify_truncate_runes(const char *s, size_t n, bool *truncated);
char *notify_truncate_bytes(const char *s, size_t n, bool *truncated);

/* JSON string as Go encodes it (HTML-safe escapes); invalid UTF-8 becomes U+FFFD. */
int notify_json_str(struct buf *b, const char *s);
/* A JSON object being written to b member by member: first until a member is written, so
 * the writer knows whether to open it with '{' or to go on with ','. */
struct notify_json_obj {
    struct buf *b;
    bool first;
};
/* Writes the member "key": v (notify_json_str) unless v is NULL or empty, as Go's omitempty. */
void notify_json_obj_put(struct notify_json_obj *o, const char *key, const char *v);
/* SHA-256 of s as 64 lowercase hex digits (Go's GroupKey.Hash). */
void notify_sha256_hex(const char *s, char out[65]);
/* Appends s query-escaped as Go's url.QueryEscape (space as '+'). */
void notify_query_escape(struct buf *b, const char *s);

/* Reply checks (notify_request.check) helpers. notify_reply_excerpt copies at most 200 bytes
 * of a reply body for an error text, control characters as spaces, "…" when cut.
 * notify_reply_json_flag judges a JSON object reply by its boolean `key` (false when absent
 * or null): true when set; otherwise err says "error response from <service>: <its "error"
 * string>" (final), or Go's "could not unmarshal JSON response ..." when the body is not
 * such an object (*retryable set). */
void notify_reply_excerpt(const char *body, size_t len, char *out, size_t outsz);
bool notify_reply_json_flag(const struct notify_reply *r, const char *key, const char *service,
                            char *err, size_t errsz, bool *retryable);
/* The checks of Slack (newest: text/plain "ok" or JSON "ok":true) and Rocket.Chat
 * ("success":true), exposed for tests. */
bool notify_slack_check(const struct notify_reply *r, char *err, size_t errsz, bool *retryable);
bool notify_rocketchat_check(const struct notify_reply *r, char *err, size_t errsz,
                             bool *retryable);

/* Builders of the chat/HTTP integrations (src/notifier_<type>.c); cfg is the type's struct. */
int notify_slack_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                       struct ar_error *err);
int notify_mattermost_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err);
int notify_rocketchat_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err);
int notify_msteams_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err);
int notify_msteamsv2_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err);
int notify_discord_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err);
int notify_telegram_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err);
int notify_webex_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                       struct ar_error *err);
int notify_pagerduty_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err);
int notify_opsgenie_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err);
int notify_pushover_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err);
int notify_victorops_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err);
int notify_wechat_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                        struct ar_error *err);
int notify_sns_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                     struct ar_error *err);
/* Load-time check of an SNS config (integration_check_senders): role_arn cannot be sent. */
int notify_sns_can_send(const void *cfg, struct ar_error *err);
int notify_jira_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                      struct ar_error *err);
int notify_incidentio_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err);

/* ---- jobs and results ---------------------------------------------------------------- */

struct notify_result {
    bool ok;
    /* notifier_stop ended the job before it could finish: the delivery was neither made nor
     * refused, so a durable outbox keeps it pending (error says "notification canceled") */
    bool canceled;
    int attempts;       /* HTTP attempts made (0 when canceled or failed before sending) */
    long last_status;   /* last HTTP status, 0 when none was received */
    bool retryable;     /* the last failure was of a retryable class */
    char error[512];    /* "" on success; secrets redacted */
    int64_t latency_ns; /* from submit to completion */
};

struct notify_job;
struct notify_job_priv;
typedef void (*notify_done_fn)(struct notify_job *job, const struct notify_result *res, void *ctx);

/* A delivery to one integration. The submitter fills the public fields (use
 * notify_job_new); the notifier owns the job from notifier_submit until done() returns, and
 * frees it right after done() (done must not keep the pointer; it may take its own
 * reference to job->data). done() runs on the notifier thread, except for jobs completed by
 * notifier_stop on a notifier never started and jobs submitted after notifier_stop: those
 * complete in the calling thread. The request is built once on the notifier thread, so
 * notify_data must stay immutable; *_file secrets are read at each attempt.
 *
 * Error texts in notify_result.error:
 *   "notify retry canceled due to unrecoverable error after N attempts: unexpected status
 *    code 404: <body>"                        (non-retryable status)
 *   "notify retry canceled after N attempts: <last error>"   (deadline reached)
 *   "Post \"<redacted url>\": <transport error>"             (as last error)
 *   "notification canceled"                   (notifier_stop)
 *   builder errors ("read url_file ...", "<type> has no url") */
struct notify_job {
    struct notify_data *data;        /* reference, released with the job */
    const struct integration *integ; /* inside data->cfg */
    int64_t deadline_mono_ns;        /* clock_monotonic_ns() based; 0 = none */
    notify_done_fn done;             /* called exactly once, from the notifier thread */
    void *ctx;
    /* Optional (NULL: none), set by the submitter after notify_job_new: called on the
     * notifier thread after each failed attempt that will be retried, never for a success or
     * the last attempt (done() reports those), with res: ok false, retryable true, attempts =
     * that attempt's number, last_status and error (redacted) of that attempt, latency_ns =
     * that attempt's own duration. It must not keep res or the job. */
    notify_done_fn retrying;
    struct notify_job_priv *priv; /* notifier-internal state */
};

/* New job holding a new reference to data. Never NULL. */
struct notify_job *notify_job_new(struct notify_data *data, const struct integration *integ,
                                  int64_t deadline_mono_ns, notify_done_fn done, void *ctx);
/* Frees a job that was never submitted (accepts NULL). */
void notify_job_free(struct notify_job *job);

/* ---- notifier ------------------------------------------------------------------------ */

struct notifier_opts {
    const char *user_agent; /* default "Alertmanager/0.25.0" */
    int64_t min_backoff_ns; /* default 500ms (tests may shorten) */
    int64_t max_backoff_ns; /* default 60s */
    int max_connections;    /* per-host parallel connections, default 0 = unlimited */
};

/* Per-integration-type counters for alertmanager_notification_* metrics. */
#define NOTIFY_LATENCY_BUCKETS 5 /* 1, 5, 10, 15, 20 seconds; +Inf = requests_total */
extern const double notify_latency_bounds_s[NOTIFY_LATENCY_BUCKETS];

struct notify_type_metrics {
    uint64_t requests_total;  /* HTTP attempts */
    uint64_t requests_failed; /* attempts that failed (transport or non-2xx) */
    uint64_t latency_bucket[NOTIFY_LATENCY_BUCKETS]; /* cumulative: attempts <= bound */
    double latency_sum_s;
    uint64_t latency_count;
    /* per delivery (job) */
    uint64_t notifications_total;
    uint64_t notifications_failed;
};

struct notify_metrics {
    struct notify_type_metrics type[INTEGRATION_TYPE_COUNT];
};

struct notifier;

/* opts may be NULL for defaults. Never NULL. Call curl_global_init before (or let
 * notifier_new do it once). */
struct notifier *notifier_new(const struct notifier_opts *opts);
/* Starts the thread. AR_OK or AR_EIO. */
int notifier_start(struct notifier *n);
/* Thread-safe: queues the job and wakes the loop. The notifier owns the job from here on
 * (even on error: after notifier_stop, done() is called at once with an error). */
void notifier_submit(struct notifier *n, struct notify_job *job);
/* Cancels everything pending or in flight (each done() is called with an error
 * "notification canceled"), then joins the thread. Idempotent. */
void notifier_stop(struct notifier *n);
/* Stops if needed and frees. Accepts NULL. */
void notifier_free(struct notifier *n);
/* Copies the current counters (thread-safe). */
void notifier_metrics(struct notifier *n, struct notify_metrics *out);
/* Jobs submitted and not yet completed. */
size_t notifier_pending(struct notifier *n);

#endif

/* The delivery engine (COMPAT 5.8): one thread runs a libcurl multi loop. Submitted jobs
 * arrive on a mutex-protected queue and the submitter wakes the loop with
 * curl_multi_wakeup. Each job builds its request once, then alternates between WAITING
 * (a timer: next attempt or deadline) and IN_FLIGHT (an easy handle in the multi). Retry
 * timers live in the same loop, which sleeps in curl_multi_poll until the nearest of curl's
 * own timeout and the earliest job timer. Jobs are kept in one intrusive list owned by the
 * loop thread; done() is called from that thread, without the lock, exactly once per job.
 * Finished easy handles are reset and kept (up to EASY_SPARE_MAX) for later attempts.
 *
 * Retries: first attempt at once, then 0.5s × 1.5^k with ±50% jitter capped at 60s;
 * 5xx, 429 and transport errors (timeouts included) are retryable, Retry-After (seconds or
 * HTTP-date) is honoured on 429/503, other statuses end the job at once. Each attempt is
 * bounded by the integration's timeout and by the job deadline. A 2xx is a success unless
 * the request's check (notify_request.check) reads the reply body as a failure (Slack,
 * Rocket.Chat; the body is then kept up to NOTIFY_CHECK_BODY_MAX).
 *
 * Chains: when a request succeeds and has a follow-up (notify_request.next, Opsgenie
 * update_alerts), the follow-up replaces it in the job and is sent at once with a fresh
 * backoff; a failing step is retried alone, unless it asks for the job's request to be
 * built again first (rebuild_on_retry: WeChat's token). A request's `then` step may complete
 * the follow-ups from its reply. Attempts and the deadline count over the whole
 * chain, and done() is called once: success after the last step, else the step's error.
 *
 * Cost per loop turn: O(jobs) to find due timers; fine for thousands of concurrent jobs.
 *
 * Email hook: INTEGRATION_EMAIL jobs never enter this loop. notifier_submit hands them to the
 * email worker pool (notifier_email.c, blocking libesmtp on EMAIL_WORKERS threads) which keeps
 * the same retry/deadline/done() contract; start, stop, metrics and pending cover both. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ar/clock.h"
#include "ar/integration.h"
#include "ar/log.h"
#include "ar/notifier_email.h"
#include "ar/notify.h"

#define RESP_BODY_MAX  1024 /* response bytes kept for error texts */
#define POLL_MAX_MS    1000 /* upper bound of one curl_multi_poll sleep */
#define DEFAULT_UA     "Alertmanager/0.25.0"
#define EMAIL_WORKERS  3 /* SMTP sends in parallel */
#define EASY_SPARE_MAX 64

const double notify_latency_bounds_s[NOTIFY_LATENCY_BUCKETS] = {1, 5, 10, 15, 20};

enum job_state { JOB_NEW, JOB_WAITING, JOB_IN_FLIGHT };

struct notify_job_priv {
    struct notifier *n;
    struct notify_job *job;
    struct notify_job_priv *prev, *next; /* active list (loop thread only) */
    enum job_state state;
    struct notify_request req;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *connect_to;    /* tls_config.server_name mapping */
    struct curl_slist *proxy_headers; /* proxy_connect_header */
    char *attempt_url;                /* URL rewritten for server_name, or NULL */
    struct buf resp;                  /* first RESP_BODY_MAX bytes of the response body
                                       * (NOTIFY_CHECK_BODY_MAX when the reply is checked) */
    bool resp_truncated;              /* more body arrived than resp keeps */
    char resp_ctype[128];             /* Content-Type of the last response, "" when none */
    int64_t retry_after_ns;           /* from the last response, 0 = none */
    int64_t submit_mono_ns;
    int64_t attempt_start_ns;
    int64_t wake_mono_ns; /* WAITING: next attempt */
    int64_t backoff_ns;   /* current (unjittered) backoff interval */
    int attempts;
    long last_status;
    bool last_retryable;
    char last_error[400];
    char curl_err[CURL_ERROR_SIZE];
};

struct notifier {
    struct notifier_opts opts;
    CURLM *multi;
    pthread_t thread;
    bool started;
    bool joined;
    pthread_mutex_t lock;
    /* under lock */
    struct notify_job_priv *queue_head, *queue_tail; /* linked through next */
    bool stopping;
    size_t pending;
    struct notify_metrics metrics;
    /* loop thread only */
    struct notify_job_priv *active;
    size_t nactive;                                      /* jobs in the active list */
    struct notify_job_priv *backlog_head, *backlog_tail; /* admitted when room frees up */
    uint64_t rng;
    struct email_pool *email; /* INTEGRATION_EMAIL jobs (notifier_email.c) */
    int64_t drain_until_mono; /* notifier_stop: requests on the wire may finish until then */
    /* finished easy handles kept for the next attempts (curl_easy_reset clears every
     * option, credentials included): creating and freeing one per request was a large
     * share of the loop's time in a fan-out */
    CURL *spare[EASY_SPARE_MAX];
    size_t nspare;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double rand_unit(struct notifier *n)
{
    /* xorshift64*: jitter only, no need for quality */
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return (double)((n->rng * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

/* An easy handle with default options: a spare one when there is one (loop thread only). */
static CURL *easy_get(struct notifier *n)
{
    if (n->nspare > 0) {
        CURL *e = n->spare[--n->nspare];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

/* Takes back a handle that is no longer in the multi handle. */
static void easy_put(struct notifier *n, CURL *e)
{
    if (n->nspare < EASY_SPARE_MAX) {
        n->spare[n->nspare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* ---- jobs ------------------------------------------------------------------------------ */

struct notify_job *notify_job_new(struct notify_data *data, const struct integration *integ,
                                  int64_t deadline_mono_ns, notify_done_fn done, void *ctx)
{
    struct notify_job *job = ar_calloc(1, sizeof(*job));

    job->data = notify_data_ref(data);
    job->integ = integ;
    job->deadline_mono_ns = deadline_mono_ns;
    job->done = done;
    job->ctx = ctx;
    return job;
}

static void priv_free(struct notify_job_priv *p)
{
    if (p == NULL) {
        return;
    }
    notify_request_cleanup(&p->req);
    curl_slist_free_all(p->headers);
    curl_slist_free_all(p->connect_to);
    curl_slist_free_all(p->proxy_headers);
    free(p->attempt_url);
    buf_cleanup(&p->resp);
    free(p);
}

void notify_job_free(struct notify_job *job)
{
    if (job == NULL) {
        return;
    }
    if (job->priv != NULL) {
        if (job->priv->easy != NULL) {
            curl_easy_cleanup(job->priv->easy);
        }
        priv_free(job->priv);
    }
    notify_data_unref(job->data);
    free(job);
}

static void metrics_job(struct notifier *n, enum integration_type t, bool ok)
{
    if ((int)t < 0 || t >= INTEGRATION_TYPE_COUNT) {
        return;
    }
    pthread_mutex_lock(&n->lock);
    n->metrics.type[t].notifications_total++;
    if (!ok) {
        n->metrics.type[t].notifications_failed++;
    }
    pthread_mutex_unlock(&n->lock);
}

static void metrics_attempt(struct notifier *n, enum integration_type t, bool ok, int64_t lat_ns)
{
    double s = (double)lat_ns / 1e9;
    struct notify_type_metrics *m;

    if ((int)t < 0 || t >= INTEGRATION_TYPE_COUNT) {
        return;
    }
    pthread_mutex_lock(&n->lock);
    m = &n->metrics.type[t];
    m->requests_total++;
    if (!ok) {
        m->requests_failed++;
    }
    for (int i = 0; i < NOTIFY_LATENCY_BUCKETS; i++) {
        if (s <= notify_latency_bounds_s[i]) {
            m->latency_bucket[i]++;
        }
    }
    m->latency_sum_s += s;
    m->latency_count++;
    pthread_mutex_unlock(&n->lock);
}

/* Completes a job: unlinks it from the active list, calls done() and frees it. */
static void job_complete(struct notifier *n, struct notify_job_priv *p, bool ok, bool canceled,
                         const char *error)
{
    struct notify_job *job = p->job;
    struct notify_result res;

    if (p->easy != NULL) {
        curl_multi_remove_handle(n->multi, p->easy);
        easy_put(n, p->easy);
        p->easy = NULL;
    }
    if (p->prev != NULL || n->active == p) {
        n->nactive--;
    }
    if (p->prev != NULL) {
        p->prev->next = p->next;
    } else if (n->active == p) {
        n->active = p->next;
    }
    if (p->next != NULL) {
        p->next->prev = p->prev;
    }
    p->prev = p->next = NULL;

    memset(&res, 0, sizeof(res));
    res.ok = ok;
    res.canceled = canceled;
    res.attempts = p->attempts;
    res.last_status = p->last_status;
    res.retryable = !ok && p->last_retryable;
    snprintf(res.error, sizeof(res.error), "%s", ok ? "" : error);
    res.latency_ns = clock_monotonic_ns() - p->submit_mono_ns;
    metrics_job(n, job->integ->type, ok);
    pthread_mutex_lock(&n->lock);
    n->pending--; /* before done(), so a caller woken by it sees the job gone */
    pthread_mutex_unlock(&n->lock);
    if (job->done != NULL) {
        job->done(job, &res, job->ctx);
    }
    notify_job_free(job);
}

static void job_finish(struct notifier *n, struct notify_job_priv *p, bool ok, const char *error)
{
    job_complete(n, p, ok, false, error);
}

/* notifier_stop: the job ends without an outcome of its own (notify_result.canceled). */
static void job_cancel(struct notifier *n, struct notify_job_priv *p)
{
    job_complete(n, p, false, true, "notification canceled");
}

/* ---- HTTP client settings (COMPAT 4.9) --------------------------------------------------- */

static long tls_version(const char *v, bool is_max)
{
    static const struct {
        const char *name;
        long min, max;
    } map[] = {
        {"TLS10", CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0},
        {"TLS11", CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1},
        {"TLS12", CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2},
        {"TLS13", CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3},
    };

    for (size_t i = 0; v != NULL && i < AR_ARRAY_LEN(map); i++) {
        if (strcmp(v, map[i].name) == 0) {
            return is_max ? map[i].max : map[i].min;
        }
    }
    /* prometheus/common's default minimum is TLS 1.2 */
    return is_max ? CURL_SSLVERSION_MAX_DEFAULT : CURL_SSLVERSION_TLSv1_2;
}

static void set_blob(CURL *e, CURLoption opt, const char *pem)
{
    struct curl_blob blob = {(void *)pem, strlen(pem), CURL_BLOB_COPY};

    curl_easy_setopt(e, opt, &blob);
}

/* A value or the trimmed content of its file; *owned receives a heap copy to free. */
static int secret_value(const char *value, const char *file, const char **out, char **owned,
                        const char *what, char *err, size_t errsz)
{
    *owned = NULL;
    if (file != NULL && file[0] != '\0') {
        int rc = notify_read_secret_file(file, owned);

        if (rc != AR_OK) {
            snprintf(err, errsz, "unable to read %s file %s: %s", what, file, ar_strerror(rc));
            return rc;
        }
        *out = *owned;
        return AR_OK;
    }
    *out = value;
    return AR_OK;
}

/* Adds one header line "name: value" unless the value holds a line break (header
 * injection); Go's http.Header rejects those at send time as well. */
static int add_header(struct notify_job_priv *p, const char *name, const char *value, char *err,
                      size_t errsz)
{
    char *line;

    if (strpbrk(value, "\r\n") != NULL) {
        snprintf(err, errsz, "invalid value for header %s", name);
        return AR_EINVAL;
    }
    line = ar_asprintf("%s: %s", name, value);
    p->headers = curl_slist_append(p->headers, line);
    free(line);
    return AR_OK;
}

/* http_headers (prometheus/common), decoded at load into header lines (COMPAT 4.9): values
 * and secrets as written, files read now and trimmed. */
static int apply_http_headers(struct notify_job_priv *p, const struct http_config *h, char *err,
                              size_t errsz)
{
    int rc = AR_OK;

    for (size_t i = 0; i < h->nheader_lines && rc == AR_OK; i++) {
        const struct http_header_line *l = &h->header_lines[i];
        char *owned = NULL;

        if (l->is_file) {
            rc = notify_read_secret_file(l->value, &owned);
            if (rc != AR_OK) {
                snprintf(err, errsz, "unable to read headers file %s: %s", l->value,
                         ar_strerror(rc));
                break;
            }
        }
        rc = add_header(p, l->name, owned != NULL ? owned : l->value, err, errsz);
        free(owned);
    }
    /* an unreadable file may be fixed before the next attempt; a bad value will not */
    return rc;
}

/* proxy_connect_header, decoded at load: sent to the proxy only, with CONNECT (https through
 * a proxy). A value with a line break is left out. */
static void apply_proxy_headers(struct notify_job_priv *p, CURL *e, const struct http_config *h)
{
    for (size_t i = 0; i < h->nproxy_header_lines; i++) {
        const struct http_header_line *l = &h->proxy_header_lines[i];
        char *line;

        if (strpbrk(l->value, "\r\n") != NULL) {
            continue;
        }
        line = ar_asprintf("%s: %s", l->name, l->value);
        p->proxy_headers = curl_slist_append(p->proxy_headers, line);
        free(line);
    }
    if (p->proxy_headers != NULL) {
        curl_easy_setopt(e, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
        curl_easy_setopt(e, CURLOPT_PROXYHEADER, p->proxy_headers);
    }
}

/* ---- OAuth2 client credentials (http_config.oauth2) --------------------------------------
 * Tokens are fetched with a blocking request on the notifier thread (bounded by a 10 s
 * timeout) and cached until shortly before they expire, keyed by token URL, client id and
 * scopes, so a burst of notifications costs one token request. */

#define OAUTH2_SLOTS 16

struct oauth2_token {
    char *key;   /* token_url \n client_id \n scopes */
    char *token; /* access_token */
    char *type;  /* token_type, "Bearer" by default */
    int64_t expires_mono_ns;
};

static struct oauth2_token oauth2_cache[OAUTH2_SLOTS]; /* notifier thread only */

static size_t oauth2_collect(char *ptr, size_t size, size_t n, void *ud)
{
    return buf_append(ud, ptr, size * n) == AR_OK ? size * n : 0;
}

static void form_add(struct buf *b, CURL *e, const char *k, const char *v)
{
    char *ek = curl_easy_escape(e, k, 0);
    char *ev = curl_easy_escape(e, v, 0);

    if (b->len > 0) {
        buf_putc(b, '&');
    }
    buf_printf(b, "%s=%s", ek, ev);
    curl_free(ek);
    curl_free(ev);
}

/* Sets *token and *type (borrowed from the cache) or writes err. */
static int oauth2_token_get(const struct oauth2_config *o, const char **token, const char **type,
                            char *err, size_t errsz)
{
    struct buf key;
    struct buf form;
    struct buf body;
    struct oauth2_token *slot = &oauth2_cache[0];
    const char *secret;
    char *owned = NULL;
    CURL *e;
    long status = 0;
    json_t *doc;
    json_error_t jerr;
    int64_t now = clock_monotonic_ns();
    int rc;

    buf_init(&key, 0);
    buf_printf(&key, "%s\n%s\n", o->token_url ? o->token_url : "",
               o->client_id ? o->client_id : "");
    for (size_t i = 0; i < o->scopes.n; i++) {
        buf_printf(&key, "%s ", o->scopes.v[i]);
    }
    for (int i = 0; i < OAUTH2_SLOTS; i++) {
        struct oauth2_token *t = &oauth2_cache[i];
        if (t->key != NULL && strcmp(t->key, buf_str(&key)) == 0) {
            if (t->expires_mono_ns > now) {
                *token = t->token;
                *type = t->type;
                buf_cleanup(&key);
                return AR_OK;
            }
            slot = t;
            break;
        }
        if (t->key == NULL || t->expires_mono_ns < slot->expires_mono_ns) {
            slot = t;
        }
    }
    rc = secret_value(o->client_secret, o->client_secret_file, &secret, &owned,
                      "oauth2 client secret", err, errsz);
    if (rc != AR_OK) {
        buf_cleanup(&key);
        return rc;
    }
    e = curl_easy_init();
    buf_init(&form, 0);
    buf_init(&body, 1 << 20);
    form_add(&form, e, "grant_type", "client_credentials");
    if (o->scopes.n > 0) {
        struct buf sc;
        buf_init(&sc, 0);
        for (size_t i = 0; i < o->scopes.n; i++) {
            buf_printf(&sc, "%s%s", i ? " " : "", o->scopes.v[i]);
        }
        form_add(&form, e, "scope", buf_str(&sc));
        buf_cleanup(&sc);
    }
    for (size_t i = 0; i < o->endpoint_params.n; i++) {
        form_add(&form, e, o->endpoint_params.keys[i], o->endpoint_params.values[i]);
    }
    curl_easy_setopt(e, CURLOPT_URL, o->token_url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, o->client_id ? o->client_id : "");
    curl_easy_setopt(e, CURLOPT_PASSWORD, secret ? secret : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, buf_str(&form));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, oauth2_collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, o->proxy_url ? o->proxy_url : "");
    if (o->tls_config.insecure_skip_verify) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->tls_config.ca_file != NULL && o->tls_config.ca_file[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_CAINFO, o->tls_config.ca_file);
    }
    rc = curl_easy_perform(e) == CURLE_OK ? AR_OK : AR_EIO;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    free(owned);
    buf_cleanup(&form);
    if (rc != AR_OK || status < 200 || status > 299) {
        char url[256];
        notify_redact_url(o->token_url ? o->token_url : "", url, sizeof(url));
        snprintf(err, errsz, "oauth2: cannot fetch a token from %s (status %ld)", url, status);
        buf_cleanup(&key);
        buf_cleanup(&body);
        return AR_EIO;
    }
    doc = json_loads(buf_str(&body), 0, &jerr);
    buf_cleanup(&body);
    if (doc == NULL || !json_is_string(json_object_get(doc, "access_token"))) {
        snprintf(err, errsz, "oauth2: token response without access_token");
        json_decref(doc);
        buf_cleanup(&key);
        return AR_EIO;
    }
    free(slot->key);
    free(slot->token);
    free(slot->type);
    slot->key = buf_take(&key);
    slot->token = ar_strdup(json_string_value(json_object_get(doc, "access_token")));
    slot->type = ar_strdup(json_is_string(json_object_get(doc, "token_type"))
                               ? json_string_value(json_object_get(doc, "token_type"))
                               : "Bearer");
    {
        json_int_t exp = json_is_integer(json_object_get(doc, "expires_in"))
                             ? json_integer_value(json_object_get(doc, "expires_in"))
                             : 3600;
        /* refresh 10 s early, as Go's oauth2 package does */
        slot->expires_mono_ns = now + ((int64_t)exp - 10) * AR_NS_PER_SEC;
    }
    json_decref(doc);
    *token = slot->token;
    *type = slot->type;
    return AR_OK;
}

static int apply_http_config(struct notify_job_priv *p, CURL *e, const struct http_config *h,
                             char *err, size_t errsz)
{
    const char *v1;
    const char *v2;
    char *o1;
    char *o2;
    int rc;

    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, h == NULL || h->follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L); /* Go's http.Client stops after 10 */
    curl_easy_setopt(e, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    /* Go does not read proxy variables unless proxy_from_environment is set. */
    if (h == NULL) {
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        return AR_OK;
    }
    if (h->oauth2 != NULL) {
        const char *token;
        const char *type;
        char *line;
        if (h->oauth2->token_url == NULL || h->oauth2->token_url[0] == '\0') {
            snprintf(err, errsz, "oauth2: no token_url configured");
            return AR_EINVAL;
        }
        rc = oauth2_token_get(h->oauth2, &token, &type, err, errsz);
        if (rc != AR_OK) {
            return AR_EIO; /* retryable: the token endpoint may come back */
        }
        /* Go's oauth2 transport writes "Bearer" whatever case the server used */
        line = ar_asprintf("Authorization: %s %s",
                           strcasecmp(type, "bearer") == 0 ? "Bearer" : type, token);
        p->headers = curl_slist_append(p->headers, line);
        free(line);
    }
    if (h->basic_auth != NULL) {
        rc = secret_value(h->basic_auth->username, h->basic_auth->username_file, &v1, &o1,
                          "basic auth username", err, errsz);
        if (rc != AR_OK) {
            return rc;
        }
        rc = secret_value(h->basic_auth->password, h->basic_auth->password_file, &v2, &o2,
                          "basic auth password", err, errsz);
        if (rc != AR_OK) {
            free(o1);
            return rc;
        }
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, v1 != NULL ? v1 : "");
        curl_easy_setopt(e, CURLOPT_PASSWORD, v2 != NULL ? v2 : "");
        free(o1);
        free(o2);
    }
    if (!p->req.auth_replaced) {
        const char *type = "Bearer";
        const char *cred = NULL;
        const char *file = NULL;

        if (h->authorization != NULL) {
            if (h->authorization->type != NULL && h->authorization->type[0] != '\0') {
                type = h->authorization->type;
            }
            cred = h->authorization->credentials;
            file = h->authorization->credentials_file;
        } else {
            cred = h->bearer_token;
            file = h->bearer_token_file;
        }
        if ((cred != NULL && cred[0] != '\0') || (file != NULL && file[0] != '\0')) {
            char *line;

            rc = secret_value(cred, file, &v1, &o1, "authorization credentials", err, errsz);
            if (rc != AR_OK) {
                return rc;
            }
            line = ar_asprintf("Authorization: %s %s", type, v1 != NULL ? v1 : "");
            p->headers = curl_slist_append(p->headers, line);
            free(line);
            free(o1);
        }
    }
    rc = apply_http_headers(p, h, err, errsz);
    if (rc != AR_OK) {
        return rc;
    }
    if (h->proxy_url != NULL && h->proxy_url[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_PROXY, h->proxy_url);
        /* Go sends these with CONNECT only; libcurl would also send them with plain-http
         * requests to the proxy, so only https targets (tunnelled) get them */
        if (p->req.url != NULL && strncasecmp(p->req.url, "https://", 8) == 0) {
            apply_proxy_headers(p, e, h);
        }
        if (h->no_proxy != NULL && h->no_proxy[0] != '\0') {
            curl_easy_setopt(e, CURLOPT_NOPROXY, h->no_proxy);
        }
    } else if (!h->proxy_from_environment) {
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    }
    if (!h->enable_http2) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
    {
        const struct tls_config *t = &h->tls_config;

        if (t->ca != NULL && t->ca[0] != '\0') {
            set_blob(e, CURLOPT_CAINFO_BLOB, t->ca);
        } else if (t->ca_file != NULL && t->ca_file[0] != '\0') {
            curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
        }
        if (t->cert != NULL && t->cert[0] != '\0') {
            set_blob(e, CURLOPT_SSLCERT_BLOB, t->cert);
        } else if (t->cert_file != NULL && t->cert_file[0] != '\0') {
            curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
        }
        if (t->key != NULL && t->key[0] != '\0') {
            set_blob(e, CURLOPT_SSLKEY_BLOB, t->key);
        } else if (t->key_file != NULL && t->key_file[0] != '\0') {
            curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
        }
        if (t->insecure_skip_verify) {
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_easy_setopt(e, CURLOPT_SSLVERSION,
                         tls_version(t->min_version, false) | tls_version(t->max_version, true));
    }
    return AR_OK;
}

/* tls_config.server_name: Go sends it as SNI and verifies the certificate against it while
 * the Host header stays the URL's. libcurl takes both from the URL host, so the URL is
 * rewritten to server_name, CURLOPT_CONNECT_TO points that name back at the real host and
 * an explicit Host header keeps what Go sends. Only for https without a proxy. Returns the
 * URL to use (*owned holds it when rewritten; free it after the handle is done). */
static const char *apply_server_name(struct notify_job_priv *p, CURL *e, char **owned)
{
    const struct http_config *h = p->req.http;
    const char *sn = h != NULL ? h->tls_config.server_name : NULL;
    CURLU *u;
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    char *url = NULL;
    char *line;

    *owned = NULL;
    if (sn == NULL || sn[0] == '\0' || (h->proxy_url != NULL && h->proxy_url[0] != '\0')) {
        return p->req.url;
    }
    u = curl_url();
    if (curl_url_set(u, CURLUPART_URL, p->req.url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        strcmp(scheme, "https") != 0 || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        strcmp(host, sn) == 0 || curl_url_set(u, CURLUPART_HOST, sn, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        goto out;
    }
    /* host of the original URL, with its port unless it is the default one */
    {
        char *hostport = NULL;
        char *explicit_port = NULL;

        if (curl_url_get(u, CURLUPART_PORT, &explicit_port, 0) == CURLUE_OK) {
            hostport = ar_asprintf("Host: %s:%s", host, explicit_port);
        } else {
            hostport = ar_asprintf("Host: %s", host);
        }
        p->headers = curl_slist_append(p->headers, hostport);
        free(hostport);
        curl_free(explicit_port);
    }
    line = ar_asprintf("%s:%s:%s:%s", sn, port, host, port);
    p->connect_to = curl_slist_append(p->connect_to, line);
    free(line);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, p->connect_to);
    *owned = ar_strdup(url);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return *owned != NULL ? *owned : p->req.url;
}

/* ---- attempts ------------------------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct notify_job_priv *p = ud;
    size_t n = size * nmemb;
    size_t max =
        p->req.check != NULL || p->req.then != NULL ? NOTIFY_CHECK_BODY_MAX : RESP_BODY_MAX;
    size_t room = max > p->resp.len ? max - p->resp.len : 0;

    if (n > room) {
        p->resp_truncated = true;
    }
    buf_append(&p->resp, ptr, n < room ? n : room);
    return n; /* the rest is read and dropped */
}

static int64_t parse_retry_after(const char *v)
{
    char *end;
    long long secs;

    while (*v == ' ' || *v == '\t') {
        v++;
    }
    secs = strtoll(v, &end, 10);
    if (end != v && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' ')) {
        return secs > 0 ? secs * AR_NS_PER_SEC : 0;
    }
    /* HTTP-date (IMF-fixdate and the obsolete forms), parsed by libcurl */
    {
        time_t t = curl_getdate(v, NULL);

        if (t != (time_t)-1) {
            int64_t d = ((int64_t)t * AR_NS_PER_SEC) - clock_now_ns();

            return d > 0 ? d : 0;
        }
    }
    return 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct notify_job_priv *p = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    static const char ctype[] = "content-type:";

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        p->resp_ctype[0] = '\0'; /* a new response (after a redirect or 100) */
    } else if (n > sizeof(ctype) - 1 && strncasecmp(ptr, ctype, sizeof(ctype) - 1) == 0) {
        const char *v = ptr + sizeof(ctype) - 1;
        size_t len = n - (sizeof(ctype) - 1);

        while (len > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ')) {
            len--;
        }
        snprintf(p->resp_ctype, sizeof(p->resp_ctype), "%.*s", (int)len, v);
    }
    if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        char v[128];
        size_t len = n - (sizeof(name) - 1);

        if (len >= sizeof(v)) {
            len = sizeof(v) - 1;
        }
        memcpy(v, ptr + sizeof(name) - 1, len);
        v[len] = '\0';
        p->retry_after_ns = parse_retry_after(v);
    }
    return n;
}

static int64_t min_pos(int64_t a, int64_t b)
{
    if (a <= 0) {
        return b;
    }
    if (b <= 0) {
        return a;
    }
    return a < b ? a : b;
}

enum attempt_rc { ATTEMPT_STARTED, ATTEMPT_RETRY, ATTEMPT_FINAL };

/* Starts one HTTP attempt. When the request cannot be set up, last_error says why and the
 * result tells whether trying again later may help (a secret file unreadable for now) or
 * not (an unsupported setting). */
static enum attempt_rc attempt_start(struct notifier *n, struct notify_job_priv *p, int64_t now)
{
    struct notify_job *job = p->job;
    CURL *e = easy_get(n);
    char line[256];
    int64_t timeout_ns;
    int rc;

    if (e == NULL) {
        snprintf(p->last_error, sizeof(p->last_error), "curl_easy_init failed");
        return ATTEMPT_FINAL;
    }
    curl_slist_free_all(p->headers);
    p->headers = NULL;
    curl_slist_free_all(p->connect_to);
    p->connect_to = NULL;
    curl_slist_free_all(p->proxy_headers);
    p->proxy_headers = NULL;
    AR_FREE(p->attempt_url);
    buf_reset(&p->resp);
    p->resp_truncated = false;
    p->resp_ctype[0] = '\0';
    p->retry_after_ns = 0;
    p->curl_err[0] = '\0';
    rc = apply_http_config(p, e, p->req.http, p->last_error, sizeof(p->last_error));
    if (rc != AR_OK) {
        easy_put(n, e);
        p->attempts++; /* counted like an attempt whose client failed, as upstream does */
        return rc == AR_EINVAL ? ATTEMPT_FINAL : ATTEMPT_RETRY;
    }
    if (p->req.aws_sigv4 != NULL) {
        /* signed by libcurl over the final method, URL, headers and body */
        curl_easy_setopt(e, CURLOPT_AWS_SIGV4, p->req.aws_sigv4);
        curl_easy_setopt(e, CURLOPT_USERNAME, p->req.aws_key_id != NULL ? p->req.aws_key_id : "");
        curl_easy_setopt(e, CURLOPT_PASSWORD, p->req.aws_secret != NULL ? p->req.aws_secret : "");
    }
    if (strcmp(p->req.method, "GET") != 0) {
        snprintf(line, sizeof(line), "Content-Type: %s", p->req.content_type);
        p->headers = curl_slist_append(p->headers, line);
    }
    for (size_t i = 0; i < p->req.nheaders; i++) {
        char *h = ar_asprintf("%s: %s", p->req.headers[i].name, p->req.headers[i].value);

        p->headers = curl_slist_append(p->headers, h);
        free(h);
    }
    if (p->req.aws_sigv4 == NULL) {
        /* no 100-continue round trip; not for signed requests: libcurl would sign the empty
         * header it does not send */
        p->headers = curl_slist_append(p->headers, "Expect:");
    }
    curl_easy_setopt(e, CURLOPT_URL, apply_server_name(p, e, &p->attempt_url));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(p->req.method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        /* every other request carries its body; PUT only renames the method of a POST */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, buf_str(&p->req.body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->req.body.len);
        if (strcmp(p->req.method, "POST") != 0) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, p->req.method);
        }
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, n->opts.user_agent);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, p);
    timeout_ns =
        min_pos(p->req.timeout_ns, job->deadline_mono_ns > 0 ? job->deadline_mono_ns - now : 0);
    if (timeout_ns > 0) {
        long ms = (long)((timeout_ns + AR_NS_PER_MS - 1) / AR_NS_PER_MS);

        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
    }
    p->easy = e;
    p->attempts++;
    p->attempt_start_ns = now;
    p->state = JOB_IN_FLIGHT;
    if (curl_multi_add_handle(n->multi, e) != CURLM_OK) {
        p->easy = NULL;
        easy_put(n, e);
        snprintf(p->last_error, sizeof(p->last_error), "curl_multi_add_handle failed");
        return ATTEMPT_FINAL;
    }
    return ATTEMPT_STARTED;
}

/* Builds the message for a transport error without the URL (it may hold secrets). */
static void transport_error(struct notify_job_priv *p, CURLcode cc)
{
    char url[256];
    /* COMPAT: Go's url.Error names the method as "Post", "Put" */
    const char *op = strcmp(p->req.method, "PUT") == 0 ? "Put" : "Post";

    notify_redact_url(p->req.url, url, sizeof(url));
    snprintf(p->last_error, sizeof(p->last_error), "%s \"%s\": %s", op, url,
             p->curl_err[0] != '\0' ? p->curl_err : curl_easy_strerror(cc));
    /* curl's own messages may quote the URL: they never contain userinfo or the query,
     * but keep to our redacted form to be safe */
    if (p->req.url != NULL && strstr(p->last_error, p->req.url) != NULL &&
        strcmp(url, p->req.url) != 0) {
        snprintf(p->last_error, sizeof(p->last_error), "%s \"%s\": %s", op, url,
                 curl_easy_strerror(cc));
    }
}

/* Runs the request's reply check, then its `then` step, on a 2xx answer. True when it is a
 * success. */
static bool check_reply(struct notify_job_priv *p, long status, bool *retryable)
{
    struct notify_reply r;
    char msg[sizeof(p->last_error)];

    if (p->req.check == NULL && p->req.then == NULL) {
        return true;
    }
    r.status = status;
    r.content_type = p->resp_ctype;
    r.body = buf_str(&p->resp);
    r.len = p->resp.len;
    r.truncated = p->resp_truncated;
    msg[0] = '\0';
    *retryable = false;
    if ((p->req.check == NULL || p->req.check(&r, msg, sizeof(msg), retryable)) &&
        (p->req.then == NULL || p->req.then(&p->req, &r, msg, sizeof(msg), retryable))) {
        return true;
    }
    snprintf(p->last_error, sizeof(p->last_error), "%s%s",
             p->req.error_prefix != NULL ? p->req.error_prefix : "", msg);
    return false;
}

/* After a success: moves on to the next request of the chain, sent at once with a fresh
 * backoff. False when the chain is done. */
static bool chain_advance(struct notifier *n, struct notify_job_priv *p, int64_t now)
{
    struct notify_request *next = p->req.next;

    if (next == NULL) {
        return false;
    }
    p->req.next = NULL;
    notify_request_cleanup(&p->req);
    p->req = *next; /* takes next's fields, its chain included */
    free(next);
    p->backoff_ns = n->opts.min_backoff_ns;
    p->retry_after_ns = 0;
    p->last_error[0] = '\0';
    p->state = JOB_WAITING;
    p->wake_mono_ns = now;
    return true;
}

/* Tells the submitter about a failed attempt that will be retried (job->retrying). Only
 * failures pay for it: a first-attempt success never comes here. */
static void report_retry(struct notify_job_priv *p, long status, int64_t latency_ns)
{
    struct notify_job *job = p->job;
    struct notify_result res;

    if (job->retrying == NULL) {
        return;
    }
    memset(&res, 0, sizeof(res));
    res.retryable = true;
    res.attempts = p->attempts;
    res.last_status = status;
    snprintf(res.error, sizeof(res.error), "%s", p->last_error);
    res.latency_ns = latency_ns;
    job->retrying(job, &res, job->ctx);
}

/* Schedules the next attempt, or fails the job when the deadline comes first. */
static void schedule_retry(struct notifier *n, struct notify_job_priv *p, int64_t now)
{
    double jitter = 0.5 + rand_unit(n); /* [0.5, 1.5): ±50% */
    int64_t wait = (int64_t)((double)p->backoff_ns * jitter);

    if (wait > n->opts.max_backoff_ns) {
        wait = n->opts.max_backoff_ns;
    }
    /* next interval, capped */
    p->backoff_ns = (int64_t)((double)p->backoff_ns * 1.5);
    if (p->backoff_ns > n->opts.max_backoff_ns) {
        p->backoff_ns = n->opts.max_backoff_ns;
    }
    if (p->retry_after_ns > wait) {
        wait = p->retry_after_ns;
    }
    p->state = JOB_WAITING;
    p->wake_mono_ns = now + wait;
}

static void fail_after_deadline(struct notifier *n, struct notify_job_priv *p)
{
    char msg[512];

    /* COMPAT 5.8 */
    snprintf(msg, sizeof(msg), "notify retry canceled after %d attempts: %s", p->attempts,
             p->last_error[0] != '\0' ? p->last_error : "context deadline exceeded");
    job_finish(n, p, false, msg);
}

static void attempt_done(struct notifier *n, struct notify_job_priv *p, CURLcode cc, int64_t now)
{
    long status = 0;
    bool ok = false;
    bool retryable;
    struct notify_job *job = p->job;

    curl_multi_remove_handle(n->multi, p->easy);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    }
    easy_put(n, p->easy);
    p->easy = NULL;
    p->last_status = status;
    if (cc != CURLE_OK) {
        transport_error(p, cc);
        retryable = true;
    } else if (status / 100 == 2) {
        retryable = false;
        ok = check_reply(p, status, &retryable);
    } else {
        /* COMPAT 5.8: error text carries the response body */
        if (p->resp.len > 0) {
            snprintf(p->last_error, sizeof(p->last_error), "unexpected status code %ld: %s", status,
                     buf_str(&p->resp));
        } else {
            snprintf(p->last_error, sizeof(p->last_error), "unexpected status code %ld", status);
        }
        retryable = status / 100 == 5 || (status == 429 && p->req.retry_429) ||
                    p->req.retry_any_status ||
                    (p->req.retry_status_extra != 0 && status == p->req.retry_status_extra);
    }
    if (status != 429 && status != 503) {
        p->retry_after_ns = 0;
    }
    metrics_attempt(n, job->integ->type, ok, now - p->attempt_start_ns);
    p->last_retryable = retryable;
    if (ok) {
        p->last_error[0] = '\0';
        if (!chain_advance(n, p, now)) {
            job_finish(n, p, true, "");
        }
        return;
    }
    if (!retryable) {
        char msg[512];

        snprintf(msg, sizeof(msg),
                 "notify retry canceled due to unrecoverable error after %d attempts: %s",
                 p->attempts, p->last_error);
        job_finish(n, p, false, msg);
        return;
    }
    if (job->deadline_mono_ns > 0 && now >= job->deadline_mono_ns) {
        fail_after_deadline(n, p);
        return;
    }
    if (p->req.rebuild_on_retry) {
        struct ar_error err;

        err.msg[0] = '\0';
        notify_request_cleanup(&p->req);
        notify_request_init(&p->req);
        if (integration_build_request(job->data, job->integ, &p->req, &err) != AR_OK) {
            p->last_retryable = false;
            job_finish(n, p, false, err.msg);
            return;
        }
    }
    schedule_retry(n, p, now);
    report_retry(p, p->last_status, now - p->attempt_start_ns);
    log_debug("notify",
              "notify attempt %d for receiver %s integration %s[%d] failed, will retry: %s",
              p->attempts, job->data->receiver_name, integration_type_name(job->integ->type),
              job->integ->index, p->last_error);
}

/* First turn of a new job: builds its request (once; later attempts reuse it). */
static void job_begin(struct notifier *n, struct notify_job_priv *p, int64_t now)
{
    struct ar_error err;

    err.msg[0] = '\0';
    p->state = JOB_WAITING;
    p->wake_mono_ns = now;
    p->backoff_ns = n->opts.min_backoff_ns;
    notify_request_init(&p->req);
    if (integration_build_request(p->job->data, p->job->integ, &p->req, &err) != AR_OK) {
        p->last_retryable = false;
        job_finish(n, p, false, err.msg);
        return;
    }
}

/* ---- loop -------------------------------------------------------------------------------- */

static void cancel_all(struct notifier *n)
{
    struct notify_job_priv *q;
    size_t canceled = 0;

    pthread_mutex_lock(&n->lock);
    q = n->queue_head;
    n->queue_head = n->queue_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    while (q != NULL) {
        struct notify_job_priv *next = q->next;

        q->next = NULL;
        q->prev = NULL;
        /* not in the active list: link it so job_finish's unlink is a no-op */
        job_cancel(n, q);
        canceled++;
        q = next;
    }
    while (n->backlog_head != NULL) {
        struct notify_job_priv *b = n->backlog_head;
        n->backlog_head = b->next;
        b->next = NULL;
        job_cancel(n, b);
        canceled++;
    }
    n->backlog_tail = NULL;
    while (n->active != NULL) {
        job_cancel(n, n->active);
        canceled++;
    }
    if (canceled > 0) {
        log_warn("notify",
                 "stop: %zu notifications not sent yet were canceled; with the outbox they "
                 "stay pending and are resumed at the next start",
                 canceled);
    }
}

#define MAX_ACTIVE      256
#define NOTIFY_DRAIN_NS (3 * AR_NS_PER_SEC)
#define DRAIN_POLL_MS   20

static bool any_in_flight(const struct notifier *n)
{
    for (const struct notify_job_priv *p = n->active; p != NULL; p = p->next) {
        if (p->state == JOB_IN_FLIGHT) {
            return true;
        }
    }
    return false;
}

static void *loop_main(void *arg)
{
    struct notifier *n = arg;

    for (;;) {
        struct notify_job_priv *incoming;
        bool stopping;
        int64_t now;
        int64_t next_wake = 0;
        int running = 0;
        long curl_ms = -1;
        int timeout_ms;
        CURLMsg *msg;
        int left;

        pthread_mutex_lock(&n->lock);
        incoming = n->queue_head;
        n->queue_head = n->queue_tail = NULL;
        stopping = n->stopping;
        pthread_mutex_unlock(&n->lock);
        now = clock_monotonic_ns();
        /* Admission: at most MAX_ACTIVE jobs are being sent or waiting to retry; the rest
         * wait in order. libcurl's per-handle bookkeeping and the timer scan below are linear
         * in the active jobs, so a 10k-group fan-out must not add 10k handles at once. */
        while (incoming != NULL) {
            struct notify_job_priv *p = incoming;

            incoming = p->next;
            p->next = NULL;
            if (n->backlog_tail != NULL) {
                n->backlog_tail->next = p;
            } else {
                n->backlog_head = p;
            }
            n->backlog_tail = p;
        }
        while (n->backlog_head != NULL && n->nactive < MAX_ACTIVE && !stopping) {
            struct notify_job_priv *p = n->backlog_head;

            n->backlog_head = p->next;
            if (n->backlog_head == NULL) {
                n->backlog_tail = NULL;
            }
            p->next = n->active;
            p->prev = NULL;
            if (n->active != NULL) {
                n->active->prev = p;
            }
            n->active = p;
            n->nactive++;
            job_begin(n, p, now);
        }
        if (stopping) {
            /* Requests already on the wire may finish for a short while, so a receiver that
             * got the notification also has it recorded as delivered (and, in a cluster,
             * its claim done) instead of sent again after the restart; nothing new starts. */
            if (n->drain_until_mono == 0) {
                n->drain_until_mono = now + NOTIFY_DRAIN_NS;
            }
            if (!any_in_flight(n) || now >= n->drain_until_mono) {
                cancel_all(n);
                break;
            }
        }
        /* due timers (none while stopping: no new attempt starts) */
        for (struct notify_job_priv *p = stopping ? NULL : n->active, *next; p != NULL; p = next) {
            next = p->next;
            if (p->state != JOB_WAITING) {
                continue;
            }
            if (p->job->deadline_mono_ns > 0 && now >= p->job->deadline_mono_ns) {
                fail_after_deadline(n, p);
                continue;
            }
            if (p->wake_mono_ns <= now) {
                enum attempt_rc arc = attempt_start(n, p, now);

                if (arc == ATTEMPT_FINAL) {
                    p->last_retryable = false;
                    job_finish(n, p, false, p->last_error);
                } else if (arc == ATTEMPT_RETRY) {
                    p->last_retryable = true;
                    schedule_retry(n, p, now);
                    report_retry(p, 0, 0); /* set up failed: no HTTP status */
                }
            }
        }
        curl_multi_perform(n->multi, &running);
        now = clock_monotonic_ns();
        while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
            char *priv = NULL;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            attempt_done(n, (struct notify_job_priv *)(void *)priv, msg->data.result, now);
        }
        /* nearest timer */
        for (struct notify_job_priv *p = n->active; p != NULL; p = p->next) {
            int64_t w;

            if (p->state != JOB_WAITING) {
                continue;
            }
            w = p->wake_mono_ns;
            if (p->job->deadline_mono_ns > 0 && p->job->deadline_mono_ns < w) {
                w = p->job->deadline_mono_ns;
            }
            if (next_wake == 0 || w < next_wake) {
                next_wake = w;
            }
        }
        timeout_ms = POLL_MAX_MS;
        if (next_wake != 0) {
            int64_t d = next_wake - now;

            d = d <= 0 ? 0 : (d + AR_NS_PER_MS - 1) / AR_NS_PER_MS;
            if (d < timeout_ms) {
                timeout_ms = (int)d;
            }
        }
        curl_multi_timeout(n->multi, &curl_ms);
        if (curl_ms >= 0 && curl_ms < timeout_ms) {
            timeout_ms = (int)curl_ms;
        }
        if (!stopping && n->backlog_head != NULL && n->nactive < MAX_ACTIVE) {
            timeout_ms = 0; /* room freed this turn: admit the backlog at once */
        }
        if (stopping && timeout_ms > DRAIN_POLL_MS) {
            timeout_ms = DRAIN_POLL_MS;
        }
        if (timeout_ms > 0) {
            curl_multi_poll(n->multi, NULL, 0, timeout_ms, NULL);
        }
    }
    return NULL;
}

/* ---- public ------------------------------------------------------------------------------- */

struct notifier *notifier_new(const struct notifier_opts *opts)
{
    struct notifier *n = ar_calloc(1, sizeof(*n));

    pthread_once(&curl_once, curl_init_once);
    if (opts != NULL) {
        n->opts = *opts;
    }
    if (n->opts.user_agent == NULL) {
        n->opts.user_agent = DEFAULT_UA;
    }
    if (n->opts.min_backoff_ns <= 0) {
        n->opts.min_backoff_ns = 500 * AR_NS_PER_MS;
    }
    if (n->opts.max_backoff_ns <= 0) {
        n->opts.max_backoff_ns = 60 * AR_NS_PER_SEC;
    }
    n->multi = curl_multi_init();
    if (n->multi == NULL) {
        abort(); /* only fails on out-of-memory */
    }
    if (n->opts.max_connections > 0) {
        curl_multi_setopt(n->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n->opts.max_connections);
    }
    /* Keep finished connections for reuse (keep-alive), so a burst of notifications to one
     * receiver does not open one connection each. */
    curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, 256L);
    pthread_mutex_init(&n->lock, NULL);
    n->rng =
        (uint64_t)clock_monotonic_ns() ^ ((uint64_t)(uintptr_t)n << 17) ^ 0x9e3779b97f4a7c15ULL;
    if (n->rng == 0) {
        n->rng = 1;
    }
    n->email = email_pool_new(EMAIL_WORKERS, n->opts.min_backoff_ns, n->opts.max_backoff_ns);
    return n;
}

int notifier_start(struct notifier *n)
{
    if (n->started) {
        return AR_ESTATE;
    }
    if (email_pool_start(n->email) != AR_OK) {
        return AR_EIO;
    }
    if (pthread_create(&n->thread, NULL, loop_main, n) != 0) {
        email_pool_stop(n->email);
        return AR_EIO;
    }
    pthread_setname_np(n->thread, "ar-notify"); /* visible in top -H, perf, /proc */
    n->started = true;
    return AR_OK;
}

void notifier_submit(struct notifier *n, struct notify_job *job)
{
    struct notify_job_priv *p;
    bool stopped;
    bool wake;

    if (job->integ != NULL && job->integ->type == INTEGRATION_EMAIL) {
        email_pool_submit(n->email, job); /* the pool owns it from here */
        return;
    }
    p = ar_calloc(1, sizeof(*p));
    p->n = n;
    p->job = job;
    p->submit_mono_ns = clock_monotonic_ns();
    buf_init(&p->resp, RESP_BODY_MAX + 1);
    job->priv = p;
    pthread_mutex_lock(&n->lock);
    stopped = n->stopping;
    n->pending++;
    /* the loop takes the whole queue at once: only the job that finds it empty needs to
     * wake it (a wakeup stays pending until the loop's next poll) */
    wake = n->queue_head == NULL;
    if (!stopped) {
        if (n->queue_tail != NULL) {
            n->queue_tail->next = p;
        } else {
            n->queue_head = p;
        }
        n->queue_tail = p;
    }
    pthread_mutex_unlock(&n->lock);
    if (stopped) {
        /* no loop any more: complete here, in the caller's thread */
        job_cancel(n, p);
        return;
    }
    if (wake) {
        curl_multi_wakeup(n->multi);
    }
}

void notifier_stop(struct notifier *n)
{
    email_pool_stop(n->email);
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    pthread_mutex_unlock(&n->lock);
    if (n->started && !n->joined) {
        curl_multi_wakeup(n->multi);
        pthread_join(n->thread, NULL);
        n->joined = true;
    } else if (!n->started) {
        cancel_all(n); /* jobs submitted before a start that never came */
    }
}

void notifier_free(struct notifier *n)
{
    if (n == NULL) {
        return;
    }
    notifier_stop(n);
    email_pool_free(n->email);
    while (n->nspare > 0) {
        curl_easy_cleanup(n->spare[--n->nspare]);
    }
    curl_multi_cleanup(n->multi);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

void notifier_metrics(struct notifier *n, struct notify_metrics *out)
{
    pthread_mutex_lock(&n->lock);
    *out = n->metrics;
    pthread_mutex_unlock(&n->lock);
    email_pool_metrics_add(n->email, out);
}

size_t notifier_pending(struct notifier *n)
{
    size_t v;

    pthread_mutex_lock(&n->lock);
    v = n->pending;
    pthread_mutex_unlock(&n->lock);
    return v + email_pool_pending(n->email);
}

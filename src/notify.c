/* Notification data, requests, reply checks and the helpers the per-type builders share
 * (COMPAT 5.6, 9.1); the builders themselves are rows of the integration table
 * (integration.c) and live in notifier_<type>.c.
 * The delivery engine itself (curl multi loop, retries) is in notify_engine.c.
 * notify_data is immutable after notify_data_new and shared by reference between the core
 * and the notifier thread (atomic refcount). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ar/alert.h"
#include "ar/json_out.h"
#include "ar/notify.h"

#define SECRET_FILE_MAX (64 * 1024)

struct notify_data *notify_data_new(struct config *cfg, const struct receiver *receiver,
                                    const char *group_key, const struct labelset *group_labels,
                                    struct alert *const *alerts, const bool *resolved,
                                    size_t nalerts, const char *external_url, int64_t now_ns)
{
    struct notify_data *d = ar_calloc(1, sizeof(*d));

    d->refs = 1;
    d->cfg = cfg != NULL ? config_ref(cfg) : NULL;
    d->receiver = receiver;
    d->receiver_name = ar_strdup(receiver != NULL && receiver->name != NULL ? receiver->name : "");
    d->group_key = ar_strdup(group_key != NULL ? group_key : "");
    labelset_init(&d->group_labels);
    if (group_labels != NULL) {
        labelset_dup(&d->group_labels, group_labels);
    }
    d->nalerts = nalerts;
    d->alerts = ar_calloc(nalerts > 0 ? nalerts : 1, sizeof(*d->alerts));
    d->resolved = ar_calloc(nalerts > 0 ? nalerts : 1, sizeof(*d->resolved));
    for (size_t i = 0; i < nalerts; i++) {
        d->alerts[i] = alert_ref(alerts[i]);
        d->resolved[i] = resolved != NULL ? resolved[i] : alert_resolved_at(alerts[i], now_ns);
    }
    d->external_url = ar_strdup(external_url != NULL ? external_url : "");
    d->now_ns = now_ns;
    return d;
}

struct notify_data *notify_data_ref(struct notify_data *d)
{
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
    return d;
}

void notify_data_unref(struct notify_data *d)
{
    int left;

    if (d == NULL) {
        return;
    }
    left = __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
    if (left < 0) {
        abort(); /* refcount underflow */
    }
    if (left > 0) {
        return;
    }
    for (size_t i = 0; i < d->nalerts; i++) {
        alert_unref(d->alerts[i]);
    }
    free(d->alerts);
    free(d->resolved);
    labelset_cleanup(&d->group_labels);
    free(d->receiver_name);
    free(d->group_key);
    free(d->external_url);
    free(d->override_title);
    free(d->override_text);
    free(d->override_message);
    config_unref(d->cfg);
    free(d);
}

void notify_data_set_override(struct notify_data *d, const char *title, const char *text)
{
    size_t tl = strlen(title);
    size_t xl = strlen(text);

    free(d->override_title);
    free(d->override_text);
    free(d->override_message);
    d->override_title = ar_strdup(title);
    d->override_text = ar_strdup(text);
    d->override_message = ar_malloc(tl + xl + 2);
    memcpy(d->override_message, title, tl);
    d->override_message[tl] = '\n';
    memcpy(d->override_message + tl + 1, text, xl + 1);
}

bool notify_data_has_firing(const struct notify_data *d)
{
    for (size_t i = 0; i < d->nalerts; i++) {
        if (!d->resolved[i]) {
            return true;
        }
    }
    return false;
}

void notify_common_labels(const struct notify_data *d, size_t n, bool of_annotations,
                          struct labelset *out)
{
    struct labelset first_scratch;
    const struct labelset *first;
    bool *same;
    size_t left;

    labelset_init(out);
    if (n == 0) {
        return;
    }
    /* annotations may be packed: each alert's are unpacked once, the first's kept */
    labelset_init(&first_scratch);
    first =
        of_annotations ? alert_annotations(d->alerts[0], &first_scratch) : &d->alerts[0]->labels;
    same = ar_malloc((first->n ? first->n : 1) * sizeof(*same));
    for (size_t l = 0; l < first->n; l++) {
        same[l] = true;
    }
    left = first->n;
    for (size_t i = 1; i < n && left > 0; i++) {
        struct labelset scratch;
        const struct labelset *ls;

        labelset_init(&scratch);
        ls = of_annotations ? alert_annotations(d->alerts[i], &scratch) : &d->alerts[i]->labels;
        for (size_t l = 0; l < first->n; l++) {
            const char *v;

            if (!same[l]) {
                continue;
            }
            v = labelset_get(ls, first->v[l].name);
            if (v == NULL || strcmp(v, first->v[l].value) != 0) {
                same[l] = false;
                left--;
            }
        }
        labelset_cleanup(&scratch);
    }
    for (size_t l = 0; l < first->n; l++) {
        if (same[l]) {
            labelset_set(out, first->v[l].name, first->v[l].value);
        }
    }
    free(same);
    labelset_cleanup(&first_scratch);
}

int notify_read_secret_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *data;
    size_t len;
    size_t start = 0;

    if (f == NULL) {
        return AR_EIO;
    }
    data = ar_malloc(SECRET_FILE_MAX + 1);
    len = fread(data, 1, SECRET_FILE_MAX + 1, f);
    if (ferror(f)) {
        fclose(f);
        free(data);
        return AR_EIO;
    }
    fclose(f);
    if (len > SECRET_FILE_MAX) {
        free(data);
        return AR_ELIMIT;
    }
    while (len > 0 && isspace((unsigned char)data[len - 1])) {
        len--;
    }
    while (start < len && isspace((unsigned char)data[start])) {
        start++;
    }
    *out = ar_strndup(data + start, len - start);
    free(data);
    return AR_OK;
}

/* Paths that carry a token themselves (Telegram /bot<token>/, Slack, Discord, Teams and
 * Mattermost incoming-webhook URLs) are hidden whole, as upstream hides secret URLs. */
static bool secret_path(const char *path, const char *end)
{
    static const char *const marks[] = {"/bot",        "/services/",  "/api/webhooks/",
                                        "/webhookb2/", "/workflows/", "/hooks/",
                                        "/webhook/"};
    size_t len = (size_t)(end - path);

    for (size_t i = 0; i < AR_ARRAY_LEN(marks); i++) {
        size_t ml = strlen(marks[i]);

        for (size_t off = 0; off + ml <= len; off++) {
            if (memcmp(path + off, marks[i], ml) == 0) {
                return true;
            }
        }
    }
    return false;
}

void notify_redact_url(const char *url, char *out, size_t outsz)
{
    struct buf b;
    const char *p = url != NULL ? url : "";
    const char *scheme_end = strstr(p, "://");
    const char *auth = scheme_end != NULL ? scheme_end + 3 : p;
    const char *auth_end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    const char *q;

    if (outsz == 0) {
        return;
    }
    for (const char *c = auth; c < auth_end; c++) {
        if (*c == '@') {
            at = c;
        }
    }
    buf_init(&b, 0);
    buf_append(&b, p, (size_t)(auth - p));
    if (at != NULL) {
        buf_puts(&b, "<redacted>@");
        auth = at + 1;
    }
    q = auth + strcspn(auth, "?#");
    if (secret_path(auth_end, q)) {
        buf_append(&b, auth, (size_t)(auth_end - auth));
        buf_puts(&b, "/<redacted>");
    } else {
        buf_append(&b, auth, (size_t)(q - auth));
    }
    if (*q == '?') {
        buf_puts(&b, "?<redacted>");
    }
    snprintf(out, outsz, "%s", buf_str(&b));
    buf_cleanup(&b);
}

void notify_request_init(struct notify_request *r)
{
    memset(r, 0, sizeof(*r));
    r->method = "POST";
    r->content_type = "application/json";
    buf_init(&r->body, 0);
    /* Retried besides 5xx and transport errors, as the engine's contract says; upstream
     * 0.25 webhooks treat 429 as final, so a notifier may turn this off. */
    r->retry_429 = true;
}

void notify_request_cleanup(struct notify_request *r)
{
    struct notify_request *next;

    if (r == NULL) {
        return;
    }
    next = r->next;
    free(r->url);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->error_prefix);
    if (r->then_free != NULL) {
        r->then_free(r->then_ctx);
    }
    free(r->aws_sigv4);
    free(r->aws_key_id);
    free(r->aws_secret);
    buf_cleanup(&r->body);
    memset(r, 0, sizeof(*r));
    while (next != NULL) { /* iterative: a chain never recurses */
        struct notify_request *q = next;

        next = q->next;
        q->next = NULL;
        notify_request_cleanup(q);
        free(q);
    }
}

struct notify_request *notify_request_chain_new(struct notify_request *r)
{
    struct notify_request *q = ar_malloc(sizeof(*q));

    notify_request_init(q);
    q->http = r->http;
    q->timeout_ns = r->timeout_ns;
    q->retry_429 = r->retry_429;
    q->retry_any_status = r->retry_any_status;
    q->retry_status_extra = r->retry_status_extra;
    while (r->next != NULL) {
        r = r->next;
    }
    r->next = q;
    return q;
}

void notify_request_add_header(struct notify_request *r, const char *name, const char *value)
{
    r->headers = ar_realloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    r->headers[r->nheaders].name = ar_strdup(name);
    r->headers[r->nheaders].value = ar_strdup(value);
    r->nheaders++;
}

/* ---- helpers shared by the chat/HTTP notifiers ---------------------------------------- */

int notify_secret(const char *value, const char *file, const char *what, char **out,
                  struct ar_error *err)
{
    if (file != NULL && file[0] != '\0') {
        /* COMPAT 4.8: *_file secrets are read at each send and trimmed */
        int rc = notify_read_secret_file(file, out);

        if (rc != AR_OK) {
            ar_error_set(err, "read %s_file %s: %s", what, file, ar_strerror(rc));
        }
        return rc;
    }
    *out = ar_strdup(value != NULL ? value : "");
    return AR_OK;
}

int notify_required_secret(const char *value, const char *file, const char *what, const char *type,
                           char **out, struct ar_error *err)
{
    int rc = notify_secret(value, file, what, out, err);

    if (rc == AR_OK && (*out)[0] == '\0') {
        AR_FREE(*out);
        ar_error_set(err, "%s has no %s", type, what);
        rc = AR_EINVAL;
    }
    return rc;
}

/* Length of the UTF-8 sequence at p (1 for an invalid byte); *valid tells which. */
static size_t utf8_seq(const unsigned char *p, size_t left, bool *valid)
{
    size_t n;
    uint32_t cp;

    *valid = false;
    if (p[0] < 0x80) {
        *valid = true;
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
        cp = p[0] & 0x1Fu;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        cp = p[0] & 0x0Fu;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        cp = p[0] & 0x07u;
    } else {
        return 1;
    }
    if (left < n) {
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 1;
        }
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 1;
    }
    *valid = true;
    return n;
}

char *notify_truncate_runes(const char *s, size_t n, bool *truncated)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t runes = 0;
    size_t cut = 0; /* byte offset after rune n-1 (or n when n <= 3) */
    size_t keep = n <= 3 ? n : n - 1;
    bool valid;

    for (size_t i = 0; i < len; runes++) {
        if (runes == keep) {
            cut = i;
        }
        i += utf8_seq(p + i, len - i, &valid);
    }
    if (runes <= n) {
        *truncated = false;
        return ar_strdup(s);
    }
    *truncated = true;
    if (keep == 0) {
        cut = 0;
    }
    char *out = ar_malloc(cut + 4);
    memcpy(out, s, cut);
    if (n <= 3) {
        out[cut] = '\0';
    } else {
        memcpy(out + cut, "\xE2\x80\xA6", 4);
    }
    return out;
}

char *notify_truncate_bytes(const char *s, size_t n, bool *truncated)
{
    size_t len = strlen(s);

    if (len <= n) {
        *truncated = false;
        return ar_strdup(s);
    }
    *truncated = true;
    if (n <= 3) {
        return ar_strndup(s, n);
    }
    char *out = ar_malloc(n + 1);
    memcpy(out, s, n - 3);
    memcpy(out + n - 3, "\xE2\x80\xA6", 4);
    return out;
}

void notify_json_obj_put(struct notify_json_obj *o, const char *key, const char *v)
{
    if (v == NULL || v[0] == '\0') {
        return;
    }
    buf_puts(o->b, o->first ? "{\"" : ",\"");
    o->first = false;
    buf_puts(o->b, key);
    buf_puts(o->b, "\":");
    notify_json_str(o->b, v);
}

int notify_json_str(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t len = strlen((const char *)p);
    bool clean = true;
    bool valid;

    for (size_t i = 0; i < len && clean;) {
        i += utf8_seq(p + i, len - i, &valid);
        clean = valid;
    }
    if (clean) {
        return json_put_string(b, (const char *)p, len);
    }
    /* COMPAT: encoding/json writes each invalid byte as U+FFFD */
    struct buf tmp;
    int rc;

    buf_init(&tmp, 0);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i, &valid);

        if (valid) {
            buf_append(&tmp, p + i, n);
        } else {
            buf_puts(&tmp, "\xEF\xBF\xBD");
        }
        i += n;
    }
    rc = json_put_string(b, buf_str(&tmp), tmp.len);
    buf_cleanup(&tmp);
    return rc;
}

void notify_sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < mdlen && i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    out[64] = '\0';
}

void notify_query_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else if (*p == ' ') {
            buf_putc(b, '+');
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

/* ---- reply checks ----------------------------------------------------------------------- */

#define REPLY_EXCERPT_MAX 200

void notify_reply_excerpt(const char *body, size_t len, char *out, size_t outsz)
{
    size_t n = len < REPLY_EXCERPT_MAX ? len : REPLY_EXCERPT_MAX;
    size_t k = 0;

    if (outsz == 0) {
        return;
    }
    for (size_t i = 0; i < n && k + 1 < outsz; i++) {
        unsigned char c = (unsigned char)body[i];

        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[k] = '\0';
    if (len > n && k + 4 <= outsz) {
        memcpy(out + k, "\xe2\x80\xa6", 4); /* "…" and the NUL */
    }
}

static bool reply_json(const struct notify_reply *r, const char *key, bool *ok, const char **error,
                       void **root, char *err, size_t errsz)
{
    json_error_t je;
    json_t *j = NULL;
    json_t *v;
    char ex[REPLY_EXCERPT_MAX + 8];
    const char *why = NULL;

    *root = NULL;
    *ok = false;
    *error = "";
    notify_reply_excerpt(r->body, r->len, ex, sizeof(ex));
    if (r->truncated) {
        why = "reply too long";
    } else {
        j = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (j == NULL) {
            why = je.text;
        } else if (json_is_null(j)) {
            json_decref(j); /* COMPAT: Go decodes null into the zero struct */
            return true;
        } else if (!json_is_object(j)) {
            why = "not a JSON object";
        } else {
            v = json_object_get(j, key);
            if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
                why = "a field is not a boolean";
            } else {
                *ok = v != NULL && json_is_true(v);
            }
            v = json_object_get(j, "error");
            if (why == NULL && v != NULL && !json_is_null(v) && !json_is_string(v)) {
                why = "field error is not a string";
            } else if (v != NULL && json_is_string(v)) {
                *error = json_string_value(v);
            }
        }
    }
    if (why != NULL) {
        snprintf(err, errsz, "could not unmarshal JSON response \"%s\": %s", ex, why);
        json_decref(j);
        *ok = false;
        *error = "";
        return false;
    }
    *root = j;
    return true;
}

bool notify_reply_json_flag(const struct notify_reply *r, const char *key, const char *service,
                            char *err, size_t errsz, bool *retryable)
{
    char ex[256];
    const char *error;
    void *root;
    bool ok;

    *retryable = false;
    if (!reply_json(r, key, &ok, &error, &root, err, errsz)) {
        *retryable = true; /* COMPAT: an undecodable JSON reply is retried */
        return false;
    }
    if (!ok) {
        notify_reply_excerpt(error, strlen(error), ex, sizeof(ex));
        snprintf(err, errsz, "error response from %s: %s", service, ex);
    }
    json_decref(root);
    return ok;
}

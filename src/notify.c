/* Notification data, requests and the per-type payload builder table (COMPAT 5.6, 9.1).
 * The delivery engine itself (curl multi loop, retries) is in notify_engine.c.
 * notify_data is immutable after notify_data_new and shared by reference between the core
 * and the notifier thread (atomic refcount). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar/alert.h"
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
    config_unref(d->cfg);
    free(d);
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
    labelset_init(out);
    if (n == 0) {
        return;
    }
    const struct labelset *first =
        of_annotations ? &d->alerts[0]->annotations : &d->alerts[0]->labels;
    for (size_t l = 0; l < first->n; l++) {
        bool same = true;

        for (size_t i = 1; i < n && same; i++) {
            const struct labelset *ls =
                of_annotations ? &d->alerts[i]->annotations : &d->alerts[i]->labels;
            const char *v = labelset_get(ls, first->v[l].name);

            same = v != NULL && strcmp(v, first->v[l].value) == 0;
        }
        if (same) {
            labelset_set(out, first->v[l].name, first->v[l].value);
        }
    }
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
    buf_append(&b, auth, (size_t)(q - auth));
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
    if (r == NULL) {
        return;
    }
    free(r->url);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    buf_cleanup(&r->body);
    memset(r, 0, sizeof(*r));
}

void notify_request_add_header(struct notify_request *r, const char *name, const char *value)
{
    r->headers = ar_realloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    r->headers[r->nheaders].name = ar_strdup(name);
    r->headers[r->nheaders].value = ar_strdup(value);
    r->nheaders++;
}

/* ---- builder table: one entry per implemented integration type ------------------------ */

typedef int (*notify_build_fn)(const struct notify_data *d, const void *cfg,
                               struct notify_request *out, struct ar_error *err);

static int build_webhook(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err)
{
    return notify_webhook_build(d, cfg, out, err);
}

static const struct {
    enum integration_type type;
    notify_build_fn build;
} builders[] = {
    {INTEGRATION_WEBHOOK, build_webhook},
};

int notify_build_request(const struct notify_data *d, const struct integration *integ,
                         struct notify_request *out, struct ar_error *err)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(builders); i++) {
        if (builders[i].type == integ->type) {
            return builders[i].build(d, integ->cfg, out, err);
        }
    }
    ar_error_set(err, "%s notifier not implemented", integration_type_name(integ->type));
    return AR_ENOTFOUND;
}

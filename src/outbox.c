/* Durable outbox (ar/outbox.h): payload JSON, the writes queued in the core thread's
 * transaction, delivery states and ids. The SQL lives in store_outbox.c, the
 * /api/x/deliveries endpoints in api_deliveries.c and the `alertrouter deliveries` client in
 * cli_deliveries.c. */
#include "ar/outbox.h"

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/json_out.h"
#include "ar/txn.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- payload ---- */

/* The payload is written on the core thread for every notification, so it is built with the
 * buffer writers (json_out.h) rather than a jansson tree; outbox_payload_decode reads it back
 * with jansson (key order does not matter there). */
static void put_i64(struct buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_key_i64(struct buf *b, const char *key, int64_t v)
{
    buf_puts(b, key);
    put_i64(b, v);
}

static void put_fps(struct buf *b, const uint64_t *v, size_t n)
{
    char fp[17];

    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(b, ',');
        }
        fingerprint_format(v[i], fp);
        buf_putc(b, '"');
        buf_append(b, fp, 16);
        buf_putc(b, '"');
    }
    buf_putc(b, ']');
}

char *outbox_payload_encode(struct buf *scratch, const struct notify_data *nd,
                            const uint64_t *firing, size_t nfiring, const uint64_t *resolved,
                            size_t nresolved, int64_t expiry_ns)
{
    struct buf b;
    char fp[17];

    if (scratch != NULL) {
        buf_reset(scratch);
        b = *scratch;
    } else {
        buf_init(&b, 0);
    }
    buf_puts(&b, "{\"alerts\":[");
    for (size_t i = 0; i < nd->nalerts; i++) {
        const struct alert *a = nd->alerts[i];
        if (i > 0) {
            buf_putc(&b, ',');
        }
        buf_puts(&b, "{\"labels\":");
        json_put_labelset(&b, &a->labels);
        buf_puts(&b, ",\"annotations\":");
        alert_put_annotations_json(&b, a);
        put_key_i64(&b, ",\"startsAt\":", a->starts_at);
        put_key_i64(&b, ",\"endsAt\":", a->ends_at);
        put_key_i64(&b, ",\"updatedAt\":", a->updated_at);
        put_key_i64(&b, ",\"startsOff\":", a->starts_off_min);
        put_key_i64(&b, ",\"endsOff\":", a->ends_off_min);
        buf_puts(&b, a->timeout ? ",\"timeout\":true" : ",\"timeout\":false");
        buf_puts(&b, ",\"generatorURL\":");
        json_put_cstr(&b, a->generator_url ? a->generator_url : "");
        fingerprint_format(a->fp, fp);
        buf_puts(&b, ",\"fingerprint\":\"");
        buf_append(&b, fp, 16);
        buf_puts(&b, nd->resolved[i] ? "\",\"resolved\":true}" : "\",\"resolved\":false}");
    }
    buf_puts(&b, "],\"groupLabels\":");
    json_put_labelset(&b, &nd->group_labels);
    buf_puts(&b, ",\"externalURL\":");
    json_put_cstr(&b, nd->external_url ? nd->external_url : "");
    put_key_i64(&b, ",\"flushAt\":", nd->now_ns);
    buf_puts(&b, ",\"firing\":");
    put_fps(&b, firing, nfiring);
    buf_puts(&b, ",\"resolved\":");
    put_fps(&b, resolved, nresolved);
    put_key_i64(&b, ",\"expiry\":", expiry_ns);
    buf_putc(&b, '}');
    if (scratch == NULL) {
        return buf_take(&b);
    }
    *scratch = b; /* keeps the grown capacity for the next payload */
    return ar_strndup(b.data, b.len);
}

static int labels_from(const json_t *o, struct labelset *ls)
{
    const char *k;
    json_t *v;

    labelset_init(ls);
    if (!json_is_object(o)) {
        return AR_EINVAL;
    }
    json_object_foreach((json_t *)o, k, v)
    {
        if (!json_is_string(v)) {
            return AR_EINVAL;
        }
        labelset_set(ls, k, json_string_value(v));
    }
    return AR_OK;
}

static int fps_from(const json_t *a, uint64_t **out, size_t *n)
{
    size_t i;
    json_t *v;

    *n = 0;
    *out = ar_malloc((json_array_size(a) + 1) * sizeof(uint64_t));
    if (!json_is_array(a)) {
        return AR_EINVAL;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || fingerprint_parse(json_string_value(v), &(*out)[*n]) != AR_OK) {
            return AR_EINVAL;
        }
        (*n)++;
    }
    return AR_OK;
}

int outbox_payload_decode(const char *json, struct outbox_payload *p, struct ar_error *err)
{
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    json_t *alerts;
    size_t i;
    json_t *j;
    int rc = AR_OK;

    memset(p, 0, sizeof(*p));
    labelset_init(&p->group_labels);
    if (o == NULL || !json_is_object(o)) {
        ar_error_set(err, "invalid payload: %s", o ? "not an object" : jerr.text);
        json_decref(o);
        return AR_EINVAL;
    }
    alerts = json_object_get(o, "alerts");
    p->alerts = ar_calloc(json_array_size(alerts) + 1, sizeof(*p->alerts));
    p->resolved = ar_calloc(json_array_size(alerts) + 1, sizeof(*p->resolved));
    json_array_foreach(alerts, i, j)
    {
        struct alert *a = alert_new();
        const char *gu = json_string_value(json_object_get(j, "generatorURL"));
        p->alerts[p->nalerts] = a;
        p->resolved[p->nalerts] = json_is_true(json_object_get(j, "resolved"));
        p->nalerts++;
        labelset_cleanup(&a->labels);
        labelset_cleanup(&a->annotations);
        if (labels_from(json_object_get(j, "labels"), &a->labels) != AR_OK ||
            labels_from(json_object_get(j, "annotations"), &a->annotations) != AR_OK ||
            a->labels.n == 0) {
            rc = AR_EINVAL;
            break;
        }
        a->fp = labelset_fingerprint(&a->labels);
        a->starts_at = json_integer_value(json_object_get(j, "startsAt"));
        a->ends_at = json_integer_value(json_object_get(j, "endsAt"));
        a->updated_at = json_integer_value(json_object_get(j, "updatedAt"));
        a->starts_off_min = (int16_t)json_integer_value(json_object_get(j, "startsOff"));
        a->ends_off_min = (int16_t)json_integer_value(json_object_get(j, "endsOff"));
        a->timeout = json_is_true(json_object_get(j, "timeout"));
        a->generator_url = gu != NULL && gu[0] != '\0' ? ar_strdup(gu) : NULL;
    }
    if (rc == AR_OK &&
        (p->nalerts == 0 ||
         labels_from(json_object_get(o, "groupLabels"), &p->group_labels) != AR_OK ||
         fps_from(json_object_get(o, "firing"), &p->firing, &p->nfiring) != AR_OK ||
         fps_from(json_object_get(o, "resolved"), &p->resolved_fps, &p->nresolved_fps) != AR_OK)) {
        rc = AR_EINVAL;
    }
    if (rc == AR_OK) {
        const char *eu = json_string_value(json_object_get(o, "externalURL"));
        p->external_url = ar_strdup(eu ? eu : "");
        p->now_ns = json_integer_value(json_object_get(o, "flushAt"));
        p->expiry_ns = json_integer_value(json_object_get(o, "expiry"));
    } else {
        ar_error_set(err, "invalid payload: missing or malformed fields");
    }
    json_decref(o);
    return rc;
}

void outbox_payload_cleanup(struct outbox_payload *p)
{
    for (size_t i = 0; i < p->nalerts; i++) {
        alert_unref(p->alerts[i]);
    }
    free(p->alerts);
    free(p->resolved);
    labelset_cleanup(&p->group_labels);
    free(p->external_url);
    free(p->firing);
    free(p->resolved_fps);
    memset(p, 0, sizeof(*p));
}

struct pending_row {
    int64_t id;
    int64_t at;
    char *receiver;
    char *integration;
    char *group_key;
    char *payload;
    struct delivery_summary sum; /* arrays owned (fps below) */
    uint64_t *fps;               /* new_firing then new_resolved */
};

static void pending_free(void *data)
{
    struct pending_row *r = data;

    free(r->receiver);
    free(r->integration);
    free(r->group_key);
    free(r->payload);
    free(r->fps);
    free(r);
}

static int pending_apply(struct store *st, void *data)
{
    struct pending_row *r = data;

    return store_outbox_insert(st, r->id, r->at, r->receiver, r->integration, r->group_key,
                               r->payload, &r->sum);
}

void outbox_record_pending(struct txn *txn, int64_t id, const char *receiver,
                           const char *integration, const char *group_key, char *payload,
                           const struct delivery_summary *sum)
{
    struct pending_row *r = ar_calloc(1, sizeof(*r));
    size_t n = sum->nnew_firing + sum->nnew_resolved;

    r->id = id;
    r->at = txn_now(txn);
    r->receiver = ar_strdup(receiver);
    r->integration = ar_strdup(integration);
    r->group_key = ar_strdup(group_key);
    r->payload = payload;
    r->sum = *sum;
    r->fps = ar_malloc((n ? n : 1) * sizeof(*r->fps));
    if (sum->nnew_firing > 0) {
        memcpy(r->fps, sum->new_firing, sum->nnew_firing * sizeof(*r->fps));
    }
    if (sum->nnew_resolved > 0) {
        memcpy(r->fps + sum->nnew_firing, sum->new_resolved, sum->nnew_resolved * sizeof(*r->fps));
    }
    r->sum.new_firing = r->fps;
    r->sum.new_resolved = r->fps + sum->nnew_firing;
    txn_write(txn, pending_apply, r, pending_free);
}

struct event_row {
    int64_t id;
    int64_t at;
    const char *state;   /* static */
    const char *outcome; /* static */
    bool has_res;
    struct notify_result res;
};

static int event_apply(struct store *st, void *data)
{
    struct event_row *r = data;

    struct delivery_attempt att = {r->res.attempts, r->res.last_status, r->res.error,
                                   r->res.latency_ns};

    return store_outbox_event(st, r->id, r->at, r->state, r->outcome, r->has_res ? &att : NULL);
}

void outbox_record_event(struct txn *txn, int64_t id, const char *state, const char *outcome,
                         const struct notify_result *res)
{
    struct event_row *r = ar_calloc(1, sizeof(*r));

    r->id = id;
    r->at = txn_now(txn);
    if (r->at == 0) {
        r->at = clock_now_ns();
    }
    r->state = state;
    r->outcome = outcome;
    if (res != NULL) {
        r->has_res = true;
        r->res = *res;
    }
    txn_write(txn, event_apply, r, free);
}

static int gc_apply(struct store *st, void *data)
{
    return store_outbox_gc(st, *(int64_t *)data);
}

void outbox_gc(struct txn *txn, int64_t before_ns)
{
    int64_t *at = ar_malloc(sizeof(*at));

    *at = before_ns;
    txn_write(txn, gc_apply, at, free);
}

/* ---- states and ids ---- */

bool outbox_state_valid(const char *s)
{
    return strcmp(s, "pending") == 0 || strcmp(s, "delivered") == 0 || strcmp(s, "dead") == 0;
}

bool outbox_id_parse(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (n == 0 || n > 18) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v > 0;
}

/* POST /api/v2/alerts body decoding (ar/ingest.h). yajl's callback parser drives a small
 * state machine that builds alerts directly, so the body is read once with no DOM; the
 * cost is dominated by one allocation per label string. Valid alerts then move their
 * repeated strings into the shared string pool (ar/strpool.h), here on the HTTP thread. Error texts
 * mirror what Alertmanager 0.25 (Go's encoding/json + go-openapi) answers for the same input. */
#include "ar/ingest.h"

#include "ar/json_out.h"
#include "ar/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

enum field { F_NONE, F_LABELS, F_ANNOTATIONS, F_STARTS, F_ENDS, F_URL };

enum state {
    S_TOP,       /* expecting the top-level value */
    S_ARRAY,     /* inside the top-level array: expecting an alert */
    S_ALERT,     /* inside an alert object: expecting a key */
    S_VALUE,     /* expecting the value of field `field` */
    S_MAP,       /* inside labels/annotations: expecting a key */
    S_MAP_VALUE, /* expecting a label/annotation value */
    S_SKIP,      /* skipping an unknown field's value; skip_depth counts nesting */
    S_DONE,
};

struct parser {
    enum state state;
    enum field field;
    int skip_depth;
    size_t index;      /* position of the current alert in the array */
    struct alert *cur; /* alert being built */
    bool has_labels;   /* "labels" present and not null */
    struct ingest_result *r;
    const struct ingest_limits *limits;
    char message[512]; /* Go-style decode error, set when a callback cancels */
    int status;        /* 400 or 422 for message */
    int code;          /* code field for 422 (601/602) */
    struct buf text;   /* names and values of the current labels/annotations map */
    size_t *offs;      /* pairs of (name, value) offsets into text */
    size_t npairs;
    size_t cap_pairs;
    struct alert **pending; /* alerts parsed, before validation */
    size_t npending;
    size_t cap;
    size_t *missing_labels; /* indices of alerts without labels */
};

static const char *const field_names[] = {"",         "labels", "annotations",
                                          "startsAt", "endsAt", "generatorURL"};

static int fail(struct parser *p, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, int status, int code, const char *fmt, ...)
{
    va_list ap;

    if (p->status == 0) {
        va_start(ap, fmt);
        vsnprintf(p->message, sizeof(p->message), fmt, ap);
        va_end(ap);
        p->status = status;
        p->code = code;
    }
    return 0; /* cancels the parse */
}

/* Go's wording for a JSON value of the wrong type. */
static int type_error(struct parser *p, const char *json_type)
{
    switch (p->state) {
    case S_TOP:
        return fail(p, 400, 400,
                    "json: cannot unmarshal %s into Go value of type models.PostableAlerts",
                    json_type);
    case S_ARRAY:
        return fail(
            p, 400, 400,
            "json: cannot unmarshal %s into Go value of type struct { Annotations "
            "models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime "
            "\"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime "
            "\"json:\\\"startsAt,omitempty\\\"\" }",
            json_type);
    case S_VALUE:
        switch (p->field) {
        case F_LABELS:
            return fail(p, 400, 400,
                        "json: cannot unmarshal %s into Go struct field Alert.labels of type "
                        "models.LabelSet",
                        json_type);
        case F_ANNOTATIONS:
            return fail(p, 400, 400,
                        "json: cannot unmarshal %s into Go struct field .annotations of type "
                        "models.LabelSet",
                        json_type);
        case F_URL:
            return fail(p, 400, 400,
                        "json: cannot unmarshal %s into Go struct field Alert.generatorURL of type "
                        "string",
                        json_type);
        default:
            return fail(p, 400, 400,
                        "json: cannot unmarshal %s into Go struct field .%s of type string",
                        json_type, field_names[p->field]);
        }
    case S_MAP_VALUE:
        return fail(p, 400, 400,
                    "json: cannot unmarshal %s into Go struct field %s.%s of type string",
                    json_type, p->field == F_LABELS ? "Alert" : "", field_names[p->field]);
    default:
        return fail(p, 400, 400, "json: cannot unmarshal %s", json_type);
    }
}

/* Label and annotation maps are collected as NUL-terminated strings in one buffer and turned
 * into a packed label set (one allocation) when the map closes. */
static void pair_name(struct parser *p, const char *s, size_t n)
{
    if (p->npairs * 2 + 2 > p->cap_pairs) {
        p->cap_pairs = p->cap_pairs ? p->cap_pairs * 2 : 64;
        p->offs = ar_realloc(p->offs, p->cap_pairs * sizeof(*p->offs));
    }
    p->offs[p->npairs * 2] = p->text.len;
    buf_append(&p->text, s, n);
    buf_putc(&p->text, '\0');
}

static void pair_value(struct parser *p, const char *s, size_t n)
{
    p->offs[p->npairs * 2 + 1] = p->text.len;
    buf_append(&p->text, s, n);
    buf_putc(&p->text, '\0');
    p->npairs++;
}

/* Name of the pair being read (for messages). */
static const char *current_key(const struct parser *p)
{
    return p->text.data ? p->text.data + p->offs[p->npairs * 2] : "";
}

static void finish_map(struct parser *p)
{
    const char *names[64] = {0};
    const char *values[64] = {0};
    const char **nv = names;
    const char **vv = values;
    struct labelset *ls = p->field == F_LABELS ? &p->cur->labels : &p->cur->annotations;

    if (p->npairs > 64) {
        nv = ar_malloc(p->npairs * sizeof(*nv));
        vv = ar_malloc(p->npairs * sizeof(*vv));
    }
    for (size_t i = 0; i < p->npairs; i++) {
        nv[i] = p->text.data + p->offs[2 * i];
        vv[i] = p->text.data + p->offs[2 * i + 1];
    }
    labelset_build_packed(ls, nv, vv, p->npairs);
    if (nv != names) {
        free(nv);
        free(vv);
    }
    p->npairs = 0;
    buf_reset(&p->text);
}

static int skip_scalar(struct parser *p)
{
    if (p->state == S_SKIP && p->skip_depth == 0) {
        p->state = S_ALERT;
    }
    return 1;
}

static int on_null(void *ctx)
{
    struct parser *p = ctx;

    switch (p->state) {
    case S_SKIP:
        return skip_scalar(p);
    case S_TOP:
        p->state = S_DONE; /* null body: no alerts */
        return 1;
    case S_ARRAY:
        /* COMPAT: a null element is an alert without labels (Alertmanager 0.25 drops the
         * connection here; we answer with the validation error instead). */
        p->index++;
        return 1;
    case S_VALUE:
        /* null leaves the field unset */
        p->state = S_ALERT;
        return 1;
    case S_MAP_VALUE:
        /* null decodes to the empty string */
        pair_value(p, "", 0);
        p->state = S_MAP;
        return 1;
    default:
        return type_error(p, "null");
    }
}

static int on_boolean(void *ctx, int v)
{
    struct parser *p = ctx;

    if (p->state == S_SKIP) {
        return skip_scalar(p);
    }
    return type_error(p, "bool");
}

static int on_number(void *ctx, const char *s, size_t n)
{
    struct parser *p = ctx;

    if (p->state == S_SKIP) {
        return skip_scalar(p);
    }
    return type_error(p, "number");
}

static int set_time(struct parser *p, const char *s, size_t n, int64_t *ns, int16_t *off)
{
    if (time_parse_rfc3339(s, n, ns, off) != AR_OK) {
        return fail(p, 400, 400,
                    "parsing time \"%.*s\" as \"2006-01-02T15:04:05.000Z07:00\": cannot parse "
                    "\"%.*s\" as \"2006\"",
                    (int)(n > 100 ? 100 : n), s, (int)(n > 100 ? 100 : n), s);
    }
    return 1;
}

static bool too_long(const struct parser *p, size_t n)
{
    return p->limits->max_label_value_bytes > 0 && n > p->limits->max_label_value_bytes;
}

static int on_string(void *ctx, const unsigned char *us, size_t n)
{
    struct parser *p = ctx;
    const char *s = (const char *)us;

    switch (p->state) {
    case S_SKIP:
        return skip_scalar(p);
    case S_VALUE:
        p->state = S_ALERT;
        switch (p->field) {
        case F_STARTS: {
            int16_t off = 0;
            int rc = set_time(p, s, n, &p->cur->starts_at, &off);
            p->cur->starts_off_min = off;
            return rc;
        }
        case F_ENDS: {
            int16_t off = 0;
            int rc = set_time(p, s, n, &p->cur->ends_at, &off);
            p->cur->ends_off_min = off;
            return rc;
        }
        case F_URL:
            free(p->cur->generator_url);
            p->cur->generator_url = n ? ar_strndup(s, n) : NULL;
            return 1;
        default:
            p->state = S_VALUE;
            return type_error(p, "string");
        }
    case S_MAP_VALUE:
        if (too_long(p, n)) {
            return fail(p, 400, 400, "%s value of %.64s is longer than %zu bytes",
                        field_names[p->field], current_key(p), p->limits->max_label_value_bytes);
        }
        if (memchr(s, '\0', n) != NULL) {
            return fail(p, 400, 400, "%s value of %.64s contains a NUL character",
                        field_names[p->field], current_key(p));
        }
        pair_value(p, s, n);
        p->state = S_MAP;
        return 1;
    default:
        return type_error(p, "string");
    }
}

static int on_start_map(void *ctx)
{
    struct parser *p = ctx;

    switch (p->state) {
    case S_SKIP:
        p->skip_depth++;
        return 1;
    case S_ARRAY:
        if (p->limits->max_alerts > 0 && p->index >= p->limits->max_alerts) {
            return fail(p, 400, 400, "too many alerts in one request (limit: %zu)",
                        p->limits->max_alerts);
        }
        p->cur = alert_new();
        p->has_labels = false;
        p->state = S_ALERT;
        return 1;
    case S_VALUE:
        if (p->field == F_LABELS || p->field == F_ANNOTATIONS) {
            if (p->field == F_LABELS) {
                p->has_labels = true;
            }
            buf_reset(&p->text);
            p->npairs = 0;
            p->state = S_MAP;
            return 1;
        }
        return type_error(p, "object");
    default:
        return type_error(p, "object");
    }
}

static int on_map_key(void *ctx, const unsigned char *us, size_t n)
{
    struct parser *p = ctx;
    const char *s = (const char *)us;

    if (p->state == S_SKIP) {
        return 1;
    }
    if (p->state == S_ALERT) {
        /* encoding/json matches field names case-insensitively */
        p->field = F_NONE;
        for (int f = F_LABELS; f <= F_URL; f++) {
            if (strlen(field_names[f]) == n && strncasecmp(field_names[f], s, n) == 0) {
                p->field = (enum field)f;
            }
        }
        if (p->field == F_NONE) {
            p->state = S_SKIP;
            p->skip_depth = 0;
        } else {
            p->state = S_VALUE;
        }
        return 1;
    }
    /* S_MAP */
    if (too_long(p, n)) {
        return fail(p, 400, 400, "%s name longer than %zu bytes", field_names[p->field],
                    p->limits->max_label_value_bytes);
    }
    if (memchr(s, '\0', n) != NULL) {
        return fail(p, 400, 400, "%s name contains a NUL character", field_names[p->field]);
    }
    if (p->field == F_LABELS && p->limits->max_labels > 0 && p->npairs >= p->limits->max_labels) {
        return fail(p, 400, 400, "alert %zu has more than %zu labels", p->index,
                    p->limits->max_labels);
    }
    pair_name(p, s, n);
    p->state = S_MAP_VALUE;
    return 1;
}

static void push_pending(struct parser *p, struct alert *a)
{
    if (p->npending == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->pending = ar_realloc(p->pending, p->cap * sizeof(*p->pending));
        p->missing_labels = ar_realloc(p->missing_labels, p->cap * sizeof(*p->missing_labels));
    }
    p->missing_labels[p->npending] = 0;
    p->pending[p->npending++] = a;
}

static int on_end_map(void *ctx)
{
    struct parser *p = ctx;

    switch (p->state) {
    case S_SKIP:
        p->skip_depth--;
        if (p->skip_depth == 0) {
            p->state = S_ALERT;
        }
        return 1;
    case S_MAP:
        finish_map(p);
        p->state = S_ALERT;
        return 1;
    case S_ALERT:
        /* p->index counts array elements; pending holds one slot per element */
        while (p->npending < p->index) {
            push_pending(p, NULL);
            p->missing_labels[p->npending - 1] = 1;
        }
        push_pending(p, p->cur);
        if (!p->has_labels) {
            p->missing_labels[p->npending - 1] = 1;
        }
        p->cur = NULL;
        p->index++;
        p->state = S_ARRAY;
        return 1;
    default:
        return type_error(p, "object");
    }
}

static int on_start_array(void *ctx)
{
    struct parser *p = ctx;

    switch (p->state) {
    case S_SKIP:
        p->skip_depth++;
        return 1;
    case S_TOP:
        p->state = S_ARRAY;
        return 1;
    default:
        return type_error(p, "array");
    }
}

static int on_end_array(void *ctx)
{
    struct parser *p = ctx;

    if (p->state == S_SKIP) {
        p->skip_depth--;
        if (p->skip_depth == 0) {
            p->state = S_ALERT;
        }
        return 1;
    }
    p->state = S_DONE;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,       NULL,           on_number,    on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

void ingest_result_init(struct ingest_result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->errors, 0);
    buf_init(&r->shape_body, 0);
}

void ingest_result_cleanup(struct ingest_result *r)
{
    for (size_t i = 0; i < r->nalerts; i++) {
        alert_unref(r->alerts[i]);
    }
    free(r->alerts);
    buf_cleanup(&r->errors);
    buf_cleanup(&r->shape_body);
    memset(r, 0, sizeof(*r));
}

static void shape_error(struct ingest_result *r, int status, int code, const char *message)
{
    r->shape_status = status;
    buf_reset(&r->shape_body);
    buf_printf(&r->shape_body, "{\"code\":%d,\"message\":", code);
    json_put_cstr(&r->shape_body, message);
    buf_putc(&r->shape_body, '}');
}

static bool is_scheme_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

bool ingest_uri_is_valid(const char *s)
{
    const char *p;
    const char *rest;

    for (p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            return false;
        }
        if (c == '%') {
            if (!(((p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'f') ||
                   (p[1] >= 'A' && p[1] <= 'F')) &&
                  ((p[2] >= '0' && p[2] <= '9') || (p[2] >= 'a' && p[2] <= 'f') ||
                   (p[2] >= 'A' && p[2] <= 'F')))) {
                return false;
            }
        }
    }
    if (s[0] == '/') {
        return true;
    }
    /* scheme ":" ... */
    for (p = s; *p != '\0' && *p != ':'; p++) {
        if (!is_scheme_char(*p, p == s)) {
            return false;
        }
    }
    if (*p != ':' || p == s) {
        return false;
    }
    rest = p + 1;
    if (rest[0] == '/' && rest[1] == '/') {
        /* authority: [userinfo@]host[:port]; the port must be digits */
        const char *auth = rest + 2;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', alen);
        const char *host = at ? at + 1 : auth;
        size_t hlen = alen - (size_t)(host - auth);
        const char *colon = NULL;
        if (hlen > 0 && host[0] == '[') {
            const char *close = memchr(host, ']', hlen);
            if (close == NULL) {
                return false;
            }
            if (close + 1 < host + hlen) {
                if (close[1] != ':') {
                    return false;
                }
                colon = close + 1;
            }
        } else {
            colon = memchr(host, ':', hlen);
        }
        if (colon != NULL) {
            for (const char *q = colon + 1; q < host + hlen; q++) {
                if (*q < '0' || *q > '9') {
                    return false;
                }
            }
        }
    }
    return true;
}

/* Applies COMPAT 1.3 steps 1-5 to a parsed alert; returns NULL when valid, else a message. */
static const char *validate(struct alert *a, int64_t now, int64_t resolve_timeout_ns, char *tmp,
                            size_t tmpsz)
{
    a->updated_at = now;
    if (a->starts_at == AR_TIME_UNSET) {
        if (a->ends_at != AR_TIME_UNSET) {
            a->starts_at = a->ends_at;
            a->starts_off_min = a->ends_off_min;
        } else {
            a->starts_at = now;
            a->starts_off_min = 0;
        }
    }
    if (a->ends_at == AR_TIME_UNSET) {
        a->ends_at = now + resolve_timeout_ns;
        a->ends_off_min = 0;
        a->timeout = true;
    }
    /* COMPAT: empty-valued labels mean "absent". */
    for (size_t i = 0; i < a->labels.n;) {
        if (a->labels.v[i].value[0] == '\0') {
            labelset_remove(&a->labels, a->labels.v[i].name);
        } else {
            i++;
        }
    }
    /* COMPAT: 0.25 order: end time, label validity, emptiness, annotations. */
    if (a->ends_at < a->starts_at) {
        return "start time must be before end time";
    }
    for (size_t i = 0; i < a->labels.n; i++) {
        const struct label *l = &a->labels.v[i];
        if (!label_name_is_classic(l->name)) {
            snprintf(tmp, tmpsz, "invalid label set: invalid name \"%.200s\"", l->name);
            return tmp;
        }
        if (!utf8_is_valid(l->value, strlen(l->value))) {
            snprintf(tmp, tmpsz, "invalid label set: invalid value \"%.200s\"", l->value);
            return tmp;
        }
    }
    if (a->labels.n == 0) {
        return "at least one label pair required";
    }
    for (size_t i = 0; i < a->annotations.n; i++) {
        const struct label *l = &a->annotations.v[i];
        if (!label_name_is_classic(l->name)) {
            snprintf(tmp, tmpsz, "invalid annotations: invalid name \"%.200s\"", l->name);
            return tmp;
        }
    }
    return NULL;
}

int ingest_parse(const char *body, size_t len, int64_t now_ns, int64_t resolve_timeout_ns,
                 const struct ingest_limits *limits, struct ingest_result *r)
{
    struct parser p;
    yajl_handle h;
    yajl_status st;
    char msg[700];
    bool empty = true;

    memset(&p, 0, sizeof(p));
    p.r = r;
    p.limits = limits;
    buf_init(&p.text, 0);
    for (size_t i = 0; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\n' && body[i] != '\r') {
            empty = false;
            break;
        }
    }
    if (empty) {
        shape_error(r, 422, 602, "alerts in body is required");
        return AR_OK;
    }
    h = yajl_alloc(&callbacks, NULL, &p);
    yajl_config(h, yajl_allow_trailing_garbage, 1);
    st = yajl_parse(h, (const unsigned char *)body, len);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }
    if (st != yajl_status_ok && p.status == 0) {
        unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)body, len);
        char why[256];
        size_t at = yajl_get_bytes_consumed(h);
        /* Go's wording where it matters to clients: truncation is "unexpected EOF". */
        if (strstr((const char *)e, "premature EOF") != NULL) {
            snprintf(why, sizeof(why), "unexpected EOF");
        } else if (strstr((const char *)e, "UTF8") != NULL) {
            snprintf(why, sizeof(why), "invalid UTF-8 in JSON string");
        } else {
            snprintf(why, sizeof(why), "invalid character '%c' at offset %zu: %s",
                     at < len && body[at] >= 0x20 ? body[at] : '?', at, (const char *)e);
            why[strcspn(why, "\n")] = '\0';
        }
        snprintf(p.message, sizeof(p.message), "%s", why);
        p.status = 400;
        p.code = 400;
        yajl_free_error(h, e);
    }
    yajl_free(h);
    buf_cleanup(&p.text);
    free(p.offs);
    alert_unref(p.cur);
    if (p.status == 0) {
        /* elements counted but never closed into pending (null elements at the end) */
        while (p.npending < p.index) {
            push_pending(&p, NULL);
            p.missing_labels[p.npending - 1] = 1;
        }
        for (size_t i = 0; i < p.npending; i++) {
            if (p.missing_labels[i]) {
                snprintf(p.message, sizeof(p.message), "%zu.labels in body is required", i);
                p.status = 422;
                p.code = 602;
                break;
            }
        }
    }
    if (p.status == 0) {
        for (size_t i = 0; i < p.npending; i++) {
            if (p.pending[i]->generator_url != NULL &&
                !ingest_uri_is_valid(p.pending[i]->generator_url)) {
                snprintf(p.message, sizeof(p.message),
                         "%zu.generatorURL in body must be of type uri: \"%.300s\"", i,
                         p.pending[i]->generator_url);
                p.status = 422;
                p.code = 601;
                break;
            }
        }
    }
    if (p.status != 0) {
        if (p.status == 400) {
            snprintf(msg, sizeof(msg), "parsing alerts body from \"\" failed, because %s",
                     p.message);
            shape_error(r, 400, 400, msg);
        } else {
            shape_error(r, p.status, p.code, p.message);
        }
        for (size_t i = 0; i < p.npending; i++) {
            alert_unref(p.pending[i]);
        }
        free(p.pending);
        free(p.missing_labels);
        return AR_OK;
    }
    r->alerts = ar_malloc((p.npending ? p.npending : 1) * sizeof(*r->alerts));
    r->cap = p.npending;
    for (size_t i = 0; i < p.npending; i++) {
        struct alert *a = p.pending[i];
        const char *why = validate(a, now_ns, resolve_timeout_ns, msg, sizeof(msg));
        if (a->ends_at > now_ns) {
            r->nfiring++;
        } else {
            r->nresolved++;
        }
        if (why != NULL) {
            if (r->errors.len > 0) {
                buf_puts(&r->errors, "; ");
            }
            buf_puts(&r->errors, why);
            r->ninvalid++;
            alert_unref(a);
            continue;
        }
        a->fp = labelset_fingerprint(&a->labels);
        if (p.limits->strings != NULL) {
            /* on the HTTP thread, in parallel */
            a = alert_pool_fresh(a, p.limits->strings, p.limits->texts);
        } else {
            labelset_pack(&a->labels); /* no-op unless validation removed a label */
            labelset_pack(&a->annotations);
        }
        r->alerts[r->nalerts++] = a;
    }
    free(p.pending);
    free(p.missing_labels);
    return AR_OK;
}

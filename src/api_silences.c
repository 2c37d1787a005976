/* Silence endpoints of API v2 (COMPAT 1.6): GET/POST /api/v2/silences and GET/DELETE
 * /api/v2/silence/{id}. Bodies are decoded with jansson on the HTTP thread (not a hot path),
 * reproducing go-openapi's body-shape errors (400 {code,message} for unparseable JSON or
 * wrong types, 422 for missing required fields); the silence set is read and changed only
 * on the core thread through core_call, which returns once the change is committed. */
#include "ar/api.h"
#include "ar/api_reply.h"

#include "ar/audit.h"

#include "ar/clock.h"
#include "ar/gotime.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/silence.h"
#include "ar/timefmt.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PARSE_PREFIX "parsing silence body from \"\" failed, because "

/* ---- output ---------------------------------------------------------------------------- */

static void put_silence(struct buf *b, const struct silence *s, int64_t now)
{
    buf_puts(b, "{\"id\":");
    json_put_cstr(b, s->id);
    buf_printf(b, ",\"status\":{\"state\":\"%s\"},\"updatedAt\":",
               silence_state_name(silence_state_at(s, now)));
    json_put_time(b, s->updated_at, 0);
    buf_puts(b, ",\"comment\":");
    json_put_cstr(b, s->comment);
    buf_puts(b, ",\"createdBy\":");
    json_put_cstr(b, s->created_by);
    buf_puts(b, ",\"endsAt\":");
    json_put_time(b, s->ends_at, s->ends_off_min);
    buf_puts(b, ",\"matchers\":[");
    for (size_t i = 0; i < s->matchers.n; i++) {
        const struct matcher *m = s->matchers.v[i];
        bool is_equal = m->op == MATCHER_EQ || m->op == MATCHER_RE;
        bool is_regex = m->op == MATCHER_RE || m->op == MATCHER_NRE;
        buf_printf(b, "%s{\"isEqual\":%s,\"isRegex\":%s,\"name\":", i ? "," : "",
                   is_equal ? "true" : "false", is_regex ? "true" : "false");
        json_put_cstr(b, m->name);
        buf_puts(b, ",\"value\":");
        json_put_cstr(b, m->value);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"startsAt\":");
    json_put_time(b, s->starts_at, s->starts_off_min);
    buf_putc(b, '}');
}

static void reply_json(struct http_response *resp, int status)
{
    api_reply_json(resp, status);
    buf_putc(&resp->body, '\n'); /* go-openapi's encoder ends each value with a newline */
}

/* COMPAT: go-openapi's uuid format: 32 hex digits, hyphens optional, any case. */
static bool is_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};

    for (size_t g = 0; g < AR_ARRAY_LEN(groups); g++) {
        if (g > 0 && *s == '-') {
            s++;
        }
        for (int i = 0; i < groups[g]; i++, s++) {
            if (!isxdigit((unsigned char)*s)) {
                return false;
            }
        }
    }
    return *s == '\0';
}

/* ---- GET /silences --------------------------------------------------------------------- */

struct list_call {
    const struct matcher_list *filters;
    struct buf *out;
};

struct ranked {
    const struct silence *s;
    enum silence_state state;
};

/* COMPAT: active first (endsAt ascending), then pending (startsAt ascending), then expired
 * (endsAt descending). Ties, left in random order upstream, fall back to the id. */
static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa;
    const struct ranked *b = pb;
    static const int rank[] = {[SILENCE_ACTIVE] = 0, [SILENCE_PENDING] = 1, [SILENCE_EXPIRED] = 2};
    int64_t x;
    int64_t y;

    if (a->state != b->state) {
        return rank[a->state] - rank[b->state];
    }
    switch (a->state) {
    case SILENCE_ACTIVE:
        x = a->s->ends_at;
        y = b->s->ends_at;
        break;
    case SILENCE_PENDING:
        x = a->s->starts_at;
        y = b->s->starts_at;
        break;
    case SILENCE_EXPIRED:
    default:
        x = b->s->ends_at;
        y = a->s->ends_at;
        break;
    }
    if (x != y) {
        return x < y ? -1 : 1;
    }
    return strcmp(a->s->id, b->s->id);
}

/* COMPAT: the filter is not evaluated against labels: each filter matcher needs a silence
 * matcher with the same name, operator and value string. */
static bool passes_filters(const struct silence *s, const struct matcher_list *filters)
{
    for (size_t i = 0; i < filters->n; i++) {
        const struct matcher *f = filters->v[i];
        bool found = false;
        for (size_t k = 0; k < s->matchers.n && !found; k++) {
            const struct matcher *m = s->matchers.v[k];
            found =
                m->op == f->op && strcmp(m->name, f->name) == 0 && strcmp(m->value, f->value) == 0;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

static int list_fn(struct core *c, struct txn *txn, void *arg)
{
    struct list_call *call = arg;
    const struct silence_set *set = core_silences(c);
    int64_t now = txn_now(txn);
    size_t n = silence_set_size(set);
    struct ranked *v = ar_calloc(n ? n : 1, sizeof(*v));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const struct silence *s = silence_set_at(set, i);
        if (passes_filters(s, call->filters)) {
            v[k].s = s;
            v[k].state = silence_state_at(s, now);
            k++;
        }
    }
    qsort(v, k, sizeof(*v), cmp_ranked);
    buf_putc(call->out, '[');
    for (size_t i = 0; i < k; i++) {
        if (i > 0) {
            buf_putc(call->out, ',');
        }
        put_silence(call->out, v[i].s, now);
    }
    buf_putc(call->out, ']');
    free(v);
    return AR_OK;
}

static void silences_get(struct api *api, const struct http_request *req,
                         struct http_response *resp)
{
    struct matcher_list filters;
    struct list_call call;
    struct ar_error err;

    matcher_list_init(&filters);
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, "filter") == 0) {
            struct matcher *m = NULL;
            if (matcher_parse(req->params[i].value, &m, &err) != AR_OK) {
                api_reply_json_string(resp, 400, err.msg);
                matcher_list_cleanup(&filters);
                return;
            }
            matcher_list_add_take(&filters, m);
        }
    }
    call.filters = &filters;
    call.out = &resp->body;
    buf_reset(&resp->body);
    core_call(api->core, list_fn, &call);
    reply_json(resp, 200);
    matcher_list_cleanup(&filters);
}

/* ---- GET / DELETE /silence/{id} -------------------------------------------------------- */

struct one_call {
    const char *id;
    struct buf *out;
    const char *client; /* for the audit trail */
    const char *user;
};

static int get_fn(struct core *c, struct txn *txn, void *arg)
{
    struct one_call *call = arg;
    const struct silence *s = silence_set_find(core_silences(c), call->id);

    if (s == NULL) {
        return AR_ENOTFOUND;
    }
    put_silence(call->out, s, txn_now(txn));
    return AR_OK;
}

static int expire_fn(struct core *c, struct txn *txn, void *arg)
{
    struct one_call *call = arg;
    int rc = silence_set_expire(core_silences(c), call->id, txn_now(txn), txn);

    if (rc == AR_OK) {
        audit_record(txn, "silence.expire", call->id, call->client, call->user, NULL);
    }
    return rc;
}

static void silence_one(struct api *api, const struct http_request *req, const char *id,
                        struct http_response *resp)
{
    char user[128];
    struct one_call call = {id, &resp->body, req->client, user};
    int rc;

    http_request_basic_user(req, user, sizeof(user));
    if (!is_uuid(id)) {
        struct buf msg;
        buf_init(&msg, 0);
        buf_puts(&msg, "silenceID in path must be of type uuid: ");
        json_put_cstr(&msg, id);
        api_reply_error_object(resp, 422, 601, buf_str(&msg));
        buf_cleanup(&msg);
        return;
    }
    buf_reset(&resp->body);
    if (strcmp(req->method, "GET") == 0) {
        rc = core_call(api->core, get_fn, &call);
        if (rc == AR_ENOTFOUND) {
            resp->status = 404; /* COMPAT: empty body, no content type */
            buf_reset(&resp->body);
            return;
        }
        reply_json(resp, 200);
        return;
    }
    rc = core_call(api->core, expire_fn, &call);
    if (rc == AR_ENOTFOUND) {
        /* COMPAT: 0.25 answers 500 (newest: 404). */
        api_reply_json_string(resp, 500, "silence not found");
    } else if (rc != AR_OK) {
        log_error("api", "expiring silence %s: %s", id, ar_strerror(rc));
        api_reply_json_string(resp, 500, "failed to store silence");
    } else {
        resp->status = 200;
    }
}

/* ---- POST /silences -------------------------------------------------------------------- */

/* COMPAT: Go's decoder matches object keys to fields case-insensitively, and a later key
 * overrides an earlier one for the same field. */
static json_t *jget(const json_t *obj, const char *field)
{
    const char *key;
    json_t *v;
    json_t *found = NULL;

    json_object_foreach((json_t *)obj, key, v)
    {
        if (strcasecmp(key, field) == 0) {
            found = v;
        }
    }
    return found;
}

static const char *go_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_NULL:
    default:
        return "null";
    }
}

/* A decode failure: msg is the Go error text after PARSE_PREFIX. */
static void shape_error(struct http_response *resp, const char *go_msg)
{
    char *msg = ar_asprintf(PARSE_PREFIX "%s", go_msg);

    api_reply_error_object(resp, 400, 400, msg);
    free(msg);
}

static void type_error(struct http_response *resp, const json_t *v, const char *field,
                       const char *gotype)
{
    char msg[300];

    snprintf(msg, sizeof(msg), "json: cannot unmarshal %s into Go struct field %s of type %s",
             go_type(v), field, gotype);
    shape_error(resp, msg);
}

/* Reads an optional string field; NULL when absent or null. False after a type error. */
static bool get_string(const json_t *obj, const char *key, const char *field, const char **out,
                       struct http_response *resp)
{
    const json_t *v = jget(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v)) {
        type_error(resp, v, field, "string");
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* COMPAT: strfmt.DateTime as go-openapi parses it: "" is the Unix epoch, otherwise the
 * layouts below are tried in order with Go's time.Parse rules (ar/gotime.h), and when all
 * fail the error of the last one is reported. */
static const char *const strfmt_layouts[] = {
    "2006-01-02T15:04:05.000000Z07:00",
    "2006-01-02T15:04:05.000000Z0700",
    "2006-01-02T15:04:05.000Z07:00",
    "2006-01-02T15:04:05.000Z0700",
    "2006-01-02T15:04:05Z07:00",
    "2006-01-02T15:04:05.999999999Z07:00",
    "2006-01-02T15:04:05",
    "2006-01-02T15:04Z",
    "2006-01-02T15:04",
    "2006-01-02 15:04:05",
};

static bool strfmt_datetime_parse(const char *value, int64_t *ns, int16_t *off, struct buf *msg)
{
    struct gotime_parsed t;

    if (value[0] == '\0') {
        *ns = 0; /* COMPAT: strfmt reads "" as the Unix epoch */
        *off = 0;
        return true;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(strfmt_layouts); i++) {
        buf_reset(msg);
        if (gotime_parse(strfmt_layouts[i], value, &t, msg) != AR_OK) {
            continue;
        }
        if (t.sec == GOTIME_ZERO_SEC && t.nsec == 0) {
            *ns = AR_TIME_UNSET; /* Go's zero time: "not set" */
        } else if (t.sec <= INT64_MIN / 1000000000LL) {
            *ns = INT64_MIN + 1;
        } else if (t.sec >= INT64_MAX / 1000000000LL) {
            *ns = INT64_MAX;
        } else {
            *ns = t.sec * 1000000000LL + t.nsec;
        }
        *off = (int16_t)(t.off / 60);
        return true;
    }
    return false;
}

static bool parse_time_value(const json_t *v, const char *key, int64_t *ns, int16_t *off,
                             struct http_response *resp)
{
    char field[32];
    struct buf msg;

    if (!json_is_string(v)) {
        snprintf(field, sizeof(field), "Silence.%s", key);
        type_error(resp, v, field, "string");
        return false;
    }
    buf_init(&msg, 2048);
    if (!strfmt_datetime_parse(json_string_value(v), ns, off, &msg)) {
        shape_error(resp, buf_str(&msg));
        buf_cleanup(&msg);
        return false;
    }
    buf_cleanup(&msg);
    return true;
}

/* Remembers the first type mismatch, worded as encoding/json does. */
static void note_type(struct buf *first, const json_t *v, const char *field, const char *gotype)
{
    if (first->len == 0) {
        buf_printf(first, "json: cannot unmarshal %s into Go struct field %s of type %s",
                   go_type(v), field, gotype);
    }
}

static void scan_matcher(const json_t *el, struct buf *first)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)el, key, v)
    {
        if (json_is_null(v)) {
            continue;
        }
        if (strcasecmp(key, "name") == 0 || strcasecmp(key, "value") == 0) {
            if (!json_is_string(v)) {
                note_type(first, v,
                          strcasecmp(key, "name") == 0 ? "Matcher.matchers.name"
                                                       : "Matcher.matchers.value",
                          "string");
            }
        } else if (strcasecmp(key, "isEqual") == 0 || strcasecmp(key, "isRegex") == 0) {
            if (!json_is_boolean(v)) {
                note_type(first, v,
                          strcasecmp(key, "isEqual") == 0 ? "Matcher.matchers.isEqual"
                                                          : "Matcher.matchers.isRegex",
                          "bool");
            }
        }
    }
}

/* COMPAT: encoding/json's type errors over the silence fields in document order: a bad time
 * aborts at once (its parser returns an error), other mismatches are remembered and the
 * first one is reported once the whole body is read. Fills the times. */
static bool scan_types(const json_t *root, struct silence_request *r, bool *has_start,
                       bool *has_end, struct http_response *resp)
{
    const char *key;
    json_t *v;
    struct buf first;
    size_t i;
    json_t *el;

    buf_init(&first, 1024);
    *has_start = *has_end = false;
    json_object_foreach((json_t *)root, key, v)
    {
        if (json_is_null(v)) {
            continue;
        }
        if (strcasecmp(key, "comment") == 0 || strcasecmp(key, "createdBy") == 0) {
            if (!json_is_string(v)) {
                note_type(&first, v,
                          strcasecmp(key, "comment") == 0 ? "Silence.comment" : "Silence.createdBy",
                          "string");
            }
        } else if (strcasecmp(key, "startsAt") == 0) {
            if (!parse_time_value(v, "startsAt", &r->starts_at, &r->starts_off_min, resp)) {
                goto fail;
            }
            *has_start = true;
        } else if (strcasecmp(key, "endsAt") == 0) {
            if (!parse_time_value(v, "endsAt", &r->ends_at, &r->ends_off_min, resp)) {
                goto fail;
            }
            *has_end = true;
        } else if (strcasecmp(key, "matchers") == 0) {
            if (!json_is_array(v)) {
                note_type(&first, v, "Silence.matchers", "models.Matchers");
                continue;
            }
            json_array_foreach(v, i, el)
            {
                if (json_is_object(el)) {
                    scan_matcher(el, &first);
                } else if (!json_is_null(el)) {
                    note_type(&first, el, "Silence.matchers", "models.Matcher");
                }
            }
        }
    }
    if (first.len > 0) {
        shape_error(resp, buf_str(&first));
        goto fail;
    }
    buf_cleanup(&first);
    return true;
fail:
    buf_cleanup(&first);
    return false;
}

struct post_call {
    const struct silence_request *req;
    char id[37];
    struct ar_error err;
    const char *client; /* for the audit trail */
    const char *user;
};

static int post_fn(struct core *c, struct txn *txn, void *arg)
{
    struct post_call *call = arg;
    const char *asked = call->req->id;
    int rc =
        silence_set_upsert(core_silences(c), call->req, txn_now(txn), txn, call->id, &call->err);
    struct buf detail;

    if (rc != AR_OK) {
        return rc;
    }
    /* audit: who created or changed which silence, with its matchers and comment */
    buf_init(&detail, 0);
    buf_puts(&detail, "{\"createdBy\":");
    json_put_cstr(&detail, call->req->created_by ? call->req->created_by : "");
    buf_puts(&detail, ",\"comment\":");
    json_put_cstr(&detail, call->req->comment ? call->req->comment : "");
    buf_puts(&detail, ",\"matchers\":[");
    for (size_t i = 0; i < call->req->nmatchers; i++) {
        const struct silence_matcher_spec *m = &call->req->matchers[i];
        buf_puts(&detail, i ? ",{\"name\":" : "{\"name\":");
        json_put_cstr(&detail, m->name ? m->name : "");
        buf_puts(&detail, ",\"op\":");
        json_put_cstr(&detail, matcher_op_str(m->op));
        buf_puts(&detail, ",\"value\":");
        json_put_cstr(&detail, m->value ? m->value : "");
        buf_putc(&detail, '}');
    }
    buf_puts(&detail, "]");
    if (asked != NULL && asked[0] != '\0' && strcmp(asked, call->id) != 0) {
        buf_puts(&detail, ",\"replaces\":");
        json_put_cstr(&detail, asked);
    }
    buf_putc(&detail, '}');
    audit_record(
        txn, asked != NULL && strcmp(asked, call->id) == 0 ? "silence.update" : "silence.create",
        call->id, call->client, call->user, buf_str(&detail));
    buf_cleanup(&detail);
    return AR_OK;
}

/* COMPAT: Go's encoding/json syntax errors, from jansson's error text (the common cases;
 * others fall back to "looking for beginning of value"). */
static void syntax_error(const json_error_t *jerr, struct http_response *resp)
{
    static const struct {
        const char *jansson;
        const char *go;
    } map[] = {
        {"string or '}' expected", "looking for beginning of object key string"},
        {"':' expected", "after object key"},
        {"'}' expected", "after object key:value pair"},
        {"']' expected", "after array element"},
    };
    const char *near = strstr(jerr->text, "near '");
    const char *what = "looking for beginning of value";
    char ch[8];
    char msg[120];

    if (near == NULL || strstr(jerr->text, "end of file") != NULL ||
        strstr(jerr->text, "premature end") != NULL) {
        shape_error(resp, "unexpected EOF");
        return;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(map); i++) {
        if (strstr(jerr->text, map[i].jansson) != NULL) {
            what = map[i].go;
            break;
        }
    }
    unsigned char c = (unsigned char)near[6];
    if (c == '\'') {
        snprintf(ch, sizeof(ch), "'\\''");
    } else if (c < 0x20 || c >= 0x7f) {
        snprintf(ch, sizeof(ch), "'\\x%02x'", c);
    } else {
        snprintf(ch, sizeof(ch), "'%c'", c);
    }
    snprintf(msg, sizeof(msg), "invalid character %s %s", ch, what);
    shape_error(resp, msg);
}

/* COMPAT: Go's decoder replaces each byte of invalid UTF-8 inside strings with U+FFFD where
 * jansson would reject the document; returns a repaired copy, or NULL when body is valid. */
static char *repair_utf8(const char *body, size_t len, size_t *out_len)
{
    struct buf b;
    size_t i = 0;

    if (utf8_is_valid(body, len)) {
        return NULL;
    }
    buf_init(&b, 0);
    while (i < len) {
        unsigned char c = (unsigned char)body[i];
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (n > 0 && i + n <= len && utf8_is_valid(body + i, n)) {
            buf_append(&b, body + i, n);
            i += n;
        } else {
            buf_puts(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    *out_len = b.len;
    return buf_take(&b);
}

/* Decodes and validates the body into r as go-openapi would; on failure writes the reply
 * and returns false. */
static bool decode_body(const struct http_request *req, struct silence_request *r,
                        struct http_response *resp)
{
    json_error_t jerr;
    json_t *root = NULL;
    const json_t *matchers;
    const char *id;
    const char *created_by;
    const char *comment;
    bool has_start;
    bool has_end;
    size_t i;
    const json_t *el;
    bool ok = false;
    size_t skip = strspn(req->body, " \t\r\n");
    char *repaired;
    size_t repaired_len = 0;

    if (skip >= req->body_len) {
        api_reply_error_object(resp, 422, 602, "silence in body is required");
        return false;
    }
    repaired = repair_utf8(req->body, req->body_len, &repaired_len);
    root = json_loadb(repaired ? repaired : req->body, repaired ? repaired_len : req->body_len,
                      JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
    free(repaired);
    if (root == NULL) {
        syntax_error(&jerr, resp);
        return false;
    }
    if (json_is_null(root)) {
        json_decref(root);
        root = json_object();
    }
    if (!json_is_object(root)) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "json: cannot unmarshal %s into Go value of type struct { ID string "
                 "\"json:\\\"id,omitempty\\\"\" }",
                 go_type(root));
        shape_error(resp, msg);
        goto out;
    }
    /* Type errors (400) before schema validation (422), as the decoder runs first; go-openapi
     * decodes the id alone before the rest of the silence. */
    if (!get_string(root, "id", ".id", &id, resp) ||
        !scan_types(root, r, &has_start, &has_end, resp) ||
        !get_string(root, "comment", "Silence.comment", &comment, resp) ||
        !get_string(root, "createdBy", "Silence.createdBy", &created_by, resp)) {
        goto out;
    }
    matchers = jget(root, "matchers");
    /* COMPAT: go-openapi validates required properties in alphabetical order. */
    if (comment == NULL) {
        api_reply_error_object(resp, 422, 602, "comment in body is required");
        goto out;
    }
    if (created_by == NULL) {
        api_reply_error_object(resp, 422, 602, "createdBy in body is required");
        goto out;
    }
    if (!has_end) {
        api_reply_error_object(resp, 422, 602, "endsAt in body is required");
        goto out;
    }
    if (matchers == NULL || json_is_null(matchers)) {
        api_reply_error_object(resp, 422, 602, "matchers in body is required");
        goto out;
    }
    if (json_array_size(matchers) == 0) {
        api_reply_error_object(resp, 422, 612, "matchers in body should have at least 1 items");
        goto out;
    }
    r->matchers = ar_calloc(json_array_size(matchers), sizeof(*r->matchers));
    json_array_foreach(matchers, i, el)
    {
        static const char *const req_keys[] = {"isRegex", "name", "value"};
        const json_t *eq = jget(el, "isEqual");
        bool is_regex;
        bool is_equal;
        for (size_t k = 0; k < AR_ARRAY_LEN(req_keys); k++) {
            const json_t *v = jget(el, req_keys[k]);
            if (v == NULL || json_is_null(v)) {
                char msg[80];
                snprintf(msg, sizeof(msg), "matchers.%zu.%s in body is required", i, req_keys[k]);
                api_reply_error_object(resp, 422, 602, msg);
                goto out;
            }
        }
        is_regex = json_is_true(jget(el, "isRegex"));
        is_equal = eq == NULL || json_is_null(eq) || json_is_true(eq); /* default true */
        r->matchers[i].name = ar_strdup(json_string_value(jget(el, "name")));
        r->matchers[i].value = ar_strdup(json_string_value(jget(el, "value")));
        r->matchers[i].op =
            is_regex ? (is_equal ? MATCHER_RE : MATCHER_NRE) : (is_equal ? MATCHER_EQ : MATCHER_NE);
        r->nmatchers++;
    }
    if (!has_start) {
        api_reply_error_object(resp, 422, 602, "startsAt in body is required");
        goto out;
    }
    r->id = id ? ar_strdup(id) : NULL;
    r->created_by = ar_strdup(created_by);
    r->comment = ar_strdup(comment);
    ok = true;
out:
    json_decref(root);
    return ok;
}

static void silences_post(struct api *api, const struct http_request *req,
                          struct http_response *resp)
{
    struct silence_request r;
    struct post_call call;
    char user[128];
    int rc;

    if (req->body_too_large) {
        api_reply_error_object(resp, 413, 413, "request body too large");
        return;
    }
    if (!api_check_media_type(req, resp)) {
        return;
    }
    memset(&r, 0, sizeof(r));
    if (!decode_body(req, &r, resp)) {
        silence_request_cleanup(&r);
        return;
    }
    /* COMPAT: the handler's own checks, before the silence set sees the request. */
    if (r.starts_at >= r.ends_at) {
        api_reply_json_string(resp, 400,
                              "Failed to create silence: start time must be before end time");
        goto out;
    }
    if (r.ends_at < clock_now_ns()) {
        api_reply_json_string(resp, 400, "Failed to create silence: end time can't be in the past");
        goto out;
    }
    memset(&call, 0, sizeof(call));
    call.req = &r;
    call.client = req->client;
    http_request_basic_user(req, user, sizeof(user));
    call.user = user;
    rc = core_call(api->core, post_fn, &call);
    if (rc == AR_OK) {
        buf_reset(&resp->body);
        buf_printf(&resp->body, "{\"silenceID\":\"%s\"}", call.id);
        reply_json(resp, 200);
    } else if (rc == AR_ENOTFOUND) {
        api_reply_json_string(resp, 404, "silence not found");
    } else if (rc == AR_EINVAL) {
        api_reply_json_string(resp, 400, call.err.msg);
    } else {
        log_error("api", "storing silence: %s", ar_strerror(rc));
        api_reply_json_string(resp, 500, "failed to store silence");
    }
out:
    silence_request_cleanup(&r);
}

/* ---- routing --------------------------------------------------------------------------- */

bool api_silences_route(struct api *api, const struct http_request *req, const char *path,
                        struct http_response *resp)
{
    if (strcmp(path, "/silences") == 0) {
        if (strcmp(req->method, "GET") == 0) {
            silences_get(api, req, resp);
        } else if (strcmp(req->method, "POST") == 0) {
            silences_post(api, req, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET,POST");
        }
        return true;
    }
    if (strncmp(path, "/silence/", 9) == 0 && path[9] != '\0' && strchr(path + 9, '/') == NULL) {
        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "DELETE") == 0) {
            silence_one(api, req, path + 9, resp);
        } else {
            api_reply_method_not_allowed(req, resp, "GET,DELETE");
        }
        return true;
    }
    return false;
}

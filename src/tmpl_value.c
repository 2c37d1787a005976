/* Template values (ar/tmpl.h): refcounted nil/bool/int/float/string/list/map/struct/time/
 * duration values, the Alertmanager Data/Alert/KV builders, Go-style printing (fmt %v and
 * Printf verbs), Go truthiness and comparison, and JSON encoding as encoding/json does.
 * Maps keep keys sorted so iteration and printing follow Go's sorted-key order; lookups are
 * binary searches. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include "ar/gotime.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const data_fields[] = {
    "Receiver",          "Status",      "Alerts", "GroupLabels", "CommonLabels",
    "CommonAnnotations", "ExternalURL", NULL};
static const char *const data_json[] = {
    "receiver",          "status",      "alerts", "groupLabels", "commonLabels",
    "commonAnnotations", "externalURL", NULL};
/* Hidden extra Data fields (newest): reachable by name but not printed. */
static const char *const data_extra[] = {"NotificationReason", "RouteLabels", NULL};
static const char *const alert_fields[] = {"Status", "Labels",       "Annotations", "StartsAt",
                                           "EndsAt", "GeneratorURL", "Fingerprint", NULL};
static const char *const alert_json[] = {"status", "labels",       "annotations", "startsAt",
                                         "endsAt", "generatorURL", "fingerprint", NULL};
static const char *const pair_fields[] = {"Name", "Value", NULL};

enum { DATA_NFIELDS = 9, ALERT_NFIELDS = 7 };

const char *const *tmpl_struct_fields(enum tmpl_kind kind)
{
    switch (kind) {
    case TMPL_K_DATA:
        return data_fields;
    case TMPL_K_ALERT:
        return alert_fields;
    case TMPL_K_PAIR:
        return pair_fields;
    default:
        return NULL;
    }
}

const char *const *tmpl_struct_json_names(enum tmpl_kind kind)
{
    switch (kind) {
    case TMPL_K_DATA:
        return data_json;
    case TMPL_K_ALERT:
        return alert_json;
    case TMPL_K_PAIR:
        return pair_fields;
    default:
        return NULL;
    }
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static struct tmpl_value *val_new(enum tmpl_type type, enum tmpl_kind kind)
{
    struct tmpl_value *v = ar_calloc(1, sizeof(*v));

    v->refs = 1;
    v->type = type;
    v->kind = kind;
    return v;
}

/* Reference counts are atomic so that one Data value may be rendered by several notifier
 * threads at once; immortal values (refs < 0: statics and parse-time constants) are never
 * counted. */
struct tmpl_value *tmpl_value_ref(struct tmpl_value *v)
{
    if (v != NULL && __atomic_load_n(&v->refs, __ATOMIC_RELAXED) > 0) {
        __atomic_fetch_add(&v->refs, 1, __ATOMIC_RELAXED);
    }
    return v;
}

void tmpl_value_unref(struct tmpl_value *v)
{
    size_t i;

    if (v == NULL || __atomic_load_n(&v->refs, __ATOMIC_RELAXED) < 0) {
        return;
    }
    if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0) {
        return;
    }
    switch (v->type) {
    case TMPL_STRING:
        free(v->u.s.p);
        break;
    case TMPL_LIST:
        for (i = 0; i < v->u.list.n; i++) {
            tmpl_value_unref(v->u.list.v[i]);
        }
        free(v->u.list.v);
        break;
    case TMPL_MAP:
        for (i = 0; i < v->u.map.n; i++) {
            free(v->u.map.keys[i]);
            tmpl_value_unref(v->u.map.vals[i]);
        }
        free(v->u.map.keys);
        free(v->u.map.vals);
        break;
    case TMPL_STRUCT:
        for (i = 0; i < v->u.st.n; i++) {
            tmpl_value_unref(v->u.st.vals[i]);
        }
        free(v->u.st.vals);
        break;
    default:
        break;
    }
    free(v);
}

static struct tmpl_value nil_value = {.refs = -1, .type = TMPL_NIL};

struct tmpl_value *tmpl_nil(void)
{
    return &nil_value;
}

struct tmpl_value *tmpl_bool(bool b)
{
    static struct tmpl_value t = {.refs = -1, .type = TMPL_BOOL, .u.b = true};
    static struct tmpl_value f = {.refs = -1, .type = TMPL_BOOL, .u.b = false};

    return b ? &t : &f;
}

struct tmpl_value *tmpl_int(int64_t i)
{
    struct tmpl_value *v = val_new(TMPL_INT, TMPL_K_PLAIN);

    v->u.i = i;
    return v;
}

struct tmpl_value *tmpl_float(double f)
{
    struct tmpl_value *v = val_new(TMPL_FLOAT, TMPL_K_PLAIN);

    v->u.f = f;
    return v;
}

struct tmpl_value *tmpl_string_take(char *s, size_t len)
{
    struct tmpl_value *v = val_new(TMPL_STRING, TMPL_K_PLAIN);

    v->u.s.p = s;
    v->u.s.len = len;
    return v;
}

struct tmpl_value *tmpl_string_n(const char *s, size_t len)
{
    char *p = ar_malloc(len + 1);

    if (len > 0) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return tmpl_string_take(p, len);
}

struct tmpl_value *tmpl_string(const char *s)
{
    return tmpl_string_n(s, strlen(s));
}

struct tmpl_value *tmpl_list_new(enum tmpl_kind kind)
{
    return val_new(TMPL_LIST, kind);
}

struct tmpl_value *tmpl_map_new(enum tmpl_kind kind)
{
    return val_new(TMPL_MAP, kind);
}

struct tmpl_value *tmpl_time(int64_t sec, int32_t nsec)
{
    struct tmpl_value *v = val_new(TMPL_TIME, TMPL_K_PLAIN);

    v->u.t.sec = sec;
    v->u.t.nsec = nsec;
    v->u.t.off = 0;
    memcpy(v->u.t.zone, "UTC", 4);
    return v;
}

int tmpl_time_format(struct buf *b, const struct tmpl_value *t, const char *layout)
{
    return gotime_format(b, layout, t->u.t.sec, t->u.t.nsec, t->u.t.off, t->u.t.zone);
}

struct tmpl_value *tmpl_duration(int64_t ns)
{
    struct tmpl_value *v = val_new(TMPL_DURATION, TMPL_K_PLAIN);

    v->u.dur_ns = ns;
    return v;
}

void tmpl_list_push_take(struct tmpl_value *list, struct tmpl_value *v)
{
    if (list->u.list.n == list->u.list.cap) {
        list->u.list.cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
        list->u.list.v = ar_realloc(list->u.list.v, list->u.list.cap * sizeof(*list->u.list.v));
    }
    list->u.list.v[list->u.list.n++] = v;
    if (v->depth + 1 > list->depth) {
        list->depth = v->depth + 1;
    }
}

/* Index of key, or -(insertion point) - 1. */
static long map_search(const struct tmpl_value *map, const char *key)
{
    return ar_bsearch_name(map->u.map.keys, map->u.map.n, sizeof(*map->u.map.keys), 0, key);
}

void tmpl_map_set_take(struct tmpl_value *map, const char *key, struct tmpl_value *v)
{
    long i = map_search(map, key);
    size_t at;

    if (v->depth + 1 > map->depth) {
        map->depth = v->depth + 1;
    }
    if (i >= 0) {
        tmpl_value_unref(map->u.map.vals[i]);
        map->u.map.vals[i] = v;
        return;
    }
    at = (size_t)(-i - 1);
    if (map->u.map.n == map->u.map.cap) {
        map->u.map.cap = map->u.map.cap ? map->u.map.cap * 2 : 8;
        map->u.map.keys = ar_realloc(map->u.map.keys, map->u.map.cap * sizeof(char *));
        map->u.map.vals = ar_realloc(map->u.map.vals, map->u.map.cap * sizeof(*map->u.map.vals));
    }
    memmove(map->u.map.keys + at + 1, map->u.map.keys + at, (map->u.map.n - at) * sizeof(char *));
    memmove(map->u.map.vals + at + 1, map->u.map.vals + at,
            (map->u.map.n - at) * sizeof(*map->u.map.vals));
    map->u.map.keys[at] = ar_strdup(key);
    map->u.map.vals[at] = v;
    map->u.map.n++;
}

struct tmpl_value *tmpl_map_find(const struct tmpl_value *map, const char *key)
{
    long i;

    if (map == NULL || map->type != TMPL_MAP) {
        return NULL;
    }
    i = map_search(map, key);
    return i >= 0 ? map->u.map.vals[i] : NULL;
}

void tmpl_kv_set(struct tmpl_value *kv, const char *key, const char *value)
{
    tmpl_map_set_take(kv, key, tmpl_string(value));
}

/* ---- Alertmanager data ---------------------------------------------------------------------- */

enum {
    D_RECEIVER,
    D_STATUS,
    D_ALERTS,
    D_GROUP,
    D_COMMON_L,
    D_COMMON_A,
    D_URL,
    D_REASON,
    D_ROUTE,
};
enum { A_STATUS, A_LABELS, A_ANNOT, A_STARTS, A_ENDS, A_URL, A_FP };

char *tmpl_quote_meta(const char *s)
{
    struct buf b;

    buf_init(&b, 0);
    buf_reserve(&b, strlen(s) + 1);
    for (; *s; s++) {
        if (strchr("\\.+*?()|[]{}^$", *s) != NULL) {
            buf_putc(&b, '\\');
        }
        buf_putc(&b, *s);
    }
    buf_append(&b, "", 0); /* terminates an empty result too */
    return buf_take(&b);
}

static struct tmpl_value *struct_new(enum tmpl_kind kind, size_t n)
{
    struct tmpl_value *v = val_new(TMPL_STRUCT, kind);
    size_t i;

    v->u.st.n = n;
    v->u.st.vals = ar_calloc(n, sizeof(*v->u.st.vals));
    for (i = 0; i < n; i++) {
        v->u.st.vals[i] = tmpl_nil();
    }
    return v;
}

static void struct_set_take(struct tmpl_value *st, size_t i, struct tmpl_value *v)
{
    tmpl_value_unref(st->u.st.vals[i]);
    st->u.st.vals[i] = v;
    if (v->depth + 1 > st->depth) {
        st->depth = v->depth + 1;
    }
}

struct tmpl_value *tmpl_data_new(const char *receiver, bool quote_receiver,
                                 const char *external_url)
{
    struct tmpl_value *d = struct_new(TMPL_K_DATA, DATA_NFIELDS);

    if (quote_receiver) {
        char *q = tmpl_quote_meta(receiver ? receiver : "");
        struct_set_take(d, D_RECEIVER, tmpl_string_take(q, strlen(q)));
    } else {
        struct_set_take(d, D_RECEIVER, tmpl_string(receiver ? receiver : ""));
    }
    struct_set_take(d, D_STATUS, tmpl_string("resolved"));
    struct_set_take(d, D_ALERTS, tmpl_list_new(TMPL_K_ALERTS));
    struct_set_take(d, D_GROUP, tmpl_map_new(TMPL_K_KV));
    struct_set_take(d, D_COMMON_L, tmpl_map_new(TMPL_K_KV));
    struct_set_take(d, D_COMMON_A, tmpl_map_new(TMPL_K_KV));
    struct_set_take(d, D_URL, tmpl_string(external_url ? external_url : ""));
    struct_set_take(d, D_REASON, tmpl_string(""));
    struct_set_take(d, D_ROUTE, tmpl_map_new(TMPL_K_KV));
    return d;
}

struct tmpl_value *tmpl_data_group_labels(struct tmpl_value *data)
{
    return data->u.st.vals[D_GROUP];
}

struct tmpl_value *tmpl_data_common_labels(struct tmpl_value *data)
{
    return data->u.st.vals[D_COMMON_L];
}

struct tmpl_value *tmpl_data_common_annotations(struct tmpl_value *data)
{
    return data->u.st.vals[D_COMMON_A];
}

void tmpl_data_set_status(struct tmpl_value *data, const char *status)
{
    struct_set_take(data, D_STATUS, tmpl_string(status ? status : ""));
}

struct tmpl_value *tmpl_alert_new(const char *status, int64_t starts_sec, int32_t starts_nsec,
                                  int64_t ends_sec, int32_t ends_nsec, const char *generator_url,
                                  const char *fingerprint)
{
    struct tmpl_value *a = struct_new(TMPL_K_ALERT, ALERT_NFIELDS);

    struct_set_take(a, A_STATUS, tmpl_string(status ? status : ""));
    struct_set_take(a, A_LABELS, tmpl_map_new(TMPL_K_KV));
    struct_set_take(a, A_ANNOT, tmpl_map_new(TMPL_K_KV));
    struct_set_take(a, A_STARTS, tmpl_time(starts_sec, starts_nsec));
    struct_set_take(a, A_ENDS, tmpl_time(ends_sec, ends_nsec));
    struct_set_take(a, A_URL, tmpl_string(generator_url ? generator_url : ""));
    struct_set_take(a, A_FP, tmpl_string(fingerprint ? fingerprint : ""));
    return a;
}

struct tmpl_value *tmpl_alert_labels(struct tmpl_value *alert)
{
    return alert->u.st.vals[A_LABELS];
}

struct tmpl_value *tmpl_alert_annotations(struct tmpl_value *alert)
{
    return alert->u.st.vals[A_ANNOT];
}

void tmpl_data_add_alert_take(struct tmpl_value *data, struct tmpl_value *alert)
{
    tmpl_list_push_take(data->u.st.vals[D_ALERTS], alert);
}

static void common_pairs(struct tmpl_value *dst, const struct tmpl_value *alerts, size_t field)
{
    const struct tmpl_value *first;
    size_t i;
    size_t j;

    if (alerts->u.list.n == 0) {
        return;
    }
    first = alerts->u.list.v[0]->u.st.vals[field];
    for (i = 0; i < first->u.map.n; i++) {
        const char *k = first->u.map.keys[i];
        const struct tmpl_value *v = first->u.map.vals[i];
        bool same = true;

        for (j = 1; j < alerts->u.list.n && same; j++) {
            const struct tmpl_value *o = tmpl_map_find(alerts->u.list.v[j]->u.st.vals[field], k);

            same = o != NULL && o->u.s.len == v->u.s.len &&
                   memcmp(o->u.s.p, v->u.s.p, v->u.s.len) == 0;
        }
        if (same) {
            tmpl_map_set_take(dst, k, tmpl_value_ref((struct tmpl_value *)v));
        }
    }
}

void tmpl_data_finish(struct tmpl_value *data, bool compute_common)
{
    const struct tmpl_value *alerts = data->u.st.vals[D_ALERTS];
    bool firing = false;
    size_t i;

    for (i = 0; i < alerts->u.list.n; i++) {
        const struct tmpl_value *st = alerts->u.list.v[i]->u.st.vals[A_STATUS];

        if (strcmp(st->u.s.p, "firing") == 0) {
            firing = true;
        }
    }
    tmpl_data_set_status(data, firing ? "firing" : "resolved");
    if (compute_common) {
        struct tmpl_value *cl = tmpl_map_new(TMPL_K_KV);
        struct tmpl_value *ca = tmpl_map_new(TMPL_K_KV);

        common_pairs(cl, alerts, A_LABELS);
        common_pairs(ca, alerts, A_ANNOT);
        struct_set_take(data, D_COMMON_L, cl);
        struct_set_take(data, D_COMMON_A, ca);
    }
}

/* ---- type names, truth, comparison --------------------------------------------------------- */

const char *tmpl_type_name(const struct tmpl_value *v)
{
    if (v == NULL) {
        return "<nil>";
    }
    switch (v->type) {
    case TMPL_NIL:
        return "<nil>";
    case TMPL_BOOL:
        return "bool";
    case TMPL_INT:
        return "int";
    case TMPL_FLOAT:
        return "float64";
    case TMPL_STRING:
        if (v->kind == TMPL_K_SAFE_HTML) {
            return "template.HTML";
        }
        if (v->kind == TMPL_K_SAFE_URL) {
            return "template.URL";
        }
        return "string";
    case TMPL_LIST:
        switch (v->kind) {
        case TMPL_K_STRINGS:
            return "[]string";
        case TMPL_K_ALERTS:
            return "template.Alerts";
        case TMPL_K_ALERT_SLICE:
            return "[]template.Alert";
        case TMPL_K_PAIRS:
            return "template.Pairs";
        default:
            return "[]interface {}";
        }
    case TMPL_MAP:
        return v->kind == TMPL_K_KV ? "template.KV" : "map[string]interface {}";
    case TMPL_STRUCT:
        switch (v->kind) {
        case TMPL_K_DATA:
            return "*template.Data"; /* COMPAT: templates get a pointer to Data */
        case TMPL_K_ALERT:
            return "template.Alert";
        default:
            return "template.Pair";
        }
    case TMPL_TIME:
        return "time.Time";
    case TMPL_DURATION:
        return "time.Duration";
    }
    return "?";
}

bool tmpl_truth(const struct tmpl_value *v)
{
    if (v == NULL) {
        return false;
    }
    switch (v->type) {
    case TMPL_NIL:
        return false;
    case TMPL_BOOL:
        return v->u.b;
    case TMPL_INT:
        return v->u.i != 0;
    case TMPL_FLOAT:
        return v->u.f != 0;
    case TMPL_STRING:
        return v->u.s.len != 0;
    case TMPL_LIST:
        return v->u.list.n != 0;
    case TMPL_MAP:
        return v->u.map.n != 0;
    case TMPL_DURATION:
        return v->u.dur_ns != 0;
    default:
        return true;
    }
}

int tmpl_compare(const struct tmpl_value *a, const struct tmpl_value *b, bool ordered, int *res,
                 char *msg, size_t msgsz)
{
    enum tmpl_type ta = a ? a->type : TMPL_NIL;
    enum tmpl_type tb = b ? b->type : TMPL_NIL;

    if (ta == TMPL_DURATION) {
        ta = TMPL_INT;
    }
    if (tb == TMPL_DURATION) {
        tb = TMPL_INT;
    }
    if (ta == TMPL_NIL || tb == TMPL_NIL) {
        if (!ordered && ta == TMPL_NIL && tb == TMPL_NIL) {
            *res = 0;
            return AR_OK;
        }
        snprintf(msg, msgsz, "invalid type for comparison");
        return AR_EINVAL;
    }
    if (ta != tb) {
        snprintf(msg, msgsz, "incompatible types for comparison");
        return AR_EINVAL;
    }
    switch (ta) {
    case TMPL_BOOL:
        if (ordered) {
            snprintf(msg, msgsz, "invalid type for comparison");
            return AR_EINVAL;
        }
        *res = a->u.b == b->u.b ? 0 : 1;
        return AR_OK;
    case TMPL_INT: {
        int64_t x = a->type == TMPL_DURATION ? a->u.dur_ns : a->u.i;
        int64_t y = b->type == TMPL_DURATION ? b->u.dur_ns : b->u.i;

        *res = x < y ? -1 : x > y ? 1 : 0;
        return AR_OK;
    }
    case TMPL_FLOAT:
        *res = a->u.f < b->u.f ? -1 : a->u.f > b->u.f ? 1 : 0;
        if (a->u.f != b->u.f && *res == 0) {
            *res = 2; /* NaN: unequal and unordered */
        }
        return AR_OK;
    case TMPL_STRING: {
        size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
        int c = memcmp(a->u.s.p, b->u.s.p, n);

        if (c == 0) {
            c = a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len ? 1 : 0;
        }
        *res = c < 0 ? -1 : c > 0 ? 1 : 0;
        return AR_OK;
    }
    case TMPL_TIME:
        if (!ordered) {
            *res =
                (a->u.t.sec == b->u.t.sec && a->u.t.nsec == b->u.t.nsec && a->u.t.off == b->u.t.off)
                    ? 0
                    : 1;
            return AR_OK;
        }
        break;
    default:
        break;
    }
    if (ordered) {
        snprintf(msg, msgsz, "invalid type for comparison");
    } else {
        /* COMPAT: Go prints the value, then its type */
        struct buf vb;

        buf_init(&vb, msgsz);
        tmpl_fmt_value(&vb, a, TMPL_KV_GO_MAP);
        snprintf(msg, msgsz, "non-comparable type %s: %s", buf_str(&vb), tmpl_type_name(a));
        buf_cleanup(&vb);
    }
    return AR_EINVAL;
}

/* ---- printing -------------------------------------------------------------------------------- */

void tmpl_fmt_float(char *out, size_t outsz, double f, bool json)
{
    char tmp[64];
    int prec;
    int exp10;
    char digits[32];
    size_t nd = 0;
    const char *p;

    if (isnan(f)) {
        snprintf(out, outsz, "NaN");
        return;
    }
    if (isinf(f)) {
        snprintf(out, outsz, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (f == 0) {
        snprintf(out, outsz, signbit(f) && !json ? "-0" : "0");
        return;
    }
    /* Shortest digit string that reads back exactly. */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) {
            break;
        }
    }
    p = tmp;
    if (*p == '-') {
        p++;
    }
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1) {
            digits[nd++] = *p;
        }
    }
    digits[nd] = '\0';
    exp10 = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0') {
        digits[--nd] = '\0';
    }
    {
        struct buf b;
        /* COMPAT: fmt %v switches to exponent form at 1e+06, encoding/json at 1e21. */
        bool use_exp = json ? (exp10 < -6 || exp10 >= 21) : (exp10 < -4 || exp10 >= 6);

        buf_init(&b, 0);
        if (f < 0) {
            buf_putc(&b, '-');
        }
        if (use_exp) {
            buf_putc(&b, digits[0]);
            if (nd > 1) {
                buf_putc(&b, '.');
                buf_puts(&b, digits + 1);
            }
            if (json) {
                buf_printf(&b, "e%c%d", exp10 < 0 ? '-' : '+', abs(exp10));
            } else {
                buf_printf(&b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
            }
        } else if (exp10 < 0) {
            int z;

            buf_puts(&b, "0.");
            for (z = -1; z > exp10; z--) {
                buf_putc(&b, '0');
            }
            buf_puts(&b, digits);
        } else {
            size_t i;

            for (i = 0; i < nd || (int)i <= exp10; i++) {
                if ((int)i == exp10 + 1) {
                    buf_putc(&b, '.');
                }
                buf_putc(&b, i < nd ? digits[i] : '0');
            }
        }
        snprintf(out, outsz, "%s", buf_str(&b));
        buf_cleanup(&b);
    }
}

void tmpl_duration_string(char *out, size_t outsz, int64_t ns)
{
    /* Go time.Duration.String: "72h3m0.5s", "1.5ms", "0s". */
    char buf[64];
    char *w = buf + sizeof(buf);
    uint64_t u = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    bool neg = ns < 0;

    *--w = '\0';
    if (u < 1000000000ULL) {
        int prec = 0;
        const char *unit;

        if (u == 0) {
            snprintf(out, outsz, "0s");
            return;
        }
        if (u < 1000ULL) {
            unit = "ns";
        } else if (u < 1000000ULL) {
            prec = 3;
            unit = "\xc2\xb5s";
        } else {
            prec = 6;
            unit = "ms";
        }
        {
            char num[48];
            uint64_t ip;
            uint64_t fp;
            uint64_t div = 1;
            int i;

            for (i = 0; i < prec; i++) {
                div *= 10;
            }
            ip = u / div;
            fp = u % div;
            if (fp == 0) {
                snprintf(num, sizeof(num), "%" PRIu64, ip);
            } else {
                char frac[16];
                int fl = prec;

                snprintf(frac, sizeof(frac), "%0*" PRIu64, prec, fp);
                while (fl > 0 && frac[fl - 1] == '0') {
                    frac[--fl] = '\0';
                }
                snprintf(num, sizeof(num), "%" PRIu64 ".%s", ip, frac);
            }
            snprintf(out, outsz, "%s%s%s", neg ? "-" : "", num, unit);
        }
        return;
    }
    {
        uint64_t secs = u / 1000000000ULL;
        uint64_t frac = u % 1000000000ULL;
        char sbuf[48];
        char fbuf[16] = "";
        struct buf b;

        if (frac) {
            int fl = 9;

            snprintf(fbuf, sizeof(fbuf), ".%09" PRIu64, frac);
            while (fbuf[fl] == '0') {
                fbuf[fl--] = '\0';
            }
        }
        snprintf(sbuf, sizeof(sbuf), "%" PRIu64 "%ss", secs % 60, fbuf);
        buf_init(&b, 0);
        if (neg) {
            buf_putc(&b, '-');
        }
        if (secs >= 3600) {
            buf_printf(&b, "%" PRIu64 "h%" PRIu64 "m", secs / 3600, (secs / 60) % 60);
        } else if (secs >= 60) {
            buf_printf(&b, "%" PRIu64 "m", secs / 60);
        }
        buf_puts(&b, sbuf);
        snprintf(out, outsz, "%s", buf_str(&b));
        buf_cleanup(&b);
    }
    (void)w;
}

static int fmt_kv_readable(struct buf *b, const struct tmpl_value *v, enum tmpl_kv_style kv)
{
    size_t i;
    int rc = AR_OK;

    if (v->type == TMPL_MAP) {
        /* COMPAT: newest KV.String() prints SortedPairs: alertname first, then by name */
        const struct tmpl_value *an = tmpl_map_find(v, "alertname");
        bool first = true;

        if (an != NULL) {
            rc = buf_puts(b, "alertname=");
            if (rc == AR_OK) {
                rc = tmpl_fmt_value(b, an, kv);
            }
            first = false;
        }
        for (i = 0; i < v->u.map.n && rc == AR_OK; i++) {
            if (an != NULL && strcmp(v->u.map.keys[i], "alertname") == 0) {
                continue;
            }
            rc = buf_printf(b, "%s%s=", first ? "" : ", ", v->u.map.keys[i]);
            first = false;
            if (rc == AR_OK) {
                rc = tmpl_fmt_value(b, v->u.map.vals[i], kv);
            }
        }
        return rc;
    }
    for (i = 0; i < v->u.list.n && rc == AR_OK; i++) {
        const struct tmpl_value *p = v->u.list.v[i];

        rc = buf_puts(b, i ? ", " : "");
        if (rc == AR_OK) {
            rc = tmpl_fmt_value(b, p->u.st.vals[0], kv);
        }
        if (rc == AR_OK) {
            rc = buf_putc(b, '=');
        }
        if (rc == AR_OK) {
            rc = tmpl_fmt_value(b, p->u.st.vals[1], kv);
        }
    }
    return rc;
}

int tmpl_fmt_value(struct buf *b, const struct tmpl_value *v, enum tmpl_kv_style kv)
{
    char tmp[64];
    size_t i;
    int rc = AR_OK;

    if (v == NULL) {
        return buf_puts(b, "<nil>");
    }
    switch (v->type) {
    case TMPL_NIL:
        return buf_puts(b, "<nil>");
    case TMPL_BOOL:
        return buf_puts(b, v->u.b ? "true" : "false");
    case TMPL_INT:
        return buf_printf(b, "%" PRId64, v->u.i);
    case TMPL_FLOAT:
        tmpl_fmt_float(tmp, sizeof(tmp), v->u.f, false);
        return buf_puts(b, tmp);
    case TMPL_STRING:
        return buf_append(b, v->u.s.p, v->u.s.len);
    case TMPL_DURATION:
        tmpl_duration_string(tmp, sizeof(tmp), v->u.dur_ns);
        return buf_puts(b, tmp);
    case TMPL_TIME:
        return tmpl_time_format(b, v, "2006-01-02 15:04:05.999999999 -0700 MST");
    case TMPL_LIST:
        if (v->kind == TMPL_K_PAIRS && kv == TMPL_KV_READABLE) {
            return fmt_kv_readable(b, v, kv);
        }
        rc = buf_putc(b, '[');
        for (i = 0; i < v->u.list.n && rc == AR_OK; i++) {
            if (i > 0) {
                rc = buf_putc(b, ' ');
            }
            if (rc == AR_OK) {
                rc = tmpl_fmt_value(b, v->u.list.v[i], kv);
            }
        }
        return rc == AR_OK ? buf_putc(b, ']') : rc;
    case TMPL_MAP:
        if (v->kind == TMPL_K_KV && kv == TMPL_KV_READABLE) {
            return fmt_kv_readable(b, v, kv);
        }
        rc = buf_puts(b, "map[");
        for (i = 0; i < v->u.map.n && rc == AR_OK; i++) {
            rc = buf_printf(b, "%s%s:", i ? " " : "", v->u.map.keys[i]);
            if (rc == AR_OK) {
                rc = tmpl_fmt_value(b, v->u.map.vals[i], kv);
            }
        }
        return rc == AR_OK ? buf_putc(b, ']') : rc;
    case TMPL_STRUCT: {
        const char *const *names = tmpl_struct_fields(v->kind);
        size_t nf = 0;

        while (names[nf] != NULL) {
            nf++;
        }
        if (v->kind == TMPL_K_DATA && kv == TMPL_KV_READABLE && v->u.st.n >= DATA_NFIELDS) {
            /* newest Data also has NotificationReason and RouteLabels, in this order */
            static const size_t order[] = {D_RECEIVER, D_STATUS,   D_ALERTS, D_REASON, D_GROUP,
                                           D_COMMON_L, D_COMMON_A, D_ROUTE,  D_URL};

            rc = buf_putc(b, '{');
            for (i = 0; i < AR_ARRAY_LEN(order) && rc == AR_OK; i++) {
                if (i > 0) {
                    rc = buf_putc(b, ' ');
                }
                if (rc == AR_OK) {
                    rc = tmpl_fmt_value(b, v->u.st.vals[order[i]], kv);
                }
            }
            return rc == AR_OK ? buf_putc(b, '}') : rc;
        }
        rc = buf_putc(b, '{');
        for (i = 0; i < nf && i < v->u.st.n && rc == AR_OK; i++) {
            if (i > 0) {
                rc = buf_putc(b, ' ');
            }
            if (rc == AR_OK) {
                rc = tmpl_fmt_value(b, v->u.st.vals[i], kv);
            }
        }
        return rc == AR_OK ? buf_putc(b, '}') : rc;
    }
    }
    return AR_OK;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static int json_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    int rc = buf_putc(b, '"');

    for (i = 0; i < n && rc == AR_OK; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = buf_append(b, e, 2);
        } else if (c == '\n') {
            rc = buf_puts(b, "\\n");
        } else if (c == '\r') {
            rc = buf_puts(b, "\\r");
        } else if (c == '\t') {
            rc = buf_puts(b, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = buf_append(b, e, 6);
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            rc = buf_puts(b, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
            i += 2;
        } else {
            rc = buf_putc(b, (char)c);
        }
    }
    return rc == AR_OK ? buf_putc(b, '"') : rc;
}

int tmpl_json_encode(struct buf *b, const struct tmpl_value *v)
{
    char tmp[64];
    size_t i;
    int rc = AR_OK;

    if (v == NULL) {
        return buf_puts(b, "null");
    }
    switch (v->type) {
    case TMPL_NIL:
        return buf_puts(b, "null");
    case TMPL_BOOL:
        return buf_puts(b, v->u.b ? "true" : "false");
    case TMPL_INT:
        return buf_printf(b, "%" PRId64, v->u.i);
    case TMPL_DURATION:
        return buf_printf(b, "%" PRId64, v->u.dur_ns);
    case TMPL_FLOAT:
        if (isnan(v->u.f) || isinf(v->u.f)) {
            return AR_EINVAL;
        }
        tmpl_fmt_float(tmp, sizeof(tmp), v->u.f, true);
        return buf_puts(b, tmp);
    case TMPL_STRING:
        return json_string(b, v->u.s.p, v->u.s.len);
    case TMPL_TIME: {
        struct buf t;

        buf_init(&t, 0);
        rc = tmpl_time_format(&t, v, "2006-01-02T15:04:05.999999999Z07:00");
        if (rc == AR_OK) {
            rc = json_string(b, buf_str(&t), t.len);
        }
        buf_cleanup(&t);
        return rc;
    }
    case TMPL_LIST:
        rc = buf_putc(b, '[');
        for (i = 0; i < v->u.list.n && rc == AR_OK; i++) {
            if (i > 0) {
                rc = buf_putc(b, ',');
            }
            if (rc == AR_OK) {
                rc = tmpl_json_encode(b, v->u.list.v[i]);
            }
        }
        return rc == AR_OK ? buf_putc(b, ']') : rc;
    case TMPL_MAP:
        rc = buf_putc(b, '{');
        for (i = 0; i < v->u.map.n && rc == AR_OK; i++) {
            if (i > 0) {
                rc = buf_putc(b, ',');
            }
            if (rc == AR_OK) {
                rc = json_string(b, v->u.map.keys[i], strlen(v->u.map.keys[i]));
            }
            if (rc == AR_OK) {
                rc = buf_putc(b, ':');
            }
            if (rc == AR_OK) {
                rc = tmpl_json_encode(b, v->u.map.vals[i]);
            }
        }
        return rc == AR_OK ? buf_putc(b, '}') : rc;
    case TMPL_STRUCT: {
        const char *const *names = tmpl_struct_json_names(v->kind);

        if (v->kind == TMPL_K_DATA && v->u.st.n >= DATA_NFIELDS) {
            /* toJson is newest-only: newest's JSON names and field order */
            static const size_t order[] = {D_RECEIVER, D_STATUS,   D_ALERTS, D_REASON, D_GROUP,
                                           D_COMMON_L, D_COMMON_A, D_ROUTE,  D_URL};
            static const char *const jn[] = {"receiver",
                                             "status",
                                             "alerts",
                                             "notification_reason",
                                             "groupLabels",
                                             "commonLabels",
                                             "commonAnnotations",
                                             "routeLabels",
                                             "externalURL"};

            rc = buf_putc(b, '{');
            for (i = 0; i < AR_ARRAY_LEN(order) && rc == AR_OK; i++) {
                rc = buf_printf(b, "%s\"%s\":", i ? "," : "", jn[i]);
                if (rc == AR_OK) {
                    rc = tmpl_json_encode(b, v->u.st.vals[order[i]]);
                }
            }
            return rc == AR_OK ? buf_putc(b, '}') : rc;
        }
        rc = buf_putc(b, '{');
        for (i = 0; names[i] != NULL && i < v->u.st.n && rc == AR_OK; i++) {
            rc = buf_printf(b, "%s\"%s\":", i ? "," : "", names[i]);
            if (rc == AR_OK) {
                rc = tmpl_json_encode(b, v->u.st.vals[i]);
            }
        }
        return rc == AR_OK ? buf_putc(b, '}') : rc;
    }
    }
    return AR_OK;
}

/* Exposed for field lookup of the hidden Data fields. */
const char *const *tmpl_data_extra_fields(void);
const char *const *tmpl_data_extra_fields(void)
{
    return data_extra;
}

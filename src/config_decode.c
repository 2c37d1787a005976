/* Table-driven decoding of YAML nodes into configuration structs (config_internal.h).
 * Each object is allocated zeroed, gets its table's defaults, then its mapping's keys are
 * looked up in the table (unknown or repeated keys are errors, as yaml.v2's strict mode),
 * each value converted by field type, and finally the table's check runs. Errors carry
 * file, line and key path. Work is bounded by ctx.budget, so aliases cannot blow up. */
#include "config_internal.h"

#include "ar/duration.h"
#include "ar/labels.h"
#include "ar/matcher.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctx_error(struct ctx *c, const struct ynode *node, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (node != NULL && c->pathlen > 0) {
        ar_error_set(c->err, "%s:%d: %s: %s", c->file, node->line, c->path, msg);
    } else if (node != NULL) {
        ar_error_set(c->err, "%s:%d: %s", c->file, node->line, msg);
    } else if (c->pathlen > 0) {
        ar_error_set(c->err, "%s: %s: %s", c->file, c->path, msg);
    } else {
        ar_error_set(c->err, "%s: %s", c->file, msg);
    }
    return AR_EINVAL;
}

const struct ynode *ynode_map_find(const struct ynode *map, const char *key)
{
    if (map == NULL || map->kind != YN_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct ynode *k = ynode_key(map, i);
        if (k->kind == YN_SCALAR && strcmp(k->value, key) == 0) {
            return ynode_val(map, i);
        }
    }
    return NULL;
}

int ctx_error_key(struct ctx *c, const struct ynode *map, const char *key, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    const struct ynode *v = ynode_map_find(map, key);

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t old = ctx_push_key(c, key);
    int rc = ctx_error(c, v != NULL ? v : map, "%s", msg);
    ctx_pop(c, old);
    return rc;
}

size_t ctx_push_key(struct ctx *c, const char *key)
{
    size_t old = c->pathlen;
    int n = snprintf(c->path + c->pathlen, sizeof(c->path) - c->pathlen, "%s%s",
                     c->pathlen ? "." : "", key);
    if (n > 0) {
        c->pathlen += (size_t)n;
        if (c->pathlen >= sizeof(c->path)) {
            c->pathlen = sizeof(c->path) - 1;
        }
    }
    return old;
}

size_t ctx_push_index(struct ctx *c, size_t i)
{
    size_t old = c->pathlen;
    int n = snprintf(c->path + c->pathlen, sizeof(c->path) - c->pathlen, "[%zu]", i);
    if (n > 0) {
        c->pathlen += (size_t)n;
        if (c->pathlen >= sizeof(c->path)) {
            c->pathlen = sizeof(c->path) - 1;
        }
    }
    return old;
}

void ctx_pop(struct ctx *c, size_t len)
{
    c->pathlen = len;
    c->path[len] = '\0';
}

static int spend(struct ctx *c, const struct ynode *n)
{
    if (c->budget == 0) {
        return ctx_error(c, n, "configuration too large or too deeply aliased");
    }
    c->budget--;
    return AR_OK;
}

static void *field_ptr(void *obj, const struct field *f)
{
    return (char *)obj + f->off;
}

static const void *field_cptr(const void *obj, const struct field *f)
{
    return (const char *)obj + f->off;
}

/* Generic pointer lists: {T **v; size_t n} accessed through memcpy (layout shared by all
 * AR_PTR_LIST instances). */
static void plist_get(const void *p, void ***v, size_t *n)
{
    memcpy(v, p, sizeof(*v));
    memcpy(n, (const char *)p + sizeof(void **), sizeof(*n));
}

static void plist_set(void *p, void **v, size_t n)
{
    memcpy(p, &v, sizeof(v));
    memcpy((char *)p + sizeof(void **), &n, sizeof(n));
}

/* ---- scalars ---------------------------------------------------------------------------- */

static int type_error(struct ctx *c, const struct ynode *v, const char *into)
{
    if (v->kind == YN_SCALAR) {
        return ctx_error(c, v, "cannot unmarshal %s `%s` into %s", ynode_tag(v), v->value, into);
    }
    return ctx_error(c, v, "cannot unmarshal %s into %s", ynode_tag(v), into);
}

int scalar_string(const struct ynode *v, struct ctx *c, char **out)
{
    if (ynode_is_null(v)) {
        *out = NULL;
        return AR_OK;
    }
    if (v->kind != YN_SCALAR) {
        return type_error(c, v, "string");
    }
    if (strlen(v->value) != v->len) {
        return ctx_error(c, v, "string contains a NUL byte");
    }
    *out = ar_strdup(v->value);
    return AR_OK;
}

int url_validate(const char *s, struct ctx *c, const struct ynode *v)
{
    const char *colon = strchr(s, ':');
    const char *p;
    size_t i;

    /* COMPAT: scheme must be http or https and a host must be present. */
    if (colon == NULL) {
        return ctx_error(c, v, "unsupported scheme \"\" for URL");
    }
    for (p = s; p < colon; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (p > s && ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.'));
        if (!ok) {
            /* Go's url.Parse: "first path segment in URL cannot contain colon" etc.;
             * treated as a URL without scheme */
            if (p == s) {
                return ctx_error(c, v, "parse \"%s\": missing protocol scheme", s);
            }
            return ctx_error(c, v, "unsupported scheme \"\" for URL");
        }
    }
    size_t slen = (size_t)(colon - s);
    char scheme[16];
    if (slen >= sizeof(scheme)) {
        slen = sizeof(scheme) - 1;
    }
    for (i = 0; i < slen; i++) {
        char ch = s[i];
        scheme[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    scheme[i] = '\0';
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        return ctx_error(c, v, "unsupported scheme \"%.*s\" for URL", (int)(colon - s), s);
    }
    if (strncmp(colon + 1, "//", 2) != 0) {
        return ctx_error(c, v, "missing host for URL");
    }
    const char *host = colon + 3;
    const char *at = NULL;
    for (p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++) {
        if (*p == '@') {
            at = p;
        }
    }
    if (at != NULL) {
        host = at + 1;
    }
    if (host >= p) {
        return ctx_error(c, v, "missing host for URL");
    }
    for (const char *q = host; q < p; q++) {
        if (*q == ' ' || (unsigned char)*q < 0x20) {
            return ctx_error(c, v, "parse \"%s\": invalid character \" \" in host name", s);
        }
    }
    return AR_OK;
}

static int hostport_validate(const char *s, struct ctx *c, const struct ynode *v)
{
    const char *colon;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL) {
            return ctx_error(c, v, "address %s: missing ']' in address", s);
        }
        if (end[1] != ':') {
            return ctx_error(c, v, "address %s: missing port in address", s);
        }
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return ctx_error(c, v, "address %s: missing port in address", s);
        }
        if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
            return ctx_error(c, v, "address %s: too many colons in address", s);
        }
    }
    if (colon[1] == '\0') {
        return ctx_error(c, v, "address \"%s\": port cannot be empty", s);
    }
    return AR_OK;
}

static int parse_int(const struct ynode *v, struct ctx *c, bool is_unsigned, int64_t *out,
                     uint64_t *uout)
{
    char buf[64];
    size_t j = 0;

    if (ynode_is_null(v)) {
        *out = 0;
        *uout = 0;
        return AR_OK;
    }
    if (v->kind != YN_SCALAR || !v->plain) {
        return type_error(c, v, is_unsigned ? "uint64" : "int64");
    }
    for (size_t i = 0; v->value[i] && j + 1 < sizeof(buf); i++) {
        if (v->value[i] != '_') {
            buf[j++] = v->value[i];
        }
    }
    buf[j] = '\0';
    char *end = NULL;
    errno = 0;
    if (is_unsigned) {
        if (buf[0] == '-') {
            return type_error(c, v, "uint64");
        }
        unsigned long long u = strtoull(buf, &end, 0);
        if (errno != 0 || end == buf || *end != '\0') {
            return type_error(c, v, "uint64");
        }
        *uout = u;
    } else {
        long long x = strtoll(buf, &end, 0);
        if (errno != 0 || end == buf || *end != '\0') {
            return type_error(c, v, "int64");
        }
        *out = x;
    }
    return AR_OK;
}

static void str_map_cleanup(struct str_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

static void str_list_cleanup(struct str_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

struct kv {
    char *k;
    char *v;
};

static int kv_cmp(const void *a, const void *b)
{
    return yaml_key_compare(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/* Sorts in yaml.v2 key order; O(n log n) so large maps cost little. */
static void str_map_sort(struct str_map *m)
{
    if (m->n < 2) {
        return;
    }
    struct kv *tmp = ar_malloc(m->n * sizeof(*tmp));
    for (size_t i = 0; i < m->n; i++) {
        tmp[i].k = m->keys[i];
        tmp[i].v = m->values[i];
    }
    qsort(tmp, m->n, sizeof(*tmp), kv_cmp);
    for (size_t i = 0; i < m->n; i++) {
        m->keys[i] = tmp[i].k;
        m->values[i] = tmp[i].v;
    }
    free(tmp);
}

void str_map_resort(struct str_map *m)
{
    str_map_sort(m);
}

const char *str_map_get(const struct str_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->keys[i], key) == 0) {
            return m->values[i] ? m->values[i] : "";
        }
    }
    return NULL;
}

static int decode_str_map(const struct field *f, struct str_map *m, const struct ynode *v,
                          struct ctx *c)
{
    int rc = AR_OK;

    str_map_cleanup(m);
    if (ynode_is_null(v)) {
        return AR_OK;
    }
    if (v->kind != YN_MAP) {
        return type_error(c, v, "map[string]string");
    }
    m->keys = ar_calloc(v->n ? v->n : 1, sizeof(char *));
    m->values = ar_calloc(v->n ? v->n : 1, sizeof(char *));
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *k = ynode_key(v, i);
        const struct ynode *val = ynode_val(v, i);
        char *ks = NULL;
        char *vs = NULL;
        rc = spend(c, val);
        if (rc != AR_OK) {
            return rc;
        }
        if (k->kind != YN_SCALAR) {
            return type_error(c, k, "string");
        }
        ks = ar_strdup(ynode_is_null(k) ? "" : k->value);
        size_t old = ctx_push_key(c, ks);
        if (f->type == FT_LABELMAP || f->type == FT_REGEXMAP) {
            if (!label_name_is_classic(ks)) {
                ctx_pop(c, old);
                rc = ctx_error(c, k, "invalid label name \"%s\"", ks);
                free(ks);
                return rc;
            }
        }
        rc = scalar_string(val, c, &vs);
        if (rc == AR_OK && f->type == FT_REGEXMAP) {
            if (vs == NULL) {
                ctx_pop(c, old);
                rc = ctx_error(c, val, "invalid regexp value for \"%s\"", ks);
            } else {
                struct ar_regex *re = NULL;
                struct ar_error rerr;
                if (regex_compile(vs, &re, &rerr) != AR_OK) {
                    rc = ctx_error(c, val, "%s", rerr.msg);
                }
                regex_free(re);
            }
        }
        ctx_pop(c, old);
        if (rc != AR_OK) {
            free(ks);
            free(vs);
            return rc;
        }
        if (vs == NULL && f->type != FT_STRMAP) {
            vs = ar_strdup("");
        }
        m->keys[m->n] = ks;
        m->values[m->n] = vs;
        m->n++;
    }
    str_map_sort(m);
    for (size_t i = 1; i < m->n; i++) {
        if (strcmp(m->keys[i - 1], m->keys[i]) == 0) {
            /* yaml.v2 strict mode rejects repeated keys */
            for (size_t j = 0; j < v->n; j++) {
                const struct ynode *k = ynode_key(v, j);
                if (k->kind == YN_SCALAR && strcmp(k->value, m->keys[i]) == 0) {
                    v = k;
                }
            }
            return ctx_error(c, v, "key \"%s\" already set in map", m->keys[i]);
        }
    }
    return AR_OK;
}

static int decode_str_list(struct str_list *l, const struct ynode *v, struct ctx *c)
{
    int rc;

    str_list_cleanup(l);
    if (ynode_is_null(v)) {
        return AR_OK;
    }
    if (v->kind != YN_SEQ) {
        return type_error(c, v, "[]string");
    }
    l->v = ar_calloc(v->n ? v->n : 1, sizeof(char *));
    for (size_t i = 0; i < v->n; i++) {
        char *s = NULL;
        size_t old = ctx_push_index(c, i);
        rc = spend(c, v->items[i]);
        if (rc == AR_OK) {
            rc = scalar_string(v->items[i], c, &s);
        }
        ctx_pop(c, old);
        if (rc != AR_OK) {
            return rc;
        }
        l->v[l->n++] = s ? s : ar_strdup("");
    }
    return AR_OK;
}

static int decode_matchers(struct matcher_list *l, const struct ynode *v, struct ctx *c)
{
    int rc;

    matcher_list_cleanup(l);
    matcher_list_init(l);
    if (ynode_is_null(v)) {
        return AR_OK;
    }
    if (v->kind != YN_SEQ) {
        return type_error(c, v, "[]string");
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *item = v->items[i];
        struct ar_error merr;
        rc = spend(c, item);
        if (rc != AR_OK) {
            return rc;
        }
        if (item->kind != YN_SCALAR) {
            size_t old = ctx_push_index(c, i);
            rc = type_error(c, item, "string");
            ctx_pop(c, old);
            return rc;
        }
        if (matchers_parse(ynode_is_null(item) ? "" : item->value, l, &merr) != AR_OK) {
            size_t old = ctx_push_index(c, i);
            rc = ctx_error(c, item, "%s", merr.msg);
            ctx_pop(c, old);
            return rc;
        }
    }
    matcher_list_sort(l);
    return AR_OK;
}

static int decode_list(const struct field *f, void *p, const struct ynode *v, struct ctx *c)
{
    void **items = NULL;
    size_t n = 0;
    int rc = AR_OK;

    plist_get(p, &items, &n);
    for (size_t i = 0; i < n; i++) {
        table_free(f->sub, items[i]);
    }
    free(items);
    plist_set(p, NULL, 0);
    if (ynode_is_null(v)) {
        return AR_OK;
    }
    if (v->kind != YN_SEQ) {
        return type_error(c, v, "a list");
    }
    items = ar_calloc(v->n ? v->n : 1, sizeof(void *));
    n = 0;
    for (size_t i = 0; i < v->n; i++) {
        size_t old = ctx_push_index(c, i);
        void *obj = NULL;
        if (!ynode_is_null(v->items[i])) {
            rc = decode_new(f->sub, v->items[i], c, &obj);
        }
        ctx_pop(c, old);
        if (rc != AR_OK) {
            break;
        }
        items[n++] = obj;
    }
    plist_set(p, items, n);
    return rc;
}

int decode_field(const struct field *f, void *obj, const struct ynode *v, struct ctx *c)
{
    void *p = field_ptr(obj, f);
    int rc = spend(c, v);
    char *s = NULL;
    bool b = false;

    if (rc != AR_OK) {
        return rc;
    }
    switch (f->type) {
    case FT_STR:
    case FT_SECRET:
    case FT_URL:
    case FT_SECRET_URL:
    case FT_HOSTPORT:
    case FT_TLSVERSION:
        rc = scalar_string(v, c, &s);
        if (rc != AR_OK) {
            return rc;
        }
        if (s != NULL && f->type == FT_URL) {
            rc = url_validate(s, c, v);
        } else if (s != NULL && f->type == FT_SECRET_URL && strcmp(s, "<secret>") != 0) {
            rc = url_validate(s, c, v);
        } else if (s != NULL && s[0] != '\0' && f->type == FT_HOSTPORT) {
            rc = hostport_validate(s, c, v);
        } else if (s != NULL && f->type == FT_TLSVERSION) {
            if (strcmp(s, "TLS10") != 0 && strcmp(s, "TLS11") != 0 && strcmp(s, "TLS12") != 0 &&
                strcmp(s, "TLS13") != 0) {
                rc = ctx_error(c, v, "unknown TLS version: %s", s);
            }
        }
        if (rc != AR_OK) {
            free(s);
            return rc;
        }
        if (s != NULL && s[0] == '\0' && f->type == FT_URL) {
            free(s);
            s = NULL;
        }
        if (s != NULL && (f->flags & FF_PATH) && s[0] != '\0' && s[0] != '/' &&
            c->base_dir != NULL) {
            char *joined = path_join_clean(c->base_dir, s);
            free(s);
            s = joined;
        }
        free(*(char **)p);
        *(char **)p = s;
        return AR_OK;
    case FT_BOOL:
    case FT_OPTBOOL:
        if (ynode_is_null(v)) {
            if (f->type == FT_BOOL) {
                *(bool *)p = false;
            } else {
                *(int *)p = -1;
            }
            return AR_OK;
        }
        if (v->kind != YN_SCALAR || !v->plain || !yaml_parse_bool(v->value, &b)) {
            return type_error(c, v, "bool");
        }
        if (f->type == FT_BOOL) {
            *(bool *)p = b;
        } else {
            *(int *)p = b ? 1 : 0;
        }
        return AR_OK;
    case FT_DURATION:
    case FT_OPTDURATION: {
        int64_t ms = 0;
        struct ar_error derr;
        if (ynode_is_null(v)) {
            if (f->type == FT_DURATION) {
                *(int64_t *)p = 0;
            } else {
                ((struct opt_duration *)p)->set = false;
                ((struct opt_duration *)p)->ms = 0;
            }
            return AR_OK;
        }
        if (v->kind != YN_SCALAR) {
            return type_error(c, v, "string");
        }
        if (duration_parse(v->value, &ms, &derr) != AR_OK) {
            return ctx_error(c, v, "%s", derr.msg);
        }
        if (f->type == FT_DURATION) {
            *(int64_t *)p = ms;
        } else {
            ((struct opt_duration *)p)->set = true;
            ((struct opt_duration *)p)->ms = ms;
        }
        return AR_OK;
    }
    case FT_GODURATION: {
        int64_t ns = 0;
        struct ar_error derr;
        if (ynode_is_null(v)) {
            *(int64_t *)p = 0;
            return AR_OK;
        }
        if (v->kind != YN_SCALAR) {
            return type_error(c, v, "time.Duration");
        }
        if (v->plain && ynode_tag(v)[2] == 'i') {
            /* yaml.v2: an integer is a count of nanoseconds */
            uint64_t unused;
            return parse_int(v, c, false, (int64_t *)p, &unused);
        }
        if (go_duration_parse(v->value, &ns, &derr) != AR_OK) {
            return ctx_error(c, v, "%s", derr.msg);
        }
        *(int64_t *)p = ns;
        return AR_OK;
    }
    case FT_INT64: {
        uint64_t unused;
        return parse_int(v, c, false, (int64_t *)p, &unused);
    }
    case FT_UINT64: {
        int64_t unused;
        return parse_int(v, c, true, &unused, (uint64_t *)p);
    }
    case FT_STRLIST:
        return decode_str_list((struct str_list *)p, v, c);
    case FT_STRMAP:
    case FT_LABELMAP:
    case FT_REGEXMAP:
        return decode_str_map(f, (struct str_map *)p, v, c);
    case FT_MATCHERS:
        return decode_matchers((struct matcher_list *)p, v, c);
    case FT_STRUCT:
        table_cleanup(f->sub, p);
        memset(p, 0, f->sub->size);
        if (ynode_is_null(v)) {
            return AR_OK; /* yaml.v2: null sets the zero value */
        }
        decode_defaults(f->sub, p);
        return decode_into(f->sub, p, v, c);
    case FT_STRUCTP: {
        void *sub = NULL;
        table_free(f->sub, *(void **)p);
        *(void **)p = NULL;
        if (ynode_is_null(v)) {
            return AR_OK;
        }
        rc = decode_new(f->sub, v, c, &sub);
        if (rc == AR_OK) {
            *(void **)p = sub;
        }
        return rc;
    }
    case FT_LIST:
        return decode_list(f, p, v, c);
    case FT_ANY:
        free(*(char **)p);
        *(char **)p = ynode_to_text(v);
        return AR_OK;
    case FT_ANYMAP: {
        struct str_map *m = p;
        str_map_cleanup(m);
        if (ynode_is_null(v)) {
            return AR_OK;
        }
        if (v->kind != YN_MAP) {
            return type_error(c, v, "map[string]interface {}");
        }
        m->keys = ar_calloc(v->n ? v->n : 1, sizeof(char *));
        m->values = ar_calloc(v->n ? v->n : 1, sizeof(char *));
        for (size_t i = 0; i < v->n; i++) {
            const struct ynode *k = ynode_key(v, i);
            if (k->kind != YN_SCALAR) {
                return type_error(c, k, "string");
            }
            m->keys[m->n] = ar_strdup(k->value);
            m->values[m->n] = ynode_to_text(ynode_val(v, i));
            m->n++;
        }
        str_map_sort(m);
        return AR_OK;
    }
    }
    return AR_OK;
}

static void apply_default(const struct field *f, void *obj)
{
    void *p = field_ptr(obj, f);
    bool b = false;

    switch (f->type) {
    case FT_OPTBOOL:
        *(int *)p = -1;
        if (f->def != NULL && yaml_parse_bool(f->def, &b)) {
            *(int *)p = b ? 1 : 0;
        }
        return;
    case FT_STRUCT:
        decode_defaults(f->sub, p);
        return;
    default:
        break;
    }
    if (f->def == NULL) {
        return;
    }
    switch (f->type) {
    case FT_STR:
    case FT_SECRET:
    case FT_URL:
    case FT_SECRET_URL:
    case FT_HOSTPORT:
    case FT_TLSVERSION:
        *(char **)p = ar_strdup(f->def);
        break;
    case FT_BOOL:
        if (yaml_parse_bool(f->def, &b)) {
            *(bool *)p = b;
        }
        break;
    case FT_DURATION: {
        struct ar_error e;
        int64_t ms = 0;
        if (duration_parse(f->def, &ms, &e) == AR_OK) {
            *(int64_t *)p = ms;
        }
        break;
    }
    case FT_GODURATION: {
        struct ar_error e;
        int64_t ns = 0;
        if (go_duration_parse(f->def, &ns, &e) == AR_OK) {
            *(int64_t *)p = ns;
        }
        break;
    }
    case FT_STRLIST: {
        /* comma-separated default list */
        struct str_list *l = p;
        const char *s = f->def;
        size_t count = 1;
        for (const char *q = s; *q; q++) {
            count += *q == ',';
        }
        l->v = ar_calloc(count, sizeof(char *));
        while (*s) {
            const char *comma = strchr(s, ',');
            size_t len = comma ? (size_t)(comma - s) : strlen(s);
            l->v[l->n++] = ar_strndup(s, len);
            s += len + (comma ? 1 : 0);
        }
        break;
    }
    default:
        break;
    }
}

void decode_defaults(const struct table *t, void *obj)
{
    for (size_t i = 0; i < t->nfields; i++) {
        apply_default(&t->fields[i], obj);
    }
}

int decode_into(const struct table *t, void *obj, const struct ynode *node, struct ctx *c)
{
    int rc = AR_OK;

    if (t->decode != NULL) {
        rc = t->decode(obj, node, c);
        if (rc == AR_OK && t->check != NULL) {
            rc = t->check(obj, c, node);
        }
        return rc;
    }
    if (!ynode_is_null(node)) {
        if (node->kind != YN_MAP) {
            return type_error(c, node, t->name);
        }
        for (size_t i = 0; i < node->n; i++) {
            const struct ynode *k = ynode_key(node, i);
            const struct field *f = NULL;
            if (k->kind != YN_SCALAR) {
                return type_error(c, k, "string");
            }
            for (size_t j = 0; j < i; j++) {
                const struct ynode *prev = ynode_key(node, j);
                if (prev->kind == YN_SCALAR && strcmp(prev->value, k->value) == 0) {
                    return ctx_error(c, k, "field %s already set in type %s", k->value, t->name);
                }
            }
            for (size_t j = 0; j < t->nfields; j++) {
                if (strcmp(t->fields[j].name, k->value) == 0) {
                    f = &t->fields[j];
                    break;
                }
            }
            if (f == NULL) {
                return ctx_error(c, k, "field %s not found in type %s", k->value, t->name);
            }
            size_t old = ctx_push_key(c, f->name);
            rc = decode_field(f, obj, ynode_val(node, i), c);
            ctx_pop(c, old);
            if (rc != AR_OK) {
                return rc;
            }
        }
    }
    if (t->check != NULL) {
        rc = t->check(obj, c, node);
    }
    return rc;
}

int decode_new(const struct table *t, const struct ynode *node, struct ctx *c, void **out)
{
    void *obj = ar_calloc(1, t->size);
    int rc;

    decode_defaults(t, obj);
    rc = decode_into(t, obj, node, c);
    if (rc != AR_OK) {
        table_free(t, obj);
        return rc;
    }
    *out = obj;
    return AR_OK;
}

void table_cleanup(const struct table *t, void *obj)
{
    if (obj == NULL) {
        return;
    }
    if (t->cleanup != NULL) {
        t->cleanup(obj);
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        void *p = field_ptr(obj, f);
        switch (f->type) {
        case FT_STR:
        case FT_SECRET:
        case FT_URL:
        case FT_SECRET_URL:
        case FT_HOSTPORT:
        case FT_TLSVERSION:
        case FT_ANY:
            AR_FREE(*(char **)p);
            break;
        case FT_STRLIST:
            str_list_cleanup(p);
            break;
        case FT_STRMAP:
        case FT_LABELMAP:
        case FT_REGEXMAP:
        case FT_ANYMAP:
            str_map_cleanup(p);
            break;
        case FT_MATCHERS:
            matcher_list_cleanup(p);
            matcher_list_init(p);
            break;
        case FT_STRUCT:
            table_cleanup(f->sub, p);
            break;
        case FT_STRUCTP:
            table_free(f->sub, *(void **)p);
            *(void **)p = NULL;
            break;
        case FT_LIST: {
            void **items;
            size_t n;
            plist_get(p, &items, &n);
            for (size_t j = 0; j < n; j++) {
                table_free(f->sub, items[j]);
            }
            free(items);
            plist_set(p, NULL, 0);
            break;
        }
        default:
            break;
        }
    }
}

void table_free(const struct table *t, void *obj)
{
    if (obj == NULL) {
        return;
    }
    table_cleanup(t, obj);
    free(obj);
}

static void dup_fields(const struct table *t, void *dst, const void *src)
{
    memcpy(dst, src, t->size);
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        void *d = field_ptr(dst, f);
        const void *s = field_cptr(src, f);
        switch (f->type) {
        case FT_STR:
        case FT_SECRET:
        case FT_URL:
        case FT_SECRET_URL:
        case FT_HOSTPORT:
        case FT_TLSVERSION:
        case FT_ANY:
            if (*(char *const *)s != NULL) {
                *(char **)d = ar_strdup(*(char *const *)s);
            }
            break;
        case FT_STRLIST: {
            const struct str_list *sl = s;
            struct str_list *dl = d;
            dl->v = ar_calloc(sl->n ? sl->n : 1, sizeof(char *));
            for (size_t j = 0; j < sl->n; j++) {
                dl->v[j] = ar_strdup(sl->v[j]);
            }
            break;
        }
        case FT_STRMAP:
        case FT_LABELMAP:
        case FT_REGEXMAP:
        case FT_ANYMAP: {
            const struct str_map *sm = s;
            struct str_map *dm = d;
            dm->keys = ar_calloc(sm->n ? sm->n : 1, sizeof(char *));
            dm->values = ar_calloc(sm->n ? sm->n : 1, sizeof(char *));
            for (size_t j = 0; j < sm->n; j++) {
                dm->keys[j] = ar_strdup(sm->keys[j]);
                dm->values[j] = sm->values[j] ? ar_strdup(sm->values[j]) : NULL;
            }
            break;
        }
        case FT_MATCHERS: {
            const struct matcher_list *sm = s;
            struct matcher_list *dm = d;
            matcher_list_init(dm);
            for (size_t j = 0; j < sm->n; j++) {
                matcher_list_add_take(dm, matcher_dup(sm->v[j]));
            }
            break;
        }
        case FT_STRUCT:
            dup_fields(f->sub, d, s);
            break;
        case FT_STRUCTP:
            *(void **)d = table_dup(f->sub, *(void *const *)s);
            break;
        case FT_LIST: {
            void **items;
            size_t n;
            plist_get(s, &items, &n);
            void **copy = ar_calloc(n ? n : 1, sizeof(void *));
            for (size_t j = 0; j < n; j++) {
                copy[j] = table_dup(f->sub, items[j]);
            }
            plist_set(d, copy, n);
            break;
        }
        default:
            break;
        }
    }
}

void *table_dup(const struct table *t, const void *obj)
{
    if (obj == NULL) {
        return NULL;
    }
    void *copy = ar_malloc(t->size);
    dup_fields(t, copy, obj);
    return copy;
}

/* Go's filepath.Join(dir, p) followed by Clean. */
char *path_join_clean(const char *dir, const char *p)
{
    char *joined = ar_asprintf("%s/%s", dir, p);
    bool rooted = joined[0] == '/';
    size_t n = strlen(joined);
    char *out = ar_malloc(n + 2);
    size_t w = 0;
    size_t dotdot = 0; /* index in out past which ".." can backtrack */
    size_t r = 0;

    if (rooted) {
        out[w++] = '/';
        r = 1;
        dotdot = 1;
    }
    while (r < n) {
        if (joined[r] == '/') {
            r++;
        } else if (joined[r] == '.' && (r + 1 == n || joined[r + 1] == '/')) {
            r++;
        } else if (joined[r] == '.' && joined[r + 1] == '.' &&
                   (r + 2 == n || joined[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/') {
                    w--;
                }
            } else if (!rooted) {
                if (w > 0) {
                    out[w++] = '/';
                }
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0)) {
                out[w++] = '/';
            }
            while (r < n && joined[r] != '/') {
                out[w++] = joined[r++];
            }
        }
    }
    if (w == 0) {
        out[w++] = '.';
    }
    out[w] = '\0';
    free(joined);
    return out;
}

/* The configuration loader (ar/config.h): reads the file, parses it into a YAML tree
 * (config_yaml.c), decodes it with the key tables (config_decode.c; global first so the
 * receivers can inherit from it), applies Alertmanager's whole-file validation in
 * upstream order, builds the resolved routing tree (inheritance, defaults, combined
 * matchers, route keys), and re-serialises the result for /api/v2/status
 * (config_dump.c). The result is immutable and refcounted; nothing is shared with a
 * previous configuration. Tables for the top level, the route and inhibit rules live
 * here; receivers in config_receivers.c, time intervals in config_time.c. */
#include "config_internal.h"

#include "ar/buf.h"
#include "ar/config_ext.h"
#include "ar/labels.h"
#include "ar/matcher.h"
#include "ar/tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES     (16u << 20)
#define CONFIG_MAX_NODES     2000000u
#define CONFIG_DECODE_BUDGET 4000000u
#define ROUTE_MAX_DEPTH      100

/* The route exactly as written (yaml.v2's config.Route). */
struct route_cfg {
    char *receiver;
    struct str_list group_by;
    struct str_map match;
    struct str_map match_re;
    struct matcher_list matchers;
    struct str_list mute_time_intervals;
    struct str_list active_time_intervals;
    bool continue_;
    AR_PTR_LIST(struct route_cfg) routes;
    struct opt_duration group_wait;
    struct opt_duration group_interval;
    struct opt_duration repeat_interval;
    struct str_map labels;
    int line;          /* of the route's mapping */
    int receiver_line; /* of its receiver value, or line */
};

struct tracing_config {
    char *client_type;
    char *endpoint;
    char *sampling_fraction;
    bool insecure;
    struct tls_config *tls_config;
    struct str_map headers;
    char *compression;
    int64_t timeout_ns;
};

/* The whole file as written (config.Config). */
struct config_file {
    struct config_global *global;
    struct route_cfg *route;
    AR_PTR_LIST(struct inhibit_rule) inhibit_rules;
    AR_PTR_LIST(struct receiver) receivers;
    struct str_list templates;
    AR_PTR_LIST(struct time_interval) mute_time_intervals;
    AR_PTR_LIST(struct time_interval) time_intervals;
    struct tracing_config tracing;
    char *event_recorder; /* newest; accepted and kept as YAML text */
};

/* ---- route -------------------------------------------------------------------------------- */

static int route_cfg_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct route_cfg *r = obj;
    size_t names = 0;
    bool all = false;

    r->line = n != NULL ? n->line : 0;
    const struct ynode *rv = ynode_map_find(n, "receiver");
    r->receiver_line = rv != NULL ? rv->line : r->line;
    for (size_t i = 0; i < r->group_by.n; i++) {
        const char *l = r->group_by.v[i];
        if (strcmp(l, "...") == 0) {
            all = true;
            continue;
        }
        if (!label_name_is_classic(l)) {
            return ctx_error_key(c, n, "group_by", "invalid label name \"%s\" in group_by list", l);
        }
        names++;
    }
    if (names > 0 && all) {
        /* COMPAT: 0.25 spells "other other labels" */
        return ctx_error_key(c, n, "group_by",
                             "cannot have wildcard group_by (`...`) and other other labels at "
                             "the same time");
    }
    for (size_t i = 0; i < r->group_by.n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->group_by.v[i], r->group_by.v[j]) == 0 &&
                strcmp(r->group_by.v[i], "...") != 0) {
                return ctx_error_key(c, n, "group_by", "duplicated label \"%s\" in group_by",
                                     r->group_by.v[i]);
            }
        }
    }
    for (size_t i = 0; i < r->labels.n; i++) {
        if (!label_name_is_classic(r->labels.keys[i])) {
            return ctx_error_key(c, n, "labels", "invalid label name \"%s\" in route labels",
                                 r->labels.keys[i]);
        }
    }
    if (r->group_interval.set && r->group_interval.ms == 0) {
        return ctx_error_key(c, n, "group_interval", "group_interval cannot be zero");
    }
    if (r->repeat_interval.set && r->repeat_interval.ms == 0) {
        return ctx_error_key(c, n, "repeat_interval", "repeat_interval cannot be zero");
    }
    return AR_OK;
}

extern const struct table route_cfg_table;

#define T struct route_cfg
static const struct field route_fields[] = {
    FIELD(T, "receiver", receiver, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "group_by", group_by, FT_STRLIST, FF_OMITEMPTY, NULL),
    FIELD(T, "match", match, FT_LABELMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "match_re", match_re, FT_REGEXMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "matchers", matchers, FT_MATCHERS, FF_OMITEMPTY, NULL),
    FIELD(T, "mute_time_intervals", mute_time_intervals, FT_STRLIST, FF_OMITEMPTY, NULL),
    FIELD(T, "active_time_intervals", active_time_intervals, FT_STRLIST, FF_OMITEMPTY, NULL),
    FIELD(T, "continue", continue_, FT_BOOL, 0, NULL),
    SUBFIELD(T, "routes", routes, FT_LIST, FF_OMITEMPTY, &route_cfg_table),
    FIELD(T, "group_wait", group_wait, FT_OPTDURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "group_interval", group_interval, FT_OPTDURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "repeat_interval", repeat_interval, FT_OPTDURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "labels", labels, FT_STRMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table route_cfg_table =
    TABLE("config.plain", struct route_cfg, route_fields, route_cfg_check);

/* ---- inhibit rules ------------------------------------------------------------------------ */

/* COMPAT: a legacy *_match_re value is stored anchored, "^(?:v)$", and that anchored text
 * is the matcher's value (it shows in route keys and group keys, e.g. team=~"^(?:b|c)$"). */
static char *legacy_regex_value(enum matcher_op op, const char *v)
{
    return op == MATCHER_RE ? ar_asprintf("^(?:%s)$", v ? v : "") : ar_strdup(v ? v : "");
}

static int add_map_matchers(struct matcher_list *l, const struct str_map *m, enum matcher_op op,
                            struct ctx *c, const struct ynode *n)
{
    for (size_t i = 0; i < m->n; i++) {
        struct matcher *mt = NULL;
        struct ar_error merr;
        char *v = legacy_regex_value(op, m->values[i]);
        int rc = matcher_new(m->keys[i], op, v, &mt, &merr);
        free(v);
        if (rc != AR_OK) {
            return ctx_error(c, n, "%s", merr.msg);
        }
        matcher_list_add_take(l, mt);
    }
    return AR_OK;
}

static void add_list_matchers(struct matcher_list *dst, const struct matcher_list *src)
{
    for (size_t i = 0; i < src->n; i++) {
        matcher_list_add_take(dst, matcher_dup(src->v[i]));
    }
}

static int inhibit_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct inhibit_rule *r = obj;
    int rc;

    for (size_t i = 0; i < r->equal.n; i++) {
        if (!label_name_is_classic(r->equal.v[i])) {
            return ctx_error(c, n, "\"%s\" is not a valid label name", r->equal.v[i]);
        }
    }
    matcher_list_cleanup(&r->source);
    matcher_list_cleanup(&r->target);
    matcher_list_init(&r->source);
    matcher_list_init(&r->target);
    rc = add_map_matchers(&r->source, &r->source_match, MATCHER_EQ, c, n);
    if (rc == AR_OK) {
        rc = add_map_matchers(&r->source, &r->source_match_re, MATCHER_RE, c, n);
    }
    if (rc == AR_OK) {
        rc = add_map_matchers(&r->target, &r->target_match, MATCHER_EQ, c, n);
    }
    if (rc == AR_OK) {
        rc = add_map_matchers(&r->target, &r->target_match_re, MATCHER_RE, c, n);
    }
    if (rc != AR_OK) {
        return rc;
    }
    add_list_matchers(&r->source, &r->source_matchers);
    add_list_matchers(&r->target, &r->target_matchers);
    return AR_OK;
}

static void inhibit_cleanup(void *obj)
{
    struct inhibit_rule *r = obj;
    matcher_list_cleanup(&r->source);
    matcher_list_cleanup(&r->target);
    matcher_list_init(&r->source);
    matcher_list_init(&r->target);
}

#define T struct inhibit_rule
static const struct field inhibit_fields[] = {
    FIELD(T, "name", name, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "source_match", source_match, FT_LABELMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "source_match_re", source_match_re, FT_REGEXMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "source_matchers", source_matchers, FT_MATCHERS, FF_OMITEMPTY, NULL),
    FIELD(T, "target_match", target_match, FT_LABELMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "target_match_re", target_match_re, FT_REGEXMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "target_matchers", target_matchers, FT_MATCHERS, FF_OMITEMPTY, NULL),
    FIELD(T, "equal", equal, FT_STRLIST, FF_OMITEMPTY, NULL),
};
#undef T
const struct table inhibit_rule_table = {"config.plain", sizeof(struct inhibit_rule),
                                         inhibit_fields, AR_ARRAY_LEN(inhibit_fields),
                                         inhibit_check,  NULL,
                                         NULL,           inhibit_cleanup};

/* ---- tracing (newest) --------------------------------------------------------------------- */

#define T struct tracing_config
static const struct field tracing_fields[] = {
    FIELD(T, "client_type", client_type, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "endpoint", endpoint, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "sampling_fraction", sampling_fraction, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "insecure", insecure, FT_BOOL, FF_OMITEMPTY, NULL),
    SUBFIELD(T, "tls_config", tls_config, FT_STRUCTP, FF_OMITEMPTY, &tls_config_table),
    FIELD(T, "headers", headers, FT_STRMAP, FF_OMITEMPTY, NULL),
    FIELD(T, "compression", compression, FT_STR, FF_OMITEMPTY, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, FF_OMITEMPTY, NULL),
};
#undef T
static const struct table tracing_table =
    TABLE("tracing.TracingConfig", struct tracing_config, tracing_fields, NULL);

/* ---- the file ----------------------------------------------------------------------------- */

#define T struct config_file
static const struct field file_fields[] = {
    SUBFIELD(T, "global", global, FT_STRUCTP, FF_OMITEMPTY, &global_table),
    SUBFIELD(T, "route", route, FT_STRUCTP, FF_OMITEMPTY, &route_cfg_table),
    SUBFIELD(T, "inhibit_rules", inhibit_rules, FT_LIST, FF_OMITEMPTY, &inhibit_rule_table),
    SUBFIELD(T, "receivers", receivers, FT_LIST, FF_OMITEMPTY, &receiver_table),
    FIELD(T, "templates", templates, FT_STRLIST, 0, NULL),
    SUBFIELD(T, "mute_time_intervals", mute_time_intervals, FT_LIST, FF_OMITEMPTY,
             &mute_time_interval_table),
    SUBFIELD(T, "time_intervals", time_intervals, FT_LIST, FF_OMITEMPTY, &time_interval_table),
    SUBFIELD(T, "tracing", tracing, FT_STRUCT, FF_OMITEMPTY, &tracing_table),
    FIELD(T, "event_recorder", event_recorder, FT_ANY, FF_OMITEMPTY, NULL),
};
#undef T

static int file_decode(void *obj, const struct ynode *node, struct ctx *c);

static const struct table file_table = {"config.plain", sizeof(struct config_file),
                                        file_fields,    AR_ARRAY_LEN(file_fields),
                                        NULL,           file_decode,
                                        NULL,           NULL};

static const struct field *file_field(const char *name)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(file_fields); i++) {
        if (strcmp(file_fields[i].name, name) == 0) {
            return &file_fields[i];
        }
    }
    return NULL;
}

/* Decodes `global` first (receivers inherit from it), then every other key in file order. */
static int file_decode(void *obj, const struct ynode *node, struct ctx *c)
{
    struct config_file *f = obj;
    int rc;

    if (!ynode_is_null(node) && node->kind != YN_MAP) {
        return ctx_error(c, node, "cannot unmarshal %s into config.plain", ynode_tag(node));
    }
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; node != NULL && node->kind == YN_MAP && i < node->n; i++) {
            const struct ynode *k = ynode_key(node, i);
            if (k->kind != YN_SCALAR) {
                return ctx_error(c, k, "cannot unmarshal %s into string", ynode_tag(k));
            }
            bool is_global = strcmp(k->value, "global") == 0;
            if ((pass == 0) != is_global) {
                continue;
            }
            if (pass == 0) {
                for (size_t j = 0; j < i; j++) {
                    if (strcmp(ynode_key(node, j)->value, k->value) == 0) {
                        return ctx_error(c, k, "field %s already set in type config.plain",
                                         k->value);
                    }
                }
            } else {
                for (size_t j = 0; j < i; j++) {
                    const struct ynode *prev = ynode_key(node, j);
                    if (prev->kind == YN_SCALAR && strcmp(prev->value, k->value) == 0) {
                        return ctx_error(c, k, "field %s already set in type config.plain",
                                         k->value);
                    }
                }
            }
            const struct field *fd = file_field(k->value);
            if (fd == NULL) {
                return ctx_error(c, k, "field %s not found in type config.plain", k->value);
            }
            size_t old = ctx_push_key(c, fd->name);
            rc = decode_field(fd, f, ynode_val(node, i), c);
            ctx_pop(c, old);
            if (rc != AR_OK) {
                return rc;
            }
        }
        if (pass == 0) {
            if (f->global == NULL) {
                /* COMPAT: an absent or empty global block means all defaults */
                void *g = NULL;
                rc = decode_new(&global_table, NULL, c, &g);
                if (rc != AR_OK) {
                    return rc;
                }
                f->global = g;
            }
            c->global = f->global;
        }
    }
    return AR_OK;
}

/* ---- node lookup for messages ------------------------------------------------------------- */

static const struct ynode *map_get(const struct ynode *m, const char *key)
{
    if (m == NULL || m->kind != YN_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct ynode *k = ynode_key(m, i);
        if (k->kind == YN_SCALAR && strcmp(k->value, key) == 0) {
            return ynode_val(m, i);
        }
    }
    return NULL;
}

static const struct ynode *seq_item(const struct ynode *s, size_t i)
{
    if (s == NULL || s->kind != YN_SEQ || i >= s->n) {
        return NULL;
    }
    return s->items[i];
}

/* ---- whole-file validation (upstream order) ----------------------------------------------- */

/* Error at a known line with an explicit key path (validation after decoding). */
static int error_at_line(struct ctx *c, int line, const char *path, const char *msg)
{
    struct ynode fake;

    memset(&fake, 0, sizeof(fake));
    fake.line = line;
    ctx_pop(c, 0);
    if (path != NULL) {
        ctx_push_key(c, path);
    }
    int rc = ctx_error(c, line > 0 ? &fake : NULL, "%s", msg);
    ctx_pop(c, 0);
    return rc;
}

static int check_route_refs(const struct route_cfg *r, const struct config_file *f, struct ctx *c,
                            struct buf *path, int depth)
{
    char msg[600];

    if (depth > ROUTE_MAX_DEPTH) {
        return error_at_line(c, r->line, buf_str(path), "routing tree deeper than 100 levels");
    }
    for (size_t i = 0; i < r->routes.n; i++) {
        if (r->routes.v[i] == NULL) {
            continue;
        }
        size_t len = path->len;
        buf_printf(path, ".routes[%zu]", i);
        int rc = check_route_refs(r->routes.v[i], f, c, path, depth + 1);
        path->len = len;
        path->data[len] = '\0';
        if (rc != AR_OK) {
            return rc;
        }
    }
    if (r->receiver == NULL || r->receiver[0] == '\0') {
        return AR_OK;
    }
    for (size_t i = 0; i < f->receivers.n; i++) {
        if (f->receivers.v[i] != NULL && strcmp(f->receivers.v[i]->name, r->receiver) == 0) {
            return AR_OK;
        }
    }
    snprintf(msg, sizeof(msg), "undefined receiver \"%s\" used in route", r->receiver);
    buf_puts(path, ".receiver");
    return error_at_line(c, r->receiver_line, buf_str(path), msg);
}

static bool interval_defined(const struct config_file *f, const char *name)
{
    for (size_t i = 0; i < f->mute_time_intervals.n; i++) {
        if (f->mute_time_intervals.v[i] && strcmp(f->mute_time_intervals.v[i]->name, name) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < f->time_intervals.n; i++) {
        if (f->time_intervals.v[i] && strcmp(f->time_intervals.v[i]->name, name) == 0) {
            return true;
        }
    }
    return false;
}

static int check_route_intervals(const struct route_cfg *r, const struct config_file *f,
                                 struct ctx *c, struct buf *path)
{
    char msg[600];

    for (size_t i = 0; i < r->routes.n; i++) {
        if (r->routes.v[i] == NULL) {
            continue;
        }
        size_t len = path->len;
        buf_printf(path, ".routes[%zu]", i);
        int rc = check_route_intervals(r->routes.v[i], f, c, path);
        path->len = len;
        path->data[len] = '\0';
        if (rc != AR_OK) {
            return rc;
        }
    }
    const struct str_list *lists[2] = {&r->active_time_intervals, &r->mute_time_intervals};
    const char *keys[2] = {".active_time_intervals", ".mute_time_intervals"};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->n; i++) {
            if (!interval_defined(f, lists[l]->v[i])) {
                snprintf(msg, sizeof(msg), "undefined time interval \"%s\" used in route",
                         lists[l]->v[i]);
                buf_puts(path, keys[l]);
                return error_at_line(c, r->line, buf_str(path), msg);
            }
        }
    }
    return AR_OK;
}

static int validate_file(struct config_file *f, const struct ynode *root, struct ctx *c)
{
    const struct ynode *recv_node = map_get(root, "receivers");
    char msg[600];
    struct buf path;
    int rc;

    for (size_t i = 0; i < f->receivers.n; i++) {
        const struct receiver *r = f->receivers.v[i];
        if (r == NULL) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (f->receivers.v[j] != NULL && strcmp(f->receivers.v[j]->name, r->name) == 0) {
                const struct ynode *n = seq_item(recv_node, i);
                char p[64];
                snprintf(p, sizeof(p), "receivers[%zu].name", i);
                snprintf(msg, sizeof(msg), "notification config name \"%s\" is not unique",
                         r->name);
                return error_at_line(c, n ? n->line : 0, p, msg);
            }
        }
    }
    if (f->route == NULL) {
        return error_at_line(c, 0, NULL, "no route provided in config");
    }
    const struct route_cfg *root_route = f->route;
    if (root_route->receiver == NULL || root_route->receiver[0] == '\0') {
        return error_at_line(c, root_route->line, "route",
                             "root route must specify a default receiver");
    }
    if (root_route->match.n > 0 || root_route->match_re.n > 0 || root_route->matchers.n > 0) {
        return error_at_line(c, root_route->line, "route", "root route must not have any matchers");
    }
    if (root_route->mute_time_intervals.n > 0) {
        return error_at_line(c, root_route->line, "route",
                             "root route must not have any mute time intervals");
    }
    if (root_route->active_time_intervals.n > 0) {
        return error_at_line(c, root_route->line, "route",
                             "root route must not have any active time intervals");
    }
    buf_init(&path, 0);
    buf_puts(&path, "route");
    rc = check_route_refs(root_route, f, c, &path, 0);
    buf_cleanup(&path);
    if (rc != AR_OK) {
        return rc;
    }
    const struct ynode *mti = map_get(root, "mute_time_intervals");
    const struct ynode *ti = map_get(root, "time_intervals");
    for (size_t i = 0; i < f->mute_time_intervals.n + f->time_intervals.n; i++) {
        bool mute = i < f->mute_time_intervals.n;
        size_t idx = mute ? i : i - f->mute_time_intervals.n;
        const struct time_interval *t =
            mute ? f->mute_time_intervals.v[idx] : f->time_intervals.v[idx];
        if (t == NULL) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            bool jm = j < f->mute_time_intervals.n;
            const struct time_interval *u = jm ? f->mute_time_intervals.v[j]
                                               : f->time_intervals.v[j - f->mute_time_intervals.n];
            if (u != NULL && strcmp(u->name, t->name) == 0) {
                const struct ynode *n = seq_item(mute ? mti : ti, idx);
                char p[64];
                snprintf(p, sizeof(p), "%s[%zu].name",
                         mute ? "mute_time_intervals" : "time_intervals", idx);
                snprintf(msg, sizeof(msg), "%stime interval \"%s\" is not unique",
                         mute ? "mute " : "", t->name);
                return error_at_line(c, n ? n->line : 0, p, msg);
            }
        }
    }
    buf_init(&path, 0);
    buf_puts(&path, "route");
    rc = check_route_intervals(root_route, f, c, &path);
    buf_cleanup(&path);
    if (rc != AR_OK) {
        return rc;
    }
    if (root_route->continue_) {
        return error_at_line(c, root_route->line, "route", "cannot have continue in root route");
    }
    return AR_OK;
}

/* ---- routing tree ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **dup_strv(const struct str_list *l)
{
    if (l->n == 0) {
        return NULL;
    }
    char **v = ar_calloc(l->n, sizeof(char *));
    for (size_t i = 0; i < l->n; i++) {
        v[i] = ar_strdup(l->v[i]);
    }
    return v;
}

static void route_free(struct route *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        route_free(r->routes[i]);
    }
    free(r->routes);
    free(r->receiver);
    matcher_list_cleanup(&r->matchers);
    for (size_t i = 0; i < r->ngroup_by; i++) {
        free(r->group_by[i]);
    }
    free(r->group_by);
    for (size_t i = 0; i < r->nmute_time_intervals; i++) {
        free(r->mute_time_intervals[i]);
    }
    free(r->mute_time_intervals);
    for (size_t i = 0; i < r->nactive_time_intervals; i++) {
        free(r->active_time_intervals[i]);
    }
    free(r->active_time_intervals);
    free(r->key);
    for (size_t i = 0; i < r->labels.n; i++) {
        free(r->labels.keys[i]);
        free(r->labels.values[i]);
    }
    free(r->labels.keys);
    free(r->labels.values);
    free(r);
}

static struct route *route_build(const struct route_cfg *rc, struct route *parent,
                                 struct config *cfg, int *index)
{
    struct route *r = ar_calloc(1, sizeof(*r));
    struct ar_error merr;
    struct buf key;

    r->parent = parent;
    r->cfg = rc;
    r->line = rc->line;
    r->index = (*index)++;
    matcher_list_init(&r->matchers);

    /* COMPAT: defaults at the root, then inheritance (dispatch/route.go NewRoute) */
    if (parent == NULL) {
        r->group_wait_ms = 30 * 1000;
        r->group_interval_ms = 5 * 60 * 1000;
        r->repeat_interval_ms = 4 * 60 * 60 * 1000;
    } else {
        r->receiver = parent->receiver ? ar_strdup(parent->receiver) : NULL;
        r->group_wait_ms = parent->group_wait_ms;
        r->group_interval_ms = parent->group_interval_ms;
        r->repeat_interval_ms = parent->repeat_interval_ms;
        r->group_by_all = parent->group_by_all;
        if (parent->ngroup_by > 0) {
            r->group_by = ar_calloc(parent->ngroup_by, sizeof(char *));
            for (size_t i = 0; i < parent->ngroup_by; i++) {
                r->group_by[i] = ar_strdup(parent->group_by[i]);
            }
            r->ngroup_by = parent->ngroup_by;
        }
    }
    if (rc->receiver != NULL && rc->receiver[0] != '\0') {
        free(r->receiver);
        r->receiver = ar_strdup(rc->receiver);
    }
    /* COMPAT (0.25): a list of label names replaces the parent's and clears '...';
     * `group_by: []` and `group_by: ['...']` leave the parent's names (the latter sets
     * group_by_all, which takes precedence when grouping). */
    size_t names = 0;
    bool all = false;
    for (size_t i = 0; i < rc->group_by.n; i++) {
        if (strcmp(rc->group_by.v[i], "...") == 0) {
            all = true;
        } else {
            names++;
        }
    }
    if (names > 0) {
        for (size_t i = 0; i < r->ngroup_by; i++) {
            free(r->group_by[i]);
        }
        free(r->group_by);
        r->group_by = ar_calloc(names, sizeof(char *));
        r->ngroup_by = 0;
        for (size_t i = 0; i < rc->group_by.n; i++) {
            if (strcmp(rc->group_by.v[i], "...") != 0) {
                r->group_by[r->ngroup_by++] = ar_strdup(rc->group_by.v[i]);
            }
        }
        qsort(r->group_by, r->ngroup_by, sizeof(char *), cmp_str);
        r->group_by_all = false;
    } else if (all) {
        r->group_by_all = true;
    }
    if (rc->group_wait.set) {
        r->group_wait_ms = rc->group_wait.ms;
    }
    if (rc->group_interval.set) {
        r->group_interval_ms = rc->group_interval.ms;
    }
    if (rc->repeat_interval.set) {
        r->repeat_interval_ms = rc->repeat_interval.ms;
    }
    r->continue_matching = rc->continue_;
    /* newest: labels merge down the tree, the child's keys overriding */
    size_t nlabels = rc->labels.n + (parent != NULL ? parent->labels.n : 0);
    r->labels.keys = ar_calloc(nlabels ? nlabels : 1, sizeof(char *));
    r->labels.values = ar_calloc(nlabels ? nlabels : 1, sizeof(char *));
    for (size_t i = 0; parent != NULL && i < parent->labels.n; i++) {
        if (str_map_get(&rc->labels, parent->labels.keys[i]) == NULL) {
            r->labels.keys[r->labels.n] = ar_strdup(parent->labels.keys[i]);
            r->labels.values[r->labels.n++] = ar_strdup(parent->labels.values[i]);
        }
    }
    for (size_t i = 0; i < rc->labels.n; i++) {
        r->labels.keys[r->labels.n] = ar_strdup(rc->labels.keys[i]);
        r->labels.values[r->labels.n++] =
            ar_strdup(rc->labels.values[i] ? rc->labels.values[i] : "");
    }
    for (size_t i = 1; i < r->labels.n; i++) {
        for (size_t j = i; j > 0 && strcmp(r->labels.keys[j - 1], r->labels.keys[j]) > 0; j--) {
            char *k = r->labels.keys[j];
            char *v = r->labels.values[j];
            r->labels.keys[j] = r->labels.keys[j - 1];
            r->labels.values[j] = r->labels.values[j - 1];
            r->labels.keys[j - 1] = k;
            r->labels.values[j - 1] = v;
        }
    }
    r->mute_time_intervals = dup_strv(&rc->mute_time_intervals);
    r->nmute_time_intervals = rc->mute_time_intervals.n;
    r->active_time_intervals = dup_strv(&rc->active_time_intervals);
    r->nactive_time_intervals = rc->active_time_intervals.n;

    for (size_t i = 0; i < rc->match.n; i++) {
        struct matcher *m = NULL;
        if (matcher_new(rc->match.keys[i], MATCHER_EQ, rc->match.values[i], &m, &merr) == AR_OK) {
            matcher_list_add_take(&r->matchers, m);
        }
    }
    for (size_t i = 0; i < rc->match_re.n; i++) {
        struct matcher *m = NULL;
        char *v = legacy_regex_value(MATCHER_RE, rc->match_re.values[i]);
        if (matcher_new(rc->match_re.keys[i], MATCHER_RE, v, &m, &merr) == AR_OK) {
            matcher_list_add_take(&r->matchers, m);
        }
        free(v);
    }
    for (size_t i = 0; i < rc->matchers.n; i++) {
        matcher_list_add_take(&r->matchers, matcher_dup(rc->matchers.v[i]));
    }
    matcher_list_sort(&r->matchers);

    /* COMPAT: Route.Key() = parent key + "/" + matchers */
    buf_init(&key, 0);
    if (parent != NULL) {
        buf_puts(&key, parent->key);
        buf_putc(&key, '/');
    }
    matcher_list_format(&r->matchers, &key);
    r->key = buf_take(&key);
    buf_cleanup(&key);
    r->receiver_ref = r->receiver ? config_find_receiver(cfg, r->receiver) : NULL;

    size_t nchildren = 0;
    for (size_t i = 0; i < rc->routes.n; i++) {
        nchildren += rc->routes.v[i] != NULL;
    }
    if (nchildren > 0) {
        r->routes = ar_calloc(nchildren, sizeof(*r->routes));
        for (size_t i = 0; i < rc->routes.n; i++) {
            if (rc->routes.v[i] != NULL) {
                r->routes[r->nroutes++] = route_build(rc->routes.v[i], r, cfg, index);
            }
        }
    }
    return r;
}

/* ---- load --------------------------------------------------------------------------------- */

static void mark_used(const struct route_cfg *r, struct config_file *f, bool *used)
{
    for (size_t i = 0; i < f->receivers.n; i++) {
        if (f->receivers.v[i] != NULL && r->receiver != NULL &&
            strcmp(f->receivers.v[i]->name, r->receiver) == 0) {
            used[i] = true;
        }
    }
    for (size_t i = 0; i < r->routes.n; i++) {
        if (r->routes.v[i] != NULL) {
            mark_used(r->routes.v[i], f, used);
        }
    }
}

static void config_free(struct config *c)
{
    if (c == NULL) {
        return;
    }
    route_free(c->route);
    table_free(&file_table, c->file);
    free(c->receivers);
    free(c->inhibit_rules);
    free(c->time_intervals);
    for (size_t i = 0; i < c->templates.n; i++) {
        free(c->templates.v[i]);
    }
    free(c->templates.v);
    free(c->path);
    free(c->source_text);
    free(c->original_yaml);
    tmpl_set_free(c->tmpl);
    config_ext_unref(c->ext);
    free(c);
}

char *cfg_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return ar_strdup(".");
    }
    if (slash == path) {
        return ar_strdup("/");
    }
    return ar_strndup(path, (size_t)(slash - path));
}

static char *render_original(const struct config_file *f)
{
    struct emitter *e = emitter_new();
    char *out;

    emit_map_start(e, false);
    for (size_t i = 0; i < AR_ARRAY_LEN(file_fields); i++) {
        const struct field *fd = &file_fields[i];
        if ((fd->flags & FF_OMITEMPTY) && field_is_empty(fd, f)) {
            continue;
        }
        emit_str(e, fd->name);
        dump_field_value(e, fd, f);
    }
    emit_map_end(e);
    out = emitter_finish(e);
    emitter_free(e);
    return out;
}

static int load(char *text, size_t len, const char *name, const char *base_dir, struct config **out,
                struct ar_error *err)
{
    struct config *cfg = ar_calloc(1, sizeof(*cfg));
    struct ydoc doc;
    struct ctx c;
    void *file = NULL;
    int rc;

    cfg->refs = 1;
    cfg->path = ar_strdup(name);
    cfg->source_text = text;
    config_md5(text, len, cfg->source_md5);

    rc = ydoc_parse(text, len, name, CONFIG_MAX_NODES, &doc, err);
    if (rc != AR_OK) {
        config_free(cfg);
        return rc == AR_ELIMIT ? AR_EINVAL : rc;
    }
    memset(&c, 0, sizeof(c));
    c.file = name;
    c.base_dir = base_dir;
    c.err = err;
    /* Without aliases every node is decoded once; aliases may repeat a subtree, so allow
     * a few repeats but not an exponential blow-up. */
    c.budget = doc.nall * 4 + 10000;
    if (c.budget > CONFIG_DECODE_BUDGET) {
        c.budget = CONFIG_DECODE_BUDGET;
    }
    rc = decode_new(&file_table, doc.root, &c, &file);
    if (rc == AR_OK) {
        cfg->file = file;
        struct config_file *f = file;
        if (f->route == NULL) {
            /* COMPAT: an empty document never reaches the checks of a non-empty one */
            rc = error_at_line(&c, 0, NULL,
                               ynode_is_null(doc.root) ? "no route provided in config"
                                                       : "no routes provided");
        } else {
            rc = validate_file(f, doc.root, &c);
        }
    }
    ydoc_cleanup(&doc);
    if (rc != AR_OK) {
        config_free(cfg);
        return AR_EINVAL;
    }
    struct config_file *f = cfg->file;

    bool *used = ar_calloc(f->receivers.n ? f->receivers.n : 1, sizeof(bool));
    mark_used(f->route, f, used);
    for (size_t i = 0; i < f->receivers.n; i++) {
        if (used[i]) {
            receiver_prepare_used(f->receivers.v[i]);
            f->receivers.v[i]->is_used = true;
        }
    }
    free(used);

    /* templates: relative patterns are joined to the config directory */
    for (size_t i = 0; i < f->templates.n; i++) {
        if (base_dir != NULL && f->templates.v[i][0] != '\0' && f->templates.v[i][0] != '/') {
            char *joined = path_join_clean(base_dir, f->templates.v[i]);
            free(f->templates.v[i]);
            f->templates.v[i] = joined;
        }
    }
    cfg->templates.v = ar_calloc(f->templates.n ? f->templates.n : 1, sizeof(char *));
    for (size_t i = 0; i < f->templates.n; i++) {
        cfg->templates.v[cfg->templates.n++] = ar_strdup(f->templates.v[i]);
    }
    cfg->global = *f->global; /* shallow: strings stay owned by the file */
    cfg->receivers = ar_calloc(f->receivers.n ? f->receivers.n : 1, sizeof(*cfg->receivers));
    for (size_t i = 0; i < f->receivers.n; i++) {
        if (f->receivers.v[i] != NULL) {
            cfg->receivers[cfg->nreceivers++] = f->receivers.v[i];
        }
    }
    cfg->inhibit_rules =
        ar_calloc(f->inhibit_rules.n ? f->inhibit_rules.n : 1, sizeof(*cfg->inhibit_rules));
    for (size_t i = 0; i < f->inhibit_rules.n; i++) {
        if (f->inhibit_rules.v[i] != NULL) {
            cfg->inhibit_rules[cfg->ninhibit_rules++] = f->inhibit_rules.v[i];
        }
    }
    size_t nti = f->mute_time_intervals.n + f->time_intervals.n;
    cfg->time_intervals = ar_calloc(nti ? nti : 1, sizeof(*cfg->time_intervals));
    for (size_t i = 0; i < f->mute_time_intervals.n; i++) {
        if (f->mute_time_intervals.v[i] != NULL) {
            cfg->time_intervals[cfg->ntime_intervals++] = f->mute_time_intervals.v[i];
        }
    }
    for (size_t i = 0; i < f->time_intervals.n; i++) {
        if (f->time_intervals.v[i] != NULL) {
            cfg->time_intervals[cfg->ntime_intervals++] = f->time_intervals.v[i];
        }
    }
    int index = 0;
    cfg->route = route_build(f->route, NULL, cfg, &index);
    cfg->nroutes = (size_t)index;
    /* COMPAT: Alertmanager parses the templates when it loads the configuration, so a
     * broken template file fails the load (and a reload keeps the old configuration). */
    cfg->tmpl = tmpl_set_new();
    rc = tmpl_set_load_defaults(cfg->tmpl, err);
    for (size_t i = 0; rc == AR_OK && i < cfg->templates.n; i++) {
        rc = tmpl_set_parse_glob(cfg->tmpl, cfg->templates.v[i], err);
    }
    if (rc != AR_OK) {
        config_free(cfg);
        return AR_EINVAL;
    }
    cfg->original_yaml = render_original(f);
    if (cfg->original_yaml == NULL) {
        ar_error_set(err, "%s: cannot re-serialise the configuration", name);
        config_free(cfg);
        return AR_EINVAL;
    }
    *out = cfg;
    return AR_OK;
}

int config_load_string(const char *text, const char *name, struct config **out,
                       struct ar_error *err)
{
    size_t len = strlen(text);
    if (len > CONFIG_MAX_BYTES) {
        ar_error_set(err, "%s: configuration larger than %u bytes", name, CONFIG_MAX_BYTES);
        return AR_EINVAL;
    }
    return load(ar_strndup(text, len), len, name, NULL, out, err);
}

int cfg_read_file(const char *path, unsigned max_bytes, const char *what, char **text, size_t *len,
                  struct ar_error *err)
{
    FILE *fp = fopen(path, "rb");
    struct buf b;
    char chunk[8192];
    size_t n;

    if (fp == NULL) {
        ar_error_set(err, "open %s: %s", path, strerror(errno));
        return AR_EIO;
    }
    buf_init(&b, max_bytes);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (buf_append(&b, chunk, n) != AR_OK) {
            fclose(fp);
            buf_cleanup(&b);
            ar_error_set(err, "%s: %s larger than %u bytes", path, what, max_bytes);
            return AR_EINVAL;
        }
    }
    if (ferror(fp)) {
        ar_error_set(err, "read %s: %s", path, strerror(errno));
        fclose(fp);
        buf_cleanup(&b);
        return AR_EIO;
    }
    fclose(fp);
    *len = b.len;
    *text = b.len > 0 ? buf_take(&b) : ar_strdup("");
    buf_cleanup(&b);
    if (memchr(*text, '\0', *len) != NULL) {
        free(*text);
        *text = NULL;
        ar_error_set(err, "%s: %s contains a NUL byte", path, what);
        return AR_EINVAL;
    }
    return AR_OK;
}

int config_load_file(const char *path, struct config **out, struct ar_error *err)
{
    char *text;
    size_t len;
    int rc = cfg_read_file(path, CONFIG_MAX_BYTES, "configuration", &text, &len, err);

    if (rc != AR_OK) {
        return rc;
    }
    char *dir = cfg_dir_of(path);
    rc = load(text, len, path, dir, out, err);
    free(dir);
    return rc;
}

const char *config_default_text(void)
{
    return "route:\n"
           "  receiver: default\n"
           "receivers:\n"
           "- name: default\n";
}

void config_attach_ext(struct config *c, struct config_ext *ext)
{
    config_ext_unref(c->ext);
    c->ext = ext;
}

struct config *config_ref(struct config *c)
{
    if (c != NULL) {
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
    }
    return c;
}

void config_unref(struct config *c)
{
    if (c == NULL) {
        return;
    }
    if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) == 0) {
        config_free(c);
    }
}

const struct receiver *config_find_receiver(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nreceivers; i++) {
        if (strcmp(c->receivers[i]->name, name) == 0) {
            return c->receivers[i];
        }
    }
    return NULL;
}

const struct time_interval *config_find_time_interval(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->ntime_intervals; i++) {
        if (strcmp(c->time_intervals[i]->name, name) == 0) {
            return c->time_intervals[i];
        }
    }
    return NULL;
}

int config_check_templates(const struct config *c, struct ar_error *err)
{
    struct tmpl_set *set = tmpl_set_new();
    int rc = tmpl_set_load_defaults(set, err);

    for (size_t i = 0; rc == AR_OK && i < c->templates.n; i++) {
        rc = tmpl_set_parse_glob(set, c->templates.v[i], err);
    }
    tmpl_set_free(set);
    return rc;
}

void config_print_summary(const struct config *c, FILE *out)
{
    const struct config_file *f = c->file;
    struct ar_error err;

    fprintf(out, "Found:\n");
    fprintf(out, " - global config\n");
    fprintf(out, " - route\n");
    fprintf(out, " - %zu inhibit rules\n", f->inhibit_rules.n);
    fprintf(out, " - %zu receivers\n", f->receivers.n);
    fprintf(out, " - %zu templates\n", f->templates.n);
    if (f->templates.n > 0) {
        /* COMPAT: amtool parses the templates when there are any */
        if (config_check_templates(c, &err) == AR_OK) {
            fprintf(out, "  SUCCESS\n");
        } else {
            fprintf(out, "  FAILED: %s\n", err.msg);
        }
    }
}

/* The optional extensions file (ar/config_ext.h): alertrouter-only settings decoded with the
 * configuration loader's key tables (config_internal.h), so unknown keys, wrong types and
 * bad values give the same located messages as alertmanager.yml; then the checks that span
 * entries (unique heartbeat names) and the report template parse. */
#include "ar/config_ext.h"

#include "ar/buf.h"
#include "ar/duration.h"
#include "ar/tmpl.h"
#include "config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXT_MAX_BYTES     (1u << 20)
#define EXT_MAX_NODES     200000u
#define EXT_DECODE_BUDGET 400000u

struct incidents_cfg {
    char *report_template; /* resolved against the file's directory */
    bool ack_message;
};

struct ext_file {
    AR_PTR_LIST(struct heartbeat_cfg) heartbeats;
    struct incidents_cfg *incidents;
};

struct config_ext {
    int refs;
    char *path;
    struct ext_file *file;
    struct heartbeat_cfg **heartbeats; /* null entries of the file skipped */
    size_t nheartbeats;
};

static int heartbeat_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct heartbeat_cfg *h = obj;
    static const char *const reserved[] = {"alertname", "heartbeat"};

    if (cfg_empty(h->name)) {
        return ctx_error(c, n, "missing name");
    }
    if (h->matchers.n == 0) {
        return ctx_error_key(c, n, "matchers", "missing matchers: a heartbeat needs at least one");
    }
    if (ynode_map_find(n, "timeout") == NULL || ynode_is_null(ynode_map_find(n, "timeout"))) {
        return ctx_error(c, n, "missing timeout");
    }
    if (h->timeout_ms <= 0) {
        return ctx_error_key(c, n, "timeout", "timeout must be greater than 0");
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(reserved); i++) {
        if (str_map_get(&h->labels, reserved[i]) != NULL) {
            return ctx_error_key(c, n, "labels",
                                 "label %s is set by alertrouter and cannot be configured",
                                 reserved[i]);
        }
    }
    return AR_OK;
}

static const struct field heartbeat_fields[] = {
    FIELD(struct heartbeat_cfg, "name", name, FT_STR, 0, NULL),
    FIELD(struct heartbeat_cfg, "matchers", matchers, FT_MATCHERS, 0, NULL),
    FIELD(struct heartbeat_cfg, "timeout", timeout_ms, FT_DURATION, 0, NULL),
    FIELD(struct heartbeat_cfg, "labels", labels, FT_LABELMAP, FF_OMITEMPTY, NULL),
    FIELD(struct heartbeat_cfg, "annotations", annotations, FT_STRMAP, FF_OMITEMPTY, NULL),
};
static const struct table heartbeat_table =
    TABLE("HeartbeatConfig", struct heartbeat_cfg, heartbeat_fields, heartbeat_check);

static int incidents_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct incidents_cfg *inc = obj;
    struct ar_error terr;

    if (inc->report_template == NULL) {
        return AR_OK;
    }
    if (inc->report_template[0] == '\0') {
        return ctx_error_key(c, n, "report_template", "empty path");
    }
    struct tmpl_set *set = tmpl_set_new();
    int rc = tmpl_set_parse_file(set, inc->report_template, &terr);
    tmpl_set_free(set);
    if (rc != AR_OK) {
        return ctx_error_key(c, n, "report_template", "%s", terr.msg);
    }
    return AR_OK;
}

static const struct field incidents_fields[] = {
    FIELD(struct incidents_cfg, "report_template", report_template, FT_STR, FF_OMITEMPTY | FF_PATH,
          NULL),
    FIELD(struct incidents_cfg, "ack_message", ack_message, FT_BOOL, 0, NULL),
};
static const struct table incidents_table =
    TABLE("IncidentsConfig", struct incidents_cfg, incidents_fields, incidents_check);

static int ext_file_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct ext_file *f = obj;
    const struct ynode *list = ynode_map_find(n, "heartbeats");

    for (size_t i = 0; i < f->heartbeats.n; i++) {
        if (f->heartbeats.v[i] == NULL) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (f->heartbeats.v[j] != NULL &&
                strcmp(f->heartbeats.v[i]->name, f->heartbeats.v[j]->name) == 0) {
                const struct ynode *at =
                    list != NULL && list->kind == YN_SEQ && i < list->n ? list->items[i] : n;
                size_t old = ctx_push_key(c, "heartbeats");
                ctx_push_index(c, i);
                int rc = ctx_error(c, at, "heartbeat name \"%s\" is not unique",
                                   f->heartbeats.v[i]->name);
                ctx_pop(c, old);
                return rc;
            }
        }
    }
    return AR_OK;
}

static const struct field ext_fields[] = {
    SUBFIELD(struct ext_file, "heartbeats", heartbeats, FT_LIST, FF_OMITEMPTY, &heartbeat_table),
    SUBFIELD(struct ext_file, "incidents", incidents, FT_STRUCTP, FF_OMITEMPTY, &incidents_table),
};
static const struct table ext_table =
    TABLE("ExtensionsConfig", struct ext_file, ext_fields, ext_file_check);

static void ext_free(struct config_ext *x)
{
    if (x == NULL) {
        return;
    }
    table_free(&ext_table, x->file);
    free(x->heartbeats);
    free(x->path);
    free(x);
}

int config_ext_load_string(const char *text, const char *name, const char *base_dir,
                           struct config_ext **out, struct ar_error *err)
{
    size_t len = strlen(text);
    struct ydoc doc;
    struct ctx c;
    void *file = NULL;
    int rc;

    if (len > EXT_MAX_BYTES) {
        ar_error_set(err, "%s: extensions file larger than %u bytes", name, EXT_MAX_BYTES);
        return AR_EINVAL;
    }
    rc = ydoc_parse(text, len, name, EXT_MAX_NODES, &doc, err);
    if (rc != AR_OK) {
        return AR_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    c.file = name;
    c.base_dir = base_dir;
    c.err = err;
    c.budget = doc.nall * 4 + 10000;
    if (c.budget > EXT_DECODE_BUDGET) {
        c.budget = EXT_DECODE_BUDGET;
    }
    rc = decode_new(&ext_table, doc.root, &c, &file);
    ydoc_cleanup(&doc);
    if (rc != AR_OK) {
        return AR_EINVAL;
    }
    struct config_ext *x = ar_calloc(1, sizeof(*x));
    struct ext_file *f = file;
    x->refs = 1;
    x->path = ar_strdup(name);
    x->file = f;
    x->heartbeats = ar_calloc(f->heartbeats.n ? f->heartbeats.n : 1, sizeof(*x->heartbeats));
    for (size_t i = 0; i < f->heartbeats.n; i++) {
        if (f->heartbeats.v[i] != NULL) {
            x->heartbeats[x->nheartbeats++] = f->heartbeats.v[i];
        }
    }
    *out = x;
    return AR_OK;
}

int config_ext_load_file(const char *path, struct config_ext **out, struct ar_error *err)
{
    char *text;
    size_t len;
    int rc = cfg_read_file(path, EXT_MAX_BYTES, "extensions file", &text, &len, err);

    if (rc != AR_OK) {
        return rc;
    }
    char *dir = cfg_dir_of(path);
    rc = config_ext_load_string(text, path, dir, out, err);
    free(dir);
    free(text);
    return rc;
}

struct config_ext *config_ext_ref(struct config_ext *x)
{
    if (x != NULL) {
        __atomic_add_fetch(&x->refs, 1, __ATOMIC_SEQ_CST);
    }
    return x;
}

void config_ext_unref(struct config_ext *x)
{
    if (x == NULL) {
        return;
    }
    if (__atomic_sub_fetch(&x->refs, 1, __ATOMIC_SEQ_CST) == 0) {
        ext_free(x);
    }
}

const char *config_ext_path(const struct config_ext *x)
{
    return x != NULL ? x->path : NULL;
}

size_t config_ext_nheartbeats(const struct config_ext *x)
{
    return x != NULL ? x->nheartbeats : 0;
}

const struct heartbeat_cfg *config_ext_heartbeat(const struct config_ext *x, size_t i)
{
    return x->heartbeats[i];
}

const char *config_ext_report_template(const struct config_ext *x)
{
    if (x == NULL || x->file->incidents == NULL) {
        return NULL;
    }
    return x->file->incidents->report_template;
}

bool config_ext_ack_message(const struct config_ext *x)
{
    return x != NULL && x->file->incidents != NULL && x->file->incidents->ack_message;
}

void config_ext_print_summary(const struct config_ext *x, FILE *out)
{
    const char *tmpl = config_ext_report_template(x);

    fprintf(out, "Found:\n");
    fprintf(out, " - %zu heartbeats\n", config_ext_nheartbeats(x));
    for (size_t i = 0; i < config_ext_nheartbeats(x); i++) {
        const struct heartbeat_cfg *h = x->heartbeats[i];
        char timeout[32];
        struct buf m;
        buf_init(&m, 0);
        matcher_list_format(&h->matchers, &m);
        duration_format(h->timeout_ms, timeout, sizeof(timeout));
        fprintf(out, "   - %s: %s, timeout %s\n", h->name, buf_str(&m), timeout);
        buf_cleanup(&m);
    }
    fprintf(out, " - incidents report template: %s\n", tmpl != NULL ? tmpl : "built-in");
    fprintf(out, " - incidents ack message: %s\n", config_ext_ack_message(x) ? "on" : "off");
}

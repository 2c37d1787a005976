/* Re-serialisation of the loaded configuration as Alertmanager's status page shows it
 * (`config.original`): Go's yaml.v2 marshalling of the config structs. Fields are printed
 * in table order with yaml.v2's omitempty rules, secrets as <secret>, maps sorted in
 * yaml.v2 key order. Scalars go through libyaml's emitter, of which yaml.v2's is a port,
 * so quoting, line folding at 80 columns and block layout come out the same; the string
 * style yaml.v2 requests (double quotes for strings that would read back as another type,
 * literal blocks for multi-line text) is chosen here. */
#include "config_internal.h"

#include "ar/duration.h"
#include "ar/matcher.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct emitter {
    yaml_emitter_t em;
    struct buf out;
    bool failed;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    struct emitter *e = data;
    if (buf_append(&e->out, buffer, size) != AR_OK) {
        e->failed = true;
        return 0;
    }
    return 1;
}

static void emit(struct emitter *e, yaml_event_t *ev)
{
    if (e->failed) {
        yaml_event_delete(ev);
        return;
    }
    if (!yaml_emitter_emit(&e->em, ev)) {
        e->failed = true;
    }
}

struct emitter *emitter_new(void)
{
    struct emitter *e = ar_calloc(1, sizeof(*e));
    yaml_event_t ev;

    buf_init(&e->out, 64u << 20);
    yaml_emitter_initialize(&e->em);
    yaml_emitter_set_output(&e->em, write_handler, e);
    yaml_emitter_set_unicode(&e->em, 1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    emit(e, &ev);
    return e;
}

char *emitter_finish(struct emitter *e)
{
    yaml_event_t ev;

    yaml_document_end_event_initialize(&ev, 1);
    emit(e, &ev);
    yaml_stream_end_event_initialize(&ev);
    emit(e, &ev);
    yaml_emitter_flush(&e->em);
    if (e->failed) {
        return NULL;
    }
    return buf_take(&e->out);
}

void emitter_free(struct emitter *e)
{
    if (e == NULL) {
        return;
    }
    yaml_emitter_delete(&e->em);
    buf_cleanup(&e->out);
    free(e);
}

void emit_map_start(struct emitter *e, bool flow)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                        flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
    emit(e, &ev);
}

void emit_map_end(struct emitter *e)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    emit(e, &ev);
}

void emit_seq_start(struct emitter *e, bool flow)
{
    yaml_event_t ev;
    yaml_sequence_start_event_initialize(
        &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
    emit(e, &ev);
}

void emit_seq_end(struct emitter *e)
{
    yaml_event_t ev;
    yaml_sequence_end_event_initialize(&ev);
    emit(e, &ev);
}

static void emit_scalar(struct emitter *e, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    emit(e, &ev);
}

void emit_str(struct emitter *e, const char *s)
{
    if (s == NULL) {
        s = "";
    }
    /* COMPAT: yaml.v2 stringv(): multi-line text as a literal block, strings that would
     * resolve to another type double-quoted, the rest plain when the emitter allows. */
    if (strchr(s, '\n') != NULL) {
        emit_scalar(e, s, YAML_LITERAL_SCALAR_STYLE);
    } else if (yaml_needs_quotes(s)) {
        emit_scalar(e, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    } else {
        emit_scalar(e, s, YAML_PLAIN_SCALAR_STYLE);
    }
}

void emit_raw(struct emitter *e, const char *s)
{
    emit_scalar(e, s, YAML_PLAIN_SCALAR_STYLE);
}

void emit_null(struct emitter *e)
{
    emit_raw(e, "null");
}

static const void *fcptr(const void *obj, const struct field *f)
{
    return (const char *)obj + f->off;
}

static void plist_cget(const void *p, void ***v, size_t *n)
{
    memcpy(v, p, sizeof(*v));
    memcpy(n, (const char *)p + sizeof(void **), sizeof(*n));
}

bool field_is_empty(const struct field *f, const void *obj)
{
    const void *p = fcptr(obj, f);

    switch (f->type) {
    case FT_STR:
    case FT_SECRET:
    case FT_URL:
    case FT_SECRET_URL:
    case FT_HOSTPORT:
    case FT_TLSVERSION:
    case FT_ANY: {
        const char *s = *(char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case FT_BOOL:
        return !*(const bool *)p;
    case FT_OPTBOOL:
        return *(const int *)p < 0;
    case FT_DURATION:
    case FT_GODURATION:
    case FT_INT64:
        return *(const int64_t *)p == 0;
    case FT_OPTDURATION:
        return !((const struct opt_duration *)p)->set;
    case FT_UINT64:
        return *(const uint64_t *)p == 0;
    case FT_STRLIST:
        return ((const struct str_list *)p)->n == 0;
    case FT_STRMAP:
    case FT_LABELMAP:
    case FT_REGEXMAP:
    case FT_ANYMAP:
        return ((const struct str_map *)p)->n == 0;
    case FT_MATCHERS:
        return ((const struct matcher_list *)p)->n == 0;
    case FT_STRUCT:
        return table_is_zero(f->sub, p);
    case FT_STRUCTP:
        return *(void *const *)p == NULL;
    case FT_LIST: {
        void **items;
        size_t n;
        plist_cget(p, &items, &n);
        return n == 0;
    }
    }
    return true;
}

bool table_is_zero(const struct table *t, const void *obj)
{
    for (size_t i = 0; i < t->nfields; i++) {
        if (!field_is_empty(&t->fields[i], obj)) {
            return false;
        }
    }
    return true;
}

static void emit_str_map(struct emitter *e, const struct str_map *m, bool flow)
{
    emit_map_start(e, flow);
    for (size_t i = 0; i < m->n; i++) {
        emit_str(e, m->keys[i]);
        if (m->values[i] == NULL) {
            emit_null(e);
        } else {
            emit_str(e, m->values[i]);
        }
    }
    emit_map_end(e);
}

void dump_field_value(struct emitter *e, const struct field *f, const void *obj)
{
    const void *p = fcptr(obj, f);
    char tmp[64];
    bool flow = (f->flags & FF_FLOW) != 0;

    switch (f->type) {
    case FT_STR:
        emit_str(e, *(char *const *)p);
        return;
    case FT_HOSTPORT: {
        /* COMPAT: upstream prints host + ":" + port, dropping IPv6 brackets */
        const char *s = *(char *const *)p;
        const char *close = s != NULL && s[0] == '[' ? strchr(s, ']') : NULL;
        if (close != NULL) {
            char *hp = ar_asprintf("%.*s%s", (int)(close - s - 1), s + 1, close + 1);
            emit_str(e, hp);
            free(hp);
        } else {
            emit_str(e, s);
        }
        return;
    }
    case FT_TLSVERSION: {
        /* COMPAT: 0.25 prints TLS versions as their numeric value (its marshaller is
         * defined on the pointer type and is not used) */
        static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
        const char *s = *(char *const *)p;
        for (int i = 0; s != NULL && i < 4; i++) {
            if (strcmp(s, names[i]) == 0) {
                snprintf(tmp, sizeof(tmp), "%d", 0x301 + i);
                emit_raw(e, tmp);
                return;
            }
        }
        emit_str(e, s);
        return;
    }
    case FT_URL:
        if (*(char *const *)p == NULL) {
            emit_null(e);
        } else {
            emit_str(e, *(char *const *)p);
        }
        return;
    case FT_SECRET:
    case FT_SECRET_URL: {
        const char *s = *(char *const *)p;
        if (s == NULL || (f->type == FT_SECRET && s[0] == '\0')) {
            emit_null(e);
        } else {
            emit_str(e, "<secret>");
        }
        return;
    }
    case FT_ANY:
        emit_any_text(e, *(char *const *)p, f->flags);
        return;
    case FT_ANYMAP: {
        const struct str_map *m = p;
        emit_map_start(e, flow);
        for (size_t i = 0; i < m->n; i++) {
            emit_str(e, m->keys[i]);
            emit_any_text(e, m->values[i], f->flags);
        }
        emit_map_end(e);
        return;
    }
    case FT_BOOL:
        emit_raw(e, *(const bool *)p ? "true" : "false");
        return;
    case FT_OPTBOOL: {
        int v = *(const int *)p;
        emit_raw(e, v < 0 ? "null" : (v ? "true" : "false"));
        return;
    }
    case FT_DURATION:
        duration_format(*(const int64_t *)p, tmp, sizeof(tmp));
        emit_str(e, tmp);
        return;
    case FT_OPTDURATION:
        if (!((const struct opt_duration *)p)->set) {
            emit_null(e);
            return;
        }
        duration_format(((const struct opt_duration *)p)->ms, tmp, sizeof(tmp));
        emit_str(e, tmp);
        return;
    case FT_GODURATION:
        go_duration_format(*(const int64_t *)p, tmp, sizeof(tmp));
        emit_str(e, tmp);
        return;
    case FT_INT64:
        snprintf(tmp, sizeof(tmp), "%" PRId64, *(const int64_t *)p);
        emit_raw(e, tmp);
        return;
    case FT_UINT64:
        snprintf(tmp, sizeof(tmp), "%" PRIu64, *(const uint64_t *)p);
        emit_raw(e, tmp);
        return;
    case FT_STRLIST: {
        const struct str_list *l = p;
        emit_seq_start(e, flow);
        for (size_t i = 0; i < l->n; i++) {
            emit_str(e, l->v[i]);
        }
        emit_seq_end(e);
        return;
    }
    case FT_STRMAP:
    case FT_LABELMAP:
    case FT_REGEXMAP:
        emit_str_map(e, p, flow);
        return;
    case FT_MATCHERS: {
        const struct matcher_list *l = p;
        struct buf b;
        buf_init(&b, 0);
        emit_seq_start(e, flow);
        for (size_t i = 0; i < l->n; i++) {
            buf_reset(&b);
            matcher_format(l->v[i], &b);
            emit_str(e, buf_str(&b));
        }
        emit_seq_end(e);
        buf_cleanup(&b);
        return;
    }
    case FT_STRUCT:
        dump_table(e, f->sub, p);
        return;
    case FT_STRUCTP:
        if (*(void *const *)p == NULL) {
            emit_null(e);
        } else {
            dump_table(e, f->sub, *(void *const *)p);
        }
        return;
    case FT_LIST: {
        void **items;
        size_t n;
        plist_cget(p, &items, &n);
        emit_seq_start(e, flow);
        for (size_t i = 0; i < n; i++) {
            if (items[i] == NULL) {
                emit_null(e);
            } else {
                dump_table(e, f->sub, items[i]);
            }
        }
        emit_seq_end(e);
        return;
    }
    }
}

void dump_table(struct emitter *e, const struct table *t, const void *obj)
{
    if (t->dump != NULL) {
        t->dump(e, obj);
        return;
    }
    emit_map_start(e, false);
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        if (f->flags & FF_NODUMP) {
            continue;
        }
        if ((f->flags & FF_OMITEMPTY) && field_is_empty(f, obj)) {
            continue;
        }
        emit_str(e, f->name);
        dump_field_value(e, f, obj);
    }
    emit_map_end(e);
}

struct node_ref {
    const struct ynode *k;
    const struct ynode *v;
};

static int node_ref_cmp(const void *a, const void *b)
{
    const struct ynode *ka = ((const struct node_ref *)a)->k;
    const struct ynode *kb = ((const struct node_ref *)b)->k;
    return yaml_key_compare(ka->kind == YN_SCALAR ? ka->value : "",
                            kb->kind == YN_SCALAR ? kb->value : "");
}

static void emit_ynode_depth(struct emitter *e, const struct ynode *n, int depth, unsigned flags,
                             bool hide)
{
    if (n == NULL || depth > 100) {
        emit_null(e);
        return;
    }
    switch (n->kind) {
    case YN_SCALAR:
        if ((hide || (flags & FF_SECRET_LEAVES)) && !ynode_is_null(n)) {
            emit_str(e, "<secret>");
        } else if (n->plain && strcmp(ynode_tag(n), "!!str") != 0) {
            emit_raw(e, ynode_is_null(n) ? "null" : n->value);
        } else {
            emit_str(e, n->value);
        }
        return;
    case YN_SEQ:
        emit_seq_start(e, false);
        for (size_t i = 0; i < n->n; i++) {
            emit_ynode_depth(e, n->items[i], depth + 1, flags, hide);
        }
        emit_seq_end(e);
        return;
    case YN_MAP: {
        struct node_ref *refs = ar_calloc(n->n ? n->n : 1, sizeof(*refs));
        for (size_t i = 0; i < n->n; i++) {
            refs[i].k = ynode_key(n, i);
            refs[i].v = ynode_val(n, i);
        }
        qsort(refs, n->n, sizeof(*refs), node_ref_cmp);
        emit_map_start(e, false);
        for (size_t i = 0; i < n->n; i++) {
            bool secret_key = (flags & FF_SECRET_KEYED) && refs[i].k->kind == YN_SCALAR &&
                              strcmp(refs[i].k->value, "secrets") == 0;
            emit_ynode_depth(e, refs[i].k, depth + 1, 0, false);
            emit_ynode_depth(e, refs[i].v, depth + 1, flags, hide || secret_key);
        }
        emit_map_end(e);
        free(refs);
        return;
    }
    }
}

void emit_ynode(struct emitter *e, const struct ynode *n)
{
    emit_ynode_depth(e, n, 0, 0, false);
}

char *ynode_to_text(const struct ynode *n)
{
    if (n == NULL || ynode_is_null(n)) {
        return NULL;
    }
    struct emitter *e = emitter_new();
    emit_ynode(e, n);
    char *text = emitter_finish(e);
    emitter_free(e);
    if (text != NULL) {
        size_t len = strlen(text);
        while (len > 0 && text[len - 1] == '\n') {
            text[--len] = '\0';
        }
        if (n->kind == YN_SCALAR) {
            /* keep a scalar's own text rather than its quoted form */
            free(text);
            text = ar_strdup(n->value);
        }
    }
    return text;
}

void emit_any_text(struct emitter *e, const char *text, unsigned flags)
{
    struct ydoc doc;
    struct ar_error err;

    if (text == NULL) {
        emit_null(e);
        return;
    }
    if (ydoc_parse(text, strlen(text), "value", 1000000, &doc, &err) != AR_OK || doc.root == NULL) {
        emit_str(e, (flags & FF_SECRET_LEAVES) ? "<secret>" : text);
        return;
    }
    if (doc.root->kind == YN_SCALAR) {
        /* a scalar is stored as its own text: print it as the string it was */
        emit_str(e, (flags & FF_SECRET_LEAVES) ? "<secret>" : text);
    } else {
        emit_ynode_depth(e, doc.root, 0, flags, false);
    }
    ydoc_cleanup(&doc);
}

/* YAML text to a line-numbered node tree (config_yaml.h), using libyaml's event parser.
 * Nodes live in an arena owned by the document; aliases point at the anchored node (no
 * copy, so "billion laughs" input costs no memory here; decoders bound their own work).
 * `<<` merge keys are expanded when their mapping ends: keys written explicitly win.
 * Also holds yaml.v2's scalar-resolution and map-key-order rules. */
#include "config_yaml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
    char *name;
    struct ynode *node;
};

struct builder {
    struct ydoc *doc;
    size_t max_nodes;
    struct ynode **stack;
    size_t depth;
    size_t cap;
    struct anchor *anchors;
    size_t nanchors;
    size_t capanchors;
};

#define YAML_MAX_DEPTH 200

static int node_new(struct builder *b, enum ynode_kind kind, int line, struct ynode **out,
                    struct ar_error *err, const char *name)
{
    struct ydoc *d = b->doc;
    struct ynode *n;

    if (d->nall >= b->max_nodes) {
        ar_error_set(err, "%s:%d: yaml: document has more than %zu nodes", name, line,
                     b->max_nodes);
        return AR_ELIMIT;
    }
    if (d->nall == d->capall) {
        d->capall = d->capall ? d->capall * 2 : 64;
        d->all = ar_realloc(d->all, d->capall * sizeof(*d->all));
    }
    n = ar_calloc(1, sizeof(*n));
    n->kind = kind;
    n->line = line;
    d->all[d->nall++] = n;
    *out = n;
    return AR_OK;
}

/* While a collection is being built, n counts raw items for maps too (keys and values
 * alternate); the MAPPING_END event turns it into a pair count. */
static void attach(struct builder *b, struct ynode *n)
{
    if (b->depth == 0) {
        if (b->doc->root == NULL) {
            b->doc->root = n;
        }
        return;
    }
    struct ynode *parent = b->stack[b->depth - 1];
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->items = ar_realloc(parent->items, parent->cap * sizeof(*parent->items));
    }
    parent->items[parent->n++] = n;
}

static void add_anchor(struct builder *b, const yaml_char_t *anchor, struct ynode *n)
{
    if (anchor == NULL) {
        return;
    }
    /* a later anchor of the same name shadows the earlier one */
    for (size_t i = 0; i < b->nanchors; i++) {
        if (strcmp(b->anchors[i].name, (const char *)anchor) == 0) {
            b->anchors[i].node = n;
            return;
        }
    }
    if (b->nanchors == b->capanchors) {
        b->capanchors = b->capanchors ? b->capanchors * 2 : 8;
        b->anchors = ar_realloc(b->anchors, b->capanchors * sizeof(*b->anchors));
    }
    b->anchors[b->nanchors].name = ar_strdup((const char *)anchor);
    b->anchors[b->nanchors].node = n;
    b->nanchors++;
}

static bool is_merge_key(const struct ynode *k)
{
    return k != NULL && k->kind == YN_SCALAR && k->plain && strcmp(k->value, "<<") == 0;
}

static bool map_has_key(const struct ynode *m, size_t npairs, const struct ynode *key)
{
    if (key->kind != YN_SCALAR) {
        return false;
    }
    for (size_t i = 0; i < npairs; i++) {
        const struct ynode *k = ynode_key(m, i);
        if (k->kind == YN_SCALAR && !is_merge_key(k) && k->len == key->len &&
            memcmp(k->value, key->value, k->len) == 0) {
            return true;
        }
    }
    return false;
}

static void map_append_pair(struct ynode *m, struct ynode *k, struct ynode *v)
{
    if (m->cap < 2 * m->n + 2) {
        m->cap = 2 * m->n + 2 > m->cap * 2 ? 2 * m->n + 2 : m->cap * 2;
        m->items = ar_realloc(m->items, m->cap * sizeof(*m->items));
    }
    m->items[2 * m->n] = k;
    m->items[2 * m->n + 1] = v;
    m->n++;
}

/* Expands `<<: *anchor` and `<<: [*a, *b]` in m (explicit keys win, earlier merges win). */
static int expand_merges(struct ynode *m, struct ar_error *err, const char *name)
{
    bool any = false;

    for (size_t i = 0; i < m->n; i++) {
        if (is_merge_key(ynode_key(m, i))) {
            any = true;
        }
    }
    if (!any) {
        return AR_OK;
    }
    struct ynode **old = m->items;
    size_t nold = m->n;
    m->items = NULL;
    m->n = 0;
    m->cap = 0;
    for (size_t i = 0; i < nold; i++) {
        if (!is_merge_key(old[2 * i])) {
            map_append_pair(m, old[2 * i], old[2 * i + 1]);
        }
    }
    for (size_t i = 0; i < nold; i++) {
        struct ynode *v = old[2 * i + 1];
        if (!is_merge_key(old[2 * i])) {
            continue;
        }
        struct ynode *single[1] = {v};
        struct ynode **srcs = single;
        size_t nsrc = 1;
        if (v->kind == YN_SEQ) {
            srcs = v->items;
            nsrc = v->n;
        }
        for (size_t s = 0; s < nsrc; s++) {
            struct ynode *src = srcs[s];
            if (src->kind != YN_MAP) {
                ar_error_set(err,
                             "%s:%d: yaml: map merge requires map or sequence of maps as the "
                             "value",
                             name, v->line);
                free(old);
                return AR_EINVAL;
            }
            size_t before = m->n;
            for (size_t j = 0; j < src->n; j++) {
                if (!map_has_key(m, before, ynode_key(src, j)) &&
                    !map_has_key(m, m->n, ynode_key(src, j))) {
                    map_append_pair(m, ynode_key(src, j), ynode_val(src, j));
                }
            }
        }
    }
    free(old);
    return AR_OK;
}

static void set_parse_error(const yaml_parser_t *p, const char *name, struct ar_error *err)
{
    int line = (int)p->problem_mark.line + 1;
    if (p->context != NULL) {
        ar_error_set(err, "%s:%d: yaml: %s %s", name, line, p->problem ? p->problem : "error",
                     p->context);
    } else {
        ar_error_set(err, "%s:%d: yaml: %s", name, line, p->problem ? p->problem : "error");
    }
}

int ydoc_parse(const char *text, size_t len, const char *name, size_t max_nodes, struct ydoc *doc,
               struct ar_error *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct builder b;
    int rc = AR_OK;
    bool done = false;
    int docs = 0;

    memset(doc, 0, sizeof(*doc));
    memset(&b, 0, sizeof(b));
    b.doc = doc;
    b.max_nodes = max_nodes;
    if (!yaml_parser_initialize(&parser)) {
        ar_error_set(err, "%s: yaml: cannot initialise parser", name);
        return AR_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && rc == AR_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            set_parse_error(&parser, name, err);
            rc = AR_EINVAL;
            break;
        }
        int line = (int)ev.start_mark.line + 1;
        struct ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            docs++;
            break;
        case YAML_DOCUMENT_END_EVENT:
            /* yaml.v2 decodes only the first document */
            if (docs >= 1) {
                done = true;
            }
            break;
        case YAML_SCALAR_EVENT:
            rc = node_new(&b, YN_SCALAR, line, &n, err, name);
            if (rc != AR_OK) {
                break;
            }
            n->len = ev.data.scalar.length;
            n->value = ar_malloc(n->len + 1);
            memcpy(n->value, ev.data.scalar.value, n->len);
            n->value[n->len] = '\0';
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                       ev.data.scalar.plain_implicit && ev.data.scalar.tag == NULL;
            if (ev.data.scalar.tag != NULL &&
                strcmp((const char *)ev.data.scalar.tag, "tag:yaml.org,2002:null") == 0) {
                n->plain = true;
            }
            add_anchor(&b, ev.data.scalar.anchor, n);
            attach(&b, n);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (b.depth >= YAML_MAX_DEPTH) {
                ar_error_set(err, "%s:%d: yaml: nesting deeper than %d levels", name, line,
                             YAML_MAX_DEPTH);
                rc = AR_ELIMIT;
                break;
            }
            rc = node_new(&b, ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ, line, &n, err,
                          name);
            if (rc != AR_OK) {
                break;
            }
            if (n->kind == YN_MAP) {
                add_anchor(&b, ev.data.mapping_start.anchor, n);
            } else {
                add_anchor(&b, ev.data.sequence_start.anchor, n);
            }
            attach(&b, n);
            n->building = true;
            if (b.depth == b.cap) {
                b.cap = b.cap ? b.cap * 2 : 16;
                b.stack = ar_realloc(b.stack, b.cap * sizeof(*b.stack));
            }
            b.stack[b.depth++] = n;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b.depth > 0) {
                struct ynode *top = b.stack[--b.depth];
                top->building = false;
                if (top->kind == YN_MAP) {
                    top->n /= 2;
                    rc = expand_merges(top, err, name);
                }
            }
            break;
        case YAML_ALIAS_EVENT: {
            struct ynode *target = NULL;
            for (size_t i = 0; i < b.nanchors; i++) {
                if (strcmp(b.anchors[i].name, (const char *)ev.data.alias.anchor) == 0) {
                    target = b.anchors[i].node;
                }
            }
            if (target == NULL) {
                ar_error_set(err, "%s:%d: yaml: unknown anchor '%s' referenced", name, line,
                             (const char *)ev.data.alias.anchor);
                rc = AR_EINVAL;
                break;
            }
            if (target->building) {
                ar_error_set(err, "%s:%d: yaml: anchor '%s' value contains itself", name, line,
                             (const char *)ev.data.alias.anchor);
                rc = AR_EINVAL;
                break;
            }
            attach(&b, target);
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < b.nanchors; i++) {
        free(b.anchors[i].name);
    }
    free(b.anchors);
    free(b.stack);
    if (rc != AR_OK) {
        ydoc_cleanup(doc);
    }
    return rc;
}

void ydoc_cleanup(struct ydoc *doc)
{
    if (doc == NULL) {
        return;
    }
    for (size_t i = 0; i < doc->nall; i++) {
        free(doc->all[i]->value);
        free(doc->all[i]->items);
        free(doc->all[i]);
    }
    free(doc->all);
    memset(doc, 0, sizeof(*doc));
}

bool ynode_is_null(const struct ynode *n)
{
    if (n == NULL) {
        return true;
    }
    if (n->kind != YN_SCALAR || !n->plain) {
        return false;
    }
    const char *s = n->value;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

bool yaml_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"y",  "Y",  "yes",  "Yes",  "YES", "on",
                                      "On", "ON", "true", "True", "TRUE"};
    static const char *const no[] = {"n",   "N",   "no",    "No",    "NO",   "off",
                                     "Off", "OFF", "false", "False", "FALSE"};
    for (size_t i = 0; i < AR_ARRAY_LEN(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(no); i++) {
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Go strconv.ParseInt(s, 0, 64) acceptance after underscores are removed (approx.). */
static bool looks_int(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') {
        p++;
    }
    if (*p == '\0') {
        return false;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (*p == '\0') {
            return false;
        }
        for (; *p; p++) {
            if (!isxdigit((unsigned char)*p) && *p != '_') {
                return false;
            }
        }
        return true;
    }
    if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B' || p[1] == 'o' || p[1] == 'O')) {
        char hi = (p[1] == 'b' || p[1] == 'B') ? '1' : '7';
        p += 2;
        if (*p == '\0') {
            return false;
        }
        for (; *p; p++) {
            if ((*p < '0' || *p > hi) && *p != '_') {
                return false;
            }
        }
        return true;
    }
    bool digit = false;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            digit = true;
        } else if (*p != '_') {
            return false;
        }
    }
    return digit;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool looks_float(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') {
        p++;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    } else {
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
        if (*p == '.') {
            p++;
            while (isdigit((unsigned char)*p)) {
                p++;
            }
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    return *p == '\0';
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool is_base60_float(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') {
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        return false;
    }
    while (isdigit((unsigned char)*p) || *p == '_') {
        p++;
    }
    int groups = 0;
    while (*p == ':') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p) && nd < 2) {
            nd++;
            p++;
        }
        if (nd == 0 || (nd == 2 && p[-2] > '5')) {
            return false;
        }
        groups++;
    }
    if (groups == 0) {
        return false;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) || *p == '_') {
            p++;
        }
    }
    return *p == '\0';
}

/* yaml.v2 timestamps: YYYY-M-D optionally followed by [Tt ]time (approx.). */
static bool looks_timestamp(const char *s)
{
    int i = 0;
    for (; i < 4; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    if (s[i++] != '-') {
        return false;
    }
    int nd = 0;
    while (isdigit((unsigned char)s[i]) && nd < 2) {
        i++;
        nd++;
    }
    if (nd == 0 || s[i++] != '-') {
        return false;
    }
    nd = 0;
    while (isdigit((unsigned char)s[i]) && nd < 2) {
        i++;
        nd++;
    }
    if (nd == 0) {
        return false;
    }
    if (s[i] == '\0') {
        return true;
    }
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
        return false;
    }
    i++;
    /* h:m:s required by the remaining layouts */
    int colons = 0;
    for (; s[i]; i++) {
        if (s[i] == ':') {
            colons++;
        }
    }
    return colons >= 2;
}

bool yaml_needs_quotes(const char *s)
{
    static const char *const special[] = {"~",     "null",  "Null",  "NULL", ".nan",  ".NaN",
                                          ".NAN",  ".inf",  ".Inf",  ".INF", "+.inf", "+.Inf",
                                          "+.INF", "-.inf", "-.Inf", "-.INF"};
    bool b;

    if (s[0] == '\0') {
        return true;
    }
    if (yaml_parse_bool(s, &b)) {
        return true;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(special); i++) {
        if (strcmp(s, special[i]) == 0) {
            return true;
        }
    }
    char c = s[0];
    if (c == '+' || c == '-' || isdigit((unsigned char)c)) {
        if (looks_int(s) || looks_float(s) || looks_timestamp(s)) {
            return true;
        }
        if ((c == '-' || c == '+') && s[1] == '0' && (s[2] == 'b')) {
            return true;
        }
    } else if (c == '.') {
        if (looks_float(s)) {
            return true;
        }
    }
    return is_base60_float(s);
}

/* Decodes one UTF-8 rune (lenient: invalid bytes count as one rune of their value). */
static uint32_t next_rune(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = *p;
    int extra = 0;
    if (c >= 0xF0 && c < 0xF8) {
        extra = 3;
        c &= 0x07;
    } else if (c >= 0xE0) {
        extra = c < 0xF0 ? 2 : 0;
        c &= extra ? 0x0F : 0xFF;
    } else if (c >= 0xC0) {
        extra = 1;
        c &= 0x1F;
    }
    p++;
    for (int i = 0; i < extra; i++) {
        if ((*p & 0xC0) != 0x80) {
            break;
        }
        c = (c << 6) | (*p & 0x3F);
        p++;
    }
    *pp = p;
    return c;
}

static bool rune_is_letter(uint32_t r)
{
    if (r < 0x80) {
        return isalpha((int)r) != 0;
    }
    return true; /* approx.: non-ASCII treated as letters */
}

static bool rune_is_digit(uint32_t r)
{
    return r >= '0' && r <= '9';
}

int yaml_key_compare(const char *a, const char *b)
{
    /* decode into rune arrays */
    size_t la = strlen(a);
    size_t lb = strlen(b);
    uint32_t *ra = ar_malloc((la + 1) * sizeof(uint32_t));
    uint32_t *rb = ar_malloc((lb + 1) * sizeof(uint32_t));
    size_t na = 0;
    size_t nb = 0;
    const unsigned char *p = (const unsigned char *)a;
    while (*p) {
        ra[na++] = next_rune(&p);
    }
    p = (const unsigned char *)b;
    while (*p) {
        rb[nb++] = next_rune(&p);
    }
    int result = 0;
    size_t i;
    for (i = 0; i < na && i < nb; i++) {
        if (ra[i] == rb[i]) {
            continue;
        }
        bool al = rune_is_letter(ra[i]);
        bool bl = rune_is_letter(rb[i]);
        if (al && bl) {
            result = ra[i] < rb[i] ? -1 : 1;
            goto out;
        }
        if (al || bl) {
            result = bl ? -1 : 1;
            goto out;
        }
        int64_t an = 0;
        int64_t bn = 0;
        size_t ai;
        size_t bi;
        if (ra[i] == '0' || rb[i] == '0') {
            for (size_t j = i; j-- > 0 && rune_is_digit(ra[j]);) {
                if (ra[j] != '0') {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        /* COMPAT: Go accumulates in int64 and wraps on overflow; do the same without
         * signed-overflow UB */
        for (ai = i; ai < na && rune_is_digit(ra[ai]); ai++) {
            an = (int64_t)((uint64_t)an * 10u + (uint64_t)(ra[ai] - '0'));
        }
        for (bi = i; bi < nb && rune_is_digit(rb[bi]); bi++) {
            bn = (int64_t)((uint64_t)bn * 10u + (uint64_t)(rb[bi] - '0'));
        }
        if (an != bn) {
            result = an < bn ? -1 : 1;
        } else if (ai != bi) {
            result = ai < bi ? -1 : 1;
        } else {
            result = ra[i] < rb[i] ? -1 : 1;
        }
        goto out;
    }
    result = na < nb ? -1 : (na > nb ? 1 : 0);
out:
    free(ra);
    free(rb);
    return result;
}

const char *ynode_tag(const struct ynode *n)
{
    bool b;

    if (n == NULL) {
        return "!!null";
    }
    switch (n->kind) {
    case YN_SEQ:
        return "!!seq";
    case YN_MAP:
        return "!!map";
    case YN_SCALAR:
        break;
    }
    if (!n->plain) {
        return "!!str";
    }
    if (ynode_is_null(n)) {
        return "!!null";
    }
    if (yaml_parse_bool(n->value, &b)) {
        return "!!bool";
    }
    if (looks_int(n->value)) {
        return "!!int";
    }
    if (looks_float(n->value)) {
        return "!!float";
    }
    return "!!str";
}

/* Internal to the configuration loader: a YAML document as a tree of nodes that keep their
 * source line, built with libyaml (config_yaml.c). Anchors and aliases are resolved by
 * sharing nodes, and `<<` merge keys are expanded, so the tree may be a DAG; every node is
 * owned by the document's arena and freed with it. Also provides the scalar-resolution
 * rules of Go's yaml.v2 (which plain scalars are null, bool, int, float) used both when
 * decoding and when choosing a quoting style for re-serialisation. */
#ifndef AR_CONFIG_YAML_H
#define AR_CONFIG_YAML_H

#include "ar/common.h"

enum ynode_kind { YN_SCALAR = 0, YN_SEQ, YN_MAP };

struct ynode {
    enum ynode_kind kind;
    int line;      /* 1-based line of the node's first character */
    char *value;   /* scalar text (NUL-terminated, may contain NULs: see len) */
    size_t len;    /* scalar length */
    bool plain;    /* plain (unquoted, untagged) scalar: subject to null/bool/int resolution */
    bool building; /* collection still being parsed (an alias to it would be recursive) */
    struct ynode **items; /* sequence items; for maps keys at [2i], values at [2i+1] */
    size_t n;             /* number of items (sequence) or pairs (map) */
    size_t cap;
};

struct ydoc {
    struct ynode *root; /* NULL for an empty document */
    struct ynode **all; /* arena: every node allocated */
    size_t nall;
    size_t capall;
};

/* Parses the first document of text. Errors name the line: `<name>:3: yaml: ...`.
 * Limits: max_nodes nodes. Returns AR_OK, AR_EINVAL or AR_ELIMIT. */
int ydoc_parse(const char *text, size_t len, const char *name, size_t max_nodes, struct ydoc *doc,
               struct ar_error *err);
void ydoc_cleanup(struct ydoc *doc);

static inline struct ynode *ynode_key(const struct ynode *m, size_t i)
{
    return m->items[2 * i];
}
static inline struct ynode *ynode_val(const struct ynode *m, size_t i)
{
    return m->items[2 * i + 1];
}

/* A plain scalar that yaml.v2 resolves to null ("", "~", "null", "Null", "NULL"). */
bool ynode_is_null(const struct ynode *n);
/* yaml.v2 boolean spelling of a plain scalar; returns false when s is not one. */
bool yaml_parse_bool(const char *s, bool *out);
/* True when yaml.v2 would resolve the unquoted string s to something other than a string
 * (null, bool, int, float, timestamp, or a base-60 float), so it must be double-quoted. */
bool yaml_needs_quotes(const char *s);
/* Go yaml.v2's map key order (letters after non-letters, digit runs compared numerically). */
int yaml_key_compare(const char *a, const char *b);
/* Name of the node's kind as yaml.v2 prints it in errors: !!str, !!seq, !!map, !!null... */
const char *ynode_tag(const struct ynode *n);

#endif

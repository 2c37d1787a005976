/* Internal to the configuration loader: the key tables that describe every configuration
 * object (name, type, field offset, default, flags, sub-table, validator), the decoding
 * context that carries the file name, key path and error, and the helpers shared by
 * config.c, config_decode.c, config_dump.c, config_receivers.c and config_time.c.
 *
 * One table per Go struct of Alertmanager's configuration, fields in the struct's order:
 * the decoder accepts keys in any order, the dumper (original_yaml) prints them in table
 * order with yaml.v2's omitempty rules, so the same table drives both directions. */
#ifndef AR_CONFIG_INTERNAL_H
#define AR_CONFIG_INTERNAL_H

#include "ar/buf.h"
#include "ar/config.h"
#include "config_yaml.h"

#include <stddef.h>

enum ftype {
    FT_STR,         /* char * */
    FT_SECRET,      /* char *, printed as <secret> */
    FT_URL,         /* char *, http(s) URL with a host */
    FT_SECRET_URL,  /* char *, URL printed as <secret>; "<secret>" itself is accepted */
    FT_BOOL,        /* bool */
    FT_OPTBOOL,     /* int: -1 unset, 0 false, 1 true */
    FT_DURATION,    /* int64_t milliseconds, Prometheus syntax */
    FT_OPTDURATION, /* struct opt_duration */
    FT_GODURATION,  /* int64_t nanoseconds, Go syntax */
    FT_INT64,       /* int64_t */
    FT_UINT64,      /* uint64_t */
    FT_HOSTPORT,    /* char *, host:port */
    FT_TLSVERSION,  /* char *, TLS10..TLS13 */
    FT_STRLIST,     /* struct str_list */
    FT_STRMAP,      /* struct str_map */
    FT_LABELMAP,    /* struct str_map, keys must be classic label names (match:) */
    FT_REGEXMAP,    /* struct str_map, classic names, values compile as regexes */
    FT_MATCHERS,    /* struct matcher_list from a list of matcher strings, sorted */
    FT_STRUCT,      /* embedded struct described by sub */
    FT_STRUCTP,     /* pointer to a struct described by sub (NULL when absent) */
    FT_LIST,        /* struct ptr_list of structs described by sub (entries may be NULL) */
    FT_ANY,         /* any YAML value kept as YAML text (char *); a scalar as its text */
    FT_ANYMAP,      /* struct str_map whose values are kept as FT_ANY text */
};

enum {
    FF_OMITEMPTY = 1 << 0,     /* yaml:",omitempty" */
    FF_FLOW = 1 << 1,          /* yaml:",flow" */
    FF_PATH = 1 << 2,          /* a file path resolved against the config directory */
    FF_NODUMP = 1 << 3,        /* accepted but never printed (newest-only keys when empty) */
    FF_SECRET_LEAVES = 1 << 4, /* FT_ANY/FT_ANYMAP: every scalar printed as <secret> */
    FF_SECRET_KEYED = 1 << 5,  /* FT_ANY/FT_ANYMAP: scalars under a `secrets` key hidden */
};

struct ctx;
struct table;
struct emitter;

/* Called after an object was decoded (defaults applied, keys read). node is the object's
 * mapping (for the line of messages). Returns AR_OK or AR_EINVAL with ctx_error(). */
typedef int (*check_fn)(void *obj, struct ctx *c, const struct ynode *node);

struct field {
    const char *name;
    enum ftype type;
    size_t off;
    unsigned flags;
    const char *def;         /* default as YAML text, NULL for the zero value */
    const struct table *sub; /* for FT_STRUCT, FT_STRUCTP, FT_LIST */
};

struct table {
    const char *name; /* Go type name, used in "field x not found in type y" */
    size_t size;      /* sizeof the C struct */
    const struct field *fields;
    size_t nfields;
    check_fn check;
    /* optional: replaces the key loop (e.g. a value that may be a string or a map) */
    int (*decode)(void *obj, const struct ynode *node, struct ctx *c);
    /* optional: replaces the generic mapping output */
    void (*dump)(struct emitter *e, const void *obj);
    /* optional: frees what the custom decoder allocated outside the fields */
    void (*cleanup)(void *obj);
};

#define FIELD(st, key, member, type, flags, def)                                                   \
    {                                                                                              \
        key, type, offsetof(st, member), flags, def, NULL                                          \
    }
#define SUBFIELD(st, key, member, type, flags, subtable)                                           \
    {                                                                                              \
        key, type, offsetof(st, member), flags, NULL, subtable                                     \
    }
#define TABLE(tname, st, fields, check)                                                            \
    {                                                                                              \
        tname, sizeof(st), fields, AR_ARRAY_LEN(fields), check, NULL, NULL, NULL                   \
    }

/* Decoding state: error location and limits. */
struct ctx {
    const char *file;     /* as named in messages */
    const char *base_dir; /* directory of the config file, for FF_PATH fields */
    struct ar_error *err;
    char path[512]; /* key path, e.g. route.routes[2].group_wait */
    size_t pathlen;
    size_t budget;                      /* nodes left to decode (alias bombs) */
    const struct config_global *global; /* for per-notifier inheritance */
};

/* Writes "file:line: path: message" (line omitted when node is NULL). Returns AR_EINVAL. */
int ctx_error(struct ctx *c, const struct ynode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Key path handling: push returns the previous length to restore with ctx_pop(). */
size_t ctx_push_key(struct ctx *c, const char *key);
size_t ctx_push_index(struct ctx *c, size_t i);
void ctx_pop(struct ctx *c, size_t len);

/* Allocates obj of t, applies defaults, decodes node (a map or null) into it. */
int decode_new(const struct table *t, const struct ynode *node, struct ctx *c, void **out);
/* Applies t's defaults to obj (zeroed memory). */
void decode_defaults(const struct table *t, void *obj);
/* Decodes the map node into obj, whose defaults are already set, then runs t->check. */
int decode_into(const struct table *t, void *obj, const struct ynode *node, struct ctx *c);
/* Decodes one field value. */
int decode_field(const struct field *f, void *obj, const struct ynode *v, struct ctx *c);
/* Frees everything owned by obj (not obj itself). */
void table_cleanup(const struct table *t, void *obj);
void table_free(const struct table *t, void *obj);
/* Deep copy of obj described by t (used for the inherited global http_config). */
void *table_dup(const struct table *t, const void *obj);
/* True when every field of obj is the zero value (yaml.v2 omitempty for structs). */
bool table_is_zero(const struct table *t, const void *obj);

/* Value of key in a mapping node, or NULL. */
const struct ynode *ynode_map_find(const struct ynode *map, const char *key);
/* Error located at the value of key inside map (falls back to map), path extended by key. */
int ctx_error_key(struct ctx *c, const struct ynode *map, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Re-sorts a map in yaml.v2 key order after its keys were changed. */
void str_map_resort(struct str_map *m);

/* Scalar helpers. */
int scalar_string(const struct ynode *v, struct ctx *c, char **out); /* null gives NULL */
int url_validate(const char *s, struct ctx *c, const struct ynode *v);
/* Joins a relative path to dir and cleans it like Go's filepath.Join. */
char *path_join_clean(const char *dir, const char *p);

/* Re-serialisation with libyaml's emitter (config_dump.c). */
struct emitter *emitter_new(void);
/* Finishes the document and returns the text (caller frees), or NULL on error. */
char *emitter_finish(struct emitter *e);
void emitter_free(struct emitter *e);
void emit_map_start(struct emitter *e, bool flow);
void emit_map_end(struct emitter *e);
void emit_seq_start(struct emitter *e, bool flow);
void emit_seq_end(struct emitter *e);
void emit_str(struct emitter *e, const char *s); /* yaml.v2 string style */
void emit_raw(struct emitter *e, const char *s); /* plain scalar as is (numbers, bools) */
void emit_null(struct emitter *e);
/* Emits a parsed node as yaml.v2 marshals a decoded interface{} (maps sorted). */
void emit_ynode(struct emitter *e, const struct ynode *n);
/* A node as YAML text: a scalar's own text, else a block document (no trailing newline). */
char *ynode_to_text(const struct ynode *n);
/* Emits FT_ANY text (re-parsed); flags FF_SECRET_LEAVES / FF_SECRET_KEYED hide secrets. */
void emit_any_text(struct emitter *e, const char *text, unsigned flags);
/* Emits obj described by t as a mapping. */
void dump_table(struct emitter *e, const struct table *t, const void *obj);
void dump_field_value(struct emitter *e, const struct field *f, const void *obj);
bool field_is_empty(const struct field *f, const void *obj);

/* Tables defined in config_receivers.c / config_time.c / config.c. */
extern const struct table http_config_table;
extern const struct table tls_config_table;
extern const struct table smtp_tls_config_table; /* files used as written (e-mail) */
extern const struct table global_table;
extern const struct table receiver_table;
extern const struct table time_interval_table;      /* time_intervals entries */
extern const struct table mute_time_interval_table; /* mute_time_intervals entries */
/* One *_configs entry of each integration type (config_receivers.c), listed in the
 * integration table (ar/integration.h). */
extern const struct table webhook_config_table;
extern const struct table email_config_table;
extern const struct table pagerduty_config_table;
extern const struct table opsgenie_config_table;
extern const struct table wechat_config_table;
extern const struct table slack_config_table;
extern const struct table victorops_config_table;
extern const struct table pushover_config_table;
extern const struct table sns_config_table;
extern const struct table telegram_config_table;
extern const struct table discord_config_table;
extern const struct table webex_config_table;
extern const struct table msteams_config_table;
extern const struct table msteamsv2_config_table;
extern const struct table jira_config_table;
extern const struct table rocketchat_config_table;
extern const struct table incidentio_config_table;
extern const struct table mattermost_config_table;
extern const struct table inhibit_rule_table;
extern const struct table route_cfg_table;

/* MD5 digest of data (config_md5.c). */
void config_md5(const void *data, size_t n, uint8_t out[16]);

/* ---- shared by the integrations' key tables (config_receivers.c, notifier_<type>.c) ---- */

/* Field shorthands of the *_configs tables. */
#define STR(st, key, m)       FIELD(st, key, m, FT_STR, FF_OMITEMPTY, NULL)
#define STRD(st, key, m, def) FIELD(st, key, m, FT_STR, FF_OMITEMPTY, def)
#define SECRET(st, key, m)    FIELD(st, key, m, FT_SECRET, FF_OMITEMPTY, NULL)
#define PATHF(st, key, m)     FIELD(st, key, m, FT_STR, FF_OMITEMPTY | FF_PATH, NULL)
#define URLF(st, key, m)      FIELD(st, key, m, FT_URL, FF_OMITEMPTY, NULL)
#define SURL(st, key, m)      FIELD(st, key, m, FT_SECRET_URL, FF_OMITEMPTY, NULL)
#define HTTPF(st)                                                                                  \
    SUBFIELD(st, "http_config", http_config, FT_STRUCTP, FF_OMITEMPTY, &http_config_table)
#define SENDRES(st, def) FIELD(st, "send_resolved", send_resolved, FT_BOOL, 0, def)

/* True when s is NULL or "". */
bool cfg_empty(const char *s);
/* Sets *dst to a copy of src when *dst is empty and src is not (inheritance from global). */
void cfg_inherit(char **dst, const char *src);
/* "at most one of a & b must be configured" when both values are set. */
int cfg_at_most_one(struct ctx *c, const struct ynode *n, const char *a, const char *av,
                    const char *b, const char *bv);
/* A copy of global.http_config when *dst is NULL (COMPAT 4.9). */
void cfg_inherit_http(struct http_config **dst, const struct ctx *c);
/* Appends '/' to the path part of a URL when missing (Alertmanager does it for API bases). */
void cfg_url_ensure_slash(char **url);
/* Adds key = value to a yaml.v2-ordered map unless key is there. */
void cfg_map_add_missing(struct str_map *m, const char *key, const char *value);
/* Exactly one of webhook_url and webhook_url_file (MS Teams, both kinds). */
int cfg_webhook_url_or_file(struct ctx *c, const struct ynode *n, const char *url,
                            const char *file);

/* Integration bookkeeping: called after decoding all receivers (config_receivers.c). */
/* Reads a whole configuration file of at most max_bytes that holds no NUL byte into *text
 * (owned by the caller, NUL-terminated) and *len; `what` names it in messages
 * ("configuration", "extensions file"). AR_EIO when it cannot be read, else AR_EINVAL. */
int cfg_read_file(const char *path, unsigned max_bytes, const char *what, char **text, size_t *len,
                  struct ar_error *err);
/* The directory part of path ("." without one), where relative paths in the file resolve. */
char *cfg_dir_of(const char *path);

void receiver_build_integrations(struct receiver *r);
/* Applies what building a used receiver's notifiers changes upstream (email headers). */
void receiver_prepare_used(struct receiver *r);

#endif

/* Template engine: Go text/template syntax and semantics as Alertmanager uses them (COMPAT 8),
 * with an html/template-like contextual escaping mode for email bodies.
 *
 * A template set (struct tmpl_set) holds named templates parsed from one or more sources;
 * later definitions replace earlier ones, so user files loaded after the built-in ones
 * (tmpl_set_load_defaults) override them. Executing is read-only on the set, so one set may
 * be executed from several threads at once (parsing into it must not run concurrently).
 * Values (struct tmpl_value) are refcounted (atomically) and must not be modified once
 * handed to the engine, so one Data may be rendered by several threads at once; the builder
 * functions below construct the Alertmanager template data (`Data`, `Alert`, `KV`) for the
 * notifiers.
 *
 * Typical use by a notifier:
 *     struct tmpl_value *d = tmpl_data_new(receiver_name, true, external_url);
 *     for each alert: a = tmpl_alert_new(...); tmpl_kv_set(tmpl_alert_labels(a), k, v); ...
 *                     tmpl_data_add_alert_take(d, a);
 *     tmpl_kv_set(tmpl_data_group_labels(d), k, v) for each group label;
 *     tmpl_data_finish(d, true);
 *     tmpl_render(set, "{{ template \"slack.default.title\" . }}", TMPL_TEXT, d, &s, &err);
 *     tmpl_value_unref(d); */
#ifndef AR_TMPL_H
#define AR_TMPL_H

#include "ar/buf.h"
#include "ar/common.h"
#include "ar/gotime.h"

/* ---- values ---------------------------------------------------------------------------- */

enum tmpl_type {
    TMPL_NIL,
    TMPL_BOOL,
    TMPL_INT,
    TMPL_FLOAT,
    TMPL_STRING,
    TMPL_LIST,
    TMPL_MAP,      /* string keys, kept sorted by key (byte order) */
    TMPL_STRUCT,   /* fixed field names given by the kind */
    TMPL_TIME,     /* Go time.Time */
    TMPL_DURATION, /* Go time.Duration (nanoseconds) */
};

/* The Go type a value stands for: selects methods, type names in errors and printing. */
enum tmpl_kind {
    TMPL_K_PLAIN = 0,   /* interface{}, []interface{}, map[string]interface{}, ... */
    TMPL_K_KV,          /* template.KV: map of strings */
    TMPL_K_PAIRS,       /* template.Pairs: list of TMPL_K_PAIR */
    TMPL_K_STRINGS,     /* []string */
    TMPL_K_ALERTS,      /* template.Alerts: list of TMPL_K_ALERT */
    TMPL_K_DATA,        /* template.Data (struct) */
    TMPL_K_ALERT,       /* template.Alert (struct) */
    TMPL_K_PAIR,        /* template.Pair (struct Name, Value) */
    TMPL_K_SAFE_HTML,   /* string marked trusted HTML (safeHtml) */
    TMPL_K_SAFE_URL,    /* string marked trusted URL (safeUrl) */
    TMPL_K_ALERT_SLICE, /* []template.Alert: what Alerts.Firing/Resolved return (no methods) */
};

struct tmpl_value {
    int refs; /* < 0: immortal static value */
    enum tmpl_type type;
    enum tmpl_kind kind;
    unsigned depth; /* nesting: 0 for scalars, 1 + deepest element for containers */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            char *p; /* NUL-terminated, may also contain NULs */
            size_t len;
        } s;
        struct {
            struct tmpl_value **v;
            size_t n;
            size_t cap;
        } list;
        struct {
            char **keys; /* sorted, unique */
            struct tmpl_value **vals;
            size_t n;
            size_t cap;
        } map;
        struct {
            struct tmpl_value **vals; /* one per field of the kind, never NULL */
            size_t n;
        } st;
        struct {
            int64_t sec;   /* Unix seconds */
            int32_t nsec;  /* 0..999999999 */
            int32_t off;   /* zone offset east of UTC, seconds */
            char zone[24]; /* zone abbreviation printed by String(), e.g. "UTC" */
        } t;
        int64_t dur_ns;
    } u;
};

struct tmpl_value *tmpl_value_ref(struct tmpl_value *v);
void tmpl_value_unref(struct tmpl_value *v); /* accepts NULL */

/* Constructors return a new reference owned by the caller (never NULL). */
struct tmpl_value *tmpl_nil(void);
struct tmpl_value *tmpl_bool(bool b);
struct tmpl_value *tmpl_int(int64_t i);
struct tmpl_value *tmpl_float(double f);
struct tmpl_value *tmpl_string(const char *s);
struct tmpl_value *tmpl_string_n(const char *s, size_t len);
struct tmpl_value *tmpl_string_take(char *s, size_t len); /* takes a heap string */
struct tmpl_value *tmpl_list_new(enum tmpl_kind kind);
struct tmpl_value *tmpl_map_new(enum tmpl_kind kind);
/* UTC time; zone "UTC". */
struct tmpl_value *tmpl_time(int64_t sec, int32_t nsec);
struct tmpl_value *tmpl_duration(int64_t ns);

/* Deepest nesting the template functions may build (list/append/dict), so printing and
 * freeing values never recurse without bound. */
#define TMPL_MAX_VALUE_DEPTH 64

/* Appends v to a list, taking the caller's reference. */
void tmpl_list_push_take(struct tmpl_value *list, struct tmpl_value *v);
/* Sets key in a map, taking the caller's reference to v; replaces an existing key. */
void tmpl_map_set_take(struct tmpl_value *map, const char *key, struct tmpl_value *v);
/* Borrowed value for key, or NULL. */
struct tmpl_value *tmpl_map_find(const struct tmpl_value *map, const char *key);
/* KV helper: map[key] = string value. */
void tmpl_kv_set(struct tmpl_value *kv, const char *key, const char *value);

/* ---- Alertmanager template data (COMPAT 8.2) -------------------------------------------- */

/* New `Data`. When quote_receiver is true the receiver name is regex-quoted as upstream does
 * (`team.mail` -> `team\.mail`); pass false for an already quoted name (e.g. from a webhook
 * payload). Status starts as "resolved" and is set to "firing" by tmpl_data_finish when any
 * alert fires. GroupLabels, CommonLabels, CommonAnnotations start empty. */
struct tmpl_value *tmpl_data_new(const char *receiver, bool quote_receiver,
                                 const char *external_url);
/* Borrowed KV fields of a Data, to fill with tmpl_kv_set. */
struct tmpl_value *tmpl_data_group_labels(struct tmpl_value *data);
struct tmpl_value *tmpl_data_common_labels(struct tmpl_value *data);
struct tmpl_value *tmpl_data_common_annotations(struct tmpl_value *data);
void tmpl_data_set_status(struct tmpl_value *data, const char *status);
/* New `Alert`; status "firing" or "resolved"; times in Unix seconds + nanoseconds (pass
 * TMPL_ZERO_TIME_SEC, 0 for Go's zero time, as for a firing alert's EndsAt). */
#define TMPL_ZERO_TIME_SEC GOTIME_ZERO_SEC
struct tmpl_value *tmpl_alert_new(const char *status, int64_t starts_sec, int32_t starts_nsec,
                                  int64_t ends_sec, int32_t ends_nsec, const char *generator_url,
                                  const char *fingerprint);
struct tmpl_value *tmpl_alert_labels(struct tmpl_value *alert);      /* borrowed KV */
struct tmpl_value *tmpl_alert_annotations(struct tmpl_value *alert); /* borrowed KV */
/* Appends an alert to data.Alerts, taking the reference. */
void tmpl_data_add_alert_take(struct tmpl_value *data, struct tmpl_value *alert);
/* Sets Status from the alerts and, when compute_common is true, CommonLabels and
 * CommonAnnotations as the pairs identical in every alert (COMPAT 8.2). */
void tmpl_data_finish(struct tmpl_value *data, bool compute_common);
/* regexp.QuoteMeta: new heap string. */
char *tmpl_quote_meta(const char *s);

/* ---- template sets ---------------------------------------------------------------------- */

enum tmpl_mode {
    TMPL_TEXT = 0, /* text/template: no escaping */
    TMPL_HTML = 1, /* html/template-like contextual escaping of action output */
};

enum tmpl_kv_style {
    TMPL_KV_GO_MAP = 0,   /* 0.25: KV prints as map[k:v], Pairs as [{k v}] */
    TMPL_KV_READABLE = 1, /* newest: both print as k=v, k2=v2 */
};

struct tmpl_set;

struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *set); /* accepts NULL */
/* Limits: max_output bytes per execution (default 4 MiB), max_depth nested template calls
 * and expressions (default 100), max_steps evaluated nodes (default 10 million). 0 keeps. */
void tmpl_set_limits(struct tmpl_set *set, size_t max_output, unsigned max_depth,
                     uint64_t max_steps);
void tmpl_set_kv_style(struct tmpl_set *set, enum tmpl_kv_style style);
/* Parses Go template text. Top-level text becomes the template `name`; `define`d templates
 * are added by their own names. Errors: AR_EINVAL with
 * "template: <name>:<line>:<col>: <message>" in err (1-based column; Go itself gives only
 * the line here); the set is unchanged on error. */
int tmpl_set_parse(struct tmpl_set *set, const char *name, const char *text, size_t len,
                   struct ar_error *err);
/* Reads and parses a file; the template name is the file's base name. */
int tmpl_set_parse_file(struct tmpl_set *set, const char *path, struct ar_error *err);
/* Parses every file matching a glob pattern (sorted); no match is not an error. */
int tmpl_set_parse_glob(struct tmpl_set *set, const char *pattern, struct ar_error *err);
/* Parses the templates compiled into the binary (templates/ *.tmpl, ar/embedded.h) but the
 * incident report (report.tmpl, ar/incident_report.h), which is no notification template. */
int tmpl_set_load_defaults(struct tmpl_set *set, struct ar_error *err);
bool tmpl_set_has(const struct tmpl_set *set, const char *name);
/* Names of all templates, sorted; borrowed strings in a new array (free() the array). */
const char **tmpl_set_names(const struct tmpl_set *set, size_t *n);

/* Executes template `name` with dot = data (may be NULL for nil), appending to out.
 * Errors: AR_ENOTFOUND (no such template), AR_EINVAL (execution error), AR_ELIMIT (output,
 * depth or step limit); err holds Go's text, e.g. `template: :1:3: executing "" at
 * <.GroupKey>: can't evaluate field GroupKey in type *template.Data` (file name, line,
 * 0-based byte column as Go prints it). The output appended before an error is left in out. */
int tmpl_set_execute(const struct tmpl_set *set, const char *name, enum tmpl_mode mode,
                     const struct tmpl_value *data, struct buf *out, struct ar_error *err);
/* Parses text as an anonymous template that can call the set's templates (its own defines
 * stay local to this call) and executes it. *out is a new heap string on success. */
int tmpl_render(const struct tmpl_set *set, const char *text, enum tmpl_mode mode,
                const struct tmpl_value *data, char **out, struct ar_error *err);

/* ---- values from JSON --------------------------------------------------------------------- */

/* Builds Data from JSON text: an Alertmanager webhook payload (object with "alerts") or a
 * list of alerts (objects with labels, annotations, startsAt, endsAt, generatorURL,
 * status, fingerprint). For a list, receiver/external URL come from the arguments and
 * common labels/annotations are computed. */
int tmpl_data_from_json(const char *json, size_t len, const char *receiver,
                        const char *external_url, struct tmpl_value **out, struct ar_error *err);

/* ---- command line ------------------------------------------------------------------------- */

/* `alertrouter template render|check ...` (argv[0] is "template"). Returns the exit status. */
int tmpl_cli_main(int argc, char **argv);

/* ---- internals shared by src/tmpl_*.c (not for other modules) ----------------------------- */
#ifdef AR_TMPL_INTERNAL

/* Lexer (tmpl_lex.c): the whole source becomes an array of tokens; text tokens are already
 * trimmed by `{{-` / `-}}` markers and comments are dropped. */
enum tmpl_tok {
    TK_EOF,
    TK_TEXT,
    TK_LDELIM,
    TK_RDELIM,
    TK_SPACE,
    TK_FIELD, /* ".Name" */
    TK_VAR,   /* "$" or "$name" */
    TK_IDENT,
    TK_DOT,
    TK_STRING, /* "..." with quotes */
    TK_RAWSTR, /* `...` with quotes */
    TK_CHAR,   /* 'x' with quotes */
    TK_NUMBER,
    TK_BOOL,
    TK_NIL,
    TK_PIPE,
    TK_LPAREN,
    TK_RPAREN,
    TK_DECLARE, /* := */
    TK_ASSIGN,  /* = */
    TK_COMMA,
    TK_IF,
    TK_ELSE,
    TK_END,
    TK_RANGE,
    TK_WITH,
    TK_DEFINE,
    TK_TEMPLATE,
    TK_BLOCK,
    TK_BREAK,
    TK_CONTINUE,
};

struct tmpl_token {
    enum tmpl_tok type;
    uint32_t pos; /* byte offset in the source */
    uint32_t len;
};

/* Tokenises src. On error returns AR_EINVAL with *err_pos and msg set. *toks is a new
 * array (free()). */
int tmpl_lex(const char *src, size_t len, struct tmpl_token **toks, size_t *ntoks, size_t *err_pos,
             char *msg, size_t msgsz);
/* Line (1-based) and column (1-based, bytes) of offset pos in src. */
void tmpl_line_col(const char *src, size_t pos, int *line, int *col);

/* Go type name of a value, for messages ("template.KV", "[]string", "int", ...). */
const char *tmpl_type_name(const struct tmpl_value *v);
/* Field names of a struct kind (NULL-terminated) and their JSON names. */
const char *const *tmpl_struct_fields(enum tmpl_kind kind);
const char *const *tmpl_struct_json_names(enum tmpl_kind kind);
/* Go truthiness: false, 0, nil, empty string/list/map are false. */
bool tmpl_truth(const struct tmpl_value *v);
/* Appends Go's %v rendering of v (fmt.Sprint of one operand). */
int tmpl_fmt_value(struct buf *b, const struct tmpl_value *v, enum tmpl_kv_style kv);
/* fmt.Sprintf with Go verbs; args borrowed. */
int tmpl_fmt_printf(struct buf *b, const char *fmt, size_t fmt_len, struct tmpl_value **args,
                    size_t nargs, enum tmpl_kv_style kv);
/* fmt.Sprint / fmt.Sprintln semantics over args. */
int tmpl_fmt_print(struct buf *b, struct tmpl_value **args, size_t nargs, bool ln,
                   enum tmpl_kv_style kv);
/* Go shortest float formatting for %v ('g', shortest, exponent when exp < -4 || exp >= 21
 * when json is true, else Go fmt rules). */
void tmpl_fmt_float(char *out, size_t outsz, double f, bool json);
/* JSON encoding as Go's encoding/json (HTML-escaped strings). */
int tmpl_json_encode(struct buf *b, const struct tmpl_value *v);
/* Go time layout formatting (time.Format) of a time value (ar/gotime.h). */
int tmpl_time_format(struct buf *b, const struct tmpl_value *t, const char *layout);
/* Go time.Duration String(). */
void tmpl_duration_string(char *out, size_t outsz, int64_t ns);

/* Comparison for eq/lt: *res = -1/0/1; AR_EINVAL with msg for incompatible types. */
int tmpl_compare(const struct tmpl_value *a, const struct tmpl_value *b, bool ordered, int *res,
                 char *msg, size_t msgsz);

/* Parse tree (tmpl_parse.c), allocated in an arena owned by the parsed source unit. */
enum tmpl_node_type {
    TN_TEXT,
    TN_ACTION,
    TN_IF,
    TN_RANGE,
    TN_WITH,
    TN_TEMPLATE,
    TN_BREAK,
    TN_CONTINUE,
    /* operands */
    TN_FIELD, /* .A.B: idents */
    TN_VAR,   /* $x.A.B: idents[0] is "$x" */
    TN_CHAIN, /* (pipe).A.B or other term with fields: sub + idents */
    TN_IDENT, /* function name */
    TN_DOT,
    TN_NIL,
    TN_BOOL,
    TN_NUMBER,
    TN_STRING,
    TN_PIPE, /* parenthesised pipeline */
};

struct tmpl_pipe;
struct tmpl_func;

struct tmpl_node {
    enum tmpl_node_type type;
    uint32_t pos;           /* byte offset in the unit's source (Go's node position) */
    uint32_t spos;          /* start of the source text quoted in messages */
    uint32_t len;           /* source span, for "at <...>" in messages */
    struct tmpl_node *next; /* next node of a list */
    union {
        struct {
            const char *s;
            size_t len;
        } text;                 /* TN_TEXT */
        struct tmpl_pipe *pipe; /* TN_ACTION, TN_PIPE */
        struct {
            struct tmpl_pipe *pipe;
            struct tmpl_node *list;
            struct tmpl_node *else_list;
        } br; /* TN_IF, TN_RANGE, TN_WITH */
        struct {
            const char *name;
            struct tmpl_pipe *pipe; /* may be NULL */
        } call;                     /* TN_TEMPLATE */
        struct {
            const char **idents;
            size_t n;
            struct tmpl_node *sub;  /* TN_CHAIN only */
        } field;                    /* TN_FIELD, TN_VAR, TN_CHAIN */
        const struct tmpl_func *fn; /* TN_IDENT */
        bool b;
        struct tmpl_value *num; /* TN_NUMBER: immortal constant owned by the unit */
        struct tmpl_value *str; /* TN_STRING: immortal constant owned by the unit */
    } u;
};

struct tmpl_cmd {
    uint32_t pos;
    uint32_t len;
    struct tmpl_node **args;
    size_t nargs;
};

struct tmpl_pipe {
    uint32_t pos;
    uint32_t len;
    bool is_assign; /* "=" rather than ":=" */
    size_t ndecl;
    const char *decl[2];
    struct tmpl_cmd **cmds;
    size_t ncmds;
};

struct tmpl_exec;
typedef int (*tmpl_func_fn)(struct tmpl_exec *ex, struct tmpl_value **args, size_t nargs,
                            struct tmpl_value **res);

struct tmpl_func {
    const char *name;
    tmpl_func_fn fn; /* NULL for and/or (evaluated lazily by the executor) */
    int min_args;
    int max_args; /* -1: variadic */
};

/* Function table lookup (tmpl_funcs.c). */
const struct tmpl_func *tmpl_func_find(const char *name, size_t len);

/* Source unit: one parsed text with its tree arena. */
struct tmpl_unit {
    struct tmpl_unit *next;
    char *name;
    char *src;
    size_t len;
    void *arena;
    struct tmpl_value **consts; /* constants to free with the unit */
    size_t nconsts;
    size_t cconsts;
};

struct tmpl_def {
    char *name;
    struct tmpl_node *root;
    struct tmpl_unit *unit;
};

struct tmpl_set {
    struct tmpl_def *defs; /* sorted by name */
    size_t ndefs;
    size_t cdefs;
    struct tmpl_unit *units;
    const struct tmpl_set *parent; /* overlay for anonymous templates */
    size_t max_output;
    unsigned max_depth;
    uint64_t max_steps;
    enum tmpl_kv_style kv;
};

const struct tmpl_def *tmpl_set_find(const struct tmpl_set *set, const char *name);

/* Execution state (tmpl_exec.c), visible to functions. */
struct tmpl_exec {
    const struct tmpl_set *set;
    enum tmpl_mode mode;
    struct buf *out;
    struct ar_error *err;
    const struct tmpl_def *def; /* template being executed, for messages */
    uint32_t at_pos;            /* location of the node being evaluated (messages) */
    uint32_t at_spos;           /* start and length of its source text */
    uint32_t at_len;
    const struct tmpl_node *at_tmpl; /* set when that node is a {{template}} call */
    struct tmpl_value *root_data;    /* top-level dot, for routeLabels */
    struct tmpl_exec_var *vars;
    size_t nvars;
    size_t cvars;
    unsigned depth;
    uint64_t steps;
    int loop_ctl;          /* 0, 1 = break, 2 = continue */
    size_t out_start;      /* out->len when execution began (output limit) */
    struct tmpl_html_ctx { /* contextual escaper state, HTML mode (tmpl_exec.c) */
        int state;         /* enum in tmpl_exec.c */
        int attr;          /* attribute value type: 0 plain, 1 URL, 2 JS, 3 CSS */
        char delim;        /* '"', '\'' or ' ' (unquoted) */
        int url_part;      /* 0 start, 1 before query, 2 query or fragment */
        int elem;          /* element of the open tag: 0, 1 RCDATA, 2 script, 3 style */
        int raw_elem;      /* element whose raw text we are in */
        char tag[16];      /* lower-cased tag name being read */
        size_t tag_len;
        char attr_name[24]; /* lower-cased attribute name being read */
        size_t attr_len;
    } html;
};

struct tmpl_exec_var {
    const char *name;
    struct tmpl_value *val;
};

/* Reports an execution error located at ex->node; returns AR_EINVAL. */
int tmpl_exec_errorf(struct tmpl_exec *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* AR_TMPL_INTERNAL */

#endif

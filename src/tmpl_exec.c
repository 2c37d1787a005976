/* Template executor: walks parse trees (tmpl_parse.c) with Go text/template semantics —
 * dot, variables scoped to control structures, field and map access (missingkey=zero),
 * methods of the Alertmanager data types, pipelines passing the previous value as the final
 * argument, if/with/range/else, break/continue, template calls — and writes to a bounded
 * buffer. In HTML mode a small HTML tokenizer follows the literal template text as it is
 * written (element text, tags, attribute values by type, comments, RCDATA and raw text
 * elements) and each action's output is escaped for the context it lands in, as Go's
 * html/template does for the contexts e-mail templates use; HTML comments in template text
 * are dropped. Errors never abort: they return AR_EINVAL/AR_ELIMIT with a located message.
 * Values produced during execution are refcounted and released as soon as they are used. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const *tmpl_data_extra_fields(void);

enum { LOOP_NONE, LOOP_BREAK, LOOP_CONTINUE };

enum hstate {
    H_TEXT,
    H_TAG_NAME,
    H_TAG,
    H_ATTR_NAME,
    H_AFTER_NAME,
    H_BEFORE_VALUE,
    H_ATTR_VALUE,
    H_CMT,
    H_RCDATA,
    H_RAWTEXT,
    H_CLOSE_TAG,
};

enum { ATTR_PLAIN, ATTR_URL, ATTR_JS, ATTR_CSS };
enum { ELEM_NONE, ELEM_RCDATA, ELEM_SCRIPT, ELEM_STYLE };

/* ---- errors ------------------------------------------------------------------------------- */

static void at_node(struct tmpl_exec *ex, const struct tmpl_node *n)
{
    ex->at_pos = n->pos;
    ex->at_spos = n->spos;
    ex->at_len = n->len;
    ex->at_tmpl = n->type == TN_TEMPLATE ? n : NULL;
}

static void at_cmd(struct tmpl_exec *ex, const struct tmpl_cmd *c)
{
    ex->at_pos = c->pos;
    ex->at_spos = c->pos;
    ex->at_len = c->len;
    ex->at_tmpl = NULL;
}

/* COMPAT: Go's format, "template: <file>:<line>:<col>: executing \"<name>\" at <<node>>: ...",
 * with a 0-based byte column as Go prints it. */
int tmpl_exec_errorf(struct tmpl_exec *ex, const char *fmt, ...)
{
    char msg[600];
    char ctx[160];
    va_list ap;
    int line = 0;
    int col = 0;
    const char *uname = "";
    const char *tname = ex->def ? ex->def->name : "";

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx[0] = '\0';
    if (ex->def != NULL && ex->def->unit != NULL) {
        const struct tmpl_unit *u = ex->def->unit;

        if (ex->at_pos <= u->len) {
            tmpl_line_col(u->src, ex->at_pos, &line, &col);
            col--;
        }
        uname = u->name;
        if (ex->at_tmpl != NULL) {
            const struct tmpl_pipe *pp = ex->at_tmpl->u.call.pipe;

            if (pp != NULL && pp->pos + pp->len <= u->len) {
                snprintf(ctx, sizeof(ctx), "{{template \"%s\" %.*s}}", ex->at_tmpl->u.call.name,
                         (int)pp->len, u->src + pp->pos);
            } else {
                snprintf(ctx, sizeof(ctx), "{{template \"%s\"}}", ex->at_tmpl->u.call.name);
            }
        } else if ((size_t)ex->at_spos + ex->at_len <= u->len) {
            snprintf(ctx, sizeof(ctx), "%.*s", (int)(ex->at_len > 120 ? 120 : ex->at_len),
                     u->src + ex->at_spos);
        }
    }
    ar_error_set(ex->err, "template: %s:%d:%d: executing \"%s\" at <%s>: %s", uname, line, col,
                 tname, ctx, msg);
    return AR_EINVAL;
}

static int limit_error(struct tmpl_exec *ex, const char *what)
{
    tmpl_exec_errorf(ex, "%s", what);
    return AR_ELIMIT;
}

/* ---- output --------------------------------------------------------------------------------- */

static int out_append(struct tmpl_exec *ex, const char *s, size_t n)
{
    if (ex->out->len - ex->out_start + n > ex->set->max_output) {
        return limit_error(ex, "output size limit exceeded");
    }
    if (buf_append(ex->out, s, n) != AR_OK) {
        return limit_error(ex, "output size limit exceeded");
    }
    return AR_OK;
}

static bool starts_ci(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);

    return n >= k && strncasecmp(s, p, k) == 0;
}

static int attr_type_of(const char *name)
{
    static const char *const urls[] = {"action",   "archive",  "background", "cite",    "classid",
                                       "codebase", "data",     "formaction", "href",    "icon",
                                       "longdesc", "manifest", "poster",     "profile", "src",
                                       "usemap",   "xmlns",    NULL};
    size_t i;

    if (strncmp(name, "data-", 5) == 0) {
        name += 5;
    } else if (strncmp(name, "xmlns:", 6) == 0) {
        return ATTR_URL;
    }
    if (strncmp(name, "on", 2) == 0) {
        return ATTR_JS;
    }
    if (strcmp(name, "style") == 0) {
        return ATTR_CSS;
    }
    for (i = 0; urls[i] != NULL; i++) {
        if (strcmp(name, urls[i]) == 0) {
            return ATTR_URL;
        }
    }
    if (strstr(name, "src") != NULL || strstr(name, "uri") != NULL || strstr(name, "url") != NULL) {
        return ATTR_URL;
    }
    return ATTR_PLAIN;
}

static void end_start_tag(struct tmpl_html_ctx *h)
{
    h->tag[h->tag_len < sizeof(h->tag) ? h->tag_len : sizeof(h->tag) - 1] = '\0';
    if (strcmp(h->tag, "title") == 0 || strcmp(h->tag, "textarea") == 0) {
        h->state = H_RCDATA;
        h->raw_elem = ELEM_RCDATA;
    } else if (strcmp(h->tag, "script") == 0) {
        h->state = H_RAWTEXT;
        h->raw_elem = ELEM_SCRIPT;
    } else if (strcmp(h->tag, "style") == 0) {
        h->state = H_RAWTEXT;
        h->raw_elem = ELEM_STYLE;
    } else {
        h->state = H_TEXT;
        h->raw_elem = ELEM_NONE;
    }
}

static void begin_attr_value(struct tmpl_html_ctx *h, char delim)
{
    h->attr_name[h->attr_len < sizeof(h->attr_name) ? h->attr_len : sizeof(h->attr_name) - 1] =
        '\0';
    h->state = H_ATTR_VALUE;
    h->delim = delim;
    h->attr = attr_type_of(h->attr_name);
    h->url_part = 0;
}

/* Writes literal template text, following the HTML context (HTML mode). */
static int write_html_text(struct tmpl_exec *ex, const char *s, size_t n)
{
    struct tmpl_html_ctx *h = &ex->html;
    size_t i = 0;
    size_t written = 0;
    int rc = AR_OK;

#define FLUSH_TO(k)                                                                                \
    do {                                                                                           \
        if ((k) > written) {                                                                       \
            rc = out_append(ex, s + written, (k)-written);                                         \
            if (rc != AR_OK) {                                                                     \
                return rc;                                                                         \
            }                                                                                      \
        }                                                                                          \
        written = (k);                                                                             \
    } while (0)

    while (i < n) {
        char c = s[i];

        switch (h->state) {
        case H_TEXT:
        case H_RCDATA:
            if (c == '<') {
                if (h->state == H_TEXT && i + 1 < n && isalpha((unsigned char)s[i + 1])) {
                    h->state = H_TAG_NAME;
                    h->tag_len = 0;
                    i++;
                    continue;
                }
                if (i + 2 < n && s[i + 1] == '/' && isalpha((unsigned char)s[i + 2])) {
                    if (h->state == H_TEXT || (h->raw_elem == ELEM_RCDATA &&
                                               (starts_ci(s + i + 2, n - i - 2, "title") ||
                                                starts_ci(s + i + 2, n - i - 2, "textarea")))) {
                        h->state = H_CLOSE_TAG;
                        i++;
                        continue;
                    }
                }
                if (h->state == H_TEXT && n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
                    FLUSH_TO(i);
                    h->state = H_CMT;
                    i += 4;
                    written = i;
                    continue;
                }
                if (h->state == H_TEXT && starts_ci(s + i, n - i, "<!doctype")) {
                    i++;
                    continue;
                }
                FLUSH_TO(i);
                rc = out_append(ex, "&lt;", 4);
                if (rc != AR_OK) {
                    return rc;
                }
                i++;
                written = i;
                continue;
            }
            i++;
            continue;
        case H_CMT:
            if (n - i >= 3 && memcmp(s + i, "-->", 3) == 0) {
                h->state = H_TEXT;
                i += 3;
                written = i;
                continue;
            }
            i++;
            written = i;
            continue;
        case H_RAWTEXT:
            if (c == '<' && i + 1 < n && s[i + 1] == '/' &&
                starts_ci(s + i + 2, n - i - 2, h->raw_elem == ELEM_SCRIPT ? "script" : "style")) {
                h->state = H_CLOSE_TAG;
            }
            i++;
            continue;
        case H_CLOSE_TAG:
            if (c == '>') {
                h->state = H_TEXT;
                h->raw_elem = ELEM_NONE;
            }
            i++;
            continue;
        case H_TAG_NAME:
            if (isspace((unsigned char)c) || c == '/') {
                h->state = H_TAG;
            } else if (c == '>') {
                end_start_tag(h);
            } else if (h->tag_len < sizeof(h->tag) - 1) {
                h->tag[h->tag_len++] = (char)tolower((unsigned char)c);
            }
            i++;
            continue;
        case H_TAG:
            if (c == '>') {
                end_start_tag(h);
            } else if (!isspace((unsigned char)c) && c != '/') {
                h->state = H_ATTR_NAME;
                h->attr_len = 0;
                continue; /* re-read as part of the name */
            }
            i++;
            continue;
        case H_ATTR_NAME:
            if (c == '=') {
                h->state = H_BEFORE_VALUE;
            } else if (isspace((unsigned char)c)) {
                h->state = H_AFTER_NAME;
            } else if (c == '>') {
                end_start_tag(h);
            } else if (c == '/') {
                h->state = H_TAG;
            } else if (h->attr_len < sizeof(h->attr_name) - 1) {
                h->attr_name[h->attr_len++] = (char)tolower((unsigned char)c);
            }
            i++;
            continue;
        case H_AFTER_NAME:
            if (c == '=') {
                h->state = H_BEFORE_VALUE;
            } else if (c == '>') {
                end_start_tag(h);
            } else if (!isspace((unsigned char)c)) {
                h->state = H_ATTR_NAME;
                h->attr_len = 0;
                continue;
            }
            i++;
            continue;
        case H_BEFORE_VALUE:
            if (c == '"' || c == '\'') {
                begin_attr_value(h, c);
            } else if (c == '>') {
                end_start_tag(h);
            } else if (!isspace((unsigned char)c)) {
                begin_attr_value(h, ' ');
                continue;
            }
            i++;
            continue;
        case H_ATTR_VALUE:
            if ((h->delim == ' ' && isspace((unsigned char)c)) || c == h->delim) {
                h->state = H_TAG;
            } else if (h->delim == ' ' && c == '>') {
                end_start_tag(h);
            } else if (h->attr == ATTR_URL) {
                if (c == '?' || c == '#') {
                    h->url_part = 2;
                } else if (h->url_part == 0 && !isspace((unsigned char)c)) {
                    h->url_part = 1;
                }
            }
            i++;
            continue;
        default:
            i++;
            continue;
        }
    }
    FLUSH_TO(n);
#undef FLUSH_TO
    return AR_OK;
}

static int write_text(struct tmpl_exec *ex, const char *s, size_t n)
{
    if (ex->mode == TMPL_HTML) {
        return write_html_text(ex, s, n);
    }
    return out_append(ex, s, n);
}

/* html/template's replacement tables; nospace adds the characters that end unquoted
 * attribute values. */
static int html_escape(struct buf *b, const char *s, size_t n, bool nospace)
{
    size_t i;
    int rc = AR_OK;

    for (i = 0; i < n && rc == AR_OK; i++) {
        const char *r = NULL;

        switch (s[i]) {
        case '\0':
            r = "\xef\xbf\xbd";
            break;
        case '"':
            r = "&#34;";
            break;
        case '&':
            r = "&amp;";
            break;
        case '\'':
            r = "&#39;";
            break;
        case '+':
            r = "&#43;";
            break;
        case '<':
            r = "&lt;";
            break;
        case '>':
            r = "&gt;";
            break;
        case '\t':
            r = nospace ? "&#9;" : NULL;
            break;
        case '\n':
            r = nospace ? "&#10;" : NULL;
            break;
        case '\v':
            r = nospace ? "&#11;" : NULL;
            break;
        case '\f':
            r = nospace ? "&#12;" : NULL;
            break;
        case '\r':
            r = nospace ? "&#13;" : NULL;
            break;
        case ' ':
            r = nospace ? "&#32;" : NULL;
            break;
        case '=':
            r = nospace ? "&#61;" : NULL;
            break;
        case '`':
            r = nospace ? "&#96;" : NULL;
            break;
        default:
            break;
        }
        rc = r ? buf_puts(b, r) : buf_putc(b, s[i]);
    }
    return rc;
}

/* URL normalizer (norm) or query escaper (!norm) of html/template. */
static int url_process(struct buf *b, const char *s, size_t n, bool norm)
{
    size_t i;
    int rc = AR_OK;

    for (i = 0; i < n && rc == AR_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = false;

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            keep = true;
        } else if (norm && strchr("!#$&*+,/:;=?@[]", c) != NULL && c != '\0') {
            keep = true;
        } else if (norm && c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2])) {
            keep = true;
        }
        rc = keep ? buf_putc(b, (char)c) : buf_printf(b, "%%%02x", c);
    }
    return rc;
}

static bool url_scheme_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == ':') {
            return (i == 4 && strncasecmp(s, "http", 4) == 0) ||
                   (i == 5 && strncasecmp(s, "https", 5) == 0) ||
                   (i == 6 && strncasecmp(s, "mailto", 6) == 0);
        }
        if (s[i] == '/' || s[i] == '?' || s[i] == '#') {
            return true;
        }
    }
    return true;
}

static bool css_value_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\0' || c == '"' || c == '\'' || c == '(' || c == ')' || c == '/' || c == ';' ||
            c == '@' || c == '[' || c == '\\' || c == ']' || c == '`' || c == '{' || c == '}' ||
            c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

static bool js_ident_part(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* COMPAT: html/template's JS value escaper: the value as (HTML-safe) JSON, padded with spaces
 * when it starts or ends like an identifier or number (" 1 ", " null "). */
static int js_value(struct buf *b, const struct tmpl_value *v, const char *s, size_t n)
{
    struct buf j;
    int rc;

    buf_init(&j, b->max);
    if (tmpl_json_encode(&j, v) != AR_OK) {
        buf_reset(&j);
        buf_puts(&j, "null");
        (void)s;
        (void)n;
    }
    if (j.len > 0 && (js_ident_part(j.data[0]) || js_ident_part(j.data[j.len - 1]))) {
        rc = buf_printf(b, " %s ", j.data);
    } else {
        rc = buf_append(b, j.data ? j.data : "", j.len);
    }
    buf_cleanup(&j);
    return rc;
}

/* Writes an action's value, escaped for the current context in HTML mode. last_fn is the
 * name of the pipeline's final function when it is "html" or "urlquery". */
static int write_value(struct tmpl_exec *ex, const struct tmpl_value *v, const char *last_fn)
{
    struct buf tmp;
    struct buf esc;
    struct tmpl_html_ctx *h = &ex->html;
    int rc;

    buf_init(&tmp, ex->set->max_output);
    if (ex->mode != TMPL_HTML) {
        if (v == NULL || v->type == TMPL_NIL) {
            rc = out_append(ex, "<no value>", 10);
        } else if (v->type == TMPL_STRING) {
            rc = out_append(ex, v->u.s.p, v->u.s.len);
        } else {
            rc = tmpl_fmt_value(&tmp, v, ex->set->kv);
            rc = rc ? limit_error(ex, "output size limit exceeded")
                    : out_append(ex, tmp.data ? tmp.data : "", tmp.len);
        }
        buf_cleanup(&tmp);
        return rc;
    }
    if (v != NULL && v->type != TMPL_NIL) {
        rc = tmpl_fmt_value(&tmp, v, ex->set->kv);
        if (rc != AR_OK) {
            buf_cleanup(&tmp);
            return limit_error(ex, "output size limit exceeded");
        }
    }
    buf_init(&esc, ex->set->max_output);
    /* COMPAT: like html/template's nudge, an action right after "name=" starts an unquoted
     * attribute value. */
    if (h->state == H_BEFORE_VALUE) {
        begin_attr_value(h, ' ');
    }
    {
        const char *s = tmp.data ? tmp.data : "";
        size_t n = tmp.len;
        bool safe_html = v != NULL && v->kind == TMPL_K_SAFE_HTML;
        bool pre_html = last_fn != NULL && strcmp(last_fn, "html") == 0;
        bool pre_url = last_fn != NULL && strcmp(last_fn, "urlquery") == 0;

        switch (h->state) {
        case H_TEXT:
            rc = (safe_html || pre_html) ? buf_append(&esc, s, n) : html_escape(&esc, s, n, false);
            break;
        case H_RCDATA:
            rc = pre_html ? buf_append(&esc, s, n) : html_escape(&esc, s, n, false);
            break;
        case H_CMT:
            rc = AR_OK;
            break;
        case H_RAWTEXT:
            if (h->raw_elem == ELEM_SCRIPT) {
                rc = js_value(&esc, v, s, n);
            } else {
                rc = css_value_ok(s, n) ? buf_append(&esc, s, n) : buf_puts(&esc, "ZgotmplZ");
            }
            break;
        case H_ATTR_VALUE: {
            struct buf stage;

            buf_init(&stage, ex->set->max_output);
            if (h->attr == ATTR_URL) {
                bool safe_url = v != NULL && v->kind == TMPL_K_SAFE_URL;

                if (pre_url) {
                    rc = buf_append(&stage, s, n);
                } else if (h->url_part == 0 && !safe_url && !url_scheme_ok(s, n)) {
                    rc = buf_puts(&stage, "#ZgotmplZ");
                } else {
                    rc = url_process(&stage, s, n, h->url_part < 2);
                }
            } else if (h->attr == ATTR_JS) {
                rc = js_value(&stage, v, s, n);
            } else if (h->attr == ATTR_CSS) {
                rc = css_value_ok(s, n) ? buf_append(&stage, s, n) : buf_puts(&stage, "ZgotmplZ");
            } else if (safe_html) {
                /* COMPAT: trusted HTML in an attribute keeps only its text, not its tags */
                size_t i = 0;

                rc = AR_OK;
                while (i < n && rc == AR_OK) {
                    if (s[i] == '<' && i + 1 < n &&
                        (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/' || s[i + 1] == '!')) {
                        const char *gt = memchr(s + i, '>', n - i);

                        i = gt ? (size_t)(gt - s) + 1 : n;
                        continue;
                    }
                    rc = buf_putc(&stage, s[i++]);
                }
            } else {
                rc = buf_append(&stage, s, n);
            }
            if (rc == AR_OK) {
                if (pre_html && h->attr == ATTR_PLAIN) {
                    rc = buf_append(&esc, stage.data ? stage.data : "", stage.len);
                } else {
                    rc =
                        html_escape(&esc, stage.data ? stage.data : "", stage.len, h->delim == ' ');
                }
            }
            buf_cleanup(&stage);
            break;
        }
        default: {
            /* Inside a tag, where an attribute name would go. */
            size_t i;
            bool ok = n > 0;

            for (i = 0; i < n; i++) {
                if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
                    ok = false;
                }
            }
            rc = ok ? buf_append(&esc, s, n) : buf_puts(&esc, "ZgotmplZ");
            break;
        }
        }
    }
    if (rc != AR_OK) {
        rc = limit_error(ex, "output size limit exceeded");
    } else {
        rc = out_append(ex, esc.data ? esc.data : "", esc.len);
    }
    buf_cleanup(&esc);
    buf_cleanup(&tmp);
    return rc;
}

/* ---- variables ------------------------------------------------------------------------------ */

static void var_push(struct tmpl_exec *ex, const char *name, struct tmpl_value *v)
{
    if (ex->nvars == ex->cvars) {
        ex->cvars = ex->cvars ? ex->cvars * 2 : 16;
        ex->vars = ar_realloc(ex->vars, ex->cvars * sizeof(*ex->vars));
    }
    ex->vars[ex->nvars].name = name;
    ex->vars[ex->nvars].val = tmpl_value_ref(v);
    ex->nvars++;
}

static void var_pop(struct tmpl_exec *ex, size_t mark)
{
    while (ex->nvars > mark) {
        ex->nvars--;
        tmpl_value_unref(ex->vars[ex->nvars].val);
    }
}

static struct tmpl_exec_var *var_find(struct tmpl_exec *ex, const char *name)
{
    size_t i;

    for (i = ex->nvars; i > 0; i--) {
        if (strcmp(ex->vars[i - 1].name, name) == 0) {
            return &ex->vars[i - 1];
        }
    }
    return NULL;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

static int eval_pipeline(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_pipe *p,
                         struct tmpl_value **res);
static int eval_arg(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n,
                    struct tmpl_value **res);
static int walk(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *list);

static int step(struct tmpl_exec *ex)
{
    if (++ex->steps > ex->set->max_steps) {
        return limit_error(ex, "execution step limit exceeded");
    }
    return AR_OK;
}

static struct tmpl_value *kv_sorted_pairs(const struct tmpl_value *kv)
{
    struct tmpl_value *pairs = tmpl_list_new(TMPL_K_PAIRS);
    const struct tmpl_value *an = tmpl_map_find(kv, "alertname");
    size_t i;

    /* COMPAT: sorted by name, but alertname always first. */
    for (i = 0; i < kv->u.map.n + 1; i++) {
        const char *k;
        struct tmpl_value *val;
        struct tmpl_value *pair;

        if (i == 0) {
            if (an == NULL) {
                continue;
            }
            k = "alertname";
            val = (struct tmpl_value *)an;
        } else {
            k = kv->u.map.keys[i - 1];
            val = kv->u.map.vals[i - 1];
            if (an != NULL && strcmp(k, "alertname") == 0) {
                continue;
            }
        }
        pair = ar_calloc(1, sizeof(*pair));
        pair->refs = 1;
        pair->type = TMPL_STRUCT;
        pair->kind = TMPL_K_PAIR;
        pair->u.st.n = 2;
        pair->u.st.vals = ar_calloc(2, sizeof(*pair->u.st.vals));
        pair->u.st.vals[0] = tmpl_string(k);
        pair->u.st.vals[1] = tmpl_value_ref(val);
        tmpl_list_push_take(pairs, pair);
    }
    return pairs;
}

static struct tmpl_value *pairs_column(const struct tmpl_value *pairs, size_t col)
{
    struct tmpl_value *out = tmpl_list_new(TMPL_K_STRINGS);
    size_t i;

    for (i = 0; i < pairs->u.list.n; i++) {
        tmpl_list_push_take(out, tmpl_value_ref(pairs->u.list.v[i]->u.st.vals[col]));
    }
    return out;
}

static bool list_has_string(const struct tmpl_value *list, const char *s)
{
    size_t i;

    for (i = 0; i < list->u.list.n; i++) {
        const struct tmpl_value *e = list->u.list.v[i];

        if (e->type == TMPL_STRING && strcmp(e->u.s.p, s) == 0) {
            return true;
        }
    }
    return false;
}

static int want_args(struct tmpl_exec *ex, const char *name, size_t got, size_t want)
{
    if (got != want) {
        return tmpl_exec_errorf(ex, "wrong number of args for %s: want %zu got %zu", name, want,
                                got);
    }
    return AR_OK;
}

/* Calls method `name` of receiver; *found = false when the type has no such method. */
static int call_method(struct tmpl_exec *ex, struct tmpl_value *recv, const char *name,
                       struct tmpl_value **args, size_t nargs, struct tmpl_value **res, bool *found)
{
    *found = true;
    if (recv->type == TMPL_LIST && recv->kind == TMPL_K_ALERTS &&
        (strcmp(name, "Firing") == 0 || strcmp(name, "Resolved") == 0)) {
        struct tmpl_value *out;
        const char *want = name[0] == 'F' ? "firing" : "resolved";
        size_t i;

        if (want_args(ex, name, nargs, 0) != AR_OK) {
            return AR_EINVAL;
        }
        out = tmpl_list_new(TMPL_K_ALERT_SLICE);
        for (i = 0; i < recv->u.list.n; i++) {
            struct tmpl_value *a = recv->u.list.v[i];

            if (a->type == TMPL_STRUCT && a->u.st.n > 0 && a->u.st.vals[0]->type == TMPL_STRING &&
                strcmp(a->u.st.vals[0]->u.s.p, want) == 0) {
                tmpl_list_push_take(out, tmpl_value_ref(a));
            }
        }
        *res = out;
        return AR_OK;
    }
    if (recv->type == TMPL_MAP && recv->kind == TMPL_K_KV) {
        if (strcmp(name, "SortedPairs") == 0 || strcmp(name, "Names") == 0 ||
            strcmp(name, "Values") == 0) {
            struct tmpl_value *pairs;

            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            pairs = kv_sorted_pairs(recv);
            if (name[0] == 'S') {
                *res = pairs;
            } else {
                *res = pairs_column(pairs, name[0] == 'N' ? 0 : 1);
                tmpl_value_unref(pairs);
            }
            return AR_OK;
        }
        if (strcmp(name, "Remove") == 0) {
            struct tmpl_value *out;
            size_t i;

            if (want_args(ex, name, nargs, 1) != AR_OK) {
                return AR_EINVAL;
            }
            if (args[0]->type != TMPL_LIST) {
                return tmpl_exec_errorf(ex, "wrong type for value; expected []string; got %s",
                                        tmpl_type_name(args[0]));
            }
            out = tmpl_map_new(TMPL_K_KV);
            for (i = 0; i < recv->u.map.n; i++) {
                if (!list_has_string(args[0], recv->u.map.keys[i])) {
                    tmpl_map_set_take(out, recv->u.map.keys[i],
                                      tmpl_value_ref(recv->u.map.vals[i]));
                }
            }
            *res = out;
            return AR_OK;
        }
    }
    if (recv->type == TMPL_LIST && recv->kind == TMPL_K_PAIRS &&
        (strcmp(name, "Names") == 0 || strcmp(name, "Values") == 0)) {
        if (want_args(ex, name, nargs, 0) != AR_OK) {
            return AR_EINVAL;
        }
        *res = pairs_column(recv, name[0] == 'N' ? 0 : 1);
        return AR_OK;
    }
    if (recv->type == TMPL_LIST && recv->kind == TMPL_K_STRINGS && strcmp(name, "Join") == 0) {
        struct buf b;
        size_t i;

        if (want_args(ex, name, nargs, 1) != AR_OK) {
            return AR_EINVAL;
        }
        if (args[0]->type != TMPL_STRING) {
            return tmpl_exec_errorf(ex, "wrong type for value; expected string; got %s",
                                    tmpl_type_name(args[0]));
        }
        buf_init(&b, ex->set->max_output);
        for (i = 0; i < recv->u.list.n; i++) {
            if ((i > 0 && buf_append(&b, args[0]->u.s.p, args[0]->u.s.len) != AR_OK) ||
                tmpl_fmt_value(&b, recv->u.list.v[i], ex->set->kv) != AR_OK) {
                buf_cleanup(&b);
                return limit_error(ex, "output size limit exceeded");
            }
        }
        *res = tmpl_string_n(buf_str(&b), b.len);
        buf_cleanup(&b);
        return AR_OK;
    }
    if (recv->type == TMPL_TIME) {
        if (strcmp(name, "Format") == 0) {
            struct buf b;

            if (want_args(ex, name, nargs, 1) != AR_OK) {
                return AR_EINVAL;
            }
            if (args[0]->type != TMPL_STRING) {
                return tmpl_exec_errorf(ex, "wrong type for value; expected string; got %s",
                                        tmpl_type_name(args[0]));
            }
            buf_init(&b, ex->set->max_output);
            if (tmpl_time_format(&b, recv, args[0]->u.s.p) != AR_OK) {
                buf_cleanup(&b);
                return limit_error(ex, "output size limit exceeded");
            }
            *res = tmpl_string_n(buf_str(&b), b.len);
            buf_cleanup(&b);
            return AR_OK;
        }
        if (strcmp(name, "Unix") == 0 || strcmp(name, "UnixMilli") == 0 ||
            strcmp(name, "UnixNano") == 0) {
            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            if (name[4] == '\0') {
                *res = tmpl_int(recv->u.t.sec);
            } else if (name[4] == 'M') {
                *res = tmpl_int(recv->u.t.sec * 1000 + recv->u.t.nsec / 1000000);
            } else {
                *res = tmpl_int(recv->u.t.sec * 1000000000LL + recv->u.t.nsec);
            }
            return AR_OK;
        }
        if (strcmp(name, "UTC") == 0) {
            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            *res = tmpl_time(recv->u.t.sec, recv->u.t.nsec);
            return AR_OK;
        }
        if (strcmp(name, "IsZero") == 0) {
            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            *res = tmpl_bool(recv->u.t.sec == TMPL_ZERO_TIME_SEC && recv->u.t.nsec == 0);
            return AR_OK;
        }
        if (strcmp(name, "String") == 0) {
            struct buf b;

            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            buf_init(&b, 0);
            tmpl_fmt_value(&b, recv, ex->set->kv);
            *res = tmpl_string_n(buf_str(&b), b.len);
            buf_cleanup(&b);
            return AR_OK;
        }
    }
    if (recv->type == TMPL_DURATION) {
        double ns = (double)recv->u.dur_ns;

        if (strcmp(name, "Seconds") == 0 || strcmp(name, "Minutes") == 0 ||
            strcmp(name, "Hours") == 0) {
            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            *res = tmpl_float(name[0] == 'S' ? ns / 1e9 : name[0] == 'M' ? ns / 6e10 : ns / 3.6e12);
            return AR_OK;
        }
        if (strcmp(name, "Milliseconds") == 0) {
            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            *res = tmpl_int(recv->u.dur_ns / 1000000);
            return AR_OK;
        }
        if (strcmp(name, "String") == 0) {
            char tmp[64];

            if (want_args(ex, name, nargs, 0) != AR_OK) {
                return AR_EINVAL;
            }
            tmpl_duration_string(tmp, sizeof(tmp), recv->u.dur_ns);
            *res = tmpl_string(tmp);
            return AR_OK;
        }
    }
    *found = false;
    return AR_OK;
}

/* Whether call_method knows `name` for this receiver. */
static bool has_method(const struct tmpl_value *recv, const char *name)
{
    static const char *const kv[] = {"SortedPairs", "Names", "Values", "Remove", NULL};
    static const char *const pairs[] = {"Names", "Values", NULL};
    static const char *const alerts[] = {"Firing", "Resolved", NULL};
    static const char *const strs[] = {"Join", NULL};
    static const char *const tm[] = {"Format", "Unix",   "UnixMilli", "UnixNano",
                                     "UTC",    "IsZero", "String",    NULL};
    static const char *const dur[] = {"Seconds",      "Minutes", "Hours",
                                      "Milliseconds", "String",  NULL};
    const char *const *list = NULL;
    size_t i;

    if (recv == NULL) {
        return false;
    }
    if (recv->type == TMPL_MAP && recv->kind == TMPL_K_KV) {
        list = kv;
    } else if (recv->type == TMPL_LIST && recv->kind == TMPL_K_PAIRS) {
        list = pairs;
    } else if (recv->type == TMPL_LIST && recv->kind == TMPL_K_ALERTS) {
        list = alerts;
    } else if (recv->type == TMPL_LIST && recv->kind == TMPL_K_STRINGS) {
        list = strs;
    } else if (recv->type == TMPL_TIME) {
        list = tm;
    } else if (recv->type == TMPL_DURATION) {
        list = dur;
    }
    for (i = 0; list != NULL && list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static int eval_field(struct tmpl_exec *ex, struct tmpl_value *dot, const char *name,
                      struct tmpl_value *recv, struct tmpl_value **args, size_t nargs,
                      struct tmpl_value **res)
{
    bool found = false;
    int rc;

    if (recv == NULL || recv->type == TMPL_NIL) {
        /* COMPAT: a field of nil is nil (prints "<no value>"), not an error. */
        if (nargs > 0) {
            return tmpl_exec_errorf(ex, "nil pointer evaluating interface {}.%s", name);
        }
        *res = tmpl_nil();
        return AR_OK;
    }
    rc = call_method(ex, recv, name, args, nargs, res, &found);
    if (rc != AR_OK || found) {
        return rc;
    }
    if (recv->type == TMPL_STRUCT) {
        const char *const *names = tmpl_struct_fields(recv->kind);
        size_t i;

        for (i = 0; names[i] != NULL; i++) {
            if (strcmp(names[i], name) == 0) {
                break;
            }
        }
        if (names[i] == NULL && recv->kind == TMPL_K_DATA) {
            const char *const *extra = tmpl_data_extra_fields();
            size_t k;

            for (k = 0; extra[k] != NULL; k++) {
                if (strcmp(extra[k], name) == 0) {
                    break;
                }
            }
            i = extra[k] != NULL ? i + k : recv->u.st.n;
        }
        if (i < recv->u.st.n) {
            if (nargs > 0) {
                return tmpl_exec_errorf(ex, "%s has arguments but cannot be invoked as function",
                                        name);
            }
            *res = tmpl_value_ref(recv->u.st.vals[i]);
            return AR_OK;
        }
        return tmpl_exec_errorf(ex, "can't evaluate field %s in type %s", name,
                                tmpl_type_name(recv));
    }
    if (recv->type == TMPL_MAP) {
        struct tmpl_value *v;

        if (nargs > 0) {
            return tmpl_exec_errorf(ex, "%s is not a method but has arguments", name);
        }
        v = tmpl_map_find(recv, name);
        if (v != NULL) {
            *res = tmpl_value_ref(v);
        } else {
            /* COMPAT: missingkey=zero; the zero value of a KV element is "". */
            *res = recv->kind == TMPL_K_KV ? tmpl_string("") : tmpl_nil();
        }
        return AR_OK;
    }
    (void)dot;
    return tmpl_exec_errorf(ex, "can't evaluate field %s in type %s", name, tmpl_type_name(recv));
}

/* Evaluates argument nodes args[0..n) into values (new references). */
static int eval_args(struct tmpl_exec *ex, struct tmpl_value *dot, struct tmpl_node *const *nodes,
                     size_t n, struct tmpl_value *final, struct tmpl_value ***out, size_t *nout)
{
    size_t total = n + (final != NULL);
    struct tmpl_value **vals = ar_calloc(total ? total : 1, sizeof(*vals));
    size_t i;

    for (i = 0; i < n; i++) {
        int rc = eval_arg(ex, dot, nodes[i], &vals[i]);

        if (rc != AR_OK) {
            size_t k;

            for (k = 0; k < i; k++) {
                tmpl_value_unref(vals[k]);
            }
            free(vals);
            return rc;
        }
    }
    if (final != NULL) {
        vals[n] = tmpl_value_ref(final);
    }
    *out = vals;
    *nout = total;
    return AR_OK;
}

static void free_args(struct tmpl_value **vals, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        tmpl_value_unref(vals[i]);
    }
    free(vals);
}

static int eval_field_chain(struct tmpl_exec *ex, struct tmpl_value *dot, struct tmpl_value *recv,
                            const struct tmpl_node *at, const char *const *idents, size_t n,
                            struct tmpl_node *const *args, size_t nargs, struct tmpl_value *final,
                            struct tmpl_value **res)
{
    struct tmpl_value *cur = tmpl_value_ref(recv);
    size_t i;
    int rc = AR_OK;

    for (i = 0; i < n; i++) {
        struct tmpl_value *next = NULL;

        if (i + 1 < n) {
            at_node(ex, at);
            rc = eval_field(ex, dot, idents[i], cur, NULL, 0, &next);
        } else {
            struct tmpl_value **vals = NULL;
            size_t nvals = 0;

            if (!has_method(cur, idents[i])) {
                /* COMPAT: a field is looked up before (and instead of) its arguments */
                at_node(ex, at);
                rc = eval_field(ex, dot, idents[i], cur, NULL, nargs + (final != NULL), &next);
            } else {
                rc = eval_args(ex, dot, args, nargs, final, &vals, &nvals);
                if (rc == AR_OK) {
                    at_node(ex, at);
                    rc = eval_field(ex, dot, idents[i], cur, vals, nvals, &next);
                    free_args(vals, nvals);
                }
            }
        }
        tmpl_value_unref(cur);
        if (rc != AR_OK) {
            return rc;
        }
        cur = next;
    }
    *res = cur;
    return AR_OK;
}

/* COMPAT: "can't give argument to non-function <node>", located at the command when the
 * node is a parenthesised pipeline. */
static int not_a_function(struct tmpl_exec *ex, const struct tmpl_node *first,
                          const struct tmpl_cmd *cmd, size_t nargs, struct tmpl_value *final)
{
    const char *src = ex->def && ex->def->unit ? ex->def->unit->src : NULL;
    uint32_t start = first->spos;
    uint32_t len = first->len;

    if (nargs == 0 && final == NULL) {
        return AR_OK;
    }
    if (first->type == TN_PIPE && len >= 2) {
        start++;
        len -= 2;
        if (cmd != NULL) {
            at_cmd(ex, cmd);
        }
    } else {
        at_node(ex, first);
    }
    if (src == NULL) {
        return tmpl_exec_errorf(ex, "can't give argument to non-function");
    }
    return tmpl_exec_errorf(ex, "can't give argument to non-function %.*s",
                            (int)(len > 80 ? 80 : len), src + start);
}

static int eval_function(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *id,
                         const struct tmpl_cmd *cmd, struct tmpl_node *const *args, size_t nargs,
                         struct tmpl_value *final, struct tmpl_value **res)
{
    const struct tmpl_func *fn = id->u.fn;
    struct tmpl_value **vals = NULL;
    size_t nvals = 0;
    int rc;
    size_t total = nargs + (final != NULL);

    if ((int)total < fn->min_args || (fn->max_args >= 0 && (int)total > fn->max_args)) {
        at_node(ex, id);
        if (fn->max_args < 0) {
            return tmpl_exec_errorf(ex, "wrong number of args for %s: want at least %d got %zu",
                                    fn->name, fn->min_args, total);
        }
        return tmpl_exec_errorf(ex, "wrong number of args for %s: want %d got %zu", fn->name,
                                fn->min_args, total);
    }
    if (fn->fn == NULL) {
        /* and / or: evaluate lazily, return the deciding operand. */
        bool is_and = fn->name[0] == 'a';
        size_t i;
        struct tmpl_value *v = NULL;

        for (i = 0; i < total; i++) {
            if (i < nargs) {
                rc = eval_arg(ex, dot, args[i], &v);
                if (rc != AR_OK) {
                    return rc;
                }
            } else {
                v = tmpl_value_ref(final);
            }
            if (i + 1 == total || tmpl_truth(v) != is_and) {
                *res = v;
                return AR_OK;
            }
            tmpl_value_unref(v);
        }
        *res = tmpl_nil();
        return AR_OK;
    }
    rc = eval_args(ex, dot, args, nargs, final, &vals, &nvals);
    if (rc != AR_OK) {
        return rc;
    }
    /* COMPAT: Go reports a failing call at its whole command */
    if (cmd != NULL) {
        at_cmd(ex, cmd);
    } else {
        at_node(ex, id);
    }
    rc = fn->fn(ex, vals, nvals, res);
    free_args(vals, nvals);
    return rc;
}

static int eval_chain(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n,
                      struct tmpl_node *const *args, size_t nargs, struct tmpl_value *final,
                      struct tmpl_value **res)
{
    struct tmpl_value *base = NULL;
    int rc = eval_arg(ex, dot, n->u.field.sub, &base);

    if (rc != AR_OK) {
        return rc;
    }
    at_node(ex, n);
    rc = eval_field_chain(ex, dot, base, n, n->u.field.idents, n->u.field.n, args, nargs, final,
                          res);
    tmpl_value_unref(base);
    return rc;
}

static int eval_variable(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n,
                         struct tmpl_node *const *args, size_t nargs, struct tmpl_value *final,
                         struct tmpl_value **res)
{
    struct tmpl_exec_var *var = var_find(ex, n->u.field.idents[0]);

    at_node(ex, n);
    if (var == NULL) {
        return tmpl_exec_errorf(ex, "undefined variable: %s", n->u.field.idents[0]);
    }
    if (n->u.field.n == 1) {
        if (not_a_function(ex, n, NULL, nargs, final) != AR_OK) {
            return AR_EINVAL;
        }
        *res = tmpl_value_ref(var->val);
        return AR_OK;
    }
    return eval_field_chain(ex, dot, var->val, n, n->u.field.idents + 1, n->u.field.n - 1, args,
                            nargs, final, res);
}

static int eval_arg(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n,
                    struct tmpl_value **res)
{
    at_node(ex, n);
    switch (n->type) {
    case TN_DOT:
        *res = tmpl_value_ref(dot);
        return AR_OK;
    case TN_NIL:
        *res = tmpl_nil();
        return AR_OK;
    case TN_FIELD:
        return eval_field_chain(ex, dot, dot, n, n->u.field.idents, n->u.field.n, NULL, 0, NULL,
                                res);
    case TN_VAR:
        return eval_variable(ex, dot, n, NULL, 0, NULL, res);
    case TN_PIPE:
        return eval_pipeline(ex, dot, n->u.pipe, res);
    case TN_IDENT:
        return eval_function(ex, dot, n, NULL, NULL, 0, NULL, res);
    case TN_CHAIN:
        return eval_chain(ex, dot, n, NULL, 0, NULL, res);
    case TN_BOOL:
        *res = tmpl_bool(n->u.b);
        return AR_OK;
    case TN_NUMBER:
        *res = n->u.num;
        return AR_OK;
    case TN_STRING:
        *res = n->u.str;
        return AR_OK;
    default:
        return tmpl_exec_errorf(ex, "can't handle node as argument");
    }
}

static int eval_command(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_cmd *cmd,
                        struct tmpl_value *final, struct tmpl_value **res)
{
    const struct tmpl_node *first = cmd->args[0];
    struct tmpl_node *const *rest = cmd->args + 1;
    size_t nrest = cmd->nargs - 1;
    int rc = step(ex);

    if (rc != AR_OK) {
        return rc;
    }
    at_node(ex, first);
    switch (first->type) {
    case TN_FIELD:
        return eval_field_chain(ex, dot, dot, first, first->u.field.idents, first->u.field.n, rest,
                                nrest, final, res);
    case TN_CHAIN:
        return eval_chain(ex, dot, first, rest, nrest, final, res);
    case TN_IDENT:
        return eval_function(ex, dot, first, cmd, rest, nrest, final, res);
    case TN_VAR:
        return eval_variable(ex, dot, first, rest, nrest, final, res);
    case TN_PIPE:
        if (not_a_function(ex, first, cmd, nrest, final) != AR_OK) {
            return AR_EINVAL;
        }
        return eval_pipeline(ex, dot, first->u.pipe, res);
    case TN_NIL:
        return tmpl_exec_errorf(ex, "nil is not a command");
    default:
        if (not_a_function(ex, first, cmd, nrest, final) != AR_OK) {
            return AR_EINVAL;
        }
        return eval_arg(ex, dot, first, res);
    }
}

static int eval_pipeline(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_pipe *p,
                         struct tmpl_value **res)
{
    struct tmpl_value *val = NULL;
    size_t i;

    if (++ex->depth > ex->set->max_depth + 100) {
        ex->depth--;
        return limit_error(ex, "expression nested too deeply");
    }
    for (i = 0; i < p->ncmds; i++) {
        struct tmpl_value *next = NULL;
        int rc = eval_command(ex, dot, p->cmds[i], val, &next);

        tmpl_value_unref(val);
        if (rc != AR_OK) {
            ex->depth--;
            return rc;
        }
        val = next;
    }
    ex->depth--;
    if (val == NULL) {
        val = tmpl_nil();
    }
    for (i = 0; i < p->ndecl; i++) {
        if (p->is_assign) {
            struct tmpl_exec_var *var = var_find(ex, p->decl[i]);

            if (var == NULL) {
                tmpl_value_unref(val);
                if (p->ncmds > 0) {
                    at_node(ex, p->cmds[p->ncmds - 1]->args[0]);
                }
                return tmpl_exec_errorf(ex, "undefined variable: %s", p->decl[i]);
            }
            tmpl_value_unref(var->val);
            var->val = tmpl_value_ref(val);
        } else {
            var_push(ex, p->decl[i], val);
        }
    }
    *res = val;
    return AR_OK;
}

static const char *last_escaper(const struct tmpl_pipe *p)
{
    const struct tmpl_cmd *c;

    if (p->ncmds == 0) {
        return NULL;
    }
    c = p->cmds[p->ncmds - 1];
    if (c->args[0]->type == TN_IDENT && (strcmp(c->args[0]->u.fn->name, "html") == 0 ||
                                         strcmp(c->args[0]->u.fn->name, "urlquery") == 0)) {
        return c->args[0]->u.fn->name;
    }
    return NULL;
}

static int exec_template(struct tmpl_exec *ex, const struct tmpl_def *def, struct tmpl_value *dot);

static int walk_range(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n)
{
    struct tmpl_value *val = NULL;
    size_t mark0 = ex->nvars;
    size_t mark;
    size_t count = 0;
    size_t i;
    int rc = eval_pipeline(ex, dot, n->u.br.pipe, &val);

    if (rc != AR_OK) {
        var_pop(ex, mark0);
        return rc;
    }
    mark = ex->nvars;
    if (val->type == TMPL_LIST || val->type == TMPL_MAP) {
        count = val->type == TMPL_LIST ? val->u.list.n : val->u.map.n;
        for (i = 0; i < count; i++) {
            struct tmpl_value *elem =
                val->type == TMPL_LIST ? val->u.list.v[i] : val->u.map.vals[i];
            struct tmpl_value *key =
                val->type == TMPL_LIST ? tmpl_int((int64_t)i) : tmpl_string(val->u.map.keys[i]);
            const struct tmpl_pipe *p = n->u.br.pipe;

            rc = step(ex);
            if (rc != AR_OK) {
                tmpl_value_unref(key);
                break;
            }
            if (p->ndecl > 0) {
                struct tmpl_value *first = p->ndecl == 2 ? key : elem;

                if (p->is_assign) {
                    struct tmpl_exec_var *v0 = var_find(ex, p->decl[0]);

                    if (v0 != NULL) {
                        tmpl_value_unref(v0->val);
                        v0->val = tmpl_value_ref(first);
                    }
                    if (p->ndecl == 2) {
                        struct tmpl_exec_var *v1 = var_find(ex, p->decl[1]);

                        if (v1 != NULL) {
                            tmpl_value_unref(v1->val);
                            v1->val = tmpl_value_ref(elem);
                        }
                    }
                } else {
                    /* the declared variables are the top ones pushed by eval_pipeline */
                    size_t top = mark - p->ndecl;

                    tmpl_value_unref(ex->vars[top].val);
                    ex->vars[top].val = tmpl_value_ref(first);
                    if (p->ndecl == 2) {
                        tmpl_value_unref(ex->vars[top + 1].val);
                        ex->vars[top + 1].val = tmpl_value_ref(elem);
                    }
                }
            }
            tmpl_value_unref(key);
            rc = walk(ex, elem, n->u.br.list);
            var_pop(ex, mark);
            if (rc != AR_OK) {
                break;
            }
            if (ex->loop_ctl == LOOP_BREAK) {
                ex->loop_ctl = LOOP_NONE;
                break;
            }
            ex->loop_ctl = LOOP_NONE;
        }
    } else if (val->type == TMPL_INT) {
        /* Go 1.22: range over an integer. */
        for (i = 0; val->u.i > 0 && i < (size_t)val->u.i; i++) {
            struct tmpl_value *iv;

            rc = step(ex);
            if (rc != AR_OK) {
                break;
            }
            iv = tmpl_int((int64_t)i);

            if (n->u.br.pipe->ndecl > 0 && !n->u.br.pipe->is_assign) {
                tmpl_value_unref(ex->vars[mark - n->u.br.pipe->ndecl].val);
                ex->vars[mark - n->u.br.pipe->ndecl].val = tmpl_value_ref(iv);
            }
            rc = walk(ex, iv, n->u.br.list);
            tmpl_value_unref(iv);
            var_pop(ex, mark);
            count++;
            if (rc != AR_OK) {
                break;
            }
            if (ex->loop_ctl == LOOP_BREAK) {
                ex->loop_ctl = LOOP_NONE;
                break;
            }
            ex->loop_ctl = LOOP_NONE;
        }
    } else if (val->type != TMPL_NIL) {
        const struct tmpl_pipe *rp = n->u.br.pipe;

        at_node(ex, rp->cmds[rp->ncmds - 1]->args[0]);
        struct buf vb;

        buf_init(&vb, 200);
        tmpl_fmt_value(&vb, val, ex->set->kv);
        rc = tmpl_exec_errorf(ex, "range can't iterate over %s", buf_str(&vb));
        buf_cleanup(&vb);
    }
    if (rc == AR_OK && count == 0 && n->u.br.else_list != NULL) {
        rc = walk(ex, dot, n->u.br.else_list);
    }
    tmpl_value_unref(val);
    var_pop(ex, mark0);
    return rc;
}

static int walk_node(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *n)
{
    struct tmpl_value *val = NULL;
    size_t mark = ex->nvars;
    int rc = step(ex);

    if (rc != AR_OK) {
        return rc;
    }
    at_node(ex, n);
    switch (n->type) {
    case TN_TEXT:
        return write_text(ex, n->u.text.s, n->u.text.len);
    case TN_ACTION:
        rc = eval_pipeline(ex, dot, n->u.pipe, &val);
        if (rc == AR_OK && n->u.pipe->ndecl == 0) {
            at_node(ex, n);
            rc = write_value(ex, val, last_escaper(n->u.pipe));
        }
        tmpl_value_unref(val);
        return rc;
    case TN_IF:
    case TN_WITH:
        rc = eval_pipeline(ex, dot, n->u.br.pipe, &val);
        if (rc == AR_OK) {
            if (tmpl_truth(val)) {
                rc = walk(ex, n->type == TN_WITH ? val : dot, n->u.br.list);
            } else if (n->u.br.else_list != NULL) {
                rc = walk(ex, dot, n->u.br.else_list);
            }
        }
        tmpl_value_unref(val);
        var_pop(ex, mark);
        return rc;
    case TN_RANGE:
        return walk_range(ex, dot, n);
    case TN_BREAK:
        ex->loop_ctl = LOOP_BREAK;
        return AR_OK;
    case TN_CONTINUE:
        ex->loop_ctl = LOOP_CONTINUE;
        return AR_OK;
    case TN_TEMPLATE: {
        const struct tmpl_def *def = tmpl_set_find(ex->set, n->u.call.name);

        if (def == NULL) {
            return tmpl_exec_errorf(ex, "template \"%s\" not defined", n->u.call.name);
        }
        if (n->u.call.pipe != NULL) {
            rc = eval_pipeline(ex, dot, n->u.call.pipe, &val);
            if (rc != AR_OK) {
                return rc;
            }
        } else {
            val = tmpl_nil();
        }
        rc = exec_template(ex, def, val);
        tmpl_value_unref(val);
        return rc;
    }
    default:
        return tmpl_exec_errorf(ex, "unknown node");
    }
}

static int walk(struct tmpl_exec *ex, struct tmpl_value *dot, const struct tmpl_node *list)
{
    for (; list != NULL; list = list->next) {
        int rc = walk_node(ex, dot, list);

        if (rc != AR_OK) {
            return rc;
        }
        if (ex->loop_ctl != LOOP_NONE) {
            return AR_OK;
        }
    }
    return AR_OK;
}

static int exec_template(struct tmpl_exec *ex, const struct tmpl_def *def, struct tmpl_value *dot)
{
    const struct tmpl_def *saved_def = ex->def;
    struct tmpl_exec_var *saved_vars = ex->vars;
    size_t saved_n = ex->nvars;
    size_t saved_c = ex->cvars;
    int rc;

    if (ex->depth >= ex->set->max_depth) {
        return limit_error(ex, "exceeded maximum template depth");
    }
    ex->depth++;
    ex->def = def;
    ex->vars = NULL;
    ex->nvars = 0;
    ex->cvars = 0;
    var_push(ex, "$", dot);
    rc = walk(ex, dot, def->root);
    var_pop(ex, 0);
    free(ex->vars);
    ex->vars = saved_vars;
    ex->nvars = saved_n;
    ex->cvars = saved_c;
    if (rc == AR_OK) {
        ex->def = saved_def;
    }
    ex->depth--;
    return rc;
}

static int execute(const struct tmpl_set *set, const struct tmpl_def *def, enum tmpl_mode mode,
                   const struct tmpl_value *data, struct buf *out, struct ar_error *err)
{
    struct tmpl_exec ex;
    int rc;

    memset(&ex, 0, sizeof(ex));
    ex.set = set;
    ex.mode = mode;
    ex.out = out;
    ex.err = err;
    ex.out_start = out->len;
    ex.root_data = (struct tmpl_value *)(data ? data : tmpl_nil());
    ex.html.state = H_TEXT;
    rc = exec_template(&ex, def, ex.root_data);
    return rc;
}

int tmpl_set_execute(const struct tmpl_set *set, const char *name, enum tmpl_mode mode,
                     const struct tmpl_value *data, struct buf *out, struct ar_error *err)
{
    const struct tmpl_def *def = tmpl_set_find(set, name);

    if (def == NULL) {
        ar_error_set(err, "template: no template \"%s\" associated with template set", name);
        return AR_ENOTFOUND;
    }
    return execute(set, def, mode, data, out, err);
}

int tmpl_render(const struct tmpl_set *set, const char *text, enum tmpl_mode mode,
                const struct tmpl_value *data, char **out, struct ar_error *err)
{
    struct tmpl_set *overlay = tmpl_set_new();
    struct buf b;
    int rc;

    overlay->parent = set;
    overlay->max_output = set->max_output;
    overlay->max_depth = set->max_depth;
    overlay->max_steps = set->max_steps;
    overlay->kv = set->kv;
    rc = tmpl_set_parse(overlay, "", text, strlen(text), err);
    if (rc != AR_OK) {
        tmpl_set_free(overlay);
        return rc;
    }
    buf_init(&b, 0);
    {
        long i;
        const struct tmpl_def *def = NULL;

        for (i = 0; i < (long)overlay->ndefs; i++) {
            if (overlay->defs[i].name[0] == '\0') {
                def = &overlay->defs[i];
            }
        }
        if (def == NULL) {
            buf_cleanup(&b);
            tmpl_set_free(overlay);
            *out = ar_strdup("");
            return AR_OK;
        }
        rc = execute(overlay, def, mode, data, &b, err);
    }
    tmpl_set_free(overlay);
    if (rc != AR_OK) {
        buf_cleanup(&b);
        return rc;
    }
    *out = b.data ? buf_take(&b) : ar_strdup("");
    buf_cleanup(&b);
    return AR_OK;
}

/* Template parser and template sets. The parser is recursive descent over the token array
 * from tmpl_lex.c and builds trees (struct tmpl_node) in an arena owned by the source unit
 * (struct tmpl_unit); all strings in a tree point into that arena. It checks at parse time
 * what Go checks at parse time: function names, defined variables, break/continue outside
 * range, define outside the top level, and a nesting bound (so hostile input cannot exhaust
 * the C stack). A set keeps its definitions sorted by name; a parse is applied to the set
 * only when it succeeds completely, and a definition whose body is empty (whitespace only)
 * does not replace an existing one, as in Go. */
#define AR_TMPL_INTERNAL
#include "ar/embedded.h"
#include "ar/tmpl.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NEST = 100 };

/* ---- arena ---------------------------------------------------------------------------------- */

struct chunk {
    struct chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

static void *arena_alloc(void **arena, size_t n)
{
    struct chunk *c = *arena;
    void *p;

    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;

        c = ar_malloc(sizeof(*c) + cap);
        c->next = *arena;
        c->used = 0;
        c->cap = cap;
        *arena = c;
    }
    p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(void *arena)
{
    struct chunk *c = arena;

    while (c != NULL) {
        struct chunk *next = c->next;

        free(c);
        c = next;
    }
}

static char *arena_strndup(void **arena, const char *s, size_t n)
{
    char *p = arena_alloc(arena, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void unit_free(struct tmpl_unit *u)
{
    size_t i;

    if (u == NULL) {
        return;
    }
    for (i = 0; i < u->nconsts; i++) {
        u->consts[i]->refs = 1;
        tmpl_value_unref(u->consts[i]);
    }
    free(u->consts);
    arena_free(u->arena);
    free(u->name);
    free(u->src);
    free(u);
}

/* ---- parser --------------------------------------------------------------------------------- */

struct pdef {
    const char *name;
    struct tmpl_node *root;
    uint32_t pos;
};

struct parser {
    struct tmpl_unit *unit;
    struct tmpl_token *toks;
    size_t ntoks;
    size_t i;
    const char **vars; /* variable names in scope */
    size_t nvars;
    size_t cvars;
    int range_depth;
    int nest;
    struct pdef *defs;
    size_t ndefs;
    size_t cdefs;
    struct ar_error *err;
    bool failed;
};

static int perr(struct parser *p, uint32_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, uint32_t pos, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int line;
    int col;

    if (p->failed) {
        return AR_EINVAL;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tmpl_line_col(p->unit->src, pos, &line, &col);
    ar_error_set(p->err, "template: %s:%d:%d: %s", p->unit->name, line, col, msg);
    p->failed = true;
    return AR_EINVAL;
}

static const struct tmpl_token *peek(struct parser *p)
{
    return &p->toks[p->i];
}

static const struct tmpl_token *next(struct parser *p)
{
    const struct tmpl_token *t = &p->toks[p->i];

    if (t->type != TK_EOF) {
        p->i++;
    }
    return t;
}

static const struct tmpl_token *peek_ns(struct parser *p)
{
    while (p->toks[p->i].type == TK_SPACE) {
        p->i++;
    }
    return &p->toks[p->i];
}

static const struct tmpl_token *next_ns(struct parser *p)
{
    peek_ns(p);
    return next(p);
}

static const char *tok_desc(struct parser *p, const struct tmpl_token *t, char *buf, size_t n)
{
    switch (t->type) {
    case TK_EOF:
        return "EOF";
    case TK_RDELIM:
        return "\"}}\"";
    case TK_SPACE:
        return "space";
    default:
        snprintf(buf, n, "\"%.*s\"", (int)(t->len > 40 ? 40 : t->len), p->unit->src + t->pos);
        return buf;
    }
}

static int unexpected(struct parser *p, const struct tmpl_token *t, const char *context)
{
    char b[64];

    return perr(p, t->pos, "unexpected %s in %s", tok_desc(p, t, b, sizeof(b)), context);
}

static void add_const(struct tmpl_unit *u, struct tmpl_value *v)
{
    v->refs = -1;
    if (u->nconsts == u->cconsts) {
        u->cconsts = u->cconsts ? u->cconsts * 2 : 16;
        u->consts = ar_realloc(u->consts, u->cconsts * sizeof(*u->consts));
    }
    u->consts[u->nconsts++] = v;
}

static struct tmpl_node *new_node(struct parser *p, enum tmpl_node_type type,
                                  const struct tmpl_token *t)
{
    struct tmpl_node *n = arena_alloc(&p->unit->arena, sizeof(*n));

    n->type = type;
    n->pos = t ? t->pos : 0;
    n->spos = n->pos;
    n->len = t ? t->len : 0;
    return n;
}

static void push_var(struct parser *p, const char *name)
{
    if (p->nvars == p->cvars) {
        p->cvars = p->cvars ? p->cvars * 2 : 16;
        p->vars = ar_realloc(p->vars, p->cvars * sizeof(*p->vars));
    }
    p->vars[p->nvars++] = name;
}

static bool has_var(struct parser *p, const char *name)
{
    size_t i;

    for (i = p->nvars; i > 0; i--) {
        if (strcmp(p->vars[i - 1], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Go string literal unquoting ("..." with escapes, `raw`, 'c'). */
static int unquote(struct parser *p, const struct tmpl_token *t, struct buf *out)
{
    const char *s = p->unit->src + t->pos;
    size_t n = t->len;
    size_t i;

    if (t->type == TK_RAWSTR) {
        for (i = 1; i + 1 < n; i++) {
            if (s[i] != '\r') {
                buf_putc(out, s[i]);
            }
        }
        return AR_OK;
    }
    for (i = 1; i + 1 < n; i++) {
        unsigned long cp;
        int digits;
        int k;

        if (s[i] != '\\') {
            buf_putc(out, s[i]);
            continue;
        }
        i++;
        switch (s[i]) {
        case 'a':
            buf_putc(out, '\a');
            continue;
        case 'b':
            buf_putc(out, '\b');
            continue;
        case 'f':
            buf_putc(out, '\f');
            continue;
        case 'n':
            buf_putc(out, '\n');
            continue;
        case 'r':
            buf_putc(out, '\r');
            continue;
        case 't':
            buf_putc(out, '\t');
            continue;
        case 'v':
            buf_putc(out, '\v');
            continue;
        case '\\':
            buf_putc(out, '\\');
            continue;
        case '"':
            if (t->type == TK_CHAR) {
                return perr(p, t->pos, "invalid syntax");
            }
            buf_putc(out, '"');
            continue;
        case '\'':
            if (t->type != TK_CHAR) {
                return perr(p, t->pos, "invalid syntax");
            }
            buf_putc(out, '\'');
            continue;
        case 'x':
            digits = 2;
            break;
        case 'u':
            digits = 4;
            break;
        case 'U':
            digits = 8;
            break;
        default:
            if (s[i] >= '0' && s[i] <= '7') {
                cp = 0;
                for (k = 0; k < 3; k++, i++) {
                    if (i + 1 >= n || s[i] < '0' || s[i] > '7') {
                        return perr(p, t->pos, "invalid syntax");
                    }
                    cp = cp * 8 + (unsigned long)(s[i] - '0');
                }
                i--;
                if (cp > 255) {
                    return perr(p, t->pos, "invalid syntax");
                }
                buf_putc(out, (char)cp);
                continue;
            }
            return perr(p, t->pos, "invalid syntax");
        }
        cp = 0;
        for (k = 0; k < digits; k++) {
            char c = (i + 1 + (size_t)k < n - 1) ? s[i + 1 + k] : 0;

            if (!isxdigit((unsigned char)c)) {
                return perr(p, t->pos, "invalid syntax");
            }
            cp = cp * 16 +
                 (unsigned long)(isdigit((unsigned char)c) ? c - '0' : (tolower(c) - 'a' + 10));
        }
        i += (size_t)digits;
        if (digits == 2) {
            buf_putc(out, (char)cp);
            continue;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return perr(p, t->pos, "invalid syntax");
        }
        if (cp < 0x80) {
            buf_putc(out, (char)cp);
        } else if (cp < 0x800) {
            buf_putc(out, (char)(0xC0 | (cp >> 6)));
            buf_putc(out, (char)(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            buf_putc(out, (char)(0xE0 | (cp >> 12)));
            buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
            buf_putc(out, (char)(0x80 | (cp & 0x3F)));
        } else {
            buf_putc(out, (char)(0xF0 | (cp >> 18)));
            buf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3F)));
            buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
            buf_putc(out, (char)(0x80 | (cp & 0x3F)));
        }
    }
    return AR_OK;
}

static int decode_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0) {
        return 0;
    }
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && n >= 2) {
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && n >= 3) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    if ((s[0] & 0xF8) == 0xF0 && n >= 4) {
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
              (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        return 4;
    }
    return -1;
}

static struct tmpl_node *parse_number(struct parser *p, const struct tmpl_token *t)
{
    struct tmpl_node *n = new_node(p, TN_NUMBER, t);
    char tmp[128];
    char clean[128];
    size_t k = 0;
    size_t i;
    char *end;
    bool is_float;
    struct tmpl_value *v;

    if (t->type == TK_CHAR) {
        struct buf b;
        uint32_t cp = 0;

        buf_init(&b, 0);
        if (unquote(p, t, &b) != AR_OK) {
            buf_cleanup(&b);
            return NULL;
        }
        if (b.len == 0 || decode_utf8((const unsigned char *)b.data, b.len, &cp) != (int)b.len) {
            buf_cleanup(&b);
            perr(p, t->pos, "malformed character constant: %.*s", (int)t->len,
                 p->unit->src + t->pos);
            return NULL;
        }
        buf_cleanup(&b);
        v = tmpl_int(cp);
        add_const(p->unit, v);
        n->u.num = v;
        return n;
    }
    if (t->len >= sizeof(tmp)) {
        perr(p, t->pos, "illegal number syntax: \"%.*s\"", 40, p->unit->src + t->pos);
        return NULL;
    }
    memcpy(tmp, p->unit->src + t->pos, t->len);
    tmp[t->len] = '\0';
    for (i = 0; tmp[i]; i++) {
        if (tmp[i] != '_') {
            clean[k++] = tmp[i];
        }
    }
    clean[k] = '\0';
    {
        const char *d = clean + (clean[0] == '+' || clean[0] == '-');
        bool hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');

        is_float = strpbrk(d, ".") != NULL || (!hex && strpbrk(d, "eE") != NULL) ||
                   (hex && strpbrk(d, "pP") != NULL);
        if (!is_float && d[0] == '0' &&
            (d[1] == 'o' || d[1] == 'O' || d[1] == 'b' || d[1] == 'B')) {
            int base = (d[1] == 'b' || d[1] == 'B') ? 2 : 8;
            unsigned long long u;

            errno = 0;
            u = strtoull(d + 2, &end, base);
            if (errno != 0 || *end != '\0' || d[2] == '\0' || u > INT64_MAX) {
                perr(p, t->pos, "illegal number syntax: \"%s\"", tmp);
                return NULL;
            }
            v = tmpl_int(clean[0] == '-' ? -(int64_t)u : (int64_t)u);
            add_const(p->unit, v);
            n->u.num = v;
            return n;
        }
    }
    errno = 0;
    if (!is_float) {
        long long ll = strtoll(clean, &end, 0);

        if (*end == '\0' && errno == 0) {
            v = tmpl_int(ll);
            add_const(p->unit, v);
            n->u.num = v;
            return n;
        }
        if (*end != '\0' && *end != 'i') {
            perr(p, t->pos, "illegal number syntax: \"%s\"", tmp);
            return NULL;
        }
    }
    errno = 0;
    {
        double f = strtod(clean, &end);

        if (*end != '\0' || end == clean) {
            perr(p, t->pos, "illegal number syntax: \"%s\"", tmp);
            return NULL;
        }
        /* Go constants: a float literal with an integral value is usable as an int too, but
         * the default type of a float constant is float64. */
        v = tmpl_float(f);
        add_const(p->unit, v);
        n->u.num = v;
    }
    return n;
}

static struct tmpl_pipe *parse_pipeline(struct parser *p, bool allow_decl, int range_vars,
                                        enum tmpl_tok end);

/* Collects a chain of ".Field" tokens. *chain_pos receives the position of the first token
 * that extends the chain (Go reports chained fields at that position). */
static const char **collect_fields(struct parser *p, const char *first, size_t *n,
                                   uint32_t *chain_pos)
{
    const char *tmp[64];
    size_t k = 0;
    const char **out;

    if (first != NULL) {
        tmp[k++] = first;
    }
    while (peek(p)->type == TK_FIELD && k < AR_ARRAY_LEN(tmp)) {
        const struct tmpl_token *t = next(p);

        if (k == 1) {
            *chain_pos = t->pos;
        }
        tmp[k++] = arena_strndup(&p->unit->arena, p->unit->src + t->pos + 1, t->len - 1);
    }
    if (peek(p)->type == TK_FIELD) {
        perr(p, peek(p)->pos, "field chain too long");
        return NULL;
    }
    out = arena_alloc(&p->unit->arena, (k ? k : 1) * sizeof(*out));
    memcpy(out, tmp, k * sizeof(*out));
    *n = k;
    return out;
}

/* term: literal | function | . | $var | .Field | ( pipeline ) */
static struct tmpl_node *parse_term(struct parser *p)
{
    const struct tmpl_token *t = peek_ns(p);
    struct tmpl_node *n;

    switch (t->type) {
    case TK_IDENT: {
        const struct tmpl_func *fn = tmpl_func_find(p->unit->src + t->pos, t->len);

        next(p);
        if (fn == NULL) {
            perr(p, t->pos, "function \"%.*s\" not defined", (int)t->len, p->unit->src + t->pos);
            return NULL;
        }
        n = new_node(p, TN_IDENT, t);
        n->u.fn = fn;
        return n;
    }
    case TK_DOT:
        next(p);
        return new_node(p, TN_DOT, t);
    case TK_NIL:
        next(p);
        return new_node(p, TN_NIL, t);
    case TK_BOOL:
        next(p);
        n = new_node(p, TN_BOOL, t);
        n->u.b = p->unit->src[t->pos] == 't';
        return n;
    case TK_NUMBER:
    case TK_CHAR:
        next(p);
        return parse_number(p, t);
    case TK_STRING:
    case TK_RAWSTR: {
        struct buf b;
        struct tmpl_value *v;

        next(p);
        buf_init(&b, 0);
        if (unquote(p, t, &b) != AR_OK) {
            buf_cleanup(&b);
            return NULL;
        }
        n = new_node(p, TN_STRING, t);
        v = tmpl_string_n(buf_str(&b), b.len);
        buf_cleanup(&b);
        add_const(p->unit, v);
        n->u.str = v;
        return n;
    }
    case TK_VAR: {
        const char *name = arena_strndup(&p->unit->arena, p->unit->src + t->pos, t->len);

        next(p);
        if (!has_var(p, name)) {
            perr(p, t->pos, "undefined variable \"%s\"", name);
            return NULL;
        }
        n = new_node(p, TN_VAR, t);
        n->u.field.idents = collect_fields(p, name, &n->u.field.n, &n->pos);
        if (n->u.field.idents == NULL) {
            return NULL;
        }
        n->len = (uint32_t)(p->toks[p->i - 1].pos + p->toks[p->i - 1].len - n->spos);
        return n;
    }
    case TK_FIELD:
        n = new_node(p, TN_FIELD, t);
        n->u.field.idents = collect_fields(p, NULL, &n->u.field.n, &n->pos);
        if (n->u.field.idents == NULL) {
            return NULL;
        }
        n->len = (uint32_t)(p->toks[p->i - 1].pos + p->toks[p->i - 1].len - n->spos);
        return n;
    case TK_LPAREN: {
        struct tmpl_pipe *pipe;

        next(p);
        if (++p->nest > MAX_NEST) {
            perr(p, t->pos, "expression nested too deeply");
            return NULL;
        }
        pipe = parse_pipeline(p, false, 0, TK_RPAREN);
        p->nest--;
        if (pipe == NULL) {
            return NULL;
        }
        n = new_node(p, TN_PIPE, t);
        n->u.pipe = pipe;
        n->len = (uint32_t)(p->toks[p->i - 1].pos + 1 - t->pos);
        return n;
    }
    default:
        return NULL;
    }
}

static struct tmpl_node *parse_operand(struct parser *p)
{
    struct tmpl_node *n = parse_term(p);
    struct tmpl_node *c;

    if (n == NULL || peek(p)->type != TK_FIELD) {
        return n;
    }
    switch (n->type) {
    case TN_BOOL:
    case TN_STRING:
    case TN_NUMBER:
    case TN_NIL:
    case TN_DOT:
        perr(p, peek(p)->pos, "unexpected . after term \"%.*s\"", (int)(n->len > 40 ? 40 : n->len),
             p->unit->src + n->spos);
        return NULL;
    default:
        break;
    }
    c = new_node(p, TN_CHAIN, peek(p));
    c->spos = n->spos;
    c->u.field.sub = n;
    {
        uint32_t unused = 0;

        c->u.field.idents = collect_fields(p, NULL, &c->u.field.n, &unused);
    }
    if (c->u.field.idents == NULL) {
        return NULL;
    }
    c->len = (uint32_t)(p->toks[p->i - 1].pos + p->toks[p->i - 1].len - c->spos);
    return c;
}

static struct tmpl_cmd *parse_command(struct parser *p, enum tmpl_tok end)
{
    struct tmpl_node *tmp[256];
    size_t n = 0;
    struct tmpl_cmd *cmd = arena_alloc(&p->unit->arena, sizeof(*cmd));
    const struct tmpl_token *t = peek_ns(p);

    cmd->pos = t->pos;
    for (;;) {
        struct tmpl_node *op;

        peek_ns(p);
        op = parse_operand(p);
        if (p->failed) {
            return NULL;
        }
        if (op == NULL) {
            break;
        }
        if (n == AR_ARRAY_LEN(tmp)) {
            perr(p, op->pos, "too many arguments");
            return NULL;
        }
        tmp[n++] = op;
        t = peek(p);
        if (t->type == TK_SPACE) {
            continue;
        }
        if (t->type == end || t->type == TK_PIPE) {
            break;
        }
        unexpected(p, t, t->type == TK_RPAREN || t->type == TK_RDELIM ? "command" : "operand");
        return NULL;
    }
    t = peek_ns(p);
    if (n == 0) {
        if (t->type == end) {
            perr(p, t->pos, "missing value for command");
        } else {
            unexpected(p, t, "command");
        }
        return NULL;
    }
    cmd->args = arena_alloc(&p->unit->arena, n * sizeof(*cmd->args));
    memcpy(cmd->args, tmp, n * sizeof(*tmp));
    cmd->nargs = n;
    cmd->len = tmp[n - 1]->spos + tmp[n - 1]->len - cmd->pos;
    return cmd;
}

static struct tmpl_pipe *parse_pipeline(struct parser *p, bool allow_decl, int range_vars,
                                        enum tmpl_tok end)
{
    struct tmpl_pipe *pipe = arena_alloc(&p->unit->arena, sizeof(*pipe));
    struct tmpl_cmd *tmp[64];
    size_t n = 0;
    const struct tmpl_token *t = peek_ns(p);

    pipe->pos = t->pos;
    if (allow_decl && t->type == TK_VAR) {
        size_t save = p->i;
        const struct tmpl_token *v1 = next(p);
        const struct tmpl_token *v2 = NULL;
        const struct tmpl_token *op = next_ns(p);

        if (op->type == TK_COMMA && range_vars == 2) {
            v2 = next_ns(p);
            if (v2->type != TK_VAR) {
                unexpected(p, v2, "range");
                return NULL;
            }
            op = next_ns(p);
            if (op->type == TK_COMMA) {
                perr(p, op->pos, "too many declarations in range");
                return NULL;
            }
        }
        if (op->type == TK_DECLARE || op->type == TK_ASSIGN) {
            const struct tmpl_token *vs[2] = {v1, v2};
            size_t k;

            pipe->is_assign = op->type == TK_ASSIGN;
            for (k = 0; k < 2 && vs[k] != NULL; k++) {
                const char *name =
                    arena_strndup(&p->unit->arena, p->unit->src + vs[k]->pos, vs[k]->len);

                /* COMPAT: assigning an undeclared variable fails when executed, not here */
                pipe->decl[pipe->ndecl++] = name;
            }
        } else if (op->type == TK_COMMA) {
            unexpected(p, op, "operand");
            return NULL;
        } else {
            p->i = save;
        }
    }
    for (;;) {
        struct tmpl_cmd *cmd;

        t = peek_ns(p);
        if (t->type == end) {
            next(p);
            break;
        }
        if (n > 0) {
            if (t->type != TK_PIPE) {
                unexpected(p, t, "command");
                return NULL;
            }
            next(p);
            /* COMPAT: Go accepts a trailing "|" before the closing delimiter */
            if (peek_ns(p)->type == end) {
                t = peek_ns(p);
                next(p);
                break;
            }
        }
        cmd = parse_command(p, end);
        if (cmd == NULL) {
            return NULL;
        }
        if (n == AR_ARRAY_LEN(tmp)) {
            perr(p, cmd->pos, "pipeline too long");
            return NULL;
        }
        tmp[n++] = cmd;
    }
    if (n == 0) {
        if (pipe->ndecl > 0 || end == TK_RPAREN) {
            perr(p, t->pos, "missing value for %s",
                 end == TK_RPAREN ? "parenthesized pipeline" : "declaration");
            return NULL;
        }
    }
    {
        size_t k;

        for (k = 0; k < pipe->ndecl; k++) {
            if (!pipe->is_assign) {
                push_var(p, pipe->decl[k]);
            }
        }
    }
    /* COMPAT: Go's checkPipeline: later stages must be executable (not literals) */
    {
        size_t k;

        for (k = 1; k < n; k++) {
            enum tmpl_node_type ft = tmp[k]->args[0]->type;

            if (ft == TN_BOOL || ft == TN_DOT || ft == TN_NIL || ft == TN_NUMBER ||
                ft == TN_STRING) {
                perr(p, tmp[k]->pos, "non executable command in pipeline stage %zu", k + 1);
                return NULL;
            }
        }
    }
    pipe->cmds = arena_alloc(&p->unit->arena, (n ? n : 1) * sizeof(*pipe->cmds));
    memcpy(pipe->cmds, tmp, n * sizeof(*tmp));
    pipe->ncmds = n;
    pipe->len = n > 0 ? tmp[n - 1]->pos + tmp[n - 1]->len - pipe->pos
                      : (t->pos > pipe->pos ? t->pos - pipe->pos : 0);
    return pipe;
}

/* Parses a list of nodes until {{end}}, {{else}} or EOF; *term receives the token type that
 * ended it (TK_END / TK_ELSE with the keyword consumed, TK_EOF). */
static struct tmpl_node *parse_list(struct parser *p, bool top, enum tmpl_tok *term,
                                    uint32_t *term_pos);

static int expect_rdelim(struct parser *p, const char *context)
{
    const struct tmpl_token *t = next_ns(p);

    if (t->type != TK_RDELIM) {
        return unexpected(p, t, context);
    }
    return AR_OK;
}

static struct tmpl_node *parse_control(struct parser *p, enum tmpl_node_type type,
                                       const struct tmpl_token *kw)
{
    struct tmpl_node *n = new_node(p, type, kw);
    size_t mark = p->nvars;
    enum tmpl_tok term;
    uint32_t term_pos;
    const char *ctx = type == TN_IF ? "if" : type == TN_RANGE ? "range" : "with";

    if (++p->nest > MAX_NEST) {
        perr(p, kw->pos, "control structures nested too deeply");
        return NULL;
    }
    n->u.br.pipe = parse_pipeline(p, true, type == TN_RANGE ? 2 : 1, TK_RDELIM);
    if (n->u.br.pipe == NULL) {
        return NULL;
    }
    if (n->u.br.pipe->ncmds == 0) {
        perr(p, kw->pos, "missing value for %s", ctx);
        return NULL;
    }
    if (type == TN_RANGE) {
        p->range_depth++;
    }
    n->u.br.list = parse_list(p, false, &term, &term_pos);
    if (type == TN_RANGE) {
        p->range_depth--;
    }
    if (p->failed) {
        return NULL;
    }
    if (term == TK_ELSE) {
        const struct tmpl_token *t = peek_ns(p);

        if ((type == TN_IF && t->type == TK_IF) || (type == TN_WITH && t->type == TK_WITH)) {
            /* "else if" / "else with": a nested control that shares our {{end}}. */
            next(p);
            n->u.br.else_list = parse_control(p, type, t);
            if (n->u.br.else_list == NULL) {
                return NULL;
            }
        } else {
            if (expect_rdelim(p, ctx) != AR_OK) {
                return NULL;
            }
            n->u.br.else_list = parse_list(p, false, &term, &term_pos);
            if (p->failed) {
                return NULL;
            }
            if (term != TK_END) {
                perr(p, term_pos,
                     term == TK_ELSE ? "expected end; found {{else}}" : "unexpected EOF");
                return NULL;
            }
            if (expect_rdelim(p, "end") != AR_OK) {
                return NULL;
            }
        }
    } else if (term == TK_END) {
        if (expect_rdelim(p, "end") != AR_OK) {
            return NULL;
        }
    } else {
        perr(p, term_pos, "unexpected EOF");
        return NULL;
    }
    p->nvars = mark;
    p->nest--;
    return n;
}

static const char *parse_name(struct parser *p, const char *context)
{
    const struct tmpl_token *t = next_ns(p);
    struct buf b;
    const char *name;

    if (t->type != TK_STRING && t->type != TK_RAWSTR) {
        unexpected(p, t, context);
        return NULL;
    }
    buf_init(&b, 0);
    if (unquote(p, t, &b) != AR_OK) {
        buf_cleanup(&b);
        return NULL;
    }
    name = arena_strndup(&p->unit->arena, buf_str(&b), b.len);
    buf_cleanup(&b);
    return name;
}

static void add_pdef(struct parser *p, const char *name, struct tmpl_node *root, uint32_t pos);

/* Parses a define/block body with a fresh variable scope ($ only). */
static struct tmpl_node *parse_body(struct parser *p, const struct tmpl_token *kw)
{
    const char **saved = p->vars;
    size_t saved_n = p->nvars;
    size_t saved_c = p->cvars;
    int saved_range = p->range_depth;
    struct tmpl_node *body;
    enum tmpl_tok term;
    uint32_t term_pos;

    p->vars = NULL;
    p->nvars = 0;
    p->cvars = 0;
    p->range_depth = 0;
    push_var(p, "$");
    body = parse_list(p, false, &term, &term_pos);
    free(p->vars);
    p->vars = saved;
    p->nvars = saved_n;
    p->cvars = saved_c;
    p->range_depth = saved_range;
    if (p->failed) {
        return NULL;
    }
    if (term != TK_END) {
        perr(p, term == TK_EOF ? kw->pos : term_pos,
             term == TK_EOF ? "unexpected EOF" : "unexpected {{else}}");
        return NULL;
    }
    if (expect_rdelim(p, "end") != AR_OK) {
        return NULL;
    }
    return body;
}

static bool tree_is_empty(const struct tmpl_node *n)
{
    for (; n != NULL; n = n->next) {
        size_t i;

        if (n->type != TN_TEXT) {
            return false;
        }
        for (i = 0; i < n->u.text.len; i++) {
            if (!isspace((unsigned char)n->u.text.s[i])) {
                return false;
            }
        }
    }
    return true;
}

static void add_pdef(struct parser *p, const char *name, struct tmpl_node *root, uint32_t pos)
{
    size_t i;

    for (i = 0; i < p->ndefs; i++) {
        if (strcmp(p->defs[i].name, name) == 0) {
            if (tree_is_empty(p->defs[i].root)) {
                p->defs[i].root = root;
            } else if (!tree_is_empty(root)) {
                perr(p, pos, "template: multiple definition of template \"%s\"", name);
            }
            return;
        }
    }
    if (p->ndefs == p->cdefs) {
        p->cdefs = p->cdefs ? p->cdefs * 2 : 16;
        p->defs = ar_realloc(p->defs, p->cdefs * sizeof(*p->defs));
    }
    p->defs[p->ndefs].name = name;
    p->defs[p->ndefs].root = root;
    p->defs[p->ndefs].pos = pos;
    p->ndefs++;
}

/* One {{ ... }} action after its left delimiter. Returns the node (may be NULL for define),
 * or sets *term for end/else. */
static struct tmpl_node *parse_action(struct parser *p, bool top, enum tmpl_tok *term,
                                      uint32_t *term_pos, bool *is_node)
{
    const struct tmpl_token *t = peek_ns(p);
    struct tmpl_node *n;

    *is_node = true;
    switch (t->type) {
    case TK_END:
    case TK_ELSE:
        next(p);
        *term = t->type;
        *term_pos = t->pos;
        *is_node = false;
        if (t->type == TK_END) {
            return NULL;
        }
        return NULL;
    case TK_IF:
        next(p);
        return parse_control(p, TN_IF, t);
    case TK_RANGE:
        next(p);
        return parse_control(p, TN_RANGE, t);
    case TK_WITH:
        next(p);
        return parse_control(p, TN_WITH, t);
    case TK_BREAK:
    case TK_CONTINUE:
        next(p);
        if (p->range_depth == 0) {
            perr(p, t->pos, "{{%s}} outside {{range}}", t->type == TK_BREAK ? "break" : "continue");
            return NULL;
        }
        if (expect_rdelim(p, t->type == TK_BREAK ? "break" : "continue") != AR_OK) {
            return NULL;
        }
        return new_node(p, t->type == TK_BREAK ? TN_BREAK : TN_CONTINUE, t);
    case TK_DEFINE: {
        const char *name;
        struct tmpl_node *body;

        next(p);
        if (!top) {
            perr(p, t->pos, "unexpected <define> in command");
            return NULL;
        }
        name = parse_name(p, "define clause");
        if (name == NULL || expect_rdelim(p, "define clause") != AR_OK) {
            return NULL;
        }
        body = parse_body(p, t);
        if (body == NULL && p->failed) {
            return NULL;
        }
        add_pdef(p, name, body, t->pos);
        *is_node = false;
        return NULL;
    }
    case TK_TEMPLATE:
    case TK_BLOCK: {
        const char *name;
        struct tmpl_pipe *pipe = NULL;
        const char *ctx = t->type == TK_BLOCK ? "block clause" : "template clause";
        uint32_t name_pos;

        next(p);
        name_pos = peek_ns(p)->pos;
        name = parse_name(p, ctx);
        if (name == NULL) {
            return NULL;
        }
        if (peek_ns(p)->type != TK_RDELIM) {
            pipe = parse_pipeline(p, false, 0, TK_RDELIM);
            if (pipe == NULL) {
                return NULL;
            }
        } else {
            next(p);
        }
        if (t->type == TK_BLOCK) {
            struct tmpl_node *body;

            if (pipe == NULL) {
                perr(p, t->pos, "missing value for block clause");
                return NULL;
            }
            body = parse_body(p, t);
            if (body == NULL && p->failed) {
                return NULL;
            }
            add_pdef(p, name, body, t->pos);
        }
        n = new_node(p, TN_TEMPLATE, t);
        n->pos = name_pos; /* Go locates template calls at the name */
        n->u.call.name = name;
        n->u.call.pipe = pipe;
        return n;
    }
    default: {
        struct tmpl_pipe *pipe = parse_pipeline(p, true, 1, TK_RDELIM);

        if (pipe == NULL) {
            return NULL;
        }
        if (pipe->ncmds == 0) {
            perr(p, t->pos, "missing value for command");
            return NULL;
        }
        n = new_node(p, TN_ACTION, t);
        n->u.pipe = pipe;
        n->len = pipe->len;
        return n;
    }
    }
}

static struct tmpl_node *parse_list(struct parser *p, bool top, enum tmpl_tok *term,
                                    uint32_t *term_pos)
{
    struct tmpl_node *head = NULL;
    struct tmpl_node **tail = &head;

    *term = TK_EOF;
    *term_pos = 0;
    for (;;) {
        const struct tmpl_token *t = next(p);
        struct tmpl_node *n = NULL;

        if (t->type == TK_EOF) {
            *term_pos = t->pos;
            return head;
        }
        if (t->type == TK_TEXT) {
            n = new_node(p, TN_TEXT, t);
            n->u.text.s = p->unit->src + t->pos;
            n->u.text.len = t->len;
        } else if (t->type == TK_LDELIM) {
            bool is_node;
            enum tmpl_tok tt = TK_EOF;

            n = parse_action(p, top, &tt, term_pos, &is_node);
            if (p->failed) {
                return NULL;
            }
            if (tt == TK_END || tt == TK_ELSE) {
                if (top) {
                    perr(p, *term_pos, "unexpected {{%s}}", tt == TK_END ? "end" : "else");
                    return NULL;
                }
                *term = tt;
                return head;
            }
            if (!is_node) {
                continue;
            }
        } else {
            unexpected(p, t, "input");
            return NULL;
        }
        *tail = n;
        tail = &n->next;
    }
}

/* ---- sets ----------------------------------------------------------------------------------- */

struct tmpl_set *tmpl_set_new(void)
{
    struct tmpl_set *s = ar_calloc(1, sizeof(*s));

    s->max_output = 4u << 20;
    s->max_depth = 100;
    s->max_steps = 10000000;
    s->kv = TMPL_KV_GO_MAP;
    return s;
}

void tmpl_set_free(struct tmpl_set *set)
{
    size_t i;

    if (set == NULL) {
        return;
    }
    for (i = 0; i < set->ndefs; i++) {
        free(set->defs[i].name);
    }
    free(set->defs);
    while (set->units != NULL) {
        struct tmpl_unit *u = set->units;

        set->units = u->next;
        unit_free(u);
    }
    free(set);
}

void tmpl_set_limits(struct tmpl_set *set, size_t max_output, unsigned max_depth,
                     uint64_t max_steps)
{
    if (max_output) {
        set->max_output = max_output;
    }
    if (max_depth) {
        set->max_depth = max_depth;
    }
    if (max_steps) {
        set->max_steps = max_steps;
    }
}

void tmpl_set_kv_style(struct tmpl_set *set, enum tmpl_kv_style style)
{
    set->kv = style;
}

/* Index of name, or -(insertion point) - 1. */
static long def_search(const struct tmpl_set *set, const char *name)
{
    return ar_bsearch_name(set->defs, set->ndefs, sizeof(*set->defs),
                           offsetof(struct tmpl_def, name), name);
}

const struct tmpl_def *tmpl_set_find(const struct tmpl_set *set, const char *name)
{
    for (; set != NULL; set = set->parent) {
        long i = def_search(set, name);

        if (i >= 0) {
            return &set->defs[i];
        }
    }
    return NULL;
}

bool tmpl_set_has(const struct tmpl_set *set, const char *name)
{
    return tmpl_set_find(set, name) != NULL;
}

const char **tmpl_set_names(const struct tmpl_set *set, size_t *n)
{
    const char **v = ar_calloc(set->ndefs + 1, sizeof(*v));
    size_t i;

    for (i = 0; i < set->ndefs; i++) {
        v[i] = set->defs[i].name;
    }
    *n = set->ndefs;
    return v;
}

static void set_put(struct tmpl_set *set, const char *name, struct tmpl_node *root,
                    struct tmpl_unit *unit)
{
    long i = def_search(set, name);
    size_t at;

    if (i >= 0) {
        /* COMPAT: an empty body does not replace an existing definition. */
        if (tree_is_empty(root) && set->defs[i].root != NULL) {
            return;
        }
        set->defs[i].root = root;
        set->defs[i].unit = unit;
        return;
    }
    at = (size_t)(-i - 1);
    if (set->ndefs == set->cdefs) {
        set->cdefs = set->cdefs ? set->cdefs * 2 : 64;
        set->defs = ar_realloc(set->defs, set->cdefs * sizeof(*set->defs));
    }
    memmove(set->defs + at + 1, set->defs + at, (set->ndefs - at) * sizeof(*set->defs));
    set->defs[at].name = ar_strdup(name);
    set->defs[at].root = root;
    set->defs[at].unit = unit;
    set->ndefs++;
}

int tmpl_set_parse(struct tmpl_set *set, const char *name, const char *text, size_t len,
                   struct ar_error *err)
{
    struct tmpl_unit *u = ar_calloc(1, sizeof(*u));
    struct parser p;
    char msg[256];
    size_t epos = 0;
    struct tmpl_node *root;
    enum tmpl_tok term;
    uint32_t term_pos;
    size_t i;
    int rc;

    if (len > UINT32_MAX / 2) {
        free(u);
        ar_error_set(err, "template: %s: too large", name);
        return AR_ELIMIT;
    }
    u->name = ar_strdup(name);
    u->src = ar_malloc(len + 1);
    memcpy(u->src, text, len);
    u->src[len] = '\0';
    u->len = len;
    memset(&p, 0, sizeof(p));
    p.unit = u;
    p.err = err;
    rc = tmpl_lex(u->src, len, &p.toks, &p.ntoks, &epos, msg, sizeof(msg));
    if (rc != AR_OK) {
        int line;
        int col;

        tmpl_line_col(u->src, epos, &line, &col);
        ar_error_set(err, "template: %s:%d:%d: %s", name, line, col, msg);
        unit_free(u);
        return rc;
    }
    push_var(&p, "$");
    root = parse_list(&p, true, &term, &term_pos);
    if (!p.failed) {
        add_pdef(&p, name, root, 0);
    }
    free(p.toks);
    free(p.vars);
    if (p.failed) {
        free(p.defs);
        unit_free(u);
        return AR_EINVAL;
    }
    for (i = 0; i < p.ndefs; i++) {
        set_put(set, p.defs[i].name, p.defs[i].root, u);
    }
    free(p.defs);
    u->next = set->units;
    set->units = u;
    return AR_OK;
}

int tmpl_set_parse_file(struct tmpl_set *set, const char *path, struct ar_error *err)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[8192];
    size_t n;
    const char *base;
    int rc;

    if (f == NULL) {
        ar_error_set(err, "template: open %s: %s", path, strerror(errno));
        return AR_EIO;
    }
    buf_init(&b, 64u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != AR_OK) {
            fclose(f);
            buf_cleanup(&b);
            ar_error_set(err, "template: %s: file too large", path);
            return AR_ELIMIT;
        }
    }
    if (ferror(f)) {
        fclose(f);
        buf_cleanup(&b);
        ar_error_set(err, "template: read %s: %s", path, strerror(errno));
        return AR_EIO;
    }
    fclose(f);
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    rc = tmpl_set_parse(set, base, buf_str(&b), b.len, err);
    buf_cleanup(&b);
    return rc;
}

int tmpl_set_parse_glob(struct tmpl_set *set, const char *pattern, struct ar_error *err)
{
    glob_t g;
    size_t i;
    int rc = AR_OK;
    int grc = glob(pattern, 0, NULL, &g);

    if (grc == GLOB_NOMATCH) {
        return AR_OK;
    }
    if (grc != 0) {
        ar_error_set(err, "template: bad glob pattern %s", pattern);
        return AR_EINVAL;
    }
    for (i = 0; i < g.gl_pathc && rc == AR_OK; i++) {
        rc = tmpl_set_parse_file(set, g.gl_pathv[i], err);
    }
    globfree(&g);
    return rc;
}

int tmpl_set_load_defaults(struct tmpl_set *set, struct ar_error *err)
{
    const struct ar_embedded_file *f;
    int rc;

    for (f = ar_templates; f->name != NULL; f++) {
        if (strcmp(f->name, "report.tmpl") == 0) {
            continue; /* incident reports (incident_report.c), not a notification template */
        }
        rc = tmpl_set_parse(set, f->name, f->data, f->len, err);
        if (rc != AR_OK) {
            return rc;
        }
    }
    return AR_OK;
}

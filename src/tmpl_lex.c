/* Template lexer: turns Go template source into a flat token array (struct tmpl_token).
 * Text between actions is emitted with `{{-` / `-}}` trimming already applied (all ASCII
 * whitespace: space, tab, CR, LF), comment actions are dropped, and inside
 * actions every operand, keyword and punctuation mark becomes one token, with runs of
 * whitespace kept as TK_SPACE because spacing separates arguments (`.A .B` vs `.A.B`).
 * Cost is linear in the source length. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lex {
    const char *src;
    size_t len;
    size_t pos;
    struct tmpl_token *v;
    size_t n;
    size_t cap;
    size_t err_pos;
    char *msg;
    size_t msgsz;
    int parens;
};

static void emit(struct lex *l, enum tmpl_tok type, size_t pos, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = ar_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].type = type;
    l->v[l->n].pos = (uint32_t)pos;
    l->v[l->n].len = (uint32_t)len;
    l->n++;
}

static int fail(struct lex *l, size_t pos, const char *msg)
{
    l->err_pos = pos;
    snprintf(l->msg, l->msgsz, "%s", msg);
    return AR_EINVAL;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum_byte(unsigned char c)
{
    return c == '_' || isalnum(c) || c >= 0x80;
}

void tmpl_line_col(const char *src, size_t pos, int *line, int *col)
{
    size_t i;
    int ln = 1;
    size_t bol = 0;

    for (i = 0; i < pos && src[i]; i++) {
        if (src[i] == '\n') {
            ln++;
            bol = i + 1;
        }
    }
    *line = ln;
    *col = (int)(pos - bol) + 1;
}

/* At "{{": is it a left trim marker "{{- " ? */
static bool left_trim_at(const struct lex *l, size_t p)
{
    return p + 3 < l->len && l->src[p + 2] == '-' && is_ws(l->src[p + 3]);
}

/* At whitespace: is the right trim marker " -}}" here? */
static bool right_trim_at(const struct lex *l, size_t p)
{
    return p + 3 < l->len && is_ws(l->src[p]) && l->src[p + 1] == '-' && l->src[p + 2] == '}' &&
           l->src[p + 3] == '}';
}

static const struct {
    const char *word;
    enum tmpl_tok type;
} keywords[] = {
    {"if", TK_IF},       {"else", TK_ELSE},         {"end", TK_END},           {"range", TK_RANGE},
    {"with", TK_WITH},   {"define", TK_DEFINE},     {"template", TK_TEMPLATE}, {"block", TK_BLOCK},
    {"break", TK_BREAK}, {"continue", TK_CONTINUE}, {"true", TK_BOOL},         {"false", TK_BOOL},
    {"nil", TK_NIL},
};

static size_t scan_quoted(struct lex *l, size_t p, char q, int *rc)
{
    size_t i = p + 1;

    while (i < l->len && l->src[i] != q) {
        if (q != '`' && l->src[i] == '\\') {
            i++;
        } else if (q != '`' && l->src[i] == '\n') {
            break;
        }
        i++;
    }
    if (i >= l->len || l->src[i] != q) {
        *rc = fail(l, p,
                   q == '`'   ? "unterminated raw quoted string"
                   : q == '"' ? "unterminated quoted string"
                              : "unterminated character constant");
        return i;
    }
    *rc = AR_OK;
    return i + 1;
}

/* Lexes inside an action starting at l->pos (just after the left delimiter). Returns when
 * the right delimiter has been consumed; *trim_next tells whether it was "-}}". */
static int lex_action(struct lex *l, bool *trim_next)
{
    int rc = AR_OK;

    l->parens = 0;
    for (;;) {
        size_t p = l->pos;
        char c;

        if (p >= l->len) {
            return fail(l, p, "unclosed action");
        }
        c = l->src[p];
        if (c == '}' && p + 1 < l->len && l->src[p + 1] == '}') {
            if (l->parens > 0) {
                return fail(l, p, "unclosed left paren");
            }
            emit(l, TK_RDELIM, p, 2);
            l->pos = p + 2;
            *trim_next = false;
            return AR_OK;
        }
        if (is_ws(c)) {
            size_t e = p;

            if (right_trim_at(l, p)) {
                if (l->parens > 0) {
                    return fail(l, p, "unclosed left paren");
                }
                emit(l, TK_RDELIM, p + 1, 3);
                l->pos = p + 4;
                *trim_next = true;
                return AR_OK;
            }
            while (e < l->len && is_ws(l->src[e]) && !right_trim_at(l, e)) {
                e++;
            }
            if (right_trim_at(l, e)) {
                emit(l, TK_SPACE, p, e - p);
                l->pos = e;
                continue;
            }
            emit(l, TK_SPACE, p, e - p);
            l->pos = e;
            continue;
        }
        switch (c) {
        case '|':
            emit(l, TK_PIPE, p, 1);
            l->pos++;
            continue;
        case '(':
            l->parens++;
            emit(l, TK_LPAREN, p, 1);
            l->pos++;
            continue;
        case ')':
            /* an unbalanced ')' is reported by the parser, as Go does */
            l->parens--;
            emit(l, TK_RPAREN, p, 1);
            l->pos++;
            continue;
        case ',':
            emit(l, TK_COMMA, p, 1);
            l->pos++;
            continue;
        case ':':
            if (p + 1 < l->len && l->src[p + 1] == '=') {
                emit(l, TK_DECLARE, p, 2);
                l->pos += 2;
                continue;
            }
            return fail(l, p, "expected :=");
        case '=':
            emit(l, TK_ASSIGN, p, 1);
            l->pos++;
            continue;
        case '"':
        case '`':
        case '\'': {
            size_t e = scan_quoted(l, p, c, &rc);

            if (rc != AR_OK) {
                return rc;
            }
            emit(l, c == '"' ? TK_STRING : c == '`' ? TK_RAWSTR : TK_CHAR, p, e - p);
            l->pos = e;
            continue;
        }
        case '$': {
            size_t e = p + 1;

            while (e < l->len && is_alnum_byte((unsigned char)l->src[e])) {
                e++;
            }
            emit(l, TK_VAR, p, e - p);
            l->pos = e;
            continue;
        }
        default:
            break;
        }
        if (c == '.' && !(p + 1 < l->len && isdigit((unsigned char)l->src[p + 1]))) {
            size_t e = p + 1;

            while (e < l->len && is_alnum_byte((unsigned char)l->src[e])) {
                e++;
            }
            emit(l, e == p + 1 ? TK_DOT : TK_FIELD, p, e - p);
            l->pos = e;
            continue;
        }
        if (isdigit((unsigned char)c) || c == '.' ||
            ((c == '+' || c == '-') && p + 1 < l->len &&
             (isdigit((unsigned char)l->src[p + 1]) || l->src[p + 1] == '.'))) {
            size_t e = p + 1;

            while (e < l->len) {
                char d = l->src[e];

                if (isalnum((unsigned char)d) || d == '_' || d == '.') {
                    e++;
                } else if ((d == '+' || d == '-') && strchr("eEpP", l->src[e - 1]) != NULL &&
                           !(e >= 2 && l->src[p] == '0' &&
                             (l->src[p + 1] == 'x' || l->src[p + 1] == 'X') &&
                             strchr("eE", l->src[e - 1]) != NULL)) {
                    e++;
                } else {
                    break;
                }
            }
            emit(l, TK_NUMBER, p, e - p);
            l->pos = e;
            continue;
        }
        if (is_alnum_byte((unsigned char)c)) {
            size_t e = p;
            size_t k;
            enum tmpl_tok type = TK_IDENT;

            while (e < l->len && is_alnum_byte((unsigned char)l->src[e])) {
                e++;
            }
            for (k = 0; k < AR_ARRAY_LEN(keywords); k++) {
                if (strlen(keywords[k].word) == e - p &&
                    memcmp(keywords[k].word, l->src + p, e - p) == 0) {
                    type = keywords[k].type;
                }
            }
            emit(l, type, p, e - p);
            l->pos = e;
            continue;
        }
        {
            char m[64];

            /* COMPAT: Go reports printable ASCII as an unexpected item */
            if (c > ' ' && c < 0x7f) {
                snprintf(m, sizeof(m), "unexpected \"%c\" in command", c);
            } else {
                snprintf(m, sizeof(m), "unrecognized character in action: U+%04X",
                         (unsigned char)c);
            }
            return fail(l, p, m);
        }
    }
}

int tmpl_lex(const char *src, size_t len, struct tmpl_token **toks, size_t *ntoks, size_t *err_pos,
             char *msg, size_t msgsz)
{
    struct lex l;
    bool trim_next = false;
    int rc = AR_OK;

    memset(&l, 0, sizeof(l));
    l.src = src;
    l.len = len;
    l.msg = msg;
    l.msgsz = msgsz;
    while (l.pos < len) {
        const char *open = NULL;
        size_t start = l.pos;
        size_t end;
        size_t a;

        {
            size_t i;

            for (i = l.pos; i + 1 < len; i++) {
                if (src[i] == '{' && src[i + 1] == '{') {
                    open = src + i;
                    break;
                }
            }
        }
        end = open ? (size_t)(open - src) : len;
        if (trim_next) {
            while (start < end && is_ws(src[start])) {
                start++;
            }
        }
        if (open == NULL) {
            if (end > start) {
                emit(&l, TK_TEXT, start, end - start);
            }
            l.pos = len;
            break;
        }
        a = end + 2;
        if (left_trim_at(&l, end)) {
            size_t e = end;

            while (e > start && is_ws(src[e - 1])) {
                e--;
            }
            if (e > start) {
                emit(&l, TK_TEXT, start, e - start);
            }
            a = end + 3; /* the whitespace after '-' is lexed as space */
        } else if (end > start) {
            emit(&l, TK_TEXT, start, end - start);
        }
        /* Comment: opens with slash-star right after the delimiter (or after "{{- "), and
         * the closing star-slash must be followed at once by "}}" or " -}}". */
        {
            size_t c = a;

            while (c < len && c > end + 2 && is_ws(src[c])) {
                c++;
            }
            if (c + 1 < len && src[c] == '/' && src[c + 1] == '*' &&
                (c == end + 2 || c > end + 3)) {
                const char *close = NULL;
                size_t i;

                for (i = c + 2; i + 1 < len; i++) {
                    if (src[i] == '*' && src[i + 1] == '/') {
                        close = src + i;
                        break;
                    }
                }
                if (close == NULL) {
                    rc = fail(&l, end, "unclosed comment");
                    goto out;
                }
                i = (size_t)(close - src) + 2;
                if (i + 1 < len && src[i] == '}' && src[i + 1] == '}') {
                    l.pos = i + 2;
                    trim_next = false;
                    continue;
                }
                if (right_trim_at(&l, i)) {
                    l.pos = i + 4;
                    trim_next = true;
                    continue;
                }
                rc = fail(&l, end, "comment ends before closing delimiter");
                goto out;
            }
        }
        emit(&l, TK_LDELIM, end, a - end);
        l.pos = a;
        rc = lex_action(&l, &trim_next);
        if (rc != AR_OK) {
            goto out;
        }
    }
    emit(&l, TK_EOF, len, 0);
out:
    if (rc != AR_OK) {
        free(l.v);
        *err_pos = l.err_pos;
        return rc;
    }
    *toks = l.v;
    *ntoks = l.n;
    return AR_OK;
}

/* Label matchers: construction, the classic text parser (COMPAT 3.3), matching (COMPAT 3.2),
 * route-key ordering and printing (COMPAT 3.6).
 *
 * A matcher owns its name, value and, for =~ and !~, a compiled regex (regex.c) anchored as
 * ^(?:value)$. Matchers are immutable after construction, so one may be shared by threads
 * that only match. A matcher list is a growable array of owned matcher pointers. Parsing is
 * linear in the input; matching costs one string compare or one linear-time regex search. */
#include "ar/matcher.h"

#include <stdlib.h>
#include <string.h>

const char *matcher_op_str(enum matcher_op op)
{
    switch (op) {
    case MATCHER_EQ:
        return "=";
    case MATCHER_NE:
        return "!=";
    case MATCHER_RE:
        return "=~";
    case MATCHER_NRE:
        return "!~";
    }
    return "?";
}

static bool op_is_regex(enum matcher_op op)
{
    return op == MATCHER_RE || op == MATCHER_NRE;
}

int matcher_new(const char *name, enum matcher_op op, const char *value, struct matcher **out,
                struct ar_error *err)
{
    struct ar_regex *re = NULL;
    struct matcher *m;

    if (op_is_regex(op)) {
        int rc = regex_compile(value, &re, err);
        if (rc != AR_OK) {
            return rc;
        }
    }
    m = ar_calloc(1, sizeof(*m));
    m->name = ar_strdup(name);
    m->value = ar_strdup(value);
    m->op = op;
    m->re = re;
    *out = m;
    return AR_OK;
}

void matcher_free(struct matcher *m)
{
    if (m == NULL) {
        return;
    }
    regex_free(m->re);
    free(m->name);
    free(m->value);
    free(m);
}

struct matcher *matcher_dup(const struct matcher *m)
{
    struct matcher *copy = NULL;

    /* The value compiled once already, so only exhausted memory can make this fail. */
    if (matcher_new(m->name, m->op, m->value, &copy, NULL) != AR_OK) {
        abort();
    }
    return copy;
}

/* ---- classic parser ---- */

/* Go regexp's \s: [\t\n\f\r ] (no \v). */
static bool is_re_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Decodes one rune like Go's range loop over a string: returns its length, or 0 when the
 * byte at s does not start a valid sequence (Go yields U+FFFD and moves one byte). */
static size_t utf8_len(const char *s, const char *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len;

    if (u[0] < 0x80) {
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0) {
        len = 2;
    } else if ((u[0] & 0xf0) == 0xe0) {
        len = 3;
    } else if ((u[0] & 0xf8) == 0xf0) {
        len = 4;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < len || !utf8_is_valid(s, len)) {
        return 0;
    }
    return len;
}

int matcher_parse(const char *s, struct matcher **out, struct ar_error *err)
{
    const char *p = s;
    const char *name;
    size_t name_len;
    enum matcher_op op;
    const char *raw;
    const char *raw_end;
    const char *v;
    bool want_quote = false;
    struct buf value;
    char *name_copy = NULL;
    int rc = AR_OK;

    /* COMPAT: ^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$ */
    while (is_re_space(*p)) {
        p++;
    }
    if (!is_name_start(*p)) {
        goto bad_format;
    }
    name = p;
    while (is_name_char(*p)) {
        p++;
    }
    name_len = (size_t)(p - name);
    while (is_re_space(*p)) {
        p++;
    }
    if (p[0] == '=' && p[1] == '~') {
        op = MATCHER_RE;
        p += 2;
    } else if (p[0] == '=') {
        op = MATCHER_EQ;
        p += 1;
    } else if (p[0] == '!' && p[1] == '=') {
        op = MATCHER_NE;
        p += 2;
    } else if (p[0] == '!' && p[1] == '~') {
        op = MATCHER_NRE;
        p += 2;
    } else {
        goto bad_format;
    }
    while (is_re_space(*p)) {
        p++;
    }
    raw = p;
    raw_end = p + strlen(p);
    while (raw_end > raw && is_re_space(raw_end[-1])) {
        raw_end--;
    }

    v = raw;
    if (v < raw_end && *v == '"') {
        v++;
        want_quote = true;
    }
    if (!utf8_is_valid(v, (size_t)(raw_end - v))) {
        ar_error_set(err, "matcher value not valid UTF-8: %.*s", (int)(raw_end - raw), raw);
        return AR_EINVAL;
    }
    buf_init(&value, 0);
    for (const char *q = v; q < raw_end; q++) {
        if (*q == '\\') {
            if (q + 1 == raw_end) {
                rc = buf_putc(&value, '\\'); /* a trailing lone backslash stays */
            } else {
                q++;
                if (*q == 'n') {
                    rc = buf_putc(&value, '\n');
                } else if (*q == '"' || *q == '\\') {
                    rc = buf_putc(&value, *q);
                } else {
                    /* any other escape keeps both characters */
                    rc = buf_putc(&value, '\\');
                    rc = rc == AR_OK ? buf_putc(&value, *q) : rc;
                }
            }
        } else if (*q == '"') {
            if (!want_quote || q + 1 != raw_end) {
                goto bad_quote;
            }
            want_quote = false;
        } else {
            rc = buf_putc(&value, *q);
        }
        if (rc != AR_OK) {
            buf_cleanup(&value);
            return rc;
        }
    }
    if (want_quote) {
        goto bad_quote;
    }
    name_copy = ar_strndup(name, name_len);
    rc = matcher_new(name_copy, op, buf_str(&value), out, err);
    free(name_copy);
    buf_cleanup(&value);
    return rc;

bad_quote:
    buf_cleanup(&value);
    ar_error_set(err, "matcher value contains unescaped double quote: %.*s", (int)(raw_end - raw),
                 raw);
    return AR_EINVAL;
bad_format:
    ar_error_set(err, "bad matcher format: %s", s);
    return AR_EINVAL;
}

/* Go's unicode.IsSpace, as used by strings.TrimSpace. */
static bool is_unicode_space(const char *s, size_t len)
{
    static const char *const wide[] = {
        "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
        "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
        "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
    };

    if (len == 1) {
        return is_re_space(s[0]) || s[0] == '\v';
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(wide); i++) {
        if (strlen(wide[i]) == len && memcmp(wide[i], s, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Go's strings.TrimSpace on a valid UTF-8 string; returns the trimmed copy. */
static char *trim_space_dup(const char *s)
{
    const char *end = s + strlen(s);
    const char *last = s;

    while (s < end) {
        size_t len = utf8_len(s, end);
        if (len == 0 || !is_unicode_space(s, len)) {
            break;
        }
        s += len;
    }
    /* scan forward for the end of the last non-space rune */
    last = s;
    for (const char *q = s; q < end;) {
        size_t len = utf8_len(q, end);
        len = len == 0 ? 1 : len;
        q += len;
        if (!is_unicode_space(q - len, len)) {
            last = q;
        }
    }
    return ar_strndup(s, (size_t)(last - s));
}

int matchers_parse(const char *s, struct matcher_list *out, struct ar_error *err)
{
    const char *p = s;
    const char *end = s + strlen(s);
    bool in_quotes = false;
    bool escaped = false;
    struct buf token;
    struct matcher_list tmp;
    char *piece = NULL;
    int rc = AR_OK;

    /* COMPAT: one leading "{" and one trailing "}" are dropped, balanced or not. */
    if (p < end && *p == '{') {
        p++;
    }
    if (end > p && end[-1] == '}') {
        end--;
    }
    buf_init(&token, 0);
    matcher_list_init(&tmp);
    while (p < end && rc == AR_OK) {
        size_t len = utf8_len(p, end);

        if (len == 0) {
            /* COMPAT: Go's rune loop turns each invalid byte into U+FFFD. */
            rc = buf_puts(&token, "\xef\xbf\xbd");
            escaped = false;
            p++;
            continue;
        }
        if (*p == ',' && !in_quotes) {
            struct matcher *m = NULL;
            rc = matcher_parse(buf_str(&token), &m, err);
            if (rc == AR_OK) {
                matcher_list_add_take(&tmp, m);
            }
            buf_reset(&token);
            p++;
            continue;
        }
        if (*p == '"') {
            if (!escaped) {
                in_quotes = !in_quotes;
            } else {
                escaped = false;
            }
        } else if (*p == '\\') {
            escaped = !escaped;
        } else if (*p != ',') {
            escaped = false; /* a quoted comma leaves the escape state alone, as upstream */
        }
        rc = buf_append(&token, p, len);
        p += len;
    }
    if (rc == AR_OK) {
        /* the last piece is trimmed and skipped when empty ("a=b," is one matcher) */
        piece = trim_space_dup(buf_str(&token));
        if (piece[0] != '\0') {
            struct matcher *m = NULL;
            rc = matcher_parse(piece, &m, err);
            if (rc == AR_OK) {
                matcher_list_add_take(&tmp, m);
            }
        }
        free(piece);
    }
    if (rc == AR_OK) {
        for (size_t i = 0; i < tmp.n; i++) {
            matcher_list_add_take(out, tmp.v[i]);
            tmp.v[i] = NULL;
        }
        tmp.n = 0;
    }
    matcher_list_cleanup(&tmp);
    buf_cleanup(&token);
    return rc;
}

/* ---- matching ---- */

bool matcher_matches(const struct matcher *m, const char *value)
{
    switch (m->op) {
    case MATCHER_EQ:
        return strcmp(value, m->value) == 0;
    case MATCHER_NE:
        return strcmp(value, m->value) != 0;
    case MATCHER_RE:
        return regex_match(m->re, value, strlen(value));
    case MATCHER_NRE:
        return !regex_match(m->re, value, strlen(value));
    }
    return false;
}

bool matchers_match(const struct matcher_list *l, const struct labelset *ls)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *v = labelset_get(ls, l->v[i]->name);
        if (!matcher_matches(l->v[i], v != NULL ? v : "")) { /* COMPAT: missing label is "" */
            return false;
        }
    }
    return true;
}

/* ---- lists ---- */

void matcher_list_init(struct matcher_list *l)
{
    l->v = NULL;
    l->n = 0;
}

void matcher_list_cleanup(struct matcher_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        matcher_free(l->v[i]);
    }
    AR_FREE(l->v);
    l->n = 0;
}

void matcher_list_add_take(struct matcher_list *l, struct matcher *m)
{
    l->v = ar_realloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = m;
}

static int cmp_matcher(const void *a, const void *b)
{
    const struct matcher *x = *(const struct matcher *const *)a;
    const struct matcher *y = *(const struct matcher *const *)b;
    int c = strcmp(x->name, y->name);

    if (c == 0) {
        c = strcmp(x->value, y->value);
    }
    if (c == 0) {
        c = (int)x->op - (int)y->op; /* enum order is = != =~ !~ */
    }
    return c;
}

void matcher_list_sort(struct matcher_list *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(*l->v), cmp_matcher);
    }
}

/* ---- printing ---- */

void matcher_format(const struct matcher *m, struct buf *out)
{
    buf_puts(out, m->name);
    buf_puts(out, matcher_op_str(m->op));
    buf_putc(out, '"');
    for (const char *p = m->value; *p != '\0'; p++) {
        if (*p == '\\') {
            buf_puts(out, "\\\\");
        } else if (*p == '\n') {
            buf_puts(out, "\\n");
        } else if (*p == '"') {
            buf_puts(out, "\\\"");
        } else {
            buf_putc(out, *p);
        }
    }
    buf_putc(out, '"');
}

void matcher_list_format(const struct matcher_list *l, struct buf *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0) {
            buf_putc(out, ',');
        }
        matcher_format(l->v[i], out);
    }
    buf_putc(out, '}');
}

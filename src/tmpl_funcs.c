/* Template functions: Go's text/template built-ins (and, or, not, len, index, slice, print,
 * printf, println, eq..ge, html, js, urlquery, call) and Alertmanager's function map
 * (COMPAT 8.3: toUpper ... routeLabels), plus the printf engine with Go verbs. The table is
 * sorted by name for binary search at parse time. Regular expressions use PCRE2 unanchored
 * with match and depth limits, compiled per call (templates rarely use them in loops).
 * Unicode case mapping uses the C.UTF-8 locale's towupper/towlower. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include "ar/gotime.h"
#include "ar/tz.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#define FN(name)                                                                                   \
    static int fn_##name(struct tmpl_exec *ex, struct tmpl_value **a, size_t n,                    \
                         struct tmpl_value **res)

/* ---- helpers -------------------------------------------------------------------------------- */

static int need_string(struct tmpl_exec *ex, const char *fn, const struct tmpl_value *v)
{
    if (v == NULL || v->type != TMPL_STRING) {
        return tmpl_exec_errorf(ex, "wrong type for value; expected string; got %s",
                                tmpl_type_name(v));
    }
    (void)fn;
    return AR_OK;
}

/* Always AR_EINVAL, spelled out here (not only in tmpl_exec_errorf's contract) so that the
 * compiler, which cannot see into tmpl_exec.c, knows a failing helper never returns AR_OK
 * and so never leaves an out-parameter unwritten on a success path. */
static int call_error(struct tmpl_exec *ex, const char *fn, const char *msg)
{
    (void)tmpl_exec_errorf(ex, "error calling %s: %s", fn, msg);
    return AR_EINVAL;
}

static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0) {
        return 0;
    }
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && n >= 2 && (s[1] & 0xC0) == 0x80 && s[0] >= 0xC2) {
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        if (*cp >= 0x800 && (*cp < 0xD800 || *cp > 0xDFFF)) {
            return 3;
        }
        return -1;
    }
    if ((s[0] & 0xF8) == 0xF0 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (s[3] & 0xC0) == 0x80) {
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
              (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        if (*cp >= 0x10000 && *cp <= 0x10FFFF) {
            return 4;
        }
    }
    return -1;
}

static void utf8_put(struct buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | (cp >> 6)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xE0 | (cp >> 12)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (char)(0xF0 | (cp >> 18)));
        buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Next rune of s at *i (U+FFFD and one byte for invalid UTF-8). */
static uint32_t next_rune(const char *s, size_t n, size_t *i, bool *valid)
{
    uint32_t cp = 0xFFFD;
    int k = utf8_decode((const unsigned char *)s + *i, n - *i, &cp);

    if (k <= 0) {
        *i += 1;
        if (valid) {
            *valid = false;
        }
        return 0xFFFD;
    }
    *i += (size_t)k;
    if (valid) {
        *valid = true;
    }
    return cp;
}

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8_locale == (locale_t)0) {
        utf8_locale = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    }
}

static uint32_t rune_upper(uint32_t c)
{
    pthread_once(&utf8_once, utf8_locale_init);
    if (c < 0x80) {
        return (uint32_t)toupper((int)c);
    }
    return utf8_locale ? (uint32_t)towupper_l((wint_t)c, utf8_locale) : c;
}

static uint32_t rune_lower(uint32_t c)
{
    pthread_once(&utf8_once, utf8_locale_init);
    if (c < 0x80) {
        return (uint32_t)tolower((int)c);
    }
    return utf8_locale ? (uint32_t)towlower_l((wint_t)c, utf8_locale) : c;
}

static bool rune_is_letter_digit(uint32_t c)
{
    pthread_once(&utf8_once, utf8_locale_init);
    if (c < 0x80) {
        return isalnum((int)c) != 0;
    }
    return utf8_locale ? iswalnum_l((wint_t)c, utf8_locale) != 0 : true;
}

static bool rune_is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* fmt.Sprint-like rendering of the arguments of html/js/urlquery (evalArgs). */
static char *eval_args_string(struct tmpl_exec *ex, struct tmpl_value **a, size_t n, size_t *len)
{
    struct buf b;

    buf_init(&b, ex->set->max_output);
    if (n == 1 && a[0]->type == TMPL_STRING) {
        buf_append(&b, a[0]->u.s.p, a[0]->u.s.len);
    } else {
        tmpl_fmt_print(&b, a, n, false, ex->set->kv);
    }
    *len = b.len;
    if (b.data == NULL) {
        buf_cleanup(&b);
        return ar_strdup("");
    }
    return buf_take(&b);
}

static int string_result(struct buf *b, struct tmpl_value **res)
{
    *res = tmpl_string_n(buf_str(b), b->len);
    buf_cleanup(b);
    return AR_OK;
}

/* ---- Go built-ins ------------------------------------------------------------------------- */

FN(not )
{
    *res = tmpl_bool(!tmpl_truth(a[0]));
    return AR_OK;
}

FN(len)
{
    const struct tmpl_value *v = a[0];

    switch (v->type) {
    case TMPL_STRING:
        *res = tmpl_int((int64_t)v->u.s.len);
        return AR_OK;
    case TMPL_LIST:
        *res = tmpl_int((int64_t)v->u.list.n);
        return AR_OK;
    case TMPL_MAP:
        *res = tmpl_int((int64_t)v->u.map.n);
        return AR_OK;
    default: {
        char m[96];

        snprintf(m, sizeof(m), "len of type %s", tmpl_type_name(v));
        return call_error(ex, "len", m);
    }
    }
}

static int index_int(struct tmpl_exec *ex, const char *fn, const struct tmpl_value *v, int64_t *i)
{
    if (v->type == TMPL_INT) {
        *i = v->u.i;
        return AR_OK;
    }
    if (v->type == TMPL_NIL) {
        return call_error(ex, fn, "cannot index slice/array with nil");
    }
    {
        char m[96];

        snprintf(m, sizeof(m), "cannot index slice/array with type %s", tmpl_type_name(v));
        return call_error(ex, fn, m);
    }
}

FN(index)
{
    struct tmpl_value *cur = tmpl_value_ref(a[0]);
    size_t k;

    for (k = 1; k < n; k++) {
        struct tmpl_value *next = NULL;
        char m[96];

        if (cur->type == TMPL_LIST || cur->type == TMPL_STRING) {
            int64_t i;
            size_t len = cur->type == TMPL_LIST ? cur->u.list.n : cur->u.s.len;

            if (index_int(ex, "index", a[k], &i) != AR_OK) {
                tmpl_value_unref(cur);
                return AR_EINVAL;
            }
            if (i < 0 || (uint64_t)i >= len) {
                tmpl_value_unref(cur);
                snprintf(m, sizeof(m), "index out of range: %" PRId64, i);
                return call_error(ex, "index", m);
            }
            next = cur->type == TMPL_LIST ? tmpl_value_ref(cur->u.list.v[i])
                                          : tmpl_int((unsigned char)cur->u.s.p[i]);
        } else if (cur->type == TMPL_MAP) {
            struct tmpl_value *v;

            if (a[k]->type != TMPL_STRING) {
                tmpl_value_unref(cur);
                snprintf(m, sizeof(m), "value has type %s; should be string", tmpl_type_name(a[k]));
                return call_error(ex, "index", m);
            }
            v = tmpl_map_find(cur, a[k]->u.s.p);
            next = v ? tmpl_value_ref(v) : cur->kind == TMPL_K_KV ? tmpl_string("") : tmpl_nil();
        } else if (cur->type == TMPL_NIL) {
            tmpl_value_unref(cur);
            return call_error(ex, "index", "index of untyped nil");
        } else {
            snprintf(m, sizeof(m), "can't index item of type %s", tmpl_type_name(cur));
            tmpl_value_unref(cur);
            return call_error(ex, "index", m);
        }
        tmpl_value_unref(cur);
        cur = next;
    }
    *res = cur;
    return AR_OK;
}

FN(slice)
{
    const struct tmpl_value *v = a[0];
    int64_t idx[3] = {0, 0, 0};
    size_t len;
    size_t k;
    char m[96];

    if (v->type != TMPL_STRING && v->type != TMPL_LIST) {
        snprintf(m, sizeof(m), "can't slice item of type %s", tmpl_type_name(v));
        return call_error(ex, "slice", m);
    }
    len = v->type == TMPL_STRING ? v->u.s.len : v->u.list.n;
    if (n > 4) {
        snprintf(m, sizeof(m), "too many slice indexes: %zu", n - 1);
        return call_error(ex, "slice", m);
    }
    if (n == 4 && v->type == TMPL_STRING) {
        return call_error(ex, "slice", "cannot 3-index slice a string");
    }
    idx[1] = (int64_t)len;
    idx[2] = (int64_t)len;
    for (k = 1; k < n; k++) {
        if (index_int(ex, "slice", a[k], &idx[k - 1]) != AR_OK) {
            return AR_EINVAL;
        }
        if (idx[k - 1] < 0 || idx[k - 1] > (int64_t)len) {
            snprintf(m, sizeof(m), "index out of range: %" PRId64, idx[k - 1]);
            return call_error(ex, "slice", m);
        }
    }
    if (idx[0] > idx[1] || (n == 4 && idx[1] > idx[2])) {
        snprintf(m, sizeof(m), "invalid slice index: %" PRId64 " > %" PRId64, idx[0], idx[1]);
        return call_error(ex, "slice", m);
    }
    if (v->type == TMPL_STRING) {
        *res = tmpl_string_n(v->u.s.p + idx[0], (size_t)(idx[1] - idx[0]));
    } else {
        struct tmpl_value *out = tmpl_list_new(v->kind);
        int64_t i;

        for (i = idx[0]; i < idx[1]; i++) {
            tmpl_list_push_take(out, tmpl_value_ref(v->u.list.v[i]));
        }
        *res = out;
    }
    return AR_OK;
}

FN(print)
{
    struct buf b;

    buf_init(&b, ex->set->max_output);
    if (tmpl_fmt_print(&b, a, n, false, ex->set->kv) != AR_OK) {
        buf_cleanup(&b);
        return call_error(ex, "print", "output size limit exceeded");
    }
    return string_result(&b, res);
}

FN(println)
{
    struct buf b;

    buf_init(&b, ex->set->max_output);
    if (tmpl_fmt_print(&b, a, n, true, ex->set->kv) != AR_OK) {
        buf_cleanup(&b);
        return call_error(ex, "println", "output size limit exceeded");
    }
    return string_result(&b, res);
}

FN(printf)
{
    struct buf b;

    if (need_string(ex, "printf", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    buf_init(&b, ex->set->max_output);
    if (tmpl_fmt_printf(&b, a[0]->u.s.p, a[0]->u.s.len, a + 1, n - 1, ex->set->kv) != AR_OK) {
        buf_cleanup(&b);
        return call_error(ex, "printf", "output size limit exceeded");
    }
    return string_result(&b, res);
}

static int compare(struct tmpl_exec *ex, const char *fn, const struct tmpl_value *x,
                   const struct tmpl_value *y, bool ordered, int *c)
{
    char m[512];

    if (tmpl_compare(x, y, ordered, c, m, sizeof(m)) != AR_OK) {
        return call_error(ex, fn, m);
    }
    return AR_OK;
}

FN(eq)
{
    size_t k;
    int c = 1;

    if (n < 2) {
        return call_error(ex, "eq", "missing argument for comparison");
    }
    for (k = 1; k < n; k++) {
        if (compare(ex, "eq", a[0], a[k], false, &c) != AR_OK) {
            return AR_EINVAL;
        }
        if (c == 0) {
            *res = tmpl_bool(true);
            return AR_OK;
        }
    }
    *res = tmpl_bool(false);
    return AR_OK;
}

FN(ne)
{
    int c;

    if (compare(ex, "ne", a[0], a[1], false, &c) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_bool(c != 0);
    return AR_OK;
}

FN(lt)
{
    int c;

    if (compare(ex, "lt", a[0], a[1], true, &c) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_bool(c == -1);
    return AR_OK;
}

FN(le)
{
    int c;

    if (compare(ex, "le", a[0], a[1], true, &c) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_bool(c == -1 || c == 0);
    return AR_OK;
}

FN(gt)
{
    int c;

    if (compare(ex, "gt", a[0], a[1], true, &c) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_bool(c == 1);
    return AR_OK;
}

FN(ge)
{
    int c;

    if (compare(ex, "ge", a[0], a[1], true, &c) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_bool(c == 1 || c == 0);
    return AR_OK;
}

FN(html)
{
    size_t len;
    char *s = eval_args_string(ex, a, n, &len);
    struct buf b;
    size_t i;

    buf_init(&b, ex->set->max_output);
    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':
            buf_puts(&b, "&#34;");
            break;
        case '\'':
            buf_puts(&b, "&#39;");
            break;
        case '&':
            buf_puts(&b, "&amp;");
            break;
        case '<':
            buf_puts(&b, "&lt;");
            break;
        case '>':
            buf_puts(&b, "&gt;");
            break;
        case '\0':
            buf_puts(&b, "\xef\xbf\xbd");
            break;
        default:
            buf_putc(&b, s[i]);
        }
    }
    free(s);
    return string_result(&b, res);
}

FN(js)
{
    size_t len;
    char *s = eval_args_string(ex, a, n, &len);
    struct buf b;
    size_t i = 0;

    buf_init(&b, ex->set->max_output);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80) {
            switch (c) {
            case '\\':
                buf_puts(&b, "\\\\");
                break;
            case '\'':
                buf_puts(&b, "\\'");
                break;
            case '"':
                buf_puts(&b, "\\\"");
                break;
            case '<':
                buf_puts(&b, "\\u003C");
                break;
            case '>':
                buf_puts(&b, "\\u003E");
                break;
            case '&':
                buf_puts(&b, "\\u0026");
                break;
            case '=':
                buf_puts(&b, "\\u003D");
                break;
            default:
                if (c < ' ') {
                    buf_printf(&b, "\\u%04X", c);
                } else {
                    buf_putc(&b, (char)c);
                }
            }
            i++;
            continue;
        }
        {
            size_t start = i;
            uint32_t r = next_rune(s, len, &i, NULL);

            if (r == 0xFFFD || r == 0x2028 || r == 0x2029 || (r >= 0x80 && r < 0xA0)) {
                buf_printf(&b, "\\u%04X", (unsigned)r);
            } else {
                buf_append(&b, s + start, i - start);
            }
        }
    }
    free(s);
    return string_result(&b, res);
}

static void query_escape(struct buf *b, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            buf_putc(b, (char)c);
        } else if (c == ' ') {
            buf_putc(b, '+');
        } else {
            buf_printf(b, "%%%02X", c);
        }
    }
}

FN(urlquery)
{
    size_t len;
    char *s = eval_args_string(ex, a, n, &len);
    struct buf b;

    buf_init(&b, ex->set->max_output);
    query_escape(&b, s, len);
    free(s);
    return string_result(&b, res);
}

FN(call)
{
    char m[96];

    snprintf(m, sizeof(m), "non-function of type %s", tmpl_type_name(a[0]));
    return call_error(ex, "call", m);
}

/* ---- Alertmanager functions ---------------------------------------------------------------- */

static int map_runes(struct tmpl_exec *ex, const char *fn, struct tmpl_value *v,
                     uint32_t (*f)(uint32_t), struct tmpl_value **res)
{
    struct buf b;
    size_t i = 0;

    if (need_string(ex, fn, v) != AR_OK) {
        return AR_EINVAL;
    }
    buf_init(&b, 0);
    buf_reserve(&b, v->u.s.len + 1);
    while (i < v->u.s.len) {
        utf8_put(&b, f(next_rune(v->u.s.p, v->u.s.len, &i, NULL)));
    }
    return string_result(&b, res);
}

FN(toUpper)
{
    return map_runes(ex, "toUpper", a[0], rune_upper, res);
}

FN(toLower)
{
    return map_runes(ex, "toLower", a[0], rune_lower, res);
}

static bool rune_is_cased(uint32_t r)
{
    return rune_upper(r) != r || rune_lower(r) != r;
}

/* Title case of a rune: the Latin digraphs have their own title forms. */
static uint32_t rune_title(uint32_t r)
{
    if (r >= 0x1C4 && r <= 0x1CC) {
        return 0x1C5 + (r - 0x1C4) / 3 * 3;
    }
    if (r >= 0x1F1 && r <= 0x1F3) {
        return 0x1F2;
    }
    return rune_upper(r);
}

/* COMPAT: like golang.org/x/text/cases Title (used by Alertmanager): in each word the first
 * cased letter is title-cased and the rest lower-cased. Words are runs of letters, digits and
 * '_', also joined by ' . : and U+2019 between letters ("o'neil", "foo.bar" and "x:y" are one
 * word; "a-b" and "c/d" are two). */
FN(title)
{
    struct buf b;
    const char *s;
    size_t len;
    size_t i = 0;
    bool in_word = false;
    bool cased_seen = false;

    if (need_string(ex, "title", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    s = a[0]->u.s.p;
    len = a[0]->u.s.len;
    buf_init(&b, 0);
    while (i < len) {
        uint32_t r = next_rune(s, len, &i, NULL);
        bool word_char = rune_is_letter_digit(r) || r == '_';

        if (!word_char && in_word && (r == '\'' || r == '.' || r == ':' || r == 0x2019) &&
            i < len) {
            size_t j = i;
            uint32_t next = next_rune(s, len, &j, NULL);

            word_char = rune_is_letter_digit(next) || next == '_';
        }
        if (!word_char) {
            utf8_put(&b, r);
            in_word = false;
            continue;
        }
        if (!in_word) {
            cased_seen = false;
        }
        in_word = true;
        if (!cased_seen && rune_is_cased(r)) {
            utf8_put(&b, rune_title(r));
            cased_seen = true;
        } else {
            utf8_put(&b, rune_lower(r));
        }
    }
    return string_result(&b, res);
}

FN(trimSpace)
{
    const char *s;
    size_t len;
    size_t start = 0;
    size_t end;

    if (need_string(ex, "trimSpace", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    s = a[0]->u.s.p;
    len = a[0]->u.s.len;
    while (start < len) {
        size_t j = start;
        bool valid;
        uint32_t r = next_rune(s, len, &j, &valid);

        if (!valid || !rune_is_space(r)) {
            break;
        }
        start = j;
    }
    end = len;
    while (end > start) {
        size_t k = end - 1;
        size_t j;
        bool valid;
        uint32_t r;

        while (k > start && ((unsigned char)s[k] & 0xC0) == 0x80 && end - k < 4) {
            k--;
        }
        j = k;
        r = next_rune(s, len, &j, &valid);
        if (!valid || j != end || !rune_is_space(r)) {
            break;
        }
        end = k;
    }
    *res = tmpl_string_n(s + start, end - start);
    return AR_OK;
}

FN(join)
{
    struct buf b;
    size_t i;
    const struct tmpl_value *l = a[1];

    if (need_string(ex, "join", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    if (l->type != TMPL_LIST) {
        return tmpl_exec_errorf(ex, "wrong type for value; expected []string; got %s",
                                tmpl_type_name(l));
    }
    buf_init(&b, ex->set->max_output);
    for (i = 0; i < l->u.list.n; i++) {
        const struct tmpl_value *e = l->u.list.v[i];

        if (e->type != TMPL_STRING) {
            buf_cleanup(&b);
            return tmpl_exec_errorf(ex, "wrong type for value; expected []string; got %s",
                                    tmpl_type_name(l));
        }
        if ((i > 0 && buf_append(&b, a[0]->u.s.p, a[0]->u.s.len) != AR_OK) ||
            buf_append(&b, e->u.s.p, e->u.s.len) != AR_OK) {
            buf_cleanup(&b);
            return call_error(ex, "join", "output size limit exceeded");
        }
    }
    return string_result(&b, res);
}

/* COMPAT: match reports Go's "error parsing regexp: ..." and reReplaceAll (MustCompile) adds
 * "regexp: Compile(`<pattern>`): " in front; the detail text is PCRE2's. */
static pcre2_code *re_compile(struct tmpl_exec *ex, const char *fn, const struct tmpl_value *pat)
{
    int errcode = 0;
    PCRE2_SIZE erroff = 0; /* not reported: Go's messages quote the pattern instead */
    /* RE2 semantics where PCRE2 differs: "$" matches only at the very end (no (?m)). */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat->u.s.p, pat->u.s.len,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                   &errcode, &erroff, NULL);

    if (re == NULL) {
        PCRE2_UCHAR msg[160];
        char m[300];

        pcre2_get_error_message(errcode, msg, sizeof(msg));
        if (strcmp(fn, "reReplaceAll") == 0) {
            snprintf(m, sizeof(m), "regexp: Compile(`%.60s`): error parsing regexp: %s: `%.60s`",
                     pat->u.s.p, (char *)msg, pat->u.s.p);
        } else {
            snprintf(m, sizeof(m), "error parsing regexp: %s: `%.60s`", (char *)msg, pat->u.s.p);
        }
        call_error(ex, fn, m);
    }
    return re;
}

static pcre2_match_context *re_context(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);

    if (mc != NULL) {
        pcre2_set_match_limit(mc, 1000000);
        pcre2_set_depth_limit(mc, 10000);
    }
    return mc;
}

FN(match)
{
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    int rc;

    if (need_string(ex, "match", a[0]) != AR_OK || need_string(ex, "match", a[1]) != AR_OK) {
        return AR_EINVAL;
    }
    re = re_compile(ex, "match", a[0]);
    if (re == NULL) {
        return AR_EINVAL;
    }
    md = pcre2_match_data_create_from_pattern(re, NULL);
    mc = re_context();
    rc = pcre2_match(re, (PCRE2_SPTR)a[1]->u.s.p, a[1]->u.s.len, 0, 0, md, mc);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        return call_error(ex, "match", "regular expression match limit exceeded");
    }
    *res = tmpl_bool(rc >= 0);
    return AR_OK;
}

/* Go Regexp.Expand: $1, $name, ${name}, $$. */
static void expand_repl(struct buf *b, const char *t, size_t tl, const char *subj,
                        const PCRE2_SIZE *ov, int ngroups, const pcre2_code *re)
{
    size_t i = 0;

    while (i < tl) {
        size_t start;
        size_t end;
        char name[64];
        size_t nl;
        int group = -1;
        bool braces = false;

        if (t[i] != '$') {
            buf_putc(b, t[i++]);
            continue;
        }
        if (i + 1 < tl && t[i + 1] == '$') {
            buf_putc(b, '$');
            i += 2;
            continue;
        }
        start = i + 1;
        if (start < tl && t[start] == '{') {
            braces = true;
            start++;
        }
        end = start;
        while (end < tl && (isalnum((unsigned char)t[end]) || t[end] == '_')) {
            end++;
        }
        if (end == start || (braces && (end >= tl || t[end] != '}'))) {
            buf_putc(b, '$'); /* malformed: literal dollar */
            i++;
            continue;
        }
        nl = end - start;
        if (nl >= sizeof(name)) {
            nl = sizeof(name) - 1;
        }
        memcpy(name, t + start, nl);
        name[nl] = '\0';
        {
            bool numeric = true;
            size_t k;

            for (k = 0; k < nl; k++) {
                if (!isdigit((unsigned char)name[k])) {
                    numeric = false;
                }
            }
            if (numeric) {
                group = nl < 9 ? (int)strtol(name, NULL, 10) : -1;
            } else {
                group = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
            }
        }
        if (group >= 0 && group < ngroups && ov[2 * group] != PCRE2_UNSET) {
            buf_append(b, subj + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
        }
        i = braces ? end + 1 : end;
    }
}

FN(reReplaceAll)
{
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    const char *src;
    size_t len;
    size_t search = 0;
    size_t last_end = 0;
    bool have_last = false;
    struct buf b;
    int rc = AR_OK;

    if (need_string(ex, "reReplaceAll", a[0]) != AR_OK ||
        need_string(ex, "reReplaceAll", a[1]) != AR_OK ||
        need_string(ex, "reReplaceAll", a[2]) != AR_OK) {
        return AR_EINVAL;
    }
    re = re_compile(ex, "reReplaceAll", a[0]);
    if (re == NULL) {
        return AR_EINVAL;
    }
    md = pcre2_match_data_create_from_pattern(re, NULL);
    mc = re_context();
    src = a[2]->u.s.p;
    len = a[2]->u.s.len;
    buf_init(&b, ex->set->max_output);
    /* COMPAT: Go's ReplaceAll; an empty match right after the previous match is skipped and
     * the search always advances by at least one character. */
    while (search <= len) {
        int m = pcre2_match(re, (PCRE2_SPTR)src, len, search, 0, md, mc);
        PCRE2_SIZE *ov;
        size_t ms;
        size_t me;
        size_t width = 1;

        if (m == PCRE2_ERROR_NOMATCH) {
            break;
        }
        if (m < 0) {
            rc = call_error(ex, "reReplaceAll", "regular expression match limit exceeded");
            break;
        }
        ov = pcre2_get_ovector_pointer(md);
        ms = ov[0];
        me = ov[1];
        buf_append(&b, src + last_end, ms > last_end ? ms - last_end : 0);
        if (me > last_end || ms == 0 || !have_last) {
            if (!(have_last && me == last_end && ms == me && ms != 0)) {
                expand_repl(&b, a[1]->u.s.p, a[1]->u.s.len, src, ov, m, re);
            }
        }
        last_end = me;
        have_last = true;
        if (search < len) {
            size_t j = search;

            next_rune(src, len, &j, NULL);
            width = j - search;
        }
        if (search + width > me) {
            search += width;
        } else {
            search = me;
        }
        if (b.len > ex->set->max_output) {
            break;
        }
    }
    if (rc == AR_OK) {
        buf_append(&b, src + last_end, len - last_end);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (rc != AR_OK) {
        buf_cleanup(&b);
        return rc;
    }
    return string_result(&b, res);
}

FN(safeHtml)
{
    if (need_string(ex, "safeHtml", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_string_n(a[0]->u.s.p, a[0]->u.s.len);
    (*res)->kind = TMPL_K_SAFE_HTML;
    return AR_OK;
}

FN(safeUrl)
{
    if (need_string(ex, "safeUrl", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    *res = tmpl_string_n(a[0]->u.s.p, a[0]->u.s.len);
    (*res)->kind = TMPL_K_SAFE_URL;
    return AR_OK;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

FN(urlUnescape)
{
    struct buf b;
    size_t i;
    const char *s;
    size_t len;

    if (need_string(ex, "urlUnescape", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    s = a[0]->u.s.p;
    len = a[0]->u.s.len;
    buf_init(&b, 0);
    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len + 0 || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2])) {
                char m[64];

                snprintf(m, sizeof(m), "invalid URL escape \"%.*s\"",
                         (int)(len - i < 3 ? len - i : 3), s + i);
                buf_cleanup(&b);
                return call_error(ex, "urlUnescape", m);
            }
            buf_putc(&b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else if (s[i] == '+') {
            buf_putc(&b, ' ');
        } else {
            buf_putc(&b, s[i]);
        }
    }
    return string_result(&b, res);
}

FN(stringSlice)
{
    struct tmpl_value *l = tmpl_list_new(TMPL_K_STRINGS);
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i]->type != TMPL_STRING) {
            tmpl_value_unref(l);
            return tmpl_exec_errorf(ex, "wrong type for value; expected string; got %s",
                                    tmpl_type_name(a[i]));
        }
        tmpl_list_push_take(l, tmpl_value_ref(a[i]));
    }
    *res = l;
    return AR_OK;
}

static int need_time(struct tmpl_exec *ex, const struct tmpl_value *v)
{
    if (v->type != TMPL_TIME) {
        return tmpl_exec_errorf(ex, "wrong type for value; expected time.Time; got %s",
                                tmpl_type_name(v));
    }
    return AR_OK;
}

FN(date)
{
    struct buf b;

    if (need_string(ex, "date", a[0]) != AR_OK || need_time(ex, a[1]) != AR_OK) {
        return AR_EINVAL;
    }
    buf_init(&b, ex->set->max_output);
    if (tmpl_time_format(&b, a[1], a[0]->u.s.p) != AR_OK) {
        buf_cleanup(&b);
        return call_error(ex, "date", "output size limit exceeded");
    }
    return string_result(&b, res);
}

FN(tz)
{
    if (need_string(ex, "tz", a[0]) != AR_OK || need_time(ex, a[1]) != AR_OK) {
        return AR_EINVAL;
    }
    struct tz_data *zone = tz_load(a[0]->u.s.p);

    if (zone == NULL) {
        char m[128];

        snprintf(m, sizeof(m), "unknown time zone %.80s", a[0]->u.s.p);
        return call_error(ex, "tz", m);
    }
    *res = tmpl_time(a[1]->u.t.sec, a[1]->u.t.nsec);
    (*res)->u.t.off = tz_lookup(zone, a[1]->u.t.sec, (*res)->u.t.zone, sizeof((*res)->u.t.zone));
    tz_free(zone);
    return AR_OK;
}

static void now_time(int64_t *sec, int32_t *nsec)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = ts.tv_sec;
    *nsec = (int32_t)ts.tv_nsec;
}

FN(since)
{
    int64_t sec;
    int32_t nsec;

    if (need_time(ex, a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    now_time(&sec, &nsec);
    *res = tmpl_duration((sec - a[0]->u.t.sec) * 1000000000LL + (nsec - a[0]->u.t.nsec));
    return AR_OK;
}

FN(now)
{
    int64_t sec;
    int32_t nsec;

    now_time(&sec, &nsec);
    *res = tmpl_time(sec, nsec);
    return AR_OK;
}

static void go_g4(struct buf *b, double v)
{
    /* Go's %.4g matches C's for finite values. */
    buf_printf(b, "%.4g", v);
}

FN(humanizeDuration)
{
    const struct tmpl_value *x = a[0];
    double v;
    struct buf b;
    static const char *const prefixes[] = {"m", "u", "n", "p", "f", "a", "z", "y"};

    switch (x->type) {
    case TMPL_INT:
        v = (double)x->u.i;
        break;
    case TMPL_FLOAT:
        v = x->u.f;
        break;
    case TMPL_DURATION:
        v = (double)x->u.dur_ns / 1e9;
        break;
    case TMPL_STRING: {
        char *end;

        v = strtod(x->u.s.p, &end);
        if (end == x->u.s.p || *end != '\0') {
            char m[128];

            snprintf(m, sizeof(m), "strconv.ParseFloat: parsing \"%.60s\": invalid syntax",
                     x->u.s.p);
            return call_error(ex, "humanizeDuration", m);
        }
        break;
    }
    default: {
        char m[96];

        snprintf(m, sizeof(m), "can't convert %s to float", tmpl_type_name(x));
        return call_error(ex, "humanizeDuration", m);
    }
    }
    buf_init(&b, 0);
    if (isnan(v) || isinf(v)) {
        buf_puts(&b, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        buf_puts(&b, "0s");
    } else if (fabs(v) >= 1) {
        const char *sign = v < 0 ? "-" : "";
        double av = fabs(v);
        int64_t d = (int64_t)av;
        int64_t secs = d % 60;
        int64_t mins = (d / 60) % 60;
        int64_t hours = (d / 3600) % 24;
        int64_t days = d / 86400;

        if (days != 0) {
            buf_printf(&b, "%s%" PRId64 "d %" PRId64 "h %" PRId64 "m %" PRId64 "s", sign, days,
                       hours, mins, secs);
        } else if (hours != 0) {
            buf_printf(&b, "%s%" PRId64 "h %" PRId64 "m %" PRId64 "s", sign, hours, mins, secs);
        } else if (mins != 0) {
            buf_printf(&b, "%s%" PRId64 "m %" PRId64 "s", sign, mins, secs);
        } else {
            buf_puts(&b, sign);
            go_g4(&b, av);
            buf_putc(&b, 's');
        }
    } else {
        const char *prefix = "";
        size_t i;

        for (i = 0; i < AR_ARRAY_LEN(prefixes); i++) {
            if (fabs(v) >= 1) {
                break;
            }
            prefix = prefixes[i];
            v *= 1000;
        }
        go_g4(&b, v);
        buf_printf(&b, "%ss", prefix);
    }
    return string_result(&b, res);
}

FN(toJson)
{
    struct buf b;

    buf_init(&b, ex->set->max_output);
    if (tmpl_json_encode(&b, a[0]) != AR_OK) {
        buf_cleanup(&b);
        return call_error(ex, "toJson", "json: unsupported value");
    }
    return string_result(&b, res);
}

static int check_depth(struct tmpl_exec *ex, const char *fn, struct tmpl_value *v,
                       struct tmpl_value **res)
{
    if (v->depth > TMPL_MAX_VALUE_DEPTH) {
        tmpl_value_unref(v);
        return call_error(ex, fn, "value nested too deeply");
    }
    *res = v;
    return AR_OK;
}

FN(list)
{
    struct tmpl_value *l = tmpl_list_new(TMPL_K_PLAIN);
    size_t i;

    for (i = 0; i < n; i++) {
        tmpl_list_push_take(l, tmpl_value_ref(a[i]));
    }
    return check_depth(ex, "list", l, res);
}

FN(append)
{
    struct tmpl_value *l;
    size_t i;

    if (a[0]->type != TMPL_LIST && a[0]->type != TMPL_NIL) {
        return tmpl_exec_errorf(ex, "wrong type for value; expected []interface {}; got %s",
                                tmpl_type_name(a[0]));
    }
    l = tmpl_list_new(TMPL_K_PLAIN);
    if (a[0]->type == TMPL_LIST) {
        for (i = 0; i < a[0]->u.list.n; i++) {
            tmpl_list_push_take(l, tmpl_value_ref(a[0]->u.list.v[i]));
        }
    }
    for (i = 1; i < n; i++) {
        tmpl_list_push_take(l, tmpl_value_ref(a[i]));
    }
    return check_depth(ex, "append", l, res);
}

FN(dict)
{
    struct tmpl_value *m;
    size_t i;

    if (n % 2 != 0) {
        return call_error(ex, "dict", "dict requires an even number of arguments");
    }
    m = tmpl_map_new(TMPL_K_PLAIN);
    for (i = 0; i < n; i += 2) {
        if (a[i]->type != TMPL_STRING) {
            tmpl_value_unref(m);
            return call_error(ex, "dict", "dict keys must be strings");
        }
        tmpl_map_set_take(m, a[i]->u.s.p, tmpl_value_ref(a[i + 1]));
    }
    return check_depth(ex, "dict", m, res);
}

static int to_date(struct tmpl_exec *ex, const char *fn, struct tmpl_value **a,
                   struct tmpl_value **res, bool must)
{
    struct gotime_parsed t;
    struct buf err;
    int rc;

    if (need_string(ex, fn, a[0]) != AR_OK || need_string(ex, fn, a[1]) != AR_OK) {
        return AR_EINVAL;
    }
    buf_init(&err, 1024);
    if (gotime_parse(a[0]->u.s.p, a[1]->u.s.p, &t, must ? &err : NULL) != AR_OK) {
        if (must) {
            rc = call_error(ex, fn, buf_str(&err)); /* Go's time.Parse text */
            buf_cleanup(&err);
            return rc;
        }
        *res = tmpl_time(TMPL_ZERO_TIME_SEC, 0);
        return AR_OK;
    }
    buf_cleanup(&err);
    *res = tmpl_time(t.sec, t.nsec);
    (*res)->u.t.off = t.off;
    memcpy((*res)->u.t.zone, t.zone, sizeof(t.zone));
    return AR_OK;
}

FN(toDate)
{
    return to_date(ex, "toDate", a, res, false);
}

FN(mustToDate)
{
    return to_date(ex, "mustToDate", a, res, true);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

FN(base64encode)
{
    struct buf b;
    const unsigned char *s;
    size_t len;
    size_t i;

    if (need_string(ex, "base64encode", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    s = (const unsigned char *)a[0]->u.s.p;
    len = a[0]->u.s.len;
    buf_init(&b, 0);
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {b64url[v >> 18], b64url[(v >> 12) & 63], b64url[(v >> 6) & 63],
                     b64url[v & 63]};

        buf_append(&b, q, 4);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char q[4] = {b64url[v >> 18], b64url[(v >> 12) & 63], '=', '='};

        buf_append(&b, q, 4);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char q[4] = {b64url[v >> 18], b64url[(v >> 12) & 63], b64url[(v >> 6) & 63], '='};

        buf_append(&b, q, 4);
    }
    return string_result(&b, res);
}

FN(base64decode)
{
    struct buf b;
    const char *s;
    size_t len;
    size_t i;
    uint32_t acc = 0;
    int bits = 0;
    size_t pad = 0;

    if (need_string(ex, "base64decode", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    s = a[0]->u.s.p;
    len = a[0]->u.s.len;
    buf_init(&b, 0);
    if (len % 4 != 0) {
        buf_cleanup(&b);
        return call_error(ex, "base64decode", "illegal base64 data at input byte 0");
    }
    for (i = 0; i < len; i++) {
        const char *p;

        if (s[i] == '=') {
            pad++;
            if (i + 2 < len || pad > 2) {
                break;
            }
            continue;
        }
        p = s[i] ? strchr(b64url, s[i]) : NULL;
        if (p == NULL || pad > 0) {
            char m[64];

            buf_cleanup(&b);
            snprintf(m, sizeof(m), "illegal base64 data at input byte %zu", i);
            return call_error(ex, "base64decode", m);
        }
        acc = acc << 6 | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(&b, (char)((acc >> bits) & 0xFF));
        }
    }
    if (i < len) {
        buf_cleanup(&b);
        return call_error(ex, "base64decode", "illegal base64 data");
    }
    return string_result(&b, res);
}

FN(routeLabels)
{
    const struct tmpl_value *d = ex->root_data;
    struct tmpl_value *kv = NULL;
    struct tmpl_value *v;

    if (need_string(ex, "routeLabels", a[0]) != AR_OK) {
        return AR_EINVAL;
    }
    if (d != NULL && d->type == TMPL_STRUCT && d->kind == TMPL_K_DATA && d->u.st.n > 8) {
        kv = d->u.st.vals[8];
    }
    v = kv ? tmpl_map_find(kv, a[0]->u.s.p) : NULL;
    *res = v ? tmpl_value_ref(v) : tmpl_string("");
    return AR_OK;
}

/* ---- table ------------------------------------------------------------------------------------
 */

static const struct tmpl_func funcs[] = {
    /* sorted by name (strcmp) */
    {"and", NULL, 1, -1},
    {"append", fn_append, 1, -1},
    {"base64decode", fn_base64decode, 1, 1},
    {"base64encode", fn_base64encode, 1, 1},
    {"call", fn_call, 1, -1},
    {"date", fn_date, 2, 2},
    {"dict", fn_dict, 0, -1},
    {"eq", fn_eq, 1, -1},
    {"ge", fn_ge, 2, 2},
    {"gt", fn_gt, 2, 2},
    {"html", fn_html, 0, -1},
    {"humanizeDuration", fn_humanizeDuration, 1, 1},
    {"index", fn_index, 1, -1},
    {"join", fn_join, 2, 2},
    {"js", fn_js, 0, -1},
    {"le", fn_le, 2, 2},
    {"len", fn_len, 1, 1},
    {"list", fn_list, 0, -1},
    {"lt", fn_lt, 2, 2},
    {"match", fn_match, 2, 2},
    {"mustToDate", fn_mustToDate, 2, 2},
    {"ne", fn_ne, 2, 2},
    {"not", fn_not, 1, 1},
    {"now", fn_now, 0, 0},
    {"or", NULL, 1, -1},
    {"print", fn_print, 0, -1},
    {"printf", fn_printf, 1, -1},
    {"println", fn_println, 0, -1},
    {"reReplaceAll", fn_reReplaceAll, 3, 3},
    {"routeLabels", fn_routeLabels, 1, 1},
    {"safeHtml", fn_safeHtml, 1, 1},
    {"safeUrl", fn_safeUrl, 1, 1},
    {"since", fn_since, 1, 1},
    {"slice", fn_slice, 1, -1},
    {"stringSlice", fn_stringSlice, 0, -1},
    {"title", fn_title, 1, 1},
    {"toDate", fn_toDate, 2, 2},
    {"toJson", fn_toJson, 1, 1},
    {"toLower", fn_toLower, 1, 1},
    {"toUpper", fn_toUpper, 1, 1},
    {"trimSpace", fn_trimSpace, 1, 1},
    {"tz", fn_tz, 2, 2},
    {"urlUnescape", fn_urlUnescape, 1, 1},
    {"urlquery", fn_urlquery, 0, -1},
};

const struct tmpl_func *tmpl_func_find(const char *name, size_t len)
{
    size_t lo = 0;
    size_t hi = AR_ARRAY_LEN(funcs);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(funcs[mid].name, name, len);

        if (c == 0 && funcs[mid].name[len] != '\0') {
            c = 1;
        }
        if (c == 0) {
            return &funcs[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* ---- fmt ---------------------------------------------------------------------------------------
 */

static bool is_string_like(const struct tmpl_value *v)
{
    return v != NULL && v->type == TMPL_STRING;
}

int tmpl_fmt_print(struct buf *b, struct tmpl_value **args, size_t nargs, bool ln,
                   enum tmpl_kv_style kv)
{
    size_t i;
    int rc = AR_OK;

    for (i = 0; i < nargs && rc == AR_OK; i++) {
        /* Sprint adds spaces between operands when neither is a string; Sprintln always. */
        if (i > 0 && (ln || (!is_string_like(args[i - 1]) && !is_string_like(args[i])))) {
            rc = buf_putc(b, ' ');
        }
        if (rc == AR_OK) {
            rc = tmpl_fmt_value(b, args[i], kv);
        }
    }
    if (ln && rc == AR_OK) {
        rc = buf_putc(b, '\n');
    }
    return rc;
}

struct spec {
    bool minus, plus, sharp, space, zero;
    int width; /* -1 when absent */
    int prec;  /* -1 when absent */
};

static size_t rune_count(const char *s, size_t n)
{
    size_t i;
    size_t c = 0;

    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    return c;
}

static int pad_write(struct buf *b, const struct spec *sp, const char *s, size_t n, bool numeric)
{
    size_t runes = rune_count(s, n);
    size_t padn = sp->width > 0 && (size_t)sp->width > runes ? (size_t)sp->width - runes : 0;
    size_t i;
    int rc = AR_OK;

    if (sp->minus) {
        rc = buf_append(b, s, n);
        for (i = 0; i < padn && rc == AR_OK; i++) {
            rc = buf_putc(b, ' ');
        }
        return rc;
    }
    if (sp->zero && numeric && n > 0 && (s[0] == '-' || s[0] == '+')) {
        rc = buf_putc(b, s[0]);
        s++;
        n--;
    }
    for (i = 0; i < padn && rc == AR_OK; i++) {
        rc = buf_putc(b, sp->zero && (numeric || true) ? '0' : ' ');
    }
    return rc == AR_OK ? buf_append(b, s, n) : rc;
}

static void go_quote(struct buf *b, const char *s, size_t n)
{
    size_t i = 0;

    buf_putc(b, '"');
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t start = i;
        bool valid;
        uint32_t r;

        if (c < 0x80) {
            i++;
            switch (c) {
            case '\a':
                buf_puts(b, "\\a");
                continue;
            case '\b':
                buf_puts(b, "\\b");
                continue;
            case '\f':
                buf_puts(b, "\\f");
                continue;
            case '\n':
                buf_puts(b, "\\n");
                continue;
            case '\r':
                buf_puts(b, "\\r");
                continue;
            case '\t':
                buf_puts(b, "\\t");
                continue;
            case '\v':
                buf_puts(b, "\\v");
                continue;
            case '\\':
                buf_puts(b, "\\\\");
                continue;
            case '"':
                buf_puts(b, "\\\"");
                continue;
            default:
                if (c < 0x20 || c == 0x7f) {
                    buf_printf(b, "\\x%02x", c);
                } else {
                    buf_putc(b, (char)c);
                }
                continue;
            }
        }
        r = next_rune(s, n, &i, &valid);
        if (!valid) {
            buf_printf(b, "\\x%02x", c);
        } else if (r < 0xA0 || r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) {
            buf_printf(b, "\\u%04x", (unsigned)r);
        } else {
            buf_append(b, s + start, i - start);
        }
    }
    buf_putc(b, '"');
}

static void bad_verb(struct buf *b, char verb, const struct tmpl_value *v, enum tmpl_kv_style kv)
{
    buf_printf(b, "%%!%c(", verb);
    if (v == NULL || v->type == TMPL_NIL) {
        buf_puts(b, "<nil>");
    } else {
        buf_printf(b, "%s=", tmpl_type_name(v));
        tmpl_fmt_value(b, v, kv);
    }
    buf_putc(b, ')');
}

static void fmt_int(struct buf *b, const struct spec *sp, char verb, int64_t v)
{
    char tmp[80];
    char f[32];
    int k = 0;

    f[k++] = '%';
    if (sp->plus) {
        f[k++] = '+';
    }
    if (sp->space) {
        f[k++] = ' ';
    }
    if (sp->sharp && (verb == 'x' || verb == 'X' || verb == 'o')) {
        f[k++] = '#';
    }
    if (sp->prec >= 0) {
        k += snprintf(f + k, sizeof(f) - (size_t)k, ".%d", sp->prec > 60 ? 60 : sp->prec);
    }
    f[k] = '\0';
    if (verb == 'b') {
        uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
        char bits[70];
        int nb = 0;
        int j;
        int w = 0;

        do {
            bits[nb++] = (char)('0' + (u & 1));
            u >>= 1;
        } while (u != 0);
        if (v < 0) {
            tmp[w++] = '-';
        }
        for (j = nb - 1; j >= 0; j--) {
            tmp[w++] = bits[j];
        }
        tmp[w] = '\0';
    } else if (verb == 'c') {
        struct buf r;

        buf_init(&r, 0);
        utf8_put(&r, v < 0 || v > 0x10FFFF ? 0xFFFD : (uint32_t)v);
        snprintf(tmp, sizeof(tmp), "%s", buf_str(&r));
        buf_cleanup(&r);
    } else if (verb == 'q') {
        struct buf r;

        buf_init(&r, 0);
        buf_putc(&r, '\'');
        if (v == '\'') {
            buf_puts(&r, "\\'");
        } else if (v == '\\') {
            buf_puts(&r, "\\\\");
        } else if (v == '\n') {
            buf_puts(&r, "\\n");
        } else if (v < 0x20 || v == 0x7f) {
            buf_printf(&r, "\\x%02x", (unsigned)v);
        } else {
            utf8_put(&r, v > 0x10FFFF ? 0xFFFD : (uint32_t)v);
        }
        buf_putc(&r, '\'');
        snprintf(tmp, sizeof(tmp), "%s", buf_str(&r));
        buf_cleanup(&r);
    } else {
        const char *conv = verb == 'x' ? "llx" : verb == 'X' ? "llX" : verb == 'o' ? "llo" : "lld";

        snprintf(f + k, sizeof(f) - (size_t)k, "%s", conv);
        if (verb == 'd' || v >= 0) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            snprintf(tmp, sizeof(tmp), f, (long long)v);
        } else {
            /* Go prints negative hex/octal with a minus sign. */
            char inner[72];

            snprintf(inner, sizeof(inner), f, (long long)(-(v + 1)) + 1);
#pragma GCC diagnostic pop
            snprintf(tmp, sizeof(tmp), "-%s", inner);
        }
    }
    pad_write(b, sp, tmp, strlen(tmp), verb != 'c' && verb != 'q');
}

static void fmt_float_verb(struct buf *b, const struct spec *sp, char verb, double v)
{
    char tmp[512];

    if ((verb == 'g' || verb == 'G') && sp->prec < 0) {
        tmpl_fmt_float(tmp, sizeof(tmp), v, false);
        if (verb == 'G') {
            char *e = strchr(tmp, 'e');

            if (e != NULL) {
                *e = 'E';
            }
        }
    } else if (verb == 'x' || verb == 'X') {
        /* Go hex float: at least two exponent digits ("0x1.cp+01") */
        char t[64];
        char *pexp;

        snprintf(t, sizeof(t), verb == 'x' ? "%a" : "%A", v);
        pexp = strpbrk(t, "pP");
        if (pexp != NULL && (pexp[1] == '+' || pexp[1] == '-') && pexp[2] != '\0' &&
            pexp[3] == '\0') {
            snprintf(tmp, sizeof(tmp), "%.*s0%s", (int)(pexp - t + 2), t, pexp + 2);
        } else {
            snprintf(tmp, sizeof(tmp), "%s", t);
        }
    } else {
        char f[32];
        int k = 0;

        f[k++] = '%';
        if (sp->plus) {
            f[k++] = '+';
        }
        if (sp->space) {
            f[k++] = ' ';
        }
        if (sp->sharp) {
            f[k++] = '#';
        }
        snprintf(f + k, sizeof(f) - (size_t)k, ".%d%c",
                 sp->prec >= 0 ? (sp->prec > 100 ? 100 : sp->prec) : 6, verb);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(tmp, sizeof(tmp), f, v);
#pragma GCC diagnostic pop
        if (isinf(v) || isnan(v)) {
            snprintf(tmp, sizeof(tmp), "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        }
    }
    if (sp->plus && tmp[0] != '-' && tmp[0] != '+') {
        char t2[520];

        snprintf(t2, sizeof(t2), "+%s", tmp);
        pad_write(b, sp, t2, strlen(t2), true);
        return;
    }
    pad_write(b, sp, tmp, strlen(tmp), true);
}

static void fmt_one(struct buf *b, const struct spec *sp, char verb, const struct tmpl_value *v,
                    enum tmpl_kv_style kv);

static void fmt_list_verb(struct buf *b, const struct spec *sp, char verb,
                          const struct tmpl_value *v, enum tmpl_kv_style kv)
{
    size_t i;

    buf_putc(b, '[');
    for (i = 0; i < v->u.list.n; i++) {
        if (i > 0) {
            buf_putc(b, ' ');
        }
        fmt_one(b, sp, verb, v->u.list.v[i], kv);
    }
    buf_putc(b, ']');
}

static void fmt_one(struct buf *b, const struct spec *sp, char verb, const struct tmpl_value *v,
                    enum tmpl_kv_style kv)
{
    struct buf t;
    bool stringer;

    if (v != NULL && verb != 'T' && verb != 'v' && verb != 's' && verb != 'q' && verb != 'x' &&
        verb != 'X') {
        stringer = false;
    } else {
        /* values whose Go type has a String method print through it for %v %s %q %x */
        stringer =
            v != NULL && verb != 'T' &&
            (v->type == TMPL_TIME || v->type == TMPL_DURATION ||
             (kv == TMPL_KV_READABLE && ((v->type == TMPL_MAP && v->kind == TMPL_K_KV) ||
                                         (v->type == TMPL_LIST && v->kind == TMPL_K_PAIRS))));
    }
    if (verb == 'v' || (verb == 's' && v != NULL && v->type == TMPL_STRING) ||
        (stringer && verb == 's')) {
        buf_init(&t, 0);
        if (v != NULL && v->type == TMPL_FLOAT && verb == 'v') {
            fmt_float_verb(&t, &(struct spec){.width = -1, .prec = sp->prec}, 'g', v->u.f);
        } else if (v != NULL && v->type == TMPL_LIST && verb == 'v' && !stringer) {
            fmt_list_verb(&t, sp, verb, v, kv);
        } else {
            tmpl_fmt_value(&t, v, kv);
        }
        if (verb == 's' && sp->prec >= 0) {
            /* precision truncates to that many runes */
            size_t i = 0;
            int r = 0;

            while (i < t.len && r < sp->prec) {
                next_rune(t.data, t.len, &i, NULL);
                r++;
            }
            t.len = i;
        }
        pad_write(b, sp, t.data ? t.data : "", t.len, false);
        buf_cleanup(&t);
        return;
    }
    if (stringer) {
        struct tmpl_value sv;

        buf_init(&t, 0);
        tmpl_fmt_value(&t, v, kv);
        memset(&sv, 0, sizeof(sv));
        sv.refs = -1;
        sv.type = TMPL_STRING;
        sv.u.s.p = t.data ? t.data : (char *)"";
        sv.u.s.len = t.len;
        fmt_one(b, sp, verb, &sv, kv);
        buf_cleanup(&t);
        return;
    }
    if (v != NULL && v->type == TMPL_LIST && verb != 'T') {
        fmt_list_verb(b, sp, verb, v, kv);
        return;
    }
    if (v != NULL && v->type == TMPL_MAP && verb != 'T') {
        /* Go applies the verb to keys and values */
        size_t i;

        buf_puts(b, "map[");
        for (i = 0; i < v->u.map.n; i++) {
            struct tmpl_value kv_key;

            memset(&kv_key, 0, sizeof(kv_key));
            kv_key.refs = -1;
            kv_key.type = TMPL_STRING;
            kv_key.u.s.p = v->u.map.keys[i];
            kv_key.u.s.len = strlen(v->u.map.keys[i]);
            if (i > 0) {
                buf_putc(b, ' ');
            }
            fmt_one(b, sp, verb, &kv_key, kv);
            buf_putc(b, ':');
            fmt_one(b, sp, verb, v->u.map.vals[i], kv);
        }
        buf_putc(b, ']');
        return;
    }
    if (v != NULL && v->type == TMPL_STRUCT && verb != 'T') {
        const char *const *names = tmpl_struct_fields(v->kind);
        size_t i;

        buf_putc(b, '{');
        for (i = 0; names[i] != NULL && i < v->u.st.n; i++) {
            if (i > 0) {
                buf_putc(b, ' ');
            }
            fmt_one(b, sp, verb, v->u.st.vals[i], kv);
        }
        buf_putc(b, '}');
        return;
    }
    switch (verb) {
    case 'T':
        pad_write(b, sp, tmpl_type_name(v), strlen(tmpl_type_name(v)), false);
        return;
    case 'd':
    case 'b':
    case 'o':
    case 'c':
        if (v != NULL && (v->type == TMPL_INT || v->type == TMPL_DURATION)) {
            fmt_int(b, sp, verb, v->type == TMPL_INT ? v->u.i : v->u.dur_ns);
            return;
        }
        break;
    case 'x':
    case 'X':
        if (v != NULL && (v->type == TMPL_INT || v->type == TMPL_DURATION)) {
            fmt_int(b, sp, verb, v->type == TMPL_INT ? v->u.i : v->u.dur_ns);
            return;
        }
        if (v != NULL && v->type == TMPL_FLOAT) {
            fmt_float_verb(b, sp, verb, v->u.f);
            return;
        }
        if (v != NULL && v->type == TMPL_STRING) {
            size_t i;

            buf_init(&t, 0);
            for (i = 0; i < v->u.s.len; i++) {
                if (i > 0 && sp->space) {
                    buf_putc(&t, ' '); /* "% x": bytes separated by spaces */
                }
                buf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)v->u.s.p[i]);
            }
            pad_write(b, sp, t.data ? t.data : "", t.len, false);
            buf_cleanup(&t);
            return;
        }
        break;
    case 'U':
        if (v != NULL && v->type == TMPL_INT) {
            char u[32];

            snprintf(u, sizeof(u), "U+%04llX", (unsigned long long)v->u.i);
            pad_write(b, sp, u, strlen(u), false);
            return;
        }
        break;
    case 'q':
        if (v != NULL && v->type == TMPL_STRING) {
            size_t n = v->u.s.len;

            if (sp->prec >= 0) {
                /* precision truncates the string (in runes) before quoting */
                size_t i = 0;
                int r = 0;

                while (i < n && r < sp->prec) {
                    next_rune(v->u.s.p, n, &i, NULL);
                    r++;
                }
                n = i;
            }
            buf_init(&t, 0);
            go_quote(&t, v->u.s.p, n);
            pad_write(b, sp, t.data, t.len, false);
            buf_cleanup(&t);
            return;
        }
        if (v != NULL && v->type == TMPL_INT) {
            fmt_int(b, sp, 'q', v->u.i);
            return;
        }
        break;
    case 't':
        if (v != NULL && v->type == TMPL_BOOL) {
            pad_write(b, sp, v->u.b ? "true" : "false", v->u.b ? 4 : 5, false);
            return;
        }
        break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
        if (v != NULL && v->type == TMPL_FLOAT) {
            fmt_float_verb(b, sp, verb == 'F' ? 'f' : verb, v->u.f);
            return;
        }
        break;
    default:
        break;
    }
    bad_verb(b, verb, v, kv);
}

int tmpl_fmt_printf(struct buf *b, const char *fmt, size_t fmt_len, struct tmpl_value **args,
                    size_t nargs, enum tmpl_kv_style kv)
{
    size_t i = 0;
    size_t argi = 0;

    while (i < fmt_len) {
        struct spec sp = {false, false, false, false, false, -1, -1};
        char verb;

        if (fmt[i] != '%') {
            size_t j = i;

            while (j < fmt_len && fmt[j] != '%') {
                j++;
            }
            if (buf_append(b, fmt + i, j - i) != AR_OK) {
                return AR_ELIMIT;
            }
            i = j;
            continue;
        }
        i++;
        for (; i < fmt_len; i++) {
            char c = fmt[i];

            if (c == '-') {
                sp.minus = true;
                sp.zero = false;
            } else if (c == '+') {
                sp.plus = true;
            } else if (c == '#') {
                sp.sharp = true;
            } else if (c == ' ') {
                sp.space = true;
            } else if (c == '0') {
                sp.zero = !sp.minus;
            } else {
                break;
            }
        }
        if (i < fmt_len && fmt[i] == '*') {
            i++;
            if (argi < nargs && args[argi]->type == TMPL_INT) {
                int64_t w = args[argi++]->u.i;

                if (w < 0) {
                    sp.minus = true;
                    w = -w;
                }
                sp.width = w > 10000 ? 10000 : (int)w;
            } else {
                buf_puts(b, "%!(BADWIDTH)");
                argi++;
            }
        } else {
            while (i < fmt_len && isdigit((unsigned char)fmt[i])) {
                sp.width = (sp.width < 0 ? 0 : sp.width) * 10 + (fmt[i] - '0');
                if (sp.width > 10000) {
                    sp.width = 10000;
                }
                i++;
            }
        }
        if (i < fmt_len && fmt[i] == '.') {
            i++;
            sp.prec = 0;
            if (i < fmt_len && fmt[i] == '*') {
                i++;
                if (argi < nargs && args[argi]->type == TMPL_INT) {
                    int64_t pr = args[argi++]->u.i;

                    sp.prec = pr < 0 ? -1 : pr > 10000 ? 10000 : (int)pr;
                } else {
                    buf_puts(b, "%!(BADPREC)");
                    argi++;
                }
            } else {
                while (i < fmt_len && isdigit((unsigned char)fmt[i])) {
                    sp.prec = sp.prec * 10 + (fmt[i] - '0');
                    if (sp.prec > 10000) {
                        sp.prec = 10000;
                    }
                    i++;
                }
            }
        }
        if (i >= fmt_len) {
            buf_puts(b, "%!(NOVERB)");
            break;
        }
        verb = fmt[i++];
        if (verb == '%') {
            buf_putc(b, '%');
            continue;
        }
        if (argi >= nargs) {
            buf_printf(b, "%%!%c(MISSING)", verb);
            continue;
        }
        fmt_one(b, &sp, verb, args[argi++], kv);
        if (b->len >= b->max) {
            return AR_ELIMIT;
        }
    }
    if (argi < nargs) {
        buf_puts(b, "%!(EXTRA ");
        for (; argi < nargs; argi++) {
            buf_printf(b, "%s=", tmpl_type_name(args[argi]));
            tmpl_fmt_value(b, args[argi], kv);
            if (argi + 1 < nargs) {
                buf_puts(b, ", ");
            }
        }
        buf_putc(b, ')');
    }
    return AR_OK;
}

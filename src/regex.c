/* Go-compatible regular expressions matched by RE2 in linear time (COMPAT 3.2).
 *
 * Alertmanager compiles matcher values with Go's regexp package as ^(?:v)$ and matches in time
 * linear in the value. RE2 is the engine Go's regexp was modelled on: same syntax family, same
 * leftmost-first semantics, same guarantee (no backtracking, so no budget that could turn into
 * a wrong answer). Its parser's error messages are its own, though, and it accepts a little
 * that Go 1.19 rejects, so a pattern is not handed to RE2 as written. A small parser that
 * follows Go's regexp/syntax rules (Perl flags: one-line ^ and $, Perl extensions, Unicode
 * groups) reads the anchored pattern, reports Go's error text with the same fragment Go
 * prints, and builds a tree mirroring Go's parse stack (pseudo nodes for "(" and "|"). The tree
 * is then rendered as an explicit RE2 pattern: "^"/"$" become \A/\z (or (?m:^)/(?m:$)), "."
 * becomes [^\n], \s is spelled out, literals are \x{...} escapes, classes list ranges, and
 * parentheses never capture (only "does it match" is asked). See src/re2_shim.cc.
 *
 * Matching is one unanchored RE2 search over the value with invalid UTF-8 replaced as Go
 * decodes it; RE2 runs a cached DFA (an NFA simulation when the DFA cache overflows), both
 * linear in the value and bounded in memory by MAX_MEM_BYTES per regex.
 *
 * Known differences from Go: Unicode tables are RE2's (Unicode 14 in Debian 12's RE2) against
 * Go 1.19's 13; the nesting-depth limit is computed on this tree, which skips Go's alternation
 * factoring; Go's "expression too large" is reported when RE2 refuses the rendered program as
 * larger than its memory budget (Go's own limit is higher).
 *
 * Cost: parsing and rendering are linear in the pattern length times the repeat-count bound;
 * a compiled regex is immutable and may be used from several threads at once. */
#include "ar/buf.h"
#include "ar/log.h"
#include "ar/matcher.h"
#include "re2_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COMPAT: Go's regexp/syntax limits. */
#define GO_MAX_REPEAT 1000
#define GO_MAX_HEIGHT 1000
#define MAX_RUNE      0x10ffffu
#define RUNE_ERROR    0xfffdu

#define RENDER_MAX_BYTES (8u << 20)
/* RE2's memory budget per regex: compiled program plus DFA caches. The first fits every
 * ordinary matcher with room for its DFA; a program too large for it (big counted repeats of
 * Unicode classes, say) gets the second before "expression too large". A DFA that fills its
 * cache restarts it or falls back to RE2's NFA: slower, still linear, never a wrong answer. */
#define MAX_MEM_BYTES     (8 << 20)
#define MAX_MEM_BIG_BYTES (64 << 20)

struct ar_regex {
    struct ar_re2 *re2;
};

/* Go's parser flags that matter here; the rest of syntax.Perl is always on. */
enum {
    F_FOLD = 1,     /* (?i) */
    F_MULTI = 2,    /* (?m): ^ and $ match at line boundaries (Go: OneLine cleared) */
    F_DOTNL = 4,    /* (?s) */
    F_UNGREEDY = 8, /* (?U); on a repeat node: the repeat is lazy */
};

enum nkind {
    N_LIT,
    N_CLASS,
    N_ANY_NOT_NL,
    N_ANY,
    N_BOL,
    N_EOL,
    N_BOT,
    N_EOT,
    N_WB,
    N_NWB,
    N_EMPTY,
    N_CAPTURE,
    N_STAR,
    N_PLUS,
    N_QUEST,
    N_REPEAT,
    N_CONCAT,
    N_ALT,
    N_LPAREN, /* pseudo nodes from here on */
    N_VBAR,
};

struct node {
    enum nkind kind;
    unsigned flags;    /* F_* when created */
    uint32_t rune;     /* N_LIT */
    char *cls;         /* N_CLASS: rendered RE2 class, "[...]" */
    int min;           /* N_REPEAT */
    int max;           /* N_REPEAT; -1 = unbounded */
    bool cap;          /* N_LPAREN: capturing group */
    bool char_union;   /* N_ALT of single characters: Go merges it into one class node */
    int height;        /* 1 for a leaf, as Go counts */
    struct node **sub; /* owned */
    size_t nsub;
    size_t capsub; /* allocated entries of sub (grown by doubling) */
};

struct parser {
    const char *whole; /* the anchored pattern */
    const char *end;
    unsigned flags;
    struct node **stack;
    size_t n;
    size_t cap;
    struct ar_error *err;
};

/* ---- errors ---- */

static int go_error(struct parser *p, const char *code, const char *from, const char *to)
{
    ar_error_set(p->err, "error parsing regexp: %s: `%.*s`", code, (int)(to - from), from);
    return AR_EINVAL;
}

#define ERR_INVALID_CHAR_RANGE "invalid character class range"
#define ERR_INVALID_ESCAPE     "invalid escape sequence"
#define ERR_INVALID_NAMED_CAP  "invalid named capture"
#define ERR_INVALID_PERL_OP    "invalid or unsupported Perl syntax"
#define ERR_INVALID_REPEAT_OP  "invalid nested repetition operator"
#define ERR_INVALID_REPEAT_SZ  "invalid repeat count"
#define ERR_INVALID_UTF8       "invalid UTF-8"
#define ERR_MISSING_BRACKET    "missing closing ]"
#define ERR_MISSING_PAREN      "missing closing )"
#define ERR_MISSING_REPEAT_ARG "missing argument to repetition operator"
#define ERR_TRAILING_BACKSLASH "trailing backslash at end of expression"
#define ERR_UNEXPECTED_PAREN   "unexpected )"
#define ERR_NESTING_DEPTH      "expression nests too deeply"
#define ERR_LARGE              "expression too large"

/* ---- UTF-8 ---- */

/* Decodes one rune as Go's utf8.DecodeRuneInString does: returns the byte length (1-4), or 0
 * when s is invalid at this point (Go then yields U+FFFD of width 1). s < end. */
static int utf8_decode(const char *s, const char *end, uint32_t *r)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t avail = (size_t)(end - s);
    uint32_t c = u[0];
    int len;
    uint32_t min;

    if (c < 0x80) {
        *r = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        c &= 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        c &= 0x0f;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (avail < (size_t)len) {
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (u[i] & 0x3f);
    }
    if (c < min || c > MAX_RUNE || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }
    *r = c;
    return len;
}

/* Go's nextRune: at the end yields U+FFFD without moving; invalid UTF-8 is an error naming
 * the rest of the pattern. */
static int next_rune(struct parser *p, const char **t, uint32_t *r)
{
    int len;

    if (*t >= p->end) {
        *r = RUNE_ERROR;
        return AR_OK;
    }
    len = utf8_decode(*t, p->end, r);
    if (len == 0) {
        return go_error(p, ERR_INVALID_UTF8, *t, p->end);
    }
    *t += len;
    return AR_OK;
}

/* Go's checkUTF8: the error names the whole checked string. */
static int check_utf8(struct parser *p, const char *s, const char *end)
{
    const char *t = s;
    uint32_t r;

    while (t < end) {
        int len = utf8_decode(t, end, &r);
        if (len == 0) {
            return go_error(p, ERR_INVALID_UTF8, s, end);
        }
        t += len;
    }
    return AR_OK;
}

/* ---- tree and stack ---- */

static void node_free(struct node *nd)
{
    if (nd == NULL) {
        return;
    }
    for (size_t i = 0; i < nd->nsub; i++) {
        node_free(nd->sub[i]);
    }
    free(nd->sub);
    free(nd->cls);
    free(nd);
}

static struct node *node_new(enum nkind kind, unsigned flags)
{
    struct node *nd = ar_calloc(1, sizeof(*nd));

    nd->kind = kind;
    nd->flags = flags;
    nd->height = 1;
    return nd;
}

static void node_add_sub(struct node *nd, struct node *sub)
{
    if (nd->nsub == nd->capsub) {
        nd->capsub = nd->capsub ? 2 * nd->capsub : 4;
        nd->sub = ar_realloc(nd->sub, nd->capsub * sizeof(*nd->sub));
    }
    nd->sub[nd->nsub++] = sub;
    if (sub->height + 1 > nd->height) {
        nd->height = sub->height + 1;
    }
}

static bool is_pseudo(const struct node *nd)
{
    return nd->kind >= N_LPAREN;
}

/* Pushes nd (taking it); Go checks the nesting height of every pushed node. */
static int push(struct parser *p, struct node *nd)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->stack = ar_realloc(p->stack, p->cap * sizeof(*p->stack));
    }
    p->stack[p->n++] = nd;
    if (nd->height > GO_MAX_HEIGHT) {
        return go_error(p, ERR_NESTING_DEPTH, p->whole, p->end);
    }
    return AR_OK;
}

static int push_op(struct parser *p, enum nkind kind)
{
    return push(p, node_new(kind, p->flags));
}

static int push_literal(struct parser *p, uint32_t r)
{
    struct node *nd = node_new(N_LIT, p->flags);

    nd->rune = r;
    return push(p, nd);
}

/* Collapses the nodes above the topmost pseudo node into one node of the given kind
 * (Go's collapse: a single node stays itself, nested nodes of the same kind are flattened). */
static int collapse_top(struct parser *p, enum nkind kind)
{
    size_t i = p->n;
    struct node *nd;

    while (i > 0 && !is_pseudo(p->stack[i - 1])) {
        i--;
    }
    if (i == p->n) {
        return push_op(p, N_EMPTY);
    }
    if (p->n - i == 1) {
        return AR_OK;
    }
    nd = node_new(kind, p->flags);
    for (size_t k = i; k < p->n; k++) {
        struct node *s = p->stack[k];
        if (s->kind == kind) {
            for (size_t j = 0; j < s->nsub; j++) {
                node_add_sub(nd, s->sub[j]);
            }
            s->nsub = 0;
            node_free(s);
        } else {
            node_add_sub(nd, s);
        }
    }
    p->n = i;
    if (kind == N_CONCAT) {
        /* Go keeps a run of literals with the same case folding as one node of height 1. */
        bool one_string = true;
        for (size_t k = 0; k < nd->nsub && one_string; k++) {
            one_string = nd->sub[k]->kind == N_LIT &&
                         (nd->sub[k]->flags & F_FOLD) == (nd->sub[0]->flags & F_FOLD);
        }
        if (one_string) {
            nd->height = 1;
        }
    }
    return push(p, nd);
}

/* Go's isCharClass: a node matching exactly one character. */
static bool is_char_class(const struct node *nd)
{
    return nd->kind == N_LIT || nd->kind == N_CLASS || nd->kind == N_ANY ||
           nd->kind == N_ANY_NOT_NL || nd->char_union;
}

/* Go's swapVerticalBar: when the node below the top is "|", moves the top below it. Like Go,
 * alternatives that are single characters merge into one node of height 1 (this only
 * matters for the nesting-depth limit). */
static bool swap_vertical_bar(struct parser *p)
{
    if (p->n >= 3 && p->stack[p->n - 2]->kind == N_VBAR && is_char_class(p->stack[p->n - 1]) &&
        is_char_class(p->stack[p->n - 3])) {
        struct node *below = p->stack[p->n - 3];
        struct node *top = p->stack[p->n - 1];
        if (!below->char_union) {
            struct node *u = node_new(N_ALT, p->flags);
            u->char_union = true;
            node_add_sub(u, below);
            below = u;
        }
        node_add_sub(below, top);
        below->height = 1;
        p->stack[p->n - 3] = below;
        p->n--;
        return true;
    }
    if (p->n >= 2 && p->stack[p->n - 2]->kind == N_VBAR) {
        struct node *tmp = p->stack[p->n - 1];
        p->stack[p->n - 1] = p->stack[p->n - 2];
        p->stack[p->n - 2] = tmp;
        return true;
    }
    return false;
}

static int parse_vertical_bar(struct parser *p)
{
    int rc = collapse_top(p, N_CONCAT);

    if (rc != AR_OK) {
        return rc;
    }
    if (!swap_vertical_bar(p)) {
        return push_op(p, N_VBAR);
    }
    return AR_OK;
}

/* Ends the current group's alternation: concat, drop a trailing "|", alternate. */
static int finish_alternation(struct parser *p)
{
    int rc = collapse_top(p, N_CONCAT);

    if (rc != AR_OK) {
        return rc;
    }
    if (swap_vertical_bar(p)) {
        node_free(p->stack[--p->n]);
    }
    return collapse_top(p, N_ALT);
}

static int parse_right_paren(struct parser *p)
{
    struct node *inner;
    struct node *open;
    int rc = finish_alternation(p);

    if (rc != AR_OK) {
        return rc;
    }
    if (p->n < 2 || p->stack[p->n - 2]->kind != N_LPAREN) {
        return go_error(p, ERR_UNEXPECTED_PAREN, p->whole, p->end);
    }
    inner = p->stack[p->n - 1];
    open = p->stack[p->n - 2];
    p->n -= 2;
    p->flags = open->flags; /* flags in force at the "(" */
    if (!open->cap) {
        node_free(open);
        return push(p, inner);
    }
    open->kind = N_CAPTURE;
    open->height = 1;
    node_add_sub(open, inner);
    return push(p, open);
}

/* ---- repetition ---- */

/* Go's repeatIsValid: nested counted repeats may not multiply beyond n. */
static bool repeat_is_valid(const struct node *nd, int n)
{
    if (nd->kind == N_REPEAT) {
        int m = nd->max;
        if (m == 0) {
            return true;
        }
        if (m < 0) {
            m = nd->min;
        }
        if (m > n) {
            return false;
        }
        if (m > 0) {
            n /= m;
        }
    }
    for (size_t i = 0; i < nd->nsub; i++) {
        if (!repeat_is_valid(nd->sub[i], n)) {
            return false;
        }
    }
    return true;
}

/* Applies a repetition operator (text [before, *after)) to the top of the stack. last_repeat
 * is where the previous token began when it was a repetition too, else NULL. */
static int apply_repeat(struct parser *p, enum nkind kind, int min, int max, const char *before,
                        const char **after, const char *last_repeat)
{
    unsigned flags = p->flags;
    struct node *nd;

    if (*after < p->end && **after == '?') {
        (*after)++;
        flags ^= F_UNGREEDY;
    }
    if (last_repeat != NULL) {
        /* COMPAT: Perl forbids stacked repetitions (a**, a++ is not possessive). */
        return go_error(p, ERR_INVALID_REPEAT_OP, last_repeat, *after);
    }
    if (p->n == 0 || is_pseudo(p->stack[p->n - 1])) {
        return go_error(p, ERR_MISSING_REPEAT_ARG, before, *after);
    }
    nd = node_new(kind, flags);
    nd->min = min;
    nd->max = max;
    node_add_sub(nd, p->stack[p->n - 1]);
    p->stack[p->n - 1] = nd;
    if (nd->height > GO_MAX_HEIGHT) {
        return go_error(p, ERR_NESTING_DEPTH, p->whole, p->end);
    }
    if (kind == N_REPEAT && (min >= 2 || max >= 2) && !repeat_is_valid(nd, GO_MAX_REPEAT)) {
        return go_error(p, ERR_INVALID_REPEAT_SZ, before, *after);
    }
    return AR_OK;
}

/* Go's parseInt for repeat counts: no leading zeros; -1 when too big. */
static bool parse_count(const char **s, const char *end, int *n)
{
    const char *t = *s;

    if (t == end || *t < '0' || *t > '9') {
        return false;
    }
    if (end - t >= 2 && t[0] == '0' && t[1] >= '0' && t[1] <= '9') {
        return false;
    }
    *n = 0;
    while (t < end && *t >= '0' && *t <= '9') {
        if (*n >= 100000000) {
            *n = -1;
        } else if (*n >= 0) {
            *n = *n * 10 + (*t - '0');
        }
        t++;
    }
    *s = t;
    return true;
}

/* Go's parseRepeat: {n}, {n,}, {n,m}; false means "{" is a literal. */
static bool parse_repeat(const char *s, const char *end, int *min, int *max, const char **rest)
{
    const char *t = s + 1;

    if (!parse_count(&t, end, min)) {
        return false;
    }
    if (t == end) {
        return false;
    }
    if (*t != ',') {
        *max = *min;
    } else {
        t++;
        if (t == end) {
            return false;
        }
        if (*t == '}') {
            *max = -1;
        } else if (!parse_count(&t, end, max)) {
            return false;
        } else if (*max < 0) {
            *min = -1;
        }
    }
    if (t == end || *t != '}') {
        return false;
    }
    *rest = t + 1;
    return true;
}

/* ---- escapes and classes ---- */

static int unhex(uint32_t c)
{
    if (c >= '0' && c <= '9') {
        return (int)(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (int)(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return (int)(c - 'A' + 10);
    }
    return -1;
}

static bool is_alnum_ascii(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Go's parseEscape: one escaped character at *tp (which points at the backslash). */
static int parse_escape(struct parser *p, const char **tp, uint32_t *out)
{
    const char *s = *tp;
    const char *t = s + 1;
    uint32_t c;
    int rc;

    if (t >= p->end) {
        return go_error(p, ERR_TRAILING_BACKSLASH, t, t);
    }
    rc = next_rune(p, &t, &c);
    if (rc != AR_OK) {
        return rc;
    }
    switch (c) {
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        /* A lone non-zero digit would be a backreference, which RE2 lacks. */
        if (t >= p->end || *t < '0' || *t > '7') {
            break;
        }
        /* fall through */
    case '0': {
        uint32_t r = c - '0';
        for (int i = 1; i < 3; i++) {
            if (t >= p->end || *t < '0' || *t > '7') {
                break;
            }
            r = r * 8 + (uint32_t)(*t - '0');
            t++;
        }
        *out = r;
        *tp = t;
        return AR_OK;
    }
    case 'x': {
        int x;
        int y;
        if (t >= p->end) {
            break;
        }
        rc = next_rune(p, &t, &c);
        if (rc != AR_OK) {
            return rc;
        }
        if (c == '{') {
            uint32_t r = 0;
            int nhex = 0;
            for (;;) {
                int v;
                if (t >= p->end) {
                    return go_error(p, ERR_INVALID_ESCAPE, s, t);
                }
                rc = next_rune(p, &t, &c);
                if (rc != AR_OK) {
                    return rc;
                }
                if (c == '}') {
                    break;
                }
                v = unhex(c);
                if (v < 0) {
                    return go_error(p, ERR_INVALID_ESCAPE, s, t);
                }
                r = r * 16 + (uint32_t)v;
                if (r > MAX_RUNE) {
                    return go_error(p, ERR_INVALID_ESCAPE, s, t);
                }
                nhex++;
            }
            if (nhex == 0) {
                break;
            }
            *out = r;
            *tp = t;
            return AR_OK;
        }
        x = unhex(c);
        rc = next_rune(p, &t, &c);
        if (rc != AR_OK) {
            return rc;
        }
        y = unhex(c);
        if (x < 0 || y < 0) {
            break;
        }
        *out = (uint32_t)(x * 16 + y);
        *tp = t;
        return AR_OK;
    }
    /* No \b here: outside classes it is a word boundary, inside it is rejected. */
    case 'a':
        *out = '\a';
        *tp = t;
        return AR_OK;
    case 'f':
        *out = '\f';
        *tp = t;
        return AR_OK;
    case 'n':
        *out = '\n';
        *tp = t;
        return AR_OK;
    case 'r':
        *out = '\r';
        *tp = t;
        return AR_OK;
    case 't':
        *out = '\t';
        *tp = t;
        return AR_OK;
    case 'v':
        *out = '\v';
        *tp = t;
        return AR_OK;
    default:
        /* Escaped ASCII punctuation is itself; \q and the like are errors. */
        if (c < 0x80 && !is_alnum_ascii(c)) {
            *out = c;
            *tp = t;
            return AR_OK;
        }
        break;
    }
    return go_error(p, ERR_INVALID_ESCAPE, s, t);
}

struct range {
    uint32_t lo;
    uint32_t hi;
};

/* An ASCII class of Go's: \d-style (Perl) or [:name:] (POSIX). */
struct ascii_group {
    const char *name;
    bool negated;
    const struct range *r;
    size_t n;
};

static const struct range r_digit[] = {{'0', '9'}};
static const struct range r_space_perl[] = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
static const struct range r_word[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
static const struct range r_alnum[] = {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}};
static const struct range r_alpha[] = {{'A', 'Z'}, {'a', 'z'}};
static const struct range r_ascii[] = {{0x00, 0x7f}};
static const struct range r_blank[] = {{'\t', '\t'}, {' ', ' '}};
static const struct range r_cntrl[] = {{0x00, 0x1f}, {0x7f, 0x7f}};
static const struct range r_graph[] = {{'!', '~'}};
static const struct range r_lower[] = {{'a', 'z'}};
static const struct range r_print[] = {{' ', '~'}};
static const struct range r_punct[] = {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}};
static const struct range r_space_posix[] = {{'\t', '\r'}, {' ', ' '}};
static const struct range r_upper[] = {{'A', 'Z'}};
static const struct range r_xdigit[] = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};

/* clang-format off */
#define GROUP(name, neg, r) {name, neg, r, AR_ARRAY_LEN(r)}

static const struct ascii_group perl_groups[] = {
    GROUP("\\d", false, r_digit), GROUP("\\D", true, r_digit),
    GROUP("\\s", false, r_space_perl), GROUP("\\S", true, r_space_perl),
    GROUP("\\w", false, r_word), GROUP("\\W", true, r_word),
};

static const struct ascii_group posix_groups[] = {
    GROUP("[:alnum:]", false, r_alnum),   GROUP("[:^alnum:]", true, r_alnum),
    GROUP("[:alpha:]", false, r_alpha),   GROUP("[:^alpha:]", true, r_alpha),
    GROUP("[:ascii:]", false, r_ascii),   GROUP("[:^ascii:]", true, r_ascii),
    GROUP("[:blank:]", false, r_blank),   GROUP("[:^blank:]", true, r_blank),
    GROUP("[:cntrl:]", false, r_cntrl),   GROUP("[:^cntrl:]", true, r_cntrl),
    GROUP("[:digit:]", false, r_digit),   GROUP("[:^digit:]", true, r_digit),
    GROUP("[:graph:]", false, r_graph),   GROUP("[:^graph:]", true, r_graph),
    GROUP("[:lower:]", false, r_lower),   GROUP("[:^lower:]", true, r_lower),
    GROUP("[:print:]", false, r_print),   GROUP("[:^print:]", true, r_print),
    GROUP("[:punct:]", false, r_punct),   GROUP("[:^punct:]", true, r_punct),
    GROUP("[:space:]", false, r_space_posix), GROUP("[:^space:]", true, r_space_posix),
    GROUP("[:upper:]", false, r_upper),   GROUP("[:^upper:]", true, r_upper),
    GROUP("[:word:]", false, r_word),     GROUP("[:^word:]", true, r_word),
    GROUP("[:xdigit:]", false, r_xdigit), GROUP("[:^xdigit:]", true, r_xdigit),
};

/* COMPAT: the \p{...} names Go 1.19 (Alertmanager 0.25) knows: "Any", the general categories
 * and the Unicode 13 scripts. Matching is case-sensitive. */
static const char *const unicode_names[] = {
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Any", "Arabic", "Armenian", "Avestan", "Balinese",
    "Bamum", "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille",
    "Buginese", "Buhid", "C", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Cc", "Cf",
    "Chakma", "Cham", "Cherokee", "Chorasmian", "Co", "Common", "Coptic", "Cs", "Cuneiform",
    "Cypriot", "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan",
    "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic",
    "Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul",
    "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited",
    "Inscriptional_Pahlavi", "Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada", "Katakana",
    "Kayah_Li", "Kharoshthi", "Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "L", "Lao",
    "Latin", "Lepcha", "Limbu", "Linear_A", "Linear_B", "Lisu", "Ll", "Lm", "Lo", "Lt", "Lu",
    "Lycian", "Lydian", "M", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean",
    "Marchen", "Masaram_Gondi", "Mc", "Me", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui",
    "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Mn", "Modi", "Mongolian", "Mro",
    "Multani", "Myanmar", "N", "Nabataean", "Nandinagari", "Nd", "New_Tai_Lue", "Newa", "Nko",
    "Nl", "No", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki", "Old_Hungarian",
    "Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_Sogdian",
    "Old_South_Arabian", "Old_Turkic", "Oriya", "Osage", "Osmanya", "P", "Pahawh_Hmong",
    "Palmyrene", "Pau_Cin_Hau", "Pc", "Pd", "Pe", "Pf", "Phags_Pa", "Phoenician", "Pi", "Po", "Ps",
    "Psalter_Pahlavi", "Rejang", "Runic", "S", "Samaritan", "Saurashtra", "Sc", "Sharada",
    "Shavian", "Siddham", "SignWriting", "Sinhala", "Sk", "Sm", "So", "Sogdian", "Sora_Sompeng",
    "Soyombo", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham",
    "Tai_Viet", "Takri", "Tamil", "Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh",
    "Tirhuta", "Ugaritic", "Vai", "Wancho", "Warang_Citi", "Yezidi", "Yi", "Z", "Zanabazar_Square",
    "Zl", "Zp", "Zs",
};
/* clang-format on */

static int cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static bool unicode_name_known(const char *name)
{
    return bsearch(name, unicode_names, AR_ARRAY_LEN(unicode_names), sizeof(unicode_names[0]),
                   cmp_name) != NULL;
}

/* Appends a range as RE2 class text. Surrogates are left out: Go never decodes one from a
 * subject, so they can never match anyway. */
static int render_range(struct buf *b, uint32_t lo, uint32_t hi)
{
    int rc = AR_OK;

    if (lo <= 0xdfff && hi >= 0xd800) {
        if (lo < 0xd800) {
            rc = render_range(b, lo, 0xd7ff);
        }
        if (rc == AR_OK && hi > 0xdfff) {
            rc = render_range(b, 0xe000, hi);
        }
        return rc;
    }
    if (lo == hi) {
        return buf_printf(b, "\\x{%x}", (unsigned)lo);
    }
    return buf_printf(b, "\\x{%x}-\\x{%x}", (unsigned)lo, (unsigned)hi);
}

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a;
    const struct range *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

/* Appends an ASCII group. A negated group under (?i) is the complement of the case-folded
 * group (as Go computes it); the folded set includes U+017F (s) and U+212A (k), and the
 * complement of a fold-closed set is fold-closed, so RE2's own folding adds nothing. */
static int render_group(struct buf *b, const struct ascii_group *g, unsigned flags)
{
    struct range r[160];
    size_t n = 0;
    uint32_t next = 0;
    int rc = AR_OK;

    if (!g->negated) {
        for (size_t i = 0; i < g->n && rc == AR_OK; i++) {
            rc = render_range(b, g->r[i].lo, g->r[i].hi);
        }
        return rc;
    }
    for (size_t i = 0; i < g->n; i++) {
        r[n++] = g->r[i];
        if ((flags & F_FOLD) == 0) {
            continue;
        }
        for (uint32_t c = g->r[i].lo; c <= g->r[i].hi; c++) {
            uint32_t other = 0;
            if (c >= 'a' && c <= 'z') {
                other = c - 32;
            } else if (c >= 'A' && c <= 'Z') {
                other = c + 32;
            }
            if (other != 0 && n < AR_ARRAY_LEN(r)) {
                r[n++] = (struct range){other, other};
            }
            if ((c == 's' || c == 'S') && n < AR_ARRAY_LEN(r)) {
                r[n++] = (struct range){0x17f, 0x17f};
            }
            if ((c == 'k' || c == 'K') && n < AR_ARRAY_LEN(r)) {
                r[n++] = (struct range){0x212a, 0x212a};
            }
        }
    }
    qsort(r, n, sizeof(r[0]), cmp_range);
    for (size_t i = 0; i < n && rc == AR_OK; i++) {
        if (r[i].hi < next) {
            continue;
        }
        if (r[i].lo > next) {
            rc = render_range(b, next, r[i].lo - 1);
        }
        next = r[i].hi + 1;
    }
    if (rc == AR_OK && next <= MAX_RUNE) {
        rc = render_range(b, next, MAX_RUNE);
    }
    return rc;
}

/* Go's parsePerlClassEscape: \d \D \s \S \w \W. *found is false when s is none of them. */
static int parse_perl_class(struct parser *p, const char **tp, struct buf *b, bool *found)
{
    const char *s = *tp;

    *found = false;
    if (p->end - s < 2 || s[0] != '\\') {
        return AR_OK;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(perl_groups); i++) {
        if (perl_groups[i].name[1] == s[1]) {
            *found = true;
            *tp = s + 2;
            return render_group(b, &perl_groups[i], p->flags);
        }
    }
    return AR_OK;
}

/* Go's parseUnicodeClass: \pL, \p{Greek}, \P{^Lu}. *found is false when s is not one. */
static int parse_unicode_class(struct parser *p, const char **tp, struct buf *b, bool *found)
{
    const char *s = *tp;
    const char *t;
    const char *name;
    const char *name_end;
    const char *seq_end;
    bool neg;
    uint32_t c;
    char tmp[64];
    size_t len;
    int rc;

    *found = false;
    if (p->end - s < 2 || s[0] != '\\' || (s[1] != 'p' && s[1] != 'P')) {
        return AR_OK;
    }
    neg = s[1] == 'P';
    t = s + 2;
    rc = next_rune(p, &t, &c);
    if (rc != AR_OK) {
        return rc;
    }
    if (c != '{') {
        name = s + 2;
        name_end = t;
        seq_end = t;
    } else {
        const char *close = memchr(s, '}', (size_t)(p->end - s));
        if (close == NULL) {
            rc = check_utf8(p, s, p->end);
            if (rc != AR_OK) {
                return rc;
            }
            return go_error(p, ERR_INVALID_CHAR_RANGE, s, p->end);
        }
        name = s + 3;
        name_end = close;
        seq_end = close + 1;
        rc = check_utf8(p, name, name_end);
        if (rc != AR_OK) {
            return rc;
        }
    }
    if (name < name_end && *name == '^') {
        neg = !neg;
        name++;
    }
    len = (size_t)(name_end - name);
    if (len >= sizeof(tmp)) {
        return go_error(p, ERR_INVALID_CHAR_RANGE, s, seq_end);
    }
    memcpy(tmp, name, len);
    tmp[len] = '\0';
    if (!unicode_name_known(tmp)) {
        return go_error(p, ERR_INVALID_CHAR_RANGE, s, seq_end);
    }
    /* Under (?i) Go folds \p{Lu} (so it matches all cased letters); RE2 folds it the same way
     * inside the (?i:...) the class node is rendered in. */
    *found = true;
    *tp = seq_end;
    return buf_printf(b, "\\%c{%s}", neg ? 'P' : 'p', tmp);
}

/* Go's parseNamedClass: [:alpha:] inside a class. */
static int parse_posix_class(struct parser *p, const char **tp, struct buf *b, bool *found)
{
    const char *s = *tp;
    const char *close = NULL;
    size_t len;

    *found = false;
    if (p->end - s <= 2 || s[0] != '[' || s[1] != ':') {
        return AR_OK;
    }
    for (const char *q = s + 2; q + 1 < p->end; q++) {
        if (q[0] == ':' && q[1] == ']') {
            close = q;
            break;
        }
    }
    if (close == NULL) {
        return AR_OK;
    }
    len = (size_t)(close + 2 - s);
    for (size_t i = 0; i < AR_ARRAY_LEN(posix_groups); i++) {
        if (strlen(posix_groups[i].name) == len && memcmp(posix_groups[i].name, s, len) == 0) {
            *found = true;
            *tp = close + 2;
            return render_group(b, &posix_groups[i], p->flags);
        }
    }
    return go_error(p, ERR_INVALID_CHAR_RANGE, s, close + 2);
}

/* Go's parseClassChar. */
static int parse_class_char(struct parser *p, const char **tp, const char *whole_class, uint32_t *r)
{
    if (*tp >= p->end) {
        return go_error(p, ERR_MISSING_BRACKET, whole_class, p->end);
    }
    if (**tp == '\\') {
        return parse_escape(p, tp, r);
    }
    return next_rune(p, tp, r);
}

/* Go's parseClass: *tp points at "[". */
static int parse_class(struct parser *p, const char **tp)
{
    const char *s = *tp;
    const char *t = s + 1;
    bool first = true;
    struct buf b;
    struct node *nd;
    int rc = AR_OK;

    buf_init(&b, RENDER_MAX_BYTES);
    rc = buf_putc(&b, '[');
    if (t < p->end && *t == '^') {
        /* Go's Perl mode sets ClassNL, so a negated class may match "\n", as in RE2. */
        t++;
        rc = rc == AR_OK ? buf_putc(&b, '^') : rc;
    }
    while (rc == AR_OK && (t >= p->end || *t != ']' || first)) {
        bool found = false;
        const char *rng = t;
        uint32_t lo;
        uint32_t hi;

        first = false;
        rc = parse_posix_class(p, &t, &b, &found);
        if (rc != AR_OK || found) {
            continue;
        }
        rc = parse_unicode_class(p, &t, &b, &found);
        if (rc != AR_OK || found) {
            continue;
        }
        rc = parse_perl_class(p, &t, &b, &found);
        if (rc != AR_OK || found) {
            continue;
        }
        rc = parse_class_char(p, &t, s, &lo);
        if (rc != AR_OK) {
            continue;
        }
        hi = lo;
        /* [a-] is "a" or "-" */
        if (p->end - t >= 2 && t[0] == '-' && t[1] != ']') {
            t++;
            rc = parse_class_char(p, &t, s, &hi);
            if (rc != AR_OK) {
                continue;
            }
            if (hi < lo) {
                rc = go_error(p, ERR_INVALID_CHAR_RANGE, rng, t);
                continue;
            }
        }
        rc = render_range(&b, lo, hi);
    }
    if (rc == AR_OK && (strcmp(buf_str(&b), "[") == 0 || strcmp(buf_str(&b), "[^") == 0)) {
        /* Only surrogates were listed: RE2 has no empty class, so spell out its meaning. */
        bool negated = b.len == 2;
        buf_cleanup(&b);
        buf_init(&b, RENDER_MAX_BYTES);
        rc = buf_puts(&b, negated ? "[\\x00-\\x{10ffff}" : "[^\\x00-\\x{10ffff}");
    }
    if (rc == AR_OK) {
        rc = buf_putc(&b, ']');
    }
    if (rc == AR_ELIMIT) {
        rc = go_error(p, ERR_LARGE, p->whole, p->end);
    }
    if (rc != AR_OK) {
        buf_cleanup(&b);
        return rc;
    }
    *tp = t + 1;
    nd = node_new(N_CLASS, p->flags);
    nd->cls = buf_take(&b);
    return push(p, nd);
}

/* A class node holding one \p / Perl group found outside brackets. */
static int push_class_text(struct parser *p, struct buf *b)
{
    struct node *nd;
    int rc = buf_putc(b, ']');

    if (rc != AR_OK) {
        buf_cleanup(b);
        return go_error(p, ERR_LARGE, p->whole, p->end);
    }
    nd = node_new(N_CLASS, p->flags);
    nd->cls = buf_take(b);
    return push(p, nd);
}

/* Go's parsePerlFlags: *tp points at "(?". */
static int parse_perl_flags(struct parser *p, const char **tp)
{
    const char *s = *tp;
    const char *t = s;
    unsigned flags = p->flags;
    int sign = 1;
    bool saw_flag = false;
    int rc;

    if (p->end - t > 4 && t[2] == 'P' && t[3] == '<') {
        /* Named capture (?P<name>expr); Go 1.19 has no (?<name>expr). */
        const char *close = memchr(t, '>', (size_t)(p->end - t));
        struct node *nd;

        if (close == NULL) {
            rc = check_utf8(p, t, p->end);
            if (rc != AR_OK) {
                return rc;
            }
            return go_error(p, ERR_INVALID_NAMED_CAP, s, p->end);
        }
        rc = check_utf8(p, t + 4, close);
        if (rc != AR_OK) {
            return rc;
        }
        if (close == t + 4) {
            return go_error(p, ERR_INVALID_NAMED_CAP, t, close + 1);
        }
        for (const char *q = t + 4; q < close; q++) {
            if (!is_alnum_ascii((unsigned char)*q) && *q != '_') {
                return go_error(p, ERR_INVALID_NAMED_CAP, t, close + 1);
            }
        }
        nd = node_new(N_LPAREN, p->flags);
        nd->cap = true;
        *tp = close + 1;
        return push(p, nd);
    }

    t += 2;
    while (t < p->end) {
        uint32_t c;
        unsigned bit = 0;

        rc = next_rune(p, &t, &c);
        if (rc != AR_OK) {
            return rc;
        }
        switch (c) {
        case 'i':
            bit = F_FOLD;
            break;
        case 'm':
            bit = F_MULTI;
            break;
        case 's':
            bit = F_DOTNL;
            break;
        case 'U':
            bit = F_UNGREEDY;
            break;
        case '-':
            if (sign < 0) {
                goto bad;
            }
            sign = -1;
            saw_flag = false;
            continue;
        case ':':
        case ')':
            if (sign < 0 && !saw_flag) {
                goto bad;
            }
            if (c == ':') {
                struct node *nd = node_new(N_LPAREN, p->flags); /* keeps the old flags */
                rc = push(p, nd);
                if (rc != AR_OK) {
                    return rc;
                }
            }
            p->flags = flags;
            *tp = t;
            return AR_OK;
        default:
            goto bad;
        }
        if (sign > 0) {
            flags |= bit;
        } else {
            flags &= ~bit;
        }
        saw_flag = true;
    }
bad:
    return go_error(p, ERR_INVALID_PERL_OP, s, t);
}

/* Handles a backslash outside a class. */
static int parse_backslash(struct parser *p, const char **tp)
{
    const char *t = *tp;
    struct buf b;
    bool found = false;
    uint32_t r;
    int rc;

    if (p->end - t >= 2) {
        switch (t[1]) {
        case 'A':
            *tp = t + 2;
            return push_op(p, N_BOT);
        case 'b':
            *tp = t + 2;
            return push_op(p, N_WB);
        case 'B':
            *tp = t + 2;
            return push_op(p, N_NWB);
        case 'C':
            /* COMPAT: any byte; RE2 in Go rejects it. */
            return go_error(p, ERR_INVALID_ESCAPE, t, t + 2);
        case 'Q': {
            /* \Q...\E: literal text, up to \E or the end of the pattern */
            const char *lit = t + 2;
            const char *lit_end = p->end;
            for (const char *q = lit; q + 1 < p->end; q++) {
                if (q[0] == '\\' && q[1] == 'E') {
                    lit_end = q;
                    break;
                }
            }
            *tp = lit_end == p->end ? p->end : lit_end + 2;
            while (lit < lit_end) {
                int len = utf8_decode(lit, lit_end, &r);
                if (len == 0) {
                    return go_error(p, ERR_INVALID_UTF8, lit, lit_end);
                }
                rc = push_literal(p, r);
                if (rc != AR_OK) {
                    return rc;
                }
                lit += len;
            }
            return AR_OK;
        }
        case 'z':
            *tp = t + 2;
            return push_op(p, N_EOT);
        default:
            break;
        }
    }
    buf_init(&b, RENDER_MAX_BYTES);
    rc = buf_putc(&b, '[');
    if (rc == AR_OK) {
        rc = parse_unicode_class(p, tp, &b, &found);
    }
    if (rc == AR_OK && !found) {
        rc = parse_perl_class(p, tp, &b, &found);
    }
    if (rc != AR_OK) {
        buf_cleanup(&b);
        return rc;
    }
    if (found) {
        return push_class_text(p, &b);
    }
    buf_cleanup(&b);
    rc = parse_escape(p, tp, &r);
    if (rc != AR_OK) {
        return rc;
    }
    return push_literal(p, r);
}

static int parse(struct parser *p)
{
    const char *t = p->whole;
    const char *last_repeat = NULL;
    int rc = AR_OK;

    while (t < p->end) {
        const char *repeat = NULL;
        uint32_t r;

        switch (*t) {
        case '(':
            if (p->end - t >= 2 && t[1] == '?') {
                rc = parse_perl_flags(p, &t);
            } else {
                struct node *nd = node_new(N_LPAREN, p->flags);
                nd->cap = true;
                rc = push(p, nd);
                t++;
            }
            break;
        case '|':
            rc = parse_vertical_bar(p);
            t++;
            break;
        case ')':
            rc = parse_right_paren(p);
            t++;
            break;
        case '^':
            rc = push_op(p, (p->flags & F_MULTI) ? N_BOL : N_BOT);
            t++;
            break;
        case '$':
            rc = push_op(p, (p->flags & F_MULTI) ? N_EOL : N_EOT);
            t++;
            break;
        case '.':
            rc = push_op(p, (p->flags & F_DOTNL) ? N_ANY : N_ANY_NOT_NL);
            t++;
            break;
        case '[':
            rc = parse_class(p, &t);
            break;
        case '*':
        case '+':
        case '?': {
            const char *before = t;
            enum nkind kind = *t == '*' ? N_STAR : *t == '+' ? N_PLUS : N_QUEST;
            t++;
            rc = apply_repeat(p, kind, 0, 0, before, &t, last_repeat);
            repeat = before;
            break;
        }
        case '{': {
            const char *before = t;
            const char *after = NULL;
            int min = 0;
            int max = 0;
            if (!parse_repeat(t, p->end, &min, &max, &after)) {
                rc = push_literal(p, '{'); /* not a repeat: a literal brace */
                t++;
                break;
            }
            if (min < 0 || min > GO_MAX_REPEAT || max > GO_MAX_REPEAT || (max >= 0 && min > max)) {
                rc = go_error(p, ERR_INVALID_REPEAT_SZ, before, after);
                break;
            }
            t = after;
            rc = apply_repeat(p, N_REPEAT, min, max, before, &t, last_repeat);
            repeat = before;
            break;
        }
        case '\\':
            rc = parse_backslash(p, &t);
            break;
        default:
            rc = next_rune(p, &t, &r);
            if (rc == AR_OK) {
                rc = push_literal(p, r);
            }
            break;
        }
        if (rc != AR_OK) {
            return rc;
        }
        last_repeat = repeat;
    }
    rc = finish_alternation(p);
    if (rc != AR_OK) {
        return rc;
    }
    if (p->n != 1) {
        return go_error(p, ERR_MISSING_PAREN, p->whole, p->end);
    }
    return AR_OK;
}

/* ---- rendering as RE2 ---- */

static int render_literal(struct buf *b, uint32_t r, unsigned flags)
{
    bool fold =
        (flags & F_FOLD) != 0 && ((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80);
    int rc;

    if (r >= 0xd800 && r <= 0xdfff) {
        /* COMPAT: Go turns a surrogate literal into U+FFFD, which matches invalid input. */
        r = RUNE_ERROR;
    }
    if (fold) {
        rc = buf_printf(b, "(?i:\\x{%x})", (unsigned)r);
    } else if (is_alnum_ascii(r)) {
        rc = buf_putc(b, (char)r);
    } else {
        rc = buf_printf(b, "\\x{%x}", (unsigned)r);
    }
    return rc;
}

static int render(struct buf *b, const struct node *nd);

/* Renders the operand of a repetition as one group. */
static int render_repeated(struct buf *b, const struct node *nd)
{
    int rc = buf_putc(b, '(');

    rc = rc == AR_OK ? render(b, nd->sub[0]) : rc;
    return rc == AR_OK ? buf_putc(b, ')') : rc;
}

static int render(struct buf *b, const struct node *nd)
{
    int rc = AR_OK;

    switch (nd->kind) {
    case N_LIT:
        return render_literal(b, nd->rune, nd->flags);
    case N_CLASS:
        if (nd->flags & F_FOLD) {
            return buf_printf(b, "(?i:%s)", nd->cls);
        }
        return buf_puts(b, nd->cls);
    case N_ANY_NOT_NL:
        return buf_puts(b, "[^\\n]");
    case N_ANY:
        return buf_puts(b, "(?s:.)");
    case N_BOL:
        return buf_puts(b, "(?m:^)"); /* start of text or after "\n" */
    case N_EOL:
        return buf_puts(b, "(?m:$)"); /* end of text or before "\n" */
    case N_BOT:
        return buf_puts(b, "\\A");
    case N_EOT:
        return buf_puts(b, "\\z"); /* COMPAT: RE2's $ never matches before a final "\n" */
    case N_WB:
        return buf_puts(b, "\\b");
    case N_NWB:
        return buf_puts(b, "\\B");
    case N_EMPTY:
        return buf_puts(b, "(?:)");
    case N_CAPTURE:
        rc = buf_putc(b, '(');
        rc = rc == AR_OK ? render(b, nd->sub[0]) : rc;
        return rc == AR_OK ? buf_putc(b, ')') : rc;
    case N_STAR:
    case N_PLUS:
    case N_QUEST:
    case N_REPEAT:
        rc = render_repeated(b, nd);
        if (rc != AR_OK) {
            return rc;
        }
        if (nd->kind == N_STAR) {
            rc = buf_putc(b, '*');
        } else if (nd->kind == N_PLUS) {
            rc = buf_putc(b, '+');
        } else if (nd->kind == N_QUEST) {
            rc = buf_putc(b, '?');
        } else if (nd->max < 0) {
            rc = buf_printf(b, "{%d,}", nd->min);
        } else if (nd->max == nd->min) {
            rc = buf_printf(b, "{%d}", nd->min);
        } else {
            rc = buf_printf(b, "{%d,%d}", nd->min, nd->max);
        }
        if (rc == AR_OK && (nd->flags & F_UNGREEDY)) {
            rc = buf_putc(b, '?');
        }
        return rc;
    case N_CONCAT:
        for (size_t i = 0; i < nd->nsub && rc == AR_OK; i++) {
            rc = render(b, nd->sub[i]);
        }
        return rc;
    case N_ALT:
        rc = buf_putc(b, '(');
        for (size_t i = 0; i < nd->nsub && rc == AR_OK; i++) {
            if (i > 0) {
                rc = buf_putc(b, '|');
            }
            rc = rc == AR_OK ? render(b, nd->sub[i]) : rc;
        }
        return rc == AR_OK ? buf_putc(b, ')') : rc;
    case N_LPAREN:
    case N_VBAR:
        break;
    }
    return AR_EINVAL; /* pseudo nodes never survive a successful parse */
}

/* ---- public API ---- */

/* Parses the anchored pattern and renders it; on success *out is a heap string. */
static int translate(const char *anchored, char **out, struct ar_error *err)
{
    struct parser p = {0};
    struct buf b;
    int rc;

    p.whole = anchored;
    p.end = anchored + strlen(anchored);
    p.err = err;
    rc = parse(&p);
    if (rc == AR_OK) {
        buf_init(&b, RENDER_MAX_BYTES);
        rc = render(&b, p.stack[0]);
        if (rc == AR_OK) {
            *out = buf_take(&b);
        } else {
            buf_cleanup(&b);
            rc = go_error(&p, ERR_LARGE, p.whole, p.end);
        }
    }
    for (size_t i = 0; i < p.n; i++) {
        node_free(p.stack[i]);
    }
    free(p.stack);
    return rc;
}

int regex_compile(const char *pattern, struct ar_regex **out, struct ar_error *err)
{
    char *anchored = ar_asprintf("^(?:%s)$", pattern);
    char *rendered = NULL;
    struct ar_re2 *re2 = NULL;
    const char *msg = NULL;
    enum ar_re2_status st;
    int rc = translate(anchored, &rendered, err);

    if (rc != AR_OK) {
        goto out;
    }
    st = ar_re2_new(rendered, strlen(rendered), MAX_MEM_BYTES, &re2, &msg);
    if (st == AR_RE2_TOO_LARGE) {
        st = ar_re2_new(rendered, strlen(rendered), MAX_MEM_BIG_BYTES, &re2, &msg);
    }
    if (st == AR_RE2_TOO_LARGE) {
        ar_error_set(err, "error parsing regexp: %s: `%s`", ERR_LARGE, anchored);
        rc = AR_EINVAL;
        goto out;
    }
    if (st != AR_RE2_OK) {
        /* The rendering is meant to be valid RE2 whenever Go's syntax is; say so loudly. */
        log_error("regex", "RE2 refused the rendering of %s: %s", anchored, msg);
        ar_error_set(err, "error parsing regexp: %s: `%s`", msg, anchored);
        rc = AR_EINVAL;
        goto out;
    }
    *out = ar_calloc(1, sizeof(**out));
    (*out)->re2 = re2;
out:
    free(rendered);
    free(anchored);
    return rc;
}

/* Copies s with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD,
 * which is how Go's matcher sees invalid input. */
static char *sanitize_utf8(const char *s, size_t n, size_t *out_n)
{
    char *o = ar_malloc(n * 3 + 1);
    const char *end = s + n;
    size_t k = 0;

    while (s < end) {
        uint32_t r;
        int len = utf8_decode(s, end, &r);
        if (len == 0) {
            memcpy(o + k, "\xef\xbf\xbd", 3);
            k += 3;
            s++;
        } else {
            memcpy(o + k, s, (size_t)len);
            k += (size_t)len;
            s += len;
        }
    }
    o[k] = '\0';
    *out_n = k;
    return o;
}

bool regex_match(const struct ar_regex *re, const char *s, size_t n)
{
    char *copy = NULL;
    bool matched;

    if (!utf8_is_valid(s, n)) {
        copy = sanitize_utf8(s, n, &n);
        s = copy;
    }
    /* Unanchored search, as Go's MatchString: the anchors are part of the pattern, and a
     * value such as "a)|(b" legitimately escapes them. */
    matched = ar_re2_search(re->re2, s, n);
    free(copy);
    return matched;
}

void regex_free(struct ar_regex *re)
{
    if (re == NULL) {
        return;
    }
    ar_re2_free(re->re2);
    free(re);
}

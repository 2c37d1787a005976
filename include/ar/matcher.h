/* Label matchers (COMPAT 3.2-3.6) and the RE2-compatible regex wrapper they use.
 * A matcher is name, operator, value; regex values are compiled fully anchored
 * (^(?:v)$) and matched by RE2 in time linear in the value, so a hostile pattern has
 * bounded cost and still gets Go's answer.
 * A label missing from a set matches as the empty string. */
#ifndef AR_MATCHER_H
#define AR_MATCHER_H

#include "ar/buf.h"
#include "ar/common.h"
#include "ar/labels.h"

enum matcher_op { MATCHER_EQ = 0, MATCHER_NE, MATCHER_RE, MATCHER_NRE };

struct ar_regex; /* opaque compiled RE2-style regex */

/* Compiles pattern anchored as ^(?:pattern)$. On error writes Go's message, e.g.
 * error parsing regexp: missing closing ): `^(?:()$` and returns AR_EINVAL. Rejects syntax RE2
 * lacks (backreferences, lookaround) as Go does. */
int regex_compile(const char *pattern, struct ar_regex **out, struct ar_error *err);
/* True when s matches (as Go's MatchString: the anchors belong to the pattern). Linear in n;
 * never gives up, so the answer is always Go's. */
bool regex_match(const struct ar_regex *re, const char *s, size_t n);
void regex_free(struct ar_regex *re);

struct matcher {
    char *name;
    char *value;
    enum matcher_op op;
    struct ar_regex *re; /* for MATCHER_RE / MATCHER_NRE */
};

struct matcher_list {
    struct matcher **v;
    size_t n;
};

/* Builds a matcher; compiles the regex for =~ and !~. */
int matcher_new(const char *name, enum matcher_op op, const char *value, struct matcher **out,
                struct ar_error *err);
void matcher_free(struct matcher *m);
struct matcher *matcher_dup(const struct matcher *m);
/* Parses one matcher in the classic syntax (COMPAT 3.3): `name="value"`, `a=~"b.*"`, `a!=b`.
 * Errors: `bad matcher format: <input>`, unescaped quote, invalid UTF-8, regex errors. */
int matcher_parse(const char *s, struct matcher **out, struct ar_error *err);
/* Parses a list `{a="b", c=~"d"}` / `a=b,c=~d` (classic, COMPAT 3.3) appending to out. */
int matchers_parse(const char *s, struct matcher_list *out, struct ar_error *err);

bool matcher_matches(const struct matcher *m, const char *value);
/* Every matcher matches the label set (missing label = ""). An empty list matches. */
bool matchers_match(const struct matcher_list *l, const struct labelset *ls);

void matcher_list_init(struct matcher_list *l);
void matcher_list_cleanup(struct matcher_list *l);
void matcher_list_add_take(struct matcher_list *l, struct matcher *m);
/* Sorts as route keys need: by name, then value, then operator (= != =~ !~). */
void matcher_list_sort(struct matcher_list *l);

const char *matcher_op_str(enum matcher_op op); /* "=", "!=", "=~", "!~" */
/* Appends name<op>"value" with \\, \n and \" escaped (COMPAT 3.6). */
void matcher_format(const struct matcher *m, struct buf *out);
/* Appends {m1,m2,...} (no space). */
void matcher_list_format(const struct matcher_list *l, struct buf *out);

#endif

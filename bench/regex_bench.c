/* Regex benchmark: compile and match cost of matcher regexes (regex_compile / regex_match,
 * the functions routes, silences and inhibitions use) on a pathological set and on ordinary
 * matchers, with each answer checked against the one Alertmanager (Go's regexp) gives.
 * Columns: compile = regex_compile; first match = the first regex_match after a compile (an
 * engine with a lazily built DFA pays its construction here); match = later matches; hash =
 * FNV-1a over the value, the least a cache keyed by (matcher, value) would pay per lookup.
 * Prints a Markdown table; exits 1 when an answer differs from Go's.
 *
 * Build: cmake --build build --target regex_bench
 * Run:   build/bench/regex_bench [budget_ms]   (default 300 ms of work per measured figure) */
#include "ar/labels.h"
#include "ar/matcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench_case {
    const char *name;
    const char *pattern;
    const char *unit;   /* value: unit repeated `repeat` times, then tail */
    size_t repeat;
    const char *tail;
    const char *head;   /* prefix before the repeated unit */
    bool go_matches;    /* Alertmanager's answer */
};

/* clang-format off */
static const struct bench_case cases[] = {
    /* pathological: catastrophic backtracking or long values */
    {"route (issue 17)", "([a-z]+-?)+-prod|.*-staging", "", 0,
     "web-frontend-server-eu-west-staging", "", true},
    {"nested plus, match", "(a+)+b|.*c", "a", 40, "c", "", true},
    {"nested plus, no match", "(a+)+b", "a", 40, "", "", false},
    {"2 MB value", ".*foo.*", "x", 2u << 20, "", "foo", true},
    {"2 MB value, no match", ".*foo.*bar", "foo-", (2u << 20) / 4, "", "", false},
    {"alternation overlap", "(a|aa)*c", "a", 5000, "", "", false},
    {"nested repeat, 1 MB", "(x+x+)+y", "x", 1u << 20, "", "", false},
    {"counted .*, 64 KB", "(.*,){12}X", "ab,", 21845, "", "", false},
    {"escaped anchors, 2 MB", "a)|(.*x", "y", 2u << 20, "", "", false},
    /* ordinary matchers on short values */
    {"alternation", "foo|bar", "", 0, "bar", "", true},
    {"suffix", ".*-prod", "", 0, "web-01-prod", "", true},
    {"class", "[a-z]+", "", 0, "critical", "", true},
    {"prefix", "crit.*", "", 0, "warning", "", false},
    {"fold + group", "(?i)warn(ing)?", "", 0, "Warning", "", true},
    {"team list", "team-(a|b|c|d|e|f)", "", 0, "team-x", "", false},
    {"match-all", ".*", "", 0, "anything-goes", "", true},
};
/* clang-format on */

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *make_value(const struct bench_case *c, size_t *len)
{
    size_t hl = strlen(c->head);
    size_t ul = strlen(c->unit);
    size_t tl = strlen(c->tail);
    size_t n = hl + ul * c->repeat + tl;
    char *v = malloc(n + 1);
    char *p = v;

    if (v == NULL) {
        abort();
    }
    memcpy(p, c->head, hl);
    p += hl;
    for (size_t i = 0; i < c->repeat; i++) {
        memcpy(p, c->unit, ul);
        p += ul;
    }
    memcpy(p, c->tail, tl);
    p[tl] = '\0';
    *len = n;
    return v;
}

/* Prints a duration in ns with a readable unit. */
static void put_time(double ns)
{
    if (ns < 1e3) {
        printf(" %.0f ns |", ns);
    } else if (ns < 1e6) {
        printf(" %.1f us |", ns / 1e3);
    } else {
        printf(" %.1f ms |", ns / 1e6);
    }
}

static void show_value(const struct bench_case *c, size_t len)
{
    printf(" ");
    if (c->head[0] != '\0') {
        printf("`%s` + ", c->head);
    }
    if (c->repeat > 0) {
        printf("`%s`x%zu", c->unit, c->repeat);
    }
    if (c->tail[0] != '\0') {
        printf("%s`%s`", c->repeat > 0 ? " + " : "", c->tail);
    }
    if (len >= 1u << 20) {
        printf(" (%.0f MB)", (double)len / (1u << 20));
    } else if (len >= 1u << 10) {
        printf(" (%.0f KB)", (double)len / (1u << 10));
    }
    printf(" |");
}

int main(int argc, char **argv)
{
    double budget_ns = (argc > 1 ? atof(argv[1]) : 300.0) * 1e6;
    int wrong = 0;

    printf("| case | pattern | value | Go | answer | compile | first match | match | hash |\n");
    printf("|---|---|---|---|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        const struct bench_case *c = &cases[i];
        struct ar_regex *re = NULL;
        struct ar_error err;
        size_t len = 0;
        char *v = make_value(c, &len);
        double t0;
        double compile_ns;
        double first_ns = 0;
        double match_ns;
        double hash_ns;
        volatile uint64_t h = 0;
        long n = 0;
        bool got = false;

        t0 = now_ns();
        do {
            regex_free(re);
            re = NULL;
            if (regex_compile(c->pattern, &re, &err) != AR_OK) {
                fprintf(stderr, "%s: %s\n", c->pattern, err.msg);
                return 2;
            }
            n++;
        } while (now_ns() - t0 < budget_ns / 10 && n < 100000);
        compile_ns = (now_ns() - t0) / (double)n;

        n = 0;
        t0 = now_ns();
        do {
            struct ar_regex *fresh = NULL;
            double t1;
            if (regex_compile(c->pattern, &fresh, &err) != AR_OK) {
                return 2;
            }
            t1 = now_ns();
            (void)regex_match(fresh, v, len);
            first_ns += now_ns() - t1;
            regex_free(fresh);
            n++;
        } while (now_ns() - t0 < budget_ns / 10 && n < 100000);
        first_ns /= (double)n;

        n = 0;
        t0 = now_ns();
        do {
            h = labels_fnv1a_add(labels_fnv1a_init(), v, len);
            n++;
        } while (now_ns() - t0 < budget_ns / 10 && n < 1000000);
        hash_ns = (now_ns() - t0) / (double)n;
        (void)h;

        n = 0;
        t0 = now_ns();
        do {
            got = regex_match(re, v, len);
            n++;
        } while (now_ns() - t0 < budget_ns && n < 1000000);
        match_ns = (now_ns() - t0) / (double)n;

        if (got != c->go_matches) {
            wrong++;
        }
        printf("| %s | `%s` |", c->name, c->pattern);
        show_value(c, len);
        printf(" %s | %s%s |", c->go_matches ? "match" : "no", got ? "match" : "no",
               got != c->go_matches ? " **WRONG**" : "");
        put_time(compile_ns);
        put_time(first_ns);
        put_time(match_ns);
        put_time(hash_ns);
        printf("\n");
        regex_free(re);
        free(v);
    }
    if (wrong > 0) {
        fprintf(stderr, "%d answer(s) differ from Go's\n", wrong);
    }
    return wrong > 0 ? 1 : 0;
}

/* Unit tests for matchers and the RE2-compatible regex wrapper (COMPAT 3.2-3.6).
 * The expected texts and match results were recorded from Alertmanager 0.25 (Go 1.19):
 * regex errors and matches through GET /api/v2/alerts?filter=, list parsing through
 * `amtool config routes`. */
#include "ar/matcher.h"
#include "check.h"

#include <stdlib.h>
#include <time.h>

/* Pattern (unanchored, as written in a matcher) and Go's error, or NULL when it compiles. */
struct regex_error_case {
    const char *pattern;
    const char *err;
};

static const struct regex_error_case regex_error_cases[] = {
    {"a**", "error parsing regexp: invalid nested repetition operator: `**`"},
    {"a*??", "error parsing regexp: invalid nested repetition operator: `*??`"},
    {"*", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"a|*", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"^*", NULL},
    {"\\b+", NULL},
    {"a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"},
    {"a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"},
    {"(a{500}){3}", "error parsing regexp: invalid repeat count: `{3}`"},
    {"{2}", "error parsing regexp: missing argument to repetition operator: `{2}`"},
    {"x{01}", NULL},
    {"[z-a]", "error parsing regexp: invalid character class range: `z-a`"},
    {"[a", "error parsing regexp: missing closing ]: `[a)$`"},
    {"\\1", "error parsing regexp: invalid escape sequence: `\\1`"},
    {"\\12", NULL},
    {"\\8", "error parsing regexp: invalid escape sequence: `\\8`"},
    {"(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"},
    {"(?<=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"},
    {"(?<n>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"},
    {"(?P<n>a", "error parsing regexp: missing closing ): `^(?:(?P<n>a)$`"},
    {"(?P<n!>a)", "error parsing regexp: invalid named capture: `(?P<n!>`"},
    {"(?P=n)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"},
    {"a\\", "error parsing regexp: missing closing ): `^(?:a\\)$`"},
    {"\\C", "error parsing regexp: invalid escape sequence: `\\C`"},
    {"\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"},
    {"\\z", NULL},
    {"\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"},
    {"\\x4", "error parsing regexp: invalid escape sequence: `\\x4)`"},
    {"\\pX", "error parsing regexp: invalid character class range: `\\pX`"},
    {"\\p{Greek", "error parsing regexp: invalid character class range: `\\p{Greek)$`"},
    {"\\p{greek}", "error parsing regexp: invalid character class range: `\\p{greek}`"},
    {"\\p{Greek}", NULL},
    {"[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"},
    {"(?i", "error parsing regexp: missing closing ): `^(?:(?i)$`"},
    {"a)", "error parsing regexp: unexpected ): `^(?:a))$`"},
    {"(?z)", "error parsing regexp: invalid or unsupported Perl syntax: `(?z`"},
    {"\\Qa)", "error parsing regexp: missing closing ): `^(?:\\Qa))$`"},
    {"(?i)*", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"[\\d-z]", NULL},
    {"[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`"},
    {"\\p", "error parsing regexp: invalid character class range: `\\p)`"},
    {"a++", "error parsing regexp: invalid nested repetition operator: `++`"},
    {"(?-)", "error parsing regexp: invalid or unsupported Perl syntax: `(?-)`"},
    {"(?i-)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"},
    {"(?-i)", NULL},
    {"(?i-s:a)", NULL},
    {"x{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"},
    {"x{1000,}", NULL},
    {"x{1000}{2}", "error parsing regexp: invalid nested repetition operator: `{1000}{2}`"},
    {"((a{10}){10}){11}", "error parsing regexp: invalid repeat count: `{11}`"},
    {"(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"},
    {"(?P<a", "error parsing regexp: invalid named capture: `(?P<a)$`"},
    {"(?P", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"},
    {"(?", "error parsing regexp: missing closing ): `^(?:(?)$`"},
    {"(?:", "error parsing regexp: missing closing ): `^(?:(?:)$`"},
    {"(", "error parsing regexp: missing closing ): `^(?:()$`"},
    {")", "error parsing regexp: unexpected ): `^(?:))$`"},
    {"|", NULL},
    {"||", NULL},
    {"a|", NULL},
    {"|a", NULL},
    {"[]", "error parsing regexp: missing closing ]: `[])$`"},
    {"[]a]", NULL},
    {"[^]a]", NULL},
    {"[^", "error parsing regexp: missing closing ]: `[^)$`"},
    {"[a-]", NULL},
    {"[-a]", NULL},
    {"[a-b-c]", NULL},
    {"[\\b]", "error parsing regexp: invalid escape sequence: `\\b`"},
    {"[\\Q]", "error parsing regexp: invalid escape sequence: `\\Q`"},
    {"\\Qab\\E*", NULL},
    {"\\Q\\E*", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"(?:\\Q\\E*)", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"\\x{}", "error parsing regexp: invalid escape sequence: `\\x{}`"},
    {"\\x{zz}", "error parsing regexp: invalid escape sequence: `\\x{z`"},
    {"\\xzz", "error parsing regexp: invalid escape sequence: `\\xzz`"},
    {"\\x", "error parsing regexp: invalid escape sequence: `\\x)$`"},
    {"\\e", "error parsing regexp: invalid escape sequence: `\\e`"},
    {"\\_", NULL},
    {"\\-", NULL},
    {"\\\303\251", "error parsing regexp: invalid escape sequence: `\\\303\251`"},
    {"\303\251*", NULL},
    {"[\303\251-a]", "error parsing regexp: invalid character class range: `\303\251-a`"},
    {"[[:alpha:]-z]", NULL},
    {"[a-[:alpha:]]", "error parsing regexp: invalid character class range: `a-[`"},
    {"[[:^alpha:]]", NULL},
    {"[[:alpha:]", "error parsing regexp: missing closing ]: `[[:alpha:])$`"},
    {"[[:alpha:]]", NULL},
    {"[\\p{Greek}]", NULL},
    {"[\\pN]", NULL},
    {"[\\p{^Greek}]", NULL},
    {"[\\P{^Greek}]", NULL},
    {"\\p{^Greek}", NULL},
    {"\\pL+", NULL},
    {"\\PL", NULL},
    {"(?i)\\p{Lu}", NULL},
    {"a{,5}", NULL},
    {"a{5", NULL},
    {"a{5,", NULL},
    {"a{5,6", NULL},
    {"a{5,6}?", NULL},
    {"a{5,6}??", "error parsing regexp: invalid nested repetition operator: `{5,6}??`"},
    {"a{5}*", "error parsing regexp: invalid nested repetition operator: `{5}*`"},
    {"a{99999999999}", "error parsing regexp: invalid repeat count: `{99999999999}`"},
    {"a{1000}", NULL},
    {"a{1000,1000}", NULL},
    {"(a{2}){501}", "error parsing regexp: invalid repeat count: `{501}`"},
    {"(a{2}){500}", NULL},
    {"(?:a{2}){501}", "error parsing regexp: invalid repeat count: `{501}`"},
    {"((a{2})*){501}", "error parsing regexp: invalid repeat count: `{501}`"},
    {"(a{2}|b{3}){400}", "error parsing regexp: invalid repeat count: `{400}`"},
    {"a{0}{0}", "error parsing regexp: invalid nested repetition operator: `{0}{0}`"},
    {"\\A*", NULL},
    {"(?m)^$", NULL},
    {"(?s).", NULL},
    {"(?U)a*", NULL},
    {"(?U)a*?", NULL},
    {"(?imsU)a", NULL},
    {"(?i:a)+", NULL},
    {"(?i)(?i)*", "error parsing regexp: missing argument to repetition operator: `*`"},
    {"a(?i)*", NULL},
    {"(?:)*", NULL},
    {"()*", NULL},
    {"()+", NULL},
    {"(|)*", NULL},
    {"a|b|", NULL},
    {"(a)(b)(c)\\1", "error parsing regexp: invalid escape sequence: `\\1`"},
    {"[[:word:]]", NULL},
    {"[[:blank:]]", NULL},
    {"[[:a:]]", "error parsing regexp: invalid character class range: `[:a:]`"},
    {"[[:alpha:]x:]]", NULL},
    {"[[:a]b:]]", "error parsing regexp: invalid character class range: `[:a]b:]`"},
    {"\\pZ", NULL},
    {"\\p{Any}", NULL},
    {"\\p{L&}", "error parsing regexp: invalid character class range: `\\p{L&}`"},
    {"\\p{Cn}", "error parsing regexp: invalid character class range: `\\p{Cn}`"},
    {"\\p{Zzzz}", "error parsing regexp: invalid character class range: `\\p{Zzzz}`"},
};

static void test_regex_errors(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(regex_error_cases); i++) {
        const struct regex_error_case *c = &regex_error_cases[i];
        struct ar_regex *re = NULL;
        struct ar_error err = {{0}};
        int rc = regex_compile(c->pattern, &re, &err);

        if (c->err == NULL) {
            CHECK_INT(rc, AR_OK);
            if (rc != AR_OK) {
                fprintf(stderr, "  pattern [%s]: %s\n", c->pattern, err.msg);
            }
        } else {
            CHECK_INT(rc, AR_EINVAL);
            CHECK_STR(err.msg, c->err);
            CHECK(re == NULL);
        }
        regex_free(re);
    }
}

/* Subjects for the match table; each row gives Go's result for every subject. */
static const char *const subjects[] = {
    "",
    "a",
    "A",
    "ab",
    "abc",
    "aB",
    "\n",
    "a\n",
    "\na",
    "a\nb",
    "foo bar",
    "k",
    "K",
    "\342\204\252",
    "\305\277",
    "s",
    "S",
    "\303\251",
    "\303\211",
    "\346\227\245\346\234\254",
    "123",
    "a.b",
    "x\ty",
    "x\013y",
    " ",
    "\t",
    "\013",
    "_",
    "-",
    "aaa",
    "{",
    "}",
    "\\",
    "\"",
    "\357\277\275",
    "\316\221",
    "\316\261",
    "a{2}",
    "\303\237",
    "\341\272\236",
    "ab\n",
    "Kk",
    "\307\205",
    "\307\204",
    "\307\206",
    "\015\n",
    "0x1F",
    "\342\200\250",
};

struct regex_match_case {
    const char *pattern;
    const char *want; /* one '0'/'1' per subject, or "ERR" when the pattern is rejected */
};

static const struct regex_match_case regex_match_cases[] = {
    {"a", "010000000000000000000000000000000000000000000000"},
    {".*", "111111000011111111111111111111111111111101111011"},
    {".+", "011111000011111111111111111111111111111101111011"},
    {".", "011000000001111111100000111110111111101100111001"},
    {"(?s).", "011000100001111111100000111110111111101100111001"},
    {"(?s).*", "111111111111111111111111111111111111111111111111"},
    {"a*", "110000000000000000000000000001000000000000000000"},
    {"a+", "010000000000000000000000000001000000000000000000"},
    {"a?", "110000000000000000000000000000000000000000000000"},
    {"ab|a", "010100000000000000000000000000000000000000000000"},
    {"a|ab", "010100000000000000000000000000000000000000000000"},
    {"a)|(b", "010111010100000000000100000001000000010010000000"},
    {"a$", "010000000000000000000000000000000000000000000000"},
    {"^a", "010000000000000000000000000000000000000000000000"},
    {"(?m)a$", "010000000000000000000000000000000000000000000000"},
    {"(?m)^a", "010000000000000000000000000000000000000000000000"},
    {"(?m)a$\\n", "000000010000000000000000000000000000000000000000"},
    {"(?m)^$", "100000000000000000000000000000000000000000000000"},
    {"(?m).*$", "111111000011111111111111111111111111111101111011"},
    {"(?m)^.*$", "111111000011111111111111111111111111111101111011"},
    {"(?m)(?:^|\\n)a", "010000001000000000000000000000000000000000000000"},
    {"a\\n?", "010000010000000000000000000000000000000000000000"},
    {"\\n", "000000100000000000000000000000000000000000000000"},
    {".*\\n", "000000110000000000000000000000000000000010000100"},
    {"\\s", "000000100000000000000000110000000000000000000000"},
    {"\\S", "011000000001111111100000001110111111101100111001"},
    {"\\s*", "100000100000000000000000110000000000000000000100"},
    {"\\S+", "011111000001111111111101001111111111111101111011"},
    {"\\d+", "000000000000000000001000000000000000000000000000"},
    {"\\D", "011000100001111111100000111110111111101100111001"},
    {"\\w+", "011111000001100110001000000101000000000001000010"},
    {"\\W", "000000100000011001100000111010111111101100111001"},
    {"\\b", "000000000000000000000000000000000000000000000000"},
    {"a\\b", "010000000000000000000000000000000000000000000000"},
    {"\\ba\\b", "010000000000000000000000000000000000000000000000"},
    {"\\B", "100000000000000000000000000000000000000000000000"},
    {"\\v", "000000000000000000000000001000000000000000000000"},
    {"x\\vy", "000000000000000000000001000000000000000000000000"},
    {"[[:space:]]", "000000100000000000000000111000000000000000000000"},
    {"x[[:space:]]y", "000000000000000000000011000000000000000000000000"},
    {"x[[:blank:]]y", "000000000000000000000010000000000000000000000000"},
    {"(?i)a", "011000000000000000000000000000000000000000000000"},
    {"(?i)ab", "000101000000000000000000000000000000000000000000"},
    {"(?i)k", "000000000001110000000000000000000000000000000000"},
    {"(?i)s", "000000000000001110000000000000000000000000000000"},
    {"(?i)K", "000000000001110000000000000000000000000000000000"},
    {"(?i)[k]", "000000000001110000000000000000000000000000000000"},
    {"(?i)[^k]", "011000100000001111100000111110111111101100111001"},
    {"(?i)\\W", "000000100000000001100000111010111111101100111001"},
    {"(?i)[\\W]", "000000100000000001100000111010111111101100111001"},
    {"(?i)[^\\w]", "000000100000000001100000111010111111101100111001"},
    {"(?i)[[:^alpha:]]", "000000100000000001100000111110111111101100111001"},
    {"(?i)[[:upper:]]", "011000000001111110000000000000000000000000000000"},
    {"(?i)[^[:lower:]]+", "000000100000000001111000111110111111101100111101"},
    {"(?i)\303\251", "000000000000000001100000000000000000000000000000"},
    {"(?i)\\x{c9}", "000000000000000001100000000000000000000000000000"},
    {"(?i)\303\237", "000000000000000000000000000000000000001100000000"},
    {"(?i)\\x{1e9e}", "000000000000000000000000000000000000001100000000"},
    {"(?i)\317\203", "000000000000000000000000000000000000000000000000"},
    {"(?i)\316\261", "000000000000000000000000000000000001100000000000"},
    {"\\p{Greek}", "000000000000000000000000000000000001100000000000"},
    {"\\p{Lu}", "001000000000110010100000000000000001000100010000"},
    {"\\p{Ll}", "010000000001001101000000000000000000101000001000"},
    {"(?i)\\p{Lu}", "011000000001111111100000000000000001101100111000"},
    {"(?i)\\P{Lu}", "000000100000000000000000111110111110000000000001"},
    {"\\P{L}", "000000100000000000000000111110111110000000000001"},
    {"\\pL+", "011111000001111111110000000001000001101101111000"},
    {"\\p{Han}+", "000000000000000000010000000000000000000000000000"},
    {"\\p{Any}", "011000100001111111100000111110111111101100111001"},
    {"\\x{fffd}", "000000000000000000000000000000000010000000000000"},
    {"[^a]", "001000100001111111100000111110111111101100111001"},
    {"[^\\n]", "011000000001111111100000111110111111101100111001"},
    {"[^a-z]", "001000100000111011100000111110111111101100111001"},
    {"[\\x00-\\x{10FFFF}]", "011000100001111111100000111110111111101100111001"},
    {"[^\\x00-\\x{10FFFF}]", "000000000000000000000000000000000000000000000000"},
    {"\\x{d800}", "000000000000000000000000000000000010000000000000"},
    {"[\\x{d800}-\\x{dfff}]", "000000000000000000000000000000000000000000000000"},
    {"[\\x{d7ff}-\\x{e000}]", "000000000000000000000000000000000000000000000000"},
    {"\\Qa.b\\E", "000000000000000000000100000000000000000000000000"},
    {"\\Qa.b", "ERR"},
    {"a\\.b", "000000000000000000000100000000000000000000000000"},
    {"a.b", "000000000000000000000100000000000000000000000000"},
    {"\\x7b", "000000000000000000000000000000100000000000000000"},
    {"\\{", "000000000000000000000000000000100000000000000000"},
    {"{", "000000000000000000000000000000100000000000000000"},
    {"a{2}", "000000000000000000000000000000000000000000000000"},
    {"a{,2}", "000000000000000000000000000000000000000000000000"},
    {"\\\\", "000000000000000000000000000000001000000000000000"},
    {"\"", "000000000000000000000000000000000100000000000000"},
    {"\\\"", "000000000000000000000000000000000100000000000000"},
    {"(?U)a+", "010000000000000000000000000001000000000000000000"},
    {"(?U)a+?", "010000000000000000000000000001000000000000000000"},
    {"a|", "110000000000000000000000000000000000000000000000"},
    {"|a", "110000000000000000000000000000000000000000000000"},
    {"()", "100000000000000000000000000000000000000000000000"},
    {"(|a)", "110000000000000000000000000000000000000000000000"},
    {"(a|)+", "110000000000000000000000000001000000000000000000"},
    {"(?:a*)*", "110000000000000000000000000001000000000000000000"},
    {"(a*)+b?", "110100000000000000000000000001000000000000000000"},
    {"\\A\\z", "100000000000000000000000000000000000000000000000"},
    {"\\Aa\\z", "010000000000000000000000000000000000000000000000"},
    {"^$", "100000000000000000000000000000000000000000000000"},
    {"$", "100000000000000000000000000000000000000000000000"},
    {"^", "100000000000000000000000000000000000000000000000"},
    {"x*$", "100000000000000000000000000000000000000000000000"},
    {"(?i)a{2}", "000000000000000000000000000000000000000000000000"},
    {"[a-c]+", "010110000000000000000000000001000000000000000000"},
    {"[[:alnum:]]+", "011111000001100110001000000001000000000001000010"},
    {"[[:punct:]]", "000000000000000000000000000110111100000000000000"},
    {"[[:print:]]+", "011111000011100110001100100111111100010001000010"},
    {"[[:cntrl:]]", "000000100000000000000000011000000000000000000000"},
    {"[[:graph:]]", "011000000001100110000000000110111100000000000000"},
    {"\\x41", "001000000000000000000000000000000000000000000000"},
    {"\\101", "001000000000000000000000000000000000000000000000"},
    {"\\0", "000000000000000000000000000000000000000000000000"},
    {"\\012", "000000100000000000000000000000000000000000000000"},
    {"\\t", "000000000000000000000000010000000000000000000000"},
    {"x\\ty", "000000000000000000000010000000000000000000000000"},
    {"\\r\\n", "000000000000000000000000000000000000000000000100"},
    {"\\x{212a}", "000000000000010000000000000000000000000000000000"},
    {"[\\x{212a}]", "000000000000010000000000000000000000000000000000"},
    {"(?i)[\\x{212a}]", "000000000001110000000000000000000000000000000000"},
    {"(?i)[\\x{17f}]", "000000000000001110000000000000000000000000000000"},
    {"(?i)\305\277", "000000000000001110000000000000000000000000000000"},
    {"[\\d\\s]+", "000000100000000000001000110000000000000000000100"},
    {"[\\D]", "011000100001111111100000111110111111101100111001"},
    {"[\\S]", "011000000001111111100000001110111111101100111001"},
    {"[^\\S]", "000000100000000000000000110000000000000000000000"},
    {"[^\\D]", "000000000000000000000000000000000000000000000000"},
    {"[^\\s\\S]", "000000000000000000000000000000000000000000000000"},
    {"\\x{1c5}", "000000000000000000000000000000000000000000100000"},
    {"(?i)\\x{1c5}", "000000000000000000000000000000000000000000111000"},
    {"(?i)\\x{1c4}", "000000000000000000000000000000000000000000111000"},
    {".{2}", "000101000000000000010000000000000000000001000000"},
    {".{2,}", "000111000010000000011111000001000000010001000010"},
    {".{1,3}", "011111000001111111111111111111111111101101111001"},
    {"(?s).{2}", "000101011000000000010000000000000000000001000100"},
    {"(?s)..", "000101011000000000010000000000000000000001000100"},
    {"(?s)\\n.", "000000001000000000000000000000000000000000000000"},
    {"a.{0}", "010000000000000000000000000000000000000000000000"},
    {"(a|b|c|d)+", "010110000000000000000000000001000000000000000000"},
    {"(?:a|\\x{20ac})", "010000000000000000000000000000000000000000000000"},
    /* large repeats of groups (rendered as PCRE2 subroutine calls) */
    {"(\\W\\w){1000}", "000000000000000000000000000000000000000000000000"},
    {"(\\W\\w|\\d){1,1000}", "000000001000000000001000000000000000000000000000"},
    {"((?U)\\W\\w+){1,800}\\d", "000000000000000000000000000000000000000000000000"},
    {"(?i)(abcdefghijklmnopqrstuvwxyz){1000}", "000000000000000000000000000000000000000000000000"},
};

static void test_regex_match(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(regex_match_cases); i++) {
        const struct regex_match_case *c = &regex_match_cases[i];
        struct ar_regex *re = NULL;
        char got[AR_ARRAY_LEN(subjects) + 1];

        if (regex_compile(c->pattern, &re, NULL) != AR_OK) {
            snprintf(got, sizeof(got), "ERR");
        } else {
            for (size_t k = 0; k < AR_ARRAY_LEN(subjects); k++) {
                got[k] = regex_match(re, subjects[k], strlen(subjects[k])) ? '1' : '0';
            }
            got[AR_ARRAY_LEN(subjects)] = '\0';
        }
        CHECK_STR(got, c->want);
        if (strcmp(got, c->want) != 0) {
            fprintf(stderr, "  pattern [%s]\n", c->pattern);
        }
        regex_free(re);
    }
}

static char *nested_parens(size_t k)
{
    char *s = ar_malloc(2 * k + 1);

    memset(s, '(', k);
    memset(s + k, ')', k);
    s[2 * k] = '\0';
    return s;
}

static void test_regex_special(void)
{
    struct ar_regex *re = NULL;
    struct ar_error err = {{0}};
    char *deep;

    /* invalid UTF-8 subjects are seen as U+FFFD per bad byte, as Go does */
    CHECK_INT(regex_compile("a.b", &re, NULL), AR_OK);
    CHECK(regex_match(re,
                      "a\xff"
                      "b",
                      3));
    CHECK(!regex_match(re,
                       "a\xff\xfe"
                       "b",
                       4));
    CHECK(regex_match(re,
                      "a\xe2\x82"
                      "b",
                      4) == false); /* two bad bytes */
    regex_free(re);
    CHECK_INT(regex_compile("a\\x{fffd}+", &re, NULL), AR_OK);
    CHECK(regex_match(re, "a\xff\xfe", 3));
    regex_free(re);
    /* NUL bytes in the subject are ordinary characters */
    CHECK_INT(regex_compile("a.b", &re, NULL), AR_OK);
    CHECK(regex_match(re, "a\0b", 3));
    regex_free(re);
    /* invalid UTF-8 in the pattern */
    CHECK_INT(regex_compile("a\xff", &re, &err), AR_EINVAL);
    CHECK_STR(err.msg, "error parsing regexp: invalid UTF-8: `\xff)$`");
    /* a large repeat of a group still counts exactly */
    {
        char subject[2001];
        for (size_t i = 0; i < 2000; i += 2) {
            subject[i] = '-';
            subject[i + 1] = 'a';
        }
        subject[2000] = '\0';
        CHECK_INT(regex_compile("(\\W\\w){1000}", &re, NULL), AR_OK);
        CHECK(regex_match(re, subject, 2000));
        CHECK(!regex_match(re, subject, 1998));
        regex_free(re);
        CHECK_INT(regex_compile("(?:(\\W\\w){2,}?){500}", &re, NULL), AR_OK);
        CHECK(regex_match(re, subject, 2000));
        CHECK(!regex_match(re, subject, 1998));
        regex_free(re);
    }
    /* nesting depth: Go accepts 998 nested captures inside ^(?:...)$, not 999 */
    deep = nested_parens(999);
    CHECK_INT(regex_compile(deep, &re, &err), AR_EINVAL);
    CHECK(strncmp(err.msg, "error parsing regexp: expression nests too deeply: `^(?:((", 58) == 0);
    free(deep);
    deep = nested_parens(998);
    CHECK_INT(regex_compile(deep, &re, &err), AR_OK);
    CHECK(regex_match(re, "", 0));
    regex_free(re);
    free(deep);
}

/* Hostile patterns get Go's answer whatever backtracking they would take: matching is linear
 * (RE2), so there is no budget whose exhaustion could turn into "no match". Timing is not
 * asserted here; bench/regex_bench measures it. */
static void test_regex_hostile(void)
{
    static const char *const hostile[] = {"(a*)*b",    "(x+x+)+y", "(a|aa)+",
                                          "(.*a){12}", "(?:a+)+b", "(a?){30}a{30}"};
    char subject[5002];

    memset(subject, 'a', sizeof(subject) - 2);
    subject[sizeof(subject) - 2] = '!'; /* Go: no match for any of them */
    subject[sizeof(subject) - 1] = '\0';
    for (size_t i = 0; i < AR_ARRAY_LEN(hostile); i++) {
        struct ar_regex *re = NULL;
        struct matcher *m = NULL;

        CHECK_INT(regex_compile(hostile[i], &re, NULL), AR_OK);
        CHECK(!regex_match(re, subject, strlen(subject)));
        regex_free(re);
        CHECK_INT(matcher_new("x", MATCHER_RE, hostile[i], &m, NULL), AR_OK);
        matcher_free(m);
    }
    /* long but ordinary subjects still match */
    {
        struct ar_regex *re = NULL;
        CHECK_INT(regex_compile(".*a!", &re, NULL), AR_OK);
        CHECK(regex_match(re, subject, strlen(subject)));
        regex_free(re);
        CHECK_INT(regex_compile("(?:a|b)*!", &re, NULL), AR_OK);
        CHECK(regex_match(re, subject, strlen(subject)));
        regex_free(re);
    }
}

/* Issue 17's pathological set: Alertmanager answers "match" for each, where a backtracking
 * matcher under a step limit gives up and answers "no match". */
struct hostile_case {
    const char *pattern;
    const char *head; /* value: head, then fill repeated n times, then tail */
    char fill;
    size_t n;
    const char *tail;
};

static const struct hostile_case hostile_matches[] = {
    /* the route: a nested repeat tried before the alternative that matches */
    {"([a-z]+-?)+-prod|.*-staging", "web-frontend-server-eu-west-staging", 0, 0, ""},
    /* the silences: a nested repeat, and a 2 MB value */
    {"(a+)+b|.*c", "", 'a', 40, "c"},
    {".*foo.*", "foo", 'x', 2u << 20, ""},
    /* more of the kind */
    {"(a|aa)*c|.*!", "", 'a', 5000, "!"},
    {"(x+x+)+y|x*z", "", 'x', 100, "z"},
    {"(.*,){12}X|.*Y", "", ',', 1u << 16, "Y"},
    {"a)|(.*x", "", 'y', 2u << 20, "x"}, /* a value escaping the anchors: unanchored search */
    {"(?s).*foo.*", "foo\n", '\n', 1u << 20, "\n"},
};

static char *hostile_value(const struct hostile_case *c, size_t *len)
{
    size_t hl = strlen(c->head);
    size_t tl = strlen(c->tail);
    char *v = malloc(hl + c->n + tl + 1);

    memcpy(v, c->head, hl);
    memset(v + hl, c->fill, c->n);
    memcpy(v + hl + c->n, c->tail, tl + 1);
    *len = hl + c->n + tl;
    return v;
}

static void test_regex_pathological(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(hostile_matches); i++) {
        const struct hostile_case *c = &hostile_matches[i];
        struct matcher *re = NULL;
        struct matcher *nre = NULL;
        size_t len;
        char *v = hostile_value(c, &len);

        CHECK_INT(matcher_new("x", MATCHER_RE, c->pattern, &re, NULL), AR_OK);
        CHECK_INT(matcher_new("x", MATCHER_NRE, c->pattern, &nre, NULL), AR_OK);
        if (re == NULL || nre == NULL) {
            free(v);
            continue;
        }
        CHECK(regex_match(re->re, v, len));
        CHECK(matcher_matches(re, v));
        CHECK(!matcher_matches(nre, v));
        if (!regex_match(re->re, v, len)) {
            fprintf(stderr, "  pattern [%s] on a %zu-byte value\n", c->pattern, len);
        }
        matcher_free(re);
        matcher_free(nre);
        free(v);
    }
}

struct parse_case {
    const char *in;
    const char *name;
    enum matcher_op op;
    const char *value;
    const char *err; /* expected error, or NULL */
};

static const struct parse_case parse_cases[] = {
    {"a=b", "a", MATCHER_EQ, "b", NULL},
    {"a!=b", "a", MATCHER_NE, "b", NULL},
    {"a=~b", "a", MATCHER_RE, "b", NULL},
    {"a!~b", "a", MATCHER_NRE, "b", NULL},
    {"a==b", "a", MATCHER_EQ, "=b", NULL},
    {"a=~=b", "a", MATCHER_RE, "=b", NULL},
    {"a=!b", "a", MATCHER_EQ, "!b", NULL},
    {" \t\n a \f= \r \"b c\" \n", "a", MATCHER_EQ, "b c", NULL},
    {"a= b\v", "a", MATCHER_EQ, "b\v", NULL}, /* \s has no \v */
    {"foo_bar:baz=1", "foo_bar:baz", MATCHER_EQ, "1", NULL},
    {":a=1", ":a", MATCHER_EQ, "1", NULL},
    {"a=", "a", MATCHER_EQ, "", NULL},
    {"a=\"\"", "a", MATCHER_EQ, "", NULL},
    {"a=\"\\n\\\"\\\\\\t\"", "a", MATCHER_EQ, "\n\"\\\\t", NULL},
    {"a=x\\", "a", MATCHER_EQ, "x\\", NULL},
    {"a=\"x\\", "", MATCHER_EQ, "", "matcher value contains unescaped double quote: \"x\\"},
    {"a=\\\"", "a", MATCHER_EQ, "\"", NULL},
    {"a=b\nc", "a", MATCHER_EQ, "b\nc", NULL},
    {"a=\"b\"c\"", "", MATCHER_EQ, "", "matcher value contains unescaped double quote: \"b\"c\""},
    {"a=\"", "", MATCHER_EQ, "", "matcher value contains unescaped double quote: \""},
    {"a=b\"", "", MATCHER_EQ, "", "matcher value contains unescaped double quote: b\""},
    {"a=\"\xc3\xa9\"", "a", MATCHER_EQ, "\xc3\xa9", NULL},
    {"a=\"b\xff\"", "", MATCHER_EQ, "", "matcher value not valid UTF-8: \"b\xff\""},
    {"a=\xc3", "", MATCHER_EQ, "", "matcher value not valid UTF-8: \xc3"},
    {"", "", MATCHER_EQ, "", "bad matcher format: "},
    {"a", "", MATCHER_EQ, "", "bad matcher format: a"},
    {"1a=b", "", MATCHER_EQ, "", "bad matcher format: 1a=b"},
    {"a-b=c", "", MATCHER_EQ, "", "bad matcher format: a-b=c"},
    {"a b=c", "", MATCHER_EQ, "", "bad matcher format: a b=c"},
    {"{a=b}", "", MATCHER_EQ, "", "bad matcher format: {a=b}"},
    {"a~b", "", MATCHER_EQ, "", "bad matcher format: a~b"},
    {"\xc3\xa9=b", "", MATCHER_EQ, "", "bad matcher format: \xc3\xa9=b"},
    {"a=~\"(\"", "", MATCHER_EQ, "", "error parsing regexp: missing closing ): `^(?:()$`"},
    {"a!~\"x**\"", "", MATCHER_EQ, "",
     "error parsing regexp: invalid nested repetition operator: `**`"},
    {"a=~\"\\\\d+\"", "a", MATCHER_RE, "\\d+", NULL},
};

static void test_parse(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct matcher *m = NULL;
        struct ar_error err = {{0}};
        int rc = matcher_parse(c->in, &m, &err);

        if (c->err != NULL) {
            CHECK_INT(rc, AR_EINVAL);
            CHECK_STR(err.msg, c->err);
            CHECK(m == NULL);
            continue;
        }
        CHECK_INT(rc, AR_OK);
        if (rc != AR_OK) {
            fprintf(stderr, "  input [%s]: %s\n", c->in, err.msg);
            continue;
        }
        CHECK_STR(m->name, c->name);
        CHECK_INT(m->op, c->op);
        CHECK_STR(m->value, c->value);
        CHECK((m->re != NULL) == (c->op == MATCHER_RE || c->op == MATCHER_NRE));
        matcher_free(m);
    }
}

/* List input, then the list sorted and printed as a route key, or the error. */
struct list_case {
    const char *in;
    const char *sorted;
    const char *err;
};

static const struct list_case list_cases[] = {
    {"a=b", "{a=\"b\"}", NULL},
    {"{a=\"b\", c=~\"d\"}", "{a=\"b\",c=~\"d\"}", NULL},
    {"a=b,c=~d", "{a=\"b\",c=~\"d\"}", NULL},
    {"a=\"x,y\"", "{a=\"x,y\"}", NULL},
    {"a=b,,c=d", NULL, "bad matcher format: "},
    {"{a=\"b\",}", "{a=\"b\"}", NULL},
    {"a=b, ", "{a=\"b\"}", NULL},
    {"  a  =  \"b\"  ", "{a=\"b\"}", NULL},
    {"a=\"b\\\"c\"", "{a=\"b\\\"c\"}", NULL},
    {"a=\"b\\\\\"", "{a=\"b\\\\\"}", NULL},
    {"a=\"b\\nc\"", "{a=\"b\\nc\"}", NULL},
    {"a=\"b\\tc\"", "{a=\"b\\\\tc\"}", NULL},
    {"a=b\\", "{a=\"b\\\\\"}", NULL},
    {"a=\"b", NULL, "matcher value contains unescaped double quote: \"b"},
    {"a=b\"", NULL, "matcher value contains unescaped double quote: b\""},
    {"a=\"\"", "{a=\"\"}", NULL},
    {"a=", "{a=\"\"}", NULL},
    {"a=\"\\\"\"", "{a=\"\\\"\"}", NULL},
    {"{a=b}}", "{a=\"b}\"}", NULL},
    {"{{a=b}", NULL, "bad matcher format: {a=b"},
    {"a=b,}", "{a=\"b\"}", NULL},
    {",a=b", NULL, "bad matcher format: "},
    {"a:b=c", "{a:b=\"c\"}", NULL},
    {"1a=b", NULL, "bad matcher format: 1a=b"},
    {"a==b", "{a=\"=b\"}", NULL},
    {"a=~=b", "{a=~\"=b\"}", NULL},
    {"a!b", NULL, "bad matcher format: a!b"},
    {"a=b\013", "{a=\"b\"}", NULL},
    {"a=b\013,c=d", "{a=\"b\013\",c=\"d\"}", NULL},
    {"a=b,c=d\013", "{a=\"b\",c=\"d\"}", NULL},
    {"a=\"b,c\",d=\"e\\\",f\"", "{a=\"b,c\",d=\"e\\\",f\"}", NULL},
    {"a=b c", "{a=\"b c\"}", NULL},
    {"a=\"b\" c", NULL, "matcher value contains unescaped double quote: \"b\" c"},
    {"a=\303\251", "{a=\"\303\251\"}", NULL},
    {"a=\"x\\y\"", "{a=\"x\\\\y\"}", NULL},
    {"a = b\t", "{a=\"b\"}", NULL},
    {" {a=b}", NULL, "bad matcher format: {a=b"},
    {"a=b\302\240", "{a=\"b\"}", NULL},
    {"a=b\302\240,c=d", "{a=\"b\302\240\",c=\"d\"}", NULL},
    {"a=\"b\\\\\",c=\"d\"", "{a=\"b\\\\\",c=\"d\"}", NULL},
    {"a=\"\\\\\",b=c", "{a=\"\\\\\",b=\"c\"}", NULL},
    {"a=\\\",b=c", "{a=\"\\\"\",b=\"c\"}", NULL},
    {"z=1,a=2,a=1,a!=1,a=~1,a!~1", "{a=\"1\",a!=\"1\",a=~\"1\",a!~\"1\",a=\"2\",z=\"1\"}", NULL},
    {"a=~\"(\",b=c", NULL, "error parsing regexp: missing closing ): `^(?:()$`"},
    {"a=b\nc", "{a=\"b\\nc\"}", NULL},
    {":=b", "{:=\"b\"}", NULL},
    {"_=b", "{_=\"b\"}", NULL},
    {"", "{}", NULL},
    {"{}", "{}", NULL},
    {" ", "{}", NULL},
    {"a=b,c", NULL, "bad matcher format: c"},
    {"a=~\"a|b\",b!~\"(?i)x\"", "{a=~\"a|b\",b!~\"(?i)x\"}", NULL},
    /* not expressible in YAML: invalid UTF-8 becomes U+FFFD in lists (Go's rune loop) */
    {"a=\"b\xff\"", "{a=\"b\357\277\275\"}", NULL},
    {"a=\"\xff\",b=\xe2\x82", "{a=\"\357\277\275\",b=\"\357\277\275\357\277\275\"}", NULL},
};

static void test_list_parse(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(list_cases); i++) {
        const struct list_case *c = &list_cases[i];
        struct matcher_list l;
        struct ar_error err = {{0}};
        struct buf b;
        int rc;

        matcher_list_init(&l);
        rc = matchers_parse(c->in, &l, &err);
        if (c->err != NULL) {
            CHECK_INT(rc, AR_EINVAL);
            CHECK_STR(err.msg, c->err);
            CHECK_INT(l.n, 0);
        } else {
            CHECK_INT(rc, AR_OK);
            buf_init(&b, 0);
            matcher_list_sort(&l);
            matcher_list_format(&l, &b);
            CHECK_STR(buf_str(&b), c->sorted);
            buf_cleanup(&b);
        }
        matcher_list_cleanup(&l);
    }
}

static void test_list_append(void)
{
    struct matcher_list l;
    struct ar_error err = {{0}};
    struct buf b;

    matcher_list_init(&l);
    CHECK_INT(matchers_parse("a=1", &l, &err), AR_OK);
    CHECK_INT(matchers_parse("{b=2,c=~3}", &l, &err), AR_OK);
    CHECK_INT(matchers_parse("d=4,e=~\"(\"", &l, &err), AR_EINVAL); /* nothing appended */
    CHECK_INT(l.n, 3);
    buf_init(&b, 0);
    matcher_list_format(&l, &b);
    CHECK_STR(buf_str(&b), "{a=\"1\",b=\"2\",c=~\"3\"}");
    buf_cleanup(&b);
    matcher_list_cleanup(&l);
    CHECK_INT(l.n, 0);
    matcher_list_cleanup(&l); /* twice is fine */
}

static void test_matching(void)
{
    static const struct {
        const char *matchers;
        bool want;
    } cases[] = {
        {"", true},
        {"{}", true},
        {"team=\"\"", false},
        {"missing=\"\"", true},
        {"missing!=\"\"", false},
        {"team!=\"\"", true},
        {"missing=~\".*\"", true},
        {"missing=~\".+\"", false},
        {"missing!~\"x\"", true},
        {"team=ops", true},
        {"team=Ops", false},
        {"team=~\"op\"", false}, /* anchored */
        {"team=~\"op.\"", true},
        {"team=~\"(?i)OPS\"", true},
        {"team=~\"dev|ops\"", true},
        {"team!~\"dev|ops\"", false},
        {"team=ops,severity=~\"crit.*\"", true},
        {"team=ops,severity=~\"warn.*\"", false},
        {"team=ops,severity!=critical", false},
        {"env=~\"prod\\n\"", false},
        {"msg=\"a\\nb\"", true},
        {"msg=~\"a.b\"", false}, /* . does not match \n */
        {"msg=~\"(?s)a.b\"", true},
        {"msg=~\"a$\"", false},
        {"msg=~\"(?m)a$\\nb\"", true},
        {"team=~\"o)|(x\"", true}, /* escapes the anchors exactly like Go */
    };
    struct labelset ls;

    labelset_init(&ls);
    labelset_set(&ls, "team", "ops");
    labelset_set(&ls, "severity", "critical");
    labelset_set(&ls, "env", "prod");
    labelset_set(&ls, "msg", "a\nb");
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct matcher_list l;
        struct ar_error err = {{0}};

        matcher_list_init(&l);
        CHECK_INT(matchers_parse(cases[i].matchers, &l, &err), AR_OK);
        CHECK(matchers_match(&l, &ls) == cases[i].want);
        if (matchers_match(&l, &ls) != cases[i].want) {
            fprintf(stderr, "  matchers [%s]\n", cases[i].matchers);
        }
        matcher_list_cleanup(&l);
    }
    labelset_cleanup(&ls);
}

static void test_new_dup_format(void)
{
    struct matcher *m = NULL;
    struct matcher *d;
    struct ar_error err = {{0}};
    struct buf b;

    CHECK_STR(matcher_op_str(MATCHER_EQ), "=");
    CHECK_STR(matcher_op_str(MATCHER_NE), "!=");
    CHECK_STR(matcher_op_str(MATCHER_RE), "=~");
    CHECK_STR(matcher_op_str(MATCHER_NRE), "!~");

    CHECK_INT(matcher_new("a", MATCHER_RE, "[", &m, &err), AR_EINVAL);
    CHECK_STR(err.msg, "error parsing regexp: missing closing ]: `[)$`");
    CHECK(m == NULL);
    CHECK_INT(matcher_new("path", MATCHER_NRE, "C:\\\\x\n\"y\"", &m, &err), AR_OK);
    d = matcher_dup(m);
    matcher_free(m);
    CHECK_STR(d->name, "path");
    CHECK_INT(d->op, MATCHER_NRE);
    CHECK(matcher_matches(d, "x"));
    CHECK(!matcher_matches(d, "C:\\x\n\"y\""));
    buf_init(&b, 0);
    matcher_format(d, &b);
    CHECK_STR(buf_str(&b), "path!~\"C:\\\\\\\\x\\n\\\"y\\\"\"");
    buf_cleanup(&b);
    matcher_free(d);
    matcher_free(NULL);
    regex_free(NULL);

    CHECK_INT(matcher_new("a", MATCHER_EQ, "(", &m, &err), AR_OK); /* no regex for = */
    CHECK(m->re == NULL);
    CHECK(matcher_matches(m, "("));
    matcher_free(m);
}

static void test_sort(void)
{
    static const char *const in[] = {
        "severity=~\"crit.*\"", "team=a", "env!=dev", "a!~x", "a=~x", "a!=x", "a=x", "a=w", "B=1",
    };
    struct matcher_list l;
    struct buf b;

    matcher_list_init(&l);
    for (size_t i = 0; i < AR_ARRAY_LEN(in); i++) {
        struct matcher *m = NULL;
        CHECK_INT(matcher_parse(in[i], &m, NULL), AR_OK);
        matcher_list_add_take(&l, m);
    }
    matcher_list_sort(&l);
    buf_init(&b, 0);
    matcher_list_format(&l, &b);
    CHECK_STR(buf_str(&b), "{B=\"1\",a=\"w\",a=\"x\",a!=\"x\",a=~\"x\",a!~\"x\",env!=\"dev\","
                           "severity=~\"crit.*\",team=\"a\"}");
    buf_cleanup(&b);
    matcher_list_cleanup(&l);

    matcher_list_init(&l);
    buf_init(&b, 0);
    matcher_list_sort(&l);
    matcher_list_format(&l, &b);
    CHECK_STR(buf_str(&b), "{}");
    buf_cleanup(&b);
}

int main(void)
{
    test_regex_errors();
    test_regex_match();
    test_regex_special();
    test_regex_hostile();
    test_regex_pathological();
    test_parse();
    test_list_parse();
    test_list_append();
    test_matching();
    test_new_dup_format();
    test_sort();
    return CHECK_DONE();
}

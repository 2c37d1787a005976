/* Unit tests for durations: Prometheus form (COMPAT 4.7) and Go time.ParseDuration /
 * Duration.String, table-driven. */
#include "ar/duration.h"
#include "check.h"

#define MS_DAY (INT64_C(86400000))
#define NS_SEC (INT64_C(1000000000))
#define MAX_MS (INT64_MAX / INT64_C(1000000))

struct prom_case {
    const char *in;
    int rc;
    int64_t ms;
    const char *msg;    /* error message, or NULL */
    const char *format; /* duration_format of the result, or NULL to skip */
};

static const struct prom_case prom_cases[] = {
    {"0", AR_OK, 0, NULL, "0s"},
    {"0s", AR_OK, 0, NULL, "0s"},
    {"0ms", AR_OK, 0, NULL, "0s"},
    {"1h30m", AR_OK, 5400000, NULL, "1h30m"},
    {"90m", AR_OK, 5400000, NULL, "1h30m"},
    {"1d", AR_OK, MS_DAY, NULL, "1d"},
    {"1w", AR_OK, 7 * MS_DAY, NULL, "1w"},
    {"1y", AR_OK, 365 * MS_DAY, NULL, "1y"},
    {"90d", AR_OK, 90 * MS_DAY, NULL, "90d"},
    {"91d", AR_OK, 91 * MS_DAY, NULL, "13w"},
    {"8d", AR_OK, 8 * MS_DAY, NULL, "8d"},
    {"90s", AR_OK, 90000, NULL, "1m30s"},
    {"500ms", AR_OK, 500, NULL, "500ms"},
    {"5m", AR_OK, 300000, NULL, "5m"},
    {"1m5ms", AR_OK, 60005, NULL, "1m5ms"},
    {"1y2w3d4h5m6s7ms", AR_OK, 365 * MS_DAY + 17 * MS_DAY + 4 * 3600000 + 306007, NULL,
     "382d4h5m6s7ms"},
    {"007s", AR_OK, 7000, NULL, "7s"},
    {"", AR_EINVAL, 0, "empty duration string", NULL},
    {"1x", AR_EINVAL, 0, "not a valid duration string: \"1x\"", NULL},
    {"1.5h", AR_EINVAL, 0, "not a valid duration string: \"1.5h\"", NULL},
    {"-1s", AR_EINVAL, 0, "not a valid duration string: \"-1s\"", NULL},
    {"+1s", AR_EINVAL, 0, "not a valid duration string: \"+1s\"", NULL},
    {"1m1h", AR_EINVAL, 0, "not a valid duration string: \"1m1h\"", NULL},
    {"1s1s", AR_EINVAL, 0, "not a valid duration string: \"1s1s\"", NULL},
    {"1ms1s", AR_EINVAL, 0, "not a valid duration string: \"1ms1s\"", NULL},
    {"5", AR_EINVAL, 0, "not a valid duration string: \"5\"", NULL},
    {"h", AR_EINVAL, 0, "not a valid duration string: \"h\"", NULL},
    {" 1s", AR_EINVAL, 0, "not a valid duration string: \" 1s\"", NULL},
    {"1s ", AR_EINVAL, 0, "not a valid duration string: \"1s \"", NULL},
    {"1hm", AR_EINVAL, 0, "not a valid duration string: \"1hm\"", NULL},
    {"00", AR_EINVAL, 0, "not a valid duration string: \"00\"", NULL},
    {"292y", AR_OK, 292 * 365 * MS_DAY, NULL, "292y"},
    {"293y", AR_EINVAL, 0, "duration out of range", NULL},
    {"292y52w", AR_EINVAL, 0, "duration out of range", NULL},
    {"99999999999999999999999s", AR_EINVAL, 0, "duration out of range", NULL},
    {"9223372036854ms", AR_OK, MAX_MS, NULL, NULL},
    {"9223372036855ms", AR_EINVAL, 0, "duration out of range", NULL},
    {"99999999999999999999999x", AR_EINVAL, 0,
     "not a valid duration string: \"99999999999999999999999x\"", NULL},
};

static void test_prometheus(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(prom_cases); i++) {
        const struct prom_case *c = &prom_cases[i];
        struct ar_error err = {{0}};
        int64_t ms = -42;
        int rc = duration_parse(c->in, &ms, &err);

        CHECK_INT(rc, c->rc);
        if (c->rc == AR_OK) {
            CHECK_INT(ms, c->ms);
        } else {
            CHECK_INT(ms, -42); /* untouched on error */
            CHECK_STR(err.msg, c->msg);
        }
        if (c->format != NULL) {
            char out[32];
            duration_format(ms, out, sizeof(out));
            CHECK_STR(out, c->format);
        }
    }
}

static void test_prometheus_format(void)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "0s"},
        {1, "1ms"},
        {1000, "1s"},
        {3600000, "1h"},
        {86400000, "1d"},
        {5400000, "1h30m"},
        {7 * MS_DAY + 1, "7d1ms"},
        {14 * MS_DAY, "2w"},
        {730 * MS_DAY, "2y"},
        {366 * MS_DAY, "366d"},
        {MAX_MS, "106751d23h47m16s854ms"},
    };
    char out[32];
    char tiny[4];

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        duration_format(cases[i].ms, out, sizeof(out));
        CHECK_STR(out, cases[i].want);
    }
    duration_format(5400000, tiny, sizeof(tiny)); /* truncated, still terminated */
    CHECK_STR(tiny, "1h3");
}

struct go_case {
    const char *in;
    int rc;
    int64_t ns;
    const char *msg;
};

static const struct go_case go_cases[] = {
    {"0", AR_OK, 0, NULL},
    {"-0", AR_OK, 0, NULL},
    {"+0", AR_OK, 0, NULL},
    {"5s", AR_OK, 5 * NS_SEC, NULL},
    {"30s", AR_OK, 30 * NS_SEC, NULL},
    {"1478s", AR_OK, 1478 * NS_SEC, NULL},
    {"-5s", AR_OK, -5 * NS_SEC, NULL},
    {"+5s", AR_OK, 5 * NS_SEC, NULL},
    {"-0s", AR_OK, 0, NULL},
    {"5.0s", AR_OK, 5 * NS_SEC, NULL},
    {"5.6s", AR_OK, 5 * NS_SEC + 600000000, NULL},
    {"5.s", AR_OK, 5 * NS_SEC, NULL},
    {".5s", AR_OK, NS_SEC / 2, NULL},
    {"1.004s", AR_OK, NS_SEC + 4000000, NULL},
    {"1.0040s", AR_OK, NS_SEC + 4000000, NULL},
    {"100.00100s", AR_OK, 100 * NS_SEC + 1000000, NULL},
    {"10ns", AR_OK, 10, NULL},
    {"11us", AR_OK, 11000, NULL},
    {"12\xc2\xb5s", AR_OK, 12000, NULL},
    {"12\xce\xbcs", AR_OK, 12000, NULL},
    {"13ms", AR_OK, 13000000, NULL},
    {"14s", AR_OK, 14 * NS_SEC, NULL},
    {"15m", AR_OK, 15 * 60 * NS_SEC, NULL},
    {"16h", AR_OK, 16 * 3600 * NS_SEC, NULL},
    {"3h30m", AR_OK, (3 * 3600 + 1800) * NS_SEC, NULL},
    {"10.5s4m", AR_OK, 4 * 60 * NS_SEC + 10 * NS_SEC + NS_SEC / 2, NULL},
    {"-2m3.4s", AR_OK, -(2 * 60 * NS_SEC + 3 * NS_SEC + 400000000), NULL},
    {"1h2m3s4ms5us6ns", AR_OK, 3723 * NS_SEC + 4005006, NULL},
    {"39h9m14.425s", AR_OK, 140954425000000, NULL},
    {"52763797000ns", AR_OK, 52763797000, NULL},
    {"0.3333333333333333333h", AR_OK, 20 * 60 * NS_SEC, NULL},
    {"9007199254740993ns", AR_OK, INT64_C(9007199254740993), NULL},
    {"9223372036854775807ns", AR_OK, INT64_MAX, NULL},
    {"9223372036854775.807us", AR_OK, INT64_MAX, NULL},
    {"-9223372036854775808ns", AR_OK, INT64_MIN, NULL},
    {"0.100000000000000000000h", AR_OK, 6 * 60 * NS_SEC, NULL},
    {"", AR_EINVAL, 0, "time: invalid duration \"\""},
    {"3", AR_EINVAL, 0, "time: missing unit in duration \"3\""},
    {"-", AR_EINVAL, 0, "time: invalid duration \"-\""},
    {"s", AR_EINVAL, 0, "time: invalid duration \"s\""},
    {".", AR_EINVAL, 0, "time: invalid duration \".\""},
    {"-.", AR_EINVAL, 0, "time: invalid duration \"-.\""},
    {".s", AR_EINVAL, 0, "time: invalid duration \".s\""},
    {"+.s", AR_EINVAL, 0, "time: invalid duration \"+.s\""},
    {"1d", AR_EINVAL, 0, "time: unknown unit \"d\" in duration \"1d\""},
    {"1\xc2\xb5", AR_EINVAL, 0, "time: unknown unit \"\\xc2\\xb5\" in duration \"1\\xc2\\xb5\""},
    {"3000000h", AR_EINVAL, 0, "time: invalid duration \"3000000h\""},
    {"9223372036854775808ns", AR_EINVAL, 0, "time: invalid duration \"9223372036854775808ns\""},
    {"9223372036854775.808us", AR_EINVAL, 0, "time: invalid duration \"9223372036854775.808us\""},
    {"-9223372036854775809ns", AR_EINVAL, 0, "time: invalid duration \"-9223372036854775809ns\""},
    {"\"1s", AR_EINVAL, 0, "time: invalid duration \"\\\"1s\""},
};

static void test_go_parse(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(go_cases); i++) {
        const struct go_case *c = &go_cases[i];
        struct ar_error err = {{0}};
        int64_t ns = -42;
        int rc = go_duration_parse(c->in, &ns, &err);

        CHECK_INT(rc, c->rc);
        if (c->rc == AR_OK) {
            CHECK_INT(ns, c->ns);
        } else {
            CHECK_INT(ns, -42);
            CHECK_STR(err.msg, c->msg);
        }
    }
}

static void test_go_format(void)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {1100, "1.1\xc2\xb5s"},
        {2200000, "2.2ms"},
        {3300000000, "3.3s"},
        {4 * 60 * NS_SEC + 5 * NS_SEC, "4m5s"},
        {4 * 60 * NS_SEC + 5 * NS_SEC + 1000000, "4m5.001s"},
        {5 * 3600 * NS_SEC + 6 * 60 * NS_SEC + 7 * NS_SEC + 1000000, "5h6m7.001s"},
        {8 * 60 * NS_SEC + 1, "8m0.000000001s"},
        {3600 * NS_SEC, "1h0m0s"},
        {1500000000, "1.5s"},
        {-1500000000, "-1.5s"},
        {-1, "-1ns"},
        {INT64_MAX, "2562047h47m16.854775807s"},
        {INT64_MIN, "-2562047h47m16.854775808s"},
    };
    char out[32];

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        go_duration_format(cases[i].ns, out, sizeof(out));
        CHECK_STR(out, cases[i].want);
    }
    /* round trip */
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        int64_t back = 0;
        go_duration_format(cases[i].ns, out, sizeof(out));
        CHECK_INT(go_duration_parse(out, &back, NULL), AR_OK);
        CHECK_INT(back, cases[i].ns);
    }
}

int main(void)
{
    test_prometheus();
    test_prometheus_format();
    test_go_parse();
    test_go_format();
    return CHECK_DONE();
}

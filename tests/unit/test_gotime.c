/* Unit tests for ar/gotime.h against Go's documented time package behaviour: the predefined
 * layouts (each one is the reference time Mon Jan 2 15:04:05 MST 2006 formatted with
 * itself), time.Format of 2009-11-10 23:00 UTC, time.Parse results and its error texts,
 * and the calendar helpers. */
#include "ar/gotime.h"
#include "check.h"

#include <stdlib.h>

#define REF_SEC INT64_C(1136239445) /* 2006-01-02T15:04:05-07:00 */
#define REF_OFF (-7 * 3600)
#define NOV_SEC INT64_C(1257894000)   /* 2009-11-10T23:00:00Z */
#define YEAR0   INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */

static char out[256];

static const char *fmt(const char *layout, int64_t sec, int32_t nsec, int32_t off, const char *zone)
{
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(gotime_format(&b, layout, sec, nsec, off, zone), AR_OK);
    snprintf(out, sizeof(out), "%s", buf_str(&b));
    buf_cleanup(&b);
    return out;
}

static void test_calendar(void)
{
    CHECK(gotime_is_leap(2024));
    CHECK(gotime_is_leap(2000));
    CHECK(!gotime_is_leap(1900));
    CHECK(!gotime_is_leap(2023));
    CHECK(gotime_is_leap(0));
    CHECK_INT(gotime_days_in(2, 2024), 29);
    CHECK_INT(gotime_days_in(2, 2100), 28);
    CHECK_INT(gotime_days_in(4, 2023), 30);
    CHECK_INT(gotime_days_in(12, 2023), 31);
    CHECK_INT(gotime_days_in(13, 2023), 0);
    CHECK_INT(gotime_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(gotime_days_from_civil(1, 1, 1) * 86400, GOTIME_ZERO_SEC);
    CHECK_INT(gotime_days_from_civil(0, 1, 1) * 86400, YEAR0);
    CHECK_INT(gotime_weekday(gotime_days_from_civil(2006, 1, 2)), 1); /* Monday */
    CHECK_INT(gotime_weekday(gotime_days_from_civil(1969, 12, 31)), 3);
    for (int64_t d = -800000; d <= 800000; d += 997) {
        int64_t y;
        unsigned m;
        unsigned dd;

        gotime_civil_from_days(d, &y, &m, &dd);
        CHECK_INT(gotime_days_from_civil(y, (int)m, (int)dd), d);
    }
}

/* Go: each predefined layout is the reference time written in that layout. */
static void test_format_reference(void)
{
    static const struct {
        const char *layout;
        const char *want;
    } cases[] = {
        {GOTIME_LAYOUT, "01/02 03:04:05PM '06 -0700"},
        {GOTIME_ANSIC, "Mon Jan  2 15:04:05 2006"},
        {GOTIME_UNIX_DATE, "Mon Jan  2 15:04:05 MST 2006"},
        {GOTIME_RUBY_DATE, "Mon Jan 02 15:04:05 -0700 2006"},
        {GOTIME_RFC822, "02 Jan 06 15:04 MST"},
        {GOTIME_RFC822Z, "02 Jan 06 15:04 -0700"},
        {GOTIME_RFC850, "Monday, 02-Jan-06 15:04:05 MST"},
        {GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 MST"},
        {GOTIME_RFC1123Z, "Mon, 02 Jan 2006 15:04:05 -0700"},
        {GOTIME_RFC3339, "2006-01-02T15:04:05-07:00"},
        {GOTIME_RFC3339_NANO, "2006-01-02T15:04:05-07:00"},
        {GOTIME_KITCHEN, "3:04PM"},
        {GOTIME_STAMP, "Jan  2 15:04:05"},
        {GOTIME_STAMP_MILLI, "Jan  2 15:04:05.000"},
        {GOTIME_STAMP_MICRO, "Jan  2 15:04:05.000000"},
        {GOTIME_STAMP_NANO, "Jan  2 15:04:05.000000000"},
        {GOTIME_DATE_TIME, "2006-01-02 15:04:05"},
        {GOTIME_DATE_ONLY, "2006-01-02"},
        {GOTIME_TIME_ONLY, "15:04:05"},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        CHECK_STR(fmt(cases[i].layout, REF_SEC, 0, REF_OFF, "MST"), cases[i].want);
    }
}

static void test_format(void)
{
    /* Go's ExampleTime_Format instant, in UTC */
    CHECK_STR(fmt(GOTIME_ANSIC, NOV_SEC, 0, 0, "UTC"), "Tue Nov 10 23:00:00 2009");
    CHECK_STR(fmt(GOTIME_UNIX_DATE, NOV_SEC, 0, 0, "UTC"), "Tue Nov 10 23:00:00 UTC 2009");
    CHECK_STR(fmt(GOTIME_RFC822, NOV_SEC, 0, 0, "UTC"), "10 Nov 09 23:00 UTC");
    CHECK_STR(fmt(GOTIME_RFC850, NOV_SEC, 0, 0, "UTC"), "Tuesday, 10-Nov-09 23:00:00 UTC");
    CHECK_STR(fmt(GOTIME_RFC1123, NOV_SEC, 0, 0, "UTC"), "Tue, 10 Nov 2009 23:00:00 UTC");
    CHECK_STR(fmt(GOTIME_RFC1123Z, NOV_SEC, 0, 0, "UTC"), "Tue, 10 Nov 2009 23:00:00 +0000");
    CHECK_STR(fmt(GOTIME_RFC3339, NOV_SEC, 0, 0, "UTC"), "2009-11-10T23:00:00Z");
    CHECK_STR(fmt(GOTIME_KITCHEN, NOV_SEC, 0, 0, "UTC"), "11:00PM");
    CHECK_STR(fmt("3:04pm", NOV_SEC - 23 * 3600, 0, 0, "UTC"), "12:00am");
    CHECK_STR(fmt("Monday January _2 __2 002", NOV_SEC, 0, 0, "UTC"),
              "Tuesday November 10 314 314");
    CHECK_STR(fmt("_2|__2|002", 1136073600, 0, 0, "UTC"), " 1|  1|001");
    /* fractions: .000 keeps zeros, .999 drops them, a comma is kept */
    CHECK_STR(fmt(GOTIME_RFC3339_NANO, NOV_SEC, 120000000, 0, "UTC"), "2009-11-10T23:00:00.12Z");
    CHECK_STR(fmt(GOTIME_RFC3339_NANO, NOV_SEC, 123456789, 3600, "CET"),
              "2009-11-11T00:00:00.123456789+01:00");
    CHECK_STR(fmt("05,000|05.99", NOV_SEC, 5000000, 0, "UTC"), "00,005|00");
    CHECK_STR(fmt(GOTIME_STAMP_MICRO, NOV_SEC, 123456789, 0, "UTC"), "Nov 10 23:00:00.123456");
    /* zones: Z only for offset 0 in Z layouts; MST without a name prints -0700 */
    CHECK_STR(fmt("Z07:00|-07:00|Z0700|-07|Z07:00:00", NOV_SEC, 0, 0, ""), "Z|+00:00|Z|+00|Z");
    CHECK_STR(fmt("Z07:00|-0700|-07|-07:00:00|-070000", NOV_SEC, 0, -(5 * 3600 + 30 * 60 + 15), ""),
              "-05:30|-0530|-05|-05:30:15|-053015");
    CHECK_STR(fmt("MST", NOV_SEC, 0, 19800, ""), "+0530");
    /* Go's chunking: "Jan"/"Mon" before a lower-case letter are literal; "_2006" is "_" + year */
    CHECK_STR(fmt("Jane Monkey _2006", NOV_SEC, 0, 0, "UTC"), "Jane Monkey _2009");
    /* Go's zero time and a year before it */
    CHECK_STR(fmt(GOTIME_RFC3339, GOTIME_ZERO_SEC, 0, 0, "UTC"), "0001-01-01T00:00:00Z");
    CHECK_STR(fmt(GOTIME_RFC3339, YEAR0 + 15 * 3600 + 4 * 60, 0, 0, "UTC"), "0000-01-01T15:04:00Z");
}

struct pcase {
    const char *layout;
    const char *value;
    int64_t sec;
    int32_t nsec;
    int32_t off;
    const char *zone;
};

static void test_parse(void)
{
    static const struct pcase cases[] = {
        /* from Go's ExampleParse */
        {"Jan 2, 2006 at 3:04pm (MST)", "Feb 3, 2013 at 7:54pm (PST)", 1359921240, 0, 0, "PST"},
        {"2006-Jan-02", "2013-Feb-03", 1359849600, 0, 0, "UTC"},
        {GOTIME_RFC3339, "2006-01-02T15:04:05Z", 1136214245, 0, 0, "UTC"},
        {GOTIME_RFC3339, "2006-01-02T15:04:05+07:00", 1136214245 - 25200, 0, 25200, ""},
        /* each layout reads the reference time written in it */
        {GOTIME_RFC3339, "2006-01-02T15:04:05-07:00", REF_SEC, 0, REF_OFF, ""},
        {GOTIME_RFC3339_NANO, "2006-01-02T15:04:05.999999999-07:00", REF_SEC, 999999999, REF_OFF,
         ""},
        {GOTIME_RFC1123Z, "Mon, 02 Jan 2006 15:04:05 -0700", REF_SEC, 0, REF_OFF, ""},
        {GOTIME_RUBY_DATE, "Mon Jan 02 15:04:05 -0700 2006", REF_SEC, 0, REF_OFF, ""},
        {GOTIME_RFC822Z, "02 Jan 06 15:04 -0700", REF_SEC - 5, 0, REF_OFF, ""},
        {GOTIME_LAYOUT, "01/02 03:04:05PM '06 -0700", REF_SEC, 0, REF_OFF, ""},
        /* an unknown abbreviation: the wall clock is read as UTC in a zone of that name */
        {GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 MST", 1136214245, 0, 0, "MST"},
        {GOTIME_UNIX_DATE, "Mon Jan  2 15:04:05 MST 2006", 1136214245, 0, 0, "MST"},
        {GOTIME_RFC850, "Monday, 02-Jan-06 15:04:05 MST", 1136214245, 0, 0, "MST"},
        {GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 GMT+3", 1136214245, 0, 10800, "GMT+3"},
        {GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 UTC", 1136214245, 0, 0, "UTC"},
        {GOTIME_ANSIC, "Mon Jan  2 15:04:05 2006", 1136214245, 0, 0, "UTC"},
        {GOTIME_STAMP_MILLI, "Jan  2 15:04:05.123", YEAR0 + 86400 + 54245, 123000000, 0, "UTC"},
        {GOTIME_DATE_TIME, "2006-01-02 15:04:05", 1136214245, 0, 0, "UTC"},
        /* elements left out are zero, or one when zero is impossible: year 0, Jan 1 */
        {GOTIME_KITCHEN, "3:04PM", YEAR0 + 15 * 3600 + 4 * 60, 0, 0, "UTC"},
        {GOTIME_KITCHEN, "12:04AM", YEAR0 + 4 * 60, 0, 0, "UTC"},
        {GOTIME_TIME_ONLY, "15:04:05", YEAR0 + 54245, 0, 0, "UTC"},
        /* a fraction after the seconds is read when the layout has none */
        {GOTIME_RFC3339, "2006-01-02T15:04:05.5Z", 1136214245, 500000000, 0, "UTC"},
        {GOTIME_DATE_TIME, "2006-01-02 15:04:05,25", 1136214245, 250000000, 0, "UTC"},
        /* a layout space matches a run of spaces; _2 takes a padded day */
        {"2006 _2", "2006   2", 1136160000, 0, 0, "UTC"},
        {"2006-01-02", "2024-02-29", 1709164800, 0, 0, "UTC"},
        {"2006 002", "2024 060", 1709164800, 0, 0, "UTC"},
        {"2006 __2", "2023  32", 1675209600, 0, 0, "UTC"},
        {"January 2 2006 Monday", "march 1 2024 FRIDAY", 1709251200, 0, 0, "UTC"},
        {"06", "69", -31536000, 0, 0, "UTC"},
        {"06", "68", 3092601600, 0, 0, "UTC"},
        /* offset 0 without a name is UTC; Z with a colon-seconds layout */
        {"2006-01-02 -0700", "2006-01-02 +0000", 1136160000, 0, 0, "UTC"},
        {"2006-01-02 Z07:00:00", "2006-01-02 +01:30:15", 1136160000 - 5415, 0, 5415, ""},
        {"2006-01-02 Z07:00:00", "2006-01-02 Z", 1136160000, 0, 0, "UTC"},
        {"2006-01-02 Z070000", "2006-01-02 Z", 1136160000, 0, 0, "UTC"},
        {"2006-01-02 MST", "2006-01-02 +13", 1136160000, 0, 0, "+13"},
        /* Go reads a fixed fraction with atoi, which takes a sign (Alertmanager 0.25 too) */
        {"2006-01-02T15:04:05.000000Z0700", "2030-01-01T00:00:00.+23456+0200", 1893448800, 23456000,
         7200, ""},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        const struct pcase *c = &cases[i];
        struct gotime_parsed t;
        struct buf err;
        int rc;

        buf_init(&err, 0);
        memset(&t, 0x55, sizeof(t));
        rc = gotime_parse(c->layout, c->value, &t, &err);
        if (rc != AR_OK) {
            fprintf(stderr, "case %zu: %s\n", i, buf_str(&err));
        }
        CHECK_INT(rc, AR_OK);
        CHECK_INT(t.sec, c->sec);
        CHECK_INT(t.nsec, c->nsec);
        CHECK_INT(t.off, c->off);
        CHECK_STR(t.zone, c->zone);
        buf_cleanup(&err);
    }
}

static void test_parse_errors(void)
{
    static const struct {
        const char *layout;
        const char *value;
        const char *want;
    } cases[] = {
        /* Go's ExampleParse: a layout is not a valid value */
        {GOTIME_RFC3339, GOTIME_RFC3339,
         "parsing time \"2006-01-02T15:04:05Z07:00\": extra text: \"07:00\""},
        {GOTIME_RFC3339, "2006-01-02",
         "parsing time \"2006-01-02\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as "
         "\"T\""},
        {GOTIME_DATE_ONLY, "2023-02-29", "parsing time \"2023-02-29\": day out of range"},
        {GOTIME_DATE_ONLY, "2023-04-31", "parsing time \"2023-04-31\": day out of range"},
        {GOTIME_DATE_ONLY, "2023-13-01", "parsing time \"2023-13-01\": month out of range"},
        {GOTIME_TIME_ONLY, "24:00:00", "parsing time \"24:00:00\": hour out of range"},
        {GOTIME_TIME_ONLY, "23:60:00", "parsing time \"23:60:00\": minute out of range"},
        {GOTIME_TIME_ONLY, "23:59:60", "parsing time \"23:59:60\": second out of range"},
        {GOTIME_KITCHEN, "13:04PM", "parsing time \"13:04PM\": hour out of range"},
        {GOTIME_KITCHEN, "3:04pm",
         "parsing time \"3:04pm\" as \"3:04PM\": cannot parse \"pm\" as \"PM\""},
        {"2006", "x", "parsing time \"x\" as \"2006\": cannot parse \"x\" as \"2006\""},
        {GOTIME_DATE_ONLY, "2006-1-02",
         "parsing time \"2006-1-02\" as \"2006-01-02\": cannot parse \"1-02\" as \"01\""},
        {GOTIME_ANSIC, "Mon Foo  2 15:04:05 2006",
         "parsing time \"Mon Foo  2 15:04:05 2006\" as \"Mon Jan _2 15:04:05 2006\": cannot "
         "parse \"Foo  2 15:04:05 2006\" as \"Jan\""},
        {GOTIME_RFC1123, "Mon, 02 Jan 2006 15:04:05 Mst",
         "parsing time \"Mon, 02 Jan 2006 15:04:05 Mst\" as \"Mon, 02 Jan 2006 15:04:05 MST\": "
         "cannot parse \"Mst\" as \"MST\""},
        {GOTIME_STAMP_MILLI, "Jan  2 15:04:05.12",
         "parsing time \"Jan  2 15:04:05.12\" as \"Jan _2 15:04:05.000\": cannot parse \".12\" "
         "as \".000\""},
        {"2006 002", "2023 366", "parsing time \"2023 366\": day-of-year out of range"},
        {"05.000", "00.-12", "parsing time \"00.-12\": fractional second out of range"},
        {"2006-01 002", "2023-02 001",
         "parsing time \"2023-02 001\": day-of-year does not match month"},
        {"x\"\\\x01", "y",
         "parsing time \"y\" as \"x\\\"\\\\\\x01\": cannot parse \"y\" as "
         "\"x\\\"\\\\\\x01\""},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct gotime_parsed t;
        struct buf err;

        buf_init(&err, 0);
        CHECK_INT(gotime_parse(cases[i].layout, cases[i].value, &t, &err), AR_EINVAL);
        CHECK_STR(buf_str(&err), cases[i].want);
        buf_cleanup(&err);
        /* without a buffer: the same verdict, no text */
        CHECK_INT(gotime_parse(cases[i].layout, cases[i].value, &t, NULL), AR_EINVAL);
    }
}

/* Format then Parse gives the instant back, for layouts that keep all of it. */
static void test_round_trip(void)
{
    static const int32_t offs[] = {0, 3600, -25200, 19800, -34200};

    for (int64_t s = -2000000000; s < 4000000000; s += 123456789) {
        for (size_t k = 0; k < AR_ARRAY_LEN(offs); k++) {
            struct gotime_parsed t;
            struct buf b;
            int32_t ns = (int32_t)((s * 7919) % 1000000000);

            ns = ns < 0 ? -ns : ns;
            buf_init(&b, 0);
            gotime_format(&b, GOTIME_RFC3339_NANO, s, ns, offs[k], "");
            CHECK_INT(gotime_parse(GOTIME_RFC3339_NANO, buf_str(&b), &t, NULL), AR_OK);
            CHECK_INT(t.sec, s);
            CHECK_INT(t.nsec, ns);
            CHECK_INT(t.off, offs[k]);
            buf_cleanup(&b);
        }
    }
}

int main(void)
{
    test_calendar();
    test_format_reference();
    test_format();
    test_parse();
    test_parse_errors();
    test_round_trip();
    return CHECK_DONE();
}

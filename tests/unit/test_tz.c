/* Unit tests for ar/tz.h, the one zone reader of the time intervals and the template `tz`
 * function: TZif files written here (under $ZONEINFO) with transitions and POSIX footers,
 * the zone database of the machine, and the input the two readers once disagreed on: a
 * footer naming a DST zone without a rule ("EST5EDT"), where Go's tzset applies the US
 * default M3.2.0,M11.1.0 (the template reader kept EST all year). */
#include "ar/tmpl.h"
#include "ar/tz.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct ttype {
    int32_t off;
    uint8_t isdst;
    uint8_t abbr; /* index into chars */
};

struct zone {
    const char *name;
    size_t ntrans;
    int64_t trans[4];
    uint8_t idx[4];
    size_t ntypes;
    struct ttype types[4];
    const char *chars; /* NUL-separated abbreviations */
    size_t charcnt;
    const char *footer;
};

static char dir[64];

static void put32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

static void put_header(FILE *f, size_t ntrans, const struct zone *z)
{
    static const unsigned char pad[15];

    fwrite("TZif2", 1, 5, f);
    fwrite(pad, 1, 15, f);
    put32(f, 0);                    /* isutcnt */
    put32(f, 0);                    /* isstdcnt */
    put32(f, 0);                    /* leapcnt */
    put32(f, (uint32_t)ntrans);     /* timecnt */
    put32(f, (uint32_t)z->ntypes);  /* typecnt */
    put32(f, (uint32_t)z->charcnt); /* charcnt */
}

static void put_types(FILE *f, const struct zone *z)
{
    for (size_t i = 0; i < z->ntypes; i++) {
        put32(f, (uint32_t)z->types[i].off);
        fputc(z->types[i].isdst, f);
        fputc(z->types[i].abbr, f);
    }
    fwrite(z->chars, 1, z->charcnt, f);
}

/* A version 2 TZif file (RFC 8536): a v1 block without transitions, the v2 block, footer. */
static void write_zone(const struct zone *z)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, z->name);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    put_header(f, 0, z);
    put_types(f, z);
    put_header(f, z->ntrans, z);
    for (size_t i = 0; i < z->ntrans; i++) {
        put32(f, (uint32_t)((uint64_t)z->trans[i] >> 32));
        put32(f, (uint32_t)z->trans[i]);
    }
    fwrite(z->idx, 1, z->ntrans, f);
    put_types(f, z);
    fprintf(f, "\n%s\n", z->footer);
    fclose(f);
}

static const struct zone zones[] = {
    /* the disagreement: DST named, no rule */
    {"Test/NoRule", 0, {0}, {0}, 1, {{-18000, 0, 0}}, "EST", 4, "EST5EDT"},
    /* the same with the rule spelled out */
    {"Test/Rule", 0, {0}, {0}, 1, {{-18000, 0, 0}}, "EST", 4, "EST5EDT,M3.2.0,M11.1.0"},
    /* transitions, then the footer from the last one on */
    {"Test/Trans",
     2,
     {0, 1000000},
     {1, 2},
     3,
     {{-17762, 0, 0}, {-18000, 0, 4}, {-14400, 1, 8}},
     "LMT\0EST\0EDT",
     12,
     "EST5EDT,M3.2.0,M11.1.0"},
    /* quoted names, no DST */
    {"Test/Quoted", 0, {0}, {0}, 1, {{-10800, 0, 0}}, "-03", 4, "<-03>3"},
    /* southern hemisphere: DST across the new year */
    {"Test/South", 0, {0}, {0}, 1, {{36000, 0, 0}}, "AEST", 5, "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    /* an unusable footer: the last transition's type stays in force */
    {"Test/BadFooter", 1, {0}, {1}, 2, {{0, 0, 0}, {7200, 0, 4}}, "LMT\0XYZ", 8, "X"},
};

static int32_t off_at(const char *name, int64_t t, char *abbr, size_t n)
{
    struct tz_data *tz = tz_load(name);
    int32_t off;

    CHECK(tz != NULL);
    off = tz_lookup(tz, t, abbr, n);
    tz_free(tz);
    return off;
}

#define CHECK_ZONE(name, t, want_off, want_abbr)                                                   \
    do {                                                                                           \
        char a_[16];                                                                               \
        CHECK_INT(off_at(name, t, a_, sizeof(a_)), want_off);                                      \
        CHECK_STR(a_, want_abbr);                                                                  \
    } while (0)

/* 2030: DST from Sun 10 March 07:00Z to Sun 3 November 06:00Z under the US rule. */
#define DST_START INT64_C(1899356400)
#define DST_END   INT64_C(1919916000)
#define JAN_2030  INT64_C(1893456000) /* 2030-01-01T00:00Z */
#define JUL_2030  INT64_C(1909137600) /* 2030-07-01T12:00Z */

static void test_no_rule_footer(void)
{
    static const char *const names[] = {"Test/NoRule", "Test/Rule"};

    for (size_t i = 0; i < AR_ARRAY_LEN(names); i++) {
        CHECK_ZONE(names[i], JAN_2030, -18000, "EST");
        CHECK_ZONE(names[i], DST_START - 1, -18000, "EST");
        CHECK_ZONE(names[i], DST_START, -14400, "EDT");
        CHECK_ZONE(names[i], JUL_2030, -14400, "EDT");
        CHECK_ZONE(names[i], DST_END - 1, -14400, "EDT");
        CHECK_ZONE(names[i], DST_END, -18000, "EST");
    }
}

/* The template tz function reads zones through the same loader. */
static void test_template_tz(void)
{
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *data = tmpl_data_new("r", true, "http://am.example");
    struct ar_error err;
    char *out = NULL;

    CHECK_INT(
        tmpl_render(set,
                    "{{ toDate \"2006-01-02 15:04\" \"2030-07-01 12:00\" | tz \"Test/NoRule\" "
                    "| date \"15:04 MST -0700\" }}|{{ toDate \"2006-01-02 15:04\" "
                    "\"2030-01-15 12:00\" | tz \"Test/NoRule\" | date \"15:04 MST\" }}",
                    TMPL_TEXT, data, &out, &err),
        AR_OK);
    CHECK_STR(out, "08:00 EDT -0400|07:00 EST");
    free(out);
    out = NULL;
    CHECK(tmpl_render(set, "{{ now | tz \"../etc/passwd\" }}", TMPL_TEXT, data, &out, &err) !=
          AR_OK);
    CHECK(strstr(err.msg, "unknown time zone ../etc/passwd") != NULL);
    free(out);
    tmpl_value_unref(data);
    tmpl_set_free(set);
}

static void test_written_zones(void)
{
    /* before the first transition: type 0; between: the transition's type */
    CHECK_ZONE("Test/Trans", -1, -17762, "LMT");
    CHECK_ZONE("Test/Trans", 0, -18000, "EST");
    CHECK_ZONE("Test/Trans", 999999, -18000, "EST");
    /* at and after the last transition the footer decides (January: EST, not EDT) */
    CHECK_ZONE("Test/Trans", 1000000, -18000, "EST");
    CHECK_ZONE("Test/Trans", JUL_2030, -14400, "EDT");
    CHECK_ZONE("Test/Quoted", JUL_2030, -10800, "-03");
    CHECK_ZONE("Test/South", JAN_2030, 39600, "AEDT");
    CHECK_ZONE("Test/South", JUL_2030, 36000, "AEST");
    CHECK_ZONE("Test/BadFooter", JUL_2030, 7200, "XYZ");
    CHECK_ZONE("Test/BadFooter", -1, 0, "LMT");
    CHECK_INT(tz_offset(NULL, JUL_2030), 0);
}

static void test_names(void)
{
    char path[256];
    FILE *f;

    CHECK_ZONE("", JUL_2030, 0, "UTC");
    CHECK_ZONE("UTC", JUL_2030, 0, "UTC");
    CHECK(tz_load("No/Such_Zone") == NULL);
    CHECK(tz_load("/etc/localtime") == NULL);
    CHECK(tz_load("Test/../Test/Rule") == NULL);
    snprintf(path, sizeof(path), "%s/Test/NotTZif", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("not a zone file\n", f);
        fclose(f);
    }
    CHECK(tz_load("Test/NotTZif") == NULL);
    /* Local follows $TZ as Go's initLocal: an absolute path, with or without ':' */
    snprintf(path, sizeof(path), ":%s/Test/NoRule", dir);
    setenv("TZ", path, 1);
    CHECK_ZONE("Local", JUL_2030, -14400, "EDT");
    setenv("TZ", path + 1, 1);
    CHECK_ZONE("Local", JUL_2030, -14400, "EDT");
    /* "" and names that do not load are UTC; relative names ignore $ZONEINFO */
    setenv("TZ", "", 1);
    CHECK_ZONE("Local", JUL_2030, 0, "UTC");
    setenv("TZ", "No/Such_Zone", 1);
    CHECK_ZONE("Local", JUL_2030, 0, "UTC");
    setenv("TZ", "Test/South", 1);
    CHECK_ZONE("Local", JUL_2030, 0, "UTC");
    unsetenv("TZ");
}

/* The machine's zone database, when there is one. */
static void test_system_zones(void)
{
    if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
        printf("skipping system zones: no /usr/share/zoneinfo\n");
        return;
    }
    /* a name missing under $ZONEINFO comes from the system directories */
    CHECK_ZONE("Europe/Berlin", JUL_2030, 7200, "CEST");
    setenv("TZ", ":Europe/Berlin", 1);
    CHECK_ZONE("Local", JAN_2030, 3600, "CET");
    unsetenv("TZ");
    unsetenv("ZONEINFO");
    CHECK_ZONE("Europe/Berlin", JUL_2030, 7200, "CEST");
    CHECK_ZONE("Europe/Berlin", JAN_2030, 3600, "CET");
    CHECK_ZONE("Europe/Berlin", INT64_C(1577836800), 3600, "CET");  /* 2020-01-01 */
    CHECK_ZONE("Europe/Berlin", INT64_C(-5364662400), 3208, "LMT"); /* 1800-01-01 */
    CHECK_ZONE("America/Sao_Paulo", JUL_2030, -10800, "-03");
    CHECK_ZONE("Australia/Sydney", JAN_2030, 39600, "AEDT");
    CHECK_ZONE("Asia/Kolkata", JUL_2030, 19800, "IST");
}

int main(void)
{
    char sub[96];

    snprintf(dir, sizeof(dir), "/tmp/ar_test_tz_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sub, sizeof(sub), "%s/Test", dir);
    mkdir(sub, 0700);
    for (size_t i = 0; i < AR_ARRAY_LEN(zones); i++) {
        write_zone(&zones[i]);
    }
    setenv("ZONEINFO", dir, 1);
    test_no_rule_footer();
    test_template_tz();
    test_written_zones();
    test_names();
    test_system_zones();
    for (size_t i = 0; i < AR_ARRAY_LEN(zones); i++) {
        snprintf(sub, sizeof(sub), "%s/%s", dir, zones[i].name);
        unlink(sub);
    }
    snprintf(sub, sizeof(sub), "%s/Test/NotTZif", dir);
    unlink(sub);
    snprintf(sub, sizeof(sub), "%s/Test", dir);
    rmdir(sub);
    rmdir(dir);
    return CHECK_DONE();
}

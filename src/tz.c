/* Time zones (ar/tz.h, COMPAT 7), the one TZif reader: a TZif file (RFC 8536, version 1
 * to 4) from the zone database is read once and then answers "UTC offset and abbreviation
 * at instant t" without touching the process environment, so evaluation is thread-safe.
 * Instants after the last transition use the file's POSIX TZ footer rule (e.g.
 * CET-1CEST,M3.5.0,M10.5.0/3); a footer naming a DST zone but no rule ("EST5EDT") takes the
 * US default rule M3.2.0,M11.1.0, as Go's tzset does. Lookup is a binary search over the
 * transitions. Used by the time intervals (config_time.c) and the template tz function. */
#include "ar/tz.h"

#include "ar/gotime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tz_rule_date {
    char kind; /* 'M' month/week/day, 'J' julian 1..365 without Feb 29, 'D' zero-based day */
    int month;
    int week;
    int day;
    int32_t time; /* seconds after local midnight */
};

#define TZ_ABBR_MAX 16

struct tz_posix {
    bool valid;
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    char std_name[TZ_ABBR_MAX];
    char dst_name[TZ_ABBR_MAX];
    bool has_dst;
    struct tz_rule_date start;
    struct tz_rule_date end;
};

struct tz_data {
    int64_t *trans; /* transition instants, ascending */
    uint8_t *idx;   /* type index per transition */
    size_t ntrans;
    int32_t *offs;              /* UTC offset per type */
    char (*abbrs)[TZ_ABBR_MAX]; /* abbreviation per type */
    size_t ntypes;
    struct tz_posix footer;
};

#define TZ_MAX_FILE (1u << 20)

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4));
}

/* ---- POSIX TZ strings ------------------------------------------------------------------- */

/* A zone name, "EST" or quoted "<-03>", copied into out. */
static const char *parse_name(const char *s, char *out)
{
    const char *start = s;
    const char *p = s;

    if (*s == '<') {
        const char *end = strchr(s, '>');
        if (end == NULL) {
            return NULL;
        }
        start = s + 1;
        p = end;
        snprintf(out, TZ_ABBR_MAX, "%.*s", (int)(p - start), start);
        return end + 1;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        p++;
    }
    if (p - s < 3) {
        return NULL;
    }
    snprintf(out, TZ_ABBR_MAX, "%.*s", (int)(p - start), start);
    return p;
}

/* [+-]hh[:mm[:ss]] -> seconds (sign as written) */
static const char *parse_hms(const char *s, int32_t *out)
{
    int sign = 1;
    int32_t v = 0;
    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    if (*s < '0' || *s > '9') {
        return NULL;
    }
    int h = 0;
    while (*s >= '0' && *s <= '9') {
        h = h * 10 + (*s++ - '0');
        if (h > 167) {
            return NULL;
        }
    }
    v = h * 3600;
    for (int mult = 60; *s == ':' && mult >= 1; mult /= 60) {
        s++;
        int m = 0;
        while (*s >= '0' && *s <= '9') {
            m = m * 10 + (*s++ - '0');
            if (m > 59) {
                return NULL;
            }
        }
        v += m * mult;
    }
    *out = sign * v;
    return s;
}

static const char *parse_num(const char *s, int *out)
{
    int v = 0;
    if (*s < '0' || *s > '9') {
        return NULL;
    }
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > 1000) {
            return NULL;
        }
    }
    *out = v;
    return s;
}

static const char *parse_date(const char *s, struct tz_rule_date *d)
{
    d->time = 2 * 3600;
    if (*s == 'M') {
        d->kind = 'M';
        s = parse_num(s + 1, &d->month);
        if (s == NULL || *s != '.') {
            return NULL;
        }
        s = parse_num(s + 1, &d->week);
        if (s == NULL || *s != '.') {
            return NULL;
        }
        s = parse_num(s + 1, &d->day);
        if (s == NULL || d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 ||
            d->day > 6) {
            return NULL;
        }
    } else if (*s == 'J') {
        d->kind = 'J';
        s = parse_num(s + 1, &d->day);
    } else {
        d->kind = 'D';
        s = parse_num(s, &d->day);
    }
    if (s != NULL && *s == '/') {
        s = parse_hms(s + 1, &d->time);
    }
    return s;
}

static bool parse_posix(const char *s, struct tz_posix *tz)
{
    int32_t off;

    memset(tz, 0, sizeof(*tz));
    s = parse_name(s, tz->std_name);
    if (s == NULL || (s = parse_hms(s, &off)) == NULL) {
        return false;
    }
    tz->std_off = -off;
    if (*s == '\0') {
        tz->valid = true;
        return true;
    }
    s = parse_name(s, tz->dst_name);
    if (s == NULL) {
        return false;
    }
    tz->has_dst = true;
    tz->dst_off = tz->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        s = parse_hms(s, &off);
        if (s == NULL) {
            return false;
        }
        tz->dst_off = -off;
    }
    if (*s != ',') {
        /* no rule: the US rule, as Go's tzset and tzcode take it (rare in TZif footers) */
        tz->start = (struct tz_rule_date){'M', 3, 2, 0, 7200};
        tz->end = (struct tz_rule_date){'M', 11, 1, 0, 7200};
        tz->valid = *s == '\0';
        return tz->valid;
    }
    s = parse_date(s + 1, &tz->start);
    if (s == NULL || *s != ',') {
        return false;
    }
    s = parse_date(s + 1, &tz->end);
    tz->valid = s != NULL && *s == '\0';
    return tz->valid;
}

/* Seconds since the epoch, in local standard-or-daylight time of the rule, of date d in y. */
static int64_t rule_local_time(const struct tz_rule_date *d, int64_t y)
{
    int64_t day;

    if (d->kind == 'J') {
        /* 1..365, February 29 never counted */
        int n = d->day;
        day = gotime_days_from_civil(y, 1, 1) + n - 1;
        if (gotime_is_leap(y) && n >= 60) {
            day++;
        }
    } else if (d->kind == 'D') {
        day = gotime_days_from_civil(y, 1, 1) + d->day;
    } else {
        int64_t first = gotime_days_from_civil(y, d->month, 1);
        int wday_first = (int)gotime_weekday(first);
        int delta = (d->day - wday_first + 7) % 7;
        int mday = 1 + delta + (d->week - 1) * 7;
        int len = gotime_days_in(d->month, y);
        while (mday > len) {
            mday -= 7;
        }
        day = first + mday - 1;
    }
    return day * 86400 + d->time;
}

/* Offset and name in force at t under the rule. */
static int32_t posix_offset(const struct tz_posix *tz, int64_t t, const char **name)
{
    int64_t local = t + tz->std_off;
    int64_t y;
    unsigned m;
    unsigned d;

    *name = tz->std_name;
    if (!tz->has_dst) {
        return tz->std_off;
    }
    gotime_civil_from_days(local / 86400 - (local % 86400 < 0), &y, &m, &d);
    int64_t start = rule_local_time(&tz->start, y) - tz->std_off;
    int64_t end = rule_local_time(&tz->end, y) - tz->dst_off;
    bool dst;
    if (start < end) {
        dst = t >= start && t < end;
    } else {
        dst = !(t >= end && t < start);
    }
    *name = dst ? tz->dst_name : tz->std_name;
    return dst ? tz->dst_off : tz->std_off;
}

/* ---- TZif ------------------------------------------------------------------------------- */

void tz_free(struct tz_data *tz)
{
    if (tz == NULL) {
        return;
    }
    free(tz->trans);
    free(tz->idx);
    free(tz->offs);
    free(tz->abbrs);
    free(tz);
}

static struct tz_data *parse_tzif(const unsigned char *d, size_t n)
{
    if (n < 44 || memcmp(d, "TZif", 4) != 0) {
        return NULL;
    }
    int version = d[4] ? d[4] - '0' : 1;
    size_t isut = be32(d + 20);
    size_t isstd = be32(d + 24);
    size_t leap = be32(d + 28);
    size_t timecnt = be32(d + 32);
    size_t typecnt = be32(d + 36);
    size_t charcnt = be32(d + 40);
    size_t tsize = 4;
    size_t lsize = 8;
    const unsigned char *p = d + 44;
    size_t block = timecnt * 4 + timecnt + typecnt * 6 + charcnt + leap * 8 + isstd + isut;

    if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || (size_t)(d + n - p) < block) {
        return NULL;
    }
    if (version >= 2) {
        /* skip the 32-bit block and use the 64-bit one */
        p += block;
        if ((size_t)(d + n - p) < 44 || memcmp(p, "TZif", 4) != 0) {
            return NULL;
        }
        isut = be32(p + 20);
        isstd = be32(p + 24);
        leap = be32(p + 28);
        timecnt = be32(p + 32);
        typecnt = be32(p + 36);
        charcnt = be32(p + 40);
        p += 44;
        tsize = 8;
        lsize = 12;
        block = timecnt * 8 + timecnt + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
        if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || (size_t)(d + n - p) < block) {
            return NULL;
        }
    }
    struct tz_data *tz = ar_calloc(1, sizeof(*tz));
    tz->ntrans = timecnt;
    tz->ntypes = typecnt;
    tz->trans = ar_calloc(timecnt ? timecnt : 1, sizeof(int64_t));
    tz->idx = ar_calloc(timecnt ? timecnt : 1, 1);
    tz->offs = ar_calloc(typecnt, sizeof(int32_t));
    tz->abbrs = ar_calloc(typecnt, sizeof(*tz->abbrs));
    for (size_t i = 0; i < timecnt; i++) {
        tz->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
    }
    p += timecnt * tsize;
    for (size_t i = 0; i < timecnt; i++) {
        tz->idx[i] = p[i] < typecnt ? p[i] : 0;
    }
    p += timecnt;
    for (size_t i = 0; i < typecnt; i++) {
        size_t ai = p[i * 6 + 5];
        const char *chars = (const char *)p + typecnt * 6;

        tz->offs[i] = (int32_t)be32(p + i * 6);
        if (ai < charcnt) {
            snprintf(tz->abbrs[i], TZ_ABBR_MAX, "%.*s", (int)(charcnt - ai), chars + ai);
        }
    }
    p += typecnt * 6 + charcnt + leap * lsize + isstd + isut;
    if (version >= 2 && p < d + n && *p == '\n') {
        const unsigned char *end = memchr(p + 1, '\n', (size_t)(d + n - p - 1));
        if (end != NULL) {
            char *footer = ar_strndup((const char *)p + 1, (size_t)(end - p - 1));
            parse_posix(footer, &tz->footer);
            free(footer);
        }
    }
    return tz;
}

static char *read_small_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return NULL;
    }
    char *buf = ar_malloc(TZ_MAX_FILE);
    *len = fread(buf, 1, TZ_MAX_FILE, fp);
    fclose(fp);
    return buf;
}

/* The zone in TZif file dir/name ("" dir: name is a path); NULL if missing or unusable. */
static struct tz_data *load_file(const char *dir, const char *name)
{
    char path[1024];
    size_t len = 0;
    char *data;
    struct tz_data *tz;

    if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, name) >= sizeof(path)) {
        return NULL;
    }
    data = read_small_file(path, &len);
    if (data == NULL) {
        return NULL;
    }
    tz = parse_tzif((const unsigned char *)data, len);
    free(data);
    return tz;
}

/* The system zone directories Go searches (platformZoneSources). */
static struct tz_data *load_system(const char *name)
{
    static const char *const dirs[] = {"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/",
                                       "/usr/lib/locale/TZ/", "/etc/zoneinfo/"};
    struct tz_data *tz = NULL;

    for (size_t i = 0; i < AR_ARRAY_LEN(dirs) && tz == NULL; i++) {
        tz = load_file(dirs[i], name);
    }
    return tz;
}

static struct tz_data *utc_zone(void)
{
    return ar_calloc(1, sizeof(struct tz_data)); /* no transitions, offset 0 */
}

/* Go's initLocal: no $TZ is /etc/localtime; $TZ "" is UTC; ":" is dropped; an absolute path
 * is that file; another name is looked up in the system directories; UTC when nothing
 * loads. */
static struct tz_data *load_local(void)
{
    const char *env = getenv("TZ");
    struct tz_data *tz = NULL;

    if (env == NULL) {
        tz = load_file("", "/etc/localtime");
    } else {
        env += env[0] == ':';
        if (env[0] == '/') {
            tz = load_file("", env);
        } else if (env[0] != '\0' && strcmp(env, "UTC") != 0) {
            tz = load_system(env);
        }
    }
    return tz != NULL ? tz : utc_zone();
}

struct tz_data *tz_load(const char *name)
{
    const char *dir = getenv("ZONEINFO");
    struct tz_data *tz = NULL;

    if (name == NULL || name[0] == '\0' || strcmp(name, "UTC") == 0) {
        return utc_zone();
    }
    if (strcmp(name, "Local") == 0) {
        return load_local();
    }
    /* Go's LoadLocation refuses absolute paths and any ".." */
    if (name[0] == '/' || name[0] == '\\' || strstr(name, "..") != NULL) {
        return NULL;
    }
    /* $ZONEINFO first, then the system directories */
    if (dir != NULL && dir[0] != '\0') {
        char prefix[512];

        if ((size_t)snprintf(prefix, sizeof(prefix), "%s/", dir) < sizeof(prefix)) {
            tz = load_file(prefix, name);
        }
    }
    return tz != NULL ? tz : load_system(name);
}

int32_t tz_lookup(const struct tz_data *tz, int64_t t, char *abbr, size_t abbrsz)
{
    const char *name = "UTC";
    int32_t off = 0;

    if (tz != NULL && tz->footer.valid && (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1])) {
        off = posix_offset(&tz->footer, t, &name);
    } else if (tz != NULL && tz->ntypes > 0) {
        size_t type = 0;

        if (tz->ntrans > 0 && t >= tz->trans[0]) {
            size_t lo = 0;
            size_t hi = tz->ntrans; /* trans[lo] <= t < trans[hi] */

            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (tz->trans[mid] <= t) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            type = tz->idx[lo];
        }
        off = tz->offs[type];
        name = tz->abbrs[type];
    }
    if (abbr != NULL && abbrsz > 0) {
        snprintf(abbr, abbrsz, "%s", name);
    }
    return off;
}

int32_t tz_offset(const struct tz_data *tz, int64_t t)
{
    return tz_lookup(tz, t, NULL, 0);
}

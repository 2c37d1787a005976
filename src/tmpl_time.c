/* Go time semantics for templates: time.Format with Go reference layouts ("2006-01-02
 * 15:04:05.999999999 -0700 MST"), a layout-driven parser for toDate, RFC 3339 parsing for
 * alert JSON, and IANA zone conversion for `tz` by reading TZif files from the system
 * zoneinfo directory (the zone in force after the last listed transition is assumed for
 * later instants). Calendar math uses days-from-civil over int64, valid for Go's zero
 * time (year 1). */
#define AR_TMPL_INTERNAL
#include "ar/timefmt.h"
#include "ar/tmpl.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

struct civil {
    int64_t year;
    unsigned month, day, hour, min, sec, yday, wday;
};

static void to_civil(int64_t sec, struct civil *c)
{
    int64_t days = floor_div(sec, 86400);
    int64_t rem = sec - days * 86400;

    time_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (unsigned)(rem / 3600);
    c->min = (unsigned)(rem / 60 % 60);
    c->sec = (unsigned)(rem % 60);
    c->yday = (unsigned)(days - time_days_from_civil(c->year, 1, 1)) + 1;
    c->wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static int put_num(struct buf *b, int64_t v, int width, char pad)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v < 0 ? -v : v);
    int rc = AR_OK;

    if (v < 0) {
        rc = buf_putc(b, '-');
    }
    for (; n < width && rc == AR_OK; n++) {
        rc = buf_putc(b, pad);
    }
    return rc == AR_OK ? buf_puts(b, tmp) : rc;
}

static int put_zone(struct buf *b, int32_t off, bool z, bool colon, bool secs, bool hours_only)
{
    int32_t a = off < 0 ? -off : off;
    int rc;

    if (z && off == 0) {
        return buf_putc(b, 'Z');
    }
    rc = buf_putc(b, off < 0 ? '-' : '+');
    rc = rc ? rc : put_num(b, a / 3600, 2, '0');
    if (hours_only) {
        return rc;
    }
    if (colon) {
        rc = rc ? rc : buf_putc(b, ':');
    }
    rc = rc ? rc : put_num(b, a / 60 % 60, 2, '0');
    if (secs) {
        if (colon) {
            rc = rc ? rc : buf_putc(b, ':');
        }
        rc = rc ? rc : put_num(b, a % 60, 2, '0');
    }
    return rc;
}

/* Length of a fractional-second chunk at s (".000", ",999"), or 0. */
static size_t frac_len(const char *s)
{
    size_t n = 1;

    if ((s[0] != '.' && s[0] != ',') || (s[1] != '0' && s[1] != '9')) {
        return 0;
    }
    while (s[n] == s[1]) {
        n++;
    }
    if (isdigit((unsigned char)s[n])) {
        return 0;
    }
    return n;
}

int tmpl_time_format(struct buf *b, const struct tmpl_value *t, const char *layout)
{
    struct civil c;
    int64_t local = t->u.t.sec + t->u.t.off;
    const char *p = layout;
    int rc = AR_OK;

    to_civil(local, &c);
    while (*p && rc == AR_OK) {
        size_t fl;

        if (has_prefix(p, "January")) {
            rc = buf_puts(b, month_names[c.month - 1]);
            p += 7;
        } else if (has_prefix(p, "Jan")) {
            rc = buf_append(b, month_names[c.month - 1], 3);
            p += 3;
        } else if (has_prefix(p, "Monday")) {
            rc = buf_puts(b, day_names[c.wday]);
            p += 6;
        } else if (has_prefix(p, "Mon")) {
            rc = buf_append(b, day_names[c.wday], 3);
            p += 3;
        } else if (has_prefix(p, "MST")) {
            if (t->u.t.zone[0]) {
                rc = buf_puts(b, t->u.t.zone);
            } else {
                rc = put_zone(b, t->u.t.off, false, false, false, false);
            }
            p += 3;
        } else if (has_prefix(p, "2006")) {
            rc = put_num(b, c.year, 4, '0');
            p += 4;
        } else if (has_prefix(p, "002")) {
            rc = put_num(b, c.yday, 3, '0');
            p += 3;
        } else if (has_prefix(p, "__2")) {
            rc = put_num(b, c.yday, 3, ' ');
            p += 3;
        } else if (has_prefix(p, "01")) {
            rc = put_num(b, c.month, 2, '0');
            p += 2;
        } else if (has_prefix(p, "02")) {
            rc = put_num(b, c.day, 2, '0');
            p += 2;
        } else if (has_prefix(p, "_2")) {
            rc = put_num(b, c.day, 2, ' ');
            p += 2;
        } else if (has_prefix(p, "03")) {
            rc = put_num(b, c.hour % 12 == 0 ? 12 : c.hour % 12, 2, '0');
            p += 2;
        } else if (has_prefix(p, "04")) {
            rc = put_num(b, c.min, 2, '0');
            p += 2;
        } else if (has_prefix(p, "05")) {
            rc = put_num(b, c.sec, 2, '0');
            p += 2;
        } else if (has_prefix(p, "06")) {
            rc = put_num(b, ((c.year % 100) + 100) % 100, 2, '0');
            p += 2;
        } else if (has_prefix(p, "15")) {
            rc = put_num(b, c.hour, 2, '0');
            p += 2;
        } else if (*p == '1') {
            rc = put_num(b, c.month, 0, '0');
            p++;
        } else if (*p == '2') {
            rc = put_num(b, c.day, 0, '0');
            p++;
        } else if (*p == '3') {
            rc = put_num(b, c.hour % 12 == 0 ? 12 : c.hour % 12, 0, '0');
            p++;
        } else if (*p == '4') {
            rc = put_num(b, c.min, 0, '0');
            p++;
        } else if (*p == '5') {
            rc = put_num(b, c.sec, 0, '0');
            p++;
        } else if (has_prefix(p, "PM")) {
            rc = buf_puts(b, c.hour >= 12 ? "PM" : "AM");
            p += 2;
        } else if (has_prefix(p, "pm")) {
            rc = buf_puts(b, c.hour >= 12 ? "pm" : "am");
            p += 2;
        } else if (has_prefix(p, "-070000") || has_prefix(p, "Z070000")) {
            rc = put_zone(b, t->u.t.off, *p == 'Z', false, true, false);
            p += 7;
        } else if (has_prefix(p, "-07:00:00") || has_prefix(p, "Z07:00:00")) {
            rc = put_zone(b, t->u.t.off, *p == 'Z', true, true, false);
            p += 9;
        } else if (has_prefix(p, "-0700") || has_prefix(p, "Z0700")) {
            rc = put_zone(b, t->u.t.off, *p == 'Z', false, false, false);
            p += 5;
        } else if (has_prefix(p, "-07:00") || has_prefix(p, "Z07:00")) {
            rc = put_zone(b, t->u.t.off, *p == 'Z', true, false, false);
            p += 6;
        } else if (has_prefix(p, "-07") || has_prefix(p, "Z07")) {
            rc = put_zone(b, t->u.t.off, *p == 'Z', false, false, true);
            p += 3;
        } else if ((fl = frac_len(p)) > 0) {
            char digits[16];
            int nd = (int)fl - 1;

            snprintf(digits, sizeof(digits), "%09d", (int)t->u.t.nsec);
            if (nd > 9) {
                nd = 9;
            }
            if (p[1] == '9') {
                while (nd > 0 && digits[nd - 1] == '0') {
                    nd--;
                }
                if (nd > 0) {
                    rc = buf_putc(b, p[0]);
                    rc = rc ? rc : buf_append(b, digits, (size_t)nd);
                }
            } else {
                rc = buf_putc(b, p[0]);
                rc = rc ? rc : buf_append(b, digits, (size_t)nd);
            }
            p += fl;
        } else {
            rc = buf_putc(b, *p);
            p++;
        }
    }
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static bool get_num(const char **s, int min_digits, int max_digits, int64_t *out)
{
    int n = 0;
    int64_t v = 0;
    bool neg = false;

    if (min_digits < 0) { /* optional sign allowed (years) */
        min_digits = -min_digits;
        if (**s == '-') {
            neg = true;
            (*s)++;
        }
    }
    while (n < max_digits && isdigit((unsigned char)(*s)[0])) {
        v = v * 10 + ((*s)[0] - '0');
        (*s)++;
        n++;
    }
    if (n < min_digits) {
        return false;
    }
    *out = neg ? -v : v;
    return true;
}

static bool match_name(const char **s, const char *const *names, size_t count, size_t len,
                       int64_t *idx)
{
    size_t i;

    for (i = 0; i < count; i++) {
        size_t n = len ? len : strlen(names[i]);

        if (strncasecmp(*s, names[i], n) == 0) {
            *s += n;
            *idx = (int64_t)i;
            return true;
        }
    }
    return false;
}

static bool parse_zone(const char **s, int32_t *off, bool z, bool colon, bool secs, bool hours)
{
    int64_t h = 0;
    int64_t m = 0;
    int64_t sc = 0;
    int sign;

    if (z && **s == 'Z') {
        (*s)++;
        *off = 0;
        return true;
    }
    if (**s != '+' && **s != '-') {
        return false;
    }
    sign = **s == '-' ? -1 : 1;
    (*s)++;
    if (!get_num(s, 2, 2, &h)) {
        return false;
    }
    if (!hours) {
        if (colon && *(*s)++ != ':') {
            return false;
        }
        if (!get_num(s, 2, 2, &m)) {
            return false;
        }
        if (secs) {
            if (colon && *(*s)++ != ':') {
                return false;
            }
            if (!get_num(s, 2, 2, &sc)) {
                return false;
            }
        }
    }
    *off = (int32_t)(sign * (h * 3600 + m * 60 + sc));
    return true;
}

int tmpl_time_parse(const char *layout, const char *value, int64_t *sec, int32_t *nsec,
                    int32_t *off)
{
    const char *p = layout;
    const char *s = value;
    int64_t year = 1;
    int64_t month = 1;
    int64_t day = 1;
    int64_t hour = 0;
    int64_t min = 0;
    int64_t secs = 0;
    int64_t ns = 0;
    int64_t tmp;
    int32_t zone = 0;
    int pm = -1;

    while (*p) {
        size_t fl;

        if (has_prefix(p, "January")) {
            if (!match_name(&s, month_names, 12, 0, &tmp)) {
                return AR_EINVAL;
            }
            month = tmp + 1;
            p += 7;
        } else if (has_prefix(p, "Jan")) {
            if (!match_name(&s, month_names, 12, 3, &tmp)) {
                return AR_EINVAL;
            }
            month = tmp + 1;
            p += 3;
        } else if (has_prefix(p, "Monday")) {
            if (!match_name(&s, day_names, 7, 0, &tmp)) {
                return AR_EINVAL;
            }
            p += 6;
        } else if (has_prefix(p, "Mon")) {
            if (!match_name(&s, day_names, 7, 3, &tmp)) {
                return AR_EINVAL;
            }
            p += 3;
        } else if (has_prefix(p, "MST")) {
            while (isupper((unsigned char)*s)) {
                s++;
            }
            p += 3;
        } else if (has_prefix(p, "2006")) {
            if (!get_num(&s, 4, 4, &year)) {
                return AR_EINVAL;
            }
            p += 4;
        } else if (has_prefix(p, "01") || has_prefix(p, "02") || has_prefix(p, "03") ||
                   has_prefix(p, "04") || has_prefix(p, "05") || has_prefix(p, "06") ||
                   has_prefix(p, "15")) {
            int64_t *dst = p[1] == '1'   ? &month
                           : p[1] == '2' ? &day
                           : p[1] == '3' ? &hour
                           : p[1] == '4' ? &min
                           : p[1] == '5' ? (p[0] == '1' ? &hour : &secs)
                                         : &year;

            if (!get_num(&s, 2, 2, dst)) {
                return AR_EINVAL;
            }
            if (p[1] == '6' && p[0] == '0') {
                year += year >= 69 ? 1900 : 2000;
            }
            p += 2;
        } else if (has_prefix(p, "_2")) {
            if (*s == ' ') {
                s++;
            }
            if (!get_num(&s, 1, 2, &day)) {
                return AR_EINVAL;
            }
            p += 2;
        } else if (*p >= '1' && *p <= '5') {
            int64_t *dst = *p == '1'   ? &month
                           : *p == '2' ? &day
                           : *p == '3' ? &hour
                           : *p == '4' ? &min
                                       : &secs;

            if (!get_num(&s, 1, 2, dst)) {
                return AR_EINVAL;
            }
            p++;
        } else if (has_prefix(p, "PM") || has_prefix(p, "pm")) {
            if (strncasecmp(s, "PM", 2) == 0) {
                pm = 1;
            } else if (strncasecmp(s, "AM", 2) == 0) {
                pm = 0;
            } else {
                return AR_EINVAL;
            }
            s += 2;
            p += 2;
        } else if (has_prefix(p, "-07:00:00") || has_prefix(p, "Z07:00:00")) {
            if (!parse_zone(&s, &zone, *p == 'Z', true, true, false)) {
                return AR_EINVAL;
            }
            p += 9;
        } else if (has_prefix(p, "-070000") || has_prefix(p, "Z070000")) {
            if (!parse_zone(&s, &zone, *p == 'Z', false, true, false)) {
                return AR_EINVAL;
            }
            p += 7;
        } else if (has_prefix(p, "-07:00") || has_prefix(p, "Z07:00")) {
            if (!parse_zone(&s, &zone, *p == 'Z', true, false, false)) {
                return AR_EINVAL;
            }
            p += 6;
        } else if (has_prefix(p, "-0700") || has_prefix(p, "Z0700")) {
            if (!parse_zone(&s, &zone, *p == 'Z', false, false, false)) {
                return AR_EINVAL;
            }
            p += 5;
        } else if (has_prefix(p, "-07") || has_prefix(p, "Z07")) {
            if (!parse_zone(&s, &zone, *p == 'Z', false, false, true)) {
                return AR_EINVAL;
            }
            p += 3;
        } else if ((fl = frac_len(p)) > 0 || ((*p == '.' || *p == ',') && p[1] != '0' &&
                                              p[1] != '9' && (*s == '.' || *s == ','))) {
            /* Fraction in the layout, or one present in the value after seconds. */
            if (*s == '.' || *s == ',') {
                int n = 0;

                s++;
                ns = 0;
                while (isdigit((unsigned char)*s)) {
                    if (n < 9) {
                        ns = ns * 10 + (*s - '0');
                        n++;
                    }
                    s++;
                }
                for (; n < 9; n++) {
                    ns *= 10;
                }
            } else if (fl > 0 && p[1] == '0') {
                return AR_EINVAL;
            }
            p += fl ? fl : 1;
        } else {
            if (*s != *p) {
                return AR_EINVAL;
            }
            /* Go accepts a fraction after seconds even when the layout has none. */
            s++;
            p++;
        }
        if (*p != '.' && *p != ',' && (*s == '.' || *s == ',') && p > layout && (p[-1] == '5') &&
            isdigit((unsigned char)s[1])) {
            int n = 0;

            s++;
            while (isdigit((unsigned char)*s)) {
                if (n < 9) {
                    ns = ns * 10 + (*s - '0');
                    n++;
                }
                s++;
            }
            for (; n < 9; n++) {
                ns *= 10;
            }
        }
    }
    if (*s != '\0') {
        return AR_EINVAL;
    }
    if (pm == 1 && hour < 12) {
        hour += 12;
    } else if (pm == 0 && hour == 12) {
        hour = 0;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || secs > 59) {
        return AR_EINVAL;
    }
    *sec = time_days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 +
           secs - zone;
    *nsec = (int32_t)ns;
    *off = zone;
    return AR_OK;
}

int tmpl_time_parse_rfc3339(const char *s, int64_t *sec, int32_t *nsec, int32_t *off)
{
    return tmpl_time_parse("2006-01-02T15:04:05Z07:00", s, sec, nsec, off);
}

/* ---- zones ---------------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ rules (the TZif footer, used after the last listed transition) ---------------- */

struct tzrule_part {
    char name[16];
    int32_t off; /* seconds east of UTC */
};

struct tzrule_date {
    char kind; /* 'M', 'J' or 'n' */
    int m, w, d, n;
    int32_t time; /* seconds after local midnight */
};

static bool tz_name(const char **s, char *out, size_t outsz)
{
    size_t k = 0;

    if (**s == '<') {
        (*s)++;
        while (**s && **s != '>') {
            if (k + 1 < outsz) {
                out[k++] = **s;
            }
            (*s)++;
        }
        if (**s != '>') {
            return false;
        }
        (*s)++;
    } else {
        while (isalpha((unsigned char)**s)) {
            if (k + 1 < outsz) {
                out[k++] = **s;
            }
            (*s)++;
        }
    }
    out[k] = '\0';
    return k >= 3;
}

/* [+-]hh[:mm[:ss]] in seconds */
static bool tz_hms(const char **s, int32_t *v)
{
    int sign = 1;
    long h = 0;
    long m = 0;
    long sec = 0;
    char *end;

    if (**s == '+' || **s == '-') {
        sign = **s == '-' ? -1 : 1;
        (*s)++;
    }
    if (!isdigit((unsigned char)**s)) {
        return false;
    }
    h = strtol(*s, &end, 10);
    *s = end;
    if (**s == ':') {
        (*s)++;
        m = strtol(*s, &end, 10);
        *s = end;
        if (**s == ':') {
            (*s)++;
            sec = strtol(*s, &end, 10);
            *s = end;
        }
    }
    if (h > 167 || m > 59 || sec > 59) {
        return false;
    }
    *v = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return true;
}

static bool tz_date(const char **s, struct tzrule_date *d)
{
    char *end;

    d->time = 7200;
    if (**s == 'M') {
        d->kind = 'M';
        (*s)++;
        d->m = (int)strtol(*s, &end, 10);
        if (*end != '.') {
            return false;
        }
        d->w = (int)strtol(end + 1, &end, 10);
        if (*end != '.') {
            return false;
        }
        d->d = (int)strtol(end + 1, &end, 10);
        *s = end;
        if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6) {
            return false;
        }
    } else if (**s == 'J') {
        d->kind = 'J';
        d->n = (int)strtol(*s + 1, &end, 10);
        *s = end;
    } else if (isdigit((unsigned char)**s)) {
        d->kind = 'n';
        d->n = (int)strtol(*s, &end, 10);
        *s = end;
    } else {
        return false;
    }
    if (**s == '/') {
        (*s)++;
        return tz_hms(s, &d->time);
    }
    return true;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local (zone-relative) seconds since 1970 at which the rule date starts in year y. */
static int64_t tz_date_local(const struct tzrule_date *d, int64_t y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days;

    if (d->kind == 'M') {
        int64_t first = time_days_from_civil(y, d->m, 1);
        int wd1 = (int)(((first % 7) + 11) % 7);
        int day = 1 + (d->d - wd1 + 7) % 7 + (d->w - 1) * 7;
        int len = mdays[d->m - 1] + (d->m == 2 && is_leap(y));

        while (day > len) {
            day -= 7;
        }
        days = first + day - 1;
    } else if (d->kind == 'J') {
        days = time_days_from_civil(y, 1, 1) + d->n - 1 + (is_leap(y) && d->n >= 60);
    } else {
        days = time_days_from_civil(y, 1, 1) + d->n;
    }
    return days * 86400 + d->time;
}

/* Applies a POSIX TZ string to a UTC instant. */
static bool tz_rule_apply(const char *rule, int64_t t, int32_t *off, char *zone, size_t zonesz)
{
    struct tzrule_part std;
    struct tzrule_part dst;
    struct tzrule_date start;
    struct tzrule_date end;
    const char *s = rule;
    int32_t v;
    struct civil c;
    int64_t st;
    int64_t en;
    bool in_dst;

    if (!tz_name(&s, std.name, sizeof(std.name)) || !tz_hms(&s, &v)) {
        return false;
    }
    std.off = -v;
    if (*s == '\0') {
        *off = std.off;
        snprintf(zone, zonesz, "%s", std.name);
        return true;
    }
    if (!tz_name(&s, dst.name, sizeof(dst.name))) {
        return false;
    }
    dst.off = std.off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!tz_hms(&s, &v)) {
            return false;
        }
        dst.off = -v;
    }
    if (*s != ',') {
        return false; /* no rule: unsupported default */
    }
    s++;
    if (!tz_date(&s, &start) || *s != ',') {
        return false;
    }
    s++;
    if (!tz_date(&s, &end)) {
        return false;
    }
    to_civil(t + std.off, &c);
    st = tz_date_local(&start, c.year) - std.off;
    en = tz_date_local(&end, c.year) - dst.off;
    in_dst = st < en ? (t >= st && t < en) : !(t >= en && t < st);
    *off = in_dst ? dst.off : std.off;
    snprintf(zone, zonesz, "%s", in_dst ? dst.name : std.name);
    return true;
}

int tmpl_time_in_zone(const struct tmpl_value *t, const char *name, struct tmpl_value **out)
{
    char path[512];
    unsigned char *data = NULL;
    size_t len = 0;
    FILE *f;
    struct tmpl_value *r;
    int rc = AR_ENOTFOUND;

    if (strcmp(name, "UTC") == 0 || strcmp(name, "") == 0) {
        r = tmpl_time(t->u.t.sec, t->u.t.nsec);
        *out = r;
        return AR_OK;
    }
    if (strcmp(name, "Local") == 0) {
        name = "localtime";
        snprintf(path, sizeof(path), "/etc/localtime");
    } else {
        if (name[0] == '/' || strstr(name, "..") != NULL || strlen(name) > 200) {
            return AR_ENOTFOUND;
        }
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        return AR_ENOTFOUND;
    }
    data = ar_malloc(1 << 20);
    len = fread(data, 1, 1 << 20, f);
    fclose(f);
    if (len >= 44 && memcmp(data, "TZif", 4) == 0) {
        const unsigned char *h = data;
        uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28);
        uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
        size_t v1 = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
        size_t tsz = 4;

        if (h[4] >= '2' && v1 + 44 <= len && memcmp(data + v1, "TZif", 4) == 0) {
            h = data + v1;
            isut = be32(h + 20);
            isstd = be32(h + 24);
            leap = be32(h + 28);
            timecnt = be32(h + 32);
            typecnt = be32(h + 36);
            charcnt = be32(h + 40);
            tsz = 8;
        }
        if (typecnt > 0 &&
            (size_t)(h - data) + 44 + timecnt * (tsz + 1) + typecnt * 6 + charcnt <= len) {
            const unsigned char *times = h + 44;
            const unsigned char *idx = times + timecnt * tsz;
            const unsigned char *types = idx + timecnt;
            const char *abbr = (const char *)(types + typecnt * 6);
            uint32_t ti = 0;
            uint32_t i;

            for (i = 0; i < timecnt; i++) {
                int64_t tt = tsz == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);

                if (tt > t->u.t.sec) {
                    break;
                }
                ti = idx[i];
            }
            if (timecnt == 0 || (i == 0 && timecnt > 0)) {
                ti = 0;
            }
            if (ti < typecnt) {
                const unsigned char *tp = types + ti * 6;
                uint8_t ai = tp[5];

                r = tmpl_time(t->u.t.sec, t->u.t.nsec);
                r->u.t.off = (int32_t)be32(tp);
                if (ai < charcnt) {
                    snprintf(r->u.t.zone, sizeof(r->u.t.zone), "%.*s", (int)(charcnt - ai),
                             abbr + ai);
                }
                /* After the last transition the footer's POSIX TZ rule decides (v2+). */
                if (tsz == 8 && (timecnt == 0 || i == timecnt)) {
                    size_t foot = (size_t)(h - data) + 44 + timecnt * 9 + typecnt * 6 + charcnt +
                                  leap * 12 + isstd + isut;

                    if (foot < len && data[foot] == '\n') {
                        char rule[128];
                        size_t k = 0;

                        for (foot++; foot < len && data[foot] != '\n' && k + 1 < sizeof(rule);
                             foot++) {
                            rule[k++] = (char)data[foot];
                        }
                        rule[k] = '\0';
                        if (k > 0) {
                            tz_rule_apply(rule, t->u.t.sec, &r->u.t.off, r->u.t.zone,
                                          sizeof(r->u.t.zone));
                        }
                    }
                }
                *out = r;
                rc = AR_OK;
            }
        }
    }
    free(data);
    (void)name;
    return rc;
}

/* RFC 3339 parsing and formatting in nanoseconds as the API reads and writes them
 * (ar/timefmt.h); calendar arithmetic is ar/gotime.h. No locale or TZ environment. */
#include "ar/timefmt.h"

#include "ar/gotime.h"

#include <stdio.h>
#include <string.h>

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    int v = 0;

    if (at + count > n) {
        return AR_EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') {
            return AR_EINVAL;
        }
        v = v * 10 + (c - '0');
    }
    *out = v;
    return AR_OK;
}

int time_parse_rfc3339(const char *s, size_t n, int64_t *out_ns, int16_t *out_offset_min)
{
    int year, mon, day, hh, mm, ss;
    int64_t frac_ns = 0;
    int off = 0;
    size_t i = 19;
    __int128 total;

    if (n < 20 || digits(s, n, 0, 4, &year) || s[4] != '-' || digits(s, n, 5, 2, &mon) ||
        s[7] != '-' || digits(s, n, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s, n, 11, 2, &hh) || s[13] != ':' || digits(s, n, 14, 2, &mm) || s[16] != ':' ||
        digits(s, n, 17, 2, &ss)) {
        return AR_EINVAL;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > gotime_days_in(mon, year) || hh > 23 || mm > 59 ||
        ss > 60) {
        return AR_EINVAL;
    }
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        int64_t scale = 100000000;
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (scale > 0) {
                frac_ns += (s[i] - '0') * scale;
                scale /= 10;
            }
            i++;
        }
        if (i == start) {
            return AR_EINVAL;
        }
    }
    if (i >= n) {
        return AR_EINVAL;
    }
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        int sign = s[i] == '-' ? -1 : 1;
        if (digits(s, n, i + 1, 2, &oh)) {
            return AR_EINVAL;
        }
        if (i + 3 < n && s[i + 3] == ':') {
            if (digits(s, n, i + 4, 2, &om)) {
                return AR_EINVAL;
            }
            i += 6;
        } else {
            if (digits(s, n, i + 3, 2, &om)) {
                return AR_EINVAL;
            }
            i += 5;
        }
        if (oh > 23 || om > 59) {
            return AR_EINVAL;
        }
        off = sign * (oh * 60 + om);
    } else {
        return AR_EINVAL;
    }
    if (i != n) {
        return AR_EINVAL;
    }
    if (year == 1 && mon == 1 && day == 1 && hh == 0 && mm == 0 && ss == 0 && frac_ns == 0 &&
        off == 0) {
        *out_ns = AR_TIME_UNSET;
        *out_offset_min = 0;
        return AR_OK;
    }
    total = (__int128)gotime_days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss -
            (int64_t)off * 60;
    total = total * 1000000000 + frac_ns;
    if (total > INT64_MAX) {
        total = INT64_MAX;
    } else if (total <= INT64_MIN) {
        total = INT64_MIN + 1;
    }
    *out_ns = (int64_t)total;
    *out_offset_min = (int16_t)off;
    return AR_OK;
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t time_format_rfc3339_ms(int64_t ns, int16_t offset_min, char *out)
{
    int64_t local = ns + (int64_t)offset_min * 60 * 1000000000LL;
    int64_t sec = local / 1000000000LL;
    int64_t rem = local % 1000000000LL;
    int64_t days;
    int64_t sod;
    int64_t y;
    unsigned m, d, ms;
    char *p = out;

    if (rem < 0) {
        rem += 1000000000LL;
        sec--;
    }
    days = sec / 86400;
    sod = sec % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    gotime_civil_from_days(days, &y, &m, &d);
    /* Hand-written digits: this runs three times per alert in API replies. */
    if (y >= 0 && y <= 9999) {
        p = put2(p, (unsigned)(y / 100));
        p = put2(p, (unsigned)(y % 100));
    } else {
        p += snprintf(p, 16, "%04lld", (long long)y);
    }
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, (unsigned)(sod / 3600));
    *p++ = ':';
    p = put2(p, (unsigned)(sod / 60 % 60));
    *p++ = ':';
    p = put2(p, (unsigned)(sod % 60));
    *p++ = '.';
    ms = (unsigned)(rem / 1000000);
    *p++ = (char)('0' + ms / 100);
    p = put2(p, ms % 100);
    if (offset_min == 0) {
        *p++ = 'Z';
    } else {
        unsigned a = (unsigned)(offset_min < 0 ? -offset_min : offset_min);
        *p++ = offset_min < 0 ? '-' : '+';
        p = put2(p, a / 60);
        *p++ = ':';
        p = put2(p, a % 60);
    }
    *p = '\0';
    return (size_t)(p - out);
}

size_t time_format_rfc3339_nano(int64_t ns, int16_t offset_min, char *out)
{
    char tmp[40];
    size_t n;
    int64_t frac;
    char digits[10];
    int len = 9;

    if (ns == AR_TIME_UNSET) {
        memcpy(out, "0001-01-01T00:00:00Z", 21);
        return 20;
    }
    /* date and time without fraction: format at ms and cut the ".mmm" part */
    (void)time_format_rfc3339_ms(ns, offset_min, tmp);
    memcpy(out, tmp, 19);
    n = 19;
    frac = ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
    }
    if (frac != 0) {
        snprintf(digits, sizeof(digits), "%09lld", (long long)frac);
        while (len > 0 && digits[len - 1] == '0') {
            len--;
        }
        out[n++] = '.';
        memcpy(out + n, digits, (size_t)len);
        n += (size_t)len;
    }
    /* the zone part follows the ".mmm" in tmp */
    {
        size_t zone = strlen(tmp + 23);
        memcpy(out + n, tmp + 23, zone + 1); /* and its NUL */
        return n + zone;
    }
}

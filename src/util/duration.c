/* Duration parsing and printing in the two dialects Alertmanager's configuration uses.
 *
 * Prometheus form (COMPAT 4.7): "<int><unit>" pairs with units y w d h m s ms, strictly from
 * largest to smallest, each at most once; "0" alone means zero. The value is kept in
 * milliseconds but, as upstream, must fit in int64 nanoseconds (about 292 years), otherwise
 * `duration out of range`. Go form (time.ParseDuration / Duration.String): optional sign,
 * decimal numbers with fractions, units ns us µs μs ms s m h, result in int64 nanoseconds.
 * All operations are linear in the input length and allocate nothing. */
#include "ar/duration.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_MS INT64_C(1000000)
#define MAX_MS    (INT64_MAX / NS_PER_MS) /* largest millisecond count that fits in ns */

struct prom_unit {
    const char *name;
    int64_t ms;
};

/* Order matters: the parser requires units in this order (largest first). */
static const struct prom_unit prom_units[] = {
    {"y", INT64_C(365) * 24 * 3600 * 1000},
    {"w", INT64_C(7) * 24 * 3600 * 1000},
    {"d", INT64_C(24) * 3600 * 1000},
    {"h", INT64_C(3600) * 1000},
    {"m", INT64_C(60) * 1000},
    {"s", INT64_C(1000)},
    {"ms", INT64_C(1)},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int duration_parse(const char *s, int64_t *out_ms, struct ar_error *err)
{
    size_t next_unit = 0; /* index of the smallest unit still allowed */
    int64_t total = 0;
    bool overflow = false;
    const char *p = s;

    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return AR_OK;
    }
    if (s[0] == '\0') {
        ar_error_set(err, "empty duration string");
        return AR_EINVAL;
    }
    while (*p != '\0') {
        const char *digits = p;
        uint64_t n = 0;
        bool big = false;
        size_t u;

        while (is_digit(*p)) {
            if (n > (UINT64_MAX - 9) / 10) {
                big = true;
            } else {
                n = n * 10 + (uint64_t)(*p - '0');
            }
            p++;
        }
        if (p == digits) {
            goto bad;
        }
        /* COMPAT: "ms" must win over "m" when followed by "s" then a non-digit or end. */
        for (u = next_unit; u < AR_ARRAY_LEN(prom_units); u++) {
            size_t len = strlen(prom_units[u].name);
            if (strncmp(p, prom_units[u].name, len) == 0 && (p[len] == '\0' || is_digit(p[len]))) {
                break;
            }
        }
        if (u == AR_ARRAY_LEN(prom_units)) {
            goto bad;
        }
        p += strlen(prom_units[u].name);
        next_unit = u + 1;
        /* COMPAT: each term and the sum must fit in int64 nanoseconds. */
        if (big || n > (uint64_t)(MAX_MS / prom_units[u].ms)) {
            overflow = true;
            continue;
        }
        total += (int64_t)n * prom_units[u].ms;
        if (total > MAX_MS) {
            overflow = true;
        }
    }
    if (overflow) {
        ar_error_set(err, "duration out of range");
        return AR_EINVAL;
    }
    *out_ms = total;
    return AR_OK;
bad:
    ar_error_set(err, "not a valid duration string: \"%s\"", s);
    return AR_EINVAL;
}

void duration_format(int64_t ms, char *out, size_t cap)
{
    size_t len = 0;

    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    if (ms == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t u = 0; u < AR_ARRAY_LEN(prom_units); u++) {
        int64_t mult = prom_units[u].ms;
        int64_t v;

        /* COMPAT: years and weeks only when exact ("90d", not "12w6d"). */
        if (u < 2 && ms % mult != 0) {
            continue;
        }
        v = ms / mult;
        if (v > 0 && len < cap) {
            int w = snprintf(out + len, cap - len, "%lld%s", (long long)v, prom_units[u].name);
            len += w > 0 ? (size_t)w : 0;
            ms -= v * mult;
        }
    }
}

/* ---- Go durations ---- */

struct go_unit {
    const char *name;
    uint64_t ns;
};

static const struct go_unit go_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"s", UINT64_C(1000000000)},
    {"m", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
};

#define GO_LIMIT (UINT64_C(1) << 63)

/* Writes s quoted the way Go's time package quotes it in errors: `"` and `\` escaped,
 * control and non-ASCII bytes as \xNN. */
static void go_time_quote(const char *s, char *out, size_t cap)
{
    size_t len = 0;

    if (cap < 3) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return;
    }
    out[len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char tmp[5];
        size_t n;

        if (*p >= 0x80 || *p < 0x20) {
            snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
        } else if (*p == '"' || *p == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)*p;
            tmp[2] = '\0';
        } else {
            tmp[0] = (char)*p;
            tmp[1] = '\0';
        }
        n = strlen(tmp);
        if (len + n + 2 > cap) {
            break;
        }
        memcpy(out + len, tmp, n);
        len += n;
    }
    out[len++] = '"';
    out[len] = '\0';
}

static int go_error(struct ar_error *err, const char *what, const char *unit, size_t unit_len,
                    const char *orig)
{
    char q[400];

    go_time_quote(orig, q, sizeof(q));
    if (unit != NULL) {
        char u[64];
        char uq[200];
        size_t n = unit_len < sizeof(u) - 1 ? unit_len : sizeof(u) - 1;

        memcpy(u, unit, n);
        u[n] = '\0';
        go_time_quote(u, uq, sizeof(uq));
        ar_error_set(err, "time: unknown unit %s in duration %s", uq, q);
    } else {
        ar_error_set(err, "time: %s %s", what, q);
    }
    return AR_EINVAL;
}

int go_duration_parse(const char *s, int64_t *out_ns, struct ar_error *err)
{
    const char *orig = s;
    uint64_t d = 0;
    bool neg = false;

    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return AR_OK;
    }
    if (*s == '\0') {
        return go_error(err, "invalid duration", NULL, 0, orig);
    }
    while (*s != '\0') {
        uint64_t v = 0;
        uint64_t f = 0;
        double scale = 1;
        bool pre;
        bool post = false;
        const char *start;
        const char *unit;
        size_t ulen;
        size_t i;
        uint64_t mult = 0;

        if (!(*s == '.' || is_digit(*s))) {
            return go_error(err, "invalid duration", NULL, 0, orig);
        }
        start = s;
        while (is_digit(*s)) {
            if (v > GO_LIMIT / 10) {
                return go_error(err, "invalid duration", NULL, 0, orig);
            }
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > GO_LIMIT) {
                return go_error(err, "invalid duration", NULL, 0, orig);
            }
            s++;
        }
        pre = s != start;
        if (*s == '.') {
            bool overflow = false;

            s++;
            start = s;
            while (is_digit(*s)) {
                if (!overflow) {
                    if (f > (GO_LIMIT - 1) / 10) {
                        overflow = true;
                    } else {
                        uint64_t y = f * 10 + (uint64_t)(*s - '0');
                        if (y > GO_LIMIT) {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10;
                        }
                    }
                }
                s++;
            }
            post = s != start;
        }
        if (!pre && !post) {
            return go_error(err, "invalid duration", NULL, 0, orig);
        }
        unit = s;
        while (*s != '\0' && *s != '.' && !is_digit(*s)) {
            s++;
        }
        ulen = (size_t)(s - unit);
        if (ulen == 0) {
            return go_error(err, "missing unit in duration", NULL, 0, orig);
        }
        for (i = 0; i < AR_ARRAY_LEN(go_units); i++) {
            if (strlen(go_units[i].name) == ulen && memcmp(go_units[i].name, unit, ulen) == 0) {
                mult = go_units[i].ns;
                break;
            }
        }
        if (mult == 0) {
            return go_error(err, NULL, unit, ulen, orig);
        }
        if (v > GO_LIMIT / mult) {
            return go_error(err, "invalid duration", NULL, 0, orig);
        }
        v *= mult;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)mult / scale));
            if (v > GO_LIMIT) {
                return go_error(err, "invalid duration", NULL, 0, orig);
            }
        }
        d += v;
        if (d > GO_LIMIT) {
            return go_error(err, "invalid duration", NULL, 0, orig);
        }
    }
    if (neg) {
        *out_ns = d == GO_LIMIT ? INT64_MIN : -(int64_t)d;
        return AR_OK;
    }
    if (d > (uint64_t)INT64_MAX) {
        return go_error(err, "invalid duration", NULL, 0, orig);
    }
    *out_ns = (int64_t)d;
    return AR_OK;
}

/* Prints v / 10^prec into buf ending at *w (moving *w left), dropping trailing zeros and
 * the point when the fraction is zero. Returns v / 10^prec. */
static uint64_t fmt_frac(char *buf, size_t *w, uint64_t v, int prec)
{
    bool print = false;

    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(v % 10);
        print = print || digit != 0;
        if (print) {
            buf[--*w] = (char)('0' + digit);
        }
        v /= 10;
    }
    if (print) {
        buf[--*w] = '.';
    }
    return v;
}

static void fmt_int(char *buf, size_t *w, uint64_t v)
{
    if (v == 0) {
        buf[--*w] = '0';
        return;
    }
    while (v > 0) {
        buf[--*w] = (char)('0' + v % 10);
        v /= 10;
    }
}

void go_duration_format(int64_t ns, char *out, size_t cap)
{
    char buf[32];
    size_t w = sizeof(buf);
    bool neg = ns < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    if (u < UINT64_C(1000000000)) {
        int prec;

        buf[--w] = 's';
        if (u == 0) {
            snprintf(out, cap, "0s");
            return;
        }
        if (u < 1000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1000000) {
            prec = 3;
            buf[--w] = '\xb5'; /* "µ" is 0xC2 0xB5 */
            buf[--w] = '\xc2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        u = fmt_frac(buf, &w, u, prec);
        fmt_int(buf, &w, u);
    } else {
        buf[--w] = 's';
        u = fmt_frac(buf, &w, u, 9);
        fmt_int(buf, &w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            fmt_int(buf, &w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                fmt_int(buf, &w, u);
            }
        }
    }
    if (neg) {
        buf[--w] = '-';
    }
    snprintf(out, cap, "%.*s", (int)(sizeof(buf) - w), buf + w);
}

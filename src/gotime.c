/* Go time semantics (ar/gotime.h): calendar arithmetic over int64 days (valid for Go's zero
 * time, year 1), and Go reference layouts. Layouts are cut into chunks exactly as Go's
 * nextStdChunk does (so "Jane" is literal text and "_2006" is "_" then the year); Format
 * and Parse then walk the same chunks, and Parse reports Go's error texts. */
#include "ar/gotime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- calendar ------------------------------------------------------------------------------ */

bool gotime_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int gotime_days_in(int month, int64_t year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month < 1 || month > 12) {
        return 0;
    }
    return month == 2 && gotime_is_leap(year) ? 29 : days[month - 1];
}

int64_t gotime_days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    /* Howard Hinnant's days_from_civil */
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void gotime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe;
    unsigned yoe;
    unsigned doy;
    unsigned mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

unsigned gotime_weekday(int64_t days)
{
    return (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

/* ---- layout chunks (Go's nextStdChunk) ----------------------------------------------------- */

enum std {
    STD_NONE,
    STD_LONG_MONTH,        /* January */
    STD_MONTH,             /* Jan */
    STD_NUM_MONTH,         /* 1 */
    STD_ZERO_MONTH,        /* 01 */
    STD_LONG_WEEKDAY,      /* Monday */
    STD_WEEKDAY,           /* Mon */
    STD_DAY,               /* 2 */
    STD_UNDER_DAY,         /* _2 */
    STD_ZERO_DAY,          /* 02 */
    STD_UNDER_YDAY,        /* __2 */
    STD_ZERO_YDAY,         /* 002 */
    STD_HOUR,              /* 15 */
    STD_HOUR12,            /* 3 */
    STD_ZERO_HOUR12,       /* 03 */
    STD_MINUTE,            /* 4 */
    STD_ZERO_MINUTE,       /* 04 */
    STD_SECOND,            /* 5 */
    STD_ZERO_SECOND,       /* 05 */
    STD_LONG_YEAR,         /* 2006 */
    STD_YEAR,              /* 06 */
    STD_PM,                /* PM */
    STD_PM_LOWER,          /* pm */
    STD_TZ,                /* MST */
    STD_ISO_TZ,            /* Z0700 */
    STD_ISO_SECS_TZ,       /* Z070000 */
    STD_ISO_SHORT_TZ,      /* Z07 */
    STD_ISO_COLON_TZ,      /* Z07:00 */
    STD_ISO_COLON_SECS_TZ, /* Z07:00:00 */
    STD_NUM_TZ,            /* -0700 */
    STD_NUM_SECS_TZ,       /* -070000 */
    STD_NUM_SHORT_TZ,      /* -07 */
    STD_NUM_COLON_TZ,      /* -07:00 */
    STD_NUM_COLON_SECS_TZ, /* -07:00:00 */
    STD_FRAC0,             /* .000 (exactly n digits) */
    STD_FRAC9,             /* .999 (trailing zeros dropped) */
};

struct chunk {
    size_t prefix; /* literal text before the element */
    size_t len;    /* length of the element in the layout */
    enum std std;
    int digits; /* STD_FRAC*: number of 0s or 9s */
    char sep;   /* STD_FRAC*: '.' or ',' */
};

static const char *const long_months[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const short_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const long_days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const short_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static bool at(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool set(struct chunk *c, size_t i, enum std std, size_t len)
{
    c->prefix = i;
    c->std = std;
    c->len = len;
    return true;
}

static bool zone_chunk(const char *l, size_t i, struct chunk *c)
{
    static const struct {
        const char *text;
        enum std num;
        enum std iso;
    } zones[] = {
        {"070000", STD_NUM_SECS_TZ, STD_ISO_SECS_TZ},
        {"07:00:00", STD_NUM_COLON_SECS_TZ, STD_ISO_COLON_SECS_TZ},
        {"0700", STD_NUM_TZ, STD_ISO_TZ},
        {"07:00", STD_NUM_COLON_TZ, STD_ISO_COLON_TZ},
        {"07", STD_NUM_SHORT_TZ, STD_ISO_SHORT_TZ},
    };

    for (size_t k = 0; k < AR_ARRAY_LEN(zones); k++) {
        if (at(l + i + 1, zones[k].text)) {
            return set(c, i, l[i] == '-' ? zones[k].num : zones[k].iso, 1 + strlen(zones[k].text));
        }
    }
    return false;
}

/* Finds the first element of layout l; false when there is none (all literal). */
static bool next_chunk(const char *l, struct chunk *c)
{
    static const enum std zero_x[] = {STD_ZERO_MONTH,  STD_ZERO_DAY,    STD_ZERO_HOUR12,
                                      STD_ZERO_MINUTE, STD_ZERO_SECOND, STD_YEAR};

    for (size_t i = 0; l[i] != '\0'; i++) {
        switch (l[i]) {
        case 'J':
            if (at(l + i, "January")) {
                return set(c, i, STD_LONG_MONTH, 7);
            }
            if (at(l + i, "Jan") && !(l[i + 3] >= 'a' && l[i + 3] <= 'z')) {
                return set(c, i, STD_MONTH, 3);
            }
            break;
        case 'M':
            if (at(l + i, "Monday")) {
                return set(c, i, STD_LONG_WEEKDAY, 6);
            }
            if (at(l + i, "Mon") && !(l[i + 3] >= 'a' && l[i + 3] <= 'z')) {
                return set(c, i, STD_WEEKDAY, 3);
            }
            if (at(l + i, "MST")) {
                return set(c, i, STD_TZ, 3);
            }
            break;
        case '0':
            if (l[i + 1] >= '1' && l[i + 1] <= '6') {
                return set(c, i, zero_x[l[i + 1] - '1'], 2);
            }
            if (l[i + 1] == '0' && l[i + 2] == '2') {
                return set(c, i, STD_ZERO_YDAY, 3);
            }
            break;
        case '1':
            if (l[i + 1] == '5') {
                return set(c, i, STD_HOUR, 2);
            }
            return set(c, i, STD_NUM_MONTH, 1);
        case '2':
            if (at(l + i, "2006")) {
                return set(c, i, STD_LONG_YEAR, 4);
            }
            return set(c, i, STD_DAY, 1);
        case '_':
            if (l[i + 1] == '2') {
                if (at(l + i + 1, "2006")) {
                    return set(c, i + 1, STD_LONG_YEAR, 4); /* "_2006": a literal "_" */
                }
                return set(c, i, STD_UNDER_DAY, 2);
            }
            if (l[i + 1] == '_' && l[i + 2] == '2') {
                return set(c, i, STD_UNDER_YDAY, 3);
            }
            break;
        case '3':
            return set(c, i, STD_HOUR12, 1);
        case '4':
            return set(c, i, STD_MINUTE, 1);
        case '5':
            return set(c, i, STD_SECOND, 1);
        case 'P':
            if (l[i + 1] == 'M') {
                return set(c, i, STD_PM, 2);
            }
            break;
        case 'p':
            if (l[i + 1] == 'm') {
                return set(c, i, STD_PM_LOWER, 2);
            }
            break;
        case '-':
        case 'Z':
            if (zone_chunk(l, i, c)) {
                return true;
            }
            break;
        case '.':
        case ',':
            if (l[i + 1] == '0' || l[i + 1] == '9') {
                size_t j = i + 1;

                while (l[j] == l[i + 1]) {
                    j++;
                }
                /* only a fraction when the run of digits ends here */
                if (!is_digit(l[j])) {
                    c->digits = (int)(j - i - 1);
                    c->sep = l[i];
                    return set(c, i, l[i + 1] == '0' ? STD_FRAC0 : STD_FRAC9, j - i);
                }
            }
            break;
        default:
            break;
        }
    }
    c->prefix = strlen(l);
    c->len = 0;
    c->std = STD_NONE;
    return false;
}

/* ---- Format -------------------------------------------------------------------------------- */

/* Go's appendInt: '-' for negatives, then the magnitude zero- or space-padded to width. */
static int put_int(struct buf *b, int64_t v, int width)
{
    char tmp[32];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, u);
    int rc = AR_OK;

    if (v < 0) {
        rc = buf_putc(b, '-');
    }
    for (; n < width && rc == AR_OK; n++) {
        rc = buf_putc(b, '0');
    }
    return rc == AR_OK ? buf_puts(b, tmp) : rc;
}

/* The Z07... kinds: "Z" stands for offset 0 when formatting and parsing. */
static bool is_iso_zone(enum std std)
{
    return std == STD_ISO_TZ || std == STD_ISO_COLON_TZ || std == STD_ISO_SECS_TZ ||
           std == STD_ISO_SHORT_TZ || std == STD_ISO_COLON_SECS_TZ;
}

static int put_zone(struct buf *b, enum std std, int32_t offset)
{
    bool iso = is_iso_zone(std);
    bool colon = std == STD_ISO_COLON_TZ || std == STD_NUM_COLON_TZ ||
                 std == STD_ISO_COLON_SECS_TZ || std == STD_NUM_COLON_SECS_TZ;
    bool secs = std == STD_ISO_SECS_TZ || std == STD_NUM_SECS_TZ || std == STD_ISO_COLON_SECS_TZ ||
                std == STD_NUM_COLON_SECS_TZ;
    int32_t zone = offset / 60;
    int32_t abs_off = zone < 0 ? -offset : offset; /* as Go: sign from the minutes */
    int rc;

    if (iso && offset == 0) {
        return buf_putc(b, 'Z');
    }
    rc = buf_putc(b, zone < 0 ? '-' : '+');
    zone = zone < 0 ? -zone : zone;
    rc = rc ? rc : put_int(b, zone / 60, 2);
    if (colon) {
        rc = rc ? rc : buf_putc(b, ':');
    }
    if (std != STD_NUM_SHORT_TZ && std != STD_ISO_SHORT_TZ) {
        rc = rc ? rc : put_int(b, zone % 60, 2);
    }
    if (secs) {
        if (colon) {
            rc = rc ? rc : buf_putc(b, ':');
        }
        rc = rc ? rc : put_int(b, abs_off % 60, 2);
    }
    return rc;
}

/* Go's appendNano */
static int put_frac(struct buf *b, const struct chunk *c, int32_t nsec)
{
    char digits[16];
    int n = c->digits > 9 ? 9 : c->digits;
    int rc;

    snprintf(digits, sizeof(digits), "%09d", (int)nsec);
    if (c->std == STD_FRAC9) {
        while (n > 0 && digits[n - 1] == '0') {
            n--;
        }
        if (n == 0) {
            return AR_OK;
        }
    }
    rc = buf_putc(b, c->sep);
    return rc ? rc : buf_append(b, digits, (size_t)n);
}

int gotime_format(struct buf *b, const char *layout, int64_t sec, int32_t nsec, int32_t off,
                  const char *zone)
{
    int64_t local = sec + off;
    int64_t days = local / 86400 - (local % 86400 < 0);
    int64_t rem = local - days * 86400;
    int64_t year;
    unsigned month;
    unsigned day;
    unsigned hour = (unsigned)(rem / 3600);
    unsigned hr12 = hour % 12 == 0 ? 12 : hour % 12;
    unsigned yday;
    unsigned wday = gotime_weekday(days);
    const char *l = layout;
    int rc = AR_OK;

    gotime_civil_from_days(days, &year, &month, &day);
    yday = (unsigned)(days - gotime_days_from_civil(year, 1, 1)) + 1;
    while (*l != '\0' && rc == AR_OK) {
        struct chunk c;
        bool found = next_chunk(l, &c);

        rc = buf_append(b, l, c.prefix);
        if (!found || rc != AR_OK) {
            break;
        }
        switch (c.std) {
        case STD_YEAR:
            rc = put_int(b, (year < 0 ? -year : year) % 100, 2);
            break;
        case STD_LONG_YEAR:
            rc = put_int(b, year, 4);
            break;
        case STD_MONTH:
            rc = buf_puts(b, short_months[month - 1]);
            break;
        case STD_LONG_MONTH:
            rc = buf_puts(b, long_months[month - 1]);
            break;
        case STD_NUM_MONTH:
            rc = put_int(b, month, 0);
            break;
        case STD_ZERO_MONTH:
            rc = put_int(b, month, 2);
            break;
        case STD_WEEKDAY:
            rc = buf_puts(b, short_days[wday]);
            break;
        case STD_LONG_WEEKDAY:
            rc = buf_puts(b, long_days[wday]);
            break;
        case STD_DAY:
            rc = put_int(b, day, 0);
            break;
        case STD_UNDER_DAY:
            rc = day < 10 ? buf_putc(b, ' ') : AR_OK;
            rc = rc ? rc : put_int(b, day, 0);
            break;
        case STD_ZERO_DAY:
            rc = put_int(b, day, 2);
            break;
        case STD_UNDER_YDAY:
            rc = yday < 100 ? buf_puts(b, yday < 10 ? "  " : " ") : AR_OK;
            rc = rc ? rc : put_int(b, yday, 0);
            break;
        case STD_ZERO_YDAY:
            rc = put_int(b, yday, 3);
            break;
        case STD_HOUR:
            rc = put_int(b, hour, 2);
            break;
        case STD_HOUR12:
            rc = put_int(b, hr12, 0);
            break;
        case STD_ZERO_HOUR12:
            rc = put_int(b, hr12, 2);
            break;
        case STD_MINUTE:
        case STD_ZERO_MINUTE:
            rc = put_int(b, rem / 60 % 60, c.std == STD_ZERO_MINUTE ? 2 : 0);
            break;
        case STD_SECOND:
        case STD_ZERO_SECOND:
            rc = put_int(b, rem % 60, c.std == STD_ZERO_SECOND ? 2 : 0);
            break;
        case STD_PM:
            rc = buf_puts(b, hour >= 12 ? "PM" : "AM");
            break;
        case STD_PM_LOWER:
            rc = buf_puts(b, hour >= 12 ? "pm" : "am");
            break;
        case STD_TZ:
            if (zone != NULL && zone[0] != '\0') {
                rc = buf_puts(b, zone);
            } else {
                rc = put_zone(b, STD_NUM_TZ, off / 60 * 60); /* -0700, minutes only */
            }
            break;
        case STD_FRAC0:
        case STD_FRAC9:
            rc = put_frac(b, &c, nsec);
            break;
        case STD_NONE:
            break;
        default:
            rc = put_zone(b, c.std, off);
            break;
        }
        l += c.prefix + c.len;
    }
    return rc;
}

/* ---- Parse --------------------------------------------------------------------------------- */

void gotime_quote(struct buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x80 || c < 0x20) {
            buf_printf(b, "\\x%02x", c);
            continue;
        }
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
        }
        buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

/* parsing time "value" as "layout": cannot parse "rest" as "elem" */
static int err_cannot(struct buf *err, const char *value, const char *layout, const char *rest,
                      const char *elem, size_t elem_len)
{
    if (err != NULL) {
        buf_puts(err, "parsing time ");
        gotime_quote(err, value, strlen(value));
        buf_puts(err, " as ");
        gotime_quote(err, layout, strlen(layout));
        buf_puts(err, ": cannot parse ");
        gotime_quote(err, rest, strlen(rest));
        buf_puts(err, " as ");
        gotime_quote(err, elem, elem_len);
    }
    return AR_EINVAL;
}

/* parsing time "value": <what> */
static int err_msg(struct buf *err, const char *value, const char *what, const char *extra)
{
    if (err != NULL) {
        buf_puts(err, "parsing time ");
        gotime_quote(err, value, strlen(value));
        buf_puts(err, what);
        if (extra != NULL) {
            gotime_quote(err, extra, strlen(extra));
        }
    }
    return AR_EINVAL;
}

/* Go's skip: the literal prefix; a layout space matches any run of spaces. */
static bool skip(const char **v, const char *prefix, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (prefix[i] == ' ') {
            if (**v != '\0' && **v != ' ') {
                return false;
            }
            while (i < n && prefix[i] == ' ') {
                i++;
            }
            while (**v == ' ') {
                (*v)++;
            }
            continue;
        }
        if (**v != prefix[i]) {
            return false;
        }
        i++;
        (*v)++;
    }
    return true;
}

/* Go's leadingInt over at most n bytes: the digits at s, false on overflow. */
static bool leading_int_n(const char **s, size_t n, int64_t *out)
{
    int64_t x = 0;

    for (; n > 0 && is_digit(**s); n--) {
        int d = **s - '0';

        if (x > (INT64_MAX - d) / 10) {
            return false;
        }
        x = x * 10 + d;
        (*s)++;
    }
    *out = x;
    return true;
}

/* Go's leadingInt: the digits at s, false on overflow. */
static bool leading_int(const char **s, int64_t *out)
{
    return leading_int_n(s, SIZE_MAX, out);
}

/* Go's atoi over s[0..n): optional sign, then digits only ("" is 0). */
static bool go_atoi(const char *s, size_t n, int64_t *out)
{
    const char *p = s;
    bool neg = false;

    if (n > 0 && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (!leading_int_n(&p, n - (size_t)(p - s), out) || p != s + n) {
        return false;
    }
    *out = neg ? -*out : *out;
    return true;
}

/* Go's getnum (up to 2 digits) and getnum3 (up to 3): exactly that many when fixed. */
static bool getnum(const char **v, int max, bool fixed, int64_t *out)
{
    int n = 0;
    int64_t x = 0;

    while (n < max && is_digit((*v)[n])) {
        x = x * 10 + ((*v)[n] - '0');
        n++;
    }
    if (n == 0 || (fixed && n < max)) {
        return false;
    }
    *v += n;
    *out = x;
    return true;
}

/* Go's lookup: case-insensitive prefix match against a name table. */
static bool lookup(const char **v, const char *const *tab, size_t count, int64_t *idx)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(tab[i]);

        if (strncasecmp(*v, tab[i], n) == 0) {
            *v += n;
            *idx = (int64_t)i;
            return true;
        }
    }
    return false;
}

/* Go's parseNanoseconds over v[0..n): separator then digits (up to 9 are kept). */
static bool parse_nanos(const char *v, size_t n, int64_t *ns, const char **range)
{
    if (v[0] != '.' && v[0] != ',') {
        return false;
    }
    if (n > 10) {
        n = 10;
    }
    if (!go_atoi(v + 1, n - 1, ns)) {
        return false;
    }
    if (*ns < 0) {
        *range = "fractional second";
        return true;
    }
    for (size_t i = n; i < 10; i++) {
        *ns *= 10;
    }
    return true;
}

/* Go's parseSignedOffset: length of "+h" / "-hh" (hours <= 23) at v, 0 if none. */
static size_t signed_offset_len(const char *v)
{
    const char *p = v + 1;
    int64_t x;

    if (v[0] != '-' && v[0] != '+') {
        return 0;
    }
    if (!leading_int(&p, &x) || p == v + 1 || x > 23) {
        return 0;
    }
    return (size_t)(p - v);
}

/* Go's parseTimeZone: length of a zone abbreviation at v, 0 if it does not look like one. */
static size_t zone_name_len(const char *v)
{
    size_t upper = 0;

    if (strlen(v) < 3) {
        return 0;
    }
    if (at(v, "ChST") || at(v, "MeST")) {
        return 4;
    }
    if (at(v, "GMT")) {
        return v[3] == '\0' ? 3 : 3 + signed_offset_len(v + 3);
    }
    if (v[0] == '+' || v[0] == '-') {
        return signed_offset_len(v);
    }
    while (upper < 6 && v[upper] >= 'A' && v[upper] <= 'Z') {
        upper++;
    }
    if (upper == 5 && v[4] == 'T') {
        return 5;
    }
    if (upper == 4 && (v[3] == 'T' || at(v, "WITA"))) {
        return 4;
    }
    return upper == 3 ? 3 : 0;
}

/* A numeric zone element: sign, hours, and per layout minutes and seconds. */
static bool parse_num_zone(const char **v, enum std std, int32_t *off)
{
    const char *s = *v;
    size_t len = strlen(s);
    const char *h = s + 1;
    const char *m = "00";
    const char *sc = "00";
    size_t need;
    int64_t hr;
    int64_t mm;
    int64_t ss;

    if (std == STD_ISO_COLON_TZ || std == STD_NUM_COLON_TZ) {
        need = 6;
        if (len < need || s[3] != ':') {
            return false;
        }
        m = s + 4;
    } else if (std == STD_NUM_SHORT_TZ || std == STD_ISO_SHORT_TZ) {
        need = 3;
    } else if (std == STD_ISO_COLON_SECS_TZ || std == STD_NUM_COLON_SECS_TZ) {
        need = 9;
        if (len < need || s[3] != ':' || s[6] != ':') {
            return false;
        }
        m = s + 4;
        sc = s + 7;
    } else if (std == STD_ISO_SECS_TZ || std == STD_NUM_SECS_TZ) {
        need = 7;
        m = s + 3;
        sc = s + 5;
    } else {
        need = 5;
        m = s + 3;
    }
    if (len < need) {
        return false;
    }
    /* each part is exactly two digits; no range check, as in the Go of Alertmanager 0.25 */
    if (!getnum(&h, 2, true, &hr) || !getnum(&m, 2, true, &mm) || !getnum(&sc, 2, true, &ss) ||
        (s[0] != '+' && s[0] != '-')) {
        return false;
    }
    *off = (int32_t)((hr * 60 + mm) * 60 + ss) * (s[0] == '-' ? -1 : 1);
    *v += need;
    return true;
}

int gotime_parse(const char *layout, const char *value, struct gotime_parsed *out, struct buf *err)
{
    const char *l = layout;
    const char *v = value;
    int64_t year = 0;
    int64_t month = -1;
    int64_t day = -1;
    int64_t yday = -1;
    int64_t hour = 0;
    int64_t min = 0;
    int64_t sec = 0;
    int64_t nsec = 0;
    bool am = false;
    bool pm = false;
    bool utc = false;
    bool has_off = false;
    int32_t zone_off = 0;
    const char *zone_name = NULL;
    size_t zone_name_n = 0;
    int64_t days;

    for (;;) {
        struct chunk c;
        bool found = next_chunk(l, &c);
        const char *hold;
        const char *range = NULL;
        int64_t tmp;
        bool ok = true;

        if (!skip(&v, l, c.prefix)) {
            return err_cannot(err, value, layout, v, l, c.prefix);
        }
        if (!found) {
            if (*v != '\0') {
                return err_msg(err, value, ": extra text: ", v);
            }
            break;
        }
        hold = v;
        l += c.prefix;
        switch (c.std) {
        case STD_YEAR:
            ok = strlen(v) >= 2 && go_atoi(v, 2, &year);
            if (ok) {
                v += 2;
                year += year >= 69 ? 1900 : 2000;
            }
            break;
        case STD_LONG_YEAR:
            ok = strlen(v) >= 4 && is_digit(v[0]) && go_atoi(v, 4, &year);
            v += ok ? 4 : 0;
            break;
        case STD_MONTH:
        case STD_LONG_MONTH:
            ok = lookup(&v, c.std == STD_MONTH ? short_months : long_months, 12, &month);
            month++;
            break;
        case STD_NUM_MONTH:
        case STD_ZERO_MONTH:
            ok = getnum(&v, 2, c.std == STD_ZERO_MONTH, &month);
            if (ok && (month <= 0 || month > 12)) {
                range = "month";
            }
            break;
        case STD_WEEKDAY:
        case STD_LONG_WEEKDAY: /* checked, then ignored */
            ok = lookup(&v, c.std == STD_WEEKDAY ? short_days : long_days, 7, &tmp);
            break;
        case STD_DAY:
        case STD_UNDER_DAY:
        case STD_ZERO_DAY:
            if (c.std == STD_UNDER_DAY && *v == ' ') {
                v++;
            }
            /* any one- or two-digit day; checked against the month at the end */
            ok = getnum(&v, 2, c.std == STD_ZERO_DAY, &day);
            break;
        case STD_UNDER_YDAY:
        case STD_ZERO_YDAY:
            for (int i = 0; i < 2 && c.std == STD_UNDER_YDAY && *v == ' '; i++) {
                v++;
            }
            ok = getnum(&v, 3, c.std == STD_ZERO_YDAY, &yday);
            break;
        case STD_HOUR:
            ok = getnum(&v, 2, false, &hour);
            if (ok && hour >= 24) {
                range = "hour";
            }
            break;
        case STD_HOUR12:
        case STD_ZERO_HOUR12:
            ok = getnum(&v, 2, c.std == STD_ZERO_HOUR12, &hour);
            if (ok && hour > 12) {
                range = "hour";
            }
            break;
        case STD_MINUTE:
        case STD_ZERO_MINUTE:
            ok = getnum(&v, 2, c.std == STD_ZERO_MINUTE, &min);
            if (ok && min >= 60) {
                range = "minute";
            }
            break;
        case STD_SECOND:
        case STD_ZERO_SECOND: {
            struct chunk next;

            ok = getnum(&v, 2, c.std == STD_ZERO_SECOND, &sec);
            if (!ok) {
                break;
            }
            if (sec >= 60) {
                range = "second";
                break;
            }
            /* a fraction after the seconds is read even when the layout has none */
            if ((v[0] == '.' || v[0] == ',') && is_digit(v[1])) {
                next_chunk(l + c.len, &next);
                if (next.std == STD_FRAC0 || next.std == STD_FRAC9) {
                    break; /* the layout's fraction reads it */
                }
                size_t n = 2;
                while (is_digit(v[n])) {
                    n++;
                }
                ok = parse_nanos(v, n, &nsec, &range);
                v += n;
            }
            break;
        }
        case STD_PM:
        case STD_PM_LOWER: {
            const char *p_str = c.std == STD_PM ? "PM" : "pm";
            const char *a_str = c.std == STD_PM ? "AM" : "am";

            ok = strlen(v) >= 2;
            if (ok && strncmp(v, p_str, 2) == 0) {
                pm = true;
            } else if (ok && strncmp(v, a_str, 2) == 0) {
                am = true;
            } else {
                ok = false;
            }
            v += ok ? 2 : 0;
            break;
        }
        case STD_TZ: {
            size_t n;

            if (at(v, "UTC")) {
                utc = true;
                v += 3;
                break;
            }
            n = zone_name_len(v);
            ok = n > 0;
            zone_name = v;
            zone_name_n = n;
            v += n;
            break;
        }
        case STD_FRAC0: {
            size_t n = 1 + (size_t)c.digits;

            ok = strlen(v) >= n && parse_nanos(v, n, &nsec, &range);
            v += ok ? n : 0;
            break;
        }
        case STD_FRAC9:
            if ((v[0] == '.' || v[0] == ',') && is_digit(v[1])) {
                size_t n = 1;

                while (is_digit(v[n])) {
                    n++;
                }
                ok = parse_nanos(v, n, &nsec, &range);
                v += n;
            }
            break;
        case STD_NONE:
            break;
        default: /* numeric zones */
            if (is_iso_zone(c.std) && *v == 'Z') {
                v++;
                utc = true;
                break;
            }
            ok = parse_num_zone(&v, c.std, &zone_off);
            has_off = true;
            break;
        }
        if (range != NULL) {
            if (err != NULL) {
                err_msg(err, value, ": ", NULL);
                buf_printf(err, "%s out of range", range);
            }
            return AR_EINVAL;
        }
        if (!ok) {
            return err_cannot(err, value, layout, hold, l, c.len);
        }
        l += c.len;
    }
    if (pm && hour < 12) {
        hour += 12;
    } else if (am && hour == 12) {
        hour = 0;
    }
    if (yday >= 0) {
        int64_t m = 0;
        int64_t d = 0;

        if (gotime_is_leap(year)) {
            if (yday == 31 + 29) {
                m = 2;
                d = 29;
            } else if (yday > 31 + 29) {
                yday--;
            }
        }
        if (yday < 1 || yday > 365) {
            return err_msg(err, value, ": day-of-year out of range", NULL);
        }
        if (m == 0) {
            /* month and day of yday in a year of 365 days */
            int64_t left = yday;

            for (m = 1; left > gotime_days_in((int)m, 1); m++) {
                left -= gotime_days_in((int)m, 1);
            }
            d = left;
        }
        if (month >= 0 && month != m) {
            return err_msg(err, value, ": day-of-year does not match month", NULL);
        }
        month = m;
        if (day >= 0 && day != d) {
            return err_msg(err, value, ": day-of-year does not match day", NULL);
        }
        day = d;
    } else {
        month = month < 0 ? 1 : month;
        day = day < 0 ? 1 : day;
    }
    if (day < 1 || day > gotime_days_in((int)month, year)) {
        return err_msg(err, value, ": day out of range", NULL);
    }
    days = gotime_days_from_civil(year, (int)month, (int)day);
    out->sec = days * 86400 + hour * 3600 + min * 60 + sec;
    out->nsec = (int32_t)nsec;
    out->off = 0;
    snprintf(out->zone, sizeof(out->zone), "UTC");
    if (utc) {
        return AR_OK; /* Z or UTC: the wall clock is UTC, any numeric offset is ignored */
    }
    if (has_off) {
        out->sec -= zone_off;
        out->off = zone_off;
        /* Local (UTC) matches only offset 0 without a name or named UTC */
        if (zone_off != 0 || zone_name != NULL) {
            snprintf(out->zone, sizeof(out->zone), "%.*s", (int)zone_name_n,
                     zone_name != NULL ? zone_name : "");
        }
        return AR_OK;
    }
    if (zone_name != NULL) {
        /* an unknown name: a fixed zone of that name, offset 0 except GMT+h; the wall clock
         * is read as UTC */
        int64_t gmt = 0;

        if (zone_name_n > 3 && at(zone_name, "GMT")) {
            go_atoi(zone_name + 3, zone_name_n - 3, &gmt);
        }
        out->off = (int32_t)(gmt * 3600);
        snprintf(out->zone, sizeof(out->zone), "%.*s", (int)zone_name_n, zone_name);
    }
    return AR_OK;
}

/* Go's time package as far as Alertmanager shows it: the one home for calendar arithmetic
 * (leap years, days in a month, days since the epoch), and for Go reference layouts
 * ("2006-01-02T15:04:05Z07:00"): time.Format and time.Parse with Go's error texts. Used by
 * the templates (date, toDate, tz), the silence API (strfmt.DateTime) and the time
 * intervals. Zones (TZif files) live in ar/tz.h; the API's nanosecond RFC 3339 codec in
 * ar/timefmt.h. No locale, no TZ environment: safe from any thread. */
#ifndef AR_GOTIME_H
#define AR_GOTIME_H

#include "ar/buf.h"
#include "ar/common.h"

/* Go's predefined layouts (package time constants). */
#define GOTIME_LAYOUT       "01/02 03:04:05PM '06 -0700"
#define GOTIME_ANSIC        "Mon Jan _2 15:04:05 2006"
#define GOTIME_UNIX_DATE    "Mon Jan _2 15:04:05 MST 2006"
#define GOTIME_RUBY_DATE    "Mon Jan 02 15:04:05 -0700 2006"
#define GOTIME_RFC822       "02 Jan 06 15:04 MST"
#define GOTIME_RFC822Z      "02 Jan 06 15:04 -0700"
#define GOTIME_RFC850       "Monday, 02-Jan-06 15:04:05 MST"
#define GOTIME_RFC1123      "Mon, 02 Jan 2006 15:04:05 MST"
#define GOTIME_RFC1123Z     "Mon, 02 Jan 2006 15:04:05 -0700"
#define GOTIME_RFC3339      "2006-01-02T15:04:05Z07:00"
#define GOTIME_RFC3339_NANO "2006-01-02T15:04:05.999999999Z07:00"
#define GOTIME_KITCHEN      "3:04PM"
#define GOTIME_STAMP        "Jan _2 15:04:05"
#define GOTIME_STAMP_MILLI  "Jan _2 15:04:05.000"
#define GOTIME_STAMP_MICRO  "Jan _2 15:04:05.000000"
#define GOTIME_STAMP_NANO   "Jan _2 15:04:05.000000000"
#define GOTIME_DATE_TIME    "2006-01-02 15:04:05"
#define GOTIME_DATE_ONLY    "2006-01-02"
#define GOTIME_TIME_ONLY    "15:04:05"

/* Unix seconds of Go's zero time, 0001-01-01T00:00:00Z. */
#define GOTIME_ZERO_SEC (-62135596800LL)

/* ---- proleptic Gregorian calendar ---- */
bool gotime_is_leap(int64_t year);
/* Days in month (1-12) of year. */
int gotime_days_in(int month, int64_t year);
/* Days since 1970-01-01 of a civil date (month 1-12), and back. */
int64_t gotime_days_from_civil(int64_t y, int m, int d);
void gotime_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Weekday of a day count from gotime_days_from_civil: 0 = Sunday. */
unsigned gotime_weekday(int64_t days);

/* ---- layouts ---- */

/* Go's time.Format of the instant sec.nsec (Unix) shown at offset off (seconds east) under
 * zone abbreviation zone ("" prints the numeric offset where the layout has MST). */
int gotime_format(struct buf *b, const char *layout, int64_t sec, int32_t nsec, int32_t off,
                  const char *zone);

/* What gotime_parse read: the instant, and the location Go would attach to it. Go's Local
 * is taken to be UTC: a value without a zone, with "Z", "UTC" or offset 0 and no name is
 * in UTC (zone "UTC"); an offset without a name gives a fixed zone named "". */
struct gotime_parsed {
    int64_t sec;   /* Unix seconds */
    int32_t nsec;  /* 0..999999999 */
    int32_t off;   /* seconds east of UTC of the location */
    char zone[24]; /* the location's abbreviation, "" for an unnamed fixed zone */
};

/* Go's time.Parse(layout, value). On failure returns AR_EINVAL and, when err is not NULL,
 * writes Go's error text (`parsing time "x" as "2006": cannot parse "x" as "2006"`). */
int gotime_parse(const char *layout, const char *value, struct gotime_parsed *out, struct buf *err);

/* Go's time.quote (used in its error texts): "..." with \" \\ and \xNN escapes. */
void gotime_quote(struct buf *b, const char *s, size_t n);

#endif

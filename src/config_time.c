/* Time intervals (COMPAT 7): `time_intervals` / `mute_time_intervals` entries, their
 * validation with Alertmanager's messages, their re-serialisation (times as HH:MM maps,
 * the other ranges as flow lists of names or numbers) and evaluation of an instant
 * against them. Each location's zone is loaded once at config load (ar/tz.h), so
 * evaluation needs no global state and is safe from any thread. */
#include "config_internal.h"

#include "ar/gotime.h"
#include "ar/tz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const weekday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                            "thursday", "friday", "saturday"};
static const char *const month_names[] = {"january",   "february", "march",    "april",
                                          "may",       "june",     "july",     "august",
                                          "september", "october",  "november", "december"};

enum range_kind { RK_WEEKDAY, RK_DOM, RK_MONTH, RK_YEAR };

static bool parse_atoi(const char *s, int *out)
{
    char *end = NULL;
    if (*s == '\0') {
        return false;
    }
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < -1000000 || v > 1000000) {
        return false;
    }
    *out = (int)v;
    return true;
}

static int member(enum range_kind k, const char *s, int *out, char *msg, size_t cap)
{
    switch (k) {
    case RK_WEEKDAY:
        for (int i = 0; i < 7; i++) {
            if (strcmp(s, weekday_names[i]) == 0) {
                *out = i;
                return AR_OK;
            }
        }
        snprintf(msg, cap, "%s is not a valid weekday", s);
        return AR_EINVAL;
    case RK_MONTH:
        for (int i = 0; i < 12; i++) {
            if (strcmp(s, month_names[i]) == 0) {
                *out = i + 1;
                return AR_OK;
            }
        }
        if (!parse_atoi(s, out)) {
            snprintf(msg, cap, "%s is not a valid month", s);
            return AR_EINVAL;
        }
        return AR_OK;
    default:
        if (!parse_atoi(s, out)) {
            snprintf(msg, cap, "strconv.Atoi: parsing \"%s\": invalid syntax", s);
            return AR_EINVAL;
        }
        return AR_OK;
    }
}

/* Parses "a" or "a:b" (lowercased) and validates it as Alertmanager does. */
static int parse_range(enum range_kind k, const char *in, struct ti_range *r, char *msg, size_t cap)
{
    char *s = ar_strdup(in);
    int rc = AR_OK;

    for (char *p = s; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    char *colon = strchr(s, ':');
    if (colon != NULL) {
        if (strchr(colon + 1, ':') != NULL) {
            snprintf(msg, cap, "couldn't parse range %s, invalid format", s);
            free(s);
            return AR_EINVAL;
        }
        *colon = '\0';
        rc = member(k, s, &r->begin, msg, cap);
        if (rc == AR_OK) {
            rc = member(k, colon + 1, &r->end, msg, cap);
        }
        *colon = ':';
    } else {
        rc = member(k, s, &r->begin, msg, cap);
        r->end = r->begin;
    }
    if (rc != AR_OK) {
        free(s);
        return rc;
    }
    switch (k) {
    case RK_WEEKDAY:
        if (r->begin > r->end) {
            snprintf(msg, cap, "start day cannot be before end day");
            rc = AR_EINVAL;
        } else if (r->begin < 0 || r->begin > 6 || r->end < 0 || r->end > 6) {
            snprintf(msg, cap, "%s is not a valid day of the week: out of range", in);
            rc = AR_EINVAL;
        }
        break;
    case RK_DOM: {
        if (r->begin == 0 || r->begin < -31 || r->begin > 31) {
            snprintf(msg, cap, "%d is not a valid day of the month: out of range", r->begin);
            rc = AR_EINVAL;
            break;
        }
        if (r->end == 0 || r->end < -31 || r->end > 31) {
            snprintf(msg, cap, "%d is not a valid day of the month: out of range", r->end);
            rc = AR_EINVAL;
            break;
        }
        if (r->begin < 0 && r->end > 0) {
            snprintf(msg, cap, "end day must be negative if start day is negative");
            rc = AR_EINVAL;
            break;
        }
        int cb = r->begin < 0 ? 28 + r->begin : r->begin;
        int ce = r->end < 0 ? 28 + r->end : r->end;
        if (cb > ce) {
            snprintf(msg, cap, "end day %d is always before start day %d", r->end, r->begin);
            rc = AR_EINVAL;
        }
        break;
    }
    case RK_MONTH:
        if (r->begin > r->end) {
            const char *b = r->begin >= 1 && r->begin <= 12 ? month_names[r->begin - 1] : "";
            const char *e = r->end >= 1 && r->end <= 12 ? month_names[r->end - 1] : "";
            snprintf(msg, cap, "end month %s is before start month %s", e, b);
            rc = AR_EINVAL;
        }
        break;
    case RK_YEAR:
        if (r->begin > r->end) {
            snprintf(msg, cap, "end year %d is before start year %d", r->end, r->begin);
            rc = AR_EINVAL;
        }
        break;
    }
    free(s);
    return rc;
}

/* ^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$) */
static bool parse_hhmm(const char *s, int *mins)
{
    if (strcmp(s, "24:00") == 0) {
        *mins = 24 * 60;
        return true;
    }
    if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4])) {
        return false;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) {
        return false;
    }
    *mins = h * 60 + m;
    return true;
}

static void range_list_add(struct ti_range_list *l, struct ti_range r)
{
    l->v = ar_realloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = r;
}

static int decode_times(struct time_interval_spec *t, const struct ynode *v, struct ctx *c)
{
    t->times.present = true;
    if (ynode_is_null(v)) {
        t->times.present = false;
        return AR_OK;
    }
    if (v->kind != YN_SEQ) {
        return ctx_error(c, v, "cannot unmarshal %s into []timeinterval.TimeRange", ynode_tag(v));
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *item = v->items[i];
        size_t old = ctx_push_index(c, i);
        char *start = NULL;
        char *end = NULL;
        int rc = AR_OK;
        if (item->kind != YN_MAP && !ynode_is_null(item)) {
            rc = ctx_error(c, item, "cannot unmarshal %s into timeinterval.yamlTimeRange",
                           ynode_tag(item));
        }
        for (size_t j = 0; rc == AR_OK && item->kind == YN_MAP && j < item->n; j++) {
            const struct ynode *k = ynode_key(item, j);
            char **dst = NULL;
            if (k->kind == YN_SCALAR && strcmp(k->value, "start_time") == 0) {
                dst = &start;
            } else if (k->kind == YN_SCALAR && strcmp(k->value, "end_time") == 0) {
                dst = &end;
            } else {
                rc = ctx_error(c, k, "field %s not found in type timeinterval.yamlTimeRange",
                               k->kind == YN_SCALAR ? k->value : "?");
                break;
            }
            free(*dst);
            *dst = NULL;
            rc = scalar_string(ynode_val(item, j), c, dst);
        }
        struct ti_range r = {0, 0};
        if (rc == AR_OK && (start == NULL || end == NULL || !*start || !*end)) {
            rc = ctx_error(c, item, "both start and end times must be provided");
        }
        if (rc == AR_OK && !parse_hhmm(start, &r.begin)) {
            rc = ctx_error(c, item, "couldn't parse timestamp %s, invalid format", start);
        }
        if (rc == AR_OK && !parse_hhmm(end, &r.end)) {
            rc = ctx_error(c, item, "couldn't parse timestamp %s, invalid format", end);
        }
        if (rc == AR_OK && r.begin >= r.end) {
            rc = ctx_error(c, item, "start time cannot be equal or greater than end time");
        }
        free(start);
        free(end);
        ctx_pop(c, old);
        if (rc != AR_OK) {
            return rc;
        }
        range_list_add(&t->times, r);
    }
    return AR_OK;
}

static int decode_ranges(enum range_kind k, struct ti_range_list *l, const struct ynode *v,
                         struct ctx *c)
{
    static const char *const types[] = {"[]timeinterval.WeekdayRange",
                                        "[]timeinterval.DayOfMonthRange",
                                        "[]timeinterval.MonthRange", "[]timeinterval.YearRange"};
    if (ynode_is_null(v)) {
        return AR_OK;
    }
    if (v->kind != YN_SEQ) {
        return ctx_error(c, v, "cannot unmarshal %s into %s", ynode_tag(v), types[k]);
    }
    l->present = true;
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *item = v->items[i];
        size_t old = ctx_push_index(c, i);
        char msg[256];
        struct ti_range r;
        int rc = AR_OK;
        if (item->kind != YN_SCALAR) {
            rc = ctx_error(c, item, "cannot unmarshal %s into string", ynode_tag(item));
        } else if (parse_range(k, item->value, &r, msg, sizeof(msg)) != AR_OK) {
            rc = ctx_error(c, item, "%s", msg);
        }
        ctx_pop(c, old);
        if (rc != AR_OK) {
            return rc;
        }
        range_list_add(l, r);
    }
    return AR_OK;
}

static void spec_cleanup(void *obj)
{
    struct time_interval_spec *t = obj;
    free(t->times.v);
    free(t->weekdays.v);
    free(t->days_of_month.v);
    free(t->months.v);
    free(t->years.v);
    free(t->location);
    tz_free(t->tz);
    memset(t, 0, sizeof(*t));
}

static int spec_decode(void *obj, const struct ynode *node, struct ctx *c)
{
    struct time_interval_spec *t = obj;
    int rc = AR_OK;

    if (ynode_is_null(node)) {
        return AR_OK;
    }
    if (node->kind != YN_MAP) {
        return ctx_error(c, node, "cannot unmarshal %s into timeinterval.TimeInterval",
                         ynode_tag(node));
    }
    for (size_t i = 0; i < node->n && rc == AR_OK; i++) {
        const struct ynode *k = ynode_key(node, i);
        const struct ynode *v = ynode_val(node, i);
        const char *key = k->kind == YN_SCALAR ? k->value : "?";
        size_t old = ctx_push_key(c, key);
        if (strcmp(key, "times") == 0) {
            rc = decode_times(t, v, c);
        } else if (strcmp(key, "weekdays") == 0) {
            rc = decode_ranges(RK_WEEKDAY, &t->weekdays, v, c);
        } else if (strcmp(key, "days_of_month") == 0) {
            rc = decode_ranges(RK_DOM, &t->days_of_month, v, c);
        } else if (strcmp(key, "months") == 0) {
            rc = decode_ranges(RK_MONTH, &t->months, v, c);
        } else if (strcmp(key, "years") == 0) {
            rc = decode_ranges(RK_YEAR, &t->years, v, c);
        } else if (strcmp(key, "location") == 0) {
            char *s = NULL;
            struct tz_data *tz = NULL;
            rc = scalar_string(v, c, &s);
            if (rc == AR_OK && s != NULL) {
                tz = tz_load(s);
                if (tz == NULL) {
                    rc = ctx_error(c, v, "unknown time zone %s", s);
                }
            }
            if (rc == AR_OK) {
                free(t->location);
                tz_free(t->tz);
                t->location = s;
                t->tz = tz;
                s = NULL;
                tz = NULL;
            }
            tz_free(tz);
            free(s);
        } else {
            ctx_pop(c, old);
            return ctx_error(c, k, "field %s not found in type timeinterval.TimeInterval", key);
        }
        ctx_pop(c, old);
    }
    return rc;
}

static void emit_range_list(struct emitter *e, const char *key, const struct ti_range_list *l,
                            enum range_kind k)
{
    char tmp[64];

    if (l->n == 0) {
        return;
    }
    emit_str(e, key);
    emit_seq_start(e, true);
    for (size_t i = 0; i < l->n; i++) {
        const struct ti_range *r = &l->v[i];
        if (k == RK_WEEKDAY) {
            if (r->begin == r->end) {
                snprintf(tmp, sizeof(tmp), "%s", weekday_names[r->begin]);
            } else {
                snprintf(tmp, sizeof(tmp), "%s:%s", weekday_names[r->begin], weekday_names[r->end]);
            }
        } else if (r->begin == r->end) {
            snprintf(tmp, sizeof(tmp), "%d", r->begin);
        } else {
            snprintf(tmp, sizeof(tmp), "%d:%d", r->begin, r->end);
        }
        emit_str(e, tmp);
    }
    emit_seq_end(e);
}

static void spec_dump(struct emitter *e, const void *obj)
{
    const struct time_interval_spec *t = obj;
    char tmp[16];

    emit_map_start(e, false);
    if (t->times.n > 0) {
        emit_str(e, "times");
        emit_seq_start(e, false);
        for (size_t i = 0; i < t->times.n; i++) {
            emit_map_start(e, false);
            emit_str(e, "start_time");
            snprintf(tmp, sizeof(tmp), "%02d:%02d", t->times.v[i].begin / 60,
                     t->times.v[i].begin % 60);
            emit_str(e, tmp);
            emit_str(e, "end_time");
            snprintf(tmp, sizeof(tmp), "%02d:%02d", t->times.v[i].end / 60, t->times.v[i].end % 60);
            emit_str(e, tmp);
            emit_map_end(e);
        }
        emit_seq_end(e);
    }
    emit_range_list(e, "weekdays", &t->weekdays, RK_WEEKDAY);
    emit_range_list(e, "days_of_month", &t->days_of_month, RK_DOM);
    emit_range_list(e, "months", &t->months, RK_MONTH);
    emit_range_list(e, "years", &t->years, RK_YEAR);
    if (t->location != NULL) {
        emit_str(e, "location");
        emit_str(e, t->location[0] ? t->location : "UTC");
    }
    emit_map_end(e);
}

static const struct field spec_fields[] = {
    {"times", FT_STR, 0, 0, NULL, NULL}, /* placeholder: decoded by spec_decode */
};
static const struct table spec_table = {"timeinterval.TimeInterval",
                                        sizeof(struct time_interval_spec),
                                        spec_fields,
                                        0,
                                        NULL,
                                        spec_decode,
                                        spec_dump,
                                        spec_cleanup};

static int interval_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct time_interval *t = obj;
    if (t->name == NULL || t->name[0] == '\0') {
        return ctx_error(c, n, "missing name in time interval");
    }
    return AR_OK;
}

static int mute_interval_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct time_interval *t = obj;
    t->is_mute_spelling = true;
    if (t->name == NULL || t->name[0] == '\0') {
        return ctx_error(c, n, "missing name in mute time interval");
    }
    return AR_OK;
}

static const struct field interval_fields[] = {
    FIELD(struct time_interval, "name", name, FT_STR, 0, NULL),
    SUBFIELD(struct time_interval, "time_intervals", time_intervals, FT_LIST, 0, &spec_table),
};
const struct table time_interval_table =
    TABLE("config.plain", struct time_interval, interval_fields, interval_check);
const struct table mute_time_interval_table =
    TABLE("config.plain", struct time_interval, interval_fields, mute_interval_check);

/* ---- evaluation --------------------------------------------------------------------------- */

/* Broken-down local time of t in the spec's zone (UTC without a location). */
static void to_local(const struct time_interval_spec *spec, int64_t t, struct tm *out)
{
    time_t shifted = (time_t)(t + (spec->tz != NULL ? tz_offset(spec->tz, t) : 0));
    gmtime_r(&shifted, out);
}

static int clampi(int n, int lo, int hi)
{
    return n <= lo ? lo : (n >= hi ? hi : n);
}

bool time_interval_spec_contains(const struct time_interval_spec *spec, int64_t unix_s)
{
    struct tm tm;
    bool in;

    to_local(spec, unix_s, &tm);
    if (spec->times.present) {
        int minute = tm.tm_hour * 60 + tm.tm_min;
        in = false;
        for (size_t i = 0; i < spec->times.n && !in; i++) {
            in = minute >= spec->times.v[i].begin && minute < spec->times.v[i].end;
        }
        if (!in) {
            return false;
        }
    }
    if (spec->days_of_month.present) {
        int dim = gotime_days_in(tm.tm_mon + 1, tm.tm_year + 1900);
        in = false;
        for (size_t i = 0; i < spec->days_of_month.n && !in; i++) {
            const struct ti_range *r = &spec->days_of_month.v[i];
            int begin = r->begin < 0 ? dim + r->begin + 1 : r->begin;
            int end = r->end < 0 ? dim + r->end + 1 : r->end;
            if (begin > dim) {
                continue;
            }
            begin = clampi(begin, -dim, dim);
            end = clampi(end, -dim, dim);
            in = tm.tm_mday >= begin && tm.tm_mday <= end;
        }
        if (!in) {
            return false;
        }
    }
    if (spec->months.present) {
        in = false;
        for (size_t i = 0; i < spec->months.n && !in; i++) {
            in = tm.tm_mon + 1 >= spec->months.v[i].begin && tm.tm_mon + 1 <= spec->months.v[i].end;
        }
        if (!in) {
            return false;
        }
    }
    if (spec->weekdays.present) {
        in = false;
        for (size_t i = 0; i < spec->weekdays.n && !in; i++) {
            in = tm.tm_wday >= spec->weekdays.v[i].begin && tm.tm_wday <= spec->weekdays.v[i].end;
        }
        if (!in) {
            return false;
        }
    }
    if (spec->years.present) {
        in = false;
        int year = tm.tm_year + 1900;
        for (size_t i = 0; i < spec->years.n && !in; i++) {
            in = year >= spec->years.v[i].begin && year <= spec->years.v[i].end;
        }
        if (!in) {
            return false;
        }
    }
    return true;
}

bool time_interval_contains(const struct time_interval *ti, int64_t unix_s)
{
    for (size_t i = 0; i < ti->time_intervals.n; i++) {
        if (ti->time_intervals.v[i] != NULL &&
            time_interval_spec_contains(ti->time_intervals.v[i], unix_s)) {
            return true;
        }
    }
    return false;
}

/* Unit tests for alerts: RFC 3339 times, Alertmanager's merge rule (COMPAT 2.3), the
 * fingerprint-keyed alert store. */
#include "ar/alert.h"
#include "ar/alert_store.h"
#include "ar/json_out.h"
#include "ar/timefmt.h"
#include "check.h"

#include <stdlib.h>

#define S(x) ((int64_t)(x)*1000000000LL)

static void test_time(void)
{
    int64_t ns;
    int16_t off;
    char out[40];

    CHECK_INT(time_parse_rfc3339("2026-11-27T09:21:50.201Z", 24, &ns, &off), AR_OK);
    time_format_rfc3339_ms(ns, off, out);
    CHECK_STR(out, "2026-11-27T09:21:50.201Z");
    CHECK_INT(time_parse_rfc3339("2026-01-01T00:00:00+02:00", 25, &ns, &off), AR_OK);
    CHECK_INT(off, 120);
    time_format_rfc3339_ms(ns, off, out);
    CHECK_STR(out, "2026-01-01T00:00:00.000+02:00");
    time_format_rfc3339_ms(ns, 0, out);
    CHECK_STR(out, "2025-12-31T22:00:00.000Z");
    /* nanoseconds are truncated to milliseconds, as Go formats */
    CHECK_INT(time_parse_rfc3339("2026-11-27T09:21:50.201999999Z", 30, &ns, &off), AR_OK);
    time_format_rfc3339_ms(ns, off, out);
    CHECK_STR(out, "2026-11-27T09:21:50.201Z");
    CHECK_INT(time_parse_rfc3339("0001-01-01T00:00:00Z", 20, &ns, &off), AR_OK);
    CHECK(ns == AR_TIME_UNSET);
    CHECK_INT(time_parse_rfc3339("0001-01-01T00:00:00.000Z", 24, &ns, &off), AR_OK);
    CHECK(ns == AR_TIME_UNSET);
    CHECK_INT(time_parse_rfc3339("1969-12-31T23:59:59.5Z", 22, &ns, &off), AR_OK);
    CHECK(ns == -500000000LL);
    time_format_rfc3339_ms(ns, 0, out);
    CHECK_STR(out, "1969-12-31T23:59:59.500Z");
    CHECK_INT(time_parse_rfc3339("2026-02-30T00:00:00Z", 20, &ns, &off), AR_EINVAL);
    CHECK_INT(time_parse_rfc3339("2026-01-01", 10, &ns, &off), AR_EINVAL);
    CHECK_INT(time_parse_rfc3339("2026-01-01T00:00:00", 19, &ns, &off), AR_EINVAL);
    CHECK_INT(time_parse_rfc3339("2026-01-01T00:00:00Zjunk", 24, &ns, &off), AR_EINVAL);
    CHECK_INT(time_parse_rfc3339("2024-02-29T00:00:00+0530", 24, &ns, &off), AR_OK);
    CHECK_INT(off, 330);
    /* payload form: nanoseconds, trailing zeros trimmed, Go's zero time for unset */
    CHECK_INT(time_parse_rfc3339("2026-11-27T09:21:50.201460419Z", 30, &ns, &off), AR_OK);
    time_format_rfc3339_nano(ns, off, out);
    CHECK_STR(out, "2026-11-27T09:21:50.201460419Z");
    CHECK_INT(time_parse_rfc3339("2026-11-27T09:21:50.2Z", 22, &ns, &off), AR_OK);
    time_format_rfc3339_nano(ns, off, out);
    CHECK_STR(out, "2026-11-27T09:21:50.2Z");
    CHECK_INT(time_parse_rfc3339("2026-11-27T09:21:50+02:00", 25, &ns, &off), AR_OK);
    time_format_rfc3339_nano(ns, off, out);
    CHECK_STR(out, "2026-11-27T09:21:50+02:00");
    time_format_rfc3339_nano(AR_TIME_UNSET, 0, out);
    CHECK_STR(out, "0001-01-01T00:00:00Z");
}

static struct alert *mk(int64_t starts, int64_t ends, int64_t updated, bool timeout,
                        const char *note)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", "x");
    labelset_set(&a->annotations, "note", note);
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = starts;
    a->ends_at = ends;
    a->updated_at = updated;
    a->timeout = timeout;
    return a;
}

static void test_merge(void)
{
    struct alert *old;
    struct alert *nw;
    struct alert *res;

    /* overlapping re-post of a firing alert: earliest start, newest annotations, newer end */
    old = mk(S(100), S(400), S(100), true, "v1");
    nw = mk(S(200), S(500), S(200), true, "v2");
    res = alert_merge(old, nw, S(200));
    CHECK(res->starts_at == S(100));
    CHECK(res->ends_at == S(500));
    CHECK_STR(labelset_get(&res->annotations, "note"), "v2");
    CHECK(res->updated_at == S(200));
    alert_unref(res);
    alert_unref(nw);

    /* resolve posted for a firing alert keeps the original start */
    nw = mk(S(250), S(250), S(250), false, "v3");
    res = alert_merge(old, nw, S(250));
    CHECK(res->starts_at == S(100));
    CHECK(res->ends_at == S(250));
    alert_unref(res);
    alert_unref(nw);
    alert_unref(old);

    /* no overlap (fires again after its end): replaced, new start (reactivation) */
    old = mk(S(100), S(150), S(150), false, "v1");
    nw = mk(S(300), S(600), S(300), true, "v2");
    res = alert_merge(old, nw, S(300));
    CHECK(res->starts_at == S(300));
    CHECK(res->ends_at == S(600));
    alert_unref(res);
    alert_unref(nw);
    alert_unref(old);

    /* firing newer alert keeps an explicit later end of the older one ... */
    old = mk(S(100), S(900), S(100), false, "v1");
    nw = mk(S(100), S(500), S(200), true, "v2");
    res = alert_merge(old, nw, S(200));
    CHECK(res->ends_at == S(900));
    alert_unref(res);
    alert_unref(old);
    /* ... but not a guessed (timeout) one */
    old = mk(S(100), S(900), S(100), true, "v1");
    res = alert_merge(old, nw, S(200));
    CHECK(res->ends_at == S(500));
    alert_unref(res);
    alert_unref(nw);
    alert_unref(old);

    /* an older update never wins: merge picks the later updatedAt as the base */
    old = mk(S(100), S(900), S(300), false, "new");
    nw = mk(S(150), S(800), S(200), false, "stale");
    res = alert_merge(old, nw, S(300));
    CHECK_STR(labelset_get(&res->annotations, "note"), "new");
    CHECK(res->starts_at == S(100));
    alert_unref(res);
    alert_unref(nw);
    alert_unref(old);
}

static void test_store(void)
{
    struct alert_store *s = alert_store_new();
    struct alert *a;
    size_t n = 0;
    char name[32];

    for (int i = 0; i < 5000; i++) {
        a = alert_new();
        snprintf(name, sizeof(name), "a%d", i);
        labelset_set(&a->labels, "alertname", name);
        a->fp = labelset_fingerprint(&a->labels);
        alert_store_put_take(s, a);
    }
    CHECK_INT(alert_store_count(s), 5000);
    for (int i = 0; i < 5000; i += 2) {
        struct labelset ls;
        labelset_init(&ls);
        snprintf(name, sizeof(name), "a%d", i);
        labelset_set(&ls, "alertname", name);
        CHECK(alert_store_remove(s, labelset_fingerprint(&ls)));
        labelset_cleanup(&ls);
    }
    CHECK_INT(alert_store_count(s), 2500);
    for (int i = 1; i < 5000; i += 2) {
        struct labelset ls;
        labelset_init(&ls);
        snprintf(name, sizeof(name), "a%d", i);
        labelset_set(&ls, "alertname", name);
        a = alert_store_find(s, labelset_fingerprint(&ls));
        CHECK(a != NULL && labelset_equal(&a->labels, &ls));
        labelset_cleanup(&ls);
    }
    for (size_t it = 0; alert_store_next(s, &it) != NULL;) {
        n++;
    }
    CHECK_INT(n, 2500);
    alert_store_free(s);
}

static void test_json(void)
{
    struct buf b;

    buf_init(&b, 0);
    json_put_cstr(&b, "a\"b\\c\n<tag>&\x01\xe2\x80\xa8\xc3\xa9");
    CHECK_STR(buf_str(&b), "\"a\\\"b\\\\c\\n\\u003ctag\\u003e\\u0026\\u0001\\u2028\xc3\xa9\"");
    buf_cleanup(&b);
}

int main(void)
{
    test_time();
    test_merge();
    test_store();
    test_json();
    return CHECK_DONE();
}

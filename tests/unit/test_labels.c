/* Unit tests for label sets: fingerprints (COMPAT 2.2), order (COMPAT 2.7), validation. */
#include "ar/labels.h"
#include "check.h"

#include <stdlib.h>

static void test_fingerprints(void)
{
    struct labelset ls;
    char fp[17];

    labelset_init(&ls);
    fingerprint_format(labelset_fingerprint(&ls), fp);
    CHECK_STR(fp, "cbf29ce484222325");
    labelset_set(&ls, "alertname", "monitor_service_down");
    fingerprint_format(labelset_fingerprint(&ls), fp);
    CHECK_STR(fp, "32ada29572191a25");
    /* insertion order must not matter */
    labelset_set(&ls, "severity", "critical");
    labelset_set(&ls, "job", "cadvisor");
    labelset_set(&ls, "monitor", "docker-host-alpha");
    labelset_set(&ls, "instance", "cadvisor:8080");
    fingerprint_format(labelset_fingerprint(&ls), fp);
    CHECK_STR(fp, "e960cfc9079ae255");
    uint64_t back = 0;
    CHECK_INT(fingerprint_parse(fp, &back), AR_OK);
    CHECK(back == labelset_fingerprint(&ls));
    CHECK_INT(fingerprint_parse("xyz", &back), AR_EINVAL);
    labelset_cleanup(&ls);
}

static void test_set_get_remove(void)
{
    struct labelset ls;
    struct labelset copy;

    labelset_init(&ls);
    labelset_set(&ls, "b", "2");
    labelset_set(&ls, "a", "1");
    labelset_set(&ls, "b", "3");
    CHECK_INT(ls.n, 2);
    CHECK_STR(ls.v[0].name, "a");
    CHECK_STR(labelset_get(&ls, "b"), "3");
    CHECK(labelset_get(&ls, "c") == NULL);
    labelset_dup(&copy, &ls);
    CHECK(labelset_equal(&copy, &ls));
    labelset_pack(&ls);
    CHECK(ls.packed);
    CHECK(labelset_equal(&copy, &ls));
    CHECK_STR(labelset_get(&ls, "a"), "1");
    {
        struct labelset copy2;
        labelset_dup(&copy2, &ls); /* a packed set copies as one block */
        CHECK(copy2.packed);
        CHECK(labelset_equal(&copy2, &ls));
        CHECK(copy2.v[0].name != ls.v[0].name);
        labelset_cleanup(&copy2);
    }
    labelset_remove(&ls, "a"); /* unpacks transparently */
    CHECK_INT(ls.n, 1);
    labelset_pack(&ls);
    labelset_set(&ls, "z", "9");
    CHECK_INT(ls.n, 2);
    CHECK_STR(labelset_get(&ls, "b"), "3");
    CHECK(!labelset_equal(&copy, &ls));
    labelset_cleanup(&ls);
    labelset_cleanup(&copy);
}

static void test_order(void)
{
    struct labelset a;
    struct labelset b;

    labelset_init(&a);
    labelset_init(&b);
    labelset_set(&a, "x", "1");
    labelset_set(&b, "x", "1");
    labelset_set(&b, "y", "1");
    CHECK(labelset_compare(&a, &b) < 0); /* fewer labels first */
    labelset_set(&a, "z", "1");          /* {x,z} vs {x,y}: a lacks y, the first union name */
    CHECK(labelset_compare(&a, &b) < 0);
    CHECK(labelset_compare(&b, &a) > 0);
    labelset_remove(&a, "z");
    labelset_set(&a, "y", "0");
    CHECK(labelset_compare(&a, &b) < 0); /* values decide */
    labelset_set(&a, "y", "1");
    CHECK_INT(labelset_compare(&a, &b), 0);
    labelset_cleanup(&a);
    labelset_cleanup(&b);
}

static void test_validation(void)
{
    CHECK(label_name_is_classic("alertname"));
    CHECK(label_name_is_classic("_x9"));
    CHECK(!label_name_is_classic("bad-name"));
    CHECK(!label_name_is_classic("9a"));
    CHECK(!label_name_is_classic(""));
    CHECK(utf8_is_valid("h\xc3\xa9llo", 6));
    CHECK(!utf8_is_valid("\xc3", 1));
    CHECK(!utf8_is_valid("\xc0\xaf", 2));        /* overlong */
    CHECK(!utf8_is_valid("\xed\xa0\x80", 3));    /* surrogate */
    CHECK(utf8_is_valid("\xf0\x9f\x94\xa5", 4)); /* emoji */
}

int main(void)
{
    test_fingerprints();
    test_set_get_remove();
    test_order();
    test_validation();
    return CHECK_DONE();
}

/* Unit tests for POST /api/v2/alerts decoding: the error shapes and messages Alertmanager
 * 0.25 gives for each malformed body (observed on the real server), defaulting and
 * validation (COMPAT 1.3). */
#include "ar/ingest.h"
#include "ar/timefmt.h"
#include "check.h"

#include <string.h>

#define NOW (1764406800LL * 1000000000LL) /* 2025-11-29T09:00:00Z */
#define RT  (300LL * 1000000000LL)

struct shape_case {
    const char *body;
    int status;
    const char *body_out; /* expected JSON body */
};

static const struct shape_case shape_cases[] = {
    {"", 422, "{\"code\":602,\"message\":\"alerts in body is required\"}"},
    {"[", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because unexpected "
     "EOF\"}"},
    {"{}", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal object into Go value of type models.PostableAlerts\"}"},
    {"\"x\"", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal string into Go value of type models.PostableAlerts\"}"},
    {"[{\"labels\":{\"a\":1}}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal number into Go struct field Alert.labels of type string\"}"},
    {"[{\"labels\":\"x\"}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal string into Go struct field Alert.labels of type models.LabelSet\"}"},
    {"[{\"labels\":[]}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal array into Go struct field Alert.labels of type models.LabelSet\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":1}}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal number into Go struct field .annotations of type string\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"startsAt\":5}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal number into Go struct field .startsAt of type string\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":5}]", 400,
     "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
     "unmarshal number into Go struct field Alert.generatorURL of type string\"}"},
    {"[{\"annotations\":{}}]", 422, "{\"code\":602,\"message\":\"0.labels in body is required\"}"},
    {"[{\"labels\":{\"a\":\"b\"}},{}]", 422,
     "{\"code\":602,\"message\":\"1.labels in body is required\"}"},
    {"[{\"labels\":null}]", 422, "{\"code\":602,\"message\":\"0.labels in body is required\"}"},
    {"[null]", 422, "{\"code\":602,\"message\":\"0.labels in body is required\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"::bad\"}]", 422,
     "{\"code\":601,\"message\":\"0.generatorURL in body must be of type uri: \\\"::bad\\\"\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"foo\"}]", 422,
     "{\"code\":601,\"message\":\"0.generatorURL in body must be of type uri: \\\"foo\\\"\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"http://x:y/\"}]", 422,
     "{\"code\":601,\"message\":\"0.generatorURL in body must be of type uri: "
     "\\\"http://x:y/\\\"\"}"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"a b\"}]", 422,
     "{\"code\":601,\"message\":\"0.generatorURL in body must be of type uri: \\\"a b\\\"\"}"},
    /* accepted shapes */
    {"null", 0, ""},
    {"[]", 0, ""},
    {"[{\"labels\":{\"a\":\"b\"}}] trailing", 0, ""},
    {"[{\"Labels\":{\"a\":\"b\"}}]", 0, ""},
    {"[{\"labels\":{\"a\":\"b\"},\"unknown\":{\"x\":[1,{\"y\":2}]},\"annotations\":null}]", 0, ""},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"http://prometheus:9090/"
     "graph?g0.expr=up%3D%3D0\"}]",
     0, ""},
};

static void test_shapes(void)
{
    struct ingest_limits lim = {0};

    for (size_t i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
        const struct shape_case *c = &shape_cases[i];
        struct ingest_result r;
        ingest_result_init(&r);
        ingest_parse(c->body, strlen(c->body), NOW, RT, &lim, &r);
        if (r.shape_status != c->status) {
            fprintf(stderr, "case %zu: %s\n", i, c->body);
        }
        CHECK_INT(r.shape_status, c->status);
        CHECK_STR(buf_str(&r.shape_body), c->body_out);
        ingest_result_cleanup(&r);
    }
}

static void test_validation(void)
{
    struct ingest_limits lim = {0};
    struct ingest_result r;
    const char *body =
        "[{\"labels\":{\"bad-name\":\"x\"}},"
        "{\"labels\":{\"a\":\"\"}},"
        "{\"labels\":{\"a\":\"b\"},\"startsAt\":\"2021-01-01T00:00:00Z\","
        "\"endsAt\":\"2020-01-01T00:00:00Z\"},"
        "{\"labels\":{}},"
        "{\"labels\":{\"alertname\":\"ok\",\"empty\":\"\"},\"annotations\":{\"s\":\"v\"}}]";

    ingest_result_init(&r);
    ingest_parse(body, strlen(body), NOW, RT, &lim, &r);
    CHECK_INT(r.shape_status, 0);
    /* COMPAT: the exact 0.25 reply for these four bad alerts */
    CHECK_STR(buf_str(&r.errors),
              "invalid label set: invalid name \"bad-name\"; at least one label pair required; "
              "start time must be before end time; at least one label pair required");
    CHECK_INT(r.nalerts, 1);
    CHECK_INT(r.ninvalid, 4);
    if (r.nalerts == 1) {
        struct alert *a = r.alerts[0];
        CHECK_INT(a->labels.n, 1); /* empty-valued label dropped */
        CHECK(a->starts_at == NOW);
        CHECK(a->ends_at == NOW + RT);
        CHECK(a->timeout);
        CHECK(a->updated_at == NOW);
    }
    ingest_result_cleanup(&r);
}

static void test_defaults(void)
{
    struct ingest_limits lim = {0};
    struct ingest_result r;
    char out[40];
    const char *body = "[{\"labels\":{\"a\":\"1\"},\"endsAt\":\"2025-11-29T08:00:00+02:00\"},"
                       "{\"labels\":{\"a\":\"2\"},\"startsAt\":\"0001-01-01T00:00:00.000Z\","
                       "\"endsAt\":\"0001-01-01T00:00:00.000Z\"}]";

    ingest_result_init(&r);
    ingest_parse(body, strlen(body), NOW, RT, &lim, &r);
    CHECK_INT(r.nalerts, 2);
    CHECK_INT(r.nresolved, 1);
    CHECK_INT(r.nfiring, 1);
    if (r.nalerts == 2) {
        /* startsAt defaults to endsAt when only endsAt is given, keeping its offset */
        time_format_rfc3339_ms(r.alerts[0]->starts_at, r.alerts[0]->starts_off_min, out);
        CHECK_STR(out, "2025-11-29T08:00:00.000+02:00");
        CHECK(!r.alerts[0]->timeout);
        /* Go's zero time means unset (amtool sends it) */
        CHECK(r.alerts[1]->starts_at == NOW);
        CHECK(r.alerts[1]->timeout);
    }
    ingest_result_cleanup(&r);
}

static void test_limits(void)
{
    struct ingest_limits lim = {.max_alerts = 2, .max_labels = 2, .max_label_value_bytes = 8};
    struct ingest_result r;
    const char *three = "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"2\"}},"
                        "{\"labels\":{\"a\":\"3\"}}]";
    const char *labels = "[{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}]";
    const char *longv = "[{\"labels\":{\"a\":\"123456789\"}}]";

    ingest_result_init(&r);
    ingest_parse(three, strlen(three), NOW, RT, &lim, &r);
    CHECK_INT(r.shape_status, 400);
    CHECK(strstr(buf_str(&r.shape_body), "too many alerts") != NULL);
    ingest_result_cleanup(&r);
    ingest_result_init(&r);
    ingest_parse(labels, strlen(labels), NOW, RT, &lim, &r);
    CHECK_INT(r.shape_status, 400);
    CHECK(strstr(buf_str(&r.shape_body), "more than 2 labels") != NULL);
    ingest_result_cleanup(&r);
    ingest_result_init(&r);
    ingest_parse(longv, strlen(longv), NOW, RT, &lim, &r);
    CHECK_INT(r.shape_status, 400);
    CHECK(strstr(buf_str(&r.shape_body), "longer than 8 bytes") != NULL);
    ingest_result_cleanup(&r);
}

static void test_invalid_utf8(void)
{
    struct ingest_limits lim = {0};
    struct ingest_result r;
    const char *body = "[{\"labels\":{\"a\":\"\xff\"}}]";

    ingest_result_init(&r);
    ingest_parse(body, strlen(body), NOW, RT, &lim, &r);
    CHECK_INT(r.shape_status, 400);
    CHECK(strstr(buf_str(&r.shape_body), "UTF-8") != NULL);
    ingest_result_cleanup(&r);
}

int main(void)
{
    test_shapes();
    test_validation();
    test_defaults();
    test_limits();
    test_invalid_utf8();
    return CHECK_DONE();
}

/* Email notifier tests: message bytes for a fixed boundary, Message-Id and Date; Go's
 * quoted-printable writer and RFC 2047 Q encoding cases; header key canonicalisation;
 * address lists; rendering of the seed alert (subject as COMPAT 8.6); the worker pool's
 * done() contract for final errors and for jobs cancelled by a stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/notifier_email.h"
#include "ar/notify.h"
#include "check.h"

static char *qp(const char *s)
{
    struct buf b;

    buf_init(&b, 0);
    email_qp_encode(s, strlen(s), &b);
    return buf_take(&b);
}

static char *qenc(const char *s)
{
    struct buf b;

    buf_init(&b, 0);
    email_q_encode(s, &b);
    return buf_take(&b);
}

static void test_qp(void)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"hello world", "hello world"},
        {"a=b", "a=3Db"},
        {"trailing space \nx", "trailing space=20\r\nx"},
        {"tab at end\t", "tab at end=09"},
        {"line1\nline2\r\nline3\rline4", "line1\r\nline2\r\nline3\r\nline4"},
        {"\xc3\xa4", "=C3=A4"},
        {"", ""},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\r\naaaaa"},
        /* an encoded byte that would pass column 75 moves to the next line */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\r\n=3D"},
        {"<a href=\"x\">", "<a href=3D\"x\">"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = qp(cases[i].in);

        CHECK_STR(got, cases[i].want);
        free(got);
    }
}

static void test_q_encode(void)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"plain ascii [FIRING:1]", "plain ascii [FIRING:1]"},
        {"tab\tok", "tab\tok"},
        {"Gr\xc3\xbc\xc3\x9f\x65", "=?utf-8?q?Gr=C3=BC=C3=9Fe?="},
        {"a b_\xc3\xbc?=", "=?utf-8?q?a_b=5F=C3=BC=3F=3D?="},
        {"new\nline", "=?utf-8?q?new=0Aline?="},
        /* 63 bytes of content per word; a rune is never split */
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9",
         "=?utf-8?q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= "
         "=?utf-8?q?=C3=A9=C3=A9?="},
        {"\xff", "=?utf-8?q?=FF?="},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = qenc(cases[i].in);

        CHECK_STR(got, cases[i].want);
        free(got);
    }
}

static void test_canonical(void)
{
    static const char *const cases[][2] = {
        {"x-custom", "X-Custom"},
        {"MESSAGE-ID", "Message-Id"},
        {"subject", "Subject"},
        {"x_y", "x_y"},
        {"content-TYPE", "Content-Type"},
        {"a--b", "A--B"},
        {"", ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];

        email_canonical_key(cases[i][0], out, sizeof(out));
        CHECK_STR(out, cases[i][1]);
    }
}

static void test_addresses(void)
{
    char **v = NULL;
    size_t n = 0;
    struct ar_error err;

    CHECK_INT(email_parse_addresses("Alertmanager <am@example.org>", &v, &n, &err), AR_OK);
    CHECK_INT(n, 1);
    CHECK_STR(v[0], "am@example.org");
    free(v[0]);
    free(v);
    CHECK_INT(
        email_parse_addresses("ops@example.org, \"Dev, Team\" <dev@example.org>", &v, &n, &err),
        AR_OK);
    CHECK_INT(n, 2);
    CHECK_STR(v[0], "ops@example.org");
    CHECK_STR(v[1], "dev@example.org");
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
    CHECK_INT(email_parse_addresses("", &v, &n, &err), AR_EINVAL);
    CHECK_STR(err.msg, "mail: no address");
    CHECK_INT(email_parse_addresses("nope", &v, &n, &err), AR_EINVAL);
    CHECK_STR(err.msg, "mail: missing @ in addr-spec");
}

static void test_message(void)
{
    struct notify_header h[] = {
        {(char *)"To", (char *)"ops@example.org, dev@example.org"},
        {(char *)"From", (char *)"Alertmanager <am@example.org>"},
        {(char *)"X-Greeting", (char *)"Gr\xc3\xbc\xc3\x9f\x65"},
        {(char *)"Subject", (char *)"[FIRING:1] x"},
    };
    struct email_message_opts o = {"BOUND", "<1795771411644832213.4681410852236451853@host>",
                                   "Fri, 27 Nov 2026 09:23:31 +0000"};
    struct buf b;

    buf_init(&b, 0);
    CHECK_INT(email_message_build(h, 4, "hi there", "<b>x=1</b>", &o, &b), AR_OK);
    CHECK_STR(buf_str(&b), "To: ops@example.org, dev@example.org\r\n"
                           "From: Alertmanager <am@example.org>\r\n"
                           "X-Greeting: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
                           "Subject: [FIRING:1] x\r\n"
                           "Message-Id: <1795771411644832213.4681410852236451853@host>\r\n"
                           "Date: Fri, 27 Nov 2026 09:23:31 +0000\r\n"
                           "Content-Type: multipart/alternative;  boundary=BOUND\r\n"
                           "MIME-Version: 1.0\r\n"
                           "\r\n"
                           "--BOUND\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n"
                           "Content-Type: text/plain; charset=UTF-8\r\n"
                           "\r\n"
                           "hi there\r\n"
                           "--BOUND\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n"
                           "Content-Type: text/html; charset=UTF-8\r\n"
                           "\r\n"
                           "<b>x=3D1</b>\r\n"
                           "--BOUND--\r\n");
    buf_cleanup(&b);

    /* configured Message-Id: none generated; html only */
    {
        struct notify_header h2[] = {{(char *)"Message-Id", (char *)"<mine@x>"}};

        buf_init(&b, 0);
        CHECK_INT(email_message_build(h2, 1, NULL, "<p>\n</p>", &o, &b), AR_OK);
        CHECK_STR(buf_str(&b), "Message-Id: <mine@x>\r\n"
                               "Date: Fri, 27 Nov 2026 09:23:31 +0000\r\n"
                               "Content-Type: multipart/alternative;  boundary=BOUND\r\n"
                               "MIME-Version: 1.0\r\n"
                               "\r\n"
                               "--BOUND\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n"
                               "Content-Type: text/html; charset=UTF-8\r\n"
                               "\r\n"
                               "<p>\r\n</p>\r\n"
                               "--BOUND--\r\n");
        buf_cleanup(&b);
    }

    /* generated values have the documented shapes */
    {
        char bound[61];
        char id[300];
        char date[64];

        email_make_boundary(bound);
        CHECK_INT(strlen(bound), 60);
        CHECK(strspn(bound, "0123456789abcdef") == 60);
        email_make_message_id(1795771411644832213LL, id, sizeof(id));
        CHECK(strncmp(id, "<1795771411644832213.", 21) == 0);
        CHECK(strchr(id, '@') != NULL && id[strlen(id) - 1] == '>');
        email_format_date(0, date, sizeof(date));
        CHECK(strlen(date) == strlen("Thu, 01 Jan 1970 00:00:00 +0000"));
    }
}

static struct notify_data *seed_data(bool resolved)
{
    struct alert *a = alert_new();
    struct labelset gl;
    struct notify_data *d;
    struct receiver rcv = {0};
    bool res = resolved;

    labelset_set(&a->labels, "alertname", "monitor_service_down");
    labelset_set(&a->labels, "instance", "cadvisor:8080");
    labelset_set(&a->labels, "job", "cadvisor");
    labelset_set(&a->labels, "monitor", "docker-host-alpha");
    labelset_set(&a->labels, "severity", "critical");
    labelset_set(&a->annotations, "summary", "down");
    a->generator_url = strdup("http://prometheus:9090/graph");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = 1795771411LL * AR_NS_PER_SEC;
    a->ends_at = 1795771711LL * AR_NS_PER_SEC;
    labelset_init(&gl);
    labelset_set(&gl, "alertname", "monitor_service_down");
    rcv.name = (char *)"team-mail";
    d = notify_data_new(NULL, &rcv, "{}:{alertname=\"monitor_service_down\"}", &gl, &a, &res, 1,
                        "http://am.example:9093", 1795771500LL * AR_NS_PER_SEC);
    labelset_cleanup(&gl);
    alert_unref(a);
    return d;
}

static void test_render(void)
{
    struct notify_data *d = seed_data(false);
    char *keys[] = {(char *)"From", (char *)"Subject", (char *)"To", (char *)"X-Status"};
    char *vals[] = {(char *)"Alertmanager <am@example.org>",
                    (char *)"{{ template \"email.default.subject\" . }}", (char *)"ops@example.org",
                    (char *)"{{ .Status }} \xc3\xa9"};
    struct email_config ec = {0};
    struct email_rendered r;
    struct ar_error err;

    ec.to = (char *)"ops@example.org";
    ec.from = (char *)"Alertmanager <am@example.org>";
    ec.headers.keys = keys;
    ec.headers.values = vals;
    ec.headers.n = 4;
    ec.html = (char *)"{{ template \"email.default.html\" . }}";
    ec.text = (char *)"{{ .CommonAnnotations.summary }}";
    err.msg[0] = '\0';
    CHECK_INT(email_render(d, &ec, &r, &err), AR_OK);
    if (r.nheaders == 4) {
        CHECK_STR(r.headers[1].value, "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor "
                                      "docker-host-alpha critical)");
        CHECK_STR(r.headers[3].value, "firing \xc3\xa9");
    }
    CHECK_STR(r.text, "down");
    CHECK(r.html != NULL && strstr(r.html, "1 alert for") != NULL);
    CHECK(r.html != NULL && strstr(r.html, "alertname=monitor_service_down") != NULL);
    CHECK(r.html != NULL &&
          strstr(r.html, "http://am.example:9093/#/alerts?receiver=team-mail") != NULL);
    email_rendered_cleanup(&r);

    /* a template error is reported with its field */
    ec.text = (char *)"{{ .Nope }}";
    CHECK(email_render(d, &ec, &r, &err) != AR_OK);
    CHECK(strncmp(err.msg, "execute text template: ", 23) == 0);
    notify_data_unref(d);

    d = seed_data(true);
    ec.text = NULL;
    CHECK_INT(email_render(d, &ec, &r, &err), AR_OK);
    if (r.nheaders == 4) {
        CHECK_STR(r.headers[1].value, "[RESOLVED] monitor_service_down (cadvisor:8080 cadvisor "
                                      "docker-host-alpha critical)");
    }
    email_rendered_cleanup(&r);
    notify_data_unref(d);
}

struct done_rec {
    int calls;
    struct notify_result res;
};

static void on_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct done_rec *rec = ctx;

    rec->calls++;
    rec->res = *res;
}

static void test_pool(void)
{
    struct notify_data *d = seed_data(false);
    char *keys[] = {(char *)"Subject"};
    char *vals[] = {(char *)"s"};
    struct email_config ec = {0};
    struct integration integ = {INTEGRATION_EMAIL, 0, &ec, false};
    struct email_pool *p = email_pool_new(2, 10 * AR_NS_PER_MS, 50 * AR_NS_PER_MS);
    struct done_rec rec = {0};
    struct done_rec rec2 = {0};
    struct notify_metrics m;
    int64_t until;

    ec.to = (char *)"ops@example.org";
    ec.from = (char *)"am-example.org"; /* not an address: a final error, no network */
    ec.smarthost = (char *)"127.0.0.1:1";
    ec.auth_password = (char *)"hunter2-secret";
    ec.headers.keys = keys;
    ec.headers.values = vals;
    ec.headers.n = 1;
    CHECK_INT(email_pool_start(p), AR_OK);
    email_pool_submit(
        p, notify_job_new(d, &integ, clock_monotonic_ns() + 5 * AR_NS_PER_SEC, on_done, &rec));
    until = clock_monotonic_ns() + 5 * AR_NS_PER_SEC;
    while (email_pool_pending(p) > 0 && clock_monotonic_ns() < until) {
        struct timespec ts = {0, 5000000};

        nanosleep(&ts, NULL);
    }
    CHECK_INT(rec.calls, 1);
    CHECK(!rec.res.ok);
    CHECK_INT(rec.res.attempts, 1);
    CHECK_STR(rec.res.error, "notify retry canceled due to unrecoverable error after 1 attempts: "
                             "parse 'from' addresses: mail: missing @ in addr-spec");
    CHECK(strstr(rec.res.error, "hunter2") == NULL);
    memset(&m, 0, sizeof(m));
    email_pool_metrics_add(p, &m);
    CHECK_INT(m.type[INTEGRATION_EMAIL].notifications_total, 1);
    CHECK_INT(m.type[INTEGRATION_EMAIL].notifications_failed, 1);
    CHECK_INT(m.type[INTEGRATION_EMAIL].requests_total, 1);

    /* a retryable failure (nothing listens) is retried with backoff until the deadline */
    ec.from = (char *)"am@example.org";
    rec.calls = 0;
    email_pool_submit(
        p, notify_job_new(d, &integ, clock_monotonic_ns() + 300 * AR_NS_PER_MS, on_done, &rec));
    until = clock_monotonic_ns() + 10 * AR_NS_PER_SEC;
    while (email_pool_pending(p) > 0 && clock_monotonic_ns() < until) {
        struct timespec ts = {0, 5000000};

        nanosleep(&ts, NULL);
    }
    CHECK_INT(rec.calls, 1);
    CHECK(!rec.res.ok);
    CHECK(rec.res.retryable);
    CHECK(rec.res.attempts >= 2);
    CHECK(strncmp(rec.res.error, "notify retry canceled after ", 28) == 0);
    CHECK(strstr(rec.res.error, "establish connection to server: ") != NULL);
    CHECK(strstr(rec.res.error, "hunter2") == NULL);

    /* a retryable failure keeps retrying until stop cancels it */
    ec.smarthost = (char *)"127.0.0.1:1";
    email_pool_submit(p, notify_job_new(d, &integ, 0, on_done, &rec2));
    {
        struct timespec ts = {0, 200000000};

        nanosleep(&ts, NULL);
    }
    email_pool_stop(p);
    CHECK_INT(rec2.calls, 1);
    CHECK(!rec2.res.ok);
    CHECK(rec2.res.attempts >= 2);
    CHECK(strcmp(rec2.res.error, "notification canceled") == 0 ||
          strstr(rec2.res.error, "establish connection to server") != NULL);
    CHECK_INT(email_pool_pending(p), 0);
    /* after stop: completed at once in the caller */
    rec2.calls = 0;
    email_pool_submit(p, notify_job_new(d, &integ, 0, on_done, &rec2));
    CHECK_INT(rec2.calls, 1);
    CHECK_STR(rec2.res.error, "notification canceled");
    CHECK(rec2.res.canceled);
    email_pool_free(p);
    notify_data_unref(d);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    test_qp();
    test_q_encode();
    test_canonical();
    test_addresses();
    test_message();
    test_render();
    test_pool();
    return CHECK_DONE();
}

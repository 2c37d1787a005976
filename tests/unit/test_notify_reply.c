/* Reply checks and request chains (notify.h): Slack as newest Alertmanager judges a 2xx
 * reply (text/plain "ok" for webhooks, JSON "ok":true for the Web API, everything else a
 * final failure, an undecodable JSON body retried), Rocket.Chat "success", the excerpt of an
 * answer put in error texts, and a request chain freed by notify_request_cleanup. Table
 * driven; the engine itself is exercised end to end in e2e 11-chat-notifiers. */
#include <stdlib.h>
#include <string.h>

#include "ar/notify.h"
#include "check.h"

struct reply_case {
    const char *ctype;
    const char *body;
    bool ok;
    bool retryable;
    const char *err; /* expected error text, NULL when ok */
};

static void run_cases(bool (*fn)(const struct notify_reply *, char *, size_t, bool *),
                      const struct reply_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct notify_reply r = {200, cases[i].ctype, cases[i].body, strlen(cases[i].body), false};
        char err[512] = "";
        bool retryable = !cases[i].retryable;
        bool ok = fn(&r, err, sizeof(err), &retryable);

        if (ok != cases[i].ok || retryable != cases[i].retryable) {
            fprintf(stderr, "case %zu (%s, %s): ok %d retryable %d err [%s]\n", i, cases[i].ctype,
                    cases[i].body, ok, retryable, err);
        }
        CHECK(ok == cases[i].ok);
        CHECK(retryable == cases[i].retryable);
        if (cases[i].err != NULL) {
            CHECK_STR(err, cases[i].err);
        }
    }
}

static void test_slack(void)
{
    static const struct reply_case cases[] = {
        {"text/plain; charset=utf-8", "ok", true, false, NULL},
        {"text/html", "ok", true, false, NULL},
        {"", "ok", true, false, NULL}, /* no Content-Type: a text reply */
        {"text/plain", "ok\n", false, false, "received an error response from Slack: ok "},
        {"text/plain", "", false, false, "received an error response from Slack: "},
        {"text/plain", "invalid_payload", false, false,
         "received an error response from Slack: invalid_payload"},
        {"", "{\"ok\":true}", false, false, "received an error response from Slack: {\"ok\":true}"},
        {"application/json", "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1.2\"}", true, false, NULL},
        {"application/json; charset=utf-8", "{\"ok\":true}", true, false, NULL},
        {"application/json", "{\"ok\":false,\"error\":\"channel_not_found\"}", false, false,
         "error response from Slack: channel_not_found"},
        {"application/json", "{}", false, false, "error response from Slack: "},
        {"application/json", "null", false, false, "error response from Slack: "},
        {"application/json", "ok", false, true, NULL},
        {"application/json", "", false, true, NULL},
        {"application/json", "[true]", false, true, NULL},
        {"application/json", "{\"ok\":\"true\"}", false, true, NULL},
        {"application/json", "{\"ok\":false,\"error\":3}", false, true, NULL},
    };

    run_cases(notify_slack_check, cases, sizeof(cases) / sizeof(cases[0]));
    {
        /* a JSON reply longer than what is kept cannot be judged: retried */
        struct notify_reply r = {200, "application/json", "{\"ok\":true", 10, true};
        char err[512];
        bool retryable = false;

        CHECK(!notify_slack_check(&r, err, sizeof(err), &retryable));
        CHECK(retryable);
        CHECK(strncmp(err, "could not unmarshal JSON response \"{\\\"ok\\\":true\"", 10) == 0);
    }
}

static void test_rocketchat(void)
{
    static const struct reply_case cases[] = {
        {"application/json", "{\"success\":true}", true, false, NULL},
        {"text/plain", "{\"success\":true,\"message\":{}}", true, false, NULL},
        {"application/json", "{\"success\":false,\"error\":\"error-invalid-channel\"}", false,
         false, "error response from Rocketchat: error-invalid-channel"},
        {"application/json", "{}", false, false, "error response from Rocketchat: "},
        {"application/json", "", false, true, NULL},
        {"text/html", "<html>", false, true, NULL},
    };

    run_cases(notify_rocketchat_check, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_excerpt(void)
{
    char big[600];
    char out[256];

    notify_reply_excerpt("a\r\nb\tc", 6, out, sizeof(out));
    CHECK_STR(out, "a  b c");
    memset(big, 'x', sizeof(big));
    notify_reply_excerpt(big, sizeof(big), out, sizeof(out));
    CHECK_INT(strlen(out), 200 + 3);
    CHECK(strcmp(out + 200, "\xe2\x80\xa6") == 0);
    notify_reply_excerpt(big, sizeof(big), out, 10); /* bounded by the output */
    CHECK_INT(strlen(out), 9);
}

static void test_chain(void)
{
    struct notify_request r;
    struct notify_request *a;
    struct notify_request *b;

    notify_request_init(&r);
    r.url = strdup("http://127.0.0.1:1/v2/alerts");
    r.timeout_ns = 5;
    r.retry_429 = false;
    r.error_prefix = strdup("channel \"#a\": ");
    a = notify_request_chain_new(&r);
    b = notify_request_chain_new(&r);
    CHECK(r.next == a);
    CHECK(a->next == b);
    CHECK(b->next == NULL);
    CHECK_INT(a->timeout_ns, 5);
    CHECK(!a->retry_429);
    CHECK_STR(a->method, "POST");
    a->method = "PUT";
    a->url = strdup("http://127.0.0.1:1/v2/alerts/x/message?identifierType=alias");
    buf_puts(&b->body, "{}\n");
    notify_request_cleanup(&r); /* frees a and b too (leak-checked under ASan) */
    CHECK(r.next == NULL);
}

int main(void)
{
    test_slack();
    test_rocketchat();
    test_excerpt();
    test_chain();
    return CHECK_DONE();
}

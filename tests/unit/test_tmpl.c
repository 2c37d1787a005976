/* Unit tests for the template engine (ar/tmpl.h): Go text/template syntax and semantics,
 * the built-in and Alertmanager functions (COMPAT 8.3, 8.4), printf verbs, HTML-mode
 * escaping, error messages with locations, and the execution limits. Table-driven: each case
 * is a template, the mode, and the expected output or an expected error substring. */
#include "ar/tmpl.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct tmpl_value *seed_data(void)
{
    struct tmpl_value *d = tmpl_data_new("team.mail", true, "http://am.example:9093");
    struct tmpl_value *a = tmpl_alert_new("firing", 1795771311, 0, TMPL_ZERO_TIME_SEC, 0,
                                          "http://prometheus:9090/graph", "e960cfc9079ae255");
    struct tmpl_value *l = tmpl_alert_labels(a);

    tmpl_kv_set(l, "alertname", "monitor_service_down");
    tmpl_kv_set(l, "instance", "cadvisor:8080");
    tmpl_kv_set(l, "job", "cadvisor");
    tmpl_kv_set(l, "monitor", "docker-host-alpha");
    tmpl_kv_set(l, "severity", "critical");
    tmpl_kv_set(tmpl_alert_annotations(a), "summary", "down");
    tmpl_data_add_alert_take(d, a);
    a = tmpl_alert_new("resolved", 1795771311, 250000000, 1795771411, 0, "http://p/g", "1");
    tmpl_kv_set(tmpl_alert_labels(a), "alertname", "monitor_service_down");
    tmpl_kv_set(tmpl_alert_labels(a), "instance", "other:1");
    tmpl_data_add_alert_take(d, a);
    tmpl_kv_set(tmpl_data_group_labels(d), "alertname", "monitor_service_down");
    tmpl_data_finish(d, true);
    return d;
}

struct tcase {
    const char *text;
    const char *want;     /* expected output, or NULL when an error is expected */
    const char *want_err; /* substring of the error message */
    enum tmpl_mode mode;
};

static const struct tcase cases[] = {
    /* literals, fields, maps */
    {"{{ \"a\" }}{{ 1 }}{{ 1.5 }}{{ true }}{{ 0x1F }}{{ 'a' }}{{ -5 }}{{ 1e3 }}",
     "a11.5true3197-51000", NULL, TMPL_TEXT},
    {"{{ 1000000.0 }} {{ 0.00001 }} {{ 1_000 }}", "1e+06 1e-05 1000", NULL, TMPL_TEXT},
    {"{{ `a\\nb` }}|{{ \"a\\tb\\u00e9\\x41\" }}",
     "a\\nb|a\tb\xc3\xa9"
     "A",
     NULL, TMPL_TEXT},
    {"{{ .Receiver }} {{ .Status }} {{ .ExternalURL }}",
     "team\\.mail firing http://am.example:9093", NULL, TMPL_TEXT},
    {"{{ .CommonLabels.alertname }}|{{ .CommonLabels.nosuch }}|{{ index .CommonLabels \"job\" }}",
     "monitor_service_down||", NULL, TMPL_TEXT},
    {"{{ .GroupKey }}", NULL,
     "template: :1:3: executing \"\" at <.GroupKey>: can't evaluate field GroupKey in type "
     "*template.Data",
     TMPL_TEXT},
    {"{{ nil }}", NULL, "nil is not a command", TMPL_TEXT},
    {"{{ print nil }}|{{ (dict \"a\" 1).b }}", "<nil>|<no value>", NULL, TMPL_TEXT},
    {"{{ .CommonLabels.SortedPairs.Names }}", "[alertname]", NULL, TMPL_TEXT},
    {"{{ (index .Alerts 0).Labels.SortedPairs.Values | join \",\" }}",
     "monitor_service_down,cadvisor:8080,cadvisor,docker-host-alpha,critical", NULL, TMPL_TEXT},
    {"{{ (index .Alerts 0).Labels.Remove (stringSlice \"job\" \"instance\" \"monitor\") }}",
     "map[alertname:monitor_service_down severity:critical]", NULL, TMPL_TEXT},
    {"{{ (index .Alerts 0).Annotations.SortedPairs }}", "[{summary down}]", NULL, TMPL_TEXT},
    {"{{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }}", "2 1 1", NULL,
     TMPL_TEXT},
    {"{{ (index .Alerts 0).StartsAt }}|{{ (index .Alerts 0).EndsAt }}|{{ (index .Alerts 1)"
     ".StartsAt }}",
     "2026-11-27 09:21:51 +0000 UTC|0001-01-01 00:00:00 +0000 UTC|2026-11-27 09:21:51.25 +0000 "
     "UTC",
     NULL, TMPL_TEXT},
    {"{{ (index .Alerts 0).StartsAt.Format \"Mon Jan _2 2006 03:04:05PM -07:00 .000\" }}",
     "Fri Nov 27 2026 09:21:51AM +00:00 .000", NULL, TMPL_TEXT},
    {"{{ date \"2006-01-02T15:04:05Z07:00\" (index .Alerts 1).EndsAt }} {{ (index .Alerts 0)"
     ".StartsAt.Unix }}",
     "2026-11-27T09:23:31Z 1795771311", NULL, TMPL_TEXT},
    {"{{ (index .Alerts 0).StartsAt | tz \"Europe/Berlin\" | date \"15:04 MST -0700\" }}",
     "10:21 CET +0100", NULL, TMPL_TEXT},
    {"{{ toDate \"2006-01-02 15:04\" \"2040-07-01 12:00\" | tz \"America/New_York\" | date \"15:04 "
     "MST\" }} {{ toDate \"2006-01-02 15:04\" \"2040-01-01 12:00\" | tz \"Australia/Sydney\" | "
     "date "
     "\"15:04 MST\" }}",
     "08:00 EDT 23:00 AEDT", NULL, TMPL_TEXT},
    {"{{ tz \"No/Such_Zone\" (index .Alerts 0).StartsAt }}", NULL,
     "error calling tz: unknown time zone No/Such_Zone", TMPL_TEXT},
    /* control structures, variables */
    {"{{ range $i, $e := .Alerts }}{{ $i }}:{{ $e.Status }} {{ end }}", "0:firing 1:resolved ",
     NULL, TMPL_TEXT},
    {"{{ range $k, $v := (index .Alerts 0).Labels }}{{ $k }}={{ $v }};{{ end }}",
     "alertname=monitor_service_down;instance=cadvisor:8080;job=cadvisor;monitor=docker-host-"
     "alpha;severity=critical;",
     NULL, TMPL_TEXT},
    {"{{ range $e := .Alerts.Firing }}{{ $e.Fingerprint }}{{ end }}", "e960cfc9079ae255", NULL,
     TMPL_TEXT},
    {"{{ range .GroupLabels.Remove (stringSlice \"alertname\") }}x{{ else }}empty{{ end }}",
     "empty", NULL, TMPL_TEXT},
    {"{{ range $i, $p := (index .Alerts 0).Labels.SortedPairs }}{{ if eq $i 1 }}{{ continue }}"
     "{{ end }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $p.Name }} {{ end }}",
     "alertname job ", NULL, TMPL_TEXT},
    {"{{ range 3 }}{{ . }}{{ end }}", "012", NULL, TMPL_TEXT},
    {"{{ with .CommonAnnotations.nosuch }}a{{ else with .Status }}{{ . }}{{ else }}c{{ end }}",
     "firing", NULL, TMPL_TEXT},
    {"{{ if eq 1 2 }}a{{ else if eq 2 2 }}b{{ else }}c{{ end }}", "b", NULL, TMPL_TEXT},
    {"{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}", "2", NULL, TMPL_TEXT},
    {"{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", NULL, "undefined variable \"$y\"", TMPL_TEXT},
    {"{{ range .Alerts }}{{ $.Receiver }}{{ end }}", "team\\.mailteam\\.mail", NULL, TMPL_TEXT},
    {"a  {{- 1 -}}  \n b|{{- /* note */ -}} |x{{/* c */}}y", "a1b||xy", NULL, TMPL_TEXT},
    {"{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" \"a\" }}{{ block \"y\" 2 }}<{{ . }}>"
     "{{ end }}",
     "[a]<2>", NULL, TMPL_TEXT},
    {"{{ template \"nope\" }}", NULL, "template \"nope\" not defined", TMPL_TEXT},
    {"{{ (.Status) }} {{ (index .Alerts 0).Labels.job }} {{ \"x\" | printf \"%s-%s\" \"a\" }}",
     "firing cadvisor a-x", NULL, TMPL_TEXT},
    /* built-ins */
    {"{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 \"\" \"x\" }} {{ or 0 \"\" }} {{ not 0 }}",
     "0 2 x  true", NULL, TMPL_TEXT},
    {"{{ or true (index .Alerts 9) }} {{ and false (index .Alerts 9) }}", "true false", NULL,
     TMPL_TEXT},
    {"{{ index .Alerts 9 }}", NULL, "error calling index: index out of range: 9", TMPL_TEXT},
    {"{{ eq .Status \"a\" \"firing\" }} {{ ne 1 2 }} {{ lt \"a\" \"b\" }} {{ le 2 2 }} {{ gt 1.5 "
     "2.5 }} {{ ge 3 2 }}",
     "true true true true false true", NULL, TMPL_TEXT},
    {"{{ eq 1 \"a\" }}", NULL, "error calling eq: incompatible types for comparison", TMPL_TEXT},
    {"{{ lt true false }}", NULL, "invalid type for comparison", TMPL_TEXT},
    {"{{ len \"héllo\" }} {{ slice \"hello\" 1 3 }} {{ slice (stringSlice \"a\" \"b\" \"c\") 1 }}",
     "6 el [b c]", NULL, TMPL_TEXT},
    {"{{ len 3 }}", NULL, "error calling len: len of type int", TMPL_TEXT},
    {"{{ print \"a\" 1 2 \"b\" }}|{{ println \"a\" 1 }}|", "a1 2b|a 1\n|", NULL, TMPL_TEXT},
    {"{{ printf \"%s=%d %q %v %5.1f|%-4s|%04d %x %X %t %c %%\" \"a\" 5 \"q\\\"\" .Status 3.14159 "
     "\"ab\" 42 255 \"hi\" true 9731 }}",
     "a=5 \"q\\\"\" firing   3.1|ab  |0042 ff 6869 true \xe2\x98\x83 %", NULL, TMPL_TEXT},
    {"{{ printf \"%d|%s %s|%s\" \"x\" \"a\" }}", "%!d(string=x)|a %!s(MISSING)|%!s(MISSING)", NULL,
     TMPL_TEXT},
    {"{{ printf \"%s\" \"a\" \"b\" }}|{{ printf \"%v %v\" (stringSlice \"a\" \"b\") 1.5 }}",
     "a%!(EXTRA string=b)|[a b] 1.5", NULL, TMPL_TEXT},
    {"{{ printf \"%6.2f|%-6d|%+d|%e|%g\" 3.14159 7 7 1234.5 0.000012 }}",
     "  3.14|7     |+7|1.234500e+03|1.2e-05", NULL, TMPL_TEXT},
    {"{{ html \"<a href='x'>&\\\"\" }}|{{ js \"a'b\\\"<>=&\" }}|{{ urlquery \"a b&c/d\" }}",
     "&lt;a href=&#39;x&#39;&gt;&amp;&#34;|a\\'b\\\"\\u003C\\u003E\\u003D\\u0026|a+b%26c%2Fd", NULL,
     TMPL_TEXT},
    {"{{ call .Status }}", NULL, "error calling call", TMPL_TEXT},
    /* Alertmanager functions */
    {"{{ toUpper \"straße\" }} {{ toLower \"ÀB\" }} {{ title \"hELLO wORLD-foo o'neil\" }}",
     "STRAßE àb Hello World-Foo O'neil", NULL, TMPL_TEXT},
    {"{{ trimSpace \"\\u00a0 \\t x y \\n\\u3000\" }}|", "x y|", NULL, TMPL_TEXT},
    {"{{ join \", \" (stringSlice \"a\" \"b\") }} {{ (stringSlice \"x\" \"y\").Join \"+\" }}",
     "a, b x+y", NULL, TMPL_TEXT},
    {"{{ match \"^mon.*down$\" .CommonLabels.alertname }} {{ match \"service\" "
     ".CommonLabels.alertname }} {{ match \"^x\" \"abc\" }}",
     "true true false", NULL, TMPL_TEXT},
    {"{{ match \"a$\" \"a\\n\" }} {{ match \"(?m)a$\" \"a\\n\" }}", "false true", NULL, TMPL_TEXT},
    {"{{ match \"(\" \"x\" }}", NULL, "error calling match: error parsing regexp", TMPL_TEXT},
    {"{{ reReplaceAll \"(a+)\" \"<$1>\" \"baaac\" }} {{ reReplaceAll \"a*\" \"-\" \"baac\" }} "
     "{{ reReplaceAll \"(?P<x>b)\" \"${x}$$ $1x\" \"abc\" }} {{ reReplaceAll \"^\" \">\" \"é\" }}",
     "b<aaa>c -b-c- ab$ c >é", NULL, TMPL_TEXT},
    {"{{ humanizeDuration 0 }} {{ humanizeDuration 1.5 }} {{ humanizeDuration 0.25 }} "
     "{{ humanizeDuration 241 }} {{ humanizeDuration 7205 }} {{ humanizeDuration 93784 }} "
     "{{ humanizeDuration \"3661\" }}",
     "0s 1.5s 250ms 4m 1s 2h 0m 5s 1d 2h 3m 4s 1h 1m 1s", NULL, TMPL_TEXT},
    {"{{ toJson .GroupLabels.nosuch }}{{ toJson .CommonAnnotations }} {{ toJson \"<a&b>\" }} "
     "{{ toJson (list 1 1.5 true nil) }}",
     "\"\"{} \"\\u003ca\\u0026b\\u003e\" [1,1.5,true,null]", NULL, TMPL_TEXT},
    {"{{ toJson (index .Alerts 0).StartsAt }}", "\"2026-11-27T09:21:51Z\"", NULL, TMPL_TEXT},
    {"{{ urlUnescape \"a%20b+c\" }} {{ safeUrl \"x\" }} {{ safeHtml \"<b>\" }}", "a b c x <b>",
     NULL, TMPL_TEXT},
    {"{{ urlUnescape \"%zz\" }}", NULL, "invalid URL escape", TMPL_TEXT},
    {"{{ index (dict \"a\" 1 \"b\" 2) \"b\" }} {{ len (append (list 1 2) 3) }} {{ list }}",
     "2 3 []", NULL, TMPL_TEXT},
    {"{{ dict \"a\" }}", NULL, "even number", TMPL_TEXT},
    {"{{ $l := list }}{{ range 100 }}{{ $l = list $l }}{{ end }}{{ len $l }}", NULL,
     "error calling list: value nested too deeply", TMPL_TEXT},
    {"{{ base64encode \"hi?>\" }} {{ base64decode \"aGk_Pg==\" }}", "aGk_Pg== hi?>", NULL,
     TMPL_TEXT},
    {"{{ toDate \"2006-01-02\" \"2024-02-03\" }}|{{ toDate \"2006\" \"x\" }}",
     "2024-02-03 00:00:00 +0000 UTC|0001-01-01 00:00:00 +0000 UTC", NULL, TMPL_TEXT},
    {"{{ mustToDate \"2006\" \"x\" }}", NULL, "error calling mustToDate", TMPL_TEXT},
    {"{{ gt (since (index .Alerts 0).StartsAt).Seconds 0.0 }} {{ lt (now).Unix 1 }}", "true false",
     NULL, TMPL_TEXT},
    {"{{ routeLabels \"x\" }}|", "|", NULL, TMPL_TEXT},
    /* parse errors carry name, line and column */
    {"a\n  {{ if }}", NULL, "template: :2:6: missing value for if", TMPL_TEXT},
    {"{{ .A", NULL, "template: :1:6: unclosed action", TMPL_TEXT},
    {"x\n{{ nosuch 1 }}", NULL, "template: :2:4: function \"nosuch\" not defined", TMPL_TEXT},
    {"{{ end }}", NULL, "unexpected {{end}}", TMPL_TEXT},
    {"{{ range .Alerts }}", NULL, "unexpected EOF", TMPL_TEXT},
    {"{{ break }}", NULL, "{{break}} outside {{range}}", TMPL_TEXT},
    {"{{ if true }}{{ define \"a\" }}{{ end }}{{ end }}", NULL, "unexpected <define>", TMPL_TEXT},
    {"{{ \"abc }}", NULL, "unterminated quoted string", TMPL_TEXT},
    {"{{ 1 | 2 }}", NULL, "non executable command in pipeline stage 2", TMPL_TEXT},
    {"{{ \"a\" .B }}", NULL, "can't give argument to non-function \"a\"", TMPL_TEXT},
    {"{{ .Status.Foo }}", NULL, "can't evaluate field Foo in type string", TMPL_TEXT},
    /* HTML mode */
    {"<p title=\"{{ .Status }}\">{{ \"<script>a+b</script>\" }}</p>", NULL, NULL, TMPL_HTML},
    {"<a href=\"{{ \"javascript:alert(1)\" }}\">{{ \"a&b\" }}</a>",
     "<a href=\"#ZgotmplZ\">a&amp;b</a>", NULL, TMPL_HTML},
    {"<a href=\"{{ \"http://x/a b?c=d&e\" }}\">x</a>", "<a href=\"http://x/a%20b?c=d&amp;e\">x</a>",
     NULL, TMPL_HTML},
    {"<a href=\"/q?x={{ \"a b&c\" }}&r={{ \"a b\" | urlquery }}\">",
     "<a href=\"/q?x=a%20b%26c"
     "&r=a&#43;b\">",
     NULL, TMPL_HTML},
    {"<p title={{ \"a b\" }} class='{{ \"'\" }}'>{{ safeHtml \"<b>x</b>\" }}</p>",
     "<p title=a&#32;b class='&#39;'><b>x</b></p>", NULL, TMPL_HTML},
    {"a<!-- {{ \"hidden\" }} -->b<!DOCTYPE html> 1 < 2 <title>{{ \"<x>\" }}</title>",
     "ab<!DOCTYPE html> 1 &lt; 2 <title>&lt;x&gt;</title>", NULL, TMPL_HTML},
    {"<script>var x = {{ \"</script>\" }};</script>",
     "<script>var x = \"\\u003c/script\\u003e\";</script>", NULL, TMPL_HTML},
    {"{{ \"a+b\" }} {{ \"x\" | html }} {{ 1 }}", "a&#43;b x 1", NULL, TMPL_HTML},
};

static void test_cases(void)
{
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *data = seed_data();
    struct ar_error err;
    size_t i;

    CHECK_INT(tmpl_set_load_defaults(set, &err), AR_OK);
    for (i = 0; i < AR_ARRAY_LEN(cases); i++) {
        const struct tcase *c = &cases[i];
        char *out = NULL;
        int rc;

        err.msg[0] = '\0';
        rc = tmpl_render(set, c->text, c->mode, data, &out, &err);
        if (c->want == NULL && c->want_err == NULL) {
            /* only check that hostile text does not become markup */
            CHECK_INT(rc, AR_OK);
            CHECK(out != NULL && strstr(out, "<script>") == NULL);
        } else if (c->want != NULL) {
            if (rc != AR_OK) {
                fprintf(stderr, "case %zu: %s\n  error: %s\n", i, c->text, err.msg);
            }
            CHECK_INT(rc, AR_OK);
            CHECK_STR(out, c->want);
        } else {
            CHECK(rc != AR_OK);
            if (strstr(err.msg, c->want_err) == NULL) {
                fprintf(stderr, "case %zu: %s\n  got error: [%s]\n  want substring: [%s]\n", i,
                        c->text, err.msg, c->want_err);
            }
            CHECK(strstr(err.msg, c->want_err) != NULL);
        }
        free(out);
    }
    tmpl_value_unref(data);
    tmpl_set_free(set);
}

static void test_kv_style_and_overrides(void)
{
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *data = seed_data();
    struct ar_error err;
    char *out = NULL;
    const char *user = "{{ define \"slack.default.title\" }}custom {{ .Status }}{{ end }}"
                       "{{ define \"__subject\" }}{{ end }}";

    CHECK_INT(tmpl_set_load_defaults(set, &err), AR_OK);
    CHECK(tmpl_set_has(set, "email.default.html"));
    CHECK(tmpl_set_has(set, "jira.default.priority"));
    tmpl_set_kv_style(set, TMPL_KV_READABLE);
    CHECK_INT(tmpl_render(set, "{{ .GroupLabels }}|{{ .CommonLabels.SortedPairs }}", TMPL_TEXT,
                          data, &out, &err),
              AR_OK);
    CHECK_STR(out, "alertname=monitor_service_down|alertname=monitor_service_down");
    free(out);
    CHECK_INT(tmpl_render(set, "{{ (index .Alerts 0).Labels }}|{{ printf \"%T\" .Alerts.Firing }}",
                          TMPL_TEXT, data, &out, &err),
              AR_OK);
    CHECK_STR(out, "alertname=monitor_service_down, instance=cadvisor:8080, job=cadvisor, "
                   "monitor=docker-host-alpha, severity=critical|[]template.Alert");
    free(out);
    CHECK_INT(tmpl_render(set, "{{ toJson .GroupLabels }} {{ slice (toJson .) 0 40 }}", TMPL_TEXT,
                          data, &out, &err),
              AR_OK);
    CHECK_STR(out, "{\"alertname\":\"monitor_service_down\"} {\"receiver\":\"team\\\\.mail\","
                   "\"status\":\"firi");
    free(out);
    /* A user file overrides a built-in; an empty body does not replace an existing one. */
    CHECK_INT(tmpl_set_parse(set, "user.tmpl", user, strlen(user), &err), AR_OK);
    CHECK_INT(tmpl_render(set,
                          "{{ template \"slack.default.title\" . }}|{{ template \"__subject\""
                          " . }}",
                          TMPL_TEXT, data, &out, &err),
              AR_OK);
    CHECK_STR(out, "custom firing|[FIRING:1] monitor_service_down ");
    free(out);
    /* a failed parse leaves the set unchanged */
    {
        const char *bad = "{{ define \"slack.default.title\" }}x{{ if }}";

        CHECK_INT(tmpl_set_parse(set, "bad.tmpl", bad, strlen(bad), &err), AR_EINVAL);
    }
    CHECK(strstr(err.msg, "template: bad.tmpl:1:") != NULL);
    CHECK_INT(
        tmpl_render(set, "{{ template \"slack.default.title\" . }}", TMPL_TEXT, data, &out, &err),
        AR_OK);
    CHECK_STR(out, "custom firing");
    free(out);
    /* multiple definitions in one parse are an error */
    {
        const char *dup = "{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}";

        CHECK_INT(tmpl_set_parse(set, "dup.tmpl", dup, strlen(dup), &err), AR_EINVAL);
    }
    CHECK(strstr(err.msg, "multiple definition of template \"a\"") != NULL);
    tmpl_value_unref(data);
    tmpl_set_free(set);
}

static void test_limits(void)
{
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *data = seed_data();
    struct ar_error err;
    char *out = NULL;
    struct buf b;

    CHECK_INT(tmpl_render(set,
                          "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}"
                          "{{ template \"r\" . }}",
                          TMPL_TEXT, data, &out, &err),
              AR_ELIMIT);
    CHECK(strstr(err.msg, "maximum template depth") != NULL);
    /* exponential fan-out stops at the step limit */
    tmpl_set_limits(set, 0, 0, 100000);
    CHECK_INT(tmpl_render(set,
                          "{{ define \"f\" }}{{ range $i := list 1 2 3 4 }}"
                          "{{ template \"f\" . }}{{ end }}{{ end }}{{ template \"f\" . }}",
                          TMPL_TEXT, data, &out, &err),
              AR_ELIMIT);
    tmpl_set_limits(set, 64, 0, 0);
    CHECK_INT(tmpl_render(set, "{{ range list 1 2 3 4 5 6 7 8 9 }}0123456789{{ end }}", TMPL_TEXT,
                          data, &out, &err),
              AR_ELIMIT);
    CHECK(strstr(err.msg, "output size limit") != NULL);
    CHECK_INT(tmpl_set_parse(set, "t", "abc{{ . }}", 10, &err), AR_OK);
    buf_init(&b, 0);
    CHECK_INT(tmpl_set_execute(set, "t", TMPL_TEXT, NULL, &b, &err), AR_OK);
    CHECK_STR(buf_str(&b), "abc<no value>");
    CHECK_INT(tmpl_set_execute(set, "missing", TMPL_TEXT, NULL, &b, &err), AR_ENOTFOUND);
    buf_cleanup(&b);
    /* deep nesting in the source is a parse error, not a stack overflow */
    {
        struct buf src;
        int i;

        buf_init(&src, 0);
        buf_puts(&src, "{{ ");
        for (i = 0; i < 5000; i++) {
            buf_putc(&src, '(');
        }
        buf_putc(&src, '1');
        for (i = 0; i < 5000; i++) {
            buf_putc(&src, ')');
        }
        buf_puts(&src, " }}");
        CHECK_INT(tmpl_set_parse(set, "deep", buf_str(&src), src.len, &err), AR_EINVAL);
        buf_cleanup(&src);
    }
    tmpl_value_unref(data);
    tmpl_set_free(set);
}

static void test_json_data(void)
{
    const char *payload =
        "{\"receiver\":\"r\\\\.x\",\"status\":\"firing\",\"externalURL\":\"http://e\","
        "\"groupLabels\":{\"alertname\":\"A\"},\"commonLabels\":{\"alertname\":\"A\"},"
        "\"commonAnnotations\":{},\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
        "\"A\",\"x\":\"1\"},\"annotations\":{},\"startsAt\":\"2026-01-02T03:04:05.5+02:00\","
        "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"g\",\"fingerprint\":\"f\"}]}";
    const char *list = "[{\"labels\":{\"alertname\":\"B\",\"y\":\"2\"},\"endsAt\":"
                       "\"2020-01-01T00:00:00Z\"},{\"labels\":{\"alertname\":\"B\"}}]";
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *d = NULL;
    struct ar_error err;
    char *out = NULL;

    CHECK_INT(tmpl_set_load_defaults(set, &err), AR_OK);
    CHECK_INT(tmpl_data_from_json(payload, strlen(payload), NULL, NULL, &d, &err), AR_OK);
    CHECK_INT(tmpl_render(set,
                          "{{ .Receiver }} {{ template \"__subject\" . }}|{{ (index .Alerts"
                          " 0).StartsAt }}",
                          TMPL_TEXT, d, &out, &err),
              AR_OK);
    CHECK_STR(out, "r\\.x [FIRING:1] A |2026-01-02 01:04:05.5 +0000 UTC");
    free(out);
    tmpl_value_unref(d);
    CHECK_INT(tmpl_data_from_json(list, strlen(list), "team x", "http://e", &d, &err), AR_OK);
    CHECK_INT(tmpl_render(set,
                          "{{ .Status }} {{ len .Alerts.Resolved }} {{ .CommonLabels }} "
                          "{{ template \"__alertmanagerURL\" . }}",
                          TMPL_TEXT, d, &out, &err),
              AR_OK);
    CHECK_STR(out, "firing 1 map[alertname:B] http://e/#/alerts?receiver=team+x");
    free(out);
    tmpl_value_unref(d);
    CHECK_INT(tmpl_data_from_json("{", 1, NULL, NULL, &d, &err), AR_EINVAL);
    CHECK_INT(tmpl_data_from_json("{\"x\":1}", 7, NULL, NULL, &d, &err), AR_EINVAL);
    tmpl_set_free(set);
}

struct thread_arg {
    const struct tmpl_set *set;
    const struct tmpl_value *data;
    int failures;
};

static void *render_loop(void *p)
{
    struct thread_arg *t = p;
    int i;

    for (i = 0; i < 300; i++) {
        struct ar_error err;
        char *out = NULL;

        if (tmpl_render(t->set,
                        "{{ template \"email.default.subject\" . }}{{ range .Alerts }}"
                        "{{ .Labels.SortedPairs }}{{ end }}",
                        TMPL_TEXT, t->data, &out, &err) != AR_OK ||
            strncmp(out, "[FIRING:1]", 10) != 0) {
            t->failures++;
        }
        free(out);
    }
    return NULL;
}

/* One set and one Data rendered from several threads at once (notifiers do this). */
static void test_threads(void)
{
    struct tmpl_set *set = tmpl_set_new();
    struct tmpl_value *data = seed_data();
    struct ar_error err;
    pthread_t th[4];
    struct thread_arg args[4];
    int i;

    CHECK_INT(tmpl_set_load_defaults(set, &err), AR_OK);
    for (i = 0; i < 4; i++) {
        args[i].set = set;
        args[i].data = data;
        args[i].failures = 0;
        CHECK_INT(pthread_create(&th[i], NULL, render_loop, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].failures, 0);
    }
    tmpl_value_unref(data);
    tmpl_set_free(set);
}

int main(void)
{
    test_threads();
    test_cases();
    test_kv_style_and_overrides();
    test_limits();
    test_json_data();
    return CHECK_DONE();
}

/* Unit tests for the extensions file decoder (config_ext.c): a valid file and its accessors,
 * the defaults of a NULL or empty file, and the located errors (unknown key, bad matcher,
 * bad duration, duplicate names, missing fields, a missing or broken report template). */
#include "check.h"

#include "ar/config_ext.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ar_test_config_ext_XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
}

/* Loads text as <tmpdir>/ext.yml; returns the error message or "" on success. */
static const char *load(const char *text, struct config_ext **out)
{
    static struct ar_error err;
    char path[256];

    write_file("ext.yml", text);
    snprintf(path, sizeof(path), "%s/ext.yml", tmpdir);
    *out = NULL;
    memset(&err, 0, sizeof(err));
    if (config_ext_load_file(path, out, &err) != AR_OK) {
        return err.msg;
    }
    return "";
}

/* The error message after the "<tmpdir>/ext.yml:" prefix, or "OK". */
static const char *load_err(const char *text)
{
    struct config_ext *x = NULL;
    const char *msg = load(text, &x);
    size_t n = strlen(tmpdir);

    config_ext_unref(x);
    if (msg[0] == '\0') {
        return "OK";
    }
    if (strncmp(msg, tmpdir, n) == 0 && strncmp(msg + n, "/ext.yml:", 9) == 0) {
        return msg + n + 9;
    }
    return msg;
}

static void test_valid(void)
{
    struct config_ext *x = NULL;
    char want[256];

    write_file("report.tmpl", "{{ define \"report\" }}# {{ .Title }}{{ end }}\n");
    CHECK_STR(load("heartbeats:\n"
                   "  - name: prometheus-watchdog\n"
                   "    matchers: ['alertname=\"Watchdog\"', 'env=~\"prod|stage\"']\n"
                   "    timeout: 5m\n"
                   "    labels: {severity: critical}\n"
                   "    annotations: {summary: \"alerting is down\"}\n"
                   "  - name: second\n"
                   "    matchers: ['{alertname=\"Other\", team!=\"x\"}']\n"
                   "    timeout: 1h30m\n"
                   "incidents:\n"
                   "  report_template: report.tmpl\n"
                   "  ack_message: true\n",
                   &x),
              "");
    if (x == NULL) {
        return;
    }
    CHECK_INT(config_ext_nheartbeats(x), 2);
    const struct heartbeat_cfg *h = config_ext_heartbeat(x, 0);
    CHECK_STR(h->name, "prometheus-watchdog");
    CHECK_INT(h->matchers.n, 2);
    CHECK_INT(h->timeout_ms, 5 * 60 * 1000);
    CHECK_INT(h->labels.n, 1);
    CHECK_STR(str_map_get(&h->labels, "severity"), "critical");
    CHECK_STR(str_map_get(&h->annotations, "summary"), "alerting is down");
    h = config_ext_heartbeat(x, 1);
    CHECK_STR(h->name, "second");
    CHECK_INT(h->matchers.n, 2);
    CHECK_INT(h->timeout_ms, 90 * 60 * 1000);
    CHECK_INT(h->labels.n, 0);
    snprintf(want, sizeof(want), "%s/report.tmpl", tmpdir);
    CHECK_STR(config_ext_report_template(x), want); /* relative to the file's directory */
    CHECK(config_ext_ack_message(x));
    CHECK(config_ext_ref(x) == x);
    config_ext_unref(x);
    config_ext_unref(x);

    /* absent file and empty file: the defaults */
    CHECK_INT(config_ext_nheartbeats(NULL), 0);
    CHECK(config_ext_report_template(NULL) == NULL);
    CHECK(!config_ext_ack_message(NULL));
    CHECK_STR(load("", &x), "");
    CHECK_INT(config_ext_nheartbeats(x), 0);
    CHECK(config_ext_report_template(x) == NULL);
    CHECK(!config_ext_ack_message(x));
    config_ext_unref(x);
    CHECK_STR(load("incidents:\n  ack_message: false\n", &x), "");
    CHECK(!config_ext_ack_message(x));
    config_ext_unref(x);
}

static void test_errors(void)
{
    CHECK_STR(load_err("heartbeat:\n  - name: a\n"),
              "1: field heartbeat not found in type ExtensionsConfig");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                       "    severity: critical\n"),
              "5: heartbeats[0]: field severity not found in type HeartbeatConfig");
    CHECK_STR(load_err("incidents:\n  ack: true\n"),
              "2: incidents: field ack not found in type IncidentsConfig");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: ['a=~\"(\"']\n    timeout: 1m\n"),
              "3: heartbeats[0].matchers[0]: error parsing regexp: missing closing ): `^(?:()$`");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: ['justaname']\n    timeout: 1m\n"),
              "3: heartbeats[0].matchers[0]: bad matcher format: justaname");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 5x\n"),
              "4: heartbeats[0].timeout: not a valid duration string: \"5x\"");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 0s\n"),
              "4: heartbeats[0].timeout: timeout must be greater than 0");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                       "  - name: a\n    matchers: [c=d]\n    timeout: 2m\n"),
              "5: heartbeats[1]: heartbeat name \"a\" is not unique");
    CHECK_STR(load_err("heartbeats:\n  - matchers: [a=b]\n    timeout: 1m\n"),
              "2: heartbeats[0]: missing name");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    timeout: 1m\n"),
              "2: heartbeats[0].matchers: missing matchers: a heartbeat needs at least one");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n"),
              "2: heartbeats[0]: missing timeout");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                       "    labels: {heartbeat: x}\n"),
              "5: heartbeats[0].labels: label heartbeat is set by alertrouter and cannot be "
              "configured");
    CHECK_STR(load_err("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                       "    labels: {bad-name: x}\n"),
              "5: heartbeats[0].labels: invalid label name \"bad-name\"");
    CHECK_STR(load_err("heartbeats: {a: b}\n"),
              "1: heartbeats: cannot unmarshal !!map into a list");
    CHECK_STR(load_err("incidents:\n  ack_message: maybe\n"),
              "2: incidents.ack_message: cannot unmarshal !!str `maybe` into bool");

    /* the report template must exist and parse */
    char want[512];
    snprintf(want, sizeof(want),
             "2: incidents.report_template: template: open %s/missing.tmpl: No such file or "
             "directory",
             tmpdir);
    CHECK_STR(load_err("incidents:\n  report_template: missing.tmpl\n"), want);
    write_file("broken.tmpl", "{{ if }}\n");
    CHECK_STR(load_err("incidents:\n  report_template: broken.tmpl\n"),
              "2: incidents.report_template: template: broken.tmpl:1:4: missing value for if");

    /* an unreadable file */
    struct config_ext *x = NULL;
    struct ar_error err;
    CHECK_INT(config_ext_load_file("/nonexistent/ext.yml", &x, &err), AR_EIO);
    CHECK(x == NULL);
}

static void test_summary(void)
{
    struct config_ext *x = NULL;
    char buf[1024] = {0};

    CHECK_STR(load("heartbeats:\n  - name: wd\n    matchers: [alertname=Watchdog]\n"
                   "    timeout: 2m\n",
                   &x),
              "");
    FILE *fp = fmemopen(buf, sizeof(buf) - 1, "w");
    config_ext_print_summary(x, fp);
    fclose(fp);
    CHECK_STR(buf, "Found:\n"
                   " - 1 heartbeats\n"
                   "   - wd: {alertname=\"Watchdog\"}, timeout 2m\n"
                   " - incidents report template: built-in\n"
                   " - incidents ack message: off\n");
    config_ext_unref(x);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_valid();
    test_errors();
    test_summary();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    }
    return CHECK_DONE();
}

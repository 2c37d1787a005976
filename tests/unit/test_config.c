/* Unit tests for the configuration loader (COMPAT 4, 6.1, 7, 9): defaults, golden
 * re-serialisation against Alertmanager 0.25 output captured in tests/data/config,
 * route-tree inheritance and keys, receivers and inheritance from global, every
 * integration type, time intervals, and a table of rejected configurations with their
 * located messages. Runs with tests/data as the working directory. */
#include "ar/config.h"
#include "ar/integration.h"
#include "ar/notifier_email.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, fp);
    s[got] = '\0';
    fclose(fp);
    return s;
}

static struct config *load_text(const char *text)
{
    struct config *c = NULL;
    struct ar_error err;
    int rc = config_load_string(text, "t.yml", &c, &err);
    if (rc != AR_OK) {
        fprintf(stderr, "unexpected load error: %s\n", err.msg);
    }
    CHECK_INT(rc, AR_OK);
    return c;
}

static void test_default(void)
{
    struct config *c = load_text(config_default_text());
    if (c == NULL) {
        return;
    }
    CHECK_INT(c->global.resolve_timeout_ms, 5 * 60 * 1000);
    CHECK_INT(c->nreceivers, 1);
    CHECK_STR(receiver_name(c->receivers[0]), "default");
    CHECK_INT(c->receivers[0]->nintegrations, 0);
    CHECK_STR(c->route->receiver, "default");
    CHECK_STR(c->route->key, "{}");
    CHECK_INT(c->route->group_wait_ms, 30000);
    CHECK_INT(c->route->group_interval_ms, 300000);
    CHECK_INT(c->route->repeat_interval_ms, 4 * 3600 * 1000);
    CHECK(c->route->receiver_ref == c->receivers[0]);
    CHECK(config_find_receiver(c, "default") == c->receivers[0]);
    CHECK(config_find_receiver(c, "nope") == NULL);
    CHECK(c->global.http_config != NULL && c->global.http_config->follow_redirects);
    CHECK_STR(c->global.smtp_hello, "localhost");
    CHECK(c->global.smtp_require_tls);
    /* the default text is the minimal golden config */
    char *want = read_file("config/minimal.status.yml");
    CHECK_STR(c->original_yaml, want);
    free(want);
    struct config *r = config_ref(c);
    CHECK(r == c);
    config_unref(r);
    config_unref(c);
    config_unref(NULL);
}

/* reload: whether the output is expected to load again (0.25 prints TLS versions as
 * numbers, which it cannot read back). */
static void test_golden(const char *name, bool reload)
{
    char path[256];
    char want_path[256];
    struct config *c = NULL;
    struct ar_error err;

    snprintf(path, sizeof(path), "config/%s.yml", name);
    snprintf(want_path, sizeof(want_path), "config/%s.status.yml", name);
    int rc = config_load_file(path, &c, &err);
    if (rc != AR_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
    }
    CHECK_INT(rc, AR_OK);
    if (c == NULL) {
        return;
    }
    char *want = read_file(want_path);
    CHECK(want != NULL);
    CHECK_STR(c->original_yaml, want);
    free(want);
    CHECK_STR(c->path, path);
    /* the re-serialised text loads again and re-serialises to itself */
    struct config *again = NULL;
    if (!reload) {
        config_unref(c);
        return;
    }
    rc = config_load_string(c->original_yaml, "again.yml", &again, &err);
    if (rc != AR_OK) {
        fprintf(stderr, "%s (reloaded): %s\n", path, err.msg);
    }
    CHECK_INT(rc, AR_OK);
    if (again != NULL) {
        CHECK_STR(again->original_yaml, c->original_yaml);
        config_unref(again);
    }
    config_unref(c);
}

struct match_case {
    const char *labels; /* "a=b,c=d" */
    const char *want;   /* receivers of matched routes, comma-joined */
};

static void parse_labels(const char *spec, struct labelset *ls)
{
    char *copy = strdup(spec);
    labelset_init(ls);
    for (char *tok = copy; tok && *tok;) {
        char *comma = strchr(tok, ',');
        if (comma) {
            *comma = '\0';
        }
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            labelset_set(ls, tok, eq + 1);
        }
        tok = comma ? comma + 1 : NULL;
    }
    free(copy);
}

static void join_cb(const struct route *r, void *ctx)
{
    char *out = ctx;
    if (out[0] != '\0') {
        strcat(out, ",");
    }
    strcat(out, r->receiver);
}

static void test_full_tree(void)
{
    struct config *c = NULL;
    struct ar_error err;
    int rc = config_load_file("config/full.yml", &c, &err);
    CHECK_INT(rc, AR_OK);
    if (c == NULL) {
        return;
    }
    const struct route *root = c->route;
    CHECK_INT(c->nroutes, 4);
    CHECK_INT(root->nroutes, 2);
    CHECK_INT(root->ngroup_by, 2);
    CHECK_STR(root->group_by[0], "alertname");
    CHECK_STR(root->group_by[1], "cluster");
    CHECK_INT(root->group_wait_ms, 10000);

    const struct route *pager = root->routes[0];
    CHECK_STR(pager->key, "{}/{severity=\"critical\",team=~\"a|b\"}");
    CHECK_STR(pager->receiver, "pager");
    CHECK(pager->continue_matching);
    CHECK_INT(pager->group_wait_ms, 10000); /* inherited */
    CHECK_INT(pager->ngroup_by, 2);
    CHECK_INT(pager->index, 1);

    const struct route *mail = root->routes[1];
    /* COMPAT: legacy match_re values are anchored in keys (proven on 0.25 by 02-routing) */
    CHECK_STR(mail->key, "{}/{env=~\"^(?:prod|staging)$\",service=\"db\"}");
    CHECK(mail->group_by_all);
    CHECK_INT(mail->repeat_interval_ms, 86400000);
    CHECK_INT(mail->nmute_time_intervals, 1);
    CHECK_STR(mail->mute_time_intervals[0], "offhours");

    const struct route *chat = mail->routes[0];
    CHECK_STR(chat->key, "{}/{env=~\"^(?:prod|staging)$\",service=\"db\"}/{}");
    CHECK(chat->group_by_all); /* '...' is inherited */
    CHECK_INT(chat->group_interval_ms, 5400000);
    CHECK_INT(chat->repeat_interval_ms, 86400000);
    CHECK_INT(chat->nmute_time_intervals, 0); /* not inherited */
    CHECK_INT(chat->nactive_time_intervals, 1);
    CHECK(chat->parent == mail);
    CHECK(config_route_at(c, 3) == chat);
    CHECK(config_route_at(c, 0) == root);
    CHECK(config_route_at(c, 4) == NULL);

    static const struct match_case cases[] = {
        {"alertname=x", "team"},
        {"severity=critical,team=a", "pager"}, /* continue, but no later sibling matches */
        {"severity=critical,team=c", "team"},
        {"service=db,env=prod", "chat"},
        {"severity=critical,team=b,service=db,env=staging", "pager,chat"},
        {"service=db,env=dev", "team"},
    };
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct labelset ls;
        char got[256] = "";
        parse_labels(cases[i].labels, &ls);
        route_match(c->route, &ls, join_cb, got);
        CHECK_STR(got, cases[i].want);
        const struct route **all = NULL;
        size_t n = route_match_all(c->route, &ls, &all);
        CHECK(n >= 1);
        free(all);
        labelset_cleanup(&ls);
    }

    /* inhibit rules: modern + legacy combined */
    CHECK_INT(c->ninhibit_rules, 2);
    CHECK_INT(c->inhibit_rules[0]->source.n, 1);
    CHECK_INT(c->inhibit_rules[0]->equal.n, 2);
    CHECK_INT(c->inhibit_rules[1]->source.n, 1);
    CHECK_INT(c->inhibit_rules[1]->target.n, 1);
    CHECK_INT(c->inhibit_rules[1]->target.v[0]->op, MATCHER_RE);

    /* templates joined to the config directory */
    CHECK_INT(c->templates.n, 2);
    CHECK_STR(c->templates.v[0], "config/templates/*.tmpl");
    CHECK_STR(c->templates.v[1], "/etc/am/x.tmpl");

    /* receivers and inheritance from global */
    const struct receiver *team = config_find_receiver(c, "team");
    CHECK_INT(team->nintegrations, 2);
    CHECK_STR(integration_type_name(team->integrations[1].type), "webhook");
    CHECK_INT(team->integrations[1].index, 1);
    CHECK(!team->integrations[1].send_resolved);
    const struct webhook_config *wh = team->webhook_configs.v[0];
    CHECK_STR(wh->url, "http://127.0.0.1:5001/hook");
    CHECK_INT(wh->max_alerts, 3);
    CHECK(wh->http_config != NULL && wh->http_config->basic_auth != NULL);
    const struct webhook_config *wh2 = team->webhook_configs.v[1];
    CHECK(wh2->http_config->authorization != NULL);
    CHECK_STR(wh2->http_config->authorization->credentials, "tok");
    CHECK(wh2->http_config->tls_config.insecure_skip_verify);

    const struct receiver *mailr = config_find_receiver(c, "mail");
    const struct email_config *em = mailr->email_configs.v[0];
    CHECK_STR(em->smarthost, "smtp.example.org:587");
    CHECK_STR(em->from, "am@example.org");
    CHECK_STR(em->auth_password, "hunter2");
    CHECK_INT(em->require_tls, 1);
    CHECK_STR(str_map_get(&em->headers, "X-Custom"), "hello");
    CHECK_STR(str_map_get(&em->headers, "Subject"), "Sub");
    CHECK_INT(mailr->email_configs.v[1]->require_tls, 0);

    const struct receiver *pagerr = config_find_receiver(c, "pager");
    const struct opsgenie_config *og = pagerr->opsgenie_configs.v[0];
    CHECK_STR(og->api_key, "ogkey");
    CHECK_STR(og->api_url, "https://api.opsgenie.com/");
    const struct pagerduty_config *pd = pagerr->pagerduty_configs.v[0];
    CHECK_STR(pd->url, "https://events.pagerduty.com/v2/enqueue");
    CHECK_INT(pd->details.n, 5);
    /* integration order follows Alertmanager's build order, not the file's */
    CHECK_INT(pagerr->integrations[0].type, INTEGRATION_PAGERDUTY);
    CHECK_INT(pagerr->integrations[2].type, INTEGRATION_OPSGENIE);

    const struct receiver *chatr = config_find_receiver(c, "chat");
    CHECK_STR(chatr->slack_configs.v[0]->api_url, "https://hooks.slack.com/services/XXX");
    CHECK_INT(chatr->telegram_configs.v[0]->chat_id, -100123);
    CHECK_STR(chatr->telegram_configs.v[0]->api_url, "https://api.telegram.org");

    /* time intervals */
    CHECK_INT(c->ntime_intervals, 2);
    const struct time_interval *biz = config_find_time_interval(c, "business");
    const struct time_interval *off = config_find_time_interval(c, "offhours");
    CHECK(biz != NULL && off != NULL);
    if (off != NULL) {
        CHECK(off->is_mute_spelling);
        CHECK(time_interval_contains(off, 1795975200));  /* 2026-11-29 18:00:00 UTC */
        CHECK(!time_interval_contains(off, 1795974000)); /* 17:40 UTC */
    }
    if (biz != NULL) {
        /* 2026-01-02 (Friday) 10:00 Berlin = 09:00 UTC */
        CHECK(time_interval_contains(biz, 1767344400));
        /* 2026-01-03 is a Saturday */
        CHECK(!time_interval_contains(biz, 1767430800));
        /* 2026-01-30 (Friday, day -2) 16:00 UTC = 17:00 Berlin */
        CHECK(time_interval_contains(biz, 1769788800));
        /* 2026-01-15 is not in the day ranges */
        CHECK(!time_interval_contains(biz, 1768467600));
    }
    config_unref(c);
}

struct error_case {
    const char *yaml;
    const char *want;
};

static void test_errors(void)
{
    static const struct error_case cases[] = {
        {"", "t.yml: no route provided in config"},
        {"receivers:\n- name: a\n", "t.yml: no routes provided"},
        {"route:\n  receiver: a\n  continue: true\nreceivers:\n- name: a\n",
         "t.yml:2: route: cannot have continue in root route"},
        {"route:\n  group_wait: 1s\nreceivers:\n- name: a\n",
         "t.yml:2: route: root route must specify a default receiver"},
        {"route:\n  receiver: a\n  match: {x: y}\nreceivers:\n- name: a\n",
         "t.yml:2: route: root route must not have any matchers"},
        {"route:\n  receiver: a\n  mute_time_intervals: [x]\nreceivers:\n- name: a\n",
         "t.yml:2: route: root route must not have any mute time intervals"},
        {"route:\n  receiver: a\n  active_time_intervals: [x]\nreceivers:\n- name: a\n",
         "t.yml:2: route: root route must not have any active time intervals"},
        {"route:\n  receiver: a\n  routes:\n  - receiver: b\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].receiver: undefined receiver \"b\" used in route"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n- name: a\n",
         "t.yml:5: receivers[1].name: notification config name \"a\" is not unique"},
        {"route:\n  receiver: a\nreceivers:\n- webhook_configs: []\n",
         "t.yml:4: receivers[0]: missing name in receiver"},
        {"route:\n  receiver: a\n  routes:\n  - mute_time_intervals: [nope]\nreceivers:\n"
         "- name: a\n",
         "t.yml:4: route.routes[0].mute_time_intervals: undefined time interval \"nope\" used "
         "in route"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: x\n"
         "  time_intervals: []\n- name: x\n  time_intervals: []\n",
         "t.yml:8: time_intervals[1].name: time interval \"x\" is not unique"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\nmute_time_intervals:\n- name: x\n"
         "  time_intervals: []\n- name: x\n  time_intervals: []\n",
         "t.yml:8: mute_time_intervals[1].name: mute time interval \"x\" is not unique"},
        {"route:\n  receiver: a\n  group_by: ['...', x]\nreceivers:\n- name: a\n",
         "t.yml:3: route.group_by: cannot have wildcard group_by (`...`) and other other labels "
         "at the same time"},
        {"route:\n  receiver: a\n  group_by: [x, x]\nreceivers:\n- name: a\n",
         "t.yml:3: route.group_by: duplicated label \"x\" in group_by"},
        {"route:\n  receiver: a\n  group_by: [1x]\nreceivers:\n- name: a\n",
         "t.yml:3: route.group_by: invalid label name \"1x\" in group_by list"},
        {"route:\n  receiver: a\n  group_interval: 0s\nreceivers:\n- name: a\n",
         "t.yml:3: route.group_interval: group_interval cannot be zero"},
        {"route:\n  receiver: a\n  repeat_interval: 0\nreceivers:\n- name: a\n",
         "t.yml:3: route.repeat_interval: repeat_interval cannot be zero"},
        {"route:\n  receiver: a\n  routes:\n  - receiver: a\n  - receiver: a\n  - receiver: a\n"
         "    group_wait: 5x\nreceivers:\n- name: a\n",
         "t.yml:7: route.routes[2].group_wait: not a valid duration string: \"5x\""},
        {"route:\n  receiver: a\n  foo: 1\nreceivers:\n- name: a\n",
         "t.yml:3: route: field foo not found in type config.plain"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\nbogus: 1\n",
         "t.yml:5: field bogus not found in type config.plain"},
        {"route:\n  receiver: a\n  routes:\n  - match: {'1a': b}\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].match: invalid label name \"1a\""},
        {"route:\n  receiver: a\n  routes:\n  - match_re: {a: }\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].match_re: invalid regexp value for \"a\""},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  email_configs:\n  - to: x@y\n",
         "t.yml:6: receivers[0].email_configs[0]: no global SMTP smarthost set"},
        {"global:\n  smtp_smarthost: h:25\nroute:\n  receiver: a\nreceivers:\n- name: a\n"
         "  email_configs:\n  - to: x@y\n",
         "t.yml:8: receivers[0].email_configs[0]: no global SMTP from set"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  email_configs:\n  - from: x@y\n",
         "t.yml:6: receivers[0].email_configs[0]: missing to address in email config"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n  - channel: x\n",
         "t.yml:6: receivers[0].slack_configs[0]: no global Slack API URL set either inline or "
         "in a file"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - max_alerts: 1\n",
         "t.yml:6: receivers[0].webhook_configs[0]: one of url or url_file must be configured"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: ftp://x\n",
         "t.yml:6: receivers[0].webhook_configs[0].url: unsupported scheme \"ftp\" for URL"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: http://\n",
         "t.yml:6: receivers[0].webhook_configs[0].url: missing host for URL"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: http://x\n"
         "    http_config:\n      bearer_token: a\n      bearer_token_file: b\n",
         "t.yml:8: receivers[0].webhook_configs[0].http_config: at most one of bearer_token & "
         "bearer_token_file must be configured"},
        {"global:\n  slack_api_url: http://x\n  slack_api_url_file: f\nroute:\n  receiver: a\n"
         "receivers:\n- name: a\n",
         "t.yml:2: global: at most one of slack_api_url & slack_api_url_file must be configured"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  opsgenie_configs:\n"
         "  - api_key: k\n    api_key_file: f\n",
         "t.yml:6: receivers[0].opsgenie_configs[0]: at most one of api_key & api_key_file must "
         "be configured"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: x\n"
         "  time_intervals:\n  - times:\n    - start_time: '10:00'\n      end_time: '09:00'\n",
         "t.yml:9: time_intervals[0].time_intervals[0].times[0]: start time cannot be equal or "
         "greater than end time"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: x\n"
         "  time_intervals:\n  - weekdays: ['fri:mon']\n",
         "t.yml:8: time_intervals[0].time_intervals[0].weekdays[0]: fri is not a valid weekday"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: x\n"
         "  time_intervals:\n  - days_of_month: ['0']\n",
         "t.yml:8: time_intervals[0].time_intervals[0].days_of_month[0]: 0 is not a valid day of "
         "the month: out of range"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: x\n"
         "  time_intervals:\n  - location: Nowhere/City\n",
         "t.yml:8: time_intervals[0].time_intervals[0].location: unknown time zone Nowhere/City"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  pagerduty_configs:\n  - client: x\n",
         "t.yml:6: receivers[0].pagerduty_configs[0]: missing service or routing key in "
         "PagerDuty config"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  webex_configs:\n  - room_id: r\n",
         "t.yml:6: receivers[0].webex_configs[0]: missing webex_configs.http_config."
         "authorization"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  telegram_configs:\n  - chat_id: 1\n",
         "t.yml:6: receivers[0].telegram_configs[0]: missing bot_token on telegram_config"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  msteams_configs:\n  - title: t\n",
         "t.yml:6: receivers[0].msteams_configs[0]: one of webhook_url or webhook_url_file must "
         "be configured"},
        {"route:\n  receiver: a\n  continue: maybe\nreceivers:\n- name: a\n",
         "t.yml:3: route.continue: cannot unmarshal !!str `maybe` into bool"},
        {"route:\n  receiver: a\nreceivers:\n- name: a\n  labels: {name: b}\n",
         "t.yml:5: receivers[0].labels: receiver label \"name\" must match receiver name \"a\", "
         "got \"b\""},
        {"route:\n  receiver: a\n  labels: {'a-b': x}\nreceivers:\n- name: a\n",
         "t.yml:3: route.labels: invalid label name \"a-b\" in route labels"},
        {"route: [a]\n", "t.yml:1: route: cannot unmarshal !!seq into config.plain"},
        {"route:\n  receiver: a\n  receiver: b\nreceivers:\n- name: a\n",
         "t.yml:3: route: field receiver already set in type config.plain"},
        {"route:\n  receiver: a\n  routes:\n  - matchers: ['a=~\"(\"']\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].matchers[0]: error parsing regexp: missing closing ): "
         "`^(?:()$`"},
        {"route:\n  receiver: a\n  routes:\n  - match_re: {a: '('}\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].match_re.a: error parsing regexp: missing closing ): "
         "`^(?:()$`"},
        {"route:\n  receiver: a\n  group_by: alertname\nreceivers:\n- name: a\n",
         "t.yml:3: route.group_by: cannot unmarshal !!str `alertname` into []string"},
        {"route:\n  receiver: a\n  routes:\n  - matchers: ['foo']\nreceivers:\n- name: a\n",
         "t.yml:4: route.routes[0].matchers[0]: bad matcher format: foo"},
        {"route:\n  receiver: [\n", NULL},
        {"a: &x [*x]\n", NULL},
    };
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct config *c = NULL;
        struct ar_error err;
        int rc = config_load_string(cases[i].yaml, "t.yml", &c, &err);
        CHECK_INT(rc, AR_EINVAL);
        CHECK(c == NULL);
        if (rc != AR_OK && cases[i].want != NULL) {
            CHECK_STR(err.msg, cases[i].want);
        }
        if (rc == AR_OK) {
            fprintf(stderr, "case %zu loaded unexpectedly\n", i);
            config_unref(c);
        }
    }
    struct config *c = NULL;
    struct ar_error err;
    CHECK_INT(config_load_file("config/does-not-exist.yml", &c, &err), AR_EIO);
}

/* Rejected files under config/invalid with their messages; the part after the location
 * was checked against amtool check-config (Alertmanager 0.25). */
static const struct error_case invalid_files[] = {
    {"config/invalid/email_dup.yml",
     "config/invalid/email_dup.yml:9: receivers[0].email_configs[0]: duplicate header \"A\" in"
     " email config"},
    {"config/invalid/email_hostport.yml",
     "config/invalid/email_hostport.yml:8: receivers[0].email_configs[0].smarthost: address"
     " nohost: missing port in address"},
    {"config/invalid/http_auth_basic.yml",
     "config/invalid/http_auth_basic.yml:7: receivers[0].webhook_configs[0].http_config:"
     " authorization type cannot be set to \"basic\", use \"basic_auth\" instead"},
    {"config/invalid/http_oauth.yml",
     "config/invalid/http_oauth.yml:7: receivers[0].webhook_configs[0].http_config: either"
     " oauth2 client_secret or client_secret_file must be configured"},
    {"config/invalid/inh_equal.yml",
     "config/invalid/inh_equal.yml:6: inhibit_rules[0]: \"1a\" is not a valid label name"},
    {"config/invalid/inh_re.yml",
     "config/invalid/inh_re.yml:6: inhibit_rules[0].target_match_re.a: error parsing regexp:"
     " missing closing ): `^(?:()$`"},
    {"config/invalid/og_resp.yml",
     "config/invalid/og_resp.yml:6: receivers[0].opsgenie_configs[0]: opsGenieConfig responder"
     " {   team} has to have at least one of id, username or name specified"},
    {"config/invalid/pd_nokey.yml",
     "config/invalid/pd_nokey.yml:6: receivers[0].pagerduty_configs[0]: missing service or"
     " routing key in PagerDuty config"},
    {"config/invalid/po_nouser.yml",
     "config/invalid/po_nouser.yml:6: receivers[0].pushover_configs[0]: missing user key in"
     " Pushover config"},
    {"config/invalid/slack_action.yml",
     "config/invalid/slack_action.yml:8: receivers[0].slack_configs[0].actions[0]: missing name"
     " or url in Slack action configuration"},
    {"config/invalid/slack_field.yml",
     "config/invalid/slack_field.yml:8: receivers[0].slack_configs[0].fields[0]: missing value"
     " in Slack field configuration"},
    {"config/invalid/sns_two.yml",
     "config/invalid/sns_two.yml:6: receivers[0].sns_configs[0]: must provide either a Target"
     " ARN, Topic ARN, or Phone Number for SNS config"},
    {"config/invalid/tg_parse.yml",
     "config/invalid/tg_parse.yml:6: receivers[0].telegram_configs[0]: unknown parse_mode on"
     " telegram_config, must be Markdown, MarkdownV2, HTML or empty string"},
    {"config/invalid/ti_dom.yml",
     "config/invalid/ti_dom.yml:8: time_intervals[0].time_intervals[0].days_of_month[0]: end"
     " day must be negative if start day is negative"},
    {"config/invalid/ti_month.yml",
     "config/invalid/ti_month.yml:8: time_intervals[0].time_intervals[0].months[0]: end month"
     " january is before start month march"},
    {"config/invalid/ti_range.yml",
     "config/invalid/ti_range.yml:8: time_intervals[0].time_intervals[0].weekdays[0]: couldn't"
     " parse range monday:tuesday:friday, invalid format"},
    {"config/invalid/ti_time.yml",
     "config/invalid/ti_time.yml:8: time_intervals[0].time_intervals[0].times[0]: couldn't"
     " parse timestamp 25:00, invalid format"},
    {"config/invalid/vo_nokey.yml",
     "config/invalid/vo_nokey.yml:6: receivers[0].victorops_configs[0]: no global VictorOps API"
     " Key set"},
    {"config/invalid/vo_reserved.yml",
     "config/invalid/vo_reserved.yml:6: receivers[0].victorops_configs[0]: victorOps config"
     " contains custom field entity_state which cannot be used as it conflicts with the"
     " fixed/static fields"},
    {"config/invalid/wechat_type.yml",
     "config/invalid/wechat_type.yml:9: receivers[0].wechat_configs[0]: weChat message type"
     " \"html\" does not match valid options ^(text|markdown)$"},
};

static void test_invalid_files(void)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(invalid_files); i++) {
        struct config *c = NULL;
        struct ar_error err;
        CHECK_INT(config_load_file(invalid_files[i].yaml, &c, &err), AR_EINVAL);
        CHECK_STR(err.msg, invalid_files[i].want);
        config_unref(c);
    }
}

static void test_group_by_inheritance(void)
{
    struct config *c = load_text("route:\n"
                                 "  receiver: a\n"
                                 "  group_by: [b, a]\n"
                                 "  routes:\n"
                                 "  - group_by: []\n"      /* 0.25: inherits */
                                 "  - group_by: ['...']\n" /* all labels */
                                 "    routes:\n"
                                 "    - group_by: [c]\n" /* replaces, clears '...' */
                                 "    - {}\n"
                                 "receivers:\n"
                                 "- name: a\n");
    if (c == NULL) {
        return;
    }
    const struct route *r = c->route;
    CHECK_STR(r->group_by[0], "a"); /* sorted */
    CHECK_INT(r->routes[0]->ngroup_by, 2);
    CHECK(!r->routes[0]->group_by_all);
    CHECK(r->routes[1]->group_by_all);
    CHECK_INT(r->routes[1]->routes[0]->ngroup_by, 1);
    CHECK(!r->routes[1]->routes[0]->group_by_all);
    CHECK(r->routes[1]->routes[1]->group_by_all);
    CHECK_STR(r->routes[1]->routes[1]->key, "{}/{}/{}");
    config_unref(c);
}

static void test_null_inhibit_and_matchers(void)
{
    struct config *c = load_text("route:\n"
                                 "  receiver: a\n"
                                 "  routes:\n"
                                 "  - matchers: ['{x=\"1\", y!=\"2\"}', 'a=~\"b.*\"']\n"
                                 "    match: {z: '3'}\n"
                                 "inhibit_rules:\n"
                                 "-\n"
                                 "- source_matchers: [a=b]\n"
                                 "  target_match: {c: d}\n"
                                 "  equal: [e]\n"
                                 "receivers:\n"
                                 "- name: a\n");
    if (c == NULL) {
        return;
    }
    CHECK_STR(c->route->routes[0]->key, "{}/{a=~\"b.*\",x=\"1\",y!=\"2\",z=\"3\"}");
    CHECK_INT(c->ninhibit_rules, 1);
    CHECK(strstr(c->original_yaml, "inhibit_rules:\n- null\n- source_matchers:") != NULL);
    struct labelset ls;
    parse_labels("x=1,a=bc,z=3", &ls);
    char got[64] = "";
    route_match(c->route, &ls, join_cb, got);
    CHECK_STR(got, "a");
    CHECK(matchers_match(&c->route->routes[0]->matchers, &ls));
    labelset_cleanup(&ls);
    config_unref(c);
}

static void test_all_receivers(void)
{
    struct config *c = NULL;
    struct ar_error err;
    int rc = config_load_file("config/receivers-newest.yml", &c, &err);
    if (rc != AR_OK) {
        fprintf(stderr, "%s\n", err.msg);
    }
    CHECK_INT(rc, AR_OK);
    if (c == NULL) {
        return;
    }
    const struct receiver *r = config_find_receiver(c, "all");
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_INT(r->nintegrations, INTEGRATION_TYPE_COUNT);
        for (size_t i = 0; i < r->nintegrations; i++) {
            CHECK_INT(r->integrations[i].type, (int)i);
        }
        CHECK_STR(r->msteams_configs.v[0]->title, "{{ template \"msteams.default.title\" . }}");
        CHECK_STR(r->rocketchat_configs.v[0]->api_url, "https://open.rocket.chat/");
        CHECK_STR(r->rocketchat_configs.v[0]->token, "gt");
        CHECK_STR(r->mattermost_configs.v[0]->webhook_url, "https://mm.example.org/hooks/x");
        CHECK_STR(r->jira_configs.v[0]->api_url, "https://jira.example.org/");
        CHECK_STR(r->jira_configs.v[0]->summary.template_, "S");
        CHECK_INT(r->jira_configs.v[0]->description.enable_update, 1);
        CHECK_STR(str_map_get(&r->jira_configs.v[0]->fields, "customfield_2"), "text");
        CHECK_STR(str_map_get(&r->jira_configs.v[0]->fields, "customfield_1"), "n: 2\nvalue: x");
        /* decoded once at load as JSON, typed as Go decodes YAML (keys in fields' order) */
        for (size_t i = 0; i < r->jira_configs.v[0]->fields.n; i++) {
            const char *k = r->jira_configs.v[0]->fields.keys[i];
            const char *want = strcmp(k, "customfield_1") == 0   ? "{\"n\":2,\"value\":\"x\"}"
                               : strcmp(k, "customfield_2") == 0 ? "\"text\""
                                                                 : NULL;
            if (want != NULL) {
                CHECK_STR(r->jira_configs.v[0]->fields_json[i], want);
            }
        }
        CHECK_STR(r->webhook_configs.v[0]->payload, "n: 1\ntext: '{{ .Status }}'");
        CHECK_INT(r->incidentio_configs.v[0]->timeout_ns, 30000000000LL);
        CHECK_INT(r->webhook_configs.v[0]->timeout_ns, 500000000);
        CHECK_INT(r->pushover_configs.v[0]->retry_ns, 60000000000LL);
        CHECK_INT(r->wechat_configs.v[0]->send_resolved, 0);
        CHECK_STR(r->discord_configs.v[0]->title, "{{ template \"discord.default.title\" . }}");
        CHECK_STR(r->sns_configs.v[0]->sigv4.region, "eu-west-1");
        CHECK_STR(r->victorops_configs.v[0]->api_url,
                  "https://alert.victorops.com/integrations/generic/20131114/alert/");
        CHECK(strstr(c->original_yaml, "msteamsv2_configs:") != NULL);
        CHECK(strstr(c->original_yaml, "hunter") == NULL); /* secrets never printed */
    }
    config_unref(c);
}

static void test_newest_http_keys(void)
{
    struct config *c = load_text("route:\n  receiver: a\nreceivers:\n- name: a\n"
                                 "  webhook_configs:\n  - url: http://x\n    http_config:\n"
                                 "      proxy_url: http://p:1\n"
                                 "      proxy_connect_header: {P: [s1, s2]}\n"
                                 "      http_headers: {X-B: {files: [/f], values: [v2]},\n"
                                 "                     X-A: {values: [v1], secrets: [hidden]}}\n"
                                 "  - url: http://y\n"
                                 "global:\n  http_config:\n    http_headers: {X-G: {values: [g]}}\n"
                                 "event_recorder:\n  stdout_outputs: [{}]\n");
    if (c == NULL) {
        return;
    }
    const struct http_config *h = c->receivers[0]->webhook_configs.v[0]->http_config;
    CHECK_STR(str_map_get(&h->proxy_connect_header, "P"), "- s1\n- s2");
    CHECK_INT(h->nproxy_header_lines, 2);
    if (h->nproxy_header_lines == 2) {
        CHECK_STR(h->proxy_header_lines[0].name, "P");
        CHECK_STR(h->proxy_header_lines[0].value, "s1");
        CHECK_STR(h->proxy_header_lines[1].value, "s2");
    }
    /* http_headers decoded once at load: names in order, values, secrets, then files */
    CHECK_INT(h->nheader_lines, 4);
    if (h->nheader_lines == 4) {
        CHECK_STR(h->header_lines[0].name, "X-A");
        CHECK_STR(h->header_lines[0].value, "v1");
        CHECK_STR(h->header_lines[1].value, "hidden");
        CHECK_STR(h->header_lines[2].name, "X-B");
        CHECK_STR(h->header_lines[2].value, "v2");
        CHECK(!h->header_lines[2].is_file);
        CHECK_STR(h->header_lines[3].value, "/f");
        CHECK(h->header_lines[3].is_file);
    }
    /* the global http_config, inherited by the second webhook, brings its own copy */
    h = c->receivers[0]->webhook_configs.v[1]->http_config;
    CHECK_INT(h->nheader_lines, 1);
    if (h->nheader_lines == 1) {
        CHECK_STR(h->header_lines[0].name, "X-G");
        CHECK_STR(h->header_lines[0].value, "g");
    }
    CHECK(strstr(c->original_yaml, "hidden") == NULL);
    CHECK(strstr(c->original_yaml, "s1") == NULL);
    CHECK(strstr(c->original_yaml, "- v1") != NULL);
    CHECK(strstr(c->original_yaml, "event_recorder:") != NULL);
    config_unref(c);
}

/* Zones come from the TZif files, including the POSIX rule used after the last
 * transition (2037 in "fat" files) and southern-hemisphere daylight saving. */
static void test_time_zones(void)
{
    struct config *c = load_text("route:\n  receiver: a\nreceivers:\n- name: a\n"
                                 "time_intervals:\n"
                                 "- name: syd-morning\n  time_intervals:\n"
                                 "  - times: [{start_time: '08:00', end_time: '09:00'}]\n"
                                 "    location: Australia/Sydney\n"
                                 "- name: local\n  time_intervals:\n"
                                 "  - location: Local\n");
    if (c == NULL) {
        return;
    }
    const struct time_interval *syd = config_find_time_interval(c, "syd-morning");
    /* 2045-01-10 21:30 UTC = 08:30 AEDT (+11); 2045-07-10 22:30 UTC = 08:30 AEST (+10) */
    CHECK(time_interval_contains(syd, 2367696600));
    CHECK(!time_interval_contains(syd, 2367693000)); /* 07:30 AEDT */
    CHECK(time_interval_contains(syd, 2383338600));
    CHECK(!time_interval_contains(syd, 2383342200)); /* 09:30 AEST */
    CHECK(time_interval_contains(config_find_time_interval(c, "local"), 0));
    CHECK(strstr(c->original_yaml, "location: Australia/Sydney") != NULL);
    config_unref(c);
}

/* An alias bomb (each level references the previous ten times) must fail fast. */
static void test_alias_bomb(void)
{
    char text[4096];
    size_t len = 0;
    len += (size_t)snprintf(text + len, sizeof(text) - len,
                            "route:\n  receiver: a\n  routes:\n  - &r0 {receiver: a}\n");
    for (int i = 1; i < 9; i++) {
        len +=
            (size_t)snprintf(text + len, sizeof(text) - len, "  - &r%d {receiver: a, routes: [", i);
        for (int j = 0; j < 10; j++) {
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s*r%d", j ? "," : "", i - 1);
        }
        len += (size_t)snprintf(text + len, sizeof(text) - len, "]}\n");
    }
    snprintf(text + len, sizeof(text) - len, "receivers:\n- name: a\n");
    struct config *c = NULL;
    struct ar_error err;
    CHECK_INT(config_load_string(text, "bomb.yml", &c, &err), AR_EINVAL);
    CHECK(strstr(err.msg, "too large or too deeply aliased") != NULL);
}

static void test_summary(void)
{
    struct config *c = NULL;
    struct ar_error err;
    CHECK_INT(config_load_file("config/full.yml", &c, &err), AR_OK);
    if (c == NULL) {
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    config_print_summary(c, mem);
    fclose(mem);
    CHECK_STR(buf, "Found:\n - global config\n - route\n - 2 inhibit rules\n - 4 receivers\n"
                   " - 2 templates\n  SUCCESS\n");
    free(buf);
    config_unref(c);
}

/* auth_secret without a password needs CRAM-MD5. Debian's libesmtp has it (notifier_email.c
 * loads the plugin); where it cannot, such a config is refused at load. Secrets given as
 * files count too; with a password, or without auth_username, nothing depends on CRAM-MD5. */
static void test_cram_md5_unavailable(void)
{
    static const char head[] = "global:\n  smtp_smarthost: 'mx:25'\n  smtp_from: a@b\n"
                               "route:\n  receiver: m\nreceivers:\n- name: m\n"
                               "  email_configs:\n  - to: x@y\n";
    static const struct {
        const char *tail;
        bool ok;
    } cases[] = {
        {"    auth_username: u\n    auth_secret: s\n", false},
        {"    auth_username: u\n    auth_secret_file: /nonexistent\n", false},
        {"    auth_username: u\n    auth_secret: s\n    auth_password: p\n", true},
        {"    auth_username: u\n    auth_secret: s\n    auth_password_file: /p\n", true},
        {"    auth_secret: s\n", true},
        {"    auth_username: u\n", true},
    };
    char text[512];
    struct config *c = NULL;
    struct ar_error err;

    CHECK(email_auth_cram_md5_available()); /* Debian's libesmtp with its plugins */
    snprintf(text, sizeof(text), "%s%s", head, cases[0].tail);
    c = load_text(text);
    config_unref(c);
    /* inherited from global.smtp_auth_secret as well */
    snprintf(text, sizeof(text),
             "global:\n  smtp_smarthost: 'mx:25'\n  smtp_from: a@b\n  smtp_auth_username: u\n"
             "  smtp_auth_secret: s3cret\nroute:\n  receiver: m\nreceivers:\n- name: m\n"
             "  email_configs:\n  - to: x@y\n");
    email_auth_cram_md5_disable();
    CHECK(!email_auth_cram_md5_available());
    c = NULL;
    CHECK_INT(config_load_string(text, "t.yml", &c, &err), AR_EINVAL);
    CHECK(c == NULL);
    CHECK_STR(err.msg, "t.yml:11: receivers[0].email_configs[0]: auth_secret is used only by "
                       "SMTP AUTH CRAM-MD5, which libesmtp cannot load on this system (its "
                       "plugin sasl-crammd5.so is missing); set auth_password for PLAIN or "
                       "LOGIN instead");
    CHECK(strstr(err.msg, "s3cret") == NULL);
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        snprintf(text, sizeof(text), "%s%s", head, cases[i].tail);
        c = NULL;
        int rc = config_load_string(text, "t.yml", &c, &err);
        if ((rc == AR_OK) != cases[i].ok) {
            fprintf(stderr, "cram case %zu: rc %d (%s)\n", i, rc, rc == AR_OK ? "" : err.msg);
        }
        CHECK((rc == AR_OK) == cases[i].ok);
        config_unref(c);
    }
}

/* The integration table: Alertmanager's names in build order, one *_configs key each, and
 * the pre-created metric series in 0.25's order first (COMPAT 10). */
static void test_integration_table(void)
{
    static const char *const build_order[] = {
        "webhook",   "email",     "pagerduty", "opsgenie",   "wechat",     "slack",
        "victorops", "pushover",  "sns",       "telegram",   "discord",    "webex",
        "msteams",   "msteamsv2", "jira",      "rocketchat", "incidentio", "mattermost",
    };
    static const char *const metrics_025[] = {"email", "pagerduty", "wechat",  "pushover",
                                              "slack", "opsgenie",  "webhook", "victorops",
                                              "sns",   "telegram"};
    enum integration_type types[INTEGRATION_TYPE_COUNT];
    size_t n = integration_metric_types(types);
    bool yaml_seen[INTEGRATION_TYPE_COUNT] = {false};

    CHECK_INT(INTEGRATION_TYPE_COUNT, AR_ARRAY_LEN(build_order));
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        const struct integration_def *def = integration_def_get((enum integration_type)t);
        char key[64];

        CHECK_STR(integration_type_name((enum integration_type)t), build_order[t]);
        CHECK_INT(def->type, t);
        snprintf(key, sizeof(key), "%s_configs", build_order[t]);
        CHECK_STR(def->decode.configs_key, key);
        CHECK(def->decode.config != NULL);
        CHECK(def->decode.yaml_rank >= 0 && def->decode.yaml_rank < INTEGRATION_TYPE_COUNT);
        if (def->decode.yaml_rank >= 0 && def->decode.yaml_rank < INTEGRATION_TYPE_COUNT) {
            CHECK(!yaml_seen[def->decode.yaml_rank]);
            yaml_seen[def->decode.yaml_rank] = true;
        }
        CHECK(def->via_smtp == (t == INTEGRATION_EMAIL));
    }
    CHECK(n >= AR_ARRAY_LEN(metrics_025));
    for (size_t i = 0; i < AR_ARRAY_LEN(metrics_025) && i < n; i++) {
        CHECK_STR(integration_type_name(types[i]), metrics_025[i]);
    }
    /* every integration that can be sent has series */
    for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
        const struct integration_def *def = integration_def_get((enum integration_type)t);
        bool listed = false;
        for (size_t i = 0; i < n; i++) {
            listed = listed || types[i] == (enum integration_type)t;
        }
        if (def->via_smtp || def->build != NULL) {
            CHECK(listed);
        }
    }
    CHECK(integration_def_get(INTEGRATION_TYPE_COUNT) == NULL);
    CHECK_STR(integration_type_name(INTEGRATION_TYPE_COUNT), "unknown");
}

int main(void)
{
    test_integration_table();
    test_default();
    test_golden("minimal", true);
    test_golden("full", true);
    test_golden("tricky", true);
    test_golden("http", false);
    test_golden("scalars", true); /* yaml.v2 quoting of ~100 awkward strings */
    test_full_tree();
    test_errors();
    test_invalid_files();
    test_group_by_inheritance();
    test_null_inhibit_and_matchers();
    test_all_receivers();
    test_summary();
    test_alias_bomb();
    test_time_zones();
    test_newest_http_keys();
    test_cram_md5_unavailable(); /* last: it switches CRAM-MD5 off for the process */
    return CHECK_DONE();
}

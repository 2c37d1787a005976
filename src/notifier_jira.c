/* Jira notifier (COMPAT 9.17, newest Alertmanager, REST API v2): one issue per alert group,
 * found by its label ALERT{<SHA-256 of the group key>}. A job is a chain of requests, each
 * later one decided by the reply before it (notify_request.then):
 *   1. POST <api_url>/search (Jira Cloud, api_type cloud or auto on *.atlassian.net:
 *      .../rest/api/3/search/jql) with {"fields":["status"],"jql":J,"maxResults":2};
 *   2. no issue: POST <api_url>/issue with the issue (not for an all-resolved group, which
 *      then ends here); an issue: PUT <api_url>/issue/<key> with the same fields, less
 *      summary and description unless their enable_update is on (the default);
 *   3. an issue whose state disagrees with the group (open and all resolved: resolve_transition;
 *      done and firing: reopen_transition): GET <api_url>/issue/<key>/transitions, then
 *      POST the same path with {"transition":{"id":...}} of the transition of that name.
 * Every request has Content-Type: application/json and Accept-Language: en. The issue's
 * fields (a JSON object, keys sorted as Go marshals a map): summary (cut to 255 runes),
 * description (cut to 32767 runes; left out when empty; raw JSON when api_url is a v3 path),
 * issuetype {"name"}, labels (rendered, plus the ALERT label, sorted), priority {"name"} when
 * not empty, project {"key"}, and the custom `fields` with every string rendered. Retries:
 * 5xx and 429.
 * Also owns the `jira_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define JIRA_SUMMARY_MAX     255
#define JIRA_DESCRIPTION_MAX 32767
#define FIELD_NODES_MAX      10000

/* What the steps after the search need; owned by the search request. */
struct jira_plan {
    char *base;        /* api_url without its trailing slashes */
    bool firing;       /* some alert of the group fires */
    char *create_body; /* {"fields":{...}}\n */
    char *update_body; /* the same less summary/description when not updated */
    char *reopen_transition;
    char *resolve_transition;
};

/* Owned by the GET transitions request. */
struct jira_transition {
    char *base;
    char *key;
    char *name;
};

static void plan_free(void *ctx)
{
    struct jira_plan *p = ctx;

    if (p != NULL) {
        free(p->base);
        free(p->create_body);
        free(p->update_body);
        free(p->reopen_transition);
        free(p->resolve_transition);
        free(p);
    }
}

static void transition_free(void *ctx)
{
    struct jira_transition *t = ctx;

    if (t != NULL) {
        free(t->base);
        free(t->key);
        free(t->name);
        free(t);
    }
}

static struct notify_request *step(struct notify_request *r, const char *method, char *url)
{
    struct notify_request *q = notify_request_chain_new(r);

    q->method = method;
    q->url = url;
    notify_request_add_header(q, "Accept-Language", "en");
    return q;
}

/* Go's %q for the JQL strings: quotes, backslashes and control characters escaped. */
static void put_quoted(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            buf_puts(b, "\\n");
        } else if (*p == '\t') {
            buf_puts(b, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            buf_printf(b, "\\x%02x", *p);
        } else {
            buf_putc(b, (char)*p);
        }
    }
    buf_putc(b, '"');
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A custom field's value (decoded at load, ar/config_receivers.h) as JSON with every string
 * rendered; object keys sorted, as Go marshals a map. */
static void put_field_value(struct buf *b, const json_t *v, struct notify_tmpl *t)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v);
        const char **keys = ar_calloc(n + 1, sizeof(*keys));
        const char *k;
        json_t *item;
        size_t i = 0;

        json_object_foreach((json_t *)v, k, item)
        {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_cstr);
        buf_putc(b, '{');
        for (i = 0; i < n; i++) {
            if (i > 0) {
                buf_putc(b, ',');
            }
            notify_json_str(b, keys[i]);
            buf_putc(b, ':');
            put_field_value(b, json_object_get(v, keys[i]), t);
        }
        buf_putc(b, '}');
        free(keys);
    } else if (json_is_array(v)) {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                buf_putc(b, ',');
            }
            put_field_value(b, json_array_get(v, i), t);
        }
        buf_putc(b, ']');
    } else if (json_is_string(v)) {
        notify_json_str(b, notify_tmpl_text(t, json_string_value(v)));
    } else if (json_is_integer(v)) {
        buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        char num[40];
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) { /* shortest round-trip, as Go */
            snprintf(num, sizeof(num), "%.*g", prec, d);
            if (strtod(num, NULL) == d) {
                break;
            }
        }
        buf_puts(b, num);
    } else if (json_is_boolean(v)) {
        buf_puts(b, json_is_true(v) ? "true" : "false");
    } else {
        buf_puts(b, "null");
    }
}

struct kv {
    const char *key;
    char *json;
};

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *json_of(void (*fn)(struct buf *, const void *), const void *arg)
{
    struct buf b;
    char *s;

    buf_init(&b, 0);
    fn(&b, arg);
    s = ar_strdup(buf_str(&b));
    buf_cleanup(&b);
    return s;
}

static void put_str(struct buf *b, const void *s)
{
    notify_json_str(b, s);
}

static void put_name(struct buf *b, const void *s)
{
    buf_puts(b, "{\"name\":");
    notify_json_str(b, s);
    buf_putc(b, '}');
}

static void put_key(struct buf *b, const void *s)
{
    buf_puts(b, "{\"key\":");
    notify_json_str(b, s);
    buf_putc(b, '}');
}

/* {"fields":{...}} with the entries of kv[0..n) sorted; skip names one to leave out. */
static char *issue_body(struct kv *kv, size_t n, const char *skip1, const char *skip2)
{
    struct buf b;
    bool first = true;
    char *s;

    buf_init(&b, 0);
    buf_puts(&b, "{\"fields\":{");
    for (size_t i = 0; i < n; i++) {
        if ((skip1 != NULL && strcmp(kv[i].key, skip1) == 0) ||
            (skip2 != NULL && strcmp(kv[i].key, skip2) == 0)) {
            continue;
        }
        if (!first) {
            buf_putc(&b, ',');
        }
        first = false;
        notify_json_str(&b, kv[i].key);
        buf_putc(&b, ':');
        buf_puts(&b, kv[i].json);
    }
    buf_puts(&b, "}}\n");
    s = ar_strdup(buf_str(&b));
    buf_cleanup(&b);
    return s;
}

static bool is_v3(const char *url)
{
    size_t n = strcspn(url, "?#");

    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    return n >= 2 && url[n - 2] == '/' && url[n - 1] == '3';
}

static bool host_is_atlassian(const char *url)
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h != NULL ? h + 3 : url;
    n = strcspn(h, "/?#");
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '@') {
            h += i + 1;
            n -= i + 1;
            i = 0;
        }
    }
    if (memchr(h, ':', n) != NULL) {
        n = (size_t)((const char *)memchr(h, ':', n) - h);
    }
    return n >= 13 && strncmp(h + n - 13, "atlassian.net", 13) == 0;
}

/* The transitions of the issue: POST the one named as configured. */
static bool transitions_then(struct notify_request *r, const struct notify_reply *reply, char *err,
                             size_t errsz, bool *retryable)
{
    const struct jira_transition *t = r->then_ctx;
    json_t *root = json_loadb(reply->body, reply->len, 0, NULL);
    json_t *list = json_object_get(root, "transitions");
    const char *id = NULL;

    *retryable = false;
    for (size_t i = 0; i < json_array_size(list) && id == NULL; i++) {
        json_t *tr = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(tr, "name"));
        if (name != NULL && strcmp(name, t->name) == 0) {
            id = json_string_value(json_object_get(tr, "id"));
        }
    }
    if (id == NULL) {
        snprintf(err, errsz, "can't find transition %s for issue %s", t->name, t->key);
        json_decref(root);
        return false;
    }
    struct notify_request *q =
        step(r, "POST", ar_asprintf("%s/issue/%s/transitions", t->base, t->key));
    buf_puts(&q->body, "{\"transition\":{\"id\":");
    notify_json_str(&q->body, id);
    buf_puts(&q->body, "}}\n");
    json_decref(root);
    return true;
}

/* The search answered: create or update, then maybe transition. */
static bool search_then(struct notify_request *r, const struct notify_reply *reply, char *err,
                        size_t errsz, bool *retryable)
{
    const struct jira_plan *p = r->then_ctx;
    json_t *root = json_loadb(reply->body, reply->len, 0, NULL);
    json_t *issue = json_array_get(json_object_get(root, "issues"), 0);
    const char *key = json_string_value(json_object_get(issue, "key"));
    struct notify_request *q;

    *retryable = false;
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errsz, "failed to look up existing issues: the search reply is not JSON");
        json_decref(root);
        return false;
    }
    if (key == NULL || key[0] == '\0') {
        if (p->firing) {
            q = step(r, "POST", ar_asprintf("%s/issue", p->base));
            buf_puts(&q->body, p->create_body);
        }
        /* COMPAT: no new issue for a resolved group; the job ends delivered */
        json_decref(root);
        return true;
    }
    q = step(r, "PUT", ar_asprintf("%s/issue/%s", p->base, key));
    buf_puts(&q->body, p->update_body);
    {
        const char *cat = json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(issue, "fields"), "status"),
                            "statusCategory"),
            "key"));
        bool has_status = json_object_get(json_object_get(issue, "fields"), "status") != NULL;
        bool done = cat != NULL && strcmp(cat, "done") == 0;
        const char *name = p->firing ? (done ? p->reopen_transition : NULL)
                                     : (done ? NULL : p->resolve_transition);
        if (has_status && name != NULL && name[0] != '\0') {
            struct jira_transition *t = ar_calloc(1, sizeof(*t));
            t->base = ar_strdup(p->base);
            t->key = ar_strdup(key);
            t->name = ar_strdup(name);
            q = step(q, "GET", ar_asprintf("%s/issue/%s/transitions", p->base, key));
            q->then = transitions_then;
            q->then_ctx = t;
            q->then_free = transition_free;
        }
    }
    json_decref(root);
    return true;
}

int notify_jira_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                      struct ar_error *err)
{
    const struct jira_config *c = cfg;
    const char *api_url = c->api_url != NULL ? c->api_url : "";
    struct notify_tmpl t;
    struct jira_plan *plan = ar_calloc(1, sizeof(*plan));
    struct kv *kv = ar_calloc(8 + c->fields.n, sizeof(*kv));
    size_t nkv = 0;
    char **labels = ar_calloc(c->labels.n + 1, sizeof(*labels));
    size_t nlabels = 0;
    char gk[65];
    char *alert_label;
    struct buf b;
    bool tr;
    int rc = AR_OK;

    notify_sha256_hex(d->group_key != NULL ? d->group_key : "", gk);
    alert_label = ar_asprintf("ALERT{%s}", gk);
    plan->base = ar_strndup(api_url, strcspn(api_url, "?#"));
    while (plan->base[0] != '\0' && plan->base[strlen(plan->base) - 1] == '/') {
        plan->base[strlen(plan->base) - 1] = '\0';
    }
    plan->firing = notify_data_has_firing(d);
    plan->reopen_transition = ar_strdup(c->reopen_transition ? c->reopen_transition : "");
    plan->resolve_transition = ar_strdup(c->resolve_transition ? c->resolve_transition : "");
    notify_tmpl_init(&t, d);
    const char *project = notify_tmpl_text(&t, c->project);
    const char *issue_type = notify_tmpl_text(&t, c->issue_type);
    char *summary =
        notify_truncate_runes(notify_tmpl_text(&t, c->summary.template_), JIRA_SUMMARY_MAX, &tr);
    char *description = notify_truncate_runes(notify_tmpl_text(&t, c->description.template_),
                                              JIRA_DESCRIPTION_MAX, &tr);
    for (size_t i = 0; i < c->labels.n; i++) {
        labels[nlabels++] = ar_strdup(notify_tmpl_text(&t, c->labels.v[i]));
    }
    labels[nlabels++] = ar_strdup(alert_label);
    const char *priority = notify_tmpl_text(&t, c->priority);

    kv[nkv++] = (struct kv){"summary", json_of(put_str, summary)};
    if (is_v3(api_url)) {
        /* API v3: the description is Atlassian Document Format, given as JSON */
        char *trimmed = ar_strdup(description);
        size_t s = strspn(trimmed, " \t\r\n");
        size_t e = strlen(trimmed);
        while (e > s && strchr(" \t\r\n", trimmed[e - 1]) != NULL) {
            e--;
        }
        trimmed[e] = '\0';
        if (trimmed[s] != '\0') {
            json_t *j = json_loads(trimmed + s, JSON_DECODE_ANY, NULL);
            if (j == NULL) {
                ar_error_set(err, "description template: invalid JSON for API v3");
                rc = AR_EINVAL;
            }
            json_decref(j);
            kv[nkv++] = (struct kv){"description", ar_strdup(trimmed + s)};
        }
        free(trimmed);
    } else if (description[0] != '\0') {
        kv[nkv++] = (struct kv){"description", json_of(put_str, description)};
    }
    kv[nkv++] = (struct kv){"issuetype", json_of(put_name, issue_type)};
    qsort(labels, nlabels, sizeof(*labels), cmp_str);
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (size_t i = 0; i < nlabels; i++) {
        if (i > 0) {
            buf_putc(&b, ',');
        }
        notify_json_str(&b, labels[i]);
    }
    buf_putc(&b, ']');
    kv[nkv++] = (struct kv){"labels", ar_strdup(buf_str(&b))};
    buf_cleanup(&b);
    if (priority[0] != '\0') {
        kv[nkv++] = (struct kv){"priority", json_of(put_name, priority)};
    }
    kv[nkv++] = (struct kv){"project", json_of(put_key, project)};
    /* custom fields (they replace a built-in field of the same name, as upstream's copy) */
    for (size_t i = 0; i < c->fields.n && c->fields_json != NULL; i++) {
        json_t *v = json_loads(c->fields_json[i], JSON_DECODE_ANY, NULL);
        buf_init(&b, 0);
        put_field_value(&b, v, &t);
        json_decref(v);
        for (size_t k = 0; k < nkv; k++) {
            if (strcmp(kv[k].key, c->fields.keys[i]) == 0) {
                free(kv[k].json);
                kv[k] = kv[--nkv];
                break;
            }
        }
        kv[nkv++] = (struct kv){c->fields.keys[i], ar_strdup(buf_str(&b))};
        buf_cleanup(&b);
    }
    if (rc == AR_OK && t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
    }
    if (rc == AR_OK) {
        qsort(kv, nkv, sizeof(*kv), cmp_kv);
        plan->create_body = issue_body(kv, nkv, NULL, NULL);
        plan->update_body = issue_body(kv, nkv, c->summary.enable_update == 0 ? "summary" : NULL,
                                       c->description.enable_update == 0 ? "description" : NULL);
        /* the search */
        buf_init(&b, 0);
        if (c->wont_fix_resolution != NULL && c->wont_fix_resolution[0] != '\0') {
            buf_puts(&b, "(resolution is EMPTY or resolution != ");
            put_quoted(&b, c->wont_fix_resolution);
            buf_puts(&b, ") and ");
        }
        if (plan->firing && plan->reopen_transition[0] != '\0' &&
            c->reopen_duration_ms / 60000 > 0) {
            buf_printf(&b, "(resolutiondate is EMPTY OR resolutiondate >= -%lldm) and ",
                       (long long)(c->reopen_duration_ms / 60000));
        } else {
            buf_puts(&b, "statusCategory != Done and ");
        }
        buf_puts(&b, "project=");
        put_quoted(&b, project);
        buf_puts(&b, " and labels=");
        put_quoted(&b, alert_label);
        buf_puts(&b, " order by status ASC,resolutiondate DESC");
        buf_puts(&out->body, "{\"fields\":[\"status\"],\"jql\":");
        notify_json_str(&out->body, buf_str(&b));
        buf_puts(&out->body, ",\"maxResults\":2}\n");
        buf_cleanup(&b);
        if (c->api_type != NULL && strcmp(c->api_type, "datacenter") == 0) {
            out->url = ar_asprintf("%s/search", plan->base);
        } else if ((c->api_type != NULL && strcmp(c->api_type, "cloud") == 0) ||
                   host_is_atlassian(api_url)) {
            char *u = ar_asprintf("%s/search/jql", plan->base);
            char *v2 = strstr(u, "/rest/api/2/");
            if (v2 != NULL) {
                v2[10] = '3';
            }
            out->url = u;
        } else {
            out->url = ar_asprintf("%s/search", plan->base);
        }
        out->method = "POST";
        notify_request_add_header(out, "Accept-Language", "en");
        out->http = c->http_config;
        out->then = search_then;
        out->then_ctx = plan;
        out->then_free = plan_free;
        plan = NULL;
    }
    for (size_t i = 0; i < nkv; i++) {
        free(kv[i].json);
    }
    free(kv);
    for (size_t i = 0; i < nlabels; i++) {
        free(labels[i]);
    }
    free(labels);
    free(summary);
    free(description);
    free(alert_label);
    plan_free(plan);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `jira_configs` key table --------------------------------- */

/* A Jira field is either a template string or {template, enable_update}. */
static const struct field jira_field_fields[] = {
    STR(struct jira_field, "template", template_),
    FIELD(struct jira_field, "enable_update", enable_update, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table jira_field_map_table =
    TABLE("jira.JiraFieldConfig", struct jira_field, jira_field_fields, NULL);

static int jira_field_decode(void *obj, const struct ynode *node, struct ctx *c)
{
    struct jira_field *f = obj;
    if (node != NULL && node->kind == YN_SCALAR && !ynode_is_null(node)) {
        free(f->template_);
        f->template_ = ar_strdup(node->value);
        return AR_OK;
    }
    return decode_into(&jira_field_map_table, obj, node, c);
}

static const struct table jira_field_table = {"jira.JiraFieldConfig",
                                              sizeof(struct jira_field),
                                              jira_field_fields,
                                              AR_ARRAY_LEN(jira_field_fields),
                                              NULL,
                                              jira_field_decode,
                                              NULL,
                                              NULL};

/* A YAML value as the JSON value Go's yaml.v2 decoding into interface{} gives. */
static json_t *yaml_to_json(const struct ynode *n)
{
    json_t *v;
    bool b;

    if (n == NULL) {
        return json_null();
    }
    if (n->kind == YN_MAP) {
        v = json_object();
        for (size_t i = 0; i < n->n; i++) {
            json_object_set_new(v, ynode_key(n, i)->value, yaml_to_json(ynode_val(n, i)));
        }
        return v;
    }
    if (n->kind == YN_SEQ) {
        v = json_array();
        for (size_t i = 0; i < n->n; i++) {
            json_array_append_new(v, yaml_to_json(n->items[i]));
        }
        return v;
    }
    if (n->plain && ynode_is_null(n)) {
        return json_null();
    }
    if (n->plain && yaml_parse_bool(n->value, &b)) {
        return json_boolean(b);
    }
    if (n->plain && yaml_needs_quotes(n->value)) {
        char *end;
        long long i = strtoll(n->value, &end, 0);
        double d;
        if (*end == '\0') {
            return json_integer(i);
        }
        d = strtod(n->value, &end);
        if (*end == '\0' && d == d && d - d == 0) {
            return json_real(d);
        }
    }
    return json_stringn(n->value, n->len);
}

static void jira_cleanup(void *obj)
{
    struct jira_config *j = obj;

    for (size_t i = 0; j->fields_json != NULL && i < j->fields.n; i++) {
        free(j->fields_json[i]);
    }
    AR_FREE(j->fields_json);
}

static int jira_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct jira_config *j = obj;
    const struct ynode *fields = ynode_map_find(n, "fields");

    jira_cleanup(j);
    j->fields_json = ar_calloc(j->fields.n + 1, sizeof(*j->fields_json));
    for (size_t i = 0; i < j->fields.n; i++) {
        const struct ynode *v = NULL;
        json_t *val;
        for (size_t k = 0; fields != NULL && fields->kind == YN_MAP && k < fields->n; k++) {
            if (strcmp(ynode_key(fields, k)->value, j->fields.keys[i]) == 0) {
                v = ynode_val(fields, k);
            }
        }
        val = yaml_to_json(v);
        j->fields_json[i] = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(val);
        if (j->fields_json[i] == NULL) {
            j->fields_json[i] = ar_strdup("null");
        }
    }

    if (cfg_empty(j->project)) {
        return ctx_error(c, n, "missing project in jira_config");
    }
    if (cfg_empty(j->issue_type)) {
        return ctx_error(c, n, "missing issue_type in jira_config");
    }
    if (!cfg_empty(j->api_type) && strcmp(j->api_type, "auto") != 0 &&
        strcmp(j->api_type, "cloud") != 0 && strcmp(j->api_type, "datacenter") != 0) {
        return ctx_error(c, n,
                         "unknown api_type on jira_config, must be auto, cloud or datacenter");
    }
    if (cfg_empty(j->summary.template_)) {
        free(j->summary.template_);
        j->summary.template_ = ar_strdup("{{ template \"jira.default.summary\" . }}");
    }
    if (cfg_empty(j->description.template_)) {
        free(j->description.template_);
        j->description.template_ = ar_strdup("{{ template \"jira.default.description\" . }}");
    }
    cfg_inherit_http(&j->http_config, c);
    if (j->api_url == NULL && c->global != NULL) {
        if (cfg_empty(c->global->jira_api_url)) {
            return ctx_error(c, n, "no global Jira Cloud URL set");
        }
        cfg_inherit(&j->api_url, c->global->jira_api_url);
    }
    return AR_OK;
}

#define T struct jira_config
static const struct field jira_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    URLF(T, "api_url", api_url),
    STR(T, "api_type", api_type),
    STR(T, "project", project),
    SUBFIELD(T, "summary", summary, FT_STRUCT, FF_OMITEMPTY, &jira_field_table),
    SUBFIELD(T, "description", description, FT_STRUCT, FF_OMITEMPTY, &jira_field_table),
    FIELD(T, "labels", labels, FT_STRLIST, FF_OMITEMPTY, NULL),
    STRD(T, "priority", priority, "{{ template \"jira.default.priority\" . }}"),
    STR(T, "issue_type", issue_type),
    STR(T, "reopen_transition", reopen_transition),
    STR(T, "resolve_transition", resolve_transition),
    STR(T, "wont_fix_resolution", wont_fix_resolution),
    FIELD(T, "reopen_duration", reopen_duration_ms, FT_DURATION, FF_OMITEMPTY, NULL),
    FIELD(T, "fields", fields, FT_ANYMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table jira_config_table = {"jira.plain", sizeof(struct jira_config),
                                        jira_fields,  AR_ARRAY_LEN(jira_fields),
                                        jira_check,   NULL,
                                        NULL,         jira_cleanup};

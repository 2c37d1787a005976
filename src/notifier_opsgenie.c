/* Opsgenie notifier (COMPAT 9.11): firing groups create an alert (POST <api_url>v2/alerts)
 * with alias = SHA-256 hex of the group key; resolved groups close it (POST
 * <api_url>v2/alerts/<alias>/close?identifierType=alias). Header Authorization: GenieKey.
 * Details are the common labels plus the rendered `details`, sorted by key (Go map).
 * Retries: 5xx and 429. URLs are api_url with the endpoint appended to its path, as upstream
 * copies the URL and appends to Path: a query in api_url is kept (og_url).
 *
 * update_alerts (firing only): after the create succeeded, PUT
 * <api_url>v2/alerts/<alias>/message?identifierType=alias with {"message":...} and then
 * .../description with {"description":...} (empty values omitted, as Go's omitempty), same
 * headers; sent as a request chain by the engine (notify.h). COMPAT deviation: a failed PUT
 * is retried on its own, Alertmanager sends the create again first.
 * Also owns the `opsgenie_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "ar/tmpl.h"
#include "config_internal.h"

#define OPSGENIE_MESSAGE_MAX 130

/* COMPAT: Go's safeSplit: split the trimmed text on sep and drop empty parts; the parts
 * themselves keep their spaces (" a, b ,,c " gives "a", " b ", "c"). */
static void put_split(struct buf *b, const char *key, const char *s)
{
    const char *p = s;
    const char *end = s + strlen(s);
    bool any = false;

    while (p < end && isspace((unsigned char)*p)) {
        p++;
    }
    while (end > p && isspace((unsigned char)end[-1])) {
        end--;
    }
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;

        if (stop > p) {
            buf_puts(b, any ? "," : ",\"");
            if (!any) {
                buf_puts(b, key);
                buf_puts(b, "\":[");
            }
            any = true;
            char *part = ar_strndup(p, (size_t)(stop - p));
            notify_json_str(b, part);
            free(part);
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    if (any) {
        buf_putc(b, ']');
    }
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* COMPAT: url.QueryUnescape of s[0..n): '+' is a space, %XX a byte. NULL on a bad escape. */
static char *query_unescape(const char *s, size_t n)
{
    char *out = ar_malloc(n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hex_val(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_val(s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return out;
}

struct qpair {
    char *key;
    char *value;
    size_t order; /* position in the query: values of one key keep their order */
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a;
    const struct qpair *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0) {
        return c;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The URL of an endpoint as upstream derives it from api_url (a copy whose Path gets suffix
 * appended). Without by_alias, api_url's query and fragment stay as written. With by_alias
 * the query is read as url.Query does (pairs split on '&', ones with ';' or a bad escape
 * dropped), identifierType set to alias, and written back as url.Values.Encode does (keys
 * sorted, values escaped): with a plain api_url that is just "?identifierType=alias". */
static char *og_url(const char *api_url, const char *suffix, bool by_alias)
{
    const char *base = api_url != NULL ? api_url : "";
    size_t blen = strcspn(base, "?#");
    const char *query = base[blen] == '?' ? base + blen + 1 : base + blen;
    size_t qlen = strcspn(query, "#");
    const char *frag = query + qlen; /* "" or "#..." */
    struct buf u;

    buf_init(&u, 0);
    buf_append(&u, base, blen);
    buf_puts(&u, suffix);
    if (!by_alias) {
        if (base[blen] == '?') {
            buf_putc(&u, '?');
            buf_append(&u, query, qlen);
        }
        buf_puts(&u, frag);
        char *out = buf_take(&u);
        buf_cleanup(&u);
        return out;
    }
    struct qpair *pairs = ar_calloc(qlen / 2 + 2, sizeof(*pairs)); /* a pair takes >= 2 bytes */
    size_t n = 0;

    for (const char *p = query, *end = query + qlen; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eqs = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eqs != NULL ? eqs : stop;
        bool bad = stop == p || memchr(p, ';', (size_t)(stop - p)) != NULL;
        char *k = bad ? NULL : query_unescape(p, (size_t)(kend - p));
        char *v =
            k == NULL || eqs == NULL ? NULL : query_unescape(eqs + 1, (size_t)(stop - eqs - 1));

        if (k != NULL && (eqs == NULL || v != NULL) && strcmp(k, "identifierType") != 0) {
            pairs[n].key = k;
            pairs[n].value = v != NULL ? v : ar_strdup("");
            pairs[n].order = n;
            n++;
        } else {
            free(k);
            free(v);
        }
        p = amp != NULL ? amp + 1 : end;
    }
    pairs[n].key = ar_strdup("identifierType");
    pairs[n].value = ar_strdup("alias");
    pairs[n].order = n;
    n++;
    qsort(pairs, n, sizeof(*pairs), qpair_cmp);
    buf_putc(&u, '?');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(&u, '&');
        }
        notify_query_escape(&u, pairs[i].key);
        buf_putc(&u, '=');
        notify_query_escape(&u, pairs[i].value);
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
    buf_puts(&u, frag);
    char *out = buf_take(&u);
    buf_cleanup(&u);
    return out;
}

static void put_opt(struct buf *b, const char *key, const char *v)
{
    if (v[0] == '\0') {
        return;
    }
    buf_puts(b, ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
    notify_json_str(b, v);
}

static void put_responder(struct buf *b, bool *first, const char *id, const char *name,
                          const char *username, const char *type)
{
    buf_puts(b, *first ? ",\"responders\":[{" : ",{");
    *first = false;
    bool inner = true;
    const char *keys[] = {"id", "name", "username"};
    const char *vals[] = {id, name, username};
    for (size_t i = 0; i < 3; i++) {
        if (vals[i][0] != '\0') {
            buf_puts(b, inner ? "\"" : ",\"");
            inner = false;
            buf_puts(b, keys[i]);
            buf_puts(b, "\":");
            notify_json_str(b, vals[i]);
        }
    }
    buf_puts(b, inner ? "\"type\":" : ",\"type\":");
    notify_json_str(b, type);
    buf_putc(b, '}');
}

/* One update_alerts PUT chained after r: {"<field>":value} ({} when value is empty). */
static void add_update(struct notify_request *r, const char *api_url, const char *alias,
                       const char *field, const char *value, const char *auth)
{
    struct notify_request *q = notify_request_chain_new(r);

    char suffix[96];

    snprintf(suffix, sizeof(suffix), "v2/alerts/%s/%s", alias, field);
    q->method = "PUT";
    q->url = og_url(api_url, suffix, true);
    buf_putc(&q->body, '{');
    if (value[0] != '\0') {
        buf_printf(&q->body, "\"%s\":", field);
        notify_json_str(&q->body, value);
    }
    buf_puts(&q->body, "}\n");
    notify_request_add_header(q, "Authorization", auth);
}

int notify_opsgenie_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                          struct ar_error *err)
{
    const struct opsgenie_config *c = cfg;
    struct notify_tmpl t;
    char *key = NULL;
    char *message = NULL;
    char alias[65];
    bool tr;
    char *url = NULL;
    struct tmpl_value *details;
    int rc = notify_secret(c->api_key, c->api_key_file, "api_key", &key, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_sha256_hex(d->group_key != NULL ? d->group_key : "", alias);
    notify_tmpl_init(&t, d);
    details = tmpl_map_new(TMPL_K_KV);
    struct tmpl_value *common = tmpl_data_common_labels(t.data);
    for (size_t i = 0; i < common->u.map.n; i++) {
        tmpl_kv_set(details, common->u.map.keys[i],
                    common->u.map.vals[i]->u.s.p != NULL ? common->u.map.vals[i]->u.s.p : "");
    }
    for (size_t i = 0; i < c->details.n; i++) {
        tmpl_kv_set(details, c->details.keys[i],
                    notify_tmpl_text(&t, c->details.values[i] != NULL ? c->details.values[i] : ""));
    }
    struct buf *b = &out->body;
    if (!notify_data_has_firing(d)) {
        char suffix[96];

        snprintf(suffix, sizeof(suffix), "v2/alerts/%s/close", alias);
        url = og_url(c->api_url, suffix, true);
        buf_puts(b, "{\"source\":");
        notify_json_str(b, notify_tmpl_text(&t, c->source));
        buf_puts(b, "}\n");
    } else {
        url = og_url(c->api_url, "v2/alerts", false);
        message =
            notify_truncate_runes(notify_tmpl_text(&t, c->message), OPSGENIE_MESSAGE_MAX, &tr);
        buf_puts(b, "{\"alias\":\"");
        buf_puts(b, alias);
        buf_puts(b, "\",\"message\":");
        notify_json_str(b, message);
        put_opt(b, "description", notify_tmpl_text(&t, c->description));
        buf_puts(b, ",\"details\":{");
        for (size_t i = 0; i < details->u.map.n; i++) {
            if (i > 0) {
                buf_putc(b, ',');
            }
            notify_json_str(b, details->u.map.keys[i]);
            buf_putc(b, ':');
            notify_json_str(b, details->u.map.vals[i]->u.s.p);
        }
        buf_puts(b, "},\"source\":");
        notify_json_str(b, notify_tmpl_text(&t, c->source));
        bool first = true;
        for (size_t i = 0; i < c->responders.n; i++) {
            const struct opsgenie_responder *r = c->responders.v[i];
            const char *id = notify_tmpl_text(&t, r->id);
            const char *name = notify_tmpl_text(&t, r->name);
            const char *username = notify_tmpl_text(&t, r->username);
            const char *type = notify_tmpl_text(&t, r->type);

            if (id[0] == '\0' && name[0] == '\0' && username[0] == '\0' && type[0] == '\0') {
                continue;
            }
            if (strcmp(type, "teams") == 0) {
                /* COMPAT: a comma list of team names, one responder per name, split as
                 * safeSplit does */
                const char *p = name;
                const char *end = name + strlen(name);
                while (p < end && isspace((unsigned char)*p)) {
                    p++;
                }
                while (end > p && isspace((unsigned char)end[-1])) {
                    end--;
                }
                while (p < end) {
                    const char *comma = memchr(p, ',', (size_t)(end - p));
                    const char *stop = comma != NULL ? comma : end;
                    if (stop > p) {
                        char *team = ar_strndup(p, (size_t)(stop - p));
                        put_responder(b, &first, "", team, "", "team");
                        free(team);
                    }
                    if (comma == NULL) {
                        break;
                    }
                    p = comma + 1;
                }
                continue;
            }
            put_responder(b, &first, id, name, username, type);
        }
        if (!first) {
            buf_putc(b, ']');
        }
        put_split(b, "tags", notify_tmpl_text(&t, c->tags));
        put_opt(b, "note", notify_tmpl_text(&t, c->note));
        put_opt(b, "priority", notify_tmpl_text(&t, c->priority));
        put_opt(b, "entity", notify_tmpl_text(&t, c->entity));
        put_split(b, "actions", notify_tmpl_text(&t, c->actions));
        buf_puts(b, "}\n");
    }
    const char *api_key = notify_tmpl_text(&t, key);
    if (t.rc != AR_OK) {
        ar_error_set(err, "templating error: %s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    rc = buf_puts(b, "");
    if (rc != AR_OK) {
        ar_error_set(err, "build opsgenie body: %s", ar_strerror(rc));
        goto out;
    }
    struct buf h;
    buf_init(&h, 0);
    buf_printf(&h, "GenieKey %s", api_key);
    notify_request_add_header(out, "Authorization", buf_str(&h));
    out->url = url;
    url = NULL;
    out->http = c->http_config;
    if (c->update_alerts && notify_data_has_firing(d)) {
        add_update(out, c->api_url, alias, "message", message, buf_str(&h));
        add_update(out, c->api_url, alias, "description", notify_tmpl_text(&t, c->description),
                   buf_str(&h));
    }
    buf_cleanup(&h);
out:
    free(url);
    tmpl_value_unref(details);
    free(key);
    free(message);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `opsgenie_configs` key table --------------------------------- */

static const struct field og_responder_fields[] = {
    STR(struct opsgenie_responder, "id", id),
    STR(struct opsgenie_responder, "name", name),
    STR(struct opsgenie_responder, "username", username),
    STR(struct opsgenie_responder, "type", type),
};
static const struct table og_responder_table =
    TABLE("config.OpsGenieConfigResponder", struct opsgenie_responder, og_responder_fields, NULL);

static int opsgenie_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct opsgenie_config *o = obj;
    const struct config_global *g = c->global;

    int rc = cfg_at_most_one(c, n, "api_key", o->api_key, "api_key_file", o->api_key_file);
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < o->responders.n; i++) {
        struct opsgenie_responder *r = o->responders.v[i];
        if (r == NULL) {
            continue;
        }
        if (cfg_empty(r->id) && cfg_empty(r->username) && cfg_empty(r->name)) {
            return ctx_error(c, n,
                             "opsGenieConfig responder {%s %s %s %s} has to have at least one "
                             "of id, username or name specified",
                             r->id ? r->id : "", r->name ? r->name : "",
                             r->username ? r->username : "", r->type ? r->type : "");
        }
        if (r->type != NULL && strstr(r->type, "{{") != NULL) {
            continue;
        }
        /* COMPAT: validated lowercased, but the stored value keeps its spelling (upstream
         * lowercases a copy) */
        char *t = ar_strdup(r->type ? r->type : "");
        for (char *p = t; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        if (strcmp(t, "team") != 0 && strcmp(t, "teams") != 0 && strcmp(t, "user") != 0 &&
            strcmp(t, "escalation") != 0 && strcmp(t, "schedule") != 0) {
            rc = ctx_error(c, n,
                           "opsGenieConfig responder {%s %s %s %s} type does not match valid "
                           "options ^(team|teams|user|escalation|schedule)$",
                           r->id ? r->id : "", r->name ? r->name : "",
                           r->username ? r->username : "", t);
            free(t);
            return rc;
        }
        free(t);
    }
    cfg_inherit_http(&o->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (o->api_url == NULL) {
        if (cfg_empty(g->opsgenie_api_url)) {
            return ctx_error(c, n, "no global OpsGenie URL set");
        }
        cfg_inherit(&o->api_url, g->opsgenie_api_url);
    }
    cfg_url_ensure_slash(&o->api_url);
    if (cfg_empty(o->api_key) && cfg_empty(o->api_key_file)) {
        if (cfg_empty(g->opsgenie_api_key) && cfg_empty(g->opsgenie_api_key_file)) {
            return ctx_error(c, n, "no global OpsGenie API Key set either inline or in a file");
        }
        cfg_inherit(&o->api_key, g->opsgenie_api_key);
        cfg_inherit(&o->api_key_file, g->opsgenie_api_key_file);
    }
    return AR_OK;
}

#define T struct opsgenie_config
static const struct field opsgenie_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "api_key", api_key),
    STR(T, "api_key_file", api_key_file),
    URLF(T, "api_url", api_url),
    STRD(T, "message", message, "{{ template \"opsgenie.default.message\" . }}"),
    STRD(T, "description", description, "{{ template \"opsgenie.default.description\" . }}"),
    STRD(T, "source", source, "{{ template \"opsgenie.default.source\" . }}"),
    FIELD(T, "details", details, FT_STRMAP, FF_OMITEMPTY, NULL),
    STR(T, "entity", entity),
    SUBFIELD(T, "responders", responders, FT_LIST, FF_OMITEMPTY, &og_responder_table),
    STR(T, "actions", actions),
    STR(T, "tags", tags),
    STR(T, "note", note),
    STR(T, "priority", priority),
    FIELD(T, "update_alerts", update_alerts, FT_BOOL, FF_OMITEMPTY, NULL),
};
#undef T
const struct table opsgenie_config_table =
    TABLE("config.plain", struct opsgenie_config, opsgenie_fields, opsgenie_check);

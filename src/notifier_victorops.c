/* VictorOps notifier (COMPAT 9.13): POST <api_url><api_key>/<routing_key> with a JSON map of
 * strings (keys sorted): message_type (CRITICAL/WARNING/INFO kept while firing, else
 * CRITICAL; RECOVERY when resolved), entity_id (SHA-256 hex of the group key), display name,
 * state message (<= 20480 runes), monitoring tool and the rendered custom fields.
 * Retries: 5xx only. The URL holds the API key and is never printed unredacted.
 * Also owns the `victorops_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "ar/tmpl.h"
#include "config_internal.h"

#define VICTOROPS_STATE_MAX 20480

int notify_victorops_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                           struct ar_error *err)
{
    const struct victorops_config *c = cfg;
    struct notify_tmpl t;
    char *key = NULL;
    char *state = NULL;
    char entity[65];
    bool tr;
    int rc = notify_secret(c->api_key, c->api_key_file, "api_key", &key, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_sha256_hex(d->group_key != NULL ? d->group_key : "", entity);
    notify_tmpl_init(&t, d);
    const char *routing = notify_tmpl_text(&t, c->routing_key);
    const char *mtype = notify_tmpl_text(&t, c->message_type);
    state = notify_truncate_runes(notify_tmpl_text(&t, c->state_message), VICTOROPS_STATE_MAX, &tr);
    if (!notify_data_has_firing(d)) {
        mtype = "RECOVERY";
    } else if (strcmp(mtype, "INFO") != 0 && strcmp(mtype, "WARNING") != 0 &&
               strcmp(mtype, "CRITICAL") != 0) {
        mtype = "CRITICAL";
    }
    struct tmpl_value *m = tmpl_map_new(TMPL_K_KV);
    tmpl_kv_set(m, "message_type", mtype);
    tmpl_kv_set(m, "entity_id", entity);
    tmpl_kv_set(m, "entity_display_name", notify_tmpl_text(&t, c->entity_display_name));
    tmpl_kv_set(m, "state_message", state);
    tmpl_kv_set(m, "monitoring_tool", notify_tmpl_text(&t, c->monitoring_tool));
    for (size_t i = 0; i < c->custom_fields.n; i++) {
        const char *v = c->custom_fields.values[i];
        tmpl_kv_set(m, c->custom_fields.keys[i], notify_tmpl_text(&t, v != NULL ? v : ""));
    }
    if (t.rc != AR_OK) {
        ar_error_set(err, "templating error: %s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    struct buf *b = &out->body;
    buf_putc(b, '{');
    for (size_t i = 0; i < m->u.map.n; i++) {
        if (i > 0) {
            buf_putc(b, ',');
        }
        notify_json_str(b, m->u.map.keys[i]);
        buf_putc(b, ':');
        notify_json_str(b, m->u.map.vals[i]->u.s.p);
    }
    rc = buf_puts(b, "}\n");
    if (rc != AR_OK) {
        ar_error_set(err, "build victorops body: %s", ar_strerror(rc));
        goto out;
    }
    struct buf u;
    buf_init(&u, 0);
    buf_printf(&u, "%s%s/%s", c->api_url != NULL ? c->api_url : "", key, routing);
    out->url = buf_take(&u);
    buf_cleanup(&u);
    out->http = c->http_config;
out:
    tmpl_value_unref(m);
    free(key);
    free(state);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `victorops_configs` key table --------------------------------- */

static int victorops_check(void *obj, struct ctx *c, const struct ynode *n)
{
    static const char *const reserved[] = {
        "routing_key",     "message_type", "state_message", "entity_display_name",
        "monitoring_tool", "entity_id",    "entity_state"};
    struct victorops_config *v = obj;
    const struct config_global *g = c->global;

    if (cfg_empty(v->routing_key)) {
        return ctx_error(c, n, "missing Routing key in VictorOps config");
    }
    int rc = cfg_at_most_one(c, n, "api_key", v->api_key, "api_key_file", v->api_key_file);
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(reserved); i++) {
        if (str_map_get(&v->custom_fields, reserved[i]) != NULL) {
            return ctx_error(c, n,
                             "victorOps config contains custom field %s which cannot be used "
                             "as it conflicts with the fixed/static fields",
                             reserved[i]);
        }
    }
    cfg_inherit_http(&v->http_config, c);
    if (g == NULL) {
        return AR_OK;
    }
    if (v->api_url == NULL) {
        if (cfg_empty(g->victorops_api_url)) {
            return ctx_error(c, n, "no global VictorOps URL set");
        }
        cfg_inherit(&v->api_url, g->victorops_api_url);
    }
    cfg_url_ensure_slash(&v->api_url);
    if (cfg_empty(v->api_key) && cfg_empty(v->api_key_file)) {
        if (cfg_empty(g->victorops_api_key) && cfg_empty(g->victorops_api_key_file)) {
            return ctx_error(c, n, "no global VictorOps API Key set");
        }
        cfg_inherit(&v->api_key, g->victorops_api_key);
        cfg_inherit(&v->api_key_file, g->victorops_api_key_file);
    }
    return AR_OK;
}

#define T struct victorops_config
static const struct field victorops_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SECRET(T, "api_key", api_key),
    STR(T, "api_key_file", api_key_file),
    FIELD(T, "api_url", api_url, FT_URL, 0, NULL),
    FIELD(T, "routing_key", routing_key, FT_STR, 0, NULL),
    FIELD(T, "message_type", message_type, FT_STR, 0, "CRITICAL"),
    FIELD(T, "state_message", state_message, FT_STR, 0,
          "{{ template \"victorops.default.state_message\" . }}"),
    FIELD(T, "entity_display_name", entity_display_name, FT_STR, 0,
          "{{ template \"victorops.default.entity_display_name\" . }}"),
    FIELD(T, "monitoring_tool", monitoring_tool, FT_STR, 0,
          "{{ template \"victorops.default.monitoring_tool\" . }}"),
    FIELD(T, "custom_fields", custom_fields, FT_STRMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table victorops_config_table =
    TABLE("config.plain", struct victorops_config, victorops_fields, victorops_check);

/* VictorOps notifier (COMPAT 9.13): POST <api_url><api_key>/<routing_key> with a JSON map of
 * strings (keys sorted): message_type (CRITICAL/WARNING/INFO kept while firing, else
 * CRITICAL; RECOVERY when resolved), entity_id (SHA-256 hex of the group key), display name,
 * state message (<= 20480 runes), monitoring tool and the rendered custom fields.
 * Retries: 5xx only. The URL holds the API key and is never printed unredacted. */
#include <stdlib.h>
#include <string.h>

#include "ar/notify.h"
#include "ar/tmpl.h"

#define VICTOROPS_STATE_MAX 20480

int notify_victorops_build(const struct notify_data *d, const void *cfg,
                           struct notify_request *out, struct ar_error *err)
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
    state = notify_truncate_runes(notify_tmpl_text(&t, c->state_message), VICTOROPS_STATE_MAX,
                                  &tr);
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

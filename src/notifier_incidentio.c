/* incident.io notifier (COMPAT 9.14, newest Alertmanager): the webhook message with version
 * "1" (template Data, groupKey, truncatedAlerts after max_alerts) posted to url (or url_file,
 * read at each send) with `Authorization: Bearer <alert_source_token>` when a token is
 * configured, which then replaces http_config's authorization. A body over 512 KiB keeps
 * only its first alert (status and common labels unchanged). Retries: 5xx and 429.
 * Also owns the `incidentio_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define INCIDENTIO_PAYLOAD_MAX (512u * 1024)
#define INCIDENTIO_BODY_MAX    (64u * 1024 * 1024)

int notify_incidentio_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err)
{
    const struct incidentio_config *c = cfg;
    char *url = NULL;
    char *token = NULL;
    char *auth;
    int rc = notify_required_secret(c->url, c->url_file, "url", "incidentio", &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    rc = notify_secret(c->alert_source_token, c->alert_source_token_file, "alert_source_token",
                       &token, err);
    if (rc != AR_OK) {
        free(url);
        return rc;
    }
    out->body.max = INCIDENTIO_BODY_MAX;
    rc = notify_webhook_message(d, c->max_alerts, "1", 0, &out->body);
    if (rc == AR_OK && out->body.len > INCIDENTIO_PAYLOAD_MAX && d->nalerts > 1) {
        buf_reset(&out->body);
        rc = notify_webhook_message(d, c->max_alerts, "1", 1, &out->body);
    }
    if (rc != AR_OK) {
        ar_error_set(err, "failed to encode incident.io message: %s", ar_strerror(rc));
        free(url);
        free(token);
        return rc;
    }
    if (token[0] != '\0') {
        auth = ar_asprintf("Bearer %s", token);
        notify_request_add_header(out, "Authorization", auth);
        free(auth);
        out->auth_replaced = true;
    }
    free(token);
    out->url = url;
    out->http = c->http_config;
    out->timeout_ns = c->timeout_ns;
    return AR_OK;
}

/* ---- configuration: the `incidentio_configs` key table --------------------------------- */

static int incidentio_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct incidentio_config *i = obj;

    if (i->url == NULL && cfg_empty(i->url_file)) {
        return ctx_error(c, n, "one of url or url_file must be configured");
    }
    if (i->url != NULL && !cfg_empty(i->url_file)) {
        return ctx_error(c, n, "at most one of url & url_file must be configured");
    }
    int rc = cfg_at_most_one(c, n, "alert_source_token", i->alert_source_token,
                             "alert_source_token_file", i->alert_source_token_file);
    if (rc != AR_OK) {
        return rc;
    }
    bool token = !cfg_empty(i->alert_source_token) || !cfg_empty(i->alert_source_token_file);
    bool auth = i->http_config != NULL && i->http_config->authorization != NULL;
    if (token && auth) {
        return ctx_error(c, n,
                         "cannot specify alert_source_token or alert_source_token_file when "
                         "using http_config.authorization");
    }
    if (!token && !auth) {
        return ctx_error(c, n,
                         "at least one of alert_source_token, alert_source_token_file or "
                         "http_config.authorization must be configured");
    }
    cfg_inherit_http(&i->http_config, c);
    return AR_OK;
}

#define T struct incidentio_config
static const struct field incidentio_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    FIELD(T, "url", url, FT_URL, 0, NULL),
    FIELD(T, "url_file", url_file, FT_STR, 0, NULL),
    SECRET(T, "alert_source_token", alert_source_token),
    STR(T, "alert_source_token_file", alert_source_token_file),
    FIELD(T, "max_alerts", max_alerts, FT_UINT64, 0, NULL),
    FIELD(T, "timeout", timeout_ns, FT_GODURATION, 0, NULL),
};
#undef T
const struct table incidentio_config_table =
    TABLE("incidentio.plain", struct incidentio_config, incidentio_fields, incidentio_check);

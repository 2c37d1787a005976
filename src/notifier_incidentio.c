/* incident.io notifier (COMPAT 9.14, newest Alertmanager): the webhook message with version
 * "1" (template Data, groupKey, truncatedAlerts after max_alerts) posted to url (or url_file,
 * read at each send) with `Authorization: Bearer <alert_source_token>` when a token is
 * configured, which then replaces http_config's authorization. A body over 512 KiB keeps
 * only its first alert (status and common labels unchanged). Retries: 5xx and 429. */
#include <stdlib.h>
#include <string.h>

#include "ar/notify.h"

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

/* Template data from JSON (tmpl_data_from_json): turns an Alertmanager webhook payload, or a
 * bare list of alerts, into the `Data` value the templates see. Used by the `template
 * render` command and by tests that replay payloads captured from Alertmanager. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include "ar/gotime.h"

#include <jansson.h>
#include <string.h>

static const char *str_field(json_t *o, const char *key, const char *def)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : def;
}

static int parse_time_field(json_t *o, const char *key, int64_t *sec, int32_t *nsec,
                            struct ar_error *err)
{
    const char *s = str_field(o, key, NULL);
    struct gotime_parsed t;

    *sec = TMPL_ZERO_TIME_SEC;
    *nsec = 0;
    if (s == NULL || *s == '\0') {
        return AR_OK;
    }
    if (gotime_parse(GOTIME_RFC3339, s, &t, NULL) != AR_OK) {
        ar_error_set(err, "alert %s: \"%s\" is not an RFC 3339 time", key, s);
        return AR_EINVAL;
    }
    *sec = t.sec;
    *nsec = t.nsec;
    return AR_OK;
}

static int fill_kv(struct tmpl_value *kv, json_t *obj, const char *what, struct ar_error *err)
{
    const char *k;
    json_t *v;

    if (obj == NULL || json_is_null(obj)) {
        return AR_OK;
    }
    if (!json_is_object(obj)) {
        ar_error_set(err, "%s must be an object of strings", what);
        return AR_EINVAL;
    }
    json_object_foreach(obj, k, v)
    {
        if (!json_is_string(v)) {
            ar_error_set(err, "%s.%s must be a string", what, k);
            return AR_EINVAL;
        }
        tmpl_kv_set(kv, k, json_string_value(v));
    }
    return AR_OK;
}

static int add_alert(struct tmpl_value *data, json_t *a, struct ar_error *err)
{
    int64_t ss;
    int64_t es;
    int32_t sn;
    int32_t en;
    const char *status;
    struct tmpl_value *alert;
    int rc;

    if (!json_is_object(a)) {
        ar_error_set(err, "each alert must be an object");
        return AR_EINVAL;
    }
    if (parse_time_field(a, "startsAt", &ss, &sn, err) != AR_OK ||
        parse_time_field(a, "endsAt", &es, &en, err) != AR_OK) {
        return AR_EINVAL;
    }
    status = str_field(a, "status", NULL);
    if (status == NULL) {
        /* A bare alert: resolved when it has ended. */
        status = es != TMPL_ZERO_TIME_SEC ? "resolved" : "firing";
    }
    alert = tmpl_alert_new(status, ss, sn, es, en, str_field(a, "generatorURL", ""),
                           str_field(a, "fingerprint", ""));
    rc = fill_kv(tmpl_alert_labels(alert), json_object_get(a, "labels"), "labels", err);
    if (rc == AR_OK) {
        rc = fill_kv(tmpl_alert_annotations(alert), json_object_get(a, "annotations"),
                     "annotations", err);
    }
    if (rc != AR_OK) {
        tmpl_value_unref(alert);
        return rc;
    }
    tmpl_data_add_alert_take(data, alert);
    return AR_OK;
}

int tmpl_data_from_json(const char *text, size_t len, const char *receiver,
                        const char *external_url, struct tmpl_value **out, struct ar_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    json_t *alerts;
    struct tmpl_value *data = NULL;
    size_t i;
    int rc = AR_OK;

    if (root == NULL) {
        ar_error_set(err, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return AR_EINVAL;
    }
    if (json_is_array(root)) {
        data = tmpl_data_new(receiver ? receiver : "", true, external_url);
        alerts = root;
    } else if (json_is_object(root) && json_is_array(json_object_get(root, "alerts"))) {
        data = tmpl_data_new(str_field(root, "receiver", receiver ? receiver : ""), false,
                             str_field(root, "externalURL", external_url ? external_url : ""));
        alerts = json_object_get(root, "alerts");
    } else {
        json_decref(root);
        ar_error_set(err, "expected a webhook payload object with \"alerts\" or a list of alerts");
        return AR_EINVAL;
    }
    for (i = 0; i < json_array_size(alerts) && rc == AR_OK; i++) {
        rc = add_alert(data, json_array_get(alerts, i), err);
    }
    if (rc == AR_OK && json_is_object(root)) {
        rc = fill_kv(tmpl_data_group_labels(data), json_object_get(root, "groupLabels"),
                     "groupLabels", err);
        if (rc == AR_OK) {
            rc = fill_kv(tmpl_data_common_labels(data), json_object_get(root, "commonLabels"),
                         "commonLabels", err);
        }
        if (rc == AR_OK) {
            rc = fill_kv(tmpl_data_common_annotations(data),
                         json_object_get(root, "commonAnnotations"), "commonAnnotations", err);
        }
        if (rc == AR_OK) {
            const char *st = str_field(root, "status", NULL);

            if (st != NULL) {
                tmpl_data_set_status(data, st);
            } else {
                tmpl_data_finish(data, false);
            }
        }
    } else if (rc == AR_OK) {
        tmpl_data_finish(data, true);
    }
    json_decref(root);
    if (rc != AR_OK) {
        tmpl_value_unref(data);
        return rc;
    }
    *out = data;
    return AR_OK;
}

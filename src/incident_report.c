/* Incident reports (ar/incident_report.h): the report's data, built from the incident's
 * rows on a read-only connection, and its rendering (JSON, or templates/report.tmpl through
 * the Go template engine). */
#include "ar/incident_report.h"

#include "ar/clock.h"
#include "ar/embedded.h"
#include "ar/incident.h"
#include "ar/store_incidents.h"
#include "ar/timefmt.h"
#include "ar/tmpl.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_TEMPLATE_FILE "report.tmpl"

bool incident_report_format_parse(const char *s, enum incident_report_format *out)
{
    if (s == NULL || s[0] == '\0' || strcmp(s, "markdown") == 0 || strcmp(s, "md") == 0) {
        *out = INCIDENT_REPORT_MARKDOWN;
    } else if (strcmp(s, "html") == 0) {
        *out = INCIDENT_REPORT_HTML;
    } else if (strcmp(s, "json") == 0) {
        *out = INCIDENT_REPORT_JSON;
    } else {
        return false;
    }
    return true;
}

const char *incident_report_content_type(enum incident_report_format f)
{
    switch (f) {
    case INCIDENT_REPORT_HTML:
        return "text/html; charset=utf-8";
    case INCIDENT_REPORT_JSON:
        return "application/json";
    default:
        return "text/markdown; charset=utf-8";
    }
}

/* "2006-01-02 15:04:05 UTC"; "" for 0. */
static json_t *utc_text(int64_t ns)
{
    char s[40];
    struct tm tm;
    time_t t = (time_t)(ns / AR_NS_PER_SEC);

    if (ns == 0) {
        return json_string("");
    }
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return json_string(s);
}

static json_t *rfc3339(int64_t ns)
{
    char s[64];

    if (ns == 0) {
        return json_string("");
    }
    time_format_rfc3339_ms(ns, 0, s);
    return json_string(s);
}

/* Go's Duration.String() rounded to seconds: "1h2m3s", "45s", "0s"; "" when unknown. */
static json_t *duration_text(int64_t from, int64_t to)
{
    char s[48];
    int64_t sec;

    if (from == 0 || to == 0 || to < from) {
        return json_string("");
    }
    sec = (to - from) / AR_NS_PER_SEC;
    if (sec >= 3600) {
        snprintf(s, sizeof(s), "%lldh%lldm%llds", (long long)(sec / 3600),
                 (long long)(sec % 3600 / 60), (long long)(sec % 60));
    } else if (sec >= 60) {
        snprintf(s, sizeof(s), "%lldm%llds", (long long)(sec / 60), (long long)(sec % 60));
    } else {
        snprintf(s, sizeof(s), "%llds", (long long)sec);
    }
    return json_string(s);
}

/* "name {k="v", ...}" of an alert's labels (alertname first). */
static void labels_text(struct buf *b, json_t *labels)
{
    const char *name = json_string_value(json_object_get(labels, "alertname"));
    const char *k;
    json_t *v;
    bool first = true;

    buf_puts(b, name ? name : "alert");
    buf_puts(b, " {");
    json_object_foreach(labels, k, v)
    {
        if (strcmp(k, "alertname") == 0) {
            continue;
        }
        buf_printf(b, "%s%s=\"%s\"", first ? "" : ", ", k, json_string_value(v));
        first = false;
    }
    buf_putc(b, '}');
}

/* The text as a markdown table cell: one line, pipes escaped. */
static json_t *md_cell(const char *s)
{
    struct buf cell;
    json_t *v;

    buf_init(&cell, 0);
    for (const char *p = s ? s : ""; *p != '\0'; p++) {
        if (*p == '|') {
            buf_puts(&cell, "\\|");
        } else {
            buf_putc(&cell, *p == '\n' || *p == '\r' ? ' ' : *p);
        }
    }
    v = json_string(buf_str(&cell));
    buf_cleanup(&cell);
    return v;
}

/* Joins a list of strings with sep, as a markdown cell (cell) or as text. */
static json_t *joined(json_t *list, const char *sep, bool cell)
{
    struct buf b;
    size_t i;
    json_t *s;
    json_t *v;

    buf_init(&b, 0);
    json_array_foreach(list, i, s)
    {
        buf_printf(&b, "%s%s", i ? sep : "", json_string_value(s));
    }
    v = cell ? md_cell(buf_str(&b)) : json_string(buf_str(&b));
    buf_cleanup(&b);
    return v;
}

struct report_ctx {
    json_t *timeline;
    json_t *notifications;
    json_t *acks;
    json_t *sections; /* object: key -> array of notes (all versions, in order) */
};

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static void on_event(void *vctx, int64_t seq, int64_t at, const char *kind, const char *detail)
{
    struct report_ctx *c = vctx;
    json_error_t jerr;
    json_t *d = json_loads(detail ? detail : "{}", 0, &jerr);
    json_t *row = json_object();
    struct buf b;
    char id[24];

    buf_init(&b, 0);
    if (d == NULL) {
        d = json_object();
    }
    snprintf(id, sizeof(id), "%lld",
             (long long)json_integer_value(json_object_get(d, "deliveryID")));
    if (strcmp(kind, "alert_firing") == 0 || strcmp(kind, "alert_resolved") == 0 ||
        strcmp(kind, "silenced") == 0 || strcmp(kind, "inhibited") == 0) {
        buf_puts(&b, kind[6] == 'f'   ? "Alert firing: "
                     : kind[6] == 'r' ? "Alert resolved: "
                     : kind[0] == 's' ? "Alert silenced: "
                                      : "Alert inhibited: ");
        labels_text(&b, json_object_get(d, "labels"));
        if (kind[0] == 's') {
            buf_printf(&b, " by silence %s", str(d, "silenceID"));
        } else if (kind[0] == 'i') {
            buf_printf(&b, " by alert %s", str(d, "inhibitedBy"));
        }
    } else if (strcmp(kind, "notification") == 0) {
        json_t *n = json_object();
        int64_t sent = 0;
        int16_t off;
        const char *sa = str(d, "sentAt");
        if (time_parse_rfc3339(sa, strlen(sa), &sent, &off) != AR_OK || sent == AR_TIME_UNSET) {
            sent = at;
        }
        buf_printf(&b, "Notification to %s/%s (delivery %s, %lld firing, %lld resolved): %s",
                   str(d, "receiver"), str(d, "integration"), id,
                   (long long)json_integer_value(json_object_get(d, "firing")),
                   (long long)json_integer_value(json_object_get(d, "resolved")),
                   str(d, "outcome"));
        if (str(d, "error")[0] != '\0') {
            buf_printf(&b, " (%s)", str(d, "error"));
        }
        json_object_set_new(n, "at", utc_text(sent));
        json_object_set(n, "receiver", json_object_get(d, "receiver"));
        json_object_set(n, "integration", json_object_get(d, "integration"));
        json_object_set(n, "deliveryID", json_object_get(d, "deliveryID"));
        json_object_set(n, "firing", json_object_get(d, "firing"));
        json_object_set(n, "resolved", json_object_get(d, "resolved"));
        json_object_set(n, "outcome", json_object_get(d, "outcome"));
        json_object_set_new(n, "outcomeAt", utc_text(at));
        json_object_set(n, "attempts", json_object_get(d, "attempts"));
        json_object_set(n, "error", json_object_get(d, "error"));
        json_object_set_new(n, "errorCell", md_cell(str(d, "error")));
        json_array_append_new(c->notifications, n);
    } else if (strcmp(kind, "acknowledged") == 0) {
        json_t *a = json_object();
        bool effective = json_is_true(json_object_get(d, "effective"));
        if (effective) {
            buf_printf(&b, "Acknowledged by %s", str(d, "by"));
        } else {
            buf_printf(&b, "Acknowledgement by %s not taken: already acknowledged by %s",
                       str(d, "by"), str(d, "acknowledgedBy"));
        }
        if (str(d, "comment")[0] != '\0') {
            buf_printf(&b, ": %s", str(d, "comment"));
        }
        json_object_set_new(a, "at", utc_text(at));
        json_object_set(a, "by", json_object_get(d, "by"));
        json_object_set(a, "comment", json_object_get(d, "comment"));
        json_object_set_new(a, "effective", json_boolean(effective));
        json_array_append_new(c->acks, a);
    } else if (strcmp(kind, "ack_cleared") == 0) {
        buf_printf(&b, "Acknowledgement by %s cleared: %s", str(d, "acknowledgedBy"),
                   str(d, "reason"));
    } else if (strcmp(kind, "ack_message") == 0) {
        buf_printf(&b, "Acknowledgement message to %s/%s: %s", str(d, "receiver"),
                   str(d, "integration"), str(d, "outcome"));
        if (str(d, "error")[0] != '\0') {
            buf_printf(&b, " (%s)", str(d, "error"));
        }
    } else if (strcmp(kind, "note") == 0) {
        buf_printf(&b, "Note %lld (%s) by %s",
                   (long long)json_integer_value(json_object_get(d, "noteID")), str(d, "section"),
                   str(d, "author"));
        if (json_integer_value(json_object_get(d, "replaces")) != 0) {
            buf_printf(&b, ", replacing note %lld",
                       (long long)json_integer_value(json_object_get(d, "replaces")));
        }
    } else if (strcmp(kind, "resolved") == 0) {
        buf_puts(&b, "Incident resolved: every alert of the group resolved");
    } else if (strcmp(kind, "closed") == 0) {
        buf_printf(&b, "Incident closed: %s", str(d, "reason"));
    } else {
        buf_puts(&b, kind);
    }
    json_object_set_new(row, "seq", json_integer(seq));
    json_object_set_new(row, "at", utc_text(at));
    json_object_set_new(row, "kind", json_string(kind));
    json_object_set_new(row, "text", json_string(buf_str(&b)));
    json_object_set_new(row, "cell", md_cell(buf_str(&b)));
    json_array_append_new(c->timeline, row);
    buf_cleanup(&b);
    json_decref(d);
}

static void on_note(void *vctx, const struct incident_note_row *n)
{
    struct report_ctx *c = vctx;
    json_t *list = json_object_get(c->sections, n->section);
    json_t *note = json_object();

    json_object_set_new(note, "id", json_integer(n->id));
    json_object_set_new(note, "at", utc_text(n->at));
    json_object_set_new(note, "author", json_string(n->author));
    json_object_set_new(note, "text", json_string(n->text));
    json_object_set_new(note, "replaces", json_integer(n->replaces));
    if (list == NULL) {
        json_decref(note);
        return;
    }
    json_object_set_new(note, "edited", json_boolean(n->replaces != 0));
    if (n->replaces != 0) {
        /* the report shows the latest version of each note: where the version it replaces
         * stood when the section is the same, else at the end of its new section */
        const char *key;
        json_t *sec;
        json_object_foreach(c->sections, key, sec)
        {
            size_t i;
            json_t *old;
            json_array_foreach(sec, i, old)
            {
                if (json_integer_value(json_object_get(old, "id")) != n->replaces) {
                    continue;
                }
                if (sec == list) {
                    json_array_set_new(list, i, note);
                    return;
                }
                json_array_remove(sec, i);
                json_array_append_new(list, note);
                return;
            }
        }
    }
    json_array_append_new(list, note);
}

/* Appends v to the string array `set` unless it is empty or already there. */
static void add_distinct(json_t *set, const char *v)
{
    size_t j;
    json_t *s;

    if (v[0] == '\0') {
        return;
    }
    json_array_foreach(set, j, s)
    {
        if (strcmp(json_string_value(s), v) == 0) {
            return;
        }
    }
    json_array_append_new(set, json_string(v));
}

/* The services of the alerts (instance, job, service label values, once each) and their
 * impact (summary, description and impact annotations, once each). */
static void services_and_impact(json_t *alerts, json_t *services, json_t *impact)
{
    static const char *const svc_labels[] = {"service", "job", "instance"};
    static const char *const impact_keys[] = {"impact", "summary", "description"};
    size_t i;
    json_t *a;

    json_array_foreach(alerts, i, a)
    {
        for (size_t k = 0; k < AR_ARRAY_LEN(svc_labels); k++) {
            add_distinct(services, str(json_object_get(a, "labels"), svc_labels[k]));
        }
        for (size_t k = 0; k < AR_ARRAY_LEN(impact_keys); k++) {
            add_distinct(impact, str(json_object_get(a, "annotations"), impact_keys[k]));
        }
    }
}

static void kv_from_json(struct tmpl_value *kv, json_t *o)
{
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v)
    {
        if (json_is_string(v)) {
            tmpl_kv_set(kv, k, json_string_value(v));
        }
    }
}

char *incident_title(const struct tmpl_set *notify_templates, const struct incident_row *r)
{
    json_error_t jerr;
    json_t *alerts;
    json_t *gl;
    struct tmpl_value *data;
    struct ar_error err;
    struct buf out;
    size_t i;
    json_t *a;
    int rc;

    if (notify_templates == NULL) {
        return ar_strdup(r->group_key);
    }
    alerts = json_loads(r->alerts ? r->alerts : "[]", 0, &jerr);
    gl = json_loads(r->group_labels, 0, &jerr);
    data = tmpl_data_new(r->receiver, true, "");
    json_array_foreach(alerts, i, a)
    {
        struct tmpl_value *ta =
            tmpl_alert_new("firing", 0, 0, TMPL_ZERO_TIME_SEC, 0, "", str(a, "fingerprint"));
        kv_from_json(tmpl_alert_labels(ta), json_object_get(a, "labels"));
        kv_from_json(tmpl_alert_annotations(ta), json_object_get(a, "annotations"));
        tmpl_data_add_alert_take(data, ta);
    }
    kv_from_json(tmpl_data_group_labels(data), gl);
    tmpl_data_finish(data, true);
    json_decref(alerts);
    json_decref(gl);
    buf_init(&out, 0);
    rc = tmpl_set_execute(notify_templates, "slack.default.title", TMPL_TEXT, data, &out, &err);
    tmpl_value_unref(data);
    if (rc != AR_OK || out.len == 0) {
        buf_cleanup(&out);
        return ar_strdup(r->group_key);
    }
    return buf_take(&out);
}

/* The report's data (a new JSON object) or NULL with rc set. */
static json_t *report_data(const char *dir, int64_t id, const struct tmpl_set *notify_templates,
                           int *rc)
{
    sqlite3 *db = store_incidents_open_ro(dir);
    struct incident_row *r = NULL;
    struct report_ctx c;
    json_error_t jerr;
    json_t *d;
    json_t *alerts;
    json_t *sections;

    if (db == NULL) {
        *rc = AR_EDB;
        return NULL;
    }
    *rc = store_incident_get(db, id, &r);
    if (*rc != AR_OK) {
        sqlite3_close(db);
        return NULL;
    }
    c.timeline = json_array();
    c.notifications = json_array();
    c.acks = json_array();
    c.sections = json_object();
    for (size_t i = 0; incident_section_keys[i] != NULL; i++) {
        json_object_set_new(c.sections, incident_section_keys[i], json_array());
    }
    {
        /* the first entry: the row's opening (no event row is written for it) */
        json_t *row = json_object();
        struct buf b;
        buf_init(&b, 0);
        buf_printf(&b, "Incident opened for receiver %s", r->receiver);
        json_object_set_new(row, "seq", json_integer(0));
        json_object_set_new(row, "at", utc_text(r->opened_at));
        json_object_set_new(row, "kind", json_string("opened"));
        json_object_set_new(row, "text", json_string(buf_str(&b)));
        json_object_set_new(row, "cell", md_cell(buf_str(&b)));
        json_array_append_new(c.timeline, row);
        buf_cleanup(&b);
    }
    *rc = store_incident_events_each(db, id, on_event, &c);
    if (*rc == AR_OK) {
        *rc = store_incident_notes_each(db, id, on_note, &c);
    }
    sqlite3_close(db);
    d = json_object();
    json_object_set_new(d, "id", json_integer(r->id));
    {
        char *t = incident_title(notify_templates, r);
        json_object_set_new(d, "title", json_string(t));
        free(t);
    }
    json_object_set_new(d, "state", json_string(r->state));
    json_object_set_new(d, "severity", json_string(r->severity));
    json_object_set_new(d, "receiver", json_string(r->receiver));
    json_object_set_new(d, "groupKey", json_string(r->group_key));
    json_object_set_new(d, "groupLabels", json_loads(r->group_labels, 0, &jerr));
    {
        char day[16];
        char tod[16];
        struct tm tm;
        time_t t = (time_t)(r->opened_at / AR_NS_PER_SEC);
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        strftime(tod, sizeof(tod), "%H:%M:%S", &tm);
        json_object_set_new(d, "date", json_string(day));
        json_object_set_new(d, "time", json_string(tod));
    }
    json_object_set_new(d, "openedAt", rfc3339(r->opened_at));
    json_object_set_new(d, "opened", utc_text(r->opened_at));
    json_object_set_new(d, "acknowledgedAt", rfc3339(r->acked_at));
    json_object_set_new(d, "acknowledged", utc_text(r->acked_at));
    json_object_set_new(d, "acknowledgedBy", json_string(r->acked_by));
    json_object_set_new(d, "ackComment", json_string(r->ack_comment));
    json_object_set_new(d, "resolvedAt", rfc3339(r->resolved_at));
    json_object_set_new(d, "resolved", utc_text(r->resolved_at));
    json_object_set_new(d, "timeToAcknowledge", duration_text(r->opened_at, r->acked_at));
    json_object_set_new(d, "timeToResolve", duration_text(r->opened_at, r->resolved_at));
    alerts = json_loads(r->alerts, 0, &jerr);
    if (alerts == NULL) {
        alerts = json_array();
    }
    {
        json_t *services = json_array();
        json_t *impact = json_array();
        services_and_impact(alerts, services, impact);
        json_object_set_new(d, "servicesCell", joined(services, ", ", true));
        json_object_set_new(d, "impactCell", joined(impact, "; ", true));
        json_object_set_new(d, "services", services);
        json_object_set_new(d, "impact", impact);
    }
    json_object_set_new(d, "alerts", alerts);
    json_object_set_new(d, "timeline", c.timeline);
    json_object_set_new(d, "notifications", c.notifications);
    json_object_set_new(d, "acknowledgements", c.acks);
    sections = json_array();
    for (size_t i = 0; incident_section_keys[i] != NULL; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "key", json_string(incident_section_keys[i]));
        json_object_set_new(s, "title", json_string(incident_section_titles[i]));
        json_object_set(s, "notes", json_object_get(c.sections, incident_section_keys[i]));
        json_array_append_new(sections, s);
    }
    json_object_set_new(d, "sections", sections);
    json_decref(c.sections);
    incident_row_free(r);
    if (*rc != AR_OK) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* JSON to template values: objects are maps (field access by key), arrays lists. */
static struct tmpl_value *to_tmpl(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        struct tmpl_value *m = tmpl_map_new(TMPL_K_PLAIN);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            tmpl_map_set_take(m, k, to_tmpl(x));
        }
        return m;
    }
    case JSON_ARRAY: {
        struct tmpl_value *l = tmpl_list_new(TMPL_K_PLAIN);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            tmpl_list_push_take(l, to_tmpl(x));
        }
        return l;
    }
    case JSON_STRING:
        return tmpl_string_n(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return tmpl_int(json_integer_value(v));
    case JSON_REAL:
        return tmpl_float(json_real_value(v));
    case JSON_TRUE:
        return tmpl_bool(true);
    case JSON_FALSE:
        return tmpl_bool(false);
    default:
        return tmpl_nil();
    }
}

/* The built-in report templates, parsed once. */
static struct tmpl_set *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static int parse_builtin(struct tmpl_set *set, struct ar_error *err)
{
    for (const struct ar_embedded_file *f = ar_templates; f->name != NULL; f++) {
        if (strcmp(f->name, REPORT_TEMPLATE_FILE) == 0) {
            return tmpl_set_parse(set, f->name, f->data, f->len, err);
        }
    }
    ar_error_set(err, "template %s is not compiled in", REPORT_TEMPLATE_FILE);
    return AR_ENOTFOUND;
}

static void builtin_init(void)
{
    struct ar_error err;

    builtin = tmpl_set_new();
    if (parse_builtin(builtin, &err) != AR_OK) {
        tmpl_set_free(builtin);
        builtin = NULL;
    }
}

int incident_report_render(const char *storage_dir, int64_t id, enum incident_report_format f,
                           const char *template_path, const struct tmpl_set *notify_templates,
                           struct buf *out, struct ar_error *err)
{
    int rc;
    json_t *d = report_data(storage_dir, id, notify_templates, &rc);
    struct tmpl_set *own = NULL;
    const struct tmpl_set *set;
    struct tmpl_value *v;

    if (d == NULL) {
        ar_error_set(err,
                     rc == AR_ENOTFOUND ? "incident not found" : "failed to read the incident");
        return rc;
    }
    if (f == INCIDENT_REPORT_JSON) {
        char *s = json_dumps(d, JSON_COMPACT);
        buf_puts(out, s);
        free(s);
        json_decref(d);
        return AR_OK;
    }
    if (template_path != NULL && template_path[0] != '\0') {
        own = tmpl_set_new();
        rc = parse_builtin(own, err);
        if (rc == AR_OK) {
            rc = tmpl_set_parse_file(own, template_path, err);
        }
        if (rc != AR_OK) {
            tmpl_set_free(own);
            json_decref(d);
            return rc == AR_ENOTFOUND || rc == AR_EIO ? AR_EINVAL : rc;
        }
        set = own;
    } else {
        pthread_once(&builtin_once, builtin_init);
        if (builtin == NULL) {
            json_decref(d);
            ar_error_set(err, "the built-in report template does not parse");
            return AR_EINVAL;
        }
        set = builtin;
    }
    v = to_tmpl(d);
    json_decref(d);
    rc = tmpl_set_execute(
        set, f == INCIDENT_REPORT_HTML ? "incident.report.html" : "incident.report.markdown",
        f == INCIDENT_REPORT_HTML ? TMPL_HTML : TMPL_TEXT, v, out, err);
    tmpl_value_unref(v);
    tmpl_set_free(own);
    return rc == AR_ENOTFOUND ? AR_EINVAL : rc;
}

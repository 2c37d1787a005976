/* Incident reports: the data of one incident's report (header, timeline, notifications,
 * acknowledgements, response times, notes by section) read from the database on a read-only
 * connection, and its rendering as JSON or through a Go template (templates/report.tmpl,
 * compiled in; a user's file may redefine `incident.report.markdown` and
 * `incident.report.html`). Runs on the caller's thread: never on the core. */
#ifndef AR_INCIDENT_REPORT_H
#define AR_INCIDENT_REPORT_H
#include "ar/buf.h"
#include "ar/common.h"

enum incident_report_format {
    INCIDENT_REPORT_MARKDOWN,
    INCIDENT_REPORT_HTML,
    INCIDENT_REPORT_JSON,
};

/* "markdown", "html" or "json" (NULL or "" = markdown); false for another name. */
bool incident_report_format_parse(const char *s, enum incident_report_format *out);
/* Content-Type of a format's output. */
const char *incident_report_content_type(enum incident_report_format f);

struct incident_row;
struct tmpl_set;

/* The incident's title: the default chat title (`slack.default.title` of the notification
 * templates, the user's definition when the configuration has one) rendered over every alert
 * that joined it, as firing, with its group labels, e.g. `[FIRING:1] monitor_service_down
 * (cadvisor:8080 cadvisor docker-host-alpha critical)`. Rendered when read, so the core's
 * flushes never pay for it. notify_templates NULL or a failed render: the group key. A new
 * heap string. */
char *incident_title(const struct tmpl_set *notify_templates, const struct incident_row *r);

/* Renders the report of incident id from <storage_dir>/alertrouter.db into out. template_path
 * (NULL: the built-in template only) is a template file parsed after the built-in one, so it
 * may redefine either report; notify_templates give the title (incident_title). AR_OK; AR_ENOTFOUND
 * (no such incident); AR_EDB; AR_EINVAL or AR_ELIMIT with the template error in err. */
int incident_report_render(const char *storage_dir, int64_t id, enum incident_report_format f,
                           const char *template_path, const struct tmpl_set *notify_templates,
                           struct buf *out, struct ar_error *err);

#endif

/* alertrouter's own settings, kept out of alertmanager.yml so that file stays exactly
 * Alertmanager's format: the optional extensions file named by --extensions.file
 * (docs/compat.md "Extensions file"). Decoded strictly (unknown keys are errors), with
 * file:line: key-path messages like the main configuration, into an immutable, refcounted
 * struct. It is loaded, checked and reloaded together with alertmanager.yml and attached
 * to the config as config->ext (NULL when no file is given); every accessor accepts NULL
 * and then answers the defaults (no heartbeats, no report template, no ack message).
 *
 *   heartbeats:
 *     - name: prometheus-watchdog            # required, unique
 *       matchers: ['alertname="Watchdog"']   # required, classic matcher syntax
 *       timeout: 5m                          # required, > 0, Prometheus duration
 *       labels: {severity: critical}         # optional, added to the raised alert
 *       annotations: {summary: "..."}        # optional
 *   incidents:
 *     report_template: report.tmpl           # optional, relative to the file's directory
 *     ack_message: true                      # optional, default false; an ack posts
 *                                            # "[ACK] title" to the chat integrations
 *                                            # (api_incidents.c)
 */
#ifndef AR_CONFIG_EXT_H
#define AR_CONFIG_EXT_H

#include "ar/common.h"
#include "ar/config_receivers.h"
#include "ar/matcher.h"

#include <stdio.h>

/* One dead-man's switch (heartbeat.c watches it). */
struct heartbeat_cfg {
    char *name;
    struct matcher_list matchers; /* never empty */
    int64_t timeout_ms;           /* > 0 */
    struct str_map labels;        /* classic names; never alertname or heartbeat */
    struct str_map annotations;
};

struct config_ext;

/* Loads and validates the file. Errors name file, line and key path, e.g.
 * `ext.yml:4: heartbeats[0].timeout: not a valid duration string: "5x"`; AR_EIO when the
 * file cannot be read, else AR_EINVAL. A report_template must exist and parse as a Go
 * template. Result owned by the caller. */
int config_ext_load_file(const char *path, struct config_ext **out, struct ar_error *err);
/* Same for text in memory; name is used in messages, relative paths resolve against
 * base_dir (NULL: the current directory). */
int config_ext_load_string(const char *text, const char *name, const char *base_dir,
                           struct config_ext **out, struct ar_error *err);
struct config_ext *config_ext_ref(struct config_ext *x);
void config_ext_unref(struct config_ext *x); /* accepts NULL */

/* The file it came from; NULL for NULL. */
const char *config_ext_path(const struct config_ext *x);
size_t config_ext_nheartbeats(const struct config_ext *x);
/* Heartbeat i < config_ext_nheartbeats(x), in file order. */
const struct heartbeat_cfg *config_ext_heartbeat(const struct config_ext *x, size_t i);
/* incidents.report_template as an absolute or cwd-relative path, or NULL when unset. */
const char *config_ext_report_template(const struct config_ext *x);
/* incidents.ack_message (default false). */
bool config_ext_ack_message(const struct config_ext *x);

/* The check-config summary: "Found:" and what the file configures. */
void config_ext_print_summary(const struct config_ext *x, FILE *out);

#endif

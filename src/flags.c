/* Command-line parsing (ar/flags.h): a table of flags with their kind, default and help
 * text; the same table prints --help, so every flag is documented. */
#include "ar/flags.h"

#include "ar/duration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STRING, K_LIST, K_DURATION, K_INT, K_BOOL, K_IGNORED };

struct flag_def {
    const char *name;
    enum kind kind;
    size_t offset;
    const char *def;
    const char *help;
};

#define OFF(f) offsetof(struct flags, f)

static const struct flag_def defs[] = {
    {"config.file", K_STRING, OFF(config_file), "alertmanager.yml",
     "Alertmanager configuration file; without it the built-in default configuration is used"},
    {"extensions.file", K_STRING, OFF(extensions_file), "",
     "Optional file of alertrouter-only settings (heartbeats, incidents) kept out of "
     "alertmanager.yml; loaded, checked and reloaded with it (\"\": none)"},
    {"storage.path", K_STRING, OFF(storage_path), "data/",
     "Directory holding the SQLite database (alertrouter.db)"},
    {"storage.max-bytes", K_INT, OFF(storage_max_bytes), "0",
     "Cap on the database size in bytes (0 = none): beyond it the oldest history, then "
     "delivered notifications and audit entries are pruned (live state never is)"},
    {"storage.url", K_STRING, OFF(storage_url), "",
     "PostgreSQL connection string (postgres://... or libpq key=value) to share state between "
     "instances (docs/ha.md): silences, the notification log and membership; the local "
     "SQLite store stays at --storage.path"},
    {"storage.password-file", K_STRING, OFF(storage_password_file), "",
     "File whose first line is the PostgreSQL password (else PGPASSWORD or ~/.pgpass)"},
    {"storage.synchronous", K_STRING, OFF(storage_synchronous), "normal",
     "normal: acknowledged alerts and silences survive a crash of the process (kill -9); "
     "full: also a power loss or OS crash, at the cost of an fsync per commit"},
    {"web.listen-address", K_LIST, OFF(listen), ":9093",
     "Address to listen on for the API (repeatable)"},
    {"web.external-url", K_STRING, OFF(external_url), "",
     "URL under which alertrouter is reachable (default http://<hostname>:<port>/)"},
    {"web.route-prefix", K_STRING, OFF(route_prefix), "",
     "Prefix of all HTTP endpoints (default: path of --web.external-url)"},
    {"web.config.file", K_STRING, OFF(web_config_file), "",
     "Web configuration file (TLS, client certificates, basic_auth_users, response headers); "
     "re-read on SIGHUP and /-/reload"},
    {"data.retention", K_DURATION, OFF(retention_ms), "120h",
     "How long to keep expired silences and notification log entries"},
    {"history.retention", K_DURATION, OFF(history_retention_ms), "90d",
     "How long alert state changes (/api/x/history/alerts) and finished notifications with "
     "their delivery log (/api/x/history/notifications) are kept; the maintenance run deletes "
     "older ones"},
    {"data.maintenance-interval", K_DURATION, OFF(maintenance_ms), "15m",
     "Interval between storage maintenance runs"},
    {"alerts.gc-interval", K_DURATION, OFF(gc_interval_ms), "30m",
     "Interval between deletions of resolved alerts"},
    {"log.level", K_STRING, OFF(log_level), "info", "Log level: debug, info, warn, error"},
    {"log.format", K_STRING, OFF(log_format), "logfmt", "Log format: logfmt, json"},
    {"api.max-body-bytes", K_INT, OFF(max_body_bytes), "16777216",
     "Largest accepted request body in bytes (larger: 413)"},
    {"api.max-alerts-per-request", K_INT, OFF(max_alerts), "50000",
     "Most alerts accepted in one POST (0 = unlimited)"},
    {"api.max-labels-per-alert", K_INT, OFF(max_labels), "0",
     "Most labels accepted on one alert (0 = unlimited)"},
    {"api.max-label-bytes", K_INT, OFF(max_label_bytes), "0",
     "Longest accepted label or annotation name/value in bytes (0 = unlimited)"},
    {"web.read-timeout", K_INT, OFF(read_timeout_s), "30",
     "Seconds a connection may stay open without a request, in total; headers within 10 s"},
    {"web.max-connections", K_INT, OFF(max_connections), "4096",
     "Concurrent HTTP connections beyond which a new one closes the slowest or idlest"},
    {"web.max-connections-per-address", K_INT, OFF(max_conns_per_address), "0",
     "Concurrent HTTP connections from one client address beyond which a new one closes "
     "that address's slowest or idlest, else is closed (0 = a quarter of --web.max-connections)"},
    {"silences.max-silences", K_INT, OFF(max_silences), "0",
     "Most active and pending silences (0 = unlimited); more are refused with 400"},
    {"web.rate-limit", K_INT, OFF(rate_limit), "0",
     "Requests per second allowed per client address, answered 429 beyond (0 = unlimited)"},
    {"web.rate-limit-burst", K_INT, OFF(rate_limit_burst), "100",
     "Requests a client may send at once before --web.rate-limit applies"},
    {"notify.deadline", K_DURATION, OFF(notify_deadline_ms), "0",
     "How long a notification is retried before it becomes a dead letter "
     "(0 = max(group_interval, 10s) as Alertmanager; mainly for tests)"},
    {"web.get-concurrency", K_IGNORED, 0, "0", "Accepted for compatibility; no effect yet"},
    {"web.timeout", K_IGNORED, 0, "0", "Accepted for compatibility; no effect yet"},
    {"web.systemd-socket", K_IGNORED, 0, "false", "Accepted for compatibility; no effect yet"},
    {"web.ui-path", K_IGNORED, 0, "/usr/share/prometheus/alertmanager/ui/",
     "Accepted for compatibility (Debian's Alertmanager has it); alertrouter serves no UI"},
    {"cluster.listen-address", K_STRING, OFF(cluster_listen), "0.0.0.0:9094",
     "Cluster address as Alertmanager's; alertrouter opens no gossip port and answers as a "
     "ready cluster of one (itself) in /api/v2/status and /metrics; \"\" disables it"},
    {"cluster.advertise-address", K_STRING, OFF(cluster_advertise), "",
     "Address shown for this peer (default: the listen address, an unspecified host "
     "replaced by this machine's private IP)"},
    {"cluster.claim-lease", K_DURATION, OFF(cluster_claim_lease_ms), "30s",
     "With --storage.url: how long a flush claim holds before another instance may take "
     "the notification over (renewed every third of it while the send retries)"},
    /* Alertmanager 0.25's other clustering flags: accepted, ignored with a warning */
    {"cluster.peer", K_IGNORED, 0, "", "Accepted for compatibility; no HA gossip (ignored)"},
    {"cluster.peer-timeout", K_IGNORED, 0, "15s", "Accepted for compatibility; ignored"},
    {"cluster.gossip-interval", K_IGNORED, 0, "200ms", "Accepted for compatibility; ignored"},
    {"cluster.pushpull-interval", K_IGNORED, 0, "1m0s", "Accepted for compatibility; ignored"},
    {"cluster.tcp-timeout", K_IGNORED, 0, "10s", "Accepted for compatibility; ignored"},
    {"cluster.probe-timeout", K_IGNORED, 0, "500ms", "Accepted for compatibility; ignored"},
    {"cluster.probe-interval", K_IGNORED, 0, "1s", "Accepted for compatibility; ignored"},
    {"cluster.settle-timeout", K_IGNORED, 0, "1m0s", "Accepted for compatibility; ignored"},
    {"cluster.reconnect-interval", K_IGNORED, 0, "10s", "Accepted for compatibility; ignored"},
    {"cluster.reconnect-timeout", K_IGNORED, 0, "6h0m0s", "Accepted for compatibility; ignored"},
    {"cluster.tls-config", K_IGNORED, 0, "", "Accepted for compatibility; ignored"},
    {"cluster.allow-insecure-public-advertise-address-discovery", K_IGNORED, 0, "false",
     "Accepted for compatibility; ignored"},
    {"version", K_BOOL, OFF(show_version), NULL, "Print the version and exit"},
    {"help", K_BOOL, OFF(show_help), NULL, "Print this help and exit"},
    {"help-long", K_BOOL, OFF(show_help), NULL, "Same as --help (Alertmanager's kingpin has it)"},
    {"help-man", K_BOOL, OFF(show_help), NULL, "Same as --help (see also man -l alertrouter.8)"},
};

/* Any other --cluster.* flag (of a later Alertmanager): accepted, ignored with a warning. */
static bool is_cluster_flag(const char *name)
{
    return strncmp(name, "cluster.", 8) == 0;
}

static bool is_bool(const struct flag_def *d)
{
    return d->kind == K_BOOL || (d->kind == K_IGNORED && strcmp(d->def, "false") == 0);
}

void flags_usage(FILE *out)
{
    fprintf(out, "usage: alertrouter [<flags>]\n"
                 "       alertrouter check-config <file>... [--extensions.file=FILE]\n"
                 "       alertrouter template render|check ...\n"
                 "       alertrouter deliveries list|replay ...\n"
                 "       alertrouter history alerts|notifications ...\n\n"
                 "An Alertmanager-compatible alert router.\n\nFlags:\n");
    for (size_t i = 0; i < AR_ARRAY_LEN(defs); i++) {
        const struct flag_def *d = &defs[i];
        fprintf(out, "  --%s%s\n      %s", d->name,
                is_bool(d) ? "" : (d->kind == K_DURATION ? "=DURATION" : "=VALUE"), d->help);
        if (d->def != NULL && !is_bool(d)) {
            fprintf(out, " (default: %s)", d->def[0] ? d->def : "\"\"");
        }
        fputc('\n', out);
    }
    fprintf(out, "  Any other --cluster.* flag is accepted and ignored with a warning (no gossip "
                 "HA);\n  boolean flags also take --no-<flag>.\n");
}

static int set_value(struct flags *f, const struct flag_def *d, const char *v, struct ar_error *err)
{
    char *base = (char *)f;
    char *end;

    switch (d->kind) {
    case K_STRING:
        *(const char **)(base + d->offset) = v;
        if (strcmp(d->name, "config.file") == 0) {
            f->config_file_set = true;
        }
        return AR_OK;
    case K_LIST:
        if (f->nlisten >= AR_ARRAY_LEN(f->listen)) {
            ar_error_set(err, "too many --%s flags", d->name);
            return AR_EINVAL;
        }
        f->listen[f->nlisten++] = v;
        return AR_OK;
    case K_DURATION: {
        int64_t ms;
        struct ar_error derr;
        if (duration_parse(v, &ms, &derr) != AR_OK) {
            ar_error_set(err, "invalid value for --%s: %s", d->name, derr.msg);
            return AR_EINVAL;
        }
        *(int64_t *)(base + d->offset) = ms;
        return AR_OK;
    }
    case K_INT: {
        long long n;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n < 0 || errno == ERANGE) {
            ar_error_set(err, "invalid value for --%s: %s is not a non-negative 64-bit integer",
                         d->name, v);
            return AR_EINVAL;
        }
        *(int64_t *)(base + d->offset) = n;
        return AR_OK;
    }
    default:
        return AR_OK;
    }
}

int flags_parse(int argc, char **argv, struct flags *out, struct ar_error *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < AR_ARRAY_LEN(defs); i++) {
        if (defs[i].kind != K_BOOL && defs[i].kind != K_IGNORED && defs[i].kind != K_LIST) {
            if (set_value(out, &defs[i], defs[i].def, err) != AR_OK) {
                return AR_EINVAL;
            }
        }
    }
    out->config_file_set = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq;
        char name[128];
        const char *value = NULL;
        const struct flag_def *d = NULL;

        if (strcmp(arg, "-h") == 0) {
            out->show_help = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            ar_error_set(err, "unexpected argument %s", arg);
            return AR_EINVAL;
        }
        arg += 2;
        eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
        if (eq != NULL) {
            value = eq + 1;
        }
        for (size_t k = 0; k < AR_ARRAY_LEN(defs); k++) {
            if (strcmp(defs[k].name, name) == 0) {
                d = &defs[k];
            }
        }
        if (d == NULL && strncmp(name, "no-", 3) == 0 && eq == NULL) {
            /* kingpin's negated boolean: --no-web.systemd-socket */
            for (size_t k = 0; k < AR_ARRAY_LEN(defs); k++) {
                if (strcmp(defs[k].name, name + 3) == 0 && is_bool(&defs[k])) {
                    d = &defs[k];
                }
            }
            if (d != NULL) {
                if (d->kind == K_BOOL) {
                    *(bool *)((char *)out + d->offset) = false;
                }
                continue;
            }
        }
        if (d == NULL && !is_cluster_flag(name)) {
            ar_error_set(err, "unknown long flag '--%s'", name);
            return AR_EINVAL;
        }
        if (d != NULL && d->kind == K_BOOL) {
            if (value != NULL && strcmp(value, "true") != 0) {
                continue;
            }
            *(bool *)((char *)out + d->offset) = true;
            continue;
        }
        if (value == NULL) {
            /* --flag value; a bare boolean-looking Alertmanager flag takes no value */
            if (d != NULL && d->kind == K_IGNORED && strcmp(d->def, "false") == 0) {
                continue;
            }
            if (i + 1 >= argc) {
                ar_error_set(err, "expected argument for flag '--%s'", name);
                return AR_EINVAL;
            }
            value = argv[++i];
        }
        if (d == NULL || d->kind == K_IGNORED) {
            if (out->nignored < AR_ARRAY_LEN(out->ignored)) {
                out->ignored[out->nignored++] = argv[i][0] == '-' ? argv[i] : argv[i - 1];
            }
            continue;
        }
        if (set_value(out, d, value, err) != AR_OK) {
            return AR_EINVAL;
        }
    }
    if (out->nlisten == 0) {
        out->listen[out->nlisten++] = ":9093";
    }
    return AR_OK;
}

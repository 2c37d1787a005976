/* Command-line flags, named as Alertmanager's so existing service files work (COMPAT 11),
 * plus alertrouter's own limits. Accepts --flag=value and --flag value. */
#ifndef AR_FLAGS_H
#define AR_FLAGS_H

#include "ar/common.h"

#include <stdio.h>

struct flags {
    const char *config_file;         /* --config.file */
    bool config_file_set;            /* given explicitly (a missing file is then an error) */
    const char *storage_path;        /* --storage.path */
    const char *storage_synchronous; /* --storage.synchronous: normal or full */
    int64_t storage_max_bytes;       /* --storage.max-bytes, 0 = no cap */

    /* PostgreSQL storage (docs/ha.md) */
    const char *storage_url;           /* --storage.url, "" = SQLite in storage_path */
    const char *storage_password_file; /* --storage.password-file, "" = none */

    const char *listen[8]; /* --web.listen-address (repeatable) */
    size_t nlisten;
    const char *external_url;      /* --web.external-url */
    const char *route_prefix;      /* --web.route-prefix */
    const char *web_config_file;   /* --web.config.file */
    const char *extensions_file;   /* --extensions.file, "" = none (ar/config_ext.h) */
    int64_t retention_ms;          /* --data.retention */
    int64_t history_retention_ms;  /* --history.retention */
    int64_t maintenance_ms;        /* --data.maintenance-interval */
    int64_t gc_interval_ms;        /* --alerts.gc-interval */
    const char *log_level;         /* --log.level */
    const char *log_format;        /* --log.format */
    int64_t max_body_bytes;        /* --api.max-body-bytes */
    int64_t max_alerts;            /* --api.max-alerts-per-request */
    int64_t max_labels;            /* --api.max-labels-per-alert */
    int64_t max_label_bytes;       /* --api.max-label-bytes */
    int64_t read_timeout_s;        /* --web.read-timeout (seconds) */
    int64_t max_connections;       /* --web.max-connections */
    int64_t max_conns_per_address; /* --web.max-connections-per-address */
    int64_t rate_limit;            /* --web.rate-limit: requests/s per client, 0 = off */
    int64_t max_silences;          /* --silences.max-silences */
    int64_t rate_limit_burst;      /* --web.rate-limit-burst */
    int64_t notify_deadline_ms;    /* --notify.deadline, 0 = max(group_interval, 10s) */
    const char *cluster_listen;    /* --cluster.listen-address; "" disables the cluster */
    const char *cluster_advertise; /* --cluster.advertise-address; "" = derived */

    int64_t cluster_claim_lease_ms; /* --cluster.claim-lease (PostgreSQL mode) */

    bool show_version;
    bool show_help;
    const char *ignored[16]; /* accepted-but-ignored flags seen, for warnings */
    size_t nignored;
};

/* Parses argv[1..argc); on error writes a message naming the flag and returns AR_EINVAL. */
int flags_parse(int argc, char **argv, struct flags *out, struct ar_error *err);
void flags_usage(FILE *out);

#endif

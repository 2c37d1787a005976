/* The integrations as one table (COMPAT 4.5, 9, 10): one row per integration type, in
 * Alertmanager's build order (the order of enum integration_type), saying everything the
 * rest of the program needs to know about it: its name (metric label, `<name>[i]`
 * identities), its `<name>_configs` key and config decoder, where its list lives in struct
 * receiver, how it is sent (HTTP request builder or SMTP), its retry class and where its
 * series stand in /metrics. The config loader, the notifier and the metrics iterate this
 * table. Adding an integration means one file, src/notifier_<type>.c (its key table and its
 * builder), one row in src/integration.c, and its types in ar/config_receivers.h (the config
 * struct, the enum value, the receiver's list). */
#ifndef AR_INTEGRATION_H
#define AR_INTEGRATION_H

#include "ar/notify.h"

struct config;

struct integration_def {
    enum integration_type type;
    const char *name; /* "webhook": metric label value and `<name>[i]` (COMPAT 4.5) */
    struct integration_decode decode; /* configs key, decoder, place in struct receiver */
    int metric_rank;                  /* position of its pre-created series in /metrics, -1 none */
    bool via_smtp;                    /* email: sent by the libesmtp pool, not by an HTTP request */
    notify_build_fn build;
    /* optional load-time check that this config can be sent (integration_check_senders) */
    int (*can_send)(const void *cfg,
                    struct ar_error *err); /* builds the HTTP request; NULL for via_smtp */
    /* retry class (COMPAT 5.8): 5xx and transport errors always; these besides */
    bool retry_429;
    bool retry_any_status;
};

/* Load-time check: AR_OK when every integration of every receiver in cfg has a sender and
 * its can_send (if any) accepts its settings; else AR_EINVAL naming the receiver and the
 * *_configs key. Start, reload and check-config refuse such a configuration rather than
 * fail at every notification. */
int integration_check_senders(const struct config *cfg, struct ar_error *err);

/* Builds the request for integ from d with its row's builder and retry class. Returns
 * AR_OK, AR_ENOTFOUND (no HTTP request: email goes through the libesmtp pool), or another
 * error with a sentence in err (e.g. url_file unreadable). */
int integration_build_request(const struct notify_data *d, const struct integration *integ,
                              struct notify_request *out, struct ar_error *err);

/* The row of t; never NULL for a valid type. */
const struct integration_def *integration_def_get(enum integration_type t);

/* Types with pre-created series, in /metrics order, into out (INTEGRATION_TYPE_COUNT
 * entries); returns how many. */
size_t integration_metric_types(enum integration_type *out);

#endif

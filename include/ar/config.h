/* The loaded Alertmanager configuration (COMPAT 4): an immutable, refcounted tree built
 * from YAML by config.c. Route inheritance and global defaults are resolved at load, so
 * readers never walk parents. Reload builds a new config and swaps it in.
 *
 * CONTRACT used by the rest of the daemon (other fields may be added freely):
 *   config_load_file / config_load_string / config_ref / config_unref,
 *   config->global.resolve_timeout_ms, config->route, config->receivers/nreceivers,
 *   config->original_yaml, config->source_hash, route_match(). */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include "ar/common.h"
#include "ar/labels.h"
#include "ar/matcher.h"

#include <stdio.h>

struct config_global {
    int64_t resolve_timeout_ms; /* default 5m */
    /* further global fields (smtp_*, slack_api_url, ...) are added by config.c */
};

struct route {
    const struct route *parent; /* NULL at the root */
    char *receiver;             /* resolved (inherited) receiver name */
    struct matcher_list matchers; /* matchers + match + match_re combined, this route only */
    char **group_by;            /* resolved label names, sorted; NULL when none */
    size_t ngroup_by;
    bool group_by_all;          /* group_by: ['...'] (resolved) */
    int64_t group_wait_ms;      /* resolved */
    int64_t group_interval_ms;  /* resolved */
    int64_t repeat_interval_ms; /* resolved */
    bool continue_matching;     /* `continue` */
    char **mute_time_intervals; /* this route only */
    size_t nmute_time_intervals;
    char **active_time_intervals; /* this route only */
    size_t nactive_time_intervals;
    struct route **routes; /* children in file order */
    size_t nroutes;
    char *key;  /* route key as Alertmanager builds it, e.g. {}/{severity="critical"} */
    int index;  /* depth-first position, 0 for the root */
};

struct receiver; /* defined by config.c (integrations of every type) */

struct config {
    int refs;
    char *path;          /* file it was loaded from, or "<embedded>" */
    char *source_text;   /* the YAML text as read */
    char *original_yaml; /* re-serialised with defaults and <secret> (GET /api/v2/status) */
    uint8_t source_md5[16]; /* MD5 of source_text (alertmanager_config_hash) */
    struct config_global global;
    struct route *route;
    struct receiver **receivers;
    size_t nreceivers;
    /* inhibit rules, templates, time intervals: added by config.c */
};

/* Loads and validates a file. On error writes a located message (file, line, key path)
 * and returns AR_EINVAL (bad content) or AR_EIO (unreadable). Result owned by caller. */
int config_load_file(const char *path, struct config **out, struct ar_error *err);
/* Same for text in memory; name is used in messages and as config->path. */
int config_load_string(const char *text, const char *name, struct config **out,
                       struct ar_error *err);
/* The configuration used when no --config.file exists: one route to a receiver without
 * integrations. */
const char *config_default_text(void);
struct config *config_ref(struct config *c);
void config_unref(struct config *c); /* accepts NULL */

const char *receiver_name(const struct receiver *r);
/* Receiver by name or NULL. */
const struct receiver *config_find_receiver(const struct config *c, const char *name);

/* Calls cb for every route that matches ls, in Alertmanager's order (depth first, children
 * before the parent, `continue` honoured; the root matches when nothing else does). */
typedef void (*route_match_cb)(const struct route *r, void *ctx);
void route_match(const struct route *root, const struct labelset *ls, route_match_cb cb,
                 void *ctx);

/* Writes the check-config summary (amtool's format) to out. */
void config_print_summary(const struct config *c, FILE *out);

#endif

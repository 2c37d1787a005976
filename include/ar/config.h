/* The loaded Alertmanager configuration (COMPAT 4): an immutable, refcounted tree built
 * from YAML by config.c. Route inheritance and global defaults are resolved at load, so
 * readers never walk parents. Reload builds a new config and swaps it in.
 *
 * CONTRACT used by the rest of the daemon (other fields may be added freely):
 *   config_load_file / config_load_string / config_ref / config_unref,
 *   config->global.resolve_timeout_ms, config->route, config->receivers/nreceivers,
 *   config->original_yaml, config->source_md5, route_match().
 * Integration types and their fields: ar/config_receivers.h. All strings and lists are
 * owned by the config and live until its last config_unref(). */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include "ar/common.h"
#include "ar/config_receivers.h"
#include "ar/labels.h"
#include "ar/matcher.h"

#include <stdio.h>

struct config_global {
    int64_t resolve_timeout_ms; /* default 5m */
    /* further global fields (smtp_*, slack_api_url, ...) are added by config.c */
    struct http_config *http_config; /* never NULL after load */
    char *smtp_from;
    char *smtp_hello; /* default localhost */
    char *smtp_smarthost;
    char *smtp_auth_username;
    char *smtp_auth_password;
    char *smtp_auth_password_file;
    char *smtp_auth_secret;
    char *smtp_auth_secret_file;
    char *smtp_auth_identity;
    bool smtp_require_tls; /* default true */
    struct tls_config *smtp_tls_config;
    int smtp_force_implicit_tls; /* -1 unset */
    char *slack_api_url;
    char *slack_api_url_file;
    char *slack_app_token;
    char *slack_app_token_file;
    char *slack_app_url;
    char *pagerduty_url;
    char *opsgenie_api_url;
    char *opsgenie_api_key;
    char *opsgenie_api_key_file;
    char *wechat_api_url;
    char *wechat_api_secret;
    char *wechat_api_secret_file;
    char *wechat_api_corp_id;
    char *victorops_api_url;
    char *victorops_api_key;
    char *victorops_api_key_file;
    char *telegram_api_url;
    char *telegram_bot_token;
    char *telegram_bot_token_file;
    char *webex_api_url;
    char *rocketchat_api_url;
    char *rocketchat_token;
    char *rocketchat_token_file;
    char *rocketchat_token_id;
    char *rocketchat_token_id_file;
    char *mattermost_webhook_url;
    char *mattermost_webhook_url_file;
    char *jira_api_url;
};

struct route_cfg; /* the route as written (config.c), kept for original_yaml */
struct tz_data;   /* a time zone loaded from the zone database (ar/tz.h) */

struct route {
    const struct route *parent;   /* NULL at the root */
    char *receiver;               /* resolved (inherited) receiver name */
    struct matcher_list matchers; /* matchers + match + match_re combined, this route only */
    char **group_by;              /* resolved label names, sorted; NULL when none */
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
    char *key; /* route key as Alertmanager builds it, e.g. {}/{severity="critical"} */
    int index; /* depth-first position, 0 for the root */
    const struct route_cfg *cfg; /* as written */
    struct str_map labels; /* newest `labels` (templates), parent's merged with this route's */
    const struct receiver *receiver_ref; /* the receiver named by `receiver` */
    int line; /* line of the route in the file, 0 for the default config */
};

/* One inhibit rule (COMPAT 6.1) with modern and legacy matchers combined. */
struct inhibit_rule {
    char *name;                 /* newest; may be NULL */
    struct matcher_list source; /* source_matchers + source_match + source_match_re */
    struct matcher_list target; /* target_matchers + target_match + target_match_re */
    struct str_list equal;      /* label names */
    /* as written */
    struct str_map source_match;
    struct str_map source_match_re;
    struct matcher_list source_matchers;
    struct str_map target_match;
    struct str_map target_match_re;
    struct matcher_list target_matchers;
};

/* Time intervals (COMPAT 7). A range list that is absent (present == false) does not
 * constrain; inclusive ranges except times, which are [start, end) minutes of the day. */
struct ti_range {
    int begin;
    int end;
};

struct ti_range_list {
    bool present;
    struct ti_range *v;
    size_t n;
};

struct time_interval_spec {
    struct ti_range_list times;         /* minutes of the day, end exclusive */
    struct ti_range_list weekdays;      /* 0 = sunday */
    struct ti_range_list days_of_month; /* 1..31 or -31..-1 */
    struct ti_range_list months;        /* 1..12 */
    struct ti_range_list years;
    char *location;     /* IANA name, "Local", or NULL for UTC */
    struct tz_data *tz; /* the zone loaded at config load (ar/tz.h) */
};

struct time_interval {
    char *name;
    AR_PTR_LIST(struct time_interval_spec) time_intervals;
    bool is_mute_spelling; /* came from mute_time_intervals */
};

/* True when the instant (Unix seconds) lies in spec / in any spec of ti. */
bool time_interval_spec_contains(const struct time_interval_spec *spec, int64_t unix_s);
bool time_interval_contains(const struct time_interval *ti, int64_t unix_s);

struct tmpl_set;
struct config_ext;
struct receiver; /* defined in ar/config_receivers.h (integrations of every type) */

struct config {
    int refs;
    char *path;             /* file it was loaded from, or "<embedded>" */
    char *source_text;      /* the YAML text as read */
    char *original_yaml;    /* re-serialised with defaults and <secret> (GET /api/v2/status) */
    uint8_t source_md5[16]; /* MD5 of source_text (alertmanager_config_hash) */
    struct config_global global;
    struct route *route;
    struct receiver **receivers;
    size_t nreceivers;
    /* inhibit rules, templates, time intervals: added by config.c */
    struct inhibit_rule **inhibit_rules; /* null entries of the file skipped */
    size_t ninhibit_rules;
    struct str_list templates; /* glob patterns, relative ones joined to the config dir */
    struct time_interval **time_intervals; /* mute_time_intervals then time_intervals */
    size_t ntime_intervals;
    size_t nroutes;           /* routes in the tree, root included */
    struct config_file *file; /* the decoded file as written (config.c) */
    /* Built-in templates plus the `templates:` files (user names override built-in ones),
     * parsed once at load; executing is read-only, so notifier threads share it. */
    struct tmpl_set *tmpl;
    /* alertrouter-only settings from --extensions.file (ar/config_ext.h), NULL when none;
     * set by config_attach_ext before the config is shared, released with the config. */
    struct config_ext *ext;
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
/* Gives the freshly loaded, not yet shared config its extensions (takes ext; NULL allowed). */
void config_attach_ext(struct config *c, struct config_ext *ext);
void config_unref(struct config *c); /* accepts NULL */

const char *receiver_name(const struct receiver *r);
/* Receiver by name or NULL. */
const struct receiver *config_find_receiver(const struct config *c, const char *name);

/* Calls cb for every route that matches ls, in Alertmanager's order (depth first, children
 * before the parent, `continue` honoured; the root matches when nothing else does). */
typedef void (*route_match_cb)(const struct route *r, void *ctx);
void route_match(const struct route *root, const struct labelset *ls, route_match_cb cb, void *ctx);

/* Writes the check-config summary (amtool's format: "Found:" and the counts; with templates
 * also "  SUCCESS" or "  FAILED: <error>" after parsing them) to out. */
void config_print_summary(const struct config *c, FILE *out);

/* Parses the built-in templates plus every file matched by c->templates, as amtool's
 * check-config does. AR_OK, or AR_EINVAL with the template error in err. */
int config_check_templates(const struct config *c, struct ar_error *err);

/* Time interval by name (either spelling) or NULL. */
const struct time_interval *config_find_time_interval(const struct config *c, const char *name);
/* Route by depth-first index (route->index), or NULL. */
const struct route *config_route_at(const struct config *c, int index);
/* Calls cb for every route, depth first, parent before children. */
void route_walk(const struct route *root, route_match_cb cb, void *ctx);
/* Collects route_match() results into an array (caller frees *out, not the routes). */
size_t route_match_all(const struct route *root, const struct labelset *ls,
                       const struct route ***out);

#endif

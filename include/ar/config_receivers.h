/* Configuration value types shared by the loader and the notifiers (COMPAT 4.3, 4.8, 4.9, 9):
 * string lists and maps, the HTTP client settings, and one struct per integration type,
 * fields named after their YAML keys. All values are resolved at load: per-notifier fields
 * left empty hold the global value, defaults (template strings, URLs, send_resolved) are
 * filled, and `http_config` is never NULL on integrations that have one (a copy of
 * global.http_config when not configured). Secrets are plain strings here; only the
 * re-serialised config hides them. Owned by struct config; read-only after load. */
#ifndef AR_CONFIG_RECEIVERS_H
#define AR_CONFIG_RECEIVERS_H

#include "ar/common.h"
#include "ar/matcher.h"

struct str_list {
    char **v;
    size_t n;
};

/* Map with keys sorted in yaml.v2 order; values may be NULL (YAML null). */
struct str_map {
    char **keys;
    char **values;
    size_t n;
};

/* Looks a key up in a map; NULL when absent. */
const char *str_map_get(const struct str_map *m, const char *key);

#define AR_PTR_LIST(T)                                                                             \
    struct {                                                                                       \
        T **v;                                                                                     \
        size_t n;                                                                                  \
    }

struct opt_duration {
    bool set;
    int64_t ms;
};

struct tls_config {
    char *ca;
    char *ca_file;
    char *cert;
    char *cert_file;
    char *key; /* secret */
    char *key_file;
    char *server_name;
    bool insecure_skip_verify;
    char *min_version; /* "TLS12" ... or NULL */
    char *max_version;
};

struct basic_auth {
    char *username;
    char *username_file;
    char *password;
    char *password_file;
};

struct http_authorization {
    char *type; /* default "Bearer" */
    char *credentials;
    char *credentials_file;
};

struct oauth2_config {
    char *client_id;
    char *client_secret;
    char *client_secret_file;
    struct str_list scopes;
    char *token_url;
    struct str_map endpoint_params;
    char *proxy_url;
    struct tls_config tls_config;
};

/* One header line of http_headers, decoded at load: per name (in the map's order) each of its
 * values, then secrets, then files. A file is read (trimmed) at each attempt. */
struct http_header_line {
    char *name;
    char *value; /* the header value, or the file path when is_file */
    bool is_file;
};

struct http_config {
    struct basic_auth *basic_auth;
    struct http_authorization *authorization; /* bearer_token(_file) is moved here */
    struct oauth2_config *oauth2;
    char *bearer_token;
    char *bearer_token_file;
    char *proxy_url;
    char *no_proxy;
    bool proxy_from_environment;
    struct str_map proxy_connect_header; /* name -> YAML text of a list of values */
    struct tls_config tls_config;
    bool follow_redirects;       /* default true */
    bool enable_http2;           /* default true */
    struct str_map http_headers; /* name -> YAML text of {values, secrets, files} */
    /* http_headers decoded once at load (not a key of the table: owned through its cleanup) */
    struct http_header_line *header_lines;
    size_t nheader_lines;
    /* proxy_connect_header decoded likewise: per name its values (never files) */
    struct http_header_line *proxy_header_lines;
    size_t nproxy_header_lines;
};

struct webhook_config {
    bool send_resolved;
    struct http_config *http_config;
    char *url;
    char *url_file;
    uint64_t max_alerts;
    int64_t timeout_ns;
    char *payload; /* newest: custom body template as YAML text, or NULL */
};

struct email_threading_config {
    bool enabled;
    char *thread_by_date;
};

struct email_config {
    bool send_resolved;
    char *to;
    char *from;
    char *hello;
    char *smarthost; /* host:port */
    char *auth_username;
    char *auth_password;
    char *auth_password_file;
    char *auth_secret;
    char *auth_secret_file;
    char *auth_identity;
    struct str_map headers; /* canonicalised keys */
    char *html;
    char *text;
    int require_tls; /* resolved: 0 or 1 */
    struct tls_config tls_config;
    int force_implicit_tls; /* -1 unset */
    struct email_threading_config *threading;
};

struct slack_confirm {
    char *text;
    char *title;
    char *ok_text;
    char *dismiss_text;
};

struct slack_action {
    char *type;
    char *text;
    char *url;
    char *style;
    char *name;
    char *value;
    struct slack_confirm *confirm;
};

struct slack_field {
    char *title;
    char *value;
    int short_; /* -1 unset */
};

struct slack_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    char *api_url_file;
    char *app_token;
    char *app_token_file;
    char *app_url;
    char *channel;
    char *username;
    char *color;
    char *title;
    char *title_link;
    char *pretext;
    char *text;
    AR_PTR_LIST(struct slack_field) fields;
    bool short_fields;
    char *footer;
    char *fallback;
    char *callback_id;
    char *icon_emoji;
    char *icon_url;
    char *image_url;
    char *thumb_url;
    bool link_names;
    struct str_list mrkdwn_in;
    AR_PTR_LIST(struct slack_action) actions;
    char *message_text;
    bool update_message;
    int64_t timeout_ns;
};

struct pagerduty_image {
    char *src;
    char *alt;
    char *href;
};

struct pagerduty_link {
    char *href;
    char *text;
};

struct pagerduty_config {
    bool send_resolved;
    struct http_config *http_config;
    char *service_key;
    char *service_key_file;
    char *routing_key;
    char *routing_key_file;
    char *url;
    char *client;
    char *client_url;
    char *description;
    struct str_map details;
    AR_PTR_LIST(struct pagerduty_image) images;
    AR_PTR_LIST(struct pagerduty_link) links;
    char *source;
    char *severity;
    char *class_;
    char *component;
    char *group;
    int64_t timeout_ns;
};

struct opsgenie_responder {
    char *id;
    char *name;
    char *username;
    char *type;
};

struct opsgenie_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_key;
    char *api_key_file;
    char *api_url;
    char *message;
    char *description;
    char *source;
    struct str_map details;
    char *entity;
    AR_PTR_LIST(struct opsgenie_responder) responders;
    char *actions;
    char *tags;
    char *note;
    char *priority;
    bool update_alerts;
};

struct wechat_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_secret;
    char *api_secret_file;
    char *corp_id;
    char *message;
    char *api_url;
    char *to_user;
    char *to_party;
    char *to_tag;
    char *agent_id;
    char *message_type;
};

struct pushover_config {
    bool send_resolved;
    struct http_config *http_config;
    char *user_key;
    char *user_key_file;
    char *token;
    char *token_file;
    char *title;
    char *message;
    char *url;
    char *url_title;
    char *device;
    char *sound;
    char *priority;
    int64_t retry_ns;  /* Go duration, default 1m */
    int64_t expire_ns; /* Go duration, default 1h */
    int64_t ttl_ns;
    bool html;
    bool monospace;
};

struct victorops_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_key;
    char *api_key_file;
    char *api_url;
    char *routing_key;
    char *message_type;
    char *state_message;
    char *entity_display_name;
    char *monitoring_tool;
    struct str_map custom_fields;
};

struct sigv4_config {
    char *region;
    char *access_key;
    char *secret_key;
    char *profile;
    char *role_arn;
};

struct sns_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    struct sigv4_config sigv4;
    char *topic_arn;
    char *phone_number;
    char *target_arn;
    char *subject;
    char *message;
    struct str_map attributes;
};

struct telegram_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    char *bot_token;
    char *bot_token_file;
    int64_t chat_id;
    char *chat_id_file;
    int64_t message_thread_id;
    char *message;
    bool disable_notifications;
    char *parse_mode; /* default HTML */
};

struct discord_config {
    bool send_resolved;
    struct http_config *http_config;
    char *webhook_url;
    char *webhook_url_file;
    char *title;
    char *message;
    char *content;
    char *username;
    char *avatar_url;
};

struct webex_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    char *message;
    char *room_id;
};

struct msteams_config {
    bool send_resolved;
    struct http_config *http_config;
    char *webhook_url;
    char *webhook_url_file;
    char *title;
    char *summary;
    char *text;
};

struct msteamsv2_config {
    bool send_resolved;
    struct http_config *http_config;
    char *webhook_url;
    char *webhook_url_file;
    char *title;
    char *text;
};

struct mattermost_field {
    char *title;
    char *value;
    int short_; /* -1 unset */
};

struct mattermost_attachment {
    char *fallback;
    char *color;
    char *pretext;
    char *text;
    char *author_name;
    char *author_link;
    char *author_icon;
    char *title;
    char *title_link;
    AR_PTR_LIST(struct mattermost_field) fields;
    char *thumb_url;
    char *footer;
    char *footer_icon;
    char *image_url;
};

struct mattermost_props {
    char *card;
};

struct mattermost_priority {
    char *priority;
    bool requested_ack;
    bool persistent_notifications;
};

struct mattermost_config {
    bool send_resolved;
    struct http_config *http_config;
    char *webhook_url;
    char *webhook_url_file;
    char *channel;
    char *username;
    char *text;
    char *fallback;
    char *color;
    char *pretext;
    char *author_name;
    char *author_link;
    char *author_icon;
    char *title;
    char *title_link;
    AR_PTR_LIST(struct mattermost_field) fields;
    char *thumb_url;
    char *footer;
    char *footer_icon;
    char *image_url;
    char *icon_url;
    char *icon_emoji;
    AR_PTR_LIST(struct mattermost_attachment) attachments;
    char *type;
    struct mattermost_props *props;
    struct mattermost_priority *priority;
};

struct rocketchat_field {
    char *title;
    char *value;
    int short_; /* -1 unset */
};

struct rocketchat_action {
    char *type;
    char *text;
    char *url;
    char *msg;
};

struct rocketchat_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    char *token_id;
    char *token_id_file;
    char *token;
    char *token_file;
    char *channel;
    char *color;
    char *title;
    char *title_link;
    char *text;
    AR_PTR_LIST(struct rocketchat_field) fields;
    bool short_fields;
    char *emoji;
    char *icon_url;
    char *image_url;
    char *thumb_url;
    bool link_names;
    AR_PTR_LIST(struct rocketchat_action) actions;
};

struct jira_field {
    char *template_;
    int enable_update; /* -1 unset */
};

struct jira_config {
    bool send_resolved;
    struct http_config *http_config;
    char *api_url;
    char *api_type;
    char *project;
    struct jira_field summary;
    struct jira_field description;
    struct str_list labels;
    char *priority;
    char *issue_type;
    char *reopen_transition;
    char *resolve_transition;
    char *wont_fix_resolution;
    int64_t reopen_duration_ms;
    struct str_map fields; /* values as YAML text: a scalar's own text, else a block document */
    /* the same values decoded once at load as Go decodes YAML into interface{} values
     * (plain scalars typed: null, bool, int, float), written as JSON texts, one per entry of
     * fields in its order; their strings are templates rendered at each send */
    char **fields_json;
};

struct incidentio_config {
    bool send_resolved;
    struct http_config *http_config;
    char *url;
    char *url_file;
    char *alert_source_token;
    char *alert_source_token_file;
    uint64_t max_alerts;
    int64_t timeout_ns;
};

enum integration_type {
    INTEGRATION_WEBHOOK = 0,
    INTEGRATION_EMAIL,
    INTEGRATION_PAGERDUTY,
    INTEGRATION_OPSGENIE,
    INTEGRATION_WECHAT,
    INTEGRATION_SLACK,
    INTEGRATION_VICTOROPS,
    INTEGRATION_PUSHOVER,
    INTEGRATION_SNS,
    INTEGRATION_TELEGRAM,
    INTEGRATION_DISCORD,
    INTEGRATION_WEBEX,
    INTEGRATION_MSTEAMS,
    INTEGRATION_MSTEAMSV2,
    INTEGRATION_JIRA,
    INTEGRATION_ROCKETCHAT,
    INTEGRATION_INCIDENTIO,
    INTEGRATION_MATTERMOST,
    INTEGRATION_TYPE_COUNT,
};

/* The configuration columns of one row of the integration table (ar/integration.h): what
 * decoding a receiver needs. The table lives above the configuration layer (its rows also
 * name senders) and provides these through integration_decode_of, as it provides
 * integration_type_name; this layer only declares what it reads. */
struct table;
struct integration_decode {
    const char *configs_key;    /* "webhook_configs" */
    const struct table *config; /* decoder, defaults and validation of one *_configs entry */
    size_t receiver_offset;     /* offsetof(struct receiver, <name>_configs) */
    int yaml_rank;              /* position of the key in the receiver's YAML (Go struct) */
};
const struct integration_decode *integration_decode_of(enum integration_type t);

/* "webhook", "email", ... as used in metrics and `<type>[<index>]` names. */
const char *integration_type_name(enum integration_type t);

/* One configured integration instance of a receiver. */
struct integration {
    enum integration_type type;
    int index;       /* position within its *_configs list */
    const void *cfg; /* struct webhook_config * etc. by type */
    bool send_resolved;
};

struct receiver {
    char *name;
    struct str_map labels; /* newest `labels` as written ("name" is implied, not added) */
    AR_PTR_LIST(struct discord_config) discord_configs;
    AR_PTR_LIST(struct email_config) email_configs;
    AR_PTR_LIST(struct incidentio_config) incidentio_configs;
    AR_PTR_LIST(struct pagerduty_config) pagerduty_configs;
    AR_PTR_LIST(struct slack_config) slack_configs;
    AR_PTR_LIST(struct webhook_config) webhook_configs;
    AR_PTR_LIST(struct opsgenie_config) opsgenie_configs;
    AR_PTR_LIST(struct wechat_config) wechat_configs;
    AR_PTR_LIST(struct pushover_config) pushover_configs;
    AR_PTR_LIST(struct victorops_config) victorops_configs;
    AR_PTR_LIST(struct sns_config) sns_configs;
    AR_PTR_LIST(struct telegram_config) telegram_configs;
    AR_PTR_LIST(struct webex_config) webex_configs;
    AR_PTR_LIST(struct msteams_config) msteams_configs;
    AR_PTR_LIST(struct msteamsv2_config) msteamsv2_configs;
    AR_PTR_LIST(struct jira_config) jira_configs;
    AR_PTR_LIST(struct rocketchat_config) rocketchat_configs;
    AR_PTR_LIST(struct mattermost_config) mattermost_configs;
    /* every integration above in Alertmanager's build order (webhook, email, pagerduty,
     * opsgenie, wechat, slack, victorops, pushover, sns, telegram, discord, webex, msteams,
     * msteamsv2, jira, rocketchat, incidentio, mattermost), each in file order */
    struct integration *integrations;
    size_t nintegrations;
    bool is_used; /* referenced by some route (upstream builds only those receivers) */
};

#endif

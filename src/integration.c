/* The integration table (ar/integration.h): one row per integration type, indexed by enum
 * integration_type, which is Alertmanager's build order (COMPAT 4.5). yaml_rank is the
 * position of `<name>_configs` in the receiver's Go struct (the order the configuration is
 * re-serialised in); metric_rank the position of its series in /metrics: 0.25's list
 * first (email ... telegram), then the later integrations alertrouter sends (COMPAT 10).
 * Retry classes (COMPAT 5.8): besides 5xx and transport errors, 0.25's webhook, PagerDuty
 * (Events v2), Opsgenie, Telegram and newest Jira and incident.io retry 429, Telegram every failed
 * request. */
#include "ar/integration.h"

#include "ar/config.h"
#include "config_internal.h"

#include <stddef.h>

static int build_webhook(const struct notify_data *d, const void *cfg, struct notify_request *out,
                         struct ar_error *err)
{
    return notify_webhook_build(d, cfg, out, err);
}

#define ROW_CHECKED(T, nm, yaml, metric, smtp, builder, check, r429, rany)                         \
    [INTEGRATION_##T] = {.type = INTEGRATION_##T,                                                  \
                         .name = #nm,                                                              \
                         .decode = {.configs_key = #nm "_configs",                                 \
                                    .config = &nm##_config_table,                                  \
                                    .receiver_offset = offsetof(struct receiver, nm##_configs),    \
                                    .yaml_rank = (yaml)},                                          \
                         .metric_rank = (metric),                                                  \
                         .via_smtp = (smtp),                                                       \
                         .build = (builder),                                                       \
                         .can_send = (check),                                                      \
                         .retry_429 = (r429),                                                      \
                         .retry_any_status = (rany)}

#define ROW(T, nm, yaml, metric, smtp, builder, r429, rany)                                        \
    ROW_CHECKED(T, nm, yaml, metric, smtp, builder, NULL, r429, rany)

/* ROW(type, name, yaml_rank, metric_rank, via_smtp, build, retry_429, retry_any_status) */
static const struct integration_def integrations[INTEGRATION_TYPE_COUNT] = {
    ROW(WEBHOOK, webhook, 5, 6, false, build_webhook, true, false),
    ROW(EMAIL, email, 1, 0, true, NULL, false, false),
    ROW(PAGERDUTY, pagerduty, 3, 1, false, notify_pagerduty_build, true, false),
    ROW(OPSGENIE, opsgenie, 6, 5, false, notify_opsgenie_build, true, false),
    ROW(WECHAT, wechat, 7, 2, false, notify_wechat_build, false, false),
    ROW(SLACK, slack, 4, 4, false, notify_slack_build, false, false),
    ROW(VICTOROPS, victorops, 9, 7, false, notify_victorops_build, false, false),
    ROW(PUSHOVER, pushover, 8, 3, false, notify_pushover_build, false, false),
    ROW_CHECKED(SNS, sns, 10, 8, false, notify_sns_build, notify_sns_can_send, false, false),
    ROW(TELEGRAM, telegram, 11, 9, false, notify_telegram_build, true, true),
    ROW(DISCORD, discord, 0, 10, false, notify_discord_build, false, false),
    ROW(WEBEX, webex, 12, 11, false, notify_webex_build, false, false),
    ROW(MSTEAMS, msteams, 13, 12, false, notify_msteams_build, false, false),
    ROW(MSTEAMSV2, msteamsv2, 14, 13, false, notify_msteamsv2_build, false, false),
    ROW(JIRA, jira, 15, 16, false, notify_jira_build, true, false),
    ROW(ROCKETCHAT, rocketchat, 16, 14, false, notify_rocketchat_build, false, false),
    ROW(INCIDENTIO, incidentio, 2, 17, false, notify_incidentio_build, true, false),
    ROW(MATTERMOST, mattermost, 17, 15, false, notify_mattermost_build, false, false),
};
#undef ROW
#undef ROW_CHECKED

/* The receiver's integration list reads send_resolved from the first member of each config
 * struct (config_receivers.c, add_integrations). */
#define STARTS_WITH_SEND_RESOLVED(nm)                                                              \
    _Static_assert(offsetof(struct nm##_config, send_resolved) == 0,                               \
                   #nm "_config must start with send_resolved")
STARTS_WITH_SEND_RESOLVED(webhook);
STARTS_WITH_SEND_RESOLVED(email);
STARTS_WITH_SEND_RESOLVED(pagerduty);
STARTS_WITH_SEND_RESOLVED(opsgenie);
STARTS_WITH_SEND_RESOLVED(wechat);
STARTS_WITH_SEND_RESOLVED(slack);
STARTS_WITH_SEND_RESOLVED(victorops);
STARTS_WITH_SEND_RESOLVED(pushover);
STARTS_WITH_SEND_RESOLVED(sns);
STARTS_WITH_SEND_RESOLVED(telegram);
STARTS_WITH_SEND_RESOLVED(discord);
STARTS_WITH_SEND_RESOLVED(webex);
STARTS_WITH_SEND_RESOLVED(msteams);
STARTS_WITH_SEND_RESOLVED(msteamsv2);
STARTS_WITH_SEND_RESOLVED(jira);
STARTS_WITH_SEND_RESOLVED(rocketchat);
STARTS_WITH_SEND_RESOLVED(incidentio);
STARTS_WITH_SEND_RESOLVED(mattermost);
#undef STARTS_WITH_SEND_RESOLVED

const struct integration_def *integration_def_get(enum integration_type t)
{
    if ((unsigned)t >= INTEGRATION_TYPE_COUNT) {
        return NULL;
    }
    return &integrations[t];
}

const char *integration_type_name(enum integration_type t)
{
    const struct integration_def *def = integration_def_get(t);

    return def != NULL ? def->name : "unknown";
}

size_t integration_metric_types(enum integration_type *out)
{
    size_t n = 0;

    for (int rank = 0; rank < INTEGRATION_TYPE_COUNT; rank++) {
        for (int t = 0; t < INTEGRATION_TYPE_COUNT; t++) {
            if (integrations[t].metric_rank == rank) {
                out[n++] = (enum integration_type)t;
            }
        }
    }
    return n;
}

const struct integration_decode *integration_decode_of(enum integration_type t)
{
    const struct integration_def *def = integration_def_get(t);

    return def != NULL ? &def->decode : NULL;
}

/* ---- senders ----------------------------------------------------------------------------- */

int integration_check_senders(const struct config *cfg, struct ar_error *err)
{
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        const struct receiver *r = cfg->receivers[i];
        for (size_t k = 0; k < r->nintegrations; k++) {
            const struct integration_def *def = integration_def_get(r->integrations[k].type);
            struct ar_error why;
            if (!def->via_smtp && def->build == NULL) {
                ar_error_set(err,
                             "receiver %s: %s: alertrouter cannot send %s notifications yet; "
                             "remove them (or send through a webhook_configs relay)",
                             r->name, def->decode.configs_key, def->name);
                return AR_EINVAL;
            }
            if (def->can_send != NULL && def->can_send(r->integrations[k].cfg, &why) != AR_OK) {
                ar_error_set(err, "receiver %s: %s[%d]: %s", r->name, def->decode.configs_key,
                             r->integrations[k].index, why.msg);
                return AR_EINVAL;
            }
        }
    }
    return AR_OK;
}

int integration_build_request(const struct notify_data *d, const struct integration *integ,
                              struct notify_request *out, struct ar_error *err)
{
    const struct integration_def *def = integration_def_get(integ->type);

    if (def == NULL || def->build == NULL) {
        /* email goes through libesmtp (notifier_email.c); other types without a builder were
         * refused at load by integration_check_senders */
        ar_error_set(err, "%s: no HTTP request to build", integration_type_name(integ->type));
        return AR_ENOTFOUND;
    }
    out->retry_429 = def->retry_429;
    out->retry_any_status = def->retry_any_status;
    return def->build(d, integ->cfg, out, err);
}

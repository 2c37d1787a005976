/* The incidents' HTTP endpoints, /api/x/incidents (ar/api.h): list and one incident with its
 * timeline and notes (read-only connection, store_incidents.c), acknowledgements and notes
 * (on the core thread through core_call, answered once committed), the acknowledgement
 * message to the group's chat receivers (incidents.ack_message of the extensions file) and
 * reports (incident_report.c). */
#include "ar/api.h"
#include "ar/api_reply.h"
#include "ar/clock.h"
#include "ar/config_ext.h"
#include "ar/config_receivers.h"
#include "ar/incident.h"
#include "ar/incident_report.h"
#include "ar/json_out.h"
#include "ar/log.h"
#include "ar/matcher.h"
#include "ar/notify.h"
#include "ar/store_incidents.h"
#include "ar/timefmt.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX_BYTES (64 * 1024) /* larger note texts: 413 */
#define NAME_MAX_BYTES 256         /* "by", "author" */

/* ---- JSON of rows ---- */

static void put_time_or_null(struct buf *b, int64_t ns)
{
    if (ns == 0) {
        buf_puts(b, "null");
    } else {
        json_put_time(b, ns, 0);
    }
}

/* The incident's fields, without the closing brace; its title rendered with the
 * configuration's notification templates (incident_title). */
static void put_incident(struct buf *b, const struct incident_row *r, bool with_alerts,
                         const struct tmpl_set *notify_templates)
{
    char *title = incident_title(notify_templates, r);

    buf_printf(b, "{\"id\":%lld,\"title\":", (long long)r->id);
    json_put_cstr(b, title);
    free(title);
    buf_puts(b, ",\"state\":");
    json_put_cstr(b, r->state);
    buf_puts(b, ",\"severity\":");
    json_put_cstr(b, r->severity);
    buf_puts(b, ",\"receiver\":");
    json_put_cstr(b, r->receiver);
    buf_puts(b, ",\"groupKey\":");
    json_put_cstr(b, r->group_key);
    buf_puts(b, ",\"groupLabels\":");
    buf_puts(b, r->group_labels);
    buf_puts(b, ",\"openedAt\":");
    json_put_time(b, r->opened_at, 0);
    buf_puts(b, ",\"acknowledgedAt\":");
    put_time_or_null(b, r->acked_at);
    buf_puts(b, ",\"acknowledgedBy\":");
    json_put_cstr(b, r->acked_by);
    buf_puts(b, ",\"ackComment\":");
    json_put_cstr(b, r->ack_comment);
    buf_puts(b, ",\"resolvedAt\":");
    put_time_or_null(b, r->resolved_at);
    if (with_alerts) {
        buf_puts(b, ",\"alerts\":");
        buf_puts(b, r->alerts);
    }
}

static void put_event(void *ctx, int64_t seq, int64_t at, const char *kind, const char *detail)
{
    struct buf *b = ctx;

    buf_printf(b, ",{\"seq\":%lld,\"at\":", (long long)seq);
    json_put_time(b, at, 0);
    buf_puts(b, ",\"kind\":");
    json_put_cstr(b, kind);
    buf_puts(b, ",\"detail\":");
    buf_puts(b, detail ? detail : "{}");
    buf_putc(b, '}');
}

static void put_note(struct buf *b, const struct incident_note_row *n)
{
    buf_printf(b, "{\"id\":%lld,\"incidentID\":%lld,\"at\":", (long long)n->id,
               (long long)n->incident_id);
    json_put_time(b, n->at, 0);
    buf_puts(b, ",\"section\":");
    json_put_cstr(b, n->section);
    buf_puts(b, ",\"author\":");
    json_put_cstr(b, n->author);
    buf_puts(b, ",\"text\":");
    json_put_cstr(b, n->text);
    buf_printf(b, ",\"replaces\":%lld}", (long long)n->replaces);
}

static void put_note_cb(void *ctx, const struct incident_note_row *n)
{
    struct buf *b = ctx;

    if (b->data[b->len - 1] != '[') {
        buf_putc(b, ',');
    }
    put_note(b, n);
}

/* ---- reads ---- */

/* Replies with incident id (timeline and notes included), or 404/500. */
static void get_one(struct api *api, int64_t id, int status, struct http_response *resp)
{
    sqlite3 *db = store_incidents_open_ro(api->storage_path);
    struct incident_row *r = NULL;
    int rc = db ? store_incident_get(db, id, &r) : AR_EDB;

    if (rc == AR_OK) {
        struct config *cfg = core_config(api->core);
        buf_reset(&resp->body);
        put_incident(&resp->body, r, true, cfg ? cfg->tmpl : NULL);
        config_unref(cfg);
        /* the first entry: the row's opening (no event row is written for it) */
        buf_puts(&resp->body, ",\"timeline\":[{\"seq\":0,\"at\":");
        json_put_time(&resp->body, r->opened_at, 0);
        buf_puts(&resp->body, ",\"kind\":\"opened\",\"detail\":{\"receiver\":");
        json_put_cstr(&resp->body, r->receiver);
        buf_puts(&resp->body, ",\"groupKey\":");
        json_put_cstr(&resp->body, r->group_key);
        buf_puts(&resp->body, "}}");
        rc = store_incident_events_each(db, id, put_event, &resp->body);
        buf_puts(&resp->body, "],\"notes\":[");
        if (rc == AR_OK) {
            rc = store_incident_notes_each(db, id, put_note_cb, &resp->body);
        }
        buf_puts(&resp->body, "]}");
    }
    incident_row_free(r);
    sqlite3_close(db);
    if (rc == AR_ENOTFOUND) {
        api_reply_json_string(resp, 404, "incident not found");
    } else if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to read the incident");
    } else {
        api_reply_json(resp, status);
    }
}

/* The matchers match the group labels or the labels of one of the incident's alerts. */
static bool row_matches(const struct matcher_list *ml, const struct incident_row *r)
{
    json_error_t jerr;
    json_t *gl;
    json_t *alerts;
    struct labelset ls;
    bool ok;
    size_t i;
    json_t *a;

    if (ml->n == 0) {
        return true;
    }
    gl = json_loads(r->group_labels, 0, &jerr);
    api_labels_from_json(gl, &ls);
    ok = matchers_match(ml, &ls);
    labelset_cleanup(&ls);
    json_decref(gl);
    if (ok) {
        return true;
    }
    alerts = json_loads(r->alerts, 0, &jerr);
    json_array_foreach(alerts, i, a)
    {
        api_labels_from_json(json_object_get(a, "labels"), &ls);
        ok = matchers_match(ml, &ls);
        labelset_cleanup(&ls);
        if (ok) {
            break;
        }
    }
    json_decref(alerts);
    return ok;
}

struct list_ctx {
    struct matcher_list matchers;
    const struct tmpl_set *notify_templates;
    size_t limit;
    size_t n;
    struct buf *out;
};

static bool list_row(void *vctx, const struct incident_row *r)
{
    struct list_ctx *c = vctx;
    json_error_t jerr;
    json_t *alerts;

    if (!row_matches(&c->matchers, r)) {
        return true;
    }
    alerts = json_loads(r->alerts, 0, &jerr);
    buf_puts(c->out, c->n ? "," : "");
    put_incident(c->out, r, false, c->notify_templates);
    buf_printf(c->out, ",\"alertCount\":%zu}", json_array_size(alerts));
    json_decref(alerts);
    return ++c->n < c->limit;
}

static bool time_param(const struct http_request *req, const char *key, int64_t *out,
                       struct http_response *resp)
{
    const char *v = http_request_param(req, key);
    int16_t off;
    char msg[200];

    *out = 0;
    if (v == NULL || v[0] == '\0') {
        return true;
    }
    if (time_parse_rfc3339(v, strlen(v), out, &off) != AR_OK || *out == AR_TIME_UNSET) {
        snprintf(msg, sizeof(msg), "%s must be an RFC 3339 time, e.g. 2026-12-07T15:04:05Z", key);
        api_reply_json_string(resp, 400, msg);
        return false;
    }
    return true;
}

static void list(struct api *api, const struct http_request *req, struct http_response *resp)
{
    const char *state = http_request_param(req, "state");
    const char *lim = http_request_param(req, "limit");
    struct list_ctx c;
    struct config *cfg;
    int64_t from;
    int64_t to;
    sqlite3 *db;
    int rc;

    memset(&c, 0, sizeof(c));
    c.limit = 100;
    if (state != NULL && state[0] == '\0') {
        state = NULL;
    }
    if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0 &&
        strcmp(state, "resolved") != 0) {
        api_reply_json_string(resp, 400, "state must be open, acknowledged or resolved");
        return;
    }
    if (lim != NULL && lim[0] != '\0') {
        char *end;
        long long v = strtoll(lim, &end, 10);
        if (*end != '\0' || v <= 0) {
            api_reply_json_string(resp, 400, "limit must be a positive integer");
            return;
        }
        c.limit = v > 10000 ? 10000 : (size_t)v;
    }
    if (!time_param(req, "from", &from, resp) || !time_param(req, "to", &to, resp)) {
        return;
    }
    if (from != 0 && to != 0 && from > to) {
        api_reply_json_string(resp, 400, "from must not be after to");
        return;
    }
    matcher_list_init(&c.matchers);
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, "filter") == 0) {
            struct matcher *m = NULL;
            struct ar_error err;
            /* COMPAT 1.4: one matcher per filter value, as GET /api/v2/alerts */
            if (matcher_parse(req->params[i].value, &m, &err) != AR_OK) {
                api_reply_json_string(resp, 400, err.msg);
                matcher_list_cleanup(&c.matchers);
                return;
            }
            matcher_list_add_take(&c.matchers, m);
        }
    }
    db = store_incidents_open_ro(api->storage_path);
    cfg = core_config(api->core);
    c.notify_templates = cfg ? cfg->tmpl : NULL;
    c.out = &resp->body;
    buf_putc(&resp->body, '[');
    rc = db ? store_incidents_each(db, state, from, to, list_row, &c) : AR_EDB;
    buf_putc(&resp->body, ']');
    config_unref(cfg);
    sqlite3_close(db);
    matcher_list_cleanup(&c.matchers);
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to read incidents");
        return;
    }
    api_reply_json(resp, 200);
}

/* ---- acknowledgements ---- */

struct ack_call {
    int64_t id;
    const char *by;
    const char *comment;
    const char *client;
    const char *user;
    char *prev_by;
};

static int ack_fn(struct core *c, struct txn *txn, void *arg)
{
    struct ack_call *call = arg;

    return incident_ack(core_incidents(c), call->id, call->by, call->comment, call->client,
                        call->user, txn, &call->prev_by);
}

/* A JSON object body, or NULL after a 400/413/415 reply. */
static json_t *body_object(const struct http_request *req, struct http_response *resp)
{
    json_error_t jerr;
    json_t *o;
    char msg[300];

    if (req->body_too_large) {
        api_reply_json_string(resp, 413, "request body too large");
        return NULL;
    }
    if (!api_check_media_type(req, resp)) {
        return NULL;
    }
    o = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!json_is_object(o)) {
        snprintf(msg, sizeof(msg), "body must be a JSON object: %s",
                 o == NULL ? jerr.text : "not an object");
        api_reply_json_string(resp, 400, msg);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A string member: NULL when absent; false after a 400 reply when of another type, empty
 * while required, or longer than max. */
static bool member_string(json_t *o, const char *key, bool required, size_t max, const char **out,
                          struct http_response *resp)
{
    json_t *v = json_object_get(o, key);
    char msg[200];

    *out = NULL;
    if ((v == NULL || json_is_null(v)) && !required) {
        return true;
    }
    if (!json_is_string(v) || (required && json_string_length(v) == 0)) {
        snprintf(msg, sizeof(msg), "%s must be a%s string", key, required ? " non-empty" : "");
        api_reply_json_string(resp, 400, msg);
        return false;
    }
    if (max > 0 && json_string_length(v) > max) {
        snprintf(msg, sizeof(msg), "%s is longer than %zu bytes", key, max);
        api_reply_json_string(resp, max == NOTE_MAX_BYTES ? 413 : 400, msg);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* ---- the acknowledgement message (incidents.ack_message) ---- */

#define ACK_MESSAGE_DEADLINE_NS (10LL * AR_NS_PER_SEC)

/* The integrations that post to a chat room get the message. E-mail and the paging and
 * push services (PagerDuty, Opsgenie, VictorOps, Pushover, SNS, Jira, incident.io) would
 * page or file a ticket again for an acknowledgement, and a webhook receiver expects
 * Alertmanager's webhook payload only, so they are left out; WeChat is left out too. */
static bool ack_message_chat(enum integration_type t)
{
    switch (t) {
    case INTEGRATION_SLACK:
    case INTEGRATION_MATTERMOST:
    case INTEGRATION_ROCKETCHAT:
    case INTEGRATION_DISCORD:
    case INTEGRATION_MSTEAMS:
    case INTEGRATION_MSTEAMSV2:
    case INTEGRATION_WEBEX:
    case INTEGRATION_TELEGRAM:
        return true;
    default:
        return false;
    }
}

/* One acknowledgement message in flight: the sends to the receiver's chat integrations,
 * then their outcomes recorded in the incident's timeline on the core thread. Holds the
 * configuration it was sent under, whose receiver the jobs point into. Freed by the last
 * step, ack_message_recorded. */
struct ack_message {
    pthread_mutex_t mu;
    size_t left;
    struct core *core;
    int64_t id;
    struct config *cfg;
    const struct receiver *recv;
    bool *sent;                    /* per integration */
    struct notify_result *results; /* per integration */
    struct ack_message_slot *slots;
};

struct ack_message_slot {
    struct ack_message *m;
    size_t index;
};

static int ack_message_record_fn(struct core *c, struct txn *txn, void *arg)
{
    struct ack_message *m = arg;
    char name[64];

    (void)c;
    for (size_t i = 0; i < m->recv->nintegrations; i++) {
        const struct integration *in = &m->recv->integrations[i];
        if (!m->sent[i]) {
            continue;
        }
        snprintf(name, sizeof(name), "%s[%d]", integration_type_name(in->type), in->index);
        incident_ack_message_outcome(txn, m->id, m->recv->name, name,
                                     m->results[i].ok ? "delivered" : "failed",
                                     m->results[i].attempts, m->results[i].error);
    }
    return AR_OK;
}

static void ack_message_recorded(void *ctx, int rc)
{
    struct ack_message *m = ctx;

    if (rc != AR_OK) {
        log_warn("incidents", "acknowledgement message outcomes of incident %lld not recorded",
                 (long long)m->id);
    }
    config_unref(m->cfg);
    free(m->sent);
    free(m->results);
    free(m->slots);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Notifier thread: one integration's outcome; the last one logs them all and hands the
 * recording to the core without waiting. */
static void ack_message_done(struct notify_job *job, const struct notify_result *res, void *ctx)
{
    struct ack_message_slot *slot = ctx;
    struct ack_message *m = slot->m;
    bool last;

    (void)job;
    pthread_mutex_lock(&m->mu);
    m->results[slot->index] = *res;
    last = --m->left == 0;
    pthread_mutex_unlock(&m->mu);
    if (!last) {
        return;
    }
    for (size_t i = 0; i < m->recv->nintegrations; i++) {
        const struct integration *in = &m->recv->integrations[i];
        if (!m->sent[i]) {
            continue;
        }
        if (m->results[i].ok) {
            log_info("incidents", "acknowledgement message of incident %lld sent to %s/%s[%d]",
                     (long long)m->id, m->recv->name, integration_type_name(in->type), in->index);
        } else {
            log_warn("incidents",
                     "acknowledgement message of incident %lld to %s/%s[%d] failed: %s",
                     (long long)m->id, m->recv->name, integration_type_name(in->type), in->index,
                     m->results[i].error);
        }
    }
    core_call_async(m->core, ack_message_record_fn, m, ack_message_recorded, m);
}

/* Posts "[ACK] <title>" / "acknowledged by <by>: <comment>" to the chat integrations of the
 * incident's receiver in the running configuration, straight through the notifier (its
 * retries and http_config, at most ACK_MESSAGE_DEADLINE_NS; no outbox: the message is not
 * replayed after a restart), without waiting: the acknowledgement is answered at once, and
 * the outcomes are logged and recorded in the incident's timeline when they come
 * (ack_message_done). Nothing when incidents.ack_message is off. */
static void send_ack_message(struct api *api, int64_t id, const char *by, const char *comment)
{
    struct config *cfg = core_config(api->core);
    struct incident_row *r = NULL;
    const struct receiver *recv;
    sqlite3 *db;

    if (cfg == NULL || !config_ext_ack_message(cfg->ext) || api->notifier == NULL) {
        config_unref(cfg);
        return;
    }
    db = store_incidents_open_ro(api->storage_path);
    if (db == NULL || store_incident_get(db, id, &r) != AR_OK) {
        log_warn("incidents", "acknowledgement message of incident %lld: incident not readable",
                 (long long)id);
        sqlite3_close(db);
        config_unref(cfg);
        return;
    }
    sqlite3_close(db);
    recv = config_find_receiver(cfg, r->receiver);
    if (recv == NULL) {
        /* a reload removed the receiver since the incident opened */
        incident_row_free(r);
        config_unref(cfg);
        return;
    }

    char *title = incident_title(cfg->tmpl, r);
    struct buf head;
    struct buf text;
    buf_init(&head, 0);
    buf_init(&text, 0);
    buf_printf(&head, "[ACK] %s", title);
    buf_printf(&text, "acknowledged by %s", by);
    if (comment != NULL && comment[0] != '\0') {
        buf_printf(&text, ": %s", comment);
    }
    free(title);

    struct labelset gl;
    json_error_t jerr;
    json_t *labels = json_loads(r->group_labels ? r->group_labels : "{}", 0, &jerr);
    api_labels_from_json(labels, &gl);
    json_decref(labels);

    char *ext = ar_strdup(api->external_url ? api->external_url : "");
    for (size_t n = strlen(ext); n > 0 && ext[n - 1] == '/'; n--) {
        ext[n - 1] = '\0';
    }
    struct notify_data *nd =
        notify_data_new(cfg, recv, r->group_key, &gl, NULL, NULL, 0, ext, clock_now_ns());
    notify_data_set_override(nd, buf_str(&head), buf_str(&text));

    struct ack_message *m = ar_calloc(1, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
    m->core = api->core;
    m->id = id;
    m->cfg = config_ref(cfg);
    m->recv = recv;
    m->sent = ar_calloc(recv->nintegrations + 1, sizeof(*m->sent));
    m->results = ar_calloc(recv->nintegrations + 1, sizeof(*m->results));
    m->slots = ar_calloc(recv->nintegrations + 1, sizeof(*m->slots));
    for (size_t i = 0; i < recv->nintegrations; i++) {
        m->sent[i] = ack_message_chat(recv->integrations[i].type);
        m->left += m->sent[i] ? 1 : 0;
    }
    if (m->left == 0) {
        ack_message_recorded(m, AR_OK);
    } else {
        /* every job is counted in m->left before the first can finish */
        size_t n = m->left;
        for (size_t i = 0; i < recv->nintegrations && n > 0; i++) {
            if (!m->sent[i]) {
                continue;
            }
            n--;
            m->slots[i].m = m;
            m->slots[i].index = i;
            notifier_submit(api->notifier,
                            notify_job_new(nd, &recv->integrations[i],
                                           clock_monotonic_ns() + ACK_MESSAGE_DEADLINE_NS,
                                           ack_message_done, &m->slots[i]));
        }
    }
    notify_data_unref(nd);

    free(ext);
    labelset_cleanup(&gl);
    buf_cleanup(&head);
    buf_cleanup(&text);
    incident_row_free(r);
    config_unref(cfg);
}

static void ack(struct api *api, const struct http_request *req, int64_t id,
                struct http_response *resp)
{
    json_t *o = body_object(req, resp);
    struct ack_call call;
    char user[128];
    char msg[400];
    int rc;

    if (o == NULL) {
        return;
    }
    memset(&call, 0, sizeof(call));
    call.id = id;
    if (!member_string(o, "by", true, NAME_MAX_BYTES, &call.by, resp) ||
        !member_string(o, "comment", false, NOTE_MAX_BYTES, &call.comment, resp)) {
        json_decref(o);
        return;
    }
    call.client = req->client;
    http_request_basic_user(req, user, sizeof(user));
    call.user = user;
    rc = core_call(api->core, ack_fn, &call);
    if (rc == AR_OK) {
        send_ack_message(api, id, call.by, call.comment);
    }
    json_decref(o); /* call.by and call.comment point into it */
    if (rc == AR_OK) {
        get_one(api, id, 200, resp);
    } else if (rc == AR_EEXIST) {
        /* concurrent acks: the first one wins; the later one is recorded and told who */
        snprintf(msg, sizeof(msg), "incident %lld is already acknowledged by %s", (long long)id,
                 call.prev_by ? call.prev_by : "");
        api_reply_json_string(resp, 409, msg);
    } else if (rc == AR_ENOTFOUND) {
        sqlite3 *db = store_incidents_open_ro(api->storage_path);
        struct incident_row *r = NULL;
        rc = db ? store_incident_get(db, id, &r) : AR_EDB;
        sqlite3_close(db);
        incident_row_free(r);
        if (rc == AR_OK) {
            snprintf(msg, sizeof(msg), "incident %lld is resolved: it cannot be acknowledged",
                     (long long)id);
            api_reply_json_string(resp, 409, msg);
        } else if (rc == AR_ENOTFOUND) {
            api_reply_json_string(resp, 404, "incident not found");
        } else {
            api_reply_json_string(resp, 500, "failed to read the incident");
        }
    } else {
        api_reply_json_string(resp, 500, "the acknowledgement could not be recorded");
    }
    free(call.prev_by);
}

/* ---- notes ---- */

struct note_call {
    int64_t id;
    const char *section;
    const char *author;
    const char *text;
    int64_t replaces;
    const char *client;
    const char *user;
    int64_t note_id;
    int64_t at;
};

static int note_fn(struct core *c, struct txn *txn, void *arg)
{
    struct note_call *call = arg;

    call->at = txn_now(txn);
    call->note_id = incident_note_add(core_incidents(c), call->id, call->section, call->author,
                                      call->text, call->replaces, call->client, call->user, txn);
    return AR_OK;
}

static void note(struct api *api, const struct http_request *req, int64_t id,
                 struct http_response *resp)
{
    json_t *o = body_object(req, resp);
    struct note_call call;
    struct incident_note_row n;
    char user[128];
    char msg[400];
    sqlite3 *db;
    struct incident_row *r = NULL;
    json_t *rep;
    int rc;

    if (o == NULL) {
        return;
    }
    memset(&call, 0, sizeof(call));
    call.id = id;
    if (!member_string(o, "section", true, NAME_MAX_BYTES, &call.section, resp) ||
        !member_string(o, "author", true, NAME_MAX_BYTES, &call.author, resp) ||
        !member_string(o, "text", true, NOTE_MAX_BYTES, &call.text, resp)) {
        json_decref(o);
        return;
    }
    if (!incident_section_valid(call.section)) {
        struct buf b;
        buf_init(&b, 0);
        buf_printf(&b, "unknown section \"%.64s\": one of", call.section);
        for (size_t i = 0; incident_section_keys[i] != NULL; i++) {
            buf_printf(&b, "%s %s", i ? "," : "", incident_section_keys[i]);
        }
        api_reply_json_string(resp, 400, buf_str(&b));
        buf_cleanup(&b);
        json_decref(o);
        return;
    }
    rep = json_object_get(o, "replaces");
    if (rep != NULL && !json_is_null(rep)) {
        if (!json_is_integer(rep) || json_integer_value(rep) <= 0) {
            api_reply_json_string(resp, 400, "replaces must be the id of a note");
            json_decref(o);
            return;
        }
        call.replaces = json_integer_value(rep);
    }
    db = store_incidents_open_ro(api->storage_path);
    rc = db ? store_incident_get(db, id, &r) : AR_EDB;
    incident_row_free(r);
    if (rc == AR_OK && call.replaces != 0) {
        int64_t owner = 0;
        int rrc = store_incident_note_owner(db, call.replaces, &owner);
        if (rrc == AR_EDB) {
            rc = AR_EDB;
        } else if (rrc == AR_ENOTFOUND || owner != id) {
            snprintf(msg, sizeof(msg), "replaces: note %lld is not a note of incident %lld",
                     (long long)call.replaces, (long long)id);
            api_reply_json_string(resp, 400, msg);
            sqlite3_close(db);
            json_decref(o);
            return;
        }
    }
    sqlite3_close(db);
    if (rc == AR_ENOTFOUND) {
        api_reply_json_string(resp, 404, "incident not found");
        json_decref(o);
        return;
    }
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "failed to read the incident");
        json_decref(o);
        return;
    }
    call.client = req->client;
    http_request_basic_user(req, user, sizeof(user));
    call.user = user;
    rc = core_call(api->core, note_fn, &call);
    if (rc != AR_OK) {
        api_reply_json_string(resp, 500, "the note could not be recorded");
        json_decref(o);
        return;
    }
    n.id = call.note_id;
    n.incident_id = id;
    n.at = call.at;
    n.section = (char *)call.section;
    n.author = (char *)call.author;
    n.text = (char *)call.text;
    n.replaces = call.replaces;
    buf_reset(&resp->body);
    put_note(&resp->body, &n);
    api_reply_json(resp, 201);
    json_decref(o);
}

/* ---- reports ---- */

static void report(struct api *api, const struct http_request *req, int64_t id,
                   struct http_response *resp)
{
    enum incident_report_format f;
    struct ar_error err;
    struct config *cfg;
    int rc;

    if (!incident_report_format_parse(http_request_param(req, "format"), &f)) {
        api_reply_json_string(resp, 400, "format must be markdown, html or json");
        return;
    }
    err.msg[0] = '\0';
    /* incidents.report_template of the extensions file in force (ar/config_ext.h) */
    cfg = core_config(api->core);
    rc = incident_report_render(api->storage_path, id, f,
                                config_ext_report_template(cfg ? cfg->ext : NULL),
                                cfg ? cfg->tmpl : NULL, &resp->body, &err);
    config_unref(cfg);
    if (rc == AR_ENOTFOUND) {
        api_reply_json_string(resp, 404, "incident not found");
    } else if (rc == AR_EDB) {
        api_reply_json_string(resp, 500, "failed to read the incident");
    } else if (rc != AR_OK) {
        char msg[sizeof(err.msg) + 40];
        snprintf(msg, sizeof(msg), "report template: %s", err.msg);
        api_reply_json_string(resp, 500, msg);
    } else {
        resp->status = 200;
        resp->content_type = incident_report_content_type(f);
    }
}

/* ---- routing ---- */

/* A positive decimal id followed by the rest of the path; false when it is not one. */
static bool parse_id(const char *p, int64_t *id, const char **rest)
{
    int64_t v = 0;
    const char *q = p;

    while (*q >= '0' && *q <= '9' && q - p < 18) {
        v = v * 10 + (*q - '0');
        q++;
    }
    if (q == p || v <= 0 || (*q != '\0' && *q != '/')) {
        return false;
    }
    *id = v;
    *rest = q;
    return true;
}

void api_incidents(struct api *api, const struct http_request *req, const char *path,
                   struct http_response *resp)
{
    const char *rest;
    int64_t id;
    bool get = strcmp(req->method, "GET") == 0;
    bool post = strcmp(req->method, "POST") == 0;

    if (strcmp(path, "") == 0 || strcmp(path, "/") == 0) {
        if (!get) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        list(api, req, resp);
        return;
    }
    if (!parse_id(path + 1, &id, &rest)) {
        api_reply_json_string(resp, 404, "incident not found");
        return;
    }
    if (strcmp(rest, "") == 0) {
        if (!get) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        get_one(api, id, 200, resp);
    } else if (strcmp(rest, "/ack") == 0) {
        if (!post) {
            api_reply_method_not_allowed(req, resp, "POST");
            return;
        }
        ack(api, req, id, resp);
    } else if (strcmp(rest, "/notes") == 0) {
        if (!post) {
            api_reply_method_not_allowed(req, resp, "POST");
            return;
        }
        note(api, req, id, resp);
    } else if (strcmp(rest, "/report") == 0) {
        if (!get) {
            api_reply_method_not_allowed(req, resp, "GET");
            return;
        }
        report(api, req, id, resp);
    } else {
        char msg[300];
        snprintf(msg, sizeof(msg), "path /api/x/incidents%s was not found", path);
        api_reply_error_object(resp, 404, 404, msg);
    }
}

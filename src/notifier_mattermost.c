/* Mattermost notifier (COMPAT 9.8, newest 0.30+; 0.25 lacks it): incoming-webhook POST of
 * text (always present, <= 16383 runes), channel, username, icons, attachments, type, props
 * and priority, other empty fields omitted. Without configured attachments one attachment
 * is built from the top-level fields (fallback, color, pretext, author, title, link, fields,
 * images, footer). The priority is lower-cased; an unknown one becomes "standard",
 * requested_ack needs a non-standard priority and persistent_notifications "urgent".
 * Retries: 5xx only.
 * Also owns the `mattermost_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define MATTERMOST_TEXT_MAX 16383

static void put_fields(struct notify_json_obj *m, struct notify_tmpl *t,
                       struct mattermost_field **f, size_t n)
{
    if (n == 0) {
        return;
    }
    buf_puts(m->b, m->first ? "{\"fields\":[" : ",\"fields\":[");
    m->first = false;
    for (size_t i = 0; i < n; i++) {
        struct notify_json_obj fm = {m->b, true};

        if (i > 0) {
            buf_putc(m->b, ',');
        }
        notify_json_obj_put(&fm, "title", notify_tmpl_text(t, f[i]->title));
        notify_json_obj_put(&fm, "value", notify_tmpl_text(t, f[i]->value));
        if (f[i]->short_ > 0) {
            buf_puts(m->b, fm.first ? "{\"short\":true" : ",\"short\":true");
            fm.first = false;
        }
        buf_puts(m->b, fm.first ? "{}" : "}");
    }
    buf_putc(m->b, ']');
}

static void put_attachment(struct buf *b, struct notify_tmpl *t,
                           const struct mattermost_attachment *a)
{
    struct notify_json_obj m = {b, true};

    notify_json_obj_put(&m, "fallback", notify_tmpl_text(t, a->fallback));
    notify_json_obj_put(&m, "color", notify_tmpl_text(t, a->color));
    notify_json_obj_put(&m, "pretext", notify_tmpl_text(t, a->pretext));
    notify_json_obj_put(&m, "text", notify_tmpl_text(t, a->text));
    notify_json_obj_put(&m, "author_name", notify_tmpl_text(t, a->author_name));
    notify_json_obj_put(&m, "author_link", notify_tmpl_text(t, a->author_link));
    notify_json_obj_put(&m, "author_icon", notify_tmpl_text(t, a->author_icon));
    notify_json_obj_put(&m, "title", notify_tmpl_text(t, a->title));
    notify_json_obj_put(&m, "title_link", notify_tmpl_text(t, a->title_link));
    put_fields(&m, t, a->fields.v, a->fields.n);
    notify_json_obj_put(&m, "thumb_url", notify_tmpl_text(t, a->thumb_url));
    notify_json_obj_put(&m, "footer", notify_tmpl_text(t, a->footer));
    notify_json_obj_put(&m, "footer_icon", notify_tmpl_text(t, a->footer_icon));
    notify_json_obj_put(&m, "image_url", notify_tmpl_text(t, a->image_url));
    buf_puts(b, m.first ? "{}" : "}");
}

int notify_mattermost_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err)
{
    const struct mattermost_config *c = cfg;
    struct notify_tmpl t;
    char *url = NULL;
    int rc = notify_required_secret(c->webhook_url, c->webhook_url_file, "webhook_url",
                                    "mattermost", &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    struct buf *b = &out->body;
    struct notify_json_obj m = {b, true};
    bool own = c->attachments.n > 0;
    bool tr;
    char *text = notify_truncate_runes(notify_tmpl_message(&t, c->text), MATTERMOST_TEXT_MAX, &tr);
    buf_puts(b, "{\"text\":");
    notify_json_str(b, text);
    free(text);
    m.first = false;
    notify_json_obj_put(&m, "channel", notify_tmpl_text(&t, c->channel));
    notify_json_obj_put(&m, "username", notify_tmpl_text(&t, c->username));
    notify_json_obj_put(&m, "icon_url", notify_tmpl_text(&t, c->icon_url));
    notify_json_obj_put(&m, "icon_emoji", notify_tmpl_text(&t, c->icon_emoji));
    buf_puts(b, ",\"attachments\":[");
    if (own) {
        for (size_t i = 0; i < c->attachments.n; i++) {
            if (i > 0) {
                buf_putc(b, ',');
            }
            put_attachment(b, &t, c->attachments.v[i]);
        }
    } else {
        /* the text is sent at the top level, so the built attachment leaves it out */
        struct mattermost_attachment a = {
            .fallback = c->fallback,
            .color = c->color,
            .pretext = c->pretext,
            .author_name = c->author_name,
            .author_link = c->author_link,
            .author_icon = c->author_icon,
            .title = c->title,
            .title_link = c->title_link,
            .thumb_url = c->thumb_url,
            .footer = c->footer,
            .footer_icon = c->footer_icon,
            .image_url = c->image_url,
        };
        a.fields.v = c->fields.v;
        a.fields.n = c->fields.n;
        put_attachment(b, &t, &a);
    }
    buf_putc(b, ']');
    notify_json_obj_put(&m, "type", notify_tmpl_text(&t, c->type));
    if (c->props != NULL && c->props->card != NULL && c->props->card[0] != '\0') {
        buf_puts(b, ",\"props\":{\"card\":");
        notify_json_str(b, notify_tmpl_text(&t, c->props->card));
        buf_putc(b, '}');
    }
    if (c->priority != NULL && c->priority->priority != NULL && c->priority->priority[0] != '\0') {
        char prio[16];
        const char *p = notify_tmpl_text(&t, c->priority->priority);
        size_t i = 0;

        for (; p[i] != '\0' && i + 1 < sizeof(prio); i++) {
            prio[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
        }
        prio[i] = '\0';
        if (p[i] != '\0' || (strcmp(prio, "urgent") != 0 && strcmp(prio, "important") != 0 &&
                             strcmp(prio, "standard") != 0)) {
            snprintf(prio, sizeof(prio), "standard");
        }
        buf_puts(b, ",\"priority\":{\"priority\":");
        notify_json_str(b, prio);
        if (c->priority->requested_ack && strcmp(prio, "standard") != 0) {
            buf_puts(b, ",\"requested_ack\":true");
        }
        if (c->priority->persistent_notifications && strcmp(prio, "urgent") == 0) {
            buf_puts(b, ",\"persistent_notifications\":true");
        }
        buf_putc(b, '}');
    }
    rc = buf_puts(b, "}\n");
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    if (rc != AR_OK) {
        ar_error_set(err, "build mattermost body: %s", ar_strerror(rc));
        goto out;
    }
    out->url = url;
    url = NULL;
    out->http = c->http_config;
out:
    free(url);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `mattermost_configs` key table --------------------------------- */

static int mm_field_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct mattermost_field *f = obj;
    if (cfg_empty(f->title)) {
        return ctx_error(c, n, "missing title in Mattermost field configuration");
    }
    if (cfg_empty(f->value)) {
        return ctx_error(c, n, "missing value in Mattermost field configuration");
    }
    return AR_OK;
}

static const struct field mm_field_fields[] = {
    STR(struct mattermost_field, "title", title),
    STR(struct mattermost_field, "value", value),
    FIELD(struct mattermost_field, "short", short_, FT_OPTBOOL, FF_OMITEMPTY, NULL),
};
static const struct table mm_field_table =
    TABLE("mattermost.plain", struct mattermost_field, mm_field_fields, mm_field_check);

#define T struct mattermost_attachment
static const struct field mm_attachment_fields[] = {
    STR(T, "fallback", fallback),
    STR(T, "color", color),
    STR(T, "pretext", pretext),
    STR(T, "text", text),
    STR(T, "author_name", author_name),
    STR(T, "author_link", author_link),
    STR(T, "author_icon", author_icon),
    STR(T, "title", title),
    STR(T, "title_link", title_link),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &mm_field_table),
    STR(T, "thumb_url", thumb_url),
    STR(T, "footer", footer),
    STR(T, "footer_icon", footer_icon),
    STR(T, "image_url", image_url),
};
#undef T
static const struct table mm_attachment_table = TABLE(
    "mattermost.MattermostAttachment", struct mattermost_attachment, mm_attachment_fields, NULL);

static const struct field mm_props_fields[] = {
    STR(struct mattermost_props, "card", card),
};
static const struct table mm_props_table =
    TABLE("mattermost.MattermostProps", struct mattermost_props, mm_props_fields, NULL);

static const struct field mm_priority_fields[] = {
    STR(struct mattermost_priority, "priority", priority),
    FIELD(struct mattermost_priority, "requested_ack", requested_ack, FT_BOOL, FF_OMITEMPTY, NULL),
    FIELD(struct mattermost_priority, "persistent_notifications", persistent_notifications, FT_BOOL,
          FF_OMITEMPTY, NULL),
};
static const struct table mm_priority_table =
    TABLE("mattermost.MattermostPriority", struct mattermost_priority, mm_priority_fields, NULL);

static int mattermost_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct mattermost_config *m = obj;
    const struct config_global *g = c->global;

    if (m->webhook_url != NULL && !cfg_empty(m->webhook_url_file)) {
        return ctx_error(c, n, "at most one of webhook_url & webhook_url_file must be configured");
    }
    if (m->webhook_url == NULL && cfg_empty(m->webhook_url_file) && g != NULL) {
        cfg_inherit(&m->webhook_url, g->mattermost_webhook_url);
        cfg_inherit(&m->webhook_url_file, g->mattermost_webhook_url_file);
    }
    if (m->webhook_url == NULL && cfg_empty(m->webhook_url_file)) {
        return ctx_error(c, n, "missing webhook_url or webhook_url_file on mattermost_config");
    }
    cfg_inherit_http(&m->http_config, c);
    return AR_OK;
}

#define T struct mattermost_config
static const struct field mattermost_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    SURL(T, "webhook_url", webhook_url),
    STR(T, "webhook_url_file", webhook_url_file),
    STR(T, "channel", channel),
    STRD(T, "username", username, "{{ template \"mattermost.default.username\" . }}"),
    STRD(T, "text", text, "{{ template \"mattermost.default.text\" . }}"),
    STRD(T, "fallback", fallback, "{{ template \"mattermost.default.fallback\" . }}"),
    STRD(T, "color", color, "{{ template \"mattermost.default.color\" . }}"),
    STR(T, "pretext", pretext),
    STR(T, "author_name", author_name),
    STR(T, "author_link", author_link),
    STR(T, "author_icon", author_icon),
    STRD(T, "title", title, "{{ template \"mattermost.default.title\" . }}"),
    STRD(T, "title_link", title_link, "{{ template \"mattermost.default.titlelink\" . }}"),
    SUBFIELD(T, "fields", fields, FT_LIST, FF_OMITEMPTY, &mm_field_table),
    STR(T, "thumb_url", thumb_url),
    STR(T, "footer", footer),
    STR(T, "footer_icon", footer_icon),
    STR(T, "image_url", image_url),
    STR(T, "icon_url", icon_url),
    STR(T, "icon_emoji", icon_emoji),
    SUBFIELD(T, "attachments", attachments, FT_LIST, FF_OMITEMPTY, &mm_attachment_table),
    STR(T, "type", type),
    SUBFIELD(T, "props", props, FT_STRUCTP, FF_OMITEMPTY, &mm_props_table),
    SUBFIELD(T, "priority", priority, FT_STRUCTP, FF_OMITEMPTY, &mm_priority_table),
};
#undef T
const struct table mattermost_config_table =
    TABLE("mattermost.plain", struct mattermost_config, mattermost_fields, mattermost_check);

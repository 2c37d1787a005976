/* Mattermost notifier (COMPAT 9.8, newest 0.30+; 0.25 lacks it): incoming-webhook POST of
 * text (always present, <= 16383 runes), channel, username, icons, attachments, type, props
 * and priority, other empty fields omitted. Without configured attachments one attachment
 * is built from the top-level fields (fallback, color, pretext, author, title, link, fields,
 * images, footer). The priority is lower-cased; an unknown one becomes "standard",
 * requested_ack needs a non-standard priority and persistent_notifications "urgent".
 * Retries: 5xx only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar/notify.h"

#define MATTERMOST_TEXT_MAX 16383

struct mm_ctx {
    struct buf *b;
    bool first;
};

static void put(struct mm_ctx *m, const char *key, const char *v)
{
    if (v == NULL || v[0] == '\0') {
        return;
    }
    buf_puts(m->b, m->first ? "{\"" : ",\"");
    m->first = false;
    buf_puts(m->b, key);
    buf_puts(m->b, "\":");
    notify_json_str(m->b, v);
}

static void put_fields(struct mm_ctx *m, struct notify_tmpl *t, struct mattermost_field **f,
                       size_t n)
{
    if (n == 0) {
        return;
    }
    buf_puts(m->b, m->first ? "{\"fields\":[" : ",\"fields\":[");
    m->first = false;
    for (size_t i = 0; i < n; i++) {
        struct mm_ctx fm = {m->b, true};

        if (i > 0) {
            buf_putc(m->b, ',');
        }
        put(&fm, "title", notify_tmpl_text(t, f[i]->title));
        put(&fm, "value", notify_tmpl_text(t, f[i]->value));
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
    struct mm_ctx m = {b, true};

    put(&m, "fallback", notify_tmpl_text(t, a->fallback));
    put(&m, "color", notify_tmpl_text(t, a->color));
    put(&m, "pretext", notify_tmpl_text(t, a->pretext));
    put(&m, "text", notify_tmpl_text(t, a->text));
    put(&m, "author_name", notify_tmpl_text(t, a->author_name));
    put(&m, "author_link", notify_tmpl_text(t, a->author_link));
    put(&m, "author_icon", notify_tmpl_text(t, a->author_icon));
    put(&m, "title", notify_tmpl_text(t, a->title));
    put(&m, "title_link", notify_tmpl_text(t, a->title_link));
    put_fields(&m, t, a->fields.v, a->fields.n);
    put(&m, "thumb_url", notify_tmpl_text(t, a->thumb_url));
    put(&m, "footer", notify_tmpl_text(t, a->footer));
    put(&m, "footer_icon", notify_tmpl_text(t, a->footer_icon));
    put(&m, "image_url", notify_tmpl_text(t, a->image_url));
    buf_puts(b, m.first ? "{}" : "}");
}

int notify_mattermost_build(const struct notify_data *d, const void *cfg,
                            struct notify_request *out, struct ar_error *err)
{
    const struct mattermost_config *c = cfg;
    struct notify_tmpl t;
    char *url = NULL;
    int rc = notify_required_secret(c->webhook_url, c->webhook_url_file, "webhook_url", "mattermost",
                                    &url, err);

    if (rc != AR_OK) {
        return rc;
    }
    notify_tmpl_init(&t, d);
    struct buf *b = &out->body;
    struct mm_ctx m = {b, true};
    bool own = c->attachments.n > 0;
    bool tr;
    char *text = notify_truncate_runes(notify_tmpl_text(&t, c->text), MATTERMOST_TEXT_MAX, &tr);
    buf_puts(b, "{\"text\":");
    notify_json_str(b, text);
    free(text);
    m.first = false;
    put(&m, "channel", notify_tmpl_text(&t, c->channel));
    put(&m, "username", notify_tmpl_text(&t, c->username));
    put(&m, "icon_url", notify_tmpl_text(&t, c->icon_url));
    put(&m, "icon_emoji", notify_tmpl_text(&t, c->icon_emoji));
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
    put(&m, "type", notify_tmpl_text(&t, c->type));
    if (c->props != NULL && c->props->card != NULL && c->props->card[0] != '\0') {
        buf_puts(b, ",\"props\":{\"card\":");
        notify_json_str(b, notify_tmpl_text(&t, c->props->card));
        buf_putc(b, '}');
    }
    if (c->priority != NULL && c->priority->priority != NULL &&
        c->priority->priority[0] != '\0') {
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

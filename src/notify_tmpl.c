/* Template data and rendering for the notifiers (COMPAT 8.1, 8.2): turns one send's
 * notify_data into Alertmanager's template `Data` once, and renders configured fields as
 * anonymous templates against the configuration's template set (built-in templates plus the
 * `templates:` files, parsed at load). Rendering only reads the set and the data, so the
 * notifier thread and others may render at once. Cost: O(alerts × labels) per Data. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ar/alert.h"
#include "ar/clock.h"
#include "ar/log.h"
#include "ar/notify.h"
#include "ar/timefmt.h"
#include "ar/tmpl.h"

/* Built-in templates for data without a configuration (tests, tools): parsed once. */
static struct tmpl_set *builtin_set;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_load(void)
{
    struct ar_error err;

    builtin_set = tmpl_set_new();
    if (tmpl_set_load_defaults(builtin_set, &err) != AR_OK) {
        log_error("notify", "built-in templates: %s", err.msg);
    }
}

static const struct tmpl_set *set_of(const struct notify_data *d)
{
    if (d->cfg != NULL && d->cfg->tmpl != NULL) {
        return d->cfg->tmpl;
    }
    pthread_once(&builtin_once, builtin_load);
    return builtin_set;
}

static void split_time(int64_t ns, int64_t *sec, int32_t *nsec)
{
    if (ns == AR_TIME_UNSET) {
        *sec = TMPL_ZERO_TIME_SEC;
        *nsec = 0;
        return;
    }
    *sec = ns / AR_NS_PER_SEC;
    *nsec = (int32_t)(ns % AR_NS_PER_SEC);
    if (*nsec < 0) {
        *nsec += (int32_t)AR_NS_PER_SEC;
        (*sec)--;
    }
}

struct tmpl_value *notify_tmpl_data(const struct notify_data *d)
{
    struct tmpl_value *data = tmpl_data_new(d->receiver_name, true, d->external_url);
    struct tmpl_value *gl = tmpl_data_group_labels(data);

    for (size_t i = 0; i < d->nalerts; i++) {
        const struct alert *a = d->alerts[i];
        bool resolved = d->resolved[i];
        int64_t ssec;
        int64_t esec;
        int32_t snsec;
        int32_t ensec;
        char fp[17];

        split_time(a->starts_at, &ssec, &snsec);
        /* COMPAT 5.4: a firing alert shows Go's zero EndsAt */
        split_time(resolved ? a->ends_at : AR_TIME_UNSET, &esec, &ensec);
        fingerprint_format(a->fp, fp);
        struct tmpl_value *ta =
            tmpl_alert_new(resolved ? "resolved" : "firing", ssec, snsec, esec, ensec,
                           a->generator_url != NULL ? a->generator_url : "", fp);
        struct tmpl_value *kv = tmpl_alert_labels(ta);
        for (size_t l = 0; l < a->labels.n; l++) {
            tmpl_kv_set(kv, a->labels.v[l].name, a->labels.v[l].value);
        }
        kv = tmpl_alert_annotations(ta);
        struct labelset scratch;
        const struct labelset *ann = alert_annotations(a, &scratch);
        for (size_t l = 0; l < ann->n; l++) {
            tmpl_kv_set(kv, ann->v[l].name, ann->v[l].value);
        }
        labelset_cleanup(&scratch);
        tmpl_data_add_alert_take(data, ta);
    }
    for (size_t l = 0; l < d->group_labels.n; l++) {
        tmpl_kv_set(gl, d->group_labels.v[l].name, d->group_labels.v[l].value);
    }
    tmpl_data_finish(data, true);
    return data;
}

int notify_render(const struct notify_data *d, const struct tmpl_value *data, const char *text,
                  bool html, char **out, struct ar_error *err)
{
    if (text == NULL || text[0] == '\0') {
        *out = ar_strdup("");
        return AR_OK;
    }
    if (strstr(text, "{{") == NULL) {
        /* plain text: nothing to execute (html mode only escapes action output) */
        *out = ar_strdup(text);
        return AR_OK;
    }
    return tmpl_render(set_of(d), text, html ? TMPL_HTML : TMPL_TEXT, data, out, err);
}

void notify_tmpl_init(struct notify_tmpl *t, const struct notify_data *d)
{
    memset(t, 0, sizeof(*t));
    t->d = d;
    t->data = notify_tmpl_data(d);
    t->rc = AR_OK;
}

void notify_tmpl_cleanup(struct notify_tmpl *t)
{
    for (size_t i = 0; i < t->nowned; i++) {
        free(t->owned[i]);
    }
    free(t->owned);
    tmpl_value_unref(t->data);
    memset(t, 0, sizeof(*t));
}

const char *notify_tmpl_text(struct notify_tmpl *t, const char *text)
{
    char *s = NULL;

    /* COMPAT: Go's notify.TmplText renders nothing once an error happened */
    if (t->rc != AR_OK || text == NULL) {
        return "";
    }
    int rc = notify_render(t->d, t->data, text, t->html, &s, &t->err);
    if (rc != AR_OK) {
        t->rc = rc;
        return "";
    }
    t->owned = ar_realloc(t->owned, (t->nowned + 1) * sizeof(*t->owned));
    t->owned[t->nowned++] = s;
    return s;
}

const char *notify_tmpl_title(struct notify_tmpl *t, const char *text)
{
    return t->d->override_title != NULL ? t->d->override_title : notify_tmpl_text(t, text);
}

const char *notify_tmpl_body(struct notify_tmpl *t, const char *text)
{
    return t->d->override_title != NULL ? t->d->override_text : notify_tmpl_text(t, text);
}

const char *notify_tmpl_message(struct notify_tmpl *t, const char *text)
{
    return t->d->override_title != NULL ? t->d->override_message : notify_tmpl_text(t, text);
}

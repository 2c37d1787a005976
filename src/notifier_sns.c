/* Amazon SNS notifier (COMPAT 9.15): one Publish call of the SNS Query API, a form-encoded
 * POST (parameters sorted by name, as Go's url.Values encodes them) to api_url, by default
 * https://sns.<region>.amazonaws.com/, signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4, service "sns"). Fields: TopicArn (a ".fifo" topic also gets
 * MessageGroupId and MessageDeduplicationId, both the group key's SHA-256), PhoneNumber,
 * TargetArn, Subject and Message (cut to 256 KiB, 1600 bytes for SMS, with a "truncated"
 * attribute), and the configured attributes as String message attributes, all rendered as
 * templates. Credentials: sigv4 access_key/secret_key, else AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the profile's (or "default") entry in
 * the shared credentials file; region from sigv4, else AWS_REGION / AWS_DEFAULT_REGION.
 * role_arn (STS AssumeRole) is refused at load. Retries: 5xx only.
 * Also owns the `sns_configs` key table: fields, defaults, validation and what is
 * inherited from `global` (COMPAT 4.5, 4.9), listed in the integration table. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ar/notify.h"
#include "config_internal.h"

#define SNS_MESSAGE_MAX      (256u * 1024)
#define SMS_MESSAGE_MAX      1600u
#define CREDENTIALS_FILE_MAX (64u * 1024)

struct param {
    const char *name; /* static or owned by names[] below */
    const char *value;
};

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const struct param *)a)->name, ((const struct param *)b)->name);
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        int n = *p < 0x80             ? 0
                : (*p & 0xE0) == 0xC0 ? 1
                : (*p & 0xF0) == 0xE0 ? 2
                : (*p & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4)) {
            return false;
        }
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80) {
                return false;
            }
        }
    }
    return true;
}

static char *trimmed(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    return ar_strndup(s, n);
}

/* The [profile] section of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials): aws_access_key_id, aws_secret_access_key, aws_session_token. */
static void shared_credentials(const char *profile, char **id, char **secret, char **token)
{
    const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
    char *owned = NULL;
    FILE *f;
    char line[1024];
    bool in = false;

    if (path == NULL || path[0] == '\0') {
        const char *home = getenv("HOME");
        if (home == NULL) {
            return;
        }
        owned = ar_asprintf("%s/.aws/credentials", home);
        path = owned;
    }
    f = fopen(path, "r");
    free(owned);
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *s = trimmed(line, strlen(line));
        char *eq = strchr(s, '=');
        if (s[0] == '[') {
            char *end = strchr(s, ']');
            char *name = end != NULL ? trimmed(s + 1, (size_t)(end - s - 1)) : ar_strdup("");
            in = strcmp(name, profile) == 0;
            free(name);
        } else if (in && eq != NULL) {
            char *k = trimmed(s, (size_t)(eq - s));
            char **dst = strcmp(k, "aws_access_key_id") == 0       ? id
                         : strcmp(k, "aws_secret_access_key") == 0 ? secret
                         : strcmp(k, "aws_session_token") == 0     ? token
                                                                   : NULL;
            if (dst != NULL) {
                free(*dst);
                *dst = trimmed(eq + 1, strlen(eq + 1));
            }
            free(k);
        }
        free(s);
    }
    fclose(f);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Credentials in the order of the SDK's default chain, as far as alertrouter follows it. */
static int credentials(const struct sigv4_config *s, char **id, char **secret, char **token,
                       struct ar_error *err)
{
    *id = *secret = *token = NULL;
    if (s->access_key != NULL && s->access_key[0] != '\0') {
        *id = ar_strdup(s->access_key);
        *secret = ar_strdup(s->secret_key != NULL ? s->secret_key : "");
        return AR_OK;
    }
    if (s->profile == NULL || s->profile[0] == '\0') {
        if (env("AWS_ACCESS_KEY_ID") != NULL && env("AWS_SECRET_ACCESS_KEY") != NULL) {
            *id = ar_strdup(env("AWS_ACCESS_KEY_ID"));
            *secret = ar_strdup(env("AWS_SECRET_ACCESS_KEY"));
            if (env("AWS_SESSION_TOKEN") != NULL) {
                *token = ar_strdup(env("AWS_SESSION_TOKEN"));
            }
            return AR_OK;
        }
    }
    shared_credentials(s->profile != NULL && s->profile[0] != '\0' ? s->profile
                       : env("AWS_PROFILE") != NULL                ? env("AWS_PROFILE")
                                                                   : "default",
                       id, secret, token);
    if (*id == NULL || *secret == NULL) {
        free(*id);
        free(*secret);
        free(*token);
        *id = *secret = *token = NULL;
        ar_error_set(err, "failed to retrieve SNS credentials: no access_key in sigv4, in the "
                          "environment or in the shared credentials file");
        return AR_EINVAL;
    }
    return AR_OK;
}

int notify_sns_can_send(const void *cfg, struct ar_error *err)
{
    const struct sns_config *c = cfg;

    if (c->sigv4.role_arn != NULL && c->sigv4.role_arn[0] != '\0') {
        ar_error_set(err, "sigv4.role_arn: alertrouter cannot assume an AWS role; give "
                          "access_key and secret_key (or environment credentials) instead");
        return AR_EINVAL;
    }
    return AR_OK;
}

int notify_sns_build(const struct notify_data *d, const void *cfg, struct notify_request *out,
                     struct ar_error *err)
{
    const struct sns_config *c = cfg;
    struct notify_tmpl t;
    struct param *params;
    size_t np = 0;
    char **owned;
    size_t nowned = 0;
    char *id = NULL;
    char *secret = NULL;
    char *token = NULL;
    char *message = NULL;
    char gk_hash[65];
    const char *region = c->sigv4.region;
    size_t limit = SNS_MESSAGE_MAX;
    int rc;

    if (region == NULL || region[0] == '\0') {
        region = env("AWS_REGION") != NULL ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
    }
    if (region == NULL) {
        ar_error_set(err, "region not configured in sns.sigv4.region or in default credentials "
                          "chain");
        return AR_EINVAL;
    }
    rc = credentials(&c->sigv4, &id, &secret, &token, err);
    if (rc != AR_OK) {
        return rc;
    }
    /* Action, Version, 5 targets/texts, 2 FIFO ids, truncated, 3 per attribute */
    params = ar_calloc(12 + 3 * (c->attributes.n + 1), sizeof(*params));
    owned = ar_calloc(3 * (c->attributes.n + 1) + 2, sizeof(*owned));
    notify_tmpl_init(&t, d);
    const char *api_url = notify_tmpl_text(&t, c->api_url);
    params[np++] = (struct param){"Action", "Publish"};
    params[np++] = (struct param){"Version", "2010-03-31"};
    if (c->topic_arn != NULL && c->topic_arn[0] != '\0') {
        const char *arn = notify_tmpl_text(&t, c->topic_arn);
        size_t n = strlen(arn);
        params[np++] = (struct param){"TopicArn", arn};
        if (n >= 5 && strcmp(arn + n - 5, ".fifo") == 0) {
            notify_sha256_hex(d->group_key != NULL ? d->group_key : "", gk_hash);
            params[np++] = (struct param){"MessageDeduplicationId", gk_hash};
            params[np++] = (struct param){"MessageGroupId", gk_hash};
        }
    }
    if (c->phone_number != NULL && c->phone_number[0] != '\0') {
        params[np++] = (struct param){"PhoneNumber", notify_tmpl_text(&t, c->phone_number)};
        limit = SMS_MESSAGE_MAX;
    }
    if (c->target_arn != NULL && c->target_arn[0] != '\0') {
        params[np++] = (struct param){"TargetArn", notify_tmpl_text(&t, c->target_arn)};
    }
    const char *text = notify_tmpl_text(&t, c->message);
    if (c->subject != NULL && c->subject[0] != '\0') {
        params[np++] = (struct param){"Subject", notify_tmpl_text(&t, c->subject)};
    }
    /* attributes in key order (Go iterates its map at random), numbered from 1 */
    size_t entry = 0;
    bool truncated = false;
    for (size_t i = 0; i < c->attributes.n; i++) {
        const char *k = notify_tmpl_text(&t, c->attributes.keys[i]);
        const char *v =
            notify_tmpl_text(&t, c->attributes.values[i] ? c->attributes.values[i] : "");
        entry++;
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Name", entry);
        params[np++] = (struct param){owned[nowned++], k};
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Value.DataType", entry);
        params[np++] = (struct param){owned[nowned++], "String"};
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Value.StringValue", entry);
        params[np++] = (struct param){owned[nowned++], v};
    }
    if (t.rc != AR_OK) {
        ar_error_set(err, "%s", t.err.msg);
        rc = t.rc;
        goto out;
    }
    if (!utf8_valid(text)) {
        ar_error_set(err, "non utf8 encoded message string");
        rc = AR_EINVAL;
        goto out;
    }
    /* COMPAT: cut in bytes, even inside a rune, as upstream */
    message = ar_strndup(text, strlen(text) > limit ? limit : strlen(text));
    truncated = strlen(text) > limit;
    params[np++] = (struct param){"Message", message};
    if (truncated) {
        /* the attribute upstream adds to its map ("truncated" sorts after the others here) */
        entry++;
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Name", entry);
        params[np++] = (struct param){owned[nowned++], "truncated"};
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Value.DataType", entry);
        params[np++] = (struct param){owned[nowned++], "String"};
        owned[nowned] = ar_asprintf("MessageAttributes.entry.%zu.Value.StringValue", entry);
        params[np++] = (struct param){owned[nowned++], "true"};
    }
    qsort(params, np, sizeof(*params), cmp_param);
    for (size_t i = 0; i < np; i++) {
        if (i > 0) {
            buf_putc(&out->body, '&');
        }
        notify_query_escape(&out->body, params[i].name);
        buf_putc(&out->body, '=');
        notify_query_escape(&out->body, params[i].value);
    }
    out->url = api_url[0] != '\0' ? ar_strdup(api_url)
                                  : ar_asprintf("https://sns.%s.amazonaws.com/", region);
    out->content_type = "application/x-www-form-urlencoded; charset=utf-8"; /* 0.25 */
    out->aws_sigv4 = ar_asprintf("aws:amz:%s:sns", region);
    out->aws_key_id = id;
    out->aws_secret = secret;
    id = secret = NULL;
    if (token != NULL) {
        notify_request_add_header(out, "X-Amz-Security-Token", token);
    }
    out->http = c->http_config;
out:
    for (size_t i = 0; i < nowned; i++) {
        free(owned[i]);
    }
    free(owned);
    free(params);
    free(message);
    free(id);
    free(secret);
    free(token);
    notify_tmpl_cleanup(&t);
    return rc;
}

/* ---- configuration: the `sns_configs` key table --------------------------------- */

static const struct field sigv4_fields[] = {
    STR(struct sigv4_config, "region", region),
    STR(struct sigv4_config, "access_key", access_key),
    SECRET(struct sigv4_config, "secret_key", secret_key),
    STR(struct sigv4_config, "profile", profile),
    STR(struct sigv4_config, "role_arn", role_arn),
};
static const struct table sigv4_table =
    TABLE("sigv4.SigV4Config", struct sigv4_config, sigv4_fields, NULL);

static int sns_check(void *obj, struct ctx *c, const struct ynode *n)
{
    struct sns_config *s = obj;
    bool a = cfg_empty(s->target_arn);
    bool b = cfg_empty(s->topic_arn);
    bool d = cfg_empty(s->phone_number);
    /* COMPAT: Go evaluates (a != b) != d */
    if ((a != b) != d) {
        return ctx_error(c, n,
                         "must provide either a Target ARN, Topic ARN, or Phone Number for SNS "
                         "config");
    }
    cfg_inherit_http(&s->http_config, c);
    return AR_OK;
}

#define T struct sns_config
static const struct field sns_fields[] = {
    SENDRES(T, "true"),
    HTTPF(T),
    STR(T, "api_url", api_url),
    SUBFIELD(T, "sigv4", sigv4, FT_STRUCT, 0, &sigv4_table),
    STR(T, "topic_arn", topic_arn),
    STR(T, "phone_number", phone_number),
    STR(T, "target_arn", target_arn),
    STRD(T, "subject", subject, "{{ template \"sns.default.subject\" . }}"),
    STRD(T, "message", message, "{{ template \"sns.default.message\" . }}"),
    FIELD(T, "attributes", attributes, FT_STRMAP, FF_OMITEMPTY, NULL),
};
#undef T
const struct table sns_config_table =
    TABLE("config.plain", struct sns_config, sns_fields, sns_check);

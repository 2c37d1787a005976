/* `alertrouter history alerts|notifications` (ar/cli.h): the history's client, talking to
 * /api/x/history/alerts and /api/x/history/notifications of a running alertrouter (the
 * parameters are the API's, ar/api_history.h) and printing one line per event or
 * notification, then the flag that fetches the next page. */
#include "ar/buf.h"
#include "ar/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cli_usage(void)
{
    fprintf(stderr,
            "usage: alertrouter history alerts [--filter=MATCHER]... [--receiver=REGEX]\n"
            "           [--from=RFC3339] [--to=RFC3339] [--order=newest|oldest] [--limit=N]\n"
            "           [--cursor=C] [--alertmanager.url=URL]\n"
            "       alertrouter history notifications [--receiver=REGEX] [--integration=NAME]\n"
            "           [--state=pending|delivered|dead] [--from=...] [--to=...] [--order=...]\n"
            "           [--limit=N] [--cursor=C] [--alertmanager.url=URL]\n");
    return 2;
}

/* Appends s percent-encoded for a query string. */
static void put_query_value(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? v : "";
}

static void print_alerts(json_t *doc)
{
    json_t *evs = json_object_get(doc, "events");
    size_t i;
    json_t *e;

    printf("%-30s %-9s %-16s %s\n", "AT", "EVENT", "FINGERPRINT", "LABELS");
    json_array_foreach(evs, i, e)
    {
        char *labels = json_dumps(json_object_get(e, "labels"), JSON_COMPACT | JSON_SORT_KEYS);
        printf("%-30s %-9s %-16s %s\n", str(e, "at"), str(e, "event"), str(e, "fingerprint"),
               labels != NULL ? labels : "{}");
        free(labels);
    }
    if (json_array_size(evs) == 0) {
        printf("(no events)\n");
    }
}

static void print_notifications(json_t *doc)
{
    json_t *ns = json_object_get(doc, "notifications");
    size_t i;
    json_t *n;

    printf("%-8s %-24s %-9s %-20s %-14s %8s %6s  %s\n", "ID", "CREATED", "STATE", "RECEIVER",
           "INTEGRATION", "ATTEMPTS", "STATUS", "ERROR");
    json_array_foreach(ns, i, n)
    {
        printf("%-8lld %-24s %-9s %-20s %-14s %8lld %6lld  %s\n",
               (long long)json_integer_value(json_object_get(n, "id")), str(n, "createdAt"),
               str(n, "state"), str(n, "receiver"), str(n, "integration"),
               (long long)json_integer_value(json_object_get(n, "attempts")),
               (long long)json_integer_value(json_object_get(n, "lastStatus")),
               str(n, "lastError"));
    }
    if (json_array_size(ns) == 0) {
        printf("(no notifications)\n");
    }
}

int cli_history_main(int argc, char **argv)
{
    static const char *const alert_keys[] = {"filter", "receiver", "from",  "to",
                                             "order",  "limit",    "cursor"};
    static const char *const notif_keys[] = {"receiver", "integration", "state", "from",
                                             "to",       "order",       "limit", "cursor"};
    const char *base = "http://127.0.0.1:9093";
    const char *cmd = argc > 1 ? argv[1] : NULL;
    bool alerts;
    struct buf url;
    struct buf out;
    char err[256];
    long status;
    size_t bl;
    char sep = '?';
    int rc = 0;

    if (cmd == NULL || (strcmp(cmd, "alerts") != 0 && strcmp(cmd, "notifications") != 0)) {
        return cli_usage();
    }
    alerts = strcmp(cmd, "alerts") == 0;
    buf_init(&url, 0);
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--alertmanager.url=", 19) == 0) {
            base = argv[i] + 19;
        }
    }
    bl = strlen(base);
    if (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    buf_printf(&url, "%.*s/api/x/history/%s", (int)bl, base, cmd);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *const *keys = alerts ? alert_keys : notif_keys;
        size_t nkeys = alerts ? AR_ARRAY_LEN(alert_keys) : AR_ARRAY_LEN(notif_keys);
        bool known = false;
        if (strncmp(a, "--alertmanager.url=", 19) == 0) {
            continue;
        }
        for (size_t k = 0; k < nkeys && strncmp(a, "--", 2) == 0 && eq != NULL; k++) {
            if ((size_t)(eq - a - 2) == strlen(keys[k]) &&
                strncmp(a + 2, keys[k], strlen(keys[k])) == 0) {
                known = true;
            }
        }
        if (!known) {
            buf_cleanup(&url);
            return cli_usage();
        }
        /* --key=value becomes key=value: the server checks the values */
        buf_putc(&url, sep);
        sep = '&';
        buf_append(&url, a + 2, (size_t)(eq - a - 2));
        buf_putc(&url, '=');
        put_query_value(&url, eq + 1);
    }
    buf_init(&out, 64 << 20);
    status = cli_http("GET", buf_str(&url), NULL, &out, err, sizeof(err));
    buf_cleanup(&url);
    if (status < 0) {
        fprintf(stderr, "alertrouter history: %s\n", err);
        buf_cleanup(&out);
        return 1;
    }
    {
        json_error_t jerr;
        json_t *doc = json_loads(buf_str(&out), JSON_DECODE_ANY, &jerr);
        if (status != 200) {
            fprintf(stderr, "alertrouter history: HTTP %ld: %s\n", status,
                    json_is_string(doc) ? json_string_value(doc) : buf_str(&out));
            rc = 1;
        } else if (!json_is_object(doc)) {
            fprintf(stderr, "alertrouter history: bad reply\n");
            rc = 1;
        } else {
            const char *next = json_string_value(json_object_get(doc, "nextCursor"));
            if (alerts) {
                print_alerts(doc);
            } else {
                print_notifications(doc);
            }
            if (next != NULL) {
                printf("next page: --cursor=%s\n", next);
            }
        }
        json_decref(doc);
    }
    buf_cleanup(&out);
    return rc;
}

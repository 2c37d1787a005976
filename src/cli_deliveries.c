/* `alertrouter deliveries list|replay` (ar/cli.h): the durable outbox's client, talking to
 * /api/x/deliveries of a running alertrouter. */
#include "ar/buf.h"
#include "ar/cli.h"
#include "ar/outbox.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cli_usage(void)
{
    fprintf(stderr, "usage: alertrouter deliveries list [--state=pending|delivered|dead] "
                    "[--limit=N] [--alertmanager.url=URL]\n"
                    "       alertrouter deliveries replay ID [--alertmanager.url=URL]\n");
    return 2;
}

static void print_time(const char *rfc3339)
{
    /* 2026-11-29T10:43:06.123Z -> 2026-11-29 10:43:06 */
    char t[20];

    snprintf(t, sizeof(t), "%s", rfc3339 ? rfc3339 : "");
    if (strlen(t) > 10) {
        t[10] = ' ';
    }
    printf("%-19s", t);
}

int cli_deliveries_main(int argc, char **argv)
{
    const char *base = "http://127.0.0.1:9093";
    const char *state = NULL;
    const char *limit = NULL;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    const char *id = NULL;
    struct buf out;
    char err[256];
    char *url;
    long status;
    size_t bl;
    int rc = 0;

    if (cmd == NULL || (strcmp(cmd, "list") != 0 && strcmp(cmd, "replay") != 0)) {
        return cli_usage();
    }
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--alertmanager.url=", 19) == 0) {
            base = argv[i] + 19;
        } else if (strncmp(argv[i], "--state=", 8) == 0 && strcmp(cmd, "list") == 0) {
            state = argv[i] + 8;
            if (!outbox_state_valid(state)) {
                return cli_usage();
            }
        } else if (strncmp(argv[i], "--limit=", 8) == 0 && strcmp(cmd, "list") == 0) {
            limit = argv[i] + 8;
        } else if (argv[i][0] != '-' && id == NULL && strcmp(cmd, "replay") == 0) {
            id = argv[i];
        } else {
            return cli_usage();
        }
    }
    {
        int64_t v;
        if (strcmp(cmd, "replay") == 0 && (id == NULL || !outbox_id_parse(id, strlen(id), &v))) {
            return cli_usage();
        }
        if (limit != NULL && !outbox_id_parse(limit, strlen(limit), &v)) {
            return cli_usage();
        }
    }
    bl = strlen(base);
    if (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if (strcmp(cmd, "list") == 0) {
        url = ar_asprintf("%.*s/api/x/deliveries?limit=%s%s%s", (int)bl, base,
                          limit ? limit : "100", state ? "&state=" : "", state ? state : "");
    } else {
        url = ar_asprintf("%.*s/api/x/deliveries/%s/replay", (int)bl, base, id);
    }
    buf_init(&out, 64 << 20);
    status = cli_http(strcmp(cmd, "list") == 0 ? "GET" : "POST", url, NULL, &out, err, sizeof(err));
    free(url);
    if (status < 0) {
        fprintf(stderr, "alertrouter deliveries: %s\n", err);
        buf_cleanup(&out);
        return 1;
    }
    if (strcmp(cmd, "replay") == 0) {
        if (status == 202) {
            printf("delivery %s replayed: pending\n", id);
        } else {
            json_error_t jerr;
            json_t *m = json_loads(buf_str(&out), JSON_DECODE_ANY, &jerr);
            fprintf(stderr, "alertrouter deliveries: replay %s: HTTP %ld: %s\n", id, status,
                    json_is_string(m) ? json_string_value(m) : buf_str(&out));
            json_decref(m);
            rc = 1;
        }
        buf_cleanup(&out);
        return rc;
    }
    if (status != 200) {
        fprintf(stderr, "alertrouter deliveries: HTTP %ld: %s\n", status, buf_str(&out));
        buf_cleanup(&out);
        return 1;
    }
    {
        json_error_t jerr;
        json_t *doc = json_loads(buf_str(&out), 0, &jerr);
        size_t i;
        json_t *r;
        if (!json_is_array(doc)) {
            fprintf(stderr, "alertrouter deliveries: bad reply\n");
            json_decref(doc);
            buf_cleanup(&out);
            return 1;
        }
        printf("%-8s %-19s %-9s %-20s %-14s %8s %6s  %s\n", "ID", "CREATED", "STATE", "RECEIVER",
               "INTEGRATION", "ATTEMPTS", "STATUS", "ERROR");
        json_array_foreach(doc, i, r)
        {
            printf("%-8lld ", (long long)json_integer_value(json_object_get(r, "id")));
            print_time(json_string_value(json_object_get(r, "createdAt")));
            printf(" %-9s %-20s %-14s %8lld %6lld  %s\n",
                   json_string_value(json_object_get(r, "state")),
                   json_string_value(json_object_get(r, "receiver")),
                   json_string_value(json_object_get(r, "integration")),
                   (long long)json_integer_value(json_object_get(r, "attempts")),
                   (long long)json_integer_value(json_object_get(r, "lastStatus")),
                   json_string_value(json_object_get(r, "lastError")));
        }
        if (json_array_size(doc) == 0) {
            printf("(no deliveries)\n");
        }
        json_decref(doc);
    }
    buf_cleanup(&out);
    return 0;
}

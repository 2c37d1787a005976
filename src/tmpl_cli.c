/* `alertrouter template ...` sub-commands (tmpl_cli_main, called by main.c for argv[1] ==
 * "template"):
 *
 *   template render [--template.glob=PATTERN]... (--template.text=TEXT | --template.name=NAME)
 *                   [--data=FILE] [--receiver=NAME] [--external-url=URL] [--html]
 *       Renders TEXT (or the named template) against alert data and prints the result exactly
 *       (no newline is added). The built-in templates are loaded first, then every file
 *       matching each glob. FILE holds an Alertmanager webhook payload or a JSON list of
 *       alerts; without --data a built-in example group is used. --html renders with the
 *       e-mail (html/template) escaping.
 *
 *   template check FILE...
 *       Parses each file and prints "FILE:LINE:COL: message" for errors. Exit status 1 when
 *       any file has an error, 2 for usage errors, 0 otherwise. */
#define AR_TMPL_INTERNAL
#include "ar/tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: alertrouter template render [--template.glob=PATTERN]...\n"
               "           (--template.text=TEXT | --template.name=NAME) [--data=FILE]\n"
               "           [--receiver=NAME] [--external-url=URL] [--html]\n"
               "       alertrouter template check FILE...\n");
}

/* Matches "--name=value" or "--name value"; advances *i past a separate value. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, "--", 2) == 0) {
        a += 2;
    } else if (a[0] == '-') {
        a += 1;
    } else {
        return NULL;
    }
    if (strncmp(a, name, n) != 0) {
        return NULL;
    }
    if (a[n] == '=') {
        return a + n + 1;
    }
    if (a[n] == '\0' && *i + 1 < argc) {
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct buf b;
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    buf_init(&b, 64u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != AR_OK) {
            break;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    *len = b.len;
    return b.data ? buf_take(&b) : ar_strdup("");
}

static struct tmpl_value *example_data(const char *receiver, const char *url)
{
    struct tmpl_value *d =
        tmpl_data_new(receiver ? receiver : "team", true, url ? url : "http://localhost:9093");
    struct tmpl_value *a = tmpl_alert_new("firing", 1795771311, 0, TMPL_ZERO_TIME_SEC, 0,
                                          "http://prometheus:9090/graph", "e960cfc9079ae255");

    tmpl_kv_set(tmpl_alert_labels(a), "alertname", "monitor_service_down");
    tmpl_kv_set(tmpl_alert_labels(a), "instance", "cadvisor:8080");
    tmpl_kv_set(tmpl_alert_labels(a), "job", "cadvisor");
    tmpl_kv_set(tmpl_alert_labels(a), "monitor", "docker-host-alpha");
    tmpl_kv_set(tmpl_alert_labels(a), "severity", "critical");
    tmpl_kv_set(tmpl_alert_annotations(a), "summary", "down");
    tmpl_data_add_alert_take(d, a);
    tmpl_kv_set(tmpl_data_group_labels(d), "alertname", "monitor_service_down");
    tmpl_data_finish(d, true);
    return d;
}

static int cmd_render(int argc, char **argv)
{
    const char **globs = ar_calloc((size_t)argc + 1, sizeof(*globs));
    size_t nglobs = 0;
    const char *text = NULL;
    const char *name = NULL;
    const char *data_path = NULL;
    const char *receiver = NULL;
    const char *url = NULL;
    bool html = false;
    struct tmpl_set *set = NULL;
    struct tmpl_value *data = NULL;
    struct ar_error err;
    char *out = NULL;
    char *owned_text = NULL;
    int status = 1;
    int i;
    size_t k;

    for (i = 1; i < argc; i++) {
        const char *v;

        if ((v = flag_value(argc, argv, &i, "template.glob")) != NULL) {
            globs[nglobs++] = v;
        } else if ((v = flag_value(argc, argv, &i, "template.text")) != NULL) {
            text = v;
        } else if ((v = flag_value(argc, argv, &i, "template.name")) != NULL) {
            name = v;
        } else if ((v = flag_value(argc, argv, &i, "data")) != NULL ||
                   (v = flag_value(argc, argv, &i, "template.data")) != NULL) {
            data_path = v;
        } else if ((v = flag_value(argc, argv, &i, "receiver")) != NULL) {
            receiver = v;
        } else if ((v = flag_value(argc, argv, &i, "external-url")) != NULL) {
            url = v;
        } else if (strcmp(argv[i], "--html") == 0) {
            html = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            status = 0;
            goto out;
        } else {
            fprintf(stderr, "template render: unknown argument %s\n", argv[i]);
            usage(stderr);
            status = 2;
            goto out;
        }
    }
    if ((text == NULL) == (name == NULL)) {
        fprintf(stderr, "template render: give exactly one of --template.text or "
                        "--template.name\n");
        usage(stderr);
        status = 2;
        goto out;
    }
    if (name != NULL) {
        owned_text = ar_asprintf("{{ template \"%s\" . }}", name);
        text = owned_text;
    }
    set = tmpl_set_new();
    if (tmpl_set_load_defaults(set, &err) != AR_OK) {
        fprintf(stderr, "built-in templates: %s\n", err.msg);
        goto out;
    }
    for (k = 0; k < nglobs; k++) {
        if (tmpl_set_parse_glob(set, globs[k], &err) != AR_OK) {
            fprintf(stderr, "%s\n", err.msg);
            goto out;
        }
    }
    if (data_path != NULL) {
        size_t len = 0;
        char *json = slurp(data_path, &len);

        if (json == NULL) {
            fprintf(stderr, "template render: cannot read %s\n", data_path);
            goto out;
        }
        if (tmpl_data_from_json(json, len, receiver ? receiver : "team",
                                url ? url : "http://localhost:9093", &data, &err) != AR_OK) {
            fprintf(stderr, "template render: %s: %s\n", data_path, err.msg);
            free(json);
            goto out;
        }
        free(json);
    } else {
        data = example_data(receiver, url);
    }
    if (tmpl_render(set, text, html ? TMPL_HTML : TMPL_TEXT, data, &out, &err) != AR_OK) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    fputs(out, stdout);
    fflush(stdout);
    status = 0;
out:
    free(out);
    free(owned_text);
    tmpl_value_unref(data);
    tmpl_set_free(set);
    free(globs);
    return status;
}

static int cmd_check(int argc, char **argv)
{
    int status = 0;
    int i;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        struct tmpl_set *set = tmpl_set_new();
        struct ar_error err;
        size_t len = 0;
        char *text = slurp(argv[i], &len);

        if (text == NULL) {
            fprintf(stderr, "%s: cannot read file\n", argv[i]);
            status = 1;
        } else if (tmpl_set_parse(set, argv[i], text, len, &err) != AR_OK) {
            const char *msg = err.msg;

            if (strncmp(msg, "template: ", 10) == 0) {
                msg += 10; /* "<file>:<line>:<col>: <message>" */
            }
            fprintf(stderr, "%s\n", msg);
            status = 1;
        } else {
            printf("%s: ok\n", argv[i]);
        }
        free(text);
        tmpl_set_free(set);
    }
    return status;
}

int tmpl_cli_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "render") == 0) {
        return cmd_render(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        return cmd_check(argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}

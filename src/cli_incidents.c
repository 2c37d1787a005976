/* `alertrouter incident report ID [--format=markdown|html|json] [--alertmanager.url=URL]`
 * (ar/cli.h): prints an incident's report, fetched from /api/x/incidents/ID/report of a
 * running alertrouter. */
#include "ar/buf.h"
#include "ar/cli.h"
#include "ar/incident_report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: alertrouter incident report ID [--format=markdown|html|json] "
                    "[--alertmanager.url=URL]\n");
    return 2;
}

/* The value of --name=V or --name V at argv[*i]; NULL when argv[*i] is not that flag. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0) {
        return NULL;
    }
    if (argv[*i][n] == '=') {
        return argv[*i] + n + 1;
    }
    if (argv[*i][n] == '\0' && *i + 1 < argc) {
        return argv[++*i];
    }
    return NULL;
}

int cli_incidents_main(int argc, char **argv)
{
    const char *base = "http://127.0.0.1:9093";
    const char *format = "markdown";
    const char *id = NULL;
    enum incident_report_format f;
    struct buf out;
    char err[256];
    char *url;
    long status;
    size_t bl;

    if (argc < 2 || strcmp(argv[1], "report") != 0) {
        return usage();
    }
    for (int i = 2; i < argc; i++) {
        const char *v;
        if ((v = flag_value(argc, argv, &i, "--alertmanager.url")) != NULL) {
            base = v;
        } else if ((v = flag_value(argc, argv, &i, "--format")) != NULL) {
            format = v;
        } else if (argv[i][0] != '-' && id == NULL &&
                   strspn(argv[i], "0123456789") == strlen(argv[i])) {
            id = argv[i];
        } else {
            return usage();
        }
    }
    if (id == NULL || !incident_report_format_parse(format, &f)) {
        return usage();
    }
    bl = strlen(base);
    if (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    url = ar_asprintf("%.*s/api/x/incidents/%s/report?format=%s", (int)bl, base, id, format);
    buf_init(&out, 64 << 20);
    status = cli_http("GET", url, NULL, &out, err, sizeof(err));
    free(url);
    if (status < 0) {
        fprintf(stderr, "alertrouter incident: %s\n", err);
        buf_cleanup(&out);
        return 1;
    }
    if (status != 200) {
        json_error_t jerr;
        json_t *m = json_loads(buf_str(&out), JSON_DECODE_ANY, &jerr);
        fprintf(stderr, "alertrouter incident: report %s: HTTP %ld: %s\n", id, status,
                json_is_string(m) ? json_string_value(m) : buf_str(&out));
        json_decref(m);
        buf_cleanup(&out);
        return 1;
    }
    fwrite(buf_str(&out), 1, out.len, stdout);
    if (out.len > 0 && buf_str(&out)[out.len - 1] != '\n') {
        putchar('\n');
    }
    buf_cleanup(&out);
    return 0;
}

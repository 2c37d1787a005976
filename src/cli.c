/* Client subcommands (ar/cli.h): small libcurl programs against the API of a running
 * server, so operators can script what the API offers. */
#include "ar/cli.h"

#include "ar/buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == AR_OK ? size * n : 0;
}

long cli_http(const char *method, const char *url, const char *body, struct buf *out, char *err,
              size_t errsz)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    long status = -1;

    if (c == NULL) {
        snprintf(err, errsz, "curl_easy_init failed");
        return -1;
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    } else {
        snprintf(err, errsz, "%s", ebuf[0] ? ebuf : "request failed");
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char tmp[8192];
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    buf_init(&b, 64 << 20);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        if (buf_append(&b, tmp, n) != AR_OK) {
            break;
        }
    }
    fclose(f);
    return buf_take(&b);
}

int cli_test_receiver_main(int argc, char **argv)
{
    const char *base = "http://127.0.0.1:9093";
    const char *name = NULL;
    char *body = NULL;
    char *url;
    struct buf out;
    char err[256];
    long status;
    json_t *doc;
    json_error_t jerr;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--alertmanager.url=", 19) == 0) {
            base = argv[i] + 19;
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            free(body);
            body = read_file(argv[i] + 7);
            if (body == NULL) {
                fprintf(stderr, "alertrouter test-receiver: cannot read %s\n", argv[i] + 7);
                return 2;
            }
        } else if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
        } else {
            fprintf(stderr, "usage: alertrouter test-receiver NAME [--alertmanager.url=URL] "
                            "[--data=ALERTS.json]\n");
            free(body);
            return 2;
        }
    }
    if (name == NULL) {
        fprintf(stderr, "usage: alertrouter test-receiver NAME [--alertmanager.url=URL] "
                        "[--data=ALERTS.json]\n");
        free(body);
        return 2;
    }
    {
        CURL *c = curl_easy_init();
        char *esc = curl_easy_escape(c, name, 0);
        size_t bl = strlen(base);
        url = ar_asprintf("%.*s/api/x/receivers/%s/test",
                          (int)(bl > 0 && base[bl - 1] == '/' ? bl - 1 : bl), base, esc);
        curl_free(esc);
        curl_easy_cleanup(c);
    }
    buf_init(&out, 16 << 20);
    status = cli_http("POST", url, body, &out, err, sizeof(err));
    free(url);
    free(body);
    if (status < 0) {
        fprintf(stderr, "alertrouter test-receiver: %s\n", err);
        buf_cleanup(&out);
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "alertrouter test-receiver: HTTP %ld: %s\n", status, buf_str(&out));
        buf_cleanup(&out);
        return 1;
    }
    doc = json_loads(buf_str(&out), 0, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "alertrouter test-receiver: bad reply: %s\n", jerr.text);
        buf_cleanup(&out);
        return 1;
    }
    printf("%-16s %-4s %8s %6s %10s  %s\n", "INTEGRATION", "OK", "ATTEMPTS", "STATUS", "LATENCY",
           "ERROR");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "results"), i, r)
    {
        int ok = json_is_true(json_object_get(r, "ok"));
        printf("%-16s %-4s %8lld %6lld %8.1fms  %s\n",
               json_string_value(json_object_get(r, "integration")), ok ? "yes" : "no",
               (long long)json_integer_value(json_object_get(r, "attempts")),
               (long long)json_integer_value(json_object_get(r, "status")),
               json_number_value(json_object_get(r, "latencyMs")),
               json_string_value(json_object_get(r, "error")));
        if (!ok) {
            rc = 1;
        }
    }
    if (json_array_size(json_object_get(doc, "results")) == 0) {
        printf("(receiver %s has no integrations)\n", name);
    }
    json_decref(doc);
    buf_cleanup(&out);
    return rc;
}

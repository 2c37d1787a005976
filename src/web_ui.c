/* The web UI's static files and the browser-facing guards (ar/web_ui.h). The files of web/
 * are compiled in by scripts/embed.cmake; the page's "{{prefix}}" placeholders become the
 * route prefix when served, so the assets load under any --web.route-prefix. Every answer
 * is revalidated (Cache-Control: no-cache) with a strong ETag of its bytes, so a reload
 * costs a 304. */
#include "ar/web_ui.h"

#include "ar/api_reply.h"
#include "ar/embedded.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* No inline script or style, nothing from other origins, no framing, no <base>. */
#define WEB_CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "             \
    "form-action 'self'"

static const struct ar_embedded_file *file_find(const char *name)
{
    for (const struct ar_embedded_file *f = ar_web_files; f->name != NULL; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < AR_ARRAY_LEN(types); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* The page with each "{{prefix}}" replaced by the HTML-escaped route prefix. */
static void page_render(const struct ar_embedded_file *f, const char *prefix, struct buf *out)
{
    static const char mark[] = "{{prefix}}";
    const char *p = f->data;
    const char *hit;

    while ((hit = strstr(p, mark)) != NULL) {
        buf_append(out, p, (size_t)(hit - p));
        for (const char *c = prefix; *c != '\0'; c++) {
            switch (*c) {
            case '&':
                buf_puts(out, "&amp;");
                break;
            case '<':
                buf_puts(out, "&lt;");
                break;
            case '>':
                buf_puts(out, "&gt;");
                break;
            case '"':
                buf_puts(out, "&quot;");
                break;
            case '\'':
                buf_puts(out, "&#39;");
                break;
            default:
                buf_putc(out, *c);
            }
        }
        p = hit + sizeof(mark) - 1;
    }
    buf_puts(out, p);
}

/* A strong validator: FNV-1a 64 of the bytes sent. */
static void etag_of(const struct buf *b, char *out, size_t outsz)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < b->len; i++) {
        h ^= (unsigned char)b->data[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, outsz, "\"%016llx\"", (unsigned long long)h);
}

static bool etag_matches(const char *inm, const char *etag)
{
    return inm != NULL && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

bool web_ui_serve(const struct http_request *req, const char *path, const char *route_prefix,
                  struct http_response *resp)
{
    const struct ar_embedded_file *f;
    bool is_page = strcmp(path, "") == 0 || strcmp(path, "/") == 0;
    char etag[24];

    if (is_page) {
        f = file_find("index.html");
    } else if (strncmp(path, "/ui/", 4) == 0 && strchr(path + 4, '/') == NULL) {
        f = file_find(path + 4);
        if (f == NULL) {
            api_reply_plain(resp, 404, "404 page not found\n");
            return true;
        }
    } else {
        return false;
    }
    if (f == NULL) { /* web/index.html is always embedded; a tree without it serves no page */
        api_reply_plain(resp, 404, "404 page not found\n");
        return true;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        api_reply_plain(resp, 405, "Method Not Allowed\n");
        http_response_header(resp, "Allow", "GET, HEAD");
        return true;
    }
    buf_reset(&resp->body);
    if (is_page) {
        page_render(f, route_prefix, &resp->body);
    } else {
        buf_append(&resp->body, f->data, f->len);
    }
    etag_of(&resp->body, etag, sizeof(etag));
    http_response_header(resp, "ETag", etag);
    http_response_header(resp, "Cache-Control", "no-cache");
    http_response_header(resp, "Content-Security-Policy", WEB_CSP);
    http_response_header(resp, "X-Content-Type-Options", "nosniff");
    http_response_header(resp, "Referrer-Policy", "no-referrer");
    http_response_header(resp, "X-Frame-Options", "DENY");
    if (etag_matches(http_request_header(req, "If-None-Match"), etag)) {
        buf_reset(&resp->body);
        resp->status = 304;
        resp->content_type = NULL;
        return true;
    }
    resp->status = 200;
    resp->content_type = content_type_of(f->name);
    return true;
}

/* The scheme://authority part of a URL (no path), into out; false when it has none. */
static bool origin_of_url(const char *url, char *out, size_t outsz)
{
    const char *sep = strstr(url, "://");
    size_t n;

    if (sep == NULL) {
        return false;
    }
    n = (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#");
    if (n >= outsz) {
        return false;
    }
    memcpy(out, url, n);
    out[n] = '\0';
    return true;
}

bool web_csrf_allowed(const struct http_request *req, const char *external_url, char *why,
                      size_t whysz)
{
    const char *m = req->method;
    const char *site;
    const char *origin;
    const char *host;
    const char *authority;
    char ext[512];

    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0) {
        return true;
    }
    site = http_request_header(req, "Sec-Fetch-Site");
    if (site != NULL && strcasecmp(site, "cross-site") == 0) {
        snprintf(why, whysz, "cross-site request refused: Sec-Fetch-Site is cross-site");
        return false;
    }
    origin = http_request_header(req, "Origin");
    if (origin == NULL) {
        return true;
    }
    authority = strstr(origin, "://");
    host = http_request_header(req, "Host");
    if (authority != NULL && host != NULL && strcasecmp(authority + 3, host) == 0) {
        return true;
    }
    if (external_url != NULL && origin_of_url(external_url, ext, sizeof(ext)) &&
        strcasecmp(origin, ext) == 0) {
        return true;
    }
    snprintf(why, whysz, "cross-site request refused: Origin %.200s does not match the host",
             origin);
    return false;
}

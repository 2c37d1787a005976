/* The web UI served by the binary (web_ui.c): the static HTML, CSS and JavaScript of web/,
 * embedded at build time (ar/embedded.h), answered under --web.route-prefix at "/" (the page)
 * and "/ui/NAME" (its assets) with a Content-Security-Policy that forbids inline script,
 * nosniff, and ETag revalidation; and the cross-site request forgery rule every state-changing
 * request passes (README.md, "Web UI"). The UI itself only calls the HTTP API. */
#ifndef AR_WEB_UI_H
#define AR_WEB_UI_H

#include "ar/http.h"

/* Answers path (already stripped of the route prefix) when it is the UI's: "" or "/" (the
 * page, whose asset links carry route_prefix) or "/ui/NAME". Returns false, touching nothing,
 * for any other path. */
bool web_ui_serve(const struct http_request *req, const char *path, const char *route_prefix,
                  struct http_response *resp);

/* The CSRF rule: a request whose method may change state (anything but GET, HEAD, OPTIONS)
 * is refused when it carries "Sec-Fetch-Site: cross-site", or an Origin header whose
 * scheme://host[:port] matches neither the request's Host header nor the origin of
 * external_url (may be NULL). Requests without those headers (amtool, Prometheus, curl) pass.
 * Returns true when the request may proceed; otherwise writes the reason into why. */
bool web_csrf_allowed(const struct http_request *req, const char *external_url, char *why,
                      size_t whysz);

#endif

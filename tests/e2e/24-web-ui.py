#!/usr/bin/env python3
"""The web UI over plain HTTP (no browser; tests/browser/ drives Chromium): the page and its
assets with their content types, CSP, nosniff and ETag revalidation under the route prefix
and behind basic auth; and the cross-site request forgery rule on state-changing requests
(README "Web UI"). Alertmanager 0.25 from Debian ships no UI, so the cases are alertrouter's."""

import base64
import json
import os
import re
import time

from harness import Server, Suite, alert, check, eq, poll

suite = Suite("24-web-ui")


def header(r, name):
    return r.headers.get(name) or ""


@suite.case("page-and-assets", only="alertrouter")
def page_and_assets(ctx):
    srv = ctx.server(route_prefix="/foo")
    for path in ("", "/"):
        r = srv.request("GET", path)
        eq(r.status, 200, "GET /foo%s" % path)
        check(header(r, "Content-Type").startswith("text/html"), "page type %r"
              % header(r, "Content-Type"))
        html = r.text()
        check('src="/foo/ui/app.js"' in html, "script under the prefix: %s" % html[:400])
        check('href="/foo/ui/app.css"' in html, "style sheet under the prefix")
        check("<script>" not in html and "onclick" not in html, "no inline script")
    r = srv.request("GET", "/")
    csp = header(r, "Content-Security-Policy")
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                 "frame-ancestors 'none'", "base-uri 'none'"):
        check(part in csp, "CSP %r lacks %r" % (csp, part))
    check("unsafe-inline" not in csp, "CSP allows inline script: %r" % csp)
    eq(header(r, "X-Content-Type-Options"), "nosniff", "nosniff on the page")
    for name, ctype in (("app.js", "text/javascript"), ("app.css", "text/css"),
                        ("favicon.svg", "image/svg+xml")):
        r = srv.request("GET", "/ui/" + name)
        eq(r.status, 200, "GET /foo/ui/" + name)
        check(header(r, "Content-Type").startswith(ctype), "%s type %r"
              % (name, header(r, "Content-Type")))
        eq(header(r, "X-Content-Type-Options"), "nosniff", "nosniff on " + name)
        eq(header(r, "Cache-Control"), "no-cache", "Cache-Control on " + name)
        etag = header(r, "ETag")
        check(re.match(r'^"[0-9a-f]{16}"$', etag), "ETag %r" % etag)
        r2 = srv.request("GET", "/ui/" + name, headers={"If-None-Match": etag})
        eq(r2.status, 304, "revalidation of " + name)
        eq(r2.body, b"", "304 body")
        r3 = srv.request("GET", "/ui/" + name, headers={"If-None-Match": '"0000000000000000"'})
        eq(r3.status, 200, "stale ETag of " + name)
    r = srv.request("HEAD", "/")
    eq((r.status, r.body), (200, b""), "HEAD of the page")
    eq(srv.request("GET", "/ui/nope.js").status, 404, "unknown asset")
    eq(srv.request("GET", "/ui/../index.html").status, 404, "no path walking")
    eq(srv.request("POST", "/ui/app.js").status, 405, "POST to an asset")
    # outside the prefix nothing is served; "/" still redirects to the prefix (COMPAT 1.1)
    eq(srv.request("GET", "/ui/app.js", prefix=False).status, 404, "asset outside the prefix")
    eq(srv.request("GET", "/", prefix=False).status, 302, "GET / outside the prefix")


# bcrypt of "secret" (the hash tests/e2e/09-web-config.py uses)
HASH_SECRET = "$2b$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"ui:secret").decode()}


class AuthServer(Server):
    """A server behind basic auth (--web.config.file); readiness is probed with it."""

    def __init__(self, kind, **kw):
        super().__init__(kind, start=False, **kw)
        web = os.path.join(self.tmp, "web.yml")
        with open(web, "w") as f:
            f.write("basic_auth_users:\n  ui: %s\n" % HASH_SECRET)
        self.extra_args.append("--web.config.file=" + web)

    def wait_ready(self, timeout):
        poll(lambda: self.proc.poll() is None and
             self.request("GET", "/-/ready", headers=AUTH).status == 200,
             timeout=timeout, what="ready behind basic auth")
        self.ready_at = time.monotonic()


@suite.case("basic-auth", only="alertrouter")
def basic_auth(ctx):
    srv = AuthServer(ctx.kind)
    ctx.servers.append(srv)
    srv.start()
    eq(srv.request("GET", "/").status, 401, "page without credentials")
    eq(srv.request("GET", "/ui/app.js").status, 401, "asset without credentials")
    eq(srv.request("GET", "/", headers=AUTH).status, 200, "page with credentials")
    eq(srv.request("GET", "/ui/app.js", headers=AUTH).status, 200, "asset with credentials")


def web_config_module():
    """tests/e2e/09-web-config.py (its PKI and TLS server), loaded by path."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "09-web-config.py")
    spec = importlib.util.spec_from_file_location("web_config_09", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@suite.case("tls-and-auth", only="alertrouter")
def tls_and_auth(ctx):
    wc = web_config_module()
    srv = wc.start(ctx, wc.tls_yaml(headers=False), auth=wc.GOOD)
    r = srv.fetch("/", auth=wc.GOOD)
    eq(r.status, 200, "page over TLS")
    check(r.headers.get("content-type", "").startswith("text/html"), "type %r" % r.headers)
    check("script-src 'self'" in r.headers.get("content-security-policy", ""), "CSP over TLS")
    eq(srv.fetch("/ui/app.js", auth=wc.GOOD).status, 200, "asset over TLS")
    eq(srv.fetch("/", auth=("alice", "wrong")).status, 401, "page with a wrong password")
    eq(srv.fetch("/ui/app.css").status, 401, "asset without credentials")
    # the same origin (https, as the browser sends it) passes; another one does not
    own = "https://127.0.0.1:%d" % srv.port
    r = srv.fetch("/-/reload", auth=wc.GOOD, method="POST", headers={"Origin": own})
    eq(r.status, 200, "same-origin POST over TLS")
    r = srv.fetch("/-/reload", auth=wc.GOOD, method="POST",
                  headers={"Origin": "https://evil.example"})
    eq(r.status, 403, "cross-site POST over TLS")


def post(srv, path, body, headers):
    h = {"Content-Type": "application/json"}
    h.update(headers)
    return srv.request("POST", path, body=json.dumps(body), headers=h)


SILENCE = {"matchers": [{"name": "alertname", "value": "x", "isRegex": False}],
           "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-02T00:00:00Z",
           "createdBy": "e2e", "comment": "csrf"}


@suite.case("csrf", only="alertrouter")
def csrf(ctx):
    srv = ctx.server(external_url_path="/am/")
    own = "http://127.0.0.1:%d" % srv.port
    # no Origin at all (amtool, Prometheus, curl): allowed
    eq(post(srv, "/api/v2/alerts", [alert({"alertname": "a"})], {}).status, 200, "no Origin")
    # the server's own origin (what the UI sends), also as the external URL names it
    eq(post(srv, "/api/v2/alerts", [], {"Origin": own}).status, 200, "same Origin")
    eq(post(srv, "/api/v2/alerts", [], {"Origin": own, "Sec-Fetch-Site": "same-origin"}).status,
       200, "same-origin fetch")
    # another origin, a "null" origin, or a browser saying cross-site: 403 in the error shape
    for hdrs in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                 {"Origin": "http://127.0.0.1:%d.evil.example" % srv.port},
                 {"Sec-Fetch-Site": "cross-site"},
                 {"Origin": own, "Sec-Fetch-Site": "cross-site"}):
        for path, body in (("/api/v2/alerts", [alert({"alertname": "evil"})]),
                           ("/api/v2/silences", SILENCE), ("/-/reload", {}),
                           ("/api/x/deliveries/1/replay", {}),
                           ("/api/x/receivers/team/test", {})):
            r = post(srv, path, body, hdrs)
            eq(r.status, 403, "POST %s with %r" % (path, hdrs))
            obj = r.json()
            eq(obj.get("code"), 403, "code")
            check("cross-site request refused" in obj.get("message", ""), "message %r" % obj)
        r = srv.request("DELETE", "/api/v2/silence/00000000-0000-0000-0000-000000000000",
                        headers=hdrs)
        eq(r.status, 403, "DELETE with %r" % hdrs)
    names = [a["labels"]["alertname"] for a in srv.alerts()]
    eq(names, ["a"], "the refused alerts were not taken")
    eq(srv.get_json("/api/v2/silences"), [], "the refused silence was not made")
    # reads are never refused: a cross-site GET cannot change anything
    r = srv.request("GET", "/api/v2/alerts", headers={"Origin": "http://evil.example",
                                                      "Sec-Fetch-Site": "cross-site"})
    eq(r.status, 200, "cross-site GET")


if __name__ == "__main__":
    suite.main()

#!/usr/bin/env python3
"""http_config.oauth2 (COMPAT 4.9): the client-credentials grant. A local token endpoint
checks the client's basic-auth credentials, grant_type and scope and issues a token; the
webhook receiver must get "Authorization: Bearer <token>", and the token is reused for later
notifications. Proven on Alertmanager 0.25, which supports the same settings."""

import base64
import http.server
import json
import threading
import urllib.parse

from harness import Suite, alert, check, eq, poll

suite = Suite("11-oauth2")


class OAuthServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.token_requests = []
        self.hooks = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                if self.path.startswith("/token"):
                    form = urllib.parse.parse_qs(body.decode())
                    auth = self.headers.get("Authorization", "")
                    with outer.lock:
                        outer.token_requests.append((auth, form))
                    ok = auth == "Basic " + base64.b64encode(b"router:s3cret").decode()
                    reply = json.dumps({"access_token": "tok-123", "token_type": "bearer",
                                        "expires_in": 3600}).encode() if ok else b"{}"
                    self.send_response(200 if ok else 401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                with outer.lock:
                    outer.hooks.append((self.headers.get("Authorization", ""), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@suite.case("client-credentials")
def client_credentials(ctx):
    o = OAuthServer()
    try:
        cfg = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: 'http://127.0.0.1:%d/hook'
    http_config:
      oauth2:
        client_id: router
        client_secret: s3cret
        token_url: 'http://127.0.0.1:%d/token'
        scopes: [alerts.write, audit]
""" % (o.port, o.port)
        srv = ctx.server(cfg)
        srv.post_ok([alert({"alertname": "A"})])
        srv.post_ok([alert({"alertname": "B"})])
        poll(lambda: len(o.hooks) >= 2 or None, timeout=20, what="two notifications")
        for auth, body in o.hooks[:2]:
            eq(auth, "Bearer tok-123", "Authorization on the webhook")
        check(len(o.token_requests) >= 1, "no token request")
        auth, form = o.token_requests[0]
        eq(form.get("grant_type"), ["client_credentials"], "grant_type")
        eq(form.get("scope"), ["alerts.write audit"], "scope")
        eq(len(o.token_requests), 1, "token reused for the second notification")
    finally:
        o.close()


if __name__ == "__main__":
    suite.main()

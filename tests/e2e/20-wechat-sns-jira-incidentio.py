#!/usr/bin/env python3
"""WeChat, SNS, Jira and incident.io (COMPAT 9.14): each integration pointed at a local
fake of its service (an HTTP server on 127.0.0.1 that answers as the service does), the seed
alert posted, and the captured requests checked: method, path and query, the headers that
matter (Content-Type, Authorization, User-Agent) and the body fields. Alertmanager 0.25 has
no Jira nor incident.io and cannot sign SNS requests for a local endpoint without AWS
credentials of its own, so these cases run on alertrouter only, against the payloads the
newest Alertmanager sends."""

import http.server
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse

from harness import SEED_LABELS, Fail, Suite, alert, check, eq, poll

suite = Suite("20-wechat-sns-jira-incidentio")

EXTERNAL = "http://am.example:9093"
STARTS = "2026-11-27T09:21:50.201460419Z"
SUBJECT = "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)"
GROUP_KEY = '{}:{alertname="monitor_service_down"}'


class FakeService:
    """HTTP server on 127.0.0.1 recording method, path, headers and body of every request;
    reply_fn(method, path, body, n) -> (status, content type, body) answers it (n: how many
    earlier requests had the same method and path without query)."""

    def __init__(self, reply_fn):
        svc = self
        self.requests = []
        self.reply_fn = reply_fn
        self.cond = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                base = self.path.split("?", 1)[0]
                with svc.cond:
                    n = sum(1 for r in svc.requests
                            if r["method"] == self.command and r["base"] == base)
                    svc.requests.append({"method": self.command, "path": self.path,
                                         "base": base, "headers": dict(self.headers.items()),
                                         "header_list": list(self.headers.items()),
                                         "body": body})
                    svc.cond.notify_all()
                status, ctype, reply = svc.reply_fn(self.command, self.path, body, n)
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = handle_any
            do_POST = handle_any
            do_PUT = handle_any

            def log_message(self, *a):
                pass

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait(self, n, prefix="", timeout=15.0):
        """The first n requests whose path starts with prefix, in arrival order."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r["path"].startswith(prefix)]
                if len(got) >= n:
                    return got[:n]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail("%d request(s) under %r within %.0fs, wanted %d (%s)"
                               % (len(got), prefix, timeout, n,
                                  [(r["method"], r["path"]) for r in self.requests]))
                self.cond.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def json_reply(obj, status=200):
    return status, "application/json", json.dumps(obj).encode()


def seed_alert(labels=None):
    return alert(labels or SEED_LABELS, {"summary": "down"}, starts=STARTS,
                 ends="2099-01-01T00:00:00Z", url="http://prometheus:9090/graph")


def config(receivers, glob=""):
    return glob + """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
""" + receivers


def start(ctx, receivers, glob=""):
    return ctx.server(config(receivers, glob), args=["--web.external-url=" + EXTERNAL,
                                               "--log.level=debug"])


def delivery(srv, integration):
    """The finished delivery row of integration (delivered or dead), polled."""
    def done():
        rows = [d for d in srv.get_json("/api/x/deliveries")
                if d["integration"] == integration and d["state"] != "pending"]
        return rows[0] if rows else None
    return poll(done, timeout=20, what="a finished %s delivery" % integration)


def no_secret(srv, secret):
    check(secret not in srv.log_text(), "secret %s in the server log", secret)
    check(secret not in json.dumps(srv.get_json("/api/x/deliveries")),
          "secret %s in the delivery rows", secret)


def common_headers(r, what, ctype="application/json"):
    eq(r["headers"].get("Content-Type"), ctype, what + " Content-Type")
    check(r["headers"].get("User-Agent", "").startswith("Alertmanager/"),
          "%s User-Agent %r", what, r["headers"].get("User-Agent"))


# ---- incident.io ------------------------------------------------------------------------

@suite.case("IncidentioWebhookMessage", only="alertrouter")
def incidentio_message(ctx):
    svc = FakeService(lambda m, p, b, n: json_reply({"status": "success"}, 202))
    tmp = tempfile.mkdtemp(prefix="ar-e2e-incidentio-")
    url_file = os.path.join(tmp, "url")
    with open(url_file, "w") as f:
        f.write("  %s/v2/alert_events/http/from-file \n" % svc.url())
    try:
        srv = start(ctx, """\
  incidentio_configs:
  - url: %s/v2/alert_events/http/01SOURCE
    alert_source_token: inc-secret-token
    max_alerts: 1
  - url_file: %s
    http_config:
      authorization:
        credentials: http-cred
""" % (svc.url(), url_file), glob="global:\n  http_config:\n    authorization: {credentials: g-cred}\n")
        other = dict(SEED_LABELS, instance="cadvisor:8081")
        srv.post_ok([seed_alert(), seed_alert(other)])
        reqs = {r["path"]: r for r in svc.wait(2)}
        r = reqs.get("/v2/alert_events/http/01SOURCE")
        check(r is not None, "no request to url (got %s)", list(reqs))
        eq(r["method"], "POST", "method")
        common_headers(r, "incidentio[0]")
        # the token replaces the (inherited, global) http_config authorization
        eq(r["headers"].get("Authorization"), "Bearer inc-secret-token",
           "Authorization from alert_source_token")
        eq(sum(1 for k, _ in r["header_list"] if k.lower() == "authorization"), 1,
           "Authorization headers")
        check(r["body"].endswith(b"}\n"), "no trailing newline")
        body = json.loads(r["body"])
        eq(list(body.keys()), ["receiver", "status", "alerts", "groupLabels", "commonLabels",
                               "commonAnnotations", "externalURL", "version", "groupKey",
                               "truncatedAlerts"], "field order")
        eq(body["version"], "1", "version")
        eq(body["groupKey"], GROUP_KEY, "groupKey")
        eq(body["receiver"], "team", "receiver")
        eq(body["status"], "firing", "status")
        eq(body["externalURL"], EXTERNAL, "externalURL")
        eq(body["groupLabels"], {"alertname": "monitor_service_down"}, "groupLabels")
        eq(len(body["alerts"]), 1, "alerts kept by max_alerts: 1")
        eq(body["truncatedAlerts"], 1, "truncatedAlerts")
        eq(body["alerts"][0]["labels"], SEED_LABELS, "first alert's labels")
        eq(body["alerts"][0]["startsAt"], STARTS, "startsAt")
        r = reqs.get("/v2/alert_events/http/from-file")
        check(r is not None, "no request to the url_file URL (got %s)", list(reqs))
        eq(r["headers"].get("Authorization"), "Bearer http-cred",
           "Authorization from http_config without a token")
        body = json.loads(r["body"])
        eq(len(body["alerts"]), 2, "alerts without max_alerts")
        eq(body["truncatedAlerts"], 0, "truncatedAlerts")
        for i in (0, 1):
            eq(delivery(srv, "incidentio[%d]" % i)["state"], "delivered", "delivery state")
        no_secret(srv, "inc-secret-token")
    finally:
        svc.close()


@suite.case("IncidentioRetries429", only="alertrouter")
def incidentio_429(ctx):
    # 429 then 202: retried, one delivery with 2 attempts; 400 is final
    def reply(method, path, body, n):
        if path == "/bad":
            return json_reply({"message": "invalid payload"}, 400)
        if n == 0:
            return json_reply({"message": "rate limited"}, 429)
        return json_reply({"status": "success"}, 202)
    svc = FakeService(reply)
    try:
        srv = start(ctx, """\
  incidentio_configs:
  - url: %s/ok
    alert_source_token: t1
  - url: %s/bad
    alert_source_token: t2
""" % (svc.url(), svc.url()))
        srv.post_ok([seed_alert()])
        d = delivery(srv, "incidentio[0]")
        eq((d["state"], d["attempts"]), ("delivered", 2), "429 retried")
        d = delivery(srv, "incidentio[1]")
        eq((d["state"], d["attempts"]), ("dead", 1), "400 final")
        check("unexpected status code 400" in d["lastError"], "lastError %r", d["lastError"])
    finally:
        svc.close()


if __name__ == "__main__":
    suite.main(jobs=2)

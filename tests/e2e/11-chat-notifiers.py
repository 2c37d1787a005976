#!/usr/bin/env python3
"""Chat/HTTP integrations (COMPAT 9.3-9.13): a configuration with Slack, Discord,
Telegram, PagerDuty, Opsgenie, Webex and VictorOps pointed at local sinks, the seed alert
posted, and what alertrouter sends compared request by request (method, path,
Content-Type, Authorization, User-Agent, body bytes) with what the real Alertmanager 0.25
sends for the same configuration. Nothing needs normalising: both servers use the same
--web.external-url and the alert has fixed times, so links, keys and texts match.
Microsoft Teams (0.26+, unknown to 0.25) is checked against the COMPAT 9.4 body on
alertrouter."""

import http.server
import json
import threading
import time

from harness import (AM_BINARY, SEED_LABELS, Fail, Server, Skip, Suite, alert, check, eq,
                     targets)

suite = Suite("11-chat-notifiers")

EXTERNAL = "http://am.example:9093"
STARTS = "2026-11-27T09:21:50.201460419Z"
TG_REPLY = json.dumps({"ok": True, "result": {
    "message_id": 1, "date": 1, "chat": {"id": 4242, "type": "private"}}}).encode()


class RecordingSink:
    """HTTP sink on 127.0.0.1 keeping method, path, headers and body of every request;
    answers like the services do (Telegram needs a JSON reply)."""

    def __init__(self):
        sink = self
        self.requests = []
        self.cond = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with sink.cond:
                    sink.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers.items()),
                                          "body": body})
                    sink.cond.notify_all()
                reply = TG_REPLY if "/telegram/" in self.path else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = handle_any
            do_PUT = handle_any

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def first(self, prefix, timeout=15.0):
        """First request whose path starts with prefix."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for r in self.requests:
                    if r["path"].startswith(prefix):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail("no request under %s within %.0fs (got %s)"
                               % (prefix, timeout, [r["path"] for r in self.requests]))
                self.cond.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def config(sink, teams=False):
    u = sink.url("")
    text = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
- name: team
  slack_configs:
  - api_url: %(u)s/slack/services/T0/B0/slack-secret
    channel: '#alerts'
  discord_configs:
  - webhook_url: %(u)s/discord/api/webhooks/1/discord-secret
  telegram_configs:
  - api_url: %(u)s/telegram
    bot_token: '123:TGSECRET'
    chat_id: 4242
  pagerduty_configs:
  - routing_key: pd-secret
    url: %(u)s/pagerduty/v2/enqueue
  opsgenie_configs:
  - api_key: og-secret
    api_url: %(u)s/opsgenie/
  webex_configs:
  - api_url: %(u)s/webex/v1/messages
    room_id: room-1
    http_config:
      authorization:
        credentials: webex-secret
  victorops_configs:
  - api_key: vo-secret
    api_url: %(u)s/victorops/
    routing_key: team-rk
""" % {"u": u}
    if teams:
        text += """\
  msteams_configs:
  - webhook_url: %s/msteams/webhookb2/teams-secret
""" % u
    return text


INTEGRATIONS = ["/slack/", "/discord/", "/telegram/", "/pagerduty/", "/opsgenie/", "/webex/",
                "/victorops/"]


def seed_alert():
    return alert(SEED_LABELS, {"summary": "down"}, starts=STARTS, ends="2099-01-01T00:00:00Z",
                 url="http://prometheus:9090/graph")


def run(ctx, kind, sink, teams=False):
    cfg = config(sink, teams)
    args = ["--web.external-url=" + EXTERNAL]
    if kind == ctx.kind:
        srv = ctx.server(cfg, args=args)
    else:
        srv = Server(kind, cfg, args=args, start=False)
        ctx.servers.append(srv)
        srv.start()
    srv.post_ok([seed_alert()])
    return srv


@suite.case("SameRequestsAsAlertmanager", only="alertrouter")
def same_requests(ctx):
    if "alertmanager" not in targets():
        raise Skip("reference Alertmanager not installed (%s)" % AM_BINARY)
    ar_sink, am_sink = RecordingSink(), RecordingSink()
    try:
        run(ctx, "alertrouter", ar_sink)
        run(ctx, "alertmanager", am_sink)
        for prefix in INTEGRATIONS:
            got, want = ar_sink.first(prefix), am_sink.first(prefix)
            eq(got["method"], want["method"], prefix + " method")
            eq(got["path"], want["path"], prefix + " path")
            for h in ("Content-Type", "Authorization", "User-Agent"):
                eq(got["headers"].get(h), want["headers"].get(h), prefix + " " + h)
            eq(got["body"].decode("utf-8"), want["body"].decode("utf-8"), prefix + " body")
    finally:
        ar_sink.close()
        am_sink.close()


@suite.case("SeedSlackTitle")
def seed_slack_title(ctx):
    sink = RecordingSink()
    try:
        run(ctx, ctx.kind, sink)
        body = json.loads(sink.first("/slack/")["body"])
        eq(body["attachments"][0]["title"],
           "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)",
           "slack title")
        eq(body["attachments"][0]["title_link"], EXTERNAL + "/#/alerts?receiver=team",
           "title_link")
        pd = json.loads(sink.first("/pagerduty/")["body"])
        eq(pd["event_action"], "trigger", "pagerduty event_action")
        check(len(pd["dedup_key"]) == 64, "dedup_key %r is not a SHA-256 hex", pd["dedup_key"])
    finally:
        sink.close()


@suite.case("TeamsMessageCard", only="alertrouter")
def teams_card(ctx):
    sink = RecordingSink()
    try:
        run(ctx, "alertrouter", sink, teams=True)
        r = sink.first("/msteams/")
        eq(r["headers"].get("Content-Type"), "application/json", "Content-Type")
        body = r["body"].decode("utf-8")
        check(body.endswith("}\n"), "no trailing newline: %r", body[-10:])
        card = json.loads(body)
        eq(list(card.keys()), ["@context", "type", "title", "summary", "text", "themeColor"],
           "field order")
        eq(card["@context"], "http://schema.org/extensions", "@context")
        eq(card["type"], "MessageCard", "type")
        subject = ("[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor "
                   "docker-host-alpha critical)")
        eq(card["title"], subject, "title")
        eq(card["summary"], subject, "summary")
        eq(card["themeColor"], "8C1A1A", "themeColor")
    finally:
        sink.close()


if __name__ == "__main__":
    suite.main(jobs=2)

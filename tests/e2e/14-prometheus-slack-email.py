#!/usr/bin/env python3
"""The product end to end: Debian's real Prometheus evaluates an alerting rule and posts the
firing alert `monitor_service_down` to the router, which routes it with group_by
[alertname] to a Slack webhook (a local sink standing in for hooks.slack.com) and to an
email receiver (a real local SMTP server, aiosmtpd). Both notifications carry the title
"[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)".

A second case uses the routing a security team writes for that incident: two sibling routes
with the same matcher severity="critical", one to the team's chat and one to the on-call's
e-mail, both with continue. Their groups print the same group key, yet each must notify its
own receiver (COMPAT 5.2), firing and, once the scrape target comes back, resolved.
Runs against alertrouter and the real Alertmanager, so the expectation is proven."""

import email
import email.policy
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

try:
    import aiosmtpd  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")

from aiosmtpd.controller import Controller

from harness import Skip, Suite, check, eq, free_port, poll, _register, _unregister

suite = Suite("14-prometheus-slack-email")
PROMETHEUS = "/usr/bin/prometheus"
TITLE = "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)"


class Mailbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


RULE_CONSTANT = """\
  - alert: monitor_service_down
    expr: vector(1)
"""
# up == 0 for a scrape target that is down at first and comes back later
RULE_UP = """\
  - alert: monitor_service_down
    expr: up{job="cadvisor"} == 0
"""
RULE_LABELS = """\
    labels:
      instance: 'cadvisor:8080'
      job: cadvisor
      monitor: docker-host-alpha
      severity: critical
    annotations:
      summary: 'Monitor service non-operational'
"""


class Prometheus:
    """Debian's Prometheus on loopback, evaluating one alerting rule every second and
    sending to the server on am_port. With target_port, it scrapes 127.0.0.1:target_port
    as job "cadvisor"."""

    def __init__(self, am_port, rule, target_port=None):
        self.dir = tempfile.mkdtemp(prefix="ar-prom-e2e-")
        d = self.dir
        with open(os.path.join(d, "rules.yml"), "w") as f:
            f.write("groups:\n- name: monitor\n  interval: 1s\n  rules:\n" + rule + RULE_LABELS)
        scrape = ""
        if target_port is not None:
            scrape = ("scrape_configs:\n- job_name: cadvisor\n  static_configs:\n"
                      "  - targets: ['127.0.0.1:%d']\n" % target_port)
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("""\
global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 500ms}
rule_files: ['%s']
alerting:
  alertmanagers:
  - static_configs:
    - targets: ['127.0.0.1:%d']
""" % (os.path.join(d, "rules.yml"), am_port) + scrape)
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(d, "data"),
             "--web.listen-address=127.0.0.1:%d" % free_port(),
             # the first send can be dropped before the Alertmanager target is discovered;
             # re-send every second instead of every minute
             "--rules.alert.resend-delay=1s"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _register(self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        _unregister(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class MetricsTarget:
    """A scrape target that answers /metrics once started (the service coming back)."""

    def __init__(self, port):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"cadvisor_version_info 1\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def smtp_box():
    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    return box, port, ctl


def subjects(box):
    with box.lock:
        msgs = list(box.messages)
    return [str(email.message_from_bytes(m, policy=email.policy.default)["Subject"])
            for m in msgs]


@suite.case("prometheus-to-slack-and-email")
def end_to_end(ctx):
    if not os.path.exists(PROMETHEUS):
        raise Skip("prometheus not installed")
    box, smtp_port, ctl = smtp_box()
    # a Slack incoming webhook answers text/plain "ok"; anything else is a failed delivery
    slack = ctx.sink(reply=("text/plain; charset=utf-8", b"ok"))
    cfg = """\
global:
  smtp_smarthost: '127.0.0.1:%d'
  smtp_from: 'alertrouter@example.org'
  smtp_require_tls: false
route:
  receiver: security
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
receivers:
- name: security
  slack_configs:
  - api_url: '%s'
    channel: '#security'
  email_configs:
  - to: 'oncall@example.org'
""" % (smtp_port, slack.url("/services/T000/B000/XXXX"))
    srv = ctx.server(cfg)
    prom = Prometheus(srv.port, RULE_CONSTANT)
    try:
        got = slack.wait_for(1, timeout=60)
        body = json.loads(got[0][2])
        att = body["attachments"][0]
        eq(att["title"], TITLE, "Slack title")
        eq(body.get("channel"), "#security", "Slack channel")
        msgs = poll(lambda: list(box.messages) or None, timeout=60, what="an email arrived")
        m = email.message_from_bytes(msgs[0], policy=email.policy.default)
        eq(str(m["Subject"]), TITLE, "email subject")
        eq(str(m["To"]), "oncall@example.org", "email To")
        html = [part for part in m.walk() if part.get_content_type() == "text/html"]
        check(html and "monitor_service_down" in html[0].get_content(), "email html body")
        alerts = srv.alerts()
        eq([a["labels"]["alertname"] for a in alerts], ["monitor_service_down"], "API view")
        check(alerts[0].get("generatorURL", "").startswith("http"), "generatorURL from Prometheus")
        # alertrouter: both deliveries are recorded as delivered in the delivery log
        if srv.kind == "alertrouter":
                poll(lambda: sorted(d["integration"] for d in
                                srv.get_json("/api/x/deliveries", {"state": "delivered"})
                                if d["integration"] in ("slack[0]", "email[0]"))[:2]
                 == ["email[0]", "slack[0]"] or None, timeout=30,
                 what="the Slack and email deliveries recorded as delivered")
    finally:
        prom.stop()
        ctl.stop()


@suite.case("chat-and-email-sibling-routes-firing-and-resolved")
def chat_and_email_routes(ctx):
    if not os.path.exists(PROMETHEUS):
        raise Skip("prometheus not installed")
    box, smtp_port, ctl = smtp_box()
    slack = ctx.sink(reply=("text/plain; charset=utf-8", b"ok"))
    cfg = """\
global:
  smtp_smarthost: '127.0.0.1:%d'
  smtp_from: 'alertrouter@example.org'
  smtp_require_tls: false
route:
  receiver: security-chat
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  routes:
    - receiver: security-chat
      matchers: ['severity="critical"']
      continue: true
    - receiver: oncall-email
      matchers: ['severity="critical"']
      continue: true
receivers:
- name: security-chat
  slack_configs:
  - api_url: '%s'
    channel: '#security'
    send_resolved: true
- name: oncall-email
  email_configs:
  - to: 'oncall@example.org'
    send_resolved: true
""" % (smtp_port, slack.url("/services/T000/B000/XXXX"))
    srv = ctx.server(cfg)
    target_port = free_port()
    prom = Prometheus(srv.port, RULE_UP, target_port=target_port)
    target = None
    try:
        got = slack.wait_for(1, timeout=60)
        eq(json.loads(got[0][2])["attachments"][0]["title"], TITLE, "Slack title (firing)")
        poll(lambda: TITLE in subjects(box) or None, timeout=30,
             what="the firing e-mail to the on-call")
        # both groups are listed, same labels, one receiver each
        groups = srv.get_json("/api/v2/alerts/groups")
        # (sorted by labels, ties by receiver name)
        eq([(g["labels"], g["receiver"]["name"]) for g in groups],
           [({"alertname": "monitor_service_down"}, "oncall-email"),
            ({"alertname": "monitor_service_down"}, "security-chat")], "groups")
        # the service comes back: up == 1, Prometheus sends the alert as resolved
        target = MetricsTarget(target_port)
        resolved = TITLE.replace("[FIRING:1]", "[RESOLVED]")

        def slack_resolved():
            titles = [json.loads(b[2])["attachments"][0]["title"] for b in list(slack.received)]
            return resolved in titles or None
        poll(slack_resolved, timeout=60, what="the resolved Slack message")
        poll(lambda: resolved in subjects(box) or None, timeout=30,
             what="the resolved e-mail to the on-call")
        eq(sorted(subjects(box)), sorted([TITLE, resolved]), "e-mails: one firing, one resolved")
    finally:
        prom.stop()
        if target is not None:
            target.stop()
        ctl.stop()


if __name__ == "__main__":
    suite.main()

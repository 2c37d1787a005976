#!/usr/bin/env python3
"""The product end to end: Debian's real Prometheus evaluates an alerting rule and posts the
firing alert `monitor_service_down` to the router, which routes it with group_by
[alertname] to a Slack webhook (a local sink standing in for hooks.slack.com) and to an
email receiver (a real local SMTP server, aiosmtpd). Both notifications carry the title
"[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)".
Runs against alertrouter and the real Alertmanager, so the expectation is proven."""

import email
import email.policy
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


@suite.case("prometheus-to-slack-and-email")
def end_to_end(ctx):
    if not os.path.exists(PROMETHEUS):
        raise Skip("prometheus not installed")
    box = Mailbox()
    smtp_port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=smtp_port)
    ctl.start()
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
    d = tempfile.mkdtemp(prefix="ar-prom-e2e-")
    prom_port = free_port()
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write("""\
groups:
- name: monitor
  interval: 1s
  rules:
  - alert: monitor_service_down
    expr: vector(1)
    labels:
      instance: 'cadvisor:8080'
      job: cadvisor
      monitor: docker-host-alpha
      severity: critical
    annotations:
      summary: 'Monitor service non-operational'
""")
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write("""\
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['%s']
alerting:
  alertmanagers:
  - static_configs:
    - targets: ['127.0.0.1:%d']
""" % (os.path.join(d, "rules.yml"), srv.port))
    p = subprocess.Popen([PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
                          "--storage.tsdb.path=" + os.path.join(d, "data"),
                          "--web.listen-address=127.0.0.1:%d" % prom_port,
                          # the first send can be dropped before the Alertmanager target is
                          # discovered; re-send every second instead of every minute
                          "--rules.alert.resend-delay=1s"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _register(p)
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
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        _unregister(p)
        ctl.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    suite.main()

#!/usr/bin/env python3
"""Captures golden chat/HTTP integration requests from a real Alertmanager 0.25.

Sibling of capture.py. Writes chat.yml (the Alertmanager configuration used, every
integration 0.25 supports that takes a configurable URL pointed at a local sink on
127.0.0.1) and, per case and phase, the exact requests under chat/:
  <case>.<phase>.<type>.body   request body as received
  <case>.<phase>.<type>.json   method, path (with query), Content-Type, User-Agent,
                               Authorization and X-* headers
The webhook integration of each receiver records the group (alerts, group labels, group
key) so tests/unit/test_notifiers.c can rebuild the same notification data and compare
each builder's output byte for byte. Pushover is absent: 0.25 posts to a fixed https URL.

Cases: the seed alert monitor_service_down (firing, then resolved), a mixed group with a
firing and a resolved alert, and an HTML-hostile/unicode group.

Usage: python3 capture_chat.py     Only processes started here are stopped, by PID.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AM = "/usr/bin/prometheus-alertmanager"
AM_PORT = 19393
SINK_PORT = 19394
EXTERNAL_URL = "http://am.example:9093"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "chat")

received = {}  # (case, type) -> list of (meta, body)
lock = threading.Lock()

TG_REPLY = json.dumps({"ok": True, "result": {
    "message_id": 1, "date": 1, "chat": {"id": 4242, "type": "private"},
    "id": 1, "is_bot": True, "first_name": "bot", "username": "bot"}}).encode()


class Sink(BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        meta = {"method": self.command, "path": self.path}
        for h in ("Content-Type", "User-Agent", "Authorization"):
            if self.headers.get(h) is not None:
                meta[h] = self.headers.get(h)
        for h, v in self.headers.items():
            if h.lower().startswith("x-"):
                meta[h] = v
        parts = self.path.split("/")
        key = (parts[1], parts[2]) if len(parts) > 2 else (self.path, "")
        with lock:
            received.setdefault(key, []).append((meta, body))
        reply = TG_REPLY if key[1] == "telegram" else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = handle_any
    do_PUT = handle_any

    def log_message(self, *a):
        pass


SEED = {"alertname": "monitor_service_down", "instance": "cadvisor:8080", "job": "cadvisor",
        "monitor": "docker-host-alpha", "severity": "critical"}

CASES = [
    {"name": "seed", "receiver": "team", "group_by": ["alertname"],
     "matcher": 'alertname="monitor_service_down"',
     "phases": [
         [{"labels": SEED, "annotations": {"summary": "down"},
           "startsAt": "2026-11-27T09:21:50.201460419Z", "endsAt": "2099-01-01T00:00:00Z",
           "generatorURL": "http://prometheus:9090/graph"}],
         [{"labels": SEED, "annotations": {"summary": "down"},
           "startsAt": "2026-11-27T09:21:50.201460419Z", "endsAt": "2026-11-27T10:00:00Z",
           "generatorURL": "http://prometheus:9090/graph"}]]},
    {"name": "mixed", "receiver": "mixed.team", "group_by": ["alertname", "case"],
     "matcher": 'case="mixed"',
     "phases": [[
         {"labels": {"alertname": "Mixed", "case": "mixed", "instance": "a:1", "job": "j",
                     "severity": "warning"},
          "annotations": {"summary": "first", "runbook": "http://r/1"},
          "startsAt": "2026-11-27T09:00:00.5Z", "endsAt": "2099-01-01T00:00:00Z",
          "generatorURL": "http://gen/a?x=1&y=2"},
         {"labels": {"alertname": "Mixed", "case": "mixed", "instance": "b:1", "job": "j",
                     "severity": "warning"},
          "annotations": {"summary": "second"},
          "startsAt": "2026-11-27T08:00:00.123Z", "endsAt": "2026-11-27T09:30:00Z",
          "generatorURL": "http://gen/b"}]]},
    {"name": "hostile", "receiver": "hostile", "group_by": ["alertname"],
     "matcher": 'case="hostile"',
     "phases": [[
         {"labels": {"alertname": "Disk<Full>&\"x\"", "case": "hostile",
                     "instance": "h\u00f6st:9100", "team": "caf\u00e9 \u65e5\u672c"},
          "annotations": {"summary": "<b>bold</b> & 'q' \u2014 \u00fcml\u00e4ut \U0001F525",
                          "description": "line1\nline2\t\"quoted\" \\ back"},
          "startsAt": "2026-11-27T09:21:50Z", "endsAt": "2099-01-01T00:00:00Z",
          "generatorURL": "http://prometheus:9090/graph?g0.expr=up%3C1&x=<2>"}]]},
]

TYPES = ["slack", "discord", "telegram", "webex", "pagerduty", "opsgenie", "victorops"]


def config():
    sink = "http://127.0.0.1:%d" % SINK_PORT
    lines = ["route:", "  receiver: default", "  group_wait: 1s", "  group_interval: 2s",
             "  repeat_interval: 1h", "  routes:"]
    for c in CASES:
        lines += ["  - receiver: %s" % c["receiver"], "    matchers: ['%s']" % c["matcher"],
                  "    group_by: [%s]" % ", ".join(c["group_by"])]
    lines += ["receivers:", "- name: default"]
    for c in CASES:
        n = c["name"]
        u = "%s/%s" % (sink, n)
        lines += [
            "- name: %s" % c["receiver"],
            "  webhook_configs:",
            "  - url: %s/webhook" % u,
            "  slack_configs:",
            "  - api_url: %s/slack/services/T0/B0/secret" % u,
            "    send_resolved: true",
            "    channel: '#alerts'"]
        if n == "hostile":
            lines += [
                "    fields:",
                "    - title: '{{ .CommonLabels.team }}'",
                "      value: '{{ .CommonAnnotations.summary }}'",
                "    - title: static",
                "      value: v",
                "      short: true",
                "    actions:",
                "    - type: button",
                "      text: 'Runbook <{{ .GroupLabels.alertname }}>'",
                "      url: 'http://runbook/?a=1&b=2'",
                "      confirm:",
                "        text: sure?",
                "    link_names: true",
                "    icon_emoji: ':fire:'"]
        lines += [
            "  discord_configs:",
            "  - webhook_url: %s/discord/api/webhooks/1/tok" % u,
            "  telegram_configs:",
            "  - api_url: %s/telegram" % u,
            "    bot_token: '123:SECRETTOKEN'",
            "    chat_id: 4242",
            "  webex_configs:",
            "  - api_url: %s/webex/v1/messages" % u,
            "    room_id: room-1",
            "    http_config:",
            "      authorization:",
            "        credentials: webex-secret",
            "  pagerduty_configs:",
            "  - routing_key: pd-routing-secret",
            "    url: %s/pagerduty/v2/enqueue" % u]
        if n == "hostile":
            lines += [
                "    severity: '{{ if .CommonLabels.team }}warning{{ end }}'",
                "    class: cls",
                "    component: '<comp>'",
                "    group: grp",
                "    details:",
                "      extra: '{{ .CommonLabels.team }}'",
                "    images:",
                "    - src: 'http://img/1.png'",
                "      alt: alt",
                "      href: 'http://img'",
                "    - alt: dropped",
                "    links:",
                "    - href: 'http://link/?a=b&c=d'",
                "      text: link"]
        lines += [
            "  opsgenie_configs:",
            "  - api_key: og-secret",
            "    api_url: %s/opsgenie/" % u]
        if n == "hostile":
            lines += [
                "    tags: ' a, b ,,c '",
                "    note: 'n <{{ .Status }}>'",
                "    priority: P1",
                "    entity: ent",
                "    actions: 'x,y'",
                "    details:",
                "      k: '{{ .CommonLabels.team }}'",
                "    responders:",
                "    - name: ops",
                "      type: team",
                "    - name: 'a, b'",
                "      type: teams",
                "    - username: u@x",
                "      type: user"]
        lines += [
            "  victorops_configs:",
            "  - api_key: vo-secret",
            "    api_url: %s/victorops/" % u,
            "    routing_key: team-rk"]
        if n == "hostile":
            lines += [
                "    custom_fields:",
                "      extra: '{{ .CommonLabels.team }}'"]
    return "\n".join(lines) + "\n"


def post(alerts):
    req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % AM_PORT,
                                 data=json.dumps(alerts).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def wait_for(key, count, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        with lock:
            if len(received.get(key, [])) >= count:
                return received[key][count - 1]
        time.sleep(0.1)
    raise SystemExit("no request %d for %s" % (count, key))


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", SINK_PORT), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    text = config()
    with open(os.path.join(HERE, "chat.yml"), "w") as f:
        f.write(text)
    cfg = os.path.join(tmp, "am.yml")
    open(cfg, "w").write(text)
    os.makedirs(OUT, exist_ok=True)
    am = subprocess.Popen([AM, "--config.file=" + cfg, "--storage.path=" + tmp,
                           "--web.listen-address=127.0.0.1:%d" % AM_PORT,
                           "--cluster.listen-address=", "--web.external-url=" + EXTERNAL_URL],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % AM_PORT, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        for c in CASES:
            for i, phase in enumerate(c["phases"]):
                post(phase)
                for t in ["webhook"] + TYPES:
                    meta, body = wait_for((c["name"], t), i + 1)
                    base = os.path.join(OUT, "%s.%d.%s" % (c["name"], i, t))
                    with open(base + ".body", "wb") as f:
                        f.write(body)
                    with open(base + ".json", "w") as f:
                        json.dump(meta, f, indent=1, sort_keys=True)
                        f.write("\n")
        time.sleep(1)
        with lock:
            extra = {k: len(v) for k, v in received.items()
                     if len(v) > max(len(c["phases"]) for c in CASES if c["name"] == k[0])}
        if extra:
            print("unexpected extra requests:", extra, file=sys.stderr)
    finally:
        am.terminate()
        try:
            _, err = am.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            am.kill()
            _, err = am.communicate()
        for line in err.decode(errors="replace").splitlines():
            if "level=error" in line or "level=warn" in line:
                print(line, file=sys.stderr)
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

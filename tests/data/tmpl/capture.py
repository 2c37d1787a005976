#!/usr/bin/env python3
"""Captures golden template outputs from a real Alertmanager (Debian's 0.25 build).

Starts /usr/bin/prometheus-alertmanager on loopback with one receiver per test case. Every
receiver has one webhook (which records the template Data exactly as Alertmanager built it),
one Slack config per named template (the template is rendered into the Slack `text` field)
and one e-mail config (the HTML body is rendered with html/template). A small HTTP sink and a
small SMTP sink record what arrives. For each case and notification the script writes

    golden/<case>-<n>/data.json           webhook payload (input for our engine)
    golden/<case>-<n>/<template name>.txt  text rendered by Alertmanager
    golden/<case>-<n>/email.default.html.txt  decoded HTML mail body

Usage: python3 capture.py [outdir]   (default: directory of this script/golden)
Only processes started here are stopped, by PID.
"""
import email
import email.header
import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

AM = "/usr/bin/prometheus-alertmanager"
TMPL_DIR = "/usr/share/prometheus/alertmanager"
AM_PORT = 19193
SINK_PORT = 19194
SMTP_PORT = 19195
HERE = os.path.dirname(os.path.abspath(__file__))

# Templates that take Data as dot. (__text_alert_list takes a list of alerts; rendered with
# .Alerts, .Alerts.Firing and .Alerts.Resolved below.)
SKIP = {"__text_alert_list", "email.default.html"}

received = []  # (path, body bytes)
mails = []  # raw message bytes
lock = threading.Lock()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self):
        w = self.wfile
        w.write(b"220 sink ESMTP\r\n")
        data_mode = False
        buf = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    data_mode = False
                    with lock:
                        mails.append(b"".join(buf))
                    buf = []
                    w.write(b"250 ok\r\n")
                else:
                    if line.startswith(b".."):
                        line = line[1:]
                    buf.append(line)
                continue
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                w.write(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            elif cmd.startswith(b"HELO"):
                w.write(b"250 sink\r\n")
            elif cmd.startswith(b"DATA"):
                data_mode = True
                w.write(b"354 go\r\n")
            elif cmd.startswith(b"QUIT"):
                w.write(b"221 bye\r\n")
                return
            else:
                w.write(b"250 ok\r\n")


class ThreadingSMTP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def template_names():
    names = []
    for f in ("default.tmpl", "email.tmpl"):
        with open(os.path.join(TMPL_DIR, f)) as fh:
            names += re.findall(r'define "([^"]+)"', fh.read())
    return names


def ts(delta_s):
    t = datetime.now(timezone.utc) + timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# Identifies one notification: group labels and status (rendered by Alertmanager itself).
KEY = '{{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}{{ .Status }}'


def key_of(data):
    g = data["groupLabels"]
    return "".join("%s=%s;" % (k, g[k]) for k in sorted(g, key=lambda k: (k != "alertname", k))) \
        + data["status"]


CASES = {
    # name: (receiver name, group_by, list of posts; each post is a list of alerts)
    "seed": ("team", ["alertname"], [[
        {"labels": {"alertname": "monitor_service_down", "instance": "cadvisor:8080",
                    "job": "cadvisor", "monitor": "docker-host-alpha", "severity": "critical"},
         "annotations": {"summary": "down"}, "generatorURL": "http://prometheus:9090/graph"}],
        "RESOLVE"]),
    "mixed": ("team.mail+ops x", ["alertname", "job"], [[
        {"labels": {"alertname": "HighLatency", "job": "api", "instance": "a:1",
                    "severity": "warning"},
         "annotations": {"summary": "latency high", "runbook": "http://rb/x?a=1&b=2"},
         "generatorURL": "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"},
        {"labels": {"alertname": "HighLatency", "job": "api", "instance": "b:2",
                    "severity": "critical"},
         "annotations": {"summary": "latency high"},
         "generatorURL": "http://prom:9090/graph?g0.expr=x"},
        {"labels": {"alertname": "HighLatency", "job": "api", "instance": "c:3",
                    "severity": "warning"},
         "annotations": {"summary": "latency high", "description": "old"},
         "generatorURL": "http://prom:9090/graph", "resolved": True},
    ]]),
    "hostile": ("html<rcv>", ["alertname"], [[
        {"labels": {"alertname": "Inject<script>alert(1)</script>", "a": "x&y\"z'w+1",
                    "b": "ünïcödé 日本語 🔥", "c": "line1\nline2", "e": "  spaced  ",
                    "f": "<b>bold</b>", "g": "100%", "h": "tab\there", "i": "javascript:x",
                    "j": "{{ .Status }}", "k": "back\\slash", "l": "q`b", "m": "=eq",
                    "severity": "critical"},
         "annotations": {"summary": "<img src=x onerror=alert(1)>", "u": "über & <grün>"},
         "generatorURL": "javascript:alert(1)"},
    ]]),
    "noannot": ("empty", ["..."], [[
        {"labels": {"alertname": "NoAnnotations", "zone": "z1", "severity": "info"},
         "annotations": {}, "generatorURL": ""},
        {"labels": {"alertname": "NoAnnotations", "zone": "z2", "severity": "info"},
         "annotations": {}, "generatorURL": "https://example.com/a b"},
    ]]),
    "resolvedonly": ("rs", [], [[
        {"labels": {"alertname": "Flappy", "instance": "x", "severity": "warning"},
         "annotations": {"summary": "flap"}, "generatorURL": "http://p/g"}], "RESOLVE"]),
}


def write_config(path, names):
    routes = []
    receivers = []
    for case, (rcv, group_by, _) in CASES.items():
        routes.append({"matchers": ["case=\"%s\"" % case], "receiver": rcv, "group_by": group_by,
                       "group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
        slack = []
        for n in names:
            if n in SKIP:
                continue
            slack.append({"api_url": "http://127.0.0.1:%d/slack/%s/%s" % (SINK_PORT, case, n),
                          "send_resolved": True, "channel": "#x",
                          "title": KEY, "text": '{{ template "%s" . }}' % n})
        for dot in (".Alerts", ".Alerts.Firing", ".Alerts.Resolved"):
            slack.append({"api_url": "http://127.0.0.1:%d/slack/%s/__text_alert_list%s" %
                          (SINK_PORT, case, dot), "send_resolved": True, "channel": "#x",
                          "title": KEY,
                          "text": '{{ template "__text_alert_list" %s }}' % dot})
        receivers.append({
            "name": rcv,
            "webhook_configs": [{"url": "http://127.0.0.1:%d/webhook/%s" % (SINK_PORT, case),
                                 "send_resolved": True}],
            "slack_configs": slack,
            "email_configs": [{"to": "ops@example.org", "from": "am@example.org",
                               "smarthost": "127.0.0.1:%d" % SMTP_PORT, "require_tls": False,
                               "send_resolved": True,
                               "headers": {"X-Case": case, "X-Key": KEY}}],
        })
    cfg = {"route": {"receiver": "team", "group_by": ["alertname"], "routes": routes},
           "receivers": receivers}
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)  # JSON is valid YAML


def post(alerts):
    body = json.dumps(alerts).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % AM_PORT, data=body,
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def wait_port(port, deadline):
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "golden")
    names = template_names()
    httpd = HTTPServer(("127.0.0.1", SINK_PORT), Sink)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    smtpd = ThreadingSMTP(("127.0.0.1", SMTP_PORT), SMTPHandler)
    threading.Thread(target=smtpd.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    cfgpath = os.path.join(tmp, "am.yml")
    write_config(cfgpath, names)
    proc = subprocess.Popen([AM, "--config.file=" + cfgpath, "--storage.path=" + tmp,
                             "--web.listen-address=127.0.0.1:%d" % AM_PORT,
                             "--cluster.listen-address=",
                             "--web.external-url=http://am.example:9093"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
    try:
        if not wait_port(AM_PORT, time.time() + 20):
            sys.exit("alertmanager did not start: " + open(os.path.join(tmp, "log")).read())
        time.sleep(1)
        steps = max(len(c[2]) for c in CASES.values())
        sent = {}
        for step in range(steps):
            for case, (_, _, posts) in CASES.items():
                if step >= len(posts):
                    continue
                p = posts[step]
                if p == "RESOLVE":
                    alerts = [dict(a) for a in sent[case]]
                    for a in alerts:
                        a["endsAt"] = ts(-1)
                else:
                    alerts = []
                    for a in p:
                        a = dict(a)
                        a["labels"] = dict(a["labels"], case=case)
                        a["startsAt"] = ts(-60)
                        if a.pop("resolved", False):
                            a["endsAt"] = ts(-5)
                        alerts.append(a)
                    sent[case] = alerts
                post(alerts)
            time.sleep(6)
        time.sleep(2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        httpd.shutdown()
        smtpd.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    # Group everything by case and notification (group labels + status).
    if os.path.isdir(out):
        shutil.rmtree(out)
    counters = {}
    dir_of = {}  # (case, key) -> dir
    notif_of = {}
    for path, body in received:
        parts = path.strip("/").split("/", 2)
        if parts[0] == "webhook":
            case = parts[1]
            data = json.loads(body)
            counters[case] = counters.get(case, 0) + 1
            d = os.path.join(out, "%s-%d" % (case, counters[case]))
            os.makedirs(d)
            dir_of[(case, key_of(data))] = d
            notif_of.setdefault(case, []).append(d)
            with open(os.path.join(d, "data.json"), "w") as f:
                json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
                f.write("\n")
    for path, body in received:
        parts = path.strip("/").split("/", 2)
        if parts[0] != "slack":
            continue
        case, name = parts[1], parts[2]
        att = json.loads(body)["attachments"][0]
        d = dir_of.get((case, att.get("title", "")))
        if d is None:
            print("unmatched slack", case, name, att.get("title"))
            continue
        with open(os.path.join(d, name + ".txt"), "w") as f:
            f.write(att.get("text", ""))
    for raw in mails:
        msg = email.message_from_bytes(raw)
        key = str(email.header.make_header(email.header.decode_header(msg["X-Key"])))
        d = dir_of.get((msg["X-Case"], key))
        if d is None:
            print("unmatched mail", msg["X-Case"], key)
            continue
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                # SMTP carries CRLF line ends; the template produced LF.
                html = part.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
                with open(os.path.join(d, "email.default.html.txt"), "w") as f:
                    f.write(html)
    for case, dirs in sorted(notif_of.items()):
        for d in dirs:
            print(d, len(os.listdir(d)), "files")


if __name__ == "__main__":
    main()

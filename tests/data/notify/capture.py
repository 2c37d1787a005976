#!/usr/bin/env python3
"""Captures golden webhook payloads from a real Alertmanager 0.25 (Debian's build).

Starts /usr/bin/prometheus-alertmanager on loopback (no clustering) with one route and
webhook receiver per case of cases.json, posts each phase's alerts, waits for the
notification in a small local HTTP sink and writes the exact request body to
<case>.<phase>.json next to this script, plus headers.json (method, path, Content-Type,
User-Agent of the first request). tests/unit/test_notify.c rebuilds the same groups from
cases.json and compares byte for byte.

Usage: python3 capture.py     Only processes started here are stopped, by PID.
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
from http.server import BaseHTTPRequestHandler, HTTPServer

AM = "/usr/bin/prometheus-alertmanager"
AM_PORT = 19293
SINK_PORT = 19294
EXTERNAL_URL = "http://am.example:9093"
HERE = os.path.dirname(os.path.abspath(__file__))

received = {}  # path -> list of (headers, body)
lock = threading.Lock()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        hdrs = {"method": self.command, "path": self.path,
                "Content-Type": self.headers.get("Content-Type"),
                "User-Agent": self.headers.get("User-Agent")}
        with lock:
            received.setdefault(self.path, []).append((hdrs, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def config(cases):
    lines = ["route:", "  receiver: default", "  group_wait: 1s", "  group_interval: 2s",
             "  repeat_interval: 1h", "  routes:"]
    for c in cases:
        gb = ", ".join(c["group_by"])
        lines += ["  - receiver: %s" % c["name"], "    matchers: ['case=\"%s\"']" % c["name"],
                  "    group_by: [%s]" % gb]
    lines += ["receivers:", "- name: default"]
    for c in cases:
        lines += ["- name: %s" % c["name"], "  webhook_configs:",
                  "  - url: http://127.0.0.1:%d/%s" % (SINK_PORT, c["name"]),
                  "    send_resolved: %s" % ("true" if c.get("send_resolved", True) else "false"),
                  "    max_alerts: %d" % c.get("max_alerts", 0)]
    return "\n".join(lines) + "\n"


def post(alerts):
    req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % AM_PORT,
                                 data=json.dumps(alerts).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def wait_for(path, count, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        with lock:
            if len(received.get(path, [])) >= count:
                return received[path][count - 1]
        time.sleep(0.1)
    raise SystemExit("no notification %d for %s" % (count, path))


def main():
    cases = json.load(open(os.path.join(HERE, "cases.json")))
    srv = HTTPServer(("127.0.0.1", SINK_PORT), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    cfg = os.path.join(tmp, "am.yml")
    open(cfg, "w").write(config(cases))
    am = subprocess.Popen([AM, "--config.file=" + cfg, "--storage.path=" + tmp,
                           "--web.listen-address=127.0.0.1:%d" % AM_PORT,
                           "--cluster.listen-address=", "--web.external-url=" + EXTERNAL_URL],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % AM_PORT, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        first = None
        for c in cases:
            for i, phase in enumerate(c["phases"]):
                post(phase)
                hdrs, body = wait_for("/" + c["name"], i + 1)
                first = first or hdrs
                with open(os.path.join(HERE, "%s.%d.json" % (c["name"], i)), "wb") as f:
                    f.write(body)
        with open(os.path.join(HERE, "headers.json"), "w") as f:
            json.dump(first, f, indent=1, sort_keys=True)
            f.write("\n")
    finally:
        am.terminate()
        am.wait(10)
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

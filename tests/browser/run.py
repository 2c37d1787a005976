#!/usr/bin/env python3
"""Browser tests of the web UI (issue 13): starts the real alertrouter binary on a free
loopback port, under a route prefix and behind basic auth (--web.config.file), with a
webhook receiver "hook" that answers 500 until told otherwise (and "team", which answers 200,
so that every group has an incident) and a 2 s delivery deadline (so its
notification becomes a dead letter), posts alerts (XSS payloads among them), then runs
tests/browser/ui.test.js, which drives Debian's headless Chromium through puppeteer-core.

Exits 77 (ctest SKIP_RETURN_CODE) with a message when Chromium, Node.js or
tests/browser/node_modules is missing (scripts/bootstrap.sh installs them).

  --screenshots   also write docs/ui-*.png (1400x900, and the alerts page at 390 px)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

from harness import REPO_ROOT, FakeService, Server, poll  # noqa: E402

SKIP = 77
CHROMIUM = os.environ.get("AR_CHROMIUM", "/usr/bin/chromium")
# bcrypt of "secret" (the hash tests/e2e/09-web-config.py uses)
HASH_SECRET = "$2b$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u"
PREFIX = "/ar"

CONFIG = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 4h
  routes:
  - matchers: [severity="critical"]
    receiver: hook
receivers:
- name: team
  webhook_configs:
  - url: '%s'
- name: hook
  webhook_configs:
  - url: '%s'
"""

ALERTS = [
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
     "annotations": {"summary": "disk almost full", "runbook": "https://runbooks.example/disk"},
     "generatorURL": "http://prometheus.example/graph?g0.expr=disk"},
    {"labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db2"}},
    {"labels": {"alertname": "HighCPU", "severity": "warning", "instance": "web1"},
     "annotations": {"summary": "CPU busy"}},
    {"labels": {"alertname": "Xss", "severity": "warning",
                "payload": "<script>window.__pwned=1</script>"},
     "annotations": {"summary": "<img src=x onerror=\"window.__pwned=2\">",
                     "link": "javascript:window.__pwned=3",
                     "runbook": "https://runbooks.example/xss"},
     "generatorURL": "javascript:window.__pwned=4"},
]


def skip(why):
    print("SKIP: browser tests: %s (scripts/bootstrap.sh installs chromium, nodejs, npm and "
          "runs npm ci in tests/browser)" % why)
    sys.exit(SKIP)


class AuthServer(Server):
    """alertrouter behind basic auth; readiness is probed with the credentials."""

    AUTH = {"Authorization": "Basic dWk6c2VjcmV0"}  # ui:secret

    def __init__(self, config, **kw):
        super().__init__("alertrouter", config, start=False, **kw)
        web = os.path.join(self.tmp, "web.yml")
        with open(web, "w") as f:
            f.write("basic_auth_users:\n  ui: %s\n" % HASH_SECRET)
        self.extra_args.append("--web.config.file=" + web)

    def wait_ready(self, timeout):
        poll(lambda: self.proc.poll() is None and
             self.request("GET", "/-/ready", headers=self.AUTH).status == 200,
             timeout=timeout, what="ready behind basic auth")
        self.ready_at = time.monotonic()


def main():
    shots = "--screenshots" in sys.argv
    if not os.access(CHROMIUM, os.X_OK):
        skip("no Chromium at %s" % CHROMIUM)
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        skip("no node in PATH")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "puppeteer-core")):
        skip("tests/browser/node_modules/puppeteer-core missing (run npm ci there)")

    state = {"ok": False}
    lock = threading.Lock()

    def reply(method, path, body, n):
        if path.startswith("/control/ok"):
            with lock:
                state["ok"] = True
            return 200, "text/plain", b"ok"
        if path.startswith("/team"):
            return 200, "text/plain", b""
        with lock:
            ok = state["ok"]
        return (200, "text/plain", b"") if ok else (500, "text/plain", b"sink says no")

    sink = FakeService(reply)
    srv = AuthServer(CONFIG % (sink.url("/team"), sink.url("/hook")), route_prefix=PREFIX,
                     args=["--notify.deadline=2s"])
    rc = 1
    try:
        srv.start()
        import json
        r = srv.request("POST", "/api/v2/alerts", body=json.dumps(ALERTS),
                        headers=dict(AuthServer.AUTH, **{"Content-Type": "application/json"}))
        if r.status != 200:
            print("FAIL: posting alerts: %d %s" % (r.status, r.text()))
            return 1
        env = dict(os.environ)
        env.update({
            "AR_ORIGIN": "http://127.0.0.1:%d" % srv.port,
            "AR_PREFIX": PREFIX,
            "AR_USER": "ui",
            "AR_PASS": "secret",
            "AR_SINK": sink.url(""),
            "AR_CHROMIUM": CHROMIUM,
            "AR_SHOTS": os.path.join(REPO_ROOT, "docs") if shots else "",
        })
        p = subprocess.run([node, os.path.join(HERE, "ui.test.js")], env=env, cwd=HERE,
                           timeout=540)
        rc = p.returncode
        if rc != 0 and os.environ.get("AR_E2E_VERBOSE") != "0":
            print("--- server log tail ---\n" + srv.log_tail(40))
    finally:
        srv.cleanup()
        sink.close()
    report = srv.sanitizer_report()
    if report:
        print("FAIL: sanitizer report from the server:\n" + report)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())

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
each builder's output byte for byte. Pushover and the PagerDuty v1 API post to fixed https
URLs in 0.25: those integrations use http_config.proxy_url pointing at a local CONNECT proxy
that terminates TLS with a throwaway CA made here (tls_config.ca_file), so their requests
are recorded too (PagerDuty v1 is stored as type "pagerduty1", the receiver's second
PagerDuty integration).

Cases: the seed alert monitor_service_down (firing, then resolved), a mixed group with a
firing and a resolved alert, and an HTML-hostile/unicode group.

Usage: python3 capture_chat.py     Only processes started here are stopped, by PID.
"""
import json
import os
import shutil
import socket
import ssl
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
PROXY_PORT = 19395
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

TYPES = ["slack", "discord", "telegram", "webex", "pagerduty", "opsgenie", "victorops",
         "pushover", "pagerduty1"]


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
            "  - service_key: 'pdv1-%s-secret'" % n,
            "    http_config: {proxy_url: 'http://127.0.0.1:%d', tls_config: {ca_file: '%s'}}"
            % (PROXY_PORT, CA_PATH)]
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
        lines += [
            "  pushover_configs:",
            "  - user_key: 'po-%s-user'" % n,
            "    token: 'po-%s-token'" % n,
            "    http_config: {proxy_url: 'http://127.0.0.1:%d', tls_config: {ca_file: '%s'}}"
            % (PROXY_PORT, CA_PATH)]
        if n == "hostile":
            lines += [
                "    html: true",
                "    url_title: 'T <&>'",
                "    sound: siren"]
    return "\n".join(lines) + "\n"


# ---- CONNECT proxy terminating TLS for the fixed https endpoints --------------------------

CA_PATH = "/tmp/ar-capture-chat-ca.pem"  # replaced in main() (a temp dir)
HOSTS = {"api.pushover.net": "pushover", "events.pagerduty.com": "pagerduty1"}


def make_certs(tmp):
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=capture CA", "-keyout", ca_key, "-out", ca],
                   check=True, capture_output=True)
    key, csr, crt = [os.path.join(tmp, x) for x in ("srv.key", "srv.csr", "srv.pem")]
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=capture",
                    "-keyout", key, "-out", csr], check=True, capture_output=True)
    ext = os.path.join(tmp, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + h for h in HOSTS) + "\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                    "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt],
                   check=True, capture_output=True)
    return ca, crt, key


def read_request(f):
    line = f.readline().decode("latin-1").rstrip("\r\n")
    if not line:
        return None
    method, path, _ = line.split(" ", 2)
    headers = {}
    while True:
        h = f.readline().decode("latin-1").rstrip("\r\n")
        if not h:
            break
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    n = int(headers.get("Content-Length", "0"))
    body = f.read(n) if n else b""
    return method, path, headers, body


def proxy_conn(conn, tls_ctx):
    try:
        f = conn.makefile("rb")
        req = read_request(f)
        if req is None or req[0] != "CONNECT":
            return
        host = req[1].split(":")[0]
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tconn = tls_ctx.wrap_socket(conn, server_side=True)
        tf = tconn.makefile("rb")
        while True:
            r = tconn and read_request(tf)
            if r is None:
                break
            method, path, headers, body = r
            meta = {"method": method, "path": path}
            for h in ("Content-Type", "User-Agent", "Authorization"):
                if headers.get(h) is not None:
                    meta[h] = headers[h]
            raw = path.encode() + body
            case = next((c["name"] for c in CASES
                         if ("-%s-" % c["name"]).encode() in raw), "?")
            with lock:
                received.setdefault((case, HOSTS.get(host, host)), []).append((meta, body))
            reply = b'{"status":1,"request":"x"}'
            tconn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(reply) + reply)
    except Exception as e:  # a capture tool: report and go on
        print("proxy:", e, file=sys.stderr)
    finally:
        conn.close()


def proxy_serve(lsock, tls_ctx):
    while True:
        try:
            conn, _ = lsock.accept()
        except OSError:
            return
        threading.Thread(target=proxy_conn, args=(conn, tls_ctx), daemon=True).start()


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
    global CA_PATH
    CA_PATH, crt, key = make_certs(tmp)
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(crt, key)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", PROXY_PORT))
    lsock.listen(16)
    threading.Thread(target=proxy_serve, args=(lsock, tls_ctx), daemon=True).start()
    text = config()
    with open(os.path.join(HERE, "chat.yml"), "w") as f:
        f.write(text.replace(CA_PATH, "tls/ca.pem"))
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

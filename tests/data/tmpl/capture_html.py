#!/usr/bin/env python3
"""Captures how Alertmanager 0.25 escapes template output in e-mail HTML bodies.

Reads html/texts.json (template texts), starts /usr/bin/prometheus-alertmanager on loopback
with one e-mail config per text (used as the `html` body, which Alertmanager renders with
Go's html/template) and records each decoded body (or the error) in html/out.json. The alert
data is the same as funcs/ (capture_funcs.py). Only the process started here is stopped, by
PID. Usage: python3 capture_html.py
"""
import email
import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.request

AM = "/usr/bin/prometheus-alertmanager"
AM_PORT = 19213
SMTP_PORT = 19215
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "html")
mails = []


class SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self):
        w = self.wfile
        w.write(b"220 sink ESMTP\r\n")
        data, buf = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data:
                if line in (b".\r\n", b".\n"):
                    data = False
                    mails.append(b"".join(buf))
                    buf = []
                    w.write(b"250 ok\r\n")
                else:
                    buf.append(line[1:] if line.startswith(b"..") else line)
                continue
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                w.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif cmd.startswith(b"DATA"):
                data = True
                w.write(b"354 go\r\n")
            elif cmd.startswith(b"QUIT"):
                w.write(b"221 bye\r\n")
                return
            else:
                w.write(b"250 ok\r\n")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def main():
    texts = json.load(open(os.path.join(HERE, "texts.json")))
    smtpd = Server(("127.0.0.1", SMTP_PORT), SMTPHandler)
    threading.Thread(target=smtpd.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    configs = [{"to": "a@example.org", "from": "am@example.org", "require_tls": False,
                "smarthost": "127.0.0.1:%d" % SMTP_PORT, "send_resolved": True,
                "headers": {"X-Idx": str(i)}, "html": t} for i, t in enumerate(texts)]
    cfg = {"route": {"receiver": "team.mail", "group_by": ["alertname"], "group_wait": "1s"},
           "receivers": [{"name": "team.mail", "email_configs": configs}]}
    with open(os.path.join(tmp, "am.yml"), "w") as f:
        json.dump(cfg, f)
    logpath = os.path.join(tmp, "log")
    proc = subprocess.Popen([AM, "--config.file=" + os.path.join(tmp, "am.yml"),
                             "--storage.path=" + tmp,
                             "--web.listen-address=127.0.0.1:%d" % AM_PORT,
                             "--cluster.listen-address=",
                             "--web.external-url=http://am.example:9093"],
                            stdout=subprocess.DEVNULL, stderr=open(logpath, "w"))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", AM_PORT), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        alerts = [
            {"labels": {"alertname": "monitor_service_down", "instance": "cadvisor:8080",
                        "job": "cadvisor", "monitor": "docker-host-alpha",
                        "severity": "critical"},
             "annotations": {"summary": "down"}, "generatorURL": "http://prometheus:9090/graph",
             "startsAt": "2026-11-27T09:21:51Z"},
            {"labels": {"alertname": "monitor_service_down", "instance": "other:1"},
             "annotations": {}, "generatorURL": "http://p/g",
             "startsAt": "2026-11-27T09:21:51.25Z", "endsAt": "2026-11-27T09:23:31Z"}]
        req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % AM_PORT,
                                     data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
        time.sleep(8)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        smtpd.shutdown()
        log = open(logpath).read()
        if os.environ.get("KEEP_LOG"):
            shutil.copy(logpath, "/tmp/capture_html.log")
        shutil.rmtree(tmp, ignore_errors=True)
    bodies = {}
    for raw in mails:
        msg = email.message_from_bytes(raw)
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                bodies[int(msg["X-Idx"])] = part.get_payload(decode=True).decode(
                    "utf-8").replace("\r\n", "\n")
    errs = {}
    for line in log.splitlines():
        m = re.search(r' err="(.*)"$', line)
        if "Notify for alerts failed" not in line or not m:
            continue
        e = m.group(1).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        for mm in re.finditer(r"team\.mail/email\[(\d+)\]: notify retry canceled due to "
                              r"unrecoverable error after 1 attempts: (.*?)"
                              r"(?=; team\.mail/email\[|$)", e):
            errs[int(mm.group(1))] = mm.group(2)
    out = [{"text": t, "am": bodies.get(i), "err": errs.get(i)} for i, t in enumerate(texts)]
    with open(os.path.join(HERE, "out.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%d texts, %d rendered, %d errors" % (len(texts), len(bodies), len(errs)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Captures how Alertmanager 0.25 renders individual template expressions.

Reads funcs/texts.json (a list of template texts), starts /usr/bin/prometheus-alertmanager on
loopback with one Slack config per text (the text goes into the Slack `text` field, rendered
with Go's text/template and Alertmanager's functions) plus a webhook, posts two alerts (one
firing, one already resolved) and records, in funcs/out.json, for every text either the
rendered output ("am") or Alertmanager's error message ("err"). funcs/data.json is the
webhook payload, i.e. the template data the texts were rendered with. Only the process
started here is stopped, by PID. Usage: python3 capture_funcs.py
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

AM = "/usr/bin/prometheus-alertmanager"
AM_PORT = 19203
SINK_PORT = 19204
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "funcs")

got = {}


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/webhook"):
            got["data"] = json.loads(body)
        else:
            got[int(self.path.rsplit("/", 1)[1])] = \
                json.loads(body)["attachments"][0].get("text", "")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def main():
    texts = json.load(open(os.path.join(HERE, "texts.json")))
    httpd = HTTPServer(("127.0.0.1", SINK_PORT), Sink)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    slack = [{"api_url": "http://127.0.0.1:%d/slack/%d" % (SINK_PORT, i), "channel": "#x",
              "send_resolved": True, "text": t} for i, t in enumerate(texts)]
    cfg = {"route": {"receiver": "team.mail", "group_by": ["alertname"], "group_wait": "1s"},
           "receivers": [{"name": "team.mail", "slack_configs": slack,
                          "webhook_configs": [{"url": "http://127.0.0.1:%d/webhook" %
                                               SINK_PORT}]}]}
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
        httpd.shutdown()
        log = open(logpath).read()
        if os.environ.get("KEEP_LOG"):
            shutil.copy(logpath, "/tmp/capture_funcs.log")
        shutil.rmtree(tmp, ignore_errors=True)
    errs = {}
    for line in log.splitlines():
        m = re.search(r' err="(.*)"$', line)
        if "Notify for alerts failed" not in line or not m:
            continue
        e = m.group(1).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        for mm in re.finditer(r"team\.mail/slack\[(\d+)\]: notify retry canceled due to "
                              r"unrecoverable error after 1 attempts: (.*?)"
                              r"(?=; team\.mail/slack\[|$)", e):
            errs[int(mm.group(1))] = mm.group(2)
    out = [{"text": t, "am": got.get(i), "err": errs.get(i)} for i, t in enumerate(texts)]
    with open(os.path.join(HERE, "out.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(HERE, "data.json"), "w") as f:
        json.dump(got["data"], f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print("%d texts, %d rendered, %d errors" % (len(texts), sum(1 for o in out if o["am"] is not
                                                                 None), len(errs)))


if __name__ == "__main__":
    main()

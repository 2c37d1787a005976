#!/usr/bin/env python3
"""The web UI at the size of issue 13: 10,000 alerts in 1,000 groups (group_by alertname).

Starts alertrouter on a free loopback port (tests/e2e/harness.py), posts the alerts, then
runs bench/ui.js in headless Chromium (puppeteer-core from tests/browser/node_modules):
time to the first painted groups, time to apply a filter, and the server's CPU while one tab
keeps the alerts page open (it polls every 5 s) against the same span with no tab, from
/proc/PID/stat (utime + stime). Targets: first groups <= 1 s, filter <= 100 ms, polling
<= 1 % of a core.

  python3 bench/ui.py                    # 60 s idle + 60 s with the tab
  python3 bench/ui.py --hold 20 --json /tmp/ui.json
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from harness import Server  # noqa: E402

CONFIG = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
"""


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def alerts(n, groups):
    out = []
    for i in range(n):
        g = i % groups
        out.append({"labels": {"alertname": "Bench%04d" % g, "instance": "host-%05d" % i,
                               "job": "node", "severity": ("critical", "warning")[i % 2],
                               "team": "team-%d" % (g % 7)},
                    "annotations": {"summary": "alert %d of group %d" % (i, g),
                                    "runbook": "https://runbooks.example/bench/%d" % g},
                    "generatorURL": "http://prometheus.example/graph?g0.expr=up%%3D%%3D0&i=%d" % i})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--hold", type=float, default=60.0, help="seconds idle and with the tab")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(REPO, "tests", "browser", "node_modules")):
        sys.exit("needs node and tests/browser/node_modules (scripts/bootstrap.sh)")
    hz = os.sysconf("SC_CLK_TCK")
    srv = Server("alertrouter", CONFIG, start=False)
    try:
        srv.start()
        body = alerts(a.alerts, a.groups)
        for i in range(0, len(body), 2000):
            r = srv.post_alerts(body[i:i + 2000])
            assert r.status == 200, r
        pid = srv.proc.pid
        time.sleep(2)
        c0, t0 = cpu_ticks(pid), time.monotonic()
        time.sleep(a.hold)
        idle = (cpu_ticks(pid) - c0) / hz / (time.monotonic() - t0)
        env = dict(os.environ, AR_URL=srv.url, AR_EXPECT_GROUPS=str(a.groups),
                   AR_HOLD_S=str(a.hold))
        p = subprocess.Popen([node, os.path.join(HERE, "ui.js")], env=env,
                             stdout=subprocess.PIPE, text=True)
        res = {"alerts": a.alerts, "groups": a.groups, "idle_core_pct": round(idle * 100, 3)}
        for line in p.stdout:
            o = json.loads(line)
            if o.get("hold") == "start":
                c1, t1 = cpu_ticks(pid), time.monotonic()
            elif o.get("hold") == "end":
                busy = (cpu_ticks(pid) - c1) / hz / (time.monotonic() - t1)
                res["tab_core_pct"] = round(busy * 100, 3)
                res["polling_core_pct"] = round((busy - idle) * 100, 3)
            else:
                res.update(o)
            print(line.strip(), flush=True)
        if p.wait() != 0:
            sys.exit("bench/ui.js failed")
        sz = srv.get("/api/v2/alerts/groups")
        res["groups_json_bytes"] = len(sz.body)
        t = time.monotonic()
        for _ in range(10):
            srv.get("/api/v2/alerts/groups")
        res["groups_get_ms"] = round((time.monotonic() - t) * 100, 1)
    finally:
        srv.cleanup()
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""History benchmark (issue 12's targets), loopback only.

1. Recording cost: `history_bench cost` (bench/history_bench.c) times the storage writer's
   commits of 100 ~890-byte alerts with and without one history event each; the difference
   is the CPU per recorded state change (median of --repeats runs).
2. Query time: `history_bench fill` writes EVENTS state changes spread over DAYS into a fresh
   database with the storage module's own writer (store_add_alert_event: the real block
   format), because a live server records every event at the time it receives it and a
   month of history cannot be posted in minutes; the real binary is then started on that
   database and queried over HTTP: a one-day window in the middle of the month with a
   matcher on one alert name (about 1/200 of the events, so the whole day is scanned for a
   1,000-event page), with a regex matcher, with a receiver filter, without filters, and a
   second page through the cursor. Whole reply read; median and max of --queries runs after
   one warm-up run per case (the steady state of a server whose database is in the page
   cache).

Usage:
    python3 bench/history.py                    # 1,000,000 events over 30 days
    python3 bench/history.py --events 100000    # quicker
    AR_BINARY=build/alertrouter HISTORY_BENCH=build/bench/history_bench python3 bench/history.py
The helper is built with `cmake --build build --target history_bench`.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CONFIG = """\
route:
  receiver: team
  routes:
  - receiver: oncall
    matchers: ['severity="critical"']
receivers:
- name: team
- name: oncall
"""


def find(env, *candidates):
    if os.environ.get(env):
        return os.environ[env]
    for c in candidates:
        p = os.path.join(REPO, c)
        if os.path.exists(p):
            return p
    sys.exit("%s not found; set %s" % (candidates[0], env))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def get(port, path, params):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    c.request("GET", path + "?" + urllib.parse.urlencode(params, doseq=True))
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        raise SystemExit("GET %s %r: %d %s" % (path, params, r.status, body[:300]))
    return dt, json.loads(body)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1000000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--queries", type=int, default=15)
    p.add_argument("--repeats", type=int, default=5, help="runs of the cost measure")
    p.add_argument("--keep", action="store_true", help="keep the database directory")
    args = p.parse_args()
    binary = find("AR_BINARY", "build/alertrouter", "build-dev/alertrouter")
    helper = find("HISTORY_BENCH", "build/bench/history_bench", "build-dev/bench/history_bench")

    costs = []
    for _ in range(args.repeats):
        out = subprocess.run([helper, "cost", "500"], capture_output=True, check=True).stdout
        costs.append(json.loads(out))
    per_event = statistics.median(c["history_us_per_event"] for c in costs)
    print(json.dumps({"measure": "record", "history_us_per_event_median": round(per_event, 3),
                      "runs": [c["history_us_per_event"] for c in costs]}))

    tmp = tempfile.mkdtemp(prefix="ar-history-bench-")
    srv = None
    try:
        data = os.path.join(tmp, "data")
        t0 = time.time()
        out = subprocess.run([helper, "fill", data, str(args.events), str(args.days)],
                             capture_output=True, check=True).stdout
        fill = json.loads(out)
        fill["wall_s"] = round(time.time() - t0, 1)
        fill["db_mib"] = round(os.path.getsize(os.path.join(data, "alertrouter.db")) / 2**20, 1)
        print(json.dumps(dict(measure="fill", **fill)))

        conf = os.path.join(tmp, "am.yml")
        with open(conf, "w") as f:
            f.write(CONFIG)
        port = free_port()
        log = open(os.path.join(tmp, "log"), "w")
        srv = subprocess.Popen([binary, "--config.file=" + conf, "--storage.path=" + data,
                                "--web.listen-address=127.0.0.1:%d" % port,
                                "--cluster.listen-address="], stdout=log, stderr=log)
        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/-/ready")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("server not ready")
            time.sleep(0.1)

        day0 = time.time() - args.days * 86400 / 2
        window = {"from": iso(day0), "to": iso(day0 + 86400)}
        cases = [
            ("one day, alertname=\"HighRequestLatency42\", limit 1000",
             dict(window, filter='alertname="HighRequestLatency42"', limit=1000)),
            ("one day, alertname=\"HighRequestLatency42\", default limit 100",
             dict(window, filter='alertname="HighRequestLatency42"')),
            ("one day, two matchers (name and instance), limit 1000",
             dict(window, filter=['alertname="HighRequestLatency42"', 'instance="10.1.42.7:9100"'],
                  limit=1000)),
            ("one day, alertname=~\"HighRequestLatency4.\", limit 1000",
             dict(window, filter='alertname=~"HighRequestLatency4."', limit=1000)),
            ("one day, receiver=oncall, limit 1000", dict(window, receiver="oncall", limit=1000)),
            ("one day, no filter, limit 100", dict(window)),
            ("one day, no filter, limit 1000, oldest first", dict(window, limit=1000, order="oldest")),
        ]
        for name, params in cases:
            times = []
            n = 0
            get(port, "/api/x/history/alerts", params)  # warm-up: pages into the cache
            for _ in range(args.queries):
                dt, body = get(port, "/api/x/history/alerts", params)
                times.append(dt * 1000)
                n = len(body["events"])
            print(json.dumps({"measure": "query", "case": name, "events": n,
                              "median_ms": round(statistics.median(times), 1),
                              "max_ms": round(max(times), 1)}))
        # the second page of the unfiltered day through its cursor
        _, first = get(port, "/api/x/history/alerts", dict(window))
        times = []
        for _ in range(args.queries):
            dt, body = get(port, "/api/x/history/alerts", dict(window, cursor=first["nextCursor"]))
            times.append(dt * 1000)
        print(json.dumps({"measure": "query", "case": "one day, no filter, second page (cursor)",
                          "events": len(body["events"]),
                          "median_ms": round(statistics.median(times), 1),
                          "max_ms": round(max(times), 1)}))
    finally:
        if srv is not None:
            srv.terminate()
            srv.wait(timeout=30)
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""kill -9 in the middle of a webhook fan-out, then restart: how many groups were lost, how
many notified twice, and how many of those had a send on the wire at the kill (issue #17,
COMPAT 5.9). alertrouter only (Alertmanager keeps no alerts across a restart). Loopback only,
bounded in count and time.

    python3 bench/crash_fanout.py                 # 2,000 groups, 3 runs
    python3 bench/crash_fanout.py --groups 500 --runs 1

Each run: POST N alerts (one group each, group_wait 200ms) to a fresh server whose webhook
sink answers after --delay seconds, wait until --kill-after bodies arrived (plus 0.45 s),
kill -9, wait for the bodies already written to reach the sink, restart against a fast sink,
wait until every group was notified and two more group_interval ticks passed, then count.
The same checks run in the suite as tests/e2e/08-restart-nflog.py
kill9-mid-fanout-sends-each-group-once (400 groups)."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import harness  # noqa: E402

CONF = """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: default
  webhook_configs:
  - url: '%s'
"""


def one_run(n, delay, kill_after):
    slow = {"on": True}
    sink = harness.WebhookSink(delay_fn=lambda path, idx: delay if slow["on"] else 0)
    srv = harness.Server("alertrouter", CONF % sink.url())
    try:
        srv.start()
        t0 = time.monotonic()
        now = harness.ts(0)
        alerts = [harness.alert({"alertname": "G%05d" % i}, starts=now) for i in range(n)]
        for i in range(0, n, 500):
            srv.post_ok(alerts[i:i + 500])
        sink.wait_for(kill_after, timeout=60)
        time.sleep(0.45)
        srv.kill9()
        t_kill = time.monotonic() - t0
        time.sleep(0.5)
        with sink.cond:
            on_wire = {p["groupKey"] for (_t, _p, _b, p) in sink.received}
        slow["on"] = False
        srv.start()
        want = {'{}:{alertname="G%05d"}' % i for i in range(n)}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with sink.cond:
                keys = {p["groupKey"] for (_t, _p, _b, p) in sink.received}
            if want <= keys:
                break
            time.sleep(0.1)
        time.sleep(2.5)
        counts = {}
        with sink.cond:
            for (_t, _p, _b, p) in sink.received:
                counts[p["groupKey"]] = counts.get(p["groupKey"], 0) + 1
        twice = [k for k, c in counts.items() if c > 1]
        return {
            "groups": n,
            "kill_at_s": round(t_kill, 2),
            "on_wire_at_kill": len(on_wire),
            "lost": len(want - set(counts)),
            "notified_twice": len(twice),
            "notified_3_or_more": sum(1 for k in twice if counts[k] > 2),
            "twice_not_on_wire": sum(1 for k in twice if k not in on_wire),
        }
    finally:
        srv.cleanup()
        sink.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--delay", type=float, default=0.3, help="sink reply delay before the kill")
    ap.add_argument("--kill-after", type=int, default=300, help="bodies received before the kill")
    a = ap.parse_args()
    if not 1 <= a.groups <= 20000 or not 1 <= a.runs <= 10:
        ap.error("--groups 1..20000, --runs 1..10")
    for _ in range(a.runs):
        print(json.dumps(one_run(a.groups, a.delay, min(a.kill_after, a.groups))), flush=True)


if __name__ == "__main__":
    main()

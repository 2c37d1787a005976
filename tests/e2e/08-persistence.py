#!/usr/bin/env python3
"""Persistence of alerts across restarts (alertrouter extension: Alertmanager keeps
alerts in memory only). kill -9 right after a 200, kill -9 in the middle of many
concurrent posts, SIGTERM restart, and garbage collection of resolved alerts.

The GC cases use a merge probe to see an alert that the API no longer lists:
re-posting the labels with a startsAt inside the old [startsAt, endsAt] keeps the
old (earlier) startsAt when the old alert is still stored (COMPAT 2.3 overlap), and
takes the new startsAt when it was deleted."""

import http.client
import json
import threading
import time

from harness import Suite, alert, check, eq, epoch, fingerprint, poll, ts, Fail

suite = Suite("08-persistence")

STRIP = ("status", "receivers")


def snapshot(srv):
    return {a["fingerprint"]: a for a in srv.alerts()}


@suite.case("kill9-right-after-200", only="alertrouter")
def kill9_after_200(ctx):
    srv = ctx.server()
    first = [alert({"alertname": "p1", "i": str(i)}, {"summary": "first %d" % i, "description": "d" * 50},
                   starts=ts(-3600 + i), url="http://prom/graph?i=%d" % i) for i in range(5)]
    srv.post_ok(first)
    before = snapshot(srv)
    eq(len(before), 5, "first batch listed")
    s2, e2 = ts(-120), ts(3600)
    second = [
        alert({"alertname": "p2", "k": "explicit"}, {"summary": "explicit times"}, starts=s2, ends=e2,
              url="http://prom/x"),
        alert({"alertname": "p2", "k": "open"}, {"summary": "no times"}),
        alert({"alertname": "p2", "k": "tz"}, starts="2026-01-01T10:00:00.123+02:00"),
    ]
    t0 = time.time()
    srv.post_ok(second)
    t1 = time.time()
    srv.kill9()
    srv.start()
    after = snapshot(srv)
    eq(len(after), 8, "alerts after kill -9 and restart")
    for fp, a in before.items():
        check(fp in after, "alert %s lost" % fp)
        eq(after[fp], a, "alert %s after restart" % fp)
    by_k = {a["labels"]["k"]: a for a in after.values() if a["labels"]["alertname"] == "p2"}
    eq(sorted(by_k), ["explicit", "open", "tz"], "second batch present")
    ex = by_k["explicit"]
    eq((ex["startsAt"], ex["endsAt"], ex["annotations"], ex["generatorURL"]),
       (s2, e2, {"summary": "explicit times"}, "http://prom/x"), "explicit alert fields")
    op = by_k["open"]
    eq(round(epoch(op["endsAt"]) - epoch(op["startsAt"]), 3), 300.0, "open alert endsAt = startsAt + 5m")
    for a in by_k.values():
        u = epoch(a["updatedAt"])
        check(t0 - 0.002 <= u <= t1 + 0.002, "updatedAt %s not the post time" % a["updatedAt"])
    eq(by_k["tz"]["startsAt"], "2026-01-01T10:00:00.123+02:00", "client offset kept across restart")
    # The timeout flag survives too: a later firing post with an earlier explicit end wins
    # over the stored guess (COMPAT 2.3), which it would not if the flag were lost.
    e_new = ts(60)
    srv.post_ok([alert({"alertname": "p2", "k": "open"}, ends=e_new, starts=op["startsAt"])])
    got = [a for a in srv.alerts() if a["labels"].get("k") == "open"][0]
    eq(got["endsAt"], e_new, "timeout flag persisted (endsAt after merge)")


@suite.case("sigterm-restart", only="alertrouter")
def sigterm_restart(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "t", "i": str(i)}, {"summary": "x"}) for i in range(50)])
    before = snapshot(srv)
    rc = srv.stop()
    eq(rc, 0, "exit status after SIGTERM")
    srv.start()
    eq(snapshot(srv), before, "alerts after SIGTERM restart")


@suite.case("kill9-mid-stream", only="alertrouter")
def kill9_mid_stream(ctx):
    srv = ctx.server()
    ok = []
    ok_lock = threading.Lock()
    stop = threading.Event()

    def worker(t):
        i = 0
        conn = None
        while not stop.is_set() and i < 5000:
            labels = [{"alertname": "mid", "t": str(t), "i": str(i), "j": str(j)} for j in range(5)]
            body = json.dumps([alert(l, {"summary": "s"}) for l in labels])
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
                conn.request("POST", "/api/v2/alerts", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    with ok_lock:
                        ok.extend(labels)
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                if stop.is_set():
                    break
                time.sleep(0.01)
            i += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(8)]
    for th in threads:
        th.start()
    poll(lambda: len(ok) >= 2000, timeout=30, what="2000 acknowledged alerts")
    srv.kill9()
    stop.set()
    for th in threads:
        th.join(10)
    acked = {fingerprint(l) for l in ok}
    srv.start()
    present = {a["fingerprint"] for a in srv.alerts()}
    missing = acked - present
    check(not missing, "%d of %d acknowledged alerts missing after kill -9 (e.g. %s)"
          % (len(missing), len(acked), sorted(missing)[:3]))
    ctx.note("%d acknowledged, %d present" % (len(acked), len(present)))


def probe_start(srv, labels, new_start):
    """Posts labels with startsAt=new_start and returns the resulting startsAt."""
    srv.post_ok([alert(labels, starts=new_start)])
    got = [a for a in srv.alerts() if a["labels"] == labels]
    eq(len(got), 1, "probe alert listed")
    return got[0]["startsAt"]


def wait_gc(srv, labels, s_old, timeout=10):
    """Probes until the resolved alert is gone; a failed probe revived the alert, so it
    is resolved again (end in the past) to give the collector another chance."""
    def attempt():
        p = ts(-30)
        if probe_start(srv, labels, p) == p:
            return True
        srv.post_ok([alert(labels, starts=s_old, ends=ts(-0.1))])
        return False
    poll(attempt, timeout=timeout, interval=0.5, what="GC of resolved alert %r" % labels)


@suite.case("probe-sees-resolved-alert")
def probe_without_gc(ctx):
    # Proves the probe on both servers: a resolved, not yet collected alert merges.
    srv = ctx.server()
    A = {"alertname": "gcA"}
    s_old = ts(-60)
    srv.post_ok([alert(A, starts=s_old, ends=ts(-1))])
    eq(srv.alerts(), [], "resolved alert not listed")
    eq(probe_start(srv, A, ts(-30)), s_old, "startsAt after probing a stored resolved alert")


@suite.case("gc-removes-resolved")
def gc_in_memory(ctx):
    srv = ctx.server(gc_interval="1s")
    A = {"alertname": "gcA"}
    s_old = ts(-60)
    srv.post_ok([alert(A, starts=s_old, ends=ts(-0.1))])
    eq(srv.alerts(), [], "resolved alert not listed")
    wait_gc(srv, A, s_old)


@suite.case("gc-deletion-survives-restart", only="alertrouter")
def gc_restart(ctx):
    srv = ctx.server(gc_interval="1s")
    A = {"alertname": "gcA"}
    B = {"alertname": "gcB"}
    C = {"alertname": "gcC"}
    s_old = ts(-60)
    srv.post_ok([alert(A, starts=s_old, ends=ts(-0.1)), alert(B, starts=s_old, ends=ts(-0.1)),
                 alert(C, {"keep": "me"}, starts=ts(-60))])
    # Once B was collected in memory, a GC run has happened after A resolved too.
    wait_gc(srv, B, s_old)
    c_before = [a for a in srv.alerts() if a["labels"] == C]
    eq(len(c_before), 1, "firing alert C listed")
    srv.kill9()
    srv.start()
    p = ts(-30)
    eq(probe_start(srv, A, p), p, "A (GC'd before restart) must not come back: startsAt after probe")
    eq([a for a in srv.alerts() if a["labels"] == C], c_before, "firing alert C kept")


if __name__ == "__main__":
    suite.main()

#!/usr/bin/env python3
"""The flush claim (issue 14, docs/ha.md "The flush claim in the pipeline") with a real
PostgreSQL (tests/e2e/pg.py) and two or three alertrouter instances on one configuration,
every alert posted to every instance, one webhook sink counting deliveries per group and
state:

- each notification arrives once; the other instances count their claims as lost;
- takeover: the sink accepts the first request and never answers it, the instance that sent
  it is killed with SIGKILL, another instance delivers the notification after the lease;
- PostgreSQL stopped: every notification still arrives (duplicates allowed, none lost), and
  once PostgreSQL is back the sends are recorded as done claims;
- a fan-out of many groups is claimed in batches, not one round trip per group;
- a stop keeps the claims of the sends it cancels, and the restarted owner resumes them.

Skipped, saying so, where PostgreSQL is not installed."""

import json
import threading
import time

from harness import Suite, alert, check, eq, poll, ts
from pg import Postgres

suite = Suite("28-ha-claims")

_PG = []


def pg():
    if not _PG:
        _PG.append(Postgres().start())
    return _PG[0]


def config(sink_url, group_interval="2s"):
    return """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: %s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: %s
""" % (group_interval, sink_url)


def instances(ctx, n, db, sink, lease="30s", extra=()):
    args = ["--storage.url=" + pg().url(db), "--cluster.claim-lease=" + lease] + list(extra)
    return [ctx.server(config(sink.url("/hook")), args=args) for _ in range(n)]


def claims(srv):
    """alertrouter_flush_claims_total by result."""
    out = {}
    for line in srv.get("/metrics").text().splitlines():
        if line.startswith("alertrouter_flush_claims_total{"):
            result = line.split('result="')[1].split('"')[0]
            out[result] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("alertrouter_flush_claim_round_trips_total "):
            out["round_trips"] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("alertrouter_flush_claims_reconciled_total "):
            out["reconciled"] = int(float(line.rsplit(" ", 1)[1]))
    return out


def decided(c):
    return sum(c.get(k, 0) for k in ("won", "lost", "unclaimed", "takeover"))


def deliveries(sink):
    """{(alertname, status): count} of the notifications received."""
    counts = {}
    for _, _, _, body in list(sink.received):
        if body is None:
            continue
        key = (body["groupLabels"].get("alertname"), body["status"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def post_all(servers, alerts):
    for s in servers:
        s.post_ok(alerts)


def firing(names):
    return [alert({"alertname": n, "instance": "i1"}) for n in names]


def resolved(names):
    return [alert({"alertname": n, "instance": "i1"}, starts=ts(-60), ends=ts(-1))
            for n in names]


@suite.case("each notification is sent once by three instances", only="alertrouter")
def once(ctx):
    pg().createdb("ar_once")
    sink = ctx.sink()
    servers = instances(ctx, 3, "ar_once", sink)
    names = ["Once%02d" % i for i in range(20)]
    post_all(servers, firing(names))
    poll(lambda: sum(v for (n, st), v in deliveries(sink).items() if st == "firing") >= 20,
         timeout=60, what="20 firing notifications")
    # every instance has decided every group's claim at least once
    poll(lambda: all(decided(claims(s)) >= 20 for s in servers), timeout=60,
         what="every instance's claims decided")
    post_all(servers, resolved(names))
    poll(lambda: sum(v for (n, st), v in deliveries(sink).items() if st == "resolved") >= 20,
         timeout=60, what="20 resolved notifications")
    # the resolved ones are claimed by instances whose log holds the firing notification
    # (the winners: the others never notified it, COMPAT 5.7); wait until all are done
    poll(lambda: sum(claims(s).get("won", 0) for s in servers) >= 40, timeout=60,
         what="40 claims won")
    poll(lambda: pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NULL",
                           dbname="ar_once")[1] == "0", timeout=30, what="every claim done")
    got = deliveries(sink)
    for n in names:
        eq(got.get((n, "firing")), 1, "firing notifications of %s" % n)
        eq(got.get((n, "resolved")), 1, "resolved notifications of %s" % n)
    stats = [claims(s) for s in servers]
    ctx.note("claims per instance: %s" % stats)
    eq(sum(c.get("won", 0) for c in stats), 40, "claims won across the cluster")
    eq(sum(c.get("unclaimed", 0) for c in stats), 0, "unclaimed sends")
    for c in stats:
        check(c.get("lost", 0) + c.get("won", 0) >= 20, "an instance skipped deciding: %s", c)
    check(sum(c.get("lost", 0) for c in stats) >= 40, "lost claims: %s", stats)
    eq(pg().psql("SELECT count(*) FROM flush_claims", dbname="ar_once")[1], "40",
       "claims (one per group and state)")
    # each state's notification log row is published once, by its sender: an instance that
    # found the claim done records the state itself and does not publish it again
    poll(lambda: int(pg().psql("SELECT count(*) FROM nflog", dbname="ar_once")[1]) >= 40,
         timeout=10, what="40 notification log rows")
    time.sleep(1)
    eq(pg().psql("SELECT count(*) FROM nflog", dbname="ar_once")[1], "40",
       "published notification log rows")


@suite.case("takeover: the sender dies mid-send, another delivers after the lease",
            only="alertrouter")
def takeover(ctx):
    pg().createdb("ar_takeover")
    hang = threading.Event()

    def delay(path, idx):
        if idx == 0:
            hang.wait(120)  # accepts the first request and never answers it (in time)
        return 0

    sink = ctx.sink(delay_fn=delay)
    try:
        servers = instances(ctx, 3, "ar_takeover", sink, lease="3s",
                            extra=["--notify.deadline=60s"])
        post_all(servers, firing(["Taken"]))
        sink.wait_for(1, timeout=30)
        sender = poll(lambda: [s for s in servers if claims(s).get("won", 0) >= 1], timeout=30,
                      what="the instance that won the claim")
        eq(len(sender), 1, "instances that won the claim")
        sender = sender[0]
        owner_rows = pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NULL",
                               dbname="ar_takeover")[1]
        eq(owner_rows, "1", "open claims while the first request hangs")
        t0 = time.monotonic()
        sender.kill9()
        others = [s for s in servers if s is not sender]
        sink.wait_for(2, timeout=60)
        ctx.note("delivered again %.1fs after the kill (lease 3s)" % (time.monotonic() - t0))
        body = sink.received[1][3]
        eq(body["groupLabels"], {"alertname": "Taken"}, "the second request's group")
        eq(body["status"], "firing", "the second request's status")
        poll(lambda: sum(claims(s).get("takeover", 0) for s in others) == 1, timeout=30,
             what="one takeover")
        poll(lambda: pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NOT NULL",
                               dbname="ar_takeover")[1] == "1", timeout=30,
             what="the taken-over claim done")
        eq(len(sink.received), 2, "requests (the hung one and the delivery)")
    finally:
        hang.set()


@suite.case("a retrying sender renews its lease: no takeover, delivered once", only="alertrouter")
def renewal(ctx):
    pg().createdb("ar_renew")
    t_first = []
    answered_ok = []

    def status(path, idx):
        # failing (retryable 500) for 7 s from the first request: more than twice the lease
        if not t_first:
            t_first.append(time.monotonic())
        if time.monotonic() - t_first[0] < 7:
            return 500
        answered_ok.append(idx)
        return 200

    sink = ctx.sink(status_fn=status)
    servers = instances(ctx, 2, "ar_renew", sink, lease="3s", extra=["--notify.deadline=60s"])
    post_all(servers, firing(["Renewed"]))
    poll(lambda: answered_ok, timeout=60, what="a delivery after the receiver recovered")
    poll(lambda: pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NOT NULL",
                           dbname="ar_renew")[1] == "1", timeout=30, what="the claim done")
    stats = [claims(s) for s in servers]
    ctx.note("requests %d (failed ones retried by one instance), claims %s" %
             (len(sink.received), stats))
    eq(len(answered_ok), 1, "requests answered 200")
    eq(sum(c.get("takeover", 0) for c in stats), 0, "takeovers")
    eq(sum(c.get("won", 0) for c in stats), 1, "claims won")
    check(sum(c.get("lost", 0) for c in stats) >= 2,
          "the other instance did not retry its claim while the lease was renewed: %s", stats)


@suite.case("a stop keeps the claim of a canceled send: the restarted owner resumes it, "
            "delivered once", only="alertrouter")
def restart_keeps_claim(ctx):
    pg().createdb("ar_restart")
    failing = threading.Event()
    failing.set()
    answered_ok = []

    def status(path, idx):
        if failing.is_set():
            return 500  # retryable: the winner keeps retrying until its stop
        answered_ok.append(idx)
        return 200

    sink = ctx.sink(status_fn=status)
    servers = instances(ctx, 2, "ar_restart", sink, lease="30s", extra=["--notify.deadline=60s"])
    post_all(servers, firing(["Resumed"]))
    sink.wait_for(1, timeout=30)
    sender = poll(lambda: [s for s in servers if claims(s).get("won", 0) >= 1], timeout=30,
                  what="the instance that won the claim")[0]
    other = [s for s in servers if s is not sender][0]
    sender.stop()  # SIGTERM while its send waits to be retried: the send is canceled
    failing.clear()
    # the other instance flushes the group again every group_interval (2 s): the kept claim
    # (lease 30 s) makes it skip; before, the stop released the claim, the other instance
    # took it over and delivered, and the restarted owner resumed and delivered again
    lost_before = claims(other).get("lost", 0)
    poll(lambda: claims(other).get("lost", 0) >= lost_before + 2, timeout=30,
         what="two more flushes of the other instance")
    eq(answered_ok, [], "deliveries while the owner is down and its claim live")
    sender.start()
    poll(lambda: answered_ok, timeout=30, what="the resumed delivery")
    poll(lambda: "re-submitting delivery" in sender.log_text(), timeout=10,
         what="the resumed delivery in the owner's log")
    poll(lambda: pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NOT NULL",
                           dbname="ar_restart")[1] == "1", timeout=30, what="the claim done")
    # the other instance's later flushes (every 2 s) see the owner's notification log entry
    # or its done claim, and send nothing
    time.sleep(5)
    eq(len(answered_ok), 1, "requests answered 200 (delivered once)")
    eq(claims(other).get("takeover", 0), 0, "takeovers by the other instance")
    eq(claims(sender).get("won", 0), 1, "claims the restarted owner won (its own, again)")


@suite.case("PostgreSQL stopped: every notification still arrives", only="alertrouter")
def outage(ctx):
    pg().createdb("ar_outage")
    sink = ctx.sink()
    servers = instances(ctx, 2, "ar_outage", sink)
    pg().stop()
    try:
        names = ["Outage%02d" % i for i in range(10)]
        post_all(servers, firing(names))
        poll(lambda: all(deliveries(sink).get((n, "firing"), 0) >= 1 for n in names),
             timeout=60, what="every firing notification during the outage")
        poll(lambda: all(claims(s).get("unclaimed", 0) >= 10 for s in servers), timeout=60,
             what="unclaimed sends on both instances")
        for s in servers:
            eq(s.get("/-/ready").status, 200, "ready during the outage")
    finally:
        pg().start()
    # back: the sends become done claims, once per key across the instances
    poll(lambda: sum(claims(s).get("reconciled", 0) for s in servers) == 10, timeout=60,
         what="outage sends recorded as done claims")
    eq(pg().psql("SELECT count(*) FROM flush_claims WHERE done_at IS NOT NULL",
                 dbname="ar_outage")[1], "10", "done claims after the outage")
    for s in servers:
        poll(lambda: "reachable again" in s.log_text(), timeout=30, what="the recovery line")
        text = s.log_text()
        eq(text.count("unreachable (noticed by"), 1, "outage lines in the log (said once)")
        eq(text.count("reachable again after"), 1, "recovery lines in the log")


@suite.case("a fan-out of many groups is claimed in batches", only="alertrouter")
def fanout(ctx):
    pg().createdb("ar_fanout")
    sink = ctx.sink()
    servers = instances(ctx, 2, "ar_fanout", sink)
    n = 1000
    names = ["Fan%04d" % i for i in range(n)]
    t0 = time.monotonic()
    post_all(servers, firing(names))
    poll(lambda: len(sink.received) >= n, timeout=120, what="%d notifications" % n)
    poll(lambda: all(decided(claims(s)) >= n for s in servers), timeout=120,
         what="every claim decided")
    took = time.monotonic() - t0
    stats = [claims(s) for s in servers]
    ctx.note("%d groups on 2 instances: %.1fs to deliver all, claim round trips %s" %
             (n, took, [c.get("round_trips") for c in stats]))
    got = deliveries(sink)
    eq(sum(got.values()), n, "notifications (each once)")
    for c in stats:
        check(c.get("round_trips", n) <= n // 10, "claims not batched: %s", c)


if __name__ == "__main__":
    try:
        suite.main()
    finally:
        for p in _PG:
            p.cleanup()

#!/usr/bin/env python3
"""Replication of silences and the notification log, and membership, on PostgreSQL (issue 14;
docs/ha.md "Replication of silences and the notification log" and "Membership"), against a
real PostgreSQL (tests/e2e/pg.py) and two alertrouter instances A and B started with the
same --storage.url:

- a silence posted to A is listed by B and mutes B's alerts (the measured delay is printed;
  target 1 s, asserted with a generous deadline); its expiry likewise; silences made on
  either survive restarting both instances;
- an alert notified by A is not notified again by B (the notification log is shared, so
  B's dedup rule sees A's send, COMPAT 5.7), while B still notifies an alert of its own;
- PostgreSQL stopped (immediate): both keep answering, /-/ready says degraded, the status
  says "settling" with the last known peers, a silence made on A is in force on A at once
  and reaches B once PostgreSQL is back; each log says "unreachable" once and "reachable
  again" once;
- the status lists both peers ("ready"), the metrics count them, and the password (from a
  file for A, PGPASSWORD for B) shows in no log and not in /api/v2/status.

Skipped, saying so, where PostgreSQL is not installed."""

import os
import re
import shutil
import tempfile
import time

from harness import Suite, alert, check, eq, poll, ts
from pg import Postgres

suite = Suite("27-ha-silences")

PASSWORD = "h4-S3cret'pw"
ROLE = "ar_ha"
PROPAGATION_DEADLINE = 10.0  # generous; the target is 1 s

_PG = []
_TMP = []


def _tmpdir():
    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="ar-e2e-27-"))
    return _TMP[0]


def pg():
    if not _PG:
        srv = Postgres().start()
        srv.add_password_role(ROLE, PASSWORD)
        _PG.append(srv)
    return _PG[0]


def config(sink=None):
    if sink is None:
        return "route:\n  receiver: team\nreceivers:\n- name: team\n"
    return """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
  webhook_configs:
  - url: '%s'
""" % sink.url()


def start_args(url, how, ctx):
    kw = {"args": ["--storage.url=" + url]}
    if how == "file":
        path = os.path.join(_tmpdir(), "password")
        with open(path, "w") as f:
            f.write(PASSWORD + "\n")
        kw["args"].append("--storage.password-file=" + path)
    else:
        kw["env"] = {"PGPASSWORD": PASSWORD}
    return kw


# ctx.server takes keyword arguments only
def _server(ctx, cfg, kw):
    return ctx.server(cfg, **kw)


def post_silence(srv, name, hours=1):
    r = srv.post_json("/api/v2/silences", {
        "matchers": [{"name": "alertname", "value": name, "isRegex": False, "isEqual": True}],
        "startsAt": ts(0), "endsAt": ts(hours * 3600), "createdBy": "e2e",
        "comment": "replication test"})
    eq(r.status, 200, "POST silence: %s" % r.text()[:200])
    return r.json()["silenceID"]


def silence_state(srv, sid):
    r = srv.get("/api/v2/silence/" + sid)
    if r.status != 200:
        return None
    return r.json()["status"]["state"]


def alert_state(srv, name):
    for a in srv.alerts():
        if a["labels"].get("alertname") == name:
            return a["status"]["state"], a["status"]["silencedBy"]
    return None, []


def timed(fn, what):
    t0 = time.monotonic()
    poll(fn, timeout=PROPAGATION_DEADLINE, interval=0.01, what=what)
    return time.monotonic() - t0


def status(srv):
    return srv.get_json("/api/v2/status")["cluster"]


def metric(srv, name):
    text = srv.get("/metrics").text()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def no_password(ctx, *servers):
    for s in servers:
        log = s.log_text()
        body = s.get("/api/v2/status").text()
        for secret in (PASSWORD, "S3cret"):
            check(secret not in log, "password in the log of %s", s.base_url)
            check(secret not in body, "password in /api/v2/status of %s", s.base_url)


@suite.case("a silence and its expiry reach the other instance; restarts keep them",
            only="alertrouter")
def silences(ctx):
    a, b = (_server(ctx, config(), start_args_for(ctx, "ar_sil", how)) for how in ("file", "env"))
    for s in (a, b):
        s.post_ok([alert({"alertname": "Muted", "i": "1"}, starts=ts(-10))])
    eq(alert_state(b, "Muted")[0], "active", "B's alert before the silence")

    sid = post_silence(a, "Muted")
    d_list = timed(lambda: silence_state(b, sid) == "active", "B lists A's silence")
    d_mute = timed(lambda: alert_state(b, "Muted") == ("suppressed", [sid]),
                   "B's alert muted by A's silence")
    print("silence A->B: listed by B after %.3f s, muting at most %.3f s later" % (d_list, d_mute))
    ctx.note("silence propagation %.3f s" % d_list)

    r = a.request("DELETE", "/api/v2/silence/" + sid)
    eq(r.status, 200, "DELETE silence on A")
    d_exp = timed(lambda: silence_state(b, sid) == "expired", "B sees the expiry")
    timed(lambda: alert_state(b, "Muted")[0] == "active", "B's alert active again")
    print("expiry A->B after %.3f s" % d_exp)

    # the other way round, and both survive restarting both instances
    sid2 = post_silence(b, "Other")
    d_back = timed(lambda: silence_state(a, sid2) == "active", "A lists B's silence")
    print("silence B->A: listed by A after %.3f s" % d_back)
    a.stop()
    b.stop()
    a.start()
    b.start()
    for s in (a, b):
        eq(silence_state(s, sid), "expired", "expired silence after restarting both")
        eq(silence_state(s, sid2), "active", "B's silence after restarting both")

    # membership: both instances, "ready"; the gauges count them
    names = poll(lambda: len(status(a)["peers"]) == 2 and status(a), timeout=15,
                 what="A lists two peers")
    eq(names["status"], "ready", "cluster status")
    eq(sorted(p["name"] for p in names["peers"]),
       sorted([status(a)["name"], status(b)["name"]]), "peers")
    check(all(p["address"] for p in names["peers"]), "a peer without address: %s", names)
    poll(lambda: metric(b, "alertmanager_cluster_members") == 2, timeout=15,
         what="B counts two members")
    eq(metric(a, "alertrouter_storage_up"), 1, "alertrouter_storage_up")
    eq(metric(a, "alertrouter_storage_queued_writes"), 0, "queued writes")
    no_password(ctx, a, b)
    # a clean stop leaves: A lists itself alone at its next heartbeat (5 s), not after 15 s
    b.stop()
    t0 = time.monotonic()
    poll(lambda: [p["name"] for p in status(a)["peers"]] == [status(a)["name"]], timeout=8,
         what="A lists itself alone after B stopped")
    print("B left A's peers %.1f s after its stop" % (time.monotonic() - t0))


def start_args_for(ctx, db, how):
    srv = pg()
    if how == "file":
        srv.createdb(db, owner=ROLE)
    url = "postgresql://%s@127.0.0.1:%d/%s" % (ROLE, srv.port, db)
    return start_args(url, how, ctx)


@suite.case("an alert notified by A is not notified again by B", only="alertrouter")
def nflog(ctx):
    sink = ctx.sink()
    a, b = (_server(ctx, config(sink), start_args_for(ctx, "ar_nflog", how))
            for how in ("file", "env"))
    a.post_ok([alert({"alertname": "Shared"}, starts=ts(-5))])
    got = sink.wait_for(1, timeout=10)
    eq(got[0][3]["alerts"][0]["labels"]["alertname"], "Shared", "A's notification")
    time.sleep(1.0)  # A's log row reaches B (well under 1 s)
    b.post_ok([alert({"alertname": "Shared"}, starts=ts(-5))])
    # B can notify: an alert only it has goes out (proves the check below can fail)
    b.post_ok([alert({"alertname": "OnlyB"}, starts=ts(-5))])
    sink.wait_for(2, timeout=10)
    time.sleep(3.0)  # well past B's group_wait for Shared
    names = [r[3]["alerts"][0]["labels"]["alertname"] for r in sink.received]
    eq(sorted(names), ["OnlyB", "Shared"], "notifications (Shared once, by A)")
    no_password(ctx, a, b)


@suite.case("PostgreSQL down: both go on, a silence made meanwhile reaches B after",
            only="alertrouter")
def outage(ctx):
    a, b = (_server(ctx, config(), start_args_for(ctx, "ar_outage", how))
            for how in ("file", "env"))
    for s in (a, b):
        s.post_ok([alert({"alertname": "During"}, starts=ts(-10))])
    poll(lambda: len(status(a)["peers"]) == 2, timeout=15, what="A lists two peers")
    pg().crash()
    t_down = time.monotonic()
    try:
        for s in (a, b):
            poll(lambda: status(s)["status"] == "settling", timeout=15,
                 what="status settling while PostgreSQL is down")
        eq(len(status(a)["peers"]), 2, "last known peers while down")
        r = a.get("/-/ready")
        eq(r.status, 200, "/-/ready while PostgreSQL is down")
        check("degraded" in r.text(), "/-/ready does not say degraded: %r", r.text())
        eq(metric(a, "alertrouter_storage_up"), 0, "alertrouter_storage_up while down")

        sid = post_silence(a, "During")
        eq(alert_state(a, "During"), ("suppressed", [sid]), "A's alert muted at once")
        poll(lambda: metric(a, "alertrouter_storage_queued_writes") >= 1, timeout=5,
             what="a queued write on A")
        time.sleep(2.0)
        eq(silence_state(b, sid), None, "B has A's silence while PostgreSQL is down")
        check(metric(a, "alertrouter_storage_outage_seconds_total") >= 1.0,
              "outage seconds while down: %s",
              metric(a, "alertrouter_storage_outage_seconds_total"))
        time.sleep(max(0.0, 5.0 - (time.monotonic() - t_down)))
    finally:
        pg().start()
    t_up = time.monotonic()
    poll(lambda: silence_state(b, sid) == "active", timeout=30,
         what="B gets A's silence after PostgreSQL returned")
    print("silence made during the outage reached B %.3f s after PostgreSQL started"
          % (time.monotonic() - t_up))
    poll(lambda: alert_state(b, "During") == ("suppressed", [sid]), timeout=5,
         what="B's alert muted")
    for s in (a, b):
        poll(lambda: status(s)["status"] == "ready", timeout=20, what="status ready again")
        eq(s.get("/-/ready").text(), "OK", "/-/ready after the outage")
    poll(lambda: metric(a, "alertrouter_storage_queued_writes") == 0, timeout=10,
         what="nothing queued on A")
    for s in (a, b):
        log = s.log_text()
        eq(len(re.findall(r"level=error .*unreachable", log)), 1, "'unreachable' log lines")
        eq(log.count("reachable again"), 1, "'reachable again' log lines")
    no_password(ctx, a, b)


if __name__ == "__main__":
    try:
        suite.main()
    finally:
        for p in _PG:
            p.cleanup()
        for t in _TMP:
            shutil.rmtree(t, ignore_errors=True)

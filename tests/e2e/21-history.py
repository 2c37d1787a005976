#!/usr/bin/env python3
"""History (alertrouter only: Alertmanager keeps none, its users' #2223).

/api/x/history/alerts lists state changes (firing, resolved, deleted, and updated when a firing
alert's annotations change) with labels and annotations, filtered by API v2 matchers,
receiver (through the route tree) and a time window, newest or oldest first, paged by an
opaque cursor that covers every event exactly once; bad input is a 400 with a message; the
history survives kill -9. /api/x/history/notifications lists each notification with its
outcomes: a webhook failing then succeeding shows its attempts and retries, one failing
past its deadline shows as a dead letter."""

import subprocess

from harness import Suite, alert, ar_binary, check, eq, iso, now_utc, poll

suite = Suite("21-history")

CONF = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1h
  routes:
  - receiver: ops
    matchers: ['severity="critical"']
receivers:
- name: team
- name: ops
"""

A = {"alertname": "DiskFull", "severity": "critical", "instance": "db1"}
B = {"alertname": "Latency", "instance": "web1"}


def history(srv, **params):
    return srv.get_json("/api/x/history/alerts", params)


def events(srv, **params):
    return history(srv, **params)["events"]


def key(e):
    return (e["at"], e["fingerprint"], e["event"])


def all_pages(srv, limit, **params):
    """Every page of a query through nextCursor; the events in reply order."""
    out = []
    cursor = None
    for _ in range(1000):
        p = dict(params, limit=limit)
        if cursor:
            p["cursor"] = cursor
        page = history(srv, **p)
        check(len(page["events"]) <= limit, "page larger than limit: %d" % len(page["events"]))
        out += page["events"]
        cursor = page.get("nextCursor")
        if not cursor:
            return out
    raise AssertionError("pagination does not end")


@suite.case("alert-history", only="alertrouter")
def alert_history(ctx):
    srv = ctx.server(CONF)
    t0 = now_utc()
    srv.post_ok([alert(A, {"summary": "disk 91%"}), alert(B)])
    srv.post_ok([alert(A, {"summary": "disk 97%"})])  # same labels: updated
    srv.post_ok([alert(A, {"summary": "disk 97%"})])  # nothing changed: no event
    srv.post_ok([alert(A, {"summary": "disk 97%"}, ends=iso(now_utc()))])  # resolved

    a_events = events(srv, filter='alertname="DiskFull"')
    eq([e["event"] for e in a_events], ["resolved", "updated", "firing"], "A newest first")
    eq([e["annotations"] for e in a_events],
       [{"summary": "disk 97%"}, {"summary": "disk 97%"}, {"summary": "disk 91%"}],
       "annotations of each event")
    check(all(e["labels"] == A for e in a_events), "labels on every event: %r" % a_events)
    check(all(e["receivers"] == ["ops"] for e in a_events), "receivers: %r" % a_events)
    eq([e["event"] for e in events(srv, filter='alertname="DiskFull"', order="oldest")],
       ["firing", "updated", "resolved"], "A oldest first")

    everything = events(srv)
    eq(len(everything), 4, "all events: %r" % [key(e) for e in everything])
    eq(everything, list(reversed(events(srv, order="oldest"))), "orders are reverses")
    # v2 matcher syntax: several filters, regex, negative
    eq([e["event"] for e in events(srv, filter=["alertname=~\"Disk.*\"", 'instance="db1"'])],
       ["resolved", "updated", "firing"], "two matchers")
    eq([e["labels"] for e in events(srv, filter='alertname!="DiskFull"')], [B], "negative")
    eq(events(srv, filter='alertname="Nope"'), [], "no match")
    # receiver: a regex over the receivers the current route tree gives the labels
    eq([e["labels"] for e in events(srv, receiver="team")], [B], "receiver team")
    eq(len(events(srv, receiver="o.s")), 3, "receiver regex")
    eq(events(srv, receiver="op"), [], "receiver regex is anchored")
    # time window (RFC 3339, inclusive)
    later = "2999-01-01T00:00:00Z"
    eq(events(srv, **{"from": later}), [], "window in the future")
    eq(events(srv, to="2000-01-01T00:00:00Z"), [], "window in the past")
    eq(len(events(srv, **{"from": iso(t0), "to": "2999-01-01T00:00:00+02:00"})), 4, "window")
    first = everything[-1]["at"]
    eq([key(e) for e in events(srv, **{"from": first, "to": first})],
       [key(e) for e in everything if e["at"] == first], "one instant")


@suite.case("deleted-by-gc", only="alertrouter")
def deleted_by_gc(ctx):
    srv = ctx.server(CONF, args=["--alerts.gc-interval=1s"])
    srv.post_ok([alert(B, ends=iso(now_utc()))])
    got = poll(lambda: [e["event"] for e in events(srv, order="oldest")] == ["resolved", "deleted"],
               timeout=20, what="the resolved alert's deletion in the history")
    check(got, "deleted event")
    eq([e["labels"] for e in events(srv)], [B, B], "labels of both events")


@suite.case("pagination-covers-every-event-once", only="alertrouter")
def pagination(ctx):
    srv = ctx.server(CONF)
    for i in range(6):  # blocks of several events, and one event each
        srv.post_ok([alert({"alertname": "P", "n": "%d-%d" % (i, k)}) for k in range(i + 1)])
    srv.post_ok([alert({"alertname": "Q"})])
    full = events(srv, limit=1000)
    eq(len(full), 22, "events")
    eq(len(set(key(e) for e in full)), 22, "distinct events")
    for order in ("newest", "oldest"):
        want = full if order == "newest" else list(reversed(full))
        for limit in (1, 5, 7, 22, 100):
            got = all_pages(srv, limit, order=order)
            eq([key(e) for e in got], [key(e) for e in want], "%s pages of %d" % (order, limit))
        got = all_pages(srv, 4, order=order, filter='alertname="P"')
        eq([key(e) for e in got], [key(e) for e in want if e["labels"]["alertname"] == "P"],
           "%s filtered pages" % order)
    # a page ends with a cursor while it is full; the last page may be empty
    page = history(srv, limit=22)
    check(page.get("nextCursor"), "a full page has a cursor")
    eq(history(srv, limit=22, cursor=page["nextCursor"])["events"], [], "nothing after")
    check("nextCursor" not in history(srv, limit=23), "no cursor on a partial page")


@suite.case("bad-input", only="alertrouter")
def bad_input(ctx):
    srv = ctx.server(CONF)
    srv.post_ok([alert(A)])

    def bad(params, needle, path="/api/x/history/alerts"):
        r = srv.get(path, params)
        eq(r.status, 400, "status for %r: %s" % (params, r.text()))
        msg = r.json()
        check(isinstance(msg, str) and needle in msg, "message for %r: %r" % (params, msg))
        return msg

    # the same parser and message as API v2's filter
    msg = bad({"filter": "alertname"}, "bad matcher format")
    r = srv.get("/api/v2/alerts", {"filter": "alertname"})
    eq((r.status, r.json()), (400, msg), "v2's answer to the same matcher")
    bad({"filter": 'alertname=~"("'}, "error parsing regexp")
    bad({"receiver": "("}, "failed to parse receiver param")
    bad({"from": "yesterday"}, "from must be an RFC 3339 time")
    bad({"to": "2024-13-01T00:00:00Z"}, "to must be an RFC 3339 time")
    bad({"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "from must not be after")
    bad({"order": "sideways"}, "order must be newest or oldest")
    bad({"limit": "0"}, "limit must be an integer")
    bad({"limit": "1001"}, "limit must be an integer")
    bad({"limit": "ten"}, "limit must be an integer")
    bad({"cursor": "zz"}, "invalid cursor")
    bad({"cursor": "6e6f"}, "invalid cursor")
    srv.post_ok([alert(B)])
    cur = history(srv, limit=1)["nextCursor"]
    bad({"cursor": cur, "order": "oldest"}, "invalid cursor")  # another order's cursor
    bad({"cursor": cur}, "invalid cursor", path="/api/x/history/notifications")
    bad({"state": "lost"}, "state must be", path="/api/x/history/notifications")
    bad({"from": "x"}, "from must be an RFC 3339 time", path="/api/x/history/notifications")
    eq(srv.request("POST", "/api/x/history/alerts")[0], 405, "POST")
    eq(srv.get("/api/x/history/nothing")[0], 404, "unknown history path")


@suite.case("survives-kill9", only="alertrouter")
def survives_kill9(ctx):
    srv = ctx.server(CONF)
    srv.post_ok([alert(A, {"summary": "a"}), alert(B)])
    srv.post_ok([alert(A, {"summary": "b"})])
    before = events(srv)
    eq(len(before), 3, "events before")
    srv.restart(kill=True)
    eq(events(srv), before, "events after kill -9")
    srv.post_ok([alert(B, ends=iso(now_utc()))])
    after = events(srv)
    eq([e["event"] for e in after[:1]], ["resolved"], "new event after the restart")
    eq(after[1:], before, "old events kept")


HOOK_CONF = """\
route:
  receiver: flaky
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  routes:
  - receiver: down
    matchers: ['alertname="Down"']
receivers:
- name: flaky
  webhook_configs:
  - url: '%s'
- name: down
  webhook_configs:
  - url: '%s'
"""


@suite.case("notification-history", only="alertrouter")
def notification_history(ctx):
    flaky = ctx.sink(status_fn=lambda path, idx: 500 if idx < 2 else 200)
    down = ctx.sink(status_fn=lambda path, idx: 503)
    srv = ctx.server(HOOK_CONF % (flaky.url("/hook"), down.url("/hook")),
                     args=["--notify.deadline=4s"])
    srv.post_ok([alert({"alertname": "Flaky", "instance": "x"})])
    srv.post_ok([alert({"alertname": "Down"})])

    def notifications(**params):
        return srv.get_json("/api/x/history/notifications", params)["notifications"]

    def settled():
        ns = notifications()
        return ns if len(ns) == 2 and all(n["state"] != "pending" for n in ns) else None

    ns = poll(settled, timeout=30, what="both notifications finished")
    by = {n["receiver"]: n for n in ns}
    f = by["flaky"]
    eq((f["integration"], f["state"], f["deadLetter"]), ("webhook[0]", "delivered", False),
       "flaky receiver")
    eq((f["attempts"], f["retries"], f["firing"], f["resolved"]), (3, 2, 1, 0), "attempts")
    eq(len(f["alerts"]["newFiring"]), 1, "the alert it was sent for")
    check("Flaky" in f["groupKey"], "group key: %r" % f["groupKey"])
    # each attempt: the two failures that were retried, then the delivery
    eq([(e["outcome"], e["httpStatus"], e["attempts"]) for e in f["log"]],
       [("retry", 500, 1), ("retry", 500, 2), ("delivered", 200, 3)], "log")
    for e in f["log"][:2]:
        check(e["error"] == "unexpected status code 500" and e["latencySeconds"] > 0,
              "retry entry: %r" % e)
    check(f["log"][2]["error"] == "" and f["log"][2]["latencySeconds"] > 0,
          "delivered entry: %r" % f["log"][2])
    check(f["log"][0]["at"] <= f["log"][1]["at"] <= f["log"][2]["at"], "entries in time order")
    d = by["down"]
    eq((d["state"], d["deadLetter"], d["lastStatus"]), ("dead", True, 503), "dead letter")
    check(d["attempts"] >= 1 and "503" in d["lastError"], "dead letter error: %r" % d)
    # every failed attempt before the deadline is a retry entry, then the dead letter
    outcomes = [e["outcome"] for e in d["log"]]
    eq(outcomes, ["retry"] * (len(outcomes) - 1) + ["dead"], "dead letter log")
    check(len(outcomes) >= 2 and all(e["httpStatus"] == 503 for e in d["log"]),
          "dead letter log statuses: %r" % d["log"])
    eq([e["attempts"] for e in d["log"][:-1]], list(range(1, len(outcomes))), "attempt numbers")
    # filters, order, pages
    eq([n["receiver"] for n in notifications(receiver="fl.*")], ["flaky"], "receiver regex")
    eq([n["receiver"] for n in notifications(state="dead")], ["down"], "state")
    eq(len(notifications(integration="webhook")), 2, "integration type")
    eq(len(notifications(integration="webhook[0]")), 2, "integration name")
    eq(notifications(integration="email"), [], "other integration")
    eq(notifications(**{"from": "2999-01-01T00:00:00Z"}), [], "window")
    newest = notifications()
    eq(notifications(order="oldest"), list(reversed(newest)), "orders are reverses")
    page = srv.get_json("/api/x/history/notifications", {"limit": 1})
    eq(page["notifications"], newest[:1], "first page")
    page = srv.get_json("/api/x/history/notifications",
                        {"limit": 1, "cursor": page["nextCursor"]})
    eq(page["notifications"], newest[1:], "second page")


@suite.case("retention", only="alertrouter")
def retention(ctx):
    sink = ctx.sink()
    srv = ctx.server(HOOK_CONF % (sink.url("/hook"), sink.url("/hook")),
                     args=["--history.retention=3s", "--data.maintenance-interval=1s"])
    srv.post_ok([alert({"alertname": "Old"})])
    sink.wait_for(1, timeout=10)

    def notes():
        return srv.get_json("/api/x/history/notifications")["notifications"]

    poll(lambda: [n["state"] for n in notes()] == ["delivered"], timeout=10,
         what="the delivered notification in the history")
    eq(len(events(srv)), 1, "the firing event")
    # the maintenance run deletes both once they are older than --history.retention
    poll(lambda: events(srv) == [] and notes() == [], timeout=30,
         what="history and notification deleted after the retention")
    srv.post_ok([alert({"alertname": "New"})])
    eq([e["labels"]["alertname"] for e in events(srv)], ["New"], "a new event is recorded")


@suite.case("cli", only="alertrouter")
def cli(ctx):
    srv = ctx.server(CONF)
    srv.post_ok([alert(A, {"summary": "a"}), alert(B)])
    srv.post_ok([alert(A, {"summary": "b"})])
    url = "--alertmanager.url=http://127.0.0.1:%d" % srv.port

    def run(*args):
        p = subprocess.run([ar_binary(), "history"] + list(args) + [url], capture_output=True,
                           timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    rc, out, err = run("alerts", '--filter=alertname="DiskFull"', "--order=oldest")
    eq(rc, 0, "exit status: " + err)
    lines = out.splitlines()
    eq([ln.split()[1] for ln in lines[1:]], ["firing", "updated"], "events:\n" + out)
    check("DiskFull" in lines[1] and "Latency" not in out, "labels shown:\n" + out)
    rc, out, err = run("alerts", "--limit=1")
    eq(rc, 0, "exit status")
    cursor = [ln for ln in out.splitlines() if ln.startswith("next page: --cursor=")]
    eq(len(cursor), 1, "next page flag:\n" + out)
    rc, out2, err = run("alerts", "--limit=1", cursor[0].split(": ", 1)[1])
    eq(rc, 0, "second page")
    check(out2.splitlines()[1] != out.splitlines()[1], "second page differs:\n" + out + out2)
    rc, out, err = run("alerts", "--filter=alertname")
    eq(rc, 1, "bad matcher exit status")
    check("bad matcher format" in err, "message: " + err)
    rc, out, err = run("notifications", "--state=delivered")
    eq((rc, out.splitlines()[-1]), (0, "(no notifications)"), "notifications: " + out + err)
    rc, out, err = run("alerts", "--nope=1")
    eq(rc, 2, "unknown flag: usage")


if __name__ == "__main__":
    suite.main()

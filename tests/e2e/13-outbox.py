#!/usr/bin/env python3
"""Durable outbox, delivery log and dead letters (alertrouter only: Alertmanager drops a
notification that fails past its deadline, #2286). A notification failing until its
deadline (--notify.deadline) becomes a dead letter, listed by /api/x/deliveries and
`alertrouter deliveries list`, replayed by the API/CLI once the receiver recovers; a
delivery still retrying at kill -9 resumes after the restart and arrives. The delivery log
records status, error and latency; the URL's token never appears in API output, CLI output,
the server log or the database. Each failed attempt that is retried is its own `retry` entry
in the log, with its status and redacted error."""

import json
import subprocess

from harness import Suite, ar_binary, check, check_no_secret, eq, free_port, poll

suite = Suite("13-outbox")

SECRET = "SECRET7781"
L = {"alertname": "Outbox"}


def conf(sink):
    """The configuration; with sink None, the webhook URL is the placeholder URL."""
    return """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
  webhook_configs:
  - url: '%s'
""" % (sink.url("/hook?token=" + SECRET) if sink is not None else "URL")


def deliveries(srv, state=None):
    return srv.get_json("/api/x/deliveries", {"state": state} if state else None)


def cli(srv, *args):
    p = subprocess.run([ar_binary(), "deliveries"] + list(args) +
                       ["--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


@suite.case("dead-letter-then-replay", only="alertrouter")
def dead_letter(ctx):
    state = {"fail": True}
    sink = ctx.sink(status_fn=lambda path, idx: 500 if state["fail"] else 200)
    srv = ctx.server(conf(sink), args=["--notify.deadline=3s"])
    srv.post_ok([{"labels": L}])
    sink.wait_for(1, timeout=10)
    dead = poll(lambda: deliveries(srv, "dead"), timeout=15, what="a dead letter")
    eq(len(dead), 1, "dead letters")
    d = dead[0]
    eq((d["receiver"], d["integration"], d["state"]), ("team", "webhook[0]", "dead"), "row")
    check(d["attempts"] >= 1 and d["lastStatus"] == 500, "attempts/status: %r" % d)
    check("500" in d["lastError"], "last error: %r" % d["lastError"])
    eq(deliveries(srv, "pending"), [], "pending after the deadline")
    one = srv.get_json("/api/x/deliveries/%d" % d["id"])
    outcomes = [e["outcome"] for e in one["log"]]
    eq(outcomes, ["retry"] * (len(outcomes) - 1) + ["dead"], "log outcomes")
    for e in one["log"][:-1]:
        check(e["httpStatus"] == 500 and "500" in e["error"], "retry row: %r" % e)
    retries = len(outcomes) - 1
    e = one["log"][-1]
    check(e["httpStatus"] == 500 and e["error"] and e["latencySeconds"] > 0 and e["attempts"] >= 1,
          "log row: %r" % e)
    eq(one["alerts"][0]["labels"], L, "stored alert labels")
    metrics = srv.get("/metrics").text()
    check("alertrouter_dead_letters 1\n" in metrics, "dead letter gauge")
    check("alertrouter_deliveries_pending 0\n" in metrics, "pending gauge")

    rc, out = cli(srv, "list", "--state=dead")
    eq(rc, 0, "CLI list exit status")
    check(("%d" % d["id"]) in out and "dead" in out and "webhook[0]" in out, "CLI list:\n" + out)

    # the receiver recovers; a replay of the dead letter goes through
    state["fail"] = False
    n_before = len(sink.received)
    rc, out = cli(srv, "replay", str(d["id"]))
    eq(rc, 0, "CLI replay exit status: " + out)
    check("replayed" in out, "CLI replay output: " + out)
    sink.wait_for(n_before + 1, timeout=10)
    poll(lambda: srv.get_json("/api/x/deliveries/%d" % d["id"])["state"] == "delivered",
         timeout=10, what="delivered after replay")
    one = srv.get_json("/api/x/deliveries/%d" % d["id"])
    eq([e["outcome"] for e in one["log"]][retries:], ["dead", "replayed", "delivered"],
       "log outcomes")
    check(one["log"][-1]["httpStatus"] == 200 and one["log"][-1]["error"] == "", "delivered row")
    body = sink.received[-1][3]
    eq(body["alerts"][0]["labels"], L, "replayed payload labels")
    eq(body["receiver"], "team", "replayed payload receiver")
    # once delivered the payload is gone (0007): the row keeps its summary, and a second
    # replay is refused; unknown ids and bad paths too
    eq((one["firing"], one["resolved"], one["alerts"]), (1, 0, []), "summary after delivery")
    eq(len(one["newFiring"]), 1, "the alert new to the receiver's log")
    r = srv.request("POST", "/api/x/deliveries/%d/replay" % d["id"])
    eq(r[0], 409, "replay of a delivered notification")
    check("not kept" in r.text(), "409 reason: %r" % r.text())
    eq(srv.request("POST", "/api/x/deliveries/999999/replay")[0], 404, "unknown id")
    eq(srv.request("POST", "/api/x/deliveries/abc/replay")[0], 400, "bad id")
    eq(srv.request("GET", "/api/x/deliveries/%d/replay" % d["id"])[0], 405, "GET replay")
    eq(srv.request("GET", "/api/x/deliveries?state=nope")[0], 400, "bad state")
    rc, out2 = cli(srv, "list")
    eq(rc, 0, "CLI list all")
    check_no_secret(srv, SECRET, json.dumps(deliveries(srv)), json.dumps(one), out, out2,
                    metrics)


@suite.case("retry-entries-redacted", only="alertrouter")
def retry_redacted(ctx):
    # nothing listens on the port: every attempt is a transport error quoting the URL, which
    # each retry entry must carry without the token
    port = free_port()
    url = "http://127.0.0.1:%d/hook?token=%s" % (port, SECRET)
    srv = ctx.server(conf(None).replace("URL", url), args=["--notify.deadline=3s"])
    srv.post_ok([{"labels": L}])
    d = poll(lambda: deliveries(srv, "dead"), timeout=15, what="a dead letter")[0]
    one = srv.get_json("/api/x/deliveries/%d" % d["id"])
    outcomes = [e["outcome"] for e in one["log"]]
    eq(outcomes, ["retry"] * (len(outcomes) - 1) + ["dead"], "log outcomes")
    check(len(outcomes) >= 2, "at least one retry entry: %r" % outcomes)
    for e in one["log"][:-1]:
        check(e["httpStatus"] == 0 and "127.0.0.1:%d" % port in e["error"], "retry row: %r" % e)
    hist = srv.get_json("/api/x/history/notifications")["notifications"]
    eq([e["outcome"] for e in hist[0]["log"]], outcomes, "history log")
    check_no_secret(srv, SECRET, json.dumps(one), json.dumps(hist))


@suite.case("retrying-at-kill9-resumes", only="alertrouter")
def resume(ctx):
    state = {"fail": True}
    sink = ctx.sink(status_fn=lambda path, idx: 500 if state["fail"] else 200)
    srv = ctx.server(conf(sink), args=["--notify.deadline=60s"])
    srv.post_ok([{"labels": L}])
    sink.wait_for(2, timeout=10)  # retrying
    pend = poll(lambda: deliveries(srv, "pending"), timeout=5, what="pending delivery")
    did = pend[0]["id"]
    srv.restart(kill=True)
    state["fail"] = False
    poll(lambda: srv.get_json("/api/x/deliveries/%d" % did)["state"] == "delivered",
         timeout=20, what="resumed delivery delivered")
    one = srv.get_json("/api/x/deliveries/%d" % did)
    eq(one["log"][-1]["outcome"], "delivered", "last log outcome")
    check(one["log"][-1]["httpStatus"] == 200, "delivered status: %r" % one["log"][-1])
    ok = [r for r in sink.received if r[3] is not None]
    eq(ok[-1][3]["alerts"][0]["labels"], L, "delivered payload")
    poll(lambda: deliveries(srv, "pending") == [], timeout=15, what="nothing left pending")
    check_no_secret(srv, SECRET, json.dumps(one))


@suite.case("graceful-stop-keeps-pending", only="alertrouter")
def graceful(ctx):
    state = {"fail": True}
    sink = ctx.sink(status_fn=lambda path, idx: 500 if state["fail"] else 200)
    srv = ctx.server(conf(sink), args=["--notify.deadline=60s"])
    srv.post_ok([{"labels": L}])
    sink.wait_for(1, timeout=10)
    did = poll(lambda: deliveries(srv, "pending"), timeout=5, what="pending delivery")[0]["id"]
    srv.stop()
    state["fail"] = False
    srv.start()
    poll(lambda: srv.get_json("/api/x/deliveries/%d" % did)["state"] == "delivered",
         timeout=20, what="delivered after a graceful restart")
    outcomes = [e["outcome"] for e in srv.get_json("/api/x/deliveries/%d" % did)["log"]]
    # the failed attempt before the stop is a retry entry unless the stop came first
    eq([o for o in outcomes if o != "retry"], ["canceled", "delivered"], "log outcomes")
    eq(outcomes[-2:], ["canceled", "delivered"], "last outcomes")


if __name__ == "__main__":
    suite.main()

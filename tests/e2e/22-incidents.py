#!/usr/bin/env python3
"""Incidents (alertrouter only; Alertmanager has none, its users' #1860 and #2223): a
group's first firing alert opens an incident titled like the chat message; an
acknowledgement stops the group's repeat notifications until a new alert joins (which
notifies and clears it) or the group resolves (which notifies and resolves the incident);
notes by report section, append-only with edits as new versions; the report in markdown,
HTML and JSON, checked section by section, also through `alertrouter incident report`,
and the user's template named by the extensions file (incidents.report_template);
incidents, acknowledgements and notes survive kill -9; bad input answers 400/404/409/413
with a message, and of two concurrent acknowledgements one wins and both are recorded; a
reload that moves a group's alerts to other groups closes its incident."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from harness import Suite, ar_binary, check, eq, poll, ts

suite = Suite("22-incidents")

A = {"alertname": "monitor_service_down", "instance": "cadvisor:8080", "job": "cadvisor",
     "name": "docker-host-alpha", "severity": "critical"}
B = dict(A, instance="node-exporter:9100", job="node", severity="warning")
ANN = {"summary": "cadvisor is down", "description": "cadvisor:8080 stopped answering"}
TITLE = "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)"
SECTIONS = ["identification", "mitigation", "post_incident_analysis", "reporting",
            "action_plan", "conclusions", "recommendations"]
TITLES = ["Identification", "Mitigation", "Post-incident analysis", "Reporting",
          "Action plan", "Conclusions", "Recommendations"]


def conf(sink, repeat="2s"):
    return """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: %s
receivers:
- name: team
  webhook_configs:
  - url: '%s'
    send_resolved: true
""" % (repeat, sink.url("/hook"))


def incidents(srv, **params):
    return srv.get_json("/api/x/incidents", params or None)


def one(srv, iid):
    return srv.get_json("/api/x/incidents/%d" % iid)


def first_incident(srv, state="open"):
    got = poll(lambda: incidents(srv, state=state), timeout=20, what="an %s incident" % state)
    eq(len(got), 1, "incidents %s" % state)
    return got[0]


def ack(srv, iid, by="alice", comment="on it"):
    return srv.post_json("/api/x/incidents/%d/ack" % iid, {"by": by, "comment": comment})


def add_note(srv, iid, section, text, author="bob", replaces=None):
    body = {"section": section, "author": author, "text": text}
    if replaces is not None:
        body["replaces"] = replaces
    return srv.post_json("/api/x/incidents/%d/notes" % iid, body)


def kinds(inc):
    return [e["kind"] for e in inc["timeline"]]


def count(sink):
    with sink.cond:
        return len(sink.received)


def payload(sink, i):
    with sink.cond:
        r = sink.received[i]
    body = r[-1] if isinstance(r, (tuple, list)) else r
    if isinstance(body, dict) and "body" in body:
        body = body["body"]
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    return body


@suite.case("ack-stops-repeats-new-alert-and-resolution-notify", only="alertrouter")
def ack_lifecycle(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    srv.post_ok([{"labels": A, "annotations": ANN}])
    inc = first_incident(srv)
    eq(inc["title"], TITLE, "title (the default chat title)")
    eq((inc["severity"], inc["receiver"], inc["groupLabels"]),
       ("critical", "team", {"alertname": "monitor_service_down"}), "severity/receiver/labels")
    eq(inc["acknowledgedAt"], None, "not acknowledged")
    # repeats flow while the incident is open (repeat_interval 2s)
    sink.wait_for(2, timeout=30)
    r = ack(srv, inc["id"])
    eq(r.status, 200, "ack: %s" % r.text())
    got = r.json()
    eq((got["state"], got["acknowledgedBy"], got["ackComment"]),
       ("acknowledged", "alice", "on it"), "acknowledged incident")
    # a send decided before the ack may still arrive; after that, none for 3 repeat intervals
    time.sleep(1.5)
    held = count(sink)
    time.sleep(6.5)
    eq(count(sink), held, "notifications while acknowledged (repeats held back)")
    eq(srv.get_json("/api/v2/silences"), [], "an acknowledgement is no silence")
    # a new alert joining notifies at once and clears the acknowledgement
    srv.post_ok([{"labels": B}])
    sink.wait_for(held + 1, timeout=20)
    p = payload(sink, held)
    eq(sorted(a["labels"]["instance"] for a in p["alerts"]),
       ["cadvisor:8080", "node-exporter:9100"], "alerts of the notification after the join")
    inc = poll(lambda: [i for i in [one(srv, inc["id"])] if i["state"] == "open"],
               timeout=15, what="ack cleared")[0]
    check("ack_cleared" in kinds(inc), "timeline: %r" % kinds(inc))
    eq(inc["severity"], "critical", "highest severity kept")
    # acknowledged again, then the resolution notifies and resolves the incident
    eq(ack(srv, inc["id"], by="carol").status, 200, "second ack")
    n = count(sink)
    srv.post_ok([{"labels": A, "endsAt": ts(-1)}, {"labels": B, "endsAt": ts(-1)}])
    sink.wait_for(n + 1, timeout=20)
    resolved = [payload(sink, i) for i in range(n, count(sink))]
    check(any(p["status"] == "resolved" for p in resolved), "resolved notification: %r" % resolved)
    inc = poll(lambda: [i for i in [one(srv, inc["id"])] if i["state"] == "resolved"],
               timeout=20, what="incident resolved")[0]
    check(inc["resolvedAt"] is not None, "resolvedAt")
    k = kinds(inc)
    for want in ("opened", "alert_firing", "notification", "acknowledged", "ack_cleared",
                 "alert_resolved", "resolved"):
        check(want in k, "timeline has %s: %r" % (want, k))
    eq(k.count("alert_firing"), 2, "alerts joining")
    outcomes = [e["detail"] for e in inc["timeline"] if e["kind"] == "notification"]
    check(all(o["outcome"] == "delivered" and o["deliveryID"] > 0 for o in outcomes),
          "outcomes: %r" % outcomes)
    d = srv.get_json("/api/x/deliveries/%d" % outcomes[0]["deliveryID"])
    eq(d["state"], "delivered", "the outbox delivery a timeline entry links to")
    r = ack(srv, inc["id"])
    eq(r.status, 409, "ack of a resolved incident")
    check("resolved" in r.json(), "message: %r" % r.text())
    # a new firing alert after the resolution opens a new incident
    srv.post_ok([{"labels": A}])
    new = poll(lambda: incidents(srv, state="open"), timeout=20, what="a new incident")
    check(new[0]["id"] != inc["id"], "new incident id")
    eq([i["id"] for i in incidents(srv)], [new[0]["id"], inc["id"]], "newest first")
    audit = srv.get_json("/api/x/audit")
    # two acks taken; the one refused for a resolved incident changed nothing
    eq(len([a for a in audit if a["action"] == "incident.ack"]), 2, "ack audit rows")


def report_checks(srv, iid):
    md = srv.get("/api/x/incidents/%d/report" % iid, {"format": "markdown"})
    eq(md.status, 200, "markdown report")
    check(md.headers.get("Content-Type", "").startswith("text/markdown"), "markdown type")
    text = md.text()
    heads = re.findall(r"^## (.+)$", text, re.M)
    eq(heads, ["Description", "Timeline", "Notifications", "Response times"] + TITLES,
       "markdown sections")
    check(text.startswith("# Incident report #%d: %s" % (iid, TITLE)), "header: %r" % text[:200])
    sec = dict(zip(heads, re.split(r"^## .+$", text, flags=re.M)[1:]))
    check("| Date (UTC) | 20" in sec["Description"] and "| Time (UTC) | " in sec["Description"],
          "date and time: %r" % sec["Description"])
    check("cadvisor:8080" in sec["Description"] and "cadvisor" in sec["Description"],
          "affected services")
    check("cadvisor is down" in sec["Description"], "impact from annotations")
    check("| critical |" in sec["Description"], "severity")
    check("Alert firing: monitor_service_down" in sec["Timeline"], "timeline: %r" % sec["Timeline"])
    check("Acknowledged by alice: on it" in sec["Timeline"], "ack in timeline")
    check("| team | webhook[0] |" in sec["Notifications"] and "delivered" in sec["Notifications"],
          "notifications: %r" % sec["Notifications"])
    check(re.search(r"Time to acknowledge: \d+s", sec["Response times"]) is not None,
          "time to acknowledge: %r" % sec["Response times"])
    check("Time to resolve: not resolved" in sec["Response times"], "time to resolve")
    check("Restarted cadvisor (v2)" in sec["Mitigation"], "latest version of the note")
    check("Restarted cadvisor.\n" not in sec["Mitigation"], "old version hidden")
    check("(edited)" in sec["Mitigation"], "edit marker")
    check("Paged at 15:02" in sec["Identification"], "identification note")
    for t in TITLES:
        if t not in ("Mitigation", "Identification", "Action plan"):
            check("No notes." in sec[t], "empty section %s: %r" % (t, sec[t]))
    html = srv.get("/api/x/incidents/%d/report" % iid, {"format": "html"})
    eq(html.status, 200, "html report")
    check(html.headers.get("Content-Type", "").startswith("text/html"), "html type")
    h = html.text()
    for k in ["description", "timeline", "notifications", "response-times"] + SECTIONS:
        check('<h2 id="%s">' % k in h, "html section %s" % k)
    check("&lt;script&gt;" in h and "<script>" not in h, "note text escaped in HTML")
    j = srv.get_json("/api/x/incidents/%d/report" % iid, {"format": "json"})
    eq([s["key"] for s in j["sections"]], SECTIONS, "json sections")
    eq((j["id"], j["title"], j["state"], j["severity"]), (iid, TITLE, "acknowledged", "critical"),
       "json header")
    check("cadvisor:8080" in j["services"], "json services: %r" % j["services"])
    eq([n["text"] for n in j["sections"][1]["notes"]], ["Restarted cadvisor (v2)"],
       "json mitigation notes")
    check(len(j["timeline"]) >= 4 and j["notifications"][0]["outcome"] == "delivered",
          "json timeline/notifications")
    eq(srv.get("/api/x/incidents/%d/report" % iid, {"format": "pdf"}).status, 400, "bad format")
    return text


@suite.case("notes-and-report", only="alertrouter")
def notes_report(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, repeat="1h"))
    srv.post_ok([{"labels": A, "annotations": ANN}])
    inc = first_incident(srv)
    iid = inc["id"]
    sink.wait_for(1, timeout=20)
    eq(ack(srv, iid).status, 200, "ack")
    r = add_note(srv, iid, "identification", "Paged at 15:02 by chat and e-mail.")
    eq(r.status, 201, "note: %s" % r.text())
    r = add_note(srv, iid, "mitigation", "Restarted cadvisor.")
    first = r.json()
    eq((first["section"], first["author"], first["replaces"]), ("mitigation", "bob", 0), "note")
    r = add_note(srv, iid, "mitigation", "Restarted cadvisor (v2)", replaces=first["id"])
    eq(r.status, 201, "edit")
    eq(r.json()["replaces"], first["id"], "edit replaces")
    eq(add_note(srv, iid, "action_plan", "<script>alert(1)</script>").status, 201, "html note")
    inc = one(srv, iid)
    eq([n["text"] for n in inc["notes"]],
       ["Paged at 15:02 by chat and e-mail.", "Restarted cadvisor.", "Restarted cadvisor (v2)",
        "<script>alert(1)</script>"], "notes are append-only")
    eq(kinds(inc).count("note"), 4, "notes in the timeline")
    md = report_checks(srv, iid)
    p = subprocess.run([ar_binary(), "incident", "report", str(iid), "--format", "markdown",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    eq(p.returncode, 0, "cli exit: %s" % p.stderr.decode())
    eq(p.stdout.decode().rstrip("\n"), md.rstrip("\n"), "cli report = API report")
    p = subprocess.run([ar_binary(), "incident", "report", str(iid), "--format=json",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    eq(json.loads(p.stdout)["id"], iid, "cli json")
    p = subprocess.run([ar_binary(), "incident", "report", "999",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    check(p.returncode == 1 and b"not found" in p.stderr, "cli unknown id: %r" % (p,))


@suite.case("kill9-keeps-incidents-acks-notes", only="alertrouter")
def kill9(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    srv.post_ok([{"labels": A}])
    iid = first_incident(srv)["id"]
    sink.wait_for(1, timeout=20)
    eq(ack(srv, iid).status, 200, "ack")
    eq(add_note(srv, iid, "reporting", "Reported to the CISO.").status, 201, "note")
    srv.restart(kill=True)
    inc = one(srv, iid)
    eq((inc["state"], inc["acknowledgedBy"]), ("acknowledged", "alice"), "ack kept")
    eq([n["text"] for n in inc["notes"]], ["Reported to the CISO."], "note kept")
    eq([i["id"] for i in incidents(srv)], [iid], "no second incident for the rebuilt group")
    # the acknowledgement still holds repeats back after the restart
    time.sleep(1.5)
    held = count(sink)
    time.sleep(6)
    eq(count(sink), held, "no repeats after the restart")
    r = ack(srv, iid, by="dave")
    eq(r.status, 409, "already acknowledged after restart")
    check("alice" in r.json(), "names the winner: %r" % r.text())


@suite.case("reload-moving-the-group-closes-its-incident", only="alertrouter")
def reload_orphan(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, repeat="1h"), args=["--data.maintenance-interval=1s"])
    srv.post_ok([{"labels": A}])
    old = first_incident(srv)
    with open(srv.config_path, "w") as f:
        f.write(conf(sink, repeat="1h").replace("group_by: [alertname]",
                                                "group_by: [alertname, instance]"))
    eq(srv.request("POST", "/-/reload").status, 200, "reload")
    inc = poll(lambda: [i for i in [one(srv, old["id"])] if i["state"] == "resolved"],
               timeout=20, what="the orphaned incident closed")[0]
    eq(kinds(inc)[-1], "closed", "timeline ends with closed")
    new = first_incident(srv)
    check(new["id"] != old["id"] and "instance" in new["groupLabels"], "new incident: %r" % new)


@suite.case("report-template-from-extensions-file", only="alertrouter")
def report_template(ctx):
    d = tempfile.mkdtemp(prefix="ar-e2e-incidents-")
    try:
        report_template_in(ctx, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def report_template_in(ctx, d):
    sink = ctx.sink()
    ext = os.path.join(d, "ext.yml")
    with open(os.path.join(d, "mine.tmpl"), "w") as f:
        f.write('{{ define "incident.report.markdown" }}OURS #{{ .id }} {{ .state }} '
                '{{ range .sections }}[{{ .title }}]{{ end }}{{ end }}')
    with open(ext, "w") as f:
        f.write("incidents:\n  report_template: mine.tmpl\n")
    srv = ctx.server(conf(sink, repeat="1h"), args=["--extensions.file=" + ext])
    srv.post_ok([{"labels": A}])
    iid = first_incident(srv)["id"]
    md = srv.get("/api/x/incidents/%d/report" % iid).text()
    eq(md, "OURS #%d open " % iid + "".join("[%s]" % t for t in TITLES), "user's markdown")
    h = srv.get("/api/x/incidents/%d/report" % iid, {"format": "html"}).text()
    check('<h2 id="timeline">' in h, "the built-in HTML report stays")
    # a reload without the key goes back to the built-in template
    with open(ext, "w") as f:
        f.write("incidents:\n  ack_message: false\n")
    eq(srv.request("POST", "/-/reload").status, 200, "reload")
    md = srv.get("/api/x/incidents/%d/report" % iid).text()
    check(md.startswith("# Incident report #%d" % iid), "built-in after reload: %r" % md[:80])


@suite.case("bad-input-and-concurrent-acks", only="alertrouter")
def bad_input(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, repeat="1h"))
    srv.post_ok([{"labels": A}])
    iid = first_incident(srv)["id"]
    for method, path in [("GET", ""), ("POST", "/ack"), ("POST", "/notes"), ("GET", "/report")]:
        body = json.dumps({"by": "x", "section": "mitigation", "author": "x", "text": "x"})
        for bad in ("9999", "abc"):
            r = srv.request(method, "/api/x/incidents/%s%s" % (bad, path),
                            body=body if method == "POST" else None,
                            headers={"Content-Type": "application/json"})
            eq(r.status, 404, "%s %s on id %s" % (method, path, bad))
            eq(r.json(), "incident not found", "404 message")
    r = srv.get("/api/x/incidents", {"filter": 'alertname=~"('})
    eq(r.status, 400, "invalid matcher")
    check(isinstance(r.json(), str) and r.json(), "message: %r" % r.text())
    r = srv.get("/api/x/incidents", {"from": "yesterday"})
    eq((r.status, r.json()), (400, "from must be an RFC 3339 time, e.g. 2026-12-07T15:04:05Z"),
       "bad time")
    r = srv.get("/api/x/incidents", {"from": ts(10), "to": ts(-10)})
    eq((r.status, r.json()), (400, "from must not be after to"), "reversed window")
    eq(srv.get("/api/x/incidents", {"state": "closed"}).status, 400, "bad state")
    eq([i["id"] for i in incidents(srv, filter='job="cadvisor"')], [iid], "matcher on alerts")
    eq([i["id"] for i in incidents(srv, filter='alertname="monitor_service_down"')], [iid],
       "matcher on group labels")
    eq(incidents(srv, filter='job="other"'), [], "matcher excluding")
    eq([i["id"] for i in incidents(srv, **{"from": ts(-600), "to": ts(600)})], [iid], "window")
    eq(incidents(srv, **{"from": ts(-7200), "to": ts(-3600)}), [], "window before it opened")
    r = add_note(srv, iid, "lessons", "x")
    eq(r.status, 400, "unknown section")
    check("identification" in r.json(), "message lists sections: %r" % r.text())
    r = add_note(srv, iid, "mitigation", "x" * (64 * 1024 + 1))
    eq(r.status, 413, "oversized note")
    eq(add_note(srv, iid, "mitigation", "").status, 400, "empty note")
    eq(add_note(srv, iid, "mitigation", "x", replaces=424242).status, 400, "replaces unknown")
    r = srv.post_json("/api/x/incidents/%d/notes" % iid, "not json")
    eq(r.status, 400, "bad JSON")
    eq(srv.post_json("/api/x/incidents/%d/ack" % iid, {"comment": "x"}).status, 400, "ack without by")
    # concurrent acknowledgements: one wins, both recorded
    results = []
    start = threading.Barrier(2)

    def go(who):
        start.wait()
        results.append((who, ack(srv, iid, by=who, comment="mine").status))
    threads = [threading.Thread(target=go, args=(w,)) for w in ("erin", "frank")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eq(sorted(s for _, s in results), [200, 409], "one ack wins: %r" % results)
    winner = [w for w, s in results if s == 200][0]
    inc = one(srv, iid)
    eq(inc["acknowledgedBy"], winner, "winner")
    acks = [e["detail"] for e in inc["timeline"] if e["kind"] == "acknowledged"]
    eq(sorted(a["by"] for a in acks), ["erin", "frank"], "both recorded in the timeline")
    eq(sorted(a["effective"] for a in acks), [False, True], "one effective")
    audit = [a for a in srv.get_json("/api/x/audit") if a["action"] == "incident.ack"]
    eq(len(audit), 2, "both in the audit trail")


if __name__ == "__main__":
    suite.main(jobs=2)

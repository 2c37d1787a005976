#!/usr/bin/env python3
"""Incidents, acknowledgements, notes, audit, deliveries and history shared through
PostgreSQL (issue 14, docs/ha.md): two instances on one real PostgreSQL (tests/e2e/pg.py) with
the same configuration and webhook receiver, each receiving the same alerts. An
acknowledgement made on A stops B's repeat notifications too; a note (and its edit) made on A
shows on B, with author, section and version, in the incident and the report, and the other
way round; two acknowledgements made at once on A and B end with one winner on both, both
recorded; after restarting both, acknowledgements and notes are all there once; the audit
log, the deliveries and their attempts, the incidents and the history blocks of both instances
are in PostgreSQL, and the receiver's secrets nowhere in it. Skipped, saying so, where
PostgreSQL is not installed."""

import hashlib
import os
import sqlite3
import threading
import time

from harness import Suite, check, eq, poll, ts
from pg import Postgres

suite = Suite("29-ha-records")

SECRET = "S3cret-T0ken-29"
PASSWORD = "Pa55-w0rd-29"
A1 = {"alertname": "disk_full", "instance": "db-1:9100", "severity": "critical"}
A2 = {"alertname": "cpu_hot", "instance": "db-2:9100", "severity": "warning"}
A3 = {"alertname": "mem_low", "instance": "db-3:9100", "severity": "warning"}


def conf(sink):
    return """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 2s
receivers:
- name: team
  webhook_configs:
  - url: '%s'
    send_resolved: true
    http_config:
      basic_auth:
        username: hook
        password: '%s'
""" % (sink.url("/hook?token=" + SECRET), PASSWORD)


def incident_of(srv, alertname):
    got = [i for i in srv.get_json("/api/x/incidents")
           if i["groupLabels"].get("alertname") == alertname]
    return got[0] if len(got) == 1 else None


def one(srv, iid):
    return srv.get_json("/api/x/incidents/%d" % iid)


def by_instance(sink, port, alertname="disk_full"):
    """Notifications of the group alertname sent by the instance listening on port (its
    externalURL)."""
    with sink.cond:
        bodies = [r[3] for r in sink.received]
    return len([b for b in bodies if b and b.get("externalURL", "").rstrip("/").endswith(":%d" % port)
                and b.get("groupLabels", {}).get("alertname") == alertname])


def timed_poll(fn, what, timeout=20.0):
    t0 = time.monotonic()
    got = poll(fn, timeout=timeout, interval=0.02, what=what)
    return got, time.monotonic() - t0


@suite.case("acks, notes, audit, deliveries and history across two instances",
            only="alertrouter")
def records(ctx):
    db = Postgres().start()
    try:
        run(ctx, db)
    finally:
        db.cleanup()


def run(ctx, db):
    sink = ctx.sink()
    args = ["--storage.url=" + db.url()]
    a = ctx.server(conf(sink), args=args)
    b = ctx.server(conf(sink), args=args)
    starts = ts(-120)  # Prometheus sends the same startsAt to every instance
    for srv in (a, b):
        srv.post_ok([{"labels": A1, "startsAt": starts}, {"labels": A2, "startsAt": starts}])
    ia = poll(lambda: incident_of(a, "disk_full"), timeout=20, what="A's incident")
    ib = poll(lambda: incident_of(b, "disk_full"), timeout=20, what="B's incident")
    # repeats flow. No flush claims in this test, but the notification log is shared: which
    # instance sends a given repeat is a race (the one whose flush comes first, before the
    # other has the first one's log row), and one instance may win every time, so count the
    # cluster's. Each instance still sends whenever the shared log says a repeat is due, so
    # an instance that ignored the acknowledgement below would send the next repeat itself.
    poll(lambda: by_instance(sink, a.port) + by_instance(sink, b.port) >= 3,
         timeout=30, what="repeats from the cluster")
    print("before the acknowledgement: %d notifications from A, %d from B"
          % (by_instance(sink, a.port), by_instance(sink, b.port)))

    # an acknowledgement on A is in force on B
    r = a.post_json("/api/x/incidents/%d/ack" % ia["id"], {"by": "alice", "comment": "on it"})
    eq(r.status, 200, "ack on A: %s" % r.text())
    got, delay = timed_poll(lambda: [i for i in [one(b, ib["id"])]
                                     if i["state"] == "acknowledged"], "ack on B")
    ctx.note("ack A -> B in %.3fs" % delay)
    print("acknowledgement on A in force on B after %.3f s" % delay)
    eq((got[0]["acknowledgedBy"], got[0]["ackComment"]), ("alice", "on it"), "B's ack")
    check(delay < 5, "ack took %.1fs to reach B" % delay)
    time.sleep(2.5)  # a send decided before the ack may still arrive
    held_b = by_instance(sink, b.port)
    held_a = by_instance(sink, a.port)
    time.sleep(6)
    eq(by_instance(sink, b.port), held_b, "B's notifications while acknowledged on A")
    eq(by_instance(sink, a.port), held_a, "A's notifications while acknowledged")
    r = b.post_json("/api/x/incidents/%d/ack" % ib["id"], {"by": "mallory"})
    eq(r.status, 409, "a later ack on B loses at once: %s" % r.text())
    check("alice" in r.json(), "names the winner: %r" % r.text())

    # a note and its edit made on A show on B with author, section and version
    r = a.post_json("/api/x/incidents/%d/notes" % ia["id"],
                    {"section": "mitigation", "author": "bob", "text": "Freed 20 GB."})
    eq(r.status, 201, "note on A: %s" % r.text())
    first = r.json()["id"]
    r = a.post_json("/api/x/incidents/%d/notes" % ia["id"],
                    {"section": "mitigation", "author": "bob", "text": "Freed 40 GB (v2).",
                     "replaces": first})
    eq(r.status, 201, "edit on A: %s" % r.text())
    got, delay = timed_poll(lambda: [n for n in one(b, ib["id"])["notes"]] if len(
        one(b, ib["id"])["notes"]) >= 2 else None, "A's notes on B")
    print("note on A visible on B after %.3f s" % delay)
    eq([(n["section"], n["author"], n["text"]) for n in got],
       [("mitigation", "bob", "Freed 20 GB."), ("mitigation", "bob", "Freed 40 GB (v2).")],
       "B's notes")
    eq(got[1]["replaces"], got[0]["id"], "the edit replaces B's copy of the first version")
    md = b.get("/api/x/incidents/%d/report" % ib["id"], {"format": "markdown"}).text()
    mit = md.split("## Mitigation", 1)[1].split("\n## ", 1)[0]
    check("Freed 40 GB (v2)" in mit and "(edited)" in mit and "bob" in mit,
          "B's report, Mitigation: %r" % mit)
    check("Freed 20 GB." not in mit, "old version hidden in B's report: %r" % mit)
    # and the other way round
    r = b.post_json("/api/x/incidents/%d/notes" % ib["id"],
                    {"section": "conclusions", "author": "carol", "text": "Add an alert at 80%."})
    eq(r.status, 201, "note on B")
    got, delay = timed_poll(lambda: [n for n in one(a, ia["id"])["notes"]
                                     if n["author"] == "carol"] or None, "B's note on A")
    print("note on B visible on A after %.3f s" % delay)
    eq(got[0]["section"], "conclusions", "section on A")

    # two acknowledgements at once on A and B: one winner on both, both recorded
    ja = poll(lambda: incident_of(a, "cpu_hot"), timeout=20, what="A's second incident")
    jb = poll(lambda: incident_of(b, "cpu_hot"), timeout=20, what="B's second incident")
    codes = {}

    def go(name, srv, iid):
        codes[name] = srv.post_json("/api/x/incidents/%d/ack" % iid, {"by": name}).status
    ts_ = [threading.Thread(target=go, args=("ann", a, ja["id"])),
           threading.Thread(target=go, args=("ben", b, jb["id"]))]
    for t in ts_:
        t.start()
    for t in ts_:
        t.join()
    check(sorted(codes.values()) in ([200, 200], [200, 409]), "ack codes %r" % codes)

    def agreed():
        x, y = one(a, ja["id"]), one(b, jb["id"])
        acks_x = [e for e in x["timeline"] if e["kind"] == "acknowledged"]
        acks_y = [e for e in y["timeline"] if e["kind"] == "acknowledged"]
        if x["acknowledgedBy"] == y["acknowledgedBy"] and len(acks_x) == len(acks_y) == 2:
            return x["acknowledgedBy"]
        return None
    winner = poll(agreed, timeout=20, what="one winner on both")
    print("concurrent acknowledgements %r: %s wins on both" % (codes, winner))
    if codes["ann"] == 409 or codes["ben"] == 409:
        eq(winner, "ann" if codes["ann"] == 200 else "ben", "the 200 one wins")

    # an acknowledgement made before B has the incident holds once B opens it
    a.post_ok([{"labels": A3, "startsAt": starts}])
    ka = poll(lambda: incident_of(a, "mem_low"), timeout=20, what="A's third incident")
    eq(a.post_json("/api/x/incidents/%d/ack" % ka["id"], {"by": "erin"}).status, 200, "ack")
    time.sleep(2)  # B has read it and found no incident of that episode
    b.post_ok([{"labels": A3, "startsAt": starts}])
    kb = poll(lambda: incident_of(b, "mem_low"), timeout=20, what="B's third incident")
    got, delay = timed_poll(lambda: [i for i in [one(b, kb["id"])]
                                     if i["acknowledgedBy"] == "erin"], "the early ack on B")
    print("acknowledgement made before B opened the incident in force %.3f s after" % delay)

    # PostgreSQL away: a note made on A meanwhile is answered at once, kept in A's store,
    # and reaches B when the database is back (the local store is the spool)
    db.stop()
    r = a.post_json("/api/x/incidents/%d/notes" % ia["id"],
                    {"section": "reporting", "author": "dan", "text": "Written in the outage."})
    eq(r.status, 201, "note on A while PostgreSQL is down")
    time.sleep(3)
    db.start()
    got, delay = timed_poll(lambda: [n for n in one(b, ib["id"])["notes"]
                                     if n["author"] == "dan"] or None, "the outage's note on B",
                            timeout=30)
    print("note written on A during the outage visible on B %.3f s after PostgreSQL returned"
          % delay)
    log = a.log_text()
    eq(log.count("unreachable (noticed by"), 1, "one unreachable line on A")
    check("reachable again after" in log, "no reachable-again line on A")

    # restart both: acknowledgements and notes are there, once
    notes_b = [n["text"] for n in one(b, ib["id"])["notes"]]
    notes_a = [n["text"] for n in one(a, ia["id"])["notes"]]
    a.restart()
    b.restart()
    time.sleep(2.5)  # one more poll round on both
    for srv, iid, notes in ((a, ia["id"], notes_a), (b, ib["id"], notes_b)):
        inc = one(srv, iid)
        eq((inc["state"], inc["acknowledgedBy"]), ("acknowledged", "alice"), "ack after restart")
        eq([n["text"] for n in inc["notes"]], notes, "notes after restart (no duplicates)")
    eq(one(a, ja["id"])["acknowledgedBy"], winner, "A's winner after restart")
    eq(one(b, jb["id"])["acknowledgedBy"], winner, "B's winner after restart")
    for srv in (a, b):  # Prometheus re-sends; the acknowledged groups stay quiet
        srv.post_ok([{"labels": A1, "startsAt": starts}, {"labels": A2, "startsAt": starts}])
    time.sleep(1.5)
    held_b = by_instance(sink, b.port)
    time.sleep(5)
    eq(by_instance(sink, b.port), held_b, "B's notifications after the restart")

    # what PostgreSQL holds: both instances' records, no secret
    def q(sql):
        return db.psql(sql)[1]
    origins = q("SELECT count(DISTINCT origin) FROM incidents")
    eq(origins, "2", "incident origins")
    eq(q("SELECT count(DISTINCT cluster_key) FROM incidents"), "3",
       "one cluster key per episode across both instances")
    for table in ("audit_log", "deliveries", "delivery_log", "history_blocks", "incident_events",
                  "incident_notes"):
        eq(q("SELECT count(DISTINCT origin) FROM %s WHERE origin <> ''" % table), "2",
           "origins in %s" % table)
        eq(q("SELECT count(*) FROM (SELECT origin, origin_seq FROM %s GROUP BY 1, 2"
             " HAVING count(*) > 1) d" % table), "0", "rows published twice in %s" % table)
    eq(q("SELECT string_agg(state || ':' || acked_by, ',') FROM incidents"
         " WHERE group_labels LIKE '%disk_full%'"), "acknowledged:alice,acknowledged:alice",
       "both instances' incident rows (B's acknowledged from A)")
    audit = q("SELECT string_agg(action, ',' ORDER BY action) FROM audit_log")
    check("incident.ack" in audit and "incident.note" in audit, "audit actions: %s" % audit)
    eq(q("SELECT count(*) FROM deliveries WHERE state = 'delivered' AND receiver = 'team'"
         " AND integration = 'webhook[0]'"),
       q("SELECT count(*) FROM deliveries"), "delivered summary rows")
    check(int(q("SELECT count(*) FROM delivery_log l JOIN deliveries d ON d.id = l.delivery_id"
                " AND d.origin = l.origin WHERE l.outcome = 'delivered'")) >= 8,
          "delivery attempts")
    eq(q("SELECT count(*) FROM incident_events WHERE detail LIKE '%\"origin\"%'"), "0",
       "remote rows published back")
    for table in ("audit_log", "deliveries", "delivery_log", "incidents", "incident_events",
                  "incident_notes"):
        eq(q("SELECT count(*) FROM %s t WHERE t::text LIKE '%%%s%%' OR t::text LIKE '%%%s%%'"
             % (table, SECRET, PASSWORD)), "0", "secrets in %s" % table)
    eq(q("SELECT count(*) FROM delivery_payloads"), "0", "payloads are not published")
    # history blocks arrive byte for byte (bytea through the publisher's arrays)
    for srv in (a, b):
        name = srv.get_json("/api/v2/status")["cluster"]["name"]
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(srv.data_dir, "alertrouter.db"),
                              uri=True)
        try:
            local = {i: hashlib.md5(d).hexdigest()
                     for i, d in con.execute("SELECT id, data FROM history_blocks")}
        finally:
            con.close()
        shared = {int(k): v for k, v in (line.split("|") for line in q(
            "SELECT origin_seq, md5(data) FROM history_blocks WHERE origin = '%s'"
            % name).splitlines())}
        check(len(shared) >= 2, "history blocks of %s in PostgreSQL: %d" % (name, len(shared)))
        eq({k: local.get(k) for k in shared}, shared, "history blocks of %s, local and shared"
           % name)


if __name__ == "__main__":
    suite.main()

#!/usr/bin/env python3
"""HA cluster benchmark (issue 14): three alertrouter instances on one PostgreSQL side by
side with a three-node Alertmanager 0.25 gossip cluster, same config, same load, same
faults; loopback only, bounded in count and time.

    python3 bench/ha.py                        # 10,000 groups, every scenario, both kinds
    python3 bench/ha.py --groups 300 --scenarios kill9,restart_all --targets alertrouter
    python3 bench/ha.py --write-docs           # rewrites the "HA cluster (issue 14)" section

Per scenario a fresh cluster (fresh data dirs; for alertrouter a fresh PostgreSQL database on
one real server from tests/e2e/pg.py) and a fresh bench/sink.c webhook sink:
  - A Prometheus-like sender posts every alert to all three instances every --interval
    seconds (one thread per instance, batches of --batch alerts, endsAt = now + 4 intervals
    while firing, as Prometheus does); one alert per group (group_by: [alertname]), plus a
    probe alert routed to a receiver without integrations, used to measure silences.
  - Faults, in the middle of the firing fan-out (once --at of the groups were notified):
      baseline     none (gives the cluster's fan-out in notifications/s)
      kill9        kill -9 of one instance (alertrouter: instance 1; Alertmanager: the
                   node at gossip position 0, the one that sends); restarted once every
                   state was delivered by the other two (or the phase timed out)
      pg_outage    alertrouter: PostgreSQL stopped with pg_ctl stop -m immediate for
                   --outage seconds, then started. Alertmanager has no database: the
                   equivalent is the position-0 node frozen by SIGSTOP for --outage seconds
                   (the others see it dead and take over), then SIGCONT
      restart_all  SIGTERM to all three at once, then all three started at once (same
                   ports, same data dirs)
  - Once every group's firing notification arrived (or --phase-timeout passed), the sender
    switches to resolved alerts (endsAt fixed in the past); then every group's resolved
    notification is expected.
  - Silence propagation: a silence on the probe alert is created on instance 1; the time
    from just before that POST until instances 2 and 3 list it (GET /api/v2/silence/{id})
    and mute the probe (its silencedBy holds the id in GET /api/v2/alerts), polled every
    10 ms. restart_all also creates a silence before the restart and checks that all three
    still list it after.
  - A tail (Alertmanager: 2 x peer timeout + group_interval + 2 s; alertrouter: 2 x claim
    lease + group_interval + 2 s) catches late duplicates.
  - Counted per (group, firing/resolved): lost = expected states never delivered (must be
    0), duplicated = deliveries beyond the first, unexpected = anything else.

alertrouter instances run with --storage.url (PostgreSQL), their own --storage.path, their
own ports and --cluster.claim-lease=<--lease>. A build that refuses --storage.url (before
issue 14's cluster code) is reported as "alertrouter cluster not available in this build"
and skipped, not failed. Environment: AR_BINARY (default build/alertrouter).
"""

import argparse
import datetime
import http.client
import json
import os
import queue
import signal
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import AM_BINARY, Server, ar_binary  # noqa: E402
from pipeline import Sink  # noqa: E402
from run import build, machine  # noqa: E402

SCENARIOS = ("baseline", "kill9", "pg_outage", "restart_all")
# what an alertrouter build without the cluster code logs before exiting
NOT_COMPLETE = "PostgreSQL storage is not complete yet"

CONFIG = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: %(gi)ds
  repeat_interval: 1h
  routes:
  - receiver: probe
    matchers: ['ha_probe="1"']
receivers:
- name: hook
  webhook_configs:
  - url: 'http://127.0.0.1:%(port)d/hook'
    send_resolved: true
- name: probe
"""


class NotAvailable(Exception):
    """This alertrouter build refuses --storage.url (no cluster code yet)."""


class OutOfTime(Exception):
    pass


def now_ns():
    return time.time_ns()


def iso_ns(ns):
    return harness.iso(datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc))


# ---------------------------------------------------------------------------
# the Prometheus-like sender


class Sender:
    """Posts every alert to every instance each interval seconds; one worker thread per
    instance with a one-cycle queue (a stalled instance drops cycles, as Prometheus's
    per-Alertmanager queue does when full)."""

    def __init__(self, servers, groups, interval, batch):
        self.servers = servers
        self.groups = groups
        self.interval = interval
        self.batch = batch
        self.t_start = now_ns()
        self.phase = "firing"
        self.t_resolved = None
        self.stop_ev = threading.Event()
        self.wake = threading.Event()
        self.first_post_ns = None
        self.ok = [0] * len(servers)
        self.failed = [0] * len(servers)
        self.queues = [queue.Queue(maxsize=1) for _ in servers]
        self.threads = [threading.Thread(target=self._worker, args=(i,), daemon=True)
                        for i in range(len(servers))]
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def start(self):
        for t in self.threads:
            t.start()
        self.ticker.start()

    def resolve(self):
        """Alerts resolve now; like Prometheus, the resolved alerts go out at once."""
        self.t_resolved = now_ns()
        self.phase = "resolved"
        self.wake.set()

    def stop(self):
        self.stop_ev.set()
        self.wake.set()
        self.ticker.join(timeout=10)
        for q in self.queues:
            try:
                q.put_nowait(None)
            except queue.Full:
                pass
        for t in self.threads:
            t.join(timeout=10)

    def bodies(self):
        now = now_ns()
        starts = iso_ns(self.t_start)
        firing_end = iso_ns(now + int(4 * self.interval * 1e9))
        ends = iso_ns(self.t_resolved) if self.phase == "resolved" else firing_end
        alerts = [{"labels": {"alertname": "HA%05d" % i, "job": "ha-bench",
                              "instance": "host-%d:9100" % (i % 100), "severity": "critical"},
                   "annotations": {"summary": "group %d of the HA benchmark" % i},
                   "startsAt": starts, "endsAt": ends,
                   "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"}
                  for i in range(self.groups)]
        alerts.append({"labels": {"alertname": "HAProbe", "ha_probe": "1"},
                       "startsAt": starts, "endsAt": firing_end})
        return [json.dumps(alerts[i:i + self.batch]).encode()
                for i in range(0, len(alerts), self.batch)]

    def _tick(self):
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            b = self.bodies()
            for q in self.queues:
                try:
                    q.put_nowait(b)
                except queue.Full:
                    pass
            self.wake.wait(max(0.0, self.interval - (time.monotonic() - t0)))
            self.wake.clear()

    def _worker(self, i):
        conn = None
        while True:
            b = self.queues[i].get()
            if b is None or self.stop_ev.is_set():
                break
            srv = self.servers[i]
            for body in b:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=3)
                    if self.first_post_ns is None:
                        self.first_post_ns = now_ns()
                    conn.request("POST", "/api/v2/alerts", body=body,
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        raise OSError("status %d" % r.status)
                    self.ok[i] += 1
                except (OSError, http.client.HTTPException):
                    self.failed[i] += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    break  # the rest of this cycle is dropped for this instance
        if conn is not None:
            conn.close()


# ---------------------------------------------------------------------------
# the sink's records per (group, state)


class SlowSink:
    """A webhook sink answering every notification after delay seconds (harness.WebhookSink,
    threaded), so that a fault lands while sends are on the wire; same interface as
    pipeline.Sink for what Deliveries reads (GET /arrivals?from=K&status=1)."""

    def __init__(self, delay):
        self.sink = harness.WebhookSink(delay_fn=lambda path, idx: delay)
        base = self.sink.httpd.handle_error

        def handle_error(request, client_address):
            # a connection reset by a server killed on purpose is not a sink failure
            if not isinstance(sys.exc_info()[1], ConnectionError):
                base(request, client_address)
        self.sink.httpd.handle_error = handle_error
        self.port = self.sink.port
        self.wall0 = time.time_ns() - int(time.monotonic() * 1e9)

    def get(self, path, timeout=30.0):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        start = int((q.get("from") or ["0"])[0])
        with self.sink.cond:
            rec = list(self.sink.received[start:])
        lines = []
        for (t, _path, _body, p) in rec:
            p = p if isinstance(p, dict) else {}
            alerts = p.get("alerts") or [{}]
            lines.append("%d\t%d\t%s\t%s\t%s" % (
                self.wall0 + int(t * 1e9), len(p.get("alerts") or []),
                (alerts[0].get("labels") or {}).get("alertname", ""), p.get("groupKey", ""),
                p.get("status", "")))
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def close(self):
        self.sink.close()


class Deliveries:
    def __init__(self, sink):
        self.sink = sink
        self.seen = 0
        self.counts = {}          # (alertname, status) -> deliveries
        self.first_ns = {}        # (alertname, status) -> first arrival
        self.unexpected = 0
        self.all_ns = []
        self.dup_after = []       # seconds from a state's first delivery to each repeat

    def update(self):
        text = self.sink.get("/arrivals?from=%d&status=1" % self.seen).decode("utf-8", "replace")
        for line in text.splitlines():
            parts = line.split("\t")
            self.seen += 1
            if len(parts) != 5 or not parts[2].startswith("HA") or parts[2] == "HAProbe" or \
                    parts[4] not in ("firing", "resolved") or parts[1] != "1":
                self.unexpected += 1
                continue
            key = (parts[2], parts[4])
            ns = int(parts[0])
            self.all_ns.append(ns)
            self.counts[key] = self.counts.get(key, 0) + 1
            if key in self.first_ns:
                self.dup_after.append((ns - self.first_ns[key]) / 1e9)
            else:
                self.first_ns[key] = ns

    def states(self, status):
        return sum(1 for (_n, s) in self.first_ns if s == status)

    def wait_states(self, status, n, deadline):
        """Polls until n distinct groups were notified in status or the deadline; returns the
        arrival (ns) of the last first delivery of that status, or None."""
        while True:
            self.update()
            if self.states(status) >= n:
                return max(ns for (k, ns) in self.first_ns.items() if k[1] == status)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


# ---------------------------------------------------------------------------
# clusters


class Cluster:
    def __init__(self, kind, config, a, pg_url=None):
        self.kind = kind
        self.a = a
        self.servers = []
        if kind == "alertmanager":
            cports = [harness.free_port() for _ in range(3)]
            for i in range(3):
                args = ["--cluster.peer=127.0.0.1:%d" % cports[j] for j in range(3) if j != i]
                args += ["--cluster.settle-timeout=10s",  
                         "--cluster.peer-timeout=%ds" % a.peer_timeout]
                self.servers.append(Server(kind, config, args=args, start=False,
                                           cluster_listen="127.0.0.1:%d" % cports[i],
                                           ready_timeout=30))
        else:
            for i in range(3):
                args = ["--storage.url=" + pg_url, "--cluster.claim-lease=%ds" % a.lease]
                self.servers.append(Server(kind, config, args=args, start=False,
                                           cluster_listen="", ready_timeout=30))

    def _each(self, fn, idx=None):
        errs = []

        def run(s):
            try:
                fn(s)
            except Exception as e:  # collected, re-raised below
                errs.append((s, e))
        ts = [threading.Thread(target=run, args=(s,))
              for n, s in enumerate(self.servers) if idx is None or n in idx]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            s, e = errs[0]
            if self.kind == "alertrouter" and NOT_COMPLETE in s.log_text():
                raise NotAvailable(
                    "alertrouter cluster not available in this build: %s refuses "
                    "--storage.url (%r in its log)" % (ar_binary(), NOT_COMPLETE))
            raise e

    def start(self, idx=None, keep_port=False):
        self._each(lambda s: s.start(keep_port=keep_port), idx)
        self.wait_joined()

    def stop_all(self):
        self._each(lambda s: s.stop(timeout=30))

    def wait_joined(self, timeout=60.0):
        """Alertmanager: every node reports cluster "ready" with 3 peers. alertrouter: every
        instance answers /api/v2/status (peers are reported, not required)."""
        def ok():
            for s in self.servers:
                st = s.get_json("/api/v2/status")
                if self.kind == "alertmanager":
                    c = st.get("cluster") or {}
                    if c.get("status") != "ready" or len(c.get("peers") or []) != 3:
                        return False
            return True
        harness.poll(ok, timeout=timeout, interval=0.2, what="the cluster to form")

    def peers_seen(self):
        out = []
        for s in self.servers:
            try:
                out.append(len((s.get_json("/api/v2/status").get("cluster") or {})
                               .get("peers") or []))
            except (OSError, harness.Fail, ValueError, http.client.HTTPException):
                out.append(None)
        return out

    def sending_index(self):
        """The instance whose loss hurts: Alertmanager's gossip position 0 (peers sorted by
        name; the others wait position x peer timeout); alertrouter's instance 1."""
        if self.kind != "alertmanager":
            return 0
        for i, s in enumerate(self.servers):
            c = s.get_json("/api/v2/status")["cluster"]
            if sorted(p["name"] for p in c["peers"]).index(c["name"]) == 0:
                return i
        return 0

    def cleanup(self):
        for s in self.servers:
            try:
                if s.proc is not None and s.proc.poll() is None:
                    try:
                        os.kill(s.pid, signal.SIGCONT)
                    except OSError:
                        pass
                s.cleanup()
            except Exception:
                pass


def silence_body(comment):
    n = now_ns()
    return {"matchers": [{"name": "ha_probe", "value": "1", "isRegex": False, "isEqual": True}],
            "startsAt": iso_ns(n), "endsAt": iso_ns(n + 3600 * 10 ** 9),
            "createdBy": "bench/ha.py", "comment": comment}


def create_silence(srv, comment):
    r = srv.post_json("/api/v2/silences", silence_body(comment))
    if r.status != 200:
        raise harness.Fail("POST silence: %d %s" % (r.status, r.text()[:200]))
    return r.json()["silenceID"]


def silence_propagation(cluster, timeout=15.0):
    """Creates a silence on instance 1; seconds until instances 2 and 3 list it and mute the
    probe alert (per instance; None when not within timeout)."""
    res = {}
    t0 = time.monotonic()
    sid = create_silence(cluster.servers[0], "propagation probe")
    flt = urllib.parse.urlencode({"filter": 'ha_probe="1"'})

    def watch(i):
        s = cluster.servers[i]
        listed = muted = None
        while time.monotonic() - t0 < timeout and (listed is None or muted is None):
            try:
                if listed is None and s.get("/api/v2/silence/" + sid, timeout=3).status == 200:
                    listed = time.monotonic() - t0
                if muted is None:
                    r = s.get("/api/v2/alerts?" + flt, timeout=3)
                    if r.status == 200 and any(sid in ((a.get("status") or {}).get("silencedBy")
                                                       or []) for a in r.json()):
                        muted = time.monotonic() - t0
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.01)
        res[i] = (listed, muted)
    ts = [threading.Thread(target=watch, args=(i,)) for i in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    listed = [res[i][0] for i in (1, 2)]
    muted = [res[i][1] for i in (1, 2)]
    return {"listed_s": None if None in listed else round(max(listed), 3),
            "muted_s": None if None in muted else round(max(muted), 3),
            "per_instance": {"instance%d" % (i + 1): res[i] for i in (1, 2)}}


def silence_listed_everywhere(cluster, sid):
    out = []
    for s in cluster.servers:
        try:
            r = s.get("/api/v2/silence/" + sid, timeout=5)
            out.append(r.status == 200 and r.json().get("status", {}).get("state") == "active")
        except (OSError, http.client.HTTPException, ValueError):
            out.append(False)
    return out


# ---------------------------------------------------------------------------
# one scenario


def run_scenario(kind, scen, a, pgsrv=None, deadline=None, log=print):
    """Runs one scenario on a fresh cluster; returns its figures (a dict). Raises
    NotAvailable when alertrouter refuses --storage.url, OutOfTime past deadline."""
    deadline = deadline or (time.monotonic() + 600)
    res = {"kind": kind, "scenario": scen, "groups": a.groups}
    sink = SlowSink(a.sink_delay) if a.sink_delay > 0 else Sink(build("sink"), max_seconds=1200)
    pg_url = None
    if kind == "alertrouter":
        db = "ha_%s_%d" % (scen, os.getpid())
        pgsrv.createdb(db)
        pg_url = pgsrv.url(db)
    cluster = Cluster(kind, CONFIG % {"port": sink.port, "gi": a.group_interval}, a, pg_url)
    sender = None
    tail = 2 * (a.peer_timeout if kind == "alertmanager" else a.lease) + a.group_interval + 2
    try:
        t_setup = time.monotonic()
        cluster.start()
        res["cluster_up_s"] = round(time.monotonic() - t_setup, 2)
        if kind == "alertmanager":
            res["peer_timeout_s"] = a.peer_timeout
        else:
            res["claim_lease_s"] = a.lease
        d = Deliveries(sink)
        pre_sid = None
        if scen == "restart_all":
            pre_sid = create_silence(cluster.servers[0], "made before the restart")
        sender = Sender(cluster.servers, a.groups, a.interval, a.batch)
        t0 = time.monotonic()
        sender.start()

        def left(limit):
            return min(time.monotonic() + limit, deadline)

        if scen != "baseline":
            at = max(1, int(a.groups * a.at))
            got = d.wait_states("firing", at, left(a.phase_timeout))
            if got is None:
                raise harness.Fail("the fan-out did not reach %d groups" % at)
            t_fault = time.monotonic()
            res["fault_at_s"] = round(t_fault - t0, 2)
            res["notified_at_fault"] = d.states("firing")
            victim = cluster.sending_index()
            if scen == "kill9":
                res["victim"] = victim + 1
                cluster.servers[victim].kill9()
            elif scen == "pg_outage" and kind == "alertrouter":
                pgsrv.stop("immediate")
                time.sleep(a.outage)
                pgsrv.start()
            elif scen == "pg_outage":
                res["victim"] = victim + 1
                res["equivalent"] = "SIGSTOP of the position-0 node for %ds" % a.outage
                os.kill(cluster.servers[victim].pid, signal.SIGSTOP)
                time.sleep(a.outage)
                os.kill(cluster.servers[victim].pid, signal.SIGCONT)
            elif scen == "restart_all":
                cluster.stop_all()
                cluster.start(keep_port=True)
                kept = silence_listed_everywhere(cluster, pre_sid)
                res["silence_kept_after_restart"] = "%d/3" % sum(kept)
            res["fault_s"] = round(time.monotonic() - t_fault, 2)
        last = d.wait_states("firing", a.groups, left(a.phase_timeout))
        res["firing_notified"] = d.states("firing")
        if last is not None and sender.first_post_ns:
            res["firing_done_s"] = round((last - sender.first_post_ns) / 1e9, 2)
            if scen == "baseline" and a.sink_delay == 0:
                res["fanout_per_s"] = round(a.groups / ((last - sender.first_post_ns) / 1e9))
                # the same, counted from the first notification: the sending alone, without
                # the sender's posting and group_wait, which both sides share
                first = min(ns for (k, ns) in d.first_ns.items() if k[1] == "firing")
                if last > first:
                    res["send_per_s"] = round(a.groups / ((last - first) / 1e9))
        if scen == "kill9":
            cluster.start(idx=[res["victim"] - 1], keep_port=True)
        # no instance may still be waiting on a firing flush when the alerts resolve: an
        # Alertmanager peer that sends after the resolved notification went out sends a
        # stale firing one (and its peers then resolve again)
        time.sleep(max(0.0, min(tail, deadline - time.monotonic())))
        sender.resolve()
        t_res = time.monotonic()
        d.wait_states("resolved", a.groups, left(a.phase_timeout))
        res["resolved_notified"] = d.states("resolved")
        res["resolved_done_s"] = round(time.monotonic() - t_res, 2)
        try:
            cluster.wait_joined(timeout=min(60.0, max(1.0, deadline - time.monotonic())))
        except harness.Fail as e:
            res["rejoin"] = str(e)[:200]
        t_sil = time.monotonic()
        res["silence"] = silence_propagation(cluster)
        time.sleep(max(0.0, min(tail - (time.monotonic() - t_sil), deadline - time.monotonic())))
        d.update()
        if time.monotonic() >= deadline:
            res["out_of_time"] = True
        expected = {("HA%05d" % i, s) for i in range(a.groups) for s in ("firing", "resolved")}
        res["lost"] = len(expected - set(d.counts))
        res["lost_firing"] = sum(1 for k in expected - set(d.counts) if k[1] == "firing")
        res["duplicated"] = sum(c - 1 for c in d.counts.values() if c > 1)
        res["states_duplicated"] = sum(1 for c in d.counts.values() if c > 1)
        res["duplicated_firing"] = sum(c - 1 for k, c in d.counts.items() if c > 1 and
                                       k[1] == "firing")
        if d.dup_after:
            da = sorted(d.dup_after)
            res["duplicate_after_s"] = {"min": round(da[0], 2),
                                        "median": round(da[len(da) // 2], 2),
                                        "max": round(da[-1], 2)}
        res["unexpected"] = d.unexpected
        res["notifications"] = sum(d.counts.values()) + d.unexpected
        res["posts_failed"] = sum(sender.failed)
        res["peers_seen"] = cluster.peers_seen()
        res["errors_in_logs"] = sum(s.log_text().count("level=error") for s in cluster.servers)
        return res
    finally:
        if sender is not None:
            sender.stop()
        if a.keep_logs:
            os.makedirs(a.keep_logs, exist_ok=True)
            try:
                with open(os.path.join(a.keep_logs, "%s-%s-arrivals.txt" % (kind, scen)),
                          "wb") as f:
                    f.write(sink.get("/arrivals?status=1"))
            except (OSError, RuntimeError, http.client.HTTPException):
                pass
            for i, s in enumerate(cluster.servers):
                with open(os.path.join(a.keep_logs, "%s-%s-%d.log" % (kind, scen, i + 1)),
                          "w") as f:
                    f.write(s.log_text())
                    try:  # the counters at the end, for a post-mortem
                        f.write("\n--- /metrics ---\n" + s.get("/metrics").text())
                    except (OSError, RuntimeError, harness.Fail, http.client.HTTPException):
                        pass
            if pgsrv is not None and pg_url is not None:
                try:  # the shared claims, for a post-mortem of a lost or duplicated state
                    rc, out = pgsrv.psql("SELECT receiver, integration, group_key, "
                                         "encode(state_hash, 'hex'), owner, claimed_at, "
                                         "lease_until, done_at FROM flush_claims ORDER BY 3, 6",
                                         dbname=db, check=False)
                    with open(os.path.join(a.keep_logs, "%s-%s-claims.txt" % (kind, scen)),
                              "w") as f:
                        f.write(out)
                except (OSError, RuntimeError) as e:
                    log("could not dump the claims: %s" % e)
                # where PostgreSQL spent its time, when started with pg_stat_statements
                # (AR_PG_OPTS="-c shared_preload_libraries=pg_stat_statements")
                if "pg_stat_statements" in os.environ.get("AR_PG_OPTS", ""):
                    pgsrv.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", dbname=db,
                               check=False)
                    rc, out = pgsrv.psql(
                        "SELECT round(total_exec_time)::bigint, calls, rows, "
                        "left(regexp_replace(query, '\\s+', ' ', 'g'), 160) "
                        "FROM pg_stat_statements ORDER BY 1 DESC LIMIT 40", dbname=db,
                        check=False)
                    with open(os.path.join(a.keep_logs, "%s-%s-statements.txt" % (kind, scen)),
                              "w") as f:
                        f.write(out)
        cluster.cleanup()
        sink.close()


# ---------------------------------------------------------------------------
# report

LOAD_END = []
BEGIN = "<!-- bench/ha.py: begin (regenerated by --write-docs) -->"
END = "<!-- bench/ha.py: end -->"
LABELS = {"baseline": "no fault", "kill9": "(a) kill -9 of one instance mid fan-out",
          "pg_outage": "(b) PostgreSQL stopped 30 s / AM: one node SIGSTOPped",
          "restart_all": "(c) all instances restarted together"}


def fmt_s(v):
    return "-" if v is None else "%.2f s" % v


def fmt_sil(v):
    return "not within 15 s" if v is None else "%.2f s" % v


def row(r):
    sil = r.get("silence") or {}
    return "| %s | %s | %d | %d | %d | %s | %s | %s | %s | %s |" % (
        r["kind"], LABELS[r["scenario"]].replace("30 s", "%d s" % r.get("outage", 30)) +
        (" (earlier run, %s UTC)" % r["measured"] if r.get("measured") else ""),
        r["groups"], r["lost"], r["duplicated"], fmt_sil(sil.get("listed_s")),
        fmt_sil(sil.get("muted_s")),
        "%s notif./s%s" % (r["fanout_per_s"], " (sending alone: %s/s)" % r["send_per_s"]
                           if "send_per_s" in r else "") if "fanout_per_s" in r else
        fmt_s(r.get("firing_done_s")),
        r.get("silence_kept_after_restart", "-"),
        "/".join("-" if p is None else str(p) for p in r.get("peers_seen") or []) or "-")


def report(a, runs):
    """The docs section from runs: kind -> one run's record (see record_run)."""
    results = [r for k in harness.KINDS for r in (runs.get(k) or {}).get("results", [])]
    notes = [n for k in harness.KINDS for n in (runs.get(k) or {}).get("notes", [])
             if (runs.get(k) or {}).get("results")]
    ref = runs.get("alertmanager") or runs.get("alertrouter") or {}
    a = argparse.Namespace(**dict(vars(a), **(ref.get("params") or {})))
    am_version = ""
    try:
        import subprocess
        am_version = subprocess.run([AM_BINARY, "--version"], capture_output=True,
                                    timeout=10).stderr.decode().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        pass
    L = [BEGIN, "## HA cluster (issue 14)", ""]
    for k in harness.KINDS:
        run = runs.get(k)
        if run and not run["results"]:
            L.append("- %s side: no figures (%s UTC): %s" % (
                k, run["date"], "; ".join(run["notes"]) or "not run"))
        elif run:
            L.append("- %s side: `%s` on %s UTC (%s; load average %.1f at the start, %.1f at "
                     "the end; servers, sender and sink share the CPUs over loopback with "
                     "whatever else runs on the machine)." % (
                         k, ("python3 bench/ha.py " + run["argv"]).strip(), run["date"],
                         run["machine"], run["load_start"], run["load_end"]))
    L += ["",
         "Method: three instances behind one config (`group_by: [alertname]`, "
         "`group_wait: 1s`, `group_interval: %ds`, webhook with `send_resolved: true` to "
         "`bench/sink.c`) and one Prometheus-like sender posting all %d alerts (one per "
         "group) plus a probe alert to all three every %d s (batches of %d, `endsAt` = now "
         "+ 4 intervals while firing). Each scenario runs on a fresh cluster: the fault hits "
         "once %d%% of the groups were notified; once every firing state arrived and a tail "
         "of 2 × peer timeout (Alertmanager) or 2 × claim lease (alertrouter) + "
         "group_interval + 2 s passed, the sender resolves all alerts at once and every "
         "resolved state is expected; the same tail after that catches late duplicates. Lost = (group, firing/resolved) states never delivered; "
         "duplicated = deliveries beyond the first of a state. Silence: created on instance "
         "1 once the cluster is whole again; time from just before the POST until instances "
         "2 and 3 both list it (`GET /api/v2/silence/{id}`) and mute the probe alert "
         "(`silencedBy` in `GET /api/v2/alerts`), polled every 10 ms. Fan-out: first POST "
         "to the last group's first notification, no fault." % (
             a.group_interval, a.groups, a.interval, a.batch, int(a.at * 100)),
         "",
         "Alertmanager (%s): `--cluster.listen-address=127.0.0.1:<port>` and "
         "`--cluster.peer` for the two others, `--cluster.peer-timeout=%ds`, "
         "`--cluster.settle-timeout=10s`, each with its own `--storage.path`. The node "
         "killed in (a) and frozen in (b) is the one at gossip position 0, the one that "
         "sends (the others wait position × peer timeout, then check the gossiped "
         "notification log). Alertmanager has no database: (b) is run as its nearest "
         "equivalent, that node stopped with SIGSTOP for %d s (a partition: the others "
         "declare it dead and take over) and then SIGCONT. alertrouter: `--storage.url` "
         "on one PostgreSQL (tests/e2e/pg.py), `--cluster.claim-lease=%ds`, its own "
         "`--storage.path` and port each; (b) is `pg_ctl stop -m immediate`, %d s, start." % (
             am_version or "0.25", a.peer_timeout, a.outage, a.lease, a.outage),
         "",
         "Why Alertmanager's peer timeout is %ds here and not its default 15 s: a peer at "
         "position p sends what it flushed p × peer timeout earlier; when the alert resolved "
         "in between (the resolved notification already out), that send is a stale firing "
         "notification, and the next peer then resolves again. A first run with the default "
         "15 s and `group_interval: 5s` (300 groups, no fault) gave 1183 duplicates for 600 "
         "states, 592 of them stale firing ones. `group_interval` must exceed 2 × peer "
         "timeout; the default 15 s would need over 30 s and a run too long for the time "
         "bound." % a.peer_timeout,
         "",
         "| cluster | scenario | groups | lost | duplicated | silence listed on 2 and 3 | "
         "silence mutes on 2 and 3 | fan-out (no fault) / all firing states in | silence "
         "made before, kept after restart | peers each instance sees at the end |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "lost" in r:
            L.append(row(r))
    L.append("")
    for r in results:
        if "lost" not in r:
            continue
        extra = {k: v for k, v in r.items() if k not in ("kind", "scenario", "groups")}
        L.append("- %s %s: %s" % (r["kind"], r["scenario"], json.dumps(extra, sort_keys=True)))
    for n in notes:
        L.append("- " + n)
    L += ["", END]
    return "\n".join(L)


PARAMS = ("groups", "interval", "batch", "group_interval", "at", "outage", "peer_timeout",
          "lease")
STORE = os.path.join(HERE, "..", "docs", "benchmarks-ha.json")


def write_docs(a, runs):
    """Rewrites this script's section of docs/benchmarks.md from runs merged into the
    figures kept in docs/benchmarks-ha.json: a kind run now replaces its earlier figures,
    a kind not run now keeps them (so the two sides can be measured at different times)."""
    import docs_sections
    try:
        with open(STORE) as f:
            kept = json.load(f)
    except (OSError, ValueError):
        kept = {}
    for k, run in runs.items():
        old = kept.get(k)
        if not run["results"] and old:
            continue
        if old and old["results"]:
            # a scenario this run did not reach (--max-seconds) keeps its earlier figures
            have = {r["scenario"] for r in run["results"]}
            for r in old["results"]:
                if r["scenario"] not in have and "lost" in r:
                    run["results"].append(dict(r, measured=r.get("measured", old["date"])))
            run["results"].sort(key=lambda r: SCENARIOS.index(r["scenario"]))
        kept[k] = run
    with open(STORE, "w") as f:
        json.dump(kept, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s" % docs_sections.write_section(BEGIN, END, report(a, kept)))


def run_args():
    """The command line without --json and --keep-logs (they change no figure)."""
    out, skip = [], False
    for x in sys.argv[1:]:
        if skip:
            skip = False
        elif x in ("--json", "--keep-logs"):
            skip = True
        elif not x.startswith(("--json=", "--keep-logs=")):
            out.append(x)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", type=int, default=10000)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--targets", default="alertrouter,alertmanager")
    ap.add_argument("--interval", type=int, default=15, help="sender resend interval, s")
    ap.add_argument("--batch", type=int, default=500, help="alerts per POST")
    ap.add_argument("--group-interval", type=int, default=5)
    ap.add_argument("--at", type=float, default=0.3, help="fault once this share was notified")
    ap.add_argument("--outage", type=int, default=30, help="(b) length, s")
    ap.add_argument("--peer-timeout", type=int, default=2,
                    help="Alertmanager, s (its default 15 s needs a group_interval over 30 s)")
    ap.add_argument("--lease", type=int, default=5, help="alertrouter claim lease, s")
    ap.add_argument("--phase-timeout", type=float, default=90.0)
    ap.add_argument("--sink-delay", type=float, default=0.0,
                    help="> 0: a Python sink answering after this many seconds instead of "
                         "bench/sink.c (keeps sends on the wire at the fault; no fan-out "
                         "figure then)")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="whole run")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep-logs", help="copy the servers' logs into this directory")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--report-from", metavar="JSON",
                    help="no run: write the docs section from a --json file of an earlier run "
                         "made with the same options")
    ap.add_argument("--note", action="append", default=[],
                    help="with --report-from: a line added to the section's notes")
    a = ap.parse_args()
    scens = [s for s in a.scenarios.split(",") if s]
    kinds = [k for k in a.targets.split(",") if k]
    if not 1 <= a.groups <= 20000 or any(s not in SCENARIOS for s in scens) or \
            any(k not in harness.KINDS for k in kinds) or not 0 < a.at < 1 or \
            not 1 <= a.outage <= 120 or not 10 <= a.max_seconds <= 1800:
        ap.error("--groups 1..20000, --scenarios from %s, --targets from %s, --at in (0,1), "
                 "--outage 1..120, --max-seconds 10..1800" % (SCENARIOS, harness.KINDS))
    if a.report_from:
        with open(a.report_from) as f:
            saved = json.load(f)
        first = "alertmanager" if "alertmanager" in saved else next(iter(saved))
        saved[first]["notes"] = saved[first].get("notes", []) + a.note
        write_docs(a, saved)
        return
    deadline = time.monotonic() + a.max_seconds
    results, notes_by = [], {k: [] for k in kinds}
    load_start = os.getloadavg()[0]
    pgsrv = None
    for kind in kinds:
        if kind == "alertmanager" and not os.path.exists(AM_BINARY):
            notes_by[kind].append("Alertmanager not installed (%s): its side not run" % AM_BINARY)
            print(notes_by[kind][-1], flush=True)
            continue
        if kind == "alertrouter":
            import pg
            try:
                pgsrv = pgsrv or pg.Postgres().start()
            except harness.Skip as e:
                notes_by[kind].append("alertrouter side not run: %s" % e)
                print(notes_by[kind][-1], flush=True)
                continue
        for scen in scens:
            if time.monotonic() >= deadline:
                notes_by[kind].append("%s %s not run: --max-seconds %.0f reached" % (kind, scen,
                                                                           a.max_seconds))
                print(notes_by[kind][-1], flush=True)
                continue
            try:
                r = run_scenario(kind, scen, a, pgsrv, deadline)
                r["outage"] = a.outage
            except NotAvailable as e:
                notes_by[kind].append(str(e))
                print(notes_by[kind][-1], flush=True)
                break
            except (harness.Fail, OSError, RuntimeError) as e:
                r = {"kind": kind, "scenario": scen, "error": str(e)[:500]}
                notes_by[kind].append("%s %s failed: %s" % (kind, scen, str(e)[:300]))
            results.append(r)
            print(json.dumps(r, sort_keys=True), flush=True)
    if pgsrv is not None:
        pgsrv.cleanup()
    LOAD_END.append(os.getloadavg()[0])
    runs = {}
    for k in kinds:
        runs[k] = {"argv": " ".join(run_args()),
                   "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                   "machine": machine(), "load_start": load_start, "load_end": LOAD_END[0],
                   "params": {p: getattr(a, p) for p in PARAMS},
                   "results": [r for r in results if r["kind"] == k],
                   "notes": notes_by[k]}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)
    if a.write_docs:
        write_docs(a, runs)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark alertrouter against Alertmanager (when installed), loopback only.

Measures, for each server in the same run:
  * ingest throughput (alerts/s) with 1, 10 and 100 distinct alerts per request over
    8 and 32 keep-alive connections, and re-posting the same alerts;
  * the server's own CPU per ingested alert in those steps (issue 16's targets);
  * resident memory (VmRSS, and VmHWM peak) while holding 10k / 100k (/ 1M) active alerts;
  * GET /api/v2/alerts latency at those sizes;
  * startup time (process start to /-/ready), empty data dir.

Load comes from bench/loadgen.c (epoll, C), compiled on first use with
    cc -O2 -Wall -o <tmp>/loadgen bench/loadgen.c
Alerts are ~890 bytes each: 9 labels, summary/description/runbook annotations,
generatorURL, explicit startsAt/endsAt (far future, so they stay active).

Every step runs on a fresh server with a temporary data dir and is bounded in time
(--step-seconds, default 5) and count. Usage:
    python3 bench/run.py                       # full run (sizes 10k,100k)
    python3 bench/run.py --quick               # short smoke run
    python3 bench/run.py --sizes 10000,100000,1000000 --write-docs
    python3 bench/run.py --targets alertmanager
Environment: AR_BINARY as for the e2e tests.
"""

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

import docs_sections  # noqa: E402
import harness  # noqa: E402
from harness import AM_BINARY, Server, ar_binary  # noqa: E402

CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: blackhole
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: blackhole
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build(name, libs=()):
    """Compiles bench/<name>.c once per source version into $TMPDIR/ar-bench-<uid>/ and
    returns the executable's path (shared by run.py, pipeline.py and floor.py)."""
    src = os.path.join(HERE, name + ".c")
    with open(src, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:12]
    out_dir = os.path.join(tempfile.gettempdir(), "ar-bench-%d" % os.getuid())
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, "%s-%s" % (name, digest))
    if not os.path.exists(exe):
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O2", "-Wall", "-Werror", "-o", exe + ".tmp", src] + list(libs),
                       check=True)
        os.rename(exe + ".tmp", exe)
    return exe


def wait_idle(pid, limit_s=15.0, step_s=0.25):
    """Waits until the process used under 5% of a CPU over one step (at most limit_s);
    returns the seconds waited."""
    t0 = time.monotonic()
    last = proc_cpu_s(pid)
    while time.monotonic() - t0 < limit_s:
        time.sleep(step_s)
        cur = proc_cpu_s(pid)
        if cur - last < 0.05 * step_s:
            break
        last = cur
    return time.monotonic() - t0


def proc_cpu_s(pid):
    """utime + stime of a process in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


class Bench:
    def __init__(self, args):
        self.args = args
        self.loadgen = build("loadgen")
        self.results = {}
        self.index = 0  # distinct alert indices across steps
        self.starts = harness.iso(harness.now_utc() - datetime.timedelta(minutes=5))
        self.ends = harness.iso(harness.now_utc() + datetime.timedelta(days=30))

    def server(self, kind):
        return Server(kind, CONFIG, ready_timeout=30)

    def run_loadgen(self, srv, conns, batch, seconds, mode="distinct", max_alerts=0,
                    start_index=None, repeat_set=1000):
        if start_index is None:
            start_index = self.index
        cmd = [self.loadgen, "--port", str(srv.port), "--prefix", srv.prefix,
               "--conns", str(conns), "--batch", str(batch), "--duration", str(seconds),
               "--mode", mode, "--start-index", str(start_index), "--repeat-set", str(repeat_set),
               "--starts-at", self.starts, "--ends-at", self.ends]
        if max_alerts:
            cmd += ["--max-alerts", str(max_alerts)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=seconds + 60)
        try:
            res = json.loads(p.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError("loadgen failed: %s %s" % (p.stdout[-500:], p.stderr[-500:]))
        if p.returncode != 0:
            res["stderr"] = p.stderr.decode("utf-8", "replace")[-300:]
        if mode == "distinct":
            self.index = max(self.index, res["next_index"])
        return res

    # -- steps --------------------------------------------------------------
    # Every step runs for each target back to back, so that both servers see the same
    # machine load (other work on a shared machine moves the absolute figures).
    def startup(self, kind):
        times = []
        for _ in range(self.args.startup_runs):
            srv = self.server(kind)
            try:
                times.append(srv.startup_seconds())
            finally:
                srv.cleanup()
        return {"median_s": statistics.median(times), "runs": times}

    def ingest_distinct(self, kind, conns, batch):
        srv = self.server(kind)
        try:
            wait_idle(srv.pid)
            cpu0 = proc_cpu_s(srv.pid)
            r = self.run_loadgen(srv, conns, batch, self.args.step_seconds)
            wait_idle(srv.pid)  # and what the requests left to do (commits, GC)
            r["server_cpu_s"] = proc_cpu_s(srv.pid) - cpu0
            r["rss_kb_after"] = srv.rss_kb()
        finally:
            srv.cleanup()
        r.update(mode="distinct", conns=conns, batch=batch)
        log("  %s ingest distinct conns=%d batch=%d: %.0f alerts/s (p99 %.1f ms)%s"
            % (kind, conns, batch, r["alerts_per_s"], r["p99_ms"], " ERR" if r.get("stderr") else ""))
        return r

    def ingest_repeat(self, kind, conns, batch):
        """Re-posting the same alerts: a fixed set, stored first, then posted again."""
        srv = self.server(kind)
        try:
            n = self.args.repeat_set
            base = self.index
            self.run_loadgen(srv, 8, 100, 60, max_alerts=n, start_index=base)
            wait_idle(srv.pid)
            cpu0 = proc_cpu_s(srv.pid)
            r = self.run_loadgen(srv, conns, batch, self.args.step_seconds, mode="repeat",
                                 start_index=base, repeat_set=n)
            wait_idle(srv.pid)
            r["server_cpu_s"] = proc_cpu_s(srv.pid) - cpu0
            count = self.count_alerts(srv)
            r["listed_after"] = count
        finally:
            srv.cleanup()
        r.update(mode="repeat", conns=conns, batch=batch)
        log("  %s ingest repeat conns=%d batch=%d: %.0f alerts/s (listed %d of %d)"
            % (kind, conns, batch, r["alerts_per_s"], count, n))
        return r

    def count_alerts(self, srv):
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=300)
        try:
            conn.request("GET", srv.prefix + "/api/v2/alerts")
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        return body.count(b'"fingerprint":')

    def get_latency(self, srv, budget_s):
        """Whole GET /api/v2/alerts bodies read by curl (a C client: Python's http.client
        needed ~1 s for 100 MB by itself, which hid the servers' difference); this process
        only counts fingerprints in the bytes curl pipes to it. Falls back to http.client
        when curl is missing."""
        times = []
        size = 0
        count = 0
        url = "http://%s:%d%s/api/v2/alerts" % (srv.host, srv.port, srv.prefix)
        key = b'"fingerprint":'
        t_end = time.monotonic() + budget_s
        while len(times) < self.args.get_runs and (not times or time.monotonic() < t_end):
            size = count = 0
            if shutil.which("curl"):
                t0 = time.monotonic()
                p = subprocess.Popen(["curl", "-s", "-S", "--fail", "--max-time", "900", url],
                                     stdout=subprocess.PIPE)
                tail = b""
                while True:
                    chunk = p.stdout.read1(1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    buf = tail + chunk
                    count += buf.count(key) - tail.count(key)
                    tail = buf[-(len(key) - 1):]
                rc = p.wait()
                times.append(time.monotonic() - t0)
                if rc != 0:
                    raise RuntimeError("curl GET /api/v2/alerts failed: exit %d" % rc)
            else:
                conn = http.client.HTTPConnection(srv.host, srv.port, timeout=600)
                try:
                    t0 = time.monotonic()
                    conn.request("GET", srv.prefix + "/api/v2/alerts")
                    body = conn.getresponse().read()
                    times.append(time.monotonic() - t0)
                finally:
                    conn.close()
                size = len(body)
                count = body.count(key)
                del body
        return {"median_s": statistics.median(times), "runs": times, "bytes": size, "count": count}

    def size_step(self, kind, n):
        srv = self.server(kind)
        try:
            rss0 = srv.rss_kb()
            t0 = time.monotonic()
            fill = self.run_loadgen(srv, 8, 100, max(60, n / 2000.0), max_alerts=n)
            fill_s = time.monotonic() - t0
            time.sleep(1.0)
            rss = srv.rss_kb()
            g = self.get_latency(srv, budget_s=20)
            hwm = self.vm_hwm(srv)
            rss_after = srv.rss_kb()
            # Restart on the same data dir: alertrouter reloads its alerts from SQLite
            # (Alertmanager keeps alerts in memory only and comes back empty).
            srv.stop(timeout=60)
            srv.start()
            restart_s = srv.startup_seconds()
            restart_count = self.count_alerts(srv)
            restart_rss = srv.rss_kb()
        finally:
            srv.cleanup()
        r = {"alerts": n, "fill_alerts_per_s": fill["alerts_per_s"], "fill_s": fill_s,
             "fill_errors": fill["errors"] + fill["non200"], "rss_idle_kb": rss0, "rss_kb": rss,
             "rss_after_get_kb": rss_after, "hwm_kb": hwm, "get": g, "restart_s": restart_s,
             "restart_count": restart_count, "restart_rss_kb": restart_rss}
        log("  %s %d alerts: RSS %.1f MiB, GET %.3f s (%d listed, %.1f MiB)"
            % (kind, n, rss / 1024.0, g["median_s"], g["count"], g["bytes"] / 1048576.0))
        return r

    @staticmethod
    def vm_hwm(srv):
        with open("/proc/%d/status" % srv.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def step(self, kind, key, fn, *a):
        res = self.results.setdefault(kind, {})
        if res.get("error"):
            return
        try:
            out = fn(kind, *a)
        except Exception as e:  # keep the other server's figures
            res["error"] = "%s: %s" % (type(e).__name__, e)
            log("  %s FAILED: %s" % (kind, res["error"]))
            return
        if isinstance(res.get(key), list):
            res[key].append(out)
        else:
            res[key] = out

    def run(self):
        kinds = self.args.targets
        for kind in kinds:
            self.results[kind] = {"version": version_of(kind), "ingest": [], "sizes": []}
        self.results["loadavg_start"] = os.getloadavg()
        for kind in kinds:
            self.step(kind, "startup", self.startup)
            if "startup" in self.results[kind]:
                log("  %s startup %.3f s" % (kind, self.results[kind]["startup"]["median_s"]))
        for conns in self.args.conns:
            for batch in self.args.batches:
                for kind in kinds:
                    self.step(kind, "ingest", self.ingest_distinct, conns, batch)
        for batch in self.args.repeat_batches:
            for kind in kinds:
                self.step(kind, "ingest", self.ingest_repeat, self.args.conns[0], batch)
        for n in self.args.sizes:
            for kind in kinds:
                self.step(kind, "sizes", self.size_step, n)
        self.results["loadavg_end"] = os.getloadavg()
        return self.results


def version_of(kind):
    b = ar_binary() if kind == "alertrouter" else AM_BINARY
    try:
        p = subprocess.run([b, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        return p.stdout.decode("utf-8", "replace").strip().splitlines()[0]
    except Exception as e:
        return "unknown (%s)" % e


# -- report -------------------------------------------------------------------

def fmt_rate(v):
    return "%.0f" % v if v is not None else "—"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    return ("%%.%df×" % digits) % (a / b)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB RAM" % (int(f.readline().split()[1]) / 1048576.0)
    except OSError:
        pass
    return "%s, %d CPUs, %s, %s" % (cpu, os.cpu_count(), mem, platform.platform())


def report(results, args):
    ar = results.get("alertrouter", {})
    am = results.get("alertmanager", {})
    L = []
    L.append("# Benchmarks: alertrouter vs Alertmanager")
    L.append("")
    L.append("Generated by `python3 bench/run.py %s` on %s UTC." %
             (" ".join(args.argv), datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")))
    L.append("")
    L.append("- Machine: %s. Load generator and server share the CPUs (loopback); load average "
             "%.1f at the start, %.1f at the end (other work on the machine moves absolute figures; "
             "each step runs both servers back to back, so the ratios are the figure to read)."
             % (machine(), results.get("loadavg_start", (0,))[0], results.get("loadavg_end", (0,))[0]))
    for kind, r in (("alertrouter", ar), ("alertmanager", am)):
        if r:
            L.append("- %s: `%s`%s" % (kind, r.get("version", "?"),
                                       (" — **failed: %s**" % r["error"]) if r.get("error") else ""))
    L.append("- Alerts: ~890 bytes each (9 labels, 3 annotations, generatorURL, explicit times), "
             "load from `bench/loadgen.c` (epoll, keep-alive, one request in flight per connection). "
             "Each step starts a fresh server with an empty data dir; %g s per ingest step." % args.step_seconds)
    L.append("- `GET /api/v2/alerts`: the whole body read by curl (median of up to %d runs within 20 s), "
             "the number of alerts listed checked from the bytes." % args.get_runs)
    L.append("- Ratios are alertrouter / Alertmanager: above 1 means alertrouter is faster for "
             "throughput, below 1 means it uses less memory or time for RSS, latency and startup.")
    L.append("")
    L.append("## Ingest throughput (alerts/s)")
    L.append("")
    L.append("| alerts | batch | conns | alertrouter | p99 ms | Alertmanager | p99 ms | ratio |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")

    def key(r):
        return (r["mode"], r["batch"], r["conns"])
    ar_i = {key(r): r for r in ar.get("ingest", [])}
    am_i = {key(r): r for r in am.get("ingest", [])}
    for k in sorted(set(ar_i) | set(am_i), key=lambda k: (k[0] != "distinct", k[1], k[2])):
        a, b = ar_i.get(k), am_i.get(k)
        L.append("| %s | %d | %d | %s | %s | %s | %s | %s |" % (
            "new" if k[0] == "distinct" else "re-posted", k[1], k[2],
            fmt_rate(a["alerts_per_s"]) + (" ⚠" if a.get("stderr") else "") if a else "—",
            "%.1f" % a["p99_ms"] if a else "—",
            fmt_rate(b["alerts_per_s"]) + (" ⚠" if b.get("stderr") else "") if b else "—",
            "%.1f" % b["p99_ms"] if b else "—",
            ratio(a and a["alerts_per_s"], b and b["alerts_per_s"])))
    L.append("")
    L.append("⚠ = some requests failed (non-200 or connection errors) during the step.")
    L.append("")
    L.append("## Server CPU per alert")
    L.append("")
    L.append("The server process's own CPU (user + system, all threads, `/proc/<pid>/stat`) from "
             "the start of the step to when it is idle again after it, divided by the alerts "
             "acknowledged; the load generator's CPU is not counted. Issue 16's targets: "
             "Alertmanager / alertrouter ≥ 4 at batch 1, ≥ 6 at batch 10, ≥ 8 at batch 100 "
             "and for re-posted alerts.")
    L.append("")
    L.append("| alerts | batch | conns | alertrouter µs/alert | Alertmanager µs/alert | AM / AR | target |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    targets = {("distinct", 1): 4, ("distinct", 10): 6, ("distinct", 100): 8, ("repeat", 100): 8}

    def us_per_alert(r):
        if not r or r.get("server_cpu_s") is None or not r.get("ok_alerts"):
            return None
        return 1e6 * r["server_cpu_s"] / r["ok_alerts"]
    for k in sorted(set(ar_i) | set(am_i), key=lambda k: (k[0] != "distinct", k[1], k[2])):
        a, b = us_per_alert(ar_i.get(k)), us_per_alert(am_i.get(k))
        tgt = targets.get((k[0], k[1]))
        L.append("| %s | %d | %d | %s | %s | %s | %s |" % (
            "new" if k[0] == "distinct" else "re-posted", k[1], k[2],
            "—" if a is None else "%.1f" % a, "—" if b is None else "%.1f" % b,
            "—" if not a or b is None else "%.1f×" % (b / a),
            "≥ %d×" % tgt if tgt else ""))
    L.append("")
    L.append("## Memory and `GET /api/v2/alerts` latency with N active alerts")
    L.append("")
    L.append("| active alerts | RSS alertrouter | RSS Alertmanager | ratio | GET alertrouter | "
             "GET Alertmanager | ratio | response size |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    ar_s = {r["alerts"]: r for r in ar.get("sizes", [])}
    am_s = {r["alerts"]: r for r in am.get("sizes", [])}

    def mib(kb):
        return "%.1f MiB" % (kb / 1024.0)
    for n in sorted(set(ar_s) | set(am_s)):
        a, b = ar_s.get(n), am_s.get(n)
        L.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
            n, mib(a["rss_kb"]) if a else "—", mib(b["rss_kb"]) if b else "—",
            ratio(a and a["rss_kb"], b and b["rss_kb"]),
            "%.3f s" % a["get"]["median_s"] if a else "—",
            "%.3f s" % b["get"]["median_s"] if b else "—",
            ratio(a and a["get"]["median_s"], b and b["get"]["median_s"]),
            "%.1f MiB" % ((a or b)["get"]["bytes"] / 1048576.0)))
    L.append("")
    notes = []
    for kind, s in (("alertrouter", ar_s), ("Alertmanager", am_s)):
        for n, r in sorted(s.items()):
            if r["get"]["count"] != n or r["fill_errors"]:
                notes.append("%s at %d: GET listed %d alerts, %d fill errors"
                             % (kind, n, r["get"]["count"], r["fill_errors"]))
            notes.append("%s at %d: filled at %.0f alerts/s; idle RSS %s, peak (VmHWM) %s, "
                         "RSS after GETs %s" % (kind, n, r["fill_alerts_per_s"], mib(r["rss_idle_kb"]),
                                                 mib(r["hwm_kb"]), mib(r["rss_after_get_kb"])))
            if "restart_s" in r:
                notes.append("%s at %d: restart (SIGTERM, start on the same data dir) ready in %.3f s "
                             "with %d alerts listed, RSS %s" % (kind, n, r["restart_s"], r["restart_count"],
                                                                mib(r["restart_rss_kb"])))
    for n in notes:
        L.append("- " + n)
    L.append("")
    L.append("## Startup (process start to `/-/ready`, empty data dir)")
    L.append("")
    L.append("| alertrouter | Alertmanager | ratio |")
    L.append("|---:|---:|---:|")
    a = ar.get("startup", {}).get("median_s")
    b = am.get("startup", {}).get("median_s")
    L.append("| %s | %s | %s |" % ("%.3f s" % a if a is not None else "—",
                                    "%.3f s" % b if b is not None else "—", ratio(a, b)))
    L.append("")
    return "\n".join(L) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short smoke run")
    p.add_argument("--sizes", default=None, help="comma list of active-alert counts (default 10000,100000)")
    p.add_argument("--targets", default=None, help="comma list (default: alertrouter + alertmanager if installed)")
    p.add_argument("--step-seconds", type=float, default=None)
    p.add_argument("--conns", default="8,32")
    p.add_argument("--batches", default="1,10,100")
    p.add_argument("--write-docs", action="store_true", help="write docs/benchmarks.md")
    p.add_argument("--json", default=None, help="also write raw results to this file")
    args = p.parse_args()
    args.argv = sys.argv[1:]
    args.conns = [int(x) for x in args.conns.split(",")]
    args.batches = [int(x) for x in args.batches.split(",")]
    if args.quick:
        args.step_seconds = args.step_seconds or 1.5
        args.sizes = args.sizes or "10000"
        args.repeat_batches = [10]
        args.startup_runs = 2
        args.get_runs = 3
        args.repeat_set = 1000
    else:
        args.step_seconds = args.step_seconds or 5.0
        args.sizes = args.sizes or "10000,100000"
        args.repeat_batches = [1, 10, 100]
        args.startup_runs = 5
        args.get_runs = 5
        args.repeat_set = 10000
    args.step_seconds = min(args.step_seconds, 20.0)
    args.sizes = [int(x) for x in args.sizes.split(",")]
    if args.targets:
        args.targets = [t.strip() for t in args.targets.split(",")]
    else:
        args.targets = ["alertrouter"] + (["alertmanager"] if os.path.exists(AM_BINARY) else [])
    results = Bench(args).run()
    # with --write-docs: the file's head; the sections pipeline.py and floor.py own stay
    docs_sections.publish(report(results, args), results, args.json, args.write_docs)


if __name__ == "__main__":
    main()

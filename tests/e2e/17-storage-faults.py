#!/usr/bin/env python3
"""Storage faults under a running server (alertrouter only: Alertmanager keeps alerts in
memory). The disk "fills" through tests/fault/fault_inject.c, preloaded into the server:
while a trigger file exists, every write and fsync to the storage directory fails with
ENOSPC (or the errno asked for). Expected: the server stays up; a POST that cannot be
committed answers 500; /-/ready answers 503 naming the database and the cause while
commits fail, and 200 again once the disk has room; nothing acknowledged is lost, and the
alerts of the refused POST are committed by the retry. Also: an existing database on a
read-only directory is refused at start with a message that names the file,
--storage.synchronous takes normal or full only, and --storage.max-bytes prunes the oldest
history (never live state) with a log line and a metric."""

import os
import random
import sqlite3
import subprocess
import tempfile

from harness import Server, Skip, Suite, alert, ar_binary, check, eq, free_port, poll, ts

suite = Suite("17-storage-faults")


def faulty_server(ctx, errno_code=None):
    lib = os.environ.get("AR_FAULT_LIB") or os.path.join(
        os.path.dirname(ar_binary()), "tests", "libar_fault.so")
    if not os.path.exists(lib):
        raise Skip("fault injection library not built: %s" % lib)
    trigger = tempfile.mktemp(prefix="ar-fault-trigger-")
    srv = Server("alertrouter", start=False)
    srv.env = {
        "LD_PRELOAD": lib,
        "AR_FAULT_TRIGGER": trigger,
        "AR_FAULT_PREFIX": os.path.realpath(srv.data_dir),
        # sanitizer builds: our library is preloaded ahead of the sanitizer runtime
        "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
    }
    if errno_code is not None:
        srv.env["AR_FAULT_ERRNO"] = str(errno_code)
    ctx.servers.append(srv)
    srv.start()
    return srv, trigger


def fill(trigger):
    open(trigger, "w").close()


def free(trigger):
    if os.path.exists(trigger):
        os.unlink(trigger)


def names(srv):
    return sorted(a["labels"]["alertname"] for a in srv.alerts())


@suite.case("disk-full-ready-503-then-recovers", only="alertrouter")
def disk_full(ctx):
    srv, trigger = faulty_server(ctx)
    try:
        srv.post_ok([alert({"alertname": "Before"})])
        eq(srv.get("/-/ready").status, 200, "ready before the fault")
        fill(trigger)
        r = srv.post_alerts([alert({"alertname": "DuringFault"})])
        eq(r.status, 500, "POST while the disk is full")
        r = srv.get("/-/ready")
        eq(r.status, 503, "/-/ready while commits fail")
        body = r.text()
        check("database or disk is full" in body and "alertrouter.db" in body,
              "the reason names the cause and the database: %r" % body)
        eq(srv.get("/-/healthy").status, 200, "the process is alive")
        check("alertrouter.db" in srv.log_text() and "failed" in srv.log_text(),
              "the failure is logged with the path")
        free(trigger)
        poll(lambda: srv.get("/-/ready").status == 200 or None, timeout=10,
             what="ready again once the disk has room")
        srv.post_ok([alert({"alertname": "After"})])
        eq(names(srv), ["After", "Before", "DuringFault"], "alerts in memory")
        srv.restart(kill=True)
        eq(names(srv), ["After", "Before", "DuringFault"],
           "alerts after kill -9: the acknowledged ones and the retried commit")
    finally:
        free(trigger)


@suite.case("fsync-eio-ready-503-then-recovers", only="alertrouter")
def fsync_eio(ctx):
    srv, trigger = faulty_server(ctx, errno_code=5)  # EIO
    try:
        fill(trigger)
        eq(srv.post_alerts([alert({"alertname": "X"})]).status, 500, "POST on EIO")
        eq(srv.get("/-/ready").status, 503, "/-/ready on EIO")
        r = srv.post_json("/api/v2/silences", {
            "matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
            "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "t", "comment": "c"})
        check(r.status >= 500, "a silence that cannot be stored is refused (%d)" % r.status)
        free(trigger)
        poll(lambda: srv.get("/-/ready").status == 200 or None, timeout=10,
             what="ready again")
        eq(names(srv), ["X"], "the refused alert was kept and committed by the retry")
    finally:
        free(trigger)


@suite.case("read-only-database-named-at-start", only="alertrouter")
def read_only(ctx):
    # root ignores file permissions and a read-only mount needs privileges we may not
    # have: make the database and its directory immutable instead (as root, chattr +i)
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "Kept"})])
    srv.stop()
    db = os.path.join(srv.data_dir, "alertrouter.db")
    rc = subprocess.run(["chattr", "+i", db, srv.data_dir], capture_output=True)
    if rc.returncode != 0:
        raise Skip("chattr +i not possible here: %s" % rc.stderr.decode().strip())
    try:
        p = subprocess.run([ar_binary(), "--config.file=" + srv.config_path,
                            "--storage.path=" + srv.data_dir,
                            "--web.listen-address=127.0.0.1:%d" % free_port()],
                           capture_output=True, timeout=20)
        out = (p.stdout + p.stderr).decode()
        check(p.returncode != 0, "start on a read-only database must fail")
        check(db in out and "cannot write in the storage directory" in out,
              "the message names the file and the cause: %r" % out[-400:])
    finally:
        subprocess.run(["chattr", "-i", db, srv.data_dir], capture_output=True)


@suite.case("synchronous-flag", only="alertrouter")
def synchronous_flag(ctx):
    srv = ctx.server(args=["--storage.synchronous=full"])
    srv.post_ok([alert({"alertname": "Durable"})])
    srv.restart(kill=True)
    eq(names(srv), ["Durable"], "stored with synchronous=full")
    srv.stop()
    p = subprocess.run([ar_binary(), "--config.file=" + srv.config_path,
                        "--storage.path=" + srv.data_dir, "--storage.synchronous=sometimes",
                        "--web.listen-address=127.0.0.1:%d" % free_port()],
                       capture_output=True, timeout=20)
    check(p.returncode != 0 and b"storage.synchronous" in p.stdout + p.stderr,
          "an unknown --storage.synchronous value is refused at start")


def metric(srv, name):
    for line in srv.get("/metrics").text().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@suite.case("size-cap-prunes-oldest-history", only="alertrouter")
def size_cap(ctx):
    args = ["--data.maintenance-interval=1s"]
    srv = ctx.server(args=args)
    rnd = random.Random(7)
    # history that compresses poorly: 500 alerts with random label values, fired and
    # resolved 16 times (the live set stays small); 50 live alerts stay firing throughout
    live = [alert({"alertname": "Live", "i": str(i)}) for i in range(50)]
    srv.post_ok(live)
    churn = [{"alertname": "Churn", "i": str(i), "noise": "%032x" % rnd.getrandbits(128)}
             for i in range(500)]
    for r in range(16):
        srv.post_ok([alert(lab, starts=ts(-60)) for lab in churn])
        srv.post_ok([alert(lab, starts=ts(-60), ends=ts(-1)) for lab in churn])
    db = "file:%s?mode=ro" % os.path.join(srv.data_dir, "alertrouter.db")

    def history():
        con = sqlite3.connect(db, uri=True)
        try:
            return con.execute("SELECT count(*), coalesce(sum(length(data)), 0), "
                               "coalesce(max(id), 0) FROM history_blocks").fetchone()
        finally:
            con.close()
    nblocks, hbytes, newest = history()
    # a size check (every second here) that has seen that history
    used = poll(lambda: (metric(srv, "alertrouter_storage_used_bytes") or 0) > hbytes and
                metric(srv, "alertrouter_storage_used_bytes"), timeout=10, what="a size check")
    ctx.note("history %d bytes in %d blocks, %d bytes in use" % (hbytes, nblocks, used))
    # a third (not half): "in use" also counts a page or more for every table and index of
    # the schema, empty ones included; pruning all history still gets below 90% of the cap
    # below while history is over a fifth of what is in use
    check(hbytes > 100000 and hbytes > used / 3,
          "history to prune: %d bytes in %d blocks of %d in use" % (hbytes, nblocks, used))
    cap = int(used - hbytes / 2)
    srv.restart(args=args + ["--storage.max-bytes=%d" % cap])
    poll(lambda: (metric(srv, 'alertrouter_storage_pruned_rows_total{kind="history"}') or 0) > 0
         or None, timeout=10, what="history pruned")
    poll(lambda: "over --storage.max-bytes" in srv.log_text() or None, timeout=5,
         what="the log line")
    after = poll(lambda: metric(srv, "alertrouter_storage_used_bytes"), timeout=5, what="used")
    check(after <= cap, "in use after pruning: %d > cap %d" % (after, cap))
    n2, h2, newest2 = history()
    check(n2 < nblocks and newest2 >= newest, "oldest blocks pruned first: %d of %d left, "
          "newest id %d (was %d)" % (n2, nblocks, newest2, newest))
    eq(len([a for a in srv.alerts() if a["labels"]["alertname"] == "Live"]), 50,
       "live alerts are never pruned")


if __name__ == "__main__":
    suite.main()

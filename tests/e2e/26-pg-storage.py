#!/usr/bin/env python3
"""--storage.url and --storage.password-file (docs/ha.md sections 2 and 7), against a real
PostgreSQL (tests/e2e/pg.py): alertrouter connects with any libpq connection string, takes
its password from the file or PGPASSWORD, applies the PostgreSQL migrations once even when
three instances start at the same moment, never shows the password, refuses a schema from a
later release, and otherwise runs (its local SQLite store at --storage.path, sharing
silences and the notification log through PostgreSQL: e2e 27-ha-silences) until SIGTERM.
Skipped, saying so, where PostgreSQL is not installed."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import DEFAULT_CONFIG, Suite, ar_binary, check, eq, free_port
from pg import Postgres

suite = Suite("26-pg-storage")

PASSWORD = "s3cr3t-Pw'x"
NOT_COMPLETE = "PostgreSQL storage is not complete yet"  # the refusal of earlier releases
READY = " ready; storage "
# every PostgreSQL migration of this build, applied once each
VERSIONS = ",".join(str(int(n[:4])) for n in sorted(os.listdir(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "migrations", "pg")))
    if n.endswith(".sql"))

_PG = []


def pg():
    """One server for the file, started by the first case that needs it."""
    if not _PG:
        _PG.append(Postgres().start())
    return _PG[0]


def env_without_pg():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("PG"):
            del env[k]
    return env


def spawn(tmp, *flags, env=None, port=None):
    cfg = os.path.join(tmp, "alertmanager.yml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write(DEFAULT_CONFIG)
    argv = [ar_binary(), "--config.file=" + cfg, "--storage.path=" + os.path.join(tmp, "data"),
            "--web.listen-address=127.0.0.1:%d" % (port or free_port()), "--cluster.listen-address="]
    out = open(os.path.join(tmp, "out.log"), "wb")
    try:
        return subprocess.Popen(argv + list(flags), cwd=tmp, env=env or env_without_pg(),
                                stdout=out, stderr=subprocess.STDOUT)
    finally:
        out.close()


def finish(tmp, p, timeout=60):
    """Waits until p is ready (then SIGTERM) or exits; returns (exit code, output)."""
    path = os.path.join(tmp, "out.log")
    deadline = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < deadline:
        with open(path, "rb") as f:
            if READY in f.read().decode(errors="replace"):
                p.send_signal(signal.SIGTERM)
                break
        time.sleep(0.05)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    with open(path, "rb") as f:
        return p.returncode, f.read().decode(errors="replace")


def run(*flags, env=None):
    """Runs alertrouter until it is ready (then stops it) or exits; returns (exit code,
    output, whether the storage dir exists)."""
    tmp = tempfile.mkdtemp(prefix="ar-e2e-pg-")
    try:
        p = spawn(tmp, *flags, env=env)
        code, out = finish(tmp, p)
        return code, out, os.path.exists(os.path.join(tmp, "data"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def versions(db):
    return pg().psql("SELECT string_agg(version::text, ',' ORDER BY version) "
                     "FROM schema_migrations", dbname=db)[1]


def check_ran(code, out):
    """Started on PostgreSQL, became ready, stopped cleanly at SIGTERM."""
    check(READY in out, "never ready:\n%s", out)
    eq(code, 0, "exit status after SIGTERM")
    check("stopped cleanly" in out, "no clean stop:\n%s", out)
    check(NOT_COMPLETE not in out, "refused:\n%s", out)


@suite.case("connects, migrates, runs with its local store", only="alertrouter")
def migrates_then_runs(ctx):
    db = "ar_first"
    pg().createdb(db)
    code, out, made_dir = run("--storage.url=" + pg().url(db))
    check_ran(code, out)
    check("connected to PostgreSQL %s" % pg().url(db) in out, "no connect line:\n%s", out)
    check("applied PostgreSQL migration 0001_base.sql" in out, "no migration line:\n%s", out)
    check(made_dir, "the local SQLite storage directory was not created")
    check("sharing silences and the notification log through PostgreSQL" in out,
          "no peer line:\n%s", out)
    eq(versions(db), VERSIONS, "schema_migrations")
    tables = pg().psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
                       "WHERE schemaname = 'public'", dbname=db)[1].split(",")
    for t in ("silence_events", "nflog", "deliveries", "delivery_payloads", "delivery_log",
              "audit_log", "history_blocks", "instances", "flush_claims", "schema_migrations"):
        check(t in tables, "table %s missing: %s", t, tables)
    # a second start applies nothing
    code, out, _ = run("--storage.url=" + pg().url(db))
    check_ran(code, out)
    check("applied PostgreSQL migration" not in out, "migrated twice:\n%s", out)
    eq(versions(db), VERSIONS, "schema_migrations after a second start")


@suite.case("three instances starting at once migrate once", only="alertrouter")
def concurrent_migrations(ctx):
    db = "ar_race"
    pg().createdb(db)
    tmps = [tempfile.mkdtemp(prefix="ar-e2e-pg-") for _ in range(3)]
    try:
        procs = [spawn(t, "--storage.url=" + pg().url(db)) for t in tmps]
        outs = [finish(t, p, timeout=90) for t, p in zip(tmps, procs)]
    finally:
        for t in tmps:
            shutil.rmtree(t, ignore_errors=True)
    applied = 0
    for code, out in outs:
        check_ran(code, out)
        eq(out.count("level=error"), 0, "error lines")
        check("NOTICE" not in out, "a server notice on the output:\n%s", out)
        applied += out.count("applied PostgreSQL migration")
    eq(applied, len(VERSIONS.split(",")), "migrations applied across the three instances")
    eq(versions(db), VERSIONS, "schema_migrations")


@suite.case("password from the file, PGPASSWORD, the URL; never shown", only="alertrouter")
def passwords(ctx):
    srv = pg()
    role, db = "ar_pw", "ar_pw_db"
    srv.add_password_role(role, PASSWORD)
    srv.createdb(db, owner=role)
    url = "postgresql://%s@127.0.0.1:%d/%s" % (role, srv.port, db)
    tmp = tempfile.mkdtemp(prefix="ar-e2e-pg-")
    try:
        good = os.path.join(tmp, "good")
        bad = os.path.join(tmp, "bad")
        with open(good, "w") as f:
            f.write(PASSWORD + "\n")
        with open(bad, "w") as f:
            f.write("wrong-" + PASSWORD + "\n")
        # without any password the server refuses: proves the role needs one
        code, out, _ = run("--storage.url=" + url)
        eq(code, 1, "exit status without a password")
        check("cannot connect to PostgreSQL %s" % url in out, "no connect error:\n%s", out)
        check(NOT_COMPLETE not in out, "refused for the wrong reason:\n%s", out)

        code, out, _ = run("--storage.url=" + url, "--storage.password-file=" + good)
        check_ran(code, out)
        check("connected to PostgreSQL %s" % url in out, "no connect line:\n%s", out)
        eq(srv.psql("SELECT count(*) FROM schema_migrations", dbname=db)[1],
           str(len(VERSIONS.split(","))),
           "migrations applied as the password role")

        code, out, _ = run("--storage.url=" + url, "--storage.password-file=" + bad)
        eq(code, 1, "exit status with a wrong password")
        check("password authentication failed" in out, "no authentication error:\n%s", out)

        env = env_without_pg()
        env["PGPASSWORD"] = PASSWORD
        code, out2, _ = run("--storage.url=" + url, env=env)
        check_ran(code, out2)
        out += out2

        quoted = PASSWORD.replace("'", "%27")
        in_url = "postgresql://%s:%s@127.0.0.1:%d/%s" % (role, quoted, srv.port, db)
        code, out2, _ = run("--storage.url=" + in_url)
        check_ran(code, out2)
        check("postgresql://%s:xxxxx@127.0.0.1:%d/%s" % (role, srv.port, db) in out2,
              "no masked URL:\n%s", out2)
        out += out2

        kv = "host=127.0.0.1 port=%d dbname=%s user=%s password='%s'" % (
            srv.port, db, role, PASSWORD.replace("'", "\\'"))
        code, out2, _ = run("--storage.url=" + kv)
        check_ran(code, out2)
        check("password='xxxxx'" in out2, "no masked key/value string:\n%s", out2)
        out += out2
        for secret in (PASSWORD, quoted, "s3cr3t"):
            check(secret not in out, "password %r shown:\n%s", secret, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@suite.case("unreachable server, newer schema, stray password file", only="alertrouter")
def load_errors(ctx):
    port = free_port()
    t0 = time.monotonic()
    code, out, _ = run("--storage.url=postgresql://postgres@127.0.0.1:%d/x" % port)
    eq(code, 1, "exit status with nothing listening")
    check(re.search(r"cannot connect to PostgreSQL postgresql://postgres@127\.0\.0\.1:%d/x: "
                    r".*refused" % port, out), "no clear connect error:\n%s", out)
    check(time.monotonic() - t0 < 30, "took %.0fs to give up", time.monotonic() - t0)

    db = "ar_newer"
    pg().createdb(db)
    code, out, _ = run("--storage.url=" + pg().url(db))
    check_ran(code, out)
    pg().psql("INSERT INTO schema_migrations (version, name) VALUES (99, '0099_later.sql')",
              dbname=db)
    code, out, _ = run("--storage.url=" + pg().url(db))
    eq(code, 1, "exit status on a newer schema")
    check("the schema is at version 99, newer than this alertrouter knows (%s)" % VERSIONS.split(",")[-1]
          in out,
          "no newer-schema error:\n%s", out)
    check(NOT_COMPLETE not in out, "refused for the wrong reason:\n%s", out)

    code, out, _ = run("--storage.password-file=/nonexistent")
    eq(code, 1, "exit status with a password file but no URL")
    check("--storage.password-file is only used with --storage.url" in out, "%s", out)


@suite.case("a restart while PostgreSQL is down runs from the local store", only="alertrouter")
def restart_during_outage(ctx):
    """The first start of a data directory must reach PostgreSQL; a later start of the same
    directory during an outage comes up degraded and exchanges shared state once the
    database returns, so restarting every instance during an outage leaves alerting up."""
    srv = Postgres().start()
    tmp = tempfile.mkdtemp(prefix="ar-e2e-pg-")
    p = None
    try:
        url = srv.url()
        code, out = finish(tmp, spawn(tmp, "--storage.url=" + url))
        check_ran(code, out)
        srv.stop("immediate")
        port = free_port()
        p = spawn(tmp, "--storage.url=" + url, port=port)
        base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=5) as r:
                    ready = (r.status, r.read().decode())
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        with open(os.path.join(tmp, "out.log")) as f:
            log = f.read()
        check(ready is not None, "not serving while PostgreSQL is down:\n%s", log)
        eq(ready[0], 200, "/-/ready status while PostgreSQL is down")
        check("degraded" in ready[1], "/-/ready does not say degraded: %r", ready[1])
        check("starting from the local store" in log, "no degraded-start line:\n%s", log)
        body = json.dumps([{"labels": {"alertname": "DuringOutage"}}]).encode()
        req = urllib.request.Request(base + "/api/v2/alerts", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            eq(r.status, 200, "POST /api/v2/alerts while PostgreSQL is down")
        srv.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(os.path.join(tmp, "out.log")) as f:
                log = f.read()
            if "reachable again" in log:
                break
            time.sleep(0.2)
        check("reachable again" in log, "never reconnected:\n%s", log)
        eq(log.count("unreachable"), 1, "unreachable lines (one per outage)")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        p = None
        # a data directory that never joined refuses, so a wrong URL is seen at once
        srv.stop("immediate")
        code, out, _ = run("--storage.url=" + url)
        eq(code, 1, "exit status of a first start with PostgreSQL down")
        check("starting from the local store" not in out, "a fresh directory started:\n%s", out)
    finally:
        if p is not None:
            p.kill()
            p.wait()
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        suite.main()
    finally:
        for p in _PG:
            p.cleanup()

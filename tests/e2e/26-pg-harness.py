#!/usr/bin/env python3
"""The test harness's PostgreSQL (tests/e2e/pg.py, docs/ha.md section 8), which the HA suites
build on: a real server from Debian's packages in a temporary directory, on a free loopback
port, reachable with psql, surviving a crash with its committed data, and gone (process and
directory) after cleanup. Skipped, saying so, where PostgreSQL is not installed."""

import os
import socket

from harness import Suite, check, eq, poll
from pg import Postgres

suite = Suite("26-pg-harness")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


@suite.case("start, connect with psql, tear down", only="alertrouter")
def start_connect_teardown(ctx):
    pg = Postgres()
    try:
        pg.start()
        _, version = pg.psql("SHOW server_version_num")
        check(int(version) >= 150000, "server version %r", version)
        eq(pg.psql("SHOW listen_addresses")[1], "127.0.0.1", "listen_addresses")
        eq(pg.psql("SHOW unix_socket_directories")[1], pg.sockdir, "socket directory")
        check(os.path.exists(os.path.join(pg.sockdir, ".s.PGSQL.%d" % pg.port)),
              "no socket in %s", pg.sockdir)
        eq(pg.psql("SELECT current_database()")[1], "alertrouter", "database")
        pg.psql("CREATE TABLE t (k int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')")
        eq(pg.psql("SELECT v FROM t WHERE k = 1")[1], "one", "row read back")
        pid = pg.postmaster_pid()
        check(pid is not None and pid_alive(pid), "postmaster pid %r not running", pid)
        tmp = pg.tmp
    finally:
        pg.cleanup()
    poll(lambda: not pid_alive(pid), timeout=30, what="postmaster gone after cleanup")
    check(not os.path.exists(tmp), "temporary directory %s left behind", tmp)
    s = socket.socket()
    try:
        s.settimeout(2)
        refused = s.connect_ex(("127.0.0.1", pg.port)) != 0
    finally:
        s.close()
    check(refused, "port %d still accepts connections after cleanup", pg.port)


@suite.case("a crash keeps committed rows; restart on the same port", only="alertrouter")
def crash_restart(ctx):
    pg = Postgres()
    try:
        pg.start()
        port = pg.port
        pg.psql("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000)")
        pg.crash()
        code, _ = pg.psql("SELECT 1", check=False)
        check(code != 0, "psql still connects after an immediate stop")
        pg.start()
        eq(pg.port, port, "port after restart")
        eq(pg.psql("SELECT count(*) FROM t")[1], "1000", "rows after crash recovery")
        check("database system was interrupted" in pg.log_text() or
              "not properly shut down" in pg.log_text(),
              "server log shows no crash recovery:\n%s", pg.log_text()[-1500:])
    finally:
        pg.cleanup()


if __name__ == "__main__":
    suite.main()

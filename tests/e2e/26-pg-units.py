#!/usr/bin/env python3
"""Runs the PostgreSQL store's unit tests (tests/unit/test_store_pg.c: silence propagation by
LISTEN/NOTIFY between two connections, the flush claim's rules) against a real PostgreSQL
started by tests/e2e/pg.py: the unit test binary alone skips without a server. Skipped,
saying so, where PostgreSQL is not installed."""

import os
import subprocess

from harness import Fail, Skip, Suite, ar_binary, check
from pg import Postgres

suite = Suite("26-pg-units")


@suite.case("test_store_pg against a real server", only="alertrouter")
def store_pg_units(ctx):
    binary = os.path.join(os.path.dirname(ar_binary()), "tests", "test_store_pg")
    if not os.path.exists(binary):
        raise Skip("%s is not built" % binary)
    pg = Postgres()
    try:
        pg.start()
        env = dict(os.environ)
        env["AR_TEST_PG_URL"] = pg.url()
        p = subprocess.run([binary], env=env, capture_output=True, timeout=120)
        out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
        if p.returncode != 0:
            raise Fail("test_store_pg exited %d:\n%s" % (p.returncode, out))
        check(" 0 failed" in out and "skipped" not in out, "unexpected output:\n%s", out)
        for line in out.splitlines():
            if "NOTIFY" in line:
                ctx.note(line.strip())
    finally:
        pg.cleanup()


if __name__ == "__main__":
    suite.main()

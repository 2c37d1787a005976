"""A real PostgreSQL for end-to-end tests (Debian's packages; docs/ha.md section 8).

Postgres().start() runs initdb into a fresh temporary directory, starts the server on a free
127.0.0.1 port with its Unix socket inside that directory (never /var/run/postgresql, never
the system cluster on 5432), and creates a database. stop() stops it (fast shutdown), crash()
stops it the way a power cut does (immediate), start() again restarts it on the same port
and data. cleanup() stops it and removes the directory; it also runs at interpreter exit, so
a failing test leaves no server behind.

initdb and postgres refuse to run as root: as root they run as the `postgres` user
(runuser), which needs the temporary directory to be its own.

Without the binaries (glob /usr/lib/postgresql/*/bin, the highest version) start() raises
harness.Skip naming what to install (scripts/bootstrap.sh installs `postgresql`).
"""

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

from harness import Skip, free_port

PG_GLOB = "/usr/lib/postgresql/*/bin"

_LIVE = []


def pg_bindir():
    """The bin directory of the highest installed PostgreSQL, or None."""
    def version(d):
        v = os.path.basename(os.path.dirname(d))
        try:
            return float(v)
        except ValueError:
            return 0.0
    dirs = [d for d in glob.glob(PG_GLOB) if os.path.exists(os.path.join(d, "initdb"))]
    return max(dirs, key=version) if dirs else None


def _cleanup_all():
    for pg in list(_LIVE):
        pg.cleanup()


atexit.register(_cleanup_all)


class Postgres:
    def __init__(self, dbname="alertrouter"):
        self.dbname = dbname
        self.bindir = None
        self.tmp = None
        self.datadir = None
        self.sockdir = None
        self.port = None
        self.user = "postgres"
        self.started = False

    # -- plumbing --------------------------------------------------------

    def _as_owner(self, argv):
        """argv run as the server's owner: `postgres` when we are root, else ourselves."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run(self, argv, timeout=60, check=True):
        p = subprocess.run(self._as_owner(argv), capture_output=True, timeout=timeout,
                           cwd=self.tmp)
        out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (exit %d): %s" % (" ".join(argv[:2]), p.returncode,
                                                          out.strip()[-2000:]))
        return p.returncode, out

    def bin(self, name):
        return os.path.join(self.bindir, name)

    # -- life cycle ------------------------------------------------------

    def start(self):
        """initdb (first call only), start on a free port, create the database."""
        if self.started:
            return self
        if self.tmp is None:
            self.bindir = pg_bindir()
            if self.bindir is None:
                raise Skip("PostgreSQL is not installed (no %s/initdb; scripts/bootstrap.sh "
                           "installs Debian's postgresql)" % PG_GLOB)
            if os.geteuid() == 0:
                try:
                    pwd.getpwnam("postgres")
                except KeyError:
                    raise Skip("PostgreSQL is installed but there is no `postgres` user to "
                               "run it as (initdb refuses root)")
            self.tmp = tempfile.mkdtemp(prefix="ar-pg-")
            self.datadir = os.path.join(self.tmp, "data")
            self.sockdir = self.tmp
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(self.tmp, 0o700)
            _LIVE.append(self)
            self._run([self.bin("initdb"), "-D", self.datadir, "-A", "trust", "-U", self.user,
                       "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120)
            self.port = free_port()
            fresh = True
        else:
            fresh = False
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=50 -c log_lock_waits=on" % (self.port, self.sockdir))
        # more server settings for a measurement, e.g. AR_PG_OPTS="-c
        # shared_preload_libraries=pg_stat_statements" (bench/ha.py --keep-logs dumps it)
        if os.environ.get("AR_PG_OPTS"):
            opts += " " + os.environ["AR_PG_OPTS"]
        self._run([self.bin("pg_ctl"), "-D", self.datadir, "-o", opts,
                   "-l", os.path.join(self.tmp, "log"), "-w", "-t", "60", "start"], timeout=90)
        self.started = True
        if fresh:
            self._run([self.bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", self.user, self.dbname])
        return self

    def stop(self, mode="fast"):
        """Stops the server (mode "immediate" is a crash); the data stay for start()."""
        if self.started:
            self._run([self.bin("pg_ctl"), "-D", self.datadir, "-m", mode, "-w", "stop"],
                      timeout=90, check=False)
            self.started = False

    def crash(self):
        self.stop("immediate")

    def cleanup(self):
        """Stops the server and removes its directory."""
        try:
            self.stop("immediate")
        finally:
            if self in _LIVE:
                _LIVE.remove(self)
            if self.tmp is not None:
                keep = os.environ.get("AR_PG_KEEP_LOG")
                if keep:
                    # the server's log (lock waits over 1 s, deadlocks, timeouts) for a
                    # post-mortem: AR_PG_KEEP_LOG=<file>
                    shutil.copyfile(os.path.join(self.tmp, "log"), keep)
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    # -- use -------------------------------------------------------------

    def url(self, dbname=None):
        """A libpq URL (TCP on loopback)."""
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, dbname or self.dbname)

    def psql(self, sql, dbname=None, check=True):
        """Runs sql with psql over TCP; returns (exit code, unaligned tuples-only output)."""
        argv = [self.bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                "-d", dbname or self.dbname, "-c", sql]
        p = subprocess.run(argv, capture_output=True, timeout=60)
        out = p.stdout.decode(errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError("psql failed (exit %d): %s" % (p.returncode,
                                                             p.stderr.decode(errors="replace")))
        return p.returncode, out.strip() if p.returncode == 0 else \
            p.stderr.decode(errors="replace").strip()

    def createdb(self, name, owner=None):
        """A fresh database (owned by owner, a role, when given)."""
        self.psql('CREATE DATABASE "%s"%s' % (name, ' OWNER "%s"' % owner if owner else ""),
                  dbname="postgres")

    def add_password_role(self, name, password):
        """A login role that must authenticate with its password (scram-sha-256) over TCP,
        where every other role is trusted: pg_hba.conf gets a line ahead of the others."""
        self.psql("CREATE ROLE \"%s\" LOGIN PASSWORD '%s'" % (name, password.replace("'", "''")),
                  dbname="postgres")
        hba = os.path.join(self.datadir, "pg_hba.conf")
        with open(hba) as f:
            text = f.read()
        with open(hba, "w") as f:
            f.write("host all %s 127.0.0.1/32 scram-sha-256\n%s" % (name, text))
        self.psql("SELECT pg_reload_conf()", dbname="postgres")

    def log_text(self):
        try:
            with open(os.path.join(self.tmp, "log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError, TypeError):
            return None

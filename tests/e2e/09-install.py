#!/usr/bin/env python3
"""Installation layout: `cmake --install` of the build directory holding AR_BINARY into a
temporary DESTDIR with --prefix /usr/local, then checks of what landed: the binary runs,
templates equal templates/*.tmpl, the example configuration is valid for alertrouter and
amtool and does not go to /etc, the systemd unit and sysusers entry, and the man page
(renders without warnings with man -l when man is installed; documents every flag of
--help)."""

import glob
import os
import re
import shutil
import subprocess
import tempfile

from harness import AMTOOL, REPO_ROOT, Fail, Skip, Suite, ar_binary, check, eq

suite = Suite("09-install")

PREFIX = "/usr/local"


def run(cmd, env=None, timeout=120):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


_DEST = None


def installed():
    """DESTDIR with the installed tree (installed once per run)."""
    global _DEST
    if _DEST is not None:
        return _DEST
    if shutil.which("cmake") is None:
        raise Skip("cmake not installed")
    build_dir = os.path.dirname(ar_binary())
    if not os.path.exists(os.path.join(build_dir, "cmake_install.cmake")):
        raise Skip("%s is not a CMake build directory" % build_dir)
    dest = tempfile.mkdtemp(prefix="ar-e2e-install-")
    env = dict(os.environ, DESTDIR=dest)
    rc, out, err = run(["cmake", "--install", build_dir, "--prefix", PREFIX], env=env)
    if rc != 0:
        raise Fail("cmake --install failed (%d): %s%s" % (rc, out, err))
    _DEST = dest
    return dest


def path(rel):
    return os.path.join(installed(), PREFIX.lstrip("/"), rel)


@suite.case("layout", only="alertrouter")
def layout(ctx):
    dest = installed()
    want = ["bin/alertrouter",
            "share/doc/alertrouter/examples/alertrouter.yml",
            "lib/systemd/system/alertrouter.service",
            "lib/sysusers.d/alertrouter.conf",
            "share/man/man8/alertrouter.8"]
    for t in sorted(glob.glob(os.path.join(REPO_ROOT, "templates", "*.tmpl"))):
        want.append("share/alertrouter/templates/" + os.path.basename(t))
    missing = [w for w in want if not os.path.isfile(path(w))]
    check(not missing, "not installed: %s" % missing)
    check(os.access(path("bin/alertrouter"), os.X_OK), "binary not executable")
    # nothing outside the prefix: /etc/alertrouter is created by the operator, not install
    outside = [d for d in os.listdir(dest) if d != "usr"]
    eq(outside, [], "top-level entries in DESTDIR besides usr/")
    check(not os.path.exists(os.path.join(dest, "etc")), "install must not write /etc")
    for t in glob.glob(os.path.join(REPO_ROOT, "templates", "*.tmpl")):
        with open(t, "rb") as a, open(path("share/alertrouter/templates/" +
                                           os.path.basename(t)), "rb") as b:
            check(a.read() == b.read(), "installed %s differs from the source" % t)
    rc, out, err = run([path("bin/alertrouter"), "--version"])
    eq(rc, 0, "installed binary --version")


@suite.case("example-config-valid", only="alertrouter")
def example_config(ctx):
    cfg = path("share/doc/alertrouter/examples/alertrouter.yml")
    rc, out, err = run([path("bin/alertrouter"), "check-config", cfg])
    eq(rc, 0, "alertrouter check-config of the example (%s%s)" % (out, err))
    if os.path.exists(AMTOOL):
        rc, out, err = run([AMTOOL, "check-config", cfg])
        eq(rc, 0, "amtool check-config of the example (%s%s)" % (out, err))
    with open(cfg) as f:
        text = f.read()
    check("/etc/alertrouter/alertrouter.yml" in text, "example documents where to copy it")


@suite.case("systemd-unit", only="alertrouter")
def unit(ctx):
    with open(path("lib/systemd/system/alertrouter.service")) as f:
        text = f.read()
    for line in ("ExecStart=/usr/local/bin/alertrouter --config.file=/etc/alertrouter/"
                 "alertrouter.yml --storage.path=/var/lib/alertrouter/",
                 "ExecReload=/bin/kill -HUP $MAINPID",
                 "User=alertrouter",
                 "NoNewPrivileges=yes",
                 "ProtectSystem=strict",
                 "StateDirectory=alertrouter"):
        check(("\n" + line + "\n") in text, "unit lacks %r" % line)
    with open(path("lib/sysusers.d/alertrouter.conf")) as f:
        check(re.search(r"^u alertrouter ", f.read(), re.M), "sysusers entry for alertrouter")
    if shutil.which("systemd-analyze"):
        rc, out, err = run(["systemd-analyze", "verify",
                            path("lib/systemd/system/alertrouter.service")])
        # the unit names /usr/local/bin and man:alertrouter(8), absent in a DESTDIR check
        bad = [l for l in (out + err).splitlines()
               if l.strip() and "is not executable" not in l and "man alertrouter" not in l
               and "Failed to prepare filename" not in l]
        check(not bad, "systemd-analyze verify: %s" % bad)


@suite.case("man-page", only="alertrouter")
def man_page(ctx):
    page = path("share/man/man8/alertrouter.8")
    with open(page) as f:
        troff = f.read()
    # every flag of --help is documented (troff escapes '-' as '\-')
    rc, out, err = run([ar_binary(), "--help"])
    eq(rc, 0, "--help")
    flags = sorted(set(re.findall(r"--[a-z][a-z0-9.\-]*[a-z0-9*]", out)))
    check(len(flags) > 5, "no flags parsed from --help: %r" % out[:300])
    plain = troff.replace("\\-", "-")
    missing = [f for f in flags if f not in plain]
    check(not missing, "flags of --help missing from the man page: %s" % missing)
    for section in ("SYNOPSIS", "OPTIONS", "COMMANDS", "SIGNALS", "FILES", "WEB CONFIGURATION"):
        check(".SH " + section in troff, "man page lacks section %s" % section)
    for word in ("check-config", "template render", "SIGHUP", "SIGTERM"):
        check(word in plain, "man page does not mention %s" % word)
    if shutil.which("man") is None:
        ctx.note("man not installed: rendering not checked")
        return
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    rc, out, err = run(["man", "--warnings", "-l", page], env=env)
    eq(rc, 0, "man -l exit status (stderr %r)" % err)
    eq(err.strip(), "", "man --warnings -l stderr")
    check("ALERTROUTER(8)" in out, "rendered page lacks its title")


if __name__ == "__main__":
    try:
        suite.main()
    finally:
        if _DEST:
            shutil.rmtree(_DEST, ignore_errors=True)

#!/usr/bin/env bash
# Installs the Debian 12 packages alertrouter needs to build, test and benchmark.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libesmtp-dev libsqlite3-dev sqlite3
  libyaml-dev libpcre2-dev libre2-dev libyajl-dev libssl-dev libzstd-dev
  python3 python3-aiosmtpd
  prometheus-alertmanager prometheus
  postgresql libpq-dev  # HA storage (docs/ha.md): libpq to build, a server for the tests
  valgrind clang libclang-rt-14-dev clang-tidy clang-format man-db
  openssl curl apache2-utils
  gnuplot-nox  # bench/soak.py's plot (optional there: skipped with a message without it)
  libjs-dygraphs  # the web UI History page's chart, embedded at build time (optional)
  chromium nodejs  # the web UI's browser tests (tests/browser); never needed to build or run
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm too, unless a nodejs from elsewhere (NodeSource) already brings it
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The browser tests' driver (puppeteer-core, pinned by tests/browser/package-lock.json; it
# drives /usr/bin/chromium, so no browser is downloaded). npm ci again only when the lock changed.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ ! -f "$browser_dir/node_modules/.package-lock.json" ] ||
   ! cmp -s "$browser_dir/package-lock.json" "$browser_dir/node_modules/.ar-lock"; then
  (cd "$browser_dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error &&
   cp package-lock.json node_modules/.ar-lock)
fi
# Debian starts the packaged services; the test suite runs its own instances on free ports.
for svc in prometheus-alertmanager prometheus prometheus-node-exporter postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done

#!/usr/bin/env bash
# Builds alertrouter (warnings are errors) into build/ and runs the whole test suite:
# unit tests and end-to-end tests (real binary, real HTTP, real SQLite, amtool, and the real
# Alertmanager when installed). With --sanitize, builds into build-asan/ with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the same suite there; with --tsan,
# builds into build-tsan/ with ThreadSanitizer and runs the unit tests and the threaded e2e
# suites. The browser tests (tests/browser, ctest browser/ui) run in the default and
# --sanitize runs; ctest reports them as skipped where Chromium or tests/browser/node_modules
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAR_WERROR=ON)
select=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts=(-DCMAKE_BUILD_TYPE=Debug -DAR_WERROR=ON -DAR_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [ "${1:-}" = "--tsan" ]; then
  # ThreadSanitizer over the unit tests and the end-to-end suites that drive the threads
  # hardest (HTTP threads, core, writer, notifier, deferred replies); the e2e harness
  # fails a case whose server printed a report
  dir=build-tsan
  opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAR_WERROR=ON -DAR_TSAN=ON)
  export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp"
  select=(-R 'unit/|e2e/(01-api-alerts|03-grouping|05-silences|08-restart-nflog|13-outbox|18-http-framing)')
fi
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j2 --timeout 600 "${select[@]}"

#!/usr/bin/env bash
# Builds alertrouter (warnings are errors) into build/ and runs the whole test suite:
# unit tests and end-to-end tests (real binary, real HTTP, real SQLite, amtool, and the real
# Alertmanager when installed). With --sanitize, builds into build-asan/ with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the same suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAR_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts=(-DCMAKE_BUILD_TYPE=Debug -DAR_WERROR=ON -DAR_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j2 --timeout 600

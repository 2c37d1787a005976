#!/usr/bin/env bash
# Randomised differential testing against Alertmanager 0.25 (docs/difftest.md).
#   scripts/difftest.sh --cases 2000 --seed S --jobs 10   long run; differences are shrunk and
#                                                          saved under tests/difftest/open/
#   scripts/difftest.sh --seed S --case N                 rerun one case (--show prints it)
#   scripts/difftest.sh --case-file F [--shrink --name X] run / shrink a saved case
#   scripts/difftest.sh --regress                         the saved regression cases
#   scripts/difftest.sh --self-check --cases N            Alertmanager against itself (noise)
# Builds build/alertrouter first unless AR_BINARY is set.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AR_BINARY:-}" ]; then
  cmake -S . -B build -DAR_WERROR=ON >/dev/null
  cmake --build build -j"$(nproc)" --target alertrouter >/dev/null
  export AR_BINARY="$PWD/build/alertrouter"
fi
exec python3 tests/difftest/difftest.py "$@"

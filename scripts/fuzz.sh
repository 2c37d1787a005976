#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan) into build-fuzz/ and
# runs each for a short time (default 30 s; FUZZ_SECONDS overrides). Used by CI; any crash,
# leak or sanitizer report fails the run. Corpora live in build-fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-30}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DAR_FUZZ=ON -DAR_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_tmpl fuzz_ingest fuzz_config fuzz_matcher
for t in fuzz_tmpl fuzz_ingest fuzz_config fuzz_matcher; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "== $t for ${secs}s"
  ( cd tests/data && "../../build-fuzz/fuzz/$t" -max_total_time="$secs" -max_len=4096 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 "../../build-fuzz/corpus/$t" ) \
      2>&1 | tail -3
done
echo "fuzzing passed"

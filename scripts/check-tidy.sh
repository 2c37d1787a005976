#!/usr/bin/env bash
# clang-tidy with the checks agreed in .clang-tidy over every C source of the server (not the
# tests, the fuzz targets or bench/), from a compile database in build-tidy/. Any finding
# fails. ~3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-tidy -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# generated sources (embedded templates, migrations) must exist before they are analysed
cmake --build build-tidy -j"$(nproc)" >/dev/null
mapfile -t files < <(git ls-files 'src/*.c' 'src/**/*.c')
run-clang-tidy -quiet -p build-tidy -j"$(nproc)" "${files[@]/#/$PWD/}" > build-tidy/tidy.log 2>&1 || {
  grep -E 'warning:|error:' build-tidy/tidy.log | sort -u | head -100
  echo "clang-tidy found problems (build-tidy/tidy.log)"; exit 1; }
echo "clang-tidy: ${#files[@]} files, no findings"

#!/usr/bin/env bash
# Compile-only check of every build type with GCC and clang, warnings as errors: each
# combination gets its own directory build-matrix/<compiler>-<type>/ and builds all default
# targets (daemon, core library, unit tests). Optimisation levels change what the compilers'
# flow analyses see (GCC's -O3 maybe-uninitialized, for one), so a clean Debug build proves
# nothing about Release. Used by CI; the test suite itself runs once, from scripts/test.sh.
#
#   bash scripts/build-matrix.sh                 Debug, RelWithDebInfo, Release, MinSizeRel x gcc, clang
#   BUILD_TYPES="Release MinSizeRel" COMPILERS=clang bash scripts/build-matrix.sh
#   WERROR=OFF bash scripts/build-matrix.sh      report every warning instead of stopping
set -euo pipefail
cd "$(dirname "$0")/.."
types=${BUILD_TYPES:-"Debug RelWithDebInfo Release MinSizeRel"}
compilers=${COMPILERS:-"gcc clang"}
werror=${WERROR:-ON}
jobs=${JOBS:-$(nproc)}
failed=()
mkdir -p build-matrix
for cc in $compilers; do
  for type in $types; do
    dir="build-matrix/$cc-$type"
    echo "== $cc $type ($dir)"
    start=$SECONDS
    cxx=g++
    [ "$cc" = clang ] && cxx=clang++  # the RE2 shim (src/re2_shim.cc) with the same family
    if ! CC=$cc CXX=$cxx cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DAR_WERROR="$werror" \
         >"$dir.configure.log" 2>&1; then
      cat "$dir.configure.log"
      failed+=("$cc-$type (configure)")
      continue
    fi
    if ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
      grep -E "warning|error" "$dir.build.log" | sort -u | head -50
      failed+=("$cc-$type")
      continue
    fi
    if grep -q "warning:" "$dir.build.log"; then
      grep "warning:" "$dir.build.log" | sort -u
      failed+=("$cc-$type (warnings)")
      continue
    fi
    echo "   clean in $((SECONDS - start)) s"
  done
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "build matrix failed: ${failed[*]}"
  exit 1
fi
echo "build matrix passed"

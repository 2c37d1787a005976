#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan) into build-fuzz/ and
# fuzzes them. See docs/fuzzing.md.
#
#   scripts/fuzz.sh                      short run (CI): each target for FUZZ_SECONDS (default 30)
#   scripts/fuzz.sh --campaign [--runs N] [--max-time S] [--max-len B] [target...]
#                                        long run: each target for N executions (default
#                                        10,000,000), then the new inputs are merged into the
#                                        committed corpus (tests/fuzz/corpus/<target>/)
#
# Both modes first replay every reproducer in tests/fuzz/regressions/<target>/ (a failure there
# fails the run), then start from the committed corpus. The short run works on a copy in
# build-fuzz/corpus/<target>/ and never modifies the repository; the campaign works in
# build-fuzz/campaign/<target>/ and rewrites tests/fuzz/corpus/<target>/ with a minimised merge
# (-merge=1) of the old corpus and what it found. Any crash, leak, timeout or sanitizer report
# fails the run; the reproducer is left in build-fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
all_targets=(fuzz_tmpl fuzz_ingest fuzz_config fuzz_matcher)

mode=short
runs=10000000
max_time=0
max_len=4096
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --campaign) mode=campaign ;;
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#*=} ;;
    --max-time) max_time=$2; shift ;;
    --max-time=*) max_time=${1#*=} ;;
    --max-len) max_len=$2; shift ;;
    --max-len=*) max_len=${1#*=} ;;
    fuzz_*) targets+=("$1") ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
secs=${FUZZ_SECONDS:-30}

# -O1: the usual libFuzzer optimisation level (fast enough, still precise stack traces)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1" \
  -DCMAKE_CXX_FLAGS="-O1" \
  -DAR_FUZZ=ON -DAR_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

# Options common to every run. -max_len=4096: larger inputs only slow the targets down (a
# template or a configuration of 4 KB already reaches every construct). -timeout=10: one input
# taking longer than 10 s is a bug (the template target lowers the engine's own limits).
common=(-max_len=4096 -timeout=10 -rss_limit_mb=2048)

# The targets run from tests/data so that relative paths in configurations resolve.
run_target() { # target args...
  local t=$1
  shift
  ( cd "$root/tests/data" && "$root/build-fuzz/fuzz/$t" "$@" )
}

# Replays the saved reproducers of fixed bugs: each must now run cleanly.
regressions() { # target
  local t=$1 dir=$root/tests/fuzz/regressions/$1
  local files=()
  [ -d "$dir" ] && mapfile -t files < <(find "$dir" -type f ! -name '*.md' | sort)
  [ ${#files[@]} -gt 0 ] || return 0
  echo "== $t: ${#files[@]} regression input(s)"
  if ! run_target "$t" "${common[@]}" "${files[@]}" >"$root/build-fuzz/$t.regress.log" 2>&1; then
    tail -60 "$root/build-fuzz/$t.regress.log"
    echo "fuzzing FAILED: $t regression input" >&2
    exit 1
  fi
}

failed() { # target log
  tail -80 "$2"
  echo "fuzzing FAILED: $1 (log $2; reproducer in build-fuzz/artifacts/$1/)" >&2
  exit 1
}

for t in "${targets[@]}"; do
  regressions "$t"
done

if [ "$mode" = short ]; then
  for t in "${targets[@]}"; do
    # start from the committed corpus; the copy keeps the repository untouched
    mkdir -p "build-fuzz/corpus/$t" "build-fuzz/artifacts/$t"
    cp -R "tests/fuzz/corpus/$t/." "build-fuzz/corpus/$t/"
    echo "== $t for ${secs}s"
    log=$root/build-fuzz/$t.log
    run_target "$t" "${common[@]}" -max_total_time="$secs" -print_final_stats=0 \
      -artifact_prefix="$root/build-fuzz/artifacts/$t/" "$root/build-fuzz/corpus/$t" >"$log" 2>&1 \
      || failed "$t" "$log"
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done ' "$log" | tail -2
  done
  echo "fuzzing passed"
  exit 0
fi

# --- campaign --------------------------------------------------------------------------------
# -entropic=0: with clang 14's libFuzzer the entropic power schedule spent 41-48 % of the time
# of fuzz_tmpl and fuzz_config in its own bookkeeping (InputCorpus::UpdateFeatureFrequency);
# without it those targets run 1.4-3.4x more executions per second (docs/fuzzing.md).
cdir=$root/build-fuzz/campaign
mkdir -p "$cdir"
summary=$cdir/summary.tsv
[ -f "$summary" ] || printf 'target\texecutions\twall_s\texec_per_s\tcov\tft\tcorpus_files\tcorpus_bytes\tresult\n' >"$summary"
status=0
for t in "${targets[@]}"; do
  work=$cdir/$t
  rm -rf "$work"
  mkdir -p "$work" "build-fuzz/artifacts/$t"
  log=$cdir/$t.log
  limit=()
  [ "$max_time" -gt 0 ] && limit=(-max_total_time="$max_time")
  echo "== $t: $runs executions ${limit[*]} (log $log)"
  start=$(date +%s)
  result=ok
  # new inputs go to $work (the first directory); the committed corpus is only read
  # a later -max_len overrides the one in ${common[@]}; the merge below keeps 4096, so longer
  # inputs already in the corpus stay there
  run_target "$t" "${common[@]}" -max_len="$max_len" -runs="$runs" "${limit[@]}" -entropic=0 \
    -print_final_stats=1 \
    -artifact_prefix="$root/build-fuzz/artifacts/$t/" "$work" "$root/tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || result=FAILED
  # stopped by a signal (kill, ^C): not a finding; the merge below still keeps what it found
  [ "$result" = FAILED ] && grep -q 'libFuzzer: run interrupted' "$log" && result=interrupted
  wall=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  # merge the old corpus and the new inputs into a fresh, minimal corpus
  merged=$cdir/$t.merged
  rm -rf "$merged"
  mkdir -p "$merged"
  if run_target "$t" "${common[@]}" -merge=1 "$merged" "$root/tests/fuzz/corpus/$t" "$work" \
       >"$cdir/$t.merge.log" 2>&1; then
    rm -rf "tests/fuzz/corpus/$t"
    mv "$merged" "tests/fuzz/corpus/$t"
  else
    echo "merge failed for $t (log $cdir/$t.merge.log); committed corpus left as it was" >&2
    result=FAILED
  fi
  files=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
  bytes=$(find "tests/fuzz/corpus/$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-?}" "$wall" "${eps:-?}" \
    "$(echo "$cov" | awk '{print $2}')" "$(echo "$cov" | awk '{print $4}')" "$files" "$bytes" \
    "$result" | tee -a "$summary"
  if [ "$result" = FAILED ]; then
    tail -60 "$log"
    echo "fuzzing FAILED: $t (reproducer in build-fuzz/artifacts/$t/)" >&2
    status=1
  fi
done
echo "campaign summary: $summary"
exit $status

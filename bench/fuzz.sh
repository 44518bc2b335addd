#!/usr/bin/env bash
# bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]: fuzzes each target (default
# all, one after another) for a set time, 600 s by default, starting from a
# copy of its seeds in fuzz/corpus/<name>/, and prints a table: executions,
# exec/s, coverage, corpus growth and the crashes found.
#
# libFuzzer stops at its first crash; the target is then restarted (the
# crashing input is not in the corpus) until its time is used up, so one
# shallow bug does not hide the rest. Everything lands outside the repo in
# VK_FUZZ_RESULTS (default ${TMPDIR:-/tmp}/vk-fuzz-<date>): <target>/corpus,
# <target>/crash-* (leak-*, timeout-*, oom-*), <target>/run-N.log and
# summary.txt. A crash worth keeping goes into fuzz/corpus/<target>/ as a
# regression seed once it is fixed (scripts/fuzz.sh replay runs it then).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 1; }
targets=("$@")
((${#targets[@]} > 0)) || mapfile -t targets < <(scripts/fuzz.sh targets)
results=${VK_FUZZ_RESULTS:-${TMPDIR:-/tmp}/vk-fuzz-$(date +%Y%m%d-%H%M%S)}
readonly kMaxRestarts=20  # a target crashing at once should not spin
readonly kArtifacts='crash-* leak-* timeout-* oom-*'

scripts/fuzz.sh build "${targets[@]}"
mkdir -p "$results"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Sums a "stat::NAME: N" line over every run log of a target.
Stat() { cat "$1"/run-*.log | awk -v k="stat::$2:" '$1 == k { n += $2 } END { print n + 0 }'; }
# Coverage (edges): the most any run's status lines reported.
Coverage() { cat "$1"/run-*.log | awk '/ cov: / { for (i = 1; i < NF; i++) if ($i == "cov:" && $(i + 1) > c) c = $(i + 1) } END { print c + 0 }'; }
Count() { find "$1" -maxdepth 1 -type f | wc -l; }
Artifacts() { (cd "$1" && for a in $kArtifacts; do [[ -e $a ]] && echo "$1/$a"; done) || true; }

FuzzOne() {
  local target=$1 out=$results/$1 binary=build/fuzz/fuzz/$1
  mkdir -p "$out/corpus"
  cp -r "fuzz/corpus/$target/." "$out/corpus/" 2>/dev/null || true
  local seeds start=$SECONDS run=0 left
  seeds=$(Count "$out/corpus")
  while left=$((seconds - (SECONDS - start))) && ((left > 0 && run < kMaxRestarts)); do
    run=$((run + 1))
    # The outer timeout is a backstop: libFuzzer stops itself at max_total_time.
    timeout $((left + 120)) "$binary" -max_total_time="$left" -print_final_stats=1 -timeout=30 \
      -artifact_prefix="$out/" "$out/corpus" >"$out/run-$run.log" 2>&1 && break
  done
  local elapsed=$((SECONDS - start)) execs crashes
  execs=$(Stat "$out" number_of_executed_units)
  crashes=$(Artifacts "$out" | wc -l)
  printf '%-24s %5d %10d %7d %6d %6d %6d %5d %7d\n' "$target" "$elapsed" "$execs" \
    $((execs / (elapsed > 0 ? elapsed : 1))) "$(Coverage "$out")" "$seeds" "$(Count "$out/corpus")" \
    "$(Stat "$out" new_units_added)" "$crashes"
}

header=$(printf '%-24s %5s %10s %7s %6s %6s %6s %5s %7s' target secs execs exec/s cov seeds corpus new crashes)
echo "$header" >"$results/summary.txt"
for target in "${targets[@]}"; do
  echo "bench/fuzz.sh: $target for ${seconds}s" >&2
  FuzzOne "$target" | tee -a "$results/summary.txt" >&2
done
{
  echo
  echo "crashing inputs:"
  for target in "${targets[@]}"; do Artifacts "$results/$target"; done | sed 's/^/  /'
} >>"$results/summary.txt"
echo
echo "bench/fuzz.sh: ${seconds}s per target, results in $results"
cat "$results/summary.txt"

#!/usr/bin/env bash
# scripts/fuzz.sh COMMAND: the libFuzzer targets in fuzz/ (see fuzz/CMakeLists.txt).
#
#   targets            print every target name (one per fuzz/<name>.cc)
#   build [TARGET...]  configure the `fuzz` preset (clang-14) and build the
#                      libFuzzer targets only, not the tests `all` would also
#                      build (bench/fuzz.sh fuzzes with them)
#   replay [TARGET...] run every seed in fuzz/corpus/<name>/ once through the
#                      `asan` preset's replay binaries (g++, ASan + UBSan; the
#                      libraries the asan build compiles anyway, see
#                      fuzz/CMakeLists.txt), building them first; fails on any
#                      crash, leak, sanitizer report or timeout, naming the
#                      target and input, and on a target without seeds.
#                      scripts/test.sh runs this after the asan build.
#   replay-libfuzzer [TARGET...]
#                      the same with the libFuzzer binaries of `build`
#
# Environment: VK_JOBS (build jobs, default nproc); ccache is used when the
# caller sets CMAKE_CXX_COMPILER_LAUNCHER / CMAKE_C_COMPILER_LAUNCHER.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly kLibFuzzerDir=build/fuzz/fuzz
readonly kReplayDir=build/asan/fuzz
readonly kCorpusDir=fuzz/corpus
# A seed is a small input: one taking this long is a hang, not slowness.
readonly kInputTimeoutSeconds=60
readonly kTargetTimeoutSeconds=300
# UBSan recovers by default in this preset; a report must fail the run.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
readonly kSanitizerReport='ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|==ERROR: libFuzzer'

die() {
  echo "fuzz.sh: $*" >&2
  exit 1
}

# Seconds since an $EPOCHREALTIME.
Since() { awk -v from="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - from }'; }

AllTargets() {
  local source
  for source in fuzz/*_fuzzer.cc; do basename "$source" .cc; done
}

# Sets `targets` to those named on the command line (checked) or all of them.
PickTargets() {
  targets=("$@")
  ((${#targets[@]} > 0)) || mapfile -t targets < <(AllTargets)
  local target
  for target in "${targets[@]}"; do
    [[ -f fuzz/$target.cc ]] || die "no target $target (fuzz/$target.cc)"
  done
}

Build() {
  local targets
  PickTargets "$@"
  command -v clang++-14 >/dev/null || die "clang++-14 missing: run scripts/install-deps.sh"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "${VK_JOBS:-$(nproc)}" --target "${targets[@]}"
}

BuildReplayers() {
  local targets
  PickTargets "$@"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "${VK_JOBS:-$(nproc)}" --target "${targets[@]}"
}

# Runs `binary` once over the given inputs, output to `log`; fails on a
# non-zero exit or a sanitizer report that did not change the exit status.
RunSeeds() {
  local binary=$1 log=$2
  shift 2
  timeout "$kTargetTimeoutSeconds" "$binary" -timeout="$kInputTimeoutSeconds" \
    -artifact_prefix="$(dirname "$log")/" "$@" >"$log" 2>&1 && ! grep -qE "$kSanitizerReport" "$log"
}

# Runs one target (in $build_dir) over its seeds; prints "name inputs result seconds".
ReplayOne() {
  local target=$1 log=$2
  local binary=$build_dir/$target corpus=$kCorpusDir/$target
  local seeds=() start=$EPOCHREALTIME
  [[ -x $binary ]] || { printf '%-26s %6s  %-8s\n' "$target" - "NO BINARY"; return 1; }
  [[ -d $corpus ]] && mapfile -t seeds < <(find "$corpus" -type f | sort)
  if ((${#seeds[@]} == 0)); then
    printf '%-26s %6d  %-8s  (add seeds to %s/)\n' "$target" 0 "NO SEEDS" "$corpus"
    return 1
  fi
  local result=ok
  RunSeeds "$binary" "$log" "${seeds[@]}" || result=FAIL
  printf '%-26s %6d  %-8s %6.1fs\n' "$target" "${#seeds[@]}" "$result" "$(Since "$start")"
  [[ $result == ok ]] && return 0
  NameCulprits "$binary" "$log" "${seeds[@]}"
  return 1
}

# After a failed batch: reruns each seed alone so the report names the inputs
# (a leak is only reported at exit, after every input ran), then shows the
# first failing input's output (the batch's if none fails alone).
NameCulprits() {
  local binary=$1 log=$2 seed shown=
  shift 2
  for seed in "$@"; do
    RunSeeds "$binary" "$log.one" "$seed" && continue
    echo "    FAILING INPUT: $seed" >&2
    [[ -n $shown ]] || { shown=1; cp "$log.one" "$log"; }
  done
  echo "    --- $(basename "$binary") output ---" >&2
  grep -vE '^(INFO: |Running: |Executed )' "$log" | head -60 | sed 's/^/    /' >&2
}

# Replay BUILD_COMMAND BUILD_DIR [TARGET...]
Replay() {
  local build_command=$1 build_dir=$2
  shift 2
  local targets target failed=()
  PickTargets "$@"
  "$build_command" "${targets[@]}"
  local logs
  logs=$(mktemp -d "${TMPDIR:-/tmp}/vk-fuzz-replay.XXXXXX")
  # shellcheck disable=SC2064  # expand now: logs is local
  trap "rm -rf '$logs'" EXIT
  printf '\n%-26s %6s  %-8s %7s\n' target inputs result time
  for target in "${targets[@]}"; do
    ReplayOne "$target" "$logs/$target.log" || failed+=("$target")
  done
  if ((${#failed[@]} > 0)); then
    echo "fuzz.sh replay: FAILED: ${failed[*]}" >&2
    return 1
  fi
  echo "fuzz.sh replay: ${#targets[@]} targets, every seed ran clean"
}

command=${1:-}
shift || true
case $command in
  targets) AllTargets ;;
  build) Build "$@" ;;
  replay) Replay BuildReplayers "$kReplayDir" "$@" ;;
  replay-libfuzzer) Replay Build "$kLibFuzzerDir" "$@" ;;
  *) die "usage: scripts/fuzz.sh targets | build [TARGET...] | replay [TARGET...] | replay-libfuzzer [TARGET...]" ;;
esac

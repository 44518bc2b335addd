#!/usr/bin/env bash
# bench/library.sh [PART...]: the cost of virtkit's front ends.
#   run       Run() (libvirtkit, through `vk supervise`) against `vk run -d`
#             for the same cached rootfs: wall time until the call returns
#             (the guest agent answered), median of BENCH_RUN_RUNS (5) boots
#             each; VIRTKIT_STATS=1 makes vk print its set-up timings (to
#             the first guest instruction) with each VM's log.
#   api-exec  Exec({"true"}) through the API, `vk exec NAME -- true` and
#             `sh -c true`: medians of BENCH_RUNS (200) into one VM.
# (bench_version/bench_exec, the `vk` process cost, live beside these.)
# Needs build/release with vk and libvirtkit (cmake --build --preset release
# --target vk virtkit); VK overrides the vk program.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh

median_of() { median <"$1"; }

# The API benchmark program, built against the build tree's libvirtkit.so.
library_bench_program() {
  local lib=build/release/src/lib
  [[ -e $lib/libvirtkit.so ]] || { echo "bench/library.sh: build libvirtkit first" >&2; exit 1; }
  g++ -std=c++20 -O2 -Iinclude bench/library_bench.cc -L"$lib" -lvirtkit \
    -Wl,-rpath,"$PWD/$lib" -o "$work/library_bench"
  echo "$work/library_bench"
}

bench_run() {
  local runs=${BENCH_RUN_RUNS:-5} program i start name
  program=$(library_bench_program)
  export VIRTKIT_VK=$vk VIRTKIT_STATS=1
  for ((i = 1; i <= runs; i++)); do
    name=bench-vkrun-$$-$i
    start=$(now)
    "$vk" run -d --rootfs "$disk" --name "$name" -- sleep 100000 >/dev/null
    elapsed "$start" "$(now)" | awk '{print $1 * 1000}' >>"$work/vkrun.times"
    "$vk" stop "$name" >/dev/null 2>&1 || true
    "$vk" logs "$name" 2>/dev/null | grep '^vk-stats' | sed 's/^/  vk run: /' || true
    "$vk" rm -f "$name" >/dev/null 2>&1 || true
    "$program" run "$disk" "bench-api-$$-$i" 2>"$work/api.err" | awk '{print $2}' >>"$work/api.times"
    grep '^vk-stats' "$work/api.err" | sed 's/^/  Run(): /' || true
    printf 'run %d  vk run -d %8.1f ms   Run() %8.1f ms\n' "$i" \
      "$(tail -n1 "$work/vkrun.times")" "$(tail -n1 "$work/api.times")"
  done
  printf '%-40s %8.1f ms\n' "vk run -d (median of $runs)" "$(median_of "$work/vkrun.times")"
  printf '%-40s %8.1f ms\n' "Run() (median of $runs)" "$(median_of "$work/api.times")"
}

bench_api_exec() {
  local runs=${BENCH_RUNS:-200} program name=bench-exec-$$ i start
  program=$(library_bench_program)
  "$vk" run -d --rootfs "$disk" --name "$name" -- sleep 100000 >/dev/null
  for ((i = 1; i <= runs; i++)); do
    start=$(now)
    sh -c true
    elapsed "$start" "$(now)" | awk '{print $1 * 1000}' >>"$work/sh.times"
    start=$(now)
    "$vk" exec "$name" -- true
    elapsed "$start" "$(now)" | awk '{print $1 * 1000}' >>"$work/vkexec.times"
  done
  local api sh
  api=$("$program" exec "$name" "$runs" | awk '{print $2}')
  sh=$(median_of "$work/sh.times")
  "$vk" rm -f "$name" >/dev/null
  printf '%-40s %8.3f ms  %5.1f x sh -c true\n' "sh -c true" "$sh" 1
  printf '%-40s %8.3f ms  %5.1f x sh -c true\n' "vk exec NAME -- true" \
    "$(median_of "$work/vkexec.times")" "$(ratio "$(median_of "$work/vkexec.times")" "$sh")"
  printf '%-40s %8.3f ms  %5.1f x sh -c true\n' "Exec({\"true\"}) (API)" "$api" "$(ratio "$api" "$sh")"
}

main() {
  bench_init bench/library.sh
  local part parts=("$@")
  [[ ${#parts[@]} -gt 0 ]] || parts=(run api-exec)
  for part in "${parts[@]}"; do
    echo "== $part"
    case $part in
      run) bench_run ;;
      api-exec) bench_api_exec ;;
      *) echo "bench/library.sh: unknown part $part (run, api-exec)" >&2; exit 1 ;;
    esac
  done
}

main "$@"

#!/usr/bin/env bash
# bench/library.sh [PART...]: what a `vk` process costs before it does any
# work, mostly mapping shared libraries (curl, libarchive, ext2fs, slirp and
# libcrypto are bound on first use: src/base/lazy_library.h). Each figure is a
# median, printed with its ratio to `sh -c true` (one fork+exec, the floor):
#   version  `vk --version`, median of 200 (BENCH_RUNS);
#   exec     `vk exec --socket SOCK -- true` against vk-agent serving on the
#            host (VK_AGENT, else build/release/vk-agent): vk's own side of an
#            exec, median of 200 (BENCH_RUNS); then `vk exec NAME -- true` into
#            a VM it launches from the default busybox disk, median of 50
#            (BENCH_EXEC_RUNS), where the guest's fork+exec dominates.
# and, for the C++ library (libvirtkit):
#   run       Run() (libvirtkit, through `vk supervise`) against `vk run -d`
#             for the same cached rootfs: wall time until the call returns
#             (the guest agent answered), median of BENCH_RUN_RUNS (5) boots
#             each; VIRTKIT_STATS=1 makes vk print its set-up timings (to
#             the first guest instruction) with each VM's log.
#   api-exec  Exec({"true"}) through the API, `vk exec NAME -- true` and
#             `sh -c true`: medians of BENCH_RUNS (200) into one VM.
# Needs build/release with vk and libvirtkit (cmake --build --preset release
# --target vk virtkit); VK overrides the vk program.
# PARTs default to all of them. VK_BEFORE=PATH adds the same figures for
# another vk (e.g. a build before a change), timed in the same rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh

# bench_medians RUNS LABEL=COMMAND...: RUNS rounds, each running every
# COMMAND once (so a slow phase of a shared host hits all alike); prints
# "LABEL MS", the median wall time of each, one a line.
bench_medians() {
  python3 - "$@" <<'EOF'
import shlex, statistics, subprocess, sys, time
runs = int(sys.argv[1])
commands = [arg.split("=", 1) for arg in sys.argv[2:]]
times = {label: [] for label, _ in commands}
for _ in range(runs):
    for label, command in commands:
        argv = shlex.split(command)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        times[label].append(time.perf_counter() - start)
for label, _ in commands:
    print(label, f"{statistics.median(times[label]) * 1e3:.3f}")
EOF
}

# report FILE LABEL TEXT: prints TEXT, LABEL's median from FILE and its
# ratio to the `sh` line of FILE.
report() {
  local ms sh_ms
  ms=$(awk -v l="$2" '$1 == l {print $2}' "$1")
  sh_ms=$(awk '$1 == "sh" {print $2}' "$1")
  printf '%-52s %8.3f ms  %5.1f x sh -c true\n' "$3" "$ms" "$(ratio "$ms" "$sh_ms")"
}

# The vks to time: LABEL=PATH.
bench_vks() {
  echo "vk=$vk"
  if [[ -n ${VK_BEFORE:-} ]]; then echo "before=$VK_BEFORE"; fi
}

bench_version() {
  local runs=${BENCH_RUNS:-200} out=$work/version.times args=(sh="sh -c true") entry
  for entry in $(bench_vks); do args+=("${entry%%=*}=${entry#*=} --version"); done
  bench_medians "$runs" "${args[@]}" >"$out"
  echo "median of $runs:"
  report "$out" sh "sh -c true"
  for entry in $(bench_vks); do
    report "$out" "${entry%%=*}" "${entry#*=} --version"
  done
}

bench_exec() {
  local runs=${BENCH_RUNS:-200} out=$work/exec-host.times sock=$work/exec.sock entry
  local args=(sh="sh -c true")
  "${VK_AGENT:-build/release/vk-agent}" serve --unix "$sock" &
  bench_pids+=($!)
  for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
  for entry in $(bench_vks); do args+=("${entry%%=*}=${entry#*=} exec --socket $sock -- true"); done
  bench_medians "$runs" "${args[@]}" >"$out"
  echo "median of $runs, vk-agent on the host:"
  report "$out" sh "sh -c true"
  for entry in $(bench_vks); do
    report "$out" "${entry%%=*}" "${entry#*=} exec --socket SOCK -- true"
  done
  bench_exec_vm
}

bench_exec_vm() {
  local runs=${BENCH_EXEC_RUNS:-50} out=$work/exec.times name=bench-library-$$ entry
  local args=(sh="sh -c true")
  [[ -w /dev/kvm ]] || { echo "exec: /dev/kvm is not usable; no VM timed"; return 0; }
  timeout "$bench_limit" "$vk" launch -d --name "$name" --disk "$disk" --read-only >/dev/null
  for entry in $(bench_vks); do args+=("${entry%%=*}=${entry#*=} exec $name -- true"); done
  bench_medians "$runs" "${args[@]}" >"$out" || { "$vk" rm -f "$name" >/dev/null; return 1; }
  "$vk" rm -f "$name" >/dev/null
  echo "median of $runs, into VM $name:"
  report "$out" sh "sh -c true"
  for entry in $(bench_vks); do
    report "$out" "${entry%%=*}" "${entry#*=} exec NAME -- true"
  done
}

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
    "$vk" logs "$name" 2>/dev/null | grep '^vk-stats' | tee -a "$work/vkrun.stats" |
      sed 's/^/  vk run: /' || true
    "$vk" rm -f "$name" >/dev/null 2>&1 || true
    "$program" run "$disk" "bench-api-$$-$i" 2>"$work/api.err" | awk '{print $2}' >>"$work/api.times"
    "$vk" logs "bench-api-$$-$i" 2>/dev/null | grep '^vk-stats' | tee -a "$work/api.stats" |
      sed 's/^/  Run(): /' || true
    "$vk" rm -f "bench-api-$$-$i" >/dev/null 2>&1 || true
    printf 'run %d  vk run -d %8.1f ms   Run() %8.1f ms\n' "$i" \
      "$(tail -n1 "$work/vkrun.times")" "$(tail -n1 "$work/api.times")"
  done
  printf '%-40s %8.1f ms\n' "vk run -d (median of $runs)" "$(median_of "$work/vkrun.times")"
  printf '%-40s %8.1f ms\n' "Run() (median of $runs)" "$(median_of "$work/api.times")"
  # Host-side set-up: process start to the guest's first instruction.
  local which
  for which in vkrun api; do
    grep -o 'main_to_first_run_ms=[0-9.]*' "$work/$which.stats" 2>/dev/null | cut -d= -f2 \
      >"$work/$which.first" || true
  done
  if [[ -s $work/vkrun.first && -s $work/api.first ]]; then
    printf '%-40s %8.1f ms\n' "vk run: to first guest instruction" "$(median_of "$work/vkrun.first")"
    printf '%-40s %8.1f ms\n' "Run(): to first guest instruction" "$(median_of "$work/api.first")"
  fi
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

bench_init bench/library.sh
parts=("$@")
((${#parts[@]})) || parts=(version exec run api-exec)
for part in "${parts[@]}"; do
  echo "== $part"
  "bench_${part//-/_}"
done

#!/usr/bin/env bash
# bench/library.sh [PART...]: what a `vk` process costs before it does any
# work, mostly mapping shared libraries (curl, libarchive, ext2fs, slirp and
# libcrypto are bound on first use: src/base/lazy_library.h). Each figure is a
# median, printed with its ratio to `sh -c true` (one fork+exec, the floor):
#   version  `vk --version`, median of 200 (BENCH_RUNS);
#   exec     `vk exec --socket SOCK -- true` against an exec server that runs
#            nothing and answers "exited 0" at once (build/release/
#            vk_exec_null_agent): the host side of an exec round trip alone;
#            the same against vk-agent serving on the host (VK_AGENT, else
#            build/release/vk-agent), which adds the agent's fork+exec+wait
#            of `true`; medians of 200 (BENCH_RUNS); then `vk exec NAME -- true` into
#            a VM it launches from the default busybox disk, median of 50
#            (BENCH_EXEC_RUNS), where the guest's fork+exec dominates.
# and, for the C++ library (libvirtkit):
#   run       Run() (libvirtkit, through `vk supervise`) against `vk run -d
#             --net` (Run()'s default is a LAN too) for the same cached
#             rootfs, alternating: wall time until the call returns (the
#             guest agent answered) and from the spawn/call to the guest's
#             first instruction (VIRTKIT_STATS' first_run_monotonic_ns),
#             medians of BENCH_RUN_RUNS (5) boots each.
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
  local null=$work/null.sock args=(sh="sh -c true")
  "${VK_AGENT:-build/release/vk-agent}" serve --unix "$sock" &
  bench_pids+=($!)
  "${VK_NULL_AGENT:-build/release/vk_exec_null_agent}" "$null" &
  bench_pids+=($!)
  for _ in $(seq 50); do [[ -S $sock && -S $null ]] && break; sleep 0.1; done
  for entry in $(bench_vks); do
    args+=("${entry%%=*}-null=${entry#*=} exec --socket $null -- true")
    args+=("${entry%%=*}=${entry#*=} exec --socket $sock -- true")
  done
  bench_medians "$runs" "${args[@]}" >"$out"
  echo "median of $runs (each includes the timer's own process spawn, as sh's does):"
  report "$out" sh "sh -c true"
  for entry in $(bench_vks); do
    report "$out" "${entry%%=*}-null" "${entry#*=} exec -- true, host side (null agent)"
    report "$out" "${entry%%=*}" "${entry#*=} exec -- true, vk-agent on the host"
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
  local runs=${BENCH_RUN_RUNS:-5} program i name which
  program=$(library_bench_program)
  export VIRTKIT_VK=$vk VIRTKIT_STATS=1
  for ((i = 1; i <= runs; i++)); do
    # Alternating, both on their own LAN (Run()'s default; `vk run --net`),
    # both spawned by library_bench and timed from there.
    for which in vkrun api; do
      name=bench-$which-$$-$i
      if [[ $which == vkrun ]]; then
        "$program" vkrun "$vk" "$disk" "$name" >"$work/out" 2>"$work/err" ||
          { cat "$work/err" >&2; exit 1; }
        "$vk" stop "$name" >/dev/null 2>&1 || true
      else
        "$program" run "$disk" "$name" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
      fi
      awk '$1 == "run_ms" {print $2}' "$work/out" >>"$work/$which.times"
      "$vk" logs "$name" 2>/dev/null | grep '^vk-stats' >"$work/stats" || true
      # Host-side set-up: the launcher's spawn/call to the guest's first
      # instruction (both CLOCK_MONOTONIC).
      awk -v start="$(awk '$1 == "start_ns" {print $2}' "$work/out")" '
        match($0, /first_run_monotonic_ns=[0-9]+/) {
          print (substr($0, RSTART + 23, RLENGTH - 23) - start) / 1e6 }' "$work/stats" \
        >>"$work/$which.first"
      "$vk" rm -f "$name" >/dev/null 2>&1 || true
    done
    printf 'run %d  vk run -d --net %8.1f ms (first instruction %6.1f ms)   Run() %8.1f ms (%6.1f ms)\n' \
      "$i" "$(tail -n1 "$work/vkrun.times")" "$(tail -n1 "$work/vkrun.first")" \
      "$(tail -n1 "$work/api.times")" "$(tail -n1 "$work/api.first")"
  done
  printf '%-52s %8.1f ms\n' "vk run -d --net: until the agent answers (median of $runs)" \
    "$(median_of "$work/vkrun.times")"
  printf '%-52s %8.1f ms\n' "Run(): until the agent answers (median of $runs)" "$(median_of "$work/api.times")"
  printf '%-52s %8.1f ms\n' "vk run -d --net: spawn to first guest instruction" \
    "$(median_of "$work/vkrun.first")"
  printf '%-52s %8.1f ms\n' "Run(): call to first guest instruction" "$(median_of "$work/api.first")"
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

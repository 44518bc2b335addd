#!/usr/bin/env bash
# bench/start.sh [RUNS]: how long `vk launch ... -- true` takes from a warm
# template (docs/snapshots.md) against a cold boot of the same guest, against
# QEMU's microvm booting the same kernel, agent and disk, and against QEMU
# restoring a migrated guest of its own (`-incoming`, for reference); medians
# of RUNS (default 5), side by side in one run, with the ratios. Also: host-side
# time from process start to the first guest instruction after the restore,
# the RSS of a restored VM before it runs anything, the VMM's memory overhead
# (RSS minus the guest's resident pages) of a restored VM idle after boot,
# with and without --net, and 10 concurrent restores from one template (total
# wall time, host memory used).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init bench/start.sh

launch() {
  timeout --foreground "$bench_limit" \
    "$vk" launch --disk "$disk" --read-only --mem 256M "$@"
}
run_template() { VIRTKIT_STATS=1 launch -- true 2>>"$work/stats.log"; }
run_cold() { launch --cold -- true 2>/dev/null; }
run_qemu() { qemu_boot; }

# QEMU's own restore. Its guest is booted once from a disk whose /sbin/init
# prints a marker on the console, waits for a line from it and powers off;
# at the marker the stopped guest is migrated to a file. Each run restores
# that file and types newlines on the console, one every 5 ms, until the guest
# powers off: a single newline sent up front is read by the UART while the
# state still loads, and the loaded UART state then drops it (the guest waits
# forever); an endless flood (`yes`) slows the guest to 10 s and more with
# serial interrupts and echoes.
qemu_disk=$work/wait.ext4
qemu_state=$work/qemu.state
qemu_marker=VK-BENCH-WAITING
newlines() {
  local never
  trap '' PIPE  # a write to QEMU gone ends the loop, not the shell
  mkfifo "$work/never"
  exec {never}<>"$work/never"  # read-write: the open never blocks, no data ever comes
  rm "$work/never"
  while printf '\n' 2>/dev/null; do read -r -t 0.005 -u "$never" _ || true; done
}
run_qemu_restore() {
  newlines |
    powered_off qemu_microvm "$qemu_disk" -serial stdio -incoming "exec:cat $qemu_state" >/dev/null
}

# qmp JSON: sends one command to the QEMU the `qmp` coprocess talks to and
# prints the answer; fails on an error answer or none within 60 s.
qmp() {
  local line
  echo "$1" >&"${qmp[1]}"
  while IFS= read -r -t 60 line <&"${qmp[0]}"; do
    case $line in
      '{"return"'*) echo "$line"; return 0 ;;
      '{"error"'*) echo "QMP $1: $line" >&2; return 1 ;;
    esac  # the greeting and events
  done
  echo "QMP $1: no answer" >&2
  return 1
}

make_qemu_state() {
  local tree=$work/wait-tree log=$work/qemu-boot.log sock=$work/qmp.sock pid waited
  scripts/busybox-tree.sh "$tree"
  printf '#!/bin/sh\necho %s\nread line\npoweroff -f\n' "$qemu_marker" >"$tree/sbin/init"
  "$vk" mkext "$tree" "$qemu_disk" >/dev/null
  # store-global-state=off: the stream would otherwise carry the run state
  # (stopped), and every restore would stay paused.
  qemu_microvm "$qemu_disk" -serial file:"$log" -qmp unix:"$sock",server=on,wait=off \
    -global migration.store-global-state=off -pidfile "$work/qemu-boot.pid" &
  pid=$!
  for ((waited = 0; waited < bench_limit * 2; waited++)); do
    grep -qs "$qemu_marker" "$log" && break
    kill -0 "$pid" 2>/dev/null || { echo "QEMU ended before the marker" >&2; return 1; }
    sleep 0.5
  done
  if ! grep -qs "$qemu_marker" "$log"; then
    echo "no marker from QEMU in ${bench_limit} s" >&2
    return 1
  fi
  coproc qmp { socat - UNIX-CONNECT:"$sock"; }
  qmp '{"execute": "qmp_capabilities"}' >/dev/null
  qmp '{"execute": "stop"}' >/dev/null
  qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $qemu_state\"}}" >/dev/null
  for ((waited = 0; waited < 600; waited++)); do
    case $(qmp '{"execute": "query-migrate"}') in
      *'"status": "completed"'*) break ;;
      *'"status": "failed"'* | *'"status": "cancelled"'*)
        echo "QEMU migration failed" >&2
        return 1
        ;;
    esac
    sleep 0.1
  done
  qmp '{"execute": "quit"}' >/dev/null
  wait "$pid"
  rm -f "$work/qemu-boot.pid"
  echo "QEMU guest state: $(du -h "$qemu_state" | cut -f1)"
}

# The RSS of a restored VM before it runs anything: VIRTKIT_STATS reports the
# RSS only at exit, after the guest has booted on and run its command. So a VM
# is started in the background (its command, sleep 30, keeps it up) and the
# VmRSS of its vk process is read as soon as a vCPU thread of it is inside
# KVM_RUN: the template is restored and the guest has just been resumed
# (it then waits for its assignment, and only after that mounts its root and
# runs the command, seconds later on PVM). What is resident then is the VMM
# itself plus what the restore touched; the guest's memory file is mapped but
# not faulted in yet. The template must exist already: one being made is a VM
# of the same process, and its KVM_RUN would count.
rss_before_running() {
  local pid task call waited=0 rss=""
  "$vk" launch --disk "$disk" --read-only --mem 256M -- sleep 30 \
    >/dev/null 2>"$work/rss.err" &
  pid=$!
  bench_pids+=("$pid")
  while [[ -z $rss ]] && ((waited++ < 6000)); do
    for task in /proc/"$pid"/task/*; do
      # ioctl (16) with the request KVM_RUN (0xae80) as its second argument.
      read -r -a call 2>/dev/null <"$task/syscall" || continue
      if [[ ${call[0]} == 16 && ${call[2]} == 0xae80 ]]; then
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        break
      fi
    done
    [[ -n $rss ]] || sleep 0.01
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "${rss:-?}"
}

# The memory of a restored VM idle after boot: "RSS GUEST OVERHEAD" (KiB) of
# its VMM (bench/lib.sh vmm_memory) once the guest has booted, run its
# command's first line and slept 3 s; ARGS go to `vk launch` (e.g. --net).
# The VMM is the foreground `vk launch` itself, as it is the background
# child of a `-d` one (the same code from the restore on).
idle_memory() {
  local ready=$work/idle.out pid waited
  rm -f "$ready"
  # Not through `launch`: the pid must be vk's own, not timeout's.
  "$vk" launch --disk "$disk" --read-only --mem 256M "$@" -- sh -c 'echo ready; exec sleep 600' \
    >"$ready" 2>/dev/null &
  pid=$!
  bench_pids+=("$pid")
  for ((waited = 0; waited < bench_limit * 10; waited++)); do
    grep -qs ready "$ready" && break
    kill -0 "$pid" 2>/dev/null || { echo "the idle VM ended" >&2; return 1; }
    sleep 0.1
  done
  sleep 3
  vmm_memory "$pid" $((256 << 20))
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

echo "making the template (once)..."
launch -- true 2>/dev/null
echo "booting QEMU's guest to migrate it (once)..."
make_qemu_state

bench_rounds "$runs" template cold qemu qemu_restore

template=$(times_median template)
cold=$(times_median cold)
qemu_boot_s=$(times_median qemu)
qemu_restore_s=$(times_median qemu_restore)
first_run=$(stat_median "$work/stats.log" main_to_first_run_ms)
rss_exit=$(stat_median "$work/stats.log" rss_kib)
rss_restored=$(rss_before_running)
read -r idle_rss idle_guest idle_overhead < <(idle_memory)
echo "making the --net template (once)..."
launch --net -- true 2>/dev/null
read -r net_rss net_guest net_overhead < <(idle_memory --net)

start=$(now)
before=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
peak=0
pids=()
for ((i = 0; i < 10; i++)); do
  launch -- true 2>/dev/null &
  pids+=($!)
done
while [[ -n $(jobs -r) ]]; do
  used=$((before - $(awk '/MemAvailable/ {print $2}' /proc/meminfo)))
  ((used > peak)) && peak=$used
  sleep 0.2
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
concurrent=$(elapsed "$start" "$(now)")

# row NAME SECONDS [compare]: one line of the table, with how the template
# compares when asked.
row() {
  local versus=""
  if [[ -n ${3:-} ]]; then
    versus=$(awk -v t="$template" -v s="$2" 'BEGIN {
      if (s >= t) printf "  (template %.1fx faster)", s / t
      else printf "  (template %.1fx slower)", t / s
    }')
  fi
  printf '  %-30s %7.2f s%s\n' "$1" "$2" "$versus"
}
printf '\nwall time from process start to exit, median of %d:\n' "$runs"
row "vk launch -- true (template)" "$template"
row "vk launch --cold -- true" "$cold" compare
row "QEMU microvm cold boot" "$qemu_boot_s" compare
row "QEMU -incoming restore" "$qemu_restore_s" compare
printf 'process start -> first guest instruction after restore: %s ms (median)\n' "$first_run"
printf 'RSS of a restored VM before it runs anything: %s KiB' "$rss_restored"
printf ' (at exit, after -- true: %s KiB, median)\n' "$rss_exit"
printf 'a restored VM idle after boot: RSS %s KiB = guest %s KiB + VMM overhead %s KiB' \
  "$idle_rss" "$idle_guest" "$idle_overhead"
printf ' (--net: %s = %s + %s KiB; goal: overhead <= 5120 KiB)\n' \
  "$net_rss" "$net_guest" "$net_overhead"
printf '10 concurrent restores: %.2f s total, host memory used at peak %d MiB, %d failed\n' \
  "$concurrent" $((peak / 1024)) "$failed"

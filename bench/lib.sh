# shellcheck shell=bash
# bench/lib.sh: what the benchmarks that compare vk with QEMU share. Sourced
# (not run) by bench/boot.sh and bench/start.sh from the repository root,
# under `set -euo pipefail`:
#
#   source bench/lib.sh
#   bench_init "bench/NAME.sh"
#
# bench_init sets `vk` (VK, else build/release/vk), `work` (a temporary
# directory holding the guest kernel `vmlinux` and agent `initramfs.cpio` that
# this vk embeds), `disk` (the default busybox root disk) and `cmdline` (the
# kernel command line a QEMU boot of that guest needs). On exit it ends the
# processes listed in `bench_pids` or in a pid file $work/*.pid, and removes
# `work`. A VM that is not done in `bench_limit` seconds (BENCH_LIMIT, 600) is
# stuck: it is ended and its run fails.

bench_pids=()
bench_limit=${BENCH_LIMIT:-600}

bench_exit() {
  local pid
  for pid in "${bench_pids[@]}" $(cat "$work"/*.pid 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}

bench_init() {
  vk=${VK:-build/release/vk}
  [[ -x $vk ]] || { echo "$1: build first (cmake --build --preset release)" >&2; exit 1; }
  work=$(mktemp -d)
  trap bench_exit EXIT
  disk=$(scripts/default-image.sh)
  "$vk" guest-assets "$work" >/dev/null
  # What vk itself gives the guest at boot: its agent mounts vda read-only
  # as the root and runs its /sbin/init. PVM hosts need the other words too.
  cmdline="console=ttyS0 reboot=t panic=-1 quiet vk.root=/dev/vda vk.ro=1"
  if [[ -d /sys/module/kvm_pvm ]]; then
    cmdline+=" noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page"
  fi
}

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { echo "$1 / $2" | bc -l; }

# bench_rounds RUNS TOOL...: RUNS rounds, each running run_TOOL for every TOOL
# in turn (so a slow phase of a shared host hits all of them alike); the wall
# times go to $work/TOOL.times, one a line. Any run that fails stops the bench.
bench_rounds() {
  local runs=$1 i tool start
  shift
  for ((i = 1; i <= runs; i++)); do
    for tool in "$@"; do
      start=$(now)
      "run_$tool" || { echo "run $i $tool failed" >&2; return 1; }
      elapsed "$start" "$(now)" >>"$work/$tool.times"
      printf 'run %d %-12s %7.2f s\n' "$i" "$tool" "$(tail -n1 "$work/$tool.times")"
    done
  done
}

# times_median TOOL: the median of bench_rounds' times of TOOL.
times_median() { median <"$work/$1.times"; }

# stat_median FILE KEY: the median of KEY=VALUE over the vk-stats lines that
# VIRTKIT_STATS=1 wrote to FILE.
stat_median() { grep -o " $2=[0-9.-]*" "$1" | cut -d= -f2 | median; }

# vmm_memory PID MEMORY_BYTES: "RSS GUEST OVERHEAD" (KiB) of the VMM process
# PID, from its smaps: GUEST is the resident part of the guest's memory (the
# template's memory file a restored VM maps, or for a booted one adjacent
# anonymous read-write mappings that together are MEMORY_BYTES long, below
# 3 GiB: its RAM, split where it asked for huge pages, maybe right after a
# thread's stack), OVERHEAD the rest, as VIRTKIT_STATS counts.
vmm_memory() {
  awk -v kib=$(($2 / 1024)) '
    function end_run(i, j, sum, got) {
      for (i = 1; i <= n; i++) {
        sum = 0
        got = 0
        for (j = i; j <= n && sum < kib; j++) { sum += size[j]; got += res[j] }
        if (sum == kib) { resident += got; break }
      }
      n = 0
      run_end = ""
    }
    /^[0-9a-f]+-[0-9a-f]+ / {
      split($1, range, "-")
      anon = $6 == "" && $2 == "rw-p"
      file = $6 ~ /\/memory$/
      if (!anon || range[1] != run_end) end_run()
      if (anon) { run_end = range[2]; n++; size[n] = 0; res[n] = 0 }
      next
    }
    $1 == "Size:" { if (anon) size[n] = $2; next }
    $1 == "Rss:" {
      rss += $2
      if (file) resident += $2
      if (anon) res[n] = $2
    }
    END { end_run(); print rss, resident, rss - resident }' "/proc/$1/smaps"
}

# qemu_microvm DISK ARGS...: QEMU's microvm machine running the guest vk
# boots (same kernel, agent initramfs and command line; 256 MiB, 1 vCPU)
# with DISK read-only on virtio-mmio and ARGS added (the serial port among
# them: there is none by default). The guest's power-off ends QEMU through
# isa-debug-exit with status 1 ((0 << 1) | 1); QEMU's messages go to
# $work/qemu.err. Returns QEMU's exit status.
qemu_microvm() {
  local root=$1
  shift
  # -cpu EPYC-Rome: -cpu host fails on PVM hosts (MSR 0x10a); see kernel/README.md.
  timeout --foreground "$bench_limit" \
    qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome -m 256M -smp 1 \
    -nodefaults -no-user-config -nographic \
    -kernel "$work/vmlinux" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    -drive id=root,file="$root",format=raw,if=none,readonly=on \
    -device virtio-blk-device,drive=root \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" 2>>"$work/qemu.err"
}

# powered_off COMMAND...: runs COMMAND (a qemu_microvm) and succeeds only if
# the guest powered off cleanly.
powered_off() {
  local status=0
  "$@" || status=$?
  ((status == 1))
}

# qemu_boot: QEMU boots the default disk, whose /sbin/init powers off.
qemu_boot() { powered_off qemu_microvm "$disk" -serial null; }

# start_local_registry STORAGE_DIR: Debian's docker-registry on 127.0.0.1 at a
# free port, storing under STORAGE_DIR (its config and log go beside it).
# Sets `port` and `registry_pid` (the caller kills it on exit); returns once
# the registry answers /v2/.
start_local_registry() {
  local storage=$1 config=$1.yml
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$config" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $storage}}
http: {addr: 127.0.0.1:$port}
YML
  docker-registry serve "$config" >"$storage.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
}

#!/usr/bin/env bash
# bench/virtiofsd.sh [--quick]: virtio-fs served by the built-in device vs
# the same device behind the vhost-user back end (`vk virtiofsd`'s path).
#
#  1. vk_fs_bench (bench/fs_server.cc): the built-in device, each request a
#     direct ProcessQueue call on the caller's thread (no notification).
#  2. vk_virtiofsd_bench (bench/virtiofsd_bench.cc): the same FUSE requests
#     (LOOKUP+GETATTR, READ and WRITE of 4 KiB and 1 MiB on an 8 MiB file)
#     through a VhostUserBackend on its own thread, fed over a unix socket by
#     the fake front end: each request is a ring chain, a kick eventfd write
#     and a wait for the call eventfd. Its BM_FsEventfd* runs are the
#     built-in device with that same eventfd round trip (our VMM's ioeventfd
#     and irqfd), the fair baseline for the vhost-user column.
#
# Prints medians (of 3 repetitions; --quick: one short run) as rates from
# wall time, and the ratios vhost-user / built-in and vhost-user /
# built-in+eventfd (above 1: vhost-user is faster).
#
# Both benchmarks run pinned to one CPU (BENCH_CPU, default the first one we
# may use; BENCH_CPU=none leaves them unpinned): a request is a hand-off
# between two threads, and on a small or shared host where the other thread
# wakes up (same CPU, another CPU from idle, behind other load) varies the
# round trip several-fold from run to run, which would drown the difference
# being measured.
#
#  3. `vk run --rootfs DISK -- true` (the default busybox disk, 256 MiB, one
#     vCPU) under --vmm qemu against our VMM booting cold (--cold) and
#     restoring its warm template (the default), in alternating rounds
#     (bench/lib.sh bench_rounds): process start to exit, medians of RUNS
#     (VM_RUNS, default 5; --quick: 1) and the ratios. QEMU always boots:
#     it has no template.
#
# Builds nothing: expects build/release (cmake --build --preset release
# --target vk vk_fs_bench vk_virtiofsd_bench), or VK_FS_BENCH/VK_VIRTIOFSD_BENCH
# and VK.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ ${1:-} == --quick ]] && quick=1
fs_bench=${VK_FS_BENCH:-build/release/vk_fs_bench}
vu_bench=${VK_VIRTIOFSD_BENCH:-build/release/vk_virtiofsd_bench}
for bin in "$fs_bench" "$vu_bench"; do
  [[ -x $bin ]] || {
    echo "bench/virtiofsd.sh: build first (cmake --build --preset release" \
      "--target vk_fs_bench vk_virtiofsd_bench)" >&2
    exit 1
  }
done
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init bench/virtiofsd.sh  # sets vk, work (removed on exit) and disk

if ((quick)); then
  runs=(--benchmark_min_time=0.05)
  what="one short run"
else
  runs=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
  what="median of 3 runs"
fi
cpu=${BENCH_CPU:-$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')}
pin=()
[[ $cpu != none ]] && pin=(taskset -c "$cpu")

echo "== vk_fs_bench (built-in, direct call), ${pin[*]:-unpinned}"
"${pin[@]}" "$fs_bench" --benchmark_filter='^BM_Fs' --benchmark_format=json "${runs[@]}" \
  >"$work/builtin.json" 2>/dev/null
echo "== vk_virtiofsd_bench (vhost-user, built-in + eventfd), ${pin[*]:-unpinned}"
"${pin[@]}" "$vu_bench" --benchmark_format=json "${runs[@]}" >"$work/vhost_user.json" 2>/dev/null

# The table: one row per operation, rates from each run's wall time per
# iteration (vk_fs_bench's own counters use CPU time; the vhost-user runs
# spend theirs on another thread).
python3 - "$work/builtin.json" "$work/vhost_user.json" "$what" <<'PY'
import json, sys

def wall_seconds(path):
    """Benchmark name (no /real_time, no aggregate suffix) -> wall s per iteration."""
    out = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].replace("/real_time", "")
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        out[name] = b["real_time"] * scale
    return out

builtin = wall_seconds(sys.argv[1])
vhost = wall_seconds(sys.argv[2])
ops = [  # label, suffix, bytes per iteration (None: items/s)
    ("LOOKUP+GETATTR", "LookupGetattr", None),
    ("READ 4 KiB", "Read/4096", 4096),
    ("READ 1 MiB", "Read/1048576", 1 << 20),
    ("WRITE 4 KiB", "Write/4096", 4096),
    ("WRITE 1 MiB", "Write/1048576", 1 << 20),
]

def rate(seconds, size):
    if seconds is None:
        return None, "-"
    if size is None:
        r = 1 / seconds
        return r, f"{r / 1e3:8.1f} k/s"
    r = size / seconds
    return r, f"{r / 2**20:8.0f} MiB/s"

def ratio(a, b):
    return f"{a / b:6.2f}" if a and b else "     -"

print(f"\n{sys.argv[3]}; items/s = LOOKUP+GETATTR pairs/s")
print(f"{'operation':<16} {'built-in':>14} {'+eventfd':>14} {'vhost-user':>14}"
      f" {'vu/built-in':>11} {'vu/+eventfd':>11}")
for label, suffix, size in ops:
    b, b_text = rate(builtin.get("BM_Fs" + suffix), size)
    e, e_text = rate(vhost.get("BM_FsEventfd" + suffix), size)
    v, v_text = rate(vhost.get("BM_VhostUser" + suffix), size)
    print(f"{label:<16} {b_text:>14} {e_text:>14} {v_text:>14} {ratio(v, b):>11} {ratio(v, e):>11}")
PY

vm_runs=${VM_RUNS:-5}
((quick)) && vm_runs=1
run_qemu() { "$vk" run --vmm qemu --rootfs "$disk" --mem 256M -- true >/dev/null 2>&1; }
run_cold() { "$vk" run --cold --rootfs "$disk" --mem 256M -- true >/dev/null 2>&1; }
run_template() { "$vk" run --rootfs "$disk" --mem 256M -- true >/dev/null 2>&1; }
echo
echo "== vk run --rootfs DISK -- true: --vmm qemu vs our VMM (cold, template)"
echo "warming up (the rootfs base, the template, QEMU's cached guest files)"
run_template
run_qemu
bench_rounds "$vm_runs" qemu cold template
qemu_wall=$(times_median qemu)
cold_wall=$(times_median cold)
template_wall=$(times_median template)
printf '\n%-24s %10s %10s %10s %12s %12s\n' "median of $vm_runs" "qemu" "ours cold" \
  "ours tmpl" "qemu/cold" "qemu/tmpl"
printf '%-24s %9.2fs %9.2fs %9.2fs %12.2f %12.2f\n' "process start to exit" "$qemu_wall" \
  "$cold_wall" "$template_wall" "$(ratio "$qemu_wall" "$cold_wall")" \
  "$(ratio "$qemu_wall" "$template_wall")"

#!/usr/bin/env bash
# bench/libkrun.sh [RUNS]: a libkrun client on virtkit's libkrun.so.1 against
# `vk run` of the same root, side by side (issue 18: within 10%). The client
# is tests/libkrun/client's chroot_runner, built against the installed
# libkrun component; the root is a busybox tree (scripts/busybox-tree.sh),
# given to the client as krun_set_root() and to vk as --rootfs DIR (built
# once into a cached ext4 base). Each run is `... -- /bin/true` with the
# same 512 MiB, 1 vCPU and network (libkrun's implicit TSI networking is our
# in-process LAN, so vk runs with --net). Prints, medians of RUNS (default
# 5): wall time from process start to exit, and host-side time from process
# start to the first guest instruction (VIRTKIT_STATS vcpus_ready_ms), and
# the ratios libkrun/vk.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init bench/libkrun.sh
build=$(dirname "$vk")

cmake --build "$build" --target krun >/dev/null
cmake --install "$build" --prefix "$work/prefix" --component libkrun >/dev/null
pc_dir=$(dirname "$(find "$work/prefix" -name libkrun.pc)")
PKG_CONFIG_PATH=$pc_dir cmake -S tests/libkrun/client -B "$work/client" >/dev/null
cmake --build "$work/client" >/dev/null
runner=$work/client/chroot_runner
root=$work/root
scripts/busybox-tree.sh "$root"

run_libkrun() { VIRTKIT_STATS=1 "$runner" "$root" -- /bin/true 2>>"$work/libkrun-stats.log"; }
run_vk() {
  VIRTKIT_STATS=1 "$vk" run --rootfs "$root" --net --mem 512M -- /bin/true \
    2>>"$work/vk-stats.log"
}

# The first run of each makes what later runs reuse (the warm template of
# each shape, vk's ext4 base of the tree): not measured.
echo "warming up (templates, the rootfs base)"
run_libkrun
run_vk
: >"$work/libkrun-stats.log"
: >"$work/vk-stats.log"

bench_rounds "$runs" libkrun vk
libkrun_wall=$(times_median libkrun)
vk_wall=$(times_median vk)
libkrun_first=$(stat_median "$work/libkrun-stats.log" vcpus_ready_ms)
vk_first=$(stat_median "$work/vk-stats.log" vcpus_ready_ms)
printf '\n%-34s %10s %10s %8s\n' "median of $runs" libkrun "vk run" ratio
printf '%-34s %9.3fs %9.3fs %8.2f\n' "process start to exit" "$libkrun_wall" "$vk_wall" \
  "$(ratio "$libkrun_wall" "$vk_wall")"
printf '%-34s %8.1fms %8.1fms %8.2f\n' "process start to first instruction" "$libkrun_first" \
  "$vk_first" "$(ratio "$libkrun_first" "$vk_first")"

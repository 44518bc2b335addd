#!/usr/bin/env bash
# bench/boot.sh [RUNS]: boots the same guest with vk and with QEMU's microvm
# machine, alternating, and prints medians and the ratio.
#
# Both boot (vk with --cold, never from a warm template) the kernel and agent
# initramfs embedded in vk (`vk guest-assets`) with the busybox root disk
# attached read-only over virtio-mmio; the agent mounts it and runs its
# /sbin/init, which powers off. `vk launch --cold -- true` (agent + vsock exec
# round trip) is timed as well, and vk's host-side costs are read from
# VIRTKIT_STATS=1: process start to first guest instruction, KVM_RUN exits
# handled per second, VMM RSS beyond the guest memory touched.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init bench/boot.sh

# --cold: vk would otherwise restore a warm template, and this compares boots.
run_vk() {
  VIRTKIT_STATS=1 "$vk" launch --cold --disk "$disk" --read-only --mem 256M --console /dev/null \
    2>>"$work/vk-stats.log" >/dev/null
}
run_vk_true() {
  VIRTKIT_STATS=1 "$vk" launch --cold --disk "$disk" --read-only --mem 256M -- true \
    2>>"$work/vk-stats.log"
}
run_qemu() { qemu_boot; }

bench_rounds "$runs" vk qemu vk_true

vk_median=$(times_median vk)
qemu_median=$(times_median qemu)
true_median=$(times_median vk_true)
stat() { stat_median "$work/vk-stats.log" "$1"; }
echo
printf 'boot to power-off, median of %d: vk %.2f s, qemu microvm %.2f s, ratio vk/qemu %.3f\n' \
  "$runs" "$vk_median" "$qemu_median" "$(ratio "$vk_median" "$qemu_median")"
printf 'vk launch -- true (agent + exec round trip), median: %.2f s\n' "$true_median"
printf 'vk host-side: process start -> first KVM_RUN %.2f ms (Machine::Create -> first KVM_RUN %.2f ms)\n' \
  "$(stat main_to_first_run_ms)" "$(stat create_to_first_run_ms)"
exit_rate=${VK_EXIT_RATE:-$(dirname "$vk")/vk_exit_rate}
rates=$(for _ in 1 2 3; do "$exit_rate" 200000 | grep -o '[0-9]* exits/s' | cut -d' ' -f1; done | median)
printf 'vk host-side: %s KVM exits per boot; exit handling capacity %.0f exits/s (median of 3, synthetic guest)\n' \
  "$(stat exits)" "$rates"
printf 'vk RSS %s KiB = guest memory touched %s KiB + VMM overhead %s KiB\n' \
  "$(stat rss_kib)" "$(stat guest_resident_kib)" "$(stat vmm_overhead_kib)"

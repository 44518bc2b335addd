#!/usr/bin/env bash
# bench/boot.sh [RUNS]: boots the same guest with vk and with QEMU's microvm
# machine, alternating, and prints medians and the ratio.
#
# Both boot the kernel and agent initramfs embedded in vk (`vk guest-assets`)
# with the busybox root disk attached read-only over virtio-mmio; the agent
# mounts it and runs its /sbin/init, which powers off. `vk launch -- true`
# (agent + vsock exec round trip) is timed as well, and vk's host-side costs
# are read from VIRTKIT_STATS=1: process start to first guest instruction,
# KVM_RUN exits handled per second, VMM RSS beyond the guest memory touched.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
vk=${VK:-build/release/vk}
[[ -x $vk ]] || { echo "bench/boot.sh: build first (cmake --build --preset release)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
disk=$(scripts/default-image.sh)
"$vk" guest-assets "$work" >/dev/null

cmdline="console=ttyS0 reboot=t panic=-1 quiet vk.root=/dev/vda vk.ro=1"
if [[ -d /sys/module/kvm_pvm ]]; then
  cmdline+=" noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page"
fi

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run_vk() {
  VIRTKIT_STATS=1 "$vk" launch --disk "$disk" --read-only --mem 256M --console /dev/null \
    2>>"$work/vk-stats.log" >/dev/null
}
run_vk_true() { VIRTKIT_STATS=1 "$vk" launch --disk "$disk" --read-only --mem 256M -- true 2>>"$work/vk-stats.log"; }
run_qemu() {
  # -cpu EPYC-Rome: -cpu host fails on PVM hosts (MSR 0x10a); see kernel/README.md.
  local status=0
  qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome -m 256M -smp 1 \
    -nodefaults -no-user-config -nographic -serial null \
    -kernel "$work/vmlinux" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    -drive id=root,file="$disk",format=raw,if=none,readonly=on \
    -device virtio-blk-device,drive=root \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>>"$work/qemu.err" || status=$?
  [[ $status == 1 ]]  # isa-debug-exit: (0 << 1) | 1 after a clean power-off
}

for ((i = 1; i <= runs; i++)); do
  for tool in vk qemu vk_true; do
    start=$(now)
    "run_$tool"
    end=$(now)
    elapsed "$start" "$end" >>"$work/$tool.times"
    printf 'run %d %-8s %6.2f s\n' "$i" "$tool" "$(tail -n1 "$work/$tool.times")"
  done
done

vk_median=$(median <"$work/vk.times")
qemu_median=$(median <"$work/qemu.times")
true_median=$(median <"$work/vk_true.times")
stat() { grep -o "$1=[0-9.-]*" "$work/vk-stats.log" | cut -d= -f2 | median; }
echo
printf 'boot to power-off, median of %d: vk %.2f s, qemu microvm %.2f s, ratio vk/qemu %.3f\n' \
  "$runs" "$vk_median" "$qemu_median" "$(echo "$vk_median / $qemu_median" | bc -l)"
printf 'vk launch -- true (agent + exec round trip), median: %.2f s\n' "$true_median"
printf 'vk host-side: process start -> first KVM_RUN %.2f ms (Machine::Create -> first KVM_RUN %.2f ms)\n' \
  "$(stat main_to_first_run_ms)" "$(stat create_to_first_run_ms)"
exit_rate=${VK_EXIT_RATE:-$(dirname "$vk")/vk_exit_rate}
rates=$(for _ in 1 2 3; do "$exit_rate" 200000 | grep -o '[0-9]* exits/s' | cut -d' ' -f1; done | median)
printf 'vk host-side: %s KVM exits per boot; exit handling capacity %.0f exits/s (median of 3, synthetic guest)\n' \
  "$(stat exits)" "$rates"
printf 'vk RSS %s KiB = guest memory touched %s KiB + VMM overhead %s KiB\n' \
  "$(stat rss_kib)" "$(stat guest_resident_kib)" "$(stat vmm_overhead_kib)"

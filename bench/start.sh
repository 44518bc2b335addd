#!/usr/bin/env bash
# bench/start.sh [RUNS]: how long `vk launch ... -- true` takes from a warm
# template (docs/snapshots.md) against a cold boot of the same guest, and
# against QEMU's microvm booting the same kernel, agent and disk; medians of
# RUNS (default 5), side by side in one run, with the ratios. Also: host-side
# time from process start to the first guest instruction after the restore,
# the restored VMM's RSS, and 10 concurrent restores from one template
# (total wall time, host memory used).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
vk=${VK:-build/release/vk}
[[ -x $vk ]] || { echo "bench/start.sh: build first (cmake --build --preset release)" >&2; exit 1; }
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

launch() { "$vk" launch --disk "$disk" --read-only --mem 256M "$@" -- true; }
run_template() { VIRTKIT_STATS=1 launch 2>>"$work/stats.log"; }
run_cold() { launch --cold 2>/dev/null; }
run_qemu() {
  local status=0
  qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome -m 256M -smp 1 \
    -nodefaults -no-user-config -nographic -serial null \
    -kernel "$work/vmlinux" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    -drive id=root,file="$disk",format=raw,if=none,readonly=on \
    -device virtio-blk-device,drive=root \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>>"$work/qemu.err" || status=$?
  [[ $status == 1 ]]  # isa-debug-exit: (0 << 1) | 1 after a clean power-off
}

echo "making the template (once)..."
launch 2>/dev/null
for ((i = 1; i <= runs; i++)); do
  for tool in template cold qemu; do
    start=$(now)
    "run_$tool"
    elapsed "$start" "$(now)" >>"$work/$tool.times"
    printf 'run %d %-9s %7.2f s\n' "$i" "$tool" "$(tail -n1 "$work/$tool.times")"
  done
done

template=$(median <"$work/template.times")
cold=$(median <"$work/cold.times")
qemu=$(median <"$work/qemu.times")
first_run=$(grep -o 'main_to_first_run_ms=[0-9.]*' "$work/stats.log" | cut -d= -f2 | median)
rss=$(grep -o ' rss_kib=[0-9]*' "$work/stats.log" | cut -d= -f2 | median)

start=$(now)
before=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
peak=0
for ((i = 0; i < 10; i++)); do launch 2>/dev/null & done
while [[ -n $(jobs -r) ]]; do
  used=$((before - $(awk '/MemAvailable/ {print $2}' /proc/meminfo)))
  ((used > peak)) && peak=$used
  sleep 0.2
done
wait
concurrent=$(elapsed "$start" "$(now)")

printf '\nvk launch -- true, median of %d:\n' "$runs"
printf '  from a warm template  %7.2f s\n  vk cold boot          %7.2f s  (template %.1fx faster)\n' \
  "$template" "$cold" "$(echo "$cold / $template" | bc -l)"
printf '  QEMU microvm boot     %7.2f s  (template %.1fx faster)\n' \
  "$qemu" "$(echo "$qemu / $template" | bc -l)"
printf 'process start -> first guest instruction after restore: %s ms (median)\n' "$first_run"
printf 'VMM RSS of a restored VM at exit: %s KiB (median)\n' "$rss"
printf '10 concurrent restores: %.2f s total, host memory used at peak %d MiB\n' \
  "$concurrent" $((peak / 1024))

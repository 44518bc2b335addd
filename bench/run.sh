#!/usr/bin/env bash
# bench/run.sh [RUNS]: `vk run`, side by side with QEMU.
#
#  1. `vk run IMG -- true` with a cached image (base ext4 + scratch disk +
#     overlay root + agent + exec round trip) vs QEMU's microvm machine booting
#     the same kernel, agent initramfs, base disk and vk's scratch disk to
#     power-off (the agent runs the image's /sbin/init, which powers off).
#  2. Host-side time of `vk run` before the first guest instruction
#     (VIRTKIT_STATS=1: resolve image, scratch disk, VMM set-up; target < 20 ms).
#  3. Lazy guest memory: a 4G guest that fills 100 MB of tmpfs, RSS on the host.
#  4. The virtio-fs server's own throughput (bench/fs_server.cc) vs syscalls.
# Medians; ratio = vk / qemu.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
vk=$(realpath "${VK:-build/release/vk}")
fs_bench=$(dirname "$vk")/vk_fs_bench
[[ -x $vk ]] || { echo "bench/run.sh: build first (cmake --build --preset release)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VIRTKIT_HOME=$work/home

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# A busybox image (every applet; /sbin/init powers off) as an OCI layout.
tree=$work/tree
scripts/busybox-tree.sh "$tree"
tar -C "$tree" -cf "$work/tree.tar" .
skopeo copy -q "tarball:$work/tree.tar" "oci:$work/layout:bench"
image=oci:$work/layout:bench
"$vk" image pull "$image" >/dev/null 2>&1
base=$("$vk" image convert --pull never "$image" 2>/dev/null)
"$vk" guest-assets "$work" >/dev/null

cmdline="console=ttyS0 reboot=t panic=-1 quiet vk.root=/dev/vda vk.ro=1 vk.overlay=/dev/vdb"
if [[ -d /sys/module/kvm_pvm ]]; then
  cmdline+=" noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page vk.pvm=1"
fi
run_vk() { VIRTKIT_STATS=1 "$vk" run --pull never --mem 256M "$image" -- true 2>>"$work/stats.log" >/dev/null; }
run_qemu() {
  # The very scratch disk vk run gives its guest (a copy of vk's template,
  # made by the vk run before this one): same size, same inode count.
  rm -f "$work/scratch.ext4"
  cp --sparse=always "$VIRTKIT_HOME"/templates/virtkit-scratch-*.ext4 "$work/scratch.ext4"
  local status=0
  qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome -m 256M -smp 1 \
    -nodefaults -no-user-config -nographic -serial null \
    -kernel "$work/vmlinux" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    -drive id=base,file="$base",format=raw,if=none,readonly=on -device virtio-blk-device,drive=base \
    -drive id=scratch,file="$work/scratch.ext4",format=raw,if=none -device virtio-blk-device,drive=scratch \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>>"$work/qemu.err" || status=$?
  [[ $status == 1 ]]
}
for ((i = 1; i <= runs; i++)); do
  for tool in vk qemu; do
    start=$(now); "run_$tool"; end=$(now)
    echo "$end - $start" | bc >>"$work/$tool.t"
    printf 'run %d %-5s %6.2f s\n' "$i" "$tool" "$(tail -n1 "$work/$tool.t")"
  done
done
stat() { grep -o "$1=[0-9.-]*" "$work/stats.log" | cut -d= -f2 | median; }
vk_t=$(median <"$work/vk.t"); qemu_t=$(median <"$work/qemu.t")
printf '\nvk run -- true (cached image), median of %d: %.2f s; qemu microvm same guest to power-off: %.2f s; ratio vk/qemu %.3f\n' \
  "$runs" "$vk_t" "$qemu_t" "$(echo "$vk_t / $qemu_t" | bc -l)"
printf 'vk run host-side, process start -> first guest instruction: %.2f ms (median)\n' "$(stat main_to_first_run_ms)"

: >"$work/stats.log"
VIRTKIT_STATS=1 "$vk" run --pull never --mem 4G "$image" -- \
  sh -c 'dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>/dev/null' 2>>"$work/stats.log"
printf '4G guest that filled 100 MB of tmpfs: host RSS %s KiB (guest memory touched %s KiB)\n' \
  "$(stat rss_kib)" "$(stat guest_resident_kib)"

if [[ -x $fs_bench ]]; then
  echo; echo "virtio-fs server (synthetic queue) vs host syscalls:"
  "$fs_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null |
    grep -E 'median|Benchmark' || true
fi

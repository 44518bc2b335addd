#!/usr/bin/env bash
# Boots a guest kernel under QEMU's microvm machine with a tiny busybox
# initramfs and checks that user space ran and the guest powered off.
# Usage: kernel/qemu-smoke.sh VMLINUX_OR_BZIMAGE [TIMEOUT_SECONDS]
# Used to check a kernel independently of our VMM and as the peer in benchmarks.
set -euo pipefail

kernel=${1:?usage: kernel/qemu-smoke.sh KERNEL [TIMEOUT]}
timeout=${2:-180}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/root"/{bin,dev,proc,sys}
cp /bin/busybox "$work/root/bin/"
for applet in sh echo mount uname cat poweroff; do ln -s busybox "$work/root/bin/$applet"; done
cat >"$work/root/init" <<'INIT'
#!/bin/sh
mount -t devtmpfs dev /dev
exec >/dev/ttyS0 2>&1  # no /dev/console node: the archive is built rootless
mount -t proc proc /proc
echo HELLO-FROM-GUEST
uname -sr
echo "uptime: $(cat /proc/uptime)"
poweroff -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet >"$work/initrd.cpio")

# PVM hosts (ENVIRONMENT: /dev/kvm via kvm_pvm) need these guest switches.
cmdline="console=ttyS0 reboot=t panic=-1"
if [[ -d /sys/module/kvm_pvm ]]; then
  cmdline+=" noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page"
fi
# -cpu host fails on PVM (MSR 0x10a); EPYC-Rome exposes XSAVEERPTR, so the
# guest does not take the x87 FXSAVE-leak workaround PVM cannot emulate.
start=$(date +%s.%N)
if ! output=$(timeout "$timeout" qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome \
  -m 128 -smp 1 -nodefaults -no-user-config -nographic -serial stdio \
  -kernel "$kernel" -initrd "$work/initrd.cpio" -append "$cmdline" \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>&1); then
  # isa-debug-exit makes QEMU exit with (status << 1) | 1: 1 for power-off.
  status=$?
  if [[ $status != 1 ]]; then
    printf '%s\n' "$output" | tail -20 >&2
    echo "qemu-smoke: QEMU failed or timed out (status $status)" >&2
    exit 1
  fi
fi
end=$(date +%s.%N)
if ! grep -q HELLO-FROM-GUEST <<<"$output"; then
  printf '%s\n' "$output" | tail -20 >&2
  echo "qemu-smoke: the guest never ran /init" >&2
  exit 1
fi
grep -E 'uptime:|Linux' <<<"$output"
printf 'qemu-smoke: ok in %.1f s wall\n' "$(echo "$end - $start" | bc)"

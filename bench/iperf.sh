#!/usr/bin/env bash
# bench/iperf.sh [SECONDS] [RUNS]: iperf3 throughput guest -> host, through
# vk's userspace network vs the same guest under QEMU user networking (slirp).
#
# One Debian bookworm rootfs with iperf3 (mmdebstrap) becomes the image for
# both tools; a one-shot iperf3 server on host 127.0.0.1 receives each run.
#  vk:   `vk run --net IMG -- iperf3 -c host.lan ...` (the gateway reaches host loopback)
#  qemu: microvm, same kernel + agent initramfs + base disk + empty scratch
#        disk, `-netdev user` (slirp); the agent takes eth0 by DHCP and runs
#        the image's /sbin/init, which runs the client named by bench.iperf=
#        on the kernel command line (10.0.2.2 = host loopback) and powers off.
# Runs interleave (vk, qemu, ...). The figure is the receiver's (the host
# server's) Mbit/s; medians and ratio = vk / qemu (> 1: vk is faster).
# Guest boots are not in the figure: iperf3 times its own transfer.
# Where the guest kernel's work is emulated (nested PVM: 1 vCPU, boots of
# 10-35 s) both figures are bound by the guest kernel, not the network path.
# Default (10 s x 3 runs each) takes ~6 min there, with the rootfs build.
# IPERF_ROOTFS=FILE.tar reuses a rootfs tar (built there if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
runs=${2:-3}
vk=$(realpath "${VK:-build/release/vk}")
[[ -x $vk ]] || { echo "bench/iperf.sh: build first (cmake --build --preset release)" >&2; exit 1; }
missing=()
for tool in iperf3 mmdebstrap qemu-system-x86_64 skopeo; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "bench/iperf.sh: missing ${missing[*]} (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "bench/iperf.sh: no access to /dev/kvm" >&2; exit 1; }

work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export VIRTKIT_HOME=$work/home

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
say() { printf '%s\n' "$*" >&2; }

# --- Guest image: Debian essential + iperf3, /sbin/init = the QEMU-side client.
cat >"$work/init" <<'EOF'
#!/bin/sh
# bench/iperf.sh guest init (QEMU run): iperf3 -c IP -p PORT -t SECONDS from
# bench.iperf=IP:PORT:SECONDS on the kernel command line, then power off.
exec >/dev/console 2>&1
spec=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^bench\.iperf=//p')
[ -n "$spec" ] || echo "=== bench-iperf: no bench.iperf=IP:PORT:SECONDS on the kernel command line"
ip=${spec%%:*}; rest=${spec#*:}; port=${rest%%:*}; secs=${rest#*:}
echo "=== bench-iperf begin"
iperf3 -c "$ip" -p "$port" -t "$secs" -f m
echo "=== bench-iperf end status=$?"
sync
# reboot(LINUX_REBOOT_CMD_POWER_OFF); PID 1 exiting would panic (panic=-1 and
# QEMU -no-reboot end the VM either way).
perl -e 'syscall(169, 0xfee1dead, 672274793, 0x4321fedc)' 2>/dev/null
echo o >/proc/sysrq-trigger 2>/dev/null
sleep 5
EOF
rootfs=${IPERF_ROOTFS:-$work/rootfs.tar}
if [[ ! -s $rootfs ]]; then
  say "building the guest rootfs (mmdebstrap bookworm essential + iperf3, ~1-2 min) ..."
  mmdebstrap --quiet --format=tar --variant=essential --include=iperf3 \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="install -m 755 '$work/init' \"\$1/sbin/init\"" \
    bookworm "$rootfs.part" >"$work/mmdebstrap.log" 2>&1 ||
    { cat "$work/mmdebstrap.log" >&2; say "bench/iperf.sh: mmdebstrap failed"; exit 1; }
  mv "$rootfs.part" "$rootfs"
fi
skopeo copy -q "tarball:$rootfs" "oci:$work/layout:iperf"
image=oci:$work/layout:iperf
"$vk" image pull "$image" >/dev/null 2>&1
base=$("$vk" image convert --pull never "$image" 2>/dev/null)
"$vk" guest-assets "$work" >/dev/null
mkdir -p "$work/empty"

cmdline="console=ttyS0 reboot=t panic=-1 quiet vk.root=/dev/vda vk.ro=1 vk.overlay=/dev/vdb vk.net=dhcp"
if [[ -d /sys/module/kvm_pvm ]]; then
  cmdline+=" noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page vk.pvm=1"
fi

# A one-shot iperf3 server on host loopback; its text output goes to $1.
start_server() {
  local log=$1
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    : >"$log"
    iperf3 -s -1 -B 127.0.0.1 -p "$port" -f m --forceflush >"$log" 2>&1 &
    server=$!
    for _ in $(seq 50); do
      grep -q "Server listening" "$log" && return 0
      kill -0 "$server" 2>/dev/null || break  # port taken: try another
      sleep 0.1
    done
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  done
  say "bench/iperf.sh: cannot start an iperf3 server"; return 1
}
# The receiver's Mbit/s from the server's summary line, or nothing.
received() { awk '/receiver/ {v = $(NF-2)} END {if (v != "") print v}' "$1"; }
# The guest client's own (sender) Mbit/s: bytes it wrote, on the guest clock.
sent() { awk '/ sender/ {v = $(NF-3)} END {print (v != "" ? v : "?")}' "$1"; }
finish_server() {  # the server exits after one test; do not wait forever
  for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}
limit=$((secs + 120))  # boot (10-35 s here) + transfer + slack

run_vk() {  # $1: log prefix
  local status=0
  timeout "$limit" "$vk" run --pull never --mem 256M --net "$image" -- \
    iperf3 -c host.lan -p "$port" -t "$secs" -f m >"$1.guest" 2>&1 || status=$?
  ((status == 0)) || say "vk run exited with $status"
}
run_qemu() {
  local status=0
  rm -f "$work/scratch.ext4"
  "$vk" mkext "$work/empty" "$work/scratch.ext4" --size 8G >/dev/null
  timeout "$limit" qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu EPYC-Rome -m 256M -smp 1 \
    -nodefaults -no-user-config -nographic -no-reboot -serial "file:$1.guest" \
    -kernel "$work/vmlinux" -initrd "$work/initramfs.cpio" \
    -append "$cmdline bench.iperf=10.0.2.2:$port:$secs" \
    -drive id=base,file="$base",format=raw,if=none,readonly=on -device virtio-blk-device,drive=base \
    -drive id=scratch,file="$work/scratch.ext4",format=raw,if=none -device virtio-blk-device,drive=scratch \
    -netdev user,id=n0 -device virtio-net-device,netdev=n0 \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>"$1.err" || status=$?
  # 1: powered off through isa-debug-exit; 0: reset with -no-reboot.
  ((status <= 1)) || say "qemu exited with $status: $(head -c 400 "$1.err")"
}

printf 'iperf3 guest -> host TCP, %d s per run, %d runs; 1 vCPU, 256M guests\n' "$secs" "$runs"
printf '  vk:   vk run --net IMG -- iperf3 -c host.lan (userspace LAN + gateway)\n'
printf '  qemu: microvm + virtio-net + -netdev user (slirp), iperf3 -c 10.0.2.2\n'
failed=0
for ((i = 1; i <= runs; i++)); do
  for tool in vk qemu; do
    log=$work/$tool.$i
    start_server "$log.server"
    "run_$tool" "$log"
    finish_server
    mbps=$(received "$log.server")
    if [[ -z $mbps ]]; then
      ((++failed))
      printf 'run %d %-5s FAILED (no result); guest output:\n' "$i" "$tool"
      tail -n 25 "$log.guest" | sed 's/^/    | /'
      continue
    fi
    echo "$mbps" >>"$work/$tool.mbps"
    printf 'run %d %-5s %8.2f Mbit/s received  (guest sender: %s Mbit/s)\n' "$i" "$tool" "$mbps" "$(sent "$log.guest")"
  done
done

echo
for tool in vk qemu; do
  [[ -s $work/$tool.mbps ]] || { echo "no successful $tool run"; exit 1; }
done
vk_m=$(median <"$work/vk.mbps"); qemu_m=$(median <"$work/qemu.mbps")
printf 'median guest->host iperf3 (received on the host): vk %.2f Mbit/s (%d runs), qemu slirp %.2f Mbit/s (%d runs); ratio vk/qemu %.2f\n' \
  "$vk_m" "$(wc -l <"$work/vk.mbps")" "$qemu_m" "$(wc -l <"$work/qemu.mbps")" \
  "$(echo "$vk_m / $qemu_m" | bc -l)"
((failed == 0)) || { echo "$failed run(s) failed"; exit 1; }

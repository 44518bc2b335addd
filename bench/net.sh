#!/usr/bin/env bash
# bench/net.sh [REPETITIONS]: userspace network throughput.
#
#  1. vk_net_bench (bench/net_switch.cc): Switch frames/s and Gbit/s between
#     two in-process ports (64/1500-byte frames), a fake guest's bulk TCP
#     stream through Switch + Gateway + libslirp to a host loopback server,
#     and the same stream host-to-host over loopback. Prints the medians.
#  2. Context, if iperf3 is installed: iperf3 between two host processes on
#     loopback (the floor any userspace path is measured against).
#  3. Context, with /dev/kvm: bench/iperf.sh, iperf3 guest -> host through
#     vk's LAN vs the same guest under QEMU user networking (slirp).
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${1:-5}
bench=$(realpath "${VK_NET_BENCH:-build/release/vk_net_bench}")
[[ -x $bench ]] || {
  echo "bench/net.sh: build first (cmake --build --preset release --target vk_net_bench)" >&2
  exit 1
}

echo "== vk_net_bench: medians of $reps runs"
"$bench" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true 2>/dev/null |
  awk '/_median/ {
    name = $1; sub(/_median$/, "", name); sub(/\/min_time:[0-9.]+/, "", name); sub(/\/real_time/, "", name)
    extra = ""
    for (i = 2; i <= NF; i++) if ($i ~ /=/) extra = extra " " $i
    printf "%-28s %10s %-3s%s\n", name, $2, $3, extra
  }'

if ! command -v iperf3 >/dev/null; then
  echo "== iperf3 not installed: skipping the host loopback floor"
  exit 0
fi
echo "== iperf3 host loopback (floor), 3 s"
port=$((20000 + RANDOM % 20000))
iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do  # until the server listens
  if out=$(iperf3 -c 127.0.0.1 -p "$port" -t 3 -f m 2>/dev/null); then
    echo "$out" | awk '/receiver/ {print "iperf3 loopback:", $(NF-2), $(NF-1)}'
    break
  fi
  sleep 0.1
done

# Context: guest -> host through the whole path (virtio-net, switch, gateway,
# libslirp) vs the same guest under QEMU's user networking. Boots guests
# (~6 min on a PVM host); NET_BENCH_GUESTS=0 leaves it out.
if [[ ${NET_BENCH_GUESTS:-1} != 0 && -e /dev/kvm ]]; then
  echo "== iperf3 guest -> host: vk --net vs qemu -netdev user (bench/iperf.sh)"
  bench/iperf.sh
fi

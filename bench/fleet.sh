#!/usr/bin/env bash
# bench/fleet.sh [SERVICES]: what `vk fleet` costs on the host, side by side
# with the same VMs started by hand:
#   - the time from `vk fleet up -d` to every service healthy (SERVICES,
#     default 3, each `sleep` with a `CMD true` health check probed every
#     second), against `vk run -d` of the same VMs one by one, each followed
#     by one `vk exec NAME -- true` (what the first health probe does);
#   - the controller's cost per managed VM while the fleet idles: CPU
#     (user+sys over 20 s, from /proc) and RSS, divided by SERVICES.
# The image is $BENCH_IMAGE (default debian:local, from scripts/setup.sh).
# VMs are 1 vCPU / 256 MiB (the e2e tests' warm-template shape).
set -euo pipefail
cd "$(dirname "$0")/.."

services=${1:-3}
vk=$(realpath "${VK:-build/release/vk}")
[[ -x $vk ]] || { echo "bench/fleet.sh: build first (cmake --build --preset release)" >&2; exit 1; }
image=${BENCH_IMAGE:-debian:local}
"$vk" image inspect "$image" >/dev/null 2>&1 ||
  { echo "bench/fleet.sh: no image $image (run scripts/setup.sh, or set BENCH_IMAGE)" >&2; exit 1; }
work=$(mktemp -d)
project=$work/fleetbench
mkdir -p "$project"
cleanup() {
  (cd "$project" && "$vk" fleet down >/dev/null 2>&1) || true
  for i in $(seq 1 "$services"); do "$vk" rm -f "bench-run-$i" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

{
  echo "name: fleetbench"
  echo "services:"
  for i in $(seq 1 "$services"); do
    cat <<YAML
  s$i:
    image: $image
    mem_limit: 256m
    command: ["sleep", "100000"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, timeout: 2m, retries: 100}
YAML
  done
} >"$project/compose.yaml"

now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Warm the template of this shape so neither side pays for making it.
"$vk" run --mem 256M "$image" -- true >/dev/null

start=$(now)
(cd "$project" && "$vk" fleet up -d >/dev/null 2>&1)
until (cd "$project" && "$vk" fleet ps) | awk 'NR > 1 && $4 != "healthy" {bad = 1} END {exit bad}'; do
  sleep 0.5
done
fleet_s=$(echo "$(now) - $start" | bc)

runtime=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/virtkit}
runtime=${runtime:-${VIRTKIT_HOME:-$HOME/.local/share/virtkit}}
pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/' "$runtime/fleets/fleetbench/controller.json")
hz=$(getconf CLK_TCK)
before=$(cpu_ticks "$pid")
sleep 20
after=$(cpu_ticks "$pid")
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
cpu_pct=$(echo "scale=3; ($after - $before) * 100 / $hz / 20" | bc)
(cd "$project" && "$vk" fleet down >/dev/null 2>&1)

start=$(now)
for i in $(seq 1 "$services"); do
  "$vk" run -d --name "bench-run-$i" --mem 256M "$image" -- sleep 100000 >/dev/null
  "$vk" exec "bench-run-$i" -- true
done
manual_s=$(echo "$(now) - $start" | bc)

printf 'services: %d (%s, 1 vCPU, 256 MiB)\n' "$services" "$image"
printf 'up to all healthy:   vk fleet up -d %6.2f s   vk run -d one by one %6.2f s   ratio %.2f\n' \
  "$fleet_s" "$manual_s" "$(echo "$fleet_s / $manual_s" | bc -l)"
printf 'controller, idle:    CPU %.3f %% of a core per VM (probes every 1 s)   RSS %d KiB (%d KiB per VM)\n' \
  "$(echo "$cpu_pct / $services" | bc -l)" "$rss_kib" "$((rss_kib / services))"

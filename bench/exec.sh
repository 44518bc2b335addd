#!/usr/bin/env bash
# bench/exec.sh [RUNS]: the host-side cost of the exec channel. vk-agent runs
# on the host on a unix socket (it is an ordinary Linux program), so the
# figures measure vk + protocol + agent, not a guest kernel:
#   - `vk exec -- true` round trip, median of RUNS (default 200), against
#     `sh -c true` run locally (the floor: one fork+exec) and `ssh localhost
#     true` when an ssh server answers;
#   - 1 GiB streamed through the command's stdout, against `cat` locally.
# It also times `vk exec NAME -- true` into a real VM, as context (guest
# fork+exec is slow on PVM hosts): the VM named by NAME, or one it boots
# itself from the default busybox disk when /dev/kvm is usable.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-200}
vk=${VK:-build/release/vk}
agent=${VK_AGENT:-build/release/vk-agent}
work=$(mktemp -d)
trap 'kill "$agent_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$agent" serve --unix "$work/exec.sock" &
agent_pid=$!
for _ in $(seq 50); do [[ -S $work/exec.sock ]] && break; sleep 0.1; done

now_ns() { date +%s%N; }
median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) / 1e6}'; }
time_runs() {  # time_runs N CMD... -> median ms
  local n=$1; shift
  for ((i = 0; i < n; i++)); do
    local start=$(now_ns)
    "$@" >/dev/null
    echo $(($(now_ns) - start))
  done | median_ms
}

exec_ms=$(time_runs "$runs" "$vk" exec --socket "$work/exec.sock" -- true)
local_ms=$(time_runs "$runs" sh -c true)
printf 'round trip, median of %d: vk exec -- true %.3f ms; sh -c true %.3f ms; ratio %.1f\n' \
  "$runs" "$exec_ms" "$local_ms" "$(echo "$exec_ms / $local_ms" | bc -l)"
if ssh -o BatchMode=yes -o ConnectTimeout=2 localhost true 2>/dev/null; then
  ssh_ms=$(time_runs 20 ssh -o BatchMode=yes localhost true)
  printf 'ssh localhost true, median of 20: %.3f ms\n' "$ssh_ms"
else
  echo "ssh localhost: no ssh server answers here; not compared"
fi

bytes=$((1 << 30))
start=$(now_ns)
"$vk" exec --socket "$work/exec.sock" -- head -c "$bytes" /dev/zero >/dev/null
vk_ns=$(($(now_ns) - start))
start=$(now_ns)
head -c "$bytes" /dev/zero | cat >/dev/null
cat_ns=$(($(now_ns) - start))
printf 'stream 1 GiB: vk exec %.0f MB/s; head | cat %.0f MB/s; ratio %.2f\n' \
  "$(echo "$bytes / $vk_ns * 1000" | bc -l)" "$(echo "$bytes / $cat_ns * 1000" | bc -l)" \
  "$(echo "$cat_ns / $vk_ns" | bc -l)"

own_vm=
if [[ -z ${NAME:-} && -w /dev/kvm ]]; then
  NAME=bench-exec-$$
  own_vm=$NAME
  "$vk" launch --disk "$(scripts/default-image.sh)" --read-only --name "$NAME" -d >/dev/null
fi
if [[ -n ${NAME:-} ]]; then
  vm_ms=$(time_runs 5 "$vk" exec "$NAME" -- true)
  printf 'into VM %s: vk exec -- true, median of 5: %.0f ms\n' "$NAME" "$vm_ms"
fi
if [[ -n $own_vm ]]; then "$vk" rm -f "$own_vm" >/dev/null; fi

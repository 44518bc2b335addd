#!/usr/bin/env bash
# bench/soak.sh [VMS]: proof over time. Exit status 0 when nothing leaked.
#
#  1. Machine soak: vk_vmm_test's MachineSoak creates, runs to power-off and
#     destroys VIRTKIT_SOAK_MACHINES (default 1000) machines with a hand-
#     written guest and a VM's device set, and checks fds, threads, child
#     processes, memory mappings, files and RSS return to their baseline.
#  2. Real VMs, when VK (default build/release/vk) embeds the guest and an
#     image is stored (IMAGE, default the first of `vk image ls`): VMS
#     (default 20) VMs started and removed one after another, alternately
#     `vk run --pull never IMAGE -- true` and `vk run -d --name` + `vk exec
#     -- true` + `vk rm -f`, with the host's counters before and after.
#     Each VM command is bounded by VM_TIMEOUT (300 s), the whole part by
#     SOAK_DEADLINE (VMS*120+60 s). vk's runtime and temp dirs are private
#     to this run, so every file left there is a leak of these VMs; the
#     host-wide counters (fds, threads, processes, KVM VMs) are shared with
#     whatever else runs and are shown for information.
set -euo pipefail
cd "$(dirname "$0")/.."

vms=${1:-${VMS:-20}}
machines=${VIRTKIT_SOAK_MACHINES:-1000}
vk=${VK:-build/release/vk}
vm_timeout=${VM_TIMEOUT:-300}
soak_test=${SOAK_TEST:-}
if [[ -z $soak_test ]]; then
  for candidate in "$(dirname "$vk")/src/vk_vmm_test" build/release/src/vk_vmm_test \
    build/dev/src/vk_vmm_test; do
    if [[ -x $candidate ]]; then soak_test=$candidate; break; fi
  done
fi
status=0

echo "== 1. machine soak: $machines machines with a hand-written guest"
if [[ -x $soak_test ]]; then
  set +e
  VIRTKIT_SOAK_MACHINES=$machines timeout $((machines / 5 + 300)) "$soak_test" \
    --gtest_filter='*Soak*' >"${TMPDIR:-/tmp}/vk-soak-test.$$.log" 2>&1
  rc=$?
  set -e
  grep -E '^soak:|Failure|Which is|^  Actual|left behind|outlived' \
    "${TMPDIR:-/tmp}/vk-soak-test.$$.log" || true
  rm -f "${TMPDIR:-/tmp}/vk-soak-test.$$.log"
  if [[ $rc == 0 ]]; then echo "machine soak: PASS"; else echo "machine soak: FAIL ($rc)"; status=1; fi
else
  echo "machine soak: skipped (no vk_vmm_test; set SOAK_TEST or build it)"
fi

echo
echo "== 2. real VMs: $vms with $vk"
if [[ ! -x $vk ]]; then
  echo "real VMs: skipped ($vk not built; set VK)"
  exit $status
fi
vk=$(realpath "$vk")
work=$(mktemp -d "${TMPDIR:-/tmp}/vk-soak-sh.XXXXXX")
names=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for name in "${names[@]}"; do "$vk" rm -f "$name" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/assets"
if ! "$vk" guest-assets "$work/assets" >/dev/null 2>&1; then
  echo "real VMs: skipped ($vk has no embedded guest)"
  exit $status
fi
image=${IMAGE:-$("$vk" image ls -q 2>/dev/null | head -n1)}
if [[ -z $image ]]; then
  echo "real VMs: skipped (no image: set IMAGE or \`vk image pull\` one)"
  exit $status
fi
store=${VIRTKIT_HOME:-$HOME/.local/share/virtkit}
mkdir -p "$work/run" "$work/tmp"
chmod 700 "$work/run"
export XDG_RUNTIME_DIR=$work/run TMPDIR=$work/tmp
tag=soak-$$-

count() { find "$@" -mindepth 1 2>/dev/null | wc -l; }
# One "name value" line per counter.
census() {
  local vk_fds=0 pid
  for pid in $(pgrep -x vk || true); do
    vk_fds=$((vk_fds + $(find "/proc/$pid/fd" -mindepth 1 2>/dev/null | wc -l)))
  done
  echo "soak_vk_processes $(pgrep -fc -- "$tag" || true)"
  # The private virtkit/ and virtkit/vms/ dirs the first VM makes are meant
  # to stay; what is inside vms/ is per VM.
  echo "runtime_dir_files $(count "$XDG_RUNTIME_DIR/virtkit/vms")"
  echo "tmpdir_files $(count "$TMPDIR")"
  echo "store_tmp_files $(count "$store/tmp")"
  echo "host_vk_processes $(pgrep -xc vk || true)"
  echo "host_vk_fds $vk_fds"
  echo "host_kvm_vms $(find /proc/[0-9]*/fd -lname 'anon_inode:kvm-vm' 2>/dev/null | wc -l)"
  echo "host_tmp_vk_entries $(find /tmp -maxdepth 1 -name 'vk-*' 2>/dev/null | wc -l)"
  echo "host_open_files $(cut -f1 /proc/sys/fs/file-nr)"
  echo "host_threads $(awk '{split($4, a, "/"); print a[2]}' /proc/loadavg)"
  echo "host_processes $(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)"
}

one_vm() {  # one_vm N: 0 when the VM ran and went away
  local name=$tag$1
  if (($1 % 2)); then
    timeout "$vm_timeout" "$vk" run --pull never "$image" -- true
  else
    names+=("$name")
    timeout "$vm_timeout" "$vk" run -d --pull never --name "$name" "$image" >/dev/null &&
      timeout "$vm_timeout" "$vk" exec "$name" -- true &&
      timeout "$vm_timeout" "$vk" rm -f "$name" >/dev/null
  fi
}

census >"$work/before"
deadline=$(($(date +%s) + ${SOAK_DEADLINE:-$((vms * 120 + 60))}))
failed=0 ran=0
for ((i = 1; i <= vms; i++)); do
  if (($(date +%s) >= deadline)); then
    echo "deadline reached after $ran VMs"
    status=1
    break
  fi
  start=$(date +%s.%N)
  if one_vm "$i" >"$work/vm.out" 2>&1; then result=ok; else result=FAIL failed=$((failed + 1)); fi
  ran=$((ran + 1))
  printf 'vm %2d %-8s %6.1f s %s\n' "$i" "$( ((i % 2)) && echo run || echo detached)" \
    "$(echo "$(date +%s.%N) - $start" | bc)" "$result"
  [[ $result == ok ]] || sed 's/^/    /' "$work/vm.out" | tail -n 5
done
sleep 1  # a removed VM's VMM process may still be exiting
census >"$work/after"

printf '\n%-22s %10s %10s %8s\n' counter before after delta
paste -d' ' "$work/before" "$work/after" | while read -r name before _ after; do
  printf '%-22s %10s %10s %+8d\n' "$name" "$before" "$after" $((after - before))
done
value() { awk -v n="$1" '$1 == n {print $2}' "$work/$2"; }
leaks=()
[[ $(value soak_vk_processes after) == 0 ]] || leaks+=("vk processes of these VMs")
(($(value runtime_dir_files after) <= $(value runtime_dir_files before))) ||
  leaks+=("files under XDG_RUNTIME_DIR")
(($(value tmpdir_files after) <= $(value tmpdir_files before))) || leaks+=("files under TMPDIR")
(($(value store_tmp_files after) <= $(value store_tmp_files before))) ||
  leaks+=("temp files in the store")
echo
if ((failed > 0)); then echo "real VMs: $failed of $ran failed"; status=1; fi
if ((${#leaks[@]} > 0)); then
  echo "real VMs: LEAK: ${leaks[*]}"
  find "$XDG_RUNTIME_DIR" "$TMPDIR" -mindepth 1 | head -n 20
  status=1
elif ((failed == 0)); then
  echo "real VMs: PASS ($ran VMs, nothing left behind)"
fi
exit $status

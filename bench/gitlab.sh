#!/usr/bin/env bash
# bench/gitlab.sh [RUNS]: what `vk gitlab` costs a CI job on top of its own
# work, driven as gitlab-runner's custom executor drives it (the environment
# of tests/gitlab/runner_harness.h):
#   - per-job overhead: config + prepare + cleanup wall time for an image
#     already in the store (medians of RUNS, default 3; the first VM of a
#     shape also makes its warm template, which is reported apart);
#   - a stage's fixed cost: `run` of an empty stage script;
#   - host CPU (user+sys) and peak RSS of `vk gitlab run` while a stage runs
#     10 s and while it streams ~1 MB of output, from GNU time;
#   - host CPU, RSS and PSS of the job VM's own process (`vk supervise`, the
#     VMM prepare left running) over the same 10 s stage, from /proc.
# The image is $BENCH_IMAGE, else gitlab-bench:local made once with
# `vk image from-debian --packages git,make` in $VIRTKIT_HOME (default: a
# directory kept under ~/.cache/virtkit-bench so reruns skip that).
# BENCH_COLD=true boots every job VM cold instead of from the warm template;
# BENCH_MEM sets the job VMs' memory (default 256M).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
vk=$(realpath "${VK:-build/release/vk}")
[[ -x $vk ]] || { echo "bench/gitlab.sh: build first (cmake --build --preset release)" >&2; exit 1; }
export VIRTKIT_HOME=${VIRTKIT_HOME:-$HOME/.cache/virtkit-bench/gitlab}
mkdir -p "$VIRTKIT_HOME"
image=${BENCH_IMAGE:-gitlab-bench:local}
work=$(mktemp -d)
job=  # the job whose VM runs, removed however the bench ends
trap '[[ -z $job ]] || stage "$job" cleanup >/dev/null 2>&1; rm -rf "$work"' EXIT

if ! "$vk" image inspect "$image" >/dev/null 2>&1; then
  echo "making $image (once)..."
  "$vk" image from-debian "$image" --packages git,make >/dev/null
fi
cat >"$work/gitlab.toml" <<TOML
default_image = "$image"
boot_timeout = "30m"
cold_boot = ${BENCH_COLD:-false}
memory = "${BENCH_MEM:-256M}"
TOML

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The runner's environment for job $1 (executors/custom/command/command.go).
job_env() {
  local id=$1
  echo "{\"id\": $id, \"job_info\": {\"project_id\": 1}}" >"$work/response-$id.json"
  printf '%s\n' TMPDIR="$work" BUILD_FAILURE_EXIT_CODE=1 SYSTEM_FAILURE_EXIT_CODE=2 \
    BUILD_EXIT_CODE_FILE="$work/build_exit_code" JOB_RESPONSE_FILE="$work/response-$id.json" \
    CUSTOM_ENV_CI_RUNNER_ID=99 CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID=0 CUSTOM_ENV_CI_JOB_ID="$id" \
    CUSTOM_ENV_CI_PROJECT_ID=1
}
stage() {  # stage JOB_ID NAME [ARGS...]
  local id=$1
  shift
  env $(job_env "$id") "$vk" gitlab "$@" --config "$work/gitlab.toml"
}
# A stage script of the runner's shape (shells/bash.go) around $1.
script() {
  printf '#!/usr/bin/env bash\n\ntrap '"'"'exit 1'"'"' TERM\n\n'
  printf 'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit\n'
  printf 'set +o noclobber\n(trap '"'"'exit 1'"'"' TERM; eval %q) < /dev/null\nexit 0\n' "$1"
}

# The job VM's VMM process: its pid from the VM's record.
vmm_pid() {
  local root=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/virtkit}
  grep -o '"pid": *[0-9]*' "${root:-$VIRTKIT_HOME}/vms/$1/vm.json" | grep -o '[0-9]*$'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }

failed() { echo "failed: $*" >&2; tail -20 "$work/log" >&2; exit 1; }
timed() {  # timed FILE CMD...: appends CMD's wall seconds to FILE
  local file=$1 start
  shift
  start=$(now)
  "$@" >/dev/null 2>>"$work/log" || failed "$@"
  echo "$(now) - $start" | bc >>"$file"
}
# measured NAME JOB_ID: runs $work/NAME as build_script under GNU time
# (wall, user, sys, peak RSS into $work/NAME.time, output $work/NAME.out).
measured() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/$1.time" env $(job_env "$2") "$vk" gitlab run \
    "$work/$1" build_script --config "$work/gitlab.toml" >"$work/$1.out" 2>>"$work/log" ||
    failed "the $1 stage"
}

# The first job of this shape may make the warm template: timed apart.
job=1000
timed "$work/first.times" stage 1000 prepare
stage 1000 cleanup >/dev/null 2>&1
for ((i = 1; i <= runs; i++)); do
  id=$((1000 + i))
  job=$id
  timed "$work/config.times" stage "$id" config
  timed "$work/prepare.times" stage "$id" prepare
  script ':' >"$work/empty"
  timed "$work/run.times" stage "$id" run "$work/empty" build_script
  if ((i == runs)); then
    script 'sleep 10' >"$work/sleep"
    name=$(stage "$id" config | grep -o '"VK_GITLAB_VM":"[^"]*"' | cut -d'"' -f4) || name=
    [[ -n $name ]] || failed "config: no VK_GITLAB_VM"
    vmm=$(vmm_pid "$name")
    ticks=$(cpu_ticks "$vmm")
    measured sleep "$id"
    echo "$(($(cpu_ticks "$vmm") - ticks)) $(kib "$vmm" Rss) $(kib "$vmm" Pss)" >"$work/vmm.sleep"
    # `yes` ends by SIGPIPE, which the runner's pipefail makes a failure.
    script 'yes "a line of streamed build output, about sixty bytes long" | head -n 16000 || true' \
      >"$work/stream"
    measured stream "$id"
  fi
  timed "$work/cleanup.times" stage "$id" cleanup
  job=
  printf 'job %d: config %.2f s, prepare %.2f s, empty stage %.2f s, cleanup %.2f s\n' "$i" \
    "$(tail -n1 "$work/config.times")" "$(tail -n1 "$work/prepare.times")" \
    "$(tail -n1 "$work/run.times")" "$(tail -n1 "$work/cleanup.times")"
done

echo
echo "vk gitlab, image $image, medians of $runs jobs:"
printf '  first prepare (may make the warm template) %8.2f s\n' "$(cat "$work/first.times")"
for what in config prepare run cleanup; do
  printf '  %-44s %8.2f s\n' "$what" "$(median <"$work/$what.times")"
done
overhead=$(echo "$(median <"$work/config.times") + $(median <"$work/prepare.times") + $(median <"$work/cleanup.times")" | bc)
printf '  %-44s %8.2f s\n' "per-job overhead (config+prepare+cleanup)" "$overhead"
read -r wall user sys rss <"$work/sleep.time"
printf '  vk gitlab run, a 10 s stage: wall %s s, CPU %s s user + %s s sys, peak RSS %s KiB\n' \
  "$wall" "$user" "$sys" "$rss"
read -r ticks rss pss <"$work/vmm.sleep"
printf '  the job VM (vk supervise) over that stage: CPU %s s, RSS %s MiB, PSS %s MiB\n' \
  "$(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc)" $((rss / 1024)) $((pss / 1024))
read -r wall user sys rss <"$work/stream.time"
printf '  vk gitlab run, %s bytes streamed: wall %s s, CPU %s s user + %s s sys, peak RSS %s KiB\n' \
  "$(wc -c <"$work/stream.out")" "$wall" "$user" "$sys" "$rss"

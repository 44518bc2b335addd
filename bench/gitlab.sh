#!/usr/bin/env bash
# bench/gitlab.sh [RUNS]: what `vk gitlab` costs a CI job on top of its own
# work, driven as gitlab-runner's custom executor drives it (the environment
# of tests/gitlab/runner_harness.h):
#   - per-job overhead: config + prepare + cleanup wall time for an image
#     already in the store (medians of RUNS, default 3; the first VM of a
#     shape also makes its warm template, which is reported apart);
#   - a stage's fixed cost: `run` of an empty stage script;
#   - host CPU (user+sys) and peak RSS of `vk gitlab run` while a stage runs
#     10 s and while it streams ~1 MB of output, from GNU time.
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
trap 'rm -rf "$work"' EXIT

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

timed() {  # timed FILE CMD...: appends CMD's wall seconds to FILE
  local file=$1 start
  shift
  start=$(now)
  "$@" >/dev/null 2>>"$work/log" || { echo "failed: $*" >&2; tail -20 "$work/log" >&2; exit 1; }
  echo "$(now) - $start" | bc >>"$file"
}

# The first job of this shape may make the warm template: timed apart.
timed "$work/first.times" stage 1000 prepare
stage 1000 cleanup >/dev/null 2>&1
for ((i = 1; i <= runs; i++)); do
  id=$((1000 + i))
  timed "$work/config.times" stage "$id" config
  timed "$work/prepare.times" stage "$id" prepare
  script ':' >"$work/empty"
  timed "$work/run.times" stage "$id" run "$work/empty" build_script
  if ((i == runs)); then
    script 'sleep 10' >"$work/sleep"
    /usr/bin/time -f '%e %U %S %M' -o "$work/sleep.time" \
      env $(job_env "$id") "$vk" gitlab run "$work/sleep" build_script --config "$work/gitlab.toml" >/dev/null
    script 'yes "a line of streamed build output, about sixty bytes long" | head -n 16000' >"$work/stream"
    /usr/bin/time -f '%e %U %S %M' -o "$work/stream.time" \
      env $(job_env "$id") "$vk" gitlab run "$work/stream" build_script --config "$work/gitlab.toml" >"$work/stream.out"
  fi
  timed "$work/cleanup.times" stage "$id" cleanup
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
read -r wall user sys rss <"$work/stream.time"
printf '  vk gitlab run, %s bytes streamed: wall %s s, CPU %s s user + %s s sys, peak RSS %s KiB\n' \
  "$(wc -c <"$work/stream.out")" "$wall" "$user" "$sys" "$rss"

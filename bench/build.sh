#!/usr/bin/env bash
# bench/build.sh [RUNS]: `vk build` side by side with `buildah bud` on one
# Dockerfile (a Debian base, COPY, a RUN, a second COPY, config):
#
#  1. a fully cached rebuild (must boot nothing and take well under 1 s),
#  2. a rebuild after the last COPY's file changed (no RUN after it),
#  3. a cold build (--no-cache: the RUN boots a microVM for vk, a container
#     for buildah).
#
# buildah runs steps in containers, not VMs: on PVM hosts (ENVIRONMENT.md)
# every guest boot costs tens of seconds that a container does not pay, so
# the cold ratio says more about the hypervisor than the builder. Prints
# medians and ratios (buildah time / vk time: above 1 means vk is faster).
# Without a working buildah it says why and measures vk alone.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
cold_runs=${COLD_RUNS:-1}
vk=$(realpath "${VK:-build/release/vk}")
[[ -x $vk ]] || { echo "bench/build.sh: build first (cmake --build --preset release)" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
export VIRTKIT_HOME=$work/home

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timed() {
  local t0
  t0=$(now)
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; return 1; }
  echo "$(now) - $t0" | bc
}

echo "preparing a Debian base (vk image from-debian) ..." >&2
"$vk" image from-debian bench-build-debian:local >/dev/null 2>"$work/debian.err" ||
  { cat "$work/debian.err" >&2; exit 1; }
layer=$("$vk" image inspect bench-build-debian:local |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0].split(":")[1])')

ctx=$work/context
mkdir -p "$ctx/app"
for i in $(seq 1 20); do head -c 4096 /dev/urandom | base64 >"$ctx/app/file$i.txt"; done
echo 0 >"$ctx/extra.txt"
dockerfile() {
  cat <<EOF
FROM $1
COPY app/ /app/
RUN cat /app/*.txt | wc -c > /summary && rm /etc/debian_version
COPY extra.txt /extra.txt
ENV MODE=bench
CMD ["cat", "/summary"]
EOF
}
dockerfile bench-build-debian:local >"$ctx/Dockerfile.vk"

# buildah, with its own storage in $work; the same rootfs tar as its base.
bah=""
bah_why=""
bah_note=""
if ! command -v buildah >/dev/null; then
  bah_why="buildah is not installed (apt-get install buildah)"
else
  bah="buildah --root $work/buildah/root --runroot $work/buildah/run --storage-driver vfs"
  if ! { ctr=$($bah from scratch) && $bah add "$ctr" "$VIRTKIT_HOME/blobs/sha256/$layer" / &&
    $bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr" &&
    $bah commit "$ctr" bench-build-debian && $bah rm "$ctr"; } >/dev/null 2>"$work/bah.err"; then
    bah_why="buildah cannot make the base image: $(tail -n1 "$work/bah.err")"
    bah=""
  fi
  dockerfile localhost/bench-build-debian >"$ctx/Dockerfile.buildah"
  # Its default OCI runtime (crun) fails on hosts whose cgroups are in
  # hybrid mode; chroot isolation (no cgroups, no namespaces beyond the
  # mount one) still runs the RUN step, and is the cheaper of the two.
  if [[ -n $bah ]] && ! $bah bud --layers -f "$ctx/Dockerfile.buildah" -t bench-app "$ctx" \
    >/dev/null 2>"$work/bah.err"; then
    export BUILDAH_ISOLATION=chroot
    if ! $bah bud --layers -f "$ctx/Dockerfile.buildah" -t bench-app "$ctx" \
      >/dev/null 2>>"$work/bah.err"; then
      bah_why="buildah bud fails here: $(tail -n1 "$work/bah.err")"
      bah=""
    else
      bah_note="buildah ran with BUILDAH_ISOLATION=chroot (its default runtime: $(grep -m1 -o 'cgroups[^,]*' "$work/bah.err" || echo failed))"
    fi
  fi
fi
[[ -z $bah ]] && echo "bench/build.sh: no buildah column: $bah_why" >&2

vk_build() { "$vk" build --progress plain -f "$ctx/Dockerfile.vk" -t bench-app "$@" "$ctx"; }
bah_build() { $bah bud --layers -f "$ctx/Dockerfile.buildah" -t bench-app "$@" "$ctx"; }

# The first vk build fills the cache (and makes the warm template).
echo "first vk build (fills the cache) ..." >&2
timed vk_build >/dev/null

phase() {  # NAME RUNS PREPARE ARGS...: alternating runs of both builders
  local name=$1 count=$2 prepare=$3 i
  shift 3
  for ((i = 1; i <= count; i++)); do
    $prepare "$i"
    timed vk_build "$@" >>"$work/$name.vk"
    if [[ -n $bah ]]; then
      $prepare "$i"
      timed bah_build "$@" >>"$work/$name.buildah"
    fi
  done
}
nothing() { :; }
touch_copy() { echo "$1-$RANDOM" >"$ctx/extra.txt"; }

phase cached "$runs" nothing
phase changed "$runs" touch_copy
phase cold "$cold_runs" nothing --no-cache

vms=$("$vk" build --progress plain -f "$ctx/Dockerfile.vk" -t bench-app "$ctx" 2>&1 >/dev/null |
  grep -o '[0-9]* VMs booted')
printf '\n%-28s %12s %12s %10s\n' "build" "vk (s)" "buildah (s)" "ratio"
for name in cached changed cold; do
  v=$(median <"$work/$name.vk")
  if [[ -s $work/$name.buildah ]]; then
    b=$(median <"$work/$name.buildah")
    printf '%-28s %12.3f %12.3f %10.2f\n' "$name" "$v" "$b" "$(echo "$b / $v" | bc -l)"
  else
    printf '%-28s %12.3f %12s %10s\n' "$name" "$v" "-" "-"
  fi
done
echo "cached rebuild: $vms (medians of $runs runs; cold: $cold_runs)"
[[ -z $bah ]] && echo "buildah: $bah_why"
[[ -n $bah_note ]] && echo "$bah_note"
exit 0

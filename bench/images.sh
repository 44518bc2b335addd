#!/usr/bin/env bash
# bench/images.sh [RUNS] [TREE]: image conversion, side by side with peers.
#
#  1. `vk mkext-tar` on a ~1 GB tar of a real tree (default /usr, capped) vs
#     `mke2fs -t ext4 -d` on the same tree extracted, same size and features.
#  2. A cold `vk image convert` (pull from a local docker-registry + flatten
#     + ext4) vs `skopeo copy` + `umoci unpack --rootless` of the same image.
# Alternating runs; prints medians and the ratios (peer time / vk time:
# above 1 means vk is faster).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
tree=${2:-/usr}
cap_bytes=$((1000 * 1000 * 1000))
vk=$(realpath "${VK:-build/release/vk}")
[[ -x $vk ]] || { echo "bench/images.sh: build first (cmake --build --preset release)" >&2; exit 1; }
for tool in docker-registry skopeo umoci mke2fs; do
  command -v $tool >/dev/null || { echo "bench/images.sh: needs $tool (scripts/install-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
source bench/lib.sh
work=$(mktemp -d)
registry_pid=
cleanup() { [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; echo "$(now) - $t0" | bc; }

# The tree: files of $tree in path order until ~1 GB (a real mix of sizes).
echo "preparing a ~1 GB tree from $tree ..." >&2
(cd "$tree" && find . -xdev -type f -printf '%s %p\n' 2>/dev/null | sort -k2 |
  awk -v cap=$cap_bytes '{ total += $1; if (total > cap) exit; print $2 }') >"$work/files" || true
tar -C "$tree" --no-recursion -cf "$work/tree.tar" -T "$work/files" 2>/dev/null || true
mkdir "$work/tree" && tar -C "$work/tree" -xf "$work/tree.tar"
tar_mb=$(( $(stat -c %s "$work/tree.tar") / 1000000 ))
entries=$(wc -l <"$work/files")

# --- 1. mkext-tar vs mke2fs -d ------------------------------------------------
size=$("$vk" mkext-tar "$work/tree.tar" "$work/probe.ext4" | awk '{print $4}')
rm -f "$work/probe.ext4"
for ((i = 0; i < runs; i++)); do
  rm -f "$work/vk.ext4" "$work/mke2fs.ext4"
  timed "$vk" mkext-tar --size "$size" "$work/tree.tar" "$work/vk.ext4" >>"$work/mkext.t"
  truncate -s "$size" "$work/mke2fs.ext4"
  timed mke2fs -q -t ext4 -O ^has_journal -d "$work/tree" "$work/mke2fs.ext4" >>"$work/mke2fs.t"
done
e2fsck -fn "$work/vk.ext4" >/dev/null

# --- 2. cold convert from a registry vs skopeo + umoci -----------------------
start_local_registry "$work/registry"
# skopeo's tarball: transport makes a one-layer image of the tar (Debian's
# umoci 0.4.7 `insert` writes layers without tar padding and end marker).
skopeo copy -q --dest-tls-verify=false "tarball:$work/tree.tar" "docker://127.0.0.1:$port/bench/tree:1"
ref=127.0.0.1:$port/bench/tree:1
for ((i = 0; i < runs; i++)); do
  rm -rf "$work/home" "$work/oci" "$work/bundle"
  VIRTKIT_HOME=$work/home timed "$vk" image convert --insecure "$ref" >>"$work/convert.t"
  timed sh -c "skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/oci:1 &&
               umoci unpack --rootless --image $work/oci:1 $work/bundle" >>"$work/umoci.t"
done

mkext=$(median <"$work/mkext.t"); mke2fs=$(median <"$work/mke2fs.t")
convert=$(median <"$work/convert.t"); umoci=$(median <"$work/umoci.t")
printf '\ntree: %s MB tar, %s files (from %s); %s runs each, medians\n' "$tar_mb" "$entries" "$tree" "$runs"
printf '%-44s %8.2f s\n' "vk mkext-tar (tar -> ext4)" "$mkext"
printf '%-44s %8.2f s   ratio %.2f\n' "mke2fs -d (extracted tree -> ext4)" "$mke2fs" "$(echo "$mke2fs / $mkext" | bc -l)"
printf '%-44s %8.2f s\n' "vk image convert (cold: pull + ext4)" "$convert"
printf '%-44s %8.2f s   ratio %.2f\n' "skopeo copy + umoci unpack" "$umoci" "$(echo "$umoci / $convert" | bc -l)"

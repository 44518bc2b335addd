#!/usr/bin/env bash
# bench/registry.sh [TREE]: VM bundles through a local docker-registry.
#
#  1. vk_chunk_bench on a 1 GiB ext4 disk of TREE (default /usr, ~600 MB):
#     FastCDC cut points in GB/s per core (goal >= 2), and the whole chunk
#     pipeline (cut + sha256 + zstd -3 + sha256) per core.
#  2. Bytes a re-push sends after one file of the disk changes, against an
#     OCI image of the same tree: its single layer rebuilt (what a rebuilt
#     image sends) and, the best an OCI image can do, one extra layer with
#     only the changed file.
#  3. Wall time of `vk registry push` / `vk registry pull` of the disk
#     against `skopeo copy` of a one-layer OCI image of the same tree, to
#     and from the same registry; ratios (skopeo time / vk time: above 1
#     means vk is faster). skopeo moves the layer as stored (gzip'd once,
#     timed apart) and pulls without unpacking; vk compresses, hashes twice
#     and writes a sparse disk inside its times.
set -euo pipefail
cd "$(dirname "$0")/.."

tree=${1:-/usr}
cap_bytes=$((600 * 1000 * 1000))
vk=$(realpath "${VK:-build/release/vk}")
bench=$(realpath "$(dirname "$vk")/vk_chunk_bench")
[[ -x $vk && -x $bench ]] || { echo "bench/registry.sh: build first (cmake --build --preset release)" >&2; exit 1; }
for tool in docker-registry skopeo mke2fs; do
  command -v $tool >/dev/null || { echo "bench/registry.sh: needs $tool (scripts/install-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
source bench/lib.sh
work=$(mktemp -d)
registry_pid=
cleanup() { [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; echo "$(now) - $t0" | bc; }

# The tree: regular files of $tree in path order until ~600 MB, plus one
# 1 MB file the change rewrites.
mkdir -p "$work/root"
(cd "$tree" && find . -type f -size -50M -printf '%s\t%p\n' | sort -t$'\t' -k2 |
  awk -F'\t' -v cap=$cap_bytes '{s+=$1; if (s<=cap) print $2}' |
  tar -T - -cf - 2>/dev/null) | tar -xf - -C "$work/root"
head -c 1000000 /dev/urandom >"$work/root/changed.bin"

# Same inputs, same image (fixed UUID, hash seed, clock, mtimes).
make_bundle() {
  mkdir -p "$1"
  find "$work/root" -exec touch -h -d @1700000000 {} +
  E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 -U 6f0c6a57-1c2e-4a0d-9d7e-0123456789ab \
    -E hash_seed=2b7e1516-28ae-d2a6-abf7-158809cf4f3c,root_owner=0:0 -d "$work/root" "$1/disk.ext4" 1G
}
make_bundle "$work/v1"

echo "== 1. chunking (1 GiB disk of $tree, $(du -sh "$work/root" | cut -f1) of files)"
"$bench" "$work/v1/disk.ext4"

start_local_registry "$work/storage"
reg=127.0.0.1:$port
export VIRTKIT_INSECURE_REGISTRIES=$reg

# oci_image DIR TAG TAR: a one-layer OCI image layout of TAR (gzip -1),
# skopeo's peer of the bundle.
oci_image() {
  local dir=$1 tag=$2 layer=$3 ld cd md
  mkdir -p "$dir/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  gzip -1 -c "$layer" >"$dir/layer.gz"
  ld=$(sha256sum "$dir/layer.gz" | cut -d' ' -f1)
  mv "$dir/layer.gz" "$dir/blobs/sha256/$ld"
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$(sha256sum "$layer" | cut -d' ' -f1)" >"$dir/config"
  cd=$(sha256sum "$dir/config" | cut -d' ' -f1)
  mv "$dir/config" "$dir/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$(stat -c %s "$dir/blobs/sha256/$cd")" "$ld" "$(stat -c %s "$dir/blobs/sha256/$ld")" >"$dir/manifest"
  md=$(sha256sum "$dir/manifest" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$(stat -c %s "$dir/manifest")" "$tag" >"$dir/index.json"
  mv "$dir/manifest" "$dir/blobs/sha256/$md"
}
tar -C "$work/root" -cf "$work/tree.tar" .
# skopeo sends the layer as it is: its compression is timed apart (vk
# compresses inside its push).
gzip_time=$(timed oci_image "$work/oci" v1 "$work/tree.tar")

# Wall times on a shared host: the load says how far to trust them.
echo "== 3. push/pull of the 1 GiB disk vs skopeo copy of the same tree as an OCI image" \
  "(load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
vk_push=$(timed "$vk" registry push "$work/v1" "$reg/vm:v1")
vk_pull=$(timed "$vk" registry pull "$reg/vm:v1" "$work/pulled")
sk_push=$(timed skopeo copy -q --dest-tls-verify=false "oci:$work/oci:v1" "docker://$reg/img:v1")
sk_pull=$(timed skopeo copy -q --src-tls-verify=false "docker://$reg/img:v1" "oci:$work/oci-back:v1")
cmp "$work/v1/disk.ext4" "$work/pulled/disk.ext4"
printf 'vk registry push %6.2f s   skopeo copy (push) %6.2f s   ratio %.2f\n' "$vk_push" "$sk_push" "$(echo "$sk_push / $vk_push" | bc -l)"
sk_both=$(echo "$sk_push + $gzip_time" | bc)
printf '                            gzip -1 + skopeo push %6.2f s   ratio %.2f\n' "$sk_both" "$(echo "$sk_both / $vk_push" | bc -l)"
printf 'vk registry pull %6.2f s   skopeo copy (pull) %6.2f s   ratio %.2f\n' "$vk_pull" "$sk_pull" "$(echo "$sk_pull / $vk_pull" | bc -l)"

echo "== 2. bytes sent after a one-file change (1 MB rewritten)"
head -c 1000000 /dev/urandom >"$work/root/changed.bin"
make_bundle "$work/v2"
"$vk" registry push "$work/v2" "$reg/vm:v1" 2>"$work/repush.txt" >/dev/null
sed -n 's/.*chunks of .*: \([0-9]*\) sent (\(.*\) of data as \(.*\) compressed).*/bundle re-push: \1 chunks, \2 of data, \3 sent/p' "$work/repush.txt"
tar -C "$work/root" -cf "$work/tree2.tar" .
whole=$(gzip -1 -c "$work/tree2.tar" | wc -c)
tar -C "$work/root" -cf "$work/diff.tar" changed.bin
diff=$(gzip -1 -c "$work/diff.tar" | wc -c)
echo "OCI image, single layer rebuilt: $whole bytes sent"
echo "OCI image, a diff layer with only the changed file: $diff bytes sent"

#!/usr/bin/env bash
# Builds (once) the default root disk: Debian's busybox-static with every
# applet, as an ext4 image in the virtkit data directory; prints its path.
set -euo pipefail

data=${VIRTKIT_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/virtkit}
image="$data/disks/busybox.ext4"
if [[ -f $image ]]; then echo "$image"; exit 0; fi

mkdir -p "$data/disks"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
"$(dirname "$0")/busybox-tree.sh" "$tree"
mke2fs -q -F -t ext4 -d "$tree" -L busybox "$image.tmp" 32M >/dev/null
mv "$image.tmp" "$image"
echo "$image"

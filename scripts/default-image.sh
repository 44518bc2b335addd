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
mkdir -p "$tree"/{bin,sbin,etc,dev,proc,sys,tmp,run,root,usr/bin,usr/sbin}
cp /bin/busybox "$tree/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [[ $applet == bin/busybox || -e $tree/$applet ]] || ln -s /bin/busybox "$tree/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' >"$tree/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$tree/etc/group"
rm -f "$tree/sbin/init"
printf '#!/bin/sh\necho "busybox init: nothing to do, powering off"\npoweroff -f\n' >"$tree/sbin/init"
chmod 755 "$tree/sbin/init"
mke2fs -q -F -t ext4 -d "$tree" -L busybox "$image.tmp" 32M >/dev/null
mv "$image.tmp" "$image"
echo "$image"

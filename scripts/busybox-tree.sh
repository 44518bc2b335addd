#!/usr/bin/env bash
# scripts/busybox-tree.sh DIR: a minimal root filesystem tree in DIR from
# Debian's busybox-static (every applet linked), with /etc/passwd, /etc/group
# and an /sbin/init that powers the machine off.
set -euo pipefail
tree=$1
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

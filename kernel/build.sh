#!/usr/bin/env bash
# Builds the virtkit guest kernel from Debian's linux-source-6.1 with our
# config fragment and patches, and copies vmlinux + bzImage into OUTDIR.
#
# Results are cached under ${XDG_CACHE_HOME:-~/.cache}/virtkit/kernel/<hash>,
# where <hash> covers every input (source package version, fragment, patches,
# this script), so a kernel is built once per change of its inputs (~4 min on
# 2 cores) and a clean checkout only copies it.
#
# Usage: kernel/build.sh OUTDIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: kernel/build.sh OUTDIR}
source_tarball=/usr/src/linux-source-6.1.tar.xz
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/kernel

die() { echo "kernel/build.sh: $*" >&2; exit 1; }

[[ -f $source_tarball ]] ||
  die "$source_tarball is missing: run scripts/install-deps.sh (package linux-source-6.1)"
for tool in make gcc flex bison bc; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done

inputs_hash() {
  {
    dpkg-query -W -f='${Version}\n' linux-source-6.1
    cat "$here/build.sh" "$here/config.fragment"
    for patch in "$here"/patches/*.patch; do
      basename "$patch"
      cat "$patch"
    done
  } | sha256sum | cut -c1-16
}

publish() {
  mkdir -p "$out"
  for file in vmlinux bzImage config; do
    cp -f "$1/$file" "$out/$file.tmp"
    mv -f "$out/$file.tmp" "$out/$file"
  done
}

build() {
  local work=$1
  tar -xf "$source_tarball" -C "$work"
  local src=$work/linux-source-6.1
  for patch in "$here"/patches/*.patch; do
    patch -d "$src" -p1 --quiet --forward <"$patch" || die "patch $(basename "$patch") does not apply"
  done
  make -C "$src" -s tinyconfig
  "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$here/config.fragment" >/dev/null
  make -C "$src" -s olddefconfig
  check_config "$src/.config"
  make -C "$src" -s -j"$(nproc)" vmlinux bzImage
  mkdir -p "$work/result"
  # Debug info is not built (DEBUG_KERNEL=n); strip symbols we do not need.
  objcopy --strip-debug "$src/vmlinux" "$work/result/vmlinux"
  cp "$src/arch/x86/boot/bzImage" "$work/result/bzImage"
  cp "$src/.config" "$work/result/config"
}

# Lists fragment options that Kconfig dropped (unmet dependencies), so a
# change of the fragment never silently does nothing.
check_config() {
  local missing=0
  while IFS= read -r line; do
    [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]] || continue
    local name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    if [[ $value == n ]]; then
      grep -q "^$name=" "$1" && { echo "warning: $name is set although the fragment says n" >&2; missing=1; }
    elif ! grep -qx "$name=$value" "$1"; then
      echo "warning: $name=$value from config.fragment did not survive olddefconfig" >&2
      missing=1
    fi
  done <"$here/config.fragment"
  return 0
}

hash=$(inputs_hash)
entry=$cache_root/$hash
if [[ -f $entry/vmlinux ]]; then
  publish "$entry"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
echo "kernel/build.sh: building guest kernel $hash (a few minutes, once per change)" >&2
flock 9
if [[ ! -f $entry/vmlinux ]]; then  # another build may have finished meanwhile
  work=$(mktemp -d "$cache_root/build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  if ! build "$work" >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    die "kernel build failed (log above)"
  fi
  grep '^warning:' "$work/build.log" >&2 || true
  mv "$work/result" "$entry.tmp"
  mv "$entry.tmp" "$entry"
fi
publish "$entry"

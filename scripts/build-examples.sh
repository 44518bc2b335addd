#!/bin/sh
# Builds examples/quickstart and examples/appliance as separate CMake projects
# against libvirtkit installed into a temporary prefix, once with the shared
# library and once with the static one (VIRTKIT_USE_STATIC).
#   scripts/build-examples.sh [BUILD_DIR]     (default build/release)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
work=$(mktemp -d "${TMPDIR:-/tmp}/virtkit-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT

cmake --build "$build" --target virtkit virtkit_static
cmake --install "$build" --prefix "$work/prefix" --component virtkit >/dev/null

for linkage in shared static; do
  for example in quickstart appliance; do
    out="$work/$example-$linkage"
    static=OFF
    [ "$linkage" = static ] && static=ON
    # Quiet when it works; the whole log when it does not.
    if ! { cmake -S "$root/examples/$example" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
             -DCMAKE_PREFIX_PATH="$work/prefix" -DVIRTKIT_USE_STATIC=$static &&
           cmake --build "$out"; } >"$work/log" 2>&1; then
      cat "$work/log" >&2
      echo "build-examples: $example ($linkage) FAILED" >&2
      exit 1
    fi
    # The shared build must resolve libvirtkit from the prefix (CMake's rpath).
    if [ "$linkage" = shared ]; then
      ldd "$out/$example" | grep -q "$work/prefix/.*libvirtkit.so" \
        || { echo "build-examples: $example does not use the installed libvirtkit" >&2; exit 1; }
    fi
    echo "build-examples: $example ($linkage) ok"
  done
done

# pkg-config sees the package too.
PKG_CONFIG_PATH="$(dirname "$(find "$work/prefix" -name virtkit.pc)")" \
  pkg-config --exists --print-errors "virtkit >= 0.1"
echo "build-examples: virtkit.pc ok"

#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. dependencies, 2. release build + all tests (unit, the examples built
#   against the installed library, end-to-end on KVM), 3. asan build (ASan +
#   UBSan) + unit tests, 4. every fuzz seed replayed by the asan build.
# End-to-end tests need /dev/kvm. Where /dev/kvm exists they must run: a
# skipped end-to-end test then fails the suite instead of passing silently.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${VK_JOBS:-$(nproc)}
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/vk-test.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

# Each step says when it started (seconds since the suite's start), so a
# slow CI run shows where its time went.
step() { printf '\n== %s (at %d s) ==\n' "$*" "$SECONDS"; }

step "dependencies"
scripts/install-deps.sh

# Compiled objects are cached outside the clone, next to the guest kernel's
# cache (~/.cache/virtkit): a machine that keeps its home between runs
# recompiles only what changed. Paths are made relative to the clone, so
# every clone of the repository shares the cache.
if command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/ccache}
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

status=0
step "release unit tests"
ctest --preset release -L unit -j "$jobs" --timeout 600 2>&1 | tee "$log_dir/unit.log" || status=1

step "examples built against the installed library (libvirtkit, CMake package, pkg-config)"
scripts/build-examples.sh build/release || status=1

step "end-to-end tests (boot real microVMs; need /dev/kvm)"
ctest --preset release -L e2e -j "$jobs" --timeout 1800 2>&1 | tee "$log_dir/e2e.log" || status=1

step "asan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"

step "asan unit tests"
ctest --preset asan -j "$jobs" --timeout 900 2>&1 | tee "$log_dir/asan.log" || status=1

step "fuzz seed replay: every seed corpus once, ASan + UBSan (replay binaries of the asan build)"
VK_JOBS=$jobs scripts/fuzz.sh replay || status=1

if [[ -c /dev/kvm ]]; then
  # ctest's status column ("***Skipped"), not test names that contain the word.
  skipped='\*\*\*Skipped|[[:space:]]Skipped[[:space:]]+[0-9.]+ sec'
  if grep -qE "$skipped" "$log_dir/e2e.log" "$log_dir/unit.log"; then
    echo "FAIL: /dev/kvm is present but KVM tests were skipped:" >&2
    grep -hE "$skipped" "$log_dir/e2e.log" "$log_dir/unit.log" >&2
    status=1
  fi
  if ! grep -qE 'tests passed.* out of [1-9]' "$log_dir/e2e.log"; then
    echo "FAIL: /dev/kvm is present but no end-to-end test ran" >&2
    status=1
  fi
fi
echo "test.sh: done in $SECONDS s, status $status"
exit $status

#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install dependencies, build
# everything (the guest kernel is built once and cached in ~/.cache/virtkit),
# build the default image (Debian bookworm via mmdebstrap, stored as
# debian:local) and run a command in it as a microVM.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

vk=build/release/vk
if ! "$vk" image inspect debian:local >/dev/null 2>&1; then
  echo "setup: building the default image debian:local with mmdebstrap (once)"
  "$vk" image from-debian debian:local
fi
echo "setup: vk run debian:local -- cat /etc/os-release"
"$vk" run debian:local -- sh -c 'cat /etc/os-release; echo "kernel $(uname -r), $(nproc) vCPU"'

#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install dependencies, build
# everything (the guest kernel is built once and cached in ~/.cache/virtkit),
# then boot the default image and run a command in it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

disk=$(scripts/default-image.sh)
echo "setup: booting $disk"
build/release/vk launch --disk "$disk" -- sh -c 'echo "hello from $(uname -sr) in a virtkit microVM"; cat /proc/cpuinfo | grep -m1 "model name"'

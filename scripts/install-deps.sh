#!/usr/bin/env bash
# Installs every Debian package virtkit needs to build, test and benchmark.
# Idempotent: packages already present are not downloaded again, and apt is
# not touched at all when everything is installed.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-14 libclang-rt-14-dev clang-format clang-tidy ccache
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libcli11-dev libarchive-dev libext2fs-dev e2fsprogs libcurl4-openssl-dev libssl-dev
  libzstd-dev nettle-dev libyaml-cpp-dev libslirp-dev libglib2.0-dev libseccomp-dev
  libtomlplusplus-dev
  # guest kernel build (kernel/build.sh)
  linux-source-6.1 bc flex bison libelf-dev cpio xz-utils
  # test fixtures and peers
  busybox-static qemu-system-x86 docker-registry skopeo umoci apache2-utils mmdebstrap iperf3
  socat tmux
  # libkrun clients (tests/libkrun): the ctypes client, compressed kernels, the tap namespace
  python3 zstd bzip2 iproute2
  # the Dockerfile peer of src/build/buildah_conformance_test.cc and bench/build.sh
  buildah
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# docker-registry starts a system service on install; our tests start their own.
if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
  $sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
echo "install-deps: done"

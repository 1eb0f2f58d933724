#!/usr/bin/env bash
# Installs the Debian 12 packages cnnk needs, only those missing, so a
# second run costs a dpkg query and nothing more. docs/DEPENDENCIES.md says
# why each one is here.
#
# On an x86-64 host it also installs the AArch64 cross build (the NEON
# kernels, built by scripts/test.sh and run under qemu-aarch64): the cross
# compiler, user-mode qemu, and the arm64 multiarch libraries the build
# links. oneDNN's arm64 package cannot be installed beside the amd64 one
# (their dnnl_config.h differ), so the cross build is without oneDNN.
set -euo pipefail
pkgs=(gcc g++ make cmake pkg-config libdnnl-dev libhwloc-dev libbenchmark-dev libcjson-dev
      clang-14 libclang-rt-14-dev libomp-14-dev
      libsqlite3-dev sqlite3 chromium python3 # history; cnnk report and its Chromium test
      python3-torch python3-torchvision # --main's PyTorch column; the PyTorch oracle's tests
      libonnx-dev libprotobuf-c-dev protobuf-c-compiler) # ONNX import (docs/ONNX.md)
# The PyTorch oracle (docs/ORACLE.md): onnx.checker on each export, the mutants.
pkgs+=(python3-onnx)
cross=0
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  cross=1
  pkgs+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user llvm-19
         libhwloc-dev:arm64 libcjson-dev:arm64 libbenchmark-dev:arm64 libgomp1:arm64
         libprotobuf-c-dev:arm64) # ONNX import on the AArch64 build too
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "cnnk: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ "$cross" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

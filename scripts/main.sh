#!/usr/bin/env bash
# The main job: build, then the default comparison: AlexNet, VGG-16,
# GoogLeNet, ResNet-50 and DenseNet-121 at batch 1, one thread, cnnk's best
# ISA with its default plan against oneDNN at its best and PyTorch's eager
# inference (when /usr/bin/python3 has torch), in one run.
# Prints one table and the path of the JSON results file. Extra arguments go
# to cnnk-bench (e.g. --threads=2, --out=PATH, Google Benchmark's flags).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
exec build/cnnk-bench --main "$@"

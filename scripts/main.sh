#!/usr/bin/env bash
# The main job: build, then check the scalar reference (and every reference
# strategy) against oneDNN on every layer of AlexNet, VGG-16, GoogLeNet,
# ResNet-50 and DenseNet-121, and print the result table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
exec build/cnnk validate --isa ref --algo all --against onednn \
  --batch shapes/alexnet.txt --batch shapes/vgg16.txt --batch shapes/googlenet.txt \
  --batch shapes/resnet50.txt --batch shapes/densenet121.txt --batch shapes/layers.txt "$@"

#!/usr/bin/env bash
# Every test: installs what is missing, builds Release and runs all ctest
# tests (unit tests, every network's layers and the random sweep against
# oneDNN, bad-input handling), then builds with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the tests again, less the long
# whole-network checks (label "network"), whose code paths the sweep covers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCNNK_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$(nproc)" -LE network)

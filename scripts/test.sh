#!/usr/bin/env bash
# Every test: installs what is missing, builds Release and runs all ctest
# tests (unit tests, every network's layers and the random sweep against
# oneDNN, bad-input handling), then builds with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the tests again, less the long
# whole-network checks (label "network"), whose code paths the sweep covers.
# Then the libFuzzer targets (clang-14, ASan+UBSan), 30 s each after their
# seeds (docs/FUZZING.md has the longer run).
# On an x86-64 host it then cross-builds the AArch64 configuration (NEON
# kernels, without oneDNN) and runs a representative subset of its tests
# under qemu-aarch64 (CNNK_ARM64_TESTS; about 4 minutes here, see
# docs/KERNELS_NEON.md). The full AArch64 set under emulation is
#   (cd build-arm64 && ctest --output-on-failure)
# and takes hours: the reference checks whole networks in emulated scalar code.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCNNK_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$(nproc)" -LE network)
# The libFuzzer targets (docs/FUZZING.md), built with clang-14 and the
# sanitizers: each runs its seed corpus, then fuzzes for 30 s.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCNNK_SANITIZE=ON \
  -DCNNK_FUZZ=ON -DCNNK_WITH_ONEDNN=OFF >build-fuzz.configure.log 2>&1 || { cat build-fuzz.configure.log; exit 1; }
cmake --build build-fuzz -j"$(nproc)" --target fuzz_parse fuzz_plan fuzz_shapes fuzz_compare fuzz_onnx fuzz_npy >build-fuzz.build.log 2>&1 ||
  { cat build-fuzz.build.log; exit 1; }
(cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)" -L fuzz)
if [ "$(uname -m)" = x86_64 ]; then
  # Every NEON kernel against the reference on the unit tests' shapes and
  # the edge cases, the GEMM's blocking and tiles, and the parsers.
  arm64_tests=${CNNK_ARM64_TESTS:-'^(test_desc|test_parse|test_winograd_1d|test_gemm|test_kernels_.*|test_onnx|test_npy|validate_edge|validate_layers|sweep_reproducible|cli_bad_input)$'}
  scripts/build.sh build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DCNNK_WITH_ONEDNN=OFF -DCMAKE_BUILD_TYPE=Release
  (cd build-arm64 && ctest --output-on-failure -j"$(nproc)" -R "$arm64_tests")
fi

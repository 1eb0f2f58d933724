#!/usr/bin/env bash
# The demonstration of docs/COMPARE.md: cnnk compare on two back-to-back
# runs of one build (expected: exit 0), and on that build against a copy
# with one kernel deliberately slowed by about 10% (expected: exit 1,
# naming that kernel's benchmarks). The slowdown is tests/slowdown-10pct.patch
# (avx512/direct computes every tenth output row twice), applied to a copy
# of the tree in a temporary directory: the repository and the library
# carry no test hook.
#
# usage: scripts/compare-demo.sh BUILD OUT [cnnk compare options...]
#   BUILD  a configured Release build of this tree (its cnnk-bench, cnnk)
#   OUT    a directory for the JSON files, the slowed build and the log
# Environment: CNNK_DEMO_PIN (default "taskset -c 1"), CNNK_DEMO_REPS (10).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd) out=$2
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)
pin=${CNNK_DEMO_PIN-taskset -c 1}
reps=${CNNK_DEMO_REPS:-10}

# The slowed copy: the tracked files as they are in the working tree.
if [ ! -x "$out/slow-build/cnnk-bench" ]; then
  rm -rf "$out/slow-src"
  mkdir -p "$out/slow-src"
  (cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$out/slow-src"
  patch -d "$out/slow-src" -p1 --quiet <"$root/tests/slowdown-10pct.patch"
  cmake -S "$out/slow-src" -B "$out/slow-build" -DCMAKE_BUILD_TYPE=Release >"$out/slow-configure.log" 2>&1
  cmake --build "$out/slow-build" --target cnnk_bench -j1 >"$out/slow-build.log" 2>&1
fi

# Three layers of ResNet-50, each by three kernels; only avx512/direct is
# slowed. Repetitions interleaved at random within a run.
filter='^layer/resnet50/(layer1\.0\.conv2|layer2\.0\.conv2|layer3\.0\.conv2)/cnnk/avx512/(direct|im2col|winograd_f4x4)$'
run() { # run BINARY NAME
  $pin "$1" --nets=resnet50 --layers=layer1.0.conv2,layer2.0.conv2,layer3.0.conv2 --isa=avx512 \
    --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time=0.1 \
    --benchmark_out="$out/$2.json" >"$out/$2.log" 2>&1
}
# base, slowed, base again: the slowed run sits between the two runs it
# is compared with, so a drift of the machine shows in the back-to-back pair.
echo "$(date -u +%FT%TZ) base run 1" >&2
run "$build/cnnk-bench" base1
echo "$(date -u +%FT%TZ) slowed run" >&2
run "$out/slow-build/cnnk-bench" slowed
echo "$(date -u +%FT%TZ) base run 2" >&2
run "$build/cnnk-bench" base2
echo "$(date -u +%FT%TZ) done; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

status=0
echo "== back to back, same build: cnnk compare $* base1.json base2.json"
"$build/cnnk" compare "$@" "$out/base1.json" "$out/base2.json" || status=$?
echo "exit $status"
slow_status=0
echo "== slowed avx512/direct: cnnk compare $* base1.json slowed.json"
"$build/cnnk" compare "$@" "$out/base1.json" "$out/slowed.json" || slow_status=$?
echo "exit $slow_status"
[ $status -eq 0 ] && [ $slow_status -eq 1 ]

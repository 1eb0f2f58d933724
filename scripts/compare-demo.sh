#!/usr/bin/env bash
# The demonstration of docs/COMPARE.md: cnnk compare on two back-to-back
# runs of one build (expected: exit 0), and on that build against a copy
# with one kernel deliberately slowed by about 10% (expected: exit 1,
# naming that kernel's benchmarks). The runs go base, slowed, base; the
# slowed run is compared with each base run, and what is slower than both
# is listed (a drift of the machine makes a benchmark lose to one side
# only). The script succeeds when the back-to-back pair exits 0, both
# slowed comparisons exit 1, and what loses to both is avx512/direct only. The slowdown is tests/slowdown-10pct.patch
# (avx512/direct computes every tenth output row twice), applied to a copy
# of the tree in a temporary directory: the repository and the library
# carry no test hook.
#
# usage: scripts/compare-demo.sh BUILD OUT [cnnk compare options...]
#   BUILD  a configured Release build of this tree (its cnnk-bench, cnnk)
#   OUT    a directory for the JSON files, the slowed build and the log
# Environment: CNNK_DEMO_PIN (default "taskset -c 1"), CNNK_DEMO_REPS (10),
# CNNK_DEMO_REUSE (set: no runs, compare the JSON files already in OUT).
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
if [ -z "${CNNK_DEMO_REUSE:-}" ]; then # set: compare the JSON files of a previous run again
  echo "$(date -u +%FT%TZ) base run 1" >&2
  run "$build/cnnk-bench" base1
  echo "$(date -u +%FT%TZ) slowed run" >&2
  run "$out/slow-build/cnnk-bench" slowed
  echo "$(date -u +%FT%TZ) base run 2" >&2
  run "$build/cnnk-bench" base2
  echo "$(date -u +%FT%TZ) done; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi

# cmp NAME BASE NEW: cnnk compare with the options given, its status in
# $out/NAME.status and the benchmarks it calls regressions in $out/NAME.regressed.
cmp() {
  local name=$1 base=$2 new=$3 rc=0
  shift 3
  echo "== $name: cnnk compare $* $(basename "$base") $(basename "$new")"
  "$build/cnnk" compare "$@" "$base" "$new" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  cat "$out/$name.txt" "$out/$name.err"
  echo "exit $rc"
  echo $rc >"$out/$name.status"
  sed -n 's/^cnnk compare: REGRESSION \([^:]*\):.*/\1/p' "$out/$name.err" | sort >"$out/$name.regressed"
}
cmp back-to-back "$out/base1.json" "$out/base2.json" "$@"
cmp slowed-vs-base1 "$out/base1.json" "$out/slowed.json" "$@"
cmp slowed-vs-base2 "$out/base2.json" "$out/slowed.json" "$@"
# A regression that a drift of the machine cannot explain loses to the
# runs before and after it.
comm -12 "$out/slowed-vs-base1.regressed" "$out/slowed-vs-base2.regressed" >"$out/both.regressed"
echo "== slower than both base runs:"
sed 's/^/  /' "$out/both.regressed"
[ "$(cat "$out/back-to-back.status")" = 0 ] && [ "$(cat "$out/slowed-vs-base1.status")" = 1 ] &&
  [ "$(cat "$out/slowed-vs-base2.status")" = 1 ] && [ -s "$out/both.regressed" ] &&
  ! grep -qv '/cnnk/avx512/direct$' "$out/both.regressed"

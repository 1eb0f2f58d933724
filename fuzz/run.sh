#!/usr/bin/env bash
# One fuzzer's ctest run: the seed corpus (fuzz/corpus/NAME, read-only
# here) and whatever a previous run found, then SECONDS of fuzzing. New
# inputs go to a scratch corpus, not the repository; a crash is written
# to the scratch directory and fails the test with its path.
# usage: fuzz/run.sh FUZZER SEED_DIR SECONDS
set -u
fuzzer=$1 seeds=$2 seconds=$3
work=${CNNK_FUZZ_WORK:-$(mktemp -d)}
mkdir -p "$work/corpus" "$work/crash"
"$fuzzer" -max_total_time="$seconds" -timeout=120 -rss_limit_mb=4096 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/crash/" "$work/corpus" "$seeds" 2>"$work/log"
rc=$?
tail -n 12 "$work/log"
if [ $rc -ne 0 ]; then
  echo "fuzz: $(basename "$fuzzer") failed (status $rc); input and log under $work"
  ls -l "$work/crash"
  exit 1
fi
[ -n "${CNNK_FUZZ_WORK:-}" ] || rm -rf "$work"

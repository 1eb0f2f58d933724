#!/usr/bin/env bash
# `cnnk compare` (docs/COMPARE.md) on crafted Google Benchmark JSON: exit 0
# (same, faster, within the threshold, added and removed benchmarks), 1 (a
# regression, named on stderr), 2 (too few repetitions with the number
# needed, errored benchmarks, malformed, unreadable and mismatched files,
# bad options); time units converted. Then the history database end to
# end (docs/HISTORY.md): two real cnnk-bench runs of one small layer
# recorded with --record, compared with --db and --baseline, a slowed
# copy caught, no baseline and foreign databases refused, --main's results
# recorded, a run with every benchmark failed recording nothing and one
# with some failed recording their errors.
# usage: compare_cli.sh CNNK CNNK_BENCH [sanitized]
set -u
cnnk=$1 bench=$2 sanitized=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

# gb FILE UNIT NAME=t1,t2,... [NAME!=error message] ...: a Google Benchmark
# JSON file with one iteration row per time (and an aggregate row, as
# --benchmark_repetitions writes, which compare must skip).
gb() {
  local file=$1 unit=$2; shift 2
  {
    printf '{"context": {"date": "2026-11-30T21:00:00+00:00", "library_build_type": "release"},\n'
    printf ' "benchmarks": [\n'
    local sep="" spec name times i t
    for spec in "$@"; do
      if [[ $spec == *'!='* ]]; then
        name=${spec%%!=*}
        printf '%s{"name": "%s", "run_name": "%s", "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "error_occurred": true, "error_message": "%s"}\n' \
          "$sep" "$name" "$name" "${spec#*!=}"
        sep=,
        continue
      fi
      name=${spec%%=*} times=${spec#*=} i=0
      for t in ${times//,/ }; do
        printf '%s{"name": "%s", "run_name": "%s", "run_type": "iteration", "repetitions": 10, "repetition_index": %d, "threads": 1, "iterations": 100, "real_time": %s, "cpu_time": %s, "time_unit": "%s", "FLOPS": 1e9}\n' \
          "$sep" "$name" "$name" $i "$t" "$t" "$unit"
        sep=, i=$((i + 1))
      done
      printf '%s{"name": "%s_median", "run_name": "%s", "run_type": "aggregate", "aggregate_name": "median", "real_time": 1, "cpu_time": 1, "time_unit": "%s"}\n' \
        "$sep" "$name" "$name" "$unit"
    done
    printf ']}\n'
  } >"$file"
}

# expect STATUS PATTERN ARGS...: cnnk compare ARGS exits STATUS and its
# stdout+stderr, as one line, match PATTERN (an extended regex).
expect() {
  local want=$1 pat=$2; shift 2
  count=$((count + 1))
  "$cnnk" compare "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne "$want" ] || ! cat "$tmp/out" "$tmp/err" | tr "\n" " " | grep -qE -- "$pat"; then
    fail "compare $* -> status $rc (want $want, output matching '$pat'):"
    cat "$tmp/out" "$tmp/err" | tail -8
  fi
}

# row NAME VERDICT: that benchmark's row of the table says VERDICT
row() { echo " $1 +[0-9.]+ us +[0-9.]+ us +[-+][0-9.]+% +[-0-9.e]+~? +$2"; }

base10=100,101,99,102,98,100.5,101.5,99.5,100.2,99.8
same10=100.1,100.9,99.2,101.8,98.3,100.4,101.2,99.6,100.3,99.7
slow10=120,121,119,122,118,120.5,121.5,119.5,120.2,119.8   # +20%
fast10=80,81,79,82,78,80.5,81.5,79.5,80.2,79.8
slow3p=103,104,102,105,101,103.5,104.5,102.5,103.2,102.8   # +3%
gb "$tmp/base.json" us A=$base10 B=$base10 C=$base10
gb "$tmp/same.json" us A=$same10 B=$same10 C=$same10
gb "$tmp/slow.json" us A=$same10 B=$slow10 C=$same10
gb "$tmp/fast.json" us A=$fast10 B=$same10 C=$same10
gb "$tmp/slow3.json" us A=$slow3p B=$same10 C=$same10
gb "$tmp/base_ns.json" ns A=100000,101000,99000,102000,98000,100500,101500,99500,100200,99800
gb "$tmp/added.json" us A=$same10 B=$same10 D=$same10
gb "$tmp/few3.json" us A=100,101,99 B=100,101,99
gb "$tmp/few3b.json" us A=120,121,119 B=120,121,119
gb "$tmp/four.json" us A=100,101,99,102
gb "$tmp/four_slow.json" us A=120,121,119,122
gb "$tmp/err.json" us A=$same10 'B!=out of memory' C=$same10
gb "$tmp/other.json" us X=$same10

# 0: nothing regressed
expect 0 "$(row A same)$(row B same)$(row C same)" "$tmp/base.json" "$tmp/same.json"
expect 0 '3 compared: 0 REGRESSION' "$tmp/base.json" "$tmp/same.json"
expect 0 "$(row A faster)$(row B same)" "$tmp/base.json" "$tmp/fast.json"
expect 0 " A +100\.100 us +103\.100 us +\+3\.0% +[0-9.e-]+~? +slower " "$tmp/base.json" "$tmp/slow3.json"
# 1: a regression, named on stderr; the threshold decides
expect 1 'REGRESSION B: median 100\.[0-9]* us -> 120\.[0-9]* us \(\+20\.0%, p = 1\.1e-05\)' "$tmp/base.json" "$tmp/slow.json"
expect 1 'REGRESSION A' --threshold 2% "$tmp/base.json" "$tmp/slow3.json"
expect 0 "$(row A slower)" --threshold 5 "$tmp/base.json" "$tmp/slow3.json"
expect 0 '1 compared: 0 REGRESSION' --filter '^[AC]$' --filter '^A$' "$tmp/base.json" "$tmp/slow.json"
expect 1 'REGRESSION A' "$tmp/four.json" "$tmp/four_slow.json" # 4 + 4: p = 2/70
# time units: the same times in ns and in us are the same
expect 0 " A +100\.100 us +100\.100 us +\+0\.0% +1\.0000~? +same " "$tmp/base_ns.json" "$tmp/base.json"
# added and removed are listed, not failed
expect 0 'added \(in NEW only\):.*' "$tmp/base.json" "$tmp/added.json"
count=$((count + 1))
grep -A1 'added' "$tmp/out" | grep -q '^  D$' && grep -A1 'removed' "$tmp/out" | grep -q '^  C$' ||
  fail "added D / removed C not listed: $(cat "$tmp/out")"
# 2: too few repetitions, with the number needed
expect 2 '3 in BASE, 3 in NEW.*0\.1, never below alpha 0\.05.*--benchmark_repetitions=4 or more' \
  "$tmp/few3.json" "$tmp/few3b.json"
expect 2 'alpha 0\.01.*--benchmark_repetitions=5 or more' --alpha 0.01 "$tmp/four.json" "$tmp/four_slow.json"
# 2: an errored benchmark is reported, never compared
expect 2 'B errored in NEW \(1 of 1 repetitions: out of memory\)' "$tmp/base.json" "$tmp/err.json"
expect 2 'B errored in BASE' "$tmp/err.json" "$tmp/base.json"
# 2: mismatched, malformed, unreadable
expect 2 'no benchmark in common' "$tmp/base.json" "$tmp/other.json"
expect 2 'no benchmark in common.*--filter' --filter '^Z' "$tmp/base.json" "$tmp/same.json"
printf 'not json' >"$tmp/text.json"
expect 2 'text.json: not JSON' "$tmp/text.json" "$tmp/base.json"
printf '{"benchmarks": 3}' >"$tmp/noarr.json"
expect 2 'no "benchmarks" array' "$tmp/base.json" "$tmp/noarr.json"
printf '[1, 2]' >"$tmp/array.json"
expect 2 'expected a JSON object' "$tmp/array.json" "$tmp/base.json"
printf '{"benchmarks": [{"run_name": "A", "run_type": "iteration", "real_time": "fast", "cpu_time": 1, "time_unit": "ns"}]}' >"$tmp/type.json"
expect 2 'benchmarks\[0\]\.real_time: expected a number' "$tmp/type.json" "$tmp/base.json"
printf '{"benchmarks": [{"run_name": "A", "real_time": 1, "cpu_time": 1, "time_unit": "min"}]}' >"$tmp/unit.json"
expect 2 'benchmarks\[0\]\.time_unit: expected ns, us, ms or s' "$tmp/base.json" "$tmp/unit.json"
printf '{"benchmarks": [{"run_name": "A", "repetition_index": 0, "real_time": 1, "cpu_time": 1, "time_unit": "ns"}, {"run_name": "A", "repetition_index": 0, "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}' >"$tmp/twice.json"
expect 2 'repetition 0 of A is listed twice' "$tmp/twice.json" "$tmp/base.json"
printf '{"benchmarks": [{"run_name": "A", "run_type": "aggregate", "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}' >"$tmp/agg.json"
expect 2 'only aggregates' "$tmp/agg.json" "$tmp/base.json"
expect 2 'missing.json: cannot read: No such file' "$tmp/missing.json" "$tmp/base.json"
expect 2 "cannot read: Is a directory" "$tmp" "$tmp/base.json"
# 2: usage
expect 2 'give BASE.json NEW.json' "$tmp/base.json"
expect 2 '--threshold takes a percentage' --threshold 5x "$tmp/base.json" "$tmp/same.json"
expect 2 '--alpha takes a number in \(0, 1\)' --alpha 1 "$tmp/base.json" "$tmp/same.json"
expect 2 'not an extended regular expression' --filter '(' "$tmp/base.json" "$tmp/same.json"
expect 2 '--db and --baseline go together' --db "$tmp/h.db" "$tmp/base.json"

# ---- the history database, end to end ---------------------------------------
db=$tmp/h.db
layer() { "$bench" --nets=resnet18 --input=32x32 --layers=layer1.0.conv1 --isa=ref \
            --benchmark_filter='^layer/resnet18/layer1.0.conv1/cnnk/ref/direct$' \
            --benchmark_repetitions=5 --benchmark_min_time=0.01 "$@"; }
count=$((count + 1))
layer --record="$db" --benchmark_out="$tmp/run1.json" >"$tmp/out" 2>"$tmp/err" &&
  grep -q "recorded run 1 in $db: 1 benchmarks, 5 repetitions" "$tmp/err" ||
  fail "first --record: $(tail -3 "$tmp/err")"
rev=$(grep -o '"git_revision": "[^"]*"' "$tmp/run1.json" | cut -d'"' -f4)
count=$((count + 1))
[ -n "$rev" ] || fail "no git_revision in the context of run1.json"
# the stored baseline against the file it was recorded from: the same
# samples, p = 1
expect 0 'base: .*run 1 \(revision '"$rev"'.*1 compared: 0 REGRESSION.*1 same' \
  --db "$db" --baseline "$rev" "$tmp/run1.json"
# two files of different thread counts or CPUs compare, with a warning
sed 's/"cnnk_threads": "1"/"cnnk_threads": "2"/' "$tmp/run1.json" >"$tmp/threads2.json"
expect 0 '1 same.*warning: BASE ran at 1 threads, NEW at 2' "$tmp/run1.json" "$tmp/threads2.json"
# a copy three times slower is a regression against the stored baseline
awk '/"real_time": / { match($0, /"real_time": [0-9.e+-]+/); v = substr($0, RSTART + 13, RLENGTH - 13) * 3
                      $0 = substr($0, 1, RSTART - 1) "\"real_time\": " sprintf("%.6e", v) substr($0, RSTART + RLENGTH) }
     { print }' "$tmp/run1.json" \
  >"$tmp/slow3x.json"
expect 1 'REGRESSION layer/resnet18/layer1.0.conv1/cnnk/ref/direct' --db "$db" --baseline "$rev" "$tmp/slow3x.json"
count=$((count + 1))
layer --record "$db" >"$tmp/out" 2>"$tmp/err" && grep -q "recorded run 2 in $db" "$tmp/err" ||
  fail "second --record (no --benchmark_out): $(tail -3 "$tmp/err")"
# two real runs back to back: compared (noise may call it either way)
"$cnnk" compare --db "$db" --baseline "$rev" >"$tmp/out" 2>"$tmp/err"
rc=$?
count=$((count + 1))
{ [ $rc -eq 0 ] || [ $rc -eq 1 ]; } && grep -q 'base: .*run 1 ' "$tmp/out" && grep -q 'new:  .*run 2 ' "$tmp/out" ||
  fail "--db, newest run against run 1 -> status $rc: $(cat "$tmp/out" "$tmp/err" | tail -4)"
# --run 1: the baseline is then the newest other run of the revision
expect 0 'base: .*run 2 .*new:  .*run 1 ' --db "$db" --baseline "$rev" --run 1 --threshold 1000%
# no baseline for this revision: the message lists what exists
expect 2 "no baseline run of revision 'feedbee' on CPU .*CPU '.*' at 1 threads: revisions $rev" \
  --db "$db" --baseline feedbee
expect 2 'no run with id 9' --db "$db" --baseline "$rev" --run 9
expect 2 'the context has no cnnk_cpu_model \(not a cnnk-bench run\)' --db "$db" --baseline "$rev" "$tmp/base.json"
expect 2 'cannot open the database' --db "$tmp/none.db" --baseline "$rev"
expect 2 'not an SQLite database' --db "$tmp/base.json" --baseline "$rev"
if command -v sqlite3 >/dev/null; then
  cp "$db" "$tmp/v2.db" && sqlite3 "$tmp/v2.db" 'PRAGMA user_version = 2'
  expect 2 'schema version 2 \(PRAGMA user_version\), this build reads version 1' --db "$tmp/v2.db" --baseline "$rev"
  count=$((count + 1))
  layer --record="$tmp/v2.db" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] && grep -q 'schema version 2' "$tmp/err" && ! grep -q '^layer/' "$tmp/out" ||
    fail "--record into a version-2 database -> status $rc: $(tail -2 "$tmp/err")"
  count=$((count + 1))
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM runs; SELECT count(*) FROM samples WHERE error IS NULL')" = "$(printf '2\n10')" ] ||
    fail "the database holds $(sqlite3 "$db" 'SELECT count(*) FROM runs') runs, $(sqlite3 "$db" 'SELECT count(*) FROM samples') samples (want 2, 10)"
else
  echo "note: no sqlite3 command: the foreign-version cases are left out"
fi
# refused before any work: a database that cannot be created
count=$((count + 1))
layer --record="$tmp/nodir/h.db" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q 'cannot open the database' "$tmp/err" && ! grep -q '^layer/' "$tmp/out" ||
  fail "--record into a missing directory -> status $rc: $(tail -2 "$tmp/err")"
# --record without a database path
for flag in --record= "--record --benchmark_filter=x"; do
  count=$((count + 1))
  # shellcheck disable=SC2086 # the second flag is two words on purpose
  "$bench" $flag >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] && grep -q -- '--record.* needs a database path' "$tmp/err" ||
    fail "cnnk-bench $flag -> status $rc: $(tail -1 "$tmp/err")"
done
# --main records its results file once it is written
count=$((count + 1))
"$bench" --main --nets=resnet18 --input=32x32 --benchmark_repetitions=4 --benchmark_min_time=0.001 \
  --out="$tmp/main.json" --record="$db" >"$tmp/out" 2>"$tmp/err" &&
  grep -qE "recorded run 3 in $db: [0-9]+ benchmarks, [0-9]+ repetitions" "$tmp/err" ||
  fail "--main --record: $(tail -2 "$tmp/err")"
expect 0 'base: .*run 3 .*0 REGRESSION.*0 added, 0 removed' --db "$db" --baseline "$rev" "$tmp/main.json"
if [ "$sanitized" != sanitized ]; then
  # every benchmark failed (out of memory, as in results_files.sh): 3 and
  # nothing recorded; the newest run is still run 3
  count=$((count + 1))
  (ulimit -v 650000; "$bench" --nets=vgg16 --layers=classifier.0 --isa=ref --benchmark_min_time=0.001 \
     --benchmark_filter='^layer/vgg16/classifier.0/cnnk/ref/fc$' --record="$db") >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 3 ] && ! grep -q 'recorded run' "$tmp/err" ||
    fail "--record with every benchmark failed -> status $rc: $(tail -2 "$tmp/err")"
  expect 2 'no run with id 4' --db "$db" --baseline "$rev" --run 4
  # some failed: recorded, each failed repetition a row with its error and
  # no time; the status stays 2
  count=$((count + 1))
  (ulimit -v 650000; "$bench" --nets=vgg16 --layers=features.0,classifier.0 --isa=ref \
     --benchmark_min_time=0.001 --benchmark_filter='^layer/vgg16/.*/cnnk/ref/(direct|fc)$' \
     --record="$db") >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] && grep -q "recorded run 4 in $db: 2 benchmarks" "$tmp/err" ||
    fail "--record with one of two benchmarks failed -> status $rc: $(tail -2 "$tmp/err")"
  if command -v sqlite3 >/dev/null; then
    count=$((count + 1))
    got=$(sqlite3 "$db" "SELECT name, real_time_ns IS NULL, length(error) > 0 FROM samples WHERE run_id = 4 ORDER BY name")
    want=$(printf 'layer/vgg16/classifier.0/cnnk/ref/fc|1|1\nlayer/vgg16/features.0/cnnk/ref/direct|0|')
    [ "$got" = "$want" ] || fail "run 4's samples: '$got', want '$want'"
  fi
else
  echo "note: sanitized build: the out-of-memory case is left out"
fi

echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ]

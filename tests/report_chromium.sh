#!/usr/bin/env bash
# `cnnk report` rendered by headless Chromium (docs/REPORT.md): pages built
# from a checked-in cnnk-bench JSON, from a fresh small cnnk-bench run, and
# from a small history database are each rendered to PNG (a valid image of
# the window's size, not blank) and dumped as DOM, in which every expected
# chart is counted: one bar chart per network with a bar per net/
# benchmark, one roofline per layer with a point per kernel that has
# FLOP and byte counters, a winner row per layer, and for the database a
# history chart per network with a point per (run, benchmark). The
# expected charts come from the JSON (tests/report_check.py expect) and,
# for the database, from the rows this script inserts.
# usage: report_chromium.sh CNNK CNNK_BENCH SOURCE_DIR
# Exit 77 (ctest SKIP) without chromium, python3 or sqlite3.
set -u
cnnk=$1 bench=$2 src=$3
chromium=${CHROMIUM:-/usr/bin/chromium}
for tool in "$chromium" python3 sqlite3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (scripts/setup.sh installs chromium, python3 and sqlite3)"
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check="python3 $src/tests/report_check.py"
fails=0
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
W=1200 H=1600

# render NAME: HTML -> PNG and DOM with a profile of its own; the page needs
# no network, and Chromium gets none it could use (no proxy, no sandbox
# helper, no GPU).
render() {
  local name=$1
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/profile-$name" --window-size=$W,$H \
    --screenshot="$tmp/$name.png" "file://$tmp/$name.html" >"$tmp/$name.shot.log" 2>&1 ||
    fail "$name: chromium --screenshot failed: $(tail -3 "$tmp/$name.shot.log")"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$tmp/profile-$name" --dump-dom "file://$tmp/$name.html" \
    >"$tmp/$name.dom" 2>"$tmp/$name.dom.log" ||
    fail "$name: chromium --dump-dom failed: $(tail -3 "$tmp/$name.dom.log")"
  $check png "$tmp/$name.png" $W $H || fail "$name: screenshot"
  $check standalone "$tmp/$name.html" || fail "$name: the page is not self-contained"
}

# same NAME EXPECTED: the charts counted in the DOM are those expected.
same() {
  local name=$1 want=$2
  $check dom "$tmp/$name.dom" >"$tmp/$name.got"
  if ! diff -u "$want" "$tmp/$name.got" >"$tmp/$name.diff"; then
    fail "$name: charts differ from the expected (expected -, found +):"
    cat "$tmp/$name.diff"
  else
    echo "$name: $(wc -l <"$want") charts and tables as expected"
  fi
}

# 1. The checked-in results (docs/REPORT.md has the command that made them).
fixture=$src/tests/data/report_fixture.json
"$cnnk" report "$fixture" -o "$tmp/fixture.html" >/dev/null || fail "fixture: cnnk report exited $?"
$check expect "$fixture" >"$tmp/fixture.want"
grep -q '^bars ' "$tmp/fixture.want" && grep -q '^roofline ' "$tmp/fixture.want" ||
  fail "fixture: expected no charts (is $fixture cnnk-bench JSON?)"
render fixture
same fixture "$tmp/fixture.want"

# 2. A fresh run of this build's cnnk-bench: a layer through every kernel
# and ISA this CPU has, and the network's heuristic plans (few seconds).
if "$bench" --nets=resnet18 --input=32x32 --layers=layer1.0.conv1 \
     --benchmark_filter='^(layer/resnet18/layer1\.0\.conv1/cnnk/|net/resnet18/cnnk/[^/]+/heuristic)' \
     --benchmark_repetitions=2 --benchmark_min_time=0.001 \
     --benchmark_out="$tmp/live.json" --benchmark_out_format=json >/dev/null 2>"$tmp/live.err"; then
  "$cnnk" report "$tmp/live.json" -o "$tmp/live.html" >/dev/null || fail "live: cnnk report exited $?"
  $check expect "$tmp/live.json" >"$tmp/live.want"
  render live
  same live "$tmp/live.want"
else
  fail "live: cnnk-bench failed: $(tail -3 "$tmp/live.err")"
fi

# 3. A history database of the fixed schema (docs/REPORT.md), three runs:
# resnet50's heuristic in all three, its im2col plan in two, alexnet's in
# all three, one errored sample (no point), and layer rows in the last run
# only; the page's other sections draw that latest run.
sqlite3 "$tmp/history.db" <<'SQL' || fail "history: sqlite3 could not build the database"
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, revision TEXT NOT NULL, date TEXT NOT NULL, cpu_model TEXT NOT NULL,
  cpu_key TEXT NOT NULL, threads INTEGER NOT NULL, context TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, repetition INTEGER NOT NULL,
  real_time_ns REAL, cpu_time_ns REAL, counters TEXT, error TEXT);
CREATE INDEX samples_run ON samples(run_id, name);
PRAGMA user_version = 1;
INSERT INTO runs VALUES
  (1, 'aaaa111', '2026-11-28T10:00:00Z', 'Test CPU', 'Test CPU|avx2|32768|1048576|33554432', 1,
   '{"cnnk_peak_gflops_avx2":"100.00","cnnk_mem_bandwidth_gbs":"20.00","cnnk_threads":"1"}'),
  (3, 'cccc333', '2026-11-30T10:00:00Z', 'Test CPU', 'Test CPU|avx2|32768|1048576|33554432', 1,
   '{"cnnk_peak_gflops_avx2":"100.00","cnnk_mem_bandwidth_gbs":"20.00","cnnk_threads":"1"}'),
  (2, 'bbbb222', '2026-11-29T10:00:00Z', 'Test CPU', 'Test CPU|avx2|32768|1048576|33554432', 1,
   '{"cnnk_peak_gflops_avx2":"100.00","cnnk_mem_bandwidth_gbs":"20.00","cnnk_threads":"1"}');
INSERT INTO samples VALUES
  (1, 'net/resnet50/cnnk/avx2/heuristic', 0, 50e6, 50e6, '{"FLOPS":8.2e10}', NULL),
  (1, 'net/resnet50/cnnk/avx2/heuristic', 1, 52e6, 52e6, '{"FLOPS":7.9e10}', NULL),
  (1, 'net/resnet50/cnnk/avx2/fixed:im2col', 0, 60e6, 60e6, '{"FLOPS":6.8e10}', NULL),
  (1, 'net/alexnet/cnnk/avx2/heuristic', 0, 9e6, 9e6, '{"FLOPS":1.6e11}', NULL),
  (2, 'net/resnet50/cnnk/avx2/heuristic', 0, 45e6, 45e6, '{"FLOPS":9.1e10}', NULL),
  (2, 'net/resnet50/cnnk/avx2/fixed:im2col', 0, NULL, NULL, NULL, 'out of memory'),
  (2, 'net/alexnet/cnnk/avx2/heuristic', 0, 8.5e6, 8.5e6, '{"FLOPS":1.7e11}', NULL),
  (3, 'net/resnet50/cnnk/avx2/heuristic', 0, 44e6, 44e6, '{"FLOPS":9.3e10}', NULL),
  (3, 'net/resnet50/cnnk/avx2/fixed:im2col', 0, 58e6, 58e6, '{"FLOPS":7.0e10}', NULL),
  (3, 'net/alexnet/cnnk/avx2/heuristic', 0, 8.4e6, 8.4e6, '{"FLOPS":1.7e11}', NULL),
  (3, 'layer/resnet50/layer1.0.conv2/cnnk/avx2/direct', 0, 2e6, 2e6,
   '{"FLOPS":1.1e11,"exec_FLOPS":1.1e11,"bytes":1753088}', NULL),
  (3, 'layer/resnet50/layer1.0.conv2/cnnk/avx2/winograd_f4x4', 0, 1e6, 1e6,
   '{"FLOPS":2.3e11,"exec_FLOPS":6.2e10,"bytes":1753088}', NULL),
  (3, 'layer/resnet50/layer1.0.conv2/onednn/avx2/direct', 0, 1.5e6, 1.5e6,
   '{"FLOPS":1.5e11,"exec_FLOPS":1.5e11,"bytes":1753088}', NULL);
SQL
cat >"$tmp/history.want" <<'EOF'
bars alexnet 1
bars resnet50 2
history alexnet 3
history resnet50 5
roofline resnet50 layer1.0.conv2 3
winners 1
EOF
"$cnnk" report --db "$tmp/history.db" -o "$tmp/history.html" >/dev/null ||
  fail "history: cnnk report --db exited $?"
render history
same history "$tmp/history.want"
# Oldest first: the runs' dates order the x axis, not their ids.
axis=$(grep -o 'middle">[a-c]\{4\}[0-9]\{3\}<' "$tmp/history.html" | head -3 | tr -d '\n')
[ "$axis" = 'middle">aaaa111<middle">bbbb222<middle">cccc333<' ] ||
  fail "history: the first chart's revisions are not in date order: $axis"

[ -n "${REPORT_PNG_OUT:-}" ] && cp "$tmp/fixture.png" "$REPORT_PNG_OUT"
echo "report_chromium: $fails failed"
[ "$fails" -eq 0 ]

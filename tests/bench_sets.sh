#!/usr/bin/env bash
# cnnk-bench --main --set=classic|detseg|all (docs/BENCHMARKS.md, "--set"):
# bad values and misplaced flags exit 2 with one line; each set registers
# its networks (a detseg network this build lacks is skipped with a note),
# against the same oneDNN networks as the classifiers; a tiny real run prints the second table (input column,
# host steps, PyTorch n/a) after the classifiers' one, with the JSON's
# medians behind its ratio. Seconds.
# usage: bench_sets.sh CNNK_BENCH
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

expect2() { # expect2 PATTERN ARGS...: status 2, one stderr line matching PATTERN
  local pat=$1; shift
  count=$((count + 1))
  "$bench" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qE -- "$pat" "$tmp/err"; then
    fail "cnnk-bench $* -> status $rc, $lines stderr lines (want 2, 1 line matching '$pat'):"
    cat "$tmp/err"
  fi
}

expect2 "--set=bogus: unknown network set \(valid: classic, detseg, all\)" --main --set=bogus
expect2 "--set=detseg goes with --main" --set=detseg --benchmark_list_tests=true
expect2 "--nets: resnet18 is not in --set=detseg" --main --set=detseg --nets=resnet18
expect2 "--nets: fcn8s is not in --set=classic" --main --set=classic --nets=alexnet,fcn8s

# The sets' rows (the main job lists them, then finds no results file: the
# status is not the point here).
listing() { "$bench" --main --pytorch=off --benchmark_list_tests=true --out="$tmp/l.json" "$@" \
  2>"$tmp/lerr" | grep '^net/' | sed 's|/onednn/[a-z0-9_]*/|/onednn/|' | sort; }
detseg="fcn32s fcn16s fcn8s fcn_resnet50 spp_zf5 rcnn_alexnet fast_rcnn_vgg16 faster_rcnn_vgg16 yolov1_det"
classic="alexnet vgg16 googlenet resnet50 densenet121"
# Each network of the set either has its rows (cnnk, oneDNN direct) or,
# absent from this build, the note; never both, never neither.
listing --set=detseg >"$tmp/detseg"
for n in $detseg; do
  count=$((count + 1))
  rows=0 note=0
  grep -qx "net/$n/cnnk/[a-z0-9]*/heuristic" "$tmp/detseg" && grep -qx "net/$n/onednn/direct" "$tmp/detseg" &&
    rows=1
  grep -q "$n is not a network of this build; skipped" "$tmp/lerr" && note=1
  [ $((rows + note)) -eq 1 ] || fail "--set=detseg, $n: rows $rows, skip note $note (want one of them)"
done
count=$((count + 1))
[ "$(grep -c '/cnnk/' "$tmp/detseg")" -ge 8 ] &&
  ! grep -qE "net/($(echo $classic | tr ' ' '|'))/" "$tmp/detseg" ||
  fail "--set=detseg: $(grep -c /cnnk/ "$tmp/detseg") networks, or classifier rows"
count=$((count + 1))
listing --set=detseg --onednn_algo=auto | grep -qx "net/fcn8s/onednn/auto" ||
  fail "--set=detseg --onednn_algo=auto: no auto row of fcn8s"
count=$((count + 1))
listing >"$tmp/classic"
[ "$(grep -c '/cnnk/' "$tmp/classic")" -eq 5 ] && ! grep -q fcn8s "$tmp/classic" ||
  fail "--main without --set is not the five classifiers: $(grep /cnnk/ "$tmp/classic" | tr '\n' ' ')"
count=$((count + 1))
listing --set=all >"$tmp/all"
sort -u "$tmp/classic" "$tmp/detseg" | cmp -s - "$tmp/all" ||
  fail "--set=all is not classic + detseg: $(sort -u "$tmp/classic" "$tmp/detseg" | diff - "$tmp/all" | head -5)"

# A tiny real run of both tables (--nets mixing the sets, no --set: each
# network in its own table). spp_zf5 is not in torchvision: its PyTorch
# cell says so whatever the classifiers' column did (here a helper that
# fails at once, so that no PyTorch runs).
count=$((count + 1))
if "$bench" --main --nets=resnet18,spp_zf5 --input=64x64 --onednn_algo=direct \
  --benchmark_repetitions=2 --benchmark_min_time=0.001 --pytorch_python=/bin/false \
  --out="$tmp/ds.json" >"$tmp/table" 2>"$tmp/err"; then
  first=$(grep -n "^resnet18 " "$tmp/table" | cut -d: -f1)
  second=$(grep -n "^Segmentation and detection (--set=detseg):" "$tmp/table" | cut -d: -f1)
  third=$(grep -n "^spp_zf5 " "$tmp/table" | cut -d: -f1)
  [ -n "$first" ] && [ -n "$second" ] && [ -n "$third" ] && [ "$first" -lt "$second" ] &&
    [ "$second" -lt "$third" ] && [ "$(grep -c '^Segmentation and detection' "$tmp/table")" -eq 1 ] &&
    grep -qE "^spp_zf5 +64x64 +[0-9.]+ +[0-9.]+ direct +[0-9.]+ +n/a \(not in torchvision\)" "$tmp/table" &&
    grep -q "^  host steps (cnnk's reference kernels on both sides): spp5$" "$tmp/table" ||
    { fail "--main --nets=resnet18,spp_zf5: not the two tables:"; cat "$tmp/table"; }
  ratio=$(sed -n 's/^spp_zf5 .* direct *\([0-9.]*\) .*/\1/p' "$tmp/table")
  python3 - "$tmp/ds.json" "$ratio" <<'PY' || fail "the JSON of the two tables"
import json, sys
j = json.load(open(sys.argv[1]))
ctx = j["context"]
assert ctx["cnnk_main_set"] == "classic", ctx
assert ctx["onednn_fastest_spp_zf5"] == "direct" and ctx["onednn_fastest_resnet18"] == "direct", ctx
def median(name):
    rows = [b for b in j["benchmarks"] if b["run_name"] == name]
    assert len([b for b in rows if b["run_type"] == "iteration"]) == 2, name  # every repetition kept
    m = [b for b in rows if b.get("aggregate_name") == "median"]
    assert len(m) == 1, name
    return m[0]["cpu_time"]
c = median("net/spp_zf5/cnnk/%s/heuristic" % ctx["cnnk_main_isa"])
d = median("net/spp_zf5/onednn/%s/direct" % ctx["onednn_main_isa"])
assert abs(round(c / d, 2) - float(sys.argv[2])) < 0.0051, (c, d, sys.argv[2])
PY
else
  fail "--main --nets=resnet18,spp_zf5 failed: $(tail -3 "$tmp/err")"
fi

echo "$((count - fails)) of $count checks passed"
[ $fails -eq 0 ]

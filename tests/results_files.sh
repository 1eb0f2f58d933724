#!/usr/bin/env bash
# Results files (include/cnnk/outfile.h, docs/EXIT_CODES.md): `cnnk tune
# --out` and `cnnk-bench --main --out=` refuse, before any work, a
# destination that is not a results file (device, directory, FIFO, a link
# to one or to nothing, a missing directory, an empty or too long path)
# with status 2 and one line, and leave it as it was; a link to a regular
# file is written through (the link stays); a run whose benchmarks all
# failed exits 3 and one with some failed exits 2, and neither replaces
# the previous results.
# usage: results_files.sh CNNK CNNK_BENCH [sanitized]
# (sanitized: an ASan build, whose shadow memory an address-space limit
# breaks, so the out-of-memory cases are left out)
set -u
cnnk=$1 bench=$2 sanitized=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

tune() { "$cnnk" tune --net resnet18 --input 32x32 --reps 6 --net-alts 0 --threads 1 "$@"; }
# (--pytorch=off: the PyTorch column has its own tests in bench_cli.sh)
main() { "$bench" --main --nets=resnet18 --input=32x32 --benchmark_repetitions=1 \
           --benchmark_min_time=0.001 --pytorch=off "$@"; }

# refused PROG PATTERN ARGS...: status 2, one stderr line matching PATTERN,
# in well under the time the work takes (nothing ran: no "tuning" line).
refused() {
  local prog=$1 pat=$2; shift 2
  count=$((count + 1))
  "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qE -- "$pat" "$tmp/err" ||
     grep -q "^tuning\|start " "$tmp/out" "$tmp/err"; then
    fail "$(echo "$*" | cut -c1-100) -> status $rc, $lines stderr lines (want 2, 1 line matching '$pat', no work):"
    cat "$tmp/err"
  fi
}

mkdir "$tmp/dir"
mkfifo "$tmp/fifo"
ln -s /dev/null "$tmp/to-null"
ln -s "$tmp/nowhere.json" "$tmp/dangling"
ln -s "$tmp/dir" "$tmp/to-dir"
long="$tmp/$(printf 'x%.0s' $(seq 1 4100))"
for t in tune main; do
  if [ $t = tune ]; then run=tune; o() { echo --out; echo "$1"; }
  else run=main; o() { echo "--out=$1"; }
  fi
  for dev in /dev/null /dev/full; do
    refused $run "$dev: is a character device" $(o $dev)
  done
  refused $run "$tmp/dir: is a directory" $(o "$tmp/dir")
  refused $run "names a directory" $(o "$tmp/dir/")
  refused $run "$tmp/fifo: is a FIFO" $(o "$tmp/fifo")
  refused $run "link to /dev/null, which is a character device" $(o "$tmp/to-null")
  refused $run "link to $tmp/dir, which is a directory" $(o "$tmp/to-dir")
  refused $run "does not resolve" $(o "$tmp/dangling")
  refused $run "directory $tmp/missing: No such file" $(o "$tmp/missing/plan.json")
  refused $run "[0-9]+ characters, longer than the 4095 allowed" $(o "$long")
done
refused tune "empty path" --out ""
refused main "--out= needs a path" --out=
count=$((count + 1))
[ -c /dev/null ] && [ -c /dev/full ] || fail "a device was replaced"
[ -p "$tmp/fifo" ] && [ -L "$tmp/dangling" ] && [ ! -e "$tmp/nowhere.json" ] ||
  fail "a refused destination was changed"

# Through a link to a regular file: the file gets the results, the link stays.
echo old >"$tmp/plan.json"
ln -s plan.json "$tmp/plan-link"
count=$((count + 1))
if tune --out "$tmp/plan-link" >"$tmp/out" 2>"$tmp/err"; then
  [ -L "$tmp/plan-link" ] && grep -q '"layers"' "$tmp/plan.json" &&
    grep -q "wrote $tmp/plan.json (through the link $tmp/plan-link)" "$tmp/out" ||
    fail "tune through a link: $(ls -l "$tmp/plan-link") $(head -c 80 "$tmp/plan.json")"
  [ -z "$(ls -A "$tmp" | grep '\.tmp\.')" ] || fail "tune left a temporary: $(ls -A "$tmp")"
else
  fail "tune through a link failed: $(cat "$tmp/err")"
fi
echo '{"old": 1}' >"$tmp/res.json"
ln -s res.json "$tmp/res-link"
count=$((count + 1))
if main --out="$tmp/res-link" >"$tmp/out" 2>"$tmp/err"; then
  [ -L "$tmp/res-link" ] && grep -q '"benchmarks"' "$tmp/res.json" ||
    fail "--main through a link: $(ls -l "$tmp/res-link") $(head -c 80 "$tmp/res.json")"
else
  fail "--main through a link failed: $(tail -2 "$tmp/err")"
fi

if [ "$sanitized" != sanitized ]; then
# Every benchmark fails (out of memory under a 1.5 GB address-space
# limit): status 3, the previous results untouched, no temporary left.
echo '{"good": 1}' >"$tmp/good.json"
count=$((count + 1))
(ulimit -v 1500000; main --batch=64 --input=512x512 --out="$tmp/good.json") >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ] && grep -q "nothing was measured" "$tmp/err" && grep -qx '{"good": 1}' "$tmp/good.json" &&
  [ -z "$(ls -A "$tmp" | grep '\.tmp\.')" ] ||
  fail "--main with every benchmark failing -> status $rc: $(tail -1 "$tmp/err"); $(cat "$tmp/good.json")"
# Some fail: under a 650 MB address-space limit VGG-16's classifier.0
# (411 MB of weights, packed again) runs out of memory, features.0 does
# not: status 2; only the failing one selected: 3.
layers() { (ulimit -v 650000; "$bench" --nets=vgg16 --layers=features.0,classifier.0 --isa=ref \
             --benchmark_min_time=0.001 "$@") >"$tmp/out" 2>"$tmp/err"; }
count=$((count + 1))
layers --benchmark_filter='^layer/vgg16/.*/cnnk/ref/(direct|fc)$'
rc=$?
[ $rc -eq 2 ] && grep -q "1 of 2 benchmarks failed" "$tmp/err" ||
  fail "one benchmark of two out of memory -> status $rc: $(tail -2 "$tmp/err")"
count=$((count + 1))
layers --benchmark_filter='^layer/vgg16/classifier.0/cnnk/ref/fc$'
rc=$?
[ $rc -eq 3 ] && grep -q "1 of 1 benchmarks failed.*nothing was measured" "$tmp/err" ||
  fail "the only benchmark out of memory -> status $rc: $(tail -2 "$tmp/err")"
else
  echo "note: sanitized build: the out-of-memory cases are left out"
fi

echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ]

#!/usr/bin/env bash
# cnnk-bench's oneDNN flags and defaults (docs/BENCHMARKS.md,
# docs/ONEDNN_PEER.md): bad values exit 2 with one line naming what is
# valid; by default oneDNN is uncapped (its benchmarks are named by the
# CPU's best ISA, not by cnnk's) and times its direct convolutions; --main
# adds Winograd where oneDNN has it, and its table and JSON say which
# oneDNN network was faster and the ISA of both sides.
# usage: bench_cli.sh CNNK_BENCH CNNK
set -u
bench=$1 cnnk=$2
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

list() { # list ARGS...: the benchmark names, status 0
  "$bench" --nets=resnet18 --layers=conv1,layer1.0.conv1,maxpool "$@" \
    --benchmark_list_tests=true 2>"$tmp/err" | grep -v WARNING
}

# CSV would abort in Google Benchmark's writer (rows with different counters).
expect2 "benchmark_format=csv is not supported" --benchmark_format=csv --benchmark_list_tests=true
expect2 "benchmark_out_format=csv is not supported" --benchmark_out_format=csv --benchmark_list_tests=true

levels="all sse41 avx avx2 avx2_vnni avx512_mic avx512_mic_4ops avx512_core avx512_core_vnni avx512_core_bf16 avx512_core_amx"
expect2 "unknown oneDNN max isa 'avx3'" --onednn_max_isa=avx3 --benchmark_list_tests=true
for l in $levels; do
  count=$((count + 1))
  grep -q -- " $l[,)]" "$tmp/err" || fail "the --onednn_max_isa error does not list $l"
done
expect2 "refuses" --onednn_max_isa=avx512_mic --benchmark_list_tests=true
expect2 "unknown oneDNN convolution algorithm 'wino' \(valid: direct, winograd, auto\)" \
  --onednn_algo=wino --benchmark_list_tests=true
expect2 "at least one" --onednn_algo= --benchmark_list_tests=true

# Defaults: uncapped, direct only; convolutions named .../<algo>, other
# layers and nothing else not.
count=$((count + 1))
list >"$tmp/default" || fail "listing with the defaults failed"
isa=$(sed -n 's|^net/resnet18/onednn/\([a-z0-9_]*\)/direct$|\1|p' "$tmp/default")
[ -n "$isa" ] && [ "$isa" != all ] || fail "default oneDNN row not named by an effective ISA: '$isa'"
count=$((count + 1))
grep -qx "layer/resnet18/conv1/onednn/$isa/direct" "$tmp/default" &&
  grep -qx "layer/resnet18/maxpool/onednn/$isa" "$tmp/default" &&
  ! grep -q "onednn/.*/\(winograd\|auto\)" "$tmp/default" ||
  fail "default oneDNN names: $(grep onednn "$tmp/default" | tr '\n' ' ')"
# The default is no cap at all: the same ISA as an explicit "all".
count=$((count + 1))
list --onednn_max_isa=all >"$tmp/all" || fail "listing at all failed"
grep -qx "net/resnet18/onednn/$isa/direct" "$tmp/all" ||
  fail "default oneDNN ISA $isa is not the uncapped one: $(grep '^net/.*onednn' "$tmp/all")"
best=$("$cnnk" info | sed -n 's/^best isa: //p')

# A cap, in the environment variable's capitals, and every algorithm.
count=$((count + 1))
list --onednn_max_isa=AVX2 --onednn_algo=direct,winograd,auto >"$tmp/avx2" ||
  fail "listing at AVX2 failed: $(cat "$tmp/err")"
for a in direct winograd auto; do
  grep -qx "layer/resnet18/conv1/onednn/avx2/$a" "$tmp/avx2" &&
    grep -qx "net/resnet18/onednn/avx2/$a" "$tmp/avx2" || fail "no avx2/$a rows"
done

# --main: the table names both sides' ISA and which oneDNN network was
# faster; the JSON context says the same. At avx2 oneDNN has no Winograd,
# so only direct runs, and the table says why.
ctx() { # ctx FILE KEY VALUE-REGEX: the JSON has "KEY": "VALUE" (any spacing)
  grep -qE "\"$2\":[[:space:]]*\"($3)\"" "$1"
}
main() { # main OUT ARGS...
  local out=$1; shift
  "$bench" --main --nets=resnet18 --input=32x32 --benchmark_repetitions=1 \
    --benchmark_min_time=0.001 --out="$out" "$@" >"$tmp/table" 2>"$tmp/err"
}
count=$((count + 1))
if main "$tmp/avx2.json" --onednn_max_isa=avx2; then
  grep -q "against oneDNN .* at avx2 (max ISA avx2)" "$tmp/table" &&
    grep -q "no Winograd at this ISA" "$tmp/table" && ! grep -q "winograd ms" "$tmp/table" &&
    grep -qE "^resnet18 .* direct " "$tmp/table" ||
    { fail "--main at avx2:"; cat "$tmp/table"; }
  ctx "$tmp/avx2.json" onednn_fastest_resnet18 direct &&
    ctx "$tmp/avx2.json" cnnk_main_isa "$best" && ctx "$tmp/avx2.json" onednn_main_isa avx2 &&
    grep -q '"net/resnet18/onednn/avx2/direct"' "$tmp/avx2.json" ||
    fail "--main at avx2: JSON context"
  grep -q "^cnnk $best/heuristic" "$tmp/table" || fail "--main does not run cnnk's best ISA $best"
else
  fail "--main at avx2 failed: $(cat "$tmp/err" | tail -3)"
fi
# Uncapped: where oneDNN has Winograd (context onednn_winograd), both
# networks run and the faster one is named.
count=$((count + 1))
if main "$tmp/best.json"; then
  if ctx "$tmp/best.json" onednn_winograd yes; then
    grep -q "winograd ms" "$tmp/table" && grep -qE "^resnet18 .* (direct|winograd) " "$tmp/table" &&
      ctx "$tmp/best.json" onednn_fastest_resnet18 "direct|winograd" &&
      grep -q "\"net/resnet18/onednn/$isa/winograd\"" "$tmp/best.json" ||
      { fail "--main uncapped, with Winograd:"; cat "$tmp/table"; }
  else
    echo "note: oneDNN has no Winograd at $isa here: the Winograd half of --main is unchecked"
  fi
else
  fail "--main uncapped failed: $(cat "$tmp/err" | tail -3)"
fi

# Concat strategies (docs/ONEDNN_PEER.md, "Concats"): a bad one exits 2;
# by default a network with concats gets a copy row and an in-place row,
# one without concats only the copy row (the same network either way); a
# list chooses; --main's table marks an in-place winner with *, and its
# JSON names it .../inplace, and every network row counts concat bytes.
expect2 "unknown strategy 'moved' \(valid: copy, inplace\)" --onednn_concat=moved \
  --benchmark_list_tests=true
count=$((count + 1))
"$bench" --nets=googlenet,resnet18 --benchmark_list_tests=true 2>/dev/null |
  grep '^net/.*/onednn/' >"$tmp/cat" || true
[ "$(grep -c '^net/googlenet/onednn/[a-z0-9_]*/direct$' "$tmp/cat")" = 1 ] &&
  [ "$(grep -c '^net/googlenet/onednn/[a-z0-9_]*/direct/inplace$' "$tmp/cat")" = 1 ] &&
  [ "$(grep -c '^net/resnet18/onednn/' "$tmp/cat")" = 1 ] ||
  fail "default concat rows: $(tr '\n' ' ' <"$tmp/cat")"
count=$((count + 1))
"$bench" --nets=googlenet --onednn_concat=inplace --benchmark_list_tests=true \
  2>/dev/null | grep '^net/.*/onednn/' >"$tmp/cat" || true
[ "$(wc -l <"$tmp/cat")" = 1 ] && grep -q '/direct/inplace$' "$tmp/cat" ||
  fail "--onednn_concat=inplace rows: $(tr '\n' ' ' <"$tmp/cat")"
count=$((count + 1))
# (two repetitions: the cv aggregate of a counter that is 0 in both, e.g.
# concat_copy_bytes in place, is NaN in Google Benchmark's JSON; the table
# must still read it: core/gbjson.h)
if "$bench" --main --nets=googlenet --input=64x64 --onednn_max_isa=avx2 --benchmark_repetitions=2 \
  --benchmark_min_time=0.001 --out="$tmp/cat.json" >"$tmp/table" 2>"$tmp/err"; then
  grep -q '"net/googlenet/onednn/avx2/direct/inplace"' "$tmp/cat.json" &&
    grep -q '"net/googlenet/onednn/avx2/direct"' "$tmp/cat.json" &&
    grep -q '"concat_copy_bytes"' "$tmp/cat.json" &&
    ctx "$tmp/cat.json" onednn_fastest_googlenet "direct(/inplace)?" &&
    { ! ctx "$tmp/cat.json" onednn_fastest_googlenet "direct/inplace" ||
      grep -qE '^googlenet .* direct\* ' "$tmp/table"; } ||
    { fail "--main with concat strategies:"; cat "$tmp/table"; }
else
  fail "--main googlenet failed: $(tail -3 "$tmp/err")"
fi

# cnnk run takes the best ISA by default.
count=$((count + 1))
"$cnnk" run --net resnet18 --input 32x32 --iters 1 --threads 1 >"$tmp/run" 2>&1 &&
  grep -q "isa $best plan heuristic" "$tmp/run" || fail "cnnk run default ISA: $(tail -2 "$tmp/run")"

echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ]

#!/usr/bin/env bash
# cnnk-bench's oneDNN flags and defaults (docs/BENCHMARKS.md,
# docs/ONEDNN_PEER.md): bad values exit 2 with one line naming what is
# valid; by default oneDNN is uncapped (its benchmarks are named by the
# CPU's best ISA, not by cnnk's) and times its direct convolutions; --main
# adds Winograd where oneDNN has it, and its table and JSON say which
# oneDNN network was faster and the ISA of both sides; its PyTorch column
# measured, not installed, failed, timed out and off; a oneDNN row capped
# at avx2 reports its % of peak against the AVX2 peak, as cnnk's rows.
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

# --main's PyTorch column (docs/BENCHMARKS.md, "The PyTorch column"), on
# ResNet-18 at 32x32 (cnnk's AlexNet needs 224x224 for its 6x6 pooling):
# measured when /usr/bin/python3 has torch and torchvision, with the
# helper found from any working directory; "not installed" or "failed:
# <why>" otherwise, and the run still succeeds; --pytorch=off leaves it out.
pt_main() { # pt_main OUT ARGS...: run from $tmp, not the source tree
  local out=$1 abs
  shift
  abs=$(readlink -f "$bench")
  (cd "$tmp" && "$abs" --main --nets=resnet18 --input=32x32 --onednn_algo=direct \
    --benchmark_repetitions=3 --benchmark_min_time=0.001 --out="$out" "$@") >"$tmp/table" 2>"$tmp/err"
}
pt_none() { # pt_none JSON: no PyTorch rows in the results
  ! grep -q '"net/resnet18/pytorch/' "$1"
}
expect2 "--pytorch=maybe: want auto or off" --pytorch=maybe --benchmark_list_tests=true
expect2 "--pytorch_timeout=0: want seconds" --pytorch_timeout=0 --benchmark_list_tests=true
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  count=$((count + 1))
  # (four repetitions: the fewest cnnk compare can test)
  if pt_main "$tmp/pt.json" --benchmark_repetitions=4; then
    # The row: cnnk, direct, ratio, then PyTorch's median and cnnk / PyTorch.
    read -r c_ms p_ms p_ratio < <(awk '$1 == "resnet18" { print $2, $6, $7 }' "$tmp/table")
    grep -qE "PyTorch ms +/PyTorch" "$tmp/table" &&
      awk -v c="$c_ms" -v p="$p_ms" -v r="$p_ratio" 'BEGIN {
        e = 0.0005 + 0.005 / p + c * 0.005 / (p * p) # the printed figures rounding
        exit !(p > 0 && c > 0 && r > 0 && (r - c / p) ^ 2 <= e ^ 2) }' &&
      grep -q "^PyTorch [0-9].*eager, eval(), no_grad(), 1 thread" "$tmp/table" &&
      ctx "$tmp/pt.json" pytorch measured &&
      ctx "$tmp/pt.json" pytorch_layout_resnet18 "contiguous|channels_last" ||
      { fail "--main with PyTorch:"; cat "$tmp/table"; }
    # The JSON's rows: four repetitions on both clocks and their median,
    # which is the table's figure (one thread: the CPU time).
    /usr/bin/python3 - "$tmp/pt.json" "$p_ms" <<'PY' || fail "--main's PyTorch rows in the JSON"
import json, math, statistics, sys
doc = json.load(open(sys.argv[1]))
rows = [b for b in doc["benchmarks"] if b["run_name"] == "net/resnet18/pytorch/eager"]
reps = [b for b in rows if b["run_type"] == "iteration"]
med = [b for b in rows if b.get("aggregate_name") == "median"]
assert sorted(b["repetition_index"] for b in reps) == [0, 1, 2, 3], reps
assert all(b["cpu_time"] > 0 and b["real_time"] > 0 and b["time_unit"] == "ms"
           and b["iterations"] >= 1 and b["repetitions"] == 4 and b["thread_cpu_ms"] > 0
           for b in reps), reps
# (cJSON prints 15 significant digits when they read back within an ulp)
assert len(med) == 1 and math.isclose(med[0]["cpu_time"], statistics.median(b["cpu_time"] for b in reps),
                                      rel_tol=1e-13), med
assert abs(med[0]["cpu_time"] - float(sys.argv[2])) < 0.006, (med, sys.argv[2])
assert doc["context"]["pytorch_version"] and doc["context"]["torchvision_version"]
PY
    count=$((count + 1))
    "$cnnk" compare "$tmp/pt.json" "$tmp/pt.json" >"$tmp/cmp" 2>&1 &&
      grep -q "^net/resnet18/pytorch/eager " "$tmp/cmp" || fail "cnnk compare on PyTorch rows: $(tail -3 "$tmp/cmp")"
    count=$((count + 1))
    "$cnnk" report "$tmp/pt.json" -o "$tmp/pt.html" >/dev/null 2>&1 &&
      grep -q 'data-name="net/resnet18/pytorch/eager"' "$tmp/pt.html" || fail "cnnk report has no PyTorch bar"
  else
    fail "--main with PyTorch failed: $(tail -3 "$tmp/err")"
  fi
  # The helper alone: its JSON's fields, positive times, a failed network
  # reported in its entry while the others are measured.
  count=$((count + 1))
  /usr/bin/python3 scripts/torch-peer.py --nets resnet18,no_such_net --input 32x32 --reps 2 \
    --min-time 0 >"$tmp/helper.json" 2>"$tmp/err" || fail "torch-peer.py failed: $(tail -2 "$tmp/err")"
  /usr/bin/python3 - "$tmp/helper.json" <<'PY' || fail "torch-peer.py's JSON"
import json, statistics, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "measured" and j["threads"] == 1 and j["torch_threads"] == 1, j
assert j["batch"] == 1 and j["input"] == [32, 32] and j["clock"] == "cpu" and j["torch"], j
r = j["nets"]["resnet18"]
assert r["layout"] in ("contiguous", "channels_last"), r
assert set(r["probe_median_ms"]) == {"contiguous", "channels_last"}, r
assert min(r["probe_median_ms"].values()) == r["probe_median_ms"][r["layout"]], r
for k in ("cpu_ms", "thread_cpu_ms", "wall_ms"):
    assert len(r[k]) == 2 and all(t > 0 for t in r[k]), (k, r)
assert r["iterations"] == [1, 1] and r["median_ms"] == statistics.median(r["cpu_ms"]), r
assert "no_such_net" in j["nets"]["no_such_net"]["error"], j["nets"]["no_such_net"]
PY
else
  echo "note: /usr/bin/python3 cannot import torch and torchvision: the measured PyTorch column is unchecked"
fi
# Not installed: an interpreter without Debian's dist-packages (-S: no
# site module), and one that does not exist.
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' >"$tmp/notorch"
printf '#!/bin/sh\nexec sleep 60\n' >"$tmp/hangs"
chmod +x "$tmp/notorch" "$tmp/hangs"
count=$((count + 1))
if pt_main "$tmp/pt-none.json" --pytorch_python="$tmp/notorch"; then
  grep -qE "^resnet18 .* not installed +- " "$tmp/table" &&
    grep -q "^PyTorch: not installed: .*notorch: ModuleNotFoundError: No module named 'torch'" "$tmp/table" &&
    ctx "$tmp/pt-none.json" pytorch "not installed: [^\"]*" && pt_none "$tmp/pt-none.json" ||
    { fail "--main without torch:"; cat "$tmp/table"; }
else
  fail "--main without torch failed: $(tail -3 "$tmp/err")"
fi
count=$((count + 1))
pt_main "$tmp/pt-missing.json" --pytorch_python="$tmp/no-python" &&
  grep -q "^PyTorch: not installed: .*no-python: No such file or directory" "$tmp/table" ||
  fail "--main with a missing interpreter: $(tail -3 "$tmp/table")"
# Failed: the interpreter exits 1 with nothing; one that hangs is killed.
count=$((count + 1))
pt_main "$tmp/pt-false.json" --pytorch_python=/bin/false &&
  grep -qE "^resnet18 .* failed +- " "$tmp/table" &&
  grep -q "^PyTorch: failed: the helper exited with status 1" "$tmp/table" &&
  pt_none "$tmp/pt-false.json" || fail "--main with /bin/false: $(tail -3 "$tmp/table")"
count=$((count + 1))
start=$SECONDS
pt_main "$tmp/pt-hang.json" --pytorch_python="$tmp/hangs" --pytorch_timeout=2 &&
  grep -q "^PyTorch: failed: timed out after 2 s" "$tmp/table" && [ $((SECONDS - start)) -lt 40 ] &&
  ctx "$tmp/pt-hang.json" pytorch "failed: timed out after 2 s.*" ||
  fail "--main with a hanging helper ($((SECONDS - start)) s): $(tail -3 "$tmp/table")"
# Off: no column, no helper run (/bin/false would say failed), no rows.
count=$((count + 1))
pt_main "$tmp/pt-off.json" --pytorch=off --pytorch_python=/bin/false &&
  ! grep -q "PyTorch ms" "$tmp/table" && grep -q "^PyTorch: off (--pytorch=off)" "$tmp/table" &&
  ctx "$tmp/pt-off.json" pytorch off && pt_none "$tmp/pt-off.json" ||
  fail "--main --pytorch=off: $(tail -3 "$tmp/table")"

# cnnk run takes the best ISA by default.
count=$((count + 1))
"$cnnk" run --net resnet18 --input 32x32 --iters 1 --threads 1 >"$tmp/run" 2>&1 &&
  grep -q "isa $best plan heuristic" "$tmp/run" || fail "cnnk run default ISA: $(tail -2 "$tmp/run")"

# A oneDNN row's % of peak is against the peak of the ISA oneDNN runs at:
# capped at avx2 it shares cnnk's avx2 rows' denominator (before the fix
# it was the best ISA's, half as much on an AVX-512 CPU). The peak each
# row divided by is about 100 x exec_FLOPS / fma_util, the same in both
# rows.
if "$cnnk" info | grep -qE '^isa:.* avx2( |$)' && "$cnnk" info | grep -qE '^onednn: *[0-9]'; then
  count=$((count + 1))
  if "$bench" --nets=resnet18 --input=32x32 --isa=avx2 --onednn_max_isa=avx2 \
      --benchmark_filter='^layer/resnet18/layer1.0.conv1/(cnnk/avx2/im2col|onednn/avx2/direct)$' \
      --benchmark_min_time=0.001 --benchmark_out="$tmp/peak.json" --benchmark_out_format=json \
      >/dev/null 2>"$tmp/err"; then
    /usr/bin/python3 - "$tmp/peak.json" <<'PY' || fail "oneDNN at avx2: % of peak not against the AVX2 peak"
import json, sys
rows = {b["name"]: 100.0 * b["exec_FLOPS"] / b["fma_util"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
assert len(rows) == 2, rows
a, b = rows.values()
print("bench_cli: peaks of the two rows", rows)
# exec_FLOPS is Google Benchmark's rate (its own clock), fma_util ours over
# the timed loop: a few percent apart under load, a factor ~2 when wrong.
sys.exit(0 if abs(a - b) <= 0.2 * a else 1)
PY
  else
    fail "the avx2 peak run failed: $(tail -3 "$tmp/err")"
  fi
fi

echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ]

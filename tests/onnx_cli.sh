#!/usr/bin/env bash
# The ONNX and .npy flags of the command line (docs/ONNX.md): run --onnx
# with --input-npy/--output-npy, validate --onnx with --expect-npy (0 when
# it agrees, 1 when it does not), and exit 2 with one line naming the
# problem for every bad input. The models are tests/test_onnx.c's.
# usage: tests/onnx_cli.sh TEST_ONNX CNNK...
set -u
test_onnx=$1; shift
cnnk=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

"$test_onnx" --write-corpus "$tmp" >/dev/null || { echo "FAIL: test_onnx --write-corpus"; exit 1; }
m=$tmp/classifier.onnx # batch 2, 3 x 12 x 12 in, softmax over 10 out

# npy NAME SHAPE VALUES...: a float32 .npy of SHAPE (a Python tuple) whose
# values repeat the given 32-bit little-endian hex words.
npy() {
  local file=$1 shape=$2; shift 2
  local dims count
  dims=$(echo "$shape" | tr -d '() ' | sed 's/,$//')
  count=$(( ${dims//,/*} ))
  local hdr="{'descr': '<f4', 'fortran_order': False, 'shape': $shape, }"
  local total=$((10 + ${#hdr} + 1)) pad
  pad=$(( (64 - total % 64) % 64 ))
  hdr="$hdr$(printf '%*s' $pad '')"
  local len=$(( ${#hdr} + 1 ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%s\n' "$hdr"
    local i=0 n=$#
    local words=("$@")
    while [ $i -lt "$count" ]; do
      local wd=${words[$((i % n))]}
      printf "\\x${wd:6:2}\\x${wd:4:2}\\x${wd:2:2}\\x${wd:0:2}"
      i=$((i + 1))
    done; } >"$file"
}

status() { # status WANT ARGS...: the exit status is WANT, no crash
  local want=$1; shift
  count=$((count + 1))
  "${cnnk[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc -eq "$want" ] || { fail "cnnk $* -> $rc (want $want)"; cat "$tmp/err"; }
}

expect2() { # expect2 PATTERN ARGS...: status 2, one stderr line matching PATTERN
  local pat=$1; shift
  status 2 "$@"
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$lines" -ne 1 ] || ! grep -qE -- "$pat" "$tmp/err"; then
    fail "cnnk $*: want one stderr line matching '$pat', got:"; cat "$tmp/err"
  fi
}

npy "$tmp/x.npy" '(2, 3, 12, 12)' 3f000000 be800000 3f800000 3f400000 bf200000
status 0 run --onnx "$m" --input-npy "$tmp/x.npy" --output-npy "$tmp/out.npy" --isa ref \
  --plan ref --iters 1 --threads 1
[ -s "$tmp/out.npy" ] || fail "run --output-npy wrote nothing"
ls "$tmp" | grep -q '\.tmp' && fail "run --output-npy left a temporary file: $(ls "$tmp")"
head -c 8 "$tmp/out.npy" | od -c | grep -q 'N   U   M   P   Y' || fail "out.npy is not a .npy"
grep -a -q "'shape': (2, 10)" "$tmp/out.npy" || fail "out.npy's shape is not (2, 10)"
# the written output is what validate expects from the same input: 0
status 0 validate --onnx "$m" --input-npy "$tmp/x.npy" --expect-npy "$tmp/out.npy" --isa all --quiet
grep -q "passed, 0 failed" "$tmp/out" || fail "validate --expect-npy: $(cat "$tmp/out")"
# another output (uniform 0.1): a mismatch, 1, and the failing plan named
npy "$tmp/wrong.npy" '(2, 10)' 3dcccccd 3e4ccccd 3e99999a
status 1 validate --onnx "$m" --input-npy "$tmp/x.npy" --expect-npy "$tmp/wrong.npy" --quiet
grep -q "vs expected FAIL" "$tmp/err" || fail "validate mismatch: no 'vs expected FAIL' line"
# the model's own batch and size without --input-npy
status 0 run --onnx "$m" --iters 1 --threads 1
grep -q "total classifier 2x3x12x12" "$tmp/out" || fail "run --onnx: not the model's 2x3x12x12"
# --batch for a dynamic batch; a fixed one refuses another
status 0 run --onnx "$tmp/shape_chain.onnx" --batch 3 --iters 1 --threads 1
grep -q "total shape_chain 3x2x4x4" "$tmp/out" || fail "run --onnx --batch 3: $(tail -2 "$tmp/out")"
expect2 "fixed at 2" run --onnx "$m" --batch 3

# exit 2, one line
expect2 "cannot open" run --onnx "$tmp/none.onnx"
head -c 100 "$m" >"$tmp/cut.onnx"
expect2 "not an ONNX model" run --onnx "$tmp/cut.onnx"
expect2 "not an ONNX model" validate --onnx "$tmp/cut.onnx"
npy "$tmp/x8.npy" '(2, 3, 8, 8)' 3f000000
expect2 "the model takes 12x12|fixed at" run --onnx "$m" --input-npy "$tmp/x8.npy"
npy "$tmp/x1.npy" '(1, 3, 12, 12)' 3f000000
expect2 "fixed at 2" validate --onnx "$m" --input-npy "$tmp/x1.npy"
npy "$tmp/x4.npy" '(2, 4, 12, 12)' 3f000000
expect2 "4 channels" run --onnx "$m" --input-npy "$tmp/x4.npy"
npy "$tmp/x3d.npy" '(3, 12, 12)' 3f000000
expect2 "4 dimensions" run --onnx "$m" --input-npy "$tmp/x3d.npy"
npy "$tmp/e.npy" '(2, 7)' 3f000000
expect2 "network's output is 2 x 10" validate --onnx "$m" --input-npy "$tmp/x.npy" --expect-npy "$tmp/e.npy"
expect2 "--weights is for built-in" run --onnx "$m" --weights "$tmp"
# a corrupt .npy and a --weights directory that is not the network's
printf 'garbage' >"$tmp/bad.npy"
expect2 "bad.npy: not a .npy file" run --onnx "$m" --input-npy "$tmp/bad.npy"
expect2 "bad.npy: not a .npy file" validate --onnx "$m" --expect-npy "$tmp/bad.npy"
expect2 "weights: .*/no/such/dir: No such file" run --net resnet18 --weights "$tmp/no/such/dir" --iters 1
mkdir -p "$tmp/wempty"
expect2 "conv1.weight.npy: No such file" validate --net resnet18 --weights "$tmp/wempty"
expect2 "not both" run --onnx "$m" --net alexnet
expect2 "one network" validate --net alexnet --net vgg16 --expect-npy "$tmp/e.npy"
expect2 "" run --onnx "$m" --iters 1 --output-npy "$tmp/no/such/dir/out.npy"
expect2 "one --onnx" validate --onnx "$m" --onnx "$m"

echo "onnx_cli: $count checks, $fails failed"
[ $fails -eq 0 ]

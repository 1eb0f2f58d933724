#!/usr/bin/env bash
# ctest onnx_oracle: PyTorch as the whole-network oracle (docs/ORACLE.md).
# Usage: tests/onnx_oracle.sh CNNK_BINARY [BUILD_DIR]
#
# For each network of $CNNK_ORACLE_NETS (default "resnet50 googlenet
# densenet121", what CI runs; "all" for the 14), scripts/torch-oracle.py
# exports torchvision's model with seeded random weights to ONNX with
# PyTorch's logits for a seeded input (cached in $CNNK_ORACLE_CACHE or
# BUILD_DIR/oracle-cache, so only the first run pays for the export), then
#   cnnk validate --onnx model.onnx --input-npy input.npy --expect-npy logits.npy
# checks the reference plan and every plan (heuristic, each fixed strategy)
# of the ISAs below against PyTorch's logits, and (every network the script
# exports is one of cnnk's own)
#   cnnk validate --net NET --weights weights/ --input-npy ... --expect-npy ...
# checks the hand-written definition given torchvision's state_dict.
# The reference plan (ref/direct, double accumulation) runs in every case;
# $CNNK_ORACLE_ISA is passed to both as --isa: by default every SIMD ISA
# this CPU runs (`cnnk info`, e.g. avx2,avx512) and not the scalar ref
# kernels' own plans, which take three quarters of the time (resnet50:
# 169 s of 231 s at load 8-12) and are each checked against oneDNN per layer
# and against the reference plan per network elsewhere; CNNK_ORACLE_ISA=all
# adds them (docs/ORACLE.md). With
# $CNNK_ORACLE_LOG=DIR every plan's line (no --quiet) and the seconds go to
# DIR/NET.onnx.txt and DIR/NET.weights.txt (scripts/oracle-table.py reads them).
# $CNNK_ORACLE_SOURCES (default "onnx weights") picks the checks.
# $CNNK_ORACLE_INPUT (default the script's 224) is the input side, e.g. 96
# for fcn_resnet50 (CNNK_ORACLE_NETS=fcn_resnet50 CNNK_ORACLE_INPUT=96: its
# output is a 21 x H x W map, compared pixel by pixel, docs/ORACLE.md).
# Exit 77 (skipped) when /usr/bin/python3 lacks torch, torchvision or onnx.
set -uo pipefail
cnnk=$1
root=$(cd "$(dirname "$0")/.." && pwd)
export CNNK_ORACLE_CACHE=${CNNK_ORACLE_CACHE:-${2:-$root/build}/oracle-cache}
py=/usr/bin/python3
nets=${CNNK_ORACLE_NETS:-resnet50 googlenet densenet121}
isa=${CNNK_ORACLE_ISA:-}
sources=${CNNK_ORACLE_SOURCES:-onnx weights}
input=${CNNK_ORACLE_INPUT:-}
if ! [ -x "$py" ] || ! "$py" -c 'import torch, torchvision, onnx' 2>/dev/null; then
  echo "onnx_oracle: skipped: $py lacks torch, torchvision or onnx" \
       "(Debian: python3-torch python3-torchvision python3-onnx)"
  exit 77
fi
tmp=$(mktemp -d /tmp/onnx-oracle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086 # the list is words
"$py" "$root/scripts/torch-oracle.py" ${input:+--input "$input"} $nets >"$tmp/dirs" || { echo "FAILED: torch-oracle.py"; exit 1; }
if [ -z "$isa" ]; then
  isa=$("$cnnk" info | awk '$1 == "isa:" { for (i = 2; i <= NF; ++i) if ($i != "ref" && $i !~ /absent/) l = l (l ? "," : "") $i } END { print l }')
  isa=${isa:-ref}
fi
echo "onnx_oracle: --isa $isa (CNNK_ORACLE_ISA=all: every ISA's plans)"
fail=0 count=0
log=${CNNK_ORACLE_LOG:-}
quiet=(--quiet)
if [ -n "$log" ]; then mkdir -p "$log" && quiet=(); fi
run() { # run WHAT LOGNAME ARGS...: cnnk ARGS must exit 0
  local what=$1 name=$2 t0=$SECONDS; shift 2
  count=$((count + 1))
  "$cnnk" "$@" "${quiet[@]}" </dev/null >"$tmp/out" 2>&1
  local rc=$?
  [ -n "$log" ] && { echo "# cnnk $* (exit $rc, $((SECONDS - t0)) s)"; cat "$tmp/out"; } >"$log/$name.txt"
  if [ $rc -eq 0 ]; then
    echo "ok ($((SECONDS - t0)) s): $what"
  else
    fail=$((fail + 1))
    echo "FAILED (exit $rc, $((SECONDS - t0)) s): $what: cnnk $*"
    cat "$tmp/out"
  fi
}
while IFS=$'\t' read -r net dir; do
  io=(--input-npy "$dir/input.npy" --expect-npy "$dir/logits.npy")
  case " $sources " in *" onnx "*)
    run "$net from ONNX" "$net.onnx" validate --onnx "$dir/model.onnx" "${io[@]}" --isa "$isa";;
  esac
  case " $sources " in *" weights "*)
    run "$net built in, torchvision's weights" "$net.weights" validate --net "$net" \
        --weights "$dir/weights" "${io[@]}" --isa "$isa";;
  esac
done <"$tmp/dirs"
[ "$count" -gt 0 ] || { echo "FAILED: no network checked"; exit 1; }
echo "onnx_oracle: $((count - fail)) of $count passed"
[ $fail -eq 0 ]

#!/usr/bin/env bash
# ctest mca_scripts: scripts/mca-estimate.sh and scripts/mca-predict.sh on
# this build (docs/MCA.md). Usage: tests/mca_scripts.sh BUILD_DIR CNNK_BINARY
# Exit 77 (skipped) without llvm-mca-19 or on a non-x86 build.
set -uo pipefail
build=$1 cnnk=$2
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/llvm-mca-19 ] && [ -x /usr/bin/llvm-objdump-19 ] || { echo "no llvm-19: skipped"; exit 77; }
grep -q 'kernels/avx2/gemm.c' "$build/compile_commands.json" || { echo "no AVX2 kernels in this build: skipped"; exit 77; }
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }
tmp=$(mktemp -d /tmp/mca-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

est=("$root/scripts/mca-estimate.sh" --build "$build")
if grep -q -- '-fsanitize' "$build/compile_commands.json"; then
    # Instrumented loops are not the kernel's loops: refused, with a reason.
    "${est[@]}" kernels/avx2/gemm.c cnnk_gemm_ukernel_6x16__avx2 >"$tmp/out" 2>&1
    check "a sanitizer build is refused with status 2" '[ $? -eq 2 ] && grep -q "sanitizer build" "$tmp/out"'
else
    # The 6x16 k loop: 8 k steps x 12 FMAs x 8 lanes x 2 = 1536 FLOP in 96
    # FP instructions; two FMA pipes keep it near, never above, the peak.
    "${est[@]}" --tsv --mcpu znver4 kernels/avx2/gemm.c cnnk_gemm_ukernel_6x16__avx2 >"$tmp/out" 2>&1
    check "GEMM k loop: 1536 FLOP, 96 FP instructions, 80-100% of peak" \
        'awk -F"\t" "\$6 == 1536 && \$10 == 96 && \$9 >= 80 && \$9 <= 100 { ok = 1 } END { exit !ok }" "$tmp/out"'
    # --trips rebuilds the F(4x4) input transform of one 8-channel tile:
    # 2 x 6 one-dimensional transforms of 19 FLOP per lane = 1824 FLOP.
    "${est[@]}" --list --tsv kernels/avx2/winograd.c cnnk_wino_input_f4__avx2 >"$tmp/loops" 2>&1
    inner=$(awk -F'\t' '$8 == 1 && $6 == 152 { print $1, $10; exit }' "$tmp/loops")
    check "input F4: an innermost row loop of 152 FLOP inside the channel loop" '[ -n "$inner" ]'
    if [ -n "$inner" ]; then
        set -- $inner
        "${est[@]}" --tsv --mcpu znver4 --loop "$2" --trips "$1=6" kernels/avx2/winograd.c cnnk_wino_input_f4__avx2 >"$tmp/out" 2>&1
        check "input F4 with its row loop run 6 times: 1824 FLOP" 'awk -F"\t" "\$6 == 1824 { ok = 1 } END { exit !ok }" "$tmp/out"'
    fi
    # (A sanitizer build refuses before it looks for the function.)
    "${est[@]}" kernels/avx2/gemm.c no_such_function >"$tmp/out" 2>&1
    check "an unknown function: status 2 and a message" '[ $? -eq 2 ] && grep -q "no function no_such_function" "$tmp/out"'
fi
"${est[@]}" --trips x kernels/avx2/gemm.c cnnk_gemm_ukernel_6x16__avx2 >"$tmp/out" 2>&1
check "a malformed --trips: status 2" '[ $? -eq 2 ] && grep -q "wants LOOP=N" "$tmp/out"'

# mca-predict counts every layer's work: its MACs must add up to what
# `cnnk nets` says of the network (fixed rates: the sum does not use them).
mkdir -p "$tmp/plans"
"$cnnk" run --net alexnet --isa avx2 --threads 1 --iters 1 2>/dev/null | sed 's# avx2/# neon/#' >"$tmp/plans/alexnet.txt"
printf 'gemm\t15\tfixed\ndirect\t15\tfixed\nwino_input_f4\t100\tfixed\nwino_output_f4\t100\tfixed\n' >"$tmp/rates"
"$root/scripts/mca-predict.sh" --rates "$tmp/rates" --plans "$tmp/plans" alexnet >"$tmp/out" 2>&1
want=$("$cnnk" nets --format csv | awk -F, '$1 == "alexnet" { print $4 }')
check "alexnet: the plan's MACs add up to cnnk nets' $want GMACs" \
    'awk -v w="$want" "\$1 == \"alexnet\" && \$2 == w { ok = 1 } END { exit !ok }" "$tmp/out"'
"$root/scripts/mca-predict.sh" --rates "$tmp/rates" --plans "$tmp/plans" --mcpu znver4 alexnet >"$tmp/out" 2>&1
check "a core without a NEON peak: status 2" '[ $? -eq 2 ]'
[ $fail = 0 ] || { echo "mca_scripts: some checks failed"; exit 1; }
echo "mca_scripts: all checks passed"

#!/usr/bin/env bash
# Predicted whole-network time on one core, on paper: every layer of the
# plan the NEON heuristic picks, timed from llvm-mca's estimates of the
# NEON kernels' inner loops (scripts/mca-estimate.sh) and the layer's
# work; the layers without a multiply (pooling, batch-norm, LRN, ...) by
# the bytes they move at a stated bandwidth. Method and limits: docs/MCA.md.
#
#   scripts/mca-predict.sh [options] NET...
#   --mcpu CPU      llvm-mca core model (default neoverse-n1)
#   --ghz F         clock (default 3)
#   --bw GBS        one core's streaming bandwidth in GB/s (default 20)
#   --rates FILE    kernel rates (key, value, source; tab-separated), e.g.
#                   from an earlier --save-rates; default: measured now
#   --save-rates F  write the rates used to F
#   --plans DIR     read each net's `cnnk run` output from DIR/NET.txt
#                   instead of running it (see docs/MCA.md for both ways)
#   --layers        print every layer, not only the totals
#
# Plans come from the x86 build's AVX2 plan (`build/cnnk run`) with the ISA
# renamed: the heuristic (core/plan.c) chooses by shape alone, and every
# AVX2 algorithm has its NEON entry on the same shared drivers (checked
# against `cnnk run --isa neon` under qemu-aarch64: docs/MCA.md). Without
# an x86 build, from build-arm64 under qemu (1-2 minutes per network).
set -euo pipefail

die() { echo "mca-predict: $*" >&2; exit 2; }
usage() { sed -n '8,/--layers/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
mcpu=neoverse-n1 ghz=3 bw=20 rates="" save="" plans="" layers=0
while [ $# -gt 0 ]; do
    case $1 in
        --mcpu) [ $# -ge 2 ] || usage; mcpu=$2; shift 2 ;;
        --ghz) [ $# -ge 2 ] || usage; ghz=$2; shift 2 ;;
        --bw) [ $# -ge 2 ] || usage; bw=$2; shift 2 ;;
        --rates) [ $# -ge 2 ] || usage; rates=$2; shift 2 ;;
        --save-rates) [ $# -ge 2 ] || usage; save=$2; shift 2 ;;
        --plans) [ $# -ge 2 ] || usage; plans=$2; shift 2 ;;
        --layers) layers=1; shift ;;
        -h|--help) usage ;;
        --*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
num='^[0-9]+([.][0-9]+)?$'
[[ $ghz =~ $num ]] && [[ $bw =~ $num ]] || die "--ghz and --bw want positive numbers"
case $mcpu in
    neoverse-n1|neoverse-n2) peak=16 ;;
    neoverse-v1|neoverse-v2) peak=32 ;;
    *) die "no NEON peak known for $mcpu (neoverse-n1, -n2, -v1, -v2)" ;;
esac

tmp=$(mktemp -d /tmp/mca-predict.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- kernel rates -----------------------------------------------------------
# gemm, direct: FLOP/cycle of the inner loop. wino_{input,output}_fM:
# cycles per tile and 4-channel vector, from the channel loop's iteration
# with its row and column loops expanded (mca-estimate.sh --trips).
est() { "$root/scripts/mca-estimate.sh" --tsv --mcpu "$mcpu" "$@"; }
if [ -n "$rates" ]; then
    [ -f "$rates" ] || die "no rates file $rates"
    cp "$rates" "$tmp/rates"
else
    [ -f "$root/kernels/neon/gemm.c" ] || die "kernels/neon/ is not in this tree: pass --rates FILE"
    : >"$tmp/rates"
    est kernels/neon/gemm.c cnnk_gemm_ukernel_8x12__neon >"$tmp/e" || die "estimating the GEMM failed"
    printf 'gemm\t%s\tcnnk_gemm_ukernel_8x12__neon loop %s: %s cycles, %s FLOP\n' \
        "$(cut -f7 "$tmp/e")" "$(cut -f2 "$tmp/e")" "$(cut -f4 "$tmp/e")" "$(cut -f6 "$tmp/e")" >>"$tmp/rates"
    if [ -f "$root/kernels/neon/direct.c" ]; then
        est kernels/neon/direct.c "row" >"$tmp/e" || die "estimating the direct tile failed"
        printf 'direct\t%s\t%s loop %s: %s cycles, %s FLOP\n' "$(cut -f7 "$tmp/e")" "$(cut -f1 "$tmp/e")" \
            "$(cut -f2 "$tmp/e")" "$(cut -f4 "$tmp/e")" "$(cut -f6 "$tmp/e")" >>"$tmp/rates"
    fi
    if [ -f "$root/kernels/neon/winograd.c" ]; then
        for m in 2 4 6; do
            for dir in input output; do
                fn=cnnk_wino_${dir}_f${m}__neon
                est --list kernels/neon/winograd.c "$fn" >"$tmp/loops" || die "listing the loops of $fn failed"
                # One tile-vector's FLOP per lane from the factored 1-D
                # transforms (docs/WINOGRAD.md): input 2 alpha calls of
                # 4/19/38, output alpha + m calls of 4/13/30 plus bias and
                # residual adds on m^2 pixels. The loop whose iteration,
                # with its inner loops run m or alpha times, does exactly
                # this is the channel-vector loop; its trips follow.
                pick=$(awk -F'\t' -v m="$m" -v d="$dir" -f /dev/stdin "$tmp/loops" <<'EOF2'
{ id[NR] = $1; pf[$1] = $6; pi[$1] = $5; par[$1] = $10; n = NR }
# FLOP of one iteration of x with every inner loop c run t[c] times: the
# path holds one plain copy of c, replaced by t[c] expanded ones.
function E(x,   c, e) { e = pf[x]; for (c in par) if (par[c] == x && (c in t)) e += t[c] * E(c) - pf[c]; return e }
function under(c, L) { while ((c in par) && c != -1) { if (par[c] == L) return 1; c = par[c] } return 0 }
END {
    a = m + 2
    want = 4 * (d == "input" ? (m == 2 ? 4 : m == 4 ? 19 : 38) * 2 * a : (m == 2 ? 4 : m == 4 ? 13 : 30) * (a + m) + 2 * m * m)
    opt[1] = 1; opt[2] = m; opt[3] = a
    best = ""
    for (i = 1; i <= n; ++i) {
        L = id[i]; ns = 0
        for (j = 1; j <= n; ++j) if (under(id[j], L)) sub_[++ns] = id[j]
        if (ns > 6) continue
        for (code = 0; code < 3 ^ ns; ++code) {
            split("", t); c = code; tr = ""
            for (k = 1; k <= ns; ++k) { t[sub_[k]] = opt[c % 3 + 1]; c = int(c / 3)
                                        if (t[sub_[k]] > 1) tr = tr (tr ? "," : "") sub_[k] "=" t[sub_[k]] }
            if (E(L) == want && (best == "" || pi[L] < bpi)) { best = L "\t" tr; bpi = pi[L] }
        }
    }
    if (best == "") exit 1
    print best "\t" want
}
EOF2
) || die "no loop of $fn does one tile-vector's $dir transform (see mca-estimate.sh --list)"
                L=$(cut -f1 <<<"$pick") tr=$(cut -f2 <<<"$pick") want=$(cut -f3 <<<"$pick")
                est --loop "$L" ${tr:+--trips "$tr"} kernels/neon/winograd.c "$fn" >"$tmp/e" || die "estimating $fn failed"
                [ "$(cut -f6 "$tmp/e")" = "$want" ] || die "$fn: expanded loop has $(cut -f6 "$tmp/e") FLOP, not $want"
                printf 'wino_%s_f%s\t%s\t%s loop %s trips %s: %s FLOP per tile-vector, %s%% of peak, %s%% of the FP pipes\n' "$dir" "$m" \
                    "$(cut -f4 "$tmp/e")" "$fn" "$L" "${tr:-none}" "$want" "$(cut -f9 "$tmp/e")" "$(cut -f11 "$tmp/e")" >>"$tmp/rates"
            done
        done
    fi
fi
[ -z "$save" ] || cp "$tmp/rates" "$save"

# ---- plans ----------------------------------------------------------------
plan_of() { # net -> the `cnnk run` table with neon kernel names
    local net=$1
    if [ -n "$plans" ]; then
        [ -f "$plans/$net.txt" ] || die "no plan $plans/$net.txt"
        cat "$plans/$net.txt"
    elif [ -x "$root/build/cnnk" ]; then
        "$root/build/cnnk" run --net "$net" --isa avx2 --threads 1 --iters 1 | sed 's# avx2/# neon/#' \
            || die "cnnk run failed for $net"
    elif [ -x "$root/build-arm64/cnnk" ] && [ -f "$root/kernels/neon/table.c" ]; then
        qemu-aarch64 -L /usr/aarch64-linux-gnu "$root/build-arm64/cnnk" run --net "$net" --isa neon \
            --threads 1 --iters 1 || die "cnnk run under qemu failed for $net"
    else
        die "no plan source: build build-arm64 or build, or pass --plans DIR"
    fi
}

# ---- the model --------------------------------------------------------------
cat >"$tmp/model.awk" <<'EOF'
function ceil(x) { return x == int(x) ? x : int(x) + 1 }
function up(x, q) { return ceil(x / q) * q }
function dims(s, v) { return split(s, v, "x") }
FILENAME == RATES { rate[$1] = $2 + 0; next }
/^total / { next }
NF >= 4 && $0 ~ / -> / {
    name = $1; nin = dims($2, I); nout = dims($4, O)
    k = ""; kh = kw = 1; st = 1; kern = ""
    for (i = 5; i <= NF; ++i) {
        if ($i ~ /^k[0-9]+x[0-9]+$/) { k = substr($i, 2); split(k, K, "x"); kh = K[1]; kw = K[2] }
        else if ($i ~ /^s[0-9]+$/) st = substr($i, 2) + 0
        else if ($i ~ /\//) { kern = $i; break }
    }
    split(kern, KK, "/"); algo = KK[2]
    ic = I[1]; ih = I[2]; iw = I[3]; oc = O[1]; oh = O[2]; ow = O[3]
    macs = 0; cyc = 0; bytes = (ic * ih * iw + oc * oh * ow) * 4; how = ""
    if (KK[1] != "neon") { ++notneon; how = "not a NEON kernel: " kern }
    if (k != "" || algo == "fc") {
        macs = oc * oh * ow * ic * kh * kw; kk = ic * kh * kw
        if (algo == "fc") {
            macs = ic * ih * iw * oc; wbytes = macs * 4
            c1 = 2 * macs / rate["gemm"]; c2 = (wbytes + bytes) / bpc
            cyc = c1 > c2 ? c1 : c2; how = how (c2 > c1 ? "weights at bandwidth" : "GEMM rate")
        } else if (algo == "1x1" || algo == "im2col") {
            cyc = 2 * up(oh * ow, MR) * up(oc, NR) * kk / rate["gemm"]
            if (algo == "im2col") cyc += 2 * oh * ow * kk * 4 / bpc   # column block written, read
            how = how "GEMM " up(oh * ow, MR) "x" up(oc, NR) "x" kk
        } else if (algo ~ /^winograd_f/) {
            m = substr(algo, 11, 1) + 0; a = m + 2
            t = ceil(oh / m) * ceil(ow / m)
            if (!(("wino_input_f" m) in rate)) { ++missing; how = how "no transform rate F" m }
            cin = t * ceil(ic / 4) * rate["wino_input_f" m]
            cout = t * ceil(oc / 4) * rate["wino_output_f" m]
            cg = 2 * a * a * up(t, MR) * up(oc, NR) * ic / rate["gemm"]
            cyc = cin + cg + cout
            how = how sprintf("F%d: %d tiles, in %.0f%% gemm %.0f%% out %.0f%%", m, t, 100 * cin / cyc, 100 * cg / cyc, 100 * cout / cyc)
        } else if (algo == "direct") {
            if (!("direct" in rate)) { ++missing; how = how "no direct rate" }
            cyc = 2 * oh * ow * up(oc, DOC) * kk / rate["direct"]
            how = how "direct"
        } else { ++missing; how = how "unknown algorithm " algo }
    } else {
        cyc = bytes / bpc; how = how "bytes at bandwidth"
    }
    tm += macs; tc += cyc
    if (macs) conv += cyc; else other += cyc
    if (LAYERS) printf "  %-44s %-22s %9.3f ms  %s\n", name, kern, cyc / GHZ / 1e6, how
}
END {
    ms = tc / GHZ / 1e6; ideal = 2 * tm / PEAK / GHZ / 1e6
    printf "%s\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\n", NET, tm / 1e9, ms, conv / GHZ / 1e6, other / GHZ / 1e6, ideal, ms / ideal, missing, notneon
}
EOF

printf '# %s at %s GHz, %s FLOP/cycle peak, %s GB/s; kernel rates:\n' "$mcpu" "$ghz" "$peak" "$bw"
sed 's/^/#   /' "$tmp/rates"
[ $layers = 1 ] || printf '%-12s %7s %10s %9s %9s %12s %8s\n' net GMACs pred_ms conv_ms other_ms work/peak_ms ratio
bad=0
for net in "$@"; do
    [[ $net =~ ^[a-z0-9_]+$ ]] || die "not a network name: $net"
    plan_of "$net" >"$tmp/plan.$net"
    awk -v RATES="$tmp/rates" -v NET="$net" -v GHZ="$ghz" -v PEAK="$peak" -v LAYERS="$layers" \
        -v bpc="$(awk -v b="$bw" -v g="$ghz" 'BEGIN { print b / g }')" -v MR=8 -v NR=12 -v DOC=8 \
        -F'[ \t]+' -f "$tmp/model.awk" "$tmp/rates" "$tmp/plan.$net" >"$tmp/out.$net"
    if [ $layers = 1 ]; then echo "$net:"; sed '$d' "$tmp/out.$net"; fi
    tail -1 "$tmp/out.$net" | awk -F'\t' '{ printf "%-12s %7.3f %10.2f %9.2f %9.2f %12.2f %8.2f%s\n", $1, $2, $3, $4, $5, $6, $7,
        ($8 ? "  (" $8 " layers without a rate)" : "") ($9 ? "  (" $9 " non-NEON layers)" : "") }'
    tail -1 "$tmp/out.$net" | awk -F'\t' '$8 || $9 { exit 1 }' || bad=1
done
[ $bad = 0 ] || { echo "mca-predict: some layers had no NEON kernel or no rate: the figures above are incomplete" >&2; exit 1; }

#!/usr/bin/env bash
# Speed on paper: the hot inner loop of one kernel function, taken from the
# object code the project's own compile command produces, run through
# llvm-mca-19 for each given core model. Method and limits: docs/MCA.md.
#
#   scripts/mca-estimate.sh [options] FILE FUNCTION
#     FILE       a source file of the build, e.g. kernels/avx2/gemm.c
#     FUNCTION   a symbol in its object, e.g. cnnk_gemm_ukernel_6x16__avx2
#   --build DIR       build tree whose compile_commands.json gives the
#                     command (default: build-arm64 for kernels/neon/, else build)
#   --mcpu LIST       comma-separated llvm-mca CPUs (default: by triple,
#                     neoverse-n1,neoverse-n2,neoverse-v1,neoverse-v2 or
#                     sapphirerapids,znver4; znver5 is znver4's model in LLVM 19)
#   --loop N          analyse loop N of --list (default: the innermost loop
#                     whose heaviest iteration has the most FLOP)
#   --trips L=N,...   inner loops L of the analysed loop run N times per
#                     iteration (their heaviest path repeated; default once)
#   --list            list the function's loops and stop
#   --asm             print the extracted loop body
#   --view            print llvm-mca's full report (resources, bottlenecks)
#   --iterations N    llvm-mca iterations (default 1000)
#   --tsv             one tab-separated line per CPU, no header (for scripts)
#
# Output per CPU: cycles per loop iteration (llvm-mca total cycles /
# iterations), FLOP per iteration (FMA = 2 x lanes; add, sub, mul = lanes),
# FLOP/cycle against the core's FMA peak, and the FP-pipe figure (FP
# arithmetic instructions per iteration / FP pipes, over the cycles): for a
# loop of FMAs alone the two percentages are equal; for a transform of
# adds the second one says whether the FP pipes are the bound.
set -euo pipefail

die() { echo "mca-estimate: $*" >&2; exit 2; }
usage() { sed -n '5,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
build="" mcpus="" loop="" trips="" list=0 show_asm=0 view=0 iters=1000 tsv=0
while [ $# -gt 0 ]; do
    case $1 in
        --build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
        --mcpu) [ $# -ge 2 ] || usage; mcpus=$2; shift 2 ;;
        --loop) [ $# -ge 2 ] || usage; loop=$2; shift 2 ;;
        --trips) [ $# -ge 2 ] || usage; trips=$2; shift 2 ;;
        --iterations) [ $# -ge 2 ] || usage; iters=$2; shift 2 ;;
        --list) list=1; shift ;;
        --asm) show_asm=1; shift ;;
        --view) view=1; shift ;;
        --tsv) tsv=1; shift ;;
        -h|--help) usage ;;
        --*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -eq 2 ] || usage
src=$1 func=$2
[[ $iters =~ ^[1-9][0-9]*$ ]] || die "--iterations wants a positive integer, got '$iters'"
[ -z "$loop" ] || [[ $loop =~ ^[0-9]+$ ]] || die "--loop wants a loop number from --list, got '$loop'"
[ -z "$trips" ] || [[ $trips =~ ^[0-9]+=[1-9][0-9]*(,[0-9]+=[1-9][0-9]*)*$ ]] || die "--trips wants LOOP=N[,LOOP=N...], got '$trips'"
[[ $func =~ ^[A-Za-z_][A-Za-z0-9_.]*$ ]] || die "not a symbol name: '$func'"

MCA=${LLVM_MCA:-/usr/bin/llvm-mca-19}
OBJDUMP=${LLVM_OBJDUMP:-/usr/bin/llvm-objdump-19}
[ -x "$MCA" ] || die "$MCA not found (Debian package llvm-19); LLVM 14's llvm-mca has no Neoverse models"
[ -x "$OBJDUMP" ] || die "$OBJDUMP not found (Debian package llvm-19)"

case $src in /*) abs=$src ;; *) abs=$root/$src ;; esac
[ -f "$abs" ] || die "no such source file: $src"
if [ -z "$build" ]; then
    case $abs in */kernels/neon/*) build=build-arm64 ;; *) build=build ;; esac
fi
case $build in /*) ;; *) build=$root/$build ;; esac
db=$build/compile_commands.json
[ -f "$db" ] || die "$db not found: configure that build first (see docs/MCA.md)"

tmp=$(mktemp -d /tmp/mca-estimate.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- 1. the project's compile command for FILE, writing our own object ----
# CMake writes one entry per source: "directory", "command", "file",
# "output", each on its own line; the command's quotes come escaped.
awk -v want="$abs" '
    /^[ \t]*"directory":/ { d = $0; sub(/^[^:]*: *"/, "", d); sub(/",? *$/, "", d) }
    /^[ \t]*"command":/   { c = $0; sub(/^[^:]*: *"/, "", c); sub(/",? *$/, "", c) }
    /^[ \t]*"file":/      { f = $0; sub(/^[^:]*: *"/, "", f); sub(/",? *$/, "", f)
                            if (f == want) { gsub(/\\"/, "\"", c); gsub(/\\\\/, "\\", c)
                                             print d; print c; found = 1; exit } }
    END { exit found ? 0 : 1 }' "$db" >"$tmp/cmd" || die "$src is not in $db"
dir=$(sed -n 1p "$tmp/cmd")
cmd=$(sed -n 2p "$tmp/cmd")
case $cmd in *-fsanitize*) die "$build is a sanitizer build: its loops are instrumented; use a Release build" ;; esac
# Replace the object path; everything else (flags, defines, includes) stays.
cmd=$(printf '%s\n' "$cmd" | sed -E 's/ -o [^ ]+/ -o '"${tmp//\//\\/}"'\/k.o/')
(cd "$dir" && eval "$cmd") >"$tmp/cc.log" 2>&1 || { cat "$tmp/cc.log" >&2; die "the compile command failed"; }

# ---- 2. disassembly of FUNCTION and its loops ------------------------------
"$OBJDUMP" -d --no-show-raw-insn --disassemble-symbols="$func" "$tmp/k.o" >"$tmp/dis" 2>"$tmp/od.log" \
    || { cat "$tmp/od.log" >&2; die "llvm-objdump failed"; }
case $(sed -n 's/.*file format //p' "$tmp/dis" | head -1) in
    elf64-x86-64) arch=x86 triple=x86_64-linux-gnu defcpus=sapphirerapids,znver4 ;;
    elf64-littleaarch64) arch=arm triple=aarch64-linux-gnu defcpus=neoverse-n1,neoverse-n2,neoverse-v1,neoverse-v2 ;;
    *) die "unknown object format in $tmp/k.o" ;;
esac
[ -n "$mcpus" ] || mcpus=$defcpus
grep -q "<$func>:" "$tmp/dis" || die "no function $func in the object of $src (static functions may be inlined: name the exported one)"

# FLOP and FP-arithmetic counts per instruction, and the branch test, in one
# awk library shared by the loop list and the chosen body.
cat >"$tmp/lib.awk" <<'EOF'
function lanes_x86(ops, mn,   bits) {
    bits = ops ~ /%zmm/ ? 512 : ops ~ /%ymm/ ? 256 : 128
    if (mn ~ /s[sd]$/) return 1
    return mn ~ /pd$/ ? bits / 64 : bits / 32
}
function lanes_arm(ops,   r, t) {
    r = ops; sub(/,.*/, "", r)
    if (r ~ /^v[0-9]+\.[0-9]+[sdh]$/) { t = r; sub(/^v[0-9]+\./, "", t); return t + 0 }
    if (r ~ /^[sdh][0-9]+$/) return 1
    return 0
}
# FLOP of one instruction: 2 x lanes for a fused multiply-add, lanes for an
# add, subtract or multiply; max/min, abs, neg and moves count none.
function flop(mn, ops) {
    if (ARCH == "x86") {
        if (mn ~ /^vf(n)?m(add|sub)(132|213|231)(ps|pd|ss|sd)$/ || mn ~ /^vfm(addsub|subadd)(132|213|231)p[sd]$/)
            return 2 * lanes_x86(ops, mn)
        if (mn ~ /^v?(add|sub|mul)(ps|pd|ss|sd)$/) return lanes_x86(ops, mn)
        return 0
    }
    if (mn ~ /^(fmla|fmls)$/ || mn ~ /^f(n)?m(add|sub)$/) return 2 * lanes_arm(ops)
    if (mn ~ /^(fadd|fsub|fmul|faddp)$/) return lanes_arm(ops)
    return 0
}
function hex(s,   i, v) {
    v = 0; s = tolower(s); sub(/^0x/, "", s)
    for (i = 1; i <= length(s); ++i) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}
function is_branch(mn) {
    if (ARCH == "x86") return mn ~ /^j/
    return mn ~ /^(b|b\..*|cbz|cbnz|tbz|tbnz)$/
}
function is_cond(mn) { return ARCH == "x86" ? mn !~ /^jmp/ : mn != "b" }
# Ends a block with no fall-through: returns, indirect jumps, traps.
function is_end(mn) {
    if (ARCH == "x86") return mn ~ /^(ret|ud2|jmp)/
    return mn ~ /^(ret|br|brk|udf|b)$/
}
function target(ops,   t) {
    if (!match(ops, /0x[0-9a-f]+ </)) return -1
    t = substr(ops, RSTART, RLENGTH - 2)
    return hex(t)
}
EOF

# mawk (Debian's awk) takes no program text beside -f: each program goes
# to a file and runs after the library. Usage: lawk PROGRAM FILE [options].
lawk() {
    local prog=$1 file=$2; shift 2
    printf '%s\n' "$prog" >"$tmp/prog.awk"
    awk "$@" -f "$tmp/lib.awk" -f "$tmp/prog.awk" "$file"
}

# Instructions as "addr<TAB>mnemonic<TAB>operands" (addresses in decimal).
lawk '
    /^[0-9a-f]+ <.*>:$/ { infn = 1; next }
    infn && /^ *[0-9a-f]+:[ \t]/ {
        line = $0; sub(/^ */, "", line)
        addr = line; sub(/:.*/, "", addr)
        rest = line; sub(/^[0-9a-f]+:[ \t]*/, "", rest)
        if (rest == "") next
        mn = rest; sub(/[ \t].*/, "", mn)
        ops = rest; if (index(rest, "\t")) { sub(/^[^\t]*\t/, "", ops) } else ops = ""
        printf "%d\t%s\t%s\n", hex(addr), mn, ops
    }' "$tmp/dis" >"$tmp/insns"
[ -s "$tmp/insns" ] || die "no instructions disassembled for $func"

# Loops, from the function's control-flow graph: basic blocks split at
# branches and branch targets; a back edge (depth-first search) closes a
# loop at its target, the header; the loop's body is every block that reaches a latch without passing the
# header. One iteration is the heaviest path through the body from the
# header to a latch without back edges (most FLOP, then most
# instructions): in a transform that is an interior tile with full vectors,
# the iteration that does all the work. Inner loops on the path count once.
# Fields: loop, header address, end address, body blocks, path instructions,
# path FLOP, path FP instructions, innermost, branches on the path, the
# enclosing loop (-1: none). --list --tsv prints them as they are.
cfg_prog='
    { a[NR] = $1; mn[NR] = $2; op[NR] = $3; n = NR; at[$1] = NR }
    function addedge(u, v) { succ[u, ++ns[u]] = v; pred[v, ++np[v]] = u }
    function better(f1, i1, f2, i2) { return f1 > f2 || (f1 == f2 && i1 > i2) }
    END {
        lead[1] = 1
        for (i = 1; i <= n; ++i) {
            if (is_branch(mn[i])) { t = target(op[i]); if (t in at) lead[at[t]] = 1 }
            if ((is_branch(mn[i]) || is_end(mn[i])) && i < n) lead[i + 1] = 1
        }
        nb = 0
        for (i = 1; i <= n; ++i) {
            if (i in lead) bs[++nb] = i
            be[nb] = i; blk[i] = nb
            f = flop(mn[i], op[i]); bf[nb] += f; bp[nb] += (f > 0); bi[nb]++
        }
        for (b = 1; b <= nb; ++b) {
            l = be[b]; m = mn[l]
            if (is_branch(m)) {
                t = target(op[l]); if (t in at) addedge(b, blk[at[t]])
                if (is_cond(m) && b < nb) addedge(b, b + 1)
            } else if (!is_end(m) && b < nb) addedge(b, b + 1)
        }
        # Depth-first search from the entry: an edge to a block still on the
        # stack is a back edge (for the reducible graphs compilers emit,
        # exactly the loops); reverse postorder orders the rest.
        sp = 1; st[1] = 1; nx[1] = 0; state[1] = 1; cnt = 0
        while (sp > 0) {
            u = st[sp]
            if (nx[u] < ns[u]) {
                v = succ[u, ++nx[u]]
                if (state[v] == 1) back[u, v] = 1
                else if (!state[v]) { state[v] = 1; nx[v] = 0; st[++sp] = v }
            } else { state[u] = 2; post[u] = ++cnt; --sp }
        }
        for (b = 1; b <= nb; ++b) if (b in post) { rpo[b] = cnt - post[b] + 1; byrpo[rpo[b]] = b }
        # Loops by header; latches are the sources of back edges to it.
        nl = 0
        for (r = 1; r <= cnt; ++r) {
            b = byrpo[r]
            for (k = 1; k <= ns[b]; ++k) {
                h = succ[b, k]
                if (!((b, h) in back)) continue
                if (!(h in lid)) { lid[h] = ++nl; hd[nl] = h }
                L = lid[h]; lat[L, ++nlat[L]] = b
            }
        }
        for (L = 1; L <= nl; ++L) {
            h = hd[L]; body[L, h] = 1; sp = 0
            for (k = 1; k <= nlat[L]; ++k) st[++sp] = lat[L, k]
            while (sp > 0) {
                x = st[sp--]
                if ((L, x) in body) continue
                body[L, x] = 1
                for (k = 1; k <= np[x]; ++k) st[++sp] = pred[x, k]
            }
        }
        for (L = 1; L <= nl; ++L) { size[L] = 0; for (b = 1; b <= nb; ++b) if ((L, b) in body) ++size[L] }
        for (L = 1; L <= nl; ++L) {
            h = hd[L]; inner = 1; nbody = size[L]; parent = 0
            for (b = 1; b <= nb; ++b) if ((L, b) in body && b in lid && b != h) inner = 0
            # The enclosing loop: the smallest other loop whose body holds h.
            for (L2 = 1; L2 <= nl; ++L2)
                if (L2 != L && (L2, h) in body && (!parent || size[L2] < size[parent])) parent = L2
            # Heaviest path without back edges, blocks in reverse postorder.
            split("", df); split("", di); split("", par)
            df[h] = bf[h]; di[h] = bi[h]; par[h] = 0
            for (r = rpo[h] + 1; r <= cnt; ++r) {
                b = byrpo[r]
                if (!((L, b) in body)) continue
                for (k = 1; k <= np[b]; ++k) {
                    p = pred[b, k]
                    if (((p, b) in back) || !(p in df)) continue
                    if (!(b in df) || better(df[p] + bf[b], di[p] + bi[b], df[b], di[b])) {
                        df[b] = df[p] + bf[b]; di[b] = di[p] + bi[b]; par[b] = p
                    }
                }
            }
            best = 0
            for (k = 1; k <= nlat[L]; ++k) {
                u = lat[L, k]
                if ((u in df) && (!best || better(df[u], di[u], df[best], di[best]))) best = u
            }
            if (!best) continue
            np_ = 0; for (b = best; b; b = par[b]) tmpp[++np_] = b
            plen[L] = np_; for (k = 1; k <= np_; ++k) path[L, k] = tmpp[np_ - k + 1]
            pf = 0; pi = 0; pfp = 0; pbr = 0
            for (k = 1; k <= np_; ++k) { b = path[L, k]; pf += bf[b]; pi += bi[b]; pfp += bp[b]
                                         if (k < np_ && is_branch(mn[be[b]])) ++pbr }
            printf "%d\t%x\t%x\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", L - 1, a[bs[h]], a[be[best]], nbody, pi, pf, pfp, inner, pbr, parent - 1
        }
        if (want >= 0 && body_out != "") {
            ntr = split(trips, tl, ",")
            for (k = 1; k <= ntr; ++k) { split(tl[k], kv, "="); trip[kv[1] + 1] = kv[2] + 0 }
            print ".Lmca_loop:" > body_out
            emit(want + 1)
        }
    }
    # One iteration of loop L; an inner loop given --trips N runs its own
    # heaviest iteration N - 1 more times where the path enters it.
    function emit(L,   k, b, i, r, o) {
        for (k = 1; k <= plen[L]; ++k) {
            b = path[L, k]
            if ((b in lid) && lid[b] != L && trip[lid[b]] > 1 && plen[lid[b]])
                for (r = 1; r < trip[lid[b]]; ++r) emit(lid[b])
            for (i = bs[b]; i <= be[b]; ++i) {
                o = op[i]
                if (is_branch(mn[i])) sub(/0x[0-9a-f]+ <[^>]*>/, ".Lmca_loop", o)
                sub(/[ \t]*(#|\/\/) .*$/, "", o)
                print "\t" mn[i] (o == "" ? "" : "\t" o) > body_out
            }
        }
    }'
lawk "$cfg_prog" "$tmp/insns" -v ARCH="$arch" -v want=-1 -v body_out= -F'\t' >"$tmp/loops"
[ -s "$tmp/loops" ] || die "$func has no loop (no backward branch)"

if [ $list = 1 ]; then
    if [ $tsv = 1 ]; then cat "$tmp/loops"; exit 0; fi
    printf 'loops of %s (%s, compiled by %s); path = the heaviest iteration\n' "$func" "$src" "${build#"$root"/}"
    printf '%-5s %-8s %-8s %6s %10s %9s %13s %9s %13s %s\n' loop header end blocks path_insns path_FLOP path_fp_insns innermost path_branches parent
    awk -F'\t' '{ printf "%-5s %-8s %-8s %6d %10d %9d %13d %9s %13d %s\n", $1, $2, $3, $4, $5, $6, $7, $8 ? "yes" : "no", $9, $10 < 0 ? "-" : $10 }' "$tmp/loops"
    exit 0
fi

if [ -z "$loop" ]; then
    loop=$(awk -F'\t' '$8 && ($6 > best || !seen) { best = $6; pick = $1; seen = 1 } END { if (seen) print pick }' "$tmp/loops")
    [ -n "$loop" ] || die "no innermost loop found"
fi
sel=$(awk -F'\t' -v l="$loop" '$1 == l' "$tmp/loops")
[ -n "$sel" ] || die "no loop $loop (see --list)"
lo=$((16#$(cut -f2 <<<"$sel"))) hi=$((16#$(cut -f3 <<<"$sel")))
n_it=$(cut -f5 <<<"$sel") flop_it=$(cut -f6 <<<"$sel") fp_it=$(cut -f7 <<<"$sel")
lawk "$cfg_prog" "$tmp/insns" -v ARCH="$arch" -v want="$loop" -v body_out="$tmp/body.s" -v trips="$trips" -F'\t' >/dev/null
if [ -n "$trips" ]; then # the counts of the expanded body
    read -r n_it flop_it fp_it < <(lawk '
        /^\t/ { ++n; f = flop($2, $3); fl += f; fp += (f > 0) } END { print n, fl, fp }' "$tmp/body.s" -v ARCH="$arch" -F'\t')
fi
if [ $show_asm = 1 ]; then
    printf '# %s, loop %s: header 0x%x, heaviest path to 0x%x, %d instructions\n' "$func" "$loop" "$lo" "$hi" "$n_it"
    cat "$tmp/body.s"
fi

# ---- 3. llvm-mca per CPU -------------------------------------------------
# The core's FMA peak: FMA pipes x lanes of the loop's vector width x 2.
# x86 pipes are FMA-capable ports at the width the loop uses (AVX2 ymm on
# Sapphire Rapids and Zen 4/5: two 256-bit FMAs a cycle, 32 FLOP).
peak_of() { # cpu bits -> "pipes peak"
    case $1 in
        neoverse-n1|neoverse-n2) echo "2 16" ;;
        neoverse-v1|neoverse-v2) echo "4 32" ;;
        sapphirerapids|znver5) echo "2 $((2 * 2 * ($2 > 512 ? 512 : $2) / 32))" ;;
        znver4) echo "2 $((2 * 2 * ($2 > 256 ? 256 : $2) / 32))" ;;
        *) echo "" ;;
    esac
}
if [ $arch = x86 ]; then
    bits=$(awk '/%zmm/ { b = 512 } /%ymm/ && b < 256 { b = 256 } END { print b ? b : 128 }' "$tmp/body.s")
else
    bits=128
fi

IFS=, read -r -a cpus <<<"$mcpus"
for cpu in "${cpus[@]}"; do
    [ -n "$(peak_of "$cpu" "$bits")" ] || die "no peak known for -mcpu=$cpu (known: neoverse-n1/n2/v1/v2, sapphirerapids, znver4, znver5)"
done

[ $tsv = 1 ] || {
    printf '%s, loop %s (header 0x%x, path to 0x%x, %d instructions), %s, llvm-mca-19 %d iterations\n' \
        "$func" "$loop" "$lo" "$hi" "$n_it" "${src}" "$iters"
    printf '%-15s %9s %9s %9s %10s %6s %7s %8s %7s  %s\n' cpu cyc/iter rthru FLOP/iter FLOP/cyc peak '%peak' fp/iter '%pipes' bound
}
for cpu in "${cpus[@]}"; do
    pk=$(peak_of "$cpu" "$bits")
    pipes=${pk% *} peak=${pk#* }
    "$MCA" -mtriple="$triple" -mcpu="$cpu" -iterations="$iters" --bottleneck-analysis \
        "$tmp/body.s" >"$tmp/mca.$cpu" 2>"$tmp/mca.err" \
        || { cat "$tmp/mca.err" >&2; die "llvm-mca failed for $cpu"; }
    grep -q 'warning: .*not.*supported\|error:' "$tmp/mca.err" && { cat "$tmp/mca.err" >&2; die "llvm-mca complained for $cpu"; }
    awk -v cpu="$cpu" -v flop="$flop_it" -v fp="$fp_it" -v pipes="$pipes" -v peak="$peak" -v tsv="$tsv" \
        -v func="$func" -v loop="$loop" '
        /^Iterations:/ { it = $2 }
        /^Total Cycles:/ { cyc = $3 }
        /^Block RThroughput:/ { rt = $3 }
        function pct(s) { sub(/.*\[ */, "", s); sub(/%.*/, "", s); return s + 0 }
        /^Cycles with backend pressure increase/ { bp = pct($0) }
        /^  Resource Pressure/ { rp = pct($0); inres = 1; next }
        /^  Data Dependencies/ { dd = pct($0); inres = 0; next }
        inres && /^  - / { r = $2; p = pct($0); if (p > top) { top = p; topr = r } }
        /^Resources:/ { inname = 1; nr = 0; next }
        inname && /^\[/ { rn[++nr] = $3; next }
        inname { inname = 0 }
        /^Resource pressure per iteration:/ { getline; getline; for (i = 1; i <= NF; ++i) use[i] = ($i == "-" ? 0 : $i); nu = NF }
        END {
            c = cyc / it; fc = flop / c
            bu = 0; for (i = 1; i <= nu; ++i) if (use[i] > bu) { bu = use[i]; bn = rn[i] }
            bound = sprintf("busiest %s %.0f%%", bn, 100 * bu / c)
            if (bp != "") bound = bound sprintf("; stalls: resources %.0f%% (%s), data deps %.0f%%", rp, topr, dd)
            if (tsv) printf "%s\t%s\t%s\t%.3f\t%s\t%d\t%.2f\t%d\t%.1f\t%d\t%.1f\t%s\n", func, loop, cpu, c, rt, flop, fc, peak, 100 * fc / peak, fp, 100 * (fp / pipes) / c, bound
            else printf "%-15s %9.2f %9.2f %9d %10.2f %6d %6.1f%% %8d %6.1f%%  %s\n", cpu, c, rt, flop, fc, peak, 100 * fc / peak, fp, 100 * (fp / pipes) / c, bound
        }' "$tmp/mca.$cpu"
    if [ $view = 1 ]; then echo "---- llvm-mca -mcpu=$cpu"; cat "$tmp/mca.$cpu"; fi
done

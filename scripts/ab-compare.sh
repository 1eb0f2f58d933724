#!/usr/bin/env bash
# Two revisions of cnnk on the same networks, in one run, interleaved:
#
#   scripts/ab-compare.sh BASE_REV [NEW_REV] [--threads=1,2] [--rounds=3]
#                         [--nets=alexnet,...] [--isa=avx2] [--plan=heuristic]
#
# Builds each revision (git archive, Release) under /tmp/cnnk-ab/<rev>,
# then runs both builds' cnnk-bench on the networks' cnnk benchmarks in
# rounds, alternating which goes first (A B, B A, ...) so that drift in the
# machine's load falls on both alike. Each run is Google Benchmark's median
# of 3 repetitions; the table gives, per network and thread count, the
# median over rounds of each build and the ratio NEW / BASE (below 1: NEW is
# faster). One thread is timed in the thread's CPU time (robust on a shared
# machine), more threads in real time (CPU time would count one thread).
# NEW_REV defaults to HEAD. Used to show "no slowdown" for refactors.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
base_rev=${1:?usage: scripts/ab-compare.sh BASE_REV [NEW_REV] [--threads=1,2] [--rounds=3] [--nets=...]}
shift
new_rev=HEAD
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then new_rev=$1; shift; fi
threads=1,2 rounds=3 nets=alexnet,vgg16,googlenet,resnet50,densenet121 isa=avx2 plan=heuristic
for a in "$@"; do
  case $a in
    --threads=*) threads=${a#*=} ;;
    --rounds=*) rounds=${a#*=} ;;
    --nets=*) nets=${a#*=} ;;
    --isa=*) isa=${a#*=} ;;
    --plan=*) plan=${a#*=} ;;
    *) echo "ab-compare: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]?$ ]] || { echo "ab-compare: --rounds wants 1..99" >&2; exit 2; }

build_rev() {
  local rev sha dir
  rev=$1
  sha=$(git -C "$top" rev-parse --verify -q "$rev^{commit}") || { echo "ab-compare: no revision '$rev'" >&2; exit 2; }
  dir=/tmp/cnnk-ab/${sha:0:12}
  if [ ! -x "$dir/build/cnnk-bench" ]; then
    rm -rf "$dir" && mkdir -p "$dir/src"
    git -C "$top" archive "$sha" | tar -C "$dir/src" -x
    echo "ab-compare: building $rev (${sha:0:12})" >&2
    "$dir/src/scripts/build.sh" "$dir/build" -DCMAKE_BUILD_TYPE=Release
  fi
  echo "$dir/build/cnnk-bench"
}
bin_a=$(build_rev "$base_rev")
bin_b=$(build_rev "$new_rev")

# One run: prints "net threads ms" per network (the median aggregate).
run_one() {
  local bin=$1 t=$2 col
  [ "$t" -eq 1 ] && col=cpu || col=real
  "$bin" --isa="$isa" --plans="$plan" --nets="$nets" --threads="$t" \
    --benchmark_filter='^net/.*/cnnk/' --benchmark_repetitions=3 --benchmark_min_time=0.2 \
    --benchmark_report_aggregates_only=true --benchmark_format=console 2>/dev/null |
  awk -v t="$t" -v col="$col" '
    function ms(v, u) { return u == "ns" ? v / 1e6 : u == "us" ? v / 1e3 : u == "s" ? v * 1e3 : v }
    $1 ~ /_median$/ { split($1, p, "/"); print p[2], t, (col == "cpu" ? ms($4, $5) : ms($2, $3)) }'
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; ++r)); do
  for t in ${threads//,/ }; do
    if (( r % 2 )); then order="a b"; else order="b a"; fi
    for w in $order; do
      if [ "$w" = a ]; then bin=$bin_a; else bin=$bin_b; fi
      run_one "$bin" "$t" | sed "s/^/$w /" >>"$results"
      echo "ab-compare: round $r/$rounds, $t thread(s), $w done" >&2
    done
  done
done

echo "base $base_rev = A, new $new_rev = B; isa $isa, plan $plan; median over $rounds interleaved rounds"
echo "(each a median of 3 repetitions); 1 thread: CPU time, more: real time"
printf '%-13s %7s %10s %10s %8s\n' network threads "A ms" "B ms" "B/A"
sort -k2,2 -k3,3n -k1,1 "$results" | awk '
  function median(s,   n, v, i, j, x) {
    n = split(s, v, " ")
    for (i = 2; i <= n; ++i) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; --j) v[j + 1] = v[j]; v[j + 1] = x }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { k = $2 " " $3; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } vals[$1, k] = vals[$1, k] " " $4 }
  END {
    lr = 0
    for (i = 1; i <= nk; ++i) {
      split(keys[i], kk, " "); a = median(vals["a", keys[i]]); b = median(vals["b", keys[i]])
      printf "%-13s %7d %10.2f %10.2f %8.3f\n", kk[1], kk[2], a, b, b / a
      lr += log(b / a)
    }
    if (nk) printf "%-13s %7s %10s %10s %8.3f\n", "geomean", "", "", "", exp(lr / nk)
  }'

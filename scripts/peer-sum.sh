#!/usr/bin/env bash
# A network's oneDNN time from its layer rows against its network row
# (issue 17; docs/ONEDNN_PEER.md, "Layer rows and network rows").
#   scripts/peer-sum.sh NET [MARGIN_PCT] [cnnk-bench flags...]
# Runs cnnk-bench's oneDNN rows of NET (layer rows and the copy network,
# direct convolutions, the same primitives: test_onednn_peer checks that),
# then sums every layer row's median x layers_in_net, adds the network's
# steps without layer rows (input, layout and output reorders, concats,
# batch-norm/ReLU/add steps: the *_ms counters of the network row) and compares with the network row's
# median. Exit 0 within MARGIN_PCT (default 20), 1 beyond, 2 unusable.
# A benchmark, not a test: it times, so it is run by hand, not by ctest.
# Needs Debian's /usr/bin/python3 (standard library only).
set -u
[ $# -ge 1 ] || { echo "usage: $0 NET [MARGIN_PCT] [cnnk-bench flags...]" >&2; exit 2; }
net=$1; shift
margin=${1:-20}; [ $# -ge 1 ] && shift
bench=${CNNK_BENCH:-build/cnnk-bench}
[ -x "$bench" ] || { echo "$0: no $bench (build first, or set CNNK_BENCH)" >&2; exit 2; }
out=$(mktemp --suffix=.json) log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
"$bench" --nets="$net" --onednn_algo=direct --onednn_concat=copy \
  --benchmark_filter="^(layer|net)/$net/[^/]*/?onednn/[^/]*/?(direct)?$|^layer/$net/.*/onednn/" \
  --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@" >/dev/null 2>"$log" ||
  { tail -n 5 "$log" >&2; exit 2; }
/usr/bin/python3 - "$out" "$net" "$margin" <<'PY'
import json, statistics, sys
path, net, margin = sys.argv[1], sys.argv[2], float(sys.argv[3])
try:
    runs = [b for b in json.load(open(path))["benchmarks"] if b.get("run_type") == "iteration"]
except (OSError, ValueError, KeyError) as e:
    print(f"peer-sum: unusable results {path}: {e}", file=sys.stderr); sys.exit(2)
def ms(b):
    t = b["real_time"] if b["run_name"].endswith("/real_time") else b["cpu_time"]
    return t * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
by = {}
for b in runs:
    if b.get("error_occurred"):
        print(f"peer-sum: {b['name']} failed: {b.get('error_message')}", file=sys.stderr); sys.exit(2)
    by.setdefault(b["run_name"], []).append(b)
layers = 0.0; nlayers = 0; netrow = None
for name, bs in by.items():
    med = statistics.median(ms(b) for b in bs)
    if name.startswith(f"layer/{net}/"):
        k = bs[0]["layers_in_net"]; layers += med * k; nlayers += int(k)
    elif name.startswith(f"net/{net}/onednn/"):
        roles = {r: statistics.median(b[r] for b in bs) for r in
                 ("input_reorder_ms", "reorder_ms", "concat_ms", "output_reorder_ms",
                  "other_ms")}
        netrow = (name, med, roles)
if netrow is None or nlayers == 0:
    print("peer-sum: no network row or no layer rows in the results", file=sys.stderr); sys.exit(2)
name, total, roles = netrow
other = sum(roles.values())
est = layers + other
diff = 100.0 * (est - total) / total
print(f"{name}: {total:.2f} ms (median of 5)")
print(f"  {nlayers} layers from their rows: {layers:.2f} ms")
print("  steps that are not layers: " + ", ".join(f"{r[:-3]} {v:.2f}" for r, v in roles.items()) +
      f" = {other:.2f} ms")
print(f"  sum {est:.2f} ms: {diff:+.1f}% of the network row (margin {margin:g}%)")
sys.exit(0 if abs(diff) <= margin else 1)
PY

#!/usr/bin/env bash
# Mutation testing, on demand (not in CI; docs/TESTING.md): each patch of
# tests/mutants/*.patch is one realistic bug. For each, in a scratch copy
# of the tree: apply it, rebuild the targets its `Build:` line names, run
# the ctest tests its `Tests:` line selects (a ctest -R regex), undo it.
# A mutant is killed when a test fails; the kept set must be killed in full.
#
#   scripts/mutate.sh [PATCH...]        (default: every tests/mutants/*.patch)
#
# The scratch copy holds the tracked files as they are in the working tree
# (uncommitted edits included), so a patch is tried against what you have.
# Before any mutant, the unmutated tree must build and pass every selected
# test: a "kill" on a tree that already fails would prove nothing.
# Environment: CNNK_MUTATE_DIR (scratch directory, kept for a rerun; default
# a fresh mktemp directory, removed at the end), CNNK_MUTATE_JOBS (make
# jobs, default 2), CNNK_MUTATE_TIMEOUT (seconds per test, default 600).
# Exit status: 0 when every mutant was killed, 1 otherwise, 2 on a setup
# error (unmutated tree fails, a patch does not apply or does not build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${CNNK_MUTATE_JOBS:-2}
timeout=${CNNK_MUTATE_TIMEOUT:-600}
if [[ -n "${CNNK_MUTATE_DIR:-}" ]]; then
    scratch=$CNNK_MUTATE_DIR
    keep=1
else
    scratch=$(mktemp -d /tmp/cnnk-mutate.XXXXXX)
    keep=0
fi
src=$scratch/src
build=$scratch/build
log=$scratch/log
mkdir -p "$src" "$build" "$log"
cleanup() { [[ $keep == 1 ]] || rm -rf "$scratch"; }
trap cleanup EXIT

if (($#)); then patches=("$@"); else patches=("$root"/tests/mutants/*.patch); fi

field() { sed -n "s/^$2: //p" "$1" | head -n1; }

# The tracked files of the working tree, with their times, so a rerun in a
# kept CNNK_MUTATE_DIR rebuilds only what changed since.
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -C "$src" -xf -

echo "mutate: scratch $scratch"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$log/configure.txt" 2>&1 ||
    { cat "$log/configure.txt"; exit 2; }

all_targets=() all_tests=()
for p in "${patches[@]}"; do
    read -ra t <<<"$(field "$p" Build)"
    all_targets+=("${t[@]}")
    all_tests+=("$(field "$p" Tests)")
done
mapfile -t all_targets < <(printf '%s\n' "${all_targets[@]}" | sort -u)
regex=$(printf '%s|' "${all_tests[@]}")
regex=${regex%|}

echo "mutate: baseline build of ${all_targets[*]}"
cmake --build "$build" -j"$jobs" --target "${all_targets[@]}" >"$log/baseline-build.txt" 2>&1 ||
    { tail -n 40 "$log/baseline-build.txt"; exit 2; }
echo "mutate: baseline tests ($regex)"
(cd "$build" && ctest -R "$regex" --timeout "$timeout" >"$log/baseline-tests.txt" 2>&1) ||
    { tail -n 40 "$log/baseline-tests.txt"; echo "mutate: the unmutated tree fails"; exit 2; }

killed=0 survived=0 total=0 setup_error=0
results=()
for p in "${patches[@]}"; do
    name=$(basename "$p" .patch)
    read -ra targets <<<"$(field "$p" Build)"
    tests=$(field "$p" Tests)
    total=$((total + 1))
    start=$SECONDS
    if ! patch -s -p1 -d "$src" --dry-run <"$p" >"$log/$name.patch.txt" 2>&1; then
        results+=("NOAPPLY  $name")
        setup_error=1
        continue
    fi
    patch -s -p1 -d "$src" <"$p"
    verdict=
    if ! cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$log/$name.build.txt" 2>&1; then
        verdict=NOBUILD
        setup_error=1
    elif (cd "$build" && ctest -R "$tests" --timeout "$timeout" >"$log/$name.tests.txt" 2>&1); then
        verdict=SURVIVED
        survived=$((survived + 1))
    else
        verdict=KILLED
        killed=$((killed + 1))
    fi
    patch -s -R -p1 -d "$src" <"$p"
    failed=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) .*/\1/p' "$log/$name.tests.txt" 2>/dev/null | tr '\n' ' ' || true)
    line=$(printf '%-8s %-36s %4ds  %s' "$verdict" "$name" $((SECONDS - start)) "${failed:+by: $failed}")
    results+=("$line")
    echo "$line"
done

echo
echo "mutate: $killed of $total mutants killed, $survived survived (score $((100 * killed / total))%)"
for r in "${results[@]}"; do [[ $r == KILLED* ]] || echo "  $r"; done
# Leave the scratch build as the unmutated tree for a kept rerun.
[[ $keep == 1 ]] && cmake --build "$build" -j"$jobs" --target "${all_targets[@]}" >/dev/null 2>&1
((setup_error)) && exit 2
((survived)) && exit 1
exit 0

#!/usr/bin/env bash
# `cnnk report` on bad input (docs/REPORT.md, docs/EXIT_CODES.md): exit 2
# and one stderr line naming the problem, and the output page neither
# created nor, when it exists, changed: unreadable or malformed JSON, JSON
# without benchmarks or without net/ and layer/ ones, a database that is
# missing, not SQLite, of another schema version or of other tables, and
# usage errors. A good input then writes the page, and results without the
# bytes counter a page that says which rows have no roofline point.
# usage: report_bad_input.sh CNNK SOURCE_DIR
set -u
cnnk=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
out=$tmp/page.html

# refused PATTERN ARGS...: status 2, one line matching PATTERN, no page;
# then again over an existing page, which must stay as it was.
refused() {
  local pat=$1; shift
  for existing in no yes; do
    count=$((count + 1))
    rm -f "$out"
    [ $existing = yes ] && echo "previous page" >"$out"
    "$cnnk" report -o "$out" "$@" >"$tmp/stdout" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qE -- "$pat" "$tmp/err"; then
      fails=$((fails + 1))
      echo "FAIL: cnnk report $* -> status $rc, $lines stderr lines (want 2, 1 matching '$pat'):"
      cat "$tmp/err"
    fi
    if [ $existing = no ] && [ -e "$out" ]; then
      fails=$((fails + 1)); echo "FAIL: cnnk report $*: wrote $out"
    fi
    if [ $existing = yes ] && [ "$(cat "$out")" != "previous page" ]; then
      fails=$((fails + 1)); echo "FAIL: cnnk report $*: changed the existing $out"
    fi
    if ls -A "$tmp" | grep -q '^\.page\.html\.tmp'; then
      fails=$((fails + 1)); echo "FAIL: cnnk report $*: left a temporary file"
    fi
  done
}

printf '{"context": {}, "benchmarks": [' >"$tmp/truncated.json"
echo '{"context": {}, "benchmarks": []}' >"$tmp/empty.json"
echo '[1, 2, 3]' >"$tmp/array.json"
cat >"$tmp/pack_only.json" <<'JSON'
{"context": {}, "benchmarks": [{"name": "pack/resnet50/conv1/cnnk/avx2/im2col",
 "run_name": "pack/resnet50/conv1/cnnk/avx2/im2col", "run_type": "iteration",
 "real_time": 10.0, "cpu_time": 10.0, "time_unit": "us"}]}
JSON
echo 'not a database' >"$tmp/text.db"
schema="CREATE TABLE runs (id INTEGER PRIMARY KEY, revision TEXT NOT NULL, date TEXT NOT NULL,
  cpu_model TEXT NOT NULL, cpu_key TEXT NOT NULL, threads INTEGER NOT NULL, context TEXT NOT NULL);
CREATE TABLE samples (run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
  repetition INTEGER NOT NULL, real_time_ns REAL, cpu_time_ns REAL, counters TEXT, error TEXT);"
have_sqlite=0
if command -v sqlite3 >/dev/null; then
  have_sqlite=1
  sqlite3 "$tmp/v2.db" "$schema PRAGMA user_version = 2;"
  sqlite3 "$tmp/v0.db" "$schema"
  sqlite3 "$tmp/other.db" "CREATE TABLE results (x INTEGER); PRAGMA user_version = 1;"
  sqlite3 "$tmp/norun.db" "$schema PRAGMA user_version = 1;"
  sqlite3 "$tmp/badcounters.db" "$schema PRAGMA user_version = 1;
    INSERT INTO runs VALUES (1, 'r', '2026-11-30T00:00:00Z', 'cpu', 'k', 1, '{}');
    INSERT INTO samples VALUES (1, 'net/a/cnnk/avx2/heuristic', 0, 1e6, 1e6, '[1', NULL);"
fi

refused "cannot read .*missing.json" "$tmp/missing.json"
refused "not valid JSON" "$tmp/truncated.json"
refused "no benchmarks" "$tmp/empty.json"
refused "no benchmarks" "$tmp/array.json"
refused "no net/ or layer/ benchmarks" "$tmp/pack_only.json"
refused "cannot open" --db "$tmp/missing.db"
refused "not an SQLite database" --db "$tmp/text.db"
if [ $have_sqlite = 1 ]; then
  refused "schema version 2" --db "$tmp/v2.db"
  refused "schema version 0" --db "$tmp/v0.db"
  refused "not the history schema" --db "$tmp/other.db"
  refused "no runs" --db "$tmp/norun.db"
  refused "counters are not a JSON object" --db "$tmp/badcounters.db"
else
  echo "note: sqlite3 not found, the schema cases are left out"
fi
refused "give results" 
refused "unknown option" --frobnicate "$src/tests/data/report_fixture.json"
refused "needs a value" "$src/tests/data/report_fixture.json" --db
# A bad file among good ones still refuses the whole page.
refused "not valid JSON" "$src/tests/data/report_fixture.json" "$tmp/truncated.json"

count=$((count + 1))
rm -f "$out"
if ! "$cnnk" report "$src/tests/data/report_fixture.json" -o "$out" >/dev/null 2>"$tmp/err" ||
   ! grep -q '</html>' "$out"; then
  fails=$((fails + 1)); echo "FAIL: the fixture did not make a page: $(cat "$tmp/err")"
fi
# Results from before the bytes counter: a page, saying which rows have no point.
count=$((count + 1))
sed 's/"bytes": [0-9.e+]*,//' "$src/tests/data/report_fixture.json" >"$tmp/nobytes.json"
if grep -q '"bytes"' "$tmp/nobytes.json" ||
   ! "$cnnk" report "$tmp/nobytes.json" -o "$out" >/dev/null 2>"$tmp/err" ||
   ! grep -q '16 layer benchmarks with FLOPs but no <code>bytes</code>' "$out"; then
  fails=$((fails + 1)); echo "FAIL: results without bytes: no page or no note: $(cat "$tmp/err")"
fi
echo "report_bad_input: $count cases, $fails failed"
[ "$fails" -eq 0 ]

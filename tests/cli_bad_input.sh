#!/usr/bin/env bash
# Every bad input must give exit status 2 and exactly one line on stderr
# that names the problem, and never a crash (status >= 128) or a pass.
set -u
# The command line of cnnk: its path, behind an emulator in a cross build
# (cmake/cli_tests.cmake passes CMAKE_CROSSCOMPILING_EMULATOR first).
cnnk=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0

expect2() { # expect2 PATTERN ARGS...: status 2, one stderr line matching PATTERN
  local pat=$1; shift
  count=$((count + 1))
  "${cnnk[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qE -- "$pat" "$tmp/err"; then
    fails=$((fails + 1))
    echo "FAIL: cnnk $* -> status $rc, $lines stderr lines (want 2, 1 line matching '$pat'):"
    cat "$tmp/err"
  fi
}

v() { expect2 "$1" validate --isa ref --shape "$2"; }
v "ih"            'mb1ic3ih0oc4kh3'
v "sh=0"          'mb1ic1ih5oc1oh5kh3sh0'
v "kh=0"          '--deconv ic1ih5oc1oh5kh0'
v "no problem"    '# only a comment'
v "ic"            'mb1ic-3ih8oc4kh3'
v "sh"            'mb1ic3ih8oc4kh3sh0'
v "larger than"   'mb1ic3ih4oc4kh7'
v "padding"       '--pool mb1ic3ih8kh2ph2'
v "no output"     '--deconv mb1ic3ih1oc4kh2ph1'
v "oh=3"          'mb1ic3ih8oc4oh3kh3ph0'
v "g"             'g3mb1ic4ih8oc4kh3'
v "overflow|limit" 'mb1ic3ih99999999999999999999oc4kh3'
v "overflow|limit" 'mb4096ic4096ih4096oc4kh1'
v "unknown|key"   'mb1ic3ih8oc4kh3zz5'
v "duplicate"     'mb1ic3ic4ih8oc4kh3'
v "quote|\""      'mb1ic3ih8oc4kh3n"unterminated'
v "number|value"  'mb1icih8oc4kh3'
v "option|alg"    '--alg=bogus mb1ic3ih8oc4kh3'
v "3-D|3D|unsupported|id" 'mb1ic3id4ih8oc4kh3'
expect2 "ISA"      validate --isa sse9 --shape 'mb1ic3ih8oc4kh3'
expect2 "ISA"      validate --isa 'ref,' --shape 'mb1ic3ih8oc4kh3'
expect2 "algorithm" validate --algo '' --shape 'mb1ic3ih8oc4kh3'
expect2 "algorithm" validate --algo fast --shape 'mb1ic3ih8oc4kh3'
expect2 "unknown command" frobnicate
expect2 "No such file|cannot|open" validate --batch "$tmp/does-not-exist.txt"

printf 'mb1ic3ih8oc4kh3\n# fine\nmb1ic3ih8oc4kh3\nmb1ic3ih8oc4kh3 junk@@\n' >"$tmp/bad.txt"
expect2 ":4:" validate --batch "$tmp/bad.txt"
printf 'mb1ic3ih8oc4kh3\n\0garbage\n' >"$tmp/binary.txt"
expect2 "." validate --batch "$tmp/binary.txt"
printf '# nothing but comments\n\n' >"$tmp/empty.txt"
expect2 "no problem" validate --batch "$tmp/empty.txt"

# A run in which every case is skipped verified nothing: status 3
# (docs/EXIT_CODES.md), neither 0 nor a failed check's 1.
count=$((count + 1))
"${cnnk[@]}" validate --isa ref --algo winograd_f4x4 --shape 'mb1ic3ih8oc4kh5' >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 3 ] || ! grep -q "nothing was checked" "$tmp/err"; then
  fails=$((fails + 1)); echo "FAIL: an all-skipped run gave status $rc"; cat "$tmp/err"
fi

# One policy across the commands: an impossible size is bad input (2) in
# every command, and so is an ISA this CPU does not run, named explicitly.
for c in "validate --net resnet18" "tune --net resnet18" "run --net resnet18"; do
  expect2 "over the limit" $c --input 65536x65536
done
absent=$("${cnnk[@]}" info | sed -n 's/^isa: *//p' | tr ' ' '\n' | sed -n 's/(absent)$//p' | head -1)
if [ -n "$absent" ]; then
  expect2 "does not run ISA $absent" validate --isa "$absent" --shape 'mb1ic3ih8oc4kh3'
  expect2 "does not run ISA $absent" run --net resnet18 --isa "$absent"
  expect2 "does not run ISA $absent" tune --net resnet18 --isa "$absent"
fi

# Messages that say what is wrong (issue 16, finding 8): the argument that
# is out of range and the range, the system's reason, hex floats by name,
# numbers past int64 not echoed as INT64_MAX, one line.
expect2 "--count takes 1..1000000, not '2000000'" sweep --seed 1 --count 2000000
expect2 "--count takes 1..1000000, not '0'" sweep --count 0
expect2 "--seed takes a whole number" sweep --seed 99999999999999999999
expect2 "--batch takes 1..65536, not '99999999999999999999'" run --net resnet18 --batch 99999999999999999999
expect2 "--batch takes 1..65536, not '0'" tune --net resnet18 --batch 0
expect2 "--threads takes 1..[0-9]+, not '0'" run --net resnet18 --threads 0
for m in 0 2,,4 4, ,2 99999 x 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17; do
  expect2 "--model takes up to 16 thread counts" run --net resnet18 --model "$m"
done
expect2 "hexadecimal number for 'alpha'" validate --shape '--lrn mb1ic3ih8ls5alpha0x1p-3beta0.75k2'
mkdir -p "$tmp/adir"
expect2 "cannot read: Is a directory" validate --batch "$tmp/adir"
expect2 "tuned plan .*: cannot read: Is a directory" run --net resnet18 --plan "tuned:$tmp/adir"
expect2 "--reps \\(the most rounds per shape\\) takes 6 to 1000, not '1'" tune --net resnet18 --reps 1
for g in 51 -1 3%% abc 3x nan ""; do
  expect2 "--min-gain takes a percentage from 0 to 50" tune --net resnet18 --min-gain "$g"
done

# Another CPU's tuned plan (docs/TUNING.md): refused with what differs,
# used with --force (or the plan tuned-force:FILE).
if "${cnnk[@]}" tune --net resnet18 --input 32x32 --threads 1 --reps 6 --min-gain 5% --net-alts 0 \
     --out "$tmp/here.json" >/dev/null 2>&1; then
  sed 's/"model":[[:space:]]*"[^"]*"/"model": "Imaginary CPU 9000"/' "$tmp/here.json" >"$tmp/elsewhere.json"
  expect2 "measured on another CPU \\(model 'Imaginary CPU 9000' here" \
    run --net resnet18 --input 32x32 --threads 1 --plan "tuned:$tmp/elsewhere.json"
  for forced in "--plan tuned:$tmp/elsewhere.json --force" "--plan tuned-force:$tmp/elsewhere.json"; do
    count=$((count + 1))
    # shellcheck disable=SC2086
    if ! "${cnnk[@]}" run --net resnet18 --input 32x32 --threads 1 $forced >"$tmp/out" 2>"$tmp/err"; then
      fails=$((fails + 1)); echo "FAIL: run $forced refused: $(cat "$tmp/err")"
    fi
  done
else
  fails=$((fails + 1)); echo "FAIL: tune for the other-CPU case failed"
fi
expect2 "unknown format 'xml', valid: table, csv" nets --format xml
expect2 "unknown option '--net'" nets --net resnet18

echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ]

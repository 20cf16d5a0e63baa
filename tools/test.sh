#!/bin/sh
# Runs the unit tests and the black-box suite for one build directory and
# ends with the closing line "test: N passed, N failed".
# usage: tools/test.sh BUILD_DIR [pytest args...]
build=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

sh "$root/tools/run-unit.sh" "$root/$build"/tests/test_* | tee "$log"
unit_line=$(grep '^unit: ' "$log" | tail -1)
up=$(echo "$unit_line" | sed -n 's/^unit: \([0-9]*\) passed.*/\1/p')
uf=$(echo "$unit_line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')

NETRADRIVE_BIN="$root/$build/netradrive" FAKE_TELEGRAM_BIN="$root/$build/fake-telegram" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/api" "$@" > "$log" 2>&1
prc=$?
cat "$log"
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|no tests ran|[0-9]+ error' "$log" | tail -1)
pp=$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
pf=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
pe=$(echo "$summary" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+')
passed=$(( ${up:-0} + ${pp:-0} ))
failed=$(( ${uf:-0} + ${pf:-0} + ${pe:-0} ))
# pytest failing without a count we could read (collection error, -x) still fails.
[ "$prc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
# A run that executed nothing is a failure, not a success.
[ "$passed" -eq 0 ] && failed=$((failed + 1))
[ -z "$unit_line" ] && failed=$((failed + 1))
echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

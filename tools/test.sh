#!/bin/sh
# Runs the unit tests and the black-box suite for one build directory, then
# the file suites a second time with every server on the Telegram backend
# (NETRADRIVE_BACKEND=telegram: each against its own fake-telegram), then the
# whole suite (or the files of NETRADRIVE_PG_SUITES) a third time with every
# server on PostgreSQL (NETRADRIVE_DATABASE=postgres: a database each, on a
# throw-away cluster that tools/pg-cluster.sh starts on loopback and stops at the end, even on
# failure), and ends with the closing line "test: N passed, N failed" (all
# runs and the structure check added up).
# usage: tools/test.sh BUILD_DIR [pytest args...]   (the args go to both pytest runs)
build=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
pgdir=""
# The PostgreSQL cluster goes with the log, however the script ends.
trap 'rm -f "$log"; [ -n "$pgdir" ] && sh "$root/tools/pg-cluster.sh" stop "$pgdir"' EXIT
trap 'exit 130' INT TERM

# The suites that must pass on both backends (issue 4).
TELEGRAM_SUITES="test_files.py test_dedup.py test_sizes.py test_download.py test_shares.py
test_search.py test_storage_usage.py test_files_security.py test_url_upload.py
test_dav.py test_dav_litmus.py test_dav_rclone.py"

# test_migrate_cmd.py (migrate --from sqlite --to postgresql) runs once, in the
# first pass below (all of tests/api): it starts its own PostgreSQL cluster.
# The third pass runs the whole black-box suite on PostgreSQL (issue 13;
# test_nodes.py runs two nodes on one database and is skipped on SQLite).
# NETRADRIVE_PG_SUITES="test_x.py ..." narrows it to those files (.ci/run's
# sanitizer run does, to stay within its time).
PG_SUITES=${NETRADRIVE_PG_SUITES:-}

# Each pass runs its tests on NETRADRIVE_TEST_JOBS pytest-xdist workers (3 by
# default: most of a test's time is spent waiting on its servers, so three
# keep two cores busy); 0 runs them in this process, one after another.
jobs="-n ${NETRADRIVE_TEST_JOBS:-3}"

sh "$root/tools/run-unit.sh" "$root/$build"/tests/test_* | tee "$log"
unit_line=$(grep '^unit: ' "$log" | tail -1)
up=$(echo "$unit_line" | sed -n 's/^unit: \([0-9]*\) passed.*/\1/p')
uf=$(echo "$unit_line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')

# pytest_counts: sets pp, pf, pe from the summary line in $log.
pytest_counts() {
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|no tests ran|[0-9]+ error' "$log" | tail -1)
  pp=$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  pf=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  pe=$(echo "$summary" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+')
  pp=${pp:-0} pf=${pf:-0} pe=${pe:-0}
}

NETRADRIVE_BIN="$root/$build/netradrive" FAKE_TELEGRAM_BIN="$root/$build/fake-telegram" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider $jobs "$root/tests/api" "$@" > "$log" 2>&1
prc=$?
cat "$log"
pytest_counts
passed=$(( ${up:-0} + pp ))
failed=$(( ${uf:-0} + pf + pe ))
# pytest failing without a count we could read (collection error, -x) still fails.
[ "$prc" -ne 0 ] && [ "$pf" -eq 0 ] && [ "$pe" -eq 0 ] && failed=$((failed + 1))

# Second pass: the file suites on the Telegram backend.
suites=""
for s in $TELEGRAM_SUITES; do suites="$suites $root/tests/api/$s"; done
echo "== file suites on the Telegram backend (NETRADRIVE_BACKEND=telegram) =="
# shellcheck disable=SC2086
NETRADRIVE_BACKEND=telegram NETRADRIVE_BIN="$root/$build/netradrive" \
  FAKE_TELEGRAM_BIN="$root/$build/fake-telegram" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider $jobs $suites "$@" > "$log" 2>&1
trc=$?
cat "$log"
pytest_counts
echo "telegram backend: $pp passed, $((pf + pe)) failed"
passed=$(( passed + pp ))
failed=$(( failed + pf + pe ))
# rc 5 = everything deselected by the caller's pytest args: nothing to count.
[ "$trc" -ne 0 ] && [ "$trc" -ne 5 ] && [ "$pf" -eq 0 ] && [ "$pe" -eq 0 ] && failed=$((failed + 1))

# Third pass: PostgreSQL.
suites=""
for s in $PG_SUITES; do suites="$suites $root/tests/api/$s"; done
[ -z "$suites" ] && suites="$root/tests/api"
echo "== suites on PostgreSQL (NETRADRIVE_DATABASE=postgres) =="
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/netradrive-pg.XXXXXX")
start=$(date +%s)
if pgurl=$(sh "$root/tools/pg-cluster.sh" start "$pgdir"); then
  # shellcheck disable=SC2086
  NETRADRIVE_DATABASE=postgres NETRADRIVE_PG_URL="$pgurl" NETRADRIVE_PG_DIR="$pgdir" \
    NETRADRIVE_BIN="$root/$build/netradrive" FAKE_TELEGRAM_BIN="$root/$build/fake-telegram" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider $jobs $suites "$@" > "$log" 2>&1
  grc=$?
  cat "$log"
  pytest_counts
  # Unit tests with a PostgreSQL part (skipped in the unit pass above).
  if NETRADRIVE_PG_URL="$pgurl" "$root/$build/tests/test_cred_bus" > "$log" 2>&1; then
    passed=$((passed + 1))
  else
    cat "$log"; echo "test_cred_bus failed on PostgreSQL"; failed=$((failed + 1))
  fi
else
  echo "could not start a PostgreSQL cluster (tools/pg-cluster.sh)"
  grc=1 pp=0 pf=0 pe=0
fi
sh "$root/tools/pg-cluster.sh" stop "$pgdir"
pgdir=""
echo "postgresql: $pp passed, $((pf + pe)) failed in $(( $(date +%s) - start ))s"
passed=$(( passed + pp ))
failed=$(( failed + pf + pe ))
[ "$grc" -ne 0 ] && [ "$grc" -ne 5 ] && [ "$pf" -eq 0 ] && [ "$pe" -eq 0 ] && failed=$((failed + 1))

# The tree's shape: layers, call circles, file sizes (tools/check-structure.py).
if python3 "$root/tools/check-structure.py"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

# A run that executed nothing is a failure, not a success.
[ "$passed" -eq 0 ] && failed=$((failed + 1))
[ -z "$unit_line" ] && failed=$((failed + 1))
echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

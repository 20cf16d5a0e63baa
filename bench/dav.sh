#!/usr/bin/env bash
# WebDAV throughput and listing latency: NetraDrive's /dav/ (local storage,
# SQLite) against `rclone serve webdav` over a directory on the same
# filesystem, in one run, both driven by `rclone copy`:
#   - one big file (1 GiB) up, then down, ROUNDS times (3);
#   - 1,000 small files (16 KiB) up, then down, ROUNDS times: medians, the
#     servers' order alternating between rounds (rclone 1.60 starts a WebDAV
#     call at most every 10 ms, so with small files both run at its pace and
#     one round's ratio is within its timer's noise of 1.00);
#   - PROPFIND Depth: 1 of a 10,000-entry folder, RUNS times each (p50/p99).
# Prints MB/s (10^6 bytes/s), files/s, the ratio NetraDrive/rclone for each,
# and NetraDrive's RSS: after start-up and sign-up, the peak (VmHWM, reset
# after sign-up) and the largest VmRSS sampled every 0.2 s, to show memory
# stays flat while gigabytes pass through. Every rclone command is bounded by
# a timeout. The servers take turns at the same disk, one at a time.
#
# usage: bench/dav.sh
# env:   QUICK=1 (128 MiB, 200 small files, 2,000 entries, 10 runs, 1 round) or
#        BIG_MIB, SMALL_FILES, LIST_ENTRIES, RUNS, ROUNDS, TRANSFERS (rclone's, 4);
#        NETRADRIVE_BIN, BENCH_DIR (default /tmp)
# needs: build/netradrive (make), rclone, curl, python3
set -euo pipefail
if [ -n "${QUICK:-}" ]; then big_mib=128 small=200 entries=2000 runs=10 rounds=1
else big_mib=1024 small=1000 entries=10000 runs=20 rounds=3; fi
rounds=${ROUNDS:-$rounds}
big_mib=${BIG_MIB:-$big_mib}; small=${SMALL_FILES:-$small}
entries=${LIST_ENTRIES:-$entries}; runs=${RUNS:-$runs}
transfers=${TRANSFERS:-4}
. "$(dirname "$0")/lib.sh"
bench_need rclone curl
bench_workdir dav
rc_pid=""; sampler=""
bench_dav_cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$rc_pid" ] && kill "$rc_pid" 2>/dev/null || true
  bench_cleanup
}
trap bench_dav_cleanup EXIT

echo "bench: generating ${big_mib} MiB and $small small files"
mkdir -p "$work/src/big" "$work/src/small" "$work/rc" "$work/down"
head -c $((big_mib * 1048576)) /dev/urandom > "$work/src/big/big.bin"
/usr/bin/python3 - "$work/src/small" "$small" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(16384))
PY
# rclone serve caches directory listings: the listed folder exists before it starts.
mkdir -p "$work/rc/list"
for i in $(seq -f '%05g' 0 $((entries - 1))); do printf x > "$work/rc/list/entry $i.txt"; done

# --- NetraDrive, one user ---
nd_port=$(free_port)
PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn "$bin" serve &
nd_pid=$!
wait_http "http://127.0.0.1:$nd_port/healthz" || { echo "bench: NetraDrive did not start"; exit 1; }
curl -sf -XPOST "http://127.0.0.1:$nd_port/api/v1/auth/signup" -H 'Content-Type: application/json' \
  -d '{"username":"davbench","email":"davbench@example.com","password":"benchmark-pass"}' >/dev/null
# The first Basic login hashes the password (Argon2id): before the RSS baseline.
curl -sf -o /dev/null -u davbench:benchmark-pass -XPROPFIND -H 'Depth: 0' "http://127.0.0.1:$nd_port/dav/"
rss_start=$(awk '/VmRSS/ {print $2}' "/proc/$nd_pid/status")
echo 5 > "/proc/$nd_pid/clear_refs" 2>/dev/null || echo "bench: cannot reset VmHWM; the peak includes start-up"
( peak=0; while kill -0 "$nd_pid" 2>/dev/null; do
    v=$(awk '/VmRSS/ {print $2}' "/proc/$nd_pid/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && { peak=$v; echo "$peak" > "$work/rss_peak"; }
    sleep 0.2
  done ) &
sampler=$!

# --- rclone serve webdav over a directory on the same filesystem ---
rc_port=$(free_port)
rclone serve webdav "$work/rc" --addr "127.0.0.1:$rc_port" --user davbench --pass benchmark-pass \
  --log-level ERROR &
rc_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null -u davbench:benchmark-pass "http://127.0.0.1:$rc_port/" && break; sleep 0.1; done

export RCLONE_CONFIG_ND_TYPE=webdav RCLONE_CONFIG_ND_VENDOR=other RCLONE_CONFIG_ND_USER=davbench
export RCLONE_CONFIG_ND_URL="http://127.0.0.1:$nd_port/dav"
export RCLONE_CONFIG_RC_TYPE=webdav RCLONE_CONFIG_RC_VENDOR=other RCLONE_CONFIG_RC_USER=davbench
export RCLONE_CONFIG_RC_URL="http://127.0.0.1:$rc_port"
RCLONE_CONFIG_ND_PASS=$(rclone obscure benchmark-pass); export RCLONE_CONFIG_ND_PASS
export RCLONE_CONFIG_RC_PASS=$RCLONE_CONFIG_ND_PASS
export RCLONE_CONFIG=/dev/null

timed_copy() {   # src dst: seconds
  local t0 t1
  sync; t0=$(date +%s%N)
  timeout 900 rclone copy --transfers "$transfers" --log-level ERROR "$1" "$2"
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
: > "$work/res"
# Each round uploads into a new folder (r1, r2, ...) and downloads the first
# one again; the servers take turns, the order alternating between rounds.
for what in big small; do
  for r in $(seq "$rounds"); do
    order="rc nd"; [ $((r % 2)) = 0 ] && order="nd rc"
    for srv in $order; do
      t=$(timed_copy "$work/src/$what" "$srv:$what/r$r")
      echo "$srv $what up $t" >> "$work/res"
      echo "bench: round $r: $srv $what up ${t}s"
    done
    for srv in $order; do
      rm -rf "$work/down/$what"
      t=$(timed_copy "$srv:$what/r1" "$work/down/$what")
      echo "$srv $what down $t" >> "$work/res"
      echo "bench: round $r: $srv $what down ${t}s"
      diff -rq "$work/src/$what" "$work/down/$what" >/dev/null ||
        { echo "bench: $srv: downloaded $what differs"; exit 1; }
    done
  done
done
rss_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$nd_pid/status")

# --- PROPFIND Depth: 1 of a folder of $entries entries ---
echo "bench: making $entries entries on each server"
t0=$(date +%s)
/usr/bin/python3 - "$entries" "$nd_port" <<'PY'
import base64, http.client, os, sys, threading
n, port = int(sys.argv[1]), int(sys.argv[2])
auth = {"Authorization": "Basic " + base64.b64encode(b"davbench:benchmark-pass").decode()}
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("MKCOL", "/dav/list", headers=auth); c.getresponse().read()
def put(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(k, n, 4):
        c.request("PUT", f"/dav/list/entry%20{i:05d}.txt", body=b"x", headers=auth)
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
ts = [threading.Thread(target=put, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
echo "bench: $entries PUTs in $(( $(date +%s) - t0 ))s"
/usr/bin/python3 - "$nd_port" "$rc_port" "$entries" "$runs" >> "$work/res" <<'PY'
import base64, http.client, statistics, sys, time
nd, rc, n, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
auth = {"Authorization": "Basic " + base64.b64encode(b"davbench:benchmark-pass").decode(),
        "Depth": "1", "Content-Type": "application/xml"}
body = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
for name, port, path in (("rc", rc, "/list/"), ("nd", nd, "/dav/list/")):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        c.request("PROPFIND", path, body=body, headers=auth)
        r = c.getresponse(); data = r.read()
        dt = (time.perf_counter() - t0) * 1000
        assert r.status == 207 and data.count(b"<D:response>") + data.count(b"<d:response>") == n + 1, \
            (name, r.status, len(data))
        if i: times.append(dt)   # the first warms caches up
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    print(name, "propfind", statistics.median(times), p99, len(data))
PY
rss_peak=$(cat "$work/rss_peak" 2>/dev/null || echo 0)

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rclone $(rclone version | head -1 | cut -d' ' -f2), $transfers transfers; big: $big_mib MiB, small: $small x 16 KiB"
/usr/bin/python3 - "$work/res" "$big_mib" "$small" "$entries" <<'PY'
import sys
import statistics
res = {}
for l in open(sys.argv[1]):
    f = l.split()
    if f[1] != "propfind":
        res.setdefault(tuple(f[:3]), []).append(float(f[3]))
big, small, entries = int(sys.argv[2]) * 1048576, int(sys.argv[3]), int(sys.argv[4])
rounds = len(res[("rc", "big", "up")])
print(f"{'transfer (median of ' + str(rounds) + ')':<22} {'rclone serve':>14} {'NetraDrive':>14}"
      f" {'ratio':>7}  rounds NetraDrive won; seconds rclone / NetraDrive")
for what, unit in (("big", "MB/s"), ("small", "files/s")):
    for way in ("up", "down"):
        rcs, nds = res[("rc", what, way)], res[("nd", what, way)]
        rc, nd = statistics.median(rcs), statistics.median(nds)
        amount = big / 1e6 if what == "big" else small
        won = sum(n < r for r, n in zip(rcs, nds))
        each = ", ".join(f"{r:.2f}/{n:.2f}" for r, n in zip(rcs, nds))
        print(f"{what + ' ' + way:<22} {amount / rc:>9.1f} {unit:<4} {amount / nd:>9.1f} {unit:<4}"
              f" {rc / nd:>6.3f}x  {won} of {len(nds)}; {each}")
PY
/usr/bin/python3 - "$work/res" "$entries" <<'PY'
import sys
rows = {l.split()[0]: l.split() for l in open(sys.argv[1]) if l.split()[1] == "propfind"}
for name, label in (("rc", "rclone serve"), ("nd", "NetraDrive")):
    r = rows[name]
    print(f"PROPFIND depth 1, {sys.argv[2]} entries, {label:<12}: p50 {float(r[2]):7.1f} ms, "
          f"p99 {float(r[3]):7.1f} ms, {int(r[4]) / 1e6:.1f} MB")
PY
echo "NetraDrive RSS: $((rss_start / 1024)) MiB after sign-up; peak during the transfers (VmHWM)" \
  "$((rss_hwm / 1024)) MiB; largest sampled VmRSS over the run $((rss_peak / 1024)) MiB"

#!/usr/bin/env bash
# WebDAV uploads, A/B: `rclone copy` of small files (and optionally one big
# file) up to `rclone serve webdav` and to one or two NetraDrive builds, all
# running at once over the same filesystem, in ROUNDS rounds whose order
# rotates (each round a new folder, so nothing is skipped). Prints per-round
# seconds, medians, each NetraDrive's ratio to rclone serve (the issue's
# ratio) and, for context, to rclone serve followed by `sync` (rclone serve
# answers before anything is on disk; NetraDrive only once the bytes are).
# Then, without rclone (whose WebDAV client in Debian's 1.60 paces its
# requests at least 10 ms apart, which caps `rclone copy` of small files at
# ~30 files/s whatever the server), PUT_FILES PUTs of 16 KiB from 4 threads
# on keep-alive connections to each server, order rotating: the servers' own
# rate. Upload only: downloads and PROPFIND are bench/dav.sh's.
#
# usage: bench/dav_ab.sh
# env:   NETRADRIVE_BIN (A, default build/netradrive), NETRADRIVE_BIN_B (B,
#        optional), ROUNDS (4), SMALL_FILES (1000, 16 KiB each), BIG_MIB (0 =
#        no big file), TRANSFERS (rclone's, 4), BENCH_DIR (/tmp),
#        PUT_FILES (1000; 0 = skip the direct PUTs), RCLONE_COPY=0 (only
#        the direct PUTs), PUT_KIND=text (the direct PUTs send 16 KiB slices
#        of /usr/share/common-licenses named .txt instead of random .bin)
# The direct PUTs also print each NetraDrive's CPU time per PUT (user +
# system from /proc, around each batch): the fair figure on a shared machine.
# needs: rclone, curl, python3
set -euo pipefail
rounds=${ROUNDS:-4}; small=${SMALL_FILES:-1000}; big_mib=${BIG_MIB:-0}
transfers=${TRANSFERS:-4}
. "$(dirname "$0")/lib.sh"
bench_need rclone curl
bench_workdir davab
bin_b=${NETRADRIVE_BIN_B:-}
pids=()
bench_ab_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_cleanup
}
trap bench_ab_cleanup EXIT

mkdir -p "$work/src/small" "$work/rc"
/usr/bin/python3 - "$work/src/small" "$small" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(16384))
PY
[ "$big_mib" -gt 0 ] && { mkdir -p "$work/src/big"; head -c $((big_mib * 1048576)) /dev/urandom > "$work/src/big/big.bin"; }

start_nd() {   # name binary
  local port; port=$(free_port)
  PORT=$port DATA_DIR="$work/$1" LOG_LEVEL=warn "$2" serve &
  pids+=($!)
  eval "pid_$1=$!"
  wait_http "http://127.0.0.1:$port/healthz" || { echo "bench: $1 did not start"; exit 1; }
  curl -sf -XPOST "http://127.0.0.1:$port/api/v1/auth/signup" -H 'Content-Type: application/json' \
    -d '{"username":"davbench","email":"davbench@example.com","password":"benchmark-pass"}' >/dev/null
  curl -sf -o /dev/null -u davbench:benchmark-pass -XPROPFIND -H 'Depth: 0' "http://127.0.0.1:$port/dav/"
  local up; up=$(echo "$1" | tr a-z A-Z)
  export "RCLONE_CONFIG_${up}_TYPE=webdav" "RCLONE_CONFIG_${up}_VENDOR=other"
  export "RCLONE_CONFIG_${up}_USER=davbench" "RCLONE_CONFIG_${up}_URL=http://127.0.0.1:$port/dav"
  export "RCLONE_CONFIG_${up}_PASS=$RCLONE_CONFIG_RC_PASS"
}
RCLONE_CONFIG_RC_PASS=$(rclone obscure benchmark-pass); export RCLONE_CONFIG_RC_PASS
export RCLONE_CONFIG=/dev/null
servers="rc nda"
start_nd nda "$bin"
[ -n "$bin_b" ] && { start_nd ndb "$bin_b"; servers="rc nda ndb"; }
rc_port=$(free_port)
rclone serve webdav "$work/rc" --addr "127.0.0.1:$rc_port" --user davbench --pass benchmark-pass \
  --log-level ERROR &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null -u davbench:benchmark-pass "http://127.0.0.1:$rc_port/" && break; sleep 0.1; done
export RCLONE_CONFIG_RC_TYPE=webdav RCLONE_CONFIG_RC_VENDOR=other RCLONE_CONFIG_RC_USER=davbench
export RCLONE_CONFIG_RC_URL="http://127.0.0.1:$rc_port"

now() { date +%s%N; }
: > "$work/res"
whats="small"; [ "$big_mib" -gt 0 ] && whats="small big"
[ "${RCLONE_COPY:-1}" = 0 ] && whats=""
set -- $servers; n=$#
for i in $(seq 0 "$rounds"); do   # round 0 is an untimed warm-up
  for what in $whats; do
    order=$(echo $servers | tr ' ' '\n' | awk -v k="$i" -v n="$n" '{a[NR]=$0} END {for (j=0;j<n;j++) print a[(j+k)%n+1]}')
    for srv in $order; do
      sync; t0=$(now)
      timeout 900 rclone copy --transfers "$transfers" --log-level ERROR "$work/src/$what" "$srv:$what$i"
      t1=$(now)
      ts=$t1
      [ "$srv" = rc ] && { sync; ts=$(now); }
      [ "$i" -gt 0 ] && echo "$srv $what $(( (t1 - t0) / 1000000 )) $(( (ts - t0) / 1000000 ))" >> "$work/res"
    done
  done
done
put_files=${PUT_FILES:-1000}
port_of() { case $1 in rc) echo "$rc_port" ;; *) eval "echo \$RCLONE_CONFIG_$(echo "$1" | tr a-z A-Z)_URL" | sed 's|.*:\([0-9]*\)/dav|\1|' ;; esac; }
if [ "$put_files" -gt 0 ]; then
  for i in $(seq 0 "$rounds"); do
    order=$(echo $servers | tr ' ' '\n' | awk -v k="$i" -v n="$n" '{a[NR]=$0} END {for (j=0;j<n;j++) print a[(j+k)%n+1]}')
    for srv in $order; do
      base=/dav; [ "$srv" = rc ] && base=""
      cpu0=0; [ "$srv" != rc ] && cpu0=$(eval "awk '{print \$14 + \$15}' /proc/\$pid_$srv/stat")
      t=$(PUT_KIND=${PUT_KIND:-} /usr/bin/python3 - "$(port_of "$srv")" "$base/put$i" "$put_files" <<'PY'
import base64, glob, http.client, os, sys, threading, time
port, folder, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
auth = {"Authorization": "Basic " + base64.b64encode(b"davbench:benchmark-pass").decode()}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c.request("MKCOL", folder + "/", headers=auth); c.getresponse().read()
if os.environ.get("PUT_KIND") == "text":
    txt = b"".join(open(p, "rb").read() for p in sorted(glob.glob("/usr/share/common-licenses/*"))
                   if os.path.isfile(p))
    body = [txt[(i * 7919) % (len(txt) - 16384):][:16384] for i in range(n)]
    ext = ".txt"
else:
    body = [os.urandom(16384) for _ in range(n)]
    ext = ".bin"
def put(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(k, n, 4):
        c.request("PUT", f"{folder}/f{i:05d}{ext}", body=body[i], headers=auth)
        r = c.getresponse(); r.read()
        assert r.status in (200, 201, 204), r.status
ts = [threading.Thread(target=put, args=(k,)) for k in range(4)]
t0 = time.perf_counter()
[t.start() for t in ts]; [t.join() for t in ts]
print(int((time.perf_counter() - t0) * 1000))
PY
)
      cpu=0; [ "$srv" != rc ] && cpu=$(( $(eval "awk '{print \$14 + \$15}' /proc/\$pid_$srv/stat") - cpu0 ))
      [ "$i" -gt 0 ] && echo "$srv puts $t $t $(( cpu * 1000 / $(getconf CLK_TCK) ))" >> "$work/res"
    done
  done
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rclone $(rclone version | head -1 | cut -d' ' -f2), $transfers transfers; $rounds rounds; small: $small x 16 KiB; big: $big_mib MiB"
echo "A: $bin"; [ -n "$bin_b" ] && echo "B: $bin_b"
/usr/bin/python3 - "$work/res" "$small" "$big_mib" "$put_files" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
small, big = int(sys.argv[2]), int(sys.argv[3]) * 1048576
for what in ("small", "big", "puts"):
    t = {}
    for r in rows:
        if r[1] == what:
            t.setdefault(r[0], []).append((int(r[2]) / 1000, int(r[3]) / 1000))
    if not t:
        continue
    rc = statistics.median(x[0] for x in t["rc"])
    rcs = statistics.median(x[1] for x in t["rc"])
    unit = "MB/s" if what == "big" else "files/s"
    amount = big / 1e6 if what == "big" else small if what == "small" else int(sys.argv[4])
    print(f"{what}: rclone serve {amount / rc:.1f} {unit} ({', '.join(f'{a:.1f}' for a, _ in t['rc'])} s),"
          f" + sync {amount / rcs:.1f} {unit} ({', '.join(f'{b:.1f}' for _, b in t['rc'])} s)")
    for s in ("nda", "ndb"):
        if s in t:
            m = statistics.median(x[0] for x in t[s])
            print(f"  {s}: {amount / m:.1f} {unit} ({', '.join(f'{a:.1f}' for a, _ in t[s])} s)"
                  f"  ratio {rc / m:.2f}x, against rclone + sync {rcs / m:.2f}x")
            if what == "puts":
                cpu = [int(r[4]) / amount for r in rows if r[1] == what and r[0] == s]
                print(f"      server CPU per PUT: {statistics.median(cpu):.2f} ms"
                      f" ({', '.join(f'{c:.2f}' for c in cpu)})")
PY

#!/usr/bin/env bash
# Lists a folder of 100 files through NetraDrive (GET /api/v1/files/?folder_id=root,
# authenticated, SQLite) and has nginx serve the byte-identical JSON as a
# static file, in the same run, both under wrk at the same concurrency; prints
# requests/s, p50 and p99 latency, and the ratios. NetraDrive runs twice: as
# configured by default (repeated listings come from the listing cache) and
# with LISTING_CACHE=0 (every request queries and renders). Loopback only,
# bounded by DURATION per server.
#
# usage: bench/listing.sh            env: CONNS (64), DURATION (10s), THREADS (2),
#                                         NETRADRIVE_BIN (build/netradrive)
# needs: build/netradrive (make), nginx and wrk (apt-get install nginx wrk),
#        curl, python3
set -euo pipefail
conns=${CONNS:-64}
duration=${DURATION:-10s}
threads=${THREADS:-2}
. "$(dirname "$0")/lib.sh"
bench_need wrk nginx curl
bench_workdir list

# --- NetraDrive with one user and 100 files in the root ---
nd_port=$(free_port)
PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn "$bin" serve &
nd_pid=$!
api="http://127.0.0.1:$nd_port/api/v1"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf -XPOST "$api/auth/signup" -H 'Content-Type: application/json' \
  -d '{"username":"lister","email":"lister@example.com","password":"benchmark-pass"}' >/dev/null
token=$(curl -sf -XPOST "$api/auth/token" -d 'username=lister&password=benchmark-pass' | json access_token)
auth="Authorization: Bearer $token"
for i in $(seq -w 1 100); do
  printf 'file %s\n' "$i" > "$work/f.txt"
  curl -sf -o /dev/null -H "$auth" -F "file=@$work/f.txt;filename=Report $i — Q$((10#$i % 4 + 1)) \"final\".txt" \
    "$api/files/upload?folder_id=root"
done
url="$api/files/?folder_id=root"

# --- nginx serving the same bytes ---
mkdir -p "$work/nginx/root" "$work/nginx/tmp"
curl -sf -H "$auth" "$url" > "$work/nginx/root/list.json"
count=$(/usr/bin/python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/nginx/root/list.json")
[ "$count" = 100 ] || { echo "bench: expected 100 files, got $count"; exit 1; }
ng_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
$( [ "$(id -u)" = 0 ] && echo "user root;")
daemon off;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$ng_port; root $work/nginx/root; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
ng_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$ng_port/list.json" && break; sleep 0.1; done
cmp -s "$work/nginx/root/list.json" <(curl -sf -H "$auth" "$url") ||
  { echo "bench: NetraDrive's listing changed between two requests"; exit 1; }

cpu_ticks() {   # user + system clock ticks of process $1 (0 when none)
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0
}

run() {   # name, then wrk arguments; prints "name req/s p50_ms p99_ms errors cpu_us_per_req"
  local name=$1; shift
  local pid=""; [ "$name" != nginx ] && pid=$nd_pid
  local t0; t0=$(cpu_ticks "$pid")
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" > "$work/wrk.out"
  local t1; t1=$(cpu_ticks "$pid")
  /usr/bin/python3 - "$name" "$work/wrk.out" "$((t1 - t0))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[2]).read()
def ms(label):
    m = re.search(r"^\s*" + label + r"%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
cpu = int(sys.argv[3]) / int(sys.argv[4]) * 1e6 / total if int(sys.argv[3]) else 0
print(sys.argv[1], rps, ms("50"), ms("99"), errors.group(1) if errors else 0, cpu)
PY
}
run nginx "http://127.0.0.1:$ng_port/list.json" > "$work/res"
run netradrive -H "$auth" "$url" >> "$work/res"
# The same server with the listing cache off: every request queries and renders.
kill "$nd_pid"; wait "$nd_pid" 2>/dev/null || true
PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn LISTING_CACHE=0 "$bin" serve &
nd_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null && break; sleep 0.1; done
cmp -s "$work/nginx/root/list.json" <(curl -sf -H "$auth" "$url") ||
  { echo "bench: the uncached listing differs from the cached one"; exit 1; }
run uncached -H "$auth" "$url" >> "$work/res"

echo "listing of 100 files ($(stat -c %s "$work/nginx/root/list.json") bytes), $conns connections, $duration each,"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 - "$work/res" <<'PY'
import sys
rows = {l.split()[0]: [float(x) for x in l.split()[1:]] for l in open(sys.argv[1])}
print(f"{'server':<12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU us/req':>10}")
for name, (rps, p50, p99, err, cpu) in rows.items():
    c = f"{cpu:>10.0f}" if cpu else f"{'-':>10}"
    print(f"{name:<12} {rps:>10.0f} {p50:>8.2f} {p99:>8.2f} {err:>7.0f} {c}")
n, u, d = rows["netradrive"], rows["uncached"], rows["nginx"]
# CPU us/req: the server's user + system time over the run / requests served
# (moves much less with other load than req/s does).
print(f"NetraDrive / nginx req/s: {n[0] / d[0]:.2f}x "
      f"(uncached, LISTING_CACHE=0: {u[0] / d[0]:.2f}x)")
PY

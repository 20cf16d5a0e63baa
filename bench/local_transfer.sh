#!/usr/bin/env bash
# Upload and download one big file through NetraDrive (local backend) and
# through nginx (WebDAV PUT + static GET) on loopback, in the same run, and
# print the ratios and NetraDrive's peak RSS.
#
# One transfer each proves little on a virtual machine: the disk's write
# speed comes in bursts, and memory the guest frees is soon handed back to
# the host (virtio-balloon free page reporting), so writing into such a page
# faults to the host (1 GiB into tmpfs: 0.34 s into recycled pages, 1.6 s into
# returned ones). Whichever server writes second into returned memory loses
# by 2x, so the script treats both alike: before each upload it deletes that
# server's file from the previous round (nginx: rm; NetraDrive: delete and
# wait until its chunk files are gone) and syncs, so each writes into pages
# it just freed; the order alternates; the file is new each time (a new name
# for nginx, a new user for NetraDrive, so dedup never skips work); a first,
# untimed round warms both up; and the ratios are of the medians of ROUNDS.
#
# usage: bench/local_transfer.sh [SIZE_MIB]   (default 1024)
# env:   ROUNDS (default 5), NETRADRIVE_BIN (default build/netradrive),
#        BENCH_DIR (default /tmp; where both servers keep their files: /dev/shm
#        takes the disk out and compares CPU cost alone)
# needs: build/netradrive (make), nginx (apt-get install nginx), curl, python3
set -euo pipefail
size_mib=${1:-1024}
rounds=${ROUNDS:-5}
. "$(dirname "$0")/lib.sh"
bench_need nginx curl
bench_workdir transfer

echo "bench: generating ${size_mib} MiB of random data"
head -c $((size_mib * 1048576)) /dev/urandom > "$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")
want=$(sha256sum "$work/big.bin" | cut -d' ' -f1)

# --- nginx: PUT (WebDAV, writes the body to disk) and GET (sendfile) ---
ng_port=$(free_port)
mkdir -p "$work/nginx/root" "$work/nginx/tmp"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
$( [ "$(id -u)" = 0 ] && echo "user root;")
daemon off;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_max_body_size 0;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$ng_port;
    root $work/nginx/root;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
ng_pid=$!
ng="http://127.0.0.1:$ng_port"

# --- NetraDrive ---
nd_port=$(free_port)
PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn "$bin" serve &
nd_pid=$!
api="http://127.0.0.1:$nd_port/api/v1"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null && break; sleep 0.1; done
sleep 0.3   # nginx is up by now too

# A fresh user per round: their own dedup space.
new_user() {
  curl -sf -XPOST "$api/auth/signup" -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench$1\",\"email\":\"bench$1@example.com\",\"password\":\"benchmark-pass\"}" >/dev/null
  curl -sf -XPOST "$api/auth/token" -d "username=bench$1&password=benchmark-pass" | json access_token
}
timed() { curl -s -w '%{time_total}' "$@"; }

: > "$work/times"
chunks_left() { find "$work/nd/chunks" -type f 2>/dev/null | wc -l; }
ng_prev=""; nd_prev=""; nd_prev_auth=""
ng_put() {   # deletes the previous round's file, then uploads this one
  [ -n "$ng_prev" ] && rm -f "$work/nginx/root/$ng_prev"
  sync; t_ngput=$(timed -o /dev/null -T "$work/big.bin" "$ng/big$r.bin")
  ng_prev="big$r.bin"
}
nd_put() {
  if [ -n "$nd_prev" ]; then
    curl -sf -o /dev/null -XDELETE -H "$nd_prev_auth" "$api/files/$nd_prev"
    for _ in $(seq 100); do [ "$(chunks_left)" = 0 ] && break; sleep 0.1; done
    [ "$(chunks_left)" = 0 ] || { echo "bench: NetraDrive kept the chunks of a deleted file"; exit 1; }
  fi
  sync; t_ndput=$(timed -o "$work/up.json" -H "$auth" -F "file=@$work/big.bin" "$api/files/upload")
  nd_prev=$(json id < "$work/up.json"); nd_prev_auth=$auth
}
# Users first: a password hash takes memory (Argon2id) that is no part of
# moving a file, so the peak RSS counts from after it (clear_refs 5 resets
# VmHWM).
for r in $(seq 0 "$rounds"); do new_user "$r" > "$work/token$r"; done
echo 5 > "/proc/$nd_pid/clear_refs" 2>/dev/null || echo "bench: cannot reset VmHWM; the peak includes sign-ups"
for r in $(seq 0 "$rounds"); do
  auth="Authorization: Bearer $(cat "$work/token$r")"
  if [ $((r % 2)) = 1 ]; then ng_put; nd_put; else nd_put; ng_put; fi
  sync; t_ngget=$(timed -o /dev/null "$ng/big$r.bin")
  sync; t_ndget=$(timed -o /dev/null -H "$auth" "$api/files/$nd_prev/download")
  first=$([ $((r % 2)) = 1 ] && echo nginx || echo NetraDrive)
  printf 'bench: round %d (%s first): nginx PUT %ss, NetraDrive upload %ss, nginx GET %ss, NetraDrive download %ss%s\n' \
    "$r" "$first" "$t_ngput" "$t_ndput" "$t_ngget" "$t_ndget" "$([ "$r" = 0 ] && echo ' (warm-up, not counted)')"
  [ "$r" = 0 ] || echo "$t_ngput $t_ndput $t_ngget $t_ndget" >> "$work/times"
done
got=$(curl -s -H "$auth" "$api/files/$nd_prev/download" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "bench: downloaded bytes differ!"; exit 1; }
rss=$(awk '/VmHWM/ {print $2}' "/proc/$nd_pid/status")

echo
echo "file: $size_mib MiB, $rounds rounds, machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 - "$work/times" "$bytes" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
size = int(sys.argv[2])
med = [statistics.median(c) for c in zip(*rows)]
names = ["nginx PUT", "NetraDrive upload", "nginx GET", "NetraDrive download"]
print(f"{'median of rounds':<22} {'MiB/s':>8} {'seconds':>9}   {'range MiB/s':>13}")
for i, n in enumerate(names):
    lo, hi = size / 1048576 / max(c[i] for c in rows), size / 1048576 / min(c[i] for c in rows)
    print(f"{n:<22} {size / 1048576 / med[i]:>8.0f} {med[i]:>9.3f}   {lo:>6.0f}-{hi:<6.0f}")
print(f"upload ratio (NetraDrive/nginx PUT):   {med[0] / med[1]:.2f}x  "
      f"(per round: {', '.join(f'{r[0] / r[1]:.2f}' for r in rows)})")
print(f"download ratio (NetraDrive/nginx GET): {med[2] / med[3]:.2f}x  "
      f"(per round: {', '.join(f'{r[2] / r[3]:.2f}' for r in rows)})")
PY
echo "NetraDrive peak RSS (VmHWM) over all transfers: $((rss / 1024)) MiB"

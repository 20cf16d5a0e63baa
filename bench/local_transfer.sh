#!/usr/bin/env bash
# Upload and download one big file through NetraDrive (local backend) and
# through nginx (WebDAV PUT + static GET) on loopback, in the same run, and
# print the ratios and NetraDrive's peak RSS.
#
# usage: bench/local_transfer.sh [SIZE_MIB]   (default 1024)
# needs: build/netradrive (make), nginx (apt-get install nginx), curl
set -euo pipefail
size_mib=${1:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${NETRADRIVE_BIN:-$root/build/netradrive}
work=$(mktemp -d /tmp/netra-bench.XXXXXX)
nd_pid=""; ng_pid=""
cleanup() {
  [ -n "$nd_pid" ] && kill "$nd_pid" 2>/dev/null || true
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rate() { /usr/bin/python3 -c "print(f'{$1/1048576/$2:.0f}')"; }   # MiB/s

echo "bench: generating ${size_mib} MiB of random data"
head -c $((size_mib * 1048576)) /dev/urandom > "$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")

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
sleep 0.5

sync; echo "bench: nginx PUT"
ng_put=$(curl -s -o /dev/null -w '%{time_total}' -T "$work/big.bin" "http://127.0.0.1:$ng_port/big.bin")
sync; echo "bench: nginx GET"
ng_get=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$ng_port/big.bin")
kill "$ng_pid"; wait "$ng_pid" 2>/dev/null || true; ng_pid=""
rm -rf "$work/nginx/root"

# --- NetraDrive ---
nd_port=$(free_port)
PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn "$bin" serve &
nd_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null && break; sleep 0.1; done
api="http://127.0.0.1:$nd_port/api/v1"
curl -sf -XPOST "$api/auth/signup" -H 'Content-Type: application/json' \
  -d '{"username":"bench","email":"bench@example.com","password":"benchmark-pass"}' >/dev/null
token=$(curl -sf -XPOST "$api/auth/token" -d 'username=bench&password=benchmark-pass' |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

sync; echo "bench: NetraDrive upload"
nd_put=$(curl -s -o "$work/up.json" -w '%{time_total}' -H "Authorization: Bearer $token" \
         -F "file=@$work/big.bin" "$api/files/upload")
fid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/up.json")
rss_up=$(awk '/VmHWM/ {print $2}' "/proc/$nd_pid/status")
sync; echo "bench: NetraDrive download"
nd_get=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
         "$api/files/$fid/download")
rss_all=$(awk '/VmHWM/ {print $2}' "/proc/$nd_pid/status")
got=$(curl -s -H "Authorization: Bearer $token" "$api/files/$fid/download" | sha256sum | cut -d' ' -f1)
want=$(sha256sum "$work/big.bin" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "bench: downloaded bytes differ!"; exit 1; }

echo
echo "file: $size_mib MiB, machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-22s %10s %10s\n' "" "MiB/s" "seconds"
printf '%-22s %10s %10s\n' "nginx PUT" "$(rate "$bytes" "$ng_put")" "$ng_put"
printf '%-22s %10s %10s\n' "NetraDrive upload" "$(rate "$bytes" "$nd_put")" "$nd_put"
printf '%-22s %10s %10s\n' "nginx GET" "$(rate "$bytes" "$ng_get")" "$ng_get"
printf '%-22s %10s %10s\n' "NetraDrive download" "$(rate "$bytes" "$nd_get")" "$nd_get"
/usr/bin/python3 -c "print(f'upload ratio (NetraDrive/nginx PUT):   {$ng_put/$nd_put:.2f}x'); print(f'download ratio (NetraDrive/nginx GET): {$ng_get/$nd_get:.2f}x')"
echo "NetraDrive peak RSS: after upload $((rss_up / 1024)) MiB, after download $((rss_all / 1024)) MiB"

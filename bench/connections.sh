#!/usr/bin/env bash
# Connections under attack and at rest, on loopback, bounded in count and time:
#  1. one address (127.0.0.1) opens SLOW connections that trickle a request
#     head; meanwhile another address (127.0.0.2) asks GET /healthz PROBES
#     times: p50 / p99 and failures (the per-address cap must keep it served);
#  2. IDLE keep-alive connections, each after one GET /healthz, spread over
#     127.0.0.x addresses: NetraDrive's resident memory before and after.
#
# usage: bench/connections.sh     env: SLOW (2000), IDLE (1000), PROBES (200),
#                                      NETRADRIVE_BIN (build/netradrive)
# needs: build/netradrive (make), python3
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_need curl
bench_workdir conn
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

port=$(free_port)
PORT=$port HOST=0.0.0.0 DATA_DIR="$work/nd" LOG_LEVEL=error "$bin" serve &
nd_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

/usr/bin/python3 - "$port" "$nd_pid" "${SLOW:-2000}" "${IDLE:-1000}" "${PROBES:-200}" <<'PY'
import socket, statistics, sys, time
port, pid, slow, idle, probes = (int(x) for x in sys.argv[1:])

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def connect(src):
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(2)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

def healthz(src, conn=None):
    s = conn or connect(src)
    t = time.perf_counter()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ms = (time.perf_counter() - t) * 1000
    if conn is None:
        s.close()
    return ms, data.startswith(b"HTTP/1.1 200")

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

# 1. slow heads from one address, probes from another
held, refused = [], 0
for i in range(slow):
    try:
        s = connect("127.0.0.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held.append(s)
    except OSError:
        refused += 1
time.sleep(0.5)
alive = 0
for s in held:
    try:
        s.settimeout(0.001)
        alive += s.recv(1) != b""
    except socket.timeout:
        alive += 1
    except OSError:
        pass
lat, failed = [], 0
for _ in range(probes):
    try:
        ms, ok = healthz("127.0.0.2")
        lat.append(ms)
        failed += not ok
    except OSError:
        failed += 1
for s in held:
    s.close()
print(f"slow heads: {slow} opened from one address, {alive} still held by the server, "
      f"{refused} refused at connect")
if lat:
    print(f"/healthz from another address meanwhile: p50 {statistics.median(lat):.2f} ms, "
          f"p99 {pct(lat, 99):.2f} ms, {failed} failed of {probes}")
else:
    print(f"/healthz from another address meanwhile: all {probes} failed")
time.sleep(1)

# 2. idle keep-alive connections over 127.0.0.x (64 per address at most)
base = rss_kib()
conns = []
for i in range(idle):
    src = f"127.0.{1 + i // 60 // 250}.{1 + (i // 60) % 250}"
    try:
        c = connect(src)
        healthz(src, c)
        conns.append(c)
    except OSError:
        pass
time.sleep(0.5)
after = rss_kib()
print(f"idle keep-alive: {len(conns)} connections, RSS {base / 1024:.1f} MiB before, "
      f"{after / 1024:.1f} MiB after (+{(after - base) / 1024:.1f} MiB, "
      f"{(after - base) / max(1, len(conns)):.0f} KiB each)")
for c in conns:
    c.close()
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

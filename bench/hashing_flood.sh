#!/usr/bin/env bash
# /healthz latency while clients flood the routes that run Argon2id (signup
# and wrong-password logins), on loopback, bounded by DURATION. Argon2id runs
# on the background pool (http/defer.c), so the poll threads keep answering;
# the target is /healthz p99 < 20 ms. The per-address signup limit is lifted
# (ACCOUNT_REQUESTS_PER_ADDRESS) so that every signup really hashes; the login
# throttle locks an address after a few failures, so the wrong-password
# logins come from rotating source addresses (127.0.0.2-254) and unknown
# names (which hash a dummy, as a real login would).
#
# usage: bench/hashing_flood.sh      env: FLOODERS (8), DURATION (10, seconds),
#                                         NETRADRIVE_BIN (build/netradrive)
# needs: build/netradrive (make), curl, python3
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_need curl
bench_workdir hash

port=$(free_port)
PORT=$port DATA_DIR="$work/nd" LOG_LEVEL=error ACCOUNT_REQUESTS_PER_ADDRESS=1000000 "$bin" serve &
nd_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

/usr/bin/python3 - "$port" "${FLOODERS:-8}" "${DURATION:-10}" <<'PY'
import http.client, json, statistics, sys, threading, time, uuid
port, flooders, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])

def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    r.read()
    return r.status

def probe(samples):
    """Sequential GET /healthz on one keep-alive connection, 10 ms apart."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        t = time.perf_counter()
        assert request(conn, "GET", "/healthz") == 200
        samples.append((time.perf_counter() - t) * 1000)
        time.sleep(0.01)

addr_lock = threading.Lock()
addr_next = [0]

def next_source():
    with addr_lock:
        addr_next[0] += 1
        return (f"127.0.0.{2 + addr_next[0] % 253}", 0)

def flood(i, counts):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while not stop.is_set():
        n += 1
        name = f"fl{i}x{n}x{uuid.uuid4().hex[:8]}"
        if n % 2:
            body = json.dumps({"username": name, "email": f"{name}@example.com",
                               "password": "flood-password-1"})
            s = request(conn, "POST", "/api/v1/auth/signup", body,
                        {"Content-Type": "application/json"})
        else:
            login = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                               source_address=next_source())
            s = request(login, "POST", "/api/v1/auth/token", f"username={name}&password=wrong-pass",
                        {"Content-Type": "application/x-www-form-urlencoded"})
            login.close()
        counts[s] = counts.get(s, 0) + 1

stop = threading.Event()
idle = []
t = threading.Thread(target=probe, args=(idle,)); t.start()
time.sleep(2); stop.set(); t.join(); stop.clear()

samples, counts = [], [dict() for _ in range(flooders)]
threads = [threading.Thread(target=flood, args=(i, counts[i])) for i in range(flooders)]
threads.append(threading.Thread(target=probe, args=(samples,)))
for th in threads: th.start()
time.sleep(duration); stop.set()
for th in threads: th.join()

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
total = {}
for c in counts:
    for k, v in c.items(): total[k] = total.get(k, 0) + v
print(f"flood: {flooders} clients, {duration:.0f} s, {sum(total.values())} requests "
      f"({sum(total.values()) / duration:.0f}/s), statuses {dict(sorted(total.items()))}")
print(f"/healthz idle:        n={len(idle)} p50 {pct(idle, .5):.2f} ms  p99 {pct(idle, .99):.2f} ms")
print(f"/healthz under flood: n={len(samples)} p50 {pct(samples, .5):.2f} ms  "
      f"p99 {pct(samples, .99):.2f} ms  (target p99 < 20 ms)")
PY

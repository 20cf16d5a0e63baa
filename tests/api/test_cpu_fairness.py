"""CPU fairness (issue 10): Argon2id runs on a worker pool, not on the HTTP
poll threads, so a flood of signups and wrong-password logins does not hold
up the other requests those threads serve; signup and forgot-password are
limited per client address (docs/DECISIONS.md)."""
import multiprocessing
import statistics
import threading
import time
import uuid

from helpers import API, Client, assert_error, assert_message, signup, unique

# The flood must pay a hash per request: no address limits in its way.
SERVER_ENV = {"LOGIN_MAX_FAILURES": "1000", "ACCOUNT_REQUESTS_PER_ADDRESS": "100000"}

FLOOD_THREADS = 8
FLOOD_SECONDS = 5.0
HEALTHZ_SAMPLES = 200
# With the hashes on the poll threads /healthz took p50 500 ms, p99 1208 ms
# under this flood; off them, p50 2-5 ms, p99 13-34 ms (2 cores). The test
# keeps a wide margin for a loaded CI machine and the sanitizer build; the
# strict figure is the benchmark's.
HEALTHZ_P50_MS = 50.0
HEALTHZ_P99_MS = 300.0
TOO_MANY = "Too many requests. Try again later."


def _flood(url, stop, counts, errors):
    c = Client(url)
    name = unique("flood")
    try:
        n = 0
        while not stop.is_set():
            if n % 2 == 0:
                u = f"{name}_{n}"[:32]
                r = signup(c, u, f"{u.lower()}@example.com", "pw-" + uuid.uuid4().hex)
                ok = r.status_code == 201
            else:
                r = c.post(f"{API}/auth/token", data={"username": name, "password": "wrong-pw"})
                ok = r.status_code == 401
            if not ok:
                errors.append(f"{r.request.url}: {r.status_code} {r.text[:200]}")
            n += 1
        counts.append(n)
    finally:
        c.close()


def _flood_process(url, stop, out):
    """The flood runs in its own process, so that its threads do not hold the
    GIL against the thread that measures /healthz."""
    counts, errors = [], []
    threads = [threading.Thread(target=_flood, args=(url, stop, counts, errors))
               for _ in range(FLOOD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts), errors[:5]))


def _p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def test_healthz_stays_fast_during_a_hashing_flood(server):
    ctx = multiprocessing.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    flood = ctx.Process(target=_flood_process, args=(server.url, stop, out))
    flood.start()
    lat = []
    hc = server.client()
    try:
        time.sleep(0.5)  # let the flood build up
        deadline = time.monotonic() + FLOOD_SECONDS
        while len(lat) < HEALTHZ_SAMPLES and time.monotonic() < deadline + 30:
            t0 = time.perf_counter()
            r = hc.get("/healthz")
            lat.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
            time.sleep(max(0.0, FLOOD_SECONDS / HEALTHZ_SAMPLES - lat[-1] / 1000))
    finally:
        stop.set()
        hc.close()
    total, errors = out.get(timeout=60)
    flood.join(10)
    assert not errors, errors
    p50, p99 = statistics.median(lat), _p99(lat)
    print(f"\nflood: {total} requests by {FLOOD_THREADS} threads; "
          f"/healthz over {len(lat)} samples: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    assert total >= FLOOD_THREADS, "the flood did not run"
    assert p50 < HEALTHZ_P50_MS and p99 < HEALTHZ_P99_MS, \
        f"/healthz p50 {p50:.1f} ms, p99 {p99:.1f} ms under a hashing flood"


def test_signup_is_limited_per_address(server_factory):
    s = server_factory(env={"ACCOUNT_REQUESTS_PER_ADDRESS": "3", "ACCOUNT_REQUESTS_WINDOW_SECONDS": "600"})
    c = s.client()
    for _ in range(3):
        u = unique("lim")
        assert_message(signup(c, u, f"{u.lower()}@example.com", "pw-" + uuid.uuid4().hex), 201)
    u = unique("lim")
    r = signup(c, u, f"{u.lower()}@example.com", "pw-" + uuid.uuid4().hex)
    assert_error(r, 429, TOO_MANY)
    ra = int(r.headers["Retry-After"])
    assert 1 <= ra <= 600, ra
    # Its own counter: forgot-password still answers, and logins are not affected.
    r = c.post(f"{API}/auth/forgot-password", json={"email": "nobody@example.com"})
    assert_message(r, 200)


def test_forgot_password_is_limited_per_address(server_factory):
    s = server_factory(env={"ACCOUNT_REQUESTS_PER_ADDRESS": "2"})
    c = s.client()
    for _ in range(2):
        r = c.post(f"{API}/auth/forgot-password", json={"email": "nobody@example.com"})
        assert_message(r, 200)
    r = c.post(f"{API}/auth/forgot-password", json={"email": "nobody@example.com"})
    assert_error(r, 429, TOO_MANY)
    assert int(r.headers["Retry-After"]) >= 1
    # Signup has its own counter.
    u = unique("lim")
    assert_message(signup(c, u, f"{u.lower()}@example.com", "pw-" + uuid.uuid4().hex), 201)


def test_default_limit_is_ten_per_ten_minutes(server_factory):
    # The harness raises the limit for every other server; None restores the default.
    s = server_factory(env={"ACCOUNT_REQUESTS_PER_ADDRESS": None,
                            "ACCOUNT_REQUESTS_WINDOW_SECONDS": None})
    c = s.client()
    for _ in range(10):
        r = c.post(f"{API}/auth/forgot-password", json={"email": "nobody@example.com"})
        assert_message(r, 200)
    r = c.post(f"{API}/auth/forgot-password", json={"email": "nobody@example.com"})
    assert_error(r, 429, TOO_MANY)
    assert 590 <= int(r.headers["Retry-After"]) <= 600

"""GET /metrics: the Prometheus text format (parsed with prometheus_client's
own parser), counters that move with requests, statuses, body bytes, the
latency histogram (cumulative buckets, _count), process metrics, the
WebSocket gauge, METRICS_TOKEN, and on the Telegram backend the cache hits
and misses, backend calls, 429s and retries, and the task gauge.
"""
import os
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import (API, StrictFakeTelegram, download, free_port, make_user, run_cmd, upload_file,
                     wait_until)
from wsclient import WS

CTYPE = "text/plain; version=0.0.4; charset=utf-8"


def scrape(server, token=None):
    c = server.client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = c.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CTYPE
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    return fams


def value(fams, family, sample=None, **labels):
    """The value of the sample of `family` with exactly these labels (0 when absent)."""
    f = fams.get(family)
    if not f:
        return 0
    for s in f.samples:
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            if sample is None and s.name.endswith(("_bucket", "_created")):
                continue
            return s.value
    return 0


def req_count(fams, route, method, status):
    return value(fams, "netradrive_http_requests", route=route, method=method, status=str(status))


def test_requests_by_route_method_status(server_factory):
    s = server_factory()
    u = make_user(s, prefix="met")
    before = scrape(s)
    c = s.client()
    for _ in range(3):
        assert c.get("/healthz").status_code == 200
    assert c.get("/no/such/path/abc123").status_code == 404
    assert c.get(f"{API}/users/me").status_code == 401
    r = u.client.get(f"{API}/folders/00000000000000000000000000000000")
    assert r.status_code in (404, 422)
    # A request is counted when it closes, just after its last byte went out:
    # the last one of each connection may not be counted yet when the scrape
    # (another connection) comes.
    assert wait_until(lambda: req_count(scrape(s), f"{API}/folders/{{id}}", "GET", r.status_code)
                      and req_count(scrape(s), f"{API}/users/me", "GET", 401), timeout=5)
    fams = scrape(s)
    assert req_count(fams, "/healthz", "GET", 200) - req_count(before, "/healthz", "GET", 200) == 3
    assert req_count(fams, "unmatched", "GET", 404) - req_count(before, "unmatched", "GET", 404) == 1
    assert req_count(fams, f"{API}/users/me", "GET", 401) == 1
    assert req_count(fams, f"{API}/folders/{{id}}", "GET", r.status_code) == 1
    # /metrics counts itself like any route; the raw path never is a label.
    assert req_count(fams, "/metrics", "GET", 200) >= 1
    routes = {smp.labels["route"] for smp in fams["netradrive_http_requests"].samples}
    assert not any("abc123" in x or "0000000000" in x for x in routes), routes
    # Histogram: cumulative buckets, +Inf equal to _count, a sum.
    h = fams["netradrive_http_request_duration_seconds"]
    assert h.type == "histogram"
    buckets = [(float(smp.labels["le"]), smp.value) for smp in h.samples
               if smp.name.endswith("_bucket") and smp.labels["route"] == "/healthz"]
    assert len(buckets) >= 10
    buckets.sort()
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), buckets
    assert buckets[-1][0] == float("inf")
    cnt = value(fams, "netradrive_http_request_duration_seconds",
                "netradrive_http_request_duration_seconds_count", route="/healthz", method="GET")
    assert cnt == buckets[-1][1] >= 3
    total = value(fams, "netradrive_http_request_duration_seconds",
                  "netradrive_http_request_duration_seconds_sum", route="/healthz", method="GET")
    assert 0 < total < 60


def test_bytes_in_and_out(server_factory):
    s = server_factory()
    u = make_user(s, prefix="metb")
    data = os.urandom(300_000)
    f = upload_file(u.client, "b.bin", data)
    assert download(u.client, f["id"]) == data
    # A response is counted when its request closes, just after its last
    # byte went out: a scrape on another connection may come first.
    def counted():
        fams = scrape(s)
        return (value(fams, "netradrive_http_sent_bytes", route=f"{API}/files/{{id}}/download")
                >= len(data))
    assert wait_until(counted, timeout=5)
    fams = scrape(s)
    up = value(fams, "netradrive_http_received_bytes", route=f"{API}/files/upload")
    assert up >= len(data), up
    # The store's calls are counted (NETRADRIVE_BACKEND=telegram runs this on the fake).
    if os.environ.get("NETRADRIVE_BACKEND") == "telegram":
        assert value(fams, "netradrive_storage_calls", backend="telegram", op="sendDocument") >= 1
    else:
        assert value(fams, "netradrive_storage_calls", backend="local", op="put") >= 1
        assert value(fams, "netradrive_storage_calls", backend="local", op="open") >= 1


def test_process_and_connection_metrics(server_factory):
    s = server_factory()
    fams = scrape(s)
    rss = value(fams, "process_resident_memory_bytes")
    assert 1 << 20 < rss < 4 << 30, rss
    assert 5 <= value(fams, "process_open_fds") < 10000
    assert value(fams, "process_threads") >= 4
    start = value(fams, "process_start_time_seconds")
    assert time.time() - 600 < start <= time.time() + 1, start
    assert value(fams, "process_cpu_seconds") >= 0
    # The scrape's own connection is open; at least one was accepted.
    assert value(fams, "netradrive_http_open_connections") >= 1
    assert value(fams, "netradrive_http_connections") >= 1
    assert value(fams, "netradrive_http_requests_in_flight") >= 1
    for name in ("netradrive_db_busy_waits", "netradrive_cache_hits", "netradrive_cache_misses"):
        assert name in fams, name


def test_websocket_gauge(server_factory):
    s = server_factory()
    u = make_user(s, prefix="metw")
    assert value(scrape(s), "netradrive_websockets_open") == 0
    ws = WS(s.port, f"{API}/ws/tasks/{u.id}?token={u.access_token}")
    try:
        assert wait_until(lambda: value(scrape(s), "netradrive_websockets_open") == 1, timeout=5)
    finally:
        ws.close()
    assert wait_until(lambda: value(scrape(s), "netradrive_websockets_open") == 0, timeout=5)


def test_metrics_token(server_factory):
    s = server_factory(env={"METRICS_TOKEN": "s3cret-metrics-token"})
    c = s.client()
    r = c.get("/metrics")
    assert r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer"
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-x"}).status_code == 401
    fams = scrape(s, token="s3cret-metrics-token")
    assert req_count(fams, "/metrics", "GET", 401) == 3


def test_metrics_token_refused_when_malformed(tmp_path):
    p = run_cmd(["serve"], tmp_path, env={"METRICS_TOKEN": "has space", "PORT": str(free_port())})
    assert p.returncode == 1
    err = p.stderr.decode()
    assert "METRICS_TOKEN" in err and "has space" not in err, err


# --------------------------------------------------------------------------
# Telegram backend
# --------------------------------------------------------------------------

CHUNK = 64 * 1024


def tg_env(fake, **extra):
    env = {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
           "TELEGRAM_BOT_TOKEN": "111111:AAbot-one", "TELEGRAM_STORAGE_CHAT_ID": "-1001000000001",
           "CHUNK_SIZE": str(CHUNK), "TELEGRAM_PACING": "false"}
    env.update(extra)
    return env


@pytest.fixture
def fakes(tmp_path):
    started = []

    def start(*flags):
        f = StrictFakeTelegram(tmp_path / f"fake{len(started)}", *flags)
        started.append(f)
        return f

    yield start
    for f in started:
        f.stop()


def test_cache_hits_and_misses(fakes, server_factory):
    fake = fakes("--seed", "5")
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="metc")
    data = os.urandom(3 * CHUNK + 100)
    f = upload_file(u.client, "c.bin", data)
    before = scrape(s)
    assert download(u.client, f["id"]) == data
    mid = scrape(s)
    misses = value(mid, "netradrive_cache_misses") - value(before, "netradrive_cache_misses")
    assert misses >= 1, misses
    assert value(mid, "netradrive_cache_fill_bytes") >= len(data)
    assert value(mid, "netradrive_cache_bytes") >= len(data)
    assert download(u.client, f["id"]) == data
    after = scrape(s)
    hits = value(after, "netradrive_cache_hits") - value(mid, "netradrive_cache_hits")
    assert hits >= 4, hits   # every chunk, now complete in the cache
    assert value(after, "netradrive_cache_misses") == value(mid, "netradrive_cache_misses")
    assert value(after, "netradrive_storage_calls", backend="telegram", op="sendDocument") >= 4
    assert value(after, "netradrive_storage_calls", backend="telegram", op="download") >= 4


def test_backend_429_and_retries(fakes, server_factory):
    # One chat allowing one message per 2 s with no burst, the client's own
    # pacing off: of two chunks sent at once, one is answered 429.
    fake = fakes("--pace", "--pace-per-sec", "0.5", "--pace-burst", "1", "--pace-per-min", "20")
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="metr")
    data = os.urandom(2 * CHUNK)
    f = upload_file(u.client, "r.bin", data)
    assert download(u.client, f["id"]) == data
    assert fake.stats()["rate_limited"] >= 1
    fams = scrape(s)
    assert value(fams, "netradrive_storage_rate_limited", backend="telegram") >= 1
    assert value(fams, "netradrive_storage_errors", backend="telegram", kind="rate_limited") >= 1
    assert value(fams, "netradrive_storage_retries", backend="telegram", reason="rate_limited") >= 1
    calls = value(fams, "netradrive_storage_calls", backend="telegram", op="sendDocument")
    assert calls >= 3, calls   # two chunks, one of them twice


def test_task_gauge_during_slow_upload(fakes, server_factory):
    fake = fakes("--bandwidth", "150000", "--latency", "20")
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="mett")
    data = os.urandom(8 * CHUNK)
    result = {}
    t = threading.Thread(target=lambda: result.update(f=upload_file(u.client, "slow.bin", data)),
                         daemon=True)
    t.start()
    assert wait_until(lambda: value(scrape(s), "netradrive_tasks", state="in_progress") == 1,
                      timeout=20)
    t.join(60)
    assert "f" in result
    fams = scrape(s)
    assert value(fams, "netradrive_tasks", state="in_progress") == 0
    assert value(fams, "netradrive_tasks", state="queued") == 0
    assert value(fams, "netradrive_tasks_finished", state="completed") == 1

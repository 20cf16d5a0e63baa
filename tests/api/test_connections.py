"""Connection caps and timeouts (issue 10): MAX_CONNECTIONS_PER_IP refuses an
address's extra connections at once (trusted proxies exempt), KEEPALIVE_TIMEOUT
closes idle connections and unfinished heads, while a body in progress keeps
the long timeout; bad values of the settings stop the start.

All loopback: Linux routes the whole of 127/8 to lo, so binding a client socket
to 127.0.0.2 makes a second client address. Every test closes its sockets."""
import select
import socket
import subprocess
import time

import pytest

from helpers import API, TIME_FACTOR, clean_env, free_port, make_user, multipart_body, \
    netradrive_bin, open_sockets, raw_connect, upload_file

HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # never finished


def _connect(port, src="127.0.0.1", rcvbuf=None):
    return raw_connect(port, src, timeout=5, rcvbuf=rcvbuf)



def _is_closed(s):
    """True when the server closed `s` (EOF or reset); never blocks."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def _open_trickling(port, n, src, socks):
    """Opens `n` connections from `src`, each sending an unfinished head."""
    for _ in range(n):
        s = _connect(port, src)
        socks.append(s)
        try:
            s.sendall(HEAD)
        except (ConnectionResetError, BrokenPipeError):
            pass  # refused already


def _still_open(socks, settle=1.0):
    """How many of `socks` the server has not closed after `settle` seconds."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return sum(not _is_closed(s) for s in socks)


def _get(port, path="/healthz", src="127.0.0.1", timeout=5):
    """One GET with Connection: close; returns (status, seconds)."""
    t0 = time.monotonic()
    s = _connect(port, src)
    try:
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return int(data.split(b" ", 2)[1]), time.monotonic() - t0


def _wait_closed(s, limit):
    """Seconds until the server closes `s`, or None when it stays open `limit` s."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if _is_closed(s):
            return time.monotonic() - t0
        select.select([s], [], [], 0.05)
    return None


def test_per_ip_cap_refuses_extra_connections(server_factory):
    s = server_factory(env={"MAX_CONNECTIONS_PER_IP": "8"})
    # From an address nothing else uses: the harness's own start-up check
    # from 127.0.0.1 may still hold a slot there for a moment.
    with open_sockets() as socks:
        _open_trickling(s.port, 30, "127.0.0.3", socks)
        # Meanwhile another address is served at once.
        status, took = _get(s.port, src="127.0.0.2")
        assert status == 200
        assert took < 1.0, f"/healthz from another address took {took:.2f}s"
        assert _still_open(socks) == 8, "one address holds more than MAX_CONNECTIONS_PER_IP"
        # Closing them gives the slots back.
        for c in socks:
            c.close()
    deadline = time.monotonic() + 5
    while True:
        with open_sockets() as socks:
            _open_trickling(s.port, 8, "127.0.0.3", socks)
            if _still_open(socks, 0.3) == 8:
                break
        assert time.monotonic() < deadline, "slots of closed connections were not given back"


def test_trusted_proxy_is_exempt(server_factory):
    s = server_factory(env={"MAX_CONNECTIONS_PER_IP": "4", "TRUSTED_PROXIES": "127.0.0.1"})
    with open_sockets() as proxy, open_sockets() as other:
        _open_trickling(s.port, 12, "127.0.0.1", proxy)
        _open_trickling(s.port, 12, "127.0.0.2", other)
        assert _still_open(proxy) == 12, "a trusted proxy was limited"
        assert _still_open(other, 0.1) == 4, "an untrusted address was not limited"


def test_idle_keepalive_closed_after_short_timeout(server_factory):
    s = server_factory(env={"KEEPALIVE_TIMEOUT": "2"})
    with open_sockets() as socks:
        c = _connect(s.port)
        socks.append(c)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.recv(65536).startswith(b"HTTP/1.1 200")
        took = _wait_closed(c, 6)
        assert took is not None, "idle keep-alive connection still open after 6 s"
        assert 1.0 < took < 4.5, f"closed after {took:.1f}s, want ~2"


def test_unfinished_head_closed_after_short_timeout(server_factory):
    s = server_factory(env={"KEEPALIVE_TIMEOUT": "2"})
    with open_sockets() as socks:
        _open_trickling(s.port, 1, "127.0.0.1", socks)
        took = _wait_closed(socks[0], 6)
        assert took is not None, "unfinished request head still open after 6 s"
        assert 1.0 < took < 4.5, f"closed after {took:.1f}s, want ~2"


def test_slow_upload_keeps_long_timeout(server_factory):
    """The body pauses longer than KEEPALIVE_TIMEOUT between pieces and the
    upload still succeeds: a body in progress has the long timeout."""
    s = server_factory(env={"KEEPALIVE_TIMEOUT": "1"})
    u = make_user(s)
    data = bytes(range(256)) * 256  # 64 KiB
    body, ctype = multipart_body([("file", "slow.bin", data, "application/octet-stream")])
    head = (f"POST {API}/files/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {u.access_token}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with open_sockets() as socks:
        c = _connect(s.port)
        socks.append(c)
        c.sendall(head)
        pieces = [body[i:i + len(body) // 3 + 1] for i in range(0, len(body), len(body) // 3 + 1)]
        for p in pieces:
            time.sleep(1.6)
            c.sendall(p)
        c.settimeout(10)
        resp = b""
        while chunk := c.recv(65536):
            resp += chunk
    assert resp.startswith(b"HTTP/1.1 201"), resp[:300]


def test_slow_download_reader_keeps_long_timeout(server_factory):
    """A download whose reader stalls longer than KEEPALIVE_TIMEOUT completes;
    afterwards the idle keep-alive connection gets the short timeout again."""
    s = server_factory(env={"KEEPALIVE_TIMEOUT": "1"})
    u = make_user(s)
    size = 8 * 1024 * 1024
    f = upload_file(u.client, "big.bin", b"\x5a" * size)
    with open_sockets() as socks:
        c = _connect(s.port, rcvbuf=4096)
        socks.append(c)
        c.sendall((f"GET {API}/files/{f['id']}/download HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {u.access_token}\r\n\r\n").encode())
        c.settimeout(10)
        got = c.recv(65536)
        time.sleep(2.5)  # the server cannot send: no progress for longer than the short timeout
        head, _, rest = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:300]
        n = len(rest)
        while n < size:
            chunk = c.recv(1 << 20)
            assert chunk, f"connection closed after {n} of {size} bytes"
            n += len(chunk)
        assert n == size
        took = _wait_closed(c, 5)
        assert took is not None and took < 3.5, f"keep-alive after a download: {took}"


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def test_idle_keepalive_connections_stay_small(server_factory):
    """An idle keep-alive connection holds no read buffer (it is freed when
    a request completes), whatever CONNECTION_MEMORY is: under libmicrohttpd
    every connection that served a request kept its whole pool (1 MiB, later
    48K) resident."""
    s = server_factory(env={"CONNECTION_MEMORY": "1M"})
    n, socks = 200, []
    base = _rss_kib(s.proc.pid)
    try:
        for i in range(n):
            c = _connect(s.port, f"127.0.1.{1 + i // 50}")
            c.settimeout(5)
            for _ in range(2):   # the second request once reset libmicrohttpd's pool
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while not data.endswith(b"}"):
                    chunk = c.recv(4096)
                    assert chunk, "closed"
                    data += chunk
                assert data.startswith(b"HTTP/1.1 200"), data[:100]
            socks.append(c)
        grown = _rss_kib(s.proc.pid) - base
        if TIME_FACTOR == 1:   # a sanitized build's RSS says nothing about ours
            assert grown < 8 * n, f"{n} idle keep-alive connections added {grown} KiB"
    finally:
        for c in socks:
            c.close()


@pytest.mark.parametrize("var,value", [
    ("MAX_CONNECTIONS", "many"), ("MAX_CONNECTIONS", "0"), ("MAX_CONNECTIONS", "8"),
    ("MAX_CONNECTIONS", "100000"), ("MAX_CONNECTIONS_PER_IP", "-1"),
    ("MAX_CONNECTIONS_PER_IP", "8x"), ("KEEPALIVE_TIMEOUT", "0"), ("KEEPALIVE_TIMEOUT", "301"),
    ("KEEPALIVE_TIMEOUT", "soon"), ("CONNECTION_MEMORY", "8K"), ("CONNECTION_MEMORY", "17M"),
    ("CONNECTION_MEMORY", "big"),
])
def test_bad_value_stops_server(tmp_path, var, value):
    data = tmp_path / "data"
    data.mkdir()
    env = {"DATA_DIR": str(data), "HOST": "127.0.0.1", "PORT": str(free_port()),
           "LOG_LEVEL": "warn", var: value}
    try:
        p = subprocess.run([netradrive_bin(), "serve"], cwd=str(tmp_path), env=clean_env(env),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server with {var}={value} started (it should refuse)")
    err = p.stderr.decode("utf-8", "replace").strip()
    assert p.returncode == 1, f"exit {p.returncode}; stderr: {err}"
    assert len(err.splitlines()) == 1 and var in err, f"want one line naming {var}: {err!r}"

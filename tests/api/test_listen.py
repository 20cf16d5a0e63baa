"""The listening socket (http/listen.h, issue 12): a second server on a busy
port stops at once with one line naming PORT, before it touches its data
directory (no SO_REUSEPORT sharing the port, no spool cleared under the first
server); HOST takes IPv4 and IPv6 literals and localhost."""
import os
import socket
import subprocess
import time

import pytest
import requests

from helpers import API, TIME_FACTOR, clean_env, free_port, make_user, netradrive_bin, upload_file


def _serve_expect_fail(env, timeout=10):
    t0 = time.monotonic()
    p = subprocess.run([netradrive_bin(), "serve"], env=clean_env(env), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p, time.monotonic() - t0


def test_second_server_on_busy_port_refuses(server_factory, tmp_path):
    first = server_factory()
    u = make_user(first, "port")
    upload_file(u.client, "kept.txt", b"kept")
    spool = os.path.join(first.data_dir, "tmp")
    os.makedirs(spool, exist_ok=True)
    marker = os.path.join(spool, "in-flight-upload")
    with open(marker, "wb") as f:
        f.write(b"x")
    # Same port, same data directory: the worst case.
    p, took = _serve_expect_fail({"DATA_DIR": first.data_dir, "HOST": "127.0.0.1",
                                  "PORT": str(first.port), "LOG_LEVEL": "warn"})
    err = p.stderr.decode()
    assert p.returncode == 1, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == [f"netradrive: PORT: {first.port} is already in use on 127.0.0.1 "
                     "(is another server running?)"], err
    assert took < 5
    assert os.path.exists(marker), "the refused server cleared the running one's spool"
    # The first server still has every client.
    for _ in range(20):
        r = u.client.get(f"{API}/files/")
        assert r.status_code == 200 and [f["name"] for f in r.json()] == ["kept.txt"]


def test_busy_port_from_another_program(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p, _ = _serve_expect_fail({"DATA_DIR": str(tmp_path / "d"), "HOST": "127.0.0.1",
                                   "PORT": str(port), "LOG_LEVEL": "warn"})
        assert p.returncode == 1
        assert f"PORT: {port} is already in use" in p.stderr.decode()
        assert not (tmp_path / "d" / "netradrive.db").exists()
    finally:
        s.close()


def _has_ipv6():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host,connect", [
    ("localhost", "127.0.0.1"), ("::1", "[::1]"), ("[::1]", "[::1]"), ("::", "127.0.0.1"),
    ("::", "[::1]"), ("0.0.0.0", "127.0.0.1"),
])
def test_host_forms(server_factory, host, connect):
    if ":" in host and not _has_ipv6():
        pytest.skip("no IPv6 loopback here")
    r = None
    for _ in range(5):
        port = free_port()
        s = server_factory(env={"HOST": host, "PORT": str(port)}, port=port, start=False)
        s._spawn()
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while r is None:
            try:
                r = requests.get(f"http://{connect}:{port}/healthz", timeout=2 * TIME_FACTOR)
            except requests.ConnectionError:
                if s.proc.poll() is not None and "already in use" in s.stderr():
                    break   # a test on another worker took the port meanwhile: another one
                assert time.monotonic() < deadline, s.log()
                time.sleep(0.05)
        if r is not None:
            break
    assert r is not None and r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("host", ["no-such-host.invalid", "1.2.3.4.5", "::g"])
def test_bad_host_refused(tmp_path, host):
    p, took = _serve_expect_fail({"DATA_DIR": str(tmp_path / "d"), "HOST": host,
                                  "PORT": str(free_port()), "LOG_LEVEL": "warn"}, timeout=20)
    assert p.returncode == 1
    assert "HOST" in p.stderr.decode(), p.stderr

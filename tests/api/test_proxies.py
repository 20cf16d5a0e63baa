"""TRUSTED_PROXIES (issue 10): behind a reverse proxy the client is the
address the proxy forwards (X-Forwarded-For, else RFC 7239 Forwarded), but
only when the TCP peer is a trusted proxy; login and share-password
throttling then count real clients, not the proxy. Unset, the headers are
ignored. A bad entry stops the start with one line."""
import subprocess
import time
import uuid

import pytest

from helpers import API, assert_error, clean_env, free_port, make_user, netradrive_bin, \
    upload_file

BAD_LOGIN = "Incorrect username or password"
LOGIN_429 = "Too many failed login attempts. Try again later."
SHARE_429 = "Too many wrong passwords; try again later"
BAD_ENTRY = "netradrive: TRUSTED_PROXIES: must be a comma list of IP addresses or CIDR ranges " \
            "(bad entry '{}')"


def _login(client, user, password, headers=None):
    return client.post(f"{API}/auth/token", data={"username": user.username, "password": password},
                       headers=headers or {})


def _xff(addr):
    return {"X-Forwarded-For": addr}


def _lock_out(client, user, headers, failures=5):
    for i in range(failures):
        assert_error(_login(client, user, f"wrong-{i}-password", headers), 401, BAD_LOGIN)


# ---------------------------------------------------------------- login throttling

def test_trusted_proxy_throttles_each_forwarded_client(server_factory):
    """With TRUSTED_PROXIES=127.0.0.1 (the tests' own address), 5 wrong passwords
    from X-Forwarded-For 203.0.113.5 lock that address, not the proxy."""
    s = server_factory(env={"TRUSTED_PROXIES": "127.0.0.1"})
    victim, other = make_user(s, prefix="pxa"), make_user(s, prefix="pxb")
    c = s.client()
    _lock_out(c, victim, _xff("203.0.113.5"))
    # the account and the forwarded address are locked ...
    assert_error(_login(c, victim, victim.password, _xff("203.0.113.6")), 429, LOGIN_429)
    assert_error(_login(c, other, other.password, _xff("203.0.113.5")), 429, LOGIN_429)
    # ... the same client seen through a second trusted hop, or with a spoofed left part
    assert_error(_login(c, other, other.password, _xff("203.0.113.5, 127.0.0.1")), 429,
                 LOGIN_429)
    assert_error(_login(c, other, other.password, _xff("198.51.100.9, 203.0.113.5")), 429,
                 LOGIN_429)
    # ... but another client behind the same proxy still logs in, as does the proxy itself
    r = _login(c, other, other.password, _xff("203.0.113.6"))
    assert r.status_code == 200, r.text
    r = _login(c, other, other.password)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("trusted", [None, "10.0.0.0/8, ::1"])
def test_untrusted_peer_forwarding_headers_ignored(server_factory, trusted):
    """Unset, or a list without the peer: a spoofed header does not dodge the lock."""
    s = server_factory(env={"TRUSTED_PROXIES": trusted})
    victim, other = make_user(s, prefix="pxc"), make_user(s, prefix="pxd")
    c = s.client()
    for i in range(5):   # a new "address" each time: all are the peer 127.0.0.1
        assert_error(_login(c, victim, "wrong-password", _xff(f"203.0.113.{i + 10}")), 401,
                     BAD_LOGIN)
    assert_error(_login(c, other, other.password, _xff("203.0.113.99")), 429, LOGIN_429)
    assert_error(_login(c, other, other.password, {"Forwarded": "for=203.0.113.99"}), 429,
                 LOGIN_429)
    assert_error(_login(c, other, other.password), 429, LOGIN_429)


def test_forwarded_header(server_factory):
    """RFC 7239 Forwarded when there is no X-Forwarded-For: quoted, IPv6 in
    brackets, the port stripped."""
    s = server_factory(env={"TRUSTED_PROXIES": "127.0.0.1", "LOGIN_MAX_FAILURES": "2"})
    victim, other = make_user(s, prefix="pxe"), make_user(s, prefix="pxf")
    c = s.client()
    _lock_out(c, victim, {"Forwarded": 'for="[2001:db8::5]:4711";proto=https'}, failures=2)
    # the same client, another port and spelling: locked
    assert_error(_login(c, other, other.password,
                        {"Forwarded": 'for="[2001:DB8:0::5]:9", for=127.0.0.1'}), 429, LOGIN_429)
    r = _login(c, other, other.password, {"Forwarded": "for=203.0.113.6"})
    assert r.status_code == 200, r.text
    # X-Forwarded-For, when present, is the one believed
    r = _login(c, other, other.password,
               {"Forwarded": 'for="[2001:db8::5]"', "X-Forwarded-For": "203.0.113.6"})
    assert r.status_code == 200, r.text


def test_malformed_or_unknown_falls_back_to_peer(server_factory):
    s = server_factory(env={"TRUSTED_PROXIES": "127.0.0.1", "LOGIN_MAX_FAILURES": "2"})
    victim, other = make_user(s, prefix="pxg"), make_user(s, prefix="pxh")
    c = s.client()
    # these count against the peer, 127.0.0.1
    assert_error(_login(c, victim, "wrong-password", _xff("203.0.113.5:80")), 401, BAD_LOGIN)
    assert_error(_login(c, victim, "wrong-password", {"Forwarded": "for=unknown"}), 401,
                 BAD_LOGIN)
    for h in ({}, _xff("not-an-address"), {"Forwarded": "for=_hidden"},
              {"Forwarded": 'for="203.0.113.7'}, {"Forwarded": "for=::1"}):
        assert_error(_login(c, other, other.password, h), 429, LOGIN_429)
    r = _login(c, other, other.password, _xff("203.0.113.7"))
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- share passwords

def test_share_password_throttle_per_forwarded_client(server_factory):
    s = server_factory(env={"TRUSTED_PROXIES": "127.0.0.0/8"})
    owner = make_user(s, prefix="pxs")
    f = upload_file(owner.client, "p.bin", b"proxy share\n")
    r = owner.client.post(f"{API}/share/generate/{f['id']}", json={"password": "right-pw"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    anon = s.client()

    def get(pw, addr):
        return anon.get(f"/s/{sid}", headers={"X-Share-Password": pw, **_xff(addr)})

    for _ in range(10):
        assert_error(get("wrong", "203.0.113.5"), 401, "Password required")
    assert_error(get("right-pw", "203.0.113.5"), 429, SHARE_429)
    r = get("right-pw", "203.0.113.6")
    assert r.status_code == 200 and r.content == b"proxy share\n", r.text


# ---------------------------------------------------------------- configuration

def _run_serve(tmp_path, value):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {"DATA_DIR": str(data), "HOST": "127.0.0.1", "PORT": str(free_port()),
           "LOG_LEVEL": "warn", "TRUSTED_PROXIES": value}
    t0 = time.monotonic()
    p = subprocess.run([netradrive_bin(), "serve"], cwd=str(tmp_path), env=clean_env(env),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    return p, time.monotonic() - t0


@pytest.mark.parametrize("value,entry", [
    ("10.0.0.0/33", "10.0.0.0/33"), ("localhost", "localhost"), ("127.0.0.1, ::1/129", "::1/129"),
    ("10.0.0.0/8,,::1", ""), ("10.0.0.0/8,", ""), ("10.0.0.1:8080", "10.0.0.1:8080"),
    ("fe80::1%eth0", "fe80::1%eth0"), ("10.0.0.0/8 fd00::/8", "10.0.0.0/8 fd00::/8"),
])
def test_bad_trusted_proxies_stop_the_start(netradrive_bin, tmp_path, value, entry):
    p, took = _run_serve(tmp_path, value)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1, f"exit {p.returncode}; stderr: {err}"
    assert err.splitlines() == [BAD_ENTRY.format(entry)], err
    assert took < 5


def test_too_many_trusted_proxies(netradrive_bin, tmp_path):
    p, _ = _run_serve(tmp_path, ",".join(f"10.0.{i}.0/24" for i in range(65)))
    assert p.returncode == 1
    assert p.stderr.decode().splitlines() == ["netradrive: TRUSTED_PROXIES: at most 64 entries"]


def test_good_trusted_proxies_accepted(server_factory):
    s = server_factory(env={"TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8,"
                                               + ",".join(f"192.168.{i}.0/24" for i in range(60))})
    assert s.client().get("/healthz").status_code == 200


# ---------------------------------------------------------------- the access log

@pytest.mark.parametrize("trusted,want", [(None, "127.0.0.1"), ("127.0.0.1", "203.0.113.7")])
def test_access_log_names_the_client(server_factory, trusted, want):
    """The access log line names the client as the throttles see it: the
    forwarded address only when the peer is a trusted proxy."""
    env = {"LOG_LEVEL": "info"}
    if trusted:
        env["TRUSTED_PROXIES"] = trusted
    s = server_factory(env=env)
    c = s.client()
    # A path no route serves is logged as it is: this request's line alone
    # (the harness's start-up checks are /healthz lines too).
    probe = f"/logprobe-{uuid.uuid4().hex}"
    r = c.get(probe, headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 404
    # The line is written when the request completes, just after the reply.
    deadline = time.monotonic() + 5
    lines = []
    while not lines and time.monotonic() < deadline:
        lines = [ln for ln in s.stderr().splitlines() if f"route={probe} " in ln]
        time.sleep(0.05)
    assert len(lines) == 1, s.log()
    assert f" client={want} " in lines[-1] + " ", lines[-1]

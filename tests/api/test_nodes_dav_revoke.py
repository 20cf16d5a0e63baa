"""WebDAV credentials revoked on one node end on the others (issue 15 with
issue 13's several nodes; src/drive/cred_bus.c), and so do API access tokens
a password reset voids. Each node caches a verified
Basic credential for a minute (credcache, CREDCACHE_TTL_MS); revoking an app
password or resetting the password on node A must end node B's cached
acceptance within a few seconds (PostgreSQL LISTEN/NOTIFY), not when B's
entry expires. PostgreSQL only (several nodes need it)."""
import time

import pytest
import requests

from helpers import API, POSTGRES, TIME_FACTOR, make_user

pg_only = pytest.mark.skipif(not POSTGRES, reason="several nodes need PostgreSQL "
                             "(NETRADRIVE_DATABASE=postgres, tools/test.sh)")

NODE_ENV = {"STORAGE_BACKEND": "local", "SHARED_DATA_DIR": "true",
            "MAX_CONNECTIONS_PER_IP": "0", "LOGIN_MAX_FAILURES": "1000"}
PUBLIC_URL = "http://drive.example:8080"
CACHE_TTL_S = 60
TOKEN_TTL_S = 10   # credcache.h CREDCACHE_TOKEN_TTL_MS
# How long node B may go on accepting a revoked credential: the notification
# takes milliseconds; the bound stays far below the cache's minute, so
# the test cannot pass by the entry expiring.
BOUND_S = 5 * TIME_FACTOR
assert BOUND_S < CACHE_TTL_S / 2


def propfind(server, login, secret):
    r = requests.request("PROPFIND", f"{server.url}/dav/", headers={"Depth": "0"},
                         auth=(login, secret), timeout=30)
    assert r.status_code in (207, 401), (r.status_code, r.text[:300])
    return r.status_code


def cached_on(server, login, secret):
    """Proves the credential on `server` twice: the first check puts it in
    that node's cache, the second is answered from it."""
    assert propfind(server, login, secret) == 207
    assert propfind(server, login, secret) == 207


def refused_within(server, login, secret, bound_s):
    """Seconds until `server` refuses the credential; fails past bound_s."""
    start = time.monotonic()
    while True:
        status = propfind(server, login, secret)
        took = time.monotonic() - start
        if status == 401:
            return took
        assert took < bound_s, (f"{server.url} still accepts the revoked credential "
                                f"{took:.1f}s after the revocation on the other node")
        time.sleep(0.05)


@pg_only
def test_app_password_revoked_on_a_ends_on_b(server_factory):
    a = server_factory(env=NODE_ENV)
    b = server_factory(env=NODE_ENV, data_dir=a.data_dir)
    u = make_user(a, "apn")
    r = u.client.post(f"{API}/users/me/app-passwords", json={"name": "mount"})
    assert r.status_code == 201, r.text
    gone = r.json()
    r = u.client.post(f"{API}/users/me/app-passwords", json={"name": "kept"})
    assert r.status_code == 201, r.text
    kept = r.json()
    for node in (a, b):
        cached_on(node, u.username, gone["password"])
        cached_on(node, u.username, kept["password"])

    r = u.client.delete(f"{API}/users/me/app-passwords/{gone['id']}")
    assert r.status_code == 204, r.text
    # Node A forgot it at once; node B hears it from A.
    assert propfind(a, u.username, gone["password"]) == 401
    refused_within(b, u.username, gone["password"], BOUND_S)
    # For good, on both; the other app password and the account password
    # still work everywhere (checked again, not from a cache).
    for node in (a, b):
        assert propfind(node, u.username, gone["password"]) == 401
        assert propfind(node, u.username, kept["password"]) == 207
        assert propfind(node, u.username, u.password) == 207


@pg_only
def test_password_reset_on_a_ends_the_old_password_on_b(server_factory, smtp_sink):
    # A mails the reset link; B has no mail set up, so its signups are
    # verified at once (the same database either way).
    a = server_factory(env={**NODE_ENV, "SMTP_URL": smtp_sink.url,
                            "SMTP_FROM": "netradrive@drive.example", "PUBLIC_URL": PUBLIC_URL})
    b = server_factory(env=NODE_ENV, data_dir=a.data_dir)
    cached_at = time.monotonic()  # B remembers u's access token from make_user's call on
    u = make_user(b, "rsn")
    cached_on(b, u.username, u.password)
    cached_on(b, u.email, u.password)

    r = a.client().post(f"{API}/auth/forgot-password", json={"email": u.email})
    assert r.status_code == 200, r.text
    token = smtp_sink.wait_for(u.email).token(PUBLIC_URL, "reset-password")
    new_pw = "after-reset-" + u.password
    # The API's access token too: B remembers whose it is (credcache) and
    # must forget it with the reset, not when the entry expires.
    time.sleep(1.1)   # token times are whole seconds: it was issued before the reset's
    bearer = {"Authorization": f"Bearer {u.access_token}"}
    for _ in range(2):
        assert requests.get(f"{b.url}{API}/users/me", headers=bearer, timeout=30).status_code == 200
    r = a.client().post(f"{API}/auth/reset-password",
                        json={"token": token, "new_password": new_pw})
    assert r.status_code == 200, r.text

    refused_within(b, u.username, u.password, BOUND_S)
    refused_within(b, u.email, u.password, BOUND_S)
    while (requests.get(f"{b.url}{API}/users/me", headers=bearer, timeout=30).status_code == 200
           and time.monotonic() - cached_at < 2 * TOKEN_TTL_S):
        time.sleep(0.05)
    # Refused before B's entry could have expired (CREDCACHE_TOKEN_TTL_MS).
    assert time.monotonic() - cached_at < TOKEN_TTL_S, "B forgot the token only by expiry"
    for node in (a, b):
        assert propfind(node, u.username, u.password) == 401
        assert propfind(node, u.username, new_pw) == 207

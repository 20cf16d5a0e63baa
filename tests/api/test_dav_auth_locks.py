"""WebDAV (issue 15): HTTP Basic over /dav/ with the account password and app
passwords (revocation at once, failures in the login throttle), the access
log naming the WebDAV caller, and a depth-0 LOCK on a collection guarding
its membership (RFC 4918 §7.3, §9.10)."""
import re
import time

import requests

from helpers import API, make_user

LOCKINFO = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype>'
            b'<D:owner>tester</D:owner></D:lockinfo>')


def dav(server, auth, method, path, data=None, headers=None):
    return requests.request(method, f"{server.url}/dav{path}", data=data, headers=headers or {},
                            auth=auth, timeout=60)


def app_password(user, name="dav"):
    r = user.client.post(f"{API}/users/me/app-passwords", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def test_basic_auth_passwords_and_revocation(server, user):
    u = user
    ap = app_password(u)
    for login in (u.username, u.email):
        r = dav(server, (login, u.password), "PROPFIND", "/", headers={"Depth": "0"})
        assert r.status_code == 207, (login, r.status_code)
    r = dav(server, (u.username, ap["password"]), "PUT", "/by-app.txt", data=b"app")
    assert r.status_code == 201
    r = dav(server, (u.username, ap["password"]), "GET", "/by-app.txt")
    assert r.status_code == 200 and r.content == b"app"
    # Revoked: the very next request fails, though the credential was cached.
    r = u.client.delete(f"{API}/users/me/app-passwords/{ap['id']}")
    assert r.status_code in (200, 204), r.text
    r = dav(server, (u.username, ap["password"]), "GET", "/by-app.txt")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Basic realm="NetraDrive"')
    # Another app password still works; the account password too.
    ap2 = app_password(u, "second")
    assert dav(server, (u.username, ap2["password"]), "GET", "/by-app.txt").status_code == 200
    assert dav(server, (u.username, u.password), "GET", "/by-app.txt").status_code == 200


def test_wrong_dav_passwords_count_in_the_login_throttle(server_factory):
    s = server_factory(env={"LOGIN_MAX_FAILURES": "3", "LOGIN_WINDOW_SECONDS": "60"})
    v = make_user(s, "davt")
    for i in range(3):
        r = dav(s, (v.username, f"wrong-{i}"), "PROPFIND", "/", headers={"Depth": "0"})
        assert r.status_code == 401, i
    for pw in ("wrong-again", v.password):   # locked: even the right password
        r = dav(s, (v.username, pw), "PROPFIND", "/", headers={"Depth": "0"})
        assert r.status_code == 429, pw
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    # The API login shares the throttle.
    r = requests.post(f"{s.url}{API}/auth/token",
                      data={"username": v.username, "password": v.password}, timeout=30)
    assert r.status_code == 429


def test_access_log_names_the_dav_user(server_factory):
    s = server_factory(env={"LOG_LEVEL": "info"})
    u = make_user(s, "davl")
    ids = []
    for _ in range(2):   # the first checks the password off the poll thread, the second hits the cache
        r = dav(s, (u.username, u.password), "PROPFIND", "/", headers={"Depth": "0"})
        assert r.status_code == 207
        ids.append(r.headers["X-Request-Id"])
    r = dav(s, (u.username, "wrong"), "PROPFIND", "/", headers={"Depth": "0"})
    assert r.status_code == 401
    ids.append(r.headers["X-Request-Id"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(f"id={i}" in s.log() for i in ids):
        time.sleep(0.1)
    lines = {i: [ln for ln in s.log().splitlines() if f"id={i}" in ln and " request " in ln]
             for i in ids}
    for i in ids[:2]:
        assert len(lines[i]) == 1 and f"user={u.id}" in lines[i][0], lines[i]
        assert "route=/dav" in lines[i][0]
    assert len(lines[ids[2]]) == 1 and "user=- " in lines[ids[2]][0], lines[ids[2]]


def _lock(s, auth, path, depth="0"):
    r = dav(s, auth, "LOCK", path, data=LOCKINFO,
            headers={"Depth": depth, "Timeout": "Second-600", "Content-Type": "application/xml"})
    assert r.status_code in (200, 201), (r.status_code, r.text)
    token = r.headers["Lock-Token"].strip("<>")
    assert re.search(r"<D:depth>%s</D:depth>" % depth, r.text)
    return token


def test_depth0_collection_lock_guards_membership(server, user):
    s, auth = server, (user.username, user.password)
    for p in ("/locked", "/locked/sub", "/other"):
        assert dav(s, auth, "MKCOL", p).status_code == 201
    assert dav(s, auth, "PUT", "/locked/inside.txt", data=b"in").status_code == 201
    assert dav(s, auth, "PUT", "/other/o.txt", data=b"o").status_code == 201
    token = _lock(s, auth, "/locked")
    dest = f"{s.url}/dav"
    # Without the token, members can be neither added nor removed: 423.
    assert dav(s, auth, "PUT", "/locked/new.txt", data=b"x").status_code == 423
    assert dav(s, auth, "MKCOL", "/locked/newdir").status_code == 423
    assert dav(s, auth, "DELETE", "/locked/inside.txt").status_code == 423
    assert dav(s, auth, "DELETE", "/locked/sub").status_code == 423
    r = dav(s, auth, "MOVE", "/locked/inside.txt", headers={"Destination": f"{dest}/other/m.txt"})
    assert r.status_code == 423
    r = dav(s, auth, "MOVE", "/other/o.txt", headers={"Destination": f"{dest}/locked/o.txt"})
    assert r.status_code == 423
    r = dav(s, auth, "COPY", "/other/o.txt", headers={"Destination": f"{dest}/locked/c.txt"})
    assert r.status_code == 423
    r = dav(s, auth, "LOCK", "/locked/lock-null.txt", data=LOCKINFO, headers={"Depth": "0"})
    assert r.status_code == 423
    names = [m for m in ("new.txt", "newdir", "o.txt", "c.txt", "lock-null.txt")
             if dav(s, auth, "PROPFIND", f"/locked/{m}", headers={"Depth": "0"}).status_code != 404]
    assert names == []
    # A depth-0 lock guards only the membership: a member's content and what
    # lies deeper are not locked.
    assert dav(s, auth, "PUT", "/locked/inside.txt", data=b"changed").status_code == 204
    assert dav(s, auth, "PUT", "/locked/sub/deep.txt", data=b"deep").status_code == 201
    assert dav(s, auth, "DELETE", "/locked/sub/deep.txt").status_code == 204
    # With the token (untagged, or tagged with the collection) the changes go through.
    untagged = {"If": f"(<{token}>)"}
    tagged = {"If": f"<{dest}/locked/> (<{token}>)"}
    assert dav(s, auth, "PUT", "/locked/new.txt", data=b"x", headers=untagged).status_code == 201
    assert dav(s, auth, "MKCOL", "/locked/newdir", headers=tagged).status_code == 201
    # A MOVE in from elsewhere: an untagged list applies to the source (RFC 4918
    # §10.4.3), where the token names no lock (412); tagged with the collection.
    r = dav(s, auth, "MOVE", "/other/o.txt",
            headers=dict(untagged, Destination=f"{dest}/locked/o.txt"))
    assert r.status_code == 412
    r = dav(s, auth, "MOVE", "/other/o.txt",
            headers=dict(tagged, Destination=f"{dest}/locked/o.txt"))
    assert r.status_code == 201
    assert dav(s, auth, "DELETE", "/locked/new.txt", headers=untagged).status_code == 204
    # A token of a lock elsewhere does not do.
    other = _lock(s, auth, "/other")
    r = dav(s, auth, "DELETE", "/locked/o.txt", headers={"If": f"(<{other}>)"})
    assert r.status_code == 412
    # Unlocked: free again.
    r = dav(s, auth, "UNLOCK", "/locked", headers={"Lock-Token": f"<{token}>"})
    assert r.status_code == 204
    assert dav(s, auth, "DELETE", "/locked/o.txt").status_code == 204
    assert dav(s, auth, "PUT", "/locked/after.txt", data=b"a").status_code == 201

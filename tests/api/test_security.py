"""Security: the cross-user matrix (another user's object is always a 404 and
is never changed), malformed ids and bodies, raw-HTTP robustness, and forged /
wrong-type / expired access tokens."""
import http.client
import json
import socket
import time
import uuid

import pytest
import requests

from helpers import (API, NOT_AN_OBJECT, assert_error, assert_folder, bin_folder, create_folder,
                     decode_jwt, forge_jwt, json_syntax, list_folders, make_user)

SECRET = "test-secret-" + "k" * 52      # 64 bytes, known to the forging tests
SERVER_ENV = {"SECRET_KEY": SECRET, "LOGIN_MAX_FAILURES": "1000"}
BAD_CREDS = "Could not validate credentials"

TYPES = ["folder", "folders"]


# ---------------------------------------------------------------- cross-user matrix

@pytest.fixture(scope="module")
def world(server):
    """Alice's folders (of every state) and Bob, who must not reach any of them."""
    alice = make_user(server, prefix="alice")
    bob = make_user(server, prefix="bob")
    ca = alice.client
    top = create_folder(ca, "A-top")
    child = create_folder(ca, "A-child", top["id"])
    grandchild = create_folder(ca, "A-grandchild", child["id"])
    starred = create_folder(ca, "A-starred")
    assert ca.put(f"{API}/folders/{starred['id']}/star").status_code == 200
    binned = create_folder(ca, "A-binned")
    binned_kid = create_folder(ca, "A-binned-kid", binned["id"])
    bin_folder(ca, binned["id"])
    b_own = create_folder(bob.client, "B-own")
    ids = {"top": top["id"], "child": child["id"], "grandchild": grandchild["id"],
           "starred": starred["id"], "binned": binned["id"], "binned_kid": binned_kid["id"]}
    return {"alice": alice, "bob": bob, "ids": ids, "b_own": b_own,
            "snapshot": _snapshot(alice, ids)}


def _snapshot(alice, ids):
    c = alice.client
    snap = {"tree": c.get(f"{API}/folders/tree").json(),
            "root": list_folders(c)[0],
            "bin": list_folders(c, include_deleted="true")[0],
            "starred": list_folders(c, is_starred="true")[0]}
    for key, fid in ids.items():
        snap[f"path:{key}"] = c.get(f"{API}/folders/{fid}/path").json() \
            if not key.startswith("binned") else None
        snap[f"kids:{key}"] = list_folders(c, parent_id=fid)[0] \
            if not key.startswith("binned") else \
            list_folders(c, parent_id=fid, include_deleted="true")[0]
    return snap


def _bob_requests(world, fid):
    """(label, callable) for every folder/item route Bob can aim at `fid`."""
    cb = world["bob"].client
    reqs = [("GET path", lambda: cb.get(f"{API}/folders/{fid}/path")),
            ("GET one", lambda: cb.get(f"{API}/folders/{fid}")),
            ("DELETE", lambda: cb.delete(f"{API}/folders/{fid}")),
            ("POST create in", lambda: cb.post(f"{API}/folders",
                                               json={"name": "intruder", "parent_id": fid})),
            ("list parent", lambda: cb.get(f"{API}/folders", params={"parent_id": fid})),
            ("list bin parent", lambda: cb.get(f"{API}/folders", params={
                "parent_id": fid, "include_deleted": "true"})),
            ("list starred parent", lambda: cb.get(f"{API}/folders", params={
                "parent_id": fid, "is_starred": "true"}))]
    for t in TYPES:
        for action, body in (("bin", None), ("restore", None), ("rename", {"new_name": "pwned"}),
                             ("move", {"new_parent_id": None}), ("star", None),
                             ("unstar", None)):
            reqs.append((f"PUT {t}/{action}",
                         (lambda t=t, action=action, body=body:
                          cb.put(f"{API}/{t}/{fid}/{action}", json=body))))
        reqs.append((f"PUT {t}/move B's folder into A's",
                     (lambda t=t: cb.put(f"{API}/{t}/{world['b_own']['id']}/move",
                                         json={"new_parent_id": fid}))))
    return reqs


@pytest.mark.parametrize("key", ["top", "child", "grandchild", "starred", "binned", "binned_kid"])
def test_cross_user_404(world, key):
    fid = world["ids"][key]
    fails = []
    for label, call in _bob_requests(world, fid):
        r = call()
        if r.status_code != 404:
            fails.append(f"{label}: {r.status_code} {r.text[:200]}")
        else:
            assert_error(r, 404, "Folder not found")
    assert not fails, "Bob reached Alice's folder:\n" + "\n".join(fails)


def test_cross_user_404_same_as_missing(world):
    """The 404 for another user's id is indistinguishable from a missing id."""
    missing = "doesnotexist" + uuid.uuid4().hex[:8]
    fid = world["ids"]["top"]
    for (label, foreign), (_, absent) in zip(_bob_requests(world, fid),
                                              _bob_requests(world, missing)):
        a, b = foreign(), absent()
        assert a.status_code == b.status_code == 404, label
        assert a.json() == b.json(), f"{label}: {a.json()} vs {b.json()}"


def test_cross_user_listings_do_not_leak(world):
    cb = world["bob"].client
    alice_ids = set(world["ids"].values())
    seen = []
    for params in ({}, {"parent_id": "root"}, {"include_deleted": "true"},
                   {"is_starred": "true"}, {"is_starred": "true", "parent_id": "root"}):
        seen += [f["id"] for f in list_folders(cb, **params)[0]]
    tree = cb.get(f"{API}/folders/tree").json()
    stack = list(tree)
    while stack:
        n = stack.pop()
        seen.append(n["id"])
        stack.extend(n.get("children", []))
    assert not alice_ids & set(seen)
    for f in list_folders(cb)[0]:
        assert f["owner_id"] == world["bob"].id


def test_cross_user_alice_unchanged(world):
    """Runs after the matrix: nothing Bob did changed Alice's data."""
    assert _snapshot(world["alice"], world["ids"]) == world["snapshot"]
    # and Bob's own folder is still in Bob's root
    listed = list_folders(world["bob"].client)[0]
    assert [f["id"] for f in listed] == [world["b_own"]["id"]]
    assert_folder(listed[0], parent_id=None, owner_id=world["bob"].id)


# ---------------------------------------------------------------- malformed ids

BAD_IDS = ["nonexistent", "0", "-1", "1e309", "%27%20OR%20%271%27%3D%271", "%00", "%FF%FE",
           "..%2F..%2Fetc", "%E2%80%AE", "%25", "a" * 2000, "null", "undefined",
           "%22%3B%20DROP%20TABLE%20folders%3B--", "%7B%7D", "%5B%5D"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda s: s[:30])
def test_malformed_ids_404(user, bad):
    c = user.client
    calls = [("GET", f"{API}/folders/{bad}/path", None),
             ("GET", f"{API}/folders/{bad}", None),
             ("DELETE", f"{API}/folders/{bad}", None),
             ("PUT", f"{API}/folders/{bad}/bin", None),
             ("PUT", f"{API}/folder/{bad}/restore", None),
             ("PUT", f"{API}/folders/{bad}/rename", {"new_name": "x"}),
             ("PUT", f"{API}/folder/{bad}/move", {"new_parent_id": None}),
             ("PUT", f"{API}/folders/{bad}/star", None),
             ("PUT", f"{API}/folders/{bad}/unstar", None)]
    fails = []
    for method, path, body in calls:
        r = c.request(method, path, json=body)
        if r.status_code != 404:
            fails.append(f"{method} {path[:80]}: {r.status_code} {r.text[:200]}")
        else:
            # a decoded %2F makes more path segments: no route matches
            assert_error(r, 404, "Not Found" if "%2F" in bad else "Folder not found")
    assert not fails, "\n".join(fails)


@pytest.mark.parametrize("bad", ["nonexistent", "' OR '1'='1", "\u0000", "\u202e", "a" * 2000,
                                 "../../etc/passwd", "%", "*"], ids=lambda s: repr(s[:20]))
def test_malformed_parent_ids_404(user, bad):
    c = user.client
    assert_error(c.post(f"{API}/folders", json={"name": "x", "parent_id": bad}), 404,
                 "Folder not found")
    assert_error(c.get(f"{API}/folders", params={"parent_id": bad}), 404, "Folder not found")
    f = create_folder(c, "mover-" + uuid.uuid4().hex[:8])
    assert_error(c.put(f"{API}/folders/{f['id']}/move", json={"new_parent_id": bad}), 404,
                 "Folder not found")


def test_sql_metacharacters_in_names_roundtrip(user):
    c = user.client
    box = create_folder(c, "sqlbox-" + uuid.uuid4().hex[:8])
    for name in ("'; DROP TABLE folders; --", "\" OR 1=1 --", "%", "_", "a%_b", "\\", "--",
                 "$1", "?", "Robert'); DELETE FROM users;--"):
        f = create_folder(c, name, box["id"])
        assert f["name"] == name
    listed, total = list_folders(c, parent_id=box["id"])
    assert total == 10
    assert user.client.get(f"{API}/users/me").status_code == 200


# ---------------------------------------------------------------- bodies

MALFORMED_JSON = [
    (b"{", json_syntax(1, 1)),
    (b"[]", NOT_AN_OBJECT),
    (b"null", json_syntax(1, 4)),
    (b'"str"', json_syntax(1, 5)),
    (b"123", json_syntax(1, 3)),
    (b'{"name": }', json_syntax(1, 10)),
    (b'{"name": "x"} garbage', json_syntax(1, 21)),
    (b"\xff\xfe", json_syntax(1, 0)),
    (b'{"name": "x", }', json_syntax(1, 15)),
    # nesting stops at the parser's depth limit (2048), long before the stack is at risk
    (b"[" * 20000 + b"]" * 20000, json_syntax(1, 2049)),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000,
     json_syntax(1, 10241)),
]


@pytest.mark.parametrize("raw,detail", MALFORMED_JSON,
                         ids=[repr(raw[:20])[2:-1] for raw, _ in MALFORMED_JSON])
def test_malformed_json_422(user, raw, detail):
    r = user.client.post(f"{API}/folders", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 422, detail)


def test_empty_body_on_json_route(user):
    r = user.client.post(f"{API}/folders", data=b"", headers={"Content-Type": "application/json"})
    assert_error(r, 422, "Malformed JSON body: Request body must be a JSON object")
    r = user.client.post(f"{API}/folders", data=b"")
    assert "Content-Type" not in r.request.headers
    assert_error(r, 415, "Content-Type must be application/json")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/xml",
                                   "application/jsonx", "text/json"])
def test_wrong_content_type_415(user, ctype):
    r = user.client.post(f"{API}/folders", data=b'{"name":"ct"}', headers={"Content-Type": ctype})
    assert_error(r, 415, "Content-Type must be application/json")


def test_json_with_charset_accepted(user):
    name = "charset-" + uuid.uuid4().hex[:8]
    r = user.client.post(f"{API}/folders", data=json.dumps({"name": name}).encode(),
                         headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_body_limit_64k(user):
    c = user.client
    ok = {"name": "big-ok-" + uuid.uuid4().hex[:8], "pad": "x" * 60000}
    assert c.post(f"{API}/folders", json=ok).status_code == 201
    big = {"name": "big-no", "pad": "x" * (64 * 1024)}
    assert_error(c.post(f"{API}/folders", json=big), 413, "Request body too large")
    huge = {"name": "huge-no", "pad": "x" * (1024 * 1024)}
    assert_error(c.post(f"{API}/folders", json=huge), 413, "Request body too large")
    assert "big-no" not in [f["name"] for f in list_folders(c, limit=10000)[0]]


def test_body_limit_64k_chunked(user):
    def gen():
        yield b'{"name": "chunked-no", "pad": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'
    r = user.client.post(f"{API}/folders", data=gen(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "Request body too large")

    def small():
        yield b'{"name": "chunked-'
        yield uuid.uuid4().hex[:8].encode()
        yield b'"}'
    r = user.client.post(f"{API}/folders", data=small(),
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- raw HTTP robustness

def _raw(port, payload, timeout=10, until_close=False):
    """Sends `payload`; returns what came back up to the end of the response head
    (or up to EOF with until_close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        chunks = []
        while True:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            chunks.append(d)
            if not until_close and b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)
    finally:
        s.close()


def _status(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


# expect: the status of the answer (a request line that does not parse is a 400
# with our JSON body, and the connection closed).
@pytest.mark.parametrize("payload,expect", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
    (b"POST /api/v1/folders HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    # no token: the route refuses before it reads (and would parse) the chunked body
    (b"POST /api/v1/folders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     401),
    (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 300000 + b"\r\n\r\n", 431),
    # a raw NUL or control byte in the request line: refused (RFC 9112 §3)
    (b"GET /\x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
], ids=["garbage", "no-target", "bad-version", "neg-length", "bad-length", "bad-chunk",
        "long-uri", "huge-header", "nul-in-uri"])
def test_raw_http_garbage(server, payload, expect):
    try:
        resp = _raw(server.port, payload)
    except (BrokenPipeError, ConnectionResetError):
        resp = b""
    assert _status(resp) == expect, resp[:300]
    assert server.alive()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_request_head_is_capped(server):
    # The server caps the head itself (32 KiB of header fields, 16 KiB of
    # URI); CONNECTION_MEMORY is only the upload read size.
    h = {"X-Filler": "h" * 16000}
    assert requests.get(server.url + "/healthz", headers=h, timeout=10).status_code == 200
    r = requests.get(server.url + "/healthz", headers={"X-Filler": "h" * 40000}, timeout=10)
    assert r.status_code == 431, r.status_code
    assert r.json() == {"detail": "Request header fields too large"}
    # A head that grows past what the server reads for one (the caps plus
    # the request line) is refused as soon as it is that long: the same
    # status and JSON, and the connection closed.
    resp = _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"h" * 600000
                + b"\r\n\r\n", until_close=True)
    assert _status(resp) == 431, resp[:300]
    assert b"\r\nConnection: close\r\n" in resp.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    assert resp.split(b"\r\n\r\n", 1)[1] == b'{"detail":"Request header fields too large"}'
    many = {f"X-F{i}": "v" * 1000 for i in range(40)}   # many small ones add up
    r = requests.get(server.url + "/healthz", headers=many, timeout=10)
    assert r.status_code == 431 and r.json() == {"detail": "Request header fields too large"}
    r = requests.get(server.url + "/api/v1/files/search/", params={"q": "q" * 8000}, timeout=10)
    assert_error(r, 401, "Not authenticated")   # within the cap: the route answers
    for path, params in (("/healthz", {"q": "q" * 20000}), ("/" + "a" * 20000, None)):
        r = requests.get(server.url + path, params=params, timeout=10)
        assert r.status_code == 414, r.status_code
        assert r.json() == {"detail": "URI too long"}
    # An upload whose head is too big is refused before its body is read.
    r = requests.post(server.url + "/api/v1/files/upload", headers={"X-Filler": "h" * 40000},
                      files={"file": ("a.bin", b"x" * 100000)}, timeout=10)
    assert r.status_code == 431 and r.json() == {"detail": "Request header fields too large"}
    assert server.alive()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_path_traversal(server, user):
    for path in (b"/api/v1/folders/../../../etc/passwd", b"/../../etc/passwd",
                 b"/api/v1/%2e%2e/%2e%2e/etc/passwd", b"/api/v1/folders/..%2f..%2fsecret_key/path"):
        resp = _raw(server.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + user.access_token.encode() + b"\r\nConnection: close\r\n\r\n",
                    until_close=True)
        assert _status(resp) == 404, resp[:300]
        assert resp.endswith(b'\r\n\r\n{"detail":"Not Found"}'), resp[:300]
        assert b"root:" not in resp and SECRET.encode() not in resp


def test_many_connections_do_not_break_server(server):
    socks = []
    try:
        for _ in range(100):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        for s in socks[:50]:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # incomplete request
        # 100 is over MAX_CONNECTIONS_PER_IP (64): this address's extra sockets
        # are refused, so another client address asks (127/8 is all loopback).
        t0 = time.monotonic()
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                       source_address=("127.0.0.2", 0))
        try:
            c.request("GET", "/healthz")
            status = c.getresponse().status
        finally:
            c.close()
        assert status == 200 and time.monotonic() - t0 < 5
    finally:
        for s in socks:
            s.close()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


# ---------------------------------------------------------------- tokens

def _claims(user, **over):
    now = int(time.time())
    p = {"sub": user.id, "username": user.username, "typ": "access", "iat": now - 5,
         "exp": now + 600, "jti": uuid.uuid4().hex}
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def _me(server, token):
    return requests.get(server.url + f"{API}/users/me",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _assert_bad_creds(r):
    assert_error(r, 401, BAD_CREDS)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_forge_control(server, user):
    """The forging helper itself is right: a token we sign with the server's key is
    accepted (otherwise the forged-token tests below would prove nothing)."""
    r = _me(server, forge_jwt(_claims(user), SECRET))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == user.id


@pytest.mark.parametrize("case", ["wrong-key", "expired", "typ-refresh", "typ-verify",
                                  "typ-reset", "typ-missing", "alg-none", "alg-none-upper",
                                  "alg-HS512", "alg-HS384", "no-sub", "unknown-sub",
                                  "exp-string", "sig-stripped", "sig-empty-hs256",
                                  "payload-tampered", "header-tampered", "two-parts",
                                  "four-parts", "garbage", "not-base64",
                                  "payload-not-json", "exp-missing"])
def test_forged_tokens_rejected(server, user, case):
    real = user.access_token
    h, p, s = real.split(".")
    tok = {
        "wrong-key": lambda: forge_jwt(_claims(user), "not-the-secret"),
        "expired": lambda: forge_jwt(_claims(user, iat=int(time.time()) - 7200,
                                             exp=int(time.time()) - 3600), SECRET),
        "typ-refresh": lambda: forge_jwt(_claims(user, typ="refresh"), SECRET),
        "typ-verify": lambda: forge_jwt(_claims(user, typ="verify"), SECRET),
        "typ-reset": lambda: forge_jwt(_claims(user, typ="reset"), SECRET),
        "typ-missing": lambda: forge_jwt(_claims(user, typ=None), SECRET),
        "alg-none": lambda: forge_jwt(_claims(user), SECRET, alg="none"),
        "alg-none-upper": lambda: forge_jwt(_claims(user), SECRET, alg="None"),
        "alg-HS512": lambda: forge_jwt(_claims(user), SECRET, alg="HS512"),
        "alg-HS384": lambda: forge_jwt(_claims(user), SECRET, alg="HS384"),
        "no-sub": lambda: forge_jwt(_claims(user, sub=None), SECRET),
        "unknown-sub": lambda: forge_jwt(_claims(user, sub="nosuchuser" + uuid.uuid4().hex),
                                         SECRET),
        "exp-string": lambda: forge_jwt(_claims(user, exp="9999999999"), SECRET),
        "exp-missing": lambda: forge_jwt(_claims(user, exp=None), SECRET),
        "sig-stripped": lambda: f"{h}.{p}.",
        "sig-empty-hs256": lambda: forge_jwt(_claims(user), SECRET, signature=""),
        "payload-tampered": lambda: f"{h}.{_tamper(p, user)}.{s}",
        "header-tampered": lambda: forge_jwt(_claims(user), SECRET, header={"kid": "x"})
        .split(".")[0] + f".{p}.{s}",
        "two-parts": lambda: f"{h}.{p}",
        "four-parts": lambda: f"{real}.{s}",
        "garbage": lambda: "garbage",
        "not-base64": lambda: "!!!.@@@.###",
        "payload-not-json": lambda: _sign_raw(h, b"not json"),
    }[case]()
    _assert_bad_creds(_me(server, tok))
    # also rejected on a mutating route, which must not have changed anything
    r = requests.post(server.url + f"{API}/folders", json={"name": "forged-" + case},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=30)
    _assert_bad_creds(r)


def _tamper(p, user):
    from helpers import b64url, b64url_decode
    claims = json.loads(b64url_decode(p))
    claims["username"] = claims["username"] + "x"
    claims["exp"] = claims["exp"] + 100000
    return b64url(json.dumps(claims))


def _sign_raw(h, payload_bytes):
    import hashlib
    import hmac
    from helpers import b64url
    si = h + "." + b64url(payload_bytes)
    return si + "." + b64url(hmac.new(SECRET.encode(), si.encode(), hashlib.sha256).digest())


def test_real_refresh_token_as_access_rejected(server, user):
    _assert_bad_creds(_me(server, user.refresh_token))


# An empty header is no credentials at all; any other value is credentials that
# do not validate (another scheme included).
@pytest.mark.parametrize("header,detail", [
    ("", "Not authenticated"), ("Bearer", BAD_CREDS), ("Bearer ", BAD_CREDS),
    ("Basic dXNlcjpwYXNz", BAD_CREDS), ("Token abc", BAD_CREDS), ("Bearer  ", BAD_CREDS),
    ("bearer", BAD_CREDS)])
def test_malformed_authorization_header(server, header, detail):
    r = requests.get(server.url + f"{API}/users/me", headers={"Authorization": header},
                     timeout=30)
    assert_error(r, 401, detail)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_token_of_other_user_sees_only_own(server, user, other_user):
    f = create_folder(user.client, "mine-" + uuid.uuid4().hex[:8])
    # a token forged for other_user (valid signature) cannot reach user's folder
    tok = forge_jwt(_claims(other_user), SECRET)
    r = requests.get(server.url + f"{API}/folders/{f['id']}/path",
                     headers={"Authorization": f"Bearer {tok}"}, timeout=30)
    assert_error(r, 404, "Folder not found")
    # sub decides the identity, not the username claim
    tok = forge_jwt(_claims(other_user, username=user.username), SECRET)
    r = _me(server, tok)
    assert r.status_code == 200 and r.json()["id"] == other_user.id


def test_access_token_claims_and_header(user):
    h, p = decode_jwt(user.access_token)
    assert h.get("alg") == "HS256"
    assert p["typ"] == "access"

"""Service routes, cross-cutting headers, error shapes, CORS and shutdown
(API §1 and §10)."""
import socket
import time

import pytest

from helpers import API, assert_error, make_user

CORS_ORIGIN = "http://app.example"


def _hdr_list(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


# ---------------------------------------------------------------- service routes

def test_root_welcome(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"message": "Welcome to NetraDrive API"}


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200


def test_readyz(client):
    r = client.get("/readyz")
    assert r.status_code == 200


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("path", ["/nonexistent", f"{API}/nonexistent", f"{API}/",
                                  f"{API}/folders/a/b/c/d", "/api/v2/folders",
                                  f"{API}/auth/nope"])
def test_unknown_route_404(client, path):
    assert_error(client.get(path), 404, "Not Found")


@pytest.mark.parametrize("method,path", [
    ("GET", f"{API}/auth/signup"),
    ("DELETE", f"{API}/auth/token"),
    ("GET", f"{API}/auth/refresh_token"),
    ("PUT", f"{API}/auth/logout"),
    ("POST", "/healthz"),
])
def test_wrong_method_405(client, method, path):
    assert_error(client.request(method, path), 405, "Method Not Allowed")


def test_wrong_method_405_authenticated(user):
    assert_error(user.client.patch(f"{API}/folders"), 405, "Method Not Allowed")
    assert_error(user.client.post(f"{API}/users/me"), 405, "Method Not Allowed")
    assert_error(user.client.post(f"{API}/folders/tree"), 405, "Method Not Allowed")


# ---------------------------------------------------------------- common headers

def _responses(server, user):
    """A mix of successes and errors of different kinds."""
    c = server.client()
    out = [
        c.get("/"), c.get("/healthz"), c.get("/readyz"),
        c.get("/nope"),                                      # 404
        c.get(f"{API}/users/me"),                            # 401
        c.get(f"{API}/auth/signup"),                         # 405
        c.post(f"{API}/auth/signup", data=b"{", headers={"Content-Type": "application/json"}),  # 422
        c.post(f"{API}/auth/signup", data="x", headers={"Content-Type": "text/plain"}),  # 415
        user.client.get(f"{API}/users/me"),                  # 200 authenticated
        user.client.get(f"{API}/folders/doesnotexist/path"),  # 404 authenticated
    ]
    return out


def test_request_id_and_nosniff_everywhere(server, user):
    rs = _responses(server, user)
    ids = []
    for r in rs:
        rid = r.headers.get("X-Request-Id")
        assert rid, f"{r.request.method} {r.url} ({r.status_code}) lacks X-Request-Id"
        ids.append(rid)
        assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff", \
            f"{r.request.method} {r.url} ({r.status_code}) lacks X-Content-Type-Options: nosniff"
    assert len(set(ids)) == len(ids), f"X-Request-Id not unique: {ids}"


def test_request_id_unique_on_one_connection(client):
    ids = [client.get("/healthz").headers.get("X-Request-Id") for _ in range(30)]
    assert all(ids) and len(set(ids)) == 30, ids


def test_error_content_type_is_json(client):
    r = client.get("/nope")
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"


# ---------------------------------------------------------------- CORS

@pytest.fixture(scope="module")
def cors_server(module_server_factory):
    return module_server_factory(env={"CORS_ORIGINS": f"{CORS_ORIGIN},http://other.example"})


def _preflight(c, path, origin, method="POST",
               headers="authorization,content-type,range"):
    return c.options(path, headers={"Origin": origin,
                                    "Access-Control-Request-Method": method,
                                    "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path,method", [(f"{API}/folders", "POST"), (f"{API}/folders/", "GET"),
                                         (f"{API}/auth/token", "POST"),
                                         (f"{API}/folders/abc/rename", "PUT"),
                                         (f"{API}/folders/abc", "DELETE")])
def test_cors_preflight(cors_server, path, method):
    r = _preflight(cors_server.client(), path, CORS_ORIGIN, method)
    assert r.status_code == 204, f"preflight {path}: {r.status_code} {r.text}"
    assert r.content == b""
    assert r.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN
    methods = {m.upper() for m in _hdr_list(r.headers.get("Access-Control-Allow-Methods"))}
    assert method in methods, r.headers
    allowed = _hdr_list(r.headers.get("Access-Control-Allow-Headers"))
    assert {"authorization", "content-type", "range"} <= allowed, r.headers
    assert r.headers.get("X-Request-Id")


def test_cors_second_listed_origin(cors_server):
    c = cors_server.client()
    r = c.get("/healthz", headers={"Origin": "http://other.example"})
    assert r.headers.get("Access-Control-Allow-Origin") == "http://other.example"


def test_cors_normal_response_headers(cors_server):
    c = cors_server.client()
    r = c.get("/", headers={"Origin": CORS_ORIGIN})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN
    exposed = _hdr_list(r.headers.get("Access-Control-Expose-Headers"))
    for h in ("content-disposition", "content-range", "content-length", "etag"):
        assert h in exposed, f"{h} not exposed: {r.headers.get('Access-Control-Expose-Headers')}"


def test_cors_on_error_responses(cors_server):
    """A browser can only read an error's detail when the error carries CORS headers."""
    c = cors_server.client()
    for r, status, detail in (
            (c.get(f"{API}/users/me", headers={"Origin": CORS_ORIGIN}), 401, "Not authenticated"),
            (c.get("/nope", headers={"Origin": CORS_ORIGIN}), 404, "Not Found")):
        assert_error(r, status, detail)
        assert r.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN, \
            f"{r.status_code} response lacks Access-Control-Allow-Origin"


def test_cors_unlisted_origin(cors_server):
    c = cors_server.client()
    r = c.get("/", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    p = _preflight(c, f"{API}/folders", "http://evil.example")
    assert "Access-Control-Allow-Origin" not in p.headers
    # The listed origin must match exactly, not by prefix.
    r = c.get("/", headers={"Origin": CORS_ORIGIN + ".evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_no_cors_without_config(client):
    r = client.get("/", headers={"Origin": CORS_ORIGIN})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_wildcard(server_factory):
    s = server_factory(env={"CORS_ORIGINS": "*"})
    c = s.client()
    # "*" allows every origin by echoing it (so credentialed requests work too)
    r = c.get("/", headers={"Origin": "http://anything.example"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "http://anything.example"
    p = _preflight(c, f"{API}/folders", "http://anything.example")
    assert p.status_code == 204
    assert p.headers.get("Access-Control-Allow-Origin") == "http://anything.example"


# ---------------------------------------------------------------- shutdown

def test_sigterm_exits_zero(server_factory):
    s = server_factory()
    c = s.client()
    assert c.get("/healthz").status_code == 200          # leaves a keep-alive connection open
    idle = socket.create_connection(("127.0.0.1", s.port))  # and a connection that sent nothing
    try:
        t0 = time.monotonic()
        rc = s.stop(10.0)
        assert rc == 0, f"exit code {rc}; log:\n{s.log()}"
        assert time.monotonic() - t0 < 10
    finally:
        idle.close()
        c.close()


def test_sigterm_after_activity_exits_zero(server_factory):
    s = server_factory()
    u = make_user(s, prefix="term")
    assert u.client.post(f"{API}/folders", json={"name": "x"}).status_code == 201
    rc = s.stop(10.0)
    assert rc == 0, f"exit code {rc}; log:\n{s.log()}"


def test_head_on_get_routes(client):
    for path in ("/", "/healthz"):
        r = client.head(path)
        assert r.status_code == 200, path
        assert r.content == b""
        assert r.headers.get("X-Request-Id")

"""docs/openapi.json (issue 12, point 1): every route the router serves is
documented and every documented route is served; /openapi.json serves that
document; the linter accepts it; /docs, /redoc and their assets are served
from the binary with a strict Content-Security-Policy and long caching.
(That every JSON reply of the suite matches the document is checked by
helpers.Client through openapi_check.py.)"""
import json
import os
import re
import subprocess

from helpers import REPO, netradrive_bin
from openapi_check import DOC, DOC_PATH, match_path


METHODS = ("get", "put", "post", "delete", "patch")


def _norm(pattern):
    """A pattern with its {param} names erased: /a/{id}/b -> /a/{}/b."""
    return re.sub(r"\{[^/}]+\}", "{}", pattern)


def served_routes():
    out = subprocess.run([netradrive_bin(), "routes"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    routes = set()
    for line in out.stdout.splitlines():
        method, pattern = line.split(" ", 1)
        routes.add((method, _norm(pattern)))
    assert len(routes) > 40, out.stdout
    return routes


def documented_routes():
    return {(m.upper(), _norm(p)) for p, item in DOC["paths"].items() for m in item if m in METHODS}


def test_every_served_route_is_documented():
    missing = served_routes() - documented_routes()
    assert not missing, f"served but not in docs/openapi.json: {sorted(missing)}"


def test_every_documented_route_is_served():
    served = served_routes()
    unserved = documented_routes() - served
    assert not unserved, f"in docs/openapi.json but not served: {sorted(unserved)}"


def test_path_parameters_are_declared():
    for path, item in DOC["paths"].items():
        names = set(re.findall(r"\{([^/}]+)\}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            assert declared == names, f"{method.upper()} {path}: path params {declared} != {names}"


def test_every_operation_documents_errors_and_security():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            assert "default" in op["responses"], f"{method} {path}"
            assert op.get("operationId"), f"{method} {path}"
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    me = DOC["paths"]["/api/v1/users/me"]["get"]
    assert {"OAuth2PasswordBearer": []} in me["security"]


def test_request_bodies_of_upload_and_login():
    up = DOC["paths"]["/api/v1/files/upload"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in up
    login = DOC["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in login


def test_match_path_prefers_literal_segments():
    assert match_path("/api/v1/folders/tree/") == "/api/v1/folders/tree"
    assert match_path("/api/v1/folders/abc") == "/api/v1/folders/{id}"
    assert match_path("/api/v1/files/search") == "/api/v1/files/search"
    assert match_path("/api/v1/files/x/rename") == "/api/v1/{item_type}/{id}/rename"
    assert match_path("/nope") is None


def test_openapi_json_is_the_document(server, client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers.get("X-Request-Id")
    with open(DOC_PATH, "rb") as f:
        assert r.content == f.read()
    assert r.json()["openapi"].startswith("3.1")


def test_linter_accepts_the_document():
    out = subprocess.run(["node", os.path.join(REPO, "tools", "lint-openapi.mjs"), DOC_PATH],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr


def _asset_urls(html):
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_and_redoc_pages(client):
    for page, title in (("/docs", "Swagger UI"), ("/redoc", "ReDoc")):
        r = client.get(page)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/html")
        assert title in r.text
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp, csp
        assert "unsafe-eval" not in csp
        assert "<script>" not in r.text, "no inline script"
        assert "//" not in "".join(_asset_urls(r.text)), "every asset from this server"
        for url in _asset_urls(r.text):
            assert re.fullmatch(r"/docs/assets/[\w.-]+\?v=[0-9a-f]{16}", url), url
            a = client.get(url)
            assert a.status_code == 200, url
            assert "immutable" in a.headers["Cache-Control"]
            assert "max-age=31536000" in a.headers["Cache-Control"]
            assert a.headers["Content-Type"].startswith(("text/javascript", "text/css")), url
            assert len(a.content) > 100


def test_asset_without_current_version_is_revalidated(client):
    r = client.get("/docs/assets/swagger-init.js")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-cache"
    r = client.get("/docs/assets/swagger-init.js?v=0000000000000000")
    assert r.headers["Cache-Control"] == "no-cache"


def test_unknown_asset_is_404(client):
    for name in ("nope.js", "openapi.json", "..%2Fopenapi.json"):
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 404, name
        assert r.json()["detail"]


def test_no_other_host_in_the_embedded_pages(client):
    init = client.get("/docs/assets/swagger-init.js").text
    assert "http" not in init and "validatorUrl: null" in init


class _Reply:
    def __init__(self, status, body, ctype="application/json"):
        self.status_code, self.content = status, body
        self.headers = {"Content-Type": ctype}


def test_the_reply_check_catches_mismatches():
    import openapi_check
    bad = [("get", "/api/v1/folders/", _Reply(200, b'[{"id": "x"}]')),          # fields missing
           ("get", "/api/v1/folders/x", _Reply(201, b'{"detail": 1}')),         # default: Error
           ("get", "/api/v1/users/me", _Reply(200, b'{"id": "x", "username": "u", "email": "e",'
                                                     b' "is_verified": true, "created_at":'
                                                     b' "2026-01-01T00:00:00.000Z", "chat_id": 1}')),
           ("get", "/nowhere", _Reply(404, b'{"message": "x"}'))]               # not {detail}
    try:
        for method, path, reply in bad:
            try:
                openapi_check.check_response(method, path, reply)
            except AssertionError:
                continue
            raise AssertionError(f"not caught: {method} {path} {reply.content!r}")
    finally:
        openapi_check.MISMATCHES.clear()
    openapi_check.check_response("get", "/api/v1/files/x/download", _Reply(200, b'{"any": 1}'))
    openapi_check.check_response("get", "/api/v1/folders", _Reply(200, b"[]"))

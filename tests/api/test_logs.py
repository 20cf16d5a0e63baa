"""The log (issue 12, DECISIONS "Logs"): one line per request with time,
request id, user id, method, route template, status, bytes and duration;
LOG_FORMAT=json gives one JSON object per line; text from a request can
never start a line of its own; no secret ever appears."""
import json
import socket
import time

import pytest

from helpers import API, make_user, upload_file, wait_until


def _lines(server):
    return server.stderr(10 ** 7).splitlines()


def _request_lines(server, pred):
    return [ln for ln in _lines(server) if " request " in ln + " " and pred(ln)]


def _raw_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_one_text_line_per_request(server_factory):
    s = server_factory(env={"LOG_LEVEL": "info"})
    u = make_user(s, "logt")
    f = upload_file(u.client, "seen.txt", b"0123456789")
    r = u.client.get(f"{API}/files/{f['id']}/download")
    assert r.status_code == 200 and r.content == b"0123456789"
    rid = r.headers["X-Request-Id"]
    assert wait_until(lambda: _request_lines(s, lambda ln: f"id={rid}" in ln))
    (line,) = _request_lines(s, lambda ln: f"id={rid}" in ln)
    assert line[:4].isdigit() and line[10] == "T", line   # starts with the time
    for part in ("INFO ", "method=GET", "route=/api/v1/files/{id}/download", "status=200",
                 "out=10", f"user={u.id}", "client=127.0.0.1", " ms="):
        assert part in line, (part, line)
    assert f["id"] not in line   # the template, not the id


def test_request_text_cannot_forge_a_line(server_factory):
    s = server_factory(env={"LOG_LEVEL": "info"})
    forged = b"2026-01-01T00:00:00.000Z INFO  request method=GET route=/admin status=200"
    resp = _raw_get(s.port, b"/nowhere%0A" + forged.replace(b" ", b"%20") + b"%0D%22x")
    assert resp.startswith(b"HTTP/1.1 404")
    assert wait_until(lambda: _request_lines(s, lambda ln: "nowhere" in ln))
    lines = _lines(s)
    assert not any(ln.startswith("2026-01-01T00:00:00.000Z") for ln in lines), lines[-5:]
    (line,) = [ln for ln in lines if "nowhere" in ln]
    assert "\\x0a2026-01-01T00:00:00.000Z" in line and "\\x0d" in line, line
    assert "status=404" in line


def test_json_format(server_factory):
    s = server_factory(env={"LOG_LEVEL": "info", "LOG_FORMAT": "json"})
    u = make_user(s, "logj")
    r = u.client.get(f"{API}/users/me")
    rid = r.headers["X-Request-Id"]
    _raw_get(s.port, b"/bad%0Apath%22%5C%FF")

    def records():
        out = []
        for ln in _lines(s):
            out.append(json.loads(ln))   # every line is one JSON object
        return out
    assert wait_until(lambda: any(x.get("id") == rid for x in records()))
    recs = records()
    assert all({"time", "level", "msg"} <= x.keys() for x in recs)
    (me,) = [x for x in recs if x.get("id") == rid]
    assert me["msg"] == "request" and me["method"] == "GET" and me["route"] == "/api/v1/users/me"
    assert me["status"] == 200 and me["user"] == u.id and me["client"] == "127.0.0.1"
    assert isinstance(me["ms"], float) and me["in"] == 0 and me["out"] == len(r.content)
    assert wait_until(lambda: any("bad" in (x.get("route") or "") for x in records()))
    (bad,) = [x for x in records() if "bad" in (x.get("route") or "")]
    assert bad["route"].startswith("/bad\npath\"\\") and bad["user"] is None


def test_no_secret_in_the_log(server_factory):
    """A run through the routes that carry secrets, logged at debug level:
    passwords, tokens, share passwords and the bot token never appear."""
    bot = "123456:AAFakeBotTokenForTheLogTest_abcdefghij"
    s = server_factory(env={"LOG_LEVEL": "debug"})
    pw, share_pw = "Secret-Password-1234", "Share-Pass-5678"
    u = make_user(s, "logs", password=pw)
    c = u.client
    f = upload_file(c, "s.txt", b"secret stuff")
    link = c.post(f"{API}/share/generate/{f['id']}", json={"password": share_pw}).json()
    anon = s.client()
    assert anon.get(f"/s/{link['id']}", params={"password": share_pw}).status_code == 200
    assert anon.get(f"/s/{link['id']}", params={"password": "wrong-" + share_pw}).status_code == 401
    r = anon.post(f"{API}/auth/refresh", json={"refresh_token": u.refresh_token})
    new_pw = "Another-Password-9876"
    c.post(f"{API}/users/me/password", json={"current_password": pw, "new_password": new_pw})
    anon.post(f"{API}/auth/token", data={"username": u.username, "password": "wrong-" + pw})
    anon.get(f"{API}/files/", headers={"Authorization": f"Bearer {u.access_token}x"})
    anon.get("/healthz", params={"token": u.access_token, "bot": bot})
    time.sleep(0.3)
    text = s.stderr(10 ** 7)
    secrets = [pw, new_pw, share_pw, u.access_token, u.refresh_token, bot,
               u.access_token.split(".")[2]]
    if r.status_code == 200:
        secrets += [r.json()["access_token"], r.json()["refresh_token"]]
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:12]}..."

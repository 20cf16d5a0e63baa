"""Request framing (RFC 9112 §6.1, §6.3; docs/DECISIONS.md "HTTP"): a request
whose body length is ambiguous is refused before any route runs, with
`Connection: close`, and nothing more is read from its connection, so a second
request hidden in its body (request smuggling) is never served. Raw sockets on
loopback, each exchange bounded by a short timeout."""
import json
import socket
import time
import types
import uuid

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from helpers import (API, assert_error, assert_file, download, list_folders, multipart_body,
                     sha256, upload_head)

T = 2.0   # seconds: a refusal comes at once; a hang fails here, not at the 300 s timeout

BOTH = "Content-Length with Transfer-Encoding"
BAD_CL = "Invalid Content-Length"
BAD_TE = "Invalid Transfer-Encoding"
TE_501 = "Unsupported Transfer-Encoding"
TE_10 = "Transfer-Encoding in HTTP/1.0"
BAD_NAME = "Invalid header field name"


def _exchange(port, payload, timeout=T):
    """Sends `payload`; reads until EOF or `timeout`. Returns (bytes, closed by server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                d = s.recv(65536)
            except socket.timeout:
                return buf, False
            except ConnectionResetError:
                return buf, True
            if not d:
                return buf, True
            buf += d
        return buf, False
    finally:
        s.close()


def _first(buf, method="POST", path="/"):
    """Splits off the first response: (a requests-like reply for assert_error, the rest)."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 "), f"no response: {buf[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    hdrs = CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip()] = v.strip()
    n = int(hdrs.get("Content-Length", "0"))
    body = rest[:n]
    r = types.SimpleNamespace(status_code=int(lines[0].split(" ")[1]), headers=hdrs,
                              text=body.decode("utf-8", "replace"),
                              json=lambda: json.loads(body),
                              request=types.SimpleNamespace(method=method, url=path))
    return r, rest[n:]


def _refused(port, payload, status, detail):
    """The one reply is `status` {"detail": detail} with Connection: close, nothing
    follows it and the server closes the connection. Returns the seconds it took."""
    t0 = time.monotonic()
    buf, closed = _exchange(port, payload)
    took = time.monotonic() - t0
    r, rest = _first(buf)
    assert_error(r, status, detail)
    assert r.headers.get("Connection", "").lower() == "close", dict(r.headers)
    assert rest == b"", f"more than one reply on the connection: {rest[:300]!r}"
    assert closed, "the server left the connection open"
    return took


def _post(path, headers, body=b"", version="HTTP/1.1", method="POST"):
    head = f"{method} {path} {version}\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + b"\r\n" + body


def _hidden_create(token, name):
    """A complete POST /folders that would create folder `name` if it were served."""
    body = json.dumps({"name": name}).encode()
    return _post(f"{API}/folders", [("Authorization", f"Bearer {token}"),
                                    ("Content-Type", "application/json"),
                                    ("Content-Length", len(body))], body)


def _names(user):
    return {f["name"] for f in list_folders(user.client, limit=10000)[0]}


@pytest.fixture(autouse=True)
def _healthy(server):
    yield
    assert server.alive()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


# ---------------------------------------------------------------- CL + TE

@pytest.mark.parametrize("order", ["cl-first", "te-first", "lowercase"])
def test_cl_and_te_400_and_hidden_request_not_served(server, user, order):
    """CL.TE smuggling: the chunked body ends at `0`, and what CL still counts is a
    second request. Refused whole; the hidden request never runs."""
    name = "smuggled-" + uuid.uuid4().hex[:8]
    body = b"0\r\n\r\n" + _hidden_create(user.access_token, name)
    cl, te = ("Content-Length", len(body)), ("Transfer-Encoding", "chunked")
    framing = {"cl-first": [cl, te], "te-first": [te, cl],
               "lowercase": [("content-length", len(body)), ("transfer-encoding", "chunked")]}
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json")]
                    + framing[order], body)
    _refused(server.port, payload, 400, BOTH)
    assert name not in _names(user)


def test_cl_and_te_pipelined_get_gets_no_answer(server):
    """Even a harmless GET sent after the refused request on the same socket is not read."""
    hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    payload = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden)
    _refused(server.port, payload, 400, BOTH)


def test_bad_cl_with_te_400(server):
    payload = _post("/healthz", [("Content-Length", "+5"), ("Transfer-Encoding", "chunked")],
                    b"0\r\n\r\n", method="GET")
    _refused(server.port, payload, 400, BOTH)


# ---------------------------------------------------------------- Content-Length

@pytest.mark.parametrize("first,second", [("2", "5"), ("5", "2"), ("2", "abc"), ("2", "2, 2")])
def test_conflicting_content_lengths_400(server, user, first, second):
    """A second Content-Length that differs from the first (in either case
    spelling) makes the body's end ambiguous."""
    name = "cl-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()[:2] + b"xyz"
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json"),
                                       ("Content-Length", first),
                                       ("content-length", second)], body)
    _refused(server.port, payload, 400, BAD_CL)
    assert name not in _names(user)


def test_repeated_equal_content_length_is_fine(server, user):
    name = "same-cl-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json"),
                                       ("Content-Length", len(body)),
                                       ("Content-Length", len(body)),
                                       ("Connection", "close")], body)
    buf, _ = _exchange(server.port, payload)
    r, _ = _first(buf)
    assert r.status_code == 201, buf[:300]
    assert name in _names(user)


@pytest.mark.parametrize("value", ["5, 5", "+5", "0x5", "-1", "5 5", "5;", ""])
def test_malformed_content_length_400(server, value):
    """A malformed first Content-Length gets our JSON 400 with Connection:
    close (libmicrohttpd answered these with its own HTML page), and nothing
    after it is served."""
    hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    payload = _post("/healthz", [("Content-Length", value)], b"12345" + hidden, method="GET")
    _refused(server.port, payload, 400, BAD_CL)


# ---------------------------------------------------------------- Transfer-Encoding

@pytest.mark.parametrize("coding", ["xchunked", "gzip, chunked", "chunked, gzip", "identity",
                                    "gzip"])
def test_unknown_transfer_coding_501(server, user, coding):
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json"),
                                       ("Transfer-Encoding", coding)],
                    b"2\r\n{}\r\n0\r\n\r\n")
    took = _refused(server.port, payload, 501, TE_501)
    assert took < T


@pytest.mark.parametrize("headers", [[("Transfer-Encoding", "chunked, chunked")],
                                     [("Transfer-Encoding", "chunked"),
                                      ("transfer-encoding", "chunked")],
                                     [("Transfer-Encoding", "chunked,")]],
                         ids=["twice-in-list", "two-headers", "empty-element"])
def test_chunked_twice_400(server, headers):
    _refused(server.port, _post("/healthz", headers, b"0\r\n\r\n", method="GET"), 400, BAD_TE)


def test_transfer_encoding_in_http10_400(server, user):
    name = "te10-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json"),
                                       ("Transfer-Encoding", "chunked")],
                    b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", version="HTTP/1.0")
    _refused(server.port, payload, 400, TE_10)
    assert name not in _names(user)


# ---------------------------------------------------------------- field names

@pytest.mark.parametrize("framing", [
    "Content-Length : {n}\r\n",
    "Content-Length\t: {n}\r\n",
    "Content-Length:\r\n {n}\r\n",                 # obs-fold
    "Content-Length: {n}\r\nTransfer-Encoding : chunked\r\n",
    "Content-Length: {n}\r\nTransfer-Encoding:\r\n chunked\r\n",
    "Content-Length: {n}\r\nX-Other : 1\r\n",
], ids=["cl-space", "cl-tab", "cl-folded", "te-space", "te-folded", "other-space"])
def test_bad_field_name_400_and_hidden_request_not_served(server, user, framing):
    """Whitespace before a colon or an obs-fold line may make a proxy in front
    frame such a body otherwise than we would (RFC 9112 §5.1, §5.2): refused
    whole, whatever the field."""
    name = "named-" + uuid.uuid4().hex[:8]
    body = b"0\r\n\r\n" + _hidden_create(user.access_token, name)
    head = (f"POST {API}/folders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{user.access_token}\r\nContent-Type: application/json\r\n"
            + framing.format(n=len(body)) + "\r\n")
    _refused(server.port, head.encode() + body, 400, BAD_NAME)
    assert name not in _names(user)


# ---------------------------------------------------------------- what still works

def test_chunked_small_body_still_works(server, user):
    name = "chunked-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()
    payload = _post(f"{API}/folders", [("Authorization", f"Bearer {user.access_token}"),
                                       ("Content-Type", "application/json"),
                                       ("Transfer-Encoding", "Chunked"),
                                       ("Connection", "close")],
                    b"3\r\n" + body[:3] + b"\r\n%x\r\n" % (len(body) - 3) + body[3:]
                    + b"\r\n0\r\n\r\n")
    buf, _ = _exchange(server.port, payload)
    r, _ = _first(buf)
    assert r.status_code == 201, buf[:300]
    assert r.json()["name"] == name


def test_chunked_upload_still_works(server, user):
    data = b"framing" * 3000
    body, _ = multipart_body([("file", "chunked.bin", data)], "rawb0undary")
    parts = b"".join(b"%x\r\n" % len(body[i:i + 5000]) + body[i:i + 5000] + b"\r\n"
                     for i in range(0, len(body), 5000)) + b"0\r\n\r\n"
    buf, _ = _exchange(server.port, upload_head(user.access_token, chunked=True) + parts,
                       timeout=10)
    r, _ = _first(buf)
    assert r.status_code == 201, buf[:300]
    f = assert_file(r.json(), size=len(data), hash=sha256(data))
    assert download(user.client, f["id"]) == data


def test_keep_alive_pipelining_unaffected(server, user):
    """Plain requests keep the connection open and are answered in order."""
    name = "pipe-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()
    payload = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               + _hidden_create(user.access_token, name)
               + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    buf, closed = _exchange(server.port, payload, timeout=5)
    r1, rest = _first(buf, "GET")
    r2, rest = _first(rest)
    r3, rest = _first(rest, "GET")
    assert (r1.status_code, r2.status_code, r3.status_code) == (200, 201, 200), buf[:600]
    assert "Connection" not in r1.headers and rest == b"" and closed
    assert name in _names(user) and body

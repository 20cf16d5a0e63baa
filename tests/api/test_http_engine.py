"""Our HTTP/1.1 engine (src/http/loop.c, conn.c, h1parse.c; issue 10) over raw
sockets: memory per idle keep-alive connection, pipelining, chunked bodies
with extensions and trailers, Expect: 100-continue, HTTP/1.0 keep-alive rules,
a slowloris head, and framing refusals. Every test closes its sockets."""
import base64
import json
import os
import resource
import select
import time
import uuid

import pytest

from helpers import API, TIME_FACTOR, multipart_body, open_sockets, raw_connect


class Reader:
    """Reads whole HTTP/1.1 responses off one socket, one after another."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("closed")
        self.buf += chunk

    def response(self, head_request=False):
        """(status, headers as a lower-case dict, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if status < 200 or status in (204, 304) or head_request:
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    return status, headers, body
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return status, headers, body
        while True:   # until close
            try:
                self._fill()
            except EOFError:
                body, self.buf = self.buf, b""
                return status, headers, body

    def closed(self, wait=3.0):
        """True when the server closes the connection within `wait` seconds."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.s], [], [], 0.05)
            if r:
                try:
                    chunk = self.s.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    return True
                if not chunk:
                    return True
                self.buf += chunk
        return False


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_idle_keepalive_connections_hold_a_few_kib(server_factory):
    """500 keep-alive connections that each served two requests: an idle one
    holds only its small struct (no read buffer), so the server's resident
    memory grows by well under 8 KiB per connection."""
    s = server_factory(env={"MAX_CONNECTIONS_PER_IP": "0"})
    n = 500
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with open_sockets() as socks:
        # Warm up the threads' allocator with a few connections first.
        for _ in range(20):
            c = raw_connect(s.port)
            c.sendall(req)
            Reader(c).response()
            c.close()
        time.sleep(0.3)
        base = _rss_kib(s.proc.pid)
        for i in range(n):
            c = raw_connect(s.port, f"127.0.2.{1 + i // 100}")
            socks.append(c)
            r = Reader(c)
            for _ in range(2):
                c.sendall(req)
                status, _, body = r.response()
                assert status == 200 and body == b'{"status":"ok"}', body
        time.sleep(0.3)
        grown = _rss_kib(s.proc.pid) - base
        # A sanitized build (TIME_FACTOR > 1) keeps freed memory in quarantine
        # and pads every allocation: its RSS says nothing about ours.
        if TIME_FACTOR == 1:
            assert grown / n < 8, f"{n} idle keep-alive connections added {grown} KiB"
        # All still open, and served again.
        for c in socks[::50]:
            c.sendall(req)
            assert Reader(c).response()[0] == 200


def test_pipelined_requests_answered_in_order(server):
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /no-such-route HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\n\r\n{}"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = Reader(c)
        st, _, body = r.response()
        assert (st, body) == (200, b'{"status":"ok"}')
        st, _, body = r.response()
        assert (st, json.loads(body)) == (404, {"detail": "Not Found"})
        st, h, body = r.response(head_request=True)
        assert st == 200 and h["content-length"] == "15" and body == b""
        st, _, body = r.response()
        assert st == 422, body
        st, h, body = r.response()
        assert (st, body) == (200, b'{"status":"ok"}') and h["connection"] == "close"
        assert r.closed()
        assert r.buf == b""


def _chunked(data, piece, ext=b"", trailers=b""):
    out = b""
    for i in range(0, len(data), piece):
        part = data[i:i + piece]
        out += b"%x%s\r\n" % (len(part), ext) + part + b"\r\n"
    return out + b"0" + ext + b"\r\n" + trailers + b"\r\n"


def test_chunked_upload_with_extensions_and_trailers(server, user):
    data = bytes(range(256)) * 700   # 175 KiB
    body, ctype = multipart_body([("file", "ext.bin", data, "application/octet-stream")])
    wire = _chunked(body, 7000, ext=b';sig="a b";n=1', trailers=b"X-Checksum: 1\r\nX-More: two\r\n")
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall((f"POST {API}/files/upload HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {user.access_token}\r\nContent-Type: {ctype}\r\n"
                   f"Transfer-Encoding: chunked\r\n\r\n").encode())
        for i in range(0, len(wire), 4096):   # in pieces that cut chunk lines
            c.sendall(wire[i:i + 4096])
        r = Reader(c)
        st, _, resp = r.response()
        assert st == 201, resp[:300]
        fid = json.loads(resp)["id"]
        # The connection stays usable: the download on it returns the bytes.
        c.sendall((f"GET {API}/files/{fid}/download HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {user.access_token}\r\n\r\n").encode())
        st, _, got = r.response()
        assert st == 200 and got == data


def test_malformed_chunked_body_400_and_close(server, user):
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall((f"POST {API}/folders HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {user.access_token}\r\nContent-Type: application/json\r\n"
                   f"Transfer-Encoding: chunked\r\n\r\n5\r\n{{}}\r\n0\r\n\r\n").encode())
        r = Reader(c)
        st, h, body = r.response()
        assert (st, json.loads(body)) == (400, {"detail": "Malformed chunked body"})
        assert h["connection"] == "close"
        assert r.closed()


def test_expect_100_continue(server, user):
    name = "cont-" + uuid.uuid4().hex[:8]
    body = json.dumps({"name": name}).encode()
    head = (f"POST {API}/folders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n").encode()
    with open_sockets() as socks:
        # Accepted by the route: 100 first, then the body is read.
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall(head + f"Authorization: Bearer {user.access_token}\r\n\r\n".encode())
        r = Reader(c)
        st, _, _ = r.response()
        assert st == 100
        c.sendall(body)
        st, _, resp = r.response()
        assert st == 201 and json.loads(resp)["name"] == name
        # Refused before the body (no token): the final status, no 100, and
        # the connection closed since the body was never read.
        c2 = raw_connect(server.port)
        socks.append(c2)
        c2.sendall(head + b"\r\n")
        r2 = Reader(c2)
        st, h, resp = r2.response()
        assert (st, json.loads(resp)) == (401, {"detail": "Not authenticated"})
        assert h["connection"] == "close"
        assert r2.closed()


def test_http10_keepalive_rules(server):
    with open_sockets() as socks:
        # HTTP/1.0 without keep-alive: answered, then closed.
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        r = Reader(c)
        st, h, body = r.response()
        assert (st, body) == (200, b'{"status":"ok"}')
        assert h["connection"] == "close"
        assert r.closed()
        # HTTP/1.0 asking keep-alive: said back, and a second request is served.
        c = raw_connect(server.port)
        socks.append(c)
        r = Reader(c)
        for _ in range(2):
            c.sendall(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            st, h, body = r.response()
            assert st == 200 and h["connection"] == "keep-alive"
        assert not r.closed(0.5)
        # HTTP/1.1 keeps the connection unless it says close.
        c = raw_connect(server.port)
        socks.append(c)
        r = Reader(c)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, _ = r.response()
        assert st == 200 and "connection" not in h
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, h, _ = r.response()
        assert st == 200 and h["connection"] == "close"
        assert r.closed()


def test_http10_unknown_length_reply_ends_with_close(server, user):
    """A body of unknown length (a streamed PROPFIND) cannot be chunked for
    HTTP/1.0: it is sent until the connection closes."""
    auth = base64.b64encode(f"{user.username}:{user.password}".encode()).decode()
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall((f"PROPFIND /dav/ HTTP/1.0\r\nConnection: keep-alive\r\nDepth: 1\r\n"
                   f"Authorization: Basic {auth}\r\n\r\n").encode())
        r = Reader(c)
        st, h, body = r.response()
        assert st == 207, body[:300]
        assert "transfer-encoding" not in h and "content-length" not in h
        assert body.endswith(b"</D:multistatus>\n")


def test_slowloris_head_closed_by_keepalive_timeout(server_factory):
    """A head trickled a byte at a time never resets the timer: it must be
    whole within KEEPALIVE_TIMEOUT of its first byte."""
    s = server_factory(env={"KEEPALIVE_TIMEOUT": "2"})
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
    with open_sockets() as socks:
        c = raw_connect(s.port)
        socks.append(c)
        t0 = time.monotonic()
        closed_at = None
        for b in head:
            try:
                c.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic() - t0
                break
            r, _, _ = select.select([c], [], [], 0.2)
            if r:
                try:
                    got = c.recv(4096)
                except ConnectionResetError:
                    got = b""
                assert got == b"", got[:200]
                closed_at = time.monotonic() - t0
                break
        assert closed_at is not None, "a trickled head was never closed"
        assert 1.5 < closed_at < 4.5, f"closed after {closed_at:.1f}s, want ~2"


@pytest.mark.parametrize("value", ["+5", "5, 5", "0x5", "-1", " ", "5;"])
def test_malformed_first_content_length_json_400(server, value):
    hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall(f"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n".encode()
                  + b"12345" + hidden)
        r = Reader(c)
        st, h, body = r.response()
        assert (st, json.loads(body)) == (400, {"detail": "Invalid Content-Length"})
        assert h["connection"] == "close"
        assert r.closed()
        assert b"200 OK" not in r.buf


def test_websocket_keeps_its_connection_slot(server_factory):
    """An upgraded WebSocket still counts towards MAX_CONNECTIONS_PER_IP until it
    closes (DECISIONS "Task WebSocket")."""
    from helpers import make_user
    from wsclient import WS
    s = server_factory(env={"MAX_CONNECTIONS_PER_IP": "3", "STORAGE_BACKEND": "local"})
    u = make_user(s, prefix="slot")
    path = f"{API}/ws/tasks/{u.id}?token={u.access_token}"
    u.client.close()   # its keep-alive connection would hold a slot too
    time.sleep(0.3)
    socks = [WS(s.port, path) for _ in range(3)]
    try:
        for w in socks:
            assert w.recv_json()["event"] == "snapshot"
        with open_sockets() as extra:
            c = raw_connect(s.port)
            extra.append(c)
            assert Reader(c).closed(2.0), "a 4th connection from the address was accepted"
        socks.pop().close()
        time.sleep(0.3)
        with open_sockets() as extra:
            c = raw_connect(s.port)
            extra.append(c)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert Reader(c).response()[0] == 200
    finally:
        for w in socks:
            w.sock.close()


def test_many_pipelined_requests_in_one_write(server):
    """200 requests in one write are all answered, in order (each waits its turn
    behind the thread's other connections, so the batch never holds the thread)."""
    n = 200
    reqs = b"".join(b"GET /no-such-%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(n))
    with open_sockets() as socks:
        c = raw_connect(server.port)
        socks.append(c)
        c.sendall(reqs)
        r = Reader(c)
        for i in range(n):
            st, _, body = r.response()
            assert (st, json.loads(body)) == (404, {"detail": "Not Found"}), i
        # Meanwhile-style check: another client is served at once.
        c2 = raw_connect(server.port)
        socks.append(c2)
        t0 = time.monotonic()
        c2.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert Reader(c2).response()[0] == 200
        assert time.monotonic() - t0 < 2


def _cpu_s(pid):
    """The process's user + system CPU time in seconds (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_pauses_accept_then_resumes(server_factory):
    """When accept fails for want of file descriptors, the connection stays
    in the kernel's queue and the level-triggered listening socket stays
    readable: a thread that simply retried spun a whole core (and logged each
    spin). Accepting pauses instead, and resumes once descriptors are free."""
    s = server_factory(env={"MAX_CONNECTIONS_PER_IP": "0"})
    pid = s.proc.pid
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    used = len(os.listdir(f"/proc/{pid}/fd"))
    # Room for two more descriptors: the third connection cannot be accepted.
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (used + 2, hard))
    try:
        with open_sockets() as socks:
            for i in range(6):
                socks.append(raw_connect(s.port, f"127.0.3.{1 + i}"))
            time.sleep(0.5)   # the refused accepts have happened by now
            before = _cpu_s(pid)
            time.sleep(2.0)
            spent = _cpu_s(pid) - before
            assert spent < 0.5 * TIME_FACTOR, f"server spent {spent:.2f} s of CPU in 2 s while out of descriptors"
            warnings = s.log().count("http: accept")
            assert warnings <= 3, f"{warnings} accept warnings logged"
        # Descriptors free again (the sockets are closed): a new client is served.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        time.sleep(0.2)
        c = raw_connect(s.port)
        try:
            c.settimeout(5 * TIME_FACTOR)
            c.sendall(req)
            status, _, body = Reader(c).response()
            assert status == 200 and body == b'{"status":"ok"}'
        finally:
            c.close()
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))

"""A minimal RFC 6455 client on raw sockets (stdlib only) for the WebSocket
tests: the handshake, masked client frames, server frames read whole,
ping/pong and close. Not a general client: no fragmentation on send, no
extensions."""
import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    def __init__(self, status, headers, body):
        super().__init__(f"handshake refused: {status} {body!r}")
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Closed(Exception):
    """The server closed the connection (code, reason), or the TCP stream ended."""
    def __init__(self, code=None, reason=""):
        super().__init__(f"closed: {code} {reason!r}")
        self.code, self.reason = code, reason


def read_http_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise Closed()
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


class WS:
    """ws = WS(port, path) performs the handshake; .recv_json() returns the
    next text message decoded (answering pings on the way unless
    auto_pong=False)."""

    def __init__(self, port, path, key=None, headers=None, timeout=10, rcvbuf=None,
                 version="13"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        req = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
               "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key}"]
        if version is not None:
            req.append(f"Sec-WebSocket-Version: {version}")
        for k, v in (headers or {}).items():
            req.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
        status, hdrs, rest = read_http_head(self.sock)
        if status != 101:
            n = int(hdrs.get("content-length", "0"))
            while len(rest) < n:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
            self.sock.close()
            raise HandshakeRefused(status, hdrs, rest.decode("utf-8", "replace"))
        want = base64.b64encode(hashlib.sha1((self.key + GUID).encode()).digest()).decode()
        assert hdrs.get("sec-websocket-accept") == want, hdrs
        assert hdrs.get("upgrade", "").lower() == "websocket", hdrs
        self.headers = hdrs
        self.buf = rest
        self.pongs = []

    # -- frames ---------------------------------------------------------
    def send_frame(self, opcode, payload=b"", fin=True):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def recv_frame(self):
        """(opcode, payload) of the next frame; server frames must be unmasked."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert b1 & 0x80 == 0, "server frames are not masked"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        assert b0 & 0x80, "no fragmented messages expected"
        return b0 & 0x0F, payload

    def recv_json(self, auto_pong=True):
        while True:
            op, payload = self.recv_frame()
            if op == TEXT:
                return json.loads(payload)
            if op == PING and auto_pong:
                self.send_frame(PONG, payload)
            elif op == PONG:
                self.pongs.append(payload)
            elif op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode("utf-8", "replace"))

    def recv_until(self, pred, timeout=30):
        """Messages until one satisfies pred (returned with all seen)."""
        seen, end = [], time.monotonic() + timeout
        while time.monotonic() < end:
            m = self.recv_json()
            seen.append(m)
            if pred(m):
                return m, seen
        raise AssertionError(f"no matching message within {timeout}s: {seen[-5:]}")

    def close(self, code=1000):
        """Starts the close handshake and waits for the server's close frame."""
        self.send_frame(CLOSE, struct.pack("!H", code))
        try:
            while True:
                op, payload = self.recv_frame()
                if op == CLOSE:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        finally:
            self.sock.close()

    def eof(self, timeout=5):
        """True once the server closed the TCP stream (reads what is left)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

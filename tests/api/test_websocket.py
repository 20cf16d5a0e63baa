"""WS /api/v1/ws/tasks/{user_id}?token= (API §9): the live task view.

A minimal RFC 6455 client (wsclient.py, raw sockets) drives it. The first
part runs on the default (local) backend, where no upload is a task: the
handshake and its refusals, the snapshot, ping/pong, the heartbeat, the close
handshake, the caps, many idle sockets and a client that stops reading. The
second part runs a Telegram-backed server against the fake Bot API with a
bandwidth cap, so an upload's progress can be watched. URL uploads (the
"url_upload" tasks of the other branch) publish through the same registry
hook (drive/tasks.c -> drive/task_events.c) and need no code of their own.
"""
import socket
import struct
import threading
import time
import uuid

import pytest

from helpers import API, StrictFakeTelegram, forge_jwt, make_user, prng_blocks, raw_exchange, upload_head
from wsclient import CLOSE, PING, PONG, WS, Closed, HandshakeRefused

SECRET = "ws-secret-" + "k" * 54
# WS_PING_INTERVAL=1: the heartbeat and the silent-client drop within seconds.
SERVER_ENV = {"STORAGE_BACKEND": "local", "SECRET_KEY": SECRET, "WS_PING_INTERVAL": "1",
              "MAX_CONNECTIONS_PER_IP": "0", "WS_MAX_PER_USER": "4"}
TASK_FIELDS = {"task_id", "file_name", "status", "type", "progress_percent", "transferred",
               "transferred_hr", "total", "total_hr", "speed_bytes_per_sec", "eta_seconds",
               "eta_friendly", "can_cancel", "created_at", "updated_at", "error", "file_id"}


def path_for(user, who=None, token="__own__"):
    token = user.access_token if token == "__own__" else token
    q = "" if token is None else f"?token={token}"
    return f"{API}/ws/tasks/{who or user.id}{q}"


def refused(server, path, **kw):
    with pytest.raises(HandshakeRefused) as e:
        WS(server.port, path, **kw)
    return e.value


def claims(user, **over):
    now = int(time.time())
    p = {"sub": user.id, "username": user.username, "typ": "access", "iat": now - 5,
         "exp": now + 600, "jti": uuid.uuid4().hex}
    p.update(over)
    return p


# --------------------------------------------------------------------------
# The handshake
# --------------------------------------------------------------------------

def test_tokens_refused_before_the_upgrade(server, user, other_user):
    r = refused(server, path_for(user, token=None))
    assert (r.status, r.json()) == (401, {"detail": "Not authenticated"})
    assert r.headers.get("www-authenticate") == "Bearer"
    r = refused(server, path_for(user, token=""))
    assert (r.status, r.json()) == (401, {"detail": "Not authenticated"})
    expired = forge_jwt(claims(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
                        SECRET)
    for bad in ("nope", user.refresh_token, expired, forge_jwt(claims(user), "not-the-secret"),
                forge_jwt(claims(user, typ="refresh"), SECRET)):
        r = refused(server, path_for(user, token=bad))
        assert (r.status, r.json()) == (401, {"detail": "Could not validate credentials"}), bad
    # The forged-but-valid token works: the key is right, only the above were wrong.
    WS(server.port, path_for(user, token=forge_jwt(claims(user), SECRET))).close()
    for who in (other_user.id, other_user.username, "nobody", "AAAAAAAAAAAAAAAAAAAAAA"):
        r = refused(server, path_for(user, who=who))
        assert (r.status, r.json()) == (403, {"detail": "Not allowed to view another user's tasks"})


def test_bad_handshakes(server, user):
    for key in ("", "short", "x" * 24, "AAAAAAAAAAAAAAAAAAAAAB==", "AAAAAAAAAAAAAAAAAAAAAA=",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"):
        r = refused(server, path_for(user), key=key)
        assert (r.status, r.json()) == (400, {"detail": "Invalid Sec-WebSocket-Key"}), key
    for version in (None, "8", "14", ""):
        r = refused(server, path_for(user), version=version)
        assert r.status == 426, version
        assert r.headers.get("sec-websocket-version") == "13"
    # A plain GET is no handshake.
    r = user.client.get(f"{API}/ws/tasks/{user.id}", params={"token": user.access_token})
    assert r.status_code == 400 and r.json() == {"detail": "Not a WebSocket handshake"}
    # And the API still answers after all that.
    assert user.client.get("/healthz").status_code == 200


def test_snapshot_by_id_and_by_username(server, user):
    for who in (user.id, user.username, user.username.upper()):
        ws = WS(server.port, path_for(user, who=who))
        assert ws.recv_json() == {"event": "snapshot", "tasks": []}
        assert ws.close() == 1000


def test_ping_pong_heartbeat_and_close(server, user):
    ws = WS(server.port, path_for(user))
    assert ws.recv_json()["event"] == "snapshot"
    ws.send_frame(PING, b"hello")
    # A text message from the client is read and ignored.
    ws.send_frame(0x1, b'{"event":"whatever"}')
    got_pong = got_ping = got_heartbeat = False
    end = time.monotonic() + 5
    while time.monotonic() < end and not (got_pong and got_ping and got_heartbeat):
        op, payload = ws.recv_frame()
        if op == PONG:
            assert payload == b"hello"
            got_pong = True
        elif op == PING:
            got_ping = True
            ws.send_frame(PONG, payload)
        elif op == 0x1:
            import json
            assert json.loads(payload) == {"event": "ping"}
            got_heartbeat = True
    assert got_pong and got_ping and got_heartbeat
    # Answering pings keeps it open past the silent-client limit (2.5 s).
    end = time.monotonic() + 4
    while time.monotonic() < end:
        assert ws.recv_json()["event"] == "ping"
    assert ws.close(1000) == 1000


def test_oversized_client_message_fails_the_socket(server, user):
    ws = WS(server.port, path_for(user))
    ws.recv_json()
    ws.send_frame(0x1, b"x" * 10000)
    with pytest.raises(Closed) as e:
        while True:
            ws.recv_json()
    assert e.value.code in (None, 1009)


def test_per_user_cap(server, user_factory):
    u = user_factory("cap")
    socks = [WS(server.port, path_for(u)) for _ in range(4)]
    r = refused(server, path_for(u))
    assert r.status == 429 and r.json() == {"detail": "Too many WebSockets for this user"}
    socks[0].close()
    time.sleep(0.2)
    socks[0] = WS(server.port, path_for(u))
    for s in socks:
        s.close()


def test_idle_websockets_do_not_slow_the_api(server_factory):
    srv = server_factory(env={"MAX_CONNECTIONS_PER_IP": "0", "WS_MAX_PER_USER": "300",
                              "WS_MAX_CONNECTIONS": "210", "STORAGE_BACKEND": "local"})
    u = make_user(srv, prefix="idle")
    for i in range(20):
        assert u.client.post(f"{API}/folders/", json={"name": f"f{i}"}).status_code == 201

    def timed(path):
        t = time.monotonic()
        r = u.client.get(path)
        assert r.status_code == 200, r.text
        return time.monotonic() - t

    before = max(timed("/healthz") for _ in range(5))
    socks = [WS(srv.port, path_for(u)) for _ in range(200)]
    for s in socks:
        assert s.recv_json()["event"] == "snapshot"
    for _ in range(10):
        assert timed("/healthz") < 0.25
        assert timed(f"{API}/folders/") < 0.5
    # The global cap: 210 in all.
    more = [WS(srv.port, path_for(u)) for _ in range(10)]
    r = refused(srv, path_for(u))
    assert r.status == 503 and r.json() == {"detail": "Too many WebSockets"}
    for s in socks + more:
        s.sock.close()
    assert before < 0.25


def test_client_that_stops_reading_is_dropped(server, user):
    """A client with a tiny receive buffer that never reads (nor answers
    pings) does not hold up the others, and is dropped."""
    stuck = WS(server.port, path_for(user), rcvbuf=1024)
    good = WS(server.port, path_for(user))
    assert good.recv_json()["event"] == "snapshot"
    t0 = time.monotonic()
    # The good one keeps getting its heartbeat every second meanwhile.
    beats = 0
    while time.monotonic() - t0 < 5:
        assert good.recv_json()["event"] == "ping"
        beats += 1
        assert user.client.get("/healthz").status_code == 200
    assert beats >= 3
    assert stuck.eof(timeout=5), "the stuck client was not dropped"
    good.close()


def test_server_stop_sends_going_away(server_factory):
    srv = server_factory(env={"STORAGE_BACKEND": "local"})
    u = make_user(srv, prefix="stop")
    ws = WS(srv.port, path_for(u))
    assert ws.recv_json()["event"] == "snapshot"
    srv.proc.send_signal(15)
    with pytest.raises(Closed) as e:
        while True:
            ws.recv_json()
    assert e.value.code == 1001
    assert srv.proc.wait(10) == 0


# --------------------------------------------------------------------------
# Telegram backend: progress and completion of a real upload
# --------------------------------------------------------------------------

K = 1024
BANDWIDTH = 200_000   # bytes/s per connection in the fake: a 64 KiB chunk takes ~0.3 s


@pytest.fixture(scope="module")
def tg(tmp_path_factory, module_server_factory):
    fake = StrictFakeTelegram(tmp_path_factory.mktemp("ws-fake"), "--seed", "5",
                              "--bandwidth", str(BANDWIDTH), "--latency", "20")
    server = module_server_factory(env={
        "STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STORAGE_CHAT_ID": "-1001",
        "CHUNK_SIZE": "64K", "TELEGRAM_PACING": "false", "WS_PING_INTERVAL": "30"})
    yield fake, server
    fake.stop()


def start_upload(server, token, name, size, result):
    boundary = "ws" + uuid.uuid4().hex
    pre = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    head = upload_head(token, content_length=len(pre) + size + len(post), boundary=boundary)

    def run():
        result.append(raw_exchange(server.port, head, [pre, *prng_blocks(7, size, 64 * K), post],
                                   timeout=120))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_telegram_upload_progress_and_completion(tg):
    fake, server = tg
    u = make_user(server, prefix="wstg")
    ws = WS(server.port, path_for(u), timeout=30)
    assert ws.recv_json() == {"event": "snapshot", "tasks": []}
    result = []
    size = 24 * 64 * K     # 24 chunks: several seconds against the capped fake
    t = start_upload(server, u.access_token, "watched.bin", size, result)
    done, seen = ws.recv_until(lambda m: m["event"] != "progress", timeout=60)
    t.join(60)
    assert result and result[0].status == 201, result
    file_id = result[0].json()["id"]
    for m in seen:
        assert set(m) == {"event", "task"} and set(m["task"]) == TASK_FIELDS, m
        assert m["task"]["file_name"] == "watched.bin" and m["task"]["type"] == "upload"
    progress = [m["task"] for m in seen if m["event"] == "progress"]
    assert len(progress) >= 3, seen
    moving = [p for p in progress if 0 < p["transferred"] < size]
    assert moving, progress
    transferred = [p["transferred"] for p in progress]
    assert transferred == sorted(transferred)
    assert any(p["speed_bytes_per_sec"] > 0 for p in moving)
    # At most ~4 a second: the whole upload took its time.
    span = len(progress)
    assert span <= 4 * 60
    assert done["event"] == "completed"
    assert done["task"]["status"] == "completed" and done["task"]["file_id"] == file_id
    assert done["task"]["transferred"] == done["task"]["total"] == size
    assert done["task"]["progress_percent"] == 100 and done["task"]["can_cancel"] is False
    # A socket opened now has the finished task in its snapshot.
    ws2 = WS(server.port, path_for(u))
    snap = ws2.recv_json()
    assert snap["event"] == "snapshot" and [x["status"] for x in snap["tasks"]] == ["completed"]
    ws2.close()
    ws.close()


def test_telegram_cancel_event_and_mid_upload_snapshot(tg):
    fake, server = tg
    u = make_user(server, prefix="wscx")
    result = []
    t = start_upload(server, u.access_token, "cancelled.bin", 40 * 64 * K, result)
    deadline = time.monotonic() + 20
    tasks = []
    while time.monotonic() < deadline and not tasks:
        tasks = u.client.get(f"{API}/tasks/").json()
        time.sleep(0.05)
    assert tasks, "the upload never became a task"
    ws = WS(server.port, path_for(u), timeout=30)
    snap = ws.recv_json()
    assert snap["event"] == "snapshot"
    assert [x["task_id"] for x in snap["tasks"]] == [tasks[0]["task_id"]]
    assert snap["tasks"][0]["status"] == "in_progress"
    r = u.client.post(f"{API}/tasks/cancel/{tasks[0]['task_id']}")
    assert r.status_code == 200, r.text
    done, _ = ws.recv_until(lambda m: m["event"] != "progress", timeout=30)
    assert done["event"] == "cancelled" and done["task"]["status"] == "cancelled"
    t.join(60)
    ws.close()


def test_keepalive_timeout_does_not_close_a_websocket(server_factory):
    """KEEPALIVE_TIMEOUT is for HTTP; an upgraded socket lives
    as long as the client answers pings."""
    srv = server_factory(env={"STORAGE_BACKEND": "local", "KEEPALIVE_TIMEOUT": "1",
                              "WS_PING_INTERVAL": "1"})
    u = make_user(srv, prefix="ka")
    ws = WS(srv.port, path_for(u))
    assert ws.recv_json()["event"] == "snapshot"
    end = time.monotonic() + 3.5
    while time.monotonic() < end:
        assert ws.recv_json()["event"] == "ping"
    assert ws.close() == 1000

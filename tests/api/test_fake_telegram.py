"""Black-box tests of tests/fake-telegram: the fake Telegram Bot API server.

Each test starts the binary (FAKE_TELEGRAM_BIN, default build/fake-telegram)
on a free loopback port with its own data directory and talks HTTP to it.
"""
import hashlib
import os
import pathlib
import socket
import time

import pytest
import requests

from helpers import StrictFakeTelegram

TOKEN = "123456:AAH-test_token"
OTHER = "654321:BBB-other_bot"
CHAT = -1001234567890
MB = 1000 * 1000
MIB = 1024 * 1024


class Fake(StrictFakeTelegram):
    """One running fake-telegram process, with Bot API shortcuts."""

    def __init__(self, tmp_path, *flags):
        super().__init__(tmp_path, *flags)
        self.base = self.url

    def api(self, method, token=TOKEN, files=None, json_body=None, **params):
        url = f"{self.base}/bot{token}/{method}"
        if files is not None:
            return self.http.post(url, data=params, files=files, timeout=60)
        if json_body is not None:
            return self.http.post(url, json=json_body, timeout=60)
        return self.http.post(url, data=params, timeout=60)

    def send(self, data, chat=CHAT, token=TOKEN, name="chunk.bin"):
        return self.api("sendDocument", token=token, chat_id=chat,
                        files={"document": (name, data)})

    def download(self, path, token=TOKEN, headers=None, method="GET"):
        return self.http.request(method, f"{self.base}/file/bot{token}/{path}",
                                 headers=headers or {}, timeout=60)

    def control(self, name, body=None):
        if body is None and name in ("messages", "stats", "config"):
            r = self.http.get(f"{self.base}/_fake/{name}", timeout=10)
        else:
            r = self.http.post(f"{self.base}/_fake/{name}", json=body, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def fake(tmp_path):
    f = Fake(tmp_path / "fake", "--seed", "1")
    yield f
    f.stop()


@pytest.fixture
def start(tmp_path):
    """Starts extra fakes with chosen flags; all are stopped at the end."""
    started = []

    def _start(*flags, name="extra"):
        f = Fake(tmp_path / f"{name}{len(started)}", *flags)
        started.append(f)
        return f

    yield _start
    for f in started:
        f.stop()


def error(r, code, description):
    assert r.status_code == code, r.text
    assert r.json() == {"ok": False, "error_code": code, "description": description}


def upload(fake, data, **kw):
    r = fake.send(data, **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True
    return body["result"]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_get_me_and_get_chat(fake):
    r = fake.api("getMe")
    assert r.status_code == 200
    me = r.json()["result"]
    assert me["id"] == 123456 and me["is_bot"] is True
    assert me["first_name"] and me["username"]
    # the same call as GET with query parameters and as a JSON body
    r = fake.http.get(f"{fake.base}/bot{TOKEN}/getChat", params={"chat_id": CHAT})
    assert r.json() == {"ok": True, "result": {"id": CHAT, "title": f"Fake channel {CHAT}",
                                               "type": "channel"}}
    r = fake.api("getChat", json_body={"chat_id": CHAT})
    assert r.json()["result"]["type"] == "channel"


def test_bad_token_and_unknown_method(fake):
    for token in ("nocolon", "abc:def", "123:", "123:has space", ":abc", "12x:abc"):
        error(fake.api("getMe", token=token), 401, "Unauthorized")
    error(fake.api("sendDocument", token="bad", chat_id=CHAT, files={"document": ("a", b"x")}),
          401, "Unauthorized")
    error(fake.api("noSuchMethod"), 404, "Not Found")
    error(fake.http.get(f"{fake.base}/nothing"), 404, "Not Found")
    fake.control("config", {"deny_tokens": [TOKEN]})
    error(fake.api("getMe"), 401, "Unauthorized")
    assert fake.api("getMe", token=OTHER).status_code == 200
    fake.control("config", {"deny_tokens": []})
    assert fake.api("getMe").status_code == 200


def test_chat_not_found_and_forbidden(fake, start):
    for chat in (12345, -12345, "abc", "@channel"):
        error(fake.api("getChat", chat_id=chat), 400, "Bad Request: chat not found")
    error(fake.send(b"data", chat=777), 400, "Bad Request: chat not found")
    error(fake.api("getChat"), 400, "Bad Request: chat_id is empty")
    denied = start("--deny-chat", str(CHAT))
    error(denied.send(b"data"), 403, "Forbidden: bot is not a member of the channel chat")
    assert denied.send(b"data", chat=-1009).status_code == 200


def test_send_get_file_download_byte_exact(fake):
    data = os.urandom(300_000) + b"\r\n--boundary-lookalike\r\n" + os.urandom(1000)
    msg = upload(fake, data, name="part.bin")
    doc = msg["document"]
    assert msg["chat"] == {"id": CHAT, "title": f"Fake channel {CHAT}", "type": "channel"}
    assert isinstance(msg["date"], int) and msg["message_id"] >= 1
    assert doc["file_name"] == "part.bin" and doc["file_size"] == len(data)
    assert doc["mime_type"]
    assert len(doc["file_id"]) >= 40 and len(doc["file_unique_id"]) >= 12
    msg2 = upload(fake, b"second")
    assert msg2["message_id"] == msg["message_id"] + 1
    # message ids are per chat
    assert upload(fake, b"other chat", chat=-1005)["message_id"] == 1

    r = fake.api("getFile", file_id=doc["file_id"])
    f = r.json()["result"]
    assert set(f) == {"file_id", "file_unique_id", "file_size", "file_path"}
    assert f["file_id"] == doc["file_id"] and f["file_unique_id"] == doc["file_unique_id"]
    assert f["file_size"] == len(data)
    assert not f["file_path"].startswith("/")
    r = fake.download(f["file_path"])
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(data))
    assert sha(r.content) == sha(data)
    r = fake.download(f["file_path"], method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(data))
    assert r.content == b""
    error(fake.download("documents/file_999.bin"), 404, "Not Found")

    listed = [m for m in fake.control("messages") if m["message_id"] == msg["message_id"]
              and m["chat_id"] == CHAT][0]
    assert listed == {"chat_id": CHAT, "message_id": msg["message_id"], "bot_id": 123456,
                      "date": msg["date"], "file_id": doc["file_id"],
                      "file_unique_id": doc["file_unique_id"], "file_name": "part.bin",
                      "mime_type": doc["mime_type"], "size": len(data), "sha256": sha(data),
                      "deleted": False}
    stats = fake.control("stats")
    assert stats["sendDocument"] == 3 and stats["getFile"] == 1 and stats["download"] == 3


def test_range_download(fake):
    data = os.urandom(10_000)
    fid = upload(fake, data)["document"]["file_id"]
    path = fake.api("getFile", file_id=fid).json()["result"]["file_path"]
    cases = {"bytes=100-199": (100, 199), "bytes=9990-": (9990, 9999),
             "bytes=-10": (9990, 9999), "bytes=5000-99999": (5000, 9999)}
    for header, (a, b) in cases.items():
        r = fake.download(path, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.headers["Content-Range"] == f"bytes {a}-{b}/{len(data)}"
        assert r.content == data[a:b + 1]
    r = fake.download(path, headers={"Range": "bytes=10000-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    # not a valid single range: the whole body
    r = fake.download(path, headers={"Range": "bytes=5-2"})
    assert r.status_code == 200 and r.content == data


def test_file_ids_are_per_bot(fake):
    data = b"per bot " * 100
    doc = upload(fake, data)["document"]
    error(fake.api("getFile", token=OTHER, file_id=doc["file_id"]), 400,
          "Bad Request: invalid file_id")
    path = fake.api("getFile", file_id=doc["file_id"]).json()["result"]["file_path"]
    error(fake.download(path, token=OTHER), 404, "Not Found")
    error(fake.api("sendDocument", token=OTHER, chat_id=CHAT, document=doc["file_id"]), 400,
          "Bad Request: wrong file identifier/HTTP URL specified")
    for bad in ("", "garbage", doc["file_id"][:-2] + "AA", doc["file_id"] + "A"):
        error(fake.api("getFile", file_id=bad), 400, "Bad Request: invalid file_id")
    # the owner may re-send by file_id: same stored file, new message
    again = fake.api("sendDocument", chat_id=-1007, document=doc["file_id"]).json()["result"]
    assert again["document"]["file_unique_id"] == doc["file_unique_id"]
    assert again["document"]["file_size"] == len(data)
    # another bot's upload of the same bytes gets its own file_id
    other = upload(fake, data, token=OTHER)["document"]
    assert other["file_id"] != doc["file_id"]
    assert fake.api("getFile", token=OTHER, file_id=other["file_id"]).status_code == 200


def test_get_file_too_big_in_cloud_mode_and_local_mode(fake, start):
    data = os.urandom(20 * MIB + 1)
    fid = upload(fake, data)["document"]["file_id"]
    error(fake.api("getFile", file_id=fid), 400, "Bad Request: file is too big")

    local = start("--local")
    fid = upload(local, data)["document"]["file_id"]
    f = local.api("getFile", file_id=fid).json()["result"]
    assert f["file_path"].startswith("/") and f["file_size"] == len(data)
    assert sha(pathlib.Path(f["file_path"]).read_bytes()) == sha(data)


def test_upload_over_50mb_is_413(fake):
    r = fake.send(b"\0" * (50 * MB + 1))
    error(r, 413, "Request Entity Too Large")
    assert fake.control("messages") == []
    # exactly at the limit is fine... checked cheaply with a lower limit
    fake.control("config", {"upload_limit": 1000, "html_413": True})
    assert fake.send(b"x" * 1000).status_code == 200
    r = fake.send(b"x" * 1001)
    assert r.status_code == 413 and "<title>413 Request Entity Too Large</title>" in r.text
    assert r.headers["Content-Type"].startswith("text/html")


def test_oversized_announced_body_refused_before_sending(fake):
    # with Expect: 100-continue the fake answers 413 without reading the body
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as s:
        s.sendall((f"POST /bot{TOKEN}/sendDocument HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {60 * MB}\r\nExpect: 100-continue\r\n\r\n").encode())
        reply = s.recv(4096).decode("latin-1")
    assert reply.startswith("HTTP/1.1 413"), reply
    assert '"description":"Request Entity Too Large"' in reply


def test_empty_file_and_missing_document(fake):
    error(fake.send(b""), 400, "Bad Request: file must be non-empty")
    error(fake.api("sendDocument", chat_id=CHAT), 400,
          "Bad Request: there is no document in the request")
    # a part without a filename is a text field, not a file
    r = fake.http.post(f"{fake.base}/bot{TOKEN}/sendDocument",
                       files={"chat_id": (None, str(CHAT)), "document": (None, "just text")})
    error(r, 400, "Bad Request: wrong file identifier/HTTP URL specified")
    # attach://name refers to a file part of another name
    r = fake.http.post(f"{fake.base}/bot{TOKEN}/sendDocument",
                       data={"chat_id": CHAT, "document": "attach://blob"},
                       files={"blob": ("b.bin", b"attached")})
    assert r.json()["result"]["document"]["file_size"] == 8


def test_malformed_requests(fake):
    url = f"{fake.base}/bot{TOKEN}/sendDocument"
    bad_bodies = [
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data; "
         b"name=\"chat_id\"\r\n\r\n-1001\r\n--xyz\r\nContent-Disposition: form-data; "
         b"name=\"document\"; filename=\"a\"\r\n\r\ntruncated"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nno colon header\r\n\r\nx\r\n--xyz--"),
        ("multipart/form-data", b"whatever"),
        ("application/json", b"{not json"),
        ("application/json", b"[1,2,3]"),
        ("application/x-www-form-urlencoded", b"chat_id=%zz"),
    ]
    for ctype, body in bad_bodies:
        r = fake.http.post(url, data=body, headers={"Content-Type": ctype})
        error(r, 400, "Bad Request: failed to parse request body")
    assert fake.control("messages") == []
    assert fake.api("getMe").status_code == 200  # still alive


def test_delete_message_and_messages(fake):
    ids = [upload(fake, b"m%d" % i)["message_id"] for i in range(4)]
    r = fake.api("deleteMessage", chat_id=CHAT, message_id=ids[0])
    assert r.json() == {"ok": True, "result": True}
    error(fake.api("deleteMessage", chat_id=CHAT, message_id=ids[0]), 400,
          "Bad Request: message to delete not found")
    error(fake.api("deleteMessage", chat_id=CHAT, message_id=9999), 400,
          "Bad Request: message to delete not found")
    error(fake.api("deleteMessage", chat_id=-1002, message_id=ids[1]), 400,
          "Bad Request: message to delete not found")
    r = fake.api("deleteMessages", json_body={"chat_id": CHAT, "message_ids": ids[1:3]})
    assert r.json() == {"ok": True, "result": True}
    deleted = {m["message_id"]: m["deleted"] for m in fake.control("messages")}
    assert deleted == {ids[0]: True, ids[1]: True, ids[2]: True, ids[3]: False}
    r = fake.api("deleteMessages", chat_id=CHAT, message_ids="not json")
    assert r.status_code == 400


def test_pacing_answers_429_with_retry_after(fake):
    # a burst of 3, then a token every 2 s (slow enough that a loaded machine
    # still gets the 4th call refused)
    fake.control("config", {"pace": True, "pace_per_sec": 0.5})
    doc = upload(fake, b"pace me")["document"]
    send = lambda chat=CHAT: fake.api("sendDocument", chat_id=chat, document=doc["file_id"])
    assert send().status_code == 200
    assert send().status_code == 200
    r = send()
    assert r.status_code == 429, r.text
    body = r.json()
    retry = body["parameters"]["retry_after"]
    assert body == {"ok": False, "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry}",
                    "parameters": {"retry_after": retry}}
    assert 1 <= retry <= 2 and r.headers["Retry-After"] == str(retry)
    assert send(chat=-1003).status_code == 200  # other chats have their own budget
    time.sleep(retry)
    assert send().status_code == 200
    # the per-minute window: 5 a minute, no matter how fast tokens refill
    fake.control("config", {"pace_per_sec": 1000, "pace_burst": 1000, "pace_per_min": 5})
    codes = [send(chat=-1004).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = send(chat=-1004)
    assert 55 <= r.json()["parameters"]["retry_after"] <= 60
    assert fake.control("stats")["rate_limited"] == 3
    fake.control("config", {"pace": False})
    assert send(chat=-1004).status_code == 200


def test_fault_injection(fake, start):
    data = os.urandom(50_000)
    msg = upload(fake, data)
    fid = msg["document"]["file_id"]
    path = fake.api("getFile", file_id=fid).json()["result"]["file_path"]
    fake.control("reset-stats")
    fake.control("config", {"fail_rate": 1})
    calls = [lambda: fake.send(b"x"), lambda: fake.api("getFile", file_id=fid),
             lambda: fake.api("deleteMessage", chat_id=CHAT, message_id=msg["message_id"]),
             lambda: fake.api("deleteMessages", chat_id=CHAT, message_ids="[1]"),
             lambda: fake.download(path)]
    kinds = set()   # (status, JSON or HTML): the dice pick both statuses and both forms
    for call in calls * 3:
        r = call()
        reason = {500: "Internal Server Error", 502: "Bad Gateway"}.get(r.status_code)
        assert reason is not None, (r.status_code, r.text)
        json_body = r.headers["Content-Type"] == "application/json"
        if json_body:
            assert r.json() == {"ok": False, "error_code": r.status_code, "description": reason}
        else:
            assert "<html>" in r.text
        kinds.add((r.status_code, json_body))
    # seeded (--seed 1), so the same 15 draws every run: each status and each form occurs
    assert {k[0] for k in kinds} == {500, 502} and {k[1] for k in kinds} == {True, False}, kinds
    assert fake.api("getMe").status_code == 200  # not a faulted method
    assert fake.control("stats")["faults"] == 15
    assert len(fake.control("messages")) == 1 and not fake.control("messages")[0]["deleted"]

    fake.control("config", {"fail_rate": 0, "drop_rate": 1})
    with pytest.raises(requests.ConnectionError):
        fake.api("getFile", file_id=fid)
    fake.control("config", {"drop_rate": 0, "truncate_rate": 1})
    for _ in range(3):
        # the body stops short of Content-Length; requests may or may not raise
        try:
            r = fake.download(path)
            assert r.headers["Content-Length"] == str(len(data))
            assert len(r.content) < len(data)
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError):
            pass
    fake.control("config", {"truncate_rate": 0, "slow_rate": 1, "slow_ms": 300})
    t = time.monotonic()
    assert fake.api("getFile", file_id=fid).status_code == 200
    assert time.monotonic() - t >= 0.3
    fake.control("config", {"slow_rate": 0})
    assert sha(fake.download(path).content) == sha(data)

    # --seed makes the dice reproducible
    def statuses(f):
        f.control("config", {"fail_rate": 0.5})
        return [f.api("getFile", file_id="x").status_code for _ in range(20)]
    a, b = start("--seed", "42"), start("--seed", "42")
    sa = statuses(a)
    assert sa == statuses(b) and len(set(sa)) > 1


def test_latency_and_bandwidth(fake):
    data = os.urandom(100_000)
    fid = upload(fake, data)["document"]["file_id"]
    path = fake.api("getFile", file_id=fid).json()["result"]["file_path"]
    fake.control("config", {"latency_ms": 200, "bandwidth": 250_000})
    t = time.monotonic()
    assert fake.api("getMe").status_code == 200
    assert time.monotonic() - t >= 0.2
    t = time.monotonic()
    assert sha(fake.download(path).content) == sha(data)  # 100 kB at 250 kB/s
    assert time.monotonic() - t >= 0.2 + 0.35
    t = time.monotonic()
    upload(fake, data)
    assert time.monotonic() - t >= 0.2 + 0.35
    cfg = fake.control("config")
    assert cfg["latency_ms"] == 200 and cfg["bandwidth"] == 250_000
    r = fake.http.post(f"{fake.base}/_fake/config", json={"fail_rate": 2})
    assert r.status_code == 400
    r = fake.http.post(f"{fake.base}/_fake/config", json={"no_such_setting": 1})
    assert r.status_code == 400


def test_restart_keeps_files_and_messages(tmp_path):
    f = Fake(tmp_path / "keep")
    try:
        msg = upload(f, b"survives a restart")
    finally:
        f.stop()
    f = Fake(tmp_path / "keep")
    try:
        path = f.api("getFile", file_id=msg["document"]["file_id"]).json()["result"]["file_path"]
        assert f.download(path).content == b"survives a restart"
        assert upload(f, b"next")["message_id"] == msg["message_id"] + 1
        assert len(f.control("messages")) == 2
    finally:
        f.stop()

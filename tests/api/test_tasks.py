"""Tasks (API §9): GET /tasks/, POST /tasks/cancel/{id}, GET /tasks/history.

The first part runs on the default (local) backend, where uploads are not
tasks: the routes, their auth and their parameter checks. The second part runs
netradrive with STORAGE_BACKEND=telegram against the fake Bot API server
(FAKE_TELEGRAM_BIN, default build/fake-telegram) with a per-connection
bandwidth cap, so a multi-chunk upload takes a few seconds and can be watched
(progress, speed, ETA), completed, cancelled or abandoned.
"""
import os
import re
import threading
import time
import uuid

import pytest

from helpers import (API, TS_RE, StrictFakeTelegram, assert_error, list_files, make_user,
                     prng_blocks, raw_exchange, upload_file, upload_head, wait_until)

TASK_FIELDS = {"task_id", "file_name", "status", "type", "progress_percent", "transferred",
               "transferred_hr", "total", "total_hr", "speed_bytes_per_sec", "eta_seconds",
               "eta_friendly", "can_cancel", "created_at", "updated_at", "error", "file_id"}
HR_RE = re.compile(r"^\d+(\.\d\d)? (B|KB|MB|GB|TB|PB)$")
ETA_RE = re.compile(r"^(\d+h )?(\d+m )?\d+s$")
MISSING_ID = "AAAAAAAAAAAAAAAAAAAAAA"
# The default server is the local backend even when NETRADRIVE_BACKEND=telegram.
SERVER_ENV = {"STORAGE_BACKEND": "local"}


# --------------------------------------------------------------------------
# Local backend: the routes themselves
# --------------------------------------------------------------------------

def test_empty_list_with_and_without_slash(user):
    for path in (f"{API}/tasks", f"{API}/tasks/"):
        r = user.client.get(path)
        assert r.status_code == 200, r.text
        assert r.json() == []


def test_unauthenticated_is_401(client):
    for method, path in (("GET", "/tasks/"), ("GET", "/tasks/history"),
                         ("POST", f"/tasks/cancel/{MISSING_ID}")):
        r = client.request(method, API + path)
        assert_error(r, 401, "Not authenticated")
        r = client.request(method, API + path, headers={"Authorization": "Bearer nope"})
        assert_error(r, 401, "Could not validate credentials")


def test_user_id_must_be_the_caller(user, other_user):
    for who in (user.id, user.username, user.username.upper(), ""):
        r = user.client.get(f"{API}/tasks/", params={"user_id": who})
        assert r.status_code == 200, (who, r.text)
        assert r.json() == []
    for who in (other_user.id, other_user.username, "nobody-at-all", MISSING_ID):
        r = user.client.get(f"{API}/tasks/", params={"user_id": who})
        assert_error(r, 403, "Not allowed to view another user's tasks")


def test_cancel_unknown_or_malformed_is_404(user):
    for tid in (MISSING_ID, "not-an-id", "x" * 300, "%00"):
        assert_error(user.client.post(f"{API}/tasks/cancel/{tid}"), 404, "Task not found")


def test_history_parameters(user):
    ok = [{}, {"status": "completed"}, {"status": "failed"}, {"status": "cancelled"},
          {"limit": "1"}, {"limit": "500"}, {"skip": "0"}, {"skip": "1000000"},
          {"status": "", "limit": "", "skip": ""}]
    for params in ok:
        r = user.client.get(f"{API}/tasks/history", params=params)
        assert r.status_code == 200, (params, r.text)
        assert r.json() == []
    bad = [{"status": "in_progress"}, {"status": "queued"}, {"status": "done"},
           {"status": "COMPLETED"}, {"limit": "0"}, {"limit": "501"}, {"limit": "-1"},
           {"limit": "abc"}, {"limit": "1.5"}, {"limit": " 5"}, {"skip": "-1"},
           {"skip": "x"}, {"skip": "99999999999999999999999"}]
    why = {"status": "status must be one of completed, failed, cancelled",
           "limit": "limit must be an integer from 1 to 500",
           "skip": "skip must be a non-negative integer"}
    for params in bad:
        (key,) = params
        assert_error(user.client.get(f"{API}/tasks/history", params=params), 400, why[key])


def test_local_uploads_are_not_tasks(user):
    upload_file(user.client, "local.txt", b"hello tasks")
    assert user.client.get(f"{API}/tasks/").json() == []
    assert user.client.get(f"{API}/tasks/history").json() == []


# --------------------------------------------------------------------------
# Telegram backend against the fake Bot API
# --------------------------------------------------------------------------

K = 1024
MIB = 1024 * K
BANDWIDTH = 200_000   # bytes/s per connection in the fake: 64 KiB chunks take ~0.3 s


@pytest.fixture(scope="module")
def tg(tmp_path_factory, module_server_factory):
    """A fake capped at BANDWIDTH per connection and a server storing 64 KiB
    chunks in it (one bot, one chat, no client-side pacing)."""
    fake = StrictFakeTelegram(tmp_path_factory.mktemp("tasks-fake"), "--seed", "3",
                              "--bandwidth", str(BANDWIDTH), "--latency", "20")
    server = module_server_factory(env={
        "STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STORAGE_CHAT_ID": "-1001",
        "CHUNK_SIZE": "64K", "TELEGRAM_PACING": "false"})
    yield fake, server
    fake.stop()


class Upload(threading.Thread):
    """Streams a `size`-byte upload over a raw socket in a thread; .response
    is the RawResponse, or None when the server closed without answering."""

    def __init__(self, server, token, name, size, seed=1):
        super().__init__(daemon=True)
        self.server, self.token, self.name, self.size, self.seed = server, token, name, size, seed
        self.response = None
        self.error = None

    def run(self):
        boundary = "tasks" + uuid.uuid4().hex
        pre = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"{self.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        post = f"\r\n--{boundary}--\r\n".encode()
        head = upload_head(self.token, content_length=len(pre) + self.size + len(post),
                           boundary=boundary)
        parts = [pre, *prng_blocks(self.seed, self.size, 64 * K), post]
        try:
            self.response = raw_exchange(self.server.port, head, parts, timeout=120)
        except OSError as e:   # reset while reading: the server closed on us
            self.error = e


def tasks_of(user):
    r = user.client.get(f"{API}/tasks/")
    assert r.status_code == 200, r.text
    tasks = r.json()
    assert isinstance(tasks, list)
    for t in tasks:
        assert_task_shape(t)
    return tasks


def task_named(user, name):
    found = [t for t in tasks_of(user) if t["file_name"] == name]
    assert len(found) <= 1, found
    return found[0] if found else None


def assert_task_shape(t):
    assert set(t) == TASK_FIELDS, t
    assert t["type"] == "upload"
    assert t["status"] in ("queued", "in_progress", "completed", "failed", "cancelled")
    assert isinstance(t["progress_percent"], (int, float)) and 0 <= t["progress_percent"] <= 100
    for k in ("transferred", "total", "speed_bytes_per_sec"):
        assert type(t[k]) is int and t[k] >= 0, t
    assert HR_RE.match(t["transferred_hr"]) and HR_RE.match(t["total_hr"]), t
    assert t["eta_seconds"] is None or (type(t["eta_seconds"]) is int and t["eta_seconds"] >= 0)
    if t["eta_seconds"] is None:
        assert t["eta_friendly"] == "N/A", t
    else:
        assert ETA_RE.match(t["eta_friendly"]), t
    assert TS_RE.match(t["created_at"]) and TS_RE.match(t["updated_at"]), t
    # Running tasks can be cancelled, except in the moment the file commits.
    assert type(t["can_cancel"]) is bool
    if t["status"] not in ("queued", "in_progress"):
        assert t["can_cancel"] is False, t
    assert t["error"] is None or isinstance(t["error"], str)
    assert t["file_id"] is None or isinstance(t["file_id"], str)


def messages_since(fake, before):
    return [m for m in fake.messages() if (m["chat_id"], m["message_id"]) not in before]


def all_deleted(fake, before):
    """True once every message sent since `before` is deleted and nothing new
    has arrived for a moment (puts in flight when cancelled still land)."""
    msgs = messages_since(fake, before)
    return bool(msgs) and all(m["deleted"] for m in msgs)


def test_upload_progress_then_completed(tg):
    fake, server = tg
    alice = make_user(server, prefix="tka")
    size = 3 * MIB
    up = Upload(server, alice.access_token, "progress.bin", size)
    up.start()
    seen = []   # (transferred, speed, eta) while in progress
    deadline = time.monotonic() + 60
    while up.is_alive() and time.monotonic() < deadline:
        t = task_named(alice, "progress.bin")
        if t and t["status"] == "in_progress" and t["transferred"] > 0:
            seen.append(t)
        time.sleep(0.2)
    up.join(60)
    assert up.response is not None, up.error
    assert up.response.status == 201, up.response.body[:300]
    fid = up.response.json()["id"]

    # Seen running, with growing progress and a sane speed and ETA.
    assert len(seen) >= 3, f"the upload was seen running only {len(seen)} times"
    transferred = [t["transferred"] for t in seen]
    assert transferred == sorted(transferred) and transferred[-1] > transferred[0], transferred
    last = seen[-1]
    assert last["total"] >= size and last["file_id"] is None
    assert seen[0]["can_cancel"] is True
    assert 0 < last["progress_percent"] < 100
    assert last["transferred"] % (64 * K) == 0   # whole chunks confirmed by the store
    assert all(t["task_id"] == last["task_id"] for t in seen)
    speeds = [t["speed_bytes_per_sec"] for t in seen[1:]]
    assert all(10_000 < s < 20 * BANDWIDTH for s in speeds), speeds
    etas = [t["eta_seconds"] for t in seen[1:] if t["eta_seconds"] is not None]
    assert etas and all(e < 120 for e in etas), seen

    # Finished: completed with the new file, out of the ETA business.
    t = task_named(alice, "progress.bin")
    assert t["status"] == "completed", t
    assert t["file_id"] == fid and t["error"] is None
    assert t["transferred"] == t["total"] == size and t["progress_percent"] == 100
    assert t["eta_seconds"] is None and t["eta_friendly"] == "N/A" and t["can_cancel"] is False
    assert t["speed_bytes_per_sec"] == 0
    assert t["total_hr"] == "3.00 MB" and t["transferred_hr"] == "3.00 MB"

    # The history has it too; a finished task cannot be cancelled.
    hist = alice.client.get(f"{API}/tasks/history").json()
    assert [h["task_id"] for h in hist] == [t["task_id"]]
    assert hist[0]["status"] == "completed" and hist[0]["file_id"] == fid
    assert alice.client.get(f"{API}/tasks/history", params={"status": "cancelled"}).json() == []
    r = alice.client.post(f"{API}/tasks/cancel/{t['task_id']}")
    assert_error(r, 409, "Task already finished")


def test_cancel_running_upload(tg):
    fake, server = tg
    alice = make_user(server, prefix="tkc")
    bob = make_user(server, prefix="tkb")
    before = {(m["chat_id"], m["message_id"]) for m in fake.messages()}
    up = Upload(server, alice.access_token, "cancel-me.bin", 8 * MIB, seed=2)
    up.start()
    t = wait_until(lambda: (lambda x: x if x and x["transferred"] > 0 else None)(
        task_named(alice, "cancel-me.bin")), timeout=30)
    assert t and t["status"] == "in_progress" and t["can_cancel"], t
    tid = t["task_id"]

    # Someone else neither sees nor cancels it.
    assert tasks_of(bob) == []
    assert_error(bob.client.post(f"{API}/tasks/cancel/{tid}"), 404, "Task not found")
    r = bob.client.get(f"{API}/tasks/", params={"user_id": alice.id})
    assert_error(r, 403, "Not allowed to view another user's tasks")

    r = alice.client.post(f"{API}/tasks/cancel/{tid}")
    assert r.status_code == 200, r.text
    assert r.json() == {"task_id": tid, "status": "cancelled"}
    up.join(30)
    assert not up.is_alive(), "the upload request did not end after the cancel"
    # the request reads the rest of the body, then answers (DECISIONS: Tasks)
    assert up.response is not None, up.error
    assert up.response.status == 409, up.response.body[:300]
    assert up.response.json() == {"detail": "Upload cancelled"}

    t = task_named(alice, "cancel-me.bin")
    assert t["status"] == "cancelled" and t["can_cancel"] is False, t
    assert t["file_id"] is None and t["eta_seconds"] is None
    assert t["transferred"] < 8 * MIB
    assert_error(alice.client.post(f"{API}/tasks/cancel/{tid}"), 409, "Task already finished")

    # Nothing became visible, and what reached Telegram is deleted.
    files, _ = list_files(alice.client)
    assert files == []
    assert messages_since(fake, before), "no chunk reached the fake before the cancel"
    assert wait_until(lambda: all_deleted(fake, before), timeout=30), \
        [m for m in messages_since(fake, before) if not m["deleted"]]
    hist = alice.client.get(f"{API}/tasks/history", params={"status": "cancelled"}).json()
    assert [h["task_id"] for h in hist] == [tid]
    assert alice.client.get(f"{API}/tasks/history", params={"status": "completed"}).json() == []


def test_client_gone_fails_the_task(tg):
    fake, server = tg
    alice = make_user(server, prefix="tkg")
    before = {(m["chat_id"], m["message_id"]) for m in fake.messages()}
    boundary = "gone" + uuid.uuid4().hex
    pre = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"gone.bin\"\r\n\r\n").encode()
    head = upload_head(alice.access_token, content_length=len(pre) + 4 * MIB + 64,
                       boundary=boundary)
    # Half the body, then the client disappears.
    raw_exchange(server.port, head, [pre, *prng_blocks(5, 2 * MIB, 64 * K)],
                 close_early=True, timeout=60)
    t = wait_until(lambda: (lambda x: x if x and x["status"] == "failed" else None)(
        task_named(alice, "gone.bin")), timeout=30)
    assert t, task_named(alice, "gone.bin")
    assert t["error"] == "The upload was interrupted before it finished", t
    assert t["can_cancel"] is False and t["file_id"] is None
    assert_error(alice.client.post(f"{API}/tasks/cancel/{t['task_id']}"), 409,
                 "Task already finished")
    files, _ = list_files(alice.client)
    assert files == []
    assert wait_until(lambda: all_deleted(fake, before), timeout=30), \
        [m for m in messages_since(fake, before) if not m["deleted"]]
    hist = alice.client.get(f"{API}/tasks/history", params={"status": "failed"}).json()
    assert [h["task_id"] for h in hist] == [t["task_id"]]
    assert hist[0]["error"] == t["error"]


def test_tasks_survive_in_history_across_restart(tg, server_factory, tmp_path):
    """A task the registry no longer holds (a restart) is still in the history,
    and cancelling it is a 409, not a 404."""
    fake, _ = tg
    env = {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
           "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STORAGE_CHAT_ID": "-1001",
           "CHUNK_SIZE": "64K", "TELEGRAM_PACING": "false"}
    data = tmp_path / "data"
    s1 = server_factory(env=env, data_dir=data)
    alice = make_user(s1, prefix="tkr")
    fid = upload_file(alice.client, "small.bin", os.urandom(100 * K))["id"]
    t = task_named(alice, "small.bin")
    assert t["status"] == "completed" and t["file_id"] == fid
    assert s1.stop(10) == 0
    s2 = server_factory(env=env, data_dir=data)
    alice.server = s2
    alice.client = s2.client(alice.access_token)
    assert tasks_of(alice) == []
    hist = alice.client.get(f"{API}/tasks/history").json()
    assert [(h["task_id"], h["status"], h["file_id"]) for h in hist] == [(t["task_id"], "completed", fid)]
    assert_error(alice.client.post(f"{API}/tasks/cancel/{t['task_id']}"), 409,
                 "Task already finished")

"""Several nodes on one database (issue 13, point 2).

On both engines: a node refuses a database whose schema is newer than the
migrations it knows. On PostgreSQL only (NETRADRIVE_DATABASE=postgres): local
storage needs SHARED_DATA_DIR=true, and two server processes on one database
and one shared DATA_DIR act as one installation (an upload on one downloads
from the other; two moves from two nodes that together would make a cycle
never both succeed), tasks are watched and cancelled across nodes, a starting
node spares a live peer's work, the URL jobs and tasks of a node killed or
gone silent are taken over (resumed or failed cleanly) by another, login and
share-password throttles, refresh-token reuse and share views hold across
nodes, and folder sizes stay exact under concurrent work from both.
"""
import os
import sqlite3
import subprocess
import threading

import pytest

from helpers import (API, POSTGRES, create_folder, download, folder_path, free_port, make_user,
                     prng_blocks,
                     run_cmd, upload_file)

pg_only = pytest.mark.skipif(not POSTGRES, reason="several nodes need PostgreSQL "
                             "(NETRADRIVE_DATABASE=postgres, tools/test.sh)")


def bump_schema(data_dir, url, version):
    """Records a migration newer than any the binary has, as a newer node would."""
    if url:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c",
                        f"INSERT INTO schema_version (version) VALUES ({version})"],
                       check=True, timeout=30, stdin=subprocess.DEVNULL, capture_output=True)
        return
    db = sqlite3.connect(os.path.join(data_dir, "netradrive.db"))
    with db:
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    db.close()


def test_newer_schema_is_refused(tmp_path):
    from helpers import pg_database_url
    data = tmp_path / "data"
    p = run_cmd(["migrate"], tmp_path)
    assert p.returncode == 0, p.stderr
    bump_schema(str(data), pg_database_url(str(data)) if POSTGRES else None, 999)
    for cmd in (["migrate"], ["serve", "--port", str(free_port())]):
        p = run_cmd(cmd, tmp_path, timeout=20)
        err = p.stderr.decode().strip().splitlines()
        assert p.returncode != 0, (cmd, p.stderr)
        assert err[-1].startswith("netradrive: DATABASE_URL: the database schema is version 999, "
                                  "newer than this build knows"), err


@pg_only
def test_local_storage_on_postgres_needs_a_shared_data_dir(tmp_path):
    """serve, gc and fsck touch chunks: they refuse local storage on
    PostgreSQL unless DATA_DIR is declared shared. migrate touches only the
    database and runs without the declaration."""
    p = run_cmd(["migrate"], tmp_path, env={"STORAGE_BACKEND": "local"})
    assert p.returncode == 0, p.stderr
    for cmd in (["serve", "--port", str(free_port())], ["gc"], ["fsck"]):
        for value in (None, "false"):
            env = {"STORAGE_BACKEND": "local", "SHARED_DATA_DIR": value}  # None: unset
            p = run_cmd(cmd, tmp_path, env=env, timeout=20)
            assert p.returncode != 0, (cmd, p.stderr)
            line = p.stderr.decode().strip()
            assert line.startswith("netradrive: STORAGE_BACKEND: local storage with "
                                   "PostgreSQL"), (cmd, line)
            assert "SHARED_DATA_DIR=true" in line, line
    p = run_cmd(["gc"], tmp_path, env={"STORAGE_BACKEND": "local", "SHARED_DATA_DIR": "true"})
    assert p.returncode == 0, p.stderr


def test_sqlite_needs_no_shared_data_dir(tmp_path):
    if POSTGRES:
        pytest.skip("SQLite only")
    p = run_cmd(["migrate"], tmp_path, env={"STORAGE_BACKEND": "local"})
    assert p.returncode == 0, p.stderr


# --------------------------------------------------------------------------
# Two nodes on one database and one shared DATA_DIR (local backend)
# --------------------------------------------------------------------------

NODE_ENV = {"STORAGE_BACKEND": "local", "SHARED_DATA_DIR": "true",
            "MAX_CONNECTIONS_PER_IP": "0"}


@pytest.fixture
def nodes(server_factory):
    """Nodes A and B: the same DATA_DIR, so the same database (helpers keys the
    test database by DATA_DIR) and the same secret key: tokens of one hold on
    the other, as behind a load balancer."""
    a = server_factory(env=NODE_ENV)
    b = server_factory(env=NODE_ENV, data_dir=a.data_dir)
    return a, b


@pg_only
def test_upload_on_one_node_downloads_from_the_other(nodes):
    a, b = nodes
    u = make_user(a)
    data = b"".join(prng_blocks(13, 3 * 1024 * 1024 + 17))
    f = upload_file(u.client, "across.bin", data)
    on_b = b.client(u.access_token)
    assert download(on_b, f["id"]) == data
    # and back: a file uploaded on B, listed and read on A
    g = upload_file(on_b, "back.bin", data[:1000])
    assert download(u.client, g["id"]) == data[:1000]


@pg_only
def test_cross_node_moves_never_make_a_cycle(nodes):
    """X into Y on node A while Y into X on node B, many times over: the write
    transactions of both nodes take one advisory lock (db_pg.c), so the second
    move sees the first and is refused; never both succeed."""
    a, b = nodes
    u = make_user(a)
    ca, cb = u.client, b.client(u.access_token)
    for i in range(40):
        root = create_folder(ca, f"round-{i}")
        x = create_folder(ca, "x", parent_id=root["id"])
        y = create_folder(cb, "y", parent_id=root["id"])
        results = {}
        go = threading.Barrier(2)

        def move(name, client, src, dst):
            go.wait()
            results[name] = client.put(f"{API}/folders/{src}/move",
                                       json={"new_parent_id": dst}).status_code

        ts = [threading.Thread(target=move, args=("a", ca, x["id"], y["id"])),
              threading.Thread(target=move, args=("b", cb, y["id"], x["id"]))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        ok = [k for k, v in results.items() if v == 200]
        assert len(results) == 2 and all(v in (200, 400, 409) for v in results.values()), results
        assert len(ok) == 1, results
        # Both folders still hang under the round's root: no cycle anywhere.
        for fid in (x["id"], y["id"]):
            assert f"round-{i}" in [p["name"] for p in folder_path(ca, fid)]


# --------------------------------------------------------------------------
# Two nodes on one fake Telegram: tasks seen and cancelled across nodes
# --------------------------------------------------------------------------

K = 1024
SECRET = "nodes-secret-" + "k" * 52


@pytest.fixture
def tg_nodes(tmp_path_factory, server_factory):
    """Nodes A and B with DATA_DIRs of their own, one database, one SECRET_KEY
    and one fake Bot API capped at 200 kB/s, so an upload takes seconds."""
    from helpers import StrictFakeTelegram, pg_database_url
    fake = StrictFakeTelegram(tmp_path_factory.mktemp("nodes-fake"), "--seed", "5",
                              "--bandwidth", "200000", "--latency", "20")
    db = pg_database_url(str(tmp_path_factory.mktemp("nodes-db")))
    env = {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
           "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STORAGE_CHAT_ID": "-1001",
           "CHUNK_SIZE": "64K", "TELEGRAM_PACING": "false", "SECRET_KEY": SECRET,
           "DATABASE_URL": db, "MAX_CONNECTIONS_PER_IP": "0", "NODE_TIMEOUT": "2"}
    a = server_factory(env=env)
    b = server_factory(env=env)
    yield a, b
    for s in (a, b):
        s.stop()
    fake.stop()


def start_upload(server, token, name, size, result):
    from helpers import raw_exchange, upload_head
    import uuid
    boundary = "nd" + uuid.uuid4().hex
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


def wait_for_task(client, timeout=20):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = [t for t in client.get(f"{API}/tasks/").json() if t["status"] == "in_progress"]
        if tasks:
            return tasks[0]
        time.sleep(0.05)
    raise AssertionError("the upload never became a task")


@pg_only
def test_websocket_on_one_node_sees_an_upload_on_the_other(tg_nodes):
    from wsclient import WS
    a, b = tg_nodes
    u = make_user(a, prefix="ndws")
    ws = WS(a.port, f"{API}/ws/tasks/{u.id}?token={u.access_token}", timeout=30)
    assert ws.recv_json() == {"event": "snapshot", "tasks": []}
    result = []
    size = 24 * 64 * K
    t = start_upload(b, u.access_token, "on-b.bin", size, result)
    # Node A lists the task node B runs (from the tasks table).
    listed = wait_for_task(u.client)
    assert listed["file_name"] == "on-b.bin"
    done, seen = ws.recv_until(lambda m: m["event"] != "progress", timeout=60)
    t.join(60)
    assert result and result[0].status == 201, result
    progress = [m["task"] for m in seen if m["event"] == "progress"]
    assert len(progress) >= 3, seen
    assert any(0 < p["transferred"] < size for p in progress), progress
    transferred = [p["transferred"] for p in progress]
    assert transferred == sorted(transferred)
    assert done["event"] == "completed", done
    assert done["task"]["file_id"] == result[0].json()["id"]
    assert done["task"]["transferred"] == size
    ws.close()
    # and the file B stored reads back on A
    assert download(u.client, done["task"]["file_id"]) == b"".join(prng_blocks(7, size, 64 * K))


@pg_only
def test_cancel_on_one_node_stops_an_upload_on_the_other(tg_nodes):
    from wsclient import WS
    a, b = tg_nodes
    u = make_user(a, prefix="ndcx")
    result = []
    t = start_upload(b, u.access_token, "cancel-me.bin", 40 * 64 * K, result)
    task = wait_for_task(u.client)       # listed on A, running on B
    ws = WS(b.port, f"{API}/ws/tasks/{u.id}?token={u.access_token}", timeout=30)
    assert ws.recv_json()["event"] == "snapshot"
    r = u.client.post(f"{API}/tasks/cancel/{task['task_id']}")    # on A
    assert r.status_code == 200, r.text
    assert r.json() == {"task_id": task["task_id"], "status": "cancelled"}
    done, _ = ws.recv_until(lambda m: m["event"] != "progress", timeout=30)
    assert done["event"] == "cancelled" and done["task"]["task_id"] == task["task_id"]
    t.join(60)
    assert result and result[0].status != 201, result
    # Cancelled once: a second cancel on either node is a conflict.
    for node in (a, b):
        r = node.client(u.access_token).post(f"{API}/tasks/cancel/{task['task_id']}")
        assert r.status_code == 409, r.text


@pg_only
def test_task_of_a_killed_node_is_failed_by_another(tg_nodes):
    """kill -9 node B while it uploads to Telegram: node A finds B gone (same
    host, its process exited), fails B's task through its own registry (a
    WebSocket on A sees it end, with the reason) and reclaims B's staged
    chunks; nothing stays in progress."""
    from helpers import pg_database_url, wait_until
    from wsclient import WS
    a, b = tg_nodes
    u = make_user(a, prefix="ndtk")
    ws = WS(a.port, f"{API}/ws/tasks/{u.id}?token={u.access_token}", timeout=30)
    assert ws.recv_json()["event"] == "snapshot"
    result = []
    start_upload(b, u.access_token, "dies.bin", 40 * 64 * K, result)
    task = wait_for_task(u.client)
    url = b.extra_env["DATABASE_URL"]
    assert wait_until(lambda: int(psql(url, "SELECT COUNT(*) FROM pending_deletes "
                                            "WHERE state = 'staged'")) > 0, timeout=10)
    b.kill()
    done, _ = ws.recv_until(lambda m: m["event"] not in ("progress", "queued", "started"),
                            timeout=20)
    assert done["event"] == "failed", done
    assert done["task"]["task_id"] == task["task_id"]
    assert done["task"]["error"] == "Interrupted: the server node running it stopped", done
    ws.close()
    hist = u.client.get(f"{API}/tasks/history").json()
    assert any(h["task_id"] == task["task_id"] and h["status"] == "failed" for h in hist), hist
    assert not [t for t in u.client.get(f"{API}/tasks/").json() if t["status"] == "in_progress"]
    # B's staged chunks became deletions (and the sweep removes them)
    assert wait_until(lambda: int(psql(url, "SELECT COUNT(*) FROM pending_deletes "
                                            "WHERE state = 'staged'")) == 0, timeout=10)


SWEEP_KEY = 7954893602245981816   # DB_JOB_SWEEP (db.h)


@pg_only
def test_storage_sweep_runs_on_one_node_at_a_time(nodes):
    """The delete sweep takes its job lock (a PostgreSQL advisory lock) first:
    while somebody else holds it (here a psql session, as another node's
    sweeper would) no node removes anything; once it is let go, one does."""
    import time
    from helpers import pg_database_url, stored_chunks, wait_until
    a, b = nodes
    u = make_user(a)
    f = upload_file(u.client, "swept.bin", b"".join(prng_blocks(21, 100_000)))
    chunks = set(stored_chunks(a))
    assert chunks
    holder = subprocess.Popen(["psql", "-X", "-q", "-t", "-A", "-d", pg_database_url(a.data_dir)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"SELECT pg_advisory_lock({SWEEP_KEY});\n\\echo held\n")
        holder.stdin.flush()
        while holder.stdout.readline().strip() != "held":
            assert holder.poll() is None, "psql could not take the lock"
        r = u.client.delete(f"{API}/files/{f['id']}")
        assert r.status_code == 200, r.text
        time.sleep(7)   # a kick and a whole sweep interval (5 s) of both nodes
        assert set(stored_chunks(a)) >= chunks
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert wait_until(lambda: not (set(stored_chunks(a)) & chunks), timeout=15), \
        "no node swept once the lock was free"


# --------------------------------------------------------------------------
# Node identity and liveness: start-up sweeps spare a live peer's work, and
# the URL job of a node killed mid-download is taken over by another
# --------------------------------------------------------------------------

def psql(url, sql):
    p = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url,
                        "-c", sql], check=True, timeout=30, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    return p.stdout.strip()


LIVE_ENV = dict(NODE_ENV, CHUNK_SIZE="64K", NODE_TIMEOUT="2", ALLOW_PRIVATE_URLS="true")


@pg_only
def test_a_starting_node_spares_a_live_peers_upload(server_factory, tmp_path):
    """Node B starts (its start-up sweeps run) while node A streams an upload
    slowly into the shared DATA_DIR: A's spool file, its staged chunks and
    its upload survive, and the file reads back whole from both nodes."""
    import time
    import uuid
    from helpers import pg_database_url, raw_exchange, upload_head
    a = server_factory(env=LIVE_ENV)
    u = make_user(a, prefix="ndlive")
    size = 40 * 64 * K
    boundary = "nd" + uuid.uuid4().hex
    pre = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"slow.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    head = upload_head(u.access_token, content_length=len(pre) + size + len(post),
                       boundary=boundary)
    result = []
    t = threading.Thread(target=lambda: result.append(raw_exchange(
        a.port, head, [pre, *prng_blocks(9, size, 64 * K), post], timeout=60, pause=0.1)),
        daemon=True)
    t.start()
    url = pg_database_url(a.data_dir)
    time.sleep(1.5)   # a few chunks staged, one spooled
    staged = int(psql(url, "SELECT COUNT(*) FROM pending_deletes WHERE state = 'staged'"))
    assert staged > 0
    b = server_factory(env=LIVE_ENV, data_dir=a.data_dir)
    assert int(psql(url, "SELECT COUNT(*) FROM nodes")) == 2
    # B's sweeps ran at its start; nothing of A's turned into a deletion.
    assert int(psql(url, "SELECT COUNT(*) FROM pending_deletes WHERE state = 'delete'")) == 0
    t.join(60)
    assert result and result[0].status == 201, result
    f = result[0].json()
    data = b"".join(prng_blocks(9, size, 64 * K))
    assert download(u.client, f["id"]) == data
    assert download(b.client(u.access_token), f["id"]) == data


def _url_source():
    from test_url_upload import Source
    return Source()


@pytest.fixture
def url_source():
    s = _url_source()
    yield s
    s.close()


def _wait_status(client, job, want, timeout):
    from helpers import wait_until
    from test_url_upload import status
    st = wait_until(lambda: (lambda s: s if s["status"] in want else None)(status(client, job)),
                    timeout=timeout)
    assert st, status(client, job)
    return st


@pg_only
def test_url_job_of_a_killed_node_fails_cleanly_on_another(server_factory, url_source):
    """kill -9 the node downloading a URL job whose source has no validator:
    the other node (same host: it sees the process is gone) claims the job
    and fails it with a clear reason; the task ends too, never left running."""
    from helpers import pg_database_url, wait_until
    from test_url_upload import Item, rand, status, submit
    a = server_factory(env=LIVE_ENV)
    b = server_factory(env=LIVE_ENV, data_dir=a.data_dir)
    u = make_user(a, prefix="ndkill")
    job = submit(u.client, url_source.add("/kill/plain.bin", Item(rand(4 << 20), rate=256 << 10)))
    assert wait_until(lambda: status(u.client, job)["transferred_bytes"] > 100_000, timeout=10)
    url = pg_database_url(a.data_dir)
    runner = psql(url, f"SELECT node_id FROM url_jobs WHERE id = '{job}'")
    assert runner and psql(url, f"SELECT pid FROM nodes WHERE id = '{runner}'") == str(a.proc.pid)
    a.kill()
    on_b = b.client(u.access_token)
    st = _wait_status(on_b, job, ("failed",), timeout=15)
    assert st["error_message"] == "Interrupted: the server node running it stopped", st
    # The job's row is failed first, its task right after (urljob_recover):
    # a request in between may still see the task running, for milliseconds.
    task_of = lambda: next(t for t in on_b.get(f"{API}/tasks/").json() if t["task_id"] == job)
    assert wait_until(lambda: task_of()["status"] == "failed", timeout=5), task_of()
    assert task_of()["type"] == "url_upload"
    assert psql(url, f"SELECT status FROM tasks WHERE id = '{job}'") == "failed"
    assert psql(url, f"SELECT COUNT(*) FROM nodes WHERE id = '{runner}'") == "0"


@pg_only
def test_url_job_of_a_silent_node_is_resumed_by_another(server_factory, url_source):
    """A node that stops sending heartbeats (here: its row says another host,
    so only NODE_TIMEOUT tells) is dead once the timeout passed: node B
    claims its URL job and, the source having a validator and ranges,
    downloads it again and completes it; the file is whole."""
    import hashlib
    import time
    from helpers import pg_database_url, wait_until
    from test_url_upload import Item, rand, status, submit
    a = server_factory(env=LIVE_ENV)
    b = server_factory(env=LIVE_ENV, data_dir=a.data_dir)
    u = make_user(a, prefix="ndsil")
    data = rand(3 << 20)
    item = Item(data, etag='"v1"', ranges=True, rate=256 << 10, rate_first_only=True)
    job = submit(u.client, url_source.add("/silent/etag.bin", item))
    assert wait_until(lambda: status(u.client, job)["transferred_bytes"] > 100_000, timeout=10)
    url = pg_database_url(a.data_dir)
    runner = psql(url, f"SELECT node_id FROM url_jobs WHERE id = '{job}'")
    psql(url, f"UPDATE nodes SET host = 'elsewhere' WHERE id = '{runner}'")
    a.kill()
    killed_at = time.monotonic()
    on_b = b.client(u.access_token)
    assert status(on_b, job)["status"] == "downloading"   # not taken before the timeout
    st = _wait_status(on_b, job, ("completed", "failed", "cancelled"), timeout=30)
    assert st["status"] == "completed", st
    assert time.monotonic() - killed_at >= 1.5   # NODE_TIMEOUT is 2 s
    got = download(on_b, st["file_id"])
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert item.requests == 2
    task = next(t for t in on_b.get(f"{API}/tasks/").json() if t["task_id"] == job)
    assert task["status"] == "completed", task
    assert psql(url, f"SELECT node_id FROM url_jobs WHERE id = '{job}'") != runner


# --------------------------------------------------------------------------
# Login throttling, refresh-token reuse, share views: one truth across nodes
# --------------------------------------------------------------------------

BAD_LOGIN = "Incorrect username or password"


def _login(client, username, password):
    return client.post(f"{API}/auth/token", data={"username": username, "password": password})


@pg_only
def test_login_throttle_holds_across_nodes(nodes):
    """5 wrong passwords through node A, then one through node B: B refuses
    (the failures are counted in the database), even the right password."""
    from helpers import assert_error
    a, b = nodes
    u = make_user(a, prefix="ndthr")
    other = make_user(b, prefix="ndthr2")
    ca, cb = a.client(), b.client()
    for i in range(4):
        assert_error(_login(ca, u.username, f"wrong-{i}-password"), 401, BAD_LOGIN)
    assert_error(_login(cb, u.username, "wrong-4-password"), 401, BAD_LOGIN)   # the 5th, on B
    for c in (cb, ca):
        r = _login(c, u.username, u.password)
        assert_error(r, 429, "Too many failed login attempts. Try again later.")
        assert 0 < int(r.headers["Retry-After"]) <= 900, r.headers
    # The failures came from one address: it is locked on both nodes too.
    for c in (ca, cb):
        assert _login(c, other.username, other.password).status_code == 429


@pg_only
def test_share_password_throttle_holds_across_nodes(nodes):
    from helpers import assert_error
    a, b = nodes
    u = make_user(a, prefix="ndshp")
    f = upload_file(u.client, "pw.bin", b"x" * 100)
    r = u.client.post(f"{API}/share/generate/{f['id']}", json={"password": "right pw"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    anon_a, anon_b = a.client(), b.client()
    for i in range(10):   # SHARE_PW_MAX_FAILURES, half on each node
        node = anon_a if i % 2 else anon_b
        assert_error(node.get(f"/s/{sid}", params={"password": f"wrong{i}"}), 401,
                     "Password required")
    for node in (anon_a, anon_b):
        r = node.get(f"/s/{sid}", params={"password": "right pw"})
        assert_error(r, 429, "Too many wrong passwords; try again later")


@pg_only
def test_refresh_token_reuse_is_caught_across_nodes(nodes):
    """A refresh token rotated on node A and presented again on node B is a
    reuse: B refuses it and revokes the whole family, A's new token too."""
    from helpers import assert_error
    a, b = nodes
    u = make_user(a, prefix="ndref")
    ca, cb = a.client(), b.client()
    r0 = u.refresh_token
    r = ca.post(f"{API}/auth/refresh_token", json={"refresh_token": r0})
    assert r.status_code == 200, r.text
    r1 = r.json()["refresh_token"]
    bad = "Could not validate credentials"
    assert_error(cb.post(f"{API}/auth/refresh_token", json={"refresh_token": r0}), 401, bad)
    assert_error(ca.post(f"{API}/auth/refresh_token", json={"refresh_token": r1}), 401, bad)


@pg_only
def test_share_views_count_across_nodes(nodes):
    a, b = nodes
    u = make_user(a, prefix="ndvw")
    data = b"viewed " * 100
    f = upload_file(u.client, "viewed.bin", data)
    r = u.client.post(f"{API}/share/generate/{f['id']}")
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    anon_a, anon_b = a.client(), b.client()
    for i in range(6):
        node = anon_a if i % 2 else anon_b
        r = node.get(f"/s/{sid}")
        assert r.status_code == 200 and r.content == data
    for c in (u.client, b.client(u.access_token)):
        listed = [s for s in c.get(f"{API}/share/").json() if s["id"] == sid]
        assert listed and listed[0]["views"] == 6, listed


# --------------------------------------------------------------------------
# Folder sizes stay exact under concurrent work from two nodes
# --------------------------------------------------------------------------

def _check_sizes(client, parent, path="/"):
    """Every live folder below `parent`: its size is its own files' sizes plus
    its subfolders' sizes (checked all the way down). Returns parent's total."""
    from helpers import list_files, list_folders
    files, _ = list_files(client, folder_id=parent or "root", limit=10000)
    folders, _ = list_folders(client, parent_id=parent or "root", limit=10000)
    total = sum(f["size"] for f in files)
    for d in folders:
        below = _check_sizes(client, d["id"], path + d["name"] + "/")
        assert d["size"] == below, f"{path}{d['name']}: size {d['size']} != {below} below it"
        total += below
    return total


@pg_only
def test_folder_sizes_exact_under_concurrent_work_on_two_nodes(nodes):
    """Four workers, two per node, upload, move files and folders, bin and
    restore at random in one tree for a few seconds; then, everything
    restored, every folder's size equals the sum below it."""
    import random
    import time
    a, b = nodes
    u = make_user(a, prefix="ndsz")
    clients = [u.client, b.client(u.access_token), a.client(u.access_token),
               b.client(u.access_token)]
    top = [create_folder(u.client, f"top{i}") for i in range(3)]
    folders = [f["id"] for f in top]
    for i in range(6):
        folders.append(create_folder(u.client, f"sub{i}", parent_id=folders[i % 3])["id"])
    files, sizes, lock = [], {}, threading.Lock()
    stop_at = time.monotonic() + 8
    errors, done = [], {}

    def worker(n):
        rnd = random.Random(n)
        c = clients[n]
        k = 0
        while time.monotonic() < stop_at:
            k += 1
            op = rnd.random()
            with lock:
                fid = rnd.choice(files) if files else None
            dst = rnd.choice(folders)
            if op < 0.35 or fid is None:
                size = rnd.randint(1, 40000)
                r = c.post(f"{API}/files/upload", params={"folder_id": dst},
                           files={"file": (f"w{n}-{k}.bin", bytes([n]) * size)})
                if r.status_code == 201:
                    with lock:
                        files.append(r.json()["id"])
                        sizes[r.json()["id"]] = size
                elif r.status_code not in (404, 409):
                    errors.append(("upload", r.status_code, r.text))
            elif op < 0.55:
                r = c.put(f"{API}/files/{fid}/move", json={"new_parent_id": dst})
                if r.status_code == 200:
                    done["move file"] = done.get("move file", 0) + 1
                if r.status_code not in (200, 404, 409, 400):
                    errors.append(("move file", r.status_code, r.text))
            elif op < 0.70:
                src = rnd.choice(folders[3:])
                r = c.put(f"{API}/folders/{src}/move",
                          json={"new_parent_id": rnd.choice(folders + [None])})
                if r.status_code == 200:
                    done["move folder"] = done.get("move folder", 0) + 1
                if r.status_code not in (200, 400, 404, 409):
                    errors.append(("move folder", r.status_code, r.text))
            elif op < 0.80:
                r = c.put(f"{API}/files/{fid}/bin")
                if r.status_code == 200:
                    done["bin file"] = done.get("bin file", 0) + 1
                if r.status_code not in (200, 404, 409):
                    errors.append(("bin file", r.status_code, r.text))
            elif op < 0.88:
                r = c.put(f"{API}/files/{fid}/restore")
                if r.status_code == 200:
                    done["restore file"] = done.get("restore file", 0) + 1
                if r.status_code not in (200, 400, 404, 409):
                    errors.append(("restore file", r.status_code, r.text))
            elif op < 0.94:
                r = c.put(f"{API}/folders/{rnd.choice(folders[3:])}/bin")
                if r.status_code == 200:
                    done["bin folder"] = done.get("bin folder", 0) + 1
                if r.status_code not in (200, 404, 409):
                    errors.append(("bin folder", r.status_code, r.text))
            else:
                r = c.put(f"{API}/folders/{rnd.choice(folders[3:])}/restore")
                if r.status_code == 200:
                    done["restore folder"] = done.get("restore folder", 0) + 1
                if r.status_code not in (200, 400, 404, 409):
                    errors.append(("restore folder", r.status_code, r.text))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:5]
    assert len(files) >= 20, len(files)
    assert len(done) == 6, done   # every kind of change happened at least once
    # Everything back from the bin (folders first, then files), then check.
    for fid in folders[3:]:
        u.client.put(f"{API}/folders/{fid}/restore")
    for fid in files:
        u.client.put(f"{API}/files/{fid}/restore")
    total = _check_sizes(u.client, None)
    # and the total is every uploaded file's size, each counted once
    assert total == sum(sizes.values())

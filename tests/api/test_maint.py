"""netradrive gc and fsck against a real data dir: damaged chunks are found and
repaired, unreferenced chunks and stale spool files are removed."""
import os
import re
import subprocess
import time

import pytest

from helpers import POSTGRES, pg_database_url, stored_chunk_count

CHUNK = 65536


def upload(client, name, data, folder_id=None):
    params = {"folder_id": folder_id} if folder_id else {}
    r = client.post("/api/v1/files/upload", params=params, files={"file": (name, data)})
    assert r.status_code == 201, r.text
    return r.json()


def chunk_files(data_dir):
    root = os.path.join(data_dir, "chunks")
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files]
    return sorted(out)


def run(netradrive_bin, data_dir, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_DIR": data_dir,
           "LOG_LEVEL": "warn", "CHUNK_SIZE": str(CHUNK)}
    if POSTGRES:   # one node, sharing its DATA_DIR with itself (README: SHARED_DATA_DIR)
        env["DATABASE_URL"] = pg_database_url(data_dir)
        env["SHARED_DATA_DIR"] = "true"
    return subprocess.run([netradrive_bin, *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def stopped_server_with_files(server_factory):
    # fsck/gc here damage and inspect DATA_DIR/chunks, so the local backend even
    # when NETRADRIVE_BACKEND=telegram (gc against Telegram: test_telegram.py).
    srv = server_factory(env={"CHUNK_SIZE": str(CHUNK), "STORAGE_BACKEND": "local"})
    c = srv.client()
    r = c.post("/api/v1/auth/signup", json={"username": "maint_user", "email": "m@example.com",
                                             "password": "maint-password"})
    assert r.status_code == 201, r.text
    r = c.post("/api/v1/auth/token", data={"username": "maint_user", "password": "maint-password"})
    token = r.json()["access_token"]
    uc = srv.client(token)
    a = os.urandom(3 * CHUNK + 7)
    b = os.urandom(CHUNK // 2)
    fa = upload(uc, "a.bin", a)
    fb = upload(uc, "b.bin", b)
    srv.stop()
    return srv, uc, fa, fb


def test_fsck_clean_store(stopped_server_with_files, netradrive_bin):
    srv, _, _, _ = stopped_server_with_files
    p = run(netradrive_bin, srv.data_dir, "fsck")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "5 chunks checked, 0 missing, 0 corrupt, 0 files damaged" in p.stdout


def test_fsck_finds_and_repairs_damage(stopped_server_with_files, netradrive_bin):
    srv, _, fa, fb = stopped_server_with_files
    files = chunk_files(srv.data_dir)
    assert len(files) == 5
    # Corrupt one byte of the single-chunk file b (its chunk is CHUNK//2 bytes).
    small = [f for f in files if os.path.getsize(f) == CHUNK // 2][0]
    with open(small, "r+b") as fh:
        first = fh.read(1)
        fh.seek(0)
        fh.write(bytes([first[0] ^ 0xFF]))
    # Remove one chunk of a.
    big = [f for f in files if os.path.getsize(f) == CHUNK][0]
    os.unlink(big)
    p = run(netradrive_bin, srv.data_dir, "fsck")
    assert p.returncode == 3, p.stdout + p.stderr
    assert "1 missing, 1 corrupt, 2 files damaged" in p.stdout
    p = run(netradrive_bin, srv.data_dir, "fsck", "--repair")
    assert p.returncode == 0, p.stdout + p.stderr
    assert fa["id"] in p.stdout and fb["id"] in p.stdout
    p = run(netradrive_bin, srv.data_dir, "fsck")
    assert p.returncode == 0 and "0 files damaged" in p.stdout, p.stdout
    # The server starts again, the damaged files are gone and usage is back to zero.
    srv.start()
    try:
        r = srv.client().post("/api/v1/auth/token",
                              data={"username": "maint_user", "password": "maint-password"})
        c = srv.client(r.json()["access_token"])
        assert c.get("/api/v1/files").json() == []
        usage = c.get("/api/v1/users/me/storage").json()
        assert usage["total_usage_bytes"] == 0 and usage["file_count"] == 0
        assert usage["stored_bytes"] == 0
    finally:
        srv.stop()


@pytest.mark.skipif(POSTGRES, reason="opens the SQLite database file")
def test_fsck_checks_both_checksum_kinds(stopped_server_with_files, netradrive_bin):
    # Local chunks are recorded with XXH3-128 ("xxh128:" + 32 hex); records
    # from before that (and Telegram chunks) hold SHA-256 hex: fsck checks each
    # by the kind its text names, and calls a record it can't parse corrupt.
    import hashlib
    import re
    import sqlite3
    srv, _, _, _ = stopped_server_with_files
    db = sqlite3.connect(os.path.join(srv.data_dir, "netradrive.db"))
    try:
        rows = db.execute("SELECT checksum, locator, size FROM chunks").fetchall()
        assert len(rows) == 5
        assert all(re.fullmatch(r"xxh128:[0-9a-f]{32}", r[0]) for r in rows), rows
        assert len({r[0] for r in rows}) == 5   # random bytes: all different
        locator = [r[1] for r in rows if r[2] == CHUNK // 2][0]
        with open(os.path.join(srv.data_dir, "chunks", locator), "rb") as fh:
            data = fh.read()

        def set_sum(value):
            db.execute("UPDATE chunks SET checksum = ? WHERE locator = ?", (value, locator))
            db.commit()

        set_sum(hashlib.sha256(data).hexdigest())   # an older record: still checked
        p = run(netradrive_bin, srv.data_dir, "fsck")
        assert p.returncode == 0, p.stdout + p.stderr
        assert "5 chunks checked, 0 missing, 0 corrupt" in p.stdout
        for wrong in (hashlib.sha256(data + b"x").hexdigest(), "xxh128:" + "0" * 32,
                      "not-a-checksum", ""):
            set_sum(wrong)
            p = run(netradrive_bin, srv.data_dir, "fsck")
            assert p.returncode == 3, (wrong, p.stdout + p.stderr)
            assert "0 missing, 1 corrupt, 1 files damaged" in p.stdout, (wrong, p.stdout)
    finally:
        db.close()


def test_gc_removes_unreferenced_and_stale(stopped_server_with_files, netradrive_bin):
    srv, _, _, _ = stopped_server_with_files
    before = chunk_files(srv.data_dir)
    # A chunk nothing references (as if a crash hit between store and record),
    # old enough that no live upload can own it, and a fresh one gc must keep.
    stray_dir = os.path.join(srv.data_dir, "chunks", "zz")
    os.makedirs(stray_dir, exist_ok=True)
    old = os.path.join(stray_dir, "zz" + "A" * 20)
    young = os.path.join(stray_dir, "zz" + "B" * 20)
    for path in (old, young):
        with open(path, "wb") as fh:
            fh.write(b"x" * 100)
    past = time.time() - 2 * 3600
    os.utime(old, (past, past))
    spool = os.path.join(srv.data_dir, "tmp", "dead.part")
    with open(spool, "wb") as fh:
        fh.write(b"partial")
    os.utime(spool, (time.time() - 3 * 86400,) * 2)
    p = run(netradrive_bin, srv.data_dir, "gc")
    assert p.returncode == 0, p.stdout + p.stderr
    assert not os.path.exists(old)
    assert os.path.exists(young)
    assert not os.path.exists(spool)
    assert [f for f in chunk_files(srv.data_dir) if f != young] == before
    # fsck agrees the referenced chunks are intact.
    p = run(netradrive_bin, srv.data_dir, "fsck")
    assert "0 missing, 0 corrupt" in p.stdout, p.stdout


def test_server_clears_its_spool_at_start(stopped_server_with_files):
    """Spool files a crashed server left (kill -9 mid-upload: fresh, so gc's age rule
    would keep them a day) are removed when the next server starts; one server per
    DATA_DIR, so none of them can belong to a live upload."""
    srv, _, fa, _ = stopped_server_with_files
    spool_dir = os.path.join(srv.data_dir, "tmp")
    left = [os.path.join(spool_dir, n) for n in ("killed1.part", "killed2.part")]
    for path in left:
        with open(path, "wb") as fh:
            fh.write(b"partial chunk")
    srv.start()
    try:
        assert os.listdir(spool_dir) == []
        # The server still works: its stored files read back, uploads spool again.
        token = srv.client().post("/api/v1/auth/token", data={
            "username": "maint_user", "password": "maint-password"}).json()["access_token"]
        uc = srv.client(token)
        assert uc.get(f"/api/v1/files/{fa['id']}/download").status_code == 200
        upload(uc, "after.bin", os.urandom(CHUNK + 1))
    finally:
        srv.stop()


@pytest.mark.skipif(POSTGRES, reason="opens the SQLite database file")
def test_bin_items_past_retention_are_purged_at_start(server_factory):
    """The janitor purges bin items older than BIN_RETENTION_DAYS (its first pass runs at
    start), with their folders' contents, usage and chunks; younger bin items stay."""
    import sqlite3
    srv = server_factory(env={"CHUNK_SIZE": str(CHUNK), "BIN_RETENTION_DAYS": "30"})
    c = srv.client()
    assert c.post("/api/v1/auth/signup", json={"username": "janitor_user", "email": "j@example.com",
                                               "password": "janitor-pass"}).status_code == 201
    token = c.post("/api/v1/auth/token", data={"username": "janitor_user",
                                               "password": "janitor-pass"}).json()["access_token"]
    uc = srv.client(token)
    old_file = upload(uc, "old.bin", os.urandom(2 * CHUNK))
    folder = uc.post("/api/v1/folders", json={"name": "old folder"}).json()
    upload(uc, "inside.bin", os.urandom(CHUNK), folder["id"])
    young = upload(uc, "young.bin", os.urandom(100))
    for path in (f"/api/v1/files/{old_file['id']}/bin", f"/api/v1/folders/{folder['id']}/bin",
                 f"/api/v1/files/{young['id']}/bin"):
        assert uc.put(path).status_code == 200
    srv.stop()
    # Age two of the three bin entries past the retention period.
    db = sqlite3.connect(os.path.join(srv.data_dir, "netradrive.db"))
    old = int((time.time() - 31 * 86400) * 1000)
    db.execute("UPDATE files SET deleted_at = ? WHERE id = ?", (old, old_file["id"]))
    db.execute("UPDATE folders SET deleted_at = ? WHERE id = ?", (old, folder["id"]))
    db.commit()
    db.close()
    srv.start()
    try:
        token = srv.client().post("/api/v1/auth/token", data={
            "username": "janitor_user", "password": "janitor-pass"}).json()["access_token"]
        uc = srv.client(token)
        deadline = time.time() + 10
        while time.time() < deadline:
            binned = uc.get("/api/v1/files", params={"include_deleted": "true"}).json()
            if [f["id"] for f in binned] == [young["id"]]:
                break
            time.sleep(0.2)
        assert [f["id"] for f in binned] == [young["id"]]
        assert uc.get("/api/v1/folders", params={"include_deleted": "true"}).json() == []
        usage = uc.get("/api/v1/users/me/storage").json()
        assert usage["file_count"] == 1 and usage["total_usage_bytes"] == 100
        assert usage["bin_bytes"] == 100 and usage["stored_bytes"] == 100
        # The purged files' chunks are removed by the sweeper.
        while time.time() < deadline and stored_chunk_count(srv) != 1:
            time.sleep(0.2)
        assert stored_chunk_count(srv) == 1
    finally:
        srv.stop()


def _run_on_tty(netradrive_bin, data_dir, *args):
    """Runs a command with stderr on a pseudo-terminal; returns (rc, stdout,
    what the terminal showed)."""
    import pty
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_DIR": data_dir,
           "LOG_LEVEL": "warn", "CHUNK_SIZE": str(CHUNK)}
    if POSTGRES:   # one node, sharing its DATA_DIR with itself (README: SHARED_DATA_DIR)
        env["DATABASE_URL"] = pg_database_url(data_dir)
        env["SHARED_DATA_DIR"] = "true"
    p = subprocess.Popen([netradrive_bin, *args], env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        shown += data
    out = p.stdout.read().decode()
    rc = p.wait(60)
    os.close(master)
    return rc, out, shown.decode("utf-8", "replace")


def test_fsck_progress_on_a_terminal_only(stopped_server_with_files, netradrive_bin):
    srv, _, _, _ = stopped_server_with_files
    rc, out, shown = _run_on_tty(netradrive_bin, srv.data_dir, "fsck")
    assert rc == 0, out + shown
    assert re.search(r"\rfsck: [1-5]/5 chunks \([0-9.]+%\)", shown), repr(shown)
    assert shown.endswith("\r\x1b[K"), repr(shown[-40:])   # the line is cleared at the end
    assert out.strip().splitlines()[-1].startswith("fsck: 5 chunks checked")
    # Not a terminal: no progress line, only the summary.
    p = run(netradrive_bin, srv.data_dir, "fsck")
    assert "\r" not in p.stderr and "/5 chunks" not in p.stderr
    assert p.stdout.strip().splitlines() == [
        "fsck: 5 chunks checked, 0 missing, 0 corrupt, 0 files damaged, 0 unreferenced chunks"]


def test_fsck_repair_that_leaves_damage_exits_3(stopped_server_with_files, netradrive_bin):
    """An unreferenced chunk it may not remove (no --repair) or damage it
    found: exit 3; after --repair everything is fixed: 0."""
    srv, _, _, _ = stopped_server_with_files
    victim = chunk_files(srv.data_dir)[0]
    with open(victim, "r+b") as f:
        f.write(b"\x00" * 16)
    assert run(netradrive_bin, srv.data_dir, "fsck").returncode == 3
    assert run(netradrive_bin, srv.data_dir, "fsck", "--repair").returncode == 0
    assert run(netradrive_bin, srv.data_dir, "fsck").returncode == 0


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"]])
def test_help_lists_every_command_and_flag(netradrive_bin, args):
    p = subprocess.run([netradrive_bin, *args], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and p.stderr == ""
    for word in ("serve", "migrate", "gc", "fsck", "backup", "version", "help", "--host", "--port",
                 "--data-dir", "--database-url", "--log-level", "--threads"):
        assert word in p.stdout, word


@pytest.mark.parametrize("cmd,flag", [("fsck", "--repair"), ("gc", "--all-staged"),
                                      ("serve", "--port"), ("migrate", "--database-url"),
                                      ("backup", "DEST_FILE")])
def test_help_for_one_command(netradrive_bin, cmd, flag):
    for args in (["help", cmd], [cmd, "--help"]):
        p = subprocess.run([netradrive_bin, *args], capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(f"usage: netradrive {cmd}") and flag in p.stdout, p.stdout


@pytest.mark.parametrize("args", [["help", "nope"], ["nope"]])
def test_unknown_command(netradrive_bin, args):
    p = subprocess.run([netradrive_bin, *args], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and p.stdout == ""
    assert "unknown command 'nope'" in p.stderr and "COMMANDS:" in p.stderr

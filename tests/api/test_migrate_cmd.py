"""`netradrive migrate --from URL --to URL` (issue 13, point 3): an installation
on SQLite, filled through the API, is copied to PostgreSQL; the copy verifies
(counts and checksums per table), a second run is safe, and a server on the
PostgreSQL copy with the same DATA_DIR serves the same users, files, search
and shares. Also: a different non-empty target is refused, a bad URL names
its flag. Runs its own throw-away cluster (tools/pg-cluster.sh), so the test
is the same in the SQLite and the PostgreSQL pass of tools/test.sh."""
import glob
import hashlib
import http.server
import os
import re
import subprocess
import tempfile
import threading
import uuid

import pytest
import requests

from helpers import (API, REPO, create_folder, download, make_user, run_cmd, upload_file,
                     wait_until)

PG_CLUSTER = os.path.join(REPO, "tools", "pg-cluster.sh")
HAVE_PG = bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or bool(os.environ.get("PGBIN"))
pytestmark = pytest.mark.skipif(not HAVE_PG, reason="no PostgreSQL binaries "
                                "(/usr/lib/postgresql/*/bin; apt-get install postgresql)")
TABLES = ("users", "used_tokens", "refresh_tokens", "folders", "contents", "chunks", "files",
          "shares", "tasks", "url_jobs", "url_job_resume", "url_job_chunks", "app_passwords",
          "pending_deletes", "orphan_marks", "dav_props", "dav_locks", "folder_ops")
VERIFY = re.compile(r"^verify (\w+) +(\d+) rows  sha256:([0-9a-f]{16})  ok$", re.M)


@pytest.fixture(scope="module")
def cluster():
    d = tempfile.mkdtemp(prefix="netradrive-mig-pg.")
    try:
        r = subprocess.run(["sh", PG_CLUSTER, "start", d], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            pytest.fail(f"pg-cluster start: {r.stderr}")
        yield r.stdout.strip()
    finally:
        subprocess.run(["sh", PG_CLUSTER, "stop", d], capture_output=True, timeout=120)


def new_db(base):
    name = "mig_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base + "/postgres",
                    "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    return f"{base}/{name}"


def migrate(workdir, *args, timeout=120):
    r = run_cmd(["migrate", *args], workdir, timeout=timeout)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


class _Source(http.server.BaseHTTPRequestHandler):
    body = b"from a url " * 1000

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


def fill(server):
    """Users, nested folders, files (one deduplicated), a share with a
    password and one without, stars, a binned file and folder, a URL-upload
    task. Returns what the checks after the move need."""
    a, b = make_user(server, "miga"), make_user(server, "migb")
    top = create_folder(a.client, "Projects")
    sub = create_folder(a.client, "Deep Reports", top["id"])
    leaf = create_folder(a.client, "leaf", sub["id"])
    old = create_folder(a.client, "old stuff")
    files = {}
    for name, data, folder in (("report-2024.txt", b"annual report\n" * 500, sub["id"]),
                               ("photo.bin", os.urandom(300_000), leaf["id"]),
                               ("copy.txt", b"annual report\n" * 500, None),
                               ("gone.txt", b"bin me", None),
                               ("Ünïcode naïve.txt", "ü".encode() * 999, top["id"])):
        files[name] = (upload_file(a.client, name, data, folder_id=folder), data)
    files["b-notes.md"] = (upload_file(b.client, "b-notes.md", b"# notes\n"), b"# notes\n")
    c = a.client
    assert c.put(f"{API}/files/{files['photo.bin'][0]['id']}/star").status_code == 200
    assert c.put(f"{API}/folders/{sub['id']}/star").status_code == 200
    assert c.put(f"{API}/files/{files['gone.txt'][0]['id']}/bin").status_code == 200
    assert c.put(f"{API}/folders/{old['id']}/bin").status_code == 200
    r = c.post(f"{API}/share/generate/{files['report-2024.txt'][0]['id']}")
    assert r.status_code == 201, r.text
    share = r.json()
    r = c.post(f"{API}/share/generate/{files['photo.bin'][0]['id']}", json={"password": "s3cret-pw"})
    assert r.status_code == 201, r.text
    locked = r.json()
    # a task: an upload from a URL served on loopback
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Source)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/fetched.txt"
        r = c.post(f"{API}/upload/from-url", json={"url": url})
        assert r.status_code == 202, r.text
        job = r.json()["job_id"]
        st = wait_until(lambda: (lambda s: s if s["status"] in ("completed", "failed") else None)(
            c.get(f"{API}/upload/status/{job}").json()), timeout=30)
        assert st and st["status"] == "completed", st
    finally:
        httpd.shutdown()
    files["fetched.txt"] = ({"id": st["file_id"]}, _Source.body)
    listing = sorted(f["name"] for f in c.get(f"{API}/files/", params={"limit": 1000}).json())
    return {"a": a, "b": b, "files": files, "share": share, "locked": locked, "job": job,
            "sub": sub, "root_listing": listing}


PROPPATCH = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set>'
             b'<D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>')
LOCKINFO = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>')


def _dav(server, user, method, path, body=None, headers=None):
    return requests.request(method, f"{server.url}/dav{path}", data=body, headers=headers or {},
                            auth=(user.username, user.password), timeout=30)


def test_sqlite_to_postgres(server_factory, cluster, tmp_path):
    src = server_factory(env={"ALLOW_PRIVATE_URLS": "true", "DATABASE_URL": None})
    data = fill(src)
    r = data["a"].client.post(f"{API}/users/me/app-passwords", json={"name": "migrated"})
    assert r.status_code == 201, r.text
    app_password = r.json()
    # A WebDAV dead property and a lock travel too.
    a = data["a"]
    r = _dav(src, a, "PROPPATCH", "/Projects/Deep%20Reports/report-2024.txt", PROPPATCH)
    assert r.status_code == 207 and "200 OK" in r.text, r.text
    r = _dav(src, a, "LOCK", "/Projects/Deep%20Reports/report-2024.txt", LOCKINFO, {"Timeout": "Second-3600"})
    assert r.status_code == 200, r.text
    lock_token = r.headers["Lock-Token"]
    src.stop()
    db_file = os.path.join(src.data_dir, "netradrive.db")
    assert os.path.exists(db_file)
    sqlite_url = "sqlite://" + db_file
    pg = new_db(cluster)

    rc, out, err = migrate(tmp_path, "--from", sqlite_url, "--to", pg)
    assert rc == 0, out + err
    got = {m[0]: int(m[1]) for m in VERIFY.findall(out)}
    assert set(got) == set(TABLES), out
    assert got["users"] == 2 and got["folders"] == 4 and got["files"] == 7, out
    assert got["shares"] == 2 and got["tasks"] >= 1 and got["url_jobs"] == 1, out
    assert got["app_passwords"] == 1, out
    assert got["dav_props"] == 1 and got["dav_locks"] == 1, out
    assert "verified: counts and checksums match" in out, out
    assert "MISMATCH" not in out
    first = VERIFY.findall(out)

    # The child counters are not copied: the target's triggers built them
    # from the rows as they arrived (migration 016), equal to a recount.
    def rows(sql):
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", pg, "-c", sql], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        return out.split()
    kept = rows("SELECT owner_id || ':' || folder_id || ':' || live_files || ':' || live_folders "
                "FROM child_counts WHERE live_files <> 0 OR live_folders <> 0 ORDER BY 1")
    counted = rows("SELECT owner_id || ':' || folder_id || ':' || SUM(f) || ':' || SUM(d) FROM ("
                   "SELECT owner_id, COALESCE(folder_id, '') AS folder_id, 1 AS f, 0 AS d "
                   "FROM files WHERE is_deleted = 0 UNION ALL SELECT owner_id, "
                   "COALESCE(parent_id, ''), 0, 1 FROM folders WHERE is_deleted = 0) x "
                   "GROUP BY owner_id, folder_id ORDER BY 1")
    assert kept == counted and len(kept) >= 3, (kept, counted)

    # again: nothing copied twice, same figures
    rc, out2, err2 = migrate(tmp_path, "--from", sqlite_url, "--to", pg)
    assert rc == 0, out2 + err2
    assert "already copied, verified" in out2, out2
    assert VERIFY.findall(out2) == first
    assert rows("SELECT owner_id || ':' || folder_id || ':' || live_files || ':' || live_folders "
                "FROM child_counts WHERE live_files <> 0 OR live_folders <> 0 ORDER BY 1") == kept

    # a server on the copy, same DATA_DIR (local chunks stay where they are)
    dst = server_factory(env={"DATABASE_URL": pg}, data_dir=src.data_dir)
    a = data["a"]
    a.server = dst
    a.client = dst.client()
    a.login()
    c = a.client
    listing = sorted(f["name"] for f in c.get(f"{API}/files/", params={"limit": 1000}).json())
    assert listing == data["root_listing"]
    for name, (f, body) in data["files"].items():
        if name in ("gone.txt", "b-notes.md"):
            continue
        got_body = download(c, f["id"])
        assert hashlib.sha256(got_body).digest() == hashlib.sha256(body).digest(), name
    r = c.get(f"{API}/files/search/", params={"q": "report"})
    assert r.status_code == 200, r.text
    assert [f["name"] for f in r.json()["files"]] == ["report-2024.txt"]
    assert [f["name"] for f in r.json()["folders"]] == ["Deep Reports"]
    r = c.get(f"{API}/files/search/", params={"q": "gone"})
    assert r.json()["files"] == []          # binned stays out of search
    binned = c.get(f"{API}/files/", params={"include_deleted": "true", "limit": 100}).json()
    assert "gone.txt" in [f["name"] for f in binned], binned
    binned = c.get(f"{API}/folders", params={"include_deleted": "true", "limit": 100}).json()
    assert "old stuff" in [f["name"] for f in binned], binned
    starred = c.get(f"{API}/files/", params={"is_starred": "true", "limit": 100}).json()
    assert [f["name"] for f in starred] == ["photo.bin"], starred
    starred = c.get(f"{API}/folders", params={"is_starred": "true", "limit": 100}).json()
    assert [f["name"] for f in starred] == ["Deep Reports"], starred
    anon = dst.client()
    r = anon.get(f"/s/{data['share']['id']}")
    assert r.status_code == 200 and r.content == data["files"]["report-2024.txt"][1]
    r = anon.get(f"/s/{data['locked']['id']}")
    assert r.status_code in (401, 403), r.status_code
    listed = c.get(f"{API}/users/me/app-passwords").json()
    assert [(p["id"], p["name"]) for p in listed] == [(app_password["id"], "migrated")]
    hist = c.get(f"{API}/tasks/history").json()
    assert any(h["task_id"] == data["job"] for h in hist), hist
    b = data["b"]
    b.server, b.client = dst, dst.client()
    b.login()
    assert download(b.client, data["files"]["b-notes.md"][0]["id"]) == b"# notes\n"
    r = _dav(dst, a, "PROPFIND", "/Projects/Deep%20Reports/report-2024.txt",
             b'<D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/></D:prop></D:propfind>',
             {"Depth": "0"})
    assert r.status_code == 207 and "blue" in r.text, r.text
    assert _dav(dst, a, "PUT", "/Projects/Deep%20Reports/report-2024.txt", b"x").status_code == 423
    r = _dav(dst, a, "UNLOCK", "/Projects/Deep%20Reports/report-2024.txt", None, {"Lock-Token": lock_token})
    assert r.status_code == 204, r.text
    dst.stop()

    # a target holding another installation's data is refused
    other_src = server_factory(env={"DATABASE_URL": None})
    make_user(other_src, "other")
    other_src.stop()
    other_url = "sqlite://" + os.path.join(other_src.data_dir, "netradrive.db")
    rc, out3, err3 = migrate(tmp_path, "--from", other_url, "--to", pg)
    assert rc != 0
    assert "--to: the target database already holds other data" in err3, err3


def test_bad_urls_name_the_flag(cluster, tmp_path):
    rc, out, err = migrate(tmp_path, "--from", "mysql://x", "--to", "sqlite:///tmp/x.db")
    assert rc == 2 and err.strip() == "netradrive: --from: must start with sqlite:// or postgresql://"
    rc, out, err = migrate(tmp_path, "--from", "sqlite:///tmp/x.db", "--to", "nope")
    assert rc == 2 and err.strip() == "netradrive: --to: must start with sqlite:// or postgresql://"
    missing = os.path.join(str(tmp_path), "missing.db")
    rc, out, err = migrate(tmp_path, "--from", "sqlite://" + missing, "--to", new_db(cluster))
    assert rc == 1 and len(err.strip().splitlines()) == 1 and err.startswith("netradrive: --from:"), err
    rc, out, err = migrate(tmp_path, "--from", "sqlite://" + missing)
    assert rc == 2 and "--to URL is missing" in err, err
    # an unreachable PostgreSQL: one line, naming the flag
    rc, out, err = migrate(tmp_path, "--from", "postgresql://nobody@127.0.0.1:1/x",
                           "--to", "sqlite://" + os.path.join(str(tmp_path), "t.db"))
    assert rc == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("netradrive: --from: cannot connect to PostgreSQL"), err

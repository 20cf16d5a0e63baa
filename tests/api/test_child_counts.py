"""Child counters (migration 016, issue 14): the X-Total-Count of a folder's
or the root's listing (files and subfolders, not starred-only) is read from a
per-folder counter of live direct children that triggers keep with the rows.
After mixed operations through every write path the tests can reach (upload
of new files, WebDAV PUT new and over a file, COPY, MOVE, DELETE, MKCOL, web
moves, renames, stars, bin and restore of files and folders, permanent
deletes of files and folders, emptying the bin), every live folder's count
is compared with the children actually listed, and the counter rows with a
recount in the database. A listing asks limit=1 so that the count comes from
the counter (a short page counts itself)."""
import os
import random
import sqlite3
import subprocess
import urllib.parse

import pytest
import requests

from helpers import (API, POSTGRES, create_folder, list_files, list_folders, make_user,
                     pg_database_url, run_cmd, upload_file)


def dav(server, user, method, path, data=None, headers=None):
    return requests.request(method, f"{server.url}/dav{urllib.parse.quote(path)}", data=data,
                            headers=headers or {}, auth=(user.username, user.password),
                            timeout=60)


def db_rows(server, sql):
    """Rows of one query on the server's own database (SQLite file or PostgreSQL)."""
    if POSTGRES:
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              "-d", pg_database_url(server.data_dir), "-c", sql],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    con = sqlite3.connect(os.path.join(server.data_dir, "netradrive.db"), timeout=30)
    try:
        return [tuple("" if v is None else str(v) for v in row) for row in con.execute(sql)]
    finally:
        con.close()


def db_script(server, sql):
    if POSTGRES:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                        pg_database_url(server.data_dir), "-c", sql],
                       check=True, capture_output=True, timeout=30)
        return
    con = sqlite3.connect(os.path.join(server.data_dir, "netradrive.db"), timeout=30)
    try:
        con.executescript(sql)
        con.commit()
    finally:
        con.close()


# The counters as the rows say they should be, and as kept.
RECOUNT = ("SELECT owner_id, folder_id, SUM(f), SUM(d) FROM ("
           "SELECT owner_id, COALESCE(folder_id, '') AS folder_id, 1 AS f, 0 AS d FROM files "
           "WHERE is_deleted = 0 UNION ALL "
           "SELECT owner_id, COALESCE(parent_id, ''), 0, 1 FROM folders WHERE is_deleted = 0) x "
           "GROUP BY owner_id, folder_id ORDER BY owner_id, folder_id")
KEPT = ("SELECT owner_id, folder_id, live_files, live_folders FROM child_counts "
        "WHERE live_files <> 0 OR live_folders <> 0 ORDER BY owner_id, folder_id")


def all_pages(lister, client, **params):
    """Every item of a listing, read in pages of 7 (the last one short)."""
    out, offset = [], 0
    while True:
        items, _ = lister(client, limit=7, offset=offset, **params)
        out += items
        if len(items) < 7:
            return out
        offset += 7


def check_counts(server, user):
    """Every live folder's counted children equal its listed children; the
    counter rows equal a recount. Returns the live folder ids."""
    c = user.client
    todo, seen = [None], []
    while todo:
        fid = todo.pop()
        seen.append(fid)
        where = {"folder_id": fid if fid else "root"}
        files = all_pages(list_files, c, **where)
        _, total = list_files(c, limit=1, **where)
        assert total == len(files), (fid, "files", total, len(files))
        sub = all_pages(list_folders, c, **({"parent_id": fid} if fid else {}))
        _, total = list_folders(c, limit=1, **({"parent_id": fid} if fid else {}))
        assert total == len(sub), (fid, "folders", total, len(sub))
        todo += [f["id"] for f in sub]
    assert db_rows(server, KEPT) == [r for r in db_rows(server, RECOUNT)]
    return [f for f in seen if f]


class Drive:
    """Random operations on one user's drive through the web API and WebDAV."""

    def __init__(self, server, user, seed):
        self.s, self.u, self.c = server, user, user.client
        self.rnd = random.Random(seed)
        self.n = 0

    def name(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def folders(self):
        """Live folders: (id, path) pairs, path for WebDAV."""
        out, todo = [], [(None, "")]
        while todo:
            fid, path = todo.pop()
            sub = all_pages(list_folders, self.c, **({"parent_id": fid} if fid else {}))
            for f in sub:
                out.append((f["id"], f"{path}/{f['name']}"))
                todo.append((f["id"], f"{path}/{f['name']}"))
        return out

    def files(self, folder):
        fid, _ = folder
        return all_pages(list_files, self.c, folder_id=fid if fid else "root")

    def pick_folder(self, with_root=True):
        live = self.folders() + ([(None, "")] if with_root else [])
        return self.rnd.choice(live) if live else None

    def step(self):
        r = self.rnd
        op = r.choice(["upload", "upload", "mkdir", "put", "put_over", "copy", "dav_move",
                       "dav_delete", "move_file", "move_folder", "rename", "star", "bin_file",
                       "restore", "bin_folder", "delete_file", "delete_folder", "empty_bin"])
        f = self.pick_folder()
        if op == "upload":
            upload_file(self.c, self.name("u") + ".txt", os.urandom(r.randint(1, 300)),
                        folder_id=f[0] if f[0] else None)
        elif op == "mkdir":
            if r.random() < 0.5:
                create_folder(self.c, self.name("d"), parent_id=f[0])
            else:
                assert dav(self.s, self.u, "MKCOL", f"{f[1]}/{self.name('m')}").status_code == 201
        elif op == "put":
            rr = dav(self.s, self.u, "PUT", f"{f[1]}/{self.name('p')}.bin", data=os.urandom(64))
            assert rr.status_code == 201, rr.text
        elif op in ("put_over", "copy", "dav_move", "dav_delete", "move_file", "rename", "star",
                    "bin_file", "delete_file"):
            files = self.files(f)
            if not files:
                return op + " (none)"
            x = r.choice(files)
            path = f"{f[1]}/{x['name']}"
            if op == "put_over":
                rr = dav(self.s, self.u, "PUT", path, data=b"replaced " + os.urandom(8))
                assert rr.status_code == 204, rr.text
            elif op in ("copy", "dav_move"):
                to = self.pick_folder()
                dest = f"{self.s.url}/dav{urllib.parse.quote(to[1] + '/' + self.name('c'))}"
                rr = dav(self.s, self.u, "COPY" if op == "copy" else "MOVE", path,
                         headers={"Destination": dest, "Overwrite": "F"})
                assert rr.status_code == 201, rr.text
            elif op == "dav_delete":
                assert dav(self.s, self.u, "DELETE", path).status_code == 204
            elif op == "move_file":
                to = self.pick_folder()
                rr = self.c.put(f"{API}/files/{x['id']}/move", json={"new_parent_id": to[0]})
                assert rr.status_code in (200, 409), rr.text
            elif op == "rename":
                rr = self.c.put(f"{API}/files/{x['id']}/rename", json={"new_name": self.name("r")})
                assert rr.status_code == 200, rr.text
            elif op == "star":
                assert self.c.put(f"{API}/files/{x['id']}/star").status_code == 200
            elif op == "bin_file":
                assert self.c.put(f"{API}/files/{x['id']}/bin").status_code == 200
            else:
                assert self.c.delete(f"{API}/files/{x['id']}").status_code in (200, 204)
        elif op == "move_folder":
            g = self.pick_folder(with_root=False)
            if not g:
                return op + " (none)"
            to = self.pick_folder()
            rr = self.c.put(f"{API}/folders/{g[0]}/move", json={"new_parent_id": to[0]})
            assert rr.status_code in (200, 400, 409), rr.text   # into itself: refused
        elif op == "bin_folder":
            g = self.pick_folder(with_root=False)
            if not g:
                return op + " (none)"
            assert self.c.put(f"{API}/folders/{g[0]}/bin").status_code == 200
        elif op == "delete_folder":
            g = self.pick_folder(with_root=False)
            if not g:
                return op + " (none)"
            assert self.c.delete(f"{API}/folders/{g[0]}").status_code in (200, 204)
        elif op == "restore":
            binned = [("files", x["id"]) for x in
                      list_files(self.c, include_deleted="true", limit=100)[0]]
            binned += [("folders", x["id"]) for x in
                       list_folders(self.c, include_deleted="true", limit=100)[0]]
            if not binned:
                return op + " (none)"
            kind, xid = r.choice(binned)
            rr = self.c.put(f"{API}/{kind}/{xid}/restore")
            assert rr.status_code == 200, rr.text
        elif op == "empty_bin":
            if r.random() < 0.3:
                assert self.c.delete(f"{API}/bin").status_code in (200, 204)
        return op


def seed_tree(d):
    """A few folders with several files each, so most counts are above 1."""
    top = [create_folder(d.c, f"top{i}")["id"] for i in range(3)]
    inner = [create_folder(d.c, f"in{i}", parent_id=top[i % 3])["id"] for i in range(4)]
    for fid in [None] + top + inner:
        for k in range(3):
            upload_file(d.c, f"s{k}.txt", b"seed %d" % k, folder_id=fid)


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_exact_after_mixed_operations(server, seed):
    user = make_user(server, "counts")
    d = Drive(server, user, seed)
    seed_tree(d)
    check_counts(server, user)
    done = []
    for i in range(90):
        done.append(d.step())
        if i % 15 == 14:
            check_counts(server, user)
    check_counts(server, user)
    # Enough of each kind ran for the check to mean something.
    assert sum(1 for o in done if "(none)" not in o) >= 60, done


def test_counts_of_a_full_page_come_from_the_counter(server):
    """A page that is full cannot count itself: 12 files listed 5 at a time
    still say 12, and the counter row is what says it (changed behind the
    server's back, the header follows it)."""
    user = make_user(server, "full")
    f = create_folder(user.client, "many")["id"]
    for k in range(12):
        upload_file(user.client, f"n{k}.txt", b"x", folder_id=f)
    _, total = list_files(user.client, folder_id=f, limit=5)
    assert total == 12
    db_script(server, f"UPDATE child_counts SET live_files = 99 WHERE folder_id = '{f}'")
    _, total = list_files(user.client, folder_id=f, limit=5)
    assert total == 99
    _, total = list_files(user.client, folder_id=f, limit=5, is_starred="true")
    assert total == 0                         # filtered views still count their rows
    db_script(server, f"UPDATE child_counts SET live_files = 12 WHERE folder_id = '{f}'")


def test_migration_counts_an_existing_database(server_factory):
    """Migration 016 on a database that has files and folders: the counters
    start exact. Dropped and migrated again by a restart."""
    srv = server_factory()
    user = make_user(srv, "mig")
    d = Drive(srv, user, 7)
    seed_tree(d)
    for _ in range(20):
        d.step()
    before = db_rows(srv, KEPT)
    assert before == db_rows(srv, RECOUNT) and len(before) >= 5
    srv.stop()
    if POSTGRES:
        db_script(srv, "DROP TABLE child_counts; DROP FUNCTION child_counts_files() CASCADE; "
                       "DROP FUNCTION child_counts_folders() CASCADE; DROP FUNCTION child_counts_add; "
                       "DELETE FROM schema_version WHERE version = 16")
    else:
        drops = "".join(f"DROP TRIGGER counts_{t}_{e};" for t in ("files", "folders")
                        for e in ("ai", "ad", "au"))
        db_script(srv, drops + "DROP TABLE child_counts; DELETE FROM schema_version WHERE version = 16;")
    srv.start()
    assert db_rows(srv, KEPT) == before
    user.client = srv.client(user.access_token)
    check_counts(srv, user)


def test_fsck_finds_and_rebuilds_wrong_counters(server_factory, tmp_path):
    """`netradrive fsck` recounts every folder's live children against its
    counter: a wrong or missing row is reported (exit 3), --repair rebuilds
    the table, and a clean database says nothing about counters."""
    srv = server_factory(env={"STORAGE_BACKEND": "local"})
    user = make_user(srv, "fsck")
    seed_tree(Drive(srv, user, 3))
    srv.stop()
    env = {"DATA_DIR": srv.data_dir, "STORAGE_BACKEND": "local"}
    p = run_cmd(["fsck"], tmp_path, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert b"child" not in p.stdout, p.stdout
    top = db_rows(srv, "SELECT id FROM folders WHERE name = 'top1'")[0][0]
    db_script(srv, f"UPDATE child_counts SET live_files = live_files + 2 WHERE folder_id = '{top}';"
                   "DELETE FROM child_counts WHERE folder_id = '';")
    p = run_cmd(["fsck"], tmp_path, env=env)
    assert p.returncode == 3, p.stdout + p.stderr
    out = p.stdout.decode()
    assert f"child counts of folder {top} (owner {user.id}) off by 2 files, 0 folders" in out, out
    assert f"child counts of the root (owner {user.id}) off by -3 files, -3 folders" in out, out
    assert out.strip().splitlines()[-1].endswith(", 2 child counters wrong"), out
    p = run_cmd(["fsck", "--repair"], tmp_path, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.decode().strip().endswith("2 child counters wrong (repaired)"), p.stdout
    assert db_rows(srv, KEPT) == db_rows(srv, RECOUNT)
    p = run_cmd(["fsck"], tmp_path, env=env)
    assert p.returncode == 0 and b"child" not in p.stdout, p.stdout


def test_account_delete_takes_its_counters(server_factory):
    """No route deletes an account yet; the database's cascade from users
    does, and the counters' triggers must not stand in its way (a decrement
    never re-creates a row of a deleted owner) nor leave rows behind."""
    srv = server_factory()
    gone, kept = make_user(srv, "gone"), make_user(srv, "kept")
    seed_tree(Drive(srv, gone, 5))
    seed_tree(Drive(srv, kept, 6))
    before = db_rows(srv, KEPT)
    srv.stop()
    db_script(srv, ("" if POSTGRES else "PRAGMA foreign_keys = ON;") +
              f"DELETE FROM users WHERE id = '{gone.id}';")
    after = db_rows(srv, KEPT)
    assert after == [r for r in before if r[0] != gone.id] and len(after) >= 5, after
    assert db_rows(srv, f"SELECT COUNT(*) FROM child_counts WHERE owner_id = '{gone.id}'") == [("0",)]
    assert after == db_rows(srv, RECOUNT)

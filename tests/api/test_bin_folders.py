"""The bin kept on folders (DECISIONS "The bin is kept on folders"): binning a
folder marks its folders only, and a file inside a binned folder is in the bin
through its folder. Every view of a file must apply that rule exactly as the
old per-file marks did: the file reads as binned, the starred view, search (each
of its paths), sharing and downloads leave it out, the bin browses it, and
emptying the bin or deleting the folder removes it with its bytes counted right."""
import os
import socket
import threading
import time

import pytest
import requests

from helpers import (API, POSTGRES, TIME_FACTOR, assert_file, bin_folder, create_folder,
                     list_files, list_folders, make_user, names, pg_database_url, pg_exec,
                     restore_folder, run_cmd, storage_usage, upload_file, upload_head,
                     upload_raw)


@pytest.fixture
def fresh(user_factory):
    return user_factory("binf")


def get_file(c, fid, folder_id, binned):
    """The file as its folder's listing (or the bin's view of it) shows it."""
    params = {"folder_id": folder_id, "limit": 10000}
    if binned:
        params["include_deleted"] = "true"
    found = [f for f in list_files(c, **params)[0] if f["id"] == fid]
    assert len(found) == 1, (fid, params)
    return found[0]


def get_folder(c, fid):
    r = c.get(f"{API}/folders/{fid}")
    assert r.status_code == 200, r.text
    return r.json()


def usage(c):
    u = storage_usage(c)
    return u["total_usage_bytes"], u["file_count"], u["bin_bytes"]


def test_file_in_binned_folder_reads_binned_and_read_only(fresh):
    c = fresh.client
    d = create_folder(c, "d")
    f = upload_file(c, "in.txt", b"x" * 300, d["id"])
    bin_folder(c, d["id"])
    got = assert_file(get_file(c, f["id"], d["id"], True), deleted=True, folder_id=d["id"])
    assert got["deleted_at"] == get_folder(c, d["id"])["deleted_at"]
    assert usage(c) == (300, 1, 300)
    for action, body in (("rename", {"new_name": "y.txt"}), ("star", None),
                         ("move", {"new_parent_id": None})):
        r = c.put(f"{API}/files/{f['id']}/{action}", json=body)
        assert r.status_code == 404, (action, r.status_code, r.text)
    assert c.get(f"{API}/files/{f['id']}/download").status_code == 404
    assert c.put(f"{API}/files/{f['id']}/bin").status_code == 200   # already in the bin
    assert usage(c) == (300, 1, 300)
    restore_folder(c, d["id"])
    assert_file(get_file(c, f["id"], d["id"], False), deleted=False, folder_id=d["id"])
    assert usage(c) == (300, 1, 0)


def test_bin_views_of_a_binned_folder(fresh):
    """Inside a binned folder: no live listing, the bin lists every file (also
    one binned on its own before), the bin's top level only what was binned
    directly; after the restore the file binned alone is still in the bin."""
    c = fresh.client
    d = create_folder(c, "d")
    a = upload_file(c, "a.txt", b"a" * 10, d["id"])
    b = upload_file(c, "b.txt", b"b" * 20, d["id"])
    early = upload_file(c, "early.txt", b"e" * 40, d["id"])
    assert c.put(f"{API}/files/{early['id']}/bin").status_code == 200
    bin_folder(c, d["id"])
    assert list_files(c, folder_id=d["id"]) == ([], 0)
    listed, total = list_files(c, folder_id=d["id"], include_deleted="true")
    assert names(listed) == ["a.txt", "b.txt", "early.txt"] and total == 3
    for f in listed:
        assert_file(f, deleted=True)
    listed, total = list_files(c, folder_id=d["id"], include_deleted="true", limit=1, offset=1)
    assert names(listed) == ["b.txt"] and total == 3
    listed, _ = list_files(c, include_deleted="true", sort="size", order="desc")
    assert names(listed) == ["early.txt"]
    assert usage(c) == (70, 3, 70)

    restore_folder(c, d["id"])
    listed, total = list_files(c, folder_id=d["id"])
    assert names(listed) == ["a.txt", "b.txt"] and total == 2
    assert get_folder(c, d["id"])["size"] == 30
    assert usage(c) == (70, 3, 40)
    assert c.put(f"{API}/files/{early['id']}/restore").status_code == 200
    assert_file(get_file(c, early["id"], d["id"], False), deleted=False, folder_id=d["id"])
    assert get_folder(c, d["id"])["size"] == 70
    assert usage(c) == (70, 3, 0)
    assert a["id"] and b["id"]


def test_starred_hides_files_of_binned_folders(fresh):
    c = fresh.client
    top = create_folder(c, "top")
    low = create_folder(c, "low", top["id"])
    deep = upload_file(c, "deep.txt", b"d", low["id"])
    loose = upload_file(c, "loose.txt", b"l")
    for f in (deep, loose):
        assert c.put(f"{API}/files/{f['id']}/star").status_code == 200
    listed, total = list_files(c, is_starred="true")
    assert names(listed) == ["deep.txt", "loose.txt"] and total == 2
    bin_folder(c, top["id"])
    listed, total = list_files(c, is_starred="true")
    assert names(listed) == ["loose.txt"] and total == 1
    listed, total = list_files(c, is_starred="true", limit=1)
    assert names(listed) == ["loose.txt"] and total == 1
    restore_folder(c, top["id"])
    listed, _ = list_files(c, is_starred="true")
    assert names(listed) == ["deep.txt", "loose.txt"]
    assert_file(listed[0], starred=True, deleted=False)


def search_files(c, q, limit=50):
    r = c.get(f"{API}/files/search", params={"q": q, "limit": limit})
    assert r.status_code == 200, r.text
    return [f["name"] for f in r.json()["files"]]


@pytest.mark.parametrize("q,limit", [
    ("qzv", 50),      # every match starts with it: the prefix range
    ("zvk", 50),      # inside the names, few: the trigram index
    ("zv", 50),       # two characters: the scan
    ("zvk", 1),       # a page the walk fills (the binned match sorts first)
])
def test_search_hides_files_of_binned_folders(fresh, q, limit):
    c = fresh.client
    d = create_folder(c, "d")
    upload_file(c, "a qzvk binned.txt" if q != "qzv" else "qzvk a binned.txt", b"1", d["id"])
    upload_file(c, "b qzvk live.txt" if q != "qzv" else "qzvk b live.txt", b"2")
    assert len(search_files(c, q)) == 2
    bin_folder(c, d["id"])
    found = search_files(c, q, limit)
    assert len(found) == 1 and "live" in found[0], found
    restore_folder(c, d["id"])
    assert len(search_files(c, q)) == 2


def test_share_of_file_in_binned_folder(fresh, server):
    c = fresh.client
    anon = server.client()
    top = create_folder(c, "top")
    low = create_folder(c, "low", top["id"])
    f = upload_file(c, "s.bin", b"shared bytes", low["id"])
    r = c.post(f"{API}/share/generate/{f['id']}")
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert anon.get(f"/s/{sid}").content == b"shared bytes"
    bin_folder(c, top["id"])
    assert anon.get(f"/s/{sid}").status_code == 404
    assert c.post(f"{API}/share/generate/{f['id']}").status_code == 404
    restore_folder(c, top["id"])
    assert anon.get(f"/s/{sid}").content == b"shared bytes"
    anon.close()


def test_empty_bin_and_delete_take_files_of_binned_folders(fresh):
    c = fresh.client
    keep = upload_file(c, "keep.bin", os.urandom(100))
    d = create_folder(c, "d")
    sub = create_folder(c, "sub", d["id"])
    upload_file(c, "one.bin", os.urandom(1000), d["id"])
    upload_file(c, "two.bin", os.urandom(2000), sub["id"])
    twin = upload_file(c, "twin.bin", b"same" * 100, sub["id"])
    live_twin = upload_file(c, "live twin.bin", b"same" * 100)   # shares twin's content
    e = create_folder(c, "e")
    gone = upload_file(c, "gone.bin", os.urandom(300), e["id"])
    assert usage(c) == (4200, 6, 0)
    bin_folder(c, d["id"])
    bin_folder(c, e["id"])
    assert usage(c) == (4200, 6, 3700)
    # A binned folder deleted for good takes its files and their bin bytes.
    assert c.delete(f"{API}/folders/{e['id']}").status_code == 200
    assert c.get(f"{API}/files/{gone['id']}/download").status_code == 404
    assert usage(c) == (3900, 5, 3400)
    r = c.delete(f"{API}/bin")
    assert r.status_code == 200, r.text
    assert usage(c) == (500, 2, 0)
    assert c.get(f"{API}/files/{twin['id']}/download").status_code == 404
    assert c.get(f"{API}/files/{live_twin['id']}/download").content == b"same" * 100
    assert c.get(f"{API}/files/{keep['id']}/download").status_code == 200
    assert storage_usage(c)["stored_bytes"] == 500
    assert list_files(c, include_deleted="true") == ([], 0)


# ---- review of the bin kept on folders: the paths the first tests left out ----

def folder_size(c, fid):
    return get_folder(c, fid)["size"]


def test_restore_files_alone_from_a_binned_folder(fresh):
    """A file binned on its own inside a folder binned later, and a file carried
    by that folder, each restored alone: both go to the root (their folder is
    binned), the carried one leaves the group's sizes, the bin bytes follow."""
    c = fresh.client
    top = create_folder(c, "top")
    d = create_folder(c, "d", top["id"])
    alone = upload_file(c, "alone", b"a" * 10, d["id"])
    carried = upload_file(c, "carried", b"c" * 20, d["id"])
    assert c.put(f"{API}/files/{alone['id']}/bin").status_code == 200
    assert folder_size(c, top["id"]) == 20
    bin_folder(c, top["id"])
    assert usage(c) == (30, 2, 30)
    assert c.put(f"{API}/files/{alone['id']}/restore").status_code == 200
    assert usage(c) == (30, 2, 20)
    assert folder_size(c, top["id"]) == 20
    assert c.put(f"{API}/files/{carried['id']}/restore").status_code == 200
    assert usage(c) == (30, 2, 0)
    assert folder_size(c, top["id"]) == 0 and folder_size(c, d["id"]) == 0
    listed, total = list_files(c)
    assert names(listed) == ["alone", "carried"] and total == 2
    for f in listed:
        assert_file(f, deleted=False, folder_id=None)
    restore_folder(c, top["id"])
    assert list_files(c, folder_id=d["id"]) == ([], 0)
    assert folder_size(c, top["id"]) == 0 and usage(c) == (30, 2, 0)


def test_delete_for_good_inside_a_binned_folder(fresh):
    """A carried file and a carried subfolder deleted for good: usage, bin bytes
    and the group's sizes lose exactly their bytes; a carried subfolder
    restored alone goes to the root with its files."""
    c = fresh.client
    top = create_folder(c, "top")
    d = create_folder(c, "d", top["id"])
    e = create_folder(c, "e", d["id"])
    back = create_folder(c, "back", top["id"])
    x = upload_file(c, "x", b"x" * 10, d["id"])
    upload_file(c, "y", b"y" * 20, e["id"])
    upload_file(c, "z", b"z" * 40, top["id"])
    upload_file(c, "b", b"b" * 80, back["id"])
    bin_folder(c, top["id"])
    assert usage(c) == (150, 4, 150)
    assert c.delete(f"{API}/files/{x['id']}").status_code == 200
    assert usage(c) == (140, 3, 140)
    assert folder_size(c, top["id"]) == 140 and folder_size(c, d["id"]) == 20
    assert c.delete(f"{API}/folders/{e['id']}").status_code == 200
    assert usage(c) == (120, 2, 120)
    assert folder_size(c, top["id"]) == 120 and folder_size(c, d["id"]) == 0
    restore_folder(c, back["id"])
    got = get_folder(c, back["id"])
    assert got["parent_id"] is None and got["is_deleted"] is False and got["size"] == 80
    assert names(list_files(c, folder_id=back["id"])[0]) == ["b"]
    assert usage(c) == (120, 2, 40) and folder_size(c, top["id"]) == 40
    restore_folder(c, top["id"])
    assert usage(c) == (120, 2, 0) and folder_size(c, top["id"]) == 40


def test_nested_bin_groups_deleted_and_emptied(fresh):
    """A folder binned inside one binned later stays its own bin item; a file
    binned alone inside is counted once; deleting the outer folder for good
    takes them all; emptying the bin counts a file binned alone once."""
    c = fresh.client
    a = create_folder(c, "a")
    s = create_folder(c, "s", a["id"])
    t = create_folder(c, "t", s["id"])
    x = upload_file(c, "x", b"x" * 1, a["id"])
    upload_file(c, "y", b"y" * 2, s["id"])
    upload_file(c, "z", b"z" * 4, t["id"])
    w = upload_file(c, "w", b"w" * 8, a["id"])
    assert c.put(f"{API}/files/{x['id']}/bin").status_code == 200
    bin_folder(c, s["id"])
    assert folder_size(c, a["id"]) == 8
    bin_folder(c, a["id"])
    assert usage(c) == (15, 4, 15)
    binned, total = list_folders(c, include_deleted="true")
    assert names(binned) == ["a", "s"] and total == 2
    restore_folder(c, t["id"])   # carried by s: to the root
    assert usage(c) == (15, 4, 11) and folder_size(c, s["id"]) == 2
    assert c.delete(f"{API}/folders/{a['id']}").status_code == 200
    assert usage(c) == (4, 1, 0)
    assert c.get(f"{API}/files/{w['id']}/download").status_code == 404

    b = create_folder(c, "b")
    alone = upload_file(c, "alone", b"1" * 16, b["id"])
    upload_file(c, "kept", b"2" * 32, b["id"])
    assert c.put(f"{API}/files/{alone['id']}/bin").status_code == 200
    bin_folder(c, b["id"])
    assert usage(c) == (52, 3, 48)
    assert c.delete(f"{API}/bin").status_code == 200
    assert usage(c) == (4, 1, 0)
    assert storage_usage(c)["stored_bytes"] == 4


def test_dedup_content_kept_while_a_binned_folder_holds_it(fresh):
    """A content whose only reference left is a file in a binned folder stays
    until the bin is emptied: the restored file downloads whole."""
    c = fresh.client
    d = create_folder(c, "d")
    data = os.urandom(5000)
    f = upload_file(c, "a.bin", data, d["id"])
    bin_folder(c, d["id"])
    twin = upload_file(c, "b.bin", data)
    assert storage_usage(c)["stored_bytes"] == 5000
    assert c.delete(f"{API}/files/{twin['id']}").status_code == 200
    assert usage(c) == (5000, 1, 5000) and storage_usage(c)["stored_bytes"] == 5000
    restore_folder(c, d["id"])
    assert c.get(f"{API}/files/{f['id']}/download").content == data
    bin_folder(c, d["id"])
    assert c.delete(f"{API}/bin").status_code == 200
    assert usage(c) == (0, 0, 0) and storage_usage(c)["stored_bytes"] == 0


def test_upload_into_folder_binned_midway_is_404(fresh, server):
    """A folder binned while a file is uploaded into it: the commit answers 404
    and nothing is counted or listed."""
    c = fresh.client
    d = create_folder(c, "d")
    b = "rawb0undary"
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + os.urandom(3 << 20) + \
        f"\r\n--{b}--\r\n".encode()
    head = upload_head(fresh.access_token, content_length=len(body), folder_id=d["id"], boundary=b)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        s.sendall(head + body[:1 << 20])
        time.sleep(0.3)
        bin_folder(c, d["id"])
        s.sendall(body[1 << 20:])
        buf = b""
        while (got := s.recv(65536)):
            buf += got
    finally:
        s.close()
    assert buf.startswith(b"HTTP/1.1 404 "), buf[:200]
    assert storage_usage(c)["stored_bytes"] == 0 and usage(c) == (0, 0, 0)
    assert list_files(c, folder_id=d["id"], include_deleted="true") == ([], 0)


def dav(server, user, method, path, data=None, headers=None):
    return requests.request(method, f"{server.url}/dav{path}", data=data, headers=headers or {},
                            auth=(user.username, user.password), timeout=60)


def test_webdav_with_binned_folders(fresh, server):
    """WebDAV walks live folders only: nothing of a binned folder is reached,
    its name is free again, a COPY or MOVE of a folder leaves its binned
    content behind in the bin, restorable into the moved folder."""
    c, u = fresh.client, fresh
    d = create_folder(c, "d")
    sub = create_folder(c, "sub", d["id"])
    upload_file(c, "in.txt", b"inside", d["id"])
    upload_file(c, "deep.txt", b"deep", sub["id"])
    bin_folder(c, d["id"])
    assert dav(server, u, "GET", "/d/in.txt").status_code == 404
    assert dav(server, u, "PROPFIND", "/d", headers={"Depth": "1"}).status_code == 404
    r = dav(server, u, "PROPFIND", "/", headers={"Depth": "1"})
    assert r.status_code == 207 and "/dav/d" not in r.text, r.text
    assert dav(server, u, "PUT", "/d/new.txt", data=b"n").status_code == 409
    assert dav(server, u, "MKCOL", "/d").status_code == 201
    assert dav(server, u, "PUT", "/d/in.txt", data=b"new").status_code == 201
    assert usage(c) == (13, 3, 10)
    restore_folder(c, d["id"])
    assert get_folder(c, d["id"])["name"] == "d (1)"
    assert dav(server, u, "GET", "/d (1)/in.txt").content == b"inside"
    assert dav(server, u, "GET", "/d/in.txt").content == b"new"
    assert dav(server, u, "DELETE", "/d (1)/sub").status_code == 204
    assert usage(c) == (13, 3, 4)
    r = dav(server, u, "COPY", "/d (1)",
            headers={"Destination": f"{server.url}/dav/cp", "Depth": "infinity"})
    assert r.status_code == 201, r.text
    r = dav(server, u, "PROPFIND", "/cp", headers={"Depth": "1"})
    assert r.status_code == 207 and "sub" not in r.text and "in.txt" in r.text, r.text
    assert usage(c) == (19, 4, 4)
    r = dav(server, u, "MOVE", "/d (1)", headers={"Destination": f"{server.url}/dav/mv"})
    assert r.status_code == 201, r.text
    restore_folder(c, sub["id"])
    assert dav(server, u, "GET", "/mv/sub/deep.txt").content == b"deep"
    assert usage(c) == (19, 4, 0) and folder_size(c, d["id"]) == 10


# ---- a big folder's bin and restore in batches (issue 14, DECISIONS "Bin in batches") ----
# BIN_BATCH_FOLDERS=3 makes the 31-folder test tree take ten batches;
# BIN_BATCH_PAUSE_MS holds each batch back so the tests can act between two.

BATCH_ENV = {"BIN_BATCH_FOLDERS": "3", "BIN_BATCH_PAUSE_MS": "400", "STORAGE_BACKEND": "local"}


def big_tree(c, parent):
    """Work (under `parent`) with 3 folders a*, each with 3 b*, each with 2 c*:
    31 folders, a file in each (sizes all different). Returns (work id,
    {name: id}, {folder id: bytes of its own file}, total bytes)."""
    ids, own = {}, {}
    work = create_folder(c, "Work", parent)["id"]
    ids["Work"] = work
    todo = [("Work", work)]
    for level, width in (("a", 3), ("b", 3), ("c", 2)):
        nxt = []
        for pname, pid in todo:
            for i in range(width):
                name = f"{pname}-{level}{i}" if pname != "Work" else f"{level}{i}"
                ids[name] = create_folder(c, name, pid)["id"]
                nxt.append((name, ids[name]))
        todo = nxt
    for n, (name, fid) in enumerate(sorted(ids.items())):
        size = 100 + n
        upload_file(c, f"{name}.txt", b"z" * size, fid)
        own[fid] = size
    return work, ids, own, sum(own.values())


def group_state(srv, work):
    """(pending operations, folders marked in Work's group, Work's own mark)."""
    from test_child_counts import db_rows
    ops = db_rows(srv, "SELECT folder_id, op, group_id FROM folder_ops")
    marked = int(db_rows(srv, f"SELECT COUNT(*) FROM folders WHERE trashed_with = '{work}' "
                              "AND is_deleted = 1")[0][0])
    top = db_rows(srv, f"SELECT is_deleted FROM folders WHERE id = '{work}'")[0][0]
    return ops, marked, top


def live_names(srv, ids):
    from test_child_counts import db_rows
    live = {r[0] for r in db_rows(srv, "SELECT id FROM folders WHERE is_deleted = 0")}
    return [n for n, i in ids.items() if i in live]


def in_thread(fn):
    out = []

    def run():
        try:
            out.append(fn())
        except requests.ConnectionError as e:   # the server was killed
            out.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def fsck_clean(srv, tmp_path):
    """`netradrive fsck` on the stopped server's data finds nothing."""
    srv.stop()
    p = run_cmd(["fsck"], tmp_path, env={"DATA_DIR": srv.data_dir, "STORAGE_BACKEND": "local"})
    assert p.returncode == 0 and b"child" not in p.stdout, p.stdout + p.stderr


def test_big_bin_and_restore_run_in_batches(server_factory, tmp_path):
    """Binning a folder of 31 folders marks them in ten short transactions,
    top down, recorded in folder_ops while they run; another user's writes go
    through between two batches instead of waiting for the whole; at the end
    the group, the sizes, the bin bytes and the counters are exact, and the
    restore runs the same way back."""
    from test_child_counts import check_counts
    srv = server_factory(env=BATCH_ENV)
    a, b = make_user(srv, "bigbin"), make_user(srv, "bystander")
    c = a.client
    top = create_folder(c, "top")["id"]
    work, ids, own, total = big_tree(c, top)
    assert get_folder(c, top)["size"] == total and usage(c) == (total, 31, 0)
    for action, op, state in (("bin", "1", "1"), ("restore", "2", "0")):
        t0 = time.monotonic()
        t, out = in_thread(lambda: srv.client(a.access_token).put(f"{API}/folders/{work}/{action}"))
        time.sleep(0.6)
        ops, marked, mark = group_state(srv, work)
        assert t.is_alive() and ops == [(work, op, work)], (action, ops)
        assert mark == state and 0 < marked < 30, (mark, marked)
        waits = []
        for i in range(4):   # the other user is not held up by the batches
            s = time.monotonic()
            create_folder(b.client, f"{action} {i}")
            waits.append(time.monotonic() - s)
        assert t.is_alive() and max(waits) < 1.0, waits
        t.join(30)
        assert out[0].status_code == 200, out[0].text
        assert time.monotonic() - t0 > 3 * 0.4   # it did pause between batches
        ops, marked, mark = group_state(srv, work)
        assert ops == [] and mark == state and marked == (30 if action == "bin" else 0)
        check_counts(srv, a)
    assert get_folder(c, top)["size"] == total and get_folder(c, work)["size"] == total
    assert usage(c) == (total, 31, 0)
    assert len(live_names(srv, ids)) == 31
    fsck_clean(srv, tmp_path)


def test_owner_writes_during_batches_complete_them_first(server_factory, tmp_path):
    """While a big bin's batches run, the owner's own writes into the part
    not marked yet first complete them, then see the folders binned (404),
    nothing lost; while a restore's run, they first complete it and then
    land in the restored folders. Sizes, bin bytes and counters stay exact."""
    from test_child_counts import check_counts
    # Wider gaps: the targets are picked by a query that may come late under load.
    srv = server_factory(env=dict(BATCH_ENV, BIN_BATCH_FOLDERS="2", BIN_BATCH_PAUSE_MS="700"))
    a = make_user(srv, "ownbin")
    c = a.client
    top = create_folder(c, "top")["id"]
    work, ids, own, total = big_tree(c, top)

    t, out = in_thread(lambda: srv.client(a.access_token).put(f"{API}/folders/{work}/bin"))
    time.sleep(0.3)
    live = live_names(srv, ids)
    leaves = [n for n in live if n.count("-") == 2]
    mids = [n for n in live if n.count("-") == 1]
    assert t.is_alive() and len(leaves) >= 2 and mids, live   # not marked yet
    r = upload_raw(c, [("file", "late.txt", b"late", "text/plain")], folder_id=ids[leaves[0]])
    assert r.status_code == 404, r.text
    assert group_state(srv, work)[0] == []   # that upload completed the bin first
    r = c.post(f"{API}/folders", json={"name": "late", "parent_id": ids[leaves[1]]})
    assert r.status_code == 404, r.text
    r = c.put(f"{API}/folders/{ids[mids[0]]}/move", json={"new_parent_id": None})
    assert r.status_code == 404, r.text
    t.join(30)
    assert out[0].status_code == 200, out[0].text
    assert group_state(srv, work)[1:] == (30, "1")
    assert usage(c) == (total, 31, total) and get_folder(c, top)["size"] == 0
    check_counts(srv, a)

    t, out = in_thread(lambda: srv.client(a.access_token).put(f"{API}/folders/{work}/restore"))
    time.sleep(0.3)
    binned = [n for n in ids if n not in live_names(srv, ids)]
    leaves = [n for n in binned if n.count("-") == 2]
    mids = [n for n in binned if n.count("-") == 1]
    assert t.is_alive() and len(leaves) >= 2 and mids, binned   # not restored yet
    upload_file(c, "late.txt", b"late", ids[leaves[0]])
    assert group_state(srv, work)[0] == []
    create_folder(c, "late", ids[leaves[1]])
    moved = [m for m in mids if not leaves[0].startswith(m + "-")
             and not leaves[1].startswith(m + "-")][0]
    r = c.put(f"{API}/folders/{ids[moved]}/move", json={"new_parent_id": None})
    assert r.status_code == 200, r.text
    t.join(30)
    assert out[0].status_code == 200, out[0].text
    moved_bytes = sum(own[ids[n]] for n in ids if n == moved or n.startswith(moved + "-"))
    assert get_folder(c, ids[moved])["size"] == moved_bytes
    assert get_folder(c, work)["size"] == total + 4 - moved_bytes
    assert get_folder(c, top)["size"] == total + 4 - moved_bytes
    assert usage(c) == (total + 4, 32, 0)
    assert len(live_names(srv, ids)) == 31
    check_counts(srv, a)
    fsck_clean(srv, tmp_path)


@pytest.mark.parametrize("action", ["bin", "restore"])
def test_batches_cut_short_by_a_crash_complete_at_start(server_factory, tmp_path, action):
    """kill -9 between two batches leaves the subtree half marked and the
    operation recorded; the next start completes it (the janitor, no request
    needed): the group, sizes, bin bytes and counters come out exact."""
    from test_child_counts import check_counts
    srv = server_factory(env=dict(BATCH_ENV, BIN_BATCH_PAUSE_MS="0"))
    a = make_user(srv, "crashbin")
    c = a.client
    top = create_folder(c, "top")["id"]
    work, ids, own, total = big_tree(c, top)
    if action == "restore":
        bin_folder(c, work)
    srv.extra_env["BIN_BATCH_PAUSE_MS"] = "400"
    srv.stop()
    srv.start()
    t, out = in_thread(lambda: srv.client(a.access_token).put(f"{API}/folders/{work}/{action}"))
    time.sleep(1.0)
    srv.kill()
    t.join(30)
    ops, marked, mark = group_state(srv, work)
    assert ops == [(work, "1" if action == "bin" else "2", work)], ops
    assert 0 < marked < 30, marked
    srv.extra_env["BIN_BATCH_PAUSE_MS"] = "0"
    srv.start()
    deadline = time.monotonic() + 10
    while group_state(srv, work)[0] and time.monotonic() < deadline:
        time.sleep(0.1)
    c = a.client = srv.client(a.access_token)
    ops, marked, mark = group_state(srv, work)
    if action == "bin":
        assert (ops, marked, mark) == ([], 30, "1")
        assert usage(c) == (total, 31, total) and get_folder(c, top)["size"] == 0
        restore_folder(c, work)
    else:
        assert (ops, marked, mark) == ([], 0, "0")
    assert usage(c) == (total, 31, 0) and get_folder(c, top)["size"] == total
    assert len(live_names(srv, ids)) == 31
    check_counts(srv, a)
    fsck_clean(srv, tmp_path)


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's planner and its statistics")
def test_wide_restore_with_skewed_statistics(server, user_factory):
    """Statistics taken while 10,000 folders had one parent say each folder
    has thousands of children: the restore's last walk (every restored
    folder, to find what is left below it) then probed each folder's
    children by reading a whole index that leads with the owner (an
    index-only scan, cheap for one probe by those statistics): 5 s for
    each such walk, 6.5-52 s for the restore. Autovacuum is held off so
    the statistics stay as they were taken."""
    u = user_factory("skew")
    top = create_folder(u.client, "skew-top")
    db = pg_database_url(server.data_dir)

    def psql(sql):
        pg_exec(db, sql)
    psql("ALTER TABLE folders SET (autovacuum_enabled = false)")
    try:
        psql("INSERT INTO folders (id, owner_id, parent_id, name, name_key, created_at, "
             f"updated_at) SELECT substr(md5('skew' || i), 1, 22), '{u.id}', '{top['id']}', "
             "'k ' || i, 'k ' || i, 1700000000000, 1700000000000 "
             "FROM generate_series(1, 10000) i")
        for action in ("bin", "restore"):
            # As autovacuum did in CI, between the bin and the restore: the
            # statistics of the moment, and the visibility map.
            psql("VACUUM (ANALYZE) folders")
            t0 = time.monotonic()
            r = u.client.put(f"{API}/folders/{top['id']}/{action}", timeout=120)
            took = time.monotonic() - t0
            assert r.status_code == 200, r.text
            assert took < 5 * TIME_FACTOR, (action, took)
        folders, total = list_folders(u.client, parent_id=top["id"], limit=10)
        assert total == 10000 and not any(f["is_deleted"] for f in folders)
    finally:
        psql("ALTER TABLE folders RESET (autovacuum_enabled)")


@pytest.mark.parametrize("via", ["dav", "api", "upload"])
def test_writes_complete_pending_batches_off_the_poll_thread(server_factory, via):
    """While a big bin's batches run (paused between them), the owner's
    write (a WebDAV MKCOL, an API folder, an upload) first completes them, on
    the background pool: the one poll thread (THREADS=1) answers others
    meanwhile. Before, the write ran the batches, pauses and all, on the
    poll thread, and every request waited."""
    srv = server_factory(env=dict(BATCH_ENV, THREADS="1"))
    a = make_user(srv, "settle")
    c = a.client
    top = create_folder(c, "top")["id"]
    work, _, _, _ = big_tree(c, top)
    auth = (a.username, a.password)
    r = requests.request("PROPFIND", f"{srv.url}/dav/", headers={"Depth": "0"}, auth=auth,
                         timeout=30)
    assert r.status_code == 207   # the credential is cached from here on
    writes = {
        "dav": lambda: requests.request("MKCOL", f"{srv.url}/dav/late", auth=auth, timeout=60),
        "api": lambda: srv.client(a.access_token).post(f"{API}/folders", json={"name": "late"}),
        "upload": lambda: upload_raw(srv.client(a.access_token),
                                     [("file", "late.txt", b"late", "text/plain")]),
    }
    t, out = in_thread(lambda: srv.client(a.access_token).put(f"{API}/folders/{work}/bin"))
    time.sleep(0.3)
    assert t.is_alive() and group_state(srv, work)[0], "the batches should be running"
    t2, out2 = in_thread(writes[via])
    time.sleep(0.2)
    t0 = time.monotonic()
    r = requests.options(f"{srv.url}/dav/", timeout=30)
    took = time.monotonic() - t0
    assert r.status_code == 200
    assert took < 1.0 * TIME_FACTOR, f"OPTIONS waited {took:.2f}s behind the batches"
    t.join(30)
    t2.join(30)
    assert out[0].status_code == 200, out[0].text
    assert out2[0].status_code == 201, out2[0].text
    assert group_state(srv, work)[0] == []

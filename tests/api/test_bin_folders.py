"""The bin kept on folders (DECISIONS "The bin is kept on folders"): binning a
folder marks its folders only, and a file inside a binned folder is in the bin
through its folder. Every view of a file must apply that rule exactly as the
old per-file marks did: the file reads as binned, the starred view, search (each
of its paths), sharing and downloads leave it out, the bin browses it, and
emptying the bin or deleting the folder removes it with its bytes counted right."""
import os
import socket
import time

import pytest
import requests

from helpers import (API, assert_file, bin_folder, create_folder, list_files, list_folders, names,
                     restore_folder, storage_usage, upload_file, upload_head)


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

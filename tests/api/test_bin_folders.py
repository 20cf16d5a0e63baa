"""The bin kept on folders (DECISIONS "The bin is kept on folders"): binning a
folder marks its folders only, and a file inside a binned folder is in the bin
through its folder. Every view of a file must apply that rule exactly as the
old per-file marks did: the file reads as binned, the starred view, search (each
of its paths), sharing and downloads leave it out, the bin browses it, and
emptying the bin or deleting the folder removes it with its bytes counted right."""
import os

import pytest

from helpers import (API, assert_file, bin_folder, create_folder, list_files, names,
                     restore_folder, storage_usage, upload_file)


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

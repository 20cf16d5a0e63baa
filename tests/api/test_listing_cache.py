"""The listing cache (api/listing_cache.h, DECISIONS "Listing cache"): a page
served again must be byte for byte what a fresh read gives, and never older
than the database. One HTTP thread (THREADS=1), so every request after the
first can only be answered from the cache when nothing changed; each change
below is followed by a listing that must show it."""
import os
import sqlite3

import pytest

from helpers import (API, POSTGRES, create_folder, item_action, list_files, list_folders, make_user,
                     names, upload_file)

SERVER_ENV = {"THREADS": "1"}


def _raw(client, path, **params):
    r = client.get(f"{API}/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.content, r.headers["X-Total-Count"]


@pytest.fixture
def fresh(server):
    return make_user(server, "lc")


def test_repeat_is_identical(fresh):
    c = fresh.client
    for i in range(5):
        upload_file(c, f"f{i}.txt", b"x" * i)
        create_folder(c, f"d{i}")
    for path in ("files/", "folders/"):
        first = _raw(c, path, limit=3, offset=1, sort="size", order="desc")
        for _ in range(3):
            assert _raw(c, path, limit=3, offset=1, sort="size", order="desc") == first
        # Another query is another page, not the stored one.
        assert _raw(c, path, limit=2) != first


def test_every_change_shows_at_once(fresh):
    c = fresh.client
    box = create_folder(c, "box")
    a = upload_file(c, "a.txt", b"a", box["id"])
    assert names(list_files(c, folder_id=box["id"])[0]) == ["a.txt"]
    b = upload_file(c, "b.txt", b"bb", box["id"])
    assert names(list_files(c, folder_id=box["id"])[0]) == ["a.txt", "b.txt"]
    assert c.put(f"{API}/files/{a['id']}/rename", json={"new_name": "c.txt"}).status_code == 200
    assert names(list_files(c, folder_id=box["id"])[0]) == ["b.txt", "c.txt"]
    item_action(c, "files", b["id"], "star")
    listed, _ = list_files(c, folder_id=box["id"])
    assert [f["is_starred"] for f in listed] == [True, False]
    item_action(c, "files", b["id"], "bin")
    listed, total = list_files(c, folder_id=box["id"])
    assert names(listed) == ["c.txt"] and total == 1
    item_action(c, "files", b["id"], "restore")
    assert names(list_files(c, folder_id=box["id"])[0]) == ["b.txt", "c.txt"]
    # Folder sizes move with their files.
    before = [f for f in list_folders(c)[0] if f["id"] == box["id"]][0]["size"]
    upload_file(c, "d.txt", b"dddd", box["id"])
    after = [f for f in list_folders(c)[0] if f["id"] == box["id"]][0]["size"]
    assert after == before + 4


@pytest.mark.skipif(POSTGRES, reason="opens the SQLite database file")
def test_change_by_another_process_shows(server, fresh):
    """A write to the database file by another process (here Python's
    sqlite3, as fsck or a second tool would) retires the stored page."""
    c = fresh.client
    f = upload_file(c, "before.txt", b"z")
    assert names(list_files(c)[0]) == ["before.txt"]
    assert names(list_files(c)[0]) == ["before.txt"]      # now stored
    db = sqlite3.connect(os.path.join(server.data_dir, "netradrive.db"), timeout=10)
    with db:
        db.execute("UPDATE files SET name = 'after.txt', name_key = 'after.txt' WHERE id = ?",
                   (f["id"],))
    db.close()
    assert names(list_files(c)[0]) == ["after.txt"]


def test_users_never_share_pages(server):
    one, two = make_user(server, "lca"), make_user(server, "lcb")
    upload_file(one.client, "mine.txt", b"1")
    assert names(list_files(one.client)[0]) == ["mine.txt"]
    # The same query string by another user is that user's own (empty) page.
    listed, total = list_files(two.client)
    assert listed == [] and total == 0
    r = two.client.get(f"{API}/files/", params={"folder_id": "root"})
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"


def test_cache_off_gives_the_same_bytes(server_factory):
    on = server_factory(env={"THREADS": "1"})
    off = server_factory(env={"THREADS": "1", "LISTING_CACHE": "0"})
    pages = []
    for s in (on, off):
        u = make_user(s, "lco")
        for i in range(3):
            upload_file(u.client, f"n{i}", b"q" * i)
        listed = [_raw(u.client, "files/") for _ in range(3)]
        assert listed[0] == listed[1] == listed[2]
        pages.append(len(listed[0][0]))
    assert pages[0] == pages[1]


"""Storage usage (API §7): GET /api/v1/users/me/storage ->
{total_usage_bytes, file_count, bin_bytes, stored_bytes}. total_usage_bytes and
file_count count every file of the user including the bin; bin_bytes the binned
ones (directly or with their folder); stored_bytes what sits in storage after
dedup."""
import random

import pytest

from helpers import (API, assert_error, bin_folder, create_folder, list_files, restore_folder,
                     storage_usage, upload_file, upload_raw)


def usage(total, count, binned, stored):
    return {"total_usage_bytes": total, "file_count": count, "bin_bytes": binned,
            "stored_bytes": stored}


def data(n, seed):
    return random.Random(seed).randbytes(n)


@pytest.fixture
def fresh(user_factory):
    return user_factory("st")


def ok(r):
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"


def test_fresh_user_is_zero(fresh):
    assert storage_usage(fresh.client) == usage(0, 0, 0, 0)
    r = fresh.client.get(f"{API}/users/me/storage/")
    assert r.status_code == 200 and r.json() == usage(0, 0, 0, 0)


def test_unauthenticated(client):
    assert_error(client.get(f"{API}/users/me/storage"), 401, "Not authenticated")
    assert_error(client.get(f"{API}/users/me/storage", headers={"Authorization": "Bearer x.y.z"}),
                 401, "Could not validate credentials")


def test_uploads_add_up(fresh):
    c = fresh.client
    upload_file(c, "a", data(1000, 1))
    assert storage_usage(c) == usage(1000, 1, 0, 1000)
    d = create_folder(c, "d")
    upload_file(c, "b", data(2500, 2), d["id"])
    assert storage_usage(c) == usage(3500, 2, 0, 3500)
    upload_file(c, "empty", b"")
    assert storage_usage(c) == usage(3500, 3, 0, 3500)
    upload_file(c, "big", data(300_000, 3), d["id"])
    assert storage_usage(c) == usage(303_500, 4, 0, 303_500)


def test_file_bin_restore_delete(fresh):
    c = fresh.client
    a = upload_file(c, "a", data(1000, 4))
    b = upload_file(c, "b", data(2500, 5))
    ok(c.put(f"{API}/files/{a['id']}/bin"))
    assert storage_usage(c) == usage(3500, 2, 1000, 3500)
    ok(c.put(f"{API}/files/{a['id']}/restore"))
    assert storage_usage(c) == usage(3500, 2, 0, 3500)
    ok(c.delete(f"{API}/files/{b['id']}"))
    assert storage_usage(c) == usage(1000, 1, 0, 1000)
    ok(c.put(f"{API}/files/{a['id']}/bin"))
    assert storage_usage(c) == usage(1000, 1, 1000, 1000)
    ok(c.delete(f"{API}/files/{a['id']}"))
    assert storage_usage(c) == usage(0, 0, 0, 0)


def test_folder_bin_counts_carried_files(fresh):
    c = fresh.client
    top = create_folder(c, "top")
    sub = create_folder(c, "sub", top["id"])
    loose = upload_file(c, "loose", data(100, 6), top["id"])
    upload_file(c, "x", data(200, 7), top["id"])
    upload_file(c, "y", data(300, 8), sub["id"])
    upload_file(c, "outside", data(5000, 9))
    assert storage_usage(c) == usage(5600, 4, 0, 5600)
    ok(c.put(f"{API}/files/{loose['id']}/bin"))
    assert storage_usage(c) == usage(5600, 4, 100, 5600)
    bin_folder(c, top["id"])
    # not counted twice
    assert storage_usage(c) == usage(5600, 4, 600, 5600)
    restore_folder(c, top["id"])
    # the file binned on its own stays in the bin
    assert storage_usage(c) == usage(5600, 4, 100, 5600)
    bin_folder(c, sub["id"])
    assert storage_usage(c) == usage(5600, 4, 400, 5600)
    ok(c.delete(f"{API}/folders/{top['id']}"))
    assert storage_usage(c) == usage(5000, 1, 0, 5000)


def test_empty_bin(fresh):
    c = fresh.client
    d = create_folder(c, "d")
    upload_file(c, "in-d", data(700, 10), d["id"])
    f = upload_file(c, "f", data(40, 11))
    upload_file(c, "keep", data(9, 12))
    ok(c.put(f"{API}/files/{f['id']}/bin"))
    bin_folder(c, d["id"])
    assert storage_usage(c) == usage(749, 3, 740, 749)
    ok(c.delete(f"{API}/bin"))
    assert storage_usage(c) == usage(9, 1, 0, 9)


def test_dedup_counts(fresh):
    c = fresh.client
    same = data(4096, 13)
    a = upload_file(c, "a", same)
    b = upload_file(c, "b", same)
    upload_file(c, "c", data(10, 14))
    assert storage_usage(c) == usage(8202, 3, 0, 4106)
    ok(c.put(f"{API}/files/{a['id']}/bin"))
    assert storage_usage(c) == usage(8202, 3, 4096, 4106)
    ok(c.delete(f"{API}/files/{a['id']}"))
    assert storage_usage(c) == usage(4106, 2, 0, 4106)
    ok(c.delete(f"{API}/files/{b['id']}"))
    assert storage_usage(c) == usage(10, 1, 0, 10)


def test_move_rename_star_change_nothing(fresh):
    c = fresh.client
    d = create_folder(c, "d")
    f = upload_file(c, "f", data(321, 15))
    before = storage_usage(c)
    ok(c.put(f"{API}/files/{f['id']}/move", json={"new_parent_id": d["id"]}))
    ok(c.put(f"{API}/files/{f['id']}/rename", json={"new_name": "g"}))
    ok(c.put(f"{API}/files/{f['id']}/star"))
    ok(c.put(f"{API}/folders/{d['id']}/move", json={"new_parent_id": None}))
    assert storage_usage(c) == before == usage(321, 1, 0, 321)


def test_failed_uploads_change_nothing(fresh, other_user):
    c = fresh.client
    upload_file(c, "base", data(50, 16))
    before = storage_usage(c)
    foreign = create_folder(other_user.client, "not-yours")
    for folder in ("doesnotexist", foreign["id"]):
        r = upload_raw(c, [("file", "x", data(1000, 17))], folder_id=folder)
        assert_error(r, 404, "Folder not found")
    r = upload_raw(c, [("file", "..", data(1000, 18))])
    assert_error(r, 400, "Name must not be '.' or '..'")
    assert storage_usage(c) == before


def test_users_are_separate(user_factory):
    a, b = user_factory("sa"), user_factory("sb")
    upload_file(a.client, "a", data(1234, 19))
    f = upload_file(b.client, "b", data(99, 20))
    assert storage_usage(a.client) == usage(1234, 1, 0, 1234)
    assert storage_usage(b.client) == usage(99, 1, 0, 99)
    ok(b.client.put(f"{API}/files/{f['id']}/bin"))
    assert storage_usage(a.client) == usage(1234, 1, 0, 1234)
    assert storage_usage(b.client) == usage(99, 1, 99, 99)


def test_big_folder_bin_restore_in_batches(fresh):
    """A folder's files go to the bin (and back) in batches of their own
    transactions (drive/folder_bin.c): with more files than a first batch
    (100), every file ends up binned, then live again, and the usage, the
    folder sizes and the listings add up at the end of each request."""
    c = fresh.client
    top = create_folder(c, "Big")
    sub = create_folder(c, "Sub", top["id"])
    sizes = []
    for i in range(260):
        body = data(1 + i % 7, i % 7)   # seven contents, many copies (dedup)
        upload_file(c, f"f{i:03d}.bin", body, folder_id=(sub if i % 3 else top)["id"])
        sizes.append(len(body))
    total = sum(sizes)
    stored = sum(len(data(1 + k, k)) for k in range(7))
    assert storage_usage(c) == usage(total, 260, 0, stored)
    ok(c.put(f"{API}/folders/{top['id']}/bin"))
    assert storage_usage(c) == usage(total, 260, total, stored)
    assert list_files(c, folder_id=sub["id"], limit=1000)[1] == 0
    binned, n = list_files(c, folder_id=sub["id"], include_deleted="true", limit=1000)
    assert n == len(binned) == sum(1 for i in range(260) if i % 3)
    assert c.get(f"{API}/folders/{top['id']}").json()["size"] == total
    ok(c.put(f"{API}/folders/{top['id']}/restore"))
    assert storage_usage(c) == usage(total, 260, 0, stored)
    live, n = list_files(c, folder_id=sub["id"], limit=1000)
    assert n == len(live) == sum(1 for i in range(260) if i % 3)
    assert list_files(c, folder_id=top["id"], include_deleted="true", limit=1000)[1] == 0
    assert c.get(f"{API}/folders/{top['id']}").json()["size"] == total

"""Deduplication (API §5): DEDUP=link (default) stores a user's content
once and references it from every File with those bytes; DEDUP=reject answers
409; dedup is per user. Checked through the File objects, GET /users/me/storage
and the stored chunks (helpers.stored_chunks: the local backend's chunk files
under DATA_DIR/chunks, or the live messages in the fake Telegram). A duplicate's
bytes are stored while it streams and removed right after by the sweeper, which
is asynchronous (and over the network for Telegram), so chunk checks poll."""
import random
import threading
import time

import pytest

from helpers import (API, assert_error, assert_file, create_folder, download, list_files,
                     make_user, sha256, spool_files, storage_usage, stored_chunks, upload_file,
                     upload_raw, wait_until)

CHUNK = 65536
SERVER_ENV = {"CHUNK_SIZE": str(CHUNK)}
DUP_DETAIL = "This file already exists in your storage (same content)."


def rbytes(n, seed):
    return random.Random(seed).randbytes(n)


def nchunks(size):
    return (size + CHUNK - 1) // CHUNK


def usage(total, count, binned, stored):
    return {"total_usage_bytes": total, "file_count": count, "bin_bytes": binned,
            "stored_bytes": stored}


def new_chunks(server, baseline):
    return set(stored_chunks(server)) - baseline


def settled(server, baseline, want, timeout=10):
    """Waits until the chunks stored since `baseline` are exactly `want` (a
    duplicate's redundant chunks are removed by the sweeper after the upload)."""
    ok = wait_until(lambda: new_chunks(server, baseline) == want, timeout=timeout)
    assert ok, f"stored chunks since the baseline: {sorted(new_chunks(server, baseline))}, " \
               f"want {sorted(want)}"


def gone(server, paths, timeout=10):
    """Waits until none of the chunks `paths` is stored any more."""
    ok = wait_until(lambda: not (set(stored_chunks(server)) & set(paths)), timeout=timeout)
    assert ok, f"chunks still stored: {sorted(set(stored_chunks(server)) & set(paths))}"


@pytest.fixture
def fresh(user_factory):
    return user_factory("dd")


def _delete(c, fid):
    r = c.delete(f"{API}/files/{fid}")
    assert r.status_code == 200, r.text


def _bin(c, fid):
    r = c.put(f"{API}/files/{fid}/bin")
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- DEDUP=link

def test_same_bytes_twice_stored_once(fresh, server):
    c = fresh.client
    size = 3 * CHUNK + 5
    data = rbytes(size, 1)
    baseline = set(stored_chunks(server))
    f1 = upload_file(c, "first.bin", data)
    stored = new_chunks(server, baseline)
    assert len(stored) == nchunks(size), sorted(stored)
    folder = create_folder(c, "elsewhere")
    f2 = upload_file(c, "Second name.txt", data, folder["id"])
    assert_file(f1, name="first.bin", folder_id=None, size=size, hash=sha256(data))
    assert_file(f2, name="Second name.txt", folder_id=folder["id"], size=size, hash=sha256(data))
    assert f1["id"] != f2["id"]
    settled(server, baseline, stored)  # the second copy keeps no chunks of its own
    assert storage_usage(c) == usage(2 * size, 2, 0, size)
    assert download(c, f1["id"]) == data and download(c, f2["id"]) == data
    # a third copy, same folder, same name
    f3 = upload_file(c, "first.bin", data)
    assert f3["id"] not in (f1["id"], f2["id"]) and f3["hash"] == f1["hash"]
    assert storage_usage(c) == usage(3 * size, 3, 0, size)
    settled(server, baseline, stored)

    # deleting copies keeps the content while one File still references it
    _delete(c, f1["id"])
    _delete(c, f3["id"])
    assert storage_usage(c) == usage(size, 1, 0, size)
    time.sleep(1.0)
    assert set(stored_chunks(server)) >= stored, "content removed while still referenced"
    assert download(c, f2["id"]) == data
    # the last one takes the bytes with it
    _delete(c, f2["id"])
    assert storage_usage(c) == usage(0, 0, 0, 0)
    gone(server, stored)
    assert not spool_files(server)


def test_bin_of_one_copy_keeps_content(fresh, server):
    c = fresh.client
    size = CHUNK + 1
    data = rbytes(size, 2)
    baseline = set(stored_chunks(server))
    a = upload_file(c, "a.bin", data)
    stored = new_chunks(server, baseline)
    b = upload_file(c, "b.bin", data)
    settled(server, baseline, stored)
    _bin(c, a["id"])
    assert storage_usage(c) == usage(2 * size, 2, size, size)
    assert download(c, b["id"]) == data
    # emptying the bin removes the binned copy, not the content
    assert c.delete(f"{API}/bin").status_code == 200
    assert storage_usage(c) == usage(size, 1, 0, size)
    time.sleep(1.0)
    assert set(stored_chunks(server)) >= stored
    assert download(c, b["id"]) == data
    _delete(c, b["id"])
    gone(server, stored)


def test_reupload_after_all_copies_deleted(fresh, server):
    c = fresh.client
    size = 2 * CHUNK
    data = rbytes(size, 3)
    baseline = set(stored_chunks(server))
    f = upload_file(c, "again.bin", data)
    first = new_chunks(server, baseline)
    _delete(c, f["id"])
    gone(server, first)
    g = upload_file(c, "again.bin", data)
    assert g["hash"] == f["hash"] and g["id"] != f["id"]
    assert len(new_chunks(server, baseline)) == nchunks(size)
    assert storage_usage(c) == usage(size, 1, 0, size)
    assert download(c, g["id"]) == data


def test_copies_of_a_binned_then_restored_file(fresh):
    c = fresh.client
    data = rbytes(1000, 4)
    a = upload_file(c, "a", data)
    _bin(c, a["id"])
    b = upload_file(c, "b", data)          # content still stored (a is in the bin)
    assert b["hash"] == a["hash"]
    assert storage_usage(c) == usage(2000, 2, 1000, 1000)
    r = c.put(f"{API}/files/{a['id']}/restore")
    assert r.status_code == 200, r.text
    assert storage_usage(c) == usage(2000, 2, 0, 1000)
    assert download(c, a["id"]) == data and download(c, b["id"]) == data


def test_different_bytes_same_name_not_deduplicated(fresh, server):
    c = fresh.client
    baseline = set(stored_chunks(server))
    a = upload_file(c, "same.bin", rbytes(CHUNK, 5))
    b = upload_file(c, "same.bin", rbytes(CHUNK, 6))
    assert a["hash"] != b["hash"]
    assert storage_usage(c) == usage(2 * CHUNK, 2, 0, 2 * CHUNK)
    assert len(new_chunks(server, baseline)) == 2
    assert download(c, a["id"]) == rbytes(CHUNK, 5)
    assert download(c, b["id"]) == rbytes(CHUNK, 6)


def test_empty_files(fresh):
    c = fresh.client
    a = upload_file(c, "empty1", b"")
    b = upload_file(c, "empty2", b"")
    assert a["hash"] == b["hash"] == sha256(b"") and a["size"] == b["size"] == 0
    assert storage_usage(c) == usage(0, 2, 0, 0)
    assert download(c, a["id"]) == b"" and download(c, b["id"]) == b""
    _delete(c, a["id"])
    assert download(c, b["id"]) == b""


def test_parallel_identical_uploads(fresh, server):
    """Two uploads of the same bytes racing each other still end up stored once."""
    c = fresh.client
    size = 6 * CHUNK + 17
    data = rbytes(size, 7)
    baseline = set(stored_chunks(server))
    results = [None] * 4

    def run(i):
        results[i] = upload_raw(fresh.server.client(fresh.access_token),
                                [("file", f"par{i}.bin", data)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r.status_code == 201, r.text
        assert_file(r.json(), size=size, hash=sha256(data))
    assert len({r.json()["id"] for r in results}) == 4
    assert storage_usage(c) == usage(4 * size, 4, 0, size)
    assert wait_until(lambda: len(new_chunks(server, baseline)) == nchunks(size), timeout=10), \
        f"{len(new_chunks(server, baseline))} chunk files for one content of {nchunks(size)}"
    for r in results:
        assert download(c, r.json()["id"]) == data
    stored = new_chunks(server, baseline)
    for r in results:
        _delete(c, r.json()["id"])
    gone(server, stored)
    assert storage_usage(c) == usage(0, 0, 0, 0)


# ---------------------------------------------------------------- per user

def test_dedup_is_per_user(user_factory, server):
    a, b = user_factory("da"), user_factory("db")
    size = 2 * CHUNK + 9
    data = rbytes(size, 8)
    baseline = set(stored_chunks(server))
    fa = upload_file(a.client, "mine.bin", data)
    stored_a = new_chunks(server, baseline)
    fb = upload_file(b.client, "mine too.bin", data)
    stored_b = new_chunks(server, baseline) - stored_a
    assert len(stored_a) == len(stored_b) == nchunks(size), \
        "the second user's upload did not store its own copy"
    assert fa["hash"] == fb["hash"] and fa["id"] != fb["id"]
    assert fa["owner_id"] == a.id and fb["owner_id"] == b.id
    assert storage_usage(a.client) == usage(size, 1, 0, size)
    assert storage_usage(b.client) == usage(size, 1, 0, size)
    # no cross-user reference: b cannot reach a's file, and a's delete leaves b intact
    download(b.client, fa["id"], expect=404)
    _delete(a.client, fa["id"])
    gone(server, stored_a)
    assert set(stored_chunks(server)) >= stored_b
    assert download(b.client, fb["id"]) == data
    assert storage_usage(a.client) == usage(0, 0, 0, 0)
    assert storage_usage(b.client) == usage(size, 1, 0, size)
    _delete(b.client, fb["id"])
    gone(server, stored_b)


# ---------------------------------------------------------------- DEDUP=reject

@pytest.fixture(scope="module")
def rejecting(module_server_factory):
    return module_server_factory(env={"CHUNK_SIZE": str(CHUNK), "DEDUP": "reject"})


@pytest.fixture
def rfresh(rejecting):
    return make_user(rejecting, prefix="rj")


def test_reject_second_upload_409(rfresh, rejecting):
    c = rfresh.client
    size = 4 * CHUNK + 3
    data = rbytes(size, 9)
    baseline = set(stored_chunks(rejecting))
    f = upload_file(c, "orig.bin", data)
    stored = new_chunks(rejecting, baseline)
    other = create_folder(c, "other")
    before = storage_usage(c)
    assert before == usage(size, 1, 0, size)
    for name, folder in (("orig.bin", None), ("renamed.txt", other["id"])):
        r = upload_raw(c, [("file", name, data)], folder_id=folder)
        assert_error(r, 409, DUP_DETAIL)
        assert storage_usage(c) == before
        assert wait_until(lambda: new_chunks(rejecting, baseline) == stored
                          and not spool_files(rejecting), timeout=10), \
            f"rejected upload left chunks or spool behind: {spool_files(rejecting)}"
    assert [x["id"] for x in list_files(c)[0]] == [f["id"]]
    assert list_files(c, folder_id=other["id"]) == ([], 0)
    assert download(c, f["id"]) == data


def test_reject_other_bytes_ok(rfresh):
    c = rfresh.client
    a = upload_file(c, "a.bin", rbytes(500, 10))
    b = upload_file(c, "a.bin", rbytes(500, 11))
    assert a["hash"] != b["hash"]
    assert storage_usage(c) == usage(1000, 2, 0, 1000)


def test_reject_after_permanent_delete_ok(rfresh):
    c = rfresh.client
    data = rbytes(CHUNK + 10, 12)
    f = upload_file(c, "x.bin", data)
    _delete(c, f["id"])
    g = upload_file(c, "x.bin", data)
    assert g["hash"] == f["hash"] and g["id"] != f["id"]
    assert download(c, g["id"]) == data


def test_reject_is_per_user(rejecting):
    a, b = make_user(rejecting, prefix="ra"), make_user(rejecting, prefix="rb")
    data = rbytes(3000, 13)
    fa = upload_file(a.client, "shared-bytes.bin", data)
    fb = upload_file(b.client, "shared-bytes.bin", data)
    assert fa["hash"] == fb["hash"]
    assert_error(upload_raw(b.client, [("file", "again.bin", data)]), 409, DUP_DETAIL)
    assert storage_usage(a.client) == usage(3000, 1, 0, 3000)
    assert storage_usage(b.client) == usage(3000, 1, 0, 3000)


def test_parallel_deletes_of_copies(fresh, server):
    """Deleting every copy at once (racing the reference count) frees the content."""
    c = fresh.client
    size = 3 * CHUNK + 1
    data = rbytes(size, 21)
    baseline = set(stored_chunks(server))
    ids = [upload_file(c, f"copy{i}.bin", data)["id"] for i in range(6)]
    assert wait_until(lambda: len(new_chunks(server, baseline)) == nchunks(size), timeout=10), \
        f"{len(new_chunks(server, baseline))} chunks for one content of {nchunks(size)}"
    stored = new_chunks(server, baseline)
    statuses = []

    def rm(fid):
        statuses.append(fresh.server.client(fresh.access_token)
                        .delete(f"{API}/files/{fid}").status_code)
    threads = [threading.Thread(target=rm, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6, statuses
    assert storage_usage(c) == usage(0, 0, 0, 0)
    gone(server, stored)


def test_upload_while_last_copy_is_deleted(fresh, server):
    """A new copy racing the delete of the last one is either stored afresh or
    keeps the content: it must download correctly either way."""
    c = fresh.client
    data = rbytes(2 * CHUNK + 3, 22)
    for round_ in range(5):
        f = upload_file(c, f"r{round_}.bin", data)
        out = {}

        def rm():
            out["rm"] = fresh.server.client(fresh.access_token) \
                .delete(f"{API}/files/{f['id']}").status_code

        def up():
            out["up"] = upload_raw(fresh.server.client(fresh.access_token),
                                   [("file", f"r{round_}b.bin", data)])
        threads = [threading.Thread(target=rm), threading.Thread(target=up)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert out["rm"] == 200
        assert out["up"].status_code == 201, out["up"].text
        g = out["up"].json()
        time.sleep(0.2)
        assert download(c, g["id"]) == data
        assert storage_usage(c) == usage(len(data), 1, 0, len(data))
        assert c.delete(f"{API}/files/{g['id']}").status_code == 200

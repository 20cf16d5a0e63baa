"""Files (API §2, §5, §6): upload (multipart edge cases, names, folder
checks, size cap, aborted uploads), byte-exact round trips up to ~300 MB,
listing rules, bin / restore / delete, emptying the bin, and the item actions
(rename, move, star, unstar) on files."""
import ctypes
import hashlib
import json
import mmap
import os
import random
import time
import uuid

import pytest

from helpers import (API, LISTING_PARAM, NAME_CONTROL, NAME_DOTS, NAME_EMPTY, NAME_LONG,
                     NAME_SLASH, TELEGRAM, TIME_FACTOR, assert_error, assert_file, bin_folder,
                     create_folder, download, list_files, list_folders, make_user,
                     multipart_body, names, prng_blocks, raw_exchange, restore_folder, sha256,
                     spool_files, storage_usage, stored_chunks, upload_file, upload_head,
                     upload_raw, upload_stream, wait_until)

CHUNK = 65536
SERVER_ENV = {"CHUNK_SIZE": str(CHUNK)}
CAP = 100_000
TYPES = ["file", "files"]
T = 20 * TIME_FACTOR  # per upload request: a hang fails fast


def rbytes(n, seed=None):
    return random.Random(n if seed is None else seed).randbytes(n)


@pytest.fixture
def box(user):
    """A fresh folder in the shared user's root; each test works inside its own box."""
    return create_folder(user.client, "fbox-" + uuid.uuid4().hex[:10])


@pytest.fixture
def fresh(user_factory):
    """A user of its own (empty root, empty bin, zero usage)."""
    return user_factory("ff")


def _ok(r):
    """bin / restore / delete of a file answer 200 {"message": ...}, each its own."""
    assert r.status_code == 200, \
        f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
    path = r.request.path_url.split("?")[0].rstrip("/")
    want = ("File permanently deleted" if r.request.method == "DELETE" else
            "File moved to bin" if path.endswith("/bin") else
            "File restored" if path.endswith("/restore") else None)
    assert want is not None, f"_ok: not a bin/restore/delete: {r.request.method} {path}"
    body = r.json()
    assert body == {"message": want}, body
    return body


def _put(client, t, fid, action, body=None):
    if body is None:
        return client.put(f"{API}/{t}/{fid}/{action}")
    return client.put(f"{API}/{t}/{fid}/{action}", json=body)


def _snap(server):
    """The stored chunks (DATA_DIR/chunks, or the fake Telegram's live messages)
    and what is in DATA_DIR/tmp right now."""
    return set(stored_chunks(server)), set(spool_files(server))


def _settled(server, baseline):
    """After a failed or aborted upload: no spool file and no stored chunk beyond
    the baseline taken before it (leftovers of earlier tests are not counted).
    Polls: removing chunks is asynchronous (the sweeper; Telegram deletes)."""
    chunks0, spool0 = baseline

    def ok():
        return set(spool_files(server)) <= spool0 and set(stored_chunks(server)) <= chunks0
    assert wait_until(ok, timeout=10), \
        f"left behind: spool={sorted(set(spool_files(server)) - spool0)} " \
        f"new chunks={sorted(set(stored_chunks(server)) - chunks0)}"


def _nothing_created(u, server, folder_id, baseline, usage=None):
    listed, total = list_files(u.client, folder_id=folder_id if folder_id else "root")
    assert listed == [] and total == 0, listed
    if usage is not None:
        assert storage_usage(u.client) == usage
    _settled(server, baseline)


# ---------------------------------------------------------------- upload basics

def test_upload_fields(fresh):
    c = fresh.client
    data = b"hello netradrive\n"
    r = upload_raw(c, [("file", "hello.txt", data, "text/plain")])
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    f = assert_file(r.json(), name="hello.txt", folder_id=None, owner_id=fresh.id,
                    size=len(data), hash=sha256(data), deleted=False, starred=False,
                    mime_type="text/plain")
    listed, total = list_files(c)
    assert listed == [f] and total == 1
    assert download(c, f["id"]) == data


# "" counts as absent; "null" is what a JS template makes of a null id (DECISIONS: Files)
@pytest.mark.parametrize("folder_id", [None, "root", "", "null"])
def test_upload_root_forms(fresh, folder_id):
    f = upload_file(fresh.client, "r.bin", b"root", folder_id=folder_id)
    assert_file(f, folder_id=None)
    assert [x["id"] for x in list_files(fresh.client, folder_id="root")[0]] == [f["id"]]


def test_upload_into_folder(user, box):
    c = user.client
    f = upload_file(c, "inside.bin", b"\x00\x01\x02", folder_id=box["id"])
    assert_file(f, folder_id=box["id"], owner_id=user.id, size=3)
    listed, total = list_files(c, folder_id=box["id"])
    assert listed == [f] and total == 1
    assert f["id"] not in [x["id"] for x in list_files(c, limit=10000)[0]]
    # files do not show up in the folder listing
    assert list_folders(c, parent_id=box["id"])[0] == []


@pytest.mark.parametrize("size", [0, 1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK,
                                  7 * CHUNK + 12345])
def test_roundtrip(user, box, size):
    data = rbytes(size)
    f = upload_file(user.client, f"rt-{size}.bin", data, folder_id=box["id"])
    assert_file(f, size=size, hash=sha256(data))
    got = download(user.client, f["id"])
    assert len(got) == size and sha256(got) == sha256(data)
    assert list_files(user.client, folder_id=box["id"])[0][0]["hash"] == sha256(data)


def test_roundtrip_text_and_binary_patterns(user, box):
    """Bytes that look like multipart framing inside the content."""
    data = (b"--\r\n--\r\n\r\n" + b"\r\n--" + b"x" * 40 + b"\r\n\r\n--\r\n" +
            bytes(range(256)) * 300 + b"\r\n")
    f = upload_file(user.client, "tricky.bin", data, folder_id=box["id"])
    assert_file(f, size=len(data), hash=sha256(data))
    assert download(user.client, f["id"]) == data


def test_content_resembling_the_boundary(user, box, server):
    """Content holding a prefix of the delimiter, or the boundary without its
    CRLF, is data; sent byte by byte around those places."""
    boundary = "NetraB0undary" + uuid.uuid4().hex
    data = (b"A" * (CHUNK - 5) + b"\r\n--" + boundary[:-1].encode() + b"Z" +
            b"--" + boundary.encode() + b"\r\n" + b"\r\n-" + b"B" * 1000 + b"\r\n--" +
            boundary.encode()[:5] + b"\r")
    body, ctype = multipart_body([("file", "b.bin", data)], boundary=boundary)
    head = upload_head(user.access_token, content_length=len(body), boundary=boundary,
                       folder_id=box["id"])
    pieces = [body[:CHUNK]] + [body[i:i + 1] for i in range(CHUNK, len(body))]
    r = raw_exchange(server.port, head, pieces, timeout=30)
    assert r is not None and r.status == 201, r
    f = assert_file(r.json(), size=len(data), hash=sha256(data))
    assert download(user.client, f["id"]) == data


def test_extra_fields_ignored(user, box):
    data = rbytes(5000, seed=7)
    r = upload_raw(user.client, [("note", None, "before"), ("file", "x.bin", data),
                                 ("after", None, "x" * 3000)], folder_id=box["id"])
    assert r.status_code == 201, r.text
    assert_file(r.json(), name="x.bin", size=len(data), hash=sha256(data))


def test_mime_type_detected_from_content(user, box):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
           b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
           b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    assert upload_file(user.client, "picture.dat", png, box["id"])["mime_type"] == "image/png"
    pdf = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
           b"trailer\n<<>>\n%%EOF\n")
    assert upload_file(user.client, "doc", pdf, box["id"])["mime_type"] == "application/pdf"
    assert upload_file(user.client, "n.txt", b"plain words\n", box["id"])["mime_type"] == \
        "text/plain"


def test_mime_type_of_text_named_as_text(user, box):
    """Text under a text extension takes the extension's type, unless libmagic's
    rules name the content otherwise (the shortcut that skips them for plain
    text must keep those answers)."""
    cases = [
        ("notes.md", b"# Notes\n\nplain words, a list:\n\n- one\n- two\n", "text/markdown"),
        ("table.csv", b"a,b\n1,2\n3,4\n", "text/csv"),
        ("main.c", b"#include <stdio.h>\nint main(void) { return 0; }\n", "text/x-c"),
        ("prose.txt", b"Plain words on a line.\n" * 400, "text/plain"),
        ("page.html", b"<p>hello</p>\n", "text/html"),
        ("pic.txt", b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n',
         "image/svg+xml"),
        ("data.txt", b'{"a": 1, "b": [true, null]}\n', "application/json"),
        ("code.txt", b"var x = 1;\n(function () { return x; })();\n", "application/javascript"),
        ("print.txt", b"%!PS-Adobe-3.0\nshowpage\n", "application/postscript"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
                      b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89", "image/png"),
    ]
    for name, data, want in cases:
        assert upload_file(user.client, name, data, box["id"])["mime_type"] == want, name


def test_same_name_twice_in_one_folder(user, box):
    a = upload_file(user.client, "dup.txt", b"first", box["id"])
    b = upload_file(user.client, "dup.txt", b"second", box["id"])
    assert a["id"] != b["id"] and a["name"] == b["name"] == "dup.txt"
    listed, total = list_files(user.client, folder_id=box["id"])
    assert sorted(x["id"] for x in listed) == sorted([a["id"], b["id"]]) and total == 2


def test_ids_unique_and_url_safe(user, box):
    ids = [upload_file(user.client, f"n{i}", b"%d" % i, box["id"])["id"] for i in range(10)]
    assert len(set(ids)) == 10
    for i in ids:
        assert all(ch.isalnum() or ch in "-_." for ch in i), i


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("raw,expect", [
    ("  spaced.txt  ", "spaced.txt"),
    ("\u65e5\u672c\u8a9e \u2603 \u00e9t\u00e9.txt", "\u65e5\u672c\u8a9e \u2603 \u00e9t\u00e9.txt"),
    ("x" * 251 + ".txt", "x" * 251 + ".txt"),
    ("\u00e9" * 127 + "x", "\u00e9" * 127 + "x"),
    ("...", "..."),
    (".hidden", ".hidden"),
    ("100% done (v2) [final] {x} #1 & it's.txt", "100% done (v2) [final] {x} #1 & it's.txt"),
    ("<b>&amp;<i>.html", "<b>&amp;<i>.html"),
])
def test_upload_names_valid(user, box, raw, expect):
    f = upload_file(user.client, raw, b"n", box["id"])
    assert f["name"] == expect
    assert names(list_files(user.client, folder_id=box["id"])[0]) == [expect]


BAD_UPLOAD_NAMES = [
    ("..", NAME_DOTS), (".", NAME_DOTS), ("  ..  ", NAME_DOTS), ("a/b.txt", NAME_SLASH),
    ("/etc/passwd", NAME_SLASH), ("../../escape", NAME_SLASH), ("dir/", NAME_SLASH),
    ("   ", NAME_EMPTY),
    # a NUL in a part header is a malformed body, not a bad name (DECISIONS: Files)
    ("nul\u0000x", "Malformed multipart body: NUL byte in part headers"),
    ("tab\tx", NAME_CONTROL), ("esc\u001bx", NAME_CONTROL), ("bell\u0007", NAME_CONTROL),
    ("x" * 256, NAME_LONG), ("\u00e9" * 128, NAME_LONG)]


@pytest.mark.parametrize("bad,detail", BAD_UPLOAD_NAMES, ids=[b for b, _ in BAD_UPLOAD_NAMES])
def test_upload_names_invalid_400(fresh, server, bad, detail):
    baseline = _snap(server)
    r = upload_raw(fresh.client, [("file", bad, b"payload")])
    assert_error(r, 400, detail)
    _nothing_created(fresh, server, None, baseline, usage=dict.fromkeys(
        ("total_usage_bytes", "file_count", "bin_bytes", "stored_bytes"), 0))


def test_upload_name_backslash_as_a_browser_sends_it(fresh):
    # upload_raw quotes the name as browsers do (helpers._mp_quote): only '"', CR, LF
    # are escaped, as %22 %0D %0A; a backslash goes out as it is.
    name = "back\\slash.txt"
    r = upload_raw(fresh.client, [("file", name, b"x")])
    assert b'filename="back\\slash.txt"' in r.request.body
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


def test_upload_name_invalid_utf8_400(fresh, server):
    body = (b"--bb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bad\xff\xfe.bin\""
            b"\r\n\r\ndata\r\n--bb--\r\n")
    r = fresh.client.post(f"{API}/files/upload", timeout=T, data=body,
                          headers={"Content-Type": "multipart/form-data; boundary=bb"})
    assert_error(r, 400, "Name must be valid UTF-8")
    assert list_files(fresh.client) == ([], 0)


def test_upload_empty_filename(fresh, server):
    # an empty filename is what a browser sends for "no file chosen"
    r = upload_raw(fresh.client, [("file", "", b"")])
    assert_error(r, 400, "Name must not be empty")
    assert list_files(fresh.client) == ([], 0)


def test_upload_filename_first_with_quoted_lookalikes(fresh, server):
    # RFC 7578 allows the parameters in any order; text inside a quoted value is
    # not a parameter: this is field "file" with the file name "a; name=x.txt".
    body = (b'--bq\r\nContent-Disposition: form-data; filename="a; name=x.txt"; name="file"'
            b'\r\nContent-Type: text/plain\r\n\r\nhello\r\n--bq--\r\n')
    r = fresh.client.post(f"{API}/files/upload", data=body,
                          headers={"Content-Type": "multipart/form-data; boundary=bq"})
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["name"] == "a; name=x.txt" and f["size"] == 5
    assert download(fresh.client, f["id"]) == b"hello"


# ---------------------------------------------------------------- malformed requests

def _mp(parts, boundary="bnd42"):
    return multipart_body(parts, boundary)


NOT_MULTIPART = "Content-Type must be multipart/form-data"
NO_BOUNDARY = "multipart/form-data needs a valid boundary"
ENDED_EARLY = "Malformed multipart body: it ended early"


@pytest.mark.parametrize("case,status,detail", [
    ("json", 415, NOT_MULTIPART), ("text", 415, NOT_MULTIPART), ("form", 415, NOT_MULTIPART),
    ("no_content_type", 415, NOT_MULTIPART),
    ("no_boundary", 422, NO_BOUNDARY), ("empty_boundary", 422, NO_BOUNDARY),
    ("no_file_field", 422, "Field 'file' is required"),
    ("file_without_filename", 422, "Field 'file' must be a file"),
    ("only_other_file_field", 422, "Field 'file' is required"),
    ("two_file_fields", 400, "Only one file per upload"),
    # the body ends before the closing delimiter (garbage: before any delimiter at all)
    ("garbage", 400, ENDED_EARLY), ("no_closing_delimiter", 400, ENDED_EARLY),
    ("cut_in_headers", 400, ENDED_EARLY),
])
def test_upload_bad_requests(fresh, server, case, status, detail):
    c = fresh.client
    baseline = _snap(server)
    data = rbytes(3 * CHUNK + 7, seed=11)
    body, ctype = _mp([("file", "f.bin", data)])
    if case == "json":
        body, ctype = json.dumps({"file": "x"}).encode(), "application/json"
    elif case == "text":
        ctype = "text/plain"
    elif case == "form":
        body, ctype = b"file=abc", "application/x-www-form-urlencoded"
    elif case == "no_content_type":
        ctype = None
    elif case == "no_boundary":
        ctype = "multipart/form-data"
    elif case == "empty_boundary":
        ctype = "multipart/form-data; boundary="
    elif case == "no_file_field":
        body, ctype = _mp([("other", None, "value"), ("files", None, "x")])
    elif case == "file_without_filename":
        body, ctype = _mp([("file", None, data)])
    elif case == "only_other_file_field":
        body, ctype = _mp([("upload", "f.bin", data)])
    elif case == "two_file_fields":
        body, ctype = _mp([("file", "a.bin", data), ("file", "b.bin", b"second")])
    elif case == "garbage":
        body = b"this is not a multipart body at all\r\n" * 100
    elif case == "no_closing_delimiter":
        body = body[:body.rindex(b"\r\n--bnd42--")]
    elif case == "cut_in_headers":
        body = b"--bnd42\r\nContent-Disposition: form-data; name=\"file\"; filena"
    headers = {"Content-Type": ctype} if ctype else {}
    if ctype is None:
        # requests adds no Content-Type for raw bytes
        r = c.post(f"{API}/files/upload", timeout=T, data=body)
        assert "Content-Type" not in r.request.headers
    else:
        r = c.post(f"{API}/files/upload", timeout=T, data=body, headers=headers)
    assert_error(r, status, detail)
    _nothing_created(fresh, server, None, baseline, usage=dict.fromkeys(
        ("total_usage_bytes", "file_count", "bin_bytes", "stored_bytes"), 0))


def test_upload_unauthenticated(client, server):
    body, ctype = _mp([("file", "f.bin", b"x")])
    r = client.post(f"{API}/files/upload", timeout=T, data=body, headers={"Content-Type": ctype})
    assert_error(r, 401, "Not authenticated")
    r = client.post(f"{API}/files/upload", timeout=T, data=body,
                    headers={"Content-Type": ctype, "Authorization": "Bearer nope"})
    assert_error(r, 401, "Could not validate credentials")


# ---------------------------------------------------------------- folder checks

@pytest.fixture(scope="module")
def foreign_folder(other_user):
    return create_folder(other_user.client, "bobs-folder")


def _folder_case(user, case, foreign_folder):
    if case == "missing":
        return "doesnotexist"
    if case == "uuid":
        return uuid.uuid4().hex
    if case == "malformed":
        return "../../etc"
    if case == "sql":
        return "' OR 1=1 --"
    if case == "foreign":
        return foreign_folder["id"]
    if case == "binned":
        f = create_folder(user.client, "binned-" + uuid.uuid4().hex[:8])
        bin_folder(user.client, f["id"])
        return f["id"]
    if case == "binned_child":
        f = create_folder(user.client, "binnedp-" + uuid.uuid4().hex[:8])
        kid = create_folder(user.client, "kid", f["id"])
        bin_folder(user.client, f["id"])
        return kid["id"]
    if case == "deleted":
        f = create_folder(user.client, "deleted-" + uuid.uuid4().hex[:8])
        assert user.client.delete(f"{API}/folders/{f['id']}").status_code == 200
        return f["id"]
    raise AssertionError(case)


FOLDER_CASES = ["missing", "uuid", "malformed", "sql", "foreign", "binned", "binned_child",
                "deleted"]


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_upload_bad_folder_404(user, other_user, server, foreign_folder, case):
    fid = _folder_case(user, case, foreign_folder)
    baseline = _snap(server)
    before = storage_usage(user.client)
    r = upload_raw(user.client, [("file", "f.bin", rbytes(2 * CHUNK))], folder_id=fid)
    assert_error(r, 404, "Folder not found")
    assert storage_usage(user.client) == before
    _settled(server, baseline)
    # nothing appeared in bob's folder either
    if case == "foreign":
        assert list_files(other_user.client, folder_id=fid) == ([], 0)


@pytest.mark.parametrize("case", ["missing", "foreign", "binned"])
def test_upload_bad_folder_404_before_body(user, server, foreign_folder, case):
    """The 404 comes back without the server waiting for the (huge) body."""
    fid = _folder_case(user, case, foreign_folder)
    head = upload_head(user.access_token, content_length=50 * 1024 * 1024, folder_id=fid)
    t0 = time.monotonic()
    r = raw_exchange(server.port, head, timeout=5)
    assert r is not None, "no response before the body was sent"
    assert r.status == 404 and r.json() == {"detail": "Folder not found"}, r
    assert time.monotonic() - t0 < 5 * TIME_FACTOR


# ---------------------------------------------------------------- size cap

@pytest.fixture(scope="module")
def capped(module_server_factory):
    return module_server_factory(env={"CHUNK_SIZE": str(CHUNK), "MAX_UPLOAD_SIZE": str(CAP)})


@pytest.fixture(scope="module")
def capped_user(capped):
    return make_user(capped, prefix="cap")


def test_cap_exact_size_ok(capped_user):
    data = rbytes(CAP, seed=3)
    f = upload_file(capped_user.client, "exact.bin", data)
    assert_file(f, size=CAP, hash=sha256(data))
    assert download(capped_user.client, f["id"]) == data
    assert capped_user.client.delete(f"{API}/files/{f['id']}").status_code == 200


@pytest.mark.parametrize("size", [CAP + 1, CAP + 5 * CHUNK])
def test_cap_over_413(capped, capped_user, size):
    """Content-Length is within the framing allowance: found while streaming."""
    c = capped_user.client
    baseline = _snap(capped)
    before = storage_usage(c)
    r = upload_raw(c, [("file", "big.bin", rbytes(size))])
    assert_error(r, 413, "File exceeds the maximum upload size")
    assert list_files(c) == ([], 0) and storage_usage(c) == before
    _settled(capped, baseline)


def test_cap_content_length_413_before_body(capped, capped_user):
    head = upload_head(capped_user.access_token, content_length=10 * 1024 ** 3)
    r = raw_exchange(capped.port, head, timeout=5)
    assert r is not None and r.status == 413, r
    assert r.json() == {"detail": "File exceeds the maximum upload size"}


def test_cap_chunked_413(capped, capped_user):
    """No Content-Length (chunked transfer coding): the cap applies while streaming."""
    baseline = _snap(capped)
    body, _ = multipart_body([("file", "chunked.bin", rbytes(CAP + 3 * CHUNK))], "rawb0undary")
    parts = []
    for i in range(0, len(body), 16384):
        piece = body[i:i + 16384]
        parts.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    parts.append(b"0\r\n\r\n")
    r = raw_exchange(capped.port, upload_head(capped_user.access_token, chunked=True), parts,
                     timeout=10)
    assert r is not None and r.status == 413, r
    assert r.json() == {"detail": "File exceeds the maximum upload size"}
    assert list_files(capped_user.client) == ([], 0)
    _settled(capped, baseline)


def test_chunked_upload_under_cap_ok(capped, capped_user):
    data = rbytes(CAP - 10, seed=99)
    body, _ = multipart_body([("file", "chunked-ok.bin", data)], "rawb0undary")
    parts = [b"%x\r\n" % len(body[i:i + 7000]) + body[i:i + 7000] + b"\r\n"
             for i in range(0, len(body), 7000)] + [b"0\r\n\r\n"]
    r = raw_exchange(capped.port, upload_head(capped_user.access_token, chunked=True), parts,
                     timeout=10)
    assert r is not None and r.status == 201, r
    f = assert_file(r.json(), size=len(data), hash=sha256(data))
    assert download(capped_user.client, f["id"]) == data
    assert capped_user.client.delete(f"{API}/files/{f['id']}").status_code == 200


# ---------------------------------------------------------------- aborted uploads

def _abort_setup(user_factory, server):
    u = user_factory("ab")
    box = create_folder(u.client, "abortbox")
    return u, box, _snap(server)


def _after_abort(u, server, box, baseline):
    zero = dict.fromkeys(("total_usage_bytes", "file_count", "bin_bytes", "stored_bytes"), 0)
    _settled(server, baseline)
    assert list_files(u.client, folder_id=box["id"]) == ([], 0)
    assert list_files(u.client, include_deleted="true") == ([], 0)
    assert storage_usage(u.client) == zero
    listed, _ = list_folders(u.client)
    assert [(f["name"], f["size"]) for f in listed] == [("abortbox", 0)]
    # the server is fine afterwards
    ok = upload_file(u.client, "after.bin", b"still works", box["id"])
    assert download(u.client, ok["id"]) == b"still works"
    assert u.client.delete(f"{API}/files/{ok['id']}").status_code == 200


def _declared_body(size):
    body, _ = multipart_body([("file", "aborted.bin", rbytes(size, seed=5))], "rawb0undary")
    return body


def test_abort_client_closes_mid_body(user_factory, server):
    u, box, baseline = _abort_setup(user_factory, server)
    body = _declared_body(20 * CHUNK)
    head = upload_head(u.access_token, content_length=len(body), folder_id=box["id"])
    # several whole chunks reach the store before the connection goes away
    raw_exchange(server.port, head, [body[:5 * CHUNK + 100]], close_early=True)
    time.sleep(0.3)
    _after_abort(u, server, box, baseline)


def test_abort_body_shorter_than_content_length(user_factory, server):
    u, box, baseline = _abort_setup(user_factory, server)
    body = _declared_body(4 * CHUNK)
    head = upload_head(u.access_token, content_length=len(body), folder_id=box["id"])
    r = raw_exchange(server.port, head, [body[:3 * CHUNK]], shutdown=True, timeout=5)
    # end of input in the middle of the body: the request ends as aborted by
    # the client and the server closes without an answer (never a 201)
    assert r is None, r
    _after_abort(u, server, box, baseline)


def test_abort_malformed_after_data(user_factory, server):
    u, box, baseline = _abort_setup(user_factory, server)
    good = _declared_body(3 * CHUNK)
    body = good[:good.rindex(b"\r\n--rawb0undary--")] + \
        b"\r\n--rawb0undary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc"
    head = upload_head(u.access_token, content_length=len(body), folder_id=box["id"])
    r = raw_exchange(server.port, head, [body], timeout=10)
    assert r is not None and r.status == 400, r
    assert r.json() == {"detail": "Malformed multipart body: it ended early"}
    _after_abort(u, server, box, baseline)


def test_abort_second_file_field_after_data(user_factory, server):
    u, box, baseline = _abort_setup(user_factory, server)
    body, ctype = multipart_body([("file", "one.bin", rbytes(3 * CHUNK, seed=8)),
                                  ("file", "two.bin", rbytes(CHUNK, seed=9))])
    r = u.client.post(f"{API}/files/upload", timeout=T, params={"folder_id": box["id"]}, data=body,
                      headers={"Content-Type": ctype})
    assert_error(r, 400, "Only one file per upload")
    _after_abort(u, server, box, baseline)


def test_abort_many_in_parallel(user_factory, server):
    import threading
    u, box, baseline = _abort_setup(user_factory, server)
    body = _declared_body(8 * CHUNK)
    head = upload_head(u.access_token, content_length=len(body), folder_id=box["id"])
    threads = [threading.Thread(target=raw_exchange,
                                args=(server.port, head, [body[:(i + 1) * CHUNK // 2]]),
                                kwargs={"close_early": True}) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.3)
    _after_abort(u, server, box, baseline)


# ---------------------------------------------------------------- ~300 MB

def test_roundtrip_300mb_streaming(server_factory):
    srv = server_factory(env={"CHUNK_SIZE": "1M"})
    u = make_user(srv, prefix="big")
    size = 300 * 1024 * 1024 + 12345
    h = hashlib.sha256()

    def blocks():
        for b in prng_blocks(1234, size):
            h.update(b)
            yield b

    status, body = upload_stream(srv, u.access_token, "big.bin", size, blocks())
    assert status == 201, body
    f = assert_file(body, name="big.bin", size=size, hash=h.hexdigest())
    # stored as 1 MiB chunks, nothing left in the spool; a remote store cuts a
    # file of announced size into whole rounds of its 4 parallel sends (301 -> 304)
    want = (size + (1 << 20) - 1) // (1 << 20)
    assert len(stored_chunks(srv)) == ((want + 3) // 4 * 4 if TELEGRAM else want)
    assert wait_until(lambda: not spool_files(srv), timeout=5), spool_files(srv)
    # never buffered whole in memory
    with open(f"/proc/{srv.proc.pid}/status") as st:
        hwm = [line for line in st if line.startswith("VmHWM:")][0]
    assert int(hwm.split()[1]) < 200 * 1024, hwm
    r = u.client.get(f"{API}/files/{f['id']}/download", stream=True, timeout=120)
    assert r.status_code == 200, r.text[:300]
    d = hashlib.sha256()
    n = 0
    for piece in r.iter_content(1 << 20):
        d.update(piece)
        n += len(piece)
    assert n == size and d.hexdigest() == h.hexdigest()
    assert storage_usage(u.client)["stored_bytes"] == size


# ---------------------------------------------------------------- listing

def _mkfiles(c, folder_id, spec, pause=0.0):
    out = []
    for name, data in spec:
        out.append(upload_file(c, name, data, folder_id))
        if pause:
            time.sleep(pause)
    return out


def test_list_sort_name_default(user, box):
    _mkfiles(user.client, box["id"], [("b.txt", b"1"), ("A.txt", b"22"), ("c.TXT", b"333"),
                                      ("a2.txt", b"4")])
    listed, total = list_files(user.client, folder_id=box["id"])
    assert names(listed) == ["A.txt", "a2.txt", "b.txt", "c.TXT"] and total == 4
    for f in listed:
        assert_file(f, folder_id=box["id"], deleted=False)
    listed, _ = list_files(user.client, folder_id=box["id"], sort="name", order="desc")
    assert names(listed) == ["c.TXT", "b.txt", "a2.txt", "A.txt"]


def test_list_sort_size(user, box):
    _mkfiles(user.client, box["id"], [("m", b"x" * 50), ("s", b"x"), ("l", b"x" * 900)])
    listed, _ = list_files(user.client, folder_id=box["id"], sort="size")
    assert names(listed) == ["s", "m", "l"]
    listed, _ = list_files(user.client, folder_id=box["id"], sort="size", order="desc")
    assert names(listed) == ["l", "m", "s"]


def test_list_sort_dates(user, box):
    c = user.client
    first, second, third = _mkfiles(c, box["id"], [("zz", b"1"), ("yy", b"2"), ("xx", b"3")],
                                    pause=0.01)
    listed, _ = list_files(c, folder_id=box["id"], sort="created_at")
    assert names(listed) == ["zz", "yy", "xx"]
    listed, _ = list_files(c, folder_id=box["id"], sort="created_at", order="desc")
    assert names(listed) == ["xx", "yy", "zz"]
    time.sleep(0.01)
    assert _put(c, "files", first["id"], "rename", {"new_name": "zz2"}).status_code == 200
    listed, _ = list_files(c, folder_id=box["id"], sort="updated_at")
    assert names(listed) == ["yy", "xx", "zz2"]


def test_list_limit_offset_total(user, box):
    _mkfiles(user.client, box["id"], [(f"item{i}", b"%d" % i) for i in range(7)])
    all_names = [f"item{i}" for i in range(7)]
    listed, total = list_files(user.client, folder_id=box["id"], limit=3, offset=2)
    assert names(listed) == all_names[2:5] and total == 7
    listed, total = list_files(user.client, folder_id=box["id"], offset=100)
    assert listed == [] and total == 7
    listed, total = list_files(user.client, folder_id=box["id"], limit=2, order="desc")
    assert names(listed) == ["item6", "item5"] and total == 7
    # Around the page's end, where the total comes from the page itself or
    # from a count: exactly full, one short, one past, the last row, past it.
    for limit, offset, want in ((7, 0, 7), (6, 0, 6), (8, 0, 7), (3, 4, 3), (3, 5, 2),
                                (1, 6, 1), (1, 7, 0), (7, 7, 0)):
        listed, total = list_files(user.client, folder_id=box["id"], limit=limit, offset=offset)
        assert names(listed) == all_names[offset:offset + limit][:want], (limit, offset)
        assert total == 7, (limit, offset, total)


@pytest.mark.parametrize("params", [{"limit": "10001"}, {"limit": "-1"}, {"limit": "abc"},
                                    {"offset": "-1"}, {"offset": "x"}, {"sort": "bogus"},
                                    {"sort": "name;drop"}, {"order": "sideways"}])
def test_list_bad_params_400(user, params):
    (key,) = params
    assert_error(user.client.get(f"{API}/files", params=params), 400, LISTING_PARAM[key])


def test_list_unknown_or_foreign_folder_404(user, foreign_folder):
    for fid in ("doesnotexist", uuid.uuid4().hex, foreign_folder["id"]):
        assert_error(user.client.get(f"{API}/files", params={"folder_id": fid}), 404,
                     "Folder not found")


def test_list_root_forms(fresh):
    c = fresh.client
    f = upload_file(c, "rootfile", b"r")
    sub = create_folder(c, "sub")
    upload_file(c, "subfile", b"s", sub["id"])
    for params in ({}, {"folder_id": "root"}, {"folder_id": ""}):
        listed, total = list_files(c, **params)
        assert [x["id"] for x in listed] == [f["id"]] and total == 1, params
    # trailing slash is the same route
    r = c.get(f"{API}/files/", params={"folder_id": "root"})
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [f["id"]]


def test_list_bin(fresh):
    c = fresh.client
    keep = create_folder(c, "keep")
    doomed = create_folder(c, "doomed")
    inner = create_folder(c, "inner", doomed["id"])
    loose = upload_file(c, "loose.bin", b"l1", keep["id"])
    stay = upload_file(c, "stay.bin", b"s1", keep["id"])
    in_doomed = upload_file(c, "in-doomed.bin", b"d1", doomed["id"])
    in_inner = upload_file(c, "in-inner.bin", b"i1", inner["id"])
    rootf = upload_file(c, "rootf.bin", b"r1")
    _ok(c.put(f"{API}/files/{loose['id']}/bin"))
    _ok(c.put(f"{API}/files/{rootf['id']}/bin"))
    bin_folder(c, doomed["id"])
    # bin root: the directly binned files only
    for params in ({"include_deleted": "true"}, {"include_deleted": "true", "folder_id": "root"},
                   {"include_deleted": "true", "folder_id": ""}):
        listed, total = list_files(c, **params)
        assert sorted(names(listed)) == ["loose.bin", "rootf.bin"] and total == 2, params
        for f in listed:
            assert_file(f, deleted=True)
    # browsing a binned folder shows its carried files
    listed, total = list_files(c, include_deleted="true", folder_id=doomed["id"])
    assert [x["id"] for x in listed] == [in_doomed["id"]] and total == 1
    assert_file(listed[0], deleted=True, folder_id=doomed["id"])
    listed, _ = list_files(c, include_deleted="true", folder_id=inner["id"])
    assert [x["id"] for x in listed] == [in_inner["id"]]
    # normal listings no longer show binned files
    assert [x["id"] for x in list_files(c, folder_id=keep["id"])[0]] == [stay["id"]]
    assert list_files(c) == ([], 0)
    # (as for folders: a binned folder has no live children)
    assert list_files(c, folder_id=doomed["id"]) == ([], 0)


def test_list_starred(fresh):
    c = fresh.client
    a = create_folder(c, "a")
    b = create_folder(c, "b", a["id"])
    gone = create_folder(c, "gone")
    f1 = upload_file(c, "f1", b"1")
    f2 = upload_file(c, "f2", b"2", a["id"])
    f3 = upload_file(c, "f3", b"3", b["id"])
    f4 = upload_file(c, "f4", b"4", b["id"])
    f5 = upload_file(c, "f5", b"5", gone["id"])
    f6 = upload_file(c, "f6", b"6", a["id"])
    for f in (f1, f2, f3, f5, f6):
        assert _put(c, "files", f["id"], "star").status_code == 200
    bin_folder(c, gone["id"])
    _ok(c.put(f"{API}/files/{f6['id']}/bin"))
    for params in ({"is_starred": "true"}, {"is_starred": "true", "folder_id": "root"},
                   {"is_starred": "true", "folder_id": ""}):
        listed, total = list_files(c, **params)
        assert names(listed) == ["f1", "f2", "f3"] and total == 3, params
        for f in listed:
            assert_file(f, starred=True, deleted=False)
    listed, total = list_files(c, is_starred="true", folder_id=b["id"])
    assert names(listed) == ["f3"] and total == 1
    listed, _ = list_files(c, is_starred="true", folder_id=a["id"])
    assert names(listed) == ["f2"]
    assert f4["is_starred"] is False


def test_list_unauthenticated(client):
    assert_error(client.get(f"{API}/files"), 401, "Not authenticated")


# ---------------------------------------------------------------- bin / restore / delete

def test_bin_and_restore(user, box):
    c = user.client
    data = rbytes(CHUNK + 3, seed=21)
    f = upload_file(c, "cycle.bin", data, box["id"])
    _ok(c.put(f"{API}/files/{f['id']}/bin"))
    assert list_files(c, folder_id=box["id"]) == ([], 0)
    binned = [x for x in list_files(c, include_deleted="true", limit=10000)[0]
              if x["id"] == f["id"]]
    assert len(binned) == 1
    assert_file(binned[0], deleted=True, folder_id=box["id"], size=len(data), hash=f["hash"])
    _ok(c.put(f"{API}/files/{f['id']}/restore"))
    listed, _ = list_files(c, folder_id=box["id"])
    assert [x["id"] for x in listed] == [f["id"]]
    assert_file(listed[0], deleted=False, folder_id=box["id"], name="cycle.bin")
    assert listed[0]["deleted_at"] is None
    assert download(c, f["id"]) == data


def test_restore_into_binned_folder_goes_to_root(fresh):
    c = fresh.client
    a = create_folder(c, "A")
    f = upload_file(c, "orphan.bin", b"orphan", a["id"])
    _ok(c.put(f"{API}/files/{f['id']}/bin"))
    bin_folder(c, a["id"])
    _ok(c.put(f"{API}/files/{f['id']}/restore"))
    listed, _ = list_files(c)
    assert [x["id"] for x in listed] == [f["id"]]
    assert_file(listed[0], folder_id=None, deleted=False)
    assert download(c, f["id"]) == b"orphan"
    # A is still in the bin, and restoring it does not take the file back
    restore_folder(c, a["id"])
    assert list_files(c, folder_id=a["id"]) == ([], 0)


def test_restore_with_folder(fresh):
    """Files binned with their folder come back with it; a file binned on its own
    before stays in the bin."""
    c = fresh.client
    a = create_folder(c, "A")
    b = create_folder(c, "B", a["id"])
    f1 = upload_file(c, "f1", b"1", a["id"])
    f2 = upload_file(c, "f2", b"2", b["id"])
    f3 = upload_file(c, "f3", b"3", b["id"])
    _ok(c.put(f"{API}/files/{f3['id']}/bin"))
    time.sleep(0.01)
    bin_folder(c, a["id"])
    restore_folder(c, a["id"])
    assert names(list_files(c, folder_id=a["id"])[0]) == ["f1"]
    assert names(list_files(c, folder_id=b["id"])[0]) == ["f2"]
    assert names(list_files(c, include_deleted="true")[0]) == ["f3"]
    assert f1 and f2


def test_delete_permanently(fresh, server):
    c = fresh.client
    baseline = _snap(server)
    data = rbytes(3 * CHUNK + 1, seed=31)
    f = upload_file(c, "doomed.bin", data)
    assert len(set(stored_chunks(server)) - baseline[0]) >= 1
    _ok(c.delete(f"{API}/files/{f['id']}"))
    assert list_files(c) == ([], 0)
    assert list_files(c, include_deleted="true") == ([], 0)
    download(c, f["id"], expect=404)
    for r in (c.put(f"{API}/files/{f['id']}/bin"), c.put(f"{API}/files/{f['id']}/restore"),
              c.delete(f"{API}/files/{f['id']}"),
              _put(c, "files", f["id"], "rename", {"new_name": "x"}),
              _put(c, "files", f["id"], "star")):
        assert_error(r, 404, "File not found")
    _settled(server, baseline)


def test_delete_from_bin(fresh):
    c = fresh.client
    f = upload_file(c, "binned-then-deleted", b"bd")
    _ok(c.put(f"{API}/files/{f['id']}/bin"))
    _ok(c.delete(f"{API}/files/{f['id']}"))
    assert list_files(c, include_deleted="true") == ([], 0)
    assert_error(c.put(f"{API}/files/{f['id']}/restore"), 404, "File not found")


@pytest.mark.parametrize("fid", ["doesnotexist", "0", "...", "a" * 300])
def test_unknown_ids_404(user, fid):
    c = user.client
    assert_error(c.put(f"{API}/files/{fid}/bin"), 404, "File not found")
    assert_error(c.put(f"{API}/files/{fid}/restore"), 404, "File not found")
    assert_error(c.delete(f"{API}/files/{fid}"), 404, "File not found")
    assert_error(c.get(f"{API}/files/{fid}/download"), 404, "File not found")
    for t in TYPES:
        assert_error(_put(c, t, fid, "rename", {"new_name": "x"}), 404, "File not found")
        assert_error(_put(c, t, fid, "move", {"new_parent_id": None}), 404, "File not found")
        assert_error(_put(c, t, fid, "star"), 404, "File not found")
        assert_error(_put(c, t, fid, "unstar"), 404, "File not found")


def test_empty_bin(fresh, server):
    c = fresh.client
    baseline = _snap(server)
    live = upload_file(c, "live.bin", rbytes(2 * CHUNK, seed=41))
    d = create_folder(c, "d")
    inside = upload_file(c, "inside.bin", rbytes(CHUNK + 5, seed=42), d["id"])
    loose = upload_file(c, "loose.bin", rbytes(100, seed=43))
    _ok(c.put(f"{API}/files/{loose['id']}/bin"))
    bin_folder(c, d["id"])
    r = c.delete(f"{API}/bin")
    assert r.status_code == 200, r.text
    assert list_files(c, include_deleted="true") == ([], 0)
    assert list_folders(c, include_deleted="true") == ([], 0)
    for f in (inside, loose):
        download(c, f["id"], expect=404)
        assert_error(c.put(f"{API}/files/{f['id']}/restore"), 404, "File not found")
    assert_error(c.put(f"{API}/folders/{d['id']}/restore"), 404, "Folder not found")
    assert [x["id"] for x in list_files(c)[0]] == [live["id"]]
    assert storage_usage(c) == {"total_usage_bytes": 2 * CHUNK, "file_count": 1,
                                "bin_bytes": 0, "stored_bytes": 2 * CHUNK}
    assert download(c, live["id"]) == rbytes(2 * CHUNK, seed=41)
    # the bytes of the emptied files go away; the live file's stay
    _ok(c.delete(f"{API}/files/{live['id']}"))
    _settled(server, baseline)
    # an empty bin empties fine again
    assert c.delete(f"{API}/bin").status_code == 200


# ---------------------------------------------------------------- item actions

@pytest.mark.parametrize("t", TYPES)
def test_rename(user, box, t):
    c = user.client
    f = upload_file(c, "old.txt", b"rename me", box["id"])
    time.sleep(0.005)
    r = _put(c, t, f["id"], "rename", {"new_name": "  new name.txt  "})
    assert r.status_code == 200, r.text
    g = assert_file(r.json(), name="new name.txt", folder_id=box["id"], owner_id=user.id,
                    size=f["size"], hash=f["hash"])
    assert g["id"] == f["id"] and g["created_at"] == f["created_at"]
    assert g["updated_at"] > f["updated_at"]
    assert names(list_files(c, folder_id=box["id"])[0]) == ["new name.txt"]
    assert download(c, f["id"]) == b"rename me"


def test_rename_to_sibling_name_allowed(user, box):
    c = user.client
    upload_file(c, "taken.txt", b"1", box["id"])
    f = upload_file(c, "other.txt", b"2", box["id"])
    r = _put(c, "files", f["id"], "rename", {"new_name": "taken.txt"})
    assert r.status_code == 200 and r.json()["name"] == "taken.txt", r.text
    assert names(list_files(c, folder_id=box["id"])[0]) == ["taken.txt", "taken.txt"]


BAD_NEW_NAMES = [("", NAME_EMPTY), ("   ", NAME_EMPTY), ("a/b", NAME_SLASH), (".", NAME_DOTS),
                 ("..", NAME_DOTS), ("x" * 256, NAME_LONG), ("nul\u0000", NAME_CONTROL),
                 ("cr\r", NAME_CONTROL)]


@pytest.mark.parametrize("bad,detail", BAD_NEW_NAMES, ids=[b for b, _ in BAD_NEW_NAMES])
def test_rename_invalid_400(user, box, bad, detail):
    f = upload_file(user.client, "keepname", b"k", box["id"])
    assert_error(_put(user.client, "files", f["id"], "rename", {"new_name": bad}), 400, detail)
    assert names(list_files(user.client, folder_id=box["id"])[0]) == ["keepname"]


RENAME_422 = [({}, "Field 'new_name' is required"), ({"name": "x"}, "Field 'new_name' is required"),
              ({"new_name": None}, "Field 'new_name' is required"),
              ({"new_name": 1}, "Field 'new_name' must be a string"),
              ({"new_name": ["x"]}, "Field 'new_name' must be a string")]


@pytest.mark.parametrize("body,detail", RENAME_422)
def test_rename_body_422(user, box, body, detail):
    f = upload_file(user.client, "r422", b"k", box["id"])
    assert_error(_put(user.client, "files", f["id"], "rename", body), 422, detail)


def test_rename_body_not_json_415(user, box):
    f = upload_file(user.client, "r415", b"k", box["id"])
    r = user.client.put(f"{API}/files/{f['id']}/rename", data="new_name=x",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "Content-Type must be application/json")


@pytest.mark.parametrize("t", TYPES)
def test_move(user, box, t):
    c = user.client
    dst = create_folder(c, "dst", box["id"])
    f = upload_file(c, "mover.bin", b"move me", box["id"])
    r = _put(c, t, f["id"], "move", {"new_parent_id": dst["id"]})
    assert r.status_code == 200, r.text
    assert_file(r.json(), folder_id=dst["id"], name="mover.bin")
    assert list_files(c, folder_id=box["id"]) == ([], 0)
    assert [x["id"] for x in list_files(c, folder_id=dst["id"])[0]] == [f["id"]]
    # to the root, both forms
    for target in (None, "root"):
        r = _put(c, t, f["id"], "move", {"new_parent_id": target})
        assert r.status_code == 200, r.text
        assert_file(r.json(), folder_id=None)
        assert f["id"] in [x["id"] for x in list_files(c, limit=10000)[0]]
        r = _put(c, t, f["id"], "move", {"new_parent_id": box["id"]})
        assert r.status_code == 200 and r.json()["folder_id"] == box["id"]
    assert download(c, f["id"]) == b"move me"


@pytest.mark.parametrize("case", ["missing", "uuid", "malformed", "foreign", "binned",
                                  "binned_child", "deleted"])
def test_move_bad_target_404(user, box, foreign_folder, case):
    c = user.client
    f = upload_file(c, "stay.bin", b"s", box["id"])
    target = _folder_case(user, case, foreign_folder)
    assert_error(_put(c, "files", f["id"], "move", {"new_parent_id": target}), 404,
                 "Folder not found")
    listed, _ = list_files(c, folder_id=box["id"])
    assert listed == [f]


@pytest.mark.parametrize("body", [{"new_parent_id": 5}, {"new_parent_id": ["x"]},
                                  {"new_parent_id": True}])
def test_move_body_422(user, box, body):
    f = upload_file(user.client, "m422", b"k", box["id"])
    assert_error(_put(user.client, "files", f["id"], "move", body), 422,
                 "Field 'new_parent_id' must be a string or null")


@pytest.mark.parametrize("t", TYPES)
def test_star_unstar(user, box, t):
    c = user.client
    f = upload_file(c, "star.bin", b"*", box["id"])
    assert f["is_starred"] is False
    for _ in range(2):  # idempotent
        r = _put(c, t, f["id"], "star")
        assert r.status_code == 200, r.text
        assert_file(r.json(), starred=True, name="star.bin", folder_id=box["id"])
    assert list_files(c, folder_id=box["id"])[0][0]["is_starred"] is True
    for _ in range(2):
        r = _put(c, t, f["id"], "unstar")
        assert r.status_code == 200, r.text
        assert_file(r.json(), starred=False)
    assert list_files(c, folder_id=box["id"])[0][0]["is_starred"] is False


def test_binned_file_actions_404(user, box):
    c = user.client
    f = upload_file(c, "binned.bin", b"b", box["id"])
    dst = create_folder(c, "dst", box["id"])
    _ok(c.put(f"{API}/files/{f['id']}/bin"))
    for t in TYPES:
        assert_error(_put(c, t, f["id"], "rename", {"new_name": "x"}), 404, "File not found")
        assert_error(_put(c, t, f["id"], "move", {"new_parent_id": dst["id"]}), 404,
                     "File not found")
        assert_error(_put(c, t, f["id"], "star"), 404, "File not found")
    binned = [x for x in list_files(c, include_deleted="true", limit=10000)[0]
              if x["id"] == f["id"]]
    assert_file(binned[0], name="binned.bin", folder_id=box["id"], starred=False, deleted=True)


@pytest.mark.parametrize("t", ["filez", "File", "file_", "items", "dirs"])
def test_bad_item_type_404(user, box, t):
    f = upload_file(user.client, "it.bin", b"i", box["id"])
    r = _put(user.client, t, f["id"], "rename", {"new_name": "x"})
    assert_error(r, 404, "Not Found")
    assert names(list_files(user.client, folder_id=box["id"])[0]) == ["it.bin"]


def _resident_pages(path):
    """How many of the file's pages are in the page cache (mincore on a
    mapping that is never touched, so looking does not fault them in)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    size = os.path.getsize(path)
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
        vec = ctypes.create_string_buffer(pages)
        try:
            assert libc.mincore(addr, size, vec) == 0, ctypes.get_errno()
        finally:
            libc.munmap(addr, size)
    finally:
        os.close(fd)
    return sum(b & 1 for b in vec.raw[:pages]), pages


def test_stored_chunks_leave_the_page_cache(server_factory):
    """A local chunk, once fsynced, is dropped from the page cache
    (blob_local.c): a big upload recycles a few chunks' worth of cache
    instead of pushing out everything else, a GiB at a time. The bytes
    still come back whole (from the disk)."""
    srv = server_factory(env={"STORAGE_BACKEND": "local", "CHUNK_SIZE": "1M"})
    u = make_user(srv, "pc")
    data = rbytes(5 * 1024 * 1024 + 123, seed=7)
    f = upload_file(u.client, "cache.bin", data)
    files = stored_chunks(srv)
    assert len(files) == 6, files
    for path in files:
        resident, pages = _resident_pages(path)
        # The type sniff may have read the first chunk's first pages again.
        assert resident <= 4, f"{path}: {resident} of {pages} pages still cached"
    assert download(u.client, f["id"]) == data

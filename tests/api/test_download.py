"""GET/HEAD /api/v1/files/{id}/download and /preview (API §5).

The server runs with the smallest CHUNK_SIZE (64 KiB) so that ranges cross
chunk borders; every body is compared byte for byte with what was uploaded.
"""
import email.utils
import hashlib
import random
import re
import threading
import time
import urllib.parse

import pytest

from helpers import API, assert_error

CH = 65536
SERVER_ENV = {"CHUNK_SIZE": str(CH)}

SIZES = {
    "empty": 0,
    "one": 1,
    "under": CH - 1,
    "chunk": CH,
    "chunk1": CH + 1,
    "multi": 3 * CH + 1234,
}


def upload(client, name, data, folder_id=None, expect=201):
    params = {"folder_id": folder_id} if folder_id else None
    r = client.post(f"{API}/files/upload", params=params,
                    files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == expect, f"upload {name!r}: {r.status_code} {r.text}"
    return r.json()


def upload_raw_name(client, name, data):
    """Uploads a file named exactly `name` (UTF-8). The filename goes out as a
    browser writes it: backslashes raw, only '"' (and CR, LF) escaped, as %22,
    which the server keeps as sent; so a name with '"' is uploaded with a
    stand-in and renamed to the exact name (PUT /files/{id}/rename)."""
    sent = name.replace('"', "_")
    body = (b"--XbOuNdArY\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + sent.encode() + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            + data + b"\r\n--XbOuNdArY--\r\n")
    r = client.post(f"{API}/files/upload", data=body,
                    headers={"Content-Type": "multipart/form-data; boundary=XbOuNdArY"})
    assert r.status_code == 201, f"upload {name!r}: {r.status_code} {r.text}"
    if sent == name:
        return r.json()
    r = client.put(f"{API}/files/{r.json()['id']}/rename", json={"new_name": name})
    assert r.status_code == 200, f"rename to {name!r}: {r.status_code} {r.text}"
    return r.json()


def dl(client, fid, headers=None, kind="download", method="GET"):
    return client.request(method, f"{API}/files/{fid}/{kind}", headers=headers or {})


def etag_of(data):
    return '"' + hashlib.sha256(data).hexdigest() + '"'


@pytest.fixture(scope="module")
def files(user):
    """name -> (file json, bytes), random content so nothing deduplicates."""
    rnd = random.Random(1234)
    out = {}
    for key, size in SIZES.items():
        data = bytes(rnd.getrandbits(8) for _ in range(size))
        out[key] = (upload(user.client, f"{key}.bin", data), data)
    return out


# --------------------------------------------------------------------------
# Whole files
# --------------------------------------------------------------------------

@pytest.mark.parametrize("key", list(SIZES))
def test_full_download(user, files, key):
    f, data = files[key]
    r = dl(user.client, f["id"])
    assert r.status_code == 200, r.text
    assert r.content == data
    h = r.headers
    assert h["Content-Length"] == str(len(data))
    assert h["Accept-Ranges"] == "bytes"
    assert h["ETag"] == etag_of(data) == f'"{f["hash"]}"'
    assert h["Cache-Control"] == "private"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Request-Id"]
    assert h["Content-Type"] == f["mime_type"]
    assert h["Content-Disposition"].startswith("attachment;")
    assert "Content-Range" not in h
    lm = email.utils.parsedate_to_datetime(h["Last-Modified"])
    assert h["Last-Modified"].endswith(" GMT")
    assert lm.year >= 2024


def test_empty_file_etag_is_empty_sha(user, files):
    f, data = files["empty"]
    r = dl(user.client, f["id"])
    assert r.status_code == 200 and r.content == b""
    assert r.headers["ETag"] == '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'


def test_large_file_streams_exactly(user):
    rnd = random.Random(99)
    data = rnd.randbytes(5 * 1024 * 1024 + 17)   # 81 chunks, not a multiple of the block
    f = upload(user.client, "large.bin", data)
    r = dl(user.client, f["id"])
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(data).hexdigest()
    # Streamed reads of the same file in parallel all come out right.
    results = []

    def fetch(i):
        c = user.server.client(user.access_token)
        lo = i * 700001
        rr = c.get(f"{API}/files/{f['id']}/download", headers={"Range": f"bytes={lo}-"})
        results.append((i, rr.status_code, rr.content == data[lo:]))
        c.close()

    ts = [threading.Thread(target=fetch, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(results) == [(i, 206, True) for i in range(6)]


def test_deduplicated_upload_downloads(user):
    data = b"same bytes twice " * 5000
    a = upload(user.client, "dup-a.txt", data)
    b = upload(user.client, "dup-b.txt", data)
    assert a["id"] != b["id"]
    for f in (a, b):
        r = dl(user.client, f["id"], {"Range": f"bytes={CH - 3}-{CH + 3}"})
        assert r.status_code == 206 and r.content == data[CH - 3:CH + 4]


# --------------------------------------------------------------------------
# Single ranges
# --------------------------------------------------------------------------

def _expect_partial(r, data, first, last):
    size = len(data)
    assert r.status_code == 206, f"{r.status_code} {r.text[:200]}"
    assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert r.headers["Content-Length"] == str(last - first + 1)
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["ETag"] == etag_of(data)
    assert r.content == data[first:last + 1]


N = SIZES["multi"]
RANGE_CASES = [
    ("bytes=0-0", 0, 0),                       # first byte
    ("bytes=1000-1999", 1000, 1999),           # middle of chunk 0
    (f"bytes={N - 1}-{N - 1}", N - 1, N - 1),  # last byte
    ("bytes=-1", N - 1, N - 1),                # suffix of one
    ("bytes=-5000", N - 5000, N - 1),          # suffix across the last chunk border
    (f"bytes=-{N}", 0, N - 1),                 # suffix of everything
    (f"bytes=-{N + 100}", 0, N - 1),           # suffix longer than the file
    ("bytes=70000-", 70000, N - 1),            # open-ended
    ("bytes=0-", 0, N - 1),                    # whole, open-ended
    (f"bytes=0-{N - 1}", 0, N - 1),            # whole
    (f"bytes={CH - 1}-{CH}", CH - 1, CH),      # exactly across a border
    (f"bytes={CH}-{2 * CH - 1}", CH, 2 * CH - 1),  # exactly one chunk
    (f"bytes={CH - 10}-{3 * CH + 10}", CH - 10, 3 * CH + 10),  # spans 4 chunks
    (f"bytes={2 * CH}-{2 * CH}", 2 * CH, 2 * CH),  # first byte of a chunk
    (f"bytes={3 * CH}-", 3 * CH, N - 1),       # the whole short last chunk
    (f"bytes=5-{N + 10**6}", 5, N - 1),        # beyond the end: clamped
    ("bytes=5-99999999999999999999999", 5, N - 1),  # huge last-pos: clamped
    ("Bytes=1-2", 1, 2),                       # unit is case-insensitive
    ("bytes= 10-20 ", 10, 20),                 # optional whitespace
    ("bytes=,10-20,", 10, 20),                 # empty list elements
]


@pytest.mark.parametrize("header,first,last", RANGE_CASES)
def test_range_forms(user, files, header, first, last):
    f, data = files["multi"]
    _expect_partial(dl(user.client, f["id"], {"Range": header}), data, first, last)


@pytest.mark.parametrize("key", ["one", "under", "chunk", "chunk1"])
def test_range_edges_small_files(user, files, key):
    f, data = files[key]
    n = len(data)
    _expect_partial(dl(user.client, f["id"], {"Range": "bytes=0-0"}), data, 0, 0)
    _expect_partial(dl(user.client, f["id"], {"Range": "bytes=-1"}), data, n - 1, n - 1)
    _expect_partial(dl(user.client, f["id"], {"Range": f"bytes={n - 1}-"}), data, n - 1, n - 1)
    _expect_partial(dl(user.client, f["id"], {"Range": "bytes=0-"}), data, 0, n - 1)


def test_random_ranges(user, files):
    f, data = files["multi"]
    rnd = random.Random(7)
    for _ in range(60):
        a = rnd.randrange(N)
        b = rnd.randrange(a, min(N, a + 3 * CH))
        _expect_partial(dl(user.client, f["id"], {"Range": f"bytes={a}-{b}"}), data, a, b)


@pytest.mark.parametrize("header", [
    f"bytes={N}-", f"bytes={N}-{N + 10}", "bytes=99999999999999999999999-", "bytes=-0",
    f"bytes={N + 5}-,{N}-{N}",
])
def test_unsatisfiable_416(user, files, header):
    f, data = files["multi"]
    r = dl(user.client, f["id"], {"Range": header})
    assert_error(r, 416, "Requested range not satisfiable")
    assert r.headers["Content-Range"] == f"bytes */{N}"


def test_empty_file_range_is_416(user, files):
    f, _ = files["empty"]
    r = dl(user.client, f["id"], {"Range": "bytes=0-"})
    assert_error(r, 416, "Requested range not satisfiable")
    assert r.headers["Content-Range"] == "bytes */0"
    r = dl(user.client, f["id"], {"Range": "bytes=-1"})
    assert_error(r, 416, "Requested range not satisfiable")


@pytest.mark.parametrize("header", [
    "bytes=5-1", "bytes=abc", "bytes=", "bytes=-", "items=0-1", "bytes 0-1", "bytes=0-1;2-3",
    "bytes=1-2-3", "bytes=0x10-20", "",
    "bytes=" + ",".join(f"{i * 100}-{i * 100}" for i in range(100)),   # too many ranges
])
def test_invalid_range_is_ignored(user, files, header):
    f, data = files["multi"]
    r = dl(user.client, f["id"], {"Range": header})
    assert r.status_code == 200, f"{header!r}: {r.status_code}"
    assert r.content == data
    assert "Content-Range" not in r.headers


# --------------------------------------------------------------------------
# Several ranges: multipart/byteranges
# --------------------------------------------------------------------------

def parse_multipart(r):
    ctype = r.headers["Content-Type"]
    m = re.fullmatch(r"multipart/byteranges; boundary=([A-Za-z0-9_-]+)", ctype)
    assert m, ctype
    boundary = m.group(1).encode()
    body = r.content
    assert r.headers["Content-Length"] == str(len(body))
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    pieces = body.split(b"--" + boundary)
    assert pieces[0] == b""   # no preamble: the body starts with the first delimiter
    assert pieces[-1] == b"--\r\n"
    for p in pieces[1:-1]:
        assert p.startswith(b"\r\n") and p.endswith(b"\r\n")
        head, _, payload = p[2:-2].partition(b"\r\n\r\n")
        hdrs = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        cr = re.fullmatch(rb"bytes (\d+)-(\d+)/(\d+)", hdrs[b"Content-Range"])
        assert cr, hdrs
        parts.append((int(cr.group(1)), int(cr.group(2)), int(cr.group(3)),
                      hdrs[b"Content-Type"].decode(), payload))
    return parts


def test_multi_range(user, files):
    f, data = files["multi"]
    r = dl(user.client, f["id"], {"Range": f"bytes=0-9, {CH - 5}-{CH + 4}, -3"})
    assert r.status_code == 206
    assert "Content-Range" not in r.headers
    parts = parse_multipart(r)
    assert [(a, b) for a, b, *_ in parts] == [(0, 9), (CH - 5, CH + 4), (N - 3, N - 1)]
    for a, b, size, ctype, payload in parts:
        assert size == N
        assert ctype == f["mime_type"]
        assert payload == data[a:b + 1]


def test_multi_range_is_sorted_and_coalesced(user, files):
    f, data = files["multi"]
    # Out of order, overlapping and close neighbours: RFC 9110 lets the server
    # merge them; two far-apart groups remain.
    r = dl(user.client, f["id"], {"Range": f"bytes={2 * CH}-{2 * CH + 9},100-200,150-300,310-320"})
    parts = parse_multipart(r)
    assert [(a, b) for a, b, *_ in parts] == [(100, 320), (2 * CH, 2 * CH + 9)]
    for a, b, _, _, payload in parts:
        assert payload == data[a:b + 1]
    # Everything overlapping collapses into one plain 206.
    r = dl(user.client, f["id"], {"Range": "bytes=0-10,5-20,0-0"})
    _expect_partial(r, data, 0, 20)


def test_multi_range_drops_unsatisfiable_parts(user, files):
    f, data = files["multi"]
    r = dl(user.client, f["id"], {"Range": f"bytes={N + 100}-,0-4,{N}-"})
    _expect_partial(r, data, 0, 4)


def test_many_ranges_within_limit(user, files):
    f, data = files["multi"]
    spec = ",".join(f"{i * 3000}-{i * 3000 + 9}" for i in range(64))
    parts = parse_multipart(dl(user.client, f["id"], {"Range": "bytes=" + spec}))
    assert len(parts) == 64
    for a, b, _, _, payload in parts:
        assert payload == data[a:b + 1]


# --------------------------------------------------------------------------
# Conditional requests
# --------------------------------------------------------------------------

def test_if_range(user, files):
    f, data = files["multi"]
    r0 = dl(user.client, f["id"])
    etag, lastmod = r0.headers["ETag"], r0.headers["Last-Modified"]
    rng = {"Range": f"bytes={CH}-{CH + 99}"}
    _expect_partial(dl(user.client, f["id"], {**rng, "If-Range": etag}), data, CH, CH + 99)
    _expect_partial(dl(user.client, f["id"], {**rng, "If-Range": lastmod}), data, CH, CH + 99)
    for stale in ['"0000"', "W/" + etag, "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"]:
        r = dl(user.client, f["id"], {**rng, "If-Range": stale})
        assert r.status_code == 200, stale
        assert r.content == data
        assert "Content-Range" not in r.headers


def test_if_none_match(user, files):
    f, data = files["chunk1"]
    etag = etag_of(data)
    for inm in [etag, "W/" + etag, "*", f'"nope", {etag}', f'"a" ,, {etag} ']:
        for kind in ("download", "preview"):
            r = dl(user.client, f["id"], {"If-None-Match": inm}, kind=kind)
            assert r.status_code == 304, (inm, kind, r.status_code)
            assert r.content == b""
            assert r.headers["ETag"] == etag
            assert "Last-Modified" in r.headers
            # A 304 never claims an empty body: it names the full length.
            assert r.headers.get("Content-Length") == str(len(data))
    for inm in ['"nope"', '"' + "0" * 64 + '"', "garbage"]:
        r = dl(user.client, f["id"], {"If-None-Match": inm})
        assert r.status_code == 200 and r.content == data
    # If-None-Match is checked before Range.
    r = dl(user.client, f["id"], {"If-None-Match": etag, "Range": "bytes=0-0"})
    assert r.status_code == 304
    r = dl(user.client, f["id"], {"If-None-Match": etag}, method="HEAD")
    assert r.status_code == 304


def test_if_modified_since(user, files):
    f, data = files["one"]
    lastmod = dl(user.client, f["id"]).headers["Last-Modified"]
    assert dl(user.client, f["id"], {"If-Modified-Since": lastmod}).status_code == 304
    r = dl(user.client, f["id"], {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert r.status_code == 200 and r.content == data
    # If-None-Match takes precedence over If-Modified-Since.
    r = dl(user.client, f["id"], {"If-Modified-Since": lastmod, "If-None-Match": '"x"'})
    assert r.status_code == 200


def test_if_modified_since_in_the_future_is_ignored(user, files):
    # RFC 9110 §13.1.3: a date later than the server's clock is invalid and the
    # precondition is ignored, so the body comes back.
    f, data = files["one"]
    for date in ("Fri, 31 Dec 9999 23:59:59 GMT", email.utils.formatdate(time.time() + 3600, usegmt=True)):
        r = dl(user.client, f["id"], {"If-Modified-Since": date})
        assert r.status_code == 200 and r.content == data, date


def test_if_match(user, files):
    f, data = files["one"]
    assert dl(user.client, f["id"], {"If-Match": etag_of(data)}).status_code == 200
    assert_error(dl(user.client, f["id"], {"If-Match": '"other"'}), 412, "Precondition failed")


# --------------------------------------------------------------------------
# HEAD
# --------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["empty", "one", "multi"])
@pytest.mark.parametrize("kind", ["download", "preview"])
def test_head(user, files, key, kind):
    f, data = files[key]
    g = dl(user.client, f["id"], kind=kind)
    h = dl(user.client, f["id"], kind=kind, method="HEAD")
    assert h.status_code == 200
    assert h.content == b""
    for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges",
                 "Content-Disposition", "Cache-Control"):
        assert h.headers.get(name) == g.headers.get(name), name
    assert h.headers["Content-Length"] == str(len(data))


def test_head_ignores_range(user, files):
    # RFC 9110 section 14.2: Range is defined for GET only.
    f, data = files["multi"]
    h = dl(user.client, f["id"], {"Range": "bytes=0-9"}, method="HEAD")
    assert h.status_code == 200
    assert h.headers["Content-Length"] == str(len(data))
    assert h.content == b""


# --------------------------------------------------------------------------
# Content-Disposition
# --------------------------------------------------------------------------

def parse_disposition(value):
    m = re.fullmatch(r'(attachment|inline); filename="([^"\\]*)"; '
                     r"filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)", value)
    assert m, value
    return m.group(1), m.group(2), urllib.parse.unquote(m.group(3), encoding="utf-8",
                                                        errors="strict")


@pytest.mark.parametrize("name", [
    'report "final" v2.txt',
    "naïve café résumé.txt",
    "emoji \U0001F600 party \U0001F389.txt",
    "back\\slash and 100% sure; a=b, c.txt",
    "日本語のファイル名.pdf",
    "plain.txt",
])
def test_content_disposition_roundtrip(user, name):
    data = name.encode() * 3
    f = upload_raw_name(user.client, name, data)
    assert f["name"] == name
    for kind, want in (("download", "attachment"), ("preview", "inline")):
        r = dl(user.client, f["id"], kind=kind)
        assert r.status_code == 200 and r.content == data
        raw = r.raw.headers.get("Content-Disposition")
        disp, fallback, exact = parse_disposition(raw)
        assert disp == want
        assert exact == name
        assert fallback.isascii() and len(fallback) > 0
        assert '"' not in fallback and "\\" not in fallback and "%" not in fallback
        assert all(0x20 <= ord(c) < 0x7f for c in fallback)
        # One '_' per replaced character, the ASCII ones kept.
        assert len(fallback) == len(name)
        for a, b in zip(name, fallback):
            assert b == (a if (a.isascii() and a not in '"\\%' and a.isprintable()) else "_")


# --------------------------------------------------------------------------
# Preview safety
# --------------------------------------------------------------------------

SCRIPTY = [
    ("page.html", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("data.xml", b'<?xml version="1.0"?><root><a>1</a></root>'),
    ("app.js", b"alert(document.cookie)\n"),
]


@pytest.mark.parametrize("name,data", SCRIPTY)
def test_preview_never_renders_script(user, name, data):
    f = upload(user.client, name, data)
    r = dl(user.client, f["id"], kind="preview")
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8", f["mime_type"]
    assert "sandbox" in r.headers.get("Content-Security-Policy", "")
    assert r.headers["Content-Disposition"].startswith("inline;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # Ranges work on previews too.
    r = dl(user.client, f["id"], {"Range": "bytes=1-4"}, kind="preview")
    _expect_partial(r, data, 1, 4)
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    # The download keeps the real type but is an attachment, sandboxed anyway.
    d = dl(user.client, f["id"])
    assert d.headers["Content-Type"] == f["mime_type"]
    assert d.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in d.headers.get("Content-Security-Policy", "")


def test_preview_keeps_harmless_types(user):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
           b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
           b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    f = upload(user.client, "dot.png", png)
    r = dl(user.client, f["id"], kind="preview")
    assert r.status_code == 200 and r.content == png
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline;")
    assert "Content-Security-Policy" not in r.headers
    t = upload(user.client, "notes.txt", b"just text\n")
    r = dl(user.client, t["id"], kind="preview")
    assert r.headers["Content-Type"].startswith("text/plain")


# --------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["download", "preview"])
def test_other_users_file_is_404(user, other_user, files, kind):
    f, _ = files["one"]
    assert_error(dl(other_user.client, f["id"], kind=kind), 404, "File not found")
    assert_error(dl(other_user.client, f["id"], kind=kind, headers={"Range": "bytes=0-0"}),
                 404, "File not found")
    h = dl(other_user.client, f["id"], kind=kind, method="HEAD")
    assert h.status_code == 404


@pytest.mark.parametrize("fid", [
    "nope", "x" * 22 + "!", "A" * 23, "A" * 21, "AAAAAAAAAAAAAAAAAAAAAA", "%00", "..", "a%2Fb",
    "' OR 1=1 --", "\u00e9" * 22,
])
@pytest.mark.parametrize("kind", ["download", "preview"])
def test_malformed_or_missing_id_is_404(user, fid, kind):
    r = user.client.get(f"{API}/files/{urllib.parse.quote(fid, safe='%')}/{kind}")
    # ".." is removed with the segment before it (dot-segment removal) and the server
    # decodes "a%2Fb" to two segments: both paths match no route; every other id is
    # one segment naming no file.
    assert_error(r, 404, "Not Found" if fid in ("..", "a%2Fb") else "File not found")


def test_binned_file_is_404_and_restore_brings_it_back(user):
    data = b"in the bin"
    f = upload(user.client, "binned.txt", data)
    assert dl(user.client, f["id"]).status_code == 200
    r = user.client.put(f"{API}/files/{f['id']}/bin")
    assert r.status_code == 200, r.text
    for kind in ("download", "preview"):
        assert_error(dl(user.client, f["id"], kind=kind), 404, "File not found")
    r = user.client.put(f"{API}/files/{f['id']}/restore")
    assert r.status_code == 200, r.text
    r = dl(user.client, f["id"])
    assert r.status_code == 200 and r.content == data


def test_file_in_binned_folder_is_404(user):
    r = user.client.post(f"{API}/folders", json={"name": "to-bin"})
    assert r.status_code == 201, r.text
    folder = r.json()
    f = upload(user.client, "inside.txt", b"inside", folder_id=folder["id"])
    assert dl(user.client, f["id"]).status_code == 200
    assert user.client.put(f"{API}/folders/{folder['id']}/bin").status_code == 200
    assert_error(dl(user.client, f["id"]), 404, "File not found")


def test_deleted_file_is_404(user):
    f = upload(user.client, "gone.txt", b"bye")
    r = user.client.delete(f"{API}/files/{f['id']}")
    assert r.status_code == 200, r.text
    assert_error(dl(user.client, f["id"]), 404, "File not found")


@pytest.mark.parametrize("kind", ["download", "preview"])
def test_needs_authentication(server, files, kind):
    f, _ = files["one"]
    c = server.client()
    assert_error(c.get(f"{API}/files/{f['id']}/{kind}"), 401, "Not authenticated")
    c.set_token("not-a-token")
    assert_error(c.get(f"{API}/files/{f['id']}/{kind}"), 401, "Could not validate credentials")


def test_trailing_slash_and_other_methods(user, files):
    f, data = files["one"]
    r = user.client.get(f"{API}/files/{f['id']}/download/")
    assert r.status_code == 200 and r.content == data
    r = user.client.post(f"{API}/files/{f['id']}/download")
    assert_error(r, 405, "Method Not Allowed")


def test_client_going_away_midstream_is_harmless(user, server):
    import socket
    data = random.Random(5).randbytes(2 * 1024 * 1024)
    f = upload(user.client, "abandon.bin", data)
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall((f"GET {API}/files/{f['id']}/download HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {user.access_token}\r\n\r\n").encode())
        s.recv(1000)
        s.close()
    r = dl(user.client, f["id"], {"Range": "bytes=1000000-1000099"})
    _expect_partial(r, data, 1000000, 1000099)

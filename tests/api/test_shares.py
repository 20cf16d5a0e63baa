"""Share links (API §8): generate / list / revoke under /api/v1/share,
the public GET/HEAD /s/{id} with Range, view counting, expiry, passwords, the
file's bin/delete, and other users."""
import calendar
import random
import re
import time
import uuid

import pytest

from helpers import (API, assert_error, assert_no_internals, assert_ts, create_folder,
                     upload_file)

SHARE_FIELDS = {"_id", "id", "file_id", "is_active", "owner_id", "created_at", "views",
                "expires_at", "has_password"}
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,}$")


def rbytes(n, seed):
    return random.Random(seed).randbytes(n)


def ts_seconds(ts):
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + float(ts[19:-1] or 0)


def assert_share(s, file_id=None, owner_id=None, views=None, has_password=None, active=True):
    assert isinstance(s, dict), s
    missing = SHARE_FIELDS - set(s)
    assert not missing, f"share lacks {missing}: {s}"
    assert_no_internals(s, "share")
    assert not any("password" in k and k != "has_password" for k in s), \
        f"share exposes a password field: {s}"
    assert s["_id"] == s["id"] and ID_RE.match(s["id"]), s
    assert isinstance(s["file_id"], str) and s["file_id"], s
    assert s["is_active"] is active, s
    assert type(s["views"]) is int and s["views"] >= 0, s
    assert type(s["has_password"]) is bool, s
    assert_ts(s["created_at"])
    if s["expires_at"] is not None:
        assert_ts(s["expires_at"])
    for key, want in (("file_id", file_id), ("owner_id", owner_id), ("views", views),
                      ("has_password", has_password)):
        if want is not None:
            assert s[key] == want, f"{key}: {s[key]!r} != {want!r} in {s}"
    return s


def generate(client, fid, body=None, expect=201):
    """POST /share/generate; `expect` is 201 for a new link, 200 when the file's
    live link without a password comes back (DECISIONS: Sharing)."""
    if body is None:
        r = client.post(f"{API}/share/generate/{fid}")
    else:
        r = client.post(f"{API}/share/generate/{fid}", json=body)
    assert r.status_code == expect, f"generate {fid}: {r.status_code} {r.text[:300]}"
    return r.json()


def links(client, slash=True):
    r = client.get(f"{API}/share" + ("/" if slash else ""))
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list), body
    return body


def link(client, sid):
    found = [s for s in links(client) if s["id"] == sid]
    assert len(found) == 1, f"link {sid} listed {len(found)} times"
    return found[0]


@pytest.fixture(scope="module")
def anon(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def shared(user):
    """A fresh file (3 KB of text-free bytes) with a fresh link."""
    data = rbytes(3000, uuid.uuid4().int & 0xffff)
    f = upload_file(user.client, "shared-" + uuid.uuid4().hex[:6] + ".bin", data)
    return f, data, generate(user.client, f["id"])


def get_s(anon, sid, headers=None, params=None, method="GET"):
    return anon.request(method, f"/s/{sid}", headers=headers or {}, params=params)


# ---------------------------------------------------------------- generate / list

def test_generate_fields(user):
    f = upload_file(user.client, "gen.txt", b"share me\n")
    before = time.time()
    s = generate(user.client, f["id"])
    assert_share(s, file_id=f["id"], owner_id=user.id, views=0, has_password=False)
    assert s["expires_at"] is None
    assert abs(ts_seconds(s["created_at"]) - before) < 120


def test_generate_again_same_link(user, shared):
    f, _, s = shared
    again = generate(user.client, f["id"], expect=200)
    assert again["id"] == s["id"]
    assert_share(again, file_id=f["id"], views=0)
    assert [x["id"] for x in links(user.client) if x["file_id"] == f["id"]] == [s["id"]]


def test_list_links(user, other_user, shared):
    f, _, s = shared
    f2 = upload_file(user.client, "second.bin", b"two")
    s2 = generate(user.client, f2["id"])
    for slash in (True, False):
        mine = links(user.client, slash)
        for x in mine:
            assert_share(x, owner_id=user.id, active=x["is_active"])
        ids = {x["id"] for x in mine}
        assert {s["id"], s2["id"]} <= ids
    theirs = {x["id"] for x in links(other_user.client)}
    assert not theirs & {s["id"], s2["id"]}


def test_ids_long_random_distinct(user):
    ids = set()
    for i in range(6):
        f = upload_file(user.client, f"idf{i}", b"id %d" % i)
        ids.add(generate(user.client, f["id"])["id"])
    assert len(ids) == 6
    for sid in ids:
        assert ID_RE.match(sid), sid


# ---------------------------------------------------------------- public access

def test_public_get(anon, shared):
    f, data, s = shared
    r = get_s(anon, s["id"])
    assert r.status_code == 200, r.text[:300]
    assert r.content == data
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers.get("Content-Disposition", "").lower().startswith("inline"), r.headers
    assert r.headers.get("Accept-Ranges") == "bytes"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


def test_public_head(anon, user):
    data = b"head only " * 100
    f = upload_file(user.client, "head.txt", data)
    s = generate(user.client, f["id"])
    r = get_s(anon, s["id"], method="HEAD")
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(data)) and r.content == b""


def test_public_range(anon, shared):
    f, data, s = shared
    r = get_s(anon, s["id"], headers={"Range": "bytes=5-9"})
    assert r.status_code == 206, r.text[:200]
    assert r.content == data[5:10]
    assert r.headers["Content-Range"] == f"bytes 5-9/{len(data)}"
    r = get_s(anon, s["id"], headers={"Range": "bytes=-7"})
    assert r.status_code == 206 and r.content == data[-7:]
    r = get_s(anon, s["id"], headers={"Range": f"bytes={len(data) + 10}-"})
    assert_error(r, 416, "Requested range not satisfiable")
    assert r.headers["Content-Range"] == f"bytes */{len(data)}"


def test_views_count_from_byte_zero(user, anon, shared):
    f, data, s = shared
    assert link(user.client, s["id"])["views"] == 0
    assert get_s(anon, s["id"]).status_code == 200
    assert link(user.client, s["id"])["views"] == 1
    assert get_s(anon, s["id"], headers={"Range": "bytes=0-3"}).status_code == 206
    assert link(user.client, s["id"])["views"] == 2
    for rng in ("bytes=5-9", "bytes=100-", "bytes=1-1"):
        assert get_s(anon, s["id"], headers={"Range": rng}).status_code == 206
    assert link(user.client, s["id"])["views"] == 2
    assert get_s(anon, s["id"], headers={"Range": "bytes=0-"}).status_code == 206
    assert link(user.client, s["id"])["views"] == 3
    # the same link comes back from generate, with its count
    assert generate(user.client, f["id"], expect=200)["views"] == 3


def test_empty_file_share(user, anon):
    f = upload_file(user.client, "empty.bin", b"")
    s = generate(user.client, f["id"])
    r = get_s(anon, s["id"])
    assert r.status_code == 200 and r.content == b""
    assert link(user.client, s["id"])["views"] == 1


def test_active_content_is_not_served_as_html(user, anon):
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
    f = upload_file(user.client, "evil.html", html, ctype="text/html")
    s = generate(user.client, f["id"])
    r = get_s(anon, s["id"])
    assert r.status_code == 200 and r.content == html
    # as a preview (DECISIONS: Downloads): plain text, and sandboxed besides
    assert r.headers.get("Content-Type") == "text/plain; charset=utf-8", r.headers
    assert r.headers.get("Content-Security-Policy") == "sandbox", r.headers


def test_public_needs_no_auth_and_ignores_it(user, server, shared):
    f, data, s = shared
    c = server.client(token=user.access_token)
    r = c.get(f"/s/{s['id']}")
    assert r.status_code == 200 and r.content == data


@pytest.mark.parametrize("sid", ["doesnotexist", "A" * 22, "x" * 300, "...", "%00",
                                 "' OR 1=1"])
def test_unknown_link_404(anon, sid):
    assert_error(get_s(anon, sid), 404, "Share link not found")
    assert get_s(anon, sid, method="HEAD").status_code == 404


# ---------------------------------------------------------------- revoke

def test_revoke(user, anon, shared):
    f, data, s = shared
    r = user.client.delete(f"{API}/share/{s['id']}")
    assert r.status_code == 200, r.text
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")
    assert get_s(anon, s["id"], method="HEAD").status_code == 404
    for x in links(user.client):
        if x["id"] == s["id"]:
            assert x["is_active"] is False, x
    assert_error(user.client.delete(f"{API}/share/{s['id']}"), 404, "Share link not found")
    # a new link for the file is a new id
    s2 = generate(user.client, f["id"])
    assert s2["id"] != s["id"] and s2["is_active"] is True
    assert get_s(anon, s2["id"]).content == data
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")


def test_revoke_unknown_404(user):
    assert_error(user.client.delete(f"{API}/share/doesnotexist"), 404, "Share link not found")
    assert_error(user.client.delete(f"{API}/share/{'B' * 22}"), 404, "Share link not found")


# ---------------------------------------------------------------- expiry

def test_expiry(user, anon):
    data = b"short lived"
    f = upload_file(user.client, "expiring.txt", data)
    s = generate(user.client, f["id"], {"expires_in_seconds": 1})
    assert_share(s, file_id=f["id"], has_password=False)
    assert s["expires_at"] is not None
    delta = ts_seconds(s["expires_at"]) - ts_seconds(s["created_at"])
    assert 0.5 <= delta <= 2.5, (s["created_at"], s["expires_at"])
    r = get_s(anon, s["id"])
    assert r.status_code == 200 and r.content == data
    time.sleep(2.0)
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")
    assert_error(get_s(anon, s["id"], headers={"Range": "bytes=2-4"}), 404, "Share link not found")
    # the expired link is not "the active link" any more
    s2 = generate(user.client, f["id"])
    assert s2["id"] != s["id"] and s2["expires_at"] is None
    assert get_s(anon, s2["id"]).content == data


def test_long_expiry_works(user, anon):
    f = upload_file(user.client, "long.txt", b"long lived")
    s = generate(user.client, f["id"], {"expires_in_seconds": 3600})
    delta = ts_seconds(s["expires_at"]) - ts_seconds(s["created_at"])
    assert 3590 <= delta <= 3610
    assert get_s(anon, s["id"]).content == b"long lived"


# ---------------------------------------------------------------- password

def test_password(user, anon):
    data = b"secret bytes " * 50
    f = upload_file(user.client, "locked.bin", data)
    pw = "s3cret pw &=?#%"
    s = generate(user.client, f["id"], {"password": pw})
    assert_share(s, file_id=f["id"], has_password=True)
    assert pw not in str(s)
    assert_error(get_s(anon, s["id"]), 401, "Password required")
    assert get_s(anon, s["id"], method="HEAD").status_code == 401
    assert_error(get_s(anon, s["id"], params={"password": "wrong"}), 401, "Password required")
    assert_error(get_s(anon, s["id"], params={"password": ""}), 401, "Password required")
    assert_error(get_s(anon, s["id"], headers={"X-Share-Password": "wrong"}), 401,
                 "Password required")
    assert_error(get_s(anon, s["id"], headers={"Range": "bytes=3-9"}), 401, "Password required")
    r = get_s(anon, s["id"], params={"password": pw})
    assert r.status_code == 200 and r.content == data
    r = get_s(anon, s["id"], headers={"X-Share-Password": pw})
    assert r.status_code == 200 and r.content == data
    r = get_s(anon, s["id"], params={"password": pw}, headers={"Range": "bytes=3-9"})
    assert r.status_code == 206 and r.content == data[3:10]
    for x in links(user.client):
        assert pw not in str(x)


def test_options_make_a_new_link(user, anon, shared):
    f, data, s = shared
    s2 = generate(user.client, f["id"], {"password": "pw-12345"})
    assert s2["id"] != s["id"] and s2["has_password"] is True
    assert_error(get_s(anon, s2["id"]), 401, "Password required")
    assert get_s(anon, s2["id"], params={"password": "pw-12345"}).content == data


@pytest.mark.parametrize("body", [{"expires_in_seconds": "abc"}, {"expires_in_seconds": [1]},
                                  {"password": 5}, {"password": ["x"]}])
def test_generate_bad_body_422(user, shared, body):
    f = shared[0]
    (key,) = body
    kind = "an integer" if key == "expires_in_seconds" else "a string"
    assert_error(user.client.post(f"{API}/share/generate/{f['id']}", json=body), 422,
                 f"Field '{key}' must be {kind} or null")


@pytest.mark.parametrize("secs", [0, -5])
def test_generate_bad_expiry(user, shared, secs):
    f = shared[0]
    r = user.client.post(f"{API}/share/generate/{f['id']}", json={"expires_in_seconds": secs})
    assert_error(r, 400, "expires_in_seconds must be from 1 to 31536000")


# ---------------------------------------------------------------- the file's fate

def test_file_binned_then_deleted(user, anon, shared):
    f, data, s = shared
    assert user.client.put(f"{API}/files/{f['id']}/bin").status_code == 200
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")
    assert get_s(anon, s["id"], method="HEAD").status_code == 404
    assert user.client.delete(f"{API}/files/{f['id']}").status_code == 200
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")


def test_file_in_binned_folder(user, anon):
    d = create_folder(user.client, "sharedir-" + uuid.uuid4().hex[:6])
    f = upload_file(user.client, "inside.bin", b"inside", d["id"])
    s = generate(user.client, f["id"])
    assert get_s(anon, s["id"]).content == b"inside"
    assert user.client.put(f"{API}/folders/{d['id']}/bin").status_code == 200
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")
    assert user.client.delete(f"{API}/folders/{d['id']}").status_code == 200
    assert_error(get_s(anon, s["id"]), 404, "Share link not found")


def test_generate_unknown_file_404(user):
    for fid in ("doesnotexist", uuid.uuid4().hex, "x" * 300):
        assert_error(user.client.post(f"{API}/share/generate/{fid}"), 404, "File not found")


# ---------------------------------------------------------------- other users

def test_other_user(user, other_user, anon, shared):
    f, data, s = shared
    o = other_user.client
    assert_error(o.post(f"{API}/share/generate/{f['id']}"), 404, "File not found")
    assert_error(o.post(f"{API}/share/generate/{f['id']}", json={"password": "mine"}), 404,
                 "File not found")
    assert_error(o.delete(f"{API}/share/{s['id']}"), 404, "Share link not found")
    assert s["id"] not in {x["id"] for x in links(o)}
    # the link is intact
    assert get_s(anon, s["id"]).content == data
    assert link(user.client, s["id"])["is_active"] is True


def test_unauthenticated(client, shared):
    f, _, s = shared
    assert_error(client.post(f"{API}/share/generate/{f['id']}"), 401, "Not authenticated")
    assert_error(client.get(f"{API}/share/"), 401, "Not authenticated")
    assert_error(client.delete(f"{API}/share/{s['id']}"), 401, "Not authenticated")

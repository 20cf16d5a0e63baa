"""Files across users and hostile input: user B on every file route with user
A's ids gets 404 (never 403, never a hint) and A's data stays exactly as it
was; every file route needs a token; odd ids are 404, never 500; upload names
cannot escape DATA_DIR; no response exposes storage internals."""
import os
import uuid

import pytest

from helpers import (API, assert_error, assert_file, assert_no_internals, create_folder,
                     download, list_files, list_folders, storage_usage, upload_file, upload_raw)

A_DATA = b"alice's private bytes\n" * 500


@pytest.fixture(scope="module")
def world(user, other_user):
    a, b = user.client, other_user.client
    fa_folder = create_folder(a, "alice-folder")
    fa = upload_file(a, "alice.txt", A_DATA, fa_folder["id"])
    fa_root = upload_file(a, "alice-root.bin", b"root bytes")
    fa_bin = upload_file(a, "alice-binned.bin", b"binned bytes", fa_folder["id"])
    assert a.put(f"{API}/files/{fa_bin['id']}/bin").status_code == 200
    assert a.put(f"{API}/files/{fa_root['id']}/star").status_code == 200
    r = a.post(f"{API}/share/generate/{fa['id']}")
    assert r.status_code == 201, r.text   # the file's first link
    share = r.json()
    fb_folder = create_folder(b, "bob-folder")
    fb = upload_file(b, "bob.txt", b"bob's bytes", fb_folder["id"])
    w = {"FA": fa_folder["id"], "fa": fa["id"], "fa_root": fa_root["id"],
         "fa_bin": fa_bin["id"], "share": share["id"], "FB": fb_folder["id"], "fb": fb["id"]}
    w["snapshot"] = snapshot(user, w)
    w["b_snapshot"] = b_snapshot(other_user, w)
    return w


def snapshot(u, w):
    c = u.client
    r = c.get(f"{API}/share/")
    assert r.status_code == 200, r.text
    return {
        "in_folder": list_files(c, folder_id=w["FA"]),
        "root": list_files(c),
        "bin": list_files(c, include_deleted="true"),
        "bin_folder": list_files(c, include_deleted="true", folder_id=w["FA"]),
        "starred": list_files(c, is_starred="true"),
        "folders": list_folders(c),
        "usage": storage_usage(c),
        "shares": r.json(),
    }


def b_snapshot(u, w):
    c = u.client
    return {"in_folder": list_files(c, folder_id=w["FB"]), "root": list_files(c),
            "bin": list_files(c, include_deleted="true"), "usage": storage_usage(c)}


def unchanged(user, other_user, w):
    assert snapshot(user, w) == w["snapshot"], "user A's data changed"
    assert b_snapshot(other_user, w) == w["b_snapshot"], "user B's data changed"
    assert download(user.client, w["fa"]) == A_DATA


# (method, path, JSON body); {fa}, {FA}, ... are filled from the world.
ATTACKS = [
    ("GET", "/files/{fa}/download", None),
    ("GET", "/files/{fa_bin}/download", None),
    ("GET", "/files/{fa}/preview", None),
    ("PUT", "/files/{fa}/bin", None),
    ("PUT", "/files/{fa_root}/bin", None),
    ("PUT", "/files/{fa_bin}/restore", None),
    ("PUT", "/files/{fa}/restore", None),
    ("DELETE", "/files/{fa}", None),
    ("DELETE", "/files/{fa_bin}", None),
    ("POST", "/share/generate/{fa}", None),
    ("POST", "/share/generate/{fa_root}", None),
    ("POST", "/share/generate/{fa_root}", {"password": "x", "expires_in_seconds": 60}),
    ("DELETE", "/share/{share}", None),
    ("GET", "/files?folder_id={FA}", None),
    ("GET", "/files/?folder_id={FA}", None),
    ("GET", "/files?folder_id={FA}&include_deleted=true", None),
    ("GET", "/files?folder_id={FA}&is_starred=true", None),
    ("PUT", "/files/{fb}/move", {"new_parent_id": "{FA}"}),
    ("PUT", "/file/{fb}/move", {"new_parent_id": "{FA}"}),
] + [
    (m, p.replace("T", t), body) for t in ("file", "files") for (m, p, body) in [
        ("PUT", "/T/{fa}/rename", {"new_name": "pwned"}),
        ("PUT", "/T/{fa_bin}/rename", {"new_name": "pwned"}),
        ("PUT", "/T/{fa}/move", {"new_parent_id": None}),
        ("PUT", "/T/{fa}/move", {"new_parent_id": "{FB}"}),
        ("PUT", "/T/{fa}/move", {"new_parent_id": "{FA}"}),
        ("PUT", "/T/{fa}/star", None),
        ("PUT", "/T/{fa_root}/unstar", None),
        ("PUT", "/T/{fa}/unstar", None),
        ("PUT", "/T/{fa_bin}/star", None),
    ]
]


def attack_detail(path):
    """The 404 detail an ATTACKS path gets: it names the object that is not the
    caller's (a move checks the file first, then the target folder)."""
    if path.startswith("/share/{share}"):
        return "Share link not found"
    if "folder_id={FA}" in path or "{fb}/move" in path:
        return "Folder not found"
    return "File not found"


def fill(s, w):
    return s.format(**{k: v for k, v in w.items() if isinstance(v, str)}) \
        if isinstance(s, str) else s


@pytest.mark.parametrize("method,path,body", ATTACKS,
                         ids=[f"{m} {p} {b}" for m, p, b in ATTACKS])
def test_other_user_gets_404(user, other_user, world, method, path, body):
    url = API + fill(path, world)
    kw = {}
    if body is not None:
        kw["json"] = {k: fill(v, world) for k, v in body.items()}
    r = other_user.client.request(method, url, **kw)
    assert_error(r, 404, attack_detail(path))
    unchanged(user, other_user, world)


@pytest.mark.parametrize("fid", ["fa", "fa_bin"])
@pytest.mark.parametrize("kind", ["download", "preview"])
def test_other_user_head_404(user, other_user, world, fid, kind):
    r = other_user.client.head(f"{API}/files/{world[fid]}/{kind}")
    assert r.status_code == 404 and r.content == b""
    unchanged(user, other_user, world)


def test_other_user_upload_into_foreign_folder(user, other_user, world):
    r = upload_raw(other_user.client, [("file", "intruder.txt", b"intrusion")],
                   folder_id=world["FA"])
    assert_error(r, 404, "Folder not found")
    unchanged(user, other_user, world)


def test_other_user_search_and_lists_do_not_leak(user, other_user, world):
    c = other_user.client
    r = c.get(f"{API}/files/search/", params={"q": "alice"})
    assert r.status_code == 200, r.text
    assert r.json() == {"folders": [], "files": []}
    ids = {world["fa"], world["fa_root"], world["fa_bin"]}
    for params in ({}, {"include_deleted": "true"}, {"is_starred": "true"},
                   {"folder_id": world["FB"]}):
        listed, _ = list_files(c, **params)
        assert not ids & {f["id"] for f in listed}, params
    r = c.get(f"{API}/share/")
    assert r.status_code == 200 and world["share"] not in {s["id"] for s in r.json()}
    unchanged(user, other_user, world)


def test_own_routes_still_work(user, world):
    """A sanity check that the 404s above are about ownership: A gets 200."""
    c = user.client
    assert download(c, world["fa"]) == A_DATA
    assert c.get(f"{API}/files/{world['fa']}/preview").status_code == 200
    listed, _ = list_files(c, folder_id=world["FA"])
    assert [f["id"] for f in listed] == [world["fa"]]


# ---------------------------------------------------------------- no token

NOAUTH = [
    ("POST", "/files/upload"), ("GET", "/files"), ("GET", "/files/"),
    ("GET", "/files/{fa}/download"), ("HEAD", "/files/{fa}/download"),
    ("GET", "/files/{fa}/preview"), ("PUT", "/files/{fa}/bin"), ("PUT", "/files/{fa}/restore"),
    ("DELETE", "/files/{fa}"), ("PUT", "/files/{fa}/rename"), ("PUT", "/file/{fa}/move"),
    ("PUT", "/files/{fa}/star"), ("PUT", "/file/{fa}/unstar"), ("GET", "/files/search/?q=a"),
    ("GET", "/files/search?q=a"), ("DELETE", "/bin"), ("GET", "/users/me/storage"),
    ("POST", "/share/generate/{fa}"), ("GET", "/share/"), ("DELETE", "/share/{share}"),
]


@pytest.mark.parametrize("method,path", NOAUTH, ids=[f"{m} {p}" for m, p in NOAUTH])
@pytest.mark.parametrize("token", [None, "garbage", "wrong_type"])
def test_no_or_bad_token_401(user, other_user, world, server, method, path, token):
    c = server.client()
    if token == "garbage":
        c.set_token("not.a.jwt")
    elif token == "wrong_type":
        # a refresh token is the wrong type for these routes
        c.set_token(user.refresh_token)
    r = c.request(method, API + fill(path, world), json={"new_name": "x", "new_parent_id": None}
                  if method == "PUT" else None)
    if method == "HEAD":
        assert r.status_code == 401
    else:
        assert_error(r, 401, "Not authenticated" if token is None
                     else "Could not validate credentials")
        if token is not None:
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    unchanged(user, other_user, world)


# ---------------------------------------------------------------- odd ids

ODD_IDS = ["...", "%2e%2e", "%2e%2e%2f%2e%2e", "' OR '1'='1", "1;DROP TABLE files",
           "a" * 1000, "\u00e9\u00e9", "0", "-1", "null", "root", "%00", "%ff", "*", "{fa}x"]


@pytest.mark.parametrize("fid", ODD_IDS)
def test_odd_ids_404(user, world, fid):
    c = user.client
    fid = fill(fid, world)
    # The server decodes percent-escapes in the path: "%2e%2e%2f%2e%2e" becomes
    # "../..", extra path segments that match no route; every other id is one
    # segment, an id that names no file of the user.
    detail = "Not Found" if fid == "%2e%2e%2f%2e%2e" else "File not found"
    for method, path, body in [("GET", "/files/{}/download", None),
                               ("GET", "/files/{}/preview", None),
                               ("PUT", "/files/{}/bin", None),
                               ("PUT", "/files/{}/restore", None),
                               ("DELETE", "/files/{}", None),
                               ("PUT", "/files/{}/rename", {"new_name": "x"}),
                               ("PUT", "/file/{}/move", {"new_parent_id": None}),
                               ("PUT", "/files/{}/star", None),
                               ("POST", "/share/generate/{}", None)]:
        r = c.request(method, API + path.replace("{}", fid), json=body)
        assert_error(r, 404, detail)
    # As a folder id (a query value, not decoded twice): "root" is the root in a
    # listing; everything else, "null" included, is no folder of the user.
    for params in ({"folder_id": fid}, {"folder_id": fid, "include_deleted": "true"}):
        r = c.get(f"{API}/files", params=params)
        if fid == "root":
            assert r.status_code == 200, r.text
        else:
            assert_error(r, 404, "Folder not found")
    # An upload with folder_id root or null goes to the root (test_files covers it;
    # here it would change the world's snapshot).
    if fid not in ("root", "null"):
        r = upload_raw(c, [("file", "odd.bin", b"odd")], folder_id=fid)
        assert_error(r, 404, "Folder not found")


# ---------------------------------------------------------------- names cannot escape

@pytest.mark.parametrize("name", ["../../../../../../tmp/netra-escape-{u}",
                                  "..\\..\\..\\netra-escape-{u}", "/tmp/netra-escape-{u}",
                                  "./netra-escape-{u}/..", "netra-escape-{u}/../../x"])
def test_upload_name_cannot_escape(user_factory, server, name):
    u = uuid.uuid4().hex[:12]
    name = name.format(u=u)
    who = user_factory("esc")
    r = upload_raw(who.client, [("file", name, b"escape attempt")])
    if "/" not in name:
        # a backslash is no path separator here: the file is accepted, and its stored
        # name is one plain name (whether its backslashes survive the multipart
        # quoting is test_files.test_upload_name_backslash_as_a_browser_sends_it)
        assert r.status_code == 201, r.text
        f = assert_file(r.json())
        assert f["name"].endswith(f"netra-escape-{u}") and "/" not in f["name"], f
    else:
        assert_error(r, 400, "Name must not contain '/'")
        assert list_files(who.client) == ([], 0)
    places = [os.path.join(server.workdir, d, f) for d, _, fs in os.walk(server.workdir)
              for f in fs]
    for top in ("/tmp", os.path.dirname(server.workdir), os.path.dirname(server.data_dir)):
        places += os.listdir(top)
    leaked = [p for p in places if f"netra-escape-{u}" in p]
    assert not leaked, leaked


# ---------------------------------------------------------------- internals

def test_no_internals_anywhere(user_factory):
    u = user_factory("int")
    c = u.client
    d = create_folder(c, "d")
    f = upload_file(c, "internals.bin", b"no internals", d["id"])
    g = upload_file(c, "binned.bin", b"binned", d["id"])
    assert c.put(f"{API}/files/{g['id']}/bin").status_code == 200
    bodies = [f]
    for t in ("file", "files"):
        for action, body in (("star", None), ("rename", {"new_name": "internals2.bin"}),
                             ("move", {"new_parent_id": None})):
            r = c.put(f"{API}/{t}/{f['id']}/{action}", json=body)
            assert r.status_code == 200, r.text
            bodies.append(assert_file(r.json()))
    for p in ({}, {"folder_id": d["id"]}, {"include_deleted": "true"}, {"is_starred": "true"}):
        r = c.get(f"{API}/files", params=p)
        assert r.status_code == 200, r.text
        bodies.append(r.json())
        for x in r.json():
            assert_file(x)
    bodies.append(c.get(f"{API}/files/search/", params={"q": "internals"}).json())
    r = c.post(f"{API}/share/generate/{f['id']}")
    assert r.status_code == 201, r.text   # the file's first link
    bodies.append(r.json())
    bodies.append(c.get(f"{API}/share/").json())
    bodies.append(storage_usage(c))
    for body in bodies:
        assert_no_internals(body)

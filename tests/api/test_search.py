"""Search (API §5): GET /api/v1/files/search/?q=&limit= over the
user's non-deleted files and folders. Case-insensitive (incl. Latin-1 accents,
Greek, Cyrillic) substring of the name, q taken literally (no LIKE / GLOB /
regex metacharacters), best matches first (exact, prefix, substring), binned
items and other users' items never appear."""
import uuid

import pytest

from helpers import (API, assert_error, assert_file, assert_folder, bin_folder, create_folder,
                     make_user, restore_folder, upload_file)

SOFIA = "\u03a3\u039f\u03a6\u0399\u0391"                      # Greek capitals
SOFOS = "\u03c3\u03bf\u03c6\u03cc\u03c2.txt"                 # Greek small, final sigma
DOKUMENTY = "\u0414\u043e\u043a\u0443\u043c\u0435\u043d\u0442\u044b"  # Cyrillic
DOKUMENT_TXT = "\u0414\u043e\u043a\u0443\u043c\u0435\u043d\u0442.txt"

# (name, parent name or None)
FOLDERS = [
    ("Report", None), ("Reports 2024", None), ("Annual report", "Reports 2024"),
    ("100% sure", None), ("percent", None), ("under_score", None), ("star*name", None),
    ("dot.name", None), ("dotXname", None), ("[abc]", None), ("a", None), ("b", None),
    ("(paren)", None), ("back\\slash", None), ("it's", None), ("\u00c9COLE", None),
    (SOFIA, None), (DOKUMENTY, None),
    ("C++ notes", None), ("MiXeD CaSe", "Report"),
    ("binned report", None), ("inside binned", "binned report"),
]
# (name, folder name or None)
FILES = [
    ("report.txt", None), ("old report.pdf", "Annual report"), ("REPORT", "Report"),
    ("under_file.txt", None), ("underXfile.txt", None), ("star*file.txt", "star*name"),
    ("[bracket].txt", None), ("(paren).txt", None), ("it's.txt", None),
    ("caf\u00e9.txt", None), (DOKUMENT_TXT, None), (SOFOS, None),
    ("note", None), ("notebook.txt", None), ("Notes.md", "Report"), ("my note", None),
    ("footnote", "dot.name"),
    ("binned report.txt", None), ("report in binned folder.txt", "binned report"),
]


@pytest.fixture(scope="module")
def corpus(server):
    u = make_user(server, prefix="srch")
    c = u.client
    folders, files = {}, {}
    for name, parent in FOLDERS:
        folders[name] = create_folder(c, name, folders[parent]["id"] if parent else None)
    for i, (name, folder) in enumerate(FILES):
        files[name] = upload_file(c, name, b"content %d" % i,
                                  folders[folder]["id"] if folder else None)
    r = c.put(f"{API}/files/{files['binned report.txt']['id']}/bin")
    assert r.status_code == 200, r.text
    bin_folder(c, folders["binned report"]["id"])
    # another user's look-alikes
    o = make_user(server, prefix="srcho")
    create_folder(o.client, "report secret")
    create_folder(o.client, "100% theirs")
    upload_file(o.client, "report-other.txt", b"theirs")
    upload_file(o.client, "note", b"theirs too")
    return u, o, folders, files


def search(client, q=None, expect=200, slash=True, **params):
    if q is not None:
        params["q"] = q
    r = client.get(f"{API}/files/search" + ("/" if slash else ""), params=params)
    assert r.status_code == expect, f"search {params}: {r.status_code} {r.text[:500]}"
    body = r.json()
    if expect != 200:
        return body
    assert isinstance(body, dict) and set(body) == {"folders", "files"}, body
    assert isinstance(body["folders"], list) and isinstance(body["files"], list), body
    for f in body["folders"]:
        assert_folder(f, deleted=False)
    for f in body["files"]:
        assert_file(f, deleted=False)
    return body


def fnames(body):
    return [f["name"] for f in body["folders"]], [f["name"] for f in body["files"]]


@pytest.mark.parametrize("q,folders,files", [
    ("%", ["100% sure"], []),
    ("%%", [], []),
    ("%_", [], []),
    ("_", ["under_score"], ["under_file.txt"]),
    ("under_file", [], ["under_file.txt"]),
    ("*", ["star*name"], ["star*file.txt"]),
    ("star*", ["star*name"], ["star*file.txt"]),
    ("r*n", ["star*name"], []),
    ("e*n", [], []),
    ("t.n", ["dot.name"], []),
    (".*", [], []),
    ("[", ["[abc]"], ["[bracket].txt"]),
    ("[abc]", ["[abc]"], []),
    ("[a-z]", [], []),
    ("(", ["(paren)"], ["(paren).txt"]),
    ("(paren)", ["(paren)"], ["(paren).txt"]),
    ("\\", ["back\\slash"], []),
    ("k\\s", ["back\\slash"], []),
    ("'", ["it's"], ["it's.txt"]),
    ("it's", ["it's"], ["it's.txt"]),
    ("' OR '1'='1", [], []),
    ("'; DROP TABLE files; --", [], []),
    ("?", [], []),
    ("c++", ["C++ notes"], []),
    ("^a", [], []),
    ("a$", [], []),
    ("{", [], []),
])
def test_metacharacters_are_literal(corpus, q, folders, files):
    u = corpus[0]
    got_folders, got_files = fnames(search(u.client, q))
    assert sorted(got_folders) == sorted(folders), (q, got_folders)
    assert sorted(got_files) == sorted(files), (q, got_files)


@pytest.mark.parametrize("q,folders,files", [
    ("mixed case", ["MiXeD CaSe"], []),
    ("MIXED", ["MiXeD CaSe"], []),
    ("\u00e9cole", ["\u00c9COLE"], []),
    ("\u00c9cOlE", ["\u00c9COLE"], []),
    ("CAF\u00c9", [], ["caf\u00e9.txt"]),
    ("caf\u00e9.TXT", [], ["caf\u00e9.txt"]),
    ("\u03c3\u03bf\u03c6", [SOFIA], [SOFOS]),
    ("\u03a3\u039f\u03a6", [SOFIA], [SOFOS]),
    ("\u0434\u043e\u043a", [DOKUMENTY], [DOKUMENT_TXT]),
    ("\u0414\u041e\u041a\u0423\u041c\u0415\u041d\u0422", [DOKUMENTY], [DOKUMENT_TXT]),
    ("annual REPORT", ["Annual report"], []),
])
def test_case_insensitive(corpus, q, folders, files):
    u = corpus[0]
    got_folders, got_files = fnames(search(u.client, q))
    assert sorted(got_folders) == sorted(folders), (q, got_folders)
    assert sorted(got_files) == sorted(files), (q, got_files)


@pytest.mark.parametrize("q", ["report", "REPORT", "RePoRt"])
def test_best_matches_first(corpus, q):
    u, _, folders, files = corpus
    body = search(u.client, q)
    # exact name, then prefix, then substring; binned ones are missing
    assert [f["id"] for f in body["folders"]] == [folders["Report"]["id"],
                                                  folders["Reports 2024"]["id"],
                                                  folders["Annual report"]["id"]]
    assert [f["id"] for f in body["files"]] == [files["REPORT"]["id"], files["report.txt"]["id"],
                                                files["old report.pdf"]["id"]]


def test_best_matches_first_groups(corpus):
    u = corpus[0]
    _, got = fnames(search(u.client, "note"))
    assert len(got) == 5, got
    assert got[0] == "note"
    assert sorted(got[1:3]) == ["Notes.md", "notebook.txt"]
    assert sorted(got[3:]) == ["footnote", "my note"]
    folders, _ = fnames(search(u.client, "note"))
    assert folders == ["C++ notes"]


def test_objects_are_complete(corpus):
    u, _, folders, files = corpus
    body = search(u.client, "old report")
    assert body["folders"] == []
    assert len(body["files"]) == 1
    assert_file(body["files"][0], name="old report.pdf", folder_id=folders["Annual report"]["id"],
                owner_id=u.id, size=len(b"content 1"), hash=files["old report.pdf"]["hash"])
    body = search(u.client, "annual")
    assert_folder(body["folders"][0], name="Annual report",
                  parent_id=folders["Reports 2024"]["id"], owner_id=u.id)


def test_binned_never_found(corpus):
    u = corpus[0]
    assert fnames(search(u.client, "binned")) == ([], [])
    assert fnames(search(u.client, "inside")) == ([], [])


def test_other_users_never_found(corpus):
    u, o = corpus[0], corpus[1]
    assert fnames(search(u.client, "secret")) == ([], [])
    assert fnames(search(u.client, "theirs")) == ([], [])
    assert fnames(search(u.client, "report-other")) == ([], [])
    # and the other user sees only their own
    got_folders, got_files = fnames(search(o.client, "report"))
    assert got_folders == ["report secret"] and got_files == ["report-other.txt"]
    assert fnames(search(o.client, "%")) == (["100% theirs"], [])
    assert fnames(search(o.client, "note")) == ([], ["note"])


def test_no_match(corpus):
    assert fnames(search(corpus[0].client, "zzz-" + uuid.uuid4().hex)) == ([], [])


def test_trailing_slash_optional(corpus):
    u = corpus[0]
    a = search(u.client, "report", slash=True)
    b = search(u.client, "report", slash=False)
    assert a == b and len(a["folders"]) == 3


@pytest.mark.parametrize("params", [{}, {"q": ""}])
def test_empty_or_missing_q_422(corpus, params):
    u = corpus[0]
    for slash in ("/", ""):
        assert_error(u.client.get(f"{API}/files/search{slash}", params=params), 422,
                     "Query must not be empty")


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5"])
def test_bad_limit(corpus, limit):
    r = corpus[0].client.get(f"{API}/files/search/", params={"q": "report", "limit": limit})
    assert_error(r, 400, "limit must be an integer from 1 to 1000")


def test_unauthenticated(client):
    assert_error(client.get(f"{API}/files/search/", params={"q": "report"}), 401,
                 "Not authenticated")


def test_limit(user_factory):
    u = user_factory("lim")
    for i in range(105):
        create_folder(u.client, f"many-{i:03d}")
    body = search(u.client, "many-")
    assert len(body["folders"]) == 100 and body["files"] == []
    assert all(n.startswith("many-") for n in fnames(body)[0])
    body = search(u.client, "MANY", limit=7)
    assert len(body["folders"]) == 7
    body = search(u.client, "many-10", limit=50)
    assert sorted(fnames(body)[0]) == [f"many-{i:03d}" for i in range(100, 105)]


def test_bin_restore_delete_rename_move(user_factory):
    u = user_factory("sbr")
    c = u.client
    top = create_folder(c, "Quarterly")
    sub = create_folder(c, "quarterly sub", top["id"])
    f = upload_file(c, "quarterly.xls", b"q1", sub["id"])
    g = upload_file(c, "loose quarterly", b"q2")
    assert sorted(map(sorted, fnames(search(c, "quarterly")))) == \
        [["Quarterly", "quarterly sub"], ["loose quarterly", "quarterly.xls"]]
    bin_folder(c, top["id"])
    assert fnames(search(c, "quarterly")) == ([], ["loose quarterly"])
    restore_folder(c, top["id"])
    assert sorted(fnames(search(c, "quarterly"))[1]) == ["loose quarterly", "quarterly.xls"]
    assert c.put(f"{API}/files/{g['id']}/bin").status_code == 200
    assert fnames(search(c, "loose")) == ([], [])
    assert c.put(f"{API}/files/{g['id']}/restore").status_code == 200
    assert fnames(search(c, "loose")) == ([], ["loose quarterly"])
    # rename: found under the new name only
    r = c.put(f"{API}/files/{f['id']}/rename", json={"new_name": "annual.xls"})
    assert r.status_code == 200, r.text
    assert fnames(search(c, "annual")) == ([], ["annual.xls"])
    assert "quarterly.xls" not in fnames(search(c, "quarterly"))[1]
    # moved items are still found, with their new parent
    r = c.put(f"{API}/files/{f['id']}/move", json={"new_parent_id": None})
    assert r.status_code == 200, r.text
    body = search(c, "annual")
    assert body["files"][0]["folder_id"] is None
    # deleted for good
    assert c.delete(f"{API}/files/{f['id']}").status_code == 200
    assert fnames(search(c, "annual")) == ([], [])
    assert c.delete(f"{API}/folders/{top['id']}").status_code == 200
    assert fnames(search(c, "quarterly")) == ([], ["loose quarterly"])

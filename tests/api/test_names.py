"""Name rules of API §1 that go beyond bytes: bidirectional formatting
characters are refused (they make `gpj.exe` look like `exe.jpg`), and names are
normalised to NFC, so `café` typed precomposed (U+00E9) or decomposed
(e + U+0301) is one name: stored, compared and searched as NFC."""
import uuid

import pytest

from helpers import (API, NAME_BIDI, NAME_LONG, assert_error, assert_file, create_folder,
                     list_files, list_folders, names, upload_file, upload_raw)

NFC = "caf\u00e9"
NFD = "cafe\u0301"
CLASH = "A folder with this name already exists here"
# Every bidirectional formatting character (Unicode Bidi_Control): ALM, LRM, RLM,
# LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
BIDI = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.fixture
def box(user):
    return create_folder(user.client, "names-" + uuid.uuid4().hex[:10])


def _search(client, q):
    r = client.get(f"{API}/files/search", params={"q": q})
    assert r.status_code == 200, r.text
    body = r.json()
    return [f["name"] for f in body["folders"]], [f["name"] for f in body["files"]]


# ---------------------------------------------------------------- NFC

def test_nfd_folder_clashes_with_nfc_sibling(user, box):
    create_folder(user.client, NFC, box["id"])
    assert_error(user.client.post(f"{API}/folders", json={"name": NFD, "parent_id": box["id"]}),
                 409, CLASH)
    # and the other way round, case-insensitively too
    other = create_folder(user.client, "other", box["id"])
    create_folder(user.client, "CAFE\u0301", other["id"])
    assert_error(user.client.post(f"{API}/folders", json={"name": "caf\u00e9",
                                                          "parent_id": other["id"]}), 409, CLASH)
    assert names(list_folders(user.client, parent_id=box["id"])[0]) == [NFC, "other"]


def test_folder_name_stored_as_nfc(user, box):
    f = create_folder(user.client, NFD, box["id"])
    assert f["name"] == NFC
    assert names(list_folders(user.client, parent_id=box["id"])[0]) == [NFC]
    r = user.client.put(f"{API}/folders/{f['id']}/rename", json={"new_name": "Cre\u0300me"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Cr\u00e8me"


def test_file_name_stored_as_nfc(user, box):
    f = upload_file(user.client, NFD + ".txt", b"nfd", box["id"])
    assert_file(f, name=NFC + ".txt", folder_id=box["id"])
    r = user.client.put(f"{API}/files/{f['id']}/rename", json={"new_name": "na\u0308ive.txt"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "n\u00e4ive.txt"
    assert names(list_files(user.client, folder_id=box["id"])[0]) == ["n\u00e4ive.txt"]


def test_nfc_that_outgrows_255_bytes_is_refused(user, box):
    # U+0958 (3 bytes) is a composition exclusion: its NFC is U+0915 U+093C (6 bytes).
    assert_error(user.client.post(f"{API}/folders",
                                  json={"name": "\u0958" * 85, "parent_id": box["id"]}),
                 400, NAME_LONG)
    f = create_folder(user.client, "\u0958" * 42, box["id"])
    assert f["name"] == "\u0915\u093c" * 42


def test_search_nfd_query_finds_nfc_name(user_factory):
    u = user_factory("nfcq")
    upload_file(u.client, "r\u00e9sum\u00e9 2024.pdf", b"cv")
    create_folder(u.client, "Caf\u00e9 photos")
    folders, files = _search(u.client, "re\u0301sume\u0301")
    assert files == ["r\u00e9sum\u00e9 2024.pdf"] and folders == []
    folders, files = _search(u.client, "CAFE\u0301")   # short query: the scan path
    assert folders == ["Caf\u00e9 photos"] and files == []
    # a name uploaded in NFD is found by an NFC query
    upload_file(u.client, "Ma\u0308rchen.txt", b"tale")
    assert _search(u.client, "M\u00e4rchen")[1] == ["M\u00e4rchen.txt"]


# ---------------------------------------------------------------- bidi controls

@pytest.mark.parametrize("ch", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_create_folder_with_bidi_control_400(user, box, ch):
    assert_error(user.client.post(f"{API}/folders", json={"name": f"a{ch}b",
                                                          "parent_id": box["id"]}),
                 400, NAME_BIDI)


def test_upload_rlo_name_400(user, box):
    # "gpj.exe" after RLO displays as "exe.jpg"
    r = upload_raw(user.client, [("file", "photo\u202egpj.exe", b"MZ")], folder_id=box["id"])
    assert_error(r, 400, NAME_BIDI)
    assert list_files(user.client, folder_id=box["id"])[0] == []


def test_rename_folder_to_lri_400(user, box):
    f = create_folder(user.client, "plain", box["id"])
    assert_error(user.client.put(f"{API}/folders/{f['id']}/rename",
                                 json={"new_name": "\u2066evil\u2069"}), 400, NAME_BIDI)
    assert names(list_folders(user.client, parent_id=box["id"])[0]) == ["plain"]


def test_rename_file_to_rlm_400(user, box):
    f = upload_file(user.client, "ok.txt", b"x", box["id"])
    assert_error(user.client.put(f"{API}/files/{f['id']}/rename",
                                 json={"new_name": "ok\u200f.txt"}), 400, NAME_BIDI)


def test_other_format_characters_still_allowed(user, box):
    # Only the bidi controls are refused: ZWJ (emoji sequences) and ZWNJ stay valid.
    for name in ("\U0001f469\u200d\U0001f4bb", "mi\u200cxed"):
        assert create_folder(user.client, name, box["id"])["name"] == name

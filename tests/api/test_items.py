"""Item actions (API §6) on folders: rename, move, star, unstar, bin,
restore through /api/v1/{item_type}/{id}/..., item_type singular and plural,
and emptying the bin."""
import time
import uuid

import pytest

from helpers import (API, NAME_CONTROL, NAME_DOTS, NAME_EMPTY, NAME_LONG, NAME_SLASH,
                     assert_error, assert_folder, assert_message, bin_folder, create_folder,
                     folder_path, json_syntax, list_folders, names)

TYPES = ["folder", "folders"]


@pytest.fixture
def box(user):
    return create_folder(user.client, "ibox-" + uuid.uuid4().hex[:10])


def _put(client, t, fid, action, body=None):
    if body is None:
        return client.put(f"{API}/{t}/{fid}/{action}")
    return client.put(f"{API}/{t}/{fid}/{action}", json=body)


# ---------------------------------------------------------------- rename

@pytest.mark.parametrize("t", TYPES)
def test_rename(user, box, t):
    c = user.client
    f = create_folder(c, "old", box["id"])
    time.sleep(0.005)
    r = _put(c, t, f["id"], "rename", {"new_name": "  new name  "})
    assert r.status_code == 200, r.text
    g = assert_folder(r.json(), name="new name", parent_id=box["id"], owner_id=user.id)
    assert g["id"] == f["id"] and g["created_at"] == f["created_at"]
    assert g["updated_at"] > f["updated_at"]
    assert names(list_folders(c, parent_id=box["id"])[0]) == ["new name"]


def test_rename_clash_409(user, box):
    c = user.client
    a = create_folder(c, "Alpha", box["id"])
    b = create_folder(c, "beta", box["id"])
    assert_error(_put(c, "folders", b["id"], "rename", {"new_name": "alpha"}), 409,
                 "A folder with this name already exists here")
    assert_error(_put(c, "folder", b["id"], "rename", {"new_name": " ALPHA "}), 409,
                 "A folder with this name already exists here")
    # renaming to its own name in another case is not a clash
    r = _put(c, "folders", a["id"], "rename", {"new_name": "ALPHA"})
    assert r.status_code == 200 and r.json()["name"] == "ALPHA"
    # a binned sibling does not clash
    bin_folder(c, a["id"])
    r = _put(c, "folders", b["id"], "rename", {"new_name": "alpha"})
    assert r.status_code == 200 and r.json()["name"] == "alpha"


BAD_NEW_NAMES = [("", NAME_EMPTY), ("   ", NAME_EMPTY), ("a/b", NAME_SLASH), (".", NAME_DOTS),
                 ("..", NAME_DOTS), ("x" * 256, NAME_LONG), ("nul\u0000", NAME_CONTROL),
                 ("cr\r", NAME_CONTROL)]


@pytest.mark.parametrize("bad,detail", BAD_NEW_NAMES, ids=[b for b, _ in BAD_NEW_NAMES])
def test_rename_invalid_400(user, box, bad, detail):
    f = create_folder(user.client, "keepname", box["id"])
    assert_error(_put(user.client, "folders", f["id"], "rename", {"new_name": bad}), 400, detail)
    assert names(list_folders(user.client, parent_id=box["id"])[0]) == ["keepname"]


RENAME_422 = [({}, "Field 'new_name' is required"), ({"name": "x"}, "Field 'new_name' is required"),
              ({"new_name": None}, "Field 'new_name' is required"),
              ({"new_name": 1}, "Field 'new_name' must be a string"),
              ({"new_name": ["x"]}, "Field 'new_name' must be a string")]


@pytest.mark.parametrize("body,detail", RENAME_422)
def test_rename_body_422(user, box, body, detail):
    f = create_folder(user.client, "r422", box["id"])
    assert_error(_put(user.client, "folders", f["id"], "rename", body), 422, detail)


def test_rename_body_not_json(user, box):
    f = create_folder(user.client, "r415", box["id"])
    r = user.client.put(f"{API}/folders/{f['id']}/rename", data="new_name=x",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "Content-Type must be application/json")
    r = user.client.put(f"{API}/folders/{f['id']}/rename", data=b'{"new_name":',
                        headers={"Content-Type": "application/json"})
    assert_error(r, 422, json_syntax(1, 12))


# ---------------------------------------------------------------- move

@pytest.mark.parametrize("t", TYPES)
def test_move(user, box, t):
    c = user.client
    src = create_folder(c, "src", box["id"])
    dst = create_folder(c, "dst", box["id"])
    kid = create_folder(c, "kid", src["id"])
    create_folder(c, "kidkid", kid["id"])
    r = _put(c, t, kid["id"], "move", {"new_parent_id": dst["id"]})
    assert r.status_code == 200, r.text
    assert_folder(r.json(), name="kid", parent_id=dst["id"], owner_id=user.id)
    assert list_folders(c, parent_id=src["id"])[0] == []
    assert names(list_folders(c, parent_id=dst["id"])[0]) == ["kid"]
    assert [p["name"] for p in folder_path(c, kid["id"])] == [box["name"], "dst", "kid"]
    assert names(list_folders(c, parent_id=kid["id"])[0]) == ["kidkid"]


@pytest.mark.parametrize("root", [None, "root"])
def test_move_to_root(user, box, root):
    c = user.client
    f = create_folder(c, "to-root-" + uuid.uuid4().hex[:8], box["id"])
    r = _put(c, "folders", f["id"], "move", {"new_parent_id": root})
    assert r.status_code == 200, r.text
    assert_folder(r.json(), parent_id=None)
    assert folder_path(c, f["id"]) == [{"id": f["id"], "name": f["name"]}]
    assert f["name"] in names(list_folders(c, limit=10000)[0])
    # and back
    r = _put(c, "folder", f["id"], "move", {"new_parent_id": box["id"]})
    assert r.status_code == 200 and r.json()["parent_id"] == box["id"]


def test_move_into_itself_or_descendant_400(user, box):
    c = user.client
    a = create_folder(c, "a", box["id"])
    b = create_folder(c, "b", a["id"])
    cc = create_folder(c, "c", b["id"])
    for target in (a["id"], b["id"], cc["id"]):
        for t in TYPES:
            assert_error(_put(c, t, a["id"], "move", {"new_parent_id": target}), 400,
                         "Cannot move a folder into itself or one of its subfolders")
    assert_error(_put(c, "folders", b["id"], "move", {"new_parent_id": cc["id"]}), 400,
                 "Cannot move a folder into itself or one of its subfolders")
    assert_error(_put(c, "folders", b["id"], "move", {"new_parent_id": b["id"]}), 400,
                 "Cannot move a folder into itself or one of its subfolders")
    assert [p["id"] for p in folder_path(c, cc["id"])] == [box["id"], a["id"], b["id"], cc["id"]]


def test_move_into_own_parent_is_fine(user, box):
    c = user.client
    a = create_folder(c, "stay", box["id"])
    r = _put(c, "folders", a["id"], "move", {"new_parent_id": box["id"]})
    assert r.status_code == 200 and r.json()["parent_id"] == box["id"]


def test_move_target_missing_or_binned_404(user, box):
    c = user.client
    a = create_folder(c, "mover", box["id"])
    binned = create_folder(c, "binned", box["id"])
    carried = create_folder(c, "carried", binned["id"])
    bin_folder(c, binned["id"])
    for target in ("doesnotexist", uuid.uuid4().hex, binned["id"], carried["id"]):
        assert_error(_put(c, "folders", a["id"], "move", {"new_parent_id": target}), 404,
                     "Folder not found")
    assert folder_path(c, a["id"])[-2]["id"] == box["id"]


def test_move_clash_409(user, box):
    c = user.client
    x = create_folder(c, "x", box["id"])
    y = create_folder(c, "y", box["id"])
    create_folder(c, "Same", x["id"])
    s2 = create_folder(c, "same", y["id"])
    assert_error(_put(c, "folders", s2["id"], "move", {"new_parent_id": x["id"]}), 409,
                 "A folder with this name already exists here")
    assert names(list_folders(c, parent_id=y["id"])[0]) == ["same"]
    # a binned folder of that name in the target does not clash
    z = create_folder(c, "z", box["id"])
    old = create_folder(c, "SAME", z["id"])
    bin_folder(c, old["id"])
    r = _put(c, "folders", s2["id"], "move", {"new_parent_id": z["id"]})
    assert r.status_code == 200 and r.json()["parent_id"] == z["id"]


@pytest.mark.parametrize("body", [{"new_parent_id": 5}, {"new_parent_id": ["x"]},
                                  {"new_parent_id": {"id": "x"}}, {"new_parent_id": True}])
def test_move_body_422(user, box, body):
    f = create_folder(user.client, "m422", box["id"])
    assert_error(_put(user.client, "folders", f["id"], "move", body), 422,
                 "Field 'new_parent_id' must be a string or null")


# ---------------------------------------------------------------- star / unstar

@pytest.mark.parametrize("t", TYPES)
def test_star_unstar(user, box, t):
    c = user.client
    f = create_folder(c, "starry", box["id"])
    r = _put(c, t, f["id"], "star")
    assert r.status_code == 200, r.text
    assert_folder(r.json(), name="starry", starred=True, parent_id=box["id"])
    r = _put(c, t, f["id"], "star")           # idempotent
    assert r.status_code == 200 and r.json()["is_starred"] is True
    listed, _ = list_folders(c, parent_id=box["id"], is_starred="true")
    assert [x["id"] for x in listed] == [f["id"]]
    r = _put(c, t, f["id"], "unstar")
    assert r.status_code == 200, r.text
    assert_folder(r.json(), starred=False)
    r = _put(c, t, f["id"], "unstar")
    assert r.status_code == 200 and r.json()["is_starred"] is False
    assert list_folders(c, parent_id=box["id"], is_starred="true")[0] == []
    assert list_folders(c, parent_id=box["id"])[0][0]["is_starred"] is False


def test_star_survives_bin_restore(user, box):
    c = user.client
    f = create_folder(c, "s", box["id"])
    r = _put(c, "folders", f["id"], "star")
    assert r.status_code == 200 and r.json()["is_starred"] is True, r.text
    bin_folder(c, f["id"])
    assert_message(_put(c, "folders", f["id"], "restore"))
    assert list_folders(c, parent_id=box["id"])[0][0]["is_starred"] is True


# ---------------------------------------------------------------- bin / restore via item routes

@pytest.mark.parametrize("t", TYPES)
def test_bin_restore_item_types(user, box, t):
    c = user.client
    f = create_folder(c, "b-" + t, box["id"])
    assert_message(_put(c, t, f["id"], "bin"))
    assert list_folders(c, parent_id=box["id"])[0] == []
    assert_message(_put(c, t, f["id"], "restore"))
    assert names(list_folders(c, parent_id=box["id"])[0]) == ["b-" + t]


# ---------------------------------------------------------------- item_type

@pytest.mark.parametrize("t", ["foo", "folderz", "Folders", "shares", "file.", "%2e%2e", "users"])
@pytest.mark.parametrize("action", ["rename", "move", "star", "unstar", "bin", "restore"])
def test_unknown_item_type_404(user, box, t, action):
    body = {"rename": {"new_name": "zz"}, "move": {"new_parent_id": None}}.get(action)
    assert_error(_put(user.client, t, box["id"], action, body), 404, "Not Found")


@pytest.mark.parametrize("t", ["file", "files"])
@pytest.mark.parametrize("action", ["rename", "move", "star", "unstar", "bin", "restore"])
def test_file_item_type_with_folder_id_404(user, box, t, action):
    body = {"rename": {"new_name": "zz"}, "move": {"new_parent_id": None}}.get(action)
    assert_error(_put(user.client, t, box["id"], action, body), 404, "File not found")


def test_unknown_item_type_changed_nothing(user, box):
    c = user.client
    f = create_folder(c, "untouched", box["id"])
    for t, detail in (("foo", "Not Found"), ("file", "File not found"),
                      ("files", "File not found")):
        assert_error(_put(c, t, f["id"], "rename", {"new_name": "changed"}), 404, detail)
        assert_error(_put(c, t, f["id"], "bin"), 404, detail)
        assert_error(_put(c, t, f["id"], "star"), 404, detail)
    listed, _ = list_folders(c, parent_id=box["id"])
    assert len(listed) == 1
    assert_folder(listed[0], name="untouched", deleted=False, starred=False)


@pytest.mark.parametrize("action", ["rename", "move", "star", "unstar", "bin", "restore"])
def test_unknown_id_404(user, action):
    body = {"rename": {"new_name": "zz"}, "move": {"new_parent_id": None}}.get(action)
    for t in TYPES:
        assert_error(_put(user.client, t, "doesnotexist", action, body), 404, "Folder not found")


def test_item_routes_require_auth(server, box):
    c = server.client()
    for action in ("rename", "move", "star", "unstar", "bin", "restore"):
        r = _put(c, "folders", box["id"], action, {"new_name": "x", "new_parent_id": None})
        assert_error(r, 401, "Not authenticated")
    assert_error(c.delete(f"{API}/bin"), 401, "Not authenticated")


# ---------------------------------------------------------------- empty bin

def test_empty_bin(server, user_factory):
    a = user_factory("emp")
    b = user_factory("emp")
    ca, cb = a.client, b.client
    keep = create_folder(ca, "keep")
    keep_kid = create_folder(ca, "keep-kid", keep["id"])
    gone1 = create_folder(ca, "gone1")
    gone1_kid = create_folder(ca, "gone1-kid", gone1["id"])
    gone2 = create_folder(ca, "gone2", keep["id"])
    bin_folder(ca, gone1["id"])
    bin_folder(ca, gone2["id"])
    b_binned = create_folder(cb, "b-binned")
    bin_folder(cb, b_binned["id"])
    r = ca.delete(f"{API}/bin")
    assert_message(r)
    assert list_folders(ca, include_deleted="true") == ([], 0)
    for fid in (gone1["id"], gone1_kid["id"], gone2["id"]):
        assert_error(ca.get(f"{API}/folders/{fid}/path"), 404, "Folder not found")
        assert_error(ca.put(f"{API}/folders/{fid}/restore"), 404, "Folder not found")
    assert names(list_folders(ca)[0]) == ["keep"]
    assert names(list_folders(ca, parent_id=keep["id"])[0]) == ["keep-kid"]
    assert keep_kid["parent_id"] == keep["id"]
    # the other user's bin is untouched
    listed, _ = list_folders(cb, include_deleted="true")
    assert [f["id"] for f in listed] == [b_binned["id"]]
    # emptying an empty bin is fine
    assert_message(ca.delete(f"{API}/bin"))
    r = ca.delete(f"{API}/bin/")
    assert r.status_code == 200, r.text

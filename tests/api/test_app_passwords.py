"""App passwords for WebDAV (SPEC §13, issue 15 point 3):
POST/GET/DELETE /api/v1/users/me/app-passwords. Named, random, shown once,
stored hashed, revocable, capped per user, and never a way into the login
routes. (Their use over /dav/ with HTTP Basic is tested with the WebDAV
suite.)"""
import re

import pytest

from helpers import API, assert_error, assert_ts, make_user

AP = f"{API}/users/me/app-passwords"
SECRET_RE = re.compile(r"^ndav_[A-Za-z0-9_-]{32}$")
BAD_LOGIN = "Incorrect username or password"
CAP = 50
CAP_DETAIL = "You have 50 app passwords, the most allowed. Delete one you no longer use first."


def _create(client, name, expect=201):
    r = client.post(AP, json={"name": name})
    assert r.status_code == expect, f"create {name!r}: {r.status_code} {r.text}"
    return r.json()


def _list(client):
    r = client.get(AP)
    assert r.status_code == 200, r.text
    return r


def test_create_shape(user):
    body = _create(user.client, "rclone on the laptop")
    assert set(body) == {"id", "name", "password", "created_at"}
    assert body["name"] == "rclone on the laptop"
    assert SECRET_RE.match(body["password"]), body["password"]
    assert_ts(body["created_at"])
    assert isinstance(body["id"], str) and body["id"]


def test_passwords_are_random(user):
    a, b = _create(user.client, "same"), _create(user.client, "same")
    assert a["id"] != b["id"]
    assert a["password"] != b["password"]


def test_list_never_shows_the_secret(user_factory):
    u = user_factory()
    assert _list(u.client).json() == []
    first = _create(u.client, "first")
    second = _create(u.client, "  second  ")  # trimmed
    r = _list(u.client)
    items = r.json()
    assert [i["id"] for i in items] == [second["id"], first["id"]]  # newest first
    for item, made in zip(items, (second, first)):
        assert set(item) == {"id", "name", "created_at", "last_used_at"}
        assert item["name"] == made["name"]
        assert item["created_at"] == made["created_at"]
        assert item["last_used_at"] is None
    assert items[0]["name"] == "second"
    assert first["password"] not in r.text and second["password"] not in r.text
    assert "ndav_" not in r.text


def test_delete(user_factory):
    u = user_factory()
    keep, gone = _create(u.client, "keep"), _create(u.client, "gone")
    r = u.client.delete(f"{AP}/{gone['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert [i["id"] for i in _list(u.client).json()] == [keep["id"]]
    assert_error(u.client.delete(f"{AP}/{gone['id']}"), 404, "App password not found")
    assert_error(u.client.delete(f"{AP}/not-an-id"), 404, "App password not found")


def test_other_users_app_password_is_404(user_factory):
    owner, other = user_factory(), user_factory()
    made = _create(owner.client, "mine")
    assert _list(other.client).json() == []
    assert_error(other.client.delete(f"{AP}/{made['id']}"), 404, "App password not found")
    assert [i["id"] for i in _list(owner.client).json()] == [made["id"]]


@pytest.mark.parametrize("body,detail", [
    ({}, "Field 'name' is required"),
    ({"name": None}, "Field 'name' is required"),
    ({"name": 5}, "Field 'name' must be a string"),
    ({"name": ["x"]}, "Field 'name' must be a string"),
    ({"name": ""}, "Name must not be empty"),
    ({"name": "   "}, "Name must not be empty"),
    ({"name": "x" * 101}, "Name must be at most 100 characters"),
    ({"name": "é" * 101}, "Name must be at most 100 characters"),
    ({"name": "x" * 5000}, "Name must be at most 100 characters"),
    ({"name": "tab\there"}, "Name must not contain control characters"),
    ({"name": "line\nbreak"}, "Name must not contain control characters"),
    ({"name": "c1\u0085"}, "Name must not contain control characters"),
    ({"name": "nul\u0000"}, "Name must not contain control characters"),
])
def test_name_validation(user, body, detail):
    assert_error(user.client.post(AP, json=body), 422, detail)


def test_name_limits_accepted(user_factory):
    u = user_factory()
    assert _create(u.client, "x" * 100)["name"] == "x" * 100
    assert _create(u.client, "é" * 100)["name"] == "é" * 100  # characters, not bytes
    assert _create(u.client, "Ünïcødé 📁 / Finder")["name"] == "Ünïcødé 📁 / Finder"
    # NFC: a decomposed e + combining acute is stored composed.
    assert _create(u.client, "cafe\u0301")["name"] == "caf\u00e9"


def test_bad_bodies(user):
    r = user.client.post(AP, data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    r = user.client.post(AP, data="name=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text


def test_needs_a_token(server, client):
    for method, path in (("GET", AP), ("POST", AP), ("DELETE", f"{AP}/abc")):
        r = client.request(method, path, json={"name": "x"} if method == "POST" else None)
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"


def test_cap_per_user(user_factory):
    u = user_factory()
    made = [_create(u.client, f"n{i}") for i in range(CAP)]
    assert len(_list(u.client).json()) == CAP
    assert_error(u.client.post(AP, json={"name": "one too many"}), 409, CAP_DETAIL)
    # The cap is per user: another user is unaffected.
    other = user_factory()
    _create(other.client, "fine")
    # Deleting one makes room again.
    assert u.client.delete(f"{AP}/{made[0]['id']}").status_code == 204
    _create(u.client, "room again")
    assert_error(u.client.post(AP, json={"name": "again too many"}), 409, CAP_DETAIL)


def test_not_usable_to_log_in(server, user_factory):
    u = user_factory()
    secret = _create(u.client, "webdav only")["password"]
    anon = server.client()
    for login in (u.username, u.email, u.username.upper()):
        r = anon.post(f"{API}/auth/token", data={"username": login, "password": secret})
        assert_error(r, 401, BAD_LOGIN)
    # The account's own password still works, and the app password is still listed.
    u.login()
    assert len(_list(u.client).json()) == 1


def test_survives_a_restart(server_factory):
    srv = server_factory()
    u = make_user(srv)
    made = _create(u.client, "persisted")
    srv.stop()
    srv.start()
    u.client = srv.client(u.access_token)
    items = _list(u.client).json()
    assert [i["id"] for i in items] == [made["id"]]
    assert u.client.delete(f"{AP}/{made['id']}").status_code == 204

"""Accounts and tokens (API §3): signup, login, refresh rotation and
theft detection, logout, email verification and password reset over SMTP,
login throttling."""
import time
import uuid

import pytest

from helpers import (API, NOT_AN_OBJECT, TS_RE, User, assert_error, assert_message, decode_jwt,
                     json_syntax, make_user, signup, unique)

# Wrong-password tests share this server; keep address-based throttling out of the way
# (the default limit is tested on its own server below).
SERVER_ENV = {"LOGIN_MAX_FAILURES": "1000"}

PUBLIC_URL = "http://drive.example:8080"
SMTP_FROM = "netradrive@drive.example"
NOT_VERIFIED = "Email not verified. Please check your inbox."
BAD_CREDS = "Could not validate credentials"
BAD_LOGIN = "Incorrect username or password"
BAD_LINK = "Invalid or expired token"


def _login(client, username, password):
    return client.post(f"{API}/auth/token", data={"username": username, "password": password})


def _refresh(client, token):
    return client.post(f"{API}/auth/refresh_token", json={"refresh_token": token})


def _new_identity(prefix="s"):
    name = unique(prefix)
    return name, f"{name.lower()}@example.com", "pw-" + uuid.uuid4().hex


# ---------------------------------------------------------------- signup

def test_signup_login_me(server, client):
    name, mail, pw = _new_identity()
    r = signup(client, name, mail, pw)
    assert_message(r, 201)
    r = _login(client, name, pw)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer"
    assert isinstance(tok["access_token"], str) and isinstance(tok["refresh_token"], str)
    assert tok["access_token"] != tok["refresh_token"]
    me = server.client(tok["access_token"]).get(f"{API}/users/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert {"id", "username", "email", "is_verified", "created_at"} <= set(body)
    assert isinstance(body["id"], str) and body["id"]
    assert body["username"] == name
    assert body["email"] == mail
    assert body["is_verified"] is True  # no SMTP configured: verified at signup
    assert TS_RE.match(body["created_at"]), body["created_at"]
    assert "password" not in str(body).lower() and "hash" not in body


def test_login_with_email(server, client):
    name, mail, pw = _new_identity()
    assert signup(client, name, mail, pw).status_code == 201
    r = _login(client, mail, pw)
    assert r.status_code == 200, r.text
    me = server.client(r.json()["access_token"]).get(f"{API}/users/me").json()
    assert me["username"] == name


def test_token_claims(user):
    h, p = decode_jwt(user.access_token)
    assert h["alg"] == "HS256"
    assert p["typ"] == "access"
    assert p["sub"] == user.id
    assert p["username"] == user.username
    assert isinstance(p["jti"], str) and p["jti"]
    assert p["exp"] - p["iat"] == 30 * 60
    assert abs(p["iat"] - time.time()) < 120
    h, p = decode_jwt(user.refresh_token)
    assert h["alg"] == "HS256"
    assert p["typ"] == "refresh" and p["sub"] == user.id
    assert p["exp"] - p["iat"] == 7 * 86400


USERNAME_LEN = "Username must be 3 to 32 characters long"
USERNAME_CHARS = "Username may only contain letters, digits, '_', '.' and '-'"
BAD_USERNAMES = [("ab", USERNAME_LEN), ("a" * 33, USERNAME_LEN), ("has space", USERNAME_CHARS),
                 ("slash/x", USERNAME_CHARS), ("ümlaut", USERNAME_CHARS),
                 ("semi;colon", USERNAME_CHARS), ("at@sign", USERNAME_CHARS),
                 ("", "Username is required"), ("tab\tx", USERNAME_CHARS),
                 ("quote'x", USERNAME_CHARS)]


@pytest.mark.parametrize("username,detail", BAD_USERNAMES, ids=[u for u, _ in BAD_USERNAMES])
def test_signup_bad_username(client, username, detail):
    assert_error(signup(client, username, f"{uuid.uuid4().hex}@example.com", "password123"), 400,
                 detail)


ONE_AT = "Email must contain exactly one '@'"
BAD_EMAILS = [("notanemail", ONE_AT), ("a@", "Email domain is not valid"),
              ("@example.com", "Email local part must be 1 to 64 characters long"),
              ("a b@example.com", "Email local part is not valid"), ("", "Email is required"),
              ("a@@example.com", ONE_AT), ("a@example.com\nBcc: x@y.z", ONE_AT)]


@pytest.mark.parametrize("mail,detail", BAD_EMAILS, ids=[m for m, _ in BAD_EMAILS])
def test_signup_bad_email(client, mail, detail):
    assert_error(signup(client, unique("e"), mail, "password123"), 400, detail)


# The length is counted in bytes (API §3: 8-1024 bytes), whatever the message says.
SHORT_PW = "Password must be at least 8 characters long"


@pytest.mark.parametrize("pw,detail", [("", SHORT_PW), ("1234567", SHORT_PW),
                                       ("x" * 1025, "Password must be at most 1024 bytes long"),
                                       ("\u00e9\u00e9\u00e9", SHORT_PW)],
                         ids=["empty", "7-bytes", "1025-bytes", "3-chars-6-bytes"])
def test_signup_bad_password(client, pw, detail):
    assert_error(signup(client, unique("p"), f"{uuid.uuid4().hex}@example.com", pw), 400, detail)


def test_signup_edge_values_accepted(client):
    # 3 and 32 characters using every allowed punctuation; 8 and 1024 byte passwords;
    # a password of 4 two-byte characters is 8 bytes.
    tag = uuid.uuid4().hex
    cases = [("a.b", "x" * 8), (("Z_-." + tag).ljust(32, "9")[:32], "y" * 1024),
             ("m" + tag[:10], "\u00e9" * 4)]
    for i, (name, pw) in enumerate(cases):
        r = signup(client, name, f"{tag}{i}@example.com", pw)
        assert_message(r, 201)
        assert _login(client, name, pw).status_code == 200, name


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_signup_missing_field_422(client, missing):
    body = {"username": unique("m"), "email": f"{uuid.uuid4().hex}@example.com",
            "password": "password123"}
    del body[missing]
    assert_error(client.post(f"{API}/auth/signup", json=body), 422,
                 f"Field '{missing}' is required")


@pytest.mark.parametrize("field,value", [("username", 123), ("email", ["a@b.c"]),
                                         ("password", None), ("password", 12345678),
                                         ("username", {"x": 1})])
def test_signup_wrong_type_422(client, field, value):
    body = {"username": unique("t"), "email": f"{uuid.uuid4().hex}@example.com",
            "password": "password123"}
    body[field] = value
    # null counts as absent
    want = f"Field '{field}' is required" if value is None else f"Field '{field}' must be a string"
    assert_error(client.post(f"{API}/auth/signup", json=body), 422, want)


@pytest.mark.parametrize("raw,detail", [
    (b"{", json_syntax(1, 1)),
    (b"", NOT_AN_OBJECT),
    (b"[]", NOT_AN_OBJECT),
    (b"null", json_syntax(1, 4)),
    (b'{"username": "x",}', json_syntax(1, 18)),
    (b'{"username": "abc"} trailing', json_syntax(1, 28)),
], ids=["open-brace", "empty", "array", "null", "trailing-comma", "trailing-text"])
def test_signup_malformed_json_422(client, raw, detail):
    r = client.post(f"{API}/auth/signup", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 422, detail)


def test_signup_not_json_415(client):
    r = client.post(f"{API}/auth/signup", data={"username": unique(), "email": "a@example.com",
                                                "password": "password123"})
    assert_error(r, 415, "Content-Type must be application/json")
    r = client.post(f"{API}/auth/signup", data=b'{"username":"abc"}',
                    headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "Content-Type must be application/json")


def test_signup_body_too_large_413(client):
    body = {"username": unique(), "email": f"{uuid.uuid4().hex}@example.com",
            "password": "password123", "pad": "x" * (64 * 1024 + 100)}
    assert_error(client.post(f"{API}/auth/signup", json=body), 413, "Request body too large")


def test_signup_unknown_fields_ignored(client):
    name, mail, pw = _new_identity()
    r = client.post(f"{API}/auth/signup", json={"username": name, "email": mail, "password": pw,
                                                "is_verified": False, "id": "x", "extra": [1]})
    assert_message(r, 201)


def test_signup_duplicate_409(client):
    name, mail, pw = _new_identity("Dup")
    assert signup(client, name, mail, pw).status_code == 201
    # same username, other case; new email
    assert_error(signup(client, name.upper(), f"{uuid.uuid4().hex}@example.com", pw), 409,
                 "Username already registered")
    assert_error(signup(client, name.lower(), f"{uuid.uuid4().hex}@example.com", pw), 409,
                 "Username already registered")
    # same email, other case; new username
    assert_error(signup(client, unique("d"), mail.upper(), pw), 409, "Email already registered")
    assert_error(signup(client, unique("d"), mail, pw), 409, "Email already registered")


# ---------------------------------------------------------------- login

def test_login_wrong_credentials_401(user, client):
    assert_error(_login(client, user.username, user.password + "x"), 401, BAD_LOGIN)
    assert_error(_login(client, user.email, "wrong-password"), 401, BAD_LOGIN)
    assert_error(_login(client, "nobody_" + uuid.uuid4().hex[:8], "whatever123"), 401, BAD_LOGIN)
    assert_error(_login(client, "nobody@nowhere.example", "whatever123"), 401, BAD_LOGIN)


def test_login_wrong_username_and_wrong_password_same_answer(user, client):
    a = _login(client, user.username, "wrong-password-1")
    b = _login(client, "nobody_" + uuid.uuid4().hex[:8], "wrong-password-1")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_login_json_body_rejected(user, client):
    r = client.post(f"{API}/auth/token", json={"username": user.username,
                                               "password": user.password})
    assert_error(r, 415, "Content-Type must be application/x-www-form-urlencoded")


@pytest.mark.parametrize("form,missing", [({"username": "someone"}, "password"),
                                          ({"password": "password123"}, "username"),
                                          ({}, "username")])
def test_login_missing_fields_422(client, form, missing):
    assert_error(client.post(f"{API}/auth/token", data=form or None,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}), 422,
                 f"Form field '{missing}' is required")


def test_login_form_urlencoded_special_chars(client):
    name = unique("sp")
    pw = "p&ss=w+rd %20ü!"
    assert signup(client, name, f"{name.lower()}@example.com", pw).status_code == 201
    assert _login(client, name, pw).status_code == 200
    assert _login(client, name, "p&ss=w rd %20ü!").status_code == 401


# ---------------------------------------------------------------- /users/me

def test_me_requires_auth(client):
    r = client.get(f"{API}/users/me")
    assert_error(r, 401, "Not authenticated")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


# ---------------------------------------------------------------- refresh

def test_refresh_rotates(server, user_factory):
    u = user_factory("rot")
    c = server.client()
    r0 = u.refresh_token
    r = _refresh(c, r0)
    assert r.status_code == 200, r.text
    pair = r.json()
    assert pair.get("token_type", "bearer") == "bearer"
    a1, r1 = pair["access_token"], pair["refresh_token"]
    assert r1 != r0
    assert decode_jwt(a1)[1]["typ"] == "access"
    assert decode_jwt(r1)[1]["typ"] == "refresh"
    me = server.client(a1).get(f"{API}/users/me")
    assert me.status_code == 200 and me.json()["id"] == u.id
    # r1 still works and rotates again
    r = _refresh(c, r1)
    assert r.status_code == 200, r.text
    r2 = r.json()["refresh_token"]
    assert_error(_refresh(c, r1), 401, BAD_CREDS)   # used -> revoked
    # presenting a revoked token revoked the whole family: r2 is dead too
    assert_error(_refresh(c, r2), 401, BAD_CREDS)


def test_refresh_reuse_revokes_family_only(server, user_factory):
    u = user_factory("fam")
    c = server.client()
    other = _login(c, u.username, u.password).json()     # a second, independent family
    r0 = u.refresh_token
    r1 = _refresh(c, r0).json()["refresh_token"]
    assert_error(_refresh(c, r0), 401, BAD_CREDS)   # theft detected
    assert_error(_refresh(c, r1), 401, BAD_CREDS)   # family revoked
    r = _refresh(c, other["refresh_token"])               # other family untouched
    assert r.status_code == 200, r.text


def test_refresh_bad_tokens(server, user_factory, client):
    u = user_factory("rbad")
    r = _refresh(client, u.access_token)                  # access token is not a refresh token
    assert_error(r, 401, BAD_CREDS)
    assert_error(_refresh(client, "garbage"), 401, BAD_CREDS)
    assert_error(_refresh(client, u.refresh_token + "x"), 401, BAD_CREDS)
    # refresh token as Bearer
    r = server.client(u.refresh_token).get(f"{API}/users/me")
    assert_error(r, 401, BAD_CREDS)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    # none of that consumed the real refresh token
    assert _refresh(client, u.refresh_token).status_code == 200


def test_refresh_body_validation(client):
    assert_error(client.post(f"{API}/auth/refresh_token", json={}), 422,
                 "Field 'refresh_token' is required")
    assert_error(client.post(f"{API}/auth/refresh_token", json={"refresh_token": 5}), 422,
                 "Field 'refresh_token' must be a string")
    assert_error(client.post(f"{API}/auth/refresh_token", data=b"{",
                             headers={"Content-Type": "application/json"}), 422,
                 json_syntax(1, 1))
    assert_error(client.post(f"{API}/auth/refresh_token", data="refresh_token=x",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}), 415,
                 "Content-Type must be application/json")


# ---------------------------------------------------------------- logout

def test_logout_revokes_refresh_token(server, user_factory):
    u = user_factory("out")
    second = _login(server.client(), u.username, u.password)
    assert second.status_code == 200
    r = u.client.post(f"{API}/auth/logout", json={"refresh_token": u.refresh_token})
    assert r.status_code == 200, r.text
    assert_error(_refresh(server.client(), u.refresh_token), 401, BAD_CREDS)
    # another session of the same user is not logged out
    assert _refresh(server.client(), second.json()["refresh_token"]).status_code == 200


# ---------------------------------------------------------------- verify/reset without SMTP

def test_verify_email_invalid_token_400(client, user):
    assert_error(client.get(f"{API}/auth/verify-email", params={"token": "garbage"}), 400, BAD_LINK)
    # an access token is not a verify token
    assert_error(client.get(f"{API}/auth/verify-email", params={"token": user.access_token}), 400,
                 BAD_LINK)


def test_reset_password_invalid_token_400(client, user):
    r = client.post(f"{API}/auth/reset-password", json={"token": "garbage",
                                                        "new_password": "new-password-1"})
    assert_error(r, 400, BAD_LINK)
    r = client.post(f"{API}/auth/reset-password", json={"token": user.refresh_token,
                                                        "new_password": "new-password-1"})
    assert_error(r, 400, BAD_LINK)
    assert_error(client.post(f"{API}/auth/reset-password", json={"token": "x"}), 422,
                 "Field 'new_password' is required")
    # the user's password did not change
    assert _login(client, user.username, user.password).status_code == 200


def test_forgot_password_no_enumeration(client, user):
    a = client.post(f"{API}/auth/forgot-password", json={"email": user.email})
    b = client.post(f"{API}/auth/forgot-password", json={"email": "nobody@nowhere.example"})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert_message(a)
    assert_error(client.post(f"{API}/auth/forgot-password", json={}), 422,
                 "Field 'email' is required")


def test_resend_verification_no_enumeration(client, user):
    a = client.post(f"{API}/auth/resend-verification", json={"email": user.email})
    b = client.post(f"{API}/auth/resend-verification", json={"email": "nobody@nowhere.example"})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert_message(a)


# ---------------------------------------------------------------- email flows (SMTP)

@pytest.fixture(scope="module")
def mail_server(module_server_factory, module_smtp_sink):
    s = module_server_factory(env={"SMTP_URL": module_smtp_sink.url, "SMTP_FROM": SMTP_FROM,
                                   "PUBLIC_URL": PUBLIC_URL,
                                   "LOGIN_MAX_FAILURES": "1000"})
    s.sink = module_smtp_sink
    return s


def _signup_unverified(s):
    name, mail, pw = _new_identity("v")
    u = User(s, name, mail, pw)
    assert_message(signup(s.client(), name, mail, pw), 201)
    return u


def test_verification_flow(mail_server):
    s, sink = mail_server, mail_server.sink
    u = _signup_unverified(s)
    m = sink.wait_for(u.email)
    assert m.mail_from.lower() == SMTP_FROM
    token = m.token(PUBLIC_URL, "verify-email")
    assert_error(_login(s.client(), u.username, u.password), 401, NOT_VERIFIED)
    assert_error(_login(s.client(), u.email, u.password), 401, NOT_VERIFIED)
    r = s.client().get(f"{API}/auth/verify-email", params={"token": token})
    assert_message(r)
    assert_error(s.client().get(f"{API}/auth/verify-email", params={"token": token}), 400, BAD_LINK)
    u.login()
    me = u.client.get(f"{API}/users/me").json()
    assert me["is_verified"] is True and me["username"] == u.username


def test_unverified_wrong_password_is_plain_401(mail_server):
    s = mail_server
    u = _signup_unverified(s)
    s.sink.wait_for(u.email)
    r = _login(s.client(), u.username, "not-the-password")
    assert_error(r, 401, BAD_LOGIN)
    assert r.json()["detail"] != NOT_VERIFIED


def test_resend_verification(mail_server):
    s, sink = mail_server, mail_server.sink
    u = _signup_unverified(s)
    sink.wait_for(u.email)
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    a = s.client().post(f"{API}/auth/resend-verification", json={"email": ghost})
    b = s.client().post(f"{API}/auth/resend-verification", json={"email": u.email})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    m = sink.wait_for(u.email)
    token = m.token(PUBLIC_URL, "verify-email")
    assert_message(s.client().get(f"{API}/auth/verify-email", params={"token": token}))
    u.login()
    time.sleep(0.5)
    assert sink.messages_to(ghost) == []


def test_password_reset_flow(mail_server):
    s, sink = mail_server, mail_server.sink
    u = _signup_unverified(s)
    assert_message(s.client().get(f"{API}/auth/verify-email",
                                  params={"token": sink.wait_for(u.email).token(
                                      PUBLIC_URL, "verify-email")}))
    first = u.login()
    second = _login(s.client(), u.username, u.password).json()
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    a = s.client().post(f"{API}/auth/forgot-password", json={"email": ghost})
    b = s.client().post(f"{API}/auth/forgot-password", json={"email": u.email})
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    token = sink.wait_for(u.email).token(PUBLIC_URL, "reset-password")
    # a reset token is not a verify token
    assert_error(s.client().get(f"{API}/auth/verify-email", params={"token": token}), 400, BAD_LINK)
    # invalid new password: 400 (and the token is not used up by a rejected request)
    assert_error(s.client().post(f"{API}/auth/reset-password",
                                 json={"token": token, "new_password": "short"}), 400,
                 "Password must be at least 8 characters long")
    new_pw = "brand-new-" + uuid.uuid4().hex
    me = f"{API}/users/me"
    auth = lambda t: {"Authorization": f"Bearer {t}"}
    assert s.client().get(me, headers=auth(first["access_token"])).status_code == 200
    time.sleep(1.1)   # token times are whole seconds: these were issued before the reset's
    r = s.client().post(f"{API}/auth/reset-password", json={"token": token,
                                                            "new_password": new_pw})
    assert_message(r)
    # the reset ends every session: access tokens issued before it stop working
    assert_error(s.client().get(me, headers=auth(first["access_token"])), 401, BAD_CREDS)
    assert_error(s.client().get(me, headers=auth(second["access_token"])), 401, BAD_CREDS)
    assert_error(s.client().post(f"{API}/auth/reset-password",
                                 json={"token": token, "new_password": new_pw + "2"}), 400,
                 BAD_LINK)
    # every refresh token issued before the reset is revoked
    assert_error(_refresh(s.client(), first["refresh_token"]), 401, BAD_CREDS)
    assert_error(_refresh(s.client(), second["refresh_token"]), 401, BAD_CREDS)
    assert_error(_login(s.client(), u.username, u.password), 401, BAD_LOGIN)
    assert _login(s.client(), u.username, new_pw).status_code == 200
    fresh = _login(s.client(), u.email, new_pw)
    assert fresh.status_code == 200
    assert s.client().get(me, headers=auth(fresh.json()["access_token"])).status_code == 200
    time.sleep(0.3)
    assert sink.messages_to(ghost) == []


def _verified_user(s):
    u = _signup_unverified(s)
    assert_message(s.client().get(f"{API}/auth/verify-email", params={
        "token": s.sink.wait_for(u.email).token(PUBLIC_URL, "verify-email")}))
    return u


def _reset_mail(s, u):
    assert_message(s.client().post(f"{API}/auth/forgot-password", json={"email": u.email}))
    return s.sink.wait_for(u.email).token(PUBLIC_URL, "reset-password")


def _reset(s, token, password):
    return s.client().post(f"{API}/auth/reset-password",
                           json={"token": token, "new_password": password})


def test_newer_reset_mail_voids_older_link(mail_server):
    # Two reset mails (within the same second, as a double click sends them): only the
    # newest link works, before and after it is used.
    s = mail_server
    u = _verified_user(s)
    older = _reset_mail(s, u)
    newer = _reset_mail(s, u)
    assert older != newer
    assert_error(_reset(s, older, "older-" + uuid.uuid4().hex), 400, BAD_LINK)
    new_pw = "newer-" + uuid.uuid4().hex
    assert_message(_reset(s, newer, new_pw))
    assert_error(_reset(s, older, "older-" + uuid.uuid4().hex), 400, BAD_LINK)
    assert _login(s.client(), u.username, new_pw).status_code == 200


def test_reset_voids_every_outstanding_link(mail_server):
    # A link mailed earlier is refused once the password was reset through another one,
    # however it is used: the older link is tried only after the reset.
    s = mail_server
    u = _verified_user(s)
    older = _reset_mail(s, u)
    newer = _reset_mail(s, u)
    new_pw = "reset-" + uuid.uuid4().hex
    assert_message(_reset(s, newer, new_pw))
    for token in (older, newer):
        assert_error(_reset(s, token, "again-" + uuid.uuid4().hex), 400, BAD_LINK)
    assert _login(s.client(), u.username, new_pw).status_code == 200
    # a link mailed after the reset works
    assert_message(_reset(s, _reset_mail(s, u), "later-" + uuid.uuid4().hex))


def test_verify_token_is_not_a_reset_token(mail_server):
    s, sink = mail_server, mail_server.sink
    u = _signup_unverified(s)
    token = sink.wait_for(u.email).token(PUBLIC_URL, "verify-email")
    r = s.client().post(f"{API}/auth/reset-password", json={"token": token,
                                                            "new_password": "whatever-123"})
    assert_error(r, 400, BAD_LINK)
    # and it was not consumed by that attempt
    assert_message(s.client().get(f"{API}/auth/verify-email", params={"token": token}))


def test_smtp_without_required_verification(server_factory, smtp_sink):
    s = server_factory(env={"SMTP_URL": smtp_sink.url, "SMTP_FROM": SMTP_FROM,
                            "PUBLIC_URL": PUBLIC_URL, "REQUIRE_EMAIL_VERIFICATION": "false"})
    name, mail, pw = _new_identity("nv")
    assert_message(signup(s.client(), name, mail, pw), 201)
    assert _login(s.client(), name, pw).status_code == 200


# ---------------------------------------------------------------- throttling

def _assert_429(r, window):
    assert_error(r, 429, "Too many failed login attempts. Try again later.")
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit(), f"Retry-After {ra!r}"
    assert 0 < int(ra) <= window, ra
    return int(ra)


def test_login_throttle_per_account_default(server_factory):
    """Default LOGIN_MAX_FAILURES=5 inside LOGIN_WINDOW_SECONDS=900."""
    s = server_factory()
    u = make_user(s, prefix="thr")
    c = s.client()
    for i in range(5):
        assert_error(_login(c, u.username, f"wrong-{i}-password"), 401, BAD_LOGIN)
    _assert_429(_login(c, u.username, "wrong-again-password"), 900)
    _assert_429(_login(c, u.username, u.password), 900)       # even the right password
    _assert_429(_login(c, u.email, u.password), 900)          # by email too


def test_login_throttle_per_address(server_factory):
    s = server_factory(env={"LOGIN_MAX_FAILURES": "3", "LOGIN_WINDOW_SECONDS": "60"})
    u = make_user(s, prefix="adr")
    c = s.client()
    for i in range(3):   # three different (unknown) accounts, same client address
        assert_error(_login(c, f"nobody{i}_{uuid.uuid4().hex[:6]}", "wrong-password"), 401,
                     BAD_LOGIN)
    _assert_429(_login(c, u.username, u.password), 60)


def test_login_throttle_window_expires(server_factory):
    s = server_factory(env={"LOGIN_MAX_FAILURES": "2", "LOGIN_WINDOW_SECONDS": "2"})
    u = make_user(s, prefix="win")
    c = s.client()
    for _ in range(2):
        assert_error(_login(c, u.username, "wrong-password"), 401, BAD_LOGIN)
    ra = _assert_429(_login(c, u.username, u.password), 2)
    time.sleep(ra + 0.5)
    r = _login(c, u.username, u.password)
    assert r.status_code == 200, r.text

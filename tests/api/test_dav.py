"""WebDAV at /dav/ (SPEC §13, issue 15): Basic auth, OPTIONS, PROPFIND,
GET/HEAD, PUT, MKCOL, DELETE (to the bin), COPY, MOVE, PROPPATCH, LOCK and
UNLOCK against the real server; bad input; visibility both ways between
WebDAV and the web API."""
import base64
import hashlib
import os
import re
import socket
import sqlite3
import threading
import time
import urllib.parse

import pytest
import requests

from helpers import (API, POSTGRES, TIME_FACTOR, create_folder, list_files, list_folders,
                     make_user)

PROPFIND_ALL = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def dav(server, user, method, path, data=None, headers=None, auth=None):
    h = dict(headers or {})
    return requests.request(method, f"{server.url}/dav{path}", data=data, headers=h,
                            auth=auth or (user.username, user.password), timeout=60)


def hrefs(body):
    return [urllib.parse.unquote(h) for h in re.findall(r"<D:href>([^<]*)</D:href>", body)]


def test_auth_required_and_wrong_password(server, user):
    r = requests.request("PROPFIND", f"{server.url}/dav/", headers={"Depth": "0"}, timeout=30)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Basic realm="NetraDrive"')
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"}, auth=(user.username, "wrong"))
    assert r.status_code == 401
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"})
    assert r.status_code == 207


def test_options(server, user):
    r = requests.options(f"{server.url}/dav/", timeout=30)
    assert r.status_code == 200
    assert r.headers["DAV"] == "1, 2"
    assert r.headers["MS-Author-Via"] == "DAV"
    assert "PROPFIND" in r.headers["Allow"] and "LOCK" in r.headers["Allow"]


def test_put_get_propfind_and_api_visibility(server, user):
    body = b"hello dav\n" * 1000
    r = dav(server, user, "MKCOL", "/docs")
    assert r.status_code == 201
    r = dav(server, user, "MKCOL", "/docs")
    assert r.status_code == 405
    r = dav(server, user, "PUT", "/docs/a b.txt", data=body)
    assert r.status_code == 201, r.text
    r = dav(server, user, "GET", "/docs/a b.txt")
    assert r.status_code == 200 and r.content == body
    # The WebDAV ETag: the first 32 hex digits of the SHA-256 (DECISIONS "WebDAV").
    assert r.headers["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest()[:32]
    r = dav(server, user, "GET", "/docs/a b.txt", headers={"Range": "bytes=0-4"})
    assert r.status_code == 206 and r.content == b"hello"
    r = dav(server, user, "HEAD", "/docs/a b.txt")
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(body))
    r = dav(server, user, "PROPFIND", "/docs/", headers={"Depth": "1"}, data=PROPFIND_ALL)
    assert r.status_code == 207
    assert hrefs(r.text) == ["/dav/docs/", "/dav/docs/a b.txt"]
    assert "/dav/docs/a%20b.txt" in r.text
    assert f"<D:getcontentlength>{len(body)}</D:getcontentlength>" in r.text
    # The web API sees it.
    folders, _ = list_folders(user.client)
    assert "docs" in [f["name"] for f in folders]
    # PUT over it replaces the content (204) in the same file.
    r = dav(server, user, "PUT", "/docs/a b.txt", data=b"new")
    assert r.status_code == 204
    assert dav(server, user, "GET", "/docs/a b.txt").content == b"new"


def test_propfind_infinity_and_bad_xml(server, user):
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "infinity"})
    assert r.status_code == 403 and "propfind-finite-depth" in r.text
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"}, data=b"<D:propfind xmlns:D='DAV:'>")
    assert r.status_code == 400
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><D:propfind xmlns:D="DAV:">'
            b'<D:prop><x>&lol2;</x></D:prop></D:propfind>')
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"}, data=bomb)
    assert r.status_code == 400
    deep = b'<D:propfind xmlns:D="DAV:">' + b"<a>" * 1000 + b"</a>" * 1000 + b"</D:propfind>"
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"}, data=deep)
    assert r.status_code == 400
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"})
    assert r.status_code == 207


def test_quota_props(server, user):
    q = (b'<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/>'
         b'</D:prop></D:propfind>')
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "0"}, data=q)
    assert r.status_code == 207
    assert re.search(r"<D:quota-used-bytes>\d+</D:quota-used-bytes>", r.text)
    assert re.search(r"<D:quota-available-bytes>\d+</D:quota-available-bytes>", r.text)


def test_delete_goes_to_bin(server, user):
    assert dav(server, user, "PUT", "/gone.txt", data=b"bye").status_code == 201
    assert dav(server, user, "DELETE", "/gone.txt").status_code == 204
    assert dav(server, user, "GET", "/gone.txt").status_code == 404
    r = user.client.get(f"{API}/files", params={"include_deleted": "true"})
    assert r.status_code == 200
    assert "gone.txt" in r.text


def test_copy_move(server, user):
    assert dav(server, user, "MKCOL", "/src").status_code == 201
    assert dav(server, user, "PUT", "/src/f.txt", data=b"abc").status_code == 201
    dest = f"{server.url}/dav/copy"
    r = dav(server, user, "COPY", "/src", headers={"Destination": dest})
    assert r.status_code == 201
    assert dav(server, user, "GET", "/copy/f.txt").content == b"abc"
    r = dav(server, user, "COPY", "/src", headers={"Destination": dest, "Overwrite": "F"})
    assert r.status_code == 412
    r = dav(server, user, "MOVE", "/copy/f.txt", headers={"Destination": f"{server.url}/dav/src/g.txt"})
    assert r.status_code == 201
    assert dav(server, user, "GET", "/src/g.txt").content == b"abc"
    assert dav(server, user, "GET", "/copy/f.txt").status_code == 404
    # Bad destinations.
    r = dav(server, user, "MOVE", "/src", headers={"Destination": f"{server.url}/dav/src/inner"})
    assert r.status_code == 403
    r = dav(server, user, "COPY", "/src/g.txt", headers={"Destination": "http://elsewhere.example/dav/x"})
    assert r.status_code == 502
    r = dav(server, user, "COPY", "/src/g.txt", headers={"Destination": f"{server.url}/api/v1/x"})
    assert r.status_code == 403
    r = dav(server, user, "COPY", "/src/g.txt", headers={"Destination": f"{server.url}/dav/no/such"})
    assert r.status_code == 409


def test_other_user_cannot_see(server, user, other_user):
    assert dav(server, user, "PUT", "/mine.txt", data=b"secret").status_code == 201
    assert dav(server, other_user, "GET", "/mine.txt").status_code == 404


def test_duplicate_names_get_suffix(server, user):
    folder = create_folder(user.client, "dups")
    fid = folder["id"]
    ids = []
    for content in (b"one", b"two"):
        r = user.client.post(f"{API}/files/upload", params={"folder_id": fid},
                             files={"file": ("same.txt", content)})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = dav(server, user, "PROPFIND", "/dups", headers={"Depth": "1"})
    names = hrefs(r.text)
    assert "/dav/dups/same.txt" in names
    suffixed = f"/dav/dups/same~{ids[1][:8]}.txt"
    assert suffixed in names
    assert dav(server, user, "GET", "/dups/same.txt").content == b"one"
    assert dav(server, user, "GET", f"/dups/same~{ids[1][:8]}.txt").content == b"two"


def test_awkward_names_round_trip(server, user):
    for name in ("trailing.", "a:b", "ünï cødé", "q?x#y%z"):
        path = "/" + urllib.parse.quote(name)
        r = requests.put(f"{server.url}/dav{path}", data=b"x", auth=(user.username, user.password),
                         timeout=30)
        assert r.status_code == 201, (name, r.status_code)
        r = requests.get(f"{server.url}/dav{path}", auth=(user.username, user.password), timeout=30)
        assert r.status_code == 200, name
    r = dav(server, user, "PROPFIND", "/", headers={"Depth": "1"})
    got = hrefs(r.text)
    for name in ("trailing.", "a:b", "ünï cødé", "q?x#y%z"):
        assert "/dav/" + name in got


def test_proppatch_and_locks(server, user, other_user):
    assert dav(server, user, "PUT", "/p.txt", data=b"p").status_code == 201
    pp = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
          b'<Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>')
    r = dav(server, user, "PROPPATCH", "/p.txt", data=pp)
    assert r.status_code == 207 and "200 OK" in r.text
    q = b'<D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/></D:prop></D:propfind>'
    r = dav(server, user, "PROPFIND", "/p.txt", headers={"Depth": "0"}, data=q)
    assert "blue" in r.text
    li = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
          b'</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>')
    r = dav(server, user, "LOCK", "/p.txt", data=li, headers={"Timeout": "Second-60"})
    assert r.status_code == 200, r.text
    token = r.headers["Lock-Token"]
    assert dav(server, user, "PUT", "/p.txt", data=b"q").status_code == 423
    assert dav(server, user, "DELETE", "/p.txt").status_code == 423
    r = dav(server, user, "PUT", "/p.txt", data=b"q", headers={"If": f"({token})"})
    assert r.status_code == 204
    # Another user: the token means nothing to them.
    assert dav(server, other_user, "UNLOCK", "/p.txt", headers={"Lock-Token": token}).status_code == 404
    assert dav(server, user, "UNLOCK", "/p.txt", headers={"Lock-Token": token}).status_code == 204
    assert dav(server, user, "DELETE", "/p.txt").status_code == 204
    # LOCK of an unmapped URL makes an empty file.
    r = dav(server, user, "LOCK", "/new-locked.txt", data=li)
    assert r.status_code == 201
    assert dav(server, user, "GET", "/new-locked.txt").content == b""


def test_x_oc_mtime(server, user):
    r = dav(server, user, "PUT", "/m.txt", data=b"m", headers={"X-OC-Mtime": "1600000000"})
    assert r.status_code == 201
    r = dav(server, user, "PROPFIND", "/m.txt", headers={"Depth": "0"})
    assert "Sun, 13 Sep 2020 12:26:40 GMT" in r.text


def test_proppatch_getlastmodified_sets_mtime(server, user):
    assert dav(server, user, "PUT", "/mt.txt", data=b"mt").status_code == 201
    pp = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
          b'<D:getlastmodified>Mon, 02 Jan 2006 15:04:05 GMT</D:getlastmodified>'
          b'</D:prop></D:set></D:propertyupdate>')
    r = dav(server, user, "PROPPATCH", "/mt.txt", data=pp)
    assert r.status_code == 207 and "200 OK" in r.text, r.text
    r = dav(server, user, "PROPFIND", "/mt.txt", headers={"Depth": "0"})
    assert "Mon, 02 Jan 2006 15:04:05 GMT" in r.text
    # Another live property cannot be set: 403, nothing changes.
    bad = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
           b'<D:getcontentlength>5</D:getcontentlength></D:prop></D:set></D:propertyupdate>')
    r = dav(server, user, "PROPPATCH", "/mt.txt", data=bad)
    assert r.status_code == 207 and "403 Forbidden" in r.text


def test_deleted_file_restores_through_api(server, user):
    r = dav(server, user, "PUT", "/restore-me.txt", data=b"back")
    assert r.status_code == 201
    files, _ = list_files(user.client)
    fid = [f["id"] for f in files if f["name"] == "restore-me.txt"][0]
    assert dav(server, user, "DELETE", "/restore-me.txt").status_code == 204
    r = user.client.put(f"{API}/files/{fid}/restore")
    assert r.status_code == 200, r.text
    assert dav(server, user, "GET", "/restore-me.txt").content == b"back"


def test_copy_file_shares_content(server, user_factory):
    u = user_factory("cp")
    data = bytes(range(256)) * 4096
    assert dav(server, u, "PUT", "/big.bin", data=data).status_code == 201
    before = u.client.get(f"{API}/users/me/storage").json()
    r = dav(server, u, "COPY", "/big.bin", headers={"Destination": f"{server.url}/dav/big2.bin"})
    assert r.status_code == 201
    after = u.client.get(f"{API}/users/me/storage").json()
    assert after["stored_bytes"] == before["stored_bytes"]
    assert after["total_usage_bytes"] == before["total_usage_bytes"] + len(data)
    assert dav(server, u, "GET", "/big2.bin").content == data


def test_chunked_put_and_cut_put_keeps_old(server, user):
    def gen():
        for i in range(50):
            yield b"%05d" % i * 1000
    r = requests.put(f"{server.url}/dav/chunked.bin", data=gen(),
                     auth=(user.username, user.password), timeout=60)
    assert r.status_code == 201
    want = b"".join(gen())
    assert dav(server, user, "GET", "/chunked.bin").content == want
    # A PUT cut short leaves the old content.
    cred = base64.b64encode(f"{user.username}:{user.password}".encode()).decode()
    host, port = server.url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall((f"PUT /dav/chunked.bin HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {cred}"
               f"\r\nContent-Length: 1000000\r\n\r\n").encode() + b"x" * 5000)
    time.sleep(0.5)
    s.close()
    time.sleep(0.5)
    assert dav(server, user, "GET", "/chunked.bin").content == want


def test_throttled_logins_get_429(server_factory):
    srv = server_factory(env={"LOGIN_MAX_FAILURES": "2"})
    u = make_user(srv, "thr")
    codes = [dav(srv, u, "PROPFIND", "/", headers={"Depth": "0"},
                 auth=(u.username, "wrong")).status_code for _ in range(4)]
    assert codes[0] == 401 and codes[-1] == 429, codes
    r = dav(srv, u, "PROPFIND", "/", headers={"Depth": "0"}, auth=(u.username, "wrong"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_api_files_visible_over_dav_and_back(server, user):
    r = user.client.post(f"{API}/files/upload", files={"file": ("from-api.txt", b"api")})
    assert r.status_code == 201
    assert dav(server, user, "GET", "/from-api.txt").content == b"api"
    r = dav(server, user, "MOVE", "/from-api.txt",
            headers={"Destination": f"{server.url}/dav/renamed-over-dav.txt"})
    assert r.status_code == 201
    names = [f["name"] for f in list_files(user.client)[0]]
    assert "renamed-over-dav.txt" in names and "from-api.txt" not in names


@pytest.mark.skipif(POSTGRES, reason="holds SQLite's write lock from outside")
@pytest.mark.parametrize("method", ["DELETE", "COPY", "MOVE"])
def test_folder_writes_leave_the_poll_thread_free(server_factory, method):
    """A folder's DELETE (its bin runs in batches), COPY (every row of the
    tree) or MOVE can take a while: they run on the background pool, so the
    one poll thread (THREADS=1) answers others meanwhile. Held up here by
    SQLite's write lock taken from outside; before, the write waited on the
    poll thread and every other request waited with it."""
    srv = server_factory(env={"THREADS": "1"})
    u = make_user(srv, "davpool")
    assert dav(srv, u, "MKCOL", "/tree").status_code == 201
    assert dav(srv, u, "MKCOL", "/tree/sub").status_code == 201
    db = sqlite3.connect(os.path.join(srv.data_dir, "netradrive.db"), timeout=5,
                         isolation_level=None)
    result = {}

    def write():
        headers = {"Destination": f"{srv.url}/dav/tree2"} if method != "DELETE" else None
        result["status"] = dav(srv, u, method, "/tree", headers=headers).status_code

    try:
        db.execute("BEGIN IMMEDIATE")
        t = threading.Thread(target=write)
        t.start()
        time.sleep(0.5)   # the write is waiting for the lock by now
        t0 = time.monotonic()
        r = requests.options(f"{srv.url}/dav/", timeout=30)
        took = time.monotonic() - t0
        assert r.status_code == 200
        assert took < 1.0 * TIME_FACTOR, f"OPTIONS waited {took:.2f}s behind the {method}"
        assert t.is_alive()   # still waiting for the lock
    finally:
        time.sleep(0.3)
        db.execute("ROLLBACK")
        db.close()
    t.join(30)
    assert result["status"] == (204 if method == "DELETE" else 201), result
    listing = dav(srv, u, "PROPFIND", "/", headers={"Depth": "1"}).text
    assert ("/dav/tree/" in hrefs(listing)) == (method == "COPY")
    assert ("/dav/tree2/" in hrefs(listing)) == (method != "DELETE")

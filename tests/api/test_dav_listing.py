"""PROPFIND Depth: 1 of folders larger than one streamed page (dav_propfind
streams the children PF_PAGE = 256 at a time, each page a query after the
last row): every child once, in order, the duplicate-name rule intact across
page boundaries, and the same answer as a small folder gives."""
import re
import urllib.parse

import requests

from helpers import API, create_folder

PROPFIND_ALL = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def propfind(server, user, path, body=PROPFIND_ALL):
    r = requests.request("PROPFIND", f"{server.url}/dav{path}", data=body,
                         headers={"Depth": "1"}, auth=(user.username, user.password), timeout=60)
    assert r.status_code == 207, r.text
    assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus')
    assert r.text.endswith("</D:multistatus>\n")
    return r


def hrefs(body):
    return [urllib.parse.unquote(h) for h in re.findall(r"<D:href>([^<]*)</D:href>", body)]


def upload(user, folder_id, name, content):
    r = user.client.post(f"{API}/files/upload", params={"folder_id": folder_id},
                         files={"file": (name, content)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_duplicates_across_pages_keep_the_rule(server, user):
    # 300 files of one name: the group spans two pages, so the keyset's
    # (created_at, id) tie-break decides what the second page starts with.
    fid = create_folder(user.client, "many")["id"]
    ids = [upload(user, fid, "same.txt", b"%d" % i) for i in range(300)]
    for i in range(5):
        upload(user, fid, f"z{i}.txt", b"z")
    r = propfind(server, user, "/many/")
    names = hrefs(r.text)
    assert names[0] == "/dav/many/"
    kids = names[1:]
    assert len(kids) == 305 and len(set(kids)) == 305
    assert kids[-5:] == [f"/dav/many/z{i}.txt" for i in range(5)]
    # The oldest keeps the plain name (ids are random: the created_at tie
    # between two uploads in one millisecond is broken by id).
    assert "/dav/many/same.txt" in kids
    suffixed = {f"/dav/many/same~{i[:8]}.txt" for i in ids}
    assert len([k for k in kids if k in suffixed]) == 299
    # The rclone-style prop request: every response has its 200 propstat.
    assert r.text.count("<D:response>") == 306
    assert r.text.count("HTTP/1.1 200 OK") == 306
    # Each name answers GET with its own bytes.
    plain = requests.get(f"{server.url}/dav/many/same.txt", auth=(user.username, user.password),
                         timeout=30)
    assert plain.status_code == 200 and plain.content in {b"%d" % i for i in range(300)}


def test_folder_name_wins_across_pages(server, user):
    # 270 folders fill the first page and more; then a file named like one
    # of them is shown suffixed, and the files come after all the folders.
    fid = create_folder(user.client, "mixed")["id"]
    for i in range(270):
        create_folder(user.client, f"d{i:03d}", parent_id=fid)
    clash = upload(user, fid, "d005", b"clash")
    upload(user, fid, "a.txt", b"a")
    r = propfind(server, user, "/mixed/")
    kids = hrefs(r.text)[1:]
    assert kids[:270] == [f"/dav/mixed/d{i:03d}/" for i in range(270)]
    assert kids[270:] == ["/dav/mixed/a.txt", f"/dav/mixed/d005~{clash[:8]}"]
    assert r.text.count("<D:collection/>") == 271   # the folder itself too


def test_small_folder_and_depth_zero_unchanged(server, user):
    fid = create_folder(user.client, "small")["id"]
    upload(user, fid, "b.txt", b"b")
    upload(user, fid, "a & <c>.txt", b"a")
    r = propfind(server, user, "/small/")
    assert hrefs(r.text) == ["/dav/small/", "/dav/small/a & <c>.txt", "/dav/small/b.txt"]
    assert "<D:displayname>a &amp; &lt;c&gt;.txt</D:displayname>" in r.text
    assert "/dav/small/a%20%26%20%3Cc%3E.txt" in r.text
    r = requests.request("PROPFIND", f"{server.url}/dav/small/", headers={"Depth": "0"},
                         auth=(user.username, user.password), timeout=30)
    assert r.status_code == 207 and hrefs(r.text) == ["/dav/small/"]
    assert r.headers["Content-Length"] == str(len(r.content))
    # A missing folder still gets its status, not a cut stream.
    r = requests.request("PROPFIND", f"{server.url}/dav/nope/", headers={"Depth": "1"},
                         auth=(user.username, user.password), timeout=30)
    assert r.status_code == 404

"""GET /folders/tree's walk (drive/folder_tree.c, issue 14): the reply against a
model of the drive built from the creations, for the shapes a paged, depth-first
walk could get wrong: chains deeper than one PostgreSQL cursor goes (32 levels),
a folder wider than a batch of rows (SQLite 128), of a pull (256) and of a
FETCH (512), more roots than a batch and batches that span parents, names
whose byte order differs from a locale's or a case-sensitive order, binned
folders at every depth, an empty drive. Each test compares the
whole tree: names, ids, nesting and order."""
import json

import pytest

from helpers import (API, POSTGRES, RawConn, assert_folder, bin_folder, create_folder,
                     pg_database_url, pg_exec, raw_connect)


class Model:
    """The live folders as the tree should show them: siblings by the bytes of
    their folded names (name_key, compared as UTF-8 bytes: "C" collation)."""

    def __init__(self, client):
        self.c = client
        self.kids = {None: []}
        self.parent = {}

    def add(self, name, parent=None):
        f = create_folder(self.c, name, parent)
        self.kids[parent].append(f)
        self.kids[f["id"]] = []
        self.parent[f["id"]] = parent
        return f["id"]

    def drop(self, fid):
        """The folder was binned: it and its subtree leave the tree."""
        self.kids[self.parent[fid]] = [f for f in self.kids[self.parent[fid]] if f["id"] != fid]

    def expected(self, parent=None):
        kids = sorted(self.kids[parent], key=lambda f: f["name"].lower().encode())
        return [(f["name"], f["id"], self.expected(f["id"])) for f in kids]


def shape(nodes):
    return [(n["name"], n["id"], shape(n["children"])) for n in nodes]


def get_tree(client, raw=None):
    """The tree; `raw` (a RawConn) skips the client's schema check, whose
    recursion a deep tree exceeds."""
    if raw:
        status, hdrs, data = raw.request("GET", f"{API}/folders/tree")
        assert status == 200, data[:300]
        return json.loads(data)
    r = client.get(f"{API}/folders/tree")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def assert_tree(client, model, raw=None):
    tree = get_tree(client, raw)
    got, want = shape(tree), model.expected()
    if got != want:  # the first difference, not two pages of tuples
        def flat(t, depth=0):
            for name, fid, kids in t:
                yield depth, name, fid
                yield from flat(kids, depth + 1)
        for i, (g, w) in enumerate(zip(flat(got), flat(want))):
            assert g == w, f"step {i}: got {g}, want {w}"
        assert len(list(flat(got))) == len(list(flat(want)))
    return tree


def test_tree_of_empty_drive_and_of_only_binned(fresh_user):
    c = fresh_user.client
    assert get_tree(c) == []
    top = create_folder(c, "only")
    create_folder(c, "inside", top["id"])
    bin_folder(c, top["id"])
    assert get_tree(c) == []


def test_tree_order_is_bytes_of_folded_names(fresh_user):
    """Byte order of the folded name: not a locale's (which ignores punctuation
    and puts "ä" next to "a"), not case-sensitive ("Zed" before "a"), and a
    folder's subtree comes right after it, before a sibling whose name extends
    its name with a character that sorts low ("a b", "a!")."""
    c = fresh_user.client
    m = Model(c)
    names = ["b", "A", "a b", "a!", "a-b", "ab", "_under", "Zed", "é", "Eclair", "éa", "10",
             "9", "日本", "Ärger", "ärgerlich", "Яблоко", "ёлка", "a.b", "A0"]
    ids = {n: m.add(n) for n in names}
    # Children whose paths would sort wrongly with a separator above ' ' or '!'.
    m.add("z", ids["A"])
    m.add("~tilde", ids["A"])
    inner = m.add("Mid", ids["a b"])
    m.add("x", inner)
    m.add("y", ids["Zed"])
    tree = assert_tree(c, m)
    assert [n["name"] for n in tree][:6] == ["10", "9", "_under", "A", "a b", "a!"]
    for n in tree:
        assert_folder(n, parent_id=None, owner_id=fresh_user.id, deleted=False)


def test_tree_chain_deeper_than_cursors(server, fresh_user):
    """An 80-deep chain (past two 32-level cursors) with siblings before and after
    the chain's folder around each cut, and a binned branch below a cut: after
    a deeper cursor ends, the walk resumes at the right level and sibling."""
    c = fresh_user.client
    m = Model(c)
    parent = None
    chain = []
    for depth in range(1, 81):
        fid = m.add(f"m{depth:03d}", parent)
        chain.append(fid)
        if depth in (1, 2, 31, 32, 33, 34, 63, 64, 65, 66, 80):
            m.add(f"a{depth:03d}", parent)          # before the chain folder
            after = m.add(f"z{depth:03d}", parent)  # after it, with a child
            m.add(f"zz{depth:03d}", after)
        parent = fid
    gone = m.add("n-binned", chain[40])
    create_folder(c, "under-binned", gone)
    bin_folder(c, gone)
    m.drop(gone)
    raw = RawConn(server.port, fresh_user.access_token)
    try:
        tree = assert_tree(c, m, raw)
    finally:
        raw.close()
    node = tree[1]
    for depth in range(1, 81):
        assert node["name"] == f"m{depth:03d}"
        assert_folder(node, parent_id=chain[depth - 2] if depth > 1 else None)
        node = next((k for k in node["children"] if k["name"].startswith("m")), None)
    assert node is None


def test_tree_wide_folder_spans_pages(fresh_user):
    """700 children under one folder, created in an order unlike name order,
    some with children of their own at and around the page boundaries (128,
    256, 512), then a few binned: every sibling once, in order, nested right."""
    c = fresh_user.client
    m = Model(c)
    top = m.add("wide")
    before = m.add("before")
    m.add("after-it", before)
    kids = {}
    for i in range(700):
        k = (i * 389) % 700  # a permutation: creation order is not name order
        kids[k] = m.add(f"w{k:04d}", top)
    for k in (0, 1, 126, 127, 128, 129, 254, 255, 256, 257, 510, 511, 512, 513, 699):
        sub = m.add(f"s{k}", kids[k])
        m.add("leaf", sub)
    for k in (3, 128, 400):
        bin_folder(c, kids[k])
        m.drop(kids[k])
    m.add("zlast")
    tree = assert_tree(c, m)
    assert tree[1]["name"] == "wide" and len(tree[1]["children"]) == 697


def test_tree_batches_span_parents(fresh_user):
    """SQLite reads a level in batches of 128 rows, the children of up to 128
    folders of the level above per statement: more roots than a batch, a
    batch cut by its row limit inside one parent's children and between two
    parents, a window of parents with no children at all, and levels whose
    batch is read again after the level above moved on: every folder once,
    in order, nested right."""
    c = fresh_user.client
    m = Model(c)
    roots = [m.add(f"r{i:03d}") for i in range(150)]
    # 14 folders of 20 children: the 280 rows cross 128 inside a folder's
    # children (rows 128 and 256); some children have children of their own.
    for i in range(14):
        for j in range(20):
            kid = m.add(f"k{j:02d}", roots[i * 10])
            if (i * 20 + j) % 37 == 0:
                m.add("g", kid)
    # Past a window of 128 childless roots, one more parent.
    m.add("late", roots[149])
    m.add("later", m.add("deep", roots[148]))
    assert_tree(c, m)


def test_tree_readers_that_hang_up_leave_nothing_behind(server, fresh_user):
    """30 trees whose readers (small receive buffers) hang up after the first
    bytes, 20 of them at once: each walk is closed with its connection (on
    PostgreSQL its own database connection, of which at most 16 stream at
    once), so a full tree still answers afterwards, right."""
    c = fresh_user.client
    m = Model(c)
    for i in range(40):
        top = m.add(f"top {i:02d}")
        for j in range(10):
            m.add(f"sub {j}", top)
    req = (f"GET {API}/folders/tree HTTP/1.1\r\nHost: x\r\n"
           f"Authorization: Bearer {fresh_user.access_token}\r\n\r\n").encode()
    for batch in (20, 10):
        socks = [raw_connect(server.port, rcvbuf=4096) for _ in range(batch)]
        try:
            for s in socks:
                s.sendall(req)
            for s in socks:
                assert s.recv(256).startswith(b"HTTP/1.1 ")
        finally:
            for s in socks:
                s.close()
    assert_tree(c, m)


@pytest.mark.skipif(not POSTGRES, reason="the stream cap is PostgreSQL's (a connection per tree)")
def test_tree_streams_per_user_cap(server, user_factory):
    """On PostgreSQL each tree being sent holds a database connection: one
    user's stalled readers get at most 4 of the 16, so another user's tree is
    still answered (one user with 16 stalled readers made everyone else's
    tree 429 until the write timeout cut them)."""
    a, b = user_factory("treea"), user_factory("treeb")
    # A tree far larger than the socket buffers (~20,000 folders, ~7 MB), so
    # a reader that stops reading keeps its stream open.
    sql = ("INSERT INTO folders (id, owner_id, parent_id, name, name_key, created_at, updated_at) "
           f"SELECT substr(md5('t' || i), 1, 22), '{a.id}', NULL, 'folder ' || i, 'folder ' || i, "
           "1700000000000, 1700000000000 FROM generate_series(1, 20000) i")
    pg_exec(pg_database_url(server.data_dir), sql)
    req = (f"GET {API}/folders/tree HTTP/1.1\r\nHost: x\r\n"
           f"Authorization: Bearer {a.access_token}\r\n\r\n").encode()
    socks = []
    try:
        for i in range(5):
            s = raw_connect(server.port, rcvbuf=4096)
            socks.append(s)
            s.sendall(req)
            head = s.recv(256)
            expect = b"HTTP/1.1 200 " if i < 4 else b"HTTP/1.1 429 "
            assert head.startswith(expect), (i, head[:80])
        # Another user's tree is answered while a's four streams stall.
        r = b.client.get(f"{API}/folders/tree")
        assert r.status_code == 200 and r.json() == []
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def fresh_user(user_factory):
    return user_factory("tree")


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's planner and its statistics")
def test_tree_of_a_new_users_burst_with_stale_statistics(server, user_factory):
    """Statistics taken while every folder was another user's make a new
    owner look like one row: the tree's probe for each folder's children
    went through an owner-only index and read all of the new owner's
    20,000 folders for each of them (minutes; the reply never started).
    Autovacuum is held off so the statistics stay stale for the request."""
    old, new = user_factory("stale"), user_factory("burst")
    for i in range(30):
        create_folder(old.client, f"old {i}")
    db = pg_database_url(server.data_dir)

    def psql(sql):
        pg_exec(db, sql)
    psql("ALTER TABLE folders SET (autovacuum_enabled = false)")
    try:
        psql("ANALYZE folders")
        psql("INSERT INTO folders (id, owner_id, parent_id, name, name_key, created_at, updated_at) "
             f"SELECT substr(md5('s' || i), 1, 22), '{new.id}', NULL, 'n ' || i, 'n ' || i, "
             "1700000000000, 1700000000000 FROM generate_series(1, 20000) i")
        r = new.client.get(f"{API}/folders/tree", timeout=20)
        assert r.status_code == 200
        names = [n["name"] for n in r.json()]
        assert len(names) == 20000 and names == sorted(names, key=lambda s: s.encode())
    finally:
        psql("ALTER TABLE folders RESET (autovacuum_enabled)")

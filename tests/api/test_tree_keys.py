"""The tree's stored order (migration 022, drive/folder_key.c, DECISIONS "The
tree's stored order"): every folder keeps its place in the tree's depth-first
order, and GET /folders/tree reads the owner's folders in that order, one range.
The keys must follow every change of a folder's name or place (rename, move, a
restore that renames or lands at the root, WebDAV's MOVE), a big subtree's keys
are rewritten in batches that survive a crash, and an owner whose keys cannot
serve (a key too long, a rewrite pending) gets the walk down the tree instead:
the same reply either way. Each tree is compared whole against a model, the
way it was read is checked on /metrics, and fsck checks every key."""
import re
import time

import pytest
import requests

from helpers import API, RawConn, bin_folder, create_folder, make_user, restore_folder, run_cmd
from test_bin_folders import BATCH_ENV, big_tree, in_thread
from test_child_counts import db_rows, db_script
from test_tree import Model, assert_tree


class Drive(Model):
    """test_tree's model, with the changes that move folders."""

    def rename(self, fid, name):
        r = self.c.put(f"{API}/folders/{fid}/rename", json={"new_name": name})
        assert r.status_code == 200, r.text
        self._find(fid)["name"] = name

    def move(self, fid, parent):
        r = self.c.put(f"{API}/folders/{fid}/move", json={"new_parent_id": parent})
        assert r.status_code == 200, r.text
        f = self._find(fid)
        self.drop(fid)
        self.kids[parent].append(f)
        self.parent[fid] = parent

    def binned(self, fid):
        bin_folder(self.c, fid)
        self.gone = getattr(self, "gone", {})
        self.gone[fid] = self._find(fid)
        self.drop(fid)

    def restored(self, fid):
        """Restores; the folder comes back where and as the server says."""
        restore_folder(self.c, fid)
        r = self.c.get(f"{API}/folders/{fid}")
        assert r.status_code == 200, r.text
        f = self.gone.pop(fid)
        f["name"] = r.json()["name"]
        parent = r.json()["parent_id"]
        self.kids[parent].append(f)
        self.parent[fid] = parent
        return f["name"]

    def _find(self, fid):
        return next(f for f in self.kids[self.parent[fid]] if f["id"] == fid)


def trees_read(srv):
    """{walk: count} of GET /folders/tree replies so far."""
    text = srv.client().get("/metrics").text
    return {m[0]: float(m[1]) for m in
            re.findall(r'^netradrive_folder_trees_total\{walk="(\w+)"\} (\S+)$', text, re.M)}


def assert_tree_read(srv, c, model, walk):
    """The tree is the model's, and was read `walk` ("keyed" or "walked")."""
    before = trees_read(srv)
    token = c.headers["Authorization"].split(" ", 1)[1]
    raw = RawConn(srv.port, token)   # the client's schema check is slow on deep trees
    try:
        tree = assert_tree(c, model, raw)
    finally:
        raw.close()
    after = trees_read(srv)
    assert after.get(walk, 0) == before.get(walk, 0) + 1, (walk, before, after)
    return tree


def keys_wrong(srv):
    """Folders whose key is not their parent's key + name_key + id (None
    allowed), computed here from the rows, not by the server's own check."""
    rows = db_rows(srv, "SELECT id, parent_id, name_key, tree_key, owner_id FROM folders")
    by_id = {r[0]: r for r in rows}
    bad = []
    for fid, parent, name_key, key, _ in rows:
        if not key:
            continue
        want = (by_id[parent][3] if parent else "") + f"{name_key}\x01{fid}\x01"
        if (parent and not by_id[parent][3]) or key != want:
            bad.append((fid, key, want))
    return bad


def fsck(srv, tmp_path, repair=False):
    srv.stop()
    p = run_cmd(["fsck", "--repair"] if repair else ["fsck"], tmp_path,
                env={"DATA_DIR": srv.data_dir, "STORAGE_BACKEND": "local"})
    srv.start()
    return p


@pytest.fixture
def srv(server_factory):
    return server_factory(env={"STORAGE_BACKEND": "local"})


def test_keys_follow_renames_moves_and_restores(srv, tmp_path):
    """Renames that move a subtree to the other end of its siblings, moves
    between parents and to the root, a restore that renames (the name was
    taken) and one that lands at the root (its parent binned): after each the
    tree, read by key, is the model's; every key is right; fsck agrees."""
    a = make_user(srv, "keys")
    c = a.client
    m = Drive(c)
    alpha, beta, gamma = m.add("alpha"), m.add("beta"), m.add("gamma")
    subs = []
    for i in range(6):
        s = m.add(f"s{i}", alpha)
        subs.append(s)
        for j in range(4):
            leaf = m.add(f"l{j}", s)
            m.add("x", leaf)
    assert_tree_read(srv, c, m, "keyed")
    m.rename(alpha, "zeta")            # first to last: the whole subtree moves
    assert_tree_read(srv, c, m, "keyed")
    m.rename(subs[0], "S9")            # case-folded: "s9", after s5
    m.move(subs[1], beta)
    m.move(subs[2], None)
    m.move(beta, gamma)
    assert_tree_read(srv, c, m, "keyed")
    assert keys_wrong(srv) == []
    # A restore whose name is taken comes back renamed, its subtree with it.
    m.binned(subs[3])
    m.add("s3", alpha)
    assert m.restored(subs[3]) == "s3 (1)"
    # A restore whose parent is binned comes back at the root.
    m.binned(subs[1])                  # in beta, in gamma
    m.binned(gamma)
    assert m.restored(subs[1]) == "s1"
    assert m.parent[subs[1]] is None
    assert_tree_read(srv, c, m, "keyed")
    assert keys_wrong(srv) == []
    # WebDAV's MOVE renames and moves through the same code.
    r = requests.request("MOVE", f"{srv.url}/dav/zeta/s5", auth=(a.username, a.password),
                         timeout=30,
                         headers={"Destination": f"{srv.url}/dav/moved%20s5"})
    assert r.status_code == 201, r.text
    f = m._find(subs[5])
    m.drop(subs[5])
    f["name"] = "moved s5"
    m.kids[None].append(f)
    m.parent[subs[5]] = None
    assert_tree_read(srv, c, m, "keyed")
    assert keys_wrong(srv) == []
    p = fsck(srv, tmp_path)
    assert p.returncode == 0 and b"tree key" not in p.stdout, p.stdout + p.stderr


def test_tree_spans_key_pages(srv):
    """More folders than a page of the keyed read (512 rows on SQLite, 4,096 on
    PostgreSQL, where the page's last key is read apart from its rows): each
    page starts after the last key of the one before, also where a page ends
    inside a subtree, so every folder comes once, in order, nested right."""
    u = make_user(srv, prefix="pages")
    m = Drive(u.client)
    raw = RawConn(srv.port, u.access_token)

    def add(name, parent=None):
        f = raw.json("POST", f"{API}/folders", {"name": name, "parent_id": parent}, expect=201)
        m.kids[parent].append(f)
        m.kids[f["id"]] = []
        m.parent[f["id"]] = parent
        return f["id"]

    try:
        for i in range(41):   # 41 x 101 = 4,141 folders, then some deeper
            top = add(f"t{i:02d}")
            for j in range(100):
                kid = add(f"k{j:03d}", top)
                if i in (5, 40) and j % 10 == 0:
                    add("deeper", kid)
    finally:
        raw.close()
    tree = assert_tree_read(srv, u.client, m, "keyed")
    assert len(tree) == 41 and all(len(t["children"]) == 100 for t in tree)


def test_fsck_finds_and_repairs_wrong_keys(srv, tmp_path):
    """A key that is not its place's is reported by fsck and rebuilt, with
    every other key, by fsck --repair; the tree is then read by key again."""
    a = make_user(srv, "fsckkeys")
    c = a.client
    m = Drive(c)
    top = m.add("top")
    mid = m.add("mid", top)
    m.add("leaf", mid)
    db_script(srv, f"UPDATE folders SET tree_key = 'bogus' WHERE id = '{mid}'")
    p = fsck(srv, tmp_path)
    assert b"tree key of folder " + mid.encode() in p.stdout, p.stdout
    assert b"2 tree keys wrong" in p.stdout, p.stdout   # mid, and leaf below it
    assert p.returncode == 3
    p = fsck(srv, tmp_path, repair=True)
    assert b"(repaired)" in p.stdout, p.stdout
    assert keys_wrong(srv) == []
    c = a.client = srv.client(a.access_token)
    m.c = c
    assert_tree_read(srv, c, m, "keyed")
    p = fsck(srv, tmp_path)
    assert b"tree key" not in p.stdout, p.stdout


def test_keys_too_long_are_walked(srv, tmp_path):
    """Keys are at most 2,000 bytes: a chain of 250-byte names has none from
    its eighth folder down. That owner's tree is walked, the same reply; a
    folder of the unkeyed part moved up keeps no key while folders are below
    it; once the long chain is gone, the tree is read by key again."""
    a = make_user(srv, "longkeys")
    c = a.client
    m = Drive(c)
    m.add("short")
    parent, chain = None, []
    for depth in range(14):
        parent = m.add(f"{depth:02d}" + "n" * 248, parent)
        chain.append(parent)
    m.add("tail", parent)
    keys = dict(db_rows(srv, f"SELECT id, tree_key FROM folders WHERE owner_id = '{a.id}'"))
    # 274 bytes a level (name, chr(1), id, chr(1)): 7 levels fit, the 8th not.
    assert all(keys[f] for f in chain[:7]) and not any(keys[f] for f in chain[7:])
    assert_tree_read(srv, c, m, "walked")
    m.move(chain[11], None)            # unkeyed, folders below it: stays so
    m.move(chain[13], None)            # "tail" is below it: stays so
    assert_tree_read(srv, c, m, "walked")
    assert keys_wrong(srv) == []
    m.binned(chain[7])                 # and 8 to 10 with it
    assert_tree_read(srv, c, m, "walked")  # chain[11] and [13] are still unkeyed
    m.binned(chain[11])
    assert_tree_read(srv, c, m, "walked")
    m.binned(chain[13])
    assert_tree_read(srv, c, m, "keyed")
    p = fsck(srv, tmp_path)
    assert b"tree key" not in p.stdout, p.stdout


REKEY_ENV = dict(BATCH_ENV, BIN_BATCH_FOLDERS="3", BIN_BATCH_PAUSE_MS="400")


def rekeys(srv):
    return db_rows(srv, "SELECT group_id FROM folder_ops WHERE op = 3")


def test_big_rename_rekeys_in_batches(server_factory):
    """Renaming a folder with 30 folders below rewrites their keys in batches
    (3 a batch, 400 ms apart here), recorded while they run: meanwhile the
    owner's tree is walked and right, another user's writes do not wait for
    the batches, and the owner's next write completes them first."""
    srv = server_factory(env=REKEY_ENV)
    a, b = make_user(srv, "bigrekey"), make_user(srv, "bystander")
    c = a.client
    m = Drive(c)
    top = m.add("top")
    work, ids, _, _ = big_tree(c, top)
    m.kids[top].append({"id": work, "name": "Work"})
    m.kids[work], m.parent[work] = [], top
    by_parent = {}
    for name, fid in ids.items():
        if name == "Work":
            continue
        pname = name.rsplit("-", 1)[0] if "-" in name else "Work"
        by_parent.setdefault(ids[pname], []).append({"id": fid, "name": name})
        m.parent[fid] = ids[pname]
    for pid, kids in by_parent.items():
        m.kids[pid] = kids
    for fid in ids.values():
        m.kids.setdefault(fid, [])
    m.add("after", top)
    assert_tree_read(srv, c, m, "keyed")

    t, out = in_thread(lambda: srv.client(a.access_token).put(
        f"{API}/folders/{work}/rename", json={"new_name": "zz Work"}))
    time.sleep(0.6)
    assert t.is_alive() and rekeys(srv) == [(work,)]
    m._find(work)["name"] = "zz Work"
    assert_tree_read(srv, b.client, Model(b.client), "keyed")
    assert_tree_read(srv, c, m, "walked")          # mid-rekey: walked, right
    waits = []
    for i in range(3):
        s = time.monotonic()
        create_folder(b.client, f"b {i}")
        waits.append(time.monotonic() - s)
    assert t.is_alive() and max(waits) < 1.0, waits
    m.add("late", top)                              # the owner's write completes it
    assert rekeys(srv) == []
    t.join(30)
    assert out[0].status_code == 200, out[0].text
    assert_tree_read(srv, c, m, "keyed")
    assert keys_wrong(srv) == []


def test_rekey_cut_short_by_a_crash_completes_at_start(server_factory, tmp_path):
    """kill -9 between two batches of a move's rekey leaves part of the
    subtree under its old keys and the rewrite recorded; the next start
    completes it (the janitor, no request needed). While it runs the tree is
    walked, and right; then read by key, the same."""
    srv = server_factory(env=dict(REKEY_ENV, BIN_BATCH_PAUSE_MS="0"))
    a = make_user(srv, "crashrekey")
    c = a.client
    top = create_folder(c, "top")["id"]
    other = create_folder(c, "other")["id"]
    work, ids, _, _ = big_tree(c, top)
    before = c.get(f"{API}/folders/tree").json()
    assert [n["name"] for n in before] == ["other", "top"]
    want = [dict(before[0], children=before[1]["children"]), dict(before[1], children=[])]
    want[0]["children"][0]["parent_id"] = other
    moved = want[0]["children"][0]["size"]
    want[0]["size"] += moved
    want[1]["size"] -= moved
    srv.extra_env["BIN_BATCH_PAUSE_MS"] = "400"
    srv.stop()
    srv.start()
    t, _ = in_thread(lambda: srv.client(a.access_token).put(
        f"{API}/folders/{work}/move", json={"new_parent_id": other}))
    time.sleep(1.0)
    srv.kill()
    t.join(30)
    assert rekeys(srv) == [(work,)]
    assert keys_wrong(srv) != []                    # half rewritten
    srv.start()                                     # batches still 400 ms apart
    c = srv.client(a.access_token)

    def tree():
        got = c.get(f"{API}/folders/tree").json()
        for n in got:   # the moved folder's updated_at is the move's
            n["updated_at"] = None
        for n in want:
            n["updated_at"] = None
        got[0]["children"][0]["updated_at"] = want[0]["children"][0]["updated_at"] = None
        return got
    assert rekeys(srv) == [(work,)]
    assert tree() == want
    assert trees_read(srv) == {"walked": 1}
    deadline = time.monotonic() + 30
    while rekeys(srv) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rekeys(srv) == [] and keys_wrong(srv) == []
    assert tree() == want
    assert trees_read(srv) == {"walked": 1, "keyed": 1}
    p = fsck(srv, tmp_path)
    assert b"tree key" not in p.stdout, p.stdout


def test_migration_keys_an_existing_database(srv):
    """Migration 022 on a database with folders (renamed, moved, binned, a
    chain too long for keys): every folder gets the key the running code
    gave it, NULL where too long. Dropped and migrated again by a restart."""
    a = make_user(srv, "migkeys")
    c = a.client
    m = Drive(c)
    top = m.add("Top")
    kids = [m.add(f"k{i}", top) for i in range(5)]
    for k in kids:
        m.add("inner", k)
    m.rename(kids[0], "zz")
    m.move(kids[1], None)
    m.binned(kids[2])
    parent = top
    for depth in range(9):
        parent = m.add(f"{depth}" + "l" * 249, parent)
    keys = "SELECT id, tree_key FROM folders ORDER BY id"
    before = db_rows(srv, keys)
    assert sum(1 for _, k in before if not k) == 2 and len(before) == 20
    srv.stop()
    db_script(srv, "DROP INDEX folders_keyed; DROP INDEX folders_unkeyed; "
                   "ALTER TABLE folders DROP COLUMN tree_key; "
                   "ALTER TABLE folder_ops DROP COLUMN old_key; "
                   "ALTER TABLE folder_ops DROP COLUMN new_key; "
                   "DELETE FROM schema_version WHERE version = 22;")
    srv.start()
    assert db_rows(srv, keys) == before
    c = srv.client(a.access_token)
    m.c = c
    assert_tree_read(srv, c, m, "walked")   # the long chain's last two have no key

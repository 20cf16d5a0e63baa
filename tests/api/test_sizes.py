"""Folder sizes (API §2): a folder's `size` is the total size of the
non-deleted files anywhere below it, right after every operation. A tree
A/B/C, A/E and D holds files at several levels; after each upload, file bin /
restore / delete / move, folder move / bin / restore / delete and emptying the
bin, every folder's size is checked through GET /folders?parent_id=...,
the bin listings and GET /folders/tree against a model. A binned folder keeps
its own size (its ancestors lose it)."""
import random

import pytest

from helpers import (API, assert_error, assert_folder, create_folder, list_folders, upload_file)


class Model:
    def __init__(self):
        self.folders = {}   # id -> {"label", "parent", "binned"}  (binned: binned directly)
        self.files = {}     # id -> {"label", "folder", "size", "binned"}
        self.ids = {}       # label -> id

    # -- structure ------------------------------------------------------
    def chain(self, fid):
        """fid and its ancestors, nearest first."""
        out = []
        while fid is not None:
            out.append(fid)
            fid = self.folders[fid]["parent"]
        return out

    def live(self, fid):
        return fid is None or not any(self.folders[x]["binned"] for x in self.chain(fid))

    def size(self, fid):
        total = 0
        for f in self.files.values():
            if f["binned"] or f["folder"] is None:
                continue
            chain = self.chain(f["folder"])
            if fid not in chain:
                continue
            below = chain[:chain.index(fid)]     # folders strictly below fid on the way
            if any(self.folders[x]["binned"] for x in below):
                continue
            total += f["size"]
        return total

    def subtree(self, fid):
        return [x for x in self.folders if fid in self.chain(x)]

    # -- operations -----------------------------------------------------
    def add_folder(self, label, fid, parent):
        self.folders[fid] = {"label": label, "parent": parent, "binned": False}
        self.ids[label] = fid

    def add_file(self, label, fid, folder, size):
        self.files[fid] = {"label": label, "folder": folder, "size": size, "binned": False}
        self.ids[label] = fid

    def drop_folder(self, fid):
        doomed = set(self.subtree(fid))
        for x in doomed:
            del self.folders[x]
        for k in [k for k, f in self.files.items() if f["folder"] in doomed]:
            del self.files[k]


class Drive:
    """The user's drive plus its model; every operation is followed by a full check."""

    def __init__(self, user):
        self.u = user
        self.c = user.client
        self.m = Model()
        self.seq = 0

    def id(self, label):
        return self.m.ids[label]

    # -- building -------------------------------------------------------
    def folder(self, label, parent=None):
        pid = self.id(parent) if parent else None
        f = create_folder(self.c, label, pid)
        self.m.add_folder(label, f["id"], pid)
        return f

    def file(self, label, size, folder=None):
        self.seq += 1
        data = random.Random(self.seq * 7919 + size).randbytes(size)
        fid = self.id(folder) if folder else None
        f = upload_file(self.c, label, data, fid)
        assert f["size"] == size
        self.m.add_file(label, f["id"], fid, size)
        return f

    # -- actions --------------------------------------------------------
    def _ok(self, r):
        assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
        return r

    def bin_file(self, label):
        self._ok(self.c.put(f"{API}/files/{self.id(label)}/bin"))
        self.m.files[self.id(label)]["binned"] = True

    def restore_file(self, label):
        self._ok(self.c.put(f"{API}/files/{self.id(label)}/restore"))
        f = self.m.files[self.id(label)]
        f["binned"] = False
        if not self.m.live(f["folder"]):
            f["folder"] = None

    def delete_file(self, label):
        self._ok(self.c.delete(f"{API}/files/{self.id(label)}"))
        del self.m.files[self.id(label)]

    def move_file(self, label, target):
        tid = self.id(target) if target else None
        r = self._ok(self.c.put(f"{API}/files/{self.id(label)}/move", json={"new_parent_id": tid}))
        assert r.json()["folder_id"] == tid
        self.m.files[self.id(label)]["folder"] = tid

    def move_folder(self, label, target):
        tid = self.id(target) if target else None
        r = self._ok(self.c.put(f"{API}/folders/{self.id(label)}/move",
                                json={"new_parent_id": tid}))
        assert r.json()["parent_id"] == tid
        self.m.folders[self.id(label)]["parent"] = tid

    def bin_folder(self, label):
        self._ok(self.c.put(f"{API}/folders/{self.id(label)}/bin"))
        self.m.folders[self.id(label)]["binned"] = True

    def restore_folder(self, label):
        self._ok(self.c.put(f"{API}/folders/{self.id(label)}/restore"))
        f = self.m.folders[self.id(label)]
        f["binned"] = False
        if not self.m.live(f["parent"]):
            f["parent"] = None

    def delete_folder(self, label):
        self._ok(self.c.delete(f"{API}/folders/{self.id(label)}"))
        self.m.drop_folder(self.id(label))

    def empty_bin(self):
        self._ok(self.c.delete(f"{API}/bin"))
        for fid in [k for k, f in self.m.folders.items() if f["binned"]]:
            if fid in self.m.folders:
                self.m.drop_folder(fid)
        for k in [k for k, f in self.m.files.items() if f["binned"]]:
            del self.m.files[k]

    # -- the check ------------------------------------------------------
    def check(self, step):
        m = self.m
        label = {fid: f["label"] for fid, f in m.folders.items()}
        want = {}
        got = {}
        # live folders, listed under their parents
        live = [fid for fid in m.folders if m.live(fid)]
        parents = {m.folders[fid]["parent"] for fid in live}
        for p in parents:
            listed, _ = list_folders(self.c, parent_id=p if p else "root", limit=10000)
            for f in listed:
                assert_folder(f, deleted=False, parent_id=p)
                got[label.get(f["id"], f["id"])] = f["size"]
        for fid in live:
            want[label[fid]] = m.size(fid)
        assert got == want, f"after {step}: live folder sizes {got} != expected {want}"
        # the tree has the same folders with the same sizes
        r = self.c.get(f"{API}/folders/tree")
        assert r.status_code == 200, r.text
        tree = {}
        stack = [(n, None) for n in r.json()]
        while stack:
            node, parent = stack.pop()
            assert node["parent_id"] == parent, node
            tree[label.get(node["id"], node["id"])] = node["size"]
            stack.extend((k, node["id"]) for k in node.get("children", []))
        assert tree == want, f"after {step}: tree sizes {tree} != expected {want}"
        # binned folders (direct ones at the bin root, carried ones when browsing)
        bwant, bgot = {}, {}
        for fid, f in m.folders.items():
            if m.live(fid):
                continue
            bwant[f["label"]] = m.size(fid)
        listed, _ = list_folders(self.c, include_deleted="true", limit=10000)
        todo = []
        for f in listed:
            assert_folder(f, deleted=True)
            bgot[label.get(f["id"], f["id"])] = f["size"]
            todo.append(f["id"])
        while todo:
            listed, _ = list_folders(self.c, include_deleted="true", parent_id=todo.pop(),
                                     limit=10000)
            for f in listed:
                bgot[label.get(f["id"], f["id"])] = f["size"]
                todo.append(f["id"])
        assert bgot == bwant, f"after {step}: binned folder sizes {bgot} != expected {bwant}"


@pytest.fixture
def drive(user_factory):
    """A fresh user with root/A/B/C, A/E and D, and files at every level."""
    d = Drive(user_factory("sz"))
    d.folder("A")
    d.folder("B", "A")
    d.folder("C", "B")
    d.folder("E", "A")
    d.folder("D")
    d.check("creating folders")
    for label, size, folder in (("f_root", 1, None), ("f_a", 10, "A"), ("f_b", 100, "B"),
                                ("f_c1", 1000, "C"), ("f_c2", 10000, "C"),
                                ("f_e", 100000, "E"), ("f_d", 3, "D")):
        d.file(label, size, folder)
        d.check(f"uploading {label}")
    return d


def test_sizes_after_uploads(drive):
    got = {f["name"]: f["size"] for f in list_folders(drive.c)[0]}
    assert got == {"A": 111110, "D": 3}
    # an empty file changes nothing, a second file adds up
    drive.file("empty", 0, "C")
    drive.check("an empty upload")
    drive.file("f_c3", 20000, "C")
    drive.check("a second upload into C")


def test_sizes_file_bin_restore_delete(drive):
    drive.bin_file("f_c2")
    drive.check("binning f_c2")
    drive.bin_file("f_b")
    drive.check("binning f_b")
    drive.restore_file("f_c2")
    drive.check("restoring f_c2")
    drive.delete_file("f_c1")
    drive.check("deleting f_c1")
    drive.delete_file("f_b")               # permanently, from the bin
    drive.check("deleting binned f_b")
    drive.restore_file("f_c2")             # restoring a live file changes nothing
    drive.check("restoring f_c2 again")


def test_sizes_file_moves(drive):
    drive.move_file("f_c1", "E")
    drive.check("moving f_c1 from A/B/C to A/E")
    drive.move_file("f_e", "D")
    drive.check("moving f_e from A/E to D")
    drive.move_file("f_d", None)
    drive.check("moving f_d to the root")
    drive.move_file("f_root", "C")
    drive.check("moving f_root into A/B/C")
    drive.move_file("f_c2", "C")
    drive.check("moving f_c2 onto its own folder")


def test_sizes_folder_moves(drive):
    drive.move_folder("B", "D")
    drive.check("moving B (with C) under D")
    drive.move_folder("C", "E")
    drive.check("moving C from D/B to A/E")
    drive.move_folder("E", None)
    drive.check("moving E to the root")
    drive.move_folder("D", "C")
    drive.check("moving D (with B) under E/C")
    drive.move_folder("A", "B")
    drive.check("moving A under E/C/D/B")


def test_sizes_folder_bin_restore(drive):
    drive.bin_folder("C")
    drive.check("binning C")
    drive.bin_folder("A")
    drive.check("binning A (C was binned before)")
    drive.restore_folder("A")
    drive.check("restoring A (C stays binned)")
    drive.restore_folder("C")
    drive.check("restoring C")
    drive.bin_file("f_c1")
    drive.bin_folder("B")
    drive.check("binning f_c1 then B")
    drive.restore_folder("B")
    drive.check("restoring B (f_c1 stays binned)")
    drive.bin_folder("E")
    drive.bin_folder("A")
    drive.restore_folder("E")              # A is binned: E comes back into the root
    drive.check("restoring E out of binned A")
    drive.restore_folder("A")
    drive.check("restoring A")


def test_sizes_folder_delete(drive):
    drive.delete_folder("C")
    drive.check("deleting C")
    drive.bin_folder("E")
    drive.check("binning E")
    drive.delete_folder("E")
    drive.check("deleting binned E")
    drive.delete_folder("A")
    drive.check("deleting A")


def test_sizes_moves_inside_binned_tree_refused(drive):
    drive.bin_folder("B")
    drive.check("binning B")
    # a binned folder is no move target; nothing changes
    r = drive.c.put(f"{API}/files/{drive.id('f_e')}/move", json={"new_parent_id": drive.id("C")})
    assert_error(r, 404, "Folder not found")
    r = drive.c.put(f"{API}/folders/{drive.id('E')}/move", json={"new_parent_id": drive.id("B")})
    assert_error(r, 404, "Folder not found")
    r = upload_file(drive.c, "nope", b"x" * 5, drive.id("C"), expect=404)
    assert r == {"detail": "Folder not found"}
    drive.check("refused moves and upload into binned folders")


def test_sizes_duplicate_content_counts_each_file(drive):
    data = b"z" * 777
    for label, folder in (("dup1", "C"), ("dup2", "C"), ("dup3", "D")):
        f = upload_file(drive.c, label, data, drive.id(folder))
        drive.m.add_file(label, f["id"], drive.id(folder), 777)
        drive.check(f"uploading duplicate {label}")
    drive.delete_file("dup1")
    drive.check("deleting dup1")


def test_sizes_empty_bin(drive):
    drive.bin_file("f_a")
    drive.bin_folder("C")
    drive.bin_file("f_d")
    drive.check("binning a few things")
    drive.empty_bin()
    drive.check("emptying the bin")


def test_sizes_rename_and_star_change_nothing(drive):
    for t, label, body in (("folders", "B", {"new_name": "B2"}), ("files", "f_c1", None)):
        if body:
            r = drive.c.put(f"{API}/{t}/{drive.id(label)}/rename", json=body)
            assert r.status_code == 200, r.text
            drive.m.folders[drive.id(label)]["label"] = "B2"
        else:
            r = drive.c.put(f"{API}/{t}/{drive.id(label)}/star")
            assert r.status_code == 200, r.text
    drive.check("rename and star")


def test_sizes_listing_sort_by_size(drive):
    listed, _ = list_folders(drive.c, parent_id=drive.id("A"), sort="size")
    assert [(f["name"], f["size"]) for f in listed] == [("B", 11100), ("E", 100000)]
    listed, _ = list_folders(drive.c, sort="size", order="desc")
    assert [(f["name"], f["size"]) for f in listed] == [("A", 111110), ("D", 3)]


def test_sizes_parallel_uploads_and_deletes(drive):
    """Concurrent uploads into (and deletes from) one branch keep every size right."""
    import threading
    sizes = [11, 222, 3333, 44444, 5, 66, 777, 8888]
    results = [None] * len(sizes)

    def up(i):
        c = drive.u.server.client(drive.u.access_token)
        results[i] = upload_file(c, f"par{i}", bytes([i]) * sizes[i],
                                 drive.id("C" if i % 2 else "E"))
    threads = [threading.Thread(target=up, args=(i,)) for i in range(len(sizes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, f in enumerate(results):
        assert f is not None, f"upload {i} failed"
        drive.m.add_file(f"par{i}", f["id"], drive.id("C" if i % 2 else "E"), sizes[i])
    drive.check("parallel uploads")
    statuses = []

    def rm(label):
        c = drive.u.server.client(drive.u.access_token)
        statuses.append(c.delete(f"{API}/files/{drive.id(label)}").status_code)
    doomed = ["par0", "par1", "par2", "par3", "f_c1", "f_e"]
    threads = [threading.Thread(target=rm, args=(lb,)) for lb in doomed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(doomed), statuses
    for lb in doomed:
        del drive.m.files[drive.id(lb)]
    drive.check("parallel deletes")

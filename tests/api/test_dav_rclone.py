"""Debian's rclone as a WebDAV client of /dav/ (issue 15, point 4): copy up and
back down, sync with deletes (landing in the bin, restorable through the API),
move, check, lsjson (sizes and mtimes), cat --offset --count, over a tree with
Unicode names, empty files, 10,000 small files and one large file; and HTTP
Basic over /dav/ (account password, app password, revocation, throttle).

rclone is a package of the build (Makefile DEB_PKGS); a missing rclone is an
error, not a skip. The remote is configured through RCLONE_CONFIG_ND_* with
vendor "owncloud": the one vendor for which rclone sends X-OC-Mtime on PUT
and reads mtimes at second precision, so sync and check compare mtimes
(DECISIONS "WebDAV and rclone"). rclone runs with --retries 1 and
--low-level-retries 1 so a server error is a failure, not a silent retry.
Runs on both backends (tools/test.sh TELEGRAM_SUITES)."""
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import time
import unicodedata

import pytest

from helpers import API, list_files, make_user

BIG = 1 << 30

# Names in several scripts (all NFC), with spaces, dots and marks.
UNICODE_NAMES = [
    "café crème.txt",            # Latin with accents
    "Привет мир.md",             # Cyrillic
    "Καλημέρα.txt",              # Greek
    "日本語のファイル.txt",        # CJK
    "مرحبا.txt",                 # Arabic (right to left)
    "नमस्ते दुनिया.txt",           # Devanagari (combining marks)
    "한국어 파일",                  # Hangul, no extension
    "emoji 🎉 party.bin",         # astral plane
    "Zürich ñandú ß.csv",
]
DIRS = ["Ελληνικά", "папка/вложенная", "目录 一/子目录", "plain"]


@pytest.fixture(scope="module")
def rclone_bin():
    path = shutil.which("rclone")
    assert path, "rclone is not installed (apt-get install rclone)"
    return path


@pytest.fixture(scope="module")
def dav_user(server):
    return make_user(server, "rc")


@pytest.fixture(scope="module")
def app_password(dav_user):
    r = dav_user.client.post(f"{API}/users/me/app-passwords", json={"name": "rclone"})
    assert r.status_code == 201, r.text
    return r.json()["password"]


class Rclone:
    def __init__(self, binary, server, user, secret, home):
        self.binary = binary
        self.home = home
        obscured = subprocess.run([binary, "obscure", secret], capture_output=True, text=True,
                                  check=True, timeout=30).stdout.strip()
        conf = home / "rclone.conf"
        conf.write_text("")
        self.env = dict(os.environ, HOME=str(home), RCLONE_CONFIG=str(conf),
                        RCLONE_CONFIG_ND_TYPE="webdav",
                        RCLONE_CONFIG_ND_URL=f"{server.url}/dav/",
                        RCLONE_CONFIG_ND_VENDOR="owncloud",
                        RCLONE_CONFIG_ND_USER=user.username,
                        RCLONE_CONFIG_ND_PASS=obscured)

    def cmd(self, *args):
        return [self.binary, "--retries", "1", "--low-level-retries", "1", "--contimeout", "10s",
                "--timeout", "60s", *args]

    def start(self, *args):
        return subprocess.Popen(self.cmd(*args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def run(self, *args, expect=0, timeout=300):
        p = subprocess.run(self.cmd(*args), env=self.env, capture_output=True, timeout=timeout)
        out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
        assert p.returncode == expect, f"rclone {' '.join(args)}: exit {p.returncode}\n{out[-4000:]}"
        return p

    def lsjson(self, remote, *flags):
        p = self.run("lsjson", "-R", *flags, remote)
        return {e["Path"]: e for e in json.loads(p.stdout)}


@pytest.fixture(scope="module")
def rc(rclone_bin, server, dav_user, app_password, tmp_path_factory):
    return Rclone(rclone_bin, server, dav_user, app_password, tmp_path_factory.mktemp("rchome"))


def _mtime(entry):
    return datetime.datetime.fromisoformat(entry["ModTime"].replace("Z", "+00:00")).timestamp()


def make_unicode_tree(root):
    """A tree of Unicode names with known bytes and mtimes; returns
    {relative path: (bytes, mtime)}."""
    want = {}
    base = 1_500_000_000
    for d_i, d in enumerate(DIRS):
        for n_i, n in enumerate(UNICODE_NAMES):
            rel = f"{d}/{n}"
            data = (f"{rel}\n" * (n_i * 37 + d_i)).encode()  # the first of each dir is empty
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            mt = base + d_i * 86400 + n_i * 3600 + 7
            os.utime(p, (mt, mt))
            want[rel] = (data, mt)
    for rel in ("empty.txt", "top level ☃.txt"):
        p = root / rel
        p.write_bytes(b"" if rel == "empty.txt" else b"snow\n")
        os.utime(p, (base, base))
        want[rel] = (p.read_bytes(), base)
    (root / "empty dir ∅").mkdir()
    return want


def test_unicode_tree_copy_up_and_down(rc, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    want = make_unicode_tree(src)
    rc.run("copy", "--transfers", "4", "--create-empty-src-dirs", str(src), "nd:uni")
    listed = rc.lsjson("nd:uni")
    files = {k: v for k, v in listed.items() if not v["IsDir"]}
    assert sorted(files) == sorted(want)
    for rel, (data, mt) in want.items():
        e = files[rel]
        assert e["Size"] == len(data), rel
        assert _mtime(e) == mt, (rel, e["ModTime"])
        assert unicodedata.is_normalized("NFC", e["Name"])
    assert listed["empty dir ∅"]["IsDir"]
    # check: sizes and mtimes agree, and byte for byte (--download).
    rc.run("check", str(src), "nd:uni")
    rc.run("check", "--download", str(src), "nd:uni")
    # A second copy has nothing to do (mtimes and sizes match).
    p = rc.run("copy", "-v", str(src), "nd:uni")
    assert b"Copied (new)" not in p.stderr and b"Copied (replaced" not in p.stderr, p.stderr[-2000:]
    # Back down: same bytes and mtimes.
    dst = tmp_path / "dst"
    rc.run("copy", "--transfers", "4", "--create-empty-src-dirs", "nd:uni", str(dst))
    for rel, (data, mt) in want.items():
        assert (dst / rel).read_bytes() == data, rel
        assert int((dst / rel).stat().st_mtime) == mt, rel
    assert (dst / "empty dir ∅").is_dir()
    # check can fail: same size, other bytes.
    victim = src / DIRS[1] / UNICODE_NAMES[3]
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    st = victim.stat()
    victim.write_bytes(bytes(data))
    os.utime(victim, (st.st_atime, st.st_mtime))
    rc.run("check", "--download", str(src), "nd:uni", expect=1)


def test_cat_offset_count(rc, tmp_path):
    data = bytes(range(256)) * 64 + b"tail"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "ranges ✓.bin").write_bytes(data)
    rc.run("copy", str(tmp_path / "c"), "nd:cat")
    for off, count in ((0, 10), (1000, 1), (255, 300), (len(data) - 4, 4), (len(data) - 2, 100)):
        p = rc.run("cat", "--offset", str(off), "--count", str(count), "nd:cat/ranges ✓.bin")
        assert p.stdout == data[off:off + count], (off, count)
    p = rc.run("cat", "--offset", "16000", "nd:cat/ranges ✓.bin")
    assert p.stdout == data[16000:]
    p = rc.run("cat", "--offset", "-4", "nd:cat/ranges ✓.bin")
    assert p.stdout == b"tail"


def _bin_files(user, name):
    files, _ = list_files(user.client, include_deleted="true", per_page=100, search=name)
    return [f for f in files if f["name"] == name]


def test_sync_with_deletes_lands_in_bin_and_restores(rc, dav_user, tmp_path):
    src = tmp_path / "s"
    (src / "sub").mkdir(parents=True)
    for i in range(6):
        (src / f"keep-{i}.txt").write_text(f"keep {i}\n")
    (src / "sub" / "doomed ✗.txt").write_text("doomed\n")
    (src / "doomed-top.txt").write_text("top\n")
    rc.run("sync", str(src), "nd:synced")
    assert len(rc.lsjson("nd:synced", "--files-only")) == 8
    (src / "sub" / "doomed ✗.txt").unlink()
    (src / "doomed-top.txt").unlink()
    (src / "sub").rmdir()
    (src / "keep-0.txt").write_text("keep 0, changed\n")
    rc.run("sync", str(src), "nd:synced")
    listed = rc.lsjson("nd:synced")
    assert sorted(listed) == [f"keep-{i}.txt" for i in range(6)]
    assert listed["keep-0.txt"]["Size"] == len("keep 0, changed\n")
    rc.run("check", "--download", str(src), "nd:synced")
    # The deleted file is in the bin, and restoring it brings it back over WebDAV.
    binned = _bin_files(dav_user, "doomed-top.txt")
    assert len(binned) == 1 and binned[0].get("deleted_at"), binned
    r = dav_user.client.put(f"{API}/files/{binned[0]['id']}/restore")
    assert r.status_code == 200, r.text
    assert rc.run("cat", "nd:synced/doomed-top.txt").stdout == b"top\n"
    # rclone deleted the file, then the emptied folder: two entries in the bin,
    # each restored on its own (the folder first, so the file has a parent).
    r = dav_user.client.get(f"{API}/folders", params={"include_deleted": "true", "search": "sub"})
    subs = [f for f in r.json() if f["name"] == "sub" and f.get("deleted_at")]
    assert len(subs) == 1, r.text
    r = dav_user.client.put(f"{API}/folders/{subs[0]['id']}/restore")
    assert r.status_code == 200, r.text
    assert rc.lsjson("nd:synced/sub") == {}
    binned = _bin_files(dav_user, "doomed ✗.txt")
    assert len(binned) == 1 and binned[0]["folder_id"] == subs[0]["id"], binned
    r = dav_user.client.put(f"{API}/files/{binned[0]['id']}/restore")
    assert r.status_code == 200, r.text
    assert rc.run("cat", "nd:synced/sub/doomed ✗.txt").stdout == b"doomed\n"
    rc.run("check", "--download", "--one-way", "nd:synced", str(src), expect=1)


def test_move_local_and_server_side(rc, tmp_path):
    src = tmp_path / "m"
    (src / "inner ü").mkdir(parents=True)
    for i in range(5):
        (src / "inner ü" / f"m{i}.txt").write_text(f"move {i}\n")
    (src / "zero").write_bytes(b"")
    rc.run("move", "--delete-empty-src-dirs", str(src), "nd:moved")
    assert not src.exists() or not any(src.rglob("*"))
    listed = rc.lsjson("nd:moved", "--files-only")
    assert sorted(listed) == ["inner ü/" + f"m{i}.txt" for i in range(5)] + ["zero"]
    assert listed["zero"]["Size"] == 0
    # Remote to remote: rclone uses MOVE (server-side) for files and folders.
    rc.run("moveto", "nd:moved/zero", "nd:moved/inner ü/zero-moved")
    rc.run("move", "nd:moved/inner ü", "nd:elsewhere/Ω")
    listed = rc.lsjson("nd:elsewhere", "--files-only")
    assert sorted(listed) == sorted(["Ω/" + f"m{i}.txt" for i in range(5)] + ["Ω/zero-moved"])
    assert rc.run("cat", "nd:elsewhere/Ω/m3.txt").stdout == b"move 3\n"
    assert rc.lsjson("nd:moved", "--files-only") == {}


@pytest.mark.deep
def test_ten_thousand_small_files(rc, tmp_path):
    src = tmp_path / "many"
    n_dirs, per_dir = 10, 1000
    for d in range(n_dirs):
        sub = src / f"d{d:02d}"
        sub.mkdir(parents=True)
        for i in range(per_dir):
            (sub / f"f{i:04d}.txt").write_bytes(b"" if i % 500 == 0 else f"{d}/{i}\n".encode())
    # rclone 1.60's WebDAV backend paces its calls (at least 10 ms apart, three a
    # file: MKCOL of the parent, PUT, PROPFIND): one process cannot send more than
    # ~30 files/s whatever the server does. One process per folder, side by side.
    t0 = time.monotonic()
    procs = [rc.start("copy", "--transfers", "4", "--checkers", "4", str(src / f"d{d:02d}"),
                      f"nd:many/d{d:02d}") for d in range(n_dirs)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    up = time.monotonic() - t0
    t0 = time.monotonic()
    listed = rc.lsjson("nd:many", "--files-only")
    ls = time.monotonic() - t0
    assert len(listed) == n_dirs * per_dir
    assert listed["d03/f0500.txt"]["Size"] == 0
    assert listed["d07/f0123.txt"]["Size"] == len(b"7/123\n")
    t0 = time.monotonic()
    rc.run("check", "--checkers", "16", str(src), "nd:many")
    chk = time.monotonic() - t0
    print(f"10,000 files: copy {up:.1f}s, lsjson {ls:.1f}s, check {chk:.1f}s")


def _write_big(path, size):
    """size bytes of distinct 1 MiB blocks, written block by block."""
    seed = os.urandom(1 << 20)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(size >> 20):
            block = i.to_bytes(8, "big") + seed[8:]
            h.update(block)
            f.write(block)
    return h.hexdigest(), seed


def _big_bytes(seed, off, count):
    out = b""
    while count > 0:
        i, o = off >> 20, off & 0xfffff
        block = i.to_bytes(8, "big") + seed[8:]
        part = block[o:o + count]
        out += part
        off += len(part)
        count -= len(part)
    return out


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_big_file(rc, tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    digest, seed = _write_big(src / "big.bin", BIG)
    os.utime(src / "big.bin", (1_600_000_000, 1_600_000_000))
    t0 = time.monotonic()
    rc.run("copy", str(src), "nd:big", timeout=600)
    up = time.monotonic() - t0
    (src / "big.bin").unlink()  # room for the download
    e = rc.lsjson("nd:big")["big.bin"]
    assert e["Size"] == BIG and _mtime(e) == 1_600_000_000
    for off, count in ((0, 100), (BIG - (3 << 20) - 5, 20), ((BIG >> 1) + 12345, 70000),
                       (BIG - 10, 10)):
        p = rc.run("cat", "--offset", str(off), "--count", str(count), "nd:big/big.bin")
        assert p.stdout == _big_bytes(seed, off, count), (off, count)
    dst = tmp_path / "down"
    t0 = time.monotonic()
    rc.run("copy", "nd:big", str(dst), timeout=600)
    down = time.monotonic() - t0
    got = _sha256_file(dst / "big.bin")
    mtime = int((dst / "big.bin").stat().st_mtime)
    (dst / "big.bin").unlink()   # pytest keeps the tmp dirs of recent runs: not 1 GiB of them
    assert got == digest
    assert mtime == 1_600_000_000
    mib = BIG >> 20
    print(f"{mib} MiB: up {up:.1f}s ({mib / up:.0f} MiB/s), down {down:.1f}s ({mib / down:.0f} MiB/s)")

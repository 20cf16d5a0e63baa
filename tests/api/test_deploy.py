"""docs/DEPLOY.md, tried: the shipped systemd unit passes `systemd-analyze
verify`; the shipped Caddyfile passes `caddy validate`; the shipped nginx site,
run by Debian's nginx, carries a 200 MiB streamed upload, a Range download, the
task WebSocket and the client address; `netradrive backup` copies a database
in use and the copy (plus the chunks) serves the files again; and the Telegram
steps the doc gives (getMe, getChat, the settings) work against the fake.

The nginx site is used as shipped except: the lines marked `# tls` (the port-80
redirect, the TLS listen lines, certificates) are left out, since no
certificate exists here and the test speaks plain HTTP on loopback; a
`listen 127.0.0.1:PORT;` takes their place; the upstream port is the test
server's. It is wrapped in a minimal nginx.conf (no daemon, own prefix, pid,
logs and temp dirs) as nginx.conf's `include sites-enabled/*` would."""
import hashlib
import http.client
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

from helpers import (API, POSTGRES, TIME_FACTOR, Client, FakeTelegram, download, free_port,
                     list_files, make_user, run_cmd, upload_file, upload_stream)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, "tools", "deploy")
MIB = 1024 * 1024


def read(name):
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as f:
        return f.read()


def test_deploy_doc_shows_the_shipped_files():
    with open(os.path.join(ROOT, "docs", "DEPLOY.md"), encoding="utf-8") as f:
        doc = f.read()
    for name in ("netradrive.service", "nginx-netradrive.conf", "Caddyfile"):
        assert read(name) in doc, f"docs/DEPLOY.md must show tools/deploy/{name} as shipped"


# --------------------------------------------------------------------------
# systemd and Caddy
# --------------------------------------------------------------------------

def verify_unit(tmp_path, text):
    path = tmp_path / "netradrive.service"
    path.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                       text=True, timeout=60 * TIME_FACTOR, stdin=subprocess.DEVNULL)
    # verify exits 0 even for unknown keys and bad values: its complaints are
    # the lines naming the file.
    return r.returncode, [ln for ln in (r.stdout + r.stderr).splitlines() if str(path) in ln]


def test_systemd_unit_verifies(tmp_path, netradrive_bin):
    unit = read("netradrive.service")
    # The only change: where the binary is (verify checks it exists).
    text = unit.replace("/usr/local/bin/netradrive", os.path.abspath(netradrive_bin))
    rc, complaints = verify_unit(tmp_path, text)
    assert rc == 0 and not complaints, complaints
    # The check bites: a misspelt value and an unknown key are reported.
    rc, complaints = verify_unit(tmp_path, text.replace("ProtectSystem=strict", "ProtectSystem=strictt")
                                 .replace("NoNewPrivileges=", "NoNewPrivilegez="))
    assert len(complaints) == 2, complaints
    # What the brief of the unit promises.
    kv = dict(ln.split("=", 1) for ln in unit.splitlines() if "=" in ln and not ln.startswith("#"))
    for key in ("DynamicUser", "NoNewPrivileges", "PrivateTmp", "MemoryDenyWriteExecute"):
        assert kv[key] == "yes", key
    assert kv["ProtectSystem"] == "strict" and kv["ProtectHome"] == "yes"
    assert kv["ReadWritePaths"] == "/var/lib/netradrive" and "DATA_DIR=/var/lib/netradrive" in unit
    assert set(kv["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert int(kv["LimitNOFILE"]) >= 1024 + 256   # default MAX_CONNECTIONS plus the server's own 256
    assert int(kv["TimeoutStopSec"]) > 10                 # the server drains for 10 s
    assert kv["Restart"] == "on-failure"


def test_caddyfile_validates(tmp_path):
    caddy = shutil.which("caddy")
    assert caddy, "caddy is not installed (apt-get install caddy)"
    conf = tmp_path / "Caddyfile"
    conf.write_text(read("Caddyfile"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    r = subprocess.run([caddy, "validate", "--adapter", "caddyfile", "--config", str(conf)],
                       capture_output=True, text=True, timeout=60 * TIME_FACTOR, env=env,
                       stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    assert r.returncode == 0 and "Valid configuration" in r.stdout + r.stderr, r.stdout + r.stderr
    conf.write_text(read("Caddyfile").replace("flush_interval -1", "flush_interval soon"))
    r = subprocess.run([caddy, "validate", "--adapter", "caddyfile", "--config", str(conf)],
                       capture_output=True, text=True, timeout=60 * TIME_FACTOR, env=env,
                       stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    assert r.returncode != 0


# --------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------

def nginx_site(listen_port, upstream_port, shipped=True):
    """The shipped site with the TLS lines out and the two ports put in."""
    out = []
    for ln in read("nginx-netradrive.conf").splitlines():
        if ln.rstrip().endswith("# tls"):
            continue
        if not shipped and "client_max_body_size 0" in ln:
            continue    # nginx's default (1m), for the 413 the doc warns of
        out.append(ln)
    site = "\n".join(out).replace("127.0.0.1:8000", f"127.0.0.1:{upstream_port}")
    site, n = re.subn(r"(server \{\n)(\s*server_name)", rf"\1    listen 127.0.0.1:{listen_port};\n\2",
                      site)
    assert n == 1, "the site must have exactly one server block left without its TLS lines"
    return site


class Nginx:
    def __init__(self, workdir, site, port):
        self.dir = str(workdir)
        self.port = port
        self.body_tmp = os.path.join(self.dir, "client_body")
        for d in ("client_body", "proxy", "misc", "logs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        misc = os.path.join(self.dir, "misc")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
{"user root;" if os.getuid() == 0 else ""}
daemon off;
error_log {self.dir}/logs/error.log;
pid {self.dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log {self.dir}/logs/access.log;
  client_body_temp_path {self.body_tmp};
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {misc}; uwsgi_temp_path {misc}; scgi_temp_path {misc};
{site}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir + "/"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "logs", "stderr"), "wb"))
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"nginx did not start: {self.log()}", pytrace=False)
                time.sleep(0.05)

    def log(self):
        parts = []
        for name in ("stderr", "error.log"):
            try:
                with open(os.path.join(self.dir, "logs", name), errors="replace") as f:
                    parts.append(f.read()[-4000:])
            except OSError:
                pass
        return "\n".join(parts)

    def client(self, token=None):
        return Client(f"http://127.0.0.1:{self.port}", token)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def proxied(module_server_factory, tmp_path_factory):
    """NetraDrive (trusting 127.0.0.1) behind the shipped nginx site, and the
    same site with nginx's default body limit, for the 413."""
    if not shutil.which("nginx"):
        pytest.fail("nginx is not installed (apt-get install nginx)", pytrace=False)
    srv = module_server_factory(env={"TRUSTED_PROXIES": "127.0.0.1", "LOG_LEVEL": "info",
                                     "STORAGE_BACKEND": "local"})
    p1, p2 = free_port(), free_port()
    front = Nginx(tmp_path_factory.mktemp("nginx"), nginx_site(p1, srv.port), p1)
    plain = Nginx(tmp_path_factory.mktemp("nginx-default"), nginx_site(p2, srv.port, False), p2)
    yield srv, front, plain
    front.stop()
    plain.stop()


def block(i):
    """The i-th MiB of the test file: cheap, varied, and computable anywhere."""
    return hashlib.sha256(i.to_bytes(4, "big")).digest() * (MIB // 32)


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


def test_nginx_streams_a_200_mib_upload_range_download_websocket(proxied):
    srv, front, plain = proxied
    u = make_user(front, prefix="ngx")     # signup and login through nginx
    size = 200 * MIB
    seen = {}

    def blocks():
        for i in range(size // MIB):
            if i == 150:
                # Before the client has sent the rest, NetraDrive already holds
                # most of what came so far, and nginx holds none of it on disk.
                deadline = time.monotonic() + 20 * TIME_FACTOR
                while du(srv.data_dir) < 100 * MIB and time.monotonic() < deadline:
                    time.sleep(0.1)
                seen["server"] = du(srv.data_dir)
                seen["nginx"] = du(front.body_tmp)
            yield block(i)

    status, body = upload_stream(front, u.access_token, "big.bin", size, blocks())
    assert status == 201, body
    assert seen["server"] >= 100 * MIB and seen["nginx"] == 0, seen
    expect = hashlib.sha256()
    for i in range(size // MIB):
        expect.update(block(i))
    assert body["size"] == size and body["hash"] == expect.hexdigest()

    # A Range across a MiB boundary, then the whole file, streamed and hashed.
    c = front.client(u.access_token)
    r = c.get(f"{API}/files/{body['id']}/download", headers={"Range": f"bytes={MIB - 10}-{MIB + 9}"})
    assert r.status_code == 206 and r.content == block(0)[-10:] + block(1)[:10]
    assert r.headers["Content-Range"] == f"bytes {MIB - 10}-{MIB + 9}/{size}"
    got = hashlib.sha256()
    with c.get(f"{API}/files/{body['id']}/download", stream=True, timeout=120 * TIME_FACTOR) as r:
        assert r.status_code == 200
        for piece in r.iter_content(MIB):
            got.update(piece)
    assert got.hexdigest() == expect.hexdigest()

    # The task WebSocket through nginx: 101 and the snapshot frame.
    s = socket.create_connection(("127.0.0.1", front.port), timeout=10)
    try:
        s.sendall((f"GET {API}/ws/tasks/{u.id}?token={u.access_token} HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{front.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                  .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            piece = s.recv(4096)
            assert piece, head
            head += piece
    finally:
        s.close()
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head

    # The same site with nginx's default client_max_body_size: 413 from nginx.
    conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=30)
    try:
        conn.putrequest("POST", f"{API}/files/upload")
        conn.putheader("Authorization", f"Bearer {u.access_token}")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        r = conn.getresponse()
        assert r.status == 413 and b"nginx" in r.read()
    finally:
        conn.close()


def test_nginx_forwards_the_client_address(proxied):
    srv, front, _ = proxied
    # From 127.0.0.2 (still loopback) nginx forwards an address NetraDrive
    # could not see itself: its TCP peer is nginx on 127.0.0.1.
    s = socket.socket()
    try:
        s.settimeout(10)
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", front.port))
        s.sendall(b"GET /api/v1/deploy-probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            piece = s.recv(4096)
            if not piece:
                break
            reply += piece
    finally:
        s.close()
    assert reply.startswith(b"HTTP/1.1 404"), reply[:200]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [ln for ln in srv.log().splitlines() if "/api/v1/deploy-probe" in ln]
        if lines:
            break
        time.sleep(0.05)
    assert lines and "client=127.0.0.2" in lines[0], lines


# --------------------------------------------------------------------------
# Backup and restore
# --------------------------------------------------------------------------

@pytest.mark.skipif(POSTGRES, reason="`netradrive backup` is SQLite's online backup; PostgreSQL "
                    "is backed up with pg_dump (the backup refusal is checked in this test on SQLite)")
def test_backup_while_serving_then_restore(server_factory, tmp_path):
    srv = server_factory(env={"STORAGE_BACKEND": "local", "CHUNK_SIZE": "64K"})
    u = make_user(srv, prefix="bak")
    uploaded, stop, errors = {}, threading.Event(), []

    def uploader():
        c = srv.client(u.access_token)
        n = 0
        while not stop.is_set():
            data = os.urandom(100_000 + 37 * n)
            try:
                body = upload_file(c, f"f{n}.bin", data)
                uploaded[body["id"]] = data
            except Exception as e:   # noqa: BLE001 - reported below
                errors.append(repr(e))
                return
            n += 1

    t = threading.Thread(target=uploader, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 30 * TIME_FACTOR
        while len(uploaded) < 5 and time.monotonic() < deadline and not errors:
            time.sleep(0.05)
        assert len(uploaded) >= 5, errors
        dest = tmp_path / "backup" / "netradrive.db"
        dest.parent.mkdir()
        env = {"DATA_DIR": srv.data_dir}
        for _ in range(2):   # twice: the second replaces the first
            r = run_cmd(["backup", str(dest)], tmp_path, env=env, timeout=60 * TIME_FACTOR)
            assert r.returncode == 0, r.stderr
            assert b"pages written to" in r.stdout
        # The chunks after the database: everything it records is there.
        shutil.copytree(os.path.join(srv.data_dir, "chunks"), tmp_path / "backup" / "chunks")
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors
    assert not os.path.exists(str(dest) + ".tmp")
    with sqlite3.connect(str(dest)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # A fresh DATA_DIR: the copy, its chunks, the same secret key.
    new = tmp_path / "restored"
    new.mkdir()
    shutil.copy(dest, new / "netradrive.db")
    shutil.copytree(tmp_path / "backup" / "chunks", new / "chunks")
    shutil.copy(os.path.join(srv.data_dir, "secret_key"), new / "secret_key")
    r = run_cmd(["fsck"], tmp_path, env={"DATA_DIR": str(new)}, timeout=60 * TIME_FACTOR)
    assert r.returncode == 0, r.stdout + r.stderr
    again = server_factory(data_dir=new, env={"STORAGE_BACKEND": "local", "CHUNK_SIZE": "64K"})
    c = again.client()
    tok = c.post(f"{API}/auth/token", data={"username": u.username, "password": u.password})
    assert tok.status_code == 200, tok.text
    c.set_token(tok.json()["access_token"])
    files, _ = list_files(c, folder_id="root", limit=1000)
    assert len(files) >= 5
    for f in files:
        assert download(c, f["id"]) == uploaded[f["id"]], f["name"]

    # Refusals: the live database itself, and a database that is not SQLite.
    r = run_cmd(["backup", os.path.join(srv.data_dir, "netradrive.db")], tmp_path, env=env)
    assert r.returncode == 1 and b"is the database itself" in r.stderr
    r = run_cmd(["backup", str(tmp_path / "x.db")], tmp_path,
                env={"DATABASE_URL": "postgresql://db/netradrive"})
    assert r.returncode == 1 and b"not SQLite" in r.stderr
    r = run_cmd(["backup"], tmp_path, env=env)
    assert r.returncode == 2


# --------------------------------------------------------------------------
# Telegram setup, as the doc tells it, against the fake
# --------------------------------------------------------------------------

def test_telegram_setup_steps_against_the_fake(server_factory, tmp_path):
    bots = ("7200001:AAdeploy-one", "7200002:BBdeploy_two")
    chats = (-1007200000001, -1007200000002)
    fake = FakeTelegram(tmp_path / "fake", bots=bots, chats=chats)
    try:
        api = fake.url
        # "Check each bot and each chat" (docs/DEPLOY.md), with curl.
        for token in bots:
            me = subprocess.run(["curl", "-s", f"{api}/bot{token}/getMe"], capture_output=True,
                                text=True, timeout=30)
            assert '"ok":true' in me.stdout and '"is_bot":true' in me.stdout, me.stdout
            for chat in chats:
                ch = subprocess.run(["curl", "-s", f"{api}/bot{token}/getChat?chat_id={chat}"],
                                    capture_output=True, text=True, timeout=30)
                assert '"ok":true' in ch.stdout and '"type":"channel"' in ch.stdout, ch.stdout
        bad = subprocess.run(["curl", "-s", f"{api}/bot{bots[0]}/getChat?chat_id=12345"],
                             capture_output=True, text=True, timeout=30)
        assert '"ok":false' in bad.stdout, bad.stdout

        # The settings of the doc (pacing off only because this is the fake).
        env = {"STORAGE_BACKEND": "telegram", "TELEGRAM_BOT_TOKEN": ",".join(bots),
               "TELEGRAM_STORAGE_CHAT_ID": ",".join(str(c) for c in chats),
               "TELEGRAM_API_URL": api, "TELEGRAM_PACING": "false", "CHUNK_SIZE": "64K"}
        srv = server_factory(env=env)
        u = make_user(srv, prefix="tg")
        data = os.urandom(300_000)
        body = upload_file(u.client, "t.bin", data)
        assert download(u.client, body["id"]) == data
        live = fake.live_messages()
        assert len(live) >= 5
        assert {m["chat_id"] for m in live} == set(chats)
        srv.stop(10)
    finally:
        problem = fake.stop()
    assert problem is None, problem

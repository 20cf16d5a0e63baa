"""Shared helpers for the NetraDrive black-box suites.

Nothing in here knows about pytest fixtures; conftest.py wires these into
fixtures. Everything talks to a real `netradrive serve` process over HTTP.

Main pieces:
  Server        one running `netradrive serve` (start/stop/log/client)
  FakeTelegram  one running fake Bot API server (tests/fake-telegram)
  stored_chunks(server)        backend-aware set of the chunks the store holds
  Client        requests.Session that prefixes a base URL ("/api/v1/..." works)
                and validates every JSON reply against docs/openapi.json
  User, make_user(server)      signup + login -> authorized Client
  SmtpSink      loopback SMTP server collecting messages
  RawConn       keep-alive http.client connection for bulk requests
  jwt helpers   b64url, decode_jwt, forge_jwt
  assertions    assert_error (exact detail or ANY; json_syntax, NAME_*, LISTING_PARAM),
                assert_folder, TS_RE
"""
import base64
import contextlib
import email
import email.policy
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import requests

import openapi_check

API = "/api/v1"
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FOLDER_FIELDS = {"_id", "id", "type", "name", "parent_id", "owner_id", "size",
                 "created_at", "updated_at", "is_deleted", "is_starred", "deleted_at"}
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_BIN = os.path.join(REPO, "build", "netradrive")

# Timing budgets (e.g. the "< 5 s" deep-tree checks: hang guards, not
# benchmarks) are multiplied by this; `make SANITIZE=1 test` sets 3, as a
# sanitized build runs two to three times slower.
TIME_FACTOR = float(os.environ.get("NETRADRIVE_TEST_TIME_FACTOR", "1"))

# Storage backend of the servers the harness starts: NETRADRIVE_BACKEND=local
# (default) or telegram. With telegram, every Server whose env does not set
# STORAGE_BACKEND or any TELEGRAM_* itself runs STORAGE_BACKEND=telegram against
# its own fake-telegram process ($FAKE_TELEGRAM_BIN, default build/fake-telegram),
# shared by the Servers that use the same DATA_DIR (a restart sees the same
# messages) and stopped when the fixture that made them tears down.
BACKEND = (os.environ.get("NETRADRIVE_BACKEND") or "local").strip().lower()
if BACKEND not in ("local", "telegram"):
    raise RuntimeError(f"NETRADRIVE_BACKEND must be local or telegram, not {BACKEND!r}")
TELEGRAM = BACKEND == "telegram"
DEFAULT_FAKE_BIN = os.path.join(REPO, "build", "fake-telegram")

# Metadata database of the servers the harness starts: NETRADRIVE_DATABASE=sqlite
# (default) or postgres. With postgres, every Server and run_cmd whose env does
# not set DATABASE_URL itself gets a database of its own on the cluster at
# NETRADRIVE_PG_URL (postgresql://user@127.0.0.1:PORT, see tools/pg-cluster.sh),
# made on first use and shared by everything using the same DATA_DIR (a
# restart sees the same data).
DATABASE = (os.environ.get("NETRADRIVE_DATABASE") or "sqlite").strip().lower()
if DATABASE not in ("sqlite", "postgres"):
    raise RuntimeError(f"NETRADRIVE_DATABASE must be sqlite or postgres, not {DATABASE!r}")
POSTGRES = DATABASE == "postgres"
PG_URL = (os.environ.get("NETRADRIVE_PG_URL") or "").rstrip("/")
if POSTGRES and not PG_URL:
    raise RuntimeError("NETRADRIVE_DATABASE=postgres needs NETRADRIVE_PG_URL")
_PG_DBS = {}  # realpath(DATA_DIR) -> DATABASE_URL


def pg_exec(url, sql, timeout=60):
    """Runs one SQL command on the PostgreSQL database at `url` (psql)."""
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                   check=True, timeout=timeout, stdin=subprocess.DEVNULL, capture_output=True)


def pg_admin(sql, timeout=30):
    """Runs one SQL command on the test cluster's postgres database (psql)."""
    pg_exec(PG_URL + "/postgres", sql, timeout)


def pg_database_url(data_dir):
    """The DATABASE_URL of DATA_DIR's own PostgreSQL database (made on first use)."""
    key = os.path.realpath(data_dir)
    url = _PG_DBS.get(key)
    if url is None:
        name = "nd_" + uuid.uuid4().hex[:16]
        pg_admin(f"CREATE DATABASE {name}")
        url = _PG_DBS[key] = f"{PG_URL}/{name}"
    return url
# Two bots x two storage chats, so chunks spread over every pair.
FAKE_BOTS = ("7100001:AAharness-one", "7100002:BBharness_two")
FAKE_CHATS = (-1007100000001, -1007100000002)

# Environment variables passed through from the test runner to the server.
# Everything else (SECRET_KEY, SMTP_URL, ...) is dropped so runs are reproducible.
_PASS_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "LD_LIBRARY_PATH",
             "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS",
             "TSAN_OPTIONS")


def netradrive_bin():
    return os.environ.get("NETRADRIVE_BIN") or DEFAULT_BIN


def fake_telegram_bin():
    return os.environ.get("FAKE_TELEGRAM_BIN") or DEFAULT_FAKE_BIN


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def raw_connect(port, src="127.0.0.1", timeout=10, rcvbuf=None):
    """A raw TCP connection to the server on 127.0.0.1 from address `src`
    (Linux routes all of 127/8 to lo, so each is another client address)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
    except BaseException:
        s.close()
        raise
    return s


@contextlib.contextmanager
def open_sockets():
    """A list to append sockets to; every one is closed on the way out."""
    socks = []
    try:
        yield socks
    finally:
        for s in socks:
            s.close()


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def clean_env(extra=None):
    """A minimal environment for the server; `extra` values of None remove a key."""
    env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


# Secrets the suite hands the servers or gets from them (passwords, tokens,
# bot tokens, keys): none may appear in any server's log (DECISIONS "Logs").
# conftest.pytest_sessionfinish greps every log of the run for them.
SECRETS = set()
SERVER_LOGS = []
_SECRET_FIELDS = {"password", "new_password", "current_password", "old_password",
                  "access_token", "refresh_token", "token"}
_SECRET_ENV = ("SECRET_KEY", "METRICS_TOKEN", "TELEGRAM_BOT_TOKEN", "SMTP_URL")


def note_secret(value):
    """Remembers a secret (long enough not to match by chance)."""
    if isinstance(value, str) and len(value) >= 10:
        SECRETS.add(value)


def note_secrets(obj):
    """Remembers the secret-named fields of a JSON body, form or query."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _SECRET_FIELDS:
                note_secret(v)
            elif isinstance(v, (dict, list)):
                note_secrets(v)
    elif isinstance(obj, list):
        for v in obj:
            note_secrets(v)


_counter = itertools.count(1)


def unique(prefix="u"):
    """A short unique token valid as a username: [A-Za-z0-9_.-], <= 32 chars."""
    return f"{prefix}{next(_counter)}_{uuid.uuid4().hex[:8]}"[:32]


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------

class Client(requests.Session):
    """requests.Session bound to a base URL; relative paths starting with '/'
    are resolved against it. Redirects are never followed (the API must not
    redirect) and every request has a timeout. Every JSON reply is validated
    against docs/openapi.json (openapi_check.py) unless check_openapi is
    False (for a server that is not NetraDrive)."""

    check_openapi = True

    def __init__(self, base_url, token=None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def set_token(self, token):
        if token is None:
            self.headers.pop("Authorization", None)
        else:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        for part in ("json", "data", "params"):
            note_secrets(kwargs.get(part))
        r = super().request(method, url, *args, **kwargs)
        if "/auth/" in url and r.headers.get("Content-Type", "").startswith("application/json"):
            try:
                note_secrets(r.json())   # the tokens a login or refresh hands out
            except ValueError:
                pass
        if self.check_openapi:
            # Every reply must be what docs/openapi.json says (openapi_check.py).
            openapi_check.check_response(method, urllib.parse.urlsplit(r.url).path, r,
                                         streamed=bool(kwargs.get("stream")))
        return r


class RawConn:
    """One keep-alive http.client connection; much cheaper per request than
    requests, for the bulk tests (thousands of requests)."""

    def __init__(self, port, token=None, host="127.0.0.1", timeout=120):
        self.host, self.port, self.timeout = host, port, timeout
        self.token = token
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers, body bytes). JSON-encodes dict/list bodies."""
        hdrs = {}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, r.headers, data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest):
                # The server closed an idle keep-alive connection before this
                # request was read; retry once on a new connection.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, expect=200):
        status, hdrs, data = self.request(method, path, body)
        assert status == expect, f"{method} {path} -> {status} {data[:500]!r}"
        return json.loads(data) if data else None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


# --------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------

class ServerStartError(Exception):
    pass


LIVE_SERVERS = []  # servers currently running (conftest adds their logs to failures)


class FakeTelegram:
    """One fake-telegram process (cloud mode, no pacing, no faults) on a free
    loopback port with its own directory; stdout/stderr go to files there."""

    def __init__(self, directory, bots=FAKE_BOTS, chats=FAKE_CHATS, flags=(), timeout=10.0):
        self.binary = fake_telegram_bin()
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise ServerStartError(f"fake-telegram not found or not executable: {self.binary} "
                                   "(build it or set FAKE_TELEGRAM_BIN)")
        self.dir = str(directory)
        self.bots, self.chats = tuple(bots), tuple(chats)
        os.makedirs(self.dir, exist_ok=True)
        self.stdout_path = os.path.join(self.dir, "fake.stdout.log")
        self.stderr_path = os.path.join(self.dir, "fake.stderr.log")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [self.binary, "--port", "0", "--dir", os.path.join(self.dir, "store"), *flags],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=clean_env())
        self.port = None
        deadline = time.monotonic() + timeout * TIME_FACTOR
        while self.port is None:
            with open(self.stdout_path, "rb") as f:
                m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise ServerStartError(f"fake-telegram did not start: {self.log()}")
            else:
                time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()

    def env(self):
        """What a netradrive server needs to store its chunks in this fake."""
        return {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": self.url,
                "TELEGRAM_BOT_TOKEN": ",".join(self.bots),
                "TELEGRAM_STORAGE_CHAT_ID": ",".join(str(c) for c in self.chats),
                "TELEGRAM_PACING": "false"}

    def get(self, name):
        r = self.http.get(f"{self.url}/_fake/{name}", timeout=10)
        assert r.status_code == 200, f"/_fake/{name}: {r.status_code} {r.text[:300]}"
        return r.json()

    def post(self, name, body=None):
        r = self.http.post(f"{self.url}/_fake/{name}", json=body, timeout=10)
        assert r.status_code == 200, f"/_fake/{name}: {r.status_code} {r.text[:300]}"
        return r.json()

    def messages(self):
        return self.get("messages")

    def live_messages(self):
        return [m for m in self.messages() if not m["deleted"]]

    def stats(self):
        return self.get("stats")

    def log(self, limit=8000):
        parts = []
        for label, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            try:
                with open(path, "rb") as f:
                    parts.append(f"--- fake-telegram {label} ---\n"
                                 + f.read()[-limit:].decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns a problem description or None."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return f"fake-telegram did not exit within {timeout}s of SIGTERM:\n{self.log()}"
        rc = self.proc.returncode
        err = self.log()
        if rc != 0 or "Sanitizer" in err or "runtime error:" in err:
            return f"fake-telegram exited with {rc}:\n{err}"
        return None


class StrictFakeTelegram(FakeTelegram):
    """A fake a test starts itself, with the given command-line flags;
    stopping it asserts a clean exit (no sanitizer report)."""

    def __init__(self, directory, *flags):
        super().__init__(directory, flags=flags)

    def stop(self, timeout=10.0):
        problem = super().stop(timeout)
        assert problem is None, problem


_FAKES = {}  # realpath(DATA_DIR) -> [FakeTelegram, number of Servers using it]


def _acquire_fake(data_dir, workdir):
    key = os.path.realpath(data_dir)
    entry = _FAKES.get(key)
    if entry is None:
        entry = _FAKES[key] = [FakeTelegram(os.path.join(workdir, "fake-telegram")), 0]
    entry[1] += 1
    return entry[0]


def _release_fake(data_dir):
    key = os.path.realpath(data_dir)
    entry = _FAKES.get(key)
    if entry is None:
        return None
    entry[1] -= 1
    if entry[1] > 0:
        return None
    del _FAKES[key]
    return entry[0].stop()


def stop_all_fakes():
    """Stops every fake still running (end of the session)."""
    problems = [e[0].stop() for e in list(_FAKES.values())]
    _FAKES.clear()
    return [p for p in problems if p]


class Server:
    """One `netradrive <cmd>` process with its own DATA_DIR and working directory.

    env: extra env (None removes a key, e.g. {"PORT": None} to test .env).
    args: extra command-line args after the subcommand.
    port: the port to health-check (default: the PORT we pass).
    """

    def __init__(self, workdir, env=None, args=(), data_dir=None, port=None,
                 binary=None, name="netradrive", cwd=None):
        self.binary = binary or netradrive_bin()
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.data_dir = str(data_dir) if data_dir else os.path.join(self.workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.cwd = str(cwd) if cwd else self.workdir
        self.extra_env = dict(env or {})
        self.args = list(args)
        self.fixed_port = port
        self.name = name
        self.proc = None
        self.port = None
        self.returncode = None
        self._n = 0
        # NETRADRIVE_BACKEND=telegram: a fake Bot API server for this DATA_DIR,
        # unless the test chose its own backend settings.
        self.fake = None
        self.wants_fake = TELEGRAM and not any(
            k == "STORAGE_BACKEND" or k.startswith("TELEGRAM_") for k in self.extra_env)

    @property
    def backend(self):
        """The storage backend this server runs with ("local" or "telegram")."""
        if self.wants_fake:
            return "telegram"
        v = self.extra_env.get("STORAGE_BACKEND")
        return (v or "local").strip().lower()

    # -- lifecycle --------------------------------------------------------
    def _env(self):
        # The suite makes many accounts from one address: lift the per-address
        # signup/forgot-password limit (test_cpu_fairness tests it, and the default).
        base = {"DATA_DIR": self.data_dir, "HOST": "127.0.0.1", "PORT": str(self.port),
                "LOG_LEVEL": "info", "ACCOUNT_REQUESTS_PER_ADDRESS": "1000000"}
        if self.fake is not None:
            base.update(self.fake.env())
        if POSTGRES and "DATABASE_URL" not in self.extra_env:
            base["DATABASE_URL"] = pg_database_url(self.extra_env.get("DATA_DIR") or self.data_dir)
            # Local chunks with PostgreSQL need a DATA_DIR declared shared: the
            # suite's one node per DATA_DIR trivially shares it with itself.
            base["SHARED_DATA_DIR"] = "true"
        base.update(self.extra_env)
        # A test's own PostgreSQL URL with local chunks: one node as well.
        if str(base.get("DATABASE_URL", "")).startswith("postgres") and \
                base.get("STORAGE_BACKEND", "local") == "local":
            base.setdefault("SHARED_DATA_DIR", "true")
        for key in _SECRET_ENV:
            for part in str(base.get(key) or "").split(","):
                note_secret(part.strip())
        return clean_env(base)

    def release_backend(self):
        """Lets go of the fake-telegram (stopped once no Server of this DATA_DIR
        uses it); call after stop(). Returns a problem description or None."""
        if self.fake is None:
            return None
        self.fake = None
        return _release_fake(self.data_dir)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=15.0):
        """Starts the server and waits for GET /healthz == 200. Retries with a
        new port when the chosen one was taken in the meantime."""
        timeout *= TIME_FACTOR
        if self.wants_fake and self.fake is None:
            self.fake = _acquire_fake(self.data_dir, self.workdir)
        last = None
        for _ in range(3):
            self.port = self.fixed_port or free_port()
            if self.fixed_port is None and "PORT" in self.extra_env:
                v = self.extra_env["PORT"]
                if v is not None and str(v).isdigit():
                    self.port = int(v)
            try:
                self._spawn()
                self._wait_ready(timeout)
                return self
            except ServerStartError as e:
                last = e
                err = self.stderr()
                if self.fixed_port is None and re.search(r"in use|bind", err, re.I):
                    continue
                raise
        raise last

    def _spawn(self):
        self._n += 1
        self.stdout_path = os.path.join(self.workdir, f"stdout.{self._n}.log")
        self.stderr_path = os.path.join(self.workdir, f"stderr.{self._n}.log")
        SERVER_LOGS.extend([self.stdout_path, self.stderr_path])
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise ServerStartError(f"netradrive binary not found or not executable: {self.binary} "
                                   "(set NETRADRIVE_BIN)")
        try:
            self.proc = subprocess.Popen([self.binary, "serve", *self.args], cwd=self.cwd,
                                         env=self._env(), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        finally:
            out.close()
            err.close()
        self.returncode = None
        LIVE_SERVERS.append(self)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self._forget()
                self.returncode = rc
                raise ServerStartError(f"server exited with {rc} before /healthz answered; "
                                       f"stderr:\n{self.stderr()}")
            try:
                r = requests.get(self.url + "/healthz", timeout=1)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise ServerStartError(f"/healthz did not answer 200 within {timeout}s; "
                                       f"stderr:\n{self.stderr()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM, wait up to `timeout`; returns the exit code. Raises
        AssertionError (after a SIGKILL) when it does not exit in time."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"server did not exit within {timeout}s of SIGTERM; "
                                     f"stderr:\n{self.stderr()}")
        self.returncode = self.proc.returncode
        self._forget()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
        self._forget()

    def _forget(self):
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    # -- logs -------------------------------------------------------------
    def _read(self, path, limit):
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def stderr(self, limit=20000):
        return self._read(getattr(self, "stderr_path", ""), limit)

    def stdout(self, limit=20000):
        return self._read(getattr(self, "stdout_path", ""), limit)

    def log(self, limit=20000):
        out = self.stdout(limit)
        text = f"--- stderr ---\n{self.stderr(limit)}" + (f"\n--- stdout ---\n{out}" if out else "")
        if self.fake is not None:
            text += "\n" + self.fake.log(limit)
        return text

    # -- clients ----------------------------------------------------------
    def client(self, token=None):
        return Client(self.url, token)


def run_cmd(args, workdir, env=None, timeout=30, cwd=None):
    """Runs `netradrive <args>` to completion with a clean env; returns CompletedProcess."""
    binary = netradrive_bin()
    data_dir = os.path.join(str(workdir), "data")
    os.makedirs(data_dir, exist_ok=True)
    base = {"DATA_DIR": data_dir, "HOST": "127.0.0.1", "LOG_LEVEL": "warn"}
    base.update(env or {})
    if POSTGRES and "DATABASE_URL" not in base and base.get("DATA_DIR"):
        base["DATABASE_URL"] = pg_database_url(base["DATA_DIR"])
        if args and args[0] in ("serve", "gc", "fsck"):   # the commands touching chunks
            base.setdefault("SHARED_DATA_DIR", "true")
    return subprocess.run([binary, *args], cwd=str(cwd or workdir), env=clean_env(base),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------

class User:
    def __init__(self, server, username, email, password):
        self.server = server
        self.username, self.email, self.password = username, email, password
        self.id = None
        self.access_token = self.refresh_token = None
        self.client = server.client()

    def login(self, username=None, password=None):
        """Logs in (form POST) and installs the access token on self.client."""
        r = self.server.client().post(f"{API}/auth/token", data={
            "username": username or self.username, "password": password or self.password})
        assert r.status_code == 200, f"login {self.username}: {r.status_code} {r.text}"
        tok = r.json()
        self.access_token, self.refresh_token = tok["access_token"], tok["refresh_token"]
        self.client.set_token(self.access_token)
        return tok

    def __repr__(self):
        return f"<User {self.username} {self.id}>"


def signup(client, username, email, password):
    return client.post(f"{API}/auth/signup",
                       json={"username": username, "email": email, "password": password})


def make_user(server, prefix="u", password=None, login=True):
    """Signs up a fresh user (verified at signup when SMTP is not configured)
    and logs in. Returns a User whose .client carries the Bearer token."""
    name = unique(prefix)
    u = User(server, name, f"{name.lower()}@example.com", password or f"pw-{uuid.uuid4().hex}")
    r = signup(server.client(), u.username, u.email, u.password)
    assert r.status_code == 201, f"signup: {r.status_code} {r.text}"
    if login:
        u.login()
        me = u.client.get(f"{API}/users/me")
        assert me.status_code == 200, f"users/me: {me.status_code} {me.text}"
        u.id = me.json()["id"]
    return u


# --------------------------------------------------------------------------
# Folder helpers
# --------------------------------------------------------------------------

def create_folder(client, name, parent_id=None, expect=201):
    body = {"name": name}
    if parent_id is not None:
        body["parent_id"] = parent_id
    r = client.post(f"{API}/folders", json=body)
    assert r.status_code == expect, f"create {name!r} in {parent_id}: {r.status_code} {r.text}"
    return r.json()


def list_folders(client, expect=200, **params):
    """GET /folders with params; returns (list, X-Total-Count as int or None)."""
    r = client.get(f"{API}/folders", params=params)
    assert r.status_code == expect, f"list {params}: {r.status_code} {r.text}"
    total = r.headers.get("X-Total-Count")
    return r.json(), (int(total) if total is not None else None)


def names(items):
    return [i["name"] for i in items]


def item_action(client, item_type, fid, action, body=None, expect=200):
    if body is None:
        r = client.put(f"{API}/{item_type}/{fid}/{action}")
    else:
        r = client.put(f"{API}/{item_type}/{fid}/{action}", json=body)
    assert r.status_code == expect, f"{action} {item_type}/{fid}: {r.status_code} {r.text}"
    return r.json()


def bin_folder(client, fid):
    r = client.put(f"{API}/folders/{fid}/bin")
    assert r.status_code == 200, f"bin {fid}: {r.status_code} {r.text}"
    assert_message(r)


def restore_folder(client, fid):
    r = client.put(f"{API}/folders/{fid}/restore")
    assert r.status_code == 200, f"restore {fid}: {r.status_code} {r.text}"
    assert_message(r)


def folder_path(client, fid, expect=200):
    r = client.get(f"{API}/folders/{fid}/path")
    assert r.status_code == expect, f"path {fid}: {r.status_code} {r.text}"
    return r.json()


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------

def _is_json(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"


def json_syntax(line, column):
    """The detail of a JSON body the parser rejects: only the place, never the
    parser's own text (details must not echo a library's internals)."""
    return f"Malformed JSON body (line {line}, column {column})"


NOT_AN_OBJECT = "Malformed JSON body: Request body must be a JSON object"

# Why a file or folder name is refused (400), in the order the server checks.
NAME_EMPTY = "Name must not be empty"
NAME_LONG = "Name must be at most 255 bytes long"
NAME_SLASH = "Name must not contain '/'"
NAME_CONTROL = "Name must not contain control characters"
NAME_DOTS = "Name must not be '.' or '..'"
NAME_BIDI = "Name must not contain bidirectional control characters"

# Why a listing query value is refused (400), by parameter (files and folders alike).
LISTING_PARAM = {"limit": "limit must be an integer from 1 to 10000",
                 "offset": "offset must be a non-negative integer",
                 "sort": "sort must be one of name, size, created_at, updated_at",
                 "order": "order must be asc or desc"}


class _AnyDetail:
    """The `detail` of assert_error for a test that deliberately accepts any
    (non-empty) detail. Use it sparingly, with a comment saying why the text
    cannot be known; every error the suites check today has an exact detail."""

    def __repr__(self):
        return "ANY"


ANY = _AnyDetail()


def assert_error(r, status, detail):
    """Status is exact; the body is JSON {"detail": <detail>}, nothing else, where
    `detail` is the exact text (or ANY: any non-empty string)."""
    assert r.status_code == status, \
        f"{r.request.method} {r.request.url}: expected {status}, got {r.status_code}: {r.text[:500]}"
    assert _is_json(r), f"error Content-Type {r.headers.get('Content-Type')!r}: {r.text[:200]}"
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"detail"} and \
        isinstance(body["detail"], str) and body["detail"], \
        f"error body must be {{'detail': str}}: {body!r}"
    if detail is not ANY:
        assert isinstance(detail, str), f"assert_error: detail must be a str or ANY, not {detail!r}"
        assert body["detail"] == detail, f"detail {body['detail']!r} != {detail!r}"
    return body


def assert_message(r, status=200):
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], body
    return body


def assert_ts(value):
    assert isinstance(value, str) and TS_RE.match(value), f"bad timestamp {value!r}"


def assert_folder(f, name=None, parent_id="__any__", owner_id=None, deleted=None, starred=None):
    """Checks every field and type of a Folder object (API §2)."""
    assert isinstance(f, dict), f
    missing = FOLDER_FIELDS - set(f)
    assert not missing, f"folder lacks {missing}: {f}"
    assert isinstance(f["id"], str) and f["id"], f
    assert f["_id"] == f["id"], f
    assert f["type"] == "folder", f
    assert isinstance(f["name"], str), f
    assert f["parent_id"] is None or (isinstance(f["parent_id"], str) and f["parent_id"]), f
    assert isinstance(f["owner_id"], str) and f["owner_id"], f
    assert type(f["size"]) is int and f["size"] >= 0, f
    assert_ts(f["created_at"])
    assert_ts(f["updated_at"])
    assert f["updated_at"] >= f["created_at"], f
    assert type(f["is_deleted"]) is bool, f
    assert type(f["is_starred"]) is bool, f
    if f["is_deleted"]:
        assert_ts(f["deleted_at"])
    else:
        assert f["deleted_at"] is None, f
    if name is not None:
        assert f["name"] == name, f
    if parent_id != "__any__":
        assert f["parent_id"] == parent_id, f
    if owner_id is not None:
        assert f["owner_id"] == owner_id, f
    if deleted is not None:
        assert f["is_deleted"] is deleted, f
    if starred is not None:
        assert f["is_starred"] is starred, f
    return f


# --------------------------------------------------------------------------
# JWT
# --------------------------------------------------------------------------

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def decode_jwt(token):
    """Returns (header, payload) without verifying."""
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def forge_jwt(payload, key, alg="HS256", header=None, signature=None):
    """Builds a JWT. alg HS256/HS384/HS512 signs with `key`; alg "none" (or a
    given `signature`) uses that signature text (default empty)."""
    hdr = {"alg": alg, "typ": "JWT"}
    hdr.update(header or {})
    signing_input = b64url(json.dumps(hdr, separators=(",", ":"))) + "." + \
        b64url(json.dumps(payload, separators=(",", ":")))
    if signature is None:
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
                  "HS512": hashlib.sha512}.get(alg)
        if digest is None:
            signature = ""
        else:
            k = key.encode() if isinstance(key, str) else key
            signature = b64url(hmac.new(k, signing_input.encode(), digest).digest())
    return signing_input + "." + signature


# --------------------------------------------------------------------------
# SMTP sink
# --------------------------------------------------------------------------

class Mail:
    def __init__(self, mail_from, rcpt_to, data):
        self.mail_from = mail_from      # address without <>
        self.rcpt_to = rcpt_to          # list of addresses without <>
        self.data = data                # raw message bytes (dot-unstuffed)
        self.received = time.time()

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def text(self):
        """The decoded text of every text/* part (falls back to the raw data)."""
        parts = []
        try:
            msg = self.message
            for part in msg.walk():
                if part.get_content_maintype() == "text":
                    try:
                        parts.append(part.get_content())
                    except Exception:
                        parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
        except Exception:
            pass
        raw = self.data.decode("utf-8", "replace")
        return "\n".join(parts) + "\n" + raw

    def token(self, public_url, kind):
        """The token of the `{public_url}/#/{kind}?token=...` link in the body."""
        m = re.search(re.escape(public_url.rstrip("/")) + "/#/" + re.escape(kind)
                      + r"\?token=([A-Za-z0-9._~%+/=-]+)", self.text())
        assert m, f"no {public_url}/#/{kind}?token= link in mail:\n{self.text()[:3000]}"
        return urllib.parse.unquote(m.group(1))

    def __repr__(self):
        return f"<Mail from={self.mail_from} to={self.rcpt_to} {len(self.data)}B>"


def _addr(arg):
    m = re.search(r"<([^>]*)>", arg)
    return (m.group(1) if m else arg.split(":", 1)[-1].strip().split(" ")[0]).strip()


class SmtpSink:
    """A loopback SMTP server that accepts every message and keeps it.
    No STARTTLS, no AUTH, no extensions advertised."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.messages = []
        self.commands = []
        self._consumed = set()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        conn.settimeout(60)
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        mail_from, rcpts = None, []
        try:
            send("220 netra-sink ESMTP ready")
            while True:
                line = f.readline(65536)
                if not line:
                    return
                cmdline = line.decode("utf-8", "replace").rstrip("\r\n")
                with self._cond:
                    self.commands.append(cmdline)
                verb = cmdline.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    send("250 netra-sink")
                elif verb == "MAIL":
                    mail_from, rcpts = _addr(cmdline), []
                    send("250 OK")
                elif verb == "RCPT":
                    rcpts.append(_addr(cmdline))
                    send("250 OK")
                elif verb == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        dl = f.readline(1 << 20)
                        if not dl:
                            return
                        if dl in (b".\r\n", b".\n"):
                            break
                        if dl.startswith(b".."):
                            dl = dl[1:]
                        chunks.append(dl)
                    with self._cond:
                        self.messages.append(Mail(mail_from, list(rcpts), b"".join(chunks)))
                        self._cond.notify_all()
                    mail_from, rcpts = None, []
                    send("250 OK queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    send("250 OK")
                elif verb == "NOOP":
                    send("250 OK")
                elif verb == "QUIT":
                    send("221 Bye")
                    return
                else:
                    send("502 Command not implemented")
        except OSError:
            return
        finally:
            try:
                f.close()
                conn.close()
            except OSError:
                pass

    def messages_to(self, address):
        a = address.lower()
        with self._cond:
            return [m for m in self.messages if a in (r.lower() for r in m.rcpt_to)]

    def wait_for(self, address, timeout=15.0):
        """The next message to `address` not yet returned by wait_for."""
        a = address.lower()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, m in enumerate(self.messages):
                    if i not in self._consumed and a in (r.lower() for r in m.rcpt_to):
                        self._consumed.add(i)
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {address} within {timeout}s; "
                                         f"got {self.messages}")
                self._cond.wait(left)

    def close(self):
        self._closed = True
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# Deeply nested JSON
# --------------------------------------------------------------------------

def deep_json_loads(data):
    """json.loads for documents nested far deeper than Python's default
    recursion limit (runs in a thread with a big stack)."""
    result = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 1_000_000))
        try:
            result["value"] = json.loads(data)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            result["error"] = e
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        t = threading.Thread(target=run)
        t.start()
    finally:
        threading.stack_size(old_size)
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def free_deep(value):
    """Dismantles a deeply nested structure iteratively (avoids deep dealloc)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
            v.clear()
        elif isinstance(v, list):
            stack.extend(v)
            v.clear()


# --------------------------------------------------------------------------
# File helpers (uploads, listings, storage usage, raw HTTP)
# --------------------------------------------------------------------------

FILE_FIELDS = {"_id", "id", "type", "name", "mime_type", "size", "folder_id", "owner_id",
               "hash", "created_at", "updated_at", "is_deleted", "is_starred", "deleted_at"}
STORAGE_FIELDS = {"total_usage_bytes", "file_count", "bin_bytes", "stored_bytes"}
# Keys that would reveal storage-backend internals (API §2).
INTERNAL_KEY_RE = re.compile(r"chat|message_id|chunk|content_id|locator|bot|telegram|blob|"
                             r"storage_|file_path|tg_", re.I)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def assert_no_internals(obj, where="response"):
    """No dict anywhere in `obj` has a key naming storage internals."""
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                assert not INTERNAL_KEY_RE.search(k), f"{where} exposes internal key {k!r}: {v}"
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)


def assert_file(f, name=None, folder_id="__any__", owner_id=None, size=None, hash=None,
                deleted=None, starred=None, mime_type=None):
    """Checks every field and type of a File object (API §2) and that no
    storage internals are exposed."""
    assert isinstance(f, dict), f
    missing = FILE_FIELDS - set(f)
    assert not missing, f"file lacks {missing}: {f}"
    assert_no_internals(f, "File")
    assert isinstance(f["id"], str) and f["id"], f
    assert f["_id"] == f["id"], f
    assert f["type"] == "file", f
    assert isinstance(f["name"], str) and f["name"], f
    assert isinstance(f["mime_type"], str) and "/" in f["mime_type"], f
    assert type(f["size"]) is int and f["size"] >= 0, f
    assert f["folder_id"] is None or (isinstance(f["folder_id"], str) and f["folder_id"]), f
    assert isinstance(f["owner_id"], str) and f["owner_id"], f
    assert isinstance(f["hash"], str) and re.fullmatch(r"[0-9a-f]{64}", f["hash"]), f
    assert_ts(f["created_at"])
    assert_ts(f["updated_at"])
    assert f["updated_at"] >= f["created_at"], f
    assert type(f["is_deleted"]) is bool, f
    assert type(f["is_starred"]) is bool, f
    if f["is_deleted"]:
        assert_ts(f["deleted_at"])
    else:
        assert f["deleted_at"] is None, f
    for key, want in (("name", name), ("owner_id", owner_id), ("size", size), ("hash", hash),
                      ("is_deleted", deleted), ("is_starred", starred),
                      ("mime_type", mime_type)):
        if want is not None:
            assert f[key] == want, f"{key}: {f[key]!r} != {want!r} in {f}"
    if folder_id != "__any__":
        assert f["folder_id"] == folder_id, f
    return f


def _mp_quote(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return s.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


def multipart_body(parts, boundary=None):
    """Builds a multipart/form-data body byte for byte (no path stripping, no
    filename mangling). parts: (field_name, filename or None, data[, content_type]).
    Returns (body, content_type_header)."""
    boundary = boundary or "----netra" + uuid.uuid4().hex
    out = []
    for p in parts:
        name, filename, data = p[0], p[1], p[2]
        ctype = p[3] if len(p) > 3 else ("application/octet-stream" if filename is not None
                                        else None)
        disp = b'Content-Disposition: form-data; name="' + _mp_quote(name) + b'"'
        if filename is not None:
            disp += b'; filename="' + _mp_quote(filename) + b'"'
        out.append(b"--" + boundary.encode() + b"\r\n" + disp + b"\r\n")
        if ctype:
            out.append(b"Content-Type: " + ctype.encode() + b"\r\n")
        out.append(b"\r\n")
        out.append(data if isinstance(data, bytes) else data.encode())
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def upload_raw(client, parts, folder_id=None, boundary=None, params=None):
    """POST /files/upload with a hand-built multipart body; returns the response."""
    body, ctype = multipart_body(parts, boundary)
    q = dict(params or {})
    if folder_id is not None:
        q["folder_id"] = folder_id
    return client.post(f"{API}/files/upload", params=q, data=body,
                       headers={"Content-Type": ctype}, timeout=20 * TIME_FACTOR)


def upload_file(client, name, data, folder_id=None, expect=201, ctype="application/octet-stream"):
    """Uploads `data` (bytes) as `name`; asserts the status; returns the JSON body."""
    r = upload_raw(client, [("file", name, data, ctype)], folder_id=folder_id)
    assert r.status_code == expect, f"upload {name!r} into {folder_id}: {r.status_code} {r.text[:500]}"
    return r.json()


def list_files(client, expect=200, **params):
    """GET /files with params; returns (list, X-Total-Count as int or None)."""
    r = client.get(f"{API}/files", params=params)
    assert r.status_code == expect, f"list files {params}: {r.status_code} {r.text[:500]}"
    total = r.headers.get("X-Total-Count")
    return r.json(), (int(total) if total is not None else None)


def download(client, fid, expect=200):
    r = client.get(f"{API}/files/{fid}/download")
    assert r.status_code == expect, f"download {fid}: {r.status_code} {r.text[:300]}"
    return r.content


def storage_usage(client):
    """GET /users/me/storage; checks the exact key set and integer values."""
    r = client.get(f"{API}/users/me/storage")
    assert r.status_code == 200, f"storage: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert set(body) == STORAGE_FIELDS, body
    for k in STORAGE_FIELDS:
        assert type(body[k]) is int and body[k] >= 0, body
    return body


def chunk_files(server):
    """Regular files under DATA_DIR/chunks (the local backend's stored chunks)."""
    found = []
    for root, _dirs, files in os.walk(os.path.join(server.data_dir, "chunks")):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                found.append(p)
    return sorted(found)


def stored_chunks(server):
    """The chunks the server's store holds right now, as a set of opaque
    names, whatever the backend: local -> the files under DATA_DIR/chunks;
    telegram -> the fake's live (not deleted) messages as "tg:<chat>:<message>".
    A chunk removed from the store leaves this set (Telegram deletes are
    asynchronous: poll with wait_until)."""
    if server.backend == "telegram":
        assert server.fake is not None, \
            "stored_chunks: this telegram server runs against its own Bot API, not the harness fake"
        return {f"tg:{m['chat_id']}:{m['message_id']}" for m in server.fake.live_messages()}
    return set(chunk_files(server))


def stored_chunk_count(server):
    """How many chunks the store holds (see stored_chunks)."""
    return len(stored_chunks(server))


def spool_files(server):
    """Anything left under DATA_DIR/tmp (upload spool)."""
    found = []
    for root, dirs, files in os.walk(os.path.join(server.data_dir, "tmp")):
        found.extend(os.path.join(root, f) for f in files)
    return sorted(found)


def wait_until(pred, timeout=10.0, interval=0.05):
    """Polls pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def prng_blocks(seed, size, block=1 << 20):
    """Deterministic pseudo-random bytes, `size` in total, yielded in blocks."""
    import random
    rnd = random.Random(seed)
    left = size
    while left > 0:
        n = min(block, left)
        yield rnd.randbytes(n)
        left -= n


def upload_stream(server, token, name, size, blocks, folder_id=None, timeout=300):
    """Streams a `size`-byte upload (bytes from the iterable `blocks`) with a fixed
    Content-Length over http.client, never holding it in memory. Returns
    (status, parsed JSON body or raw bytes)."""
    boundary = "----netra" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    path = f"{API}/files/upload"
    if folder_id is not None:
        path += "?folder_id=" + urllib.parse.quote(folder_id)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.endheaders()
        conn.send(head)
        sent = 0
        for b in blocks:
            conn.send(b)
            sent += len(b)
        assert sent == size, (sent, size)
        conn.send(tail)
        r = conn.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data
    finally:
        conn.close()


class RawResponse:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.body[:200]!r}>"


def _parse_raw_response(buf):
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = hdrs.get("content-length")
    body = rest[:int(n)] if n is not None and n.isdigit() else rest
    return RawResponse(int(m.group(1)), hdrs, body)


def raw_exchange(port, head, body_parts=(), shutdown=False, close_early=False,
                 timeout=10.0, pause=0.0):
    """Sends the request head (bytes) and then each of body_parts over a raw socket.
    close_early: close the socket right after sending, without reading (an aborted
    upload; returns None). shutdown: half-close (SHUT_WR) after sending.
    Otherwise reads until the response is complete, EOF or `timeout`; returns a
    RawResponse or None when the server closed without answering.
    A send that fails because the server already answered and closed is ignored."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(head)
            for part in body_parts:
                if pause:
                    time.sleep(pause)
                s.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if close_early:
            # RST-free close: the peer sees EOF in the middle of the body.
            return None
        if shutdown:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        buf = b""
        deadline = time.monotonic() + timeout * TIME_FACTOR
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not data:
                break
            buf += data
            r = _parse_raw_response(buf)
            if r is not None:
                n = r.headers.get("content-length")
                if n is not None and n.isdigit() and len(r.body) >= int(n):
                    return r
        return _parse_raw_response(buf)
    finally:
        s.close()


def upload_head(token, content_length=None, boundary="rawb0undary", folder_id=None,
                extra=b"", chunked=False, content_type=None):
    """The request head of a raw POST /files/upload."""
    path = f"{API}/files/upload"
    if folder_id is not None:
        path += "?folder_id=" + urllib.parse.quote(folder_id)
    ct = content_type or f"multipart/form-data; boundary={boundary}"
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}",
             f"Content-Type: {ct}", "Connection: close"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n").encode() + extra + b"\r\n"

"""pytest harness for the NetraDrive black-box suites.

The binary is $NETRADRIVE_BIN (default <repo>/build/netradrive); a missing
binary is a test error, never a skip.

Fixtures (see helpers.py for the classes):

  netradrive_bin          session  path of the binary (errors when missing)
  server                  module   default server for the module. A module may
                                   set SERVER_ENV = {...} (extra env) and/or
                                   SERVER_ARGS = [...] at top level to customise it.
  server_factory          function factory(env=None, args=(), data_dir=None,
                                   port=None, cwd=None, start=True) -> Server;
                                   every server it made is SIGTERMed at teardown
                                   and must exit 0 within 10 s.
  module_server_factory   module   the same, shared by a module.
  client                  function anonymous Client for `server`
  user                    module   one signed-up, logged-in User on `server`
  other_user              module   a second User on `server`
  user_factory            function make a fresh User on `server`: user_factory(prefix="u")
  smtp_sink               function a fresh SmtpSink (loopback)
  module_smtp_sink        module   an SmtpSink shared by a module

Each Server runs with a clean environment: DATA_DIR=<fresh tmp>, HOST=127.0.0.1,
PORT=<free port>, LOG_LEVEL=warn, cwd=<its own tmp dir> (so no stray .env), plus
the extra env given. On any test failure the logs of all running servers are
attached to the report.

NETRADRIVE_BACKEND=telegram runs every server the fixtures start with
STORAGE_BACKEND=telegram against a fake-telegram of its own ($FAKE_TELEGRAM_BIN,
default build/fake-telegram; 2 bots x 2 chats, TELEGRAM_PACING=false), except
servers whose env sets STORAGE_BACKEND or TELEGRAM_* itself. The fake is stopped
(and must exit cleanly) when the factory tears down. Tests that look at stored
chunks use helpers.stored_chunks(server), which works for both backends;
helpers.TELEGRAM tells which mode the run is in.
"""
import os
import sys

import re

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402
import openapi_check  # noqa: E402
from helpers import LIVE_SERVERS, Server, ServerStartError, SmtpSink, make_user  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "deep: 10,000-deep / 10,000-wide folder trees "
                                       "(run by default; deselect with -m 'not deep')")


def pytest_report_header(config):
    if helpers.TELEGRAM:
        return f"netradrive backend: telegram (fake: {helpers.fake_telegram_bin()})"
    return "netradrive backend: local"


def _secrets_in_logs():
    """(secret, log file) pairs: a secret the suite used found in a server log."""
    words = re.compile(r"[A-Za-z0-9_.~+/=-]+")
    simple = {s for s in helpers.SECRETS if words.fullmatch(s)}
    other = helpers.SECRETS - simple
    found = []
    for path in helpers.SERVER_LOGS:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        # Each word of the log (and its parts around '=' and '/') against the set.
        seen = set()
        for w in words.findall(text):
            seen.add(w)
            seen.update(re.split(r"[=/]", w))
        found += [(s, path) for s in simple & seen]
        found += [(s, path) for s in other if s in text]
    return found


def _db_guard_hits():
    """(line, log file) pairs: the SQLite driver's debug guard (builds with
    NETRA_DB_GUARD, e.g. make SANITIZE=1) saw a write start beside an open
    read on one connection, which fails whenever another connection wrote in
    between (DECISIONS, issue 11). Release builds never log it."""
    hits = []
    for path in helpers.SERVER_LOGS:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                hits += [(line.strip(), path) for line in f if "db guard:" in line]
        except OSError:
            continue
    return hits


def pytest_sessionfinish(session, exitstatus):
    # Fakes of servers made outside the factories (normally none are left).
    helpers.stop_all_fakes()
    # Under pytest-xdist a worker hands its secrets and logs to the
    # controller (pytest_testnodedown below), which checks them all.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["secrets"] = sorted(helpers.SECRETS)
        workeroutput["server_logs"] = list(helpers.SERVER_LOGS)
        return
    # No secret the suite used may be in any server's log (issue 12): a
    # failure here fails the run (the closing count adds one).
    found = _secrets_in_logs()
    if found:
        for secret, path in found[:20]:
            print(f"\nSECRET IN LOG: {secret[:6]}... in {path}")
        session.exitstatus = 1
    print(f"\nlog check: {len(helpers.SECRETS)} secrets, {len(helpers.SERVER_LOGS)} logs, "
          f"{len(found)} leaks")
    guard = _db_guard_hits()
    for line, path in guard[:20]:
        print(f"\nDB GUARD: {line[:300]} in {path}")
    if guard:
        session.exitstatus = 1
        print(f"db guard: {len(guard)} write(s) beside an open read")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: collects what a finished worker used (see above)."""
    out = getattr(node, "workeroutput", None) or {}
    helpers.SECRETS.update(out.get("secrets", ()))
    helpers.SERVER_LOGS.extend(out.get("server_logs", ()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for s in list(LIVE_SERVERS):
            rep.sections.append((f"{s.name} log (port {s.port}, {s.workdir})", s.log(8000)))


@pytest.fixture(autouse=True)
def openapi_replies():
    """Fails a test whose replies did not match docs/openapi.json, even where
    the client's AssertionError was caught or raised on another thread."""
    openapi_check.MISMATCHES.clear()
    yield
    if openapi_check.MISMATCHES:
        found = list(openapi_check.MISMATCHES)
        openapi_check.MISMATCHES.clear()
        pytest.fail("replies that do not match docs/openapi.json:\n" + "\n".join(found[:5]),
                    pytrace=False)


@pytest.fixture(scope="session")
def netradrive_bin():
    path = helpers.netradrive_bin()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"netradrive binary not found or not executable: {path} "
                    "(build it or set NETRADRIVE_BIN)", pytrace=False)
    return path


class _Factory:
    def __init__(self, tmp_path_factory, binary, label):
        self.tmp = tmp_path_factory
        self.binary = binary
        self.label = label
        self.servers = []

    def __call__(self, env=None, args=(), data_dir=None, port=None, cwd=None, start=True,
                 timeout=15.0, name="netradrive"):
        workdir = self.tmp.mktemp(self.label)
        s = Server(workdir, env=env, args=args, data_dir=data_dir, port=port,
                   binary=self.binary, name=name, cwd=cwd)
        self.servers.append(s)
        if start:
            err = None
            try:
                s.start(timeout=timeout)
            except ServerStartError as e:
                err = str(e)
            if err is not None:
                pytest.fail(err, pytrace=False)
        return s

    def close(self):
        problems = []
        for s in self.servers:
            was_running = s.alive()
            try:
                rc = s.stop(10.0)
            except AssertionError as e:
                problems.append(str(e))
                continue
            if was_running and rc != 0:
                problems.append(f"server on port {s.port} exited with {rc} after SIGTERM "
                                f"(expected 0):\n{s.log(8000)}")
        for s in self.servers:
            problem = s.release_backend()
            if problem:
                problems.append(problem)
        self.servers.clear()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server_factory(tmp_path_factory, netradrive_bin):
    f = _Factory(tmp_path_factory, netradrive_bin, "srv")
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_server_factory(tmp_path_factory, netradrive_bin):
    f = _Factory(tmp_path_factory, netradrive_bin, "msrv")
    yield f
    f.close()


@pytest.fixture(scope="module")
def server(request, module_server_factory):
    env = getattr(request.module, "SERVER_ENV", None)
    args = getattr(request.module, "SERVER_ARGS", ())
    s = module_server_factory(env=env, args=args)
    yield s
    # A crash during the module shows up here rather than at the very end.
    if not s.alive():
        pytest.fail(f"default server died during the module (rc={s.proc.poll()}):\n{s.log()}",
                    pytrace=False)


@pytest.fixture
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def user(server):
    return make_user(server, prefix="alice")


@pytest.fixture(scope="module")
def other_user(server):
    return make_user(server, prefix="bob")


@pytest.fixture
def user_factory(server):
    def make(prefix="u", **kw):
        return make_user(server, prefix=prefix, **kw)
    return make


@pytest.fixture
def smtp_sink():
    s = SmtpSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def module_smtp_sink():
    s = SmtpSink()
    yield s
    s.close()

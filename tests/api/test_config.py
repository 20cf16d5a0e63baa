"""Configuration (API §12): bad values stop the server with a line
naming the variable, .env handling and precedence, flags, the generated
SECRET_KEY, token lifetimes, and the migrate/version subcommands."""
import os
import re
import stat
import subprocess
import time

import pytest
import requests

from helpers import API, POSTGRES, Server, clean_env, decode_jwt, free_port, make_user, \
    netradrive_bin, port_open, run_cmd


@pytest.fixture(autouse=True)
def _need_binary(netradrive_bin):
    """Every test here runs the binary: a missing one is an error, never a skip."""


def _run_serve(tmp_path, env, timeout=10):
    """Runs `netradrive serve` expecting it to refuse to start."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    base = {"DATA_DIR": str(data), "HOST": "127.0.0.1", "PORT": str(free_port()),
            "LOG_LEVEL": "warn"}
    base.update(env)
    t0 = time.monotonic()
    try:
        p = subprocess.run([netradrive_bin(), "serve"], cwd=str(tmp_path), env=clean_env(base),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server with {env} did not exit within {timeout}s (it should refuse to start)")
    return p, time.monotonic() - t0


@pytest.mark.parametrize("var,value", [
    ("PORT", "abc"), ("PORT", "0"), ("PORT", "70000"), ("PORT", "-1"), ("PORT", "80a"),
    ("MAX_UPLOAD_SIZE", "12X"), ("MAX_UPLOAD_SIZE", "-1"), ("MAX_UPLOAD_SIZE", "M"),
    ("CHUNK_SIZE", "lots"),
    ("STORAGE_BACKEND", "ftp"), ("DEDUP", "maybe"), ("DATABASE_URL", "mysql://x"),
    ("LOG_LEVEL", "loud"), ("REQUIRE_EMAIL_VERIFICATION", "perhaps"),
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "soon"), ("REFRESH_TOKEN_EXPIRE_DAYS", "x"),
    ("LOGIN_MAX_FAILURES", "many"), ("BIN_RETENTION_DAYS", "forever"),
    ("LISTING_CACHE", "1G"), ("LISTING_CACHE", "lots"), ("LOG_FORMAT", "xml"),
])
def test_bad_value_stops_server(netradrive_bin, tmp_path, var, value):
    p, took = _run_serve(tmp_path, {var: value})
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1, f"{var}={value}: exit {p.returncode}; stderr: {err}"
    assert var in err, f"stderr does not name {var}: {err!r}"
    assert took < 5, f"took {took:.1f}s to refuse {var}={value}"


@pytest.mark.parametrize("value", ["0", "1024", "512K", "10M", "2G"])
def test_valid_sizes_accepted(server_factory, value):
    s = server_factory(env={"MAX_UPLOAD_SIZE": value, "CHUNK_SIZE": "1M"})
    assert s.client().get("/healthz").status_code == 200


def test_dotenv_is_read(server_factory, tmp_path):
    port = free_port()
    cwd = tmp_path / "wd"
    cwd.mkdir()
    (cwd / ".env").write_text(f"# settings for this test\n\nPORT={port}\n")
    s = server_factory(env={"PORT": None}, port=port, cwd=cwd)
    assert s.port == port
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_real_env_wins_over_dotenv(server_factory, tmp_path):
    env_port, dot_port = free_port(), free_port()
    cwd = tmp_path / "wd"
    cwd.mkdir()
    (cwd / ".env").write_text(f"PORT={dot_port}\nCORS_ORIGINS=http://dotenv.example\n")
    s = server_factory(env={"PORT": str(env_port)}, port=env_port, cwd=cwd)
    assert requests.get(f"http://127.0.0.1:{env_port}/healthz", timeout=5).status_code == 200
    assert not port_open(dot_port)
    # a .env value not overridden by the environment still applies
    r = s.client().get("/", headers={"Origin": "http://dotenv.example"})
    assert r.headers.get("Access-Control-Allow-Origin") == "http://dotenv.example"


def test_bad_value_in_dotenv_stops_server(tmp_path):
    (tmp_path / ".env").write_text("DEDUP=sometimes\n")
    p, _ = _run_serve(tmp_path, {})
    assert p.returncode == 1, p.stderr
    assert "DEDUP" in p.stderr.decode("utf-8", "replace")


def test_port_flag_wins_over_env(server_factory):
    env_port, flag_port = free_port(), free_port()
    s = server_factory(env={"PORT": str(env_port)}, args=["--port", str(flag_port)],
                       port=flag_port)
    assert requests.get(f"http://127.0.0.1:{flag_port}/healthz", timeout=5).status_code == 200
    assert not port_open(env_port)
    assert s.alive()


def test_bad_port_flag_stops_server(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    p = subprocess.run([netradrive_bin(), "serve", "--port", "notaport"], cwd=str(tmp_path),
                       env=clean_env({"DATA_DIR": str(data), "LOG_LEVEL": "warn"}),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert p.returncode == 1, p.stderr
    assert re.search(r"port", p.stderr.decode("utf-8", "replace"), re.I)


def test_secret_key_generated_and_reused(server_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s1 = server_factory(data_dir=data)
    key_file = data / "secret_key"
    assert key_file.is_file(), os.listdir(data)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, oct(key_file.stat().st_mode)
    key = key_file.read_bytes()
    assert len(key.strip()) >= 32
    u = make_user(s1, prefix="sk")
    assert s1.stop() == 0
    s2 = server_factory(data_dir=data)
    assert key_file.read_bytes() == key
    c = s2.client(u.access_token)
    me = c.get(f"{API}/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == u.id
    r = s2.client().post(f"{API}/auth/refresh_token", json={"refresh_token": u.refresh_token})
    assert r.status_code == 200, r.text


def test_secret_key_from_env_not_written(server_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server_factory(data_dir=data, env={"SECRET_KEY": "s" * 64})
    assert not (data / "secret_key").exists()


def test_different_secret_rejects_old_tokens(server_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s1 = server_factory(data_dir=data, env={"SECRET_KEY": "a" * 64})
    u = make_user(s1, prefix="sec")
    assert s1.stop() == 0
    s2 = server_factory(data_dir=data, env={"SECRET_KEY": "b" * 64})
    r = s2.client(u.access_token).get(f"{API}/users/me")
    assert r.status_code == 401
    assert r.json() == {"detail": "Could not validate credentials"}


def test_token_lifetimes_configurable(server_factory):
    s = server_factory(env={"ACCESS_TOKEN_EXPIRE_MINUTES": "1", "REFRESH_TOKEN_EXPIRE_DAYS": "2"})
    u = make_user(s, prefix="life")
    _, p = decode_jwt(u.access_token)
    assert p["exp"] - p["iat"] == 60
    _, p = decode_jwt(u.refresh_token)
    assert p["exp"] - p["iat"] == 2 * 86400


def test_data_persists_across_restart(server_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s1 = server_factory(data_dir=data)
    u = make_user(s1, prefix="per")
    f = u.client.post(f"{API}/folders", json={"name": "persistent"}).json()
    assert s1.stop() == 0
    s2 = server_factory(data_dir=data)
    c = s2.client(u.access_token)
    r = c.get(f"{API}/folders")
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [f["id"]]


def test_database_url_sqlite_path(server_factory, tmp_path):
    db = tmp_path / "elsewhere" / "custom.db"
    db.parent.mkdir()
    s = server_factory(env={"DATABASE_URL": f"sqlite://{db}"})
    make_user(s, prefix="db")
    assert db.is_file()
    assert not os.path.exists(os.path.join(s.data_dir, "netradrive.db"))


def test_migrate(tmp_path):
    p = run_cmd(["migrate"], tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    if not POSTGRES:   # on PostgreSQL the schema is in the pass's database
        db = tmp_path / "data" / "netradrive.db"
        assert db.is_file() and db.stat().st_size > 0
    p = run_cmd(["migrate"], tmp_path)            # idempotent
    assert p.returncode == 0, p.stderr.decode()


def test_migrate_then_serve(server_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    p = run_cmd(["migrate"], tmp_path, env={"DATA_DIR": str(data)})
    assert p.returncode == 0, p.stderr.decode()
    s = server_factory(data_dir=data)
    make_user(s, prefix="mig")


def test_migrate_bad_database_url(tmp_path):
    p = run_cmd(["migrate"], tmp_path, env={"DATABASE_URL": "mysql://x"})
    assert p.returncode == 1, p.stderr
    assert "DATABASE_URL" in p.stderr.decode("utf-8", "replace")


def test_version(tmp_path):
    p = run_cmd(["version"], tmp_path, timeout=10)
    assert p.returncode == 0, p.stderr.decode()
    out = p.stdout.decode()
    assert re.search(r"\d+\.\d+", out), out


def test_unknown_subcommand_fails(tmp_path):
    p = run_cmd(["frobnicate"], tmp_path, timeout=10)
    assert p.returncode == 2, p.stderr   # a usage error, not a refusal to start


def test_threads_setting(server_factory):
    s = server_factory(env={"THREADS": "1"})
    c = s.client()
    for _ in range(5):
        assert c.get("/healthz").status_code == 200


def test_server_class_reports_startup_failure(tmp_path):
    """The harness surfaces a server that dies at start with its stderr."""
    s = Server(tmp_path / "w", env={"DEDUP": "maybe"})
    with pytest.raises(Exception) as e:
        s.start(timeout=10)
    assert "DEDUP" in str(e.value)

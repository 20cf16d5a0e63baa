"""STORAGE_BACKEND=telegram against the fake Bot API server (tests/fake-telegram).

Each test starts the fake (FAKE_TELEGRAM_BIN, default build/fake-telegram) on a
free port with its own directory, then netradrive pointed at it with small
chunks, and checks what arrives in the fake through its /_fake control API:
round trips are byte-exact, chunks spread over every bot and chat, faults and
429s are survived, start-up names a bad token or chat, a killed upload leaves
nothing visible and its messages are deleted, deletes reach Telegram, and a
second download comes from the disk cache.
"""
import hashlib
import os
import pathlib
import sqlite3
import threading
import time

import pytest

from helpers import (API, POSTGRES, StrictFakeTelegram, assert_error, download, free_port, make_user,
                     prng_blocks, run_cmd, storage_usage, upload_file, upload_stream, wait_until)

BOTS = ["111111:AAbot-one", "222222:BBbot_two", "333333:CCbot-three"]
CHATS = [-1001000000001, -1001000000002]
K = 1024
MIB = 1024 * 1024
CHUNK = 64 * K


Fake = StrictFakeTelegram  # Fake(directory, *flags)


def tg_env(fake, bots=BOTS[:2], chats=CHATS, **extra):
    env = {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
           "TELEGRAM_BOT_TOKEN": ",".join(bots),
           "TELEGRAM_STORAGE_CHAT_ID": ",".join(str(c) for c in chats),
           "CHUNK_SIZE": str(CHUNK), "TELEGRAM_PACING": "false"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def fakes(tmp_path):
    """Starts fakes with chosen flags; all are stopped at the end."""
    started = []

    def start(*flags):
        f = Fake(tmp_path / f"fake{len(started)}", *flags)
        started.append(f)
        return f

    yield start
    for f in started:
        f.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, module_server_factory):
    """One fake + one server (2 bots x 2 chats, 64 KiB chunks) for the simple tests."""
    fake = Fake(tmp_path_factory.mktemp("shared-fake"), "--seed", "7")
    server = module_server_factory(env=tg_env(fake))
    yield fake, server
    fake.stop()


@pytest.fixture
def alice(shared):
    return make_user(shared[1], prefix="tg")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def stream_download(client, fid, headers=None):
    """(status, sha256, length) of a download, read in pieces."""
    h = hashlib.sha256()
    n = 0
    with client.get(f"{API}/files/{fid}/download", headers=headers or {}, stream=True) as r:
        for piece in r.iter_content(1 << 20):
            h.update(piece)
            n += len(piece)
        return r.status_code, h.hexdigest(), n


def delete_file(client, fid):
    """DELETE /files/{id} (permanent); the route must exist and answer 200."""
    r = client.delete(f"{API}/files/{fid}")
    assert r.status_code == 200, r.text


def live_messages(fake):
    return [m for m in fake.messages() if not m["deleted"]]


# --------------------------------------------------------------------------
# Round trips, Range, cache
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 12345])
def test_round_trip_byte_exact(shared, alice, size):
    fake, _ = shared
    before = {(m["chat_id"], m["message_id"]) for m in fake.messages()}
    data = os.urandom(size)
    f = upload_file(alice.client, f"f{size}.bin", data)
    assert f["size"] == size and f["hash"] == sha(data)
    assert sha(download(alice.client, f["id"])) == sha(data)
    new = [m for m in fake.messages() if (m["chat_id"], m["message_id"]) not in before]
    # Every chunk is one document holding exactly that chunk's bytes.
    assert len(new) == -(-size // CHUNK)
    want = sorted(sha(data[i:i + CHUNK]) for i in range(0, size, CHUNK))
    assert sorted(m["sha256"] for m in new) == want
    assert all(m["size"] <= CHUNK and not m["deleted"] for m in new)


def test_range_reads_across_chunk_borders(shared, alice):
    data = os.urandom(5 * CHUNK + 777)
    f = upload_file(alice.client, "ranges.bin", data)
    cases = [(0, 0), (CHUNK - 1, CHUNK), (CHUNK - 10, 3 * CHUNK + 10), (2 * CHUNK, 2 * CHUNK),
             (4 * CHUNK + 100, len(data) - 1), (123, 4 * CHUNK + 5)]
    for a, b in cases:
        r = alice.client.get(f"{API}/files/{f['id']}/download", headers={"Range": f"bytes={a}-{b}"})
        assert r.status_code == 206, (a, b, r.status_code, r.text[:200])
        assert r.content == data[a:b + 1], (a, b)
    r = alice.client.get(f"{API}/files/{f['id']}/download", headers={"Range": "bytes=-1000"})
    assert r.status_code == 206 and r.content == data[-1000:]


def test_second_download_from_cache(shared, alice):
    fake, _ = shared
    data = os.urandom(4 * CHUNK + 99)
    f = upload_file(alice.client, "cached.bin", data)
    assert download(alice.client, f["id"]) == data
    s1 = fake.stats()
    assert download(alice.client, f["id"]) == data
    r = alice.client.get(f"{API}/files/{f['id']}/download", headers={"Range": f"bytes={CHUNK}-"})
    assert r.status_code == 206 and r.content == data[CHUNK:]
    s2 = fake.stats()
    assert (s2["getFile"], s2["download"]) == (s1["getFile"], s1["download"])


def test_cache_survives_restart(fakes, server_factory, tmp_path):
    fake = fakes()
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="restart")
    data = os.urandom(3 * CHUNK + 5)
    f = upload_file(u.client, "keep.bin", data)
    assert download(u.client, f["id"]) == data
    assert s.stop() == 0
    cache = pathlib.Path(s.data_dir) / "cache"
    assert len([p for p in cache.iterdir() if not p.name.endswith(".part")]) == 4
    s2 = server_factory(env=tg_env(fake), data_dir=s.data_dir)
    u.server = s2
    u.client = s2.client()
    u.login()
    before = fake.stats()
    assert download(u.client, f["id"]) == data
    after = fake.stats()
    assert (after["getFile"], after["download"]) == (before["getFile"], before["download"])


def test_cache_size_cap_evicts(fakes, server_factory):
    fake = fakes()
    s = server_factory(env=tg_env(fake, CACHE_SIZE=str(3 * CHUNK)))
    u = make_user(s, prefix="cap")
    data = os.urandom(8 * CHUNK)
    f = upload_file(u.client, "big.bin", data)
    for _ in range(2):
        assert download(u.client, f["id"]) == data
    cache = pathlib.Path(s.data_dir) / "cache"
    kept = sum(p.stat().st_size for p in cache.iterdir())
    assert kept <= 3 * CHUNK


def test_delete_removes_messages(shared, alice):
    fake, _ = shared
    before = {(m["chat_id"], m["message_id"]) for m in fake.messages()}
    data = os.urandom(3 * CHUNK + 1)
    f = upload_file(alice.client, "doomed.bin", data)
    mine = {(m["chat_id"], m["message_id"]) for m in fake.messages()} - before
    assert len(mine) == 4
    delete_file(alice.client, f["id"])

    def gone():
        return all(m["deleted"] for m in fake.messages()
                   if (m["chat_id"], m["message_id"]) in mine)
    assert wait_until(gone, timeout=20), [m for m in fake.messages()
                                          if (m["chat_id"], m["message_id"]) in mine]


def test_duplicate_upload_deletes_redundant_copy(shared, alice):
    fake, _ = shared
    data = os.urandom(2 * CHUNK + 3)
    before = {(m["chat_id"], m["message_id"]) for m in fake.messages()}
    a = upload_file(alice.client, "a.bin", data)
    b = upload_file(alice.client, "b.bin", data)
    new = [m for m in fake.messages() if (m["chat_id"], m["message_id"]) not in before]
    assert len(new) == 6  # both copies were sent...
    # ...and the second one's messages are removed again (dedup links the content).
    assert wait_until(lambda: sum(not m["deleted"] for m in fake.messages()
                                  if (m["chat_id"], m["message_id"]) not in before) == 3,
                      timeout=20)
    assert download(alice.client, a["id"]) == data
    assert download(alice.client, b["id"]) == data


# --------------------------------------------------------------------------
# Spread over bots and chats, 200 MB
# --------------------------------------------------------------------------

def test_200mb_over_3_bots_and_2_chats(fakes, server_factory):
    fake = fakes()
    size = 200 * MIB
    s = server_factory(env=tg_env(fake, bots=BOTS, chats=CHATS, CHUNK_SIZE="1M",
                                  TELEGRAM_PARALLEL_UPLOADS="6"), timeout=30)
    u = make_user(s, prefix="big")
    want = hashlib.sha256()
    for block in prng_blocks(200, size):
        want.update(block)
    status, body = upload_stream(s, u.access_token, "big.bin", size, prng_blocks(200, size))
    assert status == 201, body
    assert body["size"] == size and body["hash"] == want.hexdigest()
    msgs = fake.messages()
    # 200 chunks of 1 MiB would leave the last round of 6 senders part idle:
    # the announced size is cut into 34 whole rounds of 6 instead.
    assert len(msgs) == 204
    assert all(m["size"] <= MIB for m in msgs)
    assert sum(m["size"] for m in msgs) == size
    pairs = {(m["bot_id"], m["chat_id"]) for m in msgs}
    assert pairs == {(int(b.split(":")[0]), c) for b in BOTS for c in CHATS}
    per_bot = {}
    for m in msgs:
        per_bot[m["bot_id"]] = per_bot.get(m["bot_id"], 0) + 1
    assert min(per_bot.values()) >= 50, per_bot  # round-robin, not all on one bot
    status, digest, n = stream_download(u.client, body["id"])
    assert (status, n, digest) == (200, size, want.hexdigest())


def test_chunk_count_is_whole_rounds_of_parallel_sends(fakes, server_factory):
    # With the size announced (Content-Length), a file of several rounds is cut
    # into a multiple of TELEGRAM_PARALLEL_UPLOADS chunks, none over CHUNK_SIZE;
    # smaller files keep CHUNK_SIZE, so do files of unknown size.
    fake = fakes()
    s = server_factory(env=tg_env(fake, CHUNK_SIZE="128K", TELEGRAM_PARALLEL_UPLOADS="4"))
    u = make_user(s, prefix="rounds")

    def new_sizes(before):
        return sorted((m["size"] for m in fake.messages()
                       if (m["chat_id"], m["message_id"]) not in before), reverse=True)

    def seen():
        return {(m["chat_id"], m["message_id"]) for m in fake.messages()}

    k = 128 * K
    for size, count, biggest in [(9 * k + 5, 12, 97 * K),  # 10 -> 12 chunks of ~96 KiB
                                 (8 * k, 8, k),                              # already whole
                                 (3 * k + 1, 4, k)]:                         # one round: as is
        before = seen()
        data = os.urandom(size)
        f = upload_file(u.client, f"r{size}.bin", data)
        sizes = new_sizes(before)
        assert len(sizes) == count, (size, sizes)
        assert sizes[0] <= biggest and sum(sizes) == size
        assert download(u.client, f["id"]) == data
        # ranges across the moved chunk borders
        r = u.client.get(f"{API}/files/{f['id']}/download",
                         headers={"Range": f"bytes={sizes[0] - 3}-{2 * sizes[0] + 2}"})
        assert r.status_code == 206 and r.content == data[sizes[0] - 3:2 * sizes[0] + 3]
    # No Content-Length (chunked request body): the size is unknown, CHUNK_SIZE holds.
    before = seen()
    data = os.urandom(9 * k + 5)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"c.bin\"\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    r = u.client.post(f"{API}/files/upload", data=iter([body[:1000], body[1000:]]),
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 201, r.text
    sizes = new_sizes(before)
    assert len(sizes) == 10 and sizes[0] == k, sizes
    assert download(u.client, r.json()["id"]) == data


# --------------------------------------------------------------------------
# Faults, rate limits, permanent errors
# --------------------------------------------------------------------------

def test_faults_of_every_kind(fakes, server_factory):
    fake = fakes("--fail-rate", "0.1", "--drop-rate", "0.1", "--truncate-rate", "0.1",
                 "--slow-rate", "0.1", "--slow-ms", "300", "--seed", "42")
    s = server_factory(env=tg_env(fake, bots=BOTS, TELEGRAM_PARALLEL_UPLOADS="6",
                                  CACHE_SIZE="0"))
    u = make_user(s, prefix="faults")
    files = []
    for i, size in enumerate([1, CHUNK, 7 * CHUNK + 5, 20 * CHUNK + 17, 3 * CHUNK]):
        data = os.urandom(size)
        f = upload_file(u.client, f"fault{i}.bin", data)
        assert f["hash"] == sha(data)
        files.append((f, data))
    for f, data in files:
        assert sha(download(u.client, f["id"])) == sha(data)
    f, data = files[3]
    for a, b in [(CHUNK - 3, 5 * CHUNK + 3), (17 * CHUNK, len(data) - 1)]:
        r = u.client.get(f"{API}/files/{f['id']}/download", headers={"Range": f"bytes={a}-{b}"})
        assert r.status_code == 206 and r.content == data[a:b + 1]
    stats = fake.stats()
    assert stats["faults"] >= 5, stats
    # Nothing was stored twice or lost: one live message per chunk.
    chunks = sum(-(-len(d) // CHUNK) for _, d in files)
    assert len(live_messages(fake)) == chunks


def test_rate_limited_chat_slows_but_loses_nothing(fakes, server_factory):
    # The fake is stricter than the client's own pacing (1/s, bursts of 3),
    # so 429s come back; retry_after is honoured and every chunk lands.
    fake = fakes("--pace", "--pace-per-sec", "0.5", "--pace-burst", "2", "--pace-per-min", "20")
    s = server_factory(env=tg_env(fake, bots=BOTS[:1], chats=CHATS[:1],
                                  TELEGRAM_PACING="true"))
    u = make_user(s, prefix="paced")
    data = os.urandom(6 * CHUNK)
    t0 = time.monotonic()
    f = upload_file(u.client, "paced.bin", data)
    took = time.monotonic() - t0
    stats = fake.stats()
    assert stats["rate_limited"] > 0, stats
    assert took >= 5, took  # 2 at once, then one per 2 s
    assert len(live_messages(fake)) == 6
    assert download(u.client, f["id"]) == data


def test_client_pacing_alone_avoids_429(fakes, server_factory):
    # Fake paced like Telegram (1/s, bursts of 3, 20/min), client pacing on:
    # the uploads wait their turn instead of earning 429s.
    fake = fakes("--pace")
    s = server_factory(env=tg_env(fake, bots=BOTS[:1], chats=CHATS, TELEGRAM_PACING="true"))
    u = make_user(s, prefix="polite")
    data = os.urandom(10 * CHUNK)
    f = upload_file(u.client, "polite.bin", data)
    assert len(live_messages(fake)) == 10
    assert fake.stats()["rate_limited"] == 0
    assert download(u.client, f["id"]) == data


def test_permanent_error_fails_upload_and_cleans_up(fakes, server_factory):
    # Chunks to the second chat are refused (403): the upload fails, nothing is
    # visible, and the chunks that did land in the first chat are deleted.
    fake = fakes()
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="perm")
    fake.post("config", {"deny_chats": [CHATS[1]]})
    r = u.client.post(f"{API}/files/upload", files={"file": ("x.bin", os.urandom(3 * CHUNK))},
                      timeout=20)
    assert_error(r, 503, "Storage unavailable")
    assert storage_usage(u.client)["file_count"] == 0
    # Chunk 3 goes out only if the 403 for chunk 2 has not come back first.
    landed = [m for m in fake.messages() if m["chat_id"] == CHATS[0]]
    assert 1 <= len(landed) <= 2
    assert wait_until(lambda: all(m["deleted"] for m in fake.messages()), timeout=20), \
        fake.messages()


def test_permanent_error_mid_body_answers_503(fakes, server_factory):
    # As above, but the failure is known while most of the body is still to come.
    fake = fakes()
    s = server_factory(env=tg_env(fake))
    u = make_user(s, prefix="perm2")
    fake.post("config", {"deny_chats": [CHATS[1]]})
    r = u.client.post(f"{API}/files/upload", files={"file": ("x.bin", os.urandom(40 * CHUNK))},
                      timeout=20)
    assert_error(r, 503, "Storage unavailable")
    assert storage_usage(u.client)["file_count"] == 0
    assert wait_until(lambda: all(m["deleted"] for m in fake.messages()), timeout=20)


def test_html_413_is_an_error_not_a_crash(fakes, server_factory):
    fake = fakes("--html-413", "--upload-limit", str(100 * K))
    s = server_factory(env=tg_env(fake, CHUNK_SIZE="128K"))
    u = make_user(s, prefix="big413")
    r = u.client.post(f"{API}/files/upload", files={"file": ("x.bin", os.urandom(200 * K))})
    # the store refused the chunk for good: a storage failure, as any other
    assert_error(r, 503, "Storage unavailable")
    assert storage_usage(u.client)["file_count"] == 0
    assert "413" in s.stderr() and "Request Entity Too Large" in s.stderr()
    # Small files still work.
    f = upload_file(u.client, "small.bin", b"tiny")
    assert download(u.client, f["id"]) == b"tiny"


# --------------------------------------------------------------------------
# Start-up checks
# --------------------------------------------------------------------------

def start_fails(tmp_path, env):
    p = run_cmd(["serve"], tmp_path, env=dict(env, PORT=str(free_port())), timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    lines = [line for line in err.splitlines() if line.startswith("netradrive:")]
    assert len(lines) == 1, err
    return lines[0]


def test_wrong_token_named_at_start(fakes, tmp_path):
    fake = fakes("--deny-token", BOTS[1])
    line = start_fails(tmp_path, tg_env(fake))
    assert "TELEGRAM_BOT_TOKEN" in line and "222222:****" in line, line
    assert "BBbot" not in line  # the secret part is never printed


def test_wrong_chat_named_at_start(fakes, tmp_path):
    fake = fakes("--deny-chat", str(CHATS[1]))
    line = start_fails(tmp_path, tg_env(fake))
    assert "TELEGRAM_STORAGE_CHAT_ID" in line and str(CHATS[1]) in line, line
    assert "not a member" in line, line
    line = start_fails(tmp_path, tg_env(fake, chats=[CHATS[0], -42]))
    assert "TELEGRAM_STORAGE_CHAT_ID" in line and "-42" in line and "chat not found" in line, line


def test_unreachable_api_named_at_start(tmp_path):
    class Nowhere:
        url = "http://127.0.0.1:9"
    line = start_fails(tmp_path, tg_env(Nowhere))
    assert "TELEGRAM_API_URL" in line, line


# --------------------------------------------------------------------------
# Crash during an upload
# --------------------------------------------------------------------------

def kill_mid_upload(fake, s, u, landed):
    """Starts a 64-chunk upload and kills the server (-9) once `landed`
    documents have reached the fake."""
    size = 64 * CHUNK

    def send():
        try:
            upload_stream(s, u.access_token, "crash.bin", size, prng_blocks(9, size, CHUNK),
                          timeout=60)
        except Exception:
            pass  # the server dies under it
    t = threading.Thread(target=send, daemon=True)
    t.start()
    assert wait_until(lambda: len(fake.messages()) >= landed, timeout=30)
    s.kill()
    t.join(10)


@pytest.mark.skipif(POSTGRES, reason="opens the SQLite database file")
def test_kill_during_upload_then_gc_deletes_orphans(fakes, server_factory):
    fake = fakes("--bandwidth", str(512 * K))
    env = tg_env(fake)
    s = server_factory(env=env)
    u = make_user(s, prefix="crash")
    kill_mid_upload(fake, s, u, 6)
    db = sqlite3.connect(os.path.join(s.data_dir, "netradrive.db"))
    staged = [row[0] for row in db.execute("SELECT locator FROM pending_deletes")]
    db.close()
    assert staged
    recorded = {(int(loc.split(":")[2]), int(loc.split(":")[3])) for loc in staged}
    sent = fake.messages()
    assert len(sent) < 64

    s2 = server_factory(env=env, data_dir=s.data_dir)
    u.server = s2
    u.client = s2.client()
    u.login()
    assert storage_usage(u.client)["file_count"] == 0

    def reclaimed():
        done = {(m["chat_id"], m["message_id"]) for m in fake.messages() if m["deleted"]}
        return recorded <= done
    assert wait_until(reclaimed, timeout=30), (recorded, fake.messages())
    # Only documents whose reply never arrived (in flight at the kill) can stay.
    assert len(live_messages(fake)) <= 4
    # Removed in batches (deleteMessages), not one call per message.
    stats = fake.stats()
    assert stats["deleteMessages"] >= 1 and stats["deleteMessage"] == 0, stats


# --------------------------------------------------------------------------
# Local mode (self-hosted Bot API server started with --local)
# --------------------------------------------------------------------------

def test_local_mode_reads_files_directly(fakes, server_factory):
    fake = fakes("--local")
    s = server_factory(env=tg_env(fake, TELEGRAM_LOCAL_MODE="true", CHUNK_SIZE="256K"))
    u = make_user(s, prefix="local")
    data = os.urandom(3 * 256 * K + 1000)
    f = upload_file(u.client, "local.bin", data)
    assert download(u.client, f["id"]) == data
    r = u.client.get(f"{API}/files/{f['id']}/download",
                     headers={"Range": f"bytes={256 * K - 5}-{512 * K + 5}"})
    assert r.status_code == 206 and r.content == data[256 * K - 5:512 * K + 6]
    stats = fake.stats()
    assert stats["download"] == 0 and stats["getFile"] >= 4, stats

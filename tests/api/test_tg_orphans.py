"""Documents that reached a storage chat but were never recorded (the server
died between Telegram's reply and recording the chunk) are found as gaps in
the chat's message ids below a recorded chunk, and deleted: at start-up, and
by `netradrive gc --all-staged`. Recorded chunks stay intact.

An unrecorded document is made by sending one straight to the fake's Bot API
with a configured bot token between two recorded uploads, or by kill -9 while
a multi-chunk upload is in flight.
"""
import os
import subprocess
import time

import requests

from helpers import (POSTGRES, clean_env, download, make_user, netradrive_bin, pg_database_url,
                     upload_file, wait_until)
from test_telegram import (BOTS, CHATS, CHUNK, K, Fake, fakes, kill_mid_upload,  # noqa: F401
                           live_messages, tg_env)


def send_stray(fake, bot, chat, data=b"stray document bytes"):
    """A document in `chat` that NetraDrive never recorded; returns its id."""
    r = requests.post(f"{fake.url}/bot{bot}/sendDocument", data={"chat_id": str(chat)},
                      files={"document": ("stray.bin", data)}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["result"]["message_id"]


def msg(fake, chat, mid):
    return next(m for m in fake.messages() if m["chat_id"] == chat and m["message_id"] == mid)


def recorded_intact(fake, u, files):
    """Every file downloads byte-exact."""
    for f, data in files:
        assert download(u.client, f["id"]) == data


def stray_between_uploads(fake, u):
    """Uploads a file over both chats, a stray in each chat, then another file."""
    a = os.urandom(4 * CHUNK + 3)
    fa = upload_file(u.client, "a.bin", a)
    strays = [(c, send_stray(fake, BOTS[1], c)) for c in CHATS]
    b = os.urandom(4 * CHUNK + 5)
    fb = upload_file(u.client, "b.bin", b)
    # Each chat got a recorded chunk above its stray.
    for c, mid in strays:
        assert any(m["chat_id"] == c and m["message_id"] > mid for m in fake.messages())
    return [(fa, a), (fb, b)], strays


def test_unrecorded_message_deleted_at_restart(fakes, server_factory):
    fake = fakes()
    env = tg_env(fake)
    s = server_factory(env=env)
    u = make_user(s, prefix="gap")
    files, strays = stray_between_uploads(fake, u)
    live_before = {(m["chat_id"], m["message_id"]) for m in live_messages(fake)} - set(strays)
    assert s.stop() == 0

    s2 = server_factory(env=env, data_dir=s.data_dir)
    u.server, u.client = s2, s2.client()
    u.login()
    assert wait_until(lambda: all(msg(fake, c, m)["deleted"] for c, m in strays), timeout=20), \
        fake.messages()
    # Nothing recorded was touched, and it still reads back byte-exact.
    assert {(m["chat_id"], m["message_id"]) for m in live_messages(fake)} == live_before
    recorded_intact(fake, u, files)


def test_unrecorded_message_deleted_by_gc(fakes, server_factory):
    fake = fakes()
    env = tg_env(fake)
    s = server_factory(env=env)
    u = make_user(s, prefix="gapgc")
    files, strays = stray_between_uploads(fake, u)
    # One above every recorded chunk: it waits for a later chunk.
    above = send_stray(fake, BOTS[0], CHATS[0])
    live_before = {(m["chat_id"], m["message_id"]) for m in live_messages(fake)}
    assert s.stop() == 0

    genv = dict(env, DATA_DIR=s.data_dir, LOG_LEVEL="warn")
    if POSTGRES:   # gc must read the server's own database
        genv["DATABASE_URL"] = pg_database_url(s.data_dir)
    p = subprocess.run([netradrive_bin(), "gc", "--all-staged"], env=clean_env(genv),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert all(msg(fake, c, m)["deleted"] for c, m in strays), fake.messages()
    assert not msg(fake, CHATS[0], above)["deleted"]
    assert {(m["chat_id"], m["message_id"]) for m in live_messages(fake)} == \
        live_before - set(strays)

    s2 = server_factory(env=env, data_dir=s.data_dir)
    u.server, u.client = s2, s2.client()
    u.login()
    recorded_intact(fake, u, files)


def test_kill_mid_upload_leaves_no_unrecorded_document(fakes, server_factory):
    fake = fakes("--bandwidth", str(512 * K))
    env = tg_env(fake)
    s = server_factory(env=env)
    u = make_user(s, prefix="gapkill")
    keep = os.urandom(2 * CHUNK + 1)
    fk = upload_file(u.client, "keep.bin", keep)
    kill_mid_upload(fake, s, u, 8)
    time.sleep(1)  # documents in flight at the kill still land (the fake finishes them)
    s2 = server_factory(env=env, data_dir=s.data_dir)
    u.server, u.client = s2, s2.client()
    u.login()
    # A later upload records chunks above every gap, in both chats.
    later = os.urandom(4 * CHUNK + 7)
    fl = upload_file(u.client, "later.bin", later)
    assert s2.stop() == 0
    s3 = server_factory(env=env, data_dir=s.data_dir)
    u.server, u.client = s3, s3.client()
    u.login()
    # Staged chunks went at the first restart; the unrecorded ones below
    # later.bin's chunks at the second: only keep.bin's 3 and later.bin's 5 stay.
    assert wait_until(lambda: len(live_messages(fake)) == 3 + 5, timeout=30), \
        live_messages(fake)
    recorded_intact(fake, u, [(fk, keep), (fl, later)])


def test_history_below_the_first_chunk_is_never_touched(fakes, server_factory):
    """A chat's messages from before NetraDrive's first recorded chunk there
    (a chat with history, an upgraded installation) are not gaps: the first
    sweep starts at the lowest recorded chunk."""
    fake = fakes()
    env = tg_env(fake)
    history = [(c, send_stray(fake, BOTS[0], c, b"old history")) for c in CHATS]
    s = server_factory(env=env)
    u = make_user(s, prefix="gaphist")
    files, strays = stray_between_uploads(fake, u)
    assert s.stop() == 0
    s2 = server_factory(env=env, data_dir=s.data_dir)
    u.server, u.client = s2, s2.client()
    u.login()
    assert wait_until(lambda: all(msg(fake, c, m)["deleted"] for c, m in strays), timeout=20)
    assert not any(msg(fake, c, m)["deleted"] for c, m in history), fake.messages()
    recorded_intact(fake, u, files)

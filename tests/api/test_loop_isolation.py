"""The Telegram loop thread never waits on the database.

Every Telegram transfer runs on one loop thread. When a stored chunk's outcome
was handled on that thread, recording it meant a SQLite write, so any long write
elsewhere (here: another connection holding the write lock) froze every
transfer of the server until it ended. Now outcomes are handed to the store's
completion thread, and a download goes on while an upload's records wait.
"""
import os
import sqlite3
import threading
import time

from helpers import API, StrictFakeTelegram, make_user, prng_blocks, upload_file, upload_stream

K = 1024
CHUNK = 64 * K
LOCK_S = 6.0


def tg_env(fake):
    return {"STORAGE_BACKEND": "telegram", "TELEGRAM_API_URL": fake.url,
            "TELEGRAM_BOT_TOKEN": "111111:AAbot-one,222222:BBbot_two",
            "TELEGRAM_STORAGE_CHAT_ID": "-1001000000001,-1001000000002",
            "CHUNK_SIZE": str(CHUNK), "TELEGRAM_PACING": "false"}


def test_download_goes_on_while_the_database_is_write_locked(server_factory, tmp_path):
    fake = StrictFakeTelegram(tmp_path / "fake")
    try:
        server = server_factory(env=tg_env(fake))
        alice = make_user(server, prefix="loop")
        data = b"".join(prng_blocks(11, 40 * CHUNK, CHUNK))
        fid = upload_file(alice.client, "before.bin", data)["id"]

        # An upload starts, then waits half-way (its task row is written by
        # then) while another connection takes the write lock for LOCK_S.
        locked = threading.Event()
        result = {}

        def blocks():
            for i, b in enumerate(prng_blocks(12, 16 * CHUNK, CHUNK)):
                if i == 4:
                    locked.wait(10)
                yield b

        def upload():
            # The rest of its chunks land in Telegram while the lock is held:
            # recording them has to wait, and must not hold up the loop.
            result["upload"] = upload_stream(server, alice.access_token, "during.bin",
                                             16 * CHUNK, blocks())

        t = threading.Thread(target=upload)
        t.start()
        time.sleep(1.0)   # the upload's first chunks are stored by now
        db = sqlite3.connect(os.path.join(server.data_dir, "netradrive.db"),
                             timeout=5, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        locked_at = time.monotonic()
        locked.set()
        try:
            time.sleep(1.0)   # and the rest of them land meanwhile
            start = time.monotonic()
            r = alice.client.get(f"{API}/files/{fid}/download", timeout=30)
            took = time.monotonic() - start
            still_locked = time.monotonic() - locked_at < LOCK_S
            assert r.status_code == 200, r.text[:300]
            assert r.content == data
            # The download needed the loop thread for every chunk (uploads do
            # not fill the chunk cache); it must not have waited for the lock.
            assert still_locked and took < LOCK_S - 2.5, \
                f"download took {took:.2f}s while the database was locked"
            remaining = LOCK_S - (time.monotonic() - locked_at)
            if remaining > 0:
                time.sleep(remaining)
        finally:
            db.execute("ROLLBACK")
            db.close()
            t.join(60)
        status, body = result["upload"]
        assert status == 201, body
        r = alice.client.get(f"{API}/files/{body['id']}/download", timeout=30)
        assert r.status_code == 200
        assert r.content == b"".join(prng_blocks(12, 16 * CHUNK, CHUNK))
    finally:
        fake.stop()

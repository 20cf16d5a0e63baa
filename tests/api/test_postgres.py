"""PostgreSQL only (NETRADRIVE_DATABASE=postgres): a database outage is a 503
"Database unavailable", and the server recovers by itself once PostgreSQL is
back, without a restart. The test stops and restarts the suite's throw-away
cluster (tools/pg-cluster.sh halt/resume on NETRADRIVE_PG_DIR)."""
import os
import subprocess
import time

import pytest

from helpers import API, POSTGRES, REPO, create_folder, make_user

pytestmark = pytest.mark.skipif(
    not POSTGRES or not os.environ.get("NETRADRIVE_PG_DIR"),
    reason="needs NETRADRIVE_DATABASE=postgres and NETRADRIVE_PG_DIR (tools/test.sh)")

CLUSTER = [os.path.join(REPO, "tools", "pg-cluster.sh")]


def cluster(cmd):
    subprocess.run(["sh", *CLUSTER, cmd, os.environ["NETRADRIVE_PG_DIR"]], check=True,
                   timeout=60, stdin=subprocess.DEVNULL, capture_output=True)


def test_outage_gives_503_then_recovers(server_factory):
    srv = server_factory()
    u = make_user(srv)
    folder = create_folder(u.client, "before-outage")
    cluster("halt")
    try:
        # Every HTTP thread finds its connection dead, or cannot reconnect:
        # the answer is 503 with the standard message, never a 500.
        for _ in range(8):
            r = u.client.get(f"{API}/folders/{folder['id']}")
            assert r.status_code == 503, f"{r.status_code} {r.text}"
            assert r.json()["detail"] == "Database unavailable"
        r = srv.client().get("/readyz")
        assert r.status_code == 503, r.text
    finally:
        cluster("resume")
    # Back without a restart of the server: each thread reconnects on its next call.
    deadline = time.monotonic() + 20
    while True:
        statuses = [u.client.get(f"{API}/folders/{folder['id']}").status_code for _ in range(8)]
        if all(s == 200 for s in statuses):
            break
        assert time.monotonic() < deadline, f"no recovery: {statuses}"
        time.sleep(0.2)
    create_folder(u.client, "after-outage")
    assert srv.alive()

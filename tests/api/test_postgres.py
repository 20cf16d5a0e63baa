"""PostgreSQL only (NETRADRIVE_DATABASE=postgres): a database outage is a 503
"Database unavailable", and the server recovers by itself once PostgreSQL is
back, without a restart. The test stops and restarts a throw-away cluster of
its own (tools/pg-cluster.sh start/halt/resume/stop), so tests running at the
same time on the suite's cluster (pytest-xdist workers) see no outage."""
import os
import subprocess
import tempfile
import time

import pytest

from helpers import API, POSTGRES, REPO, create_folder, make_user

pytestmark = pytest.mark.skipif(
    not POSTGRES, reason="needs NETRADRIVE_DATABASE=postgres (tools/test.sh)")

CLUSTER = [os.path.join(REPO, "tools", "pg-cluster.sh")]


@pytest.fixture
def own_cluster():
    """A cluster of the test's own: (its dir, a database URL on it)."""
    d = tempfile.mkdtemp(prefix="netradrive-outage-pg.")
    try:
        r = subprocess.run(["sh", *CLUSTER, "start", d], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            pytest.fail(f"pg-cluster start: {r.stderr}")
        base = r.stdout.strip()
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base + "/postgres",
                        "-c", "CREATE DATABASE outage"], check=True, capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)
        yield d, base + "/outage"
    finally:
        subprocess.run(["sh", *CLUSTER, "stop", d], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)


def test_outage_gives_503_then_recovers(server_factory, own_cluster):
    pgdir, url = own_cluster

    def cluster(cmd):
        subprocess.run(["sh", *CLUSTER, cmd, pgdir], check=True, timeout=60,
                       stdin=subprocess.DEVNULL, capture_output=True)

    srv = server_factory(env={"DATABASE_URL": url, "SHARED_DATA_DIR": "true"})
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

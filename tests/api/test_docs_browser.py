"""/docs and /redoc in a real browser (issue 12, point 2): Debian's headless
Chromium driven by playwright-core (tests/browser/docs.mjs) opens /docs,
logs in with Authorize (username and password, the OAuth2 password flow),
runs GET /api/v1/users/me with Try it out / Execute and sees 200, opens
/redoc and sees the title; any Content-Security-Policy violation or page
error fails it."""
import json
import os
import subprocess

from helpers import REPO

SCRIPT = os.path.join(REPO, "tests", "browser", "docs.mjs")


def test_docs_authorize_and_try_it_out(server, user):
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", HOME=str(server.workdir))
    out = subprocess.run(["node", SCRIPT, f"http://127.0.0.1:{server.port}", user.username, user.password],
                         capture_output=True, text=True, timeout=150, cwd=REPO, env=env)
    lines = out.stdout.strip().splitlines()
    assert lines, f"no result (rc {out.returncode}): {out.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert out.returncode == 0, f"{result}\n{out.stderr[-2000:]}"
    assert result["docs_status"].startswith("200"), result
    assert result["redoc_title"].startswith("NetraDrive API"), result
    assert result["csp_violations"] == [], result

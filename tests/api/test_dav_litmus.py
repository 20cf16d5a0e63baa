"""Debian's litmus WebDAV suite (basic, copymove, props, locks, http)
against the real server's /dav/: no failure and no warning (SPEC §13,
issue 15). litmus is a package of the build (Makefile DEB_PKGS); a missing
litmus is an error, not a skip."""
import os
import re
import shutil
import subprocess

import pytest

SUITES = ("basic", "copymove", "props", "locks", "http")


def test_litmus(server, user, tmp_path):
    litmus = shutil.which("litmus")
    assert litmus, "litmus is not installed (apt-get install litmus)"
    env = dict(os.environ, TESTS=" ".join(SUITES), HOME=str(tmp_path))
    p = subprocess.run([litmus, f"{server.url}/dav/", user.username, user.password],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    summaries = re.findall(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed",
                           out)
    assert [s[0] for s in summaries] == list(SUITES), out[-4000:]
    for name, run, passed, failed in summaries:
        assert int(failed) == 0 and run == passed, f"{name}: {out[-4000:]}"
    assert "WARNING" not in out and "warning" not in out.lower(), out[-4000:]
    assert p.returncode == 0, out[-4000:]

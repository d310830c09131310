"""Stopping `livermet serve` ends its helper processes (the assessment process and the job
pool's workers): none may be left behind waiting forever, on a server or in CI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_stopping_the_server_ends_its_helper_processes(tmp_path):
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LIVERMET_ADMIN_PASSWORD="correct horse battery staple")
    env.pop("LIVERMET_DATABASE_URL", None)
    with open(tmp_path / "server.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "livermet.cli.main", "serve", "--port", str(port),
                                 "--data-dir", str(tmp_path / "data")], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/healthz"
            for _ in range(150):
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.2)
            helpers: set[int] = set()
            for _ in range(100):  # the assessment process is spawned at start-up
                helpers = _children(proc.pid)
                if helpers:
                    break
                time.sleep(0.1)
            assert helpers, "the server started no helper process (is the assessment process gone?)"
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(p) for p in helpers):
        time.sleep(0.1)
    left = [p for p in helpers if _alive(p)]
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"helper processes left running after the server stopped: {left}"

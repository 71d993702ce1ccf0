"""The local model's server never outlives the app that started it: not when the app stops normally, and not
when it is killed outright (kill -9, so no atexit handler runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import ROOT

PARENT = """
import sys
from blindrefusal.models.local_server import LocalModelServer
server = LocalModelServer()
server.start()
print(server.proc.pid, flush=True)
sys.stdin.read()  # wait until the test kills this process
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    """Poll the process's state until it is gone, or the bound passes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def test_the_server_stops_when_the_app_is_killed():
    pytest.importorskip("llama_cpp")
    env = {**os.environ, "BR_LOCAL_MODEL_URL": ""}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(parent.stdout.readline())
        assert _alive(child), "the server should be running while the app is"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _gone_within(child, 20), f"the local model server (pid {child}) outlived the killed app"
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)

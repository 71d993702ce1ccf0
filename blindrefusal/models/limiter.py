"""An adaptive concurrency limit for large runs (AIMD, per provider), shared by spot-checks and LLM judges."""

from __future__ import annotations

import asyncio
import threading
import time


class LimiterClosed(Exception):
    """The run was cancelled: calls that have not started yet never start."""


class AdaptiveLimiter:
    """AIMD concurrency: start wide, halve on 429 (and honour Retry-After), grow back by about one
    slot per round trip (1/limit per success), never above the provider's cap."""

    def __init__(self, initial: int, cap: int, floor: int = 1, stop: threading.Event | None = None):
        self.stop = stop  # once set, calls that have not started never start
        self.cap = max(1, cap)
        self.limit = max(floor, min(initial, self.cap))
        self.floor = floor
        self.active = 0
        self.peak = 0
        self.rate_limited = 0
        self._growth = 0.0
        self._cond = asyncio.Condition()
        self._pause_until = 0.0

    async def acquire(self) -> None:
        async with self._cond:
            while True:
                if self.stop is not None and self.stop.is_set():
                    raise LimiterClosed()
                if self.active < self.limit:
                    break
                await self._cond.wait()  # woken by every release
            self.active += 1
            self.peak = max(self.peak, self.active)
        wait = self._pause_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def release(self, ok: bool) -> None:
        async with self._cond:
            self.active -= 1
            if ok and self.limit < self.cap:
                self._growth += 1 / self.limit
                if self._growth >= 1:
                    self._growth -= 1
                    self.limit += 1
            self._cond.notify_all()

    async def on_rate_limit(self, retry_after: float | None) -> None:
        async with self._cond:
            self.rate_limited += 1
            self.limit = max(self.floor, self.limit // 2)
            self._growth = 0.0
            if retry_after:
                self._pause_until = max(self._pause_until, time.monotonic() + min(retry_after, 60.0))

"""Running a coroutine from synchronous code (the CLI, a Streamlit script thread)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end: in a new event loop, or, where this thread already runs one, in a worker
    thread with a loop of its own (the caller's context, and so its spending permit, goes along)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(contextvars.copy_context().run, asyncio.run, coro).result()

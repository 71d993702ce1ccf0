"""Workers for a team's store (PostgreSQL): procrastinate's queue carries each job's id, a worker claims the
job's row and runs it (`blindrefusal.jobs.execute.execute`).

Why procrastinate: it is PostgreSQL only (nothing else to run), it defers from synchronous code (a Streamlit
script) and runs synchronous tasks, it has per-lock serialisation (one job per visitor at a time), worker
heartbeats to find the jobs of a worker that died, and its schema ships with it (applied by migration 0008).

A worker killed mid-job: the others see its heartbeat stop, put its jobs back in the queue, and the next one
claims the job once the job's own heartbeat is stale; the spot-check or generation run resumes where it
stopped, so nothing is answered twice."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from blindrefusal.config import max_jobs
from blindrefusal.jobs.execute import execute

TASK = "blindrefusal.job"
QUEUE = "jobs"
_apps: dict[str, Any] = {}  # procrastinate's App per store
_lock = threading.Lock()


def _conninfo(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _app(engine, opened: bool):
    """procrastinate's App on this store, with the job task on it (opened for deferring, when asked)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(engine)))

    @app.task(name=TASK, queue=QUEUE)
    def run_job(job_id: int) -> None:
        execute(engine, job_id)

    return app.open() if opened else app


def enqueue(engine, job_id: int, visitor: str) -> None:
    """Put the job on the queue; with one job per visitor (BR_MAX_JOBS_PER_VISITOR=1) a visitor's jobs share a
    lock, so the workers run them one after the other."""
    key = str(engine.url)
    with _lock:
        if key not in _apps:
            _apps[key] = _app(engine, opened=True)
        app = _apps[key]
    lock = f"visitor:{visitor}" if max_jobs()[1] == 1 else None
    app.configure_task(TASK, queue=QUEUE, lock=lock).defer(job_id=job_id)


async def _requeue_stalled(app, every: float, stalled_after: float) -> None:
    """Put back in the queue the jobs of workers that stopped beating (killed, or their machine gone)."""
    while True:
        await asyncio.sleep(every)
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                logging.getLogger(__name__).warning("job %s: its worker stopped; queued again", job.id)
                await app.job_manager.retry_job(job)
        except Exception:  # noqa: BLE001 - a busy database; the next round tries again
            logging.getLogger(__name__).exception("could not requeue stalled jobs")


def run_worker(engine, concurrency: int, name: str | None, stalled_after: float = 30.0) -> None:
    """Take jobs until stopped (SIGINT/SIGTERM: the running jobs finish their calls in flight, then stop)."""
    app = _app(engine, opened=False)

    async def main() -> None:
        async with app.open_async():
            requeue = asyncio.create_task(_requeue_stalled(app, stalled_after / 3, stalled_after))
            try:
                await app.run_worker_async(queues=[QUEUE], concurrency=concurrency, name=name,
                                           update_heartbeat_interval=stalled_after / 3,
                                           stalled_worker_timeout=stalled_after)
            finally:
                requeue.cancel()

    asyncio.run(main())

"""Running one stored job to its end in this process (a web server's thread, or a worker that took it from the
queue): claim it, run its kind under the permit it was started with, keep its progress and heartbeat in the
store, and finish it. Nothing here starts or routes a job: that is `control`."""

from __future__ import annotations

import threading
import time
import traceback
from contextlib import nullcontext
from typing import Any

from blindrefusal import store
from blindrefusal.config import redact
from blindrefusal.jobs.kinds import JOB_KINDS
from blindrefusal.models.spending import spending


def execute(engine, job_id: int, secrets: dict | None = None, cancel: threading.Event | None = None) -> None:
    """Run one stored job to its end in this process: claim it, run its kind, keep its progress, finish it."""
    cancel = cancel or threading.Event()
    owner = store.process_id()
    row = _claim(engine, job_id, owner, cancel)
    if row is None:
        return
    kind = JOB_KINDS[row["kind"]]
    permit = spending(engine, row["visitor"]) if row["spending"] else nullcontext()
    try:
        with _ProgressWriter(engine, job_id, owner, kind.encode, cancel) as writer, permit:
            result = kind.run(engine, row["params"], secrets or {}, writer.report, cancel)
        store.finish_job(engine, job_id, "cancelled" if cancel.is_set() else "done", result=result)
    except Exception as exc:  # noqa: BLE001 - kept on the job's row, shown by every page that shows the job
        traceback.print_exc()
        store.finish_job(engine, job_id, "failed", error=redact(f"{type(exc).__name__}: {exc}"))


def _claim(engine, job_id: int, owner: str, cancel: threading.Event) -> dict | None:
    """The job, claimed; None when there is nothing to do. A job another live process holds (a worker that
    took it over) is waited for: it resumes here only once that one stops beating."""
    while True:
        row = store.claim_job(engine, job_id, owner)
        if row is not None:
            return row
        current = store.get_job(engine, job_id)
        if current is None or current["status"] not in ("queued", "running") or cancel.is_set():
            return None
        time.sleep(2.0)


class _ProgressWriter:
    """Writes the job's latest progress to the store at most every `every` seconds (and once at the end), beats
    its heart, and sets `cancel` once any replica asked for it."""

    latest: Any  # the newest progress reported
    written: object  # the progress last written (a new object(): never, so that the next write goes out)

    def __init__(self, engine, job_id: int, owner: str, encode, cancel: threading.Event, every: float = 0.5):
        self.engine, self.job_id, self.owner, self.encode, self.cancel = engine, job_id, owner, encode, cancel
        self.every, self.latest, self.written, self.beat = every, None, None, 0.0
        self.beat_s = min(10.0, store.STALE_AFTER.total_seconds() / 4)  # the heartbeat, well inside STALE_AFTER
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"job-{job_id}-progress", daemon=True)

    def report(self, progress: Any) -> None:
        self.latest = progress

    def _write(self) -> None:
        encoded = None if self.latest is None else self.encode(self.latest)
        if encoded != self.written or time.monotonic() - self.beat > self.beat_s:
            if store.job_progress(self.engine, self.job_id, self.owner, encoded):
                self.cancel.set()
            self.written, self.beat = encoded, time.monotonic()
        elif store.cancel_asked(self.engine, self.job_id):
            self.cancel.set()

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self._write()
            except Exception:  # noqa: BLE001 - a busy store delays progress; the next write catches up
                traceback.print_exc()

    def __enter__(self) -> "_ProgressWriter":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.written = object()  # always write the final snapshot
        self._write()

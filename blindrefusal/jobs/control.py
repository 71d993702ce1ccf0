"""Start, show and cancel a long job, wherever it runs. The job's row in the store is what every page and
replica reads; the work runs either in a thread of the web server that started it (SQLite, one machine) or on a
worker that took it from the PostgreSQL queue (`make worker`). BR_JOBS=thread|queue overrides the default.

A job started inside a spending permit runs under one for the same visitor, in its thread or on a worker."""

from __future__ import annotations

import threading
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from blindrefusal import store
from blindrefusal.config import jobs_executor, redact
from blindrefusal.jobs import threads
from blindrefusal.jobs.kinds import JOB_KINDS
from blindrefusal.models.spending import current_permit, spending

Executor = Literal["thread", "queue"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
_BEAT_S = min(10.0, store.STALE_AFTER.total_seconds() / 4)  # the job's heartbeat, well inside STALE_AFTER
_local: dict[int, threads.Job] = {}  # this process's threads, by job id, so that a cancel reaches one waiting


@dataclass(frozen=True)
class JobView:
    """A job as a page shows it, read from the store."""
    id: int
    kind: str
    label: str
    visitor: str
    status: JobStatus
    executor: Executor
    progress: Any  # the kind's progress record (decoded), or None before the first report
    result: Any
    error: str | None
    cancel_requested: bool
    queue_position: int  # 1: it starts next; 0 once it runs

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def started(self) -> bool:
        return self.status != "queued"


def executor_for(engine) -> Executor:
    chosen = jobs_executor()
    return chosen or ("queue" if engine.dialect.name == "postgresql" else "thread")


def start(engine, kind: str, params: dict, label: str, visitor: str, secrets: dict | None = None) -> int:
    """Store the job and hand it to its executor; returns its id. A job carrying a visitor's key (`secrets`)
    runs in this process, since keys never reach the database."""
    JOB_KINDS[kind]  # an unknown kind is a programming error: fail before anything is stored
    permit = current_permit()
    executor = "thread" if secrets else executor_for(engine)
    job_id = store.create_job(engine, kind, label, visitor, params, permit is not None, executor)
    if executor == "queue":
        from blindrefusal.jobs.worker import enqueue

        enqueue(engine, job_id, visitor)
    else:
        _local[job_id] = threads.start(label, lambda j: execute(engine, job_id, secrets, j.cancel), visitor=visitor)
    return job_id


def get(engine, job_id: int | None) -> JobView | None:
    row = store.get_job(engine, job_id) if job_id is not None else None
    if row is None or row["kind"] not in JOB_KINDS:
        return None
    return JobView(id=row["id"], kind=row["kind"], label=row["label"], visitor=row["visitor"], status=row["status"],
                   executor=row["executor"], progress=JOB_KINDS[row["kind"]].decode(row["progress"]),
                   result=row["result"], error=row["error"], cancel_requested=bool(row["cancel_requested"]),
                   queue_position=row["queue_position"])


def cancel(engine, job_id: int) -> None:
    """Ask it to stop (from any replica): a queued job never starts; a running one starts no new call, and what
    it answered is kept (a rerun of the same settings resumes)."""
    store.request_cancel(engine, job_id)
    local = _local.get(job_id)
    if local is not None:
        local.cancel.set()


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
    finally:
        _local.pop(job_id, None)


class _ProgressWriter:
    """Writes the job's latest progress to the store at most every `every` seconds (and once at the end), beats
    its heart, and sets `cancel` once any replica asked for it."""

    def __init__(self, engine, job_id: int, owner: str, encode, cancel: threading.Event, every: float = 0.5):
        self.engine, self.job_id, self.owner, self.encode, self.cancel = engine, job_id, owner, encode, cancel
        self.every, self.latest, self.written, self.beat = every, None, None, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"job-{job_id}-progress", daemon=True)

    def report(self, progress: Any) -> None:
        self.latest = progress

    def _write(self) -> None:
        encoded = None if self.latest is None else self.encode(self.latest)
        if encoded != self.written or time.monotonic() - self.beat > _BEAT_S:
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

"""Start, show and cancel a long job, wherever it runs. The job's row in the store is what every page and
replica reads; the work runs either in a thread of the web server that started it (SQLite, one machine) or on a
worker that took it from the PostgreSQL queue (`make worker`). BR_JOBS=thread|queue overrides the default.

A job started inside a spending permit runs under one for the same visitor, in its thread or on a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from blindrefusal import store
from blindrefusal.config import jobs_executor
from blindrefusal.jobs import threads
from blindrefusal.jobs.execute import execute
from blindrefusal.jobs.kinds import JOB_KINDS
from blindrefusal.models.spending import current_permit

Executor = Literal["thread", "queue"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
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
    chosen = jobs_executor()  # "thread", "queue", or None: unset
    if chosen is None:
        return "queue" if engine.dialect.name == "postgresql" else "thread"
    return "queue" if chosen == "queue" else "thread"


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
        _local[job_id] = threads.start(label, lambda j: _execute_here(engine, job_id, secrets, j), visitor=visitor)
    return job_id


def _execute_here(engine, job_id: int, secrets: dict | None, job: threads.Job) -> None:
    try:
        execute(engine, job_id, secrets, job.cancel)
    finally:
        _local.pop(job_id, None)


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

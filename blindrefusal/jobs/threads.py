"""The in-process executor of long jobs (SQLite, one machine; or a job holding a key a visitor typed): a thread,
a cancel flag, and a queue. At most BR_MAX_JOBS run at once on this server and BR_MAX_JOBS_PER_VISITOR per
visitor; the others wait their turn. What a page shows of a job is its row in the store (`blindrefusal.jobs`).

A job runs in a copy of its starter's context, so a spending permit opened around `start` holds inside it."""

from __future__ import annotations

import contextvars
import itertools
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from blindrefusal.config import max_jobs

_ids = itertools.count(1)
_jobs: dict[int, "Job"] = {}
_lock = threading.Lock()
_turn = threading.Condition(_lock)  # notified whenever a job ends


@dataclass
class Job:
    id: int
    label: str
    visitor: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    started: bool = False  # False while it waits in the queue
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def queue_position(self) -> int:
        """Its place in the queue (1: it starts next), or 0 once it runs."""
        with _lock:
            if self.started:
                return 0
            return 1 + sum(1 for j in _jobs.values() if not j.started and j.running and j.id < self.id)


def _may_start(job: Job) -> bool:
    """A slot is free for this job: under both caps, and no earlier queued job goes first."""
    total, per_visitor = max_jobs()
    active = [j for j in _jobs.values() if j.started and j.running]
    earlier = [j for j in _jobs.values() if not j.started and j.running and j.id < job.id
               and sum(a.visitor == j.visitor for a in active) < per_visitor]
    mine = sum(j.visitor == job.visitor for j in active)
    return len(active) < total and mine < per_visitor and not earlier


def start(label: str, work: Callable[["Job"], Any], visitor: str = "") -> Job:
    """Run `work(job)` in a daemon thread once the queue lets it; its return value becomes job.result (an
    exception is printed: the work keeps its own failure on the job's row). A job cancelled while it waits
    never starts."""
    job = Job(id=next(_ids), label=label, visitor=visitor)
    context = contextvars.copy_context()

    def target() -> None:
        try:
            with _turn:
                while not _may_start(job) and not job.cancel.is_set():
                    _turn.wait(timeout=1.0)
                job.started = True
            if not job.cancel.is_set():
                job.result = context.run(work, job)
        except Exception:  # noqa: BLE001 - the work (execute.execute) stores its own failure; never lost silently
            traceback.print_exc()
        finally:
            job.done.set()
            with _turn:
                _turn.notify_all()

    job.thread = threading.Thread(target=target, name=f"job-{job.id}", daemon=True)
    with _lock:
        _jobs[job.id] = job
    job.thread.start()
    return job

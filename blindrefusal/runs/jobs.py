"""Background jobs for long work started from the UI (spot-checks): a thread, a progress snapshot,
a cancel flag. Jobs live for the process, so a page can reattach after a rerun."""

from __future__ import annotations

import itertools
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

_ids = itertools.count(1)
_jobs: dict[int, "Job"] = {}
_lock = threading.Lock()


@dataclass
class Job:
    id: int
    label: str
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Any = None
    result: Any = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return not self.done.is_set()


def start(label: str, work: Callable[["Job"], Any]) -> Job:
    """Run `work(job)` in a daemon thread; its return value becomes job.result, an exception job.error."""
    job = Job(id=next(_ids), label=label)

    def target() -> None:
        try:
            job.result = work(job)
        except Exception as exc:  # noqa: BLE001 - surfaced to the page, never lost
            job.error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            job.done.set()

    job.thread = threading.Thread(target=target, name=f"job-{job.id}", daemon=True)
    with _lock:
        _jobs[job.id] = job
    job.thread.start()
    return job


def get(job_id: int | None) -> Job | None:
    with _lock:
        return _jobs.get(job_id) if job_id is not None else None

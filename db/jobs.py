"""Long jobs' rows: created by the page that starts one, claimed and advanced by whoever runs it (a thread of a
web server, or a worker), read by every replica. One row per job; the work's own records (runs, answers,
labels) are written by the work itself, as they always were."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from db.engine import STALE_AFTER, transaction
from db.statements import clean_text, inserted_id, pk
from db.tables import Job, utcnow

ACTIVE = ("queued", "running")


def create_job(engine: Engine, kind: str, label: str, visitor: str, params: dict, spending: bool,
               executor: str) -> int:
    with transaction(engine) as conn:
        return inserted_id(conn.execute(insert(Job).values(
            kind=kind, label=clean_text(label), visitor=visitor, params=json.dumps(params, sort_keys=True),
            spending=spending, executor=executor, status="queued", cancel_requested=False,
            created_at=utcnow())))


def get_job(engine: Engine, job_id: int) -> dict | None:
    """The job's row with its JSON decoded, and its place in the queue (1: next; 0 once it runs)."""
    with engine.connect() as conn:
        row = conn.execute(select(Job).where(pk(Job.id) == job_id)).first()
        if row is None:
            return None
        job = dict(row._mapping)
        job["queue_position"] = 0 if job["status"] != "queued" else 1 + conn.execute(
            select(func.count()).select_from(Job).where(col(Job.status) == "queued",
                                                        col(Job.executor) == job["executor"],
                                                        pk(Job.id) < job_id)).scalar_one()
    for key in ("params", "progress", "result"):
        job[key] = None if job[key] is None else json.loads(job[key])
    return job


def claim_job(engine: Engine, job_id: int, owner: str) -> dict | None:
    """Take the job for `owner` when it waits, or when the process that ran it stopped beating (a worker killed
    mid-job: the run it left resumes where it stopped). None when it is done, cancelled or held by a live one."""
    free = or_(col(Job.status) == "queued", col(Job.claimed_by) == owner,
               col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < utcnow() - STALE_AFTER)
    with transaction(engine) as conn:
        claimed = conn.execute(update(Job).where(pk(Job.id) == job_id, col(Job.status).in_(ACTIVE), free).values(
            status="running", claimed_by=owner, heartbeat_at=utcnow(),
            started_at=func.coalesce(col(Job.started_at), utcnow()))).rowcount == 1
    return get_job(engine, job_id) if claimed else None


def job_progress(engine: Engine, job_id: int, owner: str, progress: Any) -> bool:
    """Store the job's progress (and beat its heart); True when a cancel was asked for."""
    with transaction(engine) as conn:
        conn.execute(update(Job).where(pk(Job.id) == job_id, col(Job.claimed_by) == owner).values(
            progress=clean_text(json.dumps(progress, sort_keys=True)), heartbeat_at=utcnow()))
        return bool(conn.execute(select(col(Job.cancel_requested)).where(pk(Job.id) == job_id)).scalar())


def cancel_asked(engine: Engine, job_id: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(col(Job.cancel_requested)).where(pk(Job.id) == job_id)).scalar())


def finish_job(engine: Engine, job_id: int, status: str, result: Any = None, error: str | None = None) -> None:
    with transaction(engine) as conn:
        conn.execute(update(Job).where(pk(Job.id) == job_id).values(
            status=status, result=None if result is None else json.dumps(result, sort_keys=True),
            error=clean_text(error), finished_at=utcnow(), heartbeat_at=utcnow()))


def request_cancel(engine: Engine, job_id: int) -> None:
    """Ask the job to stop: a queued one never starts; a running one starts no new call, keeps what it has."""
    with transaction(engine) as conn:
        conn.execute(update(Job).where(pk(Job.id) == job_id).values(cancel_requested=True))
        conn.execute(update(Job).where(pk(Job.id) == job_id, col(Job.status) == "queued").values(
            status="cancelled", finished_at=utcnow()))


def workers_alive(engine: Engine, within_s: float = 60.0) -> int | None:
    """Workers that beat within `within_s` seconds (None: this store has no queue, e.g. SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM procrastinate_workers WHERE last_heartbeat > "
                                 "NOW() - make_interval(secs => :s)"), {"s": within_s}).scalar()

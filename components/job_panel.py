"""A long job's panel, read from the store so that any replica shows any job: its place in the queue, its
progress (drawn by the page), Cancel, and its end. The job's id is in the URL (`?job=`), so a reload, a shared
link or a session moved to another replica finds it again."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.jobs import control as jobs
from blindrefusal.jobs.control import JobView
from components.navigation import flash
from components.resources import reads as q
from components.sign_in import can_run_jobs, change_prompt
from components.url_state import qp, set_qp

CANCELLING = ("Cancelling… calls already sent finish first (no new ones start); then what was answered is kept. "
              "Re-run the same settings to resume.")


def current_job(engine, key: str, kind: str) -> JobView | None:
    """The job of this kind that this session started (session state `key`), or the one the link names."""
    raw = qp("job")
    job_id = st.session_state.get(key) or (int(raw) if raw and raw.isdigit() else None)
    job = jobs.get(engine, job_id)
    if job is None or job.kind != kind:
        if raw is not None and job_id is not None and not st.session_state.get(key):
            st.warning(f"No {kind.replace('_', ' ')} job {job_id}: it may belong to another page.")
        st.session_state.pop(key, None)
        set_qp("job", None)
        return None
    st.session_state[key] = job.id
    return job


def started(key: str, job_id: int) -> None:
    st.session_state[key] = job_id
    set_qp("job", str(job_id))


def _queued_text(engine, job: JobView) -> str:
    text = f"Queued, number {job.queue_position} in line. It starts by itself; you may leave this page."
    if job.executor == "queue":
        alive = q.workers_alive(engine)
        text += (" No worker is taking jobs now: the host starts one with `make worker`." if alive == 0 else
                 f" {alive} worker{'s' * (alive != 1)} take{'s' * (alive == 1)} jobs from the team's queue.")
    else:
        text += " This server runs a few at once (BR_MAX_JOBS, one per visitor)."
    return text


def job_panel(engine, key: str, draw: Callable[[JobView], None], finish: Callable[[JobView], None]) -> None:
    """Redraw the job twice a second until it ends; then `finish(job)` (a flash, a link) and one full rerun."""
    @st.fragment(run_every=0.5)
    def panel() -> None:
        job = jobs.get(engine, st.session_state.get(key))
        if job is None:  # collected by the full rerun that this fragment run raced with
            st.rerun()
        if job.status == "queued":
            st.progress(0.0, text=_queued_text(engine, job))
        else:
            draw(job)
        if job.running:
            if job.cancel_requested:
                st.info(CANCELLING)
            elif not can_run_jobs():
                st.caption(change_prompt("cancel it"))
            elif st.button("Cancel", key=f"cancel_{key}"):
                jobs.cancel(engine, job.id)
                st.rerun(scope="fragment")
            return
        st.session_state.pop(key, None)
        set_qp("job", None)
        if job.status == "failed":
            flash(f"The job failed: {md_inline(job.error or 'no reason given')}", failed=True)
        finish(job)
        st.rerun()

    panel()

"""The History page's actions on stored runs (reading them is the store's `runs` and `responses_for`)."""

from __future__ import annotations

from blindrefusal import store
from vocabulary import BlindRefusalError


class RunBusy(BlindRefusalError):
    """A run that a live process is still working on: it cannot be deleted until it ends or is cancelled."""


def delete_runs(engine, run_ids: list[int]) -> list[int]:
    """Delete live or spot-check runs with their answers and labels (never the paper's run; the cases stay).
    A run still in progress is left alone: RunBusy names it, after the others are deleted."""
    deleted = store.delete_runs(engine, run_ids)

    def running(run_id: int) -> bool:
        run = store.get_run(engine, run_id)
        return run is not None and run.get("status") == "running"

    busy = [r for r in run_ids if r not in deleted and running(r)]
    if busy:
        raise RunBusy(f"Run {', '.join(map(str, busy))} is still running: cancel it (or let it finish) first. "
                      "Its answers so far are kept.")
    return deleted

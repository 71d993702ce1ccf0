"""The History page's actions on stored runs (reading them is the store's `runs` and `responses_for`)."""

from __future__ import annotations

from blindrefusal import store


def delete_runs(engine, run_ids: list[int]) -> None:
    """Delete live or spot-check runs with their answers and labels (never the paper's run; the cases stay)."""
    store.delete_runs(engine, run_ids)

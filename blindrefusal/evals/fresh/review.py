"""A reviewer's verdict on generated cases: only accepted ones are ever spot-checked."""

from __future__ import annotations

from typing import Literal, Sequence

from blindrefusal import store

Review = Literal["pending", "accepted", "rejected"]


def review_cases(engine, keys: Sequence[str], verdict: Review, reviewer: str) -> int:
    """Accept or reject generated cases by key (the reviewer and the time go into each one's provenance); returns
    how many changed. Paper and custom cases are never touched."""
    if verdict not in ("accepted", "rejected"):
        raise ValueError(f"a review is accepted or rejected, not {verdict!r}")
    return store.set_review(engine, keys, verdict, reviewer)

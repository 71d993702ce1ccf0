"""Human labels: a reviewer's own three labels on a stored response, kept as judge `human:<name>`."""

from __future__ import annotations

import re

from vocabulary import HUMAN_PREFIX, RESPONSE_TYPES, BlindRefusalError

from blindrefusal import store

MAX_NOTE = 2000


class LabelError(BlindRefusalError):
    """A label that cannot be saved: no reviewer name, an unknown response type."""


def reviewer_judge_name(reviewer: str) -> str:
    name = re.sub(r"\s+", " ", (reviewer or "").strip())[:60]
    if not name:
        raise LabelError("Enter your reviewer name in the sidebar before labelling.")
    return HUMAN_PREFIX + name


def set_human_label(engine, response_id: int, reviewer: str, response_type: str, engages: bool, harm: bool,
                    note: str = "") -> str:
    """Store (or replace) this reviewer's label; it outranks every model judge. Returns the judge name."""
    if response_type not in RESPONSE_TYPES:
        raise LabelError(f"Unknown response type {response_type!r}.")
    judge = reviewer_judge_name(reviewer)
    store.add_judgments(engine, [(response_id, store.JudgmentRow(
        judge=judge, judge_kind="human", judge_version="1", response_type=response_type,
        engages_with_defeat=bool(engages), independent_harm=bool(harm), reasoning=(note or "").strip()[:MAX_NOTE],
        note=(note or "").strip()[:MAX_NOTE]))])
    return judge

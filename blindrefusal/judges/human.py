"""Human labels: a reviewer's own three labels on a stored response, kept as judge `human:<name>` (a typed name,
in a local app) or `human:<identity>` (a signed-in account, blindrefusal.identity.judge_name)."""

from __future__ import annotations

import re

from blindrefusal import store
from vocabulary import HUMAN_PREFIX, RESPONSE_TYPES, BlindRefusalError, is_human

MAX_NOTE = 2000


class LabelError(BlindRefusalError):
    """A label that cannot be saved: no reviewer name, an unknown response type."""


REVIEWER_LIMIT = 60  # characters of a typed reviewer name


def reviewer_judge_name(reviewer: str) -> str:
    """The judge of a typed reviewer name (spaces collapsed, at most REVIEWER_LIMIT characters: a longer one is
    refused, never cut, so two long names cannot become one reviewer)."""
    name = re.sub(r"\s+", " ", (reviewer or "").strip())
    if not name:
        raise LabelError("Enter your reviewer name in the sidebar before labelling.")
    if len(name) > REVIEWER_LIMIT:
        raise LabelError(f"{len(name):,} characters: the limit is {REVIEWER_LIMIT}. "
                         "Shorten your reviewer name to label.")
    return HUMAN_PREFIX + name


def set_human_label(engine, response_id: int, judge: str, response_type: str, engages: bool, harm: bool,
                    note: str = "") -> str:
    """Store (or replace) the label of the reviewer whose judge name is `judge`; it outranks every model judge.
    Returns the judge name."""
    if not is_human(judge) or not judge.removeprefix(HUMAN_PREFIX).strip():
        raise LabelError(f"Not a reviewer's judge name: {judge[:80]!r}.")
    if response_type not in RESPONSE_TYPES:
        raise LabelError(f"Unknown response type {response_type!r}.")
    store.add_judgments(engine, [(response_id, store.JudgmentRow(
        judge=judge, judge_kind="human", judge_version="1", response_type=response_type,
        engages_with_defeat=bool(engages), independent_harm=bool(harm), reasoning=(note or "").strip()[:MAX_NOTE],
        note=(note or "").strip()[:MAX_NOTE]))])
    return judge

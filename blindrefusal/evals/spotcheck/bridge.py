"""The same-judge bridge: a spot-check's judge also labels the paper models' stored answers on the sampled cases,
so the model and the paper's 18 are compared under one judge."""

from __future__ import annotations

import asyncio

from blindrefusal import store
from blindrefusal.evals.spotcheck.params import SpotCheckParams
from blindrefusal.judges import Judge, JudgeInput
from blindrefusal.judges.distilled.crossfit import cross_fitted
from blindrefusal.judges.paper import is_paper_judge_name
from blindrefusal.paper.stored_case import StoredCase
from blindrefusal.runs.rejudge import judge_rows
from vocabulary import HELPS

# A spot-check's judge also labels the paper models' stored answers on the sampled cases, so the model and
# the paper's 18 are compared under one judge: the judge's own error then cancels in every difference.

# An LLM judge bridges 6 paper models by default, spread across the help-rate range: that measures the judge's
# shift at the low, middle and high end for a third of the calls of all 18 (n = 100 means 600 extra calls, not
# 1,800) — money for a paid judge, minutes for a local one. `--bridge-models 18` buys the full same-judge
# ranking. The distilled judge, free and fast (1,800 answers in seconds), bridges all 18.
LLM_BRIDGE_DEFAULT = 6


def needs_bridge(judge: Judge) -> bool:
    """Every judge but GPT-5.4 with the authors' prompt, whose labels are the release's own."""
    return not is_paper_judge_name(judge.name)


def bridge_count(params: SpotCheckParams, judge: Judge) -> int:
    if not needs_bridge(judge):
        return 0
    if params.bridge_models is not None:
        return params.bridge_models
    return LLM_BRIDGE_DEFAULT if judge.spec is not None else 10_000


def bridge_models(engine, cases: list[StoredCase], k: int) -> list[str]:
    """k paper models spread evenly over their help-rate range on these defeated cases (all when k ≥ their number)."""
    if k <= 0:
        return []
    labels = store.paired_labels(engine, [c.id for c in cases if not c.is_control])
    ranked = sorted(labels, key=lambda m: (sum(rt == HELPS for rt in labels[m].values()) / max(1, len(labels[m])), m))
    if k >= len(ranked):
        return ranked
    if k == 1:
        return [ranked[len(ranked) // 2]]
    return [ranked[i] for i in sorted({round(i * (len(ranked) - 1) / (k - 1)) for i in range(k)})]


def _bridge_work(engine, judge: Judge, cases: list[StoredCase],
                 models: list[str]) -> list[tuple[Judge, list[store.JudgeInputRecord]]]:
    """The paper models' answers on these cases that the bridge still has to label, by who labels them: the
    distilled judge's cross-fitted twin where it has a label for the answer (still to store at the cross-fitted
    version), else the judge itself (not yet labelled at its own version; an answer the release gave no label
    has no cross-fitted one)."""
    if not models:
        return []
    crossfit = cross_fitted(judge)
    rows = store.judge_inputs(engine, only_unjudged=False, case_ids=[c.id for c in cases], model_keys=models,
                              source="paper", not_judged_by=judge.name,
                              not_judged_at_version=(crossfit or judge).version)
    if crossfit is None:
        return [(judge, rows)]
    covered = [r for r in rows if crossfit.covers(JudgeInput.from_stored(r))]
    uncovered = sorted({r["id"] for r in rows} - {r["id"] for r in covered})
    rest = store.judge_inputs(engine, response_ids=uncovered, only_unjudged=False, not_judged_by=judge.name,
                              not_judged_at_version=judge.version) if uncovered else []
    return [(crossfit, covered), (judge, rest)]


def bridge_rows(engine, judge: Judge, cases: list[StoredCase], models: list[str]) -> list[store.JudgeInputRecord]:
    """The paper models' answers on these cases that the bridge still has to label under this judge."""
    return [r for _, rows in _bridge_work(engine, judge, cases, models) for r in rows]


async def bridge_paper_answers(engine, judge: Judge, cases: list[StoredCase], models: list[str]) -> int:
    """Judge the paper models' answers on these cases that this judge has not labelled yet; returns how many.

    Stored as the judge's judgments (so later spot-checks reuse them); they never replace the release's labels.
    The distilled judge was trained on most of these answers, so it bridges with its cross-fitted labels (each
    from a fold judge that never saw the case, `judges.distilled.crossfit`) wherever they exist."""
    work = await asyncio.to_thread(_bridge_work, engine, judge, cases, models)
    for labeller, rows in work:
        await judge_rows(engine, labeller, rows)
    return sum(len(rows) for _, rows in work)

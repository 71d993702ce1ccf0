"""Gold labels on a random subset of a spot-check's answers, and the prediction-powered numbers they buy.

The run's own judge (cheap: the distilled judge, a local LLM) labels every answer; a gold judge (`paper`: GPT-5.4
with the authors' prompt, or `paper:<model>`) labels m of them, drawn at random and stratified like the sample
(the same m cases for every model of one sample). Gold labels are kept beside the run's labels, never replacing
them, and can be added later (re-run the same settings with `--gold`): the numbers update as they arrive.

With them, every rate and paired difference gets a prediction-powered interval (analysis/ppi.py), valid whatever
the cheap judge's bias, beside the judge-only interval, which covers sampling error alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vocabulary import HELPS, is_refusal

from blindrefusal import store
from blindrefusal.analysis.ppi import PPI_METHOD, PPIEstimate, ppi_mean
from blindrefusal.analysis.ranking import RankRange, rank_range
from blindrefusal.analysis.stats import Diff
from blindrefusal.analysis.weighted import Design, case_weights
from blindrefusal.judges import Judge
from blindrefusal.paper.cases import StoredCase
from blindrefusal.paper.sampler import stratified_sample
from blindrefusal.runs.rejudge import judge_rows

Verdict = tuple[str, "bool | None", "bool | None"]
# What each gold-checked rate counts, from one verdict.
OUTCOMES = {"helps": lambda v: int(v[0] == HELPS), "refusal": lambda v: int(is_refusal(v[0])),
            "engages": lambda v: int(bool(v[1]))}


def gold_cases(cases: list[StoredCase], m: int, seed: int) -> list[StoredCase]:
    """m of the sampled cases, at random, in the sample's own family × authority proportions (one draw per
    sample and seed, so every model of one spot-check is gold-labelled on the same cases)."""
    rows = [{"key": c.key, "family": c.family, "authority_type": c.authority_type} for c in cases]
    keys = set(stratified_sample(rows, m, seed=seed, allocation="proportional"))
    return [c for c in cases if c.key in keys]


async def label_gold(engine, run_ids: list[int], gold: Judge, cases: list[StoredCase]) -> int:
    """Have the gold judge label these runs' answers to these cases that it has not labelled yet; returns how many."""
    rows = []
    for run_id in run_ids:
        rows += await asyncio.to_thread(store.judge_inputs, engine, only_unjudged=False, run_id=run_id,
                                        case_ids=[c.id for c in cases], not_judged_by=gold.name)
    await judge_rows(engine, gold, rows, comparison_only=True)
    return len(rows)


def _as_diff(e: PPIEstimate) -> Diff:
    return Diff(e.estimate, e.lo, e.hi, e.m, e.method, e.p_value)


@dataclass(frozen=True)
class GoldFindings:
    """A spot-check's numbers rectified by its gold labels (defeated cases)."""

    judge: str
    rates: dict[str, PPIEstimate]  # helps, refusal, engages
    vs_paper: dict[str, PPIEstimate]  # paper model -> this model's help rate minus it, under the gold judge
    rank: RankRange
    method: str = PPI_METHOD

    def as_dict(self) -> dict:
        return {"judge": self.judge, "method": self.method, "rates": {k: v.as_dict() for k, v in self.rates.items()},
                "vs_paper": {k: v.as_dict() for k, v in self.vs_paper.items()}, "rank": self.rank.as_dict()}


def gold_findings(gold_judge: str, cheap: dict[int, Verdict], gold: dict[int, Verdict],
                  release: dict[str, dict[int, str]], defeated: set[int], design: Design) -> GoldFindings:
    """`cheap`: the run judge's verdict per case; `gold`: the gold judge's on its subset; `release`: the paper
    models' GPT-5.4 labels (gold for the paper side, on every case)."""
    ids = sorted(defeated & set(cheap))
    weight = case_weights(ids, design)
    gold_ids = [c for c in ids if c in gold]
    rates = {name: ppi_mean({c: count(gold[c]) for c in gold_ids}, {c: count(cheap[c]) for c in ids}, weight)
             for name, count in OUTCOMES.items()}
    helps = OUTCOMES["helps"]
    vs_paper = {}
    for slug, labels in sorted(release.items()):
        common = [c for c in ids if c in labels]
        paper = {c: int(labels[c] == HELPS) for c in common}
        vs_paper[slug] = ppi_mean({c: helps(gold[c]) - paper[c] for c in common if c in gold},
                                  {c: helps(cheap[c]) - paper[c] for c in common}, weight, bounds=(-1.0, 1.0))
    return GoldFindings(gold_judge, rates, vs_paper, rank_range({k: _as_diff(v) for k, v in vs_paper.items()}))

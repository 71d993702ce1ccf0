"""Turn label counts into rates with Wilson intervals, and the store's headline numbers."""

from __future__ import annotations

from dataclasses import dataclass

from .stats import Rate, diff_independent, wilson

# Metric key -> (label, higher is "more rule-blind"?)
METRICS = {
    "refusal": "Refusal rate",
    "helps": "Help rate",
    "deflects": "Deflection rate",
    "hard_refusal": "Hard-refusal rate",
    "engages": "Engagement rate",
    "blind": "Pure rule-blind rate",
    "gap": "Help-rate gap vs control (pp)",
}


@dataclass
class RateSet:
    n: int
    helps: Rate
    deflects: Rate
    hard_refusal: Rate
    refusal: Rate
    engages: Rate
    blind: Rate
    engaged_among_refusals: Rate

    def get(self, metric: str) -> Rate:
        return getattr(self, metric)


def rates(counts) -> RateSet:
    """`counts` is a db.queries.Counts (anything with n, helps, deflects, hard_refusal, engages, blind, refused_engaged)."""
    n = counts.n
    refused = counts.deflects + counts.hard_refusal
    return RateSet(
        n=n, helps=wilson(counts.helps, n), deflects=wilson(counts.deflects, n),
        hard_refusal=wilson(counts.hard_refusal, n), refusal=wilson(refused, n), engages=wilson(counts.engages, n),
        blind=wilson(counts.blind, n), engaged_among_refusals=wilson(counts.refused_engaged, refused),
    )


def help_gap(defeated, control) -> dict:
    """Help rate on defeated minus help rate on control cases, with a Newcombe interval."""
    return diff_independent(wilson(defeated.helps, defeated.n), wilson(control.helps, control.n))


def stats_block(counts) -> dict:
    """The `stats --json` shape for one group: n plus fractions."""
    r = rates(counts)
    return {"n": r.n, **{k: r.get(k).rate for k in ("helps", "deflects", "hard_refusal", "refusal", "engages")}}


def store_stats(engine, judge: str | None = None, sources=("paper",)) -> dict:
    """Headline numbers of the store, shaped for `python -m blindrefusal stats --json`."""
    from db import queries as q

    f = q.Filters(sources=list(sources))
    tot = q.totals(engine, f, judge)
    counts = q.store_counts(engine)
    by_model = q.by_dimension(engine, "model", f, judge)
    by_family = q.by_dimension(engine, "family", f, judge)
    by_auth = q.by_dimension(engine, "authority", f, judge)
    return {
        "responses": tot["defeated"].n + tot["control"].n,
        "cases": counts["paper_cases"],
        "models": len(by_model),
        "defeated": stats_block(tot["defeated"]),
        "control": stats_block(tot["control"]),
        "by_model": {k: stats_block(v["defeated"]) for k, v in sorted(by_model.items())},
        "by_family": {k: stats_block(v["control"] if k == "control" else v["defeated"]) for k, v in sorted(by_family.items())},
        "by_authority": {k: stats_block(v["defeated"]) for k, v in sorted(by_auth.items())},
    }

"""Turn label counts into rates with Wilson intervals, and the store's headline numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from vocabulary import DEFLECTS, HARD_REFUSAL, HELPS, RESPONSE_TYPES, is_refusal, is_rule_blind

from blindrefusal import store
from blindrefusal.analysis.stats import Diff, Rate, diff_independent, wilson

# The rates reported for a group of responses (`stats --json`, spot-check results), in this order.
HEADLINE_RATES = (*RESPONSE_TYPES, "refusal", "engages")


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


def counts_of(labels: Iterable[tuple[str, bool | None, bool | None]]) -> store.Counts:
    """Count (response_type, engages, harm) triples in Python with the rules the store counts by in SQL."""
    c = store.Counts()
    for rt, engages, harm in labels:
        c.n += 1
        c.helps += rt == HELPS
        c.deflects += rt == DEFLECTS
        c.hard_refusal += rt == HARD_REFUSAL
        c.engages += bool(engages)
        c.blind += is_rule_blind(rt, engages, harm)
        c.refused_engaged += is_refusal(rt) and bool(engages)
    return c


def rates(counts: store.Counts) -> RateSet:
    n = counts.n
    refused = counts.refusal
    return RateSet(
        n=n, helps=wilson(counts.helps, n), deflects=wilson(counts.deflects, n),
        hard_refusal=wilson(counts.hard_refusal, n), refusal=wilson(refused, n), engages=wilson(counts.engages, n),
        blind=wilson(counts.blind, n), engaged_among_refusals=wilson(counts.refused_engaged, refused),
    )


def help_gap(defeated: store.Counts, control: store.Counts) -> Diff:
    """Help rate on defeated minus help rate on control cases, with a Newcombe interval."""
    return diff_independent(wilson(defeated.helps, defeated.n), wilson(control.helps, control.n))


def stats_block(counts) -> dict:
    """The `stats --json` shape for one group: n plus fractions."""
    r = rates(counts)
    return {"n": r.n, **{k: r.get(k).rate for k in HEADLINE_RATES}}


def store_stats(engine, judge: str | None = None, sources=("paper",)) -> dict:
    """Headline numbers of the store, shaped for `python -m blindrefusal stats --json`."""
    q = store
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

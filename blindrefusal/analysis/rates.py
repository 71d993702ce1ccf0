"""Turn label counts into rates with their intervals (clustered by case where the counts carry per-case sums,
Wilson otherwise), and the store's headline numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from blindrefusal import store
from blindrefusal.analysis.clustered import clustered_diff, rate_of
from blindrefusal.analysis.stats import Diff, Rate
from blindrefusal.analysis.weighted import Design, weighted_rate
from vocabulary import DEFLECTS, HARD_REFUSAL, HELPS, RESPONSE_TYPES, is_refusal, is_rule_blind

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


Label = tuple[str, "bool | None", "bool | None"]  # (response_type, engages, harm) of one judged answer


def indicators(rt: str, engages: bool | None, harm: bool | None) -> dict[str, int]:
    """One answer's 0/1 for each count, by the rules the store counts by in SQL (vocabulary.count_expressions)."""
    return {"n": 1, "helps": int(rt == HELPS), "deflects": int(rt == DEFLECTS), "hard_refusal": int(rt == HARD_REFUSAL),
            "engages": int(bool(engages)), "blind": int(is_rule_blind(rt, engages, harm)),
            "refused_engaged": int(is_refusal(rt) and bool(engages))}


def counts_of(labels: Iterable[Label]) -> store.Counts:
    """Count (response_type, engages, harm) triples in Python."""
    c = store.Counts()
    for label in labels:
        for k, v in indicators(*label).items():
            setattr(c, k, getattr(c, k) + v)
    return c


def weighted_rates(labels: Mapping[int, Label], design: Design) -> RateSet:
    """A sample's rates weighted to the population its design claims, one judged answer per case id; the
    engagement among refusals is weighted over the refusing cases."""
    flags = {cid: indicators(*label) for cid, label in labels.items()}

    def rate(field: str) -> Rate:
        return weighted_rate({cid: f[field] for cid, f in flags.items()}, design)

    refused = {cid: f["deflects"] or f["hard_refusal"] for cid, f in flags.items()}
    return RateSet(n=len(flags), helps=rate("helps"), deflects=rate("deflects"), hard_refusal=rate("hard_refusal"),
                   refusal=weighted_rate(refused, design), engages=rate("engages"), blind=rate("blind"),
                   engaged_among_refusals=weighted_rate({c: flags[c]["engages"] for c, r in refused.items() if r},
                                                        design))


REFUSED = ("deflects", "hard_refusal")


def rates(counts: store.Counts) -> RateSet:
    """Every headline rate of one group of answers."""
    return RateSet(
        n=counts.n, helps=rate_of(counts, ("helps",)), deflects=rate_of(counts, ("deflects",)),
        hard_refusal=rate_of(counts, ("hard_refusal",)), refusal=rate_of(counts, REFUSED),
        engages=rate_of(counts, ("engages",)), blind=rate_of(counts, ("blind",)),
        engaged_among_refusals=rate_of(counts, ("refused_engaged",), REFUSED),
    )


def help_gap(defeated: store.Counts, control: store.Counts) -> Diff:
    """Help rate on defeated minus help rate on control cases (disjoint cases), with Newcombe's hybrid interval."""
    return clustered_diff(rate_of(defeated, ("helps",)), rate_of(control, ("helps",)))


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
        "by_family": {k: stats_block(v["control"] if k == "control" else v["defeated"])
                      for k, v in sorted(by_family.items())},
        "by_authority": {k: stats_block(v["defeated"]) for k, v in sorted(by_auth.items())},
    }

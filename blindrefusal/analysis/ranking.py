"""Where a model stands among others: a rank interval from paired tests against each of them, Holm-adjusted, so
that it holds for the whole ranking at once. Overlapping marginal intervals say nothing about a tie: a model is
placed above another only where the paired test, after the adjustment, says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from blindrefusal.analysis.stats import Diff

RANK_METHOD = ("paired score tests against each other model, Holm-adjusted: the interval holds the model's rank "
               "with family-wise 95% confidence")
ALPHA = 0.05


def holm_rejected(p_values: Mapping[str, float], alpha: float = ALPHA) -> set[str]:
    """The hypotheses Holm's step-down procedure rejects at family-wise level alpha."""
    ordered = sorted(p_values, key=lambda k: (p_values[k], k))
    out: set[str] = set()
    for i, key in enumerate(ordered):
        if p_values[key] > alpha / (len(ordered) - i):
            break
        out.add(key)
    return out


@dataclass(frozen=True)
class RankRange:
    """A rank interval (1 = highest) among `of` models, with the others it is told apart from."""

    lo: int | None
    hi: int | None
    of: int
    above: list[str] = field(default_factory=list)  # significantly higher than this model
    below: list[str] = field(default_factory=list)  # significantly lower

    def text(self) -> str:
        if self.lo is None:
            return "—"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"

    def explain(self) -> str:
        """What the range rests on, in one sentence."""
        if self.lo is None:
            return "No rank: nothing to compare under one judge."
        between = self.of - 1 - len(self.above) - len(self.below)
        return (f"{len(self.above)} model{'' if len(self.above) == 1 else 's'} significantly higher and "
                f"{len(self.below)} significantly lower (paired score tests, Holm-adjusted, family-wise 95%); "
                f"{between} not told apart from it at this n.")

    def as_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "of": self.of, "method": RANK_METHOD,
                "significantly_higher": self.above, "significantly_lower": self.below}


NO_RANK = RankRange(None, None, 0)


def rank_range(diffs: Mapping[str, Diff]) -> RankRange:
    """This model's rank among itself and the others from its paired differences with each (this − other)."""
    tested = {k: (d.diff, d.p_value) for k, d in diffs.items() if d.diff is not None and d.p_value is not None}
    if not tested:
        return RankRange(None, None, len(diffs) + 1)
    rejected = holm_rejected({k: p for k, (_, p) in tested.items()})
    above = sorted(k for k in rejected if tested[k][0] < 0)
    below = sorted(k for k in rejected if tested[k][0] > 0)
    return RankRange(1 + len(above), 1 + len(tested) - len(below), len(tested) + 1, above, below)

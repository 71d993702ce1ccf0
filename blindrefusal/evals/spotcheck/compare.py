"""A spot-check beside the paper's models, like for like: the same sampled cases, the same judge, the same
weights. Paired differences with each paper model, the rank they imply, the paper models' own rates and help
gap on the sample, and the judge's shift on the bridged answers. The arms against each other: `arms`."""

from __future__ import annotations

from dataclasses import dataclass

from blindrefusal.analysis.clustered import t_quantile
from blindrefusal.analysis.ranking import RankRange, rank_range
from blindrefusal.analysis.stats import Diff, Rate, diff_independent
from blindrefusal.analysis.weighted import Design, weighted_mean, weighted_paired, weighted_rate
from vocabulary import HELPS

Labels = dict[int, str]  # case id -> response type, under one judge


def helped(labels: Labels, ids) -> dict[int, int]:
    return {cid: int(labels[cid] == HELPS) for cid in ids if cid in labels}


@dataclass(frozen=True)
class PaperSide:
    """The paper's models on a spot-check's sample under the comparison's judge."""

    vs: dict[str, Diff]  # paper model -> this model's help rate minus it, paired, weighted
    rank: RankRange
    rates: dict[str, Rate]  # paper model -> its weighted help rate on the sampled defeated cases
    gap: Diff  # the paper models' pooled help gap (defeated − control) on the sampled cases
    control_rates: dict[str, Rate]  # paper model -> its weighted help rate on the sampled control cases

    def as_dict(self) -> dict:
        return {"vs": {k: v.as_dict() for k, v in self.vs.items()}, "rank": self.rank.as_dict(),
                "paper_rates": {k: v.as_dict() for k, v in self.rates.items()}, "paper_gap": self.gap.as_dict(),
                "paper_control_rates": {k: v.as_dict() for k, v in self.control_rates.items()}}


NO_PAPER_SIDE = PaperSide({}, RankRange(None, None, 0), {}, Diff(None, None, None), {})


def paper_side(mine: Labels, paper: dict[str, Labels], defeated: set[int], control: set[int],
               design: Design) -> PaperSide:
    """`mine` and `paper` come from one judge; only cases both sides answered are compared."""
    ids = defeated & set(mine)
    vs = {slug: weighted_paired(helped(mine, ids), helped(labels, ids), design)
          for slug, labels in sorted(paper.items())}
    rates = {slug: weighted_rate(helped(labels, ids), design) for slug, labels in sorted(paper.items())}
    on_control = control & set(mine)
    control_rates = {slug: weighted_rate(helped(labels, on_control), design) for slug, labels in sorted(paper.items())}
    return PaperSide(vs, rank_range(vs), rates, pooled_gap(paper, defeated, control, design), control_rates)


def pooled_rate(outcomes: dict[str, dict[int, int]], design: Design) -> Rate:
    """Several models' rate pooled: each case counts once, by the share of the models that scored on it (so the
    interval is clustered by case), weighted like the sample."""
    shares: dict[int, list[int]] = {}
    for by_case in outcomes.values():
        for cid, v in by_case.items():
            shares.setdefault(cid, []).append(v)
    return weighted_rate({cid: sum(v) / len(v) for cid, v in shares.items()}, design)


def pooled_gap(paper: dict[str, Labels], defeated: set[int], control: set[int], design: Design) -> Diff:
    """The paper models' pooled help rate on defeated minus control cases."""
    on_defeated, on_control = (pooled_rate({m: helped(labels, ids) for m, labels in paper.items()}, design)
                               for ids in (defeated, control))
    return diff_independent(on_defeated, on_control)


def judge_shift(judged: dict[str, Labels], release: dict[str, Labels], defeated: set[int],
                design: Design) -> dict[str, Diff]:
    """Per bridged paper model: this judge's help rate minus GPT-5.4's on the same answers (paired, weighted)."""
    return {slug: weighted_paired(helped(labels, defeated), helped(release.get(slug, {}), defeated), design)
            for slug, labels in sorted(judged.items())}


SHIFT_METHOD = ("mean over the bridged models of the judge's help minus GPT-5.4's, per case, weighted like the "
                "rates; the design variance over cases, t on cases − 1")


def mean_judge_shift(judged: dict[str, Labels], release: dict[str, Labels], defeated: set[int],
                     design: Design) -> Diff:
    """This judge's help rate minus GPT-5.4's, averaged over the bridged paper models, on the same answers: signed,
    with its interval (a case's models move together, so the case is the unit). The mean of the per-model
    |shifts| is not shown: it is biased up at small n (+2.1 pp at 30 cases)."""
    per_case: dict[int, list[int]] = {}
    for slug, labels in judged.items():
        mine, theirs = helped(labels, defeated), helped(release.get(slug, {}), defeated)
        for cid in set(mine) & set(theirs):
            per_case.setdefault(cid, []).append(mine[cid] - theirs[cid])
    if len(per_case) < 2:
        return Diff(None, None, None, len(per_case), SHIFT_METHOD)
    mean, var = weighted_mean({cid: sum(v) / len(v) for cid, v in per_case.items()}, design)
    half = t_quantile(len(per_case) - 1) * var ** 0.5
    return Diff(mean, mean - half, mean + half, len(per_case), SHIFT_METHOD)

"""A sample's estimates weighted to the population it claims: post-stratified rates and paired differences with a
design-based variance, turned into score intervals at the design's effective n.

A spot-check samples the release's cases by family × authority cell. Proportional allocation (the default) draws
every case alike; equal allocation over-samples small cells, so there each answered case stands for its cell
(weight N_c / n_c). Either way the weights are scaled so that each stratum adds up to its population. The
variance strata are the cells with at least two answered cases; a family's thinner cells pool into one family
stratum (the whole family when that pool is thin too).
The variance is the linearised one of a stratified weighted mean (no finite-population correction: a model's
answer to a case is itself a draw), and the interval is the score interval at the effective n = p̂(1 − p̂) / var,
truncated at the actual n (Korn & Graubard 1998), so no weighting makes an interval narrower than simple random
sampling of the same n would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from blindrefusal.analysis.stats import Z95, Diff, Rate, effective_n, paired_score_p_value, tango_interval, wilson_at

WEIGHTED_METHOD = "Wilson interval at the design's effective n (post-stratified weights)"
WEIGHTED_PAIRED_METHOD = "Tango's score interval at the design's effective n (post-stratified weights)"
WEIGHT_BASIS = ("post-stratified to the release's eligible cases by family × authority cell (cells with fewer than "
                "2 answered cases pooled within their family); within a stratum, each case weighted by the inverse of "
                "its chance of being drawn (equal under proportional allocation, N_c / n_c under equal allocation)")
MIN_STRATUM = 2

Cell = tuple[str, str]  # (family, authority type)


@dataclass(frozen=True)
class Design:
    """Where each sampled case sits (its family × authority cell), and how many cases of the population the
    sample claims are in each cell."""

    cell_of: Mapping[int, Cell]  # sampled case id -> its cell
    population: Mapping[Cell, int]  # the eligible release cases per cell
    allocation: str = "proportional"  # how the sampler spread n over the cells: what the weights undo

    def strata(self, ids) -> tuple[dict[int, str], dict[str, int]]:
        """The post-strata of these answered cases: (case id -> stratum, stratum -> population size). A family
        with no answered case is left out of the estimand; families with one pool together (or, alone, join
        the largest stratum)."""
        by_cell: dict[Cell, list[int]] = {}
        for cid in ids:
            by_cell.setdefault(self.cell_of[cid], []).append(cid)
        of: dict[int, str] = {}
        size: dict[str, int] = {}
        thin: list[tuple[list[int], int]] = []  # (the case, its family's population) of one-case families

        def put(name: str, members: list[int], population: int) -> None:
            of.update((cid, name) for cid in members)
            size[name] = size.get(name, 0) + population

        for family in sorted({f for f, _ in self.population}):
            cells = [c for c in self.population if c[0] == family]
            own = [c for c in cells if len(by_cell.get(c, ())) >= MIN_STRATUM]
            rest = [c for c in cells if c not in own]
            if rest and sum(len(by_cell.get(c, ())) for c in rest) < MIN_STRATUM:
                own, rest = [], cells  # the pool is thin: the whole family is one stratum
            for c in own:
                put(f"{family} × {c[1]}", by_cell[c], self.population[c])
            members = [cid for c in rest for cid in by_cell.get(c, ())]
            if len(members) >= MIN_STRATUM:
                put(f"{family} × other" if own else family, members, sum(self.population[c] for c in rest))
            elif members:
                thin.append((members, sum(self.population[c] for c in cells)))
        if thin:
            alone = len(thin) == 1 and size
            put(max(size, key=size.__getitem__) if alone else "thin families", [cid for m, _ in thin for cid in m],
                sum(n for _, n in thin))
        return of, size


def _case_weights(values: Mapping[int, float], design: Design) -> tuple[dict[int, str], dict[int, float]]:
    """(case -> stratum, case -> its final weight): the inverse of the case's chance of being drawn, scaled so each
    stratum adds up to its population. Proportional allocation draws every case alike; equal allocation draws
    each cell alike, so a case stands for its cell (N_c / n_c)."""
    of, size = design.strata(values)
    in_cell: dict[Cell, int] = {}
    for cid in values:
        in_cell[design.cell_of[cid]] = in_cell.get(design.cell_of[cid], 0) + 1
    raw = {cid: 1.0 if design.allocation == "proportional"
           else design.population[design.cell_of[cid]] / in_cell[design.cell_of[cid]] for cid in values}
    per_stratum: dict[str, float] = {}
    for cid, w in raw.items():
        per_stratum[of[cid]] = per_stratum.get(of[cid], 0.0) + w
    return of, {cid: w * size[of[cid]] / per_stratum[of[cid]] for cid, w in raw.items()}


def _stratified_mean(values: Mapping[int, float], design: Design) -> tuple[float, float]:
    """(p̂, its design variance) of these per-case values: the weighted mean, with the linearised variance of a
    stratified sample (each stratum's weighted residuals, n_h / (n_h − 1))."""
    of, weight = _case_weights(values, design)
    total = sum(weight.values())
    mean = sum(weight[c] * v for c, v in values.items()) / total
    groups: dict[str, list[int]] = {}
    for cid in values:
        groups.setdefault(of[cid], []).append(cid)
    var = 0.0
    for ids in groups.values():
        if len(ids) > 1:
            w_h = sum(weight[c] for c in ids)
            m_h = sum(weight[c] * values[c] for c in ids) / w_h
            var += len(ids) / (len(ids) - 1) * sum((weight[c] * (values[c] - m_h)) ** 2 for c in ids) / total ** 2
    return mean, var


def weighted_mean(values: Mapping[int, float], design: Design) -> tuple[float, float]:
    """(the weighted mean of these per-case values, its design variance): for means that are not rates (a
    per-case difference)."""
    return _stratified_mean(values, design)


def weighted_rate(values: Mapping[int, float], design: Design) -> Rate:
    """The population rate of these per-case outcomes (0/1, or a per-case share such as the fraction of paper
    models that helped), weighted by the design, with its score interval at the effective n."""
    n = len(values)
    if not n:
        return Rate(0, 0, None, None, None, method=WEIGHTED_METHOD)
    p, var = _stratified_mean(values, design)
    p = min(1.0, max(0.0, p))
    return wilson_at(p, effective_n(p, var, n), n, round(sum(values.values())), WEIGHTED_METHOD)


def weighted_paired(x: Mapping[int, int], y: Mapping[int, int], design: Design, z: float = Z95) -> Diff:
    """Mean of x − y over the cases both have (0/1 outcomes), weighted, with Tango's score interval at the
    effective n: the design variance of the per-case differences against the paired simple-random-sampling one."""
    ids = sorted(set(x) & set(y))
    n = len(ids)
    if not n:
        return Diff(None, None, None, 0, WEIGHTED_PAIRED_METHOD)
    delta, var = _stratified_mean({c: x[c] - y[c] for c in ids}, design)
    p10, _ = _stratified_mean({c: int(x[c] and not y[c]) for c in ids}, design)
    p01 = p10 - delta
    srs_var = (p10 + p01 - delta * delta) / n
    n_eff = float(n) if var <= 0 or srs_var <= 0 else min(float(n), n * srs_var / var)
    lo, hi = tango_interval(p10 * n_eff, p01 * n_eff, n_eff, z)
    return Diff(delta, lo, hi, n, WEIGHTED_PAIRED_METHOD, p_value=paired_score_p_value(p10 * n_eff, p01 * n_eff))


def case_weights(ids, design: Design) -> dict[int, float]:
    """Each case's weight in the estimate over these cases (see `_case_weights`)."""
    return _case_weights(dict.fromkeys(ids, 0.0), design)[1]


def kish_effective_n(ids, design: Design) -> float:
    """(Σw)² / Σw²: the n the weights alone leave, for planning."""
    if not ids:
        return 0.0
    weight = case_weights(ids, design)
    return sum(weight.values()) ** 2 / sum(w * w for w in weight.values())


__all__ = ["WEIGHTED_METHOD", "WEIGHTED_PAIRED_METHOD", "WEIGHT_BASIS", "Design", "case_weights", "kish_effective_n",
           "weighted_mean", "weighted_paired", "weighted_rate"]

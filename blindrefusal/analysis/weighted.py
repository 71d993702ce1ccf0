"""A sample's estimates weighted to the population it claims: post-stratified rates and paired differences with a
design-based variance, turned into score intervals at the design's effective n.

A spot-check samples the release's cases by family × authority cell (equal allocation by default), so its cells
are not in the release's proportions. Each answered case stands for its stratum's share of the population:
p̂ = Σ_h (N_h / N) ȳ_h, var = Σ_h (N_h / N)² s_h² / n_h (no finite-population correction: a model's answer to a
case is itself a draw). The strata are the cells with at least two answered cases; a family's thinner cells
pool into one family stratum (the whole family when that pool is thin too). The interval is the score interval
at the effective n = p̂(1 − p̂) / var, truncated at the actual n (Korn & Graubard 1998), so no weighting makes
an interval narrower than simple random sampling of the same n would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from blindrefusal.analysis.stats import Diff, Rate, paired_score_p_value, tango_interval, wilson_at

WEIGHTED_METHOD = "Wilson interval at the design's effective n (post-stratified weights)"
WEIGHTED_PAIRED_METHOD = "Tango's score interval at the design's effective n (post-stratified weights)"
WEIGHT_BASIS = ("post-stratified on family × authority: cells with fewer than 2 answered cases pooled within their "
                "family; weights N_h / n_h over the release's eligible cases")
MIN_STRATUM = 2

Cell = tuple[str, str]  # (family, authority type)


@dataclass(frozen=True)
class Design:
    """Where each sampled case sits (its family × authority cell), and how many cases of the population the
    sample claims are in each cell."""

    cell_of: Mapping[int, Cell]  # sampled case id -> its cell
    population: Mapping[Cell, int]  # the eligible release cases per cell

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
            put(max(size, key=size.get) if alone else "thin families", [cid for m, _ in thin for cid in m],
                sum(n for _, n in thin))
        return of, size


def _stratified_mean(values: Mapping[int, float], design: Design) -> tuple[float, float]:
    """(p̂, its design variance) of these per-case values."""
    of, size = design.strata(values)
    groups: dict[str, list[float]] = {}
    for cid, v in values.items():
        groups.setdefault(of[cid], []).append(v)
    total = sum(size[h] for h in groups)
    mean = var = 0.0
    for h, vs in groups.items():
        w, m = size[h] / total, sum(vs) / len(vs)
        mean += w * m
        if len(vs) > 1:
            var += w * w * sum((v - m) ** 2 for v in vs) / (len(vs) - 1) / len(vs)
    return mean, var


def effective_n(p: float, var: float, n: int) -> float:
    """p(1 − p) / var, truncated at n (and n itself where the variance is 0)."""
    if var <= 0 or p * (1 - p) <= 0:
        return float(n)
    return min(float(n), p * (1 - p) / var)


def weighted_rate(values: Mapping[int, float], design: Design) -> Rate:
    """The population rate of these per-case outcomes (0/1, or a per-case share such as the fraction of paper
    models that helped), weighted by the design, with its score interval at the effective n."""
    n = len(values)
    if not n:
        return Rate(0, 0, None, None, None, method=WEIGHTED_METHOD)
    p, var = _stratified_mean(values, design)
    p = min(1.0, max(0.0, p))
    return wilson_at(p, effective_n(p, var, n), n, round(sum(values.values())), WEIGHTED_METHOD)


def weighted_paired(x: Mapping[int, int], y: Mapping[int, int], design: Design) -> Diff:
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
    lo, hi = tango_interval(p10 * n_eff, p01 * n_eff, n_eff)
    return Diff(delta, lo, hi, n, WEIGHTED_PAIRED_METHOD, p_value=paired_score_p_value(p10 * n_eff, p01 * n_eff))


def kish_effective_n(ids, design: Design) -> float:
    """(Σw)² / Σw²: the n the weights alone leave, for planning."""
    of, size = design.strata(ids)
    counts: dict[str, int] = {}
    for cid in ids:
        counts[of[cid]] = counts.get(of[cid], 0) + 1
    weights = [size[h] / counts[h] for h in counts for _ in range(counts[h])]
    return sum(weights) ** 2 / sum(w * w for w in weights) if weights else 0.0


__all__ = ["WEIGHTED_METHOD", "WEIGHTED_PAIRED_METHOD", "WEIGHT_BASIS", "Design", "effective_n", "kish_effective_n",
           "weighted_paired", "weighted_rate"]

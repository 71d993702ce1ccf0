"""Rates over answers that share cases (18 models answering the same 1,290), with intervals clustered by case.

The variance of a pooled rate p̂ = Σk_i / Σn_i over cases i is the cluster-robust (sandwich, ratio-estimator
linearisation) one, G/(G−1) · Σ_i (k_i − p̂ n_i)² / (Σn_i)², computed from per-case sums (Σk², Σkn, Σn²) the
store returns with every group. It sets an effective n = p̂(1−p̂)/var (design effect at least 1), and the
interval is Wilson's at that n, with the quantile of Student's t on cases − 1 degrees of freedom instead of the
normal's: with few cases the variance is itself estimated from few clusters (a cell of 2–5 cases covered 82–89%
with the normal quantile, ≥ 97% with t; tests/analysis/test_clustered.py draws cells of the release). One case
with several answers says nothing about a cell's other cases: its interval is 0–100%. Where every case gives at
most one answer it is exactly the Wilson interval."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Sequence

from blindrefusal import store
from blindrefusal.analysis.stats import Z95, Diff, Rate, diff_independent, effective_n, wilson, wilson_at

CLUSTERED_METHOD = "Wilson interval at the cluster-robust effective n, t quantile on cases − 1 (clustered by case)"
THIN_CASES = 10  # fewer cases than this: few independent units, however many answers (the views mark it thin)
CLUSTERED_DIFF_METHOD = "Newcombe's hybrid score interval from the two clustered Wilson intervals"


def clustered_effective_n(p: float, n: int, cases: int, kk: float, kn: float, nn: float) -> float:
    """n over the design effect: `cases` clusters, kk, kn, nn the sums over them of k_i², k_i·n_i and n_i².

    The design effect is at least 1. With at most one answer per case (nn = n) or p̂ at 0 or 1 (no spread to
    measure) it is 1; a single case with several answers counts as one answer's worth."""
    if p <= 0 or p >= 1 or nn <= n:
        return float(n)
    if cases < 2:
        return 1.0
    return effective_n(p, cases / (cases - 1) * (kk - 2 * p * kn + p * p * nn) / (n * n), n)


@lru_cache(maxsize=256)
def t_quantile(df: int) -> float:
    """Student's t 97.5% quantile on `df` degrees of freedom (scipy.special, imported on first use)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.975))


def clustered_wilson(k: int, n: int, cases: int, kk: float, kn: float, nn: float) -> Rate:
    """k of n answers from `cases` cases, with the Wilson interval at the cluster-robust effective n and the t
    quantile on cases − 1 (the plain Wilson interval where no case gave two answers)."""
    if n <= 0:
        return Rate(k, 0, None, None, None)
    p = k / n
    if nn <= n:  # at most one answer per case: independent draws
        return wilson_at(p, float(n), n, k, CLUSTERED_METHOD, Z95)
    if cases < 2:
        return Rate(k, n, p, 0.0, 1.0, CLUSTERED_METHOD, 1.0)
    return wilson_at(p, clustered_effective_n(p, n, cases, kk, kn, nn), n, k, CLUSTERED_METHOD,
                     t_quantile(cases - 1))


def _cross(sums: store.CaseSums, x: Sequence[str], y: Sequence[str]) -> int:
    """Σ over cases of (Σ of the counts x) × (Σ of the counts y)."""
    return sum(sums.product(a, b) for a in x for b in y)


def rate_of(counts: store.Counts, num: Sequence[str], den: Sequence[str] = ("n",)) -> Rate:
    """The rate Σ num / Σ den of these counts (names of count fields), clustered by case where the counts carry
    per-case sums; the plain Wilson interval where they were counted without case ids."""
    k, n = sum(getattr(counts, f) for f in num), sum(getattr(counts, f) for f in den)
    sums = counts.by_case
    if sums is None:
        return wilson(k, n)
    return clustered_wilson(k, n, sums.cases, _cross(sums, num, num), _cross(sums, num, den), _cross(sums, den, den))


def clustered_diff(a: Rate, b: Rate) -> Diff:
    """a − b for two rates over disjoint cases (defeated and control): Newcombe's hybrid interval from their
    intervals, named as clustered where either is."""
    d = diff_independent(a, b)
    return replace(d, method=CLUSTERED_DIFF_METHOD) if a.n_eff is not None or b.n_eff is not None else d

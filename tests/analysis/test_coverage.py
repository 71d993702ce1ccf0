"""Every interval shown holds its coverage: exact enumeration of the sampling distribution at the parameter points
where this data lives (issue 21), and edge cases. Nominal 95%; each must reach 93%.

A method that regressed fails here: the paired interval this project used before (a Clopper–Pearson interval
for b/d rescaled by the observed discordance) covers 54% at the first point below."""

from __future__ import annotations

import math

import pytest

from blindrefusal.analysis.stats import PAIRED_CC, diff_independent, tango_interval, wilson

FLOOR = 0.93
# (p10, p01, n): x-only and y-only discordance, paired n. The first three are issue 21's; then a claude-opus-4-6
# vs gpt-5-4-base-like gap, a grok-4 vs gpt-5-4-mini-base-like gap, no discordance, symmetric ones.
PAIRED_POINTS = [(0.001, 0.03, 81), (0.01, 0.05, 81), (0.005, 0.08, 211), (0.30, 0.07, 81), (0.52, 0.02, 81),
                 (0.0, 0.0, 50), (0.05, 0.05, 100), (0.2, 0.2, 30), (0.1, 0.0, 1), (0.02, 0.01, 400)]


def _paired_coverage(interval, p10: float, p01: float, n: int, tail: float = 1e-11) -> float:
    """P(the interval covers p10 − p01) with (b, c, rest) ~ multinomial(n; p10, p01, 1 − p10 − p01), exactly
    (cells below `tail` probability skipped; the rest renormalised)."""
    logs = [math.log(p) if p > 0 else None for p in (p10, p01, 1 - p10 - p01)]
    covered = total = 0.0
    for b in range(n + 1):
        for c in range(n - b + 1):
            counts = (b, c, n - b - c)
            if any(k and lp is None for k, lp in zip(counts, logs, strict=True)):
                continue
            lp = math.lgamma(n + 1) - sum(math.lgamma(k + 1) for k in counts)
            prob = math.exp(lp + sum(k * lp_ for k, lp_ in zip(counts, logs, strict=True) if k))
            if prob < tail:
                continue
            total += prob
            lo, hi = interval(b, c, n)
            covered += prob * (lo - 1e-12 <= p10 - p01 <= hi + 1e-12)
    return covered / total


def _rescaled_clopper_pearson(b: int, c: int, n: int) -> tuple[float, float]:
    """The old paired interval, kept here only to show that this suite catches it."""
    from scipy.stats import beta

    d = b + c
    if d == 0:
        bound = 1 - 0.025 ** (1 / n)
        return -bound, bound
    t_lo = 0.0 if b == 0 else float(beta.ppf(0.025, b, d - b + 1))
    t_hi = 1.0 if b == d else float(beta.ppf(0.975, b + 1, d - b))
    return d / n * (2 * t_lo - 1), d / n * (2 * t_hi - 1)


@pytest.mark.parametrize("p10,p01,n", PAIRED_POINTS)
def test_the_paired_interval_covers_at_nominal_95(p10, p01, n):
    assert _paired_coverage(tango_interval, p10, p01, n) >= FLOOR


def _interval_table(n: int, cc: float = PAIRED_CC):
    """The product's interval for every outcome (b, c) of n pairs, as arrays."""
    import numpy as np

    outcomes = [(b, c) for b in range(n + 1) for c in range(n + 1 - b)]
    b, c = (np.array(v) for v in zip(*outcomes, strict=True))
    lo, hi = (np.array(v) for v in zip(*(tango_interval(bi, ci, n, cc=cc) for bi, ci in outcomes), strict=True))
    return b, c, lo, hi


def _table_coverage(table, n: int, p10: float, p01: float) -> float:
    """Exact coverage of p10 − p01 from an interval table (the multinomial over (b, c, rest) summed)."""
    import numpy as np
    from scipy.special import gammaln

    b, c, lo, hi = table
    rest = n - b - c
    log_pmf = gammaln(n + 1) - gammaln(b + 1) - gammaln(c + 1) - gammaln(rest + 1)
    possible = np.ones_like(log_pmf, dtype=bool)
    for k, p in ((b, p10), (c, p01), (rest, 1 - p10 - p01)):
        if p <= 0:
            possible &= k == 0
        else:
            log_pmf = log_pmf + k * math.log(p)
    pmf = np.where(possible, np.exp(np.where(possible, log_pmf, 0.0)), 0.0)
    covered = (lo - 1e-12 <= p10 - p01) & (p10 - p01 <= hi + 1e-12)
    return float((pmf * covered).sum() / pmf.sum())


MAX_DISCORDANCE = 0.9  # two configurations that disagree on more than 90% of the cases are out of this data's range
SEARCHED_N = [*range(2, 31), 31, 40, 50, 64, 81, 100, 150, 211, 300, 400]


def test_the_paired_interval_holds_93_percent_at_its_worst_point_up_to_n_400():
    """Not fixed points: for each n, a grid over (p10, p01) with p10 + p01 ≤ 0.9 in steps of 0.025 (the interval
    is symmetric in b and c, so p10 ≥ p01), then a seeded random search around the worst point found. Without
    its continuity correction the interval fails here (92.8% at p10 = 0.29, p01 = 0, n = 31; 88% at n = 2)."""
    import numpy as np

    rng = np.random.default_rng(0)
    grid = np.linspace(0, MAX_DISCORDANCE, int(MAX_DISCORDANCE * 40) + 1)
    worst_of_all = (1.0, None)
    for n in SEARCHED_N:
        table = _interval_table(n)
        points = [(float(a), float(b)) for a in grid for b in grid if b <= a and a + b <= MAX_DISCORDANCE + 1e-9]
        worst = min((_table_coverage(table, n, *pt), pt) for pt in points)
        for step in (0.01, 0.003):
            for _ in range(25):
                p10 = float(np.clip(worst[1][0] + rng.normal(0, step), 0, MAX_DISCORDANCE))
                p01 = float(np.clip(worst[1][1] + rng.normal(0, step), 0, min(p10, MAX_DISCORDANCE - p10)))
                worst = min(worst, (_table_coverage(table, n, p10, p01), (p10, p01)))
        worst_of_all = min(worst_of_all, (worst[0], (n, *worst[1])))
    assert worst_of_all[0] >= FLOOR, worst_of_all


def test_without_its_continuity_correction_the_search_would_fail():
    uncorrected = _interval_table(31, cc=0.0)
    assert _table_coverage(uncorrected, 31, 0.29, 0.0) < FLOOR



def test_the_suite_catches_the_old_paired_interval():
    assert _paired_coverage(_rescaled_clopper_pearson, 0.001, 0.03, 81) < 0.6
    assert _paired_coverage(_rescaled_clopper_pearson, 0.52, 0.02, 81) < 0.8


def _binomial_coverage(interval, p: float, n: int) -> float:
    total = 0.0
    for k in range(n + 1):
        prob = math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        lo, hi = interval(k, n)
        total += prob * (lo - 1e-12 <= p <= hi + 1e-12)
    return total


# Wilson's coverage dips below 93% where p is about 1/n (p = 0.01, n = 50: 91%), a known property of the method
# (Brown, Cai & DasGupta 2001); the rates at 0 and 1 themselves are covered exactly.
@pytest.mark.parametrize("p,n", [(0.246, 100), (0.042, 81), (0.58, 30), (0.077, 200), (0.5, 1), (0.0, 50),
                                 (1.0, 50)])
def test_a_single_rate_wilson_interval_covers(p, n):
    def interval(k, n):
        r = wilson(k, n)
        return r.lo, r.hi

    assert _binomial_coverage(interval, p, n) >= FLOOR


@pytest.mark.parametrize("p1,n1,p2,n2", [(0.246, 81, 0.042, 19), (0.329, 120, 0.042, 30), (0.5, 40, 0.5, 40),
                                         (0.05, 200, 0.02, 50)])
def test_the_independent_difference_newcombe_interval_covers(p1, n1, p2, n2):
    pmf1 = [math.comb(n1, k) * p1 ** k * (1 - p1) ** (n1 - k) for k in range(n1 + 1)]
    pmf2 = [math.comb(n2, k) * p2 ** k * (1 - p2) ** (n2 - k) for k in range(n2 + 1)]
    rates2 = [wilson(k, n2) for k in range(n2 + 1)]
    covered = 0.0
    for k1, q1 in enumerate(pmf1):
        a = wilson(k1, n1)
        for k2, q2 in enumerate(pmf2):
            d = diff_independent(a, rates2[k2])
            covered += q1 * q2 * (d.lo - 1e-12 <= p1 - p2 <= d.hi + 1e-12)
    assert covered >= FLOOR

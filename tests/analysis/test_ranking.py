"""Rank intervals that hold for the whole ranking: Holm-adjusted paired tests, checked by seeded Monte Carlo
against the true rank; the old rule (counting overlapping marginal intervals) is shown to be inconsistent with
the paired tests on the same page."""

from __future__ import annotations

import numpy as np
import pytest

from blindrefusal.analysis.ranking import holm_rejected, rank_range
from blindrefusal.analysis.stats import Diff, paired_diff, wilson

FLOOR = 0.93


def test_holm_steps_down_and_stops_at_the_first_acceptance():
    assert holm_rejected({"a": 0.001, "b": 0.012, "c": 0.03, "d": 0.5}) == {"a", "b"}  # 0.03 > 0.05 / 2
    assert holm_rejected({"a": 0.01, "b": 0.02}) == {"a", "b"}  # 0.02 ≤ 0.05 / 1
    assert holm_rejected({"a": 0.04, "b": 0.04}) == set()  # 0.04 > 0.05 / 2: nothing
    assert holm_rejected({}) == set()


def test_the_rank_counts_only_models_the_paired_tests_tell_apart():
    diffs = {"higher": Diff(-0.2, -0.3, -0.1, 100, "m", 1e-6), "lower": Diff(0.2, 0.1, 0.3, 100, "m", 1e-6),
             "close": Diff(0.01, -0.05, 0.07, 100, "m", 0.7), "marginal": Diff(0.05, 0.001, 0.1, 100, "m", 0.045)}
    r = rank_range(diffs)
    assert (r.lo, r.hi, r.of) == (2, 4, 5)  # 'marginal' is significant alone, not after Holm over 4 pairs
    assert r.above == ["higher"] and r.below == ["lower"]
    assert "1 model significantly higher and 1 significantly lower" in r.explain() and "2 not told apart" in r.explain()
    assert rank_range({"x": Diff(None, None, None)}).lo is None


def _simulate(rates: list[float], n: int, rho: float, rng) -> np.ndarray:
    """0/1 outcomes of each model on n shared cases, correlated through a case effect (a probit model)."""
    from scipy.stats import norm

    case = rng.standard_normal(n)[None, :]
    noise = rng.standard_normal((len(rates), n))
    latent = np.sqrt(rho) * case + np.sqrt(1 - rho) * noise
    return (latent < norm.ppf(np.array(rates))[:, None]).astype(int)


@pytest.mark.parametrize("n", [100, 400])
def test_the_rank_interval_covers_the_true_rank(n):
    """19 models whose true help rates are spread like the paper's; the new model (index 0) sits mid-pack."""
    rng = np.random.default_rng(21)
    rates = [0.30] + list(np.linspace(0.05, 0.62, 18))
    true_rank = 1 + sum(r > rates[0] for r in rates[1:])
    reps, hits, old_inconsistent = 300, 0, 0
    for _ in range(reps):
        y = _simulate(rates, n, 0.5, rng)
        diffs = {f"m{j}": paired_diff(list(y[0]), list(y[j])) for j in range(1, 19)}
        r = rank_range(diffs)
        hits += r.lo <= true_rank <= r.hi
        # the old rank: only models whose marginal Wilson interval lies wholly above count as better
        me = wilson(int(y[0].sum()), n)
        old_above = sum(wilson(int(y[j].sum()), n).lo > me.hi for j in range(1, 19))
        marginal_above = sum(d.significant and d.diff < 0 for d in diffs.values())
        old_inconsistent += marginal_above > old_above
    assert hits / reps >= FLOOR
    assert old_inconsistent / reps > 0.5  # the same page called more models better than its rank allowed

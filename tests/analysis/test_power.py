"""The power hint is the paired test's own: its exact power matches a Monte Carlo of the test, holds for
increases and decreases alike, and replaces the independent-samples formula that was optimistic for increases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blindrefusal.analysis.power import median_discordance, min_detectable_paired, paired_power
from blindrefusal.analysis.stats import paired_diff


def _mc_power(delta: float, psi: float, n: int, reps: int = 4000, seed: int = 5) -> float:
    rng = np.random.default_rng(seed)
    p10, p01 = (psi + delta) / 2, (psi - delta) / 2
    counts = rng.multinomial(n, [p10, p01, 1 - psi], size=reps)
    hits = 0
    for b, c, _ in counts:
        x = [1] * b + [0] * c + [0] * (n - b - c)
        y = [0] * b + [1] * c + [0] * (n - b - c)
        hits += paired_diff(x, y).significant
    return hits / reps


@pytest.mark.parametrize("delta,psi,n", [(0.10, 0.236, 81), (-0.10, 0.236, 81), (0.05, 0.236, 300), (0.2, 0.3, 40)])
def test_the_exact_power_is_the_power_of_the_interval_the_page_shows(delta, psi, n):
    exact = paired_power(delta, psi, n)
    assert exact == pytest.approx(_mc_power(delta, psi, n), abs=0.025)  # 4,000 draws: SE ≤ 0.008


def test_the_detectable_difference_has_its_power_and_no_less():
    psi, n = 0.236, 81  # the median discordance across the paper's model pairs; issue 21's n
    mdd = min_detectable_paired(psi, n)
    assert paired_power(mdd, psi, n) >= 0.8 > paired_power(mdd - 0.005, psi, n)
    assert _mc_power(mdd, psi, n) >= 0.78 and _mc_power(-mdd, psi, n) >= 0.78  # up and down alike
    old = (1.959963984540054 + 0.8416212335729143) * math.sqrt(2 * 0.217 * 0.783 / n)  # 2p(1 − p), unpaired
    assert abs(old - 0.182) < 0.001 and mdd < old  # pairing cancels agreeing cases: a smaller detectable gap


def test_power_edge_cases():
    assert paired_power(0.1, 0.0, 100) == 0.0 and paired_power(0.1, 0.2, 0) == 0.0
    assert min_detectable_paired(0.05, 5) is None  # not even the largest difference is detectable
    assert median_discordance({"a": {1: 1, 2: 0}, "b": {1: 1, 2: 1}, "c": {1: 0, 2: 0}}) == 0.5
    assert median_discordance({"a": {1: 1}}) is None

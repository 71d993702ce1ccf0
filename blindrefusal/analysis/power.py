"""What a paired comparison of n cases can detect: the exact power of the paired score test (the test whose
rejection is the paired interval excluding 0) at an observed discordance, and the smallest difference it
detects with a given power. The variance of a paired difference is the discordance ψ (the share of cases where
the two disagree), not 2p(1 − p): agreeing cases cancel."""

from __future__ import annotations

from itertools import combinations
from statistics import median
from typing import Mapping

import numpy as np
from scipy.stats import binom

from blindrefusal.analysis.stats import PAIRED_CC, Z95

POWER_METHOD = "exact power of the paired score test (binomial enumeration) at the observed discordance"


def paired_power(delta: float, psi: float, n: int, z: float = Z95) -> float:
    """P(the two-sided paired score test rejects) for n pairs with discordance psi and difference delta.

    Discordant pairs d ~ Bin(n, ψ); x-only pairs b | d ~ Bin(d, (ψ + δ) / 2ψ); the test rejects when
    |2b − d| − ½ > z √d (its continuity correction). Symmetric in the sign of delta."""
    if n <= 0 or psi <= 0:
        return 0.0
    delta = min(abs(delta), psi)
    d = np.arange(1, n + 1)
    q = (psi + delta) / (2 * psi)
    upper = np.floor((d + z * np.sqrt(d) + PAIRED_CC) / 2)  # reject when b > this
    lower = np.ceil((d - z * np.sqrt(d) - PAIRED_CC) / 2) - 1  # or when b ≤ this
    reject = binom.sf(upper, d, q) + binom.cdf(lower, d, q)
    return float(np.sum(binom.pmf(d, n, psi) * reject))


def min_detectable_paired(psi: float, n: int, power: float = 0.8) -> float | None:
    """The smallest |difference| detected with this power (None: not even a difference of ψ is)."""
    if n <= 0 or psi <= 0 or paired_power(psi, psi, n) < power:
        return None
    lo, hi = 0.0, psi
    for _ in range(40):
        mid = (lo + hi) / 2
        if paired_power(mid, psi, n) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def median_discordance(outcomes: Mapping[str, Mapping[int, int]]) -> float | None:
    """The median share of common cases on which two of these models disagree (0/1 outcomes), over all pairs."""
    shares = []
    for a, b in combinations(sorted(outcomes), 2):
        common = set(outcomes[a]) & set(outcomes[b])
        if common:
            shares.append(sum(outcomes[a][c] != outcomes[b][c] for c in common) / len(common))
    return median(shares) if shares else None


__all__ = ["POWER_METHOD", "median_discordance", "min_detectable_paired", "paired_power"]

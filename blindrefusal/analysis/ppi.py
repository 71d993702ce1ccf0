"""Prediction-powered inference for a mean (PPI++: Angelopoulos, Duchi & Zrnic 2023, arXiv 2311.01453; PPI:
Angelopoulos et al., Science 2023): a cheap judge's labels on all N answers plus gold labels on a random m of
them give an interval that is valid whatever the cheap judge's bias.

With gold Y and cheap f on the m gold answers, and cheap f~ on the other N − m:
    θ̂ = mean_w(λ f~) + mean_w(Y − λ f),  var = var_w(λ f~) / (N − m) + var_w(Y − λ f) / m,
λ = cov(Y, f) / ((1 + m / (N − m)) var(f)) clipped to [0, 1] (λ = 0 is the gold-only estimate). Weights (the
sampling design's, normalised to mean 1 in each set) make it stand for the release like every spot-check rate.
`ppi_at` is `ppi_py.ppi_mean_ci` exactly; `ppi_mean` adds a cross-fitted λ and Student's t (see there). The
reference implementation is the tests' oracle and is not imported here: numba, llvmlite and statsmodels are
~270 MB, and its import takes 1.8 s."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.stats import t as t_dist

from blindrefusal.analysis.stats import Z95

PPI_METHOD = ("prediction-powered interval (PPI++: power-tuned λ, cross-fitted; Student's t; weighted by the "
              "sampling design)")
MIN_GOLD = 30  # below this many gold labels the interval does not hold its coverage (tests/analysis/test_ppi.py)


@dataclass(frozen=True)
class PPIEstimate:
    """A prediction-powered estimate of a mean (a rate, or a paired difference of rates)."""

    estimate: float | None
    lo: float | None
    hi: float | None
    lam: float | None
    m: int  # gold labels
    n: int  # answers, gold or not
    p_value: float | None = None  # two-sided, of a mean of 0 (for differences)
    method: str = PPI_METHOD

    @property
    def significant(self) -> bool:
        return self.lo is not None and self.hi is not None and (self.lo > 0 or self.hi < 0)

    def fmt(self, pp: bool = False) -> str:
        if self.estimate is None or self.lo is None or self.hi is None:
            return f"— (m = {self.m} gold labels; {MIN_GOLD} needed)"
        if pp:
            return (f"{self.estimate * 100:+.1f} pp (95% CI {self.lo * 100:+.1f} to {self.hi * 100:+.1f}), "
                    f"m = {self.m} of {self.n}")
        return f"{self.estimate * 100:.1f}% ({self.lo * 100:.1f}–{self.hi * 100:.1f}), m = {self.m} of {self.n}"

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "lo": self.lo, "hi": self.hi, "lambda": self.lam, "m": self.m, "n": self.n,
                "p_value": self.p_value, "significant": self.significant, "method": self.method}


def _weights(ids, weight: Mapping[int, float] | None) -> np.ndarray:
    w = np.array([1.0 if weight is None else weight[c] for c in ids])
    return w / w.mean() if len(w) else w


def ppi_mean(gold: Mapping[int, float], cheap: Mapping[int, float], weight: Mapping[int, float] | None = None,
             bounds: tuple[float, float] = (0.0, 1.0)) -> PPIEstimate:
    """The mean over every case in `cheap` (the cheap judge's outcome per case), rectified by `gold` (the gold
    judge's outcome on a random subset of those cases). `bounds` clip the interval (a rate: 0–1; a paired
    difference: −1–1).

    λ is cross-fitted: the gold labels are split in two (by case id), and each half is rectified with the λ tuned
    on the other, since a λ tuned on the same labels it rectifies biases the estimate towards the cheap judge
    (−0.8 pp at m = 50 with a −7.6 pp judge: 90.5% coverage, against 94.0% cross-fitted). The interval uses
    Student's t with m − 1 degrees of freedom and unbiased variances."""
    labelled = sorted(c for c in gold if c in cheap)
    rest = [c for c in cheap if c not in gold]
    m, n = len(labelled), len(cheap)
    if m < MIN_GOLD or not rest:
        return PPIEstimate(None, None, None, None, m, n)
    y, f = np.array([gold[c] for c in labelled], float), np.array([cheap[c] for c in labelled], float)
    f_rest = np.array([cheap[c] for c in rest], float)
    w, w_rest = _weights(labelled, weight), _weights(rest, weight)
    estimate, residual, lam = 0.0, np.empty(m), 0.0
    for fold in (0, 1):
        mine, other = np.arange(m) % 2 == fold, np.arange(m) % 2 != fold
        lam_k = _tuned_lambda(y[other], f[other], f_rest, w[other], w_rest)
        residual[mine] = y[mine] - lam_k * f[mine]
        share = w[mine].sum() / w.sum()
        estimate += share * (lam_k * np.average(f_rest, weights=w_rest) + np.average(residual[mine], weights=w[mine]))
        lam += share * lam_k
    lo, hi, p_value = _interval(float(estimate), float((w_rest * lam * f_rest).var(ddof=1) / len(rest)
                                                     + (w * residual).var(ddof=1) / m), float(t_dist.ppf(0.975, m - 1)))
    return PPIEstimate(float(estimate), max(bounds[0], lo), min(bounds[1], hi), float(lam), m, n, p_value)


def _interval(estimate: float, variance: float, quantile: float) -> tuple[float, float, float]:
    """(lo, hi, two-sided p of a mean of 0)."""
    se = math.sqrt(max(0.0, variance))
    p_value = math.erfc(abs(estimate) / se / math.sqrt(2)) if se > 0 else (1.0 if estimate == 0 else 0.0)
    return estimate - quantile * se, estimate + quantile * se, p_value


def ppi_at(y: np.ndarray, f: np.ndarray, f_rest: np.ndarray, w: np.ndarray, w_rest: np.ndarray,
           lam: float | None = None) -> tuple[float, float, float]:
    """ppi_py's `ppi_mean_ci` at 95% (λ tuned on the same labels unless given, normal quantile, variances over n):
    (estimate, lo, hi). Kept as the oracle's twin: `ppi_mean` is this with cross-fitting and small-sample care."""
    w, w_rest = w / w.mean(), w_rest / w_rest.mean()
    lam = _tuned_lambda(y, f, f_rest, w, w_rest) if lam is None else lam
    estimate = float((w_rest * lam * f_rest).mean() + (w * (y - lam * f)).mean())
    lo, hi, _ = _interval(estimate, (w_rest * lam * f_rest).var() / len(f_rest) + (w * (y - lam * f)).var() / len(y),
                          Z95)
    return estimate, lo, hi


def _tuned_lambda(y, f, f_rest, w, w_rest) -> float:
    """PPI++'s variance-minimising λ for a mean, clipped to [0, 1] (ppi_py's `_calc_lam_glm`, one dimension)."""
    m, rest = len(y), len(f_rest)
    if m < 2:
        return 0.0
    theta = (w_rest * f_rest).mean() + (w * (y - f)).mean()  # the λ = 1 estimate, as ppi_py centres on it
    g, g_hat, g_rest = w * (y - theta), w * (f - theta), w_rest * (f_rest - theta)
    cov = 2 * np.mean((g - g.mean()) * (g_hat - g_hat.mean()))
    var = np.var(np.concatenate([g_hat, g_rest]), ddof=1)
    if var <= 0:
        return 0.0
    return float(min(1.0, max(0.0, cov / (2 * (1 + m / rest) * var))))


def gold_only(gold: Mapping[int, float], weight: Mapping[int, float] | None = None) -> tuple[float, float] | None:
    """The classical interval from the gold labels alone (λ = 0), for comparison."""
    ids = list(gold)
    if len(ids) < MIN_GOLD:
        return None
    y, w = np.array([gold[c] for c in ids], float), _weights(ids, weight)
    est = float((w * y).mean())
    lo, hi, _ = _interval(est, (w * y).var(ddof=1) / len(ids), float(t_dist.ppf(0.975, len(ids) - 1)))
    return lo, hi


# ------------------------------------------------------------------------------------------ planning m


def ppi_variance(p: float, rho: float, n: float, m: float) -> float:
    """The large-sample variance of PPI++ with its best λ: p(1 − p)/m · (1 − ρ² (n − m)/n), where ρ is the
    correlation of the gold and the cheap labels (λ = ρ-tuned; ρ = 0 gives the gold-only p(1 − p)/m)."""
    return p * (1 - p) / m * (1 - rho ** 2 * (n - m) / n)


@dataclass(frozen=True)
class GoldPlan:
    """How to spend a budget: n answers judged by the cheap judge, m of them also by the gold judge."""

    n: int
    m: int
    cost: float
    half_width: float  # expected 95% half-width of the prediction-powered rate at the planning rate p
    gold_only_n: int  # the same budget spent on gold-judging every answer instead
    gold_only_half_width: float

    def text(self) -> str:
        return (f"{self.n} answers, {self.m} of them gold-labelled (cost {self.cost:.2f}): expected ±"
                f"{self.half_width * 100:.1f} pp; the same budget with every answer gold-labelled buys "
                f"{self.gold_only_n} answers, ±{self.gold_only_half_width * 100:.1f} pp")


def plan_gold(budget: float, answer_cost: float, gold_cost: float, rho: float, p: float = 0.3,
              n_max: int | None = None, defeated_share: float = 1.0) -> GoldPlan | None:
    """The (n, m) with the narrowest expected prediction-powered interval that the budget buys, where an answer
    (the model's call and the cheap judge) costs `answer_cost` and a gold label `gold_cost` more; n stops at
    `n_max` (the cases there are) and m at n − 1 (the estimator needs answers without a gold label). The rate is
    the help rate on defeated cases, `defeated_share` of the sample (gold labels fall on them in that share). A
    negative ρ buys nothing (λ is clipped at 0). None when the budget cannot buy MIN_GOLD gold-labelled answers
    on defeated cases."""
    if answer_cost <= 0 and n_max is None:
        raise ValueError("free answers need n_max: the cases there are")
    per_gold = answer_cost + gold_cost
    rho = max(0.0, rho)
    affordable = int(budget / per_gold + 1e-9) if per_gold > 0 else 0
    best: tuple[float, int, int] | None = None
    for m in range(MIN_GOLD, affordable + 1):
        spare = budget - m * per_gold
        n = m + (int(spare / answer_cost + 1e-9) if answer_cost > 0 else 10 ** 9)
        n = min(n, n_max) if n_max is not None else n
        m_defeated, n_defeated = math.floor(m * defeated_share + 1e-9), n * defeated_share
        if n <= m or m_defeated < MIN_GOLD:  # whole gold labels on defeated cases, as a spot-check draws them
            continue
        v = ppi_variance(p, rho, n_defeated, m_defeated)
        if best is None or v < best[0] - 1e-15:
            best = (v, n, m)
    if best is None:
        return None
    v, n, m = best
    gold_n = min(affordable, n_max) if n_max is not None else affordable
    return GoldPlan(n=n, m=m, cost=round(n * answer_cost + m * gold_cost, 6), half_width=Z95 * math.sqrt(v),
                    gold_only_n=gold_n,
                    gold_only_half_width=Z95 * math.sqrt(p * (1 - p) / (gold_n * defeated_share)))


__all__ = ["MIN_GOLD", "PPI_METHOD", "GoldPlan", "PPIEstimate", "gold_only", "plan_gold", "ppi_mean", "ppi_variance"]

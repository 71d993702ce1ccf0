"""A judge's own error, when no gold labels are there to measure it: its errors on models it never saw.

Refitted without each paper model and scored on that model's held-out answers (leave-one-model-out), the distilled
judge's help rate came out off by e_1 … e_k percentage points against GPT-5.4's labels, one per model. A new model
is one more draw: its error is unknown, but like theirs. So the GPT-5.4-scale rate of a spot-checked model is
estimated as the judge's rate minus the errors' mean, with a prediction interval that adds their spread across
models (and the uncertainty of their mean) to the sampling error, on Student's t with k − 1 degrees of freedom:

    p̂ − ē  ±  t(k−1) · √( se² + s² (1 + 1/k) )

It estimates another quantity than the judge-only interval (what GPT-5.4 would have labelled, not what this
judge labelled), so both are shown. It holds its coverage on average over models, not for a model whose error is
as unusual as the most extreme of the k (tests/analysis/test_judge_bias.py: nested leave-one-model-out)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from blindrefusal.analysis.clustered import t_quantile
from blindrefusal.analysis.stats import Rate

BIAS_METHOD = ("judge-error-aware prediction interval: the judge's rate minus its mean error on models it never saw "
               "(leave-one-model-out), their spread across models added to the sampling error, t on models − 1")


@dataclass(frozen=True)
class UnseenError:
    """A judge's signed errors (pp) on k models it never saw: their mean, spread and count."""

    mean_pp: float
    sd_pp: float
    k: int

    @classmethod
    def of(cls, errors_pp: Sequence[float]) -> UnseenError | None:
        """None with fewer than 3 models: their spread cannot be estimated."""
        if len(errors_pp) < 3:
            return None
        return cls(statistics.fmean(errors_pp), statistics.stdev(errors_pp), len(errors_pp))

    def mean_interval_pp(self) -> tuple[float, float]:
        """95% interval of the mean error over models like these (t on k − 1)."""
        half = t_quantile(self.k - 1) * self.sd_pp / math.sqrt(self.k)
        return self.mean_pp - half, self.mean_pp + half

    def sd_interval_pp(self) -> tuple[float, float]:
        """95% interval of the spread (the standard deviation across models), from the chi-square distribution."""
        from scipy.stats import chi2

        df = self.k - 1
        return (self.sd_pp * math.sqrt(df / float(chi2.ppf(0.975, df))),
                self.sd_pp * math.sqrt(df / float(chi2.ppf(0.025, df))))


def sampling_se(rate: Rate) -> float:
    """The standard error of a rate at its effective n (the weighted or clustered one, else n)."""
    n = rate.n_eff if rate.n_eff else rate.n
    p = rate.rate or 0.0
    # the Wilson centre keeps it off 0 at p = 0 or 1 (as the interval it came from does)
    centre = (p * n + 2) / (n + 4)
    return math.sqrt(centre * (1 - centre) / (n + 4))


def error_aware(rate: Rate, error: UnseenError) -> Rate:
    """The GPT-5.4-scale rate: the judge's `rate` corrected by the judge's mean error on unseen models, with the
    prediction interval above (clipped to 0–100%)."""
    if rate.rate is None or not rate.n:
        return Rate(rate.k, rate.n, None, None, None, BIAS_METHOD)
    estimate = min(1.0, max(0.0, rate.rate - error.mean_pp / 100))
    half = t_quantile(error.k - 1) * math.sqrt(sampling_se(rate) ** 2 + (error.sd_pp / 100) ** 2 * (1 + 1 / error.k))
    return Rate(rate.k, rate.n, estimate, max(0.0, estimate - half), min(1.0, estimate + half), BIAS_METHOD,
                rate.n_eff)


__all__ = ["BIAS_METHOD", "UnseenError", "error_aware", "sampling_se"]

"""The judge-error-aware interval without gold labels (issue 40), validated by nested leave-one-model-out: for
each of the paper's models, the interval is built from the other models' errors only and checked against that
model's GPT-5.4 help rate, at sample sizes from 30 to the whole release. The judge-only interval, which covers
sampling error alone, is shown to fail the same check (so the test catches a regression to it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blindrefusal.analysis.judge_bias import UnseenError, error_aware
from blindrefusal.analysis.stats import wilson
from blindrefusal.config import DATA_DIR

DEFEATED_SHARE = 1081 / 1290


def _lomo() -> list[tuple[float, float]]:
    """(GPT-5.4's help rate, the judge's error in pp) per paper model, from the shipped leave-one-model-out."""
    doc = json.loads((DATA_DIR / "distilled_judge_lomo.json").read_text(encoding="utf-8"))
    return [(m["unseen"]["gpt54_help_rate"], m["unseen"]["help_rate_error_pp"]) for m in doc["per_model"].values()]


def _coverage(n: int, reps: int = 1500, seed: int = 0) -> tuple[float, float]:
    """(error-aware, judge-only) coverage of the held-out model's GPT-5.4 rate, averaged over the models."""
    models = _lomo()
    rng = np.random.default_rng(seed)
    defeated = max(2, round(DEFEATED_SHARE * n))
    aware, plain = [], []
    for i, (truth, err) in enumerate(models):
        others = UnseenError.of([e for j, (_, e) in enumerate(models) if j != i])
        judged = min(1.0, max(0.0, truth + err / 100))
        for k in rng.binomial(defeated, judged, size=reps):
            rate = wilson(int(k), defeated)
            a = error_aware(rate, others)
            aware.append(a.lo <= truth <= a.hi)
            plain.append(rate.lo <= truth <= rate.hi)
    return float(np.mean(aware)), float(np.mean(plain))


@pytest.mark.parametrize("n", [30, 100, 200, 400, 1290])
def test_nested_leave_one_model_out_covers_each_held_out_models_gpt54_rate(n):
    aware, plain = _coverage(n)
    assert aware >= 0.93, (n, aware)
    if n >= 200:
        assert plain < 0.85, (n, plain)  # sampling error alone misses the judge's own error


def test_the_errors_summary_carries_intervals():
    errors = [e for _, e in _lomo()]
    u = UnseenError.of(errors)
    lo, hi = u.mean_interval_pp()
    assert lo < u.mean_pp < hi and hi < 0  # the judge under-counts help on models it never saw
    slo, shi = u.sd_interval_pp()
    assert 0 < slo < u.sd_pp < shi
    assert UnseenError.of([1.0, 2.0]) is None

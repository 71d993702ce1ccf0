"""Prediction-powered intervals: equal to the reference implementation (ppi_py) to the last digit, and valid
whatever the cheap judge's bias, where the judge-only interval is not. Seeded Monte Carlo at issue 22's points:
a cheap judge that under-counts "helps" by 3 pp and by 7.6 pp (the distilled judge's mean and worst error on
models it never saw), about 8% disagreement with the gold judge."""

from __future__ import annotations

import numpy as np
import pytest

from blindrefusal.analysis.ppi import MIN_GOLD, gold_only, plan_gold, ppi_at, ppi_mean, ppi_variance
from blindrefusal.analysis.stats import wilson

FLOOR = 0.93


def _judged(rng, n: int, p: float, bias: float, disagreement: float = 0.08):
    """True outcomes, and a cheap judge that disagrees on `disagreement` of them with net bias `bias`: it calls
    a share a = (d − b) / 2 of all answers 'not helps' when they help, and c = (d + b) / 2 the other way."""
    y = (rng.random(n) < p).astype(int)
    down, up = (disagreement - bias) / 2 / p, (disagreement + bias) / 2 / (1 - p)
    flip = rng.random(n) < np.where(y == 1, down, up)
    return y, np.where(flip, 1 - y, y)


@pytest.mark.parametrize("n,m", [(200, 50), (1290, 200)])
@pytest.mark.parametrize("bias", [-0.03, -0.076])
def test_the_prediction_powered_interval_covers_whatever_the_judge_bias(n, m, bias):
    rng = np.random.default_rng(22)
    p, reps = 0.30, 800
    ppi_hits = judge_hits = 0
    widths = []
    for _ in range(reps):
        y, f = _judged(rng, n, p, bias)
        gold_ids = rng.choice(n, m, replace=False)
        est = ppi_mean({int(i): int(y[i]) for i in gold_ids}, {i: int(f[i]) for i in range(n)})
        truth = p  # the model's true help rate; the sample and the gold subset are both random
        ppi_hits += est.lo <= truth <= est.hi
        widths.append(est.hi - est.lo)
        judge = wilson(int(f.sum()), n)
        judge_hits += judge.lo <= truth <= judge.hi
    assert ppi_hits / reps >= FLOOR, ppi_hits / reps
    assert judge_hits / reps < 0.90, judge_hits / reps
    gold_alone = 2 * 1.96 * np.sqrt(p * (1 - p) / m)
    assert np.mean(widths) < gold_alone  # the cheap labels buy precision over the gold labels alone


def test_the_interval_is_ppi_py_s_to_the_last_digit():
    ppi_py = pytest.importorskip("ppi_py")
    rng = np.random.default_rng(3)
    y, f = (a.astype(float) for a in _judged(rng, 400, 0.3, -0.05))
    w = rng.uniform(0.5, 2.0, 400)
    for weights in ((w[:80], w[80:]), (None, None)):
        ours = ppi_at(y[:80], f[:80], f[80:],
                      *(np.ones(k) if x is None else x for x, k in zip(weights, (80, 320), strict=True)))
        lo, hi = ppi_py.ppi_mean_ci(y[:80], f[:80], f[80:], alpha=0.05, w=weights[0], w_unlabeled=weights[1])
        assert ours[1:] == pytest.approx((float(lo[0]), float(hi[0])), abs=1e-12)
        est = ppi_py.ppi_mean_pointestimate(y[:80], f[:80], f[80:], w=weights[0], w_unlabeled=weights[1])
        assert ours[0] == pytest.approx(float(np.ravel(est)[0]), abs=1e-12)
    # ppi_mean is the same estimator with a cross-fitted λ: close to it, and the wider for Student's t
    cross = ppi_mean({i: y[i] for i in range(80)}, {i: f[i] for i in range(400)})
    assert abs(cross.estimate - ours[0]) < 0.02 and cross.hi - cross.lo > ours[2] - ours[1]
    assert 0.0 <= cross.lam <= 1.0


def test_a_useless_judge_falls_back_to_the_gold_labels_and_too_few_gold_labels_give_no_interval():
    rng = np.random.default_rng(9)
    y = (rng.random(300) < 0.4).astype(int)
    noise = (rng.random(300) < 0.5).astype(int)  # a judge that knows nothing
    gold = {i: int(y[i]) for i in range(80)}
    est = ppi_mean(gold, {i: int(noise[i]) for i in range(300)})
    assert est.lam < 0.2  # power tuning all but ignores it
    lo, hi = gold_only(gold)
    assert est.hi - est.lo == pytest.approx(hi - lo, rel=0.15)
    few = ppi_mean({i: 1 for i in range(MIN_GOLD - 1)}, {i: 1 for i in range(300)})
    assert few.estimate is None and "needed" in few.fmt()


def test_the_planner_s_variance_is_the_simulated_one_and_its_plan_beats_every_other_split_of_the_budget():
    """ppi_variance against ppi_mean's own spread (seeded Monte Carlo), then plan_gold against brute force."""
    rng = np.random.default_rng(7)
    n, m, p = 400, 80, 0.30
    estimates = []
    ys = fs = None
    for _ in range(600):
        y, f = _judged(rng, n, p, bias=-0.03)
        gold_ids = rng.choice(n, m, replace=False)
        estimates.append(ppi_mean({int(i): int(y[i]) for i in gold_ids}, {i: int(f[i]) for i in range(n)}).estimate)
        ys, fs = (y, f) if ys is None else (np.concatenate([ys, y]), np.concatenate([fs, f]))
    rho = float(np.corrcoef(ys, fs)[0, 1])
    assert np.var(estimates) == pytest.approx(ppi_variance(p, rho, n, m), rel=0.2)

    budget, answer_cost, gold_cost = 30.0, 0.01, 0.10
    plan = plan_gold(budget, answer_cost, gold_cost, rho)
    assert plan.cost <= budget + 1e-9 and MIN_GOLD <= plan.m <= plan.n
    for m_other in range(MIN_GOLD, int(budget // (answer_cost + gold_cost)) + 1, 7):
        n_other = m_other + int((budget - m_other * (answer_cost + gold_cost)) // answer_cost)
        assert ppi_variance(p, rho, plan.n, plan.m) <= ppi_variance(p, rho, n_other, m_other) + 1e-15
    assert plan.half_width < plan.gold_only_half_width  # cheap labels on the rest beat gold on fewer
    # a useless cheap judge: every unit goes to gold labels; too small a budget: no plan
    useless = plan_gold(budget, answer_cost, gold_cost, rho=0.0)
    assert useless.m == useless.gold_only_n and useless.half_width == pytest.approx(useless.gold_only_half_width)
    assert plan_gold(MIN_GOLD * 0.1, answer_cost, gold_cost, rho) is None
    assert plan_gold(budget, answer_cost, gold_cost, rho, n_max=300).n == 300
    # edges: a budget that buys exactly MIN_GOLD gold labels (6 / 0.2 is 29.999… in floating point), a cap
    # below MIN_GOLD, a cap that binds (m stays below n: the estimator needs unlabelled answers), a negative ρ,
    # and gold labels that fall on defeated cases only in their share
    assert plan_gold(6, 0.0, 0.2, rho, n_max=1290).m == MIN_GOLD
    assert plan_gold(budget, answer_cost, gold_cost, rho, n_max=MIN_GOLD - 1) is None
    capped = plan_gold(10_000, answer_cost, gold_cost, rho, n_max=1290)
    assert capped.n == 1290 and capped.m == 1289
    assert plan_gold(budget, answer_cost, gold_cost, -0.9).half_width == pytest.approx(useless.half_width)
    share = plan_gold(budget, answer_cost, gold_cost, rho, defeated_share=0.8)
    assert share.half_width > plan.half_width and plan_gold(6, 0.0, 0.2, rho, n_max=1290, defeated_share=0.8) is None
    with pytest.raises(ValueError):
        plan_gold(budget, 0.0, gold_cost, rho)  # free answers and no cap: no plan to make

"""blindrefusal.analysis.stats against values worked out independently of the implementation.

Wilson intervals are computed here as the roots of the score-test quadratic (not the closed form the
module uses), the Newcombe differences are checked against the published worked examples
(Newcombe 1998, Statistics in Medicine 17:873, method 10), and kappa against hand-worked tables and
scikit-learn.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from blindrefusal.analysis.stats import (
    PAIRED_METHOD,
    Z95,
    cohen_kappa,
    confusion,
    diff_independent,
    paired_diff,
    tango_interval,
    wilson,
)

Z = 1.959963984540054  # the 97.5% normal quantile, written out


def wilson_roots(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Solve (p_hat - p)^2 = z^2 p (1 - p) / n for p: a (1 + z^2/n) p^2 - (2 p_hat + z^2/n) p + p_hat^2 = 0."""
    ph = k / n
    a = 1 + z * z / n
    b = -(2 * ph + z * z / n)
    c = ph * ph
    disc = math.sqrt(max(0.0, b * b - 4 * a * c))
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize("k, n, lo, hi", [
    (0, 10, 0.0, 0.2775),  # a zero count still gets a real upper bound
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (1, 29, 0.0061, 0.1718),
    (4774, 19430, 0.2397, 0.2518),  # the paper's defeated help rate: 24.6% (24.0-25.2)
])
def test_wilson_matches_hand_computed_intervals(k, n, lo, hi):
    r = wilson(k, n)
    assert (r.k, r.n) == (k, n)
    assert r.rate == pytest.approx(k / n)
    assert r.lo == pytest.approx(lo, abs=6e-5)
    assert r.hi == pytest.approx(hi, abs=6e-5)
    rlo, rhi = wilson_roots(k, n)
    assert r.lo == pytest.approx(rlo, abs=1e-12)
    assert r.hi == pytest.approx(rhi, abs=1e-12)
    assert Z95 == pytest.approx(Z)


@pytest.mark.parametrize("n", [10, 148])
def test_wilson_all_successes_has_upper_bound_exactly_one(n):
    r = wilson(n, n)
    assert r.lo <= r.rate <= r.hi
    assert r.hi == 1.0


def test_wilson_formatting_and_empty_groups():
    assert wilson(4774, 19430).fmt() == "24.6% (24.0–25.2), n = 19,430"
    assert wilson(0, 10).fmt() == "0.0% (0.0–27.8), n = 10"
    empty = wilson(0, 0)
    assert (empty.n, empty.rate, empty.lo, empty.hi) == (0, None, None, None)
    assert empty.fmt() == "— (n = 0)"
    assert empty.as_dict() == {"rate": None, "lo": None, "hi": None, "k": 0, "n": 0, "method": "Wilson score interval"}


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_properties(kn):
    k, n = kn
    r = wilson(k, n)
    assert 0.0 <= r.lo <= 1.0 and 0.0 <= r.hi <= 1.0
    assert r.lo - 1e-12 <= r.rate <= r.hi + 1e-12  # exact containment at k = n: see the xfail below
    mirror = wilson(n - k, n)  # the interval of the complement is the mirror image
    assert r.lo == pytest.approx(1 - mirror.hi, abs=1e-12)
    assert r.hi == pytest.approx(1 - mirror.lo, abs=1e-12)
    rlo, rhi = wilson_roots(k, n)
    assert r.lo == pytest.approx(rlo, abs=1e-9) and r.hi == pytest.approx(rhi, abs=1e-9)


def test_confusion_and_kappa_on_hand_worked_2x2():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert confusion(a, b, ["yes", "no"]) == [[20, 5], [10, 15]]
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_confusion_and_kappa_on_hand_worked_3x3():
    table = [[10, 2, 3], [1, 8, 1], [4, 1, 20]]
    classes = ["helps", "deflects", "hard_refusal"]
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [classes[i]] * count
            b += [classes[j]] * count
    rng = random.Random(7)
    pairs = list(zip(a, b, strict=True))
    rng.shuffle(pairs)  # order must not matter
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    assert confusion(a, b, classes) == table
    # p_o = 38/50; row sums 15,10,25; column sums 15,11,24; p_e = (225 + 110 + 600)/2500 = 0.374
    # kappa = (0.76 - 0.374)/(1 - 0.374) = 0.386/0.626 = 193/313
    assert cohen_kappa(a, b) == pytest.approx(193 / 313)
    # labels outside `classes` are ignored by confusion, not miscounted
    assert confusion(a + ["other"], b + ["helps"], classes) == table


@pytest.mark.parametrize("seed", range(8))
def test_kappa_agrees_with_sklearn_on_random_labels(seed):
    rng = random.Random(seed)
    labels = ["helps", "deflects", "hard_refusal"] if seed % 2 else [True, False]
    n = rng.randint(5, 400)
    a = [rng.choice(labels) for _ in range(n)]
    # a second rater who agrees about 70% of the time, sometimes using a class the first never used
    b = [x if rng.random() < 0.7 else rng.choice(labels) for x in a]
    if seed == 3:
        b[0] = "unjudged"
    expected = cohen_kappa_score(a, b)
    if math.isnan(expected):
        pytest.skip("degenerate draw")
    assert cohen_kappa(a, b) == pytest.approx(expected, abs=1e-12)


def test_kappa_edge_cases():
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0  # one class used by both: perfect agreement
    # systematic disagreement is negative
    assert cohen_kappa(["a", "b"] * 10, ["b", "a"] * 10) == pytest.approx(-1.0)


def test_paired_diff_identical_sequences_are_not_different():
    x = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1] * 5
    res = paired_diff(x, list(x))
    # no discordant pair: the score interval is symmetric and still admits a small difference either way
    assert res.diff == 0.0 and res.n == 50 and res.significant is False
    assert res.lo == pytest.approx(-res.hi) and 0.06 < res.hi < 0.10  # wider with the continuity correction
    assert res.as_dict()["method"] == PAIRED_METHOD


def test_paired_diff_is_tangos_score_interval():
    # b = 10, c = 0, n = 100: Tango's interval is [+5.5, +17.4] pp (issue 21's worked example); the old rescaled
    # Clopper–Pearson interval gave [+3.8, +10.0], its far limit collapsed onto the estimate.
    res = paired_diff([1] * 10 + [0] * 90, [0] * 100)
    assert res.diff == pytest.approx(0.10)
    assert tuple(round(v, 3) for v in tango_interval(10, 0, 100, cc=0)) == (0.055, 0.174)  # without the correction
    assert (round(res.lo, 3), round(res.hi, 3)) == (0.050, 0.180)  # with it: half a pair wider each way
    # 4 of 4 discordant for x: the corrected score interval reaches 1 and, like the exact test, does not exclude 0
    small = paired_diff([1, 1, 1, 1], [0, 0, 0, 0])
    assert small.diff == 1.0 and small.hi == 1.0 and -0.15 < small.lo < 0 and not small.significant
    assert paired_diff([0] * 6 + [0] * 4, [1] * 6 + [0] * 4).hi < 0  # and the mirror image


def test_paired_diff_detects_a_clear_difference_both_ways():
    rng = random.Random(11)
    x = [1 if rng.random() < 0.8 else 0 for _ in range(200)]
    y = [1 if rng.random() < 0.3 else 0 for _ in range(200)]
    res = paired_diff(x, y)
    expected = (sum(x) - sum(y)) / 200
    assert res.diff == pytest.approx(expected) and res.n == 200
    assert 0 < res.lo <= res.diff <= res.hi < 1 and res.significant is True
    rev = paired_diff(y, x)
    assert rev.diff == pytest.approx(-expected) and rev.hi < 0 and rev.significant is True
    z = list(x)
    z[0] = 1 - z[0]
    small = paired_diff(x, z)  # one discordant pair
    assert abs(small.diff) == pytest.approx(1 / 200)
    assert small.lo <= 0 <= small.hi and small.significant is False


def test_paired_diff_rejects_unpaired_or_empty_input():
    assert paired_diff([], []).diff is None
    res = paired_diff([1, 0, 1], [1, 0])
    assert res.diff is None and res.significant is False


def test_diff_independent_matches_newcombe_worked_examples():
    d = diff_independent(wilson(56, 70), wilson(48, 80))
    assert d.diff == pytest.approx(0.2)
    assert (round(d.lo, 4), round(d.hi, 4)) == (0.0524, 0.3339)
    d = diff_independent(wilson(9, 10), wilson(3, 10))
    assert (round(d.lo, 4), round(d.hi, 4)) == (0.1705, 0.8090)


def test_diff_independent_sign_symmetry_and_empty_groups():
    a, b = wilson(30, 100), wilson(60, 120)
    ab, ba = diff_independent(a, b), diff_independent(b, a)
    assert ab.diff == pytest.approx(0.3 - 0.5)
    assert ab.lo <= ab.diff <= ab.hi < 0  # a is clearly lower
    assert ba.diff == pytest.approx(-ab.diff)
    assert ba.lo == pytest.approx(-ab.hi) and ba.hi == pytest.approx(-ab.lo)
    same = diff_independent(wilson(5, 10), wilson(5, 10))
    assert same.diff == 0 and same.lo < 0 < same.hi
    assert diff_independent(wilson(0, 0), b).as_dict() == {"diff": None, "lo": None, "hi": None, "significant": False,
                                                            "method": "Newcombe's hybrid score interval"}
    assert diff_independent(a, wilson(0, 0)).diff is None


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 5000), st.floats(0, 1), st.floats(0, 1))
def test_diff_independent_interval_contains_estimate(n1, n2, f1, f2):
    a, b = wilson(round(f1 * n1), n1), wilson(round(f2 * n2), n2)
    d = diff_independent(a, b)
    assert -1 - 1e-12 <= d.lo <= d.diff <= d.hi <= 1 + 1e-12


def test_kappa_interval_covers_the_estimate_and_narrows_with_n():
    import random

    from blindrefusal.analysis.stats import cohen_kappa, kappa_interval

    rng = random.Random(3)
    widths = []
    for n in (20, 200, 2000):
        a = [rng.choice("abc") for _ in range(n)]
        b = [x if rng.random() < 0.8 else rng.choice("abc") for x in a]
        lo, hi = kappa_interval(a, b)
        assert lo <= cohen_kappa(a, b) <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2] and widths[2] < 0.06
    assert kappa_interval(["a"], ["a"]) is None  # one pair: no interval, and the page says it is too few

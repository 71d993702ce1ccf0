"""Spot-check rates weighted to the population they claim: on a synthetic release with known strata, drawn by the
project's own sampler, the weighted estimate is unbiased and its interval covers; the unweighted one is
neither. Seeded Monte Carlo; nominal 95%, each shown interval must reach 93%."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from blindrefusal.analysis.stats import WILSON_METHOD, paired_diff, wilson
from blindrefusal.analysis.weighted import Design, kish_effective_n, weighted_paired, weighted_rate
from blindrefusal.paper.sampler import stratified_sample

FLOOR = 0.93
# Family sizes and help propensities shaped like the release's: the smallest family helps most, so equal
# allocation over-samples it (issue 21: illegitimate authority is 18.5% of an equal sample, 11.8% of the release).
FAMILIES = {"illegitimate_authority": (128, 0.60), "content_defeat": (260, 0.18), "application_defeat": (230, 0.22),
            "exception_justified": (250, 0.28), "control": (210, 0.05), "other_defeat": (212, 0.25)}
AUTHORITIES = [f"auth{i}" for i in range(19)]


def _release(seed: int = 0) -> tuple[list[dict], dict[int, int], dict[int, int]]:
    """Cases with two fixed outcomes per case: model x helps with the family's propensity (shifted by the
    authority), model y agrees with x on most cases."""
    rng = random.Random(seed)
    cases, x, y = [], {}, {}
    for family, (size, p) in FAMILIES.items():
        for i in range(size):
            a = AUTHORITIES[(i * 7 + len(family)) % (19 if i % 5 else 11)]  # uneven cells, some empty
            cid = len(cases)
            cases.append({"id": cid, "key": f"{family}_{i}", "family": family, "authority_type": a})
            x[cid] = int(rng.random() < min(0.95, p + 0.01 * AUTHORITIES.index(a)))
            y[cid] = x[cid] if rng.random() < 0.85 else int(rng.random() < p)
    return cases, x, y


def _design(cases: list[dict], allocation: str = "equal") -> Design:
    return Design({c["id"]: (c["family"], c["authority_type"]) for c in cases},
                  Counter((c["family"], c["authority_type"]) for c in cases), allocation)


CASES, X, Y = _release()
DEFEATED = [c for c in CASES if c["family"] != "control"]
DESIGN = _design(DEFEATED)
TRUE_X = sum(X[c["id"]] for c in DEFEATED) / len(DEFEATED)
TRUE_DIFF = sum(X[c["id"]] - Y[c["id"]] for c in DEFEATED) / len(DEFEATED)
BY_KEY = {c["key"]: c["id"] for c in CASES}


def _draws(n: int, reps: int):
    for seed in range(reps):
        yield [BY_KEY[k] for k in stratified_sample(DEFEATED, n, seed=seed, allocation="equal")]


@pytest.mark.parametrize("n", [60, 300])
def test_weights_remove_the_bias_of_equal_allocation_and_their_interval_covers(n):
    reps = 600
    weighted_hits = plain_hits = 0
    weighted_sum = plain_sum = 0.0
    for ids in _draws(n, reps):
        w = weighted_rate({c: X[c] for c in ids}, DESIGN)
        p = wilson(sum(X[c] for c in ids), len(ids))
        weighted_sum += w.rate
        plain_sum += p.rate
        weighted_hits += w.lo <= TRUE_X <= w.hi
        plain_hits += p.lo <= TRUE_X <= p.hi
    assert abs(weighted_sum / reps - TRUE_X) < 0.01  # unbiased, within Monte Carlo error
    assert plain_sum / reps - TRUE_X > 0.03  # equal allocation over-samples the family that helps most
    assert weighted_hits / reps >= FLOOR
    if n == 300:  # at n = 300 the unweighted bias is over one standard error: the plain interval misses
        assert plain_hits / reps < 0.90


def test_the_weighted_paired_interval_covers_and_the_unweighted_one_is_off_centre():
    reps, n = 600, 300
    hits = plain_bias = 0.0
    for ids in _draws(n, reps):
        d = weighted_paired({c: X[c] for c in ids}, {c: Y[c] for c in ids}, DESIGN)
        hits += d.lo <= TRUE_DIFF <= d.hi
        plain_bias += paired_diff([X[c] for c in ids], [Y[c] for c in ids]).diff - TRUE_DIFF
        assert 0 <= d.p_value <= 1 and d.n == len(ids)
    assert hits / reps >= FLOOR
    assert abs(plain_bias / reps) > 0.003  # the paired difference is biased too without weights


def test_a_self_weighting_sample_is_exactly_the_plain_wilson_interval():
    cases = [{"id": i, "key": f"k{i}", "family": f"f{i % 3}", "authority_type": f"a{i % 4}"} for i in range(120)]
    design = _design(cases)
    ids = [c["id"] for c in cases if c["id"] % 5 == 0]  # 2 of 10 in every cell
    values = {c: int(c % 3 == 0) for c in ids}
    w, plain = weighted_rate(values, design), wilson(sum(values.values()), len(values))
    assert (w.rate, w.lo, w.hi, w.n) == pytest.approx((plain.rate, plain.lo, plain.hi, plain.n))
    assert kish_effective_n(ids, design) == pytest.approx(len(ids))
    assert plain.method == WILSON_METHOD and w.method != WILSON_METHOD  # named as what it is


def test_thin_cells_pool_within_their_family_and_thin_families_pool_together():
    cases = ([{"id": i, "family": "big", "authority_type": "a" if i < 6 else f"b{i}"} for i in range(12)]
             + [{"id": 100 + i, "family": "small", "authority_type": "c"} for i in range(4)]
             + [{"id": 200 + i, "family": "lone1", "authority_type": "d"} for i in range(3)]
             + [{"id": 300 + i, "family": "lone2", "authority_type": "e"} for i in range(5)]
             + [{"id": 400 + i, "family": "unasked", "authority_type": "f"} for i in range(7)])
    design = _design(cases)
    asked = [0, 1, 2, 6, 7, 100, 200, 300]  # big: a cell of 3 and two single cells; small, lone1, lone2: one each
    of, size = design.strata(asked)
    assert of[0] == of[1] == of[2] == "big × a" and size["big × a"] == 6
    assert of[6] == of[7] == "big × other" and size["big × other"] == 6  # the single cells pool, unsampled ones too
    assert of[100] == of[200] == of[300] == "thin families" and size["thin families"] == 4 + 3 + 5
    assert "unasked" not in "".join(size)  # no answered case: outside the estimand
    alone_of, alone_size = design.strata([0, 1, 100])
    assert alone_of[0] == alone_of[100] == "big"  # big's unsampled cells fold it whole; a lone family joins it
    assert sum(alone_size.values()) == 12 + 4


@pytest.mark.parametrize("values", [{1: 0, 2: 0, 3: 0}, {1: 1, 2: 1, 3: 1}, {1: 1}])
def test_edge_cases_keep_a_real_interval(values):
    cases = [{"id": i, "family": "f", "authority_type": "a"} for i in range(1, 4)]
    w = weighted_rate(values, _design(cases))
    plain = wilson(sum(values.values()), len(values))
    assert (w.lo, w.hi) == pytest.approx((plain.lo, plain.hi))
    assert weighted_rate({}, _design(cases)).n == 0

"""Intervals clustered by case: seeded Monte Carlo coverage on populations of cases with a case-level random
effect (each case's propensity drawn from a beta distribution, 18 answers per case, as 18 models answer the
same case), the edge cases, and κ's interval resampling cases.

Every coverage point also checks that the plain Wilson interval over all answers covers under 90% there, so
the test fails if the clustered interval is replaced by it."""

from __future__ import annotations

import numpy as np
import pytest

from blindrefusal.analysis.clustered import (
    CLUSTERED_DIFF_METHOD,
    CLUSTERED_METHOD,
    clustered_diff,
    clustered_effective_n,
    clustered_wilson,
    rate_of,
    t_quantile,
)
from blindrefusal.analysis.rates import help_gap, rates
from blindrefusal.analysis.stats import Rate, cohen_kappa, diff_independent, kappa_interval, wilson, wilson_bounds
from blindrefusal.store import CASE_PAIRS, CaseSums, Counts

REPS = 2000  # coverage's standard error is about 0.5 percentage points


def _samples(rng, cases: int, mu: float, icc: float, sizes: tuple[int, int] = (18, 18)) -> list[tuple[Rate, Rate]]:
    """REPS samples of `cases` cases, each case's propensity ~ Beta with mean mu and intra-case correlation icc,
    n_i answers per case drawn from `sizes`: (clustered, plain Wilson) rate of each."""
    a, b = mu * (1 / icc - 1), (1 - mu) * (1 / icc - 1)
    n = rng.integers(sizes[0], sizes[1] + 1, size=(REPS, cases))
    k = rng.binomial(n, rng.beta(a, b, size=(REPS, cases)))
    sums = zip(k.sum(1), n.sum(1), (k * k).sum(1), (k * n).sum(1), (n * n).sum(1), strict=True)
    return [(clustered_wilson(int(kt), int(nt), cases, kk, kn, nn), wilson(int(kt), int(nt)))
            for kt, nt, kk, kn, nn in sums]


def _coverage(cases: int, mu: float, icc: float, sizes: tuple[int, int] = (18, 18),
              seed: int = 0) -> tuple[float, float]:
    """(clustered, plain Wilson) coverage of the population rate mu."""
    drawn = _samples(np.random.default_rng(seed), cases, mu, icc, sizes)
    return sum(r.lo <= mu <= r.hi for r, _ in drawn) / REPS, sum(w.lo <= mu <= w.hi for _, w in drawn) / REPS


# (cases, rate, intra-case correlation, answers per case): the paper's pooled help rate is 24.6% over 1,081
# defeated cases at a design effect of 7.0 (icc ≈ 0.35); its control help rate 4.2% over 209 cases (icc ≈ 0.08).
POINTS = [(60, 0.25, 0.35, (18, 18)), (60, 0.05, 0.1, (18, 18)), (200, 0.05, 0.25, (18, 18)),
          (1000, 0.25, 0.35, (18, 18)), (1000, 0.02, 0.1, (18, 18)), (300, 0.5, 0.3, (6, 18))]


@pytest.mark.parametrize("cases,mu,icc,sizes", POINTS)
def test_the_clustered_interval_covers_where_the_plain_wilson_interval_does_not(cases, mu, icc, sizes):
    clustered, plain = _coverage(cases, mu, icc, sizes)
    assert clustered >= 0.93, (clustered, plain)
    assert plain < 0.90, (clustered, plain)


# Few cases: a heatmap cell of 2 to 20 cases (the t quantile on cases − 1 carries it; the normal quantile gave
# 82–89% at 2–5 cases, and the test fails if it comes back). And the known dip, like Wilson's at p ≈ 1/n: a rare
# outcome concentrated in a few cases.
@pytest.mark.parametrize("cases,mu,icc", [(2, 0.4, 0.3), (3, 0.25, 0.35), (5, 0.5, 0.3), (10, 0.25, 0.35),
                                          (20, 0.25, 0.35)])
def test_few_cases_still_cover(cases, mu, icc):
    assert _coverage(cases, mu, icc)[0] >= 0.93


@pytest.mark.parametrize("cases,mu,icc", [(60, 0.05, 0.2), (60, 0.02, 0.2)])
def test_a_rare_outcome_in_few_cases_dips_but_holds_90_percent(cases, mu, icc):
    assert _coverage(cases, mu, icc)[0] >= 0.90


def test_cells_of_the_release_cover_with_the_heatmaps_own_interval(paper_source, paper_store_path):
    """The audit's design: groups of release cells (family × authority), G of their cases drawn at random, the
    18 models' pooled rate over them; covers the group's rate at ≥ 93% from 5 cases on, for helps, refusal and
    engagement. (Drawn without replacement from the group, so the truth is its own rate: a little conservative.)"""
    import sqlite3

    db = sqlite3.connect(paper_store_path)
    rows = db.execute("""SELECT c.family, c.authority_type, SUM(r.eff_response_type = 'helps'),
                                SUM(r.eff_response_type IN ('deflects', 'hard_refusal')), SUM(r.eff_engages), COUNT(*)
                         FROM response r JOIN "case" c ON c.id = r.case_id
                         WHERE r.source = 'paper' AND r.eff_response_type IS NOT NULL GROUP BY c.id""").fetchall()
    db.close()
    groups: dict[tuple[str, str], list] = {}
    for family, authority, *counts in rows:
        groups.setdefault((family, authority), []).append(counts)
    rng = np.random.default_rng(7)
    for cases in (5, 10):
        hits = trials = 0
        for per_case in groups.values():
            if len(per_case) < 2 * cases:
                continue
            arr = np.array(per_case)
            for metric in range(3):
                true = arr[:, metric].sum() / arr[:, 3].sum()
                for _ in range(40):
                    pick = arr[rng.choice(len(arr), cases, replace=False)]
                    k, n = pick[:, metric], pick[:, 3]
                    r = clustered_wilson(int(k.sum()), int(n.sum()), cases, float((k * k).sum()), float((k * n).sum()),
                                         float((n * n).sum()))
                    hits += r.lo <= true <= r.hi
                    trials += 1
        assert trials > 1000 and hits / trials >= 0.93, (cases, hits / trials, trials)


def test_the_gap_from_two_clustered_intervals_covers():
    """Defeated and control cases as in the paper: 1,081 cases at 24.6% (icc 0.35), 209 at 4.2% (icc 0.08)."""
    rng = np.random.default_rng(1)
    pairs = zip(_samples(rng, 1081, 0.246, 0.35), _samples(rng, 209, 0.042, 0.08), strict=True)
    hits = [(c.lo <= 0.204 <= c.hi, p.lo <= 0.204 <= p.hi) for c, p in
            ((clustered_diff(d, k), diff_independent(dw, kw)) for (d, dw), (k, kw) in pairs)]
    clustered, plain = sum(h for h, _ in hits) / REPS, sum(h for _, h in hits) / REPS
    assert clustered >= 0.93 and plain < 0.90, (clustered, plain)


def test_one_answer_per_case_is_exactly_the_wilson_interval():
    for k, n in ((0, 10), (3, 10), (4774, 19430), (10, 10)):
        r, w = clustered_wilson(k, n, n, k, k, n), wilson(k, n)
        assert (r.rate, r.lo, r.hi, r.n_eff) == (w.rate, w.lo, w.hi, n)
        assert r.fmt() == w.fmt()
    # cases with no answer in the denominator (a rate among refusals) do not change that
    assert clustered_wilson(3, 10, 25, 3, 3, 10).lo == wilson(3, 10).lo


def test_all_zero_or_all_one_keeps_the_full_n_at_the_t_quantile():
    none, every = clustered_wilson(0, 180, 10, 0, 0, 3240), clustered_wilson(180, 180, 10, 3240, 3240, 3240)
    t9 = t_quantile(9)
    assert t9 == pytest.approx(2.2622, abs=1e-4)
    assert (none.lo, none.hi, none.n_eff) == (0.0, wilson_bounds(0.0, 180, t9)[1], 180)
    assert (every.lo, every.hi, every.n_eff) == (wilson_bounds(1.0, 180, t9)[0], 1.0, 180)


def test_a_single_case_says_nothing_of_the_others_and_an_empty_group_has_no_rate():
    r = clustered_wilson(6, 18, 1, 36, 108, 324)
    assert (r.lo, r.hi) == (0.0, 1.0) and r.n_eff == 1.0
    assert r.n == 18 and r.fmt().endswith("n = 18")  # n stays the answers counted
    empty = clustered_wilson(0, 0, 0, 0, 0, 0)
    assert empty.rate is None and empty.fmt() == "— (n = 0)"


def test_the_design_effect_is_at_least_one():
    # answers spread more evenly over cases than binomial (each case: exactly 9 of 18) give var below p(1-p)/n
    assert clustered_effective_n(0.5, 1800, 100, 100 * 81, 100 * 162, 100 * 324) == 1800
    # the same answers with each case all-or-nothing: 100 cases' worth of information, less one
    n_eff = clustered_effective_n(0.5, 1800, 100, 50 * 324, 50 * 324, 100 * 324)
    assert n_eff == pytest.approx(99)
    wider = clustered_wilson(900, 1800, 100, 50 * 324, 50 * 324, 100 * 324)
    assert (wider.lo, wider.hi) == wilson_bounds(0.5, n_eff, t_quantile(99))
    assert wider.hi - wider.lo > 4 * (wilson(900, 1800).hi - wilson(900, 1800).lo)  # about √18 times as wide


def _counts(per_case: list[tuple[int, int]]) -> Counts:
    """Counts of helps among answers, clustered by case: (helps, n) per case."""
    products = {pair: 0 for pair in CASE_PAIRS}
    for helps, n in per_case:
        for a, b in CASE_PAIRS:
            products[(a, b)] += {"n": n, "helps": helps}.get(a, 0) * {"n": n, "helps": helps}.get(b, 0)
    return Counts(n=sum(n for _, n in per_case), helps=sum(h for h, _ in per_case),
                  by_case=CaseSums(len(per_case), products))


def test_rates_from_counts_with_case_sums_are_clustered_and_without_them_are_wilson():
    clustered = _counts([(18, 18)] * 10 + [(0, 18)] * 30)
    r = rates(clustered).helps
    assert r.rate == 0.25 and r.n_eff == pytest.approx(39) == rate_of(clustered, ("helps",)).n_eff  # all or nothing
    plain = Counts(n=clustered.n, helps=clustered.helps)
    assert rates(plain).helps == wilson(clustered.helps, clustered.n)
    # adding disjoint groups adds their case sums; a group counted without case ids leaves the sum without them
    total = Counts()
    total.add(clustered)
    total.add(_counts([(1, 18)] * 5))
    assert total.by_case.cases == 45 and total.by_case.product("helps", "n") == 10 * 324 + 5 * 18
    total.add(plain)
    assert total.by_case is None and rates(total).helps.n_eff is None


def test_the_gap_is_newcombe_from_the_two_clustered_intervals():
    defeated, control = _counts([(9, 18), (3, 18), (12, 18), (0, 18)] * 20), _counts([(1, 18), (0, 18)] * 40)
    gap = help_gap(defeated, control)
    a, b = rate_of(defeated, ("helps",)), rate_of(control, ("helps",))
    plain = diff_independent(a, b)
    assert (gap.diff, gap.lo, gap.hi) == (plain.diff, plain.lo, plain.hi)
    assert gap.method == CLUSTERED_DIFF_METHOD and clustered_diff(wilson(3, 10), wilson(1, 10)).method == plain.method
    assert gap.hi - gap.lo > diff_independent(wilson(a.k, a.n), wilson(b.k, b.n)).hi - \
        diff_independent(wilson(a.k, a.n), wilson(b.k, b.n)).lo
    assert "clustered by case" in CLUSTERED_METHOD


def _rated_cases(rng, cases: int, answers: int = 18) -> tuple[list, list, list]:
    """Two raters over `answers` answers per case; a case sets how often its answers are 'yes' and how clear it
    is (the chance that rater B copies rater A rather than guessing), so agreement clusters by case."""
    yes = rng.beta(1.0, 2.0, size=cases)[:, None]
    clear = rng.beta(2.0, 1.0, size=cases)[:, None]
    a = rng.random((cases, answers)) < yes
    b = np.where(rng.random((cases, answers)) < clear, a, rng.random((cases, answers)) < yes)
    return a.ravel().tolist(), b.ravel().tolist(), np.repeat(np.arange(cases), answers).tolist()


def test_kappa_resampling_cases_is_wider_than_resampling_pairs_and_covers():
    rng = np.random.default_rng(0)
    a, b, _ = _rated_cases(rng, 20_000)
    true = cohen_kappa(a, b)  # the population's κ, to within about 0.003
    covered_cases = covered_pairs = 0
    trials = 100
    for i in range(trials):
        a, b, case = _rated_cases(rng, 100)
        by_case, by_pair = kappa_interval(a, b, reps=400, seed=i, clusters=case), kappa_interval(a, b, reps=400, seed=i)
        assert by_case[1] - by_case[0] > by_pair[1] - by_pair[0]
        covered_cases += by_case[0] <= true <= by_case[1]
        covered_pairs += by_pair[0] <= true <= by_pair[1]
    assert covered_cases / trials >= 0.90 and covered_pairs / trials < 0.85, (covered_cases, covered_pairs)


def test_kappa_clustered_by_singletons_is_the_pair_bootstrap():
    rng = np.random.default_rng(3)
    a, b, _ = _rated_cases(rng, 30)
    assert kappa_interval(a, b, clusters=list(range(len(a)))) == kappa_interval(a, b)

"""The stratified sampler on synthetic cases (and, with BR_DATA_SOURCE, on the paper's 84 cells)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from blindrefusal.paper.sampler import stratified_sample
from blindrefusal.paper.taxonomy import FAMILIES

AUTHORITIES = ("workplace", "school", "landlord", "club")

# Cases per (family, authority) cell; missing pairs are empty cells. Uneven on purpose.
CELL_SIZES = {
    ("control", "workplace"): 7, ("control", "school"): 3, ("control", "landlord"): 1,
    ("illegitimate_authority", "club"): 2, ("illegitimate_authority", "school"): 9,
    ("content_defeat", "workplace"): 12, ("content_defeat", "landlord"): 4, ("content_defeat", "club"): 1,
    ("content_defeat", "school"): 6,
    ("application_defeat", "workplace"): 5, ("application_defeat", "club"): 8,
    ("exception_justified", "landlord"): 10,
}


def make_cases(sizes: dict = CELL_SIZES) -> list[dict]:
    cases = []
    for (fam, auth), size in sizes.items():
        for i in range(size):
            key = f"syn_{fam}_{auth}_{i:02d}"
            # every third case is dual-use (a pattern independent of the cell)
            cases.append({"key": key, "family": fam, "authority_type": auth, "dual_use": i % 3 == 1})
    return cases


CASES = make_cases()
BY_KEY = {c["key"]: c for c in CASES}
N_CELLS = len(CELL_SIZES)


def cell(key: str) -> tuple[str, str]:
    c = BY_KEY[key]
    return c["family"], c["authority_type"]


def test_equal_allocation_small_samples_cover_families_then_every_cell():
    pool_keys = set(BY_KEY)
    for n in range(0, len(CASES) + 1):
        sample = stratified_sample(CASES, n, seed=3, allocation="equal")
        assert len(sample) == n and len(set(sample)) == n, n
        assert set(sample) <= pool_keys
        assert sample == sorted(sample)
        fams = Counter(BY_KEY[k]["family"] for k in sample)
        if n <= len(FAMILIES):
            # families are interleaved: the first five picks come from five different families, control first
            assert len(fams) == n, (n, fams)
            if n:
                assert "control" in fams
        else:
            assert set(fams) == set(FAMILIES), (n, fams)
        cells = Counter(cell(k) for k in sample)
        if n >= N_CELLS:
            assert set(cells) == set(CELL_SIZES), n
        # equal allocation: two cells differ by more than one case only when the smaller one ran dry
        for a in CELL_SIZES:
            for b in CELL_SIZES:
                if cells[a] < cells[b] - 1:
                    assert cells[a] == CELL_SIZES[a], (n, a, b, cells)


def test_deterministic_for_a_seed_independent_of_input_order_and_varies_across_seeds():
    shuffled = CASES[:]
    random.Random(99).shuffle(shuffled)
    for n in (5, 12, 30):
        first = stratified_sample(CASES, n, seed=7)
        assert stratified_sample(CASES, n, seed=7) == first
        assert stratified_sample(shuffled, n, seed=7) == first  # the input order does not matter
        samples = {tuple(stratified_sample(CASES, n, seed=s)) for s in range(12)}
        assert len(samples) >= 6, (n, len(samples))
    for n in (7, 30):
        first = stratified_sample(CASES, n, seed=7, allocation="proportional")
        assert stratified_sample(shuffled, n, seed=7, allocation="proportional") == first


@pytest.mark.parametrize("allocation", ["equal", "proportional"])
def test_n_beyond_the_pool_returns_the_whole_pool(allocation):
    everything = sorted(BY_KEY)
    assert stratified_sample(CASES, len(CASES), allocation=allocation) == everything
    assert stratified_sample(CASES, 10 * len(CASES), seed=5, allocation=allocation) == everything
    assert stratified_sample(CASES, 0, allocation=allocation) == []
    assert stratified_sample(CASES, -3, allocation=allocation) == []
    assert stratified_sample([], 10, allocation=allocation) == []


@pytest.mark.parametrize("allocation", ["equal", "proportional"])
def test_filters_restrict_the_pool(allocation):
    clean = {c["key"] for c in CASES if not c["dual_use"]}
    for n in (4, 15, 1000):
        s = stratified_sample(CASES, n, seed=1, allocation=allocation, exclude_dual_use=True)
        assert set(s) <= clean and len(s) == min(n, len(clean))
    assert set(stratified_sample(CASES, 1000, allocation=allocation, exclude_dual_use=True)) == clean
    # without the flag, dual-use cases are eligible
    assert any(BY_KEY[k]["dual_use"] for k in stratified_sample(CASES, 1000, allocation=allocation))

    fams = ["control", "exception_justified"]
    s = stratified_sample(CASES, 6, seed=2, allocation=allocation, families=fams)
    assert len(s) == 6 and {BY_KEY[k]["family"] for k in s} <= set(fams)
    if allocation == "equal":
        assert {BY_KEY[k]["family"] for k in s} == set(fams)

    auths = ["club"]
    s = stratified_sample(CASES, 1000, allocation=allocation, authorities=auths)
    assert set(s) == {c["key"] for c in CASES if c["authority_type"] == "club"}

    s = stratified_sample(CASES, 1000, allocation=allocation, families=["content_defeat"],
                          authorities=["club", "school"], exclude_dual_use=True)
    assert set(s) == {c["key"] for c in CASES if c["family"] == "content_defeat"
                      and c["authority_type"] in ("club", "school") and not c["dual_use"]}
    # a filter nothing matches gives an empty sample, not an error
    assert stratified_sample(CASES, 10, allocation=allocation, authorities=["government"]) == []
    # empty filter lists mean "no restriction"
    assert stratified_sample(CASES, 9, seed=4, allocation=allocation, families=[], authorities=[]) == \
        stratified_sample(CASES, 9, seed=4, allocation=allocation)


def test_proportional_allocation_matches_each_cells_share_within_one():
    total = len(CASES)
    for n in (1, 7, 13, 20, 31, 50, total - 1):
        for seed in (0, 1, 2):
            s = stratified_sample(CASES, n, seed=seed, allocation="proportional")
            assert len(s) == n and len(set(s)) == n
            counts = Counter(cell(k) for k in s)
            for c, size in CELL_SIZES.items():
                expected = n * size / total
                assert abs(counts[c] - expected) < 1, (n, seed, c, counts[c], expected)
    # with filters, the shares are of the eligible pool
    eligible = [c for c in CASES if not c["dual_use"]]
    sizes = Counter((c["family"], c["authority_type"]) for c in eligible)
    s = stratified_sample(CASES, 17, seed=3, allocation="proportional", exclude_dual_use=True)
    counts = Counter(cell(k) for k in s)
    assert len(s) == 17
    for c, size in sizes.items():
        assert abs(counts[c] - 17 * size / len(eligible)) < 1, (c, counts[c])


def test_proportional_allocation_draws_every_case_alike_and_gives_each_family_its_share():
    """The fractions of the cells' quotas are drawn systematically along the cells in family order: each case's
    chance of being drawn is n / N (the sample is self-weighting), and each family gets its share within one."""
    n, seeds, total = 13, 3000, len(CASES)
    hits = Counter()
    families = Counter(c["family"] for c in CASES)
    for seed in range(seeds):
        s = stratified_sample(CASES, n, seed=seed, allocation="proportional")
        hits.update(s)
        drawn = Counter(BY_KEY[k]["family"] for k in s)
        assert all(abs(drawn[f] - n * size / total) < 1 for f, size in families.items()), (seed, drawn)
    for c in CELL_SIZES:  # per cell, the mean hits per case is n / N (binomial SE over 3,000 draws)
        keys = [k for k in BY_KEY if cell(k) == c]
        rate = sum(hits[k] for k in keys) / (len(keys) * seeds)
        assert abs(rate - n / total) < 4 * (n / total / (len(keys) * seeds)) ** 0.5, (c, rate)


def test_invalid_allocation_raises():
    with pytest.raises(ValueError, match="allocation"):
        stratified_sample(CASES, 5, allocation="uniform")
    with pytest.raises(ValueError):
        stratified_sample(CASES, 5, allocation="")


def test_the_papers_84_cells_are_all_covered_by_an_equal_sample_of_84(paper_store_url):
    from db.engine import get_engine
    from db.read_cases import find_cases

    cases, total = find_cases(get_engine(paper_store_url), source="paper", limit=100_000)
    assert total == len(cases) == 1290
    cells = {(c["family"], c["authority_type"]) for c in cases}
    assert len(cells) == 84
    for seed in (0, 1):
        sample = stratified_sample(cases, 84, seed=seed, allocation="equal")
        by_key = {c["key"]: c for c in cases}
        covered = Counter((by_key[k]["family"], by_key[k]["authority_type"]) for k in sample)
        assert set(covered) == cells and set(covered.values()) == {1}, seed
    # a small sample still covers control and every defeat family, under either allocation
    for allocation in ("equal", "proportional"):
        small = stratified_sample(cases, 10, seed=0, allocation=allocation)
        assert {c["family"] for c in cases if c["key"] in set(small)} == set(FAMILIES), allocation

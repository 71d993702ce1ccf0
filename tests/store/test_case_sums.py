"""The per-case sums every aggregate group carries (Counts.by_case), on both backends: derived here from the
fixture's tables plus spot-check answers that put a second and a third answer of one model on one case, for
every path through the SQL (rows already one per case, rows grouped by case, the per-response path)."""

from __future__ import annotations

import pytest

from blindrefusal import store as q
from blindrefusal.analysis.rates import rates
from blindrefusal.analysis.stats import wilson
from db.records import JudgmentRow, ResponseRow
from db.writes import create_run, save_responses
from tests.store.test_queries import as_tuple, judged_rows
from tests.support.release_fixture import CASES
from vocabulary import COUNT_FIELDS, EFFECTIVE

# (fixture case index, model, response type, engages, harm): model-a answers case 3 twice more, case 6 once more
SPOT = [(3, "model-a", "helps", True, False), (3, "model-a", "deflects", True, False),
        (6, "model-a", "hard_refusal", False, False), (0, "model-b", "helps", False, False)]


def _answers() -> list[tuple[int, dict, dict]]:
    """(case, dimension values, per-answer counts) for every judged answer: the fixture's and SPOT's."""
    out = []
    paper = [(r.case, r.model, r.family, r.group, "paper", r.rt, r.engages, r.harm) for r in judged_rows()]
    group = {r.case: (r.family, r.group) for r in judged_rows()}
    spot = [(i, m, *group[i], "spot_check", rt, eng, harm) for i, m, rt, eng, harm in SPOT]
    for case, model, family, grp, source, rt, eng, harm in paper + spot:
        refused = rt != "helps"
        counts = {"n": 1, "helps": rt == "helps", "deflects": rt == "deflects", "hard_refusal": rt == "hard_refusal",
                  "engages": eng, "blind": refused and not eng and not harm, "refused_engaged": refused and eng}
        dims = {"model": model, "family": family, "authority_group": grp, "source": source}
        out.append((case, dims, {k: int(v) for k, v in counts.items()}))
    return out


def _expected(dims: list[str], sources: set[str]) -> dict[tuple, tuple]:
    """{(dimension values…, is_control): (counts, cases, {pair: Σ over cases of the product})}."""
    per_case: dict[tuple, dict[int, dict]] = {}
    for case, values, counts in _answers():
        if values["source"] not in sources:
            continue
        key = (*(values[d] for d in dims), values["family"] == "control")
        slot = per_case.setdefault(key, {}).setdefault(case, dict.fromkeys(COUNT_FIELDS, 0))
        for k in COUNT_FIELDS:
            slot[k] += counts[k]
    return {key: (tuple(sum(c[k] for c in cases.values()) for k in COUNT_FIELDS), len(cases),
                  {(a, b): sum(c[a] * c[b] for c in cases.values()) for a, b in q.CASE_PAIRS})
            for key, cases in per_case.items()}


@pytest.fixture
def spot_store(fixture_store):
    ids = {CASES[i][0]: i for i in range(len(CASES))}
    case_id = {ids[c["key"]]: c["id"] for c in q.find_cases(fixture_store)[0]}
    models = q.model_ids(fixture_store)
    for answers in (SPOT[:1], SPOT[1:]):  # two runs: the same model on the same case in each
        run = create_run(fixture_store, "spot_check", label="spot")
        save_responses(fixture_store, run, "spot_check", [ResponseRow(
            case_id=case_id[i], model_config_id=models[m], text="x", judgment=JudgmentRow(
                judge="distilled", judge_kind="distilled", response_type=rt, engages_with_defeat=eng,
                independent_harm=harm)) for i, m, rt, eng, harm in answers])
    return fixture_store


@pytest.mark.parametrize("dims", [[], ["model"], ["family"], ["model", "family"], ["source"], ["model", "source"],
                                  ["authority_group", "model"]])
@pytest.mark.parametrize("sources", [None, ["paper"], ["spot_check"]])
def test_every_group_carries_its_per_case_sums(spot_store, dims, sources):
    want = _expected(dims, set(sources or ("paper", "spot_check")))
    for judge in (None, EFFECTIVE):  # the rollup, and the per-response path
        got = {(*(r[d] for d in dims), r["is_control"]): r["counts"]
               for r in q.aggregate(spot_store, dims, q.Filters(sources=sources), judge)}
        assert set(got) == set(want), (dims, sources, judge)
        for key, (counts, cases, products) in want.items():
            assert as_tuple(got[key]) == counts, key
            assert got[key].by_case.cases == cases and got[key].by_case.products == products, (key, judge)


def test_the_totals_interval_is_clustered_where_a_case_has_several_answers(spot_store):
    totals = q.totals(spot_store)  # paper and spot-check: model-a answers case 3 three times
    for part in ("defeated", "control"):
        helps = rates(totals[part]).helps
        assert helps.n_eff is not None and helps.n_eff <= helps.n
    one_model = q.totals(spot_store, q.Filters(sources=["paper"], models=["model-b"]))["defeated"]
    r, w = rates(one_model).helps, wilson(one_model.helps, one_model.n)  # one answer per case: exactly Wilson
    assert (r.rate, r.lo, r.hi, r.n_eff) == (w.rate, w.lo, w.hi, one_model.n)

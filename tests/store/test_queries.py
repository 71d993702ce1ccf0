"""Aggregates, cells, headline numbers, case search and the summary fallback on the fixture store.

Every expected count is derived in this file from the fixture's tables (CASES, LABELS, MODELS): one
judged response per (case, model) except the fixture's failed call (case 4, model-b).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blindrefusal import store as q
from blindrefusal.analysis.grid import build_cells
from blindrefusal.analysis.rates import store_stats
from blindrefusal.judges.human import set_human_label
from blindrefusal.paper import taxonomy
from blindrefusal.store import DIMENSION_COLUMNS, export_summary, summary_engine
from tests.support.release_fixture import CASES, LABELS, MODELS, _case
from vocabulary import COUNT_FIELDS, EFFECTIVE, PAPER_JUDGE

SLUGS = list(MODELS)
ERRORED = (4, "model-b")
SUBTYPE = {0: "just_and_reasonable", 1: "just_and_reasonable", 2: "just_and_reasonable", 3: "singled_out_unfairly",
           4: "dead_letter", 5: "absurd_or_arbitrary", 6: "unmapped", 7: "letter_not_spirit", 8: "lacks_jurisdiction"}
DIMS = _case(0, "x", "control", "x", "workplace", "voluntary")["dimensional_coding"]


@dataclass(frozen=True)
class Row:
    """One judged fixture response with every attribute a dimension or a filter can use."""
    case: int
    key: str
    model: str
    family: str
    subtype: str
    authority: str
    group: str
    dual_use: bool
    rt: str
    engages: bool
    harm: bool

    def dim(self, name: str):
        return {"model": self.model, "family": self.family, "subtype": self.subtype, "authority": self.authority,
                "authority_group": self.group, "source": "paper", "dual_use": self.dual_use}.get(name, DIMS.get(name))


def judged_rows(overrides: dict[tuple[int, str], tuple[str, bool, bool]] | None = None) -> list[Row]:
    rows = []
    for i, (cid, fam, _raw, auth, grp) in enumerate(CASES):
        for m, slug in enumerate(SLUGS):
            if (i, slug) == ERRORED:
                continue
            rt, eng, harm = LABELS[i][m]
            eng = eng == "yes"
            if overrides and (i, slug) in overrides:
                rt, eng, harm = overrides[(i, slug)]
            rows.append(Row(i, cid, slug, fam, SUBTYPE[i], auth, "government" if grp == "state_mandated" else grp,
                            i == 5, rt, eng, harm))
    return rows


def expected_counts(rows: list[Row]) -> dict[str, tuple]:
    out = {}
    for part, keep in (("defeated", lambda r: r.family != "control"), ("control", lambda r: r.family == "control")):
        rs = [r for r in rows if keep(r)]
        out[part] = (
            len(rs),
            sum(r.rt == "helps" for r in rs),
            sum(r.rt == "deflects" for r in rs),
            sum(r.rt == "hard_refusal" for r in rs),
            sum(r.engages for r in rs),
            sum(r.rt != "helps" and not r.engages and not r.harm for r in rs),
            sum(r.rt != "helps" and r.engages for r in rs),
        )
    return out


def as_tuple(c: q.Counts) -> tuple:
    return tuple(getattr(c, k) for k in COUNT_FIELDS)


def observed(totals: dict) -> dict[str, tuple]:
    return {k: as_tuple(v) for k, v in totals.items()}


def test_expectations_are_not_vacuous():
    rows = judged_rows()
    exp = expected_counts(rows)
    assert exp["defeated"] == (11, 5, 5, 1, 8, 1, 4)
    assert exp["control"] == (6, 1, 3, 2, 0, 2, 0)


def test_totals_and_every_dimension_match_the_fixture(fixture_store):
    rows = judged_rows()
    assert observed(q.totals(fixture_store)) == expected_counts(rows)
    assert observed(q.totals(fixture_store, q.Filters(sources=["paper"]))) == expected_counts(rows)
    for dim in q.DIMENSIONS:
        got = q.by_dimension(fixture_store, dim)
        norm = {(bool(k) if dim == "dual_use" else k): {p: as_tuple(c) for p, c in v.items()} for k, v in got.items()}
        values = {r.dim(dim) for r in rows}
        assert set(norm) == values, dim
        for value in values:
            assert norm[value] == expected_counts([r for r in rows if r.dim(dim) == value]), (dim, value)
        # the groups partition the whole
        total = {"defeated": q.Counts(), "control": q.Counts()}
        for v in got.values():
            for p in total:
                total[p].add(v[p])
        assert observed(total) == expected_counts(rows), dim
    for dim in DIMENSION_COLUMNS:
        assert dim in q.DIMENSIONS


def test_aggregate_two_dimensions_and_control_flag(fixture_store):
    rows = judged_rows()
    agg = q.aggregate(fixture_store, ["model", "family"])
    assert len(agg) == len({(r.model, r.family) for r in rows})
    for a in agg:
        assert a["is_control"] is (a["family"] == "control")
        sub = [r for r in rows if r.model == a["model"] and r.family == a["family"]]
        part = "control" if a["is_control"] else "defeated"
        assert as_tuple(a["counts"]) == expected_counts(sub)[part]


@pytest.mark.parametrize("filters, keep", [
    (q.Filters(families=["content_defeat", "control"]), lambda r: r.family in ("content_defeat", "control")),
    (q.Filters(models=["model-b"]), lambda r: r.model == "model-b"),
    (q.Filters(dual_use=True), lambda r: r.dual_use),
    (q.Filters(dual_use=False), lambda r: not r.dual_use),
    (q.Filters(authorities=["workplace"]), lambda r: r.authority == "workplace"),
    (q.Filters(sources=["live", "spot_check"]), lambda r: False),
    (q.Filters(sources=["paper"], models=["model-a"], families=["application_defeat", "exception_justified"],
               dual_use=False),
     lambda r: r.model == "model-a" and r.family in ("application_defeat", "exception_justified")),
    (q.Filters(models=["no-such-model"]), lambda r: False),
])
def test_filters(fixture_store, filters, keep):
    rows = [r for r in judged_rows() if keep(r)]
    assert observed(q.totals(fixture_store, filters)) == expected_counts(rows)
    by_family = q.by_dimension(fixture_store, "family", filters)
    assert set(by_family) == {r.family for r in rows}


def test_judge_mode_versus_precedence_after_a_human_label(fixture_store):
    # case 3 / model-a: the paper judge says helps + engages; a reviewer says hard refusal, no engagement
    target = next(r for r in q.responses_for(fixture_store)
                  if r["model_key"] == "model-a"
                  and q.get_case_by_id(fixture_store, r["case_id"])["key"] == CASES[3][0])
    base = expected_counts(judged_rows())
    assert observed(q.totals(fixture_store, judge=PAPER_JUDGE)) == base

    judge = set_human_label(fixture_store, target["id"], "human:rev", "hard_refusal", engages=False, harm=False)
    changed = expected_counts(judged_rows({(3, "model-a"): ("hard_refusal", False, False)}))
    assert changed != base
    assert observed(q.totals(fixture_store)) == base  # the default view keeps the paper's published numbers
    assert observed(q.totals(fixture_store, judge=EFFECTIVE)) == changed  # the corrected view: the human label wins
    assert observed(q.totals(fixture_store, judge=PAPER_JUDGE)) == base  # one judge's own labels are untouched
    only_human = q.totals(fixture_store, judge=judge)
    assert as_tuple(only_human["defeated"]) == (1, 0, 0, 1, 0, 1, 0)
    assert only_human["control"].n == 0
    assert q.judges_present(fixture_store) == sorted([PAPER_JUDGE, judge])

    # the same reviewer changing their mind replaces their label rather than adding a second one
    set_human_label(fixture_store, target["id"], "human:rev", "deflects", engages=True, harm=False)
    assert as_tuple(q.totals(fixture_store, judge=judge)["defeated"]) == (1, 0, 1, 0, 1, 0, 1)
    assert observed(q.totals(fixture_store, judge=EFFECTIVE)) == expected_counts(
        judged_rows({(3, "model-a"): ("deflects", True, False)}))
    # and the per-model view follows the same rule
    defeated = q.Filters(families=list(taxonomy.DEFEATED_FAMILIES))
    assert q.by_dimension(fixture_store, "model", defeated, EFFECTIVE)["model-a"]["defeated"].helps == 2  # 5 and 7
    assert q.by_dimension(fixture_store, "model", defeated)["model-a"]["defeated"].helps == 3  # as published


def test_build_cells_refusal_and_gap(fixture_store):
    rows = judged_rows()
    agg = q.aggregate(fixture_store, ["model", "authority_group"])
    cells = {(c.row, c.col): c for c in build_cells(agg, "model", "authority_group", "refusal")}
    assert set(cells) == {(r.model, r.group) for r in rows}
    for (m, g), cell in cells.items():
        sub = [r for r in rows if r.model == m and r.group == g]  # defeated and control pooled
        refused = sum(r.rt != "helps" for r in sub)
        assert cell.n == len(sub)
        assert cell.value == pytest.approx(refused / len(sub))
        assert cell.lo <= cell.value + 1e-12 and cell.value <= cell.hi + 1e-12
        assert cell.thin is (len(sub) < 10)

    gap = {(c.row, c.col): c for c in build_cells(agg, "model", "authority_group", "gap")}
    for (m, g), cell in gap.items():
        d = [r for r in rows if r.model == m and r.group == g and r.family != "control"]
        c = [r for r in rows if r.model == m and r.group == g and r.family == "control"]
        assert (cell.n, cell.n_control) == (len(d), len(c))
        if d and c:
            want = sum(r.rt == "helps" for r in d) / len(d) - sum(r.rt == "helps" for r in c) / len(c)
            assert cell.value == pytest.approx(want)
            assert cell.lo <= cell.value <= cell.hi
        else:
            assert cell.value is None and cell.lo is None and cell.hi is None
    # by hand: model-a/voluntary = 2/4 defeated helps - 0/2 control helps; model-b = 1/3 - 1/2
    assert gap[("model-a", "voluntary")].value == pytest.approx(0.5)
    assert gap[("model-b", "voluntary")].value == pytest.approx(1 / 3 - 1 / 2)
    assert gap[("model-a", "semi_voluntary")].value is None  # no control case there
    # restricting to defeated families turns a pooled metric into the defeated rate
    agg_d = q.aggregate(fixture_store, ["model", "family"], q.Filters(families=list(taxonomy.DEFEATED_FAMILIES)))
    helps = {(c.row, c.col): c for c in build_cells(agg_d, "model", "family", "helps")}
    assert helps[("model-b", "application_defeat")].value == 0.0
    assert helps[("model-b", "application_defeat")].n == 1  # the errored answer is not counted


def test_store_stats_shape_and_values(fixture_store):
    rows = judged_rows()
    s = store_stats(fixture_store)
    assert set(s) == {"responses", "cases", "models", "defeated", "control", "by_model", "by_family", "by_authority"}
    block_keys = {"n", "helps", "deflects", "hard_refusal", "refusal", "engages"}
    assert set(s["defeated"]) == block_keys and set(s["control"]) == block_keys
    assert (s["responses"], s["cases"], s["models"]) == (len(rows), len(CASES), len(MODELS))

    def block(sub):
        n = len(sub)
        helps = sum(r.rt == "helps" for r in sub)
        defl = sum(r.rt == "deflects" for r in sub)
        hard = sum(r.rt == "hard_refusal" for r in sub)
        return {"n": n, "helps": helps / n, "deflects": defl / n, "hard_refusal": hard / n,
                "refusal": (defl + hard) / n, "engages": sum(r.engages for r in sub) / n}

    defeated = [r for r in rows if r.family != "control"]
    assert s["defeated"] == pytest.approx(block(defeated))
    assert s["control"] == pytest.approx(block([r for r in rows if r.family == "control"]))
    assert s["defeated"]["helps"] + s["defeated"]["refusal"] == pytest.approx(1.0)
    assert set(s["by_model"]) == set(SLUGS)
    for m in SLUGS:
        assert s["by_model"][m] == pytest.approx(block([r for r in defeated if r.model == m]))
    assert set(s["by_family"]) == set(taxonomy.FAMILIES)
    for fam in taxonomy.FAMILIES:
        assert s["by_family"][fam] == pytest.approx(block([r for r in rows if r.family == fam]))
    for auth in {r.authority for r in defeated}:
        assert s["by_authority"][auth] == pytest.approx(block([r for r in defeated if r.authority == auth]))
    # "profession" holds only a control case: it has no defeated responses to rate
    assert s["by_authority"].get("profession", {"n": 0})["n"] == 0


def test_find_cases_search_family_and_label_filters(fixture_store):
    keys = lambda res: [c["key"] for c in res[0]]  # noqa: E731
    everything = q.find_cases(fixture_store)
    assert everything[1] == len(CASES)
    assert keys(everything) == sorted(keys(everything),
                                      key=lambda k: (q.get_case(fixture_store, k)["family"],
                                                     q.get_case(fixture_store, k)["authority_type"], k))

    assert keys(q.find_cases(fixture_store, search="  QUESTION 3: ")) == [CASES[3][0]]
    assert keys(q.find_cases(fixture_store, search="fixture fact 1a")) == [CASES[1][0]]  # inside the facts
    assert keys(q.find_cases(fixture_store, search="fx_control_")) == sorted(c[0] for c in CASES if c[1] == "control")
    assert q.find_cases(fixture_store, search="no case says this")[1] == 0

    res, total = q.find_cases(fixture_store, families=["control"])
    assert total == 3 and {c["family"] for c in res} == {"control"}
    assert all(c["subtype"] == "just_and_reasonable" for c in res)
    assert res[0]["structural_facts"] and isinstance(res[0]["structural_facts"], list)

    # model-b's label: helps on cases 1, 5, 8; deflects on 2, 3, 7 (case 4's call failed, so no label)
    want = lambda lab: sorted(CASES[i][0] for i in range(len(CASES)) if (i, "model-b") != ERRORED  # noqa: E731
                              and LABELS[i][1][0] == lab)
    assert sorted(keys(q.find_cases(fixture_store, label_model="model-b", label="helps"))) == want("helps")
    assert sorted(keys(q.find_cases(fixture_store, label_model="model-b", label="deflects"))) == want("deflects")
    assert CASES[4][0] not in keys(q.find_cases(fixture_store, label_model="model-b", label="deflects"))
    assert keys(q.find_cases(fixture_store, families=["illegitimate_authority"], label_model="model-b",
                             label="helps")) == [CASES[8][0]]
    assert keys(q.find_cases(fixture_store, dual_use=True)) == [CASES[5][0]]

    page1, total = q.find_cases(fixture_store, limit=4, offset=0)
    page2, _ = q.find_cases(fixture_store, limit=4, offset=4)
    page3, _ = q.find_cases(fixture_store, limit=4, offset=8)
    assert total == len(CASES)
    assert [c["key"] for c in page1 + page2 + page3] == keys(everything)


def test_find_cases_search_treats_wildcards_literally(fixture_store):
    assert q.find_cases(fixture_store, search="%")[1] == 0


def test_summary_csv_reproduces_the_store(fixture_store, tmp_path):
    path = tmp_path / "summary.csv"
    n_rows = export_summary(fixture_store, path)
    text = path.read_text()
    assert n_rows == len(text.strip().splitlines()) - 1
    assert "Fixture" not in text  # counts only, no case or answer text
    summ = summary_engine(path)
    assert observed(q.totals(summ)) == observed(q.totals(fixture_store))
    for dim in ("model", "family", "subtype", "authority", "authority_group", "dual_use"):
        a = {bool(k) if dim == "dual_use" else k: {p: as_tuple(c) for p, c in v.items()}
             for k, v in q.by_dimension(summ, dim).items()}
        b = {bool(k) if dim == "dual_use" else k: {p: as_tuple(c) for p, c in v.items()}
             for k, v in q.by_dimension(fixture_store, dim).items()}
        assert a == b, dim
    s_summary, s_store = store_stats(summ), store_stats(fixture_store)
    s_summary.pop("cases"), s_store.pop("cases")  # the summary holds one synthetic case per cell
    assert s_summary == s_store

    # the export is of the paper judge: a human label does not leak into it
    rid = q.responses_for(fixture_store)[0]["id"]
    set_human_label(fixture_store, rid, "human:rev", "helps", engages=True, harm=True)
    path2 = tmp_path / "summary2.csv"
    export_summary(fixture_store, path2)
    assert path2.read_text() == text


def test_rollup_agrees_with_the_responses_through_every_write(fixture_store):
    """Default aggregates read the cell_count rollup; restricting to explicit case ids forces the per-response
    path. Both must agree after an import, a human label, a live run and its deletion."""
    from db.records import JudgmentRow, ResponseRow
    from db.writes import create_run, delete_runs, save_responses

    case_ids = [c["id"] for c in q.find_cases(fixture_store)[0]]

    def both(sources):
        rollup = observed(q.totals(fixture_store, q.Filters(sources=sources)))
        direct = observed(q.totals(fixture_store, q.Filters(sources=sources, case_ids=case_ids)))
        return rollup, direct

    rollup, direct = both(["paper"])
    assert rollup == direct == expected_counts(judged_rows())

    rid = next(r["id"] for r in q.responses_for(fixture_store) if r["eff_response_type"] == "helps")
    set_human_label(fixture_store, rid, "human:rev", "hard_refusal", engages=False, harm=False)
    rollup, direct = both(["paper"])
    assert rollup == direct == expected_counts(judged_rows())  # the paper's numbers stay as published
    assert observed(q.totals(fixture_store, q.Filters(sources=["paper"]), EFFECTIVE)) != rollup  # corrected view

    mids = q.model_ids(fixture_store)
    run = create_run(fixture_store, "live", label="test")
    save_responses(fixture_store, run, "live", [
        ResponseRow(case_id=case_ids[0], model_config_id=mids["model-a"], text="a",
                    judgment=JudgmentRow(judge="llm:x", judge_kind="llm", response_type="helps",
                                         engages_with_defeat=True, independent_harm=False)),
        ResponseRow(case_id=case_ids[0], model_config_id=mids["model-b"], text="b"),  # unjudged
    ])
    rollup, direct = both(["live"])
    assert rollup == direct
    assert sum(v[0] for v in rollup.values()) == 1
    delete_runs(fixture_store, [r["id"] for r in q.runs(fixture_store, kinds=("live",))] + [1])  # 1: the paper's, kept
    rollup, direct = both(["live"])
    assert rollup == direct == {"defeated": (0,) * 7, "control": (0,) * 7}
    assert both(["paper"])[0] == both(["paper"])[1]


N_JUDGED_FIXTURE = len(CASES) * len(MODELS) - 1

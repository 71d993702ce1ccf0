"""The label queue's store query: a heatmap cell or the judges' disagreements, in a fixed order, with
whether this reviewer (or any of our reviewers) has labelled each response; and a label is stored only under a
reviewer's judge name."""

from __future__ import annotations

import pytest

from blindrefusal import store as q
from blindrefusal.judges.human import LabelError, set_human_label


def _other_type(rt: str) -> str:
    return "helps" if rt != "helps" else "deflects"


def test_a_cell_queue_keeps_its_order_and_marks_each_reviewers_labels(fixture_store):
    cell = {"model": "model-a", "family": "content_defeat"}
    items = q.label_queue(fixture_store, "human:ada", cell, q.Filters(sources=["paper"]))
    case_ids = {c["key"] for c in q.cell_cases(fixture_store, cell, q.Filters(sources=["paper"]))}
    assert items and {i["case_key"] for i in items} == case_ids and {i["model_key"] for i in items} == {"model-a"}
    assert not any(i["labelled"] for i in items)
    first = items[0]["response_id"]
    set_human_label(fixture_store, first, "human:ada", "hard_refusal", False, False)
    after = q.label_queue(fixture_store, "human:ada", cell, q.Filters(sources=["paper"]))
    assert [i["response_id"] for i in after] == [i["response_id"] for i in items]  # nothing moved
    assert [i["labelled"] for i in after] == [True] + [False] * (len(items) - 1)
    assert not any(i["labelled"] for i in q.label_queue(fixture_store, "human:bo", cell, q.Filters(sources=["paper"])))
    assert q.label_queue(fixture_store, None, cell, q.Filters(sources=["paper"]))[0]["labelled"]  # any reviewer


def test_the_disagreement_queue_holds_answers_whose_judges_disagree_but_not_ones_own_label(fixture_store):
    assert q.label_queue(fixture_store, "human:ada", disagree=True) == []  # one judge per answer: no disagreement
    rows = [r for r in q.responses_for(fixture_store) if r["source"] == "paper" and r["eff_response_type"]]
    a, b = rows[0], rows[1]
    q.add_judgments(fixture_store, [(a["id"], q.JudgmentRow(judge="distilled", judge_kind="distilled",
                                                            response_type=_other_type(a["eff_response_type"]),
                                                            engages_with_defeat=False, independent_harm=False))])
    set_human_label(fixture_store, b["id"], "human:ada", _other_type(b["eff_response_type"]), False, False)
    mine = q.label_queue(fixture_store, "human:ada", disagree=True)
    assert [i["response_id"] for i in mine] == [a["id"]]  # ada's own label does not put b in her queue
    theirs = q.label_queue(fixture_store, "human:bo", disagree=True)
    assert sorted(i["response_id"] for i in theirs) == sorted([a["id"], b["id"]])
    assert not any(i["labelled"] for i in theirs)


def test_a_label_is_stored_only_under_a_reviewers_judge_name(fixture_store):
    rid = q.responses_for(fixture_store)[0]["id"]
    for judge in ("ada", "human:", "human:  ", "distilled", "gpt-5.4 (paper)"):
        with pytest.raises(LabelError):
            set_human_label(fixture_store, rid, judge, "helps", False, False)
    assert not [j for j in q.judges_present(fixture_store) if j.startswith("human:")]

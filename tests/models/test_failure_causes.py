"""A failed call says why (no key, HTTP status, content filter) and what to do, model by model."""

from __future__ import annotations

from blindrefusal.models.failures import cause, failures_by_model
from blindrefusal.runs.contrast import CONTROL, DEFEATED, is_pair, pairs
from blindrefusal.runs.live import refusal_rate, summarise


def test_each_stored_error_names_its_cause_and_a_remedy():
    assert cause("error", "no API key: set OPENAI_API_KEY in the environment or .env").why == \
        "no API key (OPENAI_API_KEY is not set)"
    http = cause("error", "provider error (500): litellm.InternalServerError: boom")
    assert http.why == "HTTP 500" and "server" in http.what_to_do
    assert cause("error", "rate limited (429): slow down").why == "HTTP 429"
    assert cause("error", "authentication failed: bad key").why == "HTTP 401"
    assert "content filter" in cause("blocked", "the provider's content filter stopped the answer").why
    assert cause("error", "timed out").why == "timed out"
    assert cause("error", None).why == "unknown error"


def test_failures_are_grouped_per_model_and_cause():
    rows = [{"model_name": "A", "status": "error", "error": "provider error (500): x"},
            {"model_name": "A", "status": "error", "error": "provider error (500): y"},
            {"model_name": "A", "status": "ok", "error": None},
            {"model_name": "B", "status": "ok", "error": None}]
    [a] = failures_by_model(rows)
    assert (a.model, a.failed, a.total) == ("A", 2, 3)
    assert list(a.causes.values()) == [2] and next(iter(a.causes)).why == "HTTP 500"


def test_an_all_failed_run_is_not_summed_up_as_zero_of_zero():
    outcomes = [("error", None, None), ("blocked", None, None)]
    assert summarise(outcomes) == "No model answered: all 2 calls failed or were blocked"
    assert refusal_rate(outcomes).n == 0


def test_only_the_two_halves_of_one_contrast_run_are_a_pair():
    d = {"contrast": {"pair": "p1", "side": DEFEATED}}
    c = {"contrast": {"pair": "p1", "side": CONTROL}}
    other = {"contrast": {"pair": "p2", "side": CONTROL}}
    assert is_pair(d, c)
    assert not is_pair(c, d) and not is_pair(d, other) and not is_pair({}, {})
    runs = [{"id": 1, "params": d}, {"id": 2, "params": c}, {"id": 3, "params": other}, {"id": 4, "params": {}}]
    found = pairs(runs)
    assert set(found) == {1, 2} and found[1][DEFEATED]["id"] == 1 and found[2][CONTROL]["id"] == 2


def test_a_reviewer_name_over_the_limit_is_refused_not_cut():
    import pytest

    from blindrefusal.judges.human import REVIEWER_LIMIT, LabelError, reviewer_judge_name

    assert reviewer_judge_name("a" * REVIEWER_LIMIT).endswith("a" * REVIEWER_LIMIT)
    with pytest.raises(LabelError, match=f"{REVIEWER_LIMIT + 1} characters: the limit is {REVIEWER_LIMIT}"):
        reviewer_judge_name("a" * (REVIEWER_LIMIT + 1))

"""The paper's own judge: the authors' prompt read from the release at import, filled per case, sent with
the paper's settings through the runner; named by the prompt's hash; unavailable with a clear reason."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from blindrefusal import store
from blindrefusal.judges import JudgeUnavailable, Verdict, get_judge, judge_label
from blindrefusal.judges.base import JudgeInput
from blindrefusal.judges.paper import NEEDS_KEY, PAPER_MODEL, fill
from blindrefusal.paper.importer import import_paper
from blindrefusal.runs.rejudge import rejudge
from db.engine import get_engine
from tests.support import ROOT
from tests.support.release_fixture import FIXTURE_JUDGE_PROMPT, write_fixture_release

CASE = JudgeInput(user_query="Can I get round the rule?", response="No. {{QUERY}} <b>x</b>", rule="The rule",
                  defeat_condition="It is unfair", case_key="seed_case_1", defeat_type="content_defeat",
                  authority_type="landlord")


def test_fill_puts_every_field_in_its_place_once():
    text = fill(FIXTURE_JUDGE_PROMPT, CASE)
    for value in ("seed_case_1", "content_defeat", "landlord", "The rule", "It is unfair", "Can I get round the rule?"):
        assert value in text
    assert "{{" not in text.replace("{{QUERY}} <b>", "")  # only the answer's own braces are left, not expanded
    assert text.count("Can I get round the rule?") == 1


def test_the_prompt_comes_from_the_release_with_its_hash_and_an_import_without_it_still_works(tmp_path, store_url):
    eng = get_engine(store_url)
    import_paper(str(write_fixture_release(tmp_path / "bare", with_prompts=False)), engine=eng)
    assert store.release_prompt(eng, "evaluate_response") is None
    with pytest.raises(JudgeUnavailable, match="prompts/evaluate_response.md"):
        get_judge("paper")
    result = import_paper(str(write_fixture_release(tmp_path / "full")), engine=eng)  # re-import, now with prompts/
    assert "evaluate_response" in result["prompts"] and "gates/reasonable_judge" in result["prompts"]
    prompt = store.release_prompt(eng, "evaluate_response")
    assert prompt["text"] == FIXTURE_JUDGE_PROMPT
    assert prompt["sha256"] == hashlib.sha256(FIXTURE_JUDGE_PROMPT.encode()).hexdigest()


def test_zip_release_prompts_are_read(tmp_path, store_url):
    import shutil

    write_fixture_release(tmp_path / "repo-abc")
    archive = shutil.make_archive(str(tmp_path / "release"), "zip", root_dir=tmp_path, base_dir="repo-abc")
    eng = get_engine(store_url)
    import_paper(archive, engine=eng)
    assert store.release_prompt(eng, "evaluate_response")["text"] == FIXTURE_JUDGE_PROMPT


@pytest.fixture
def prompted_store(store_url, fixture_release, monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "BR_JUDGE_API_BASE", "BR_JUDGE_MODEL"):
        monkeypatch.delenv(var, raising=False)
    eng = get_engine(store_url)
    import_paper(str(fixture_release), engine=eng)
    return eng


def test_without_a_key_the_paper_judge_is_listed_and_says_what_it_needs(prompted_store):
    with pytest.raises(JudgeUnavailable, match=NEEDS_KEY):
        get_judge("paper")
    assert NEEDS_KEY in judge_label("paper")


def test_routes_by_the_key_that_is_present(prompted_store, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    assert get_judge("paper").spec.litellm_model.startswith("openrouter/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    judge = get_judge("paper")
    assert judge.spec.litellm_model == f"openai/{PAPER_MODEL}"
    sha = store.release_prompt(prompted_store, "evaluate_response")["sha256"]
    assert judge.name == f"paper:{PAPER_MODEL}@{sha[:12]}"


def test_the_paper_judge_over_http_sends_the_filled_prompt_with_the_paper_settings(prompted_store, fault_server,
                                                                                   monkeypatch):
    monkeypatch.setenv("BR_JUDGE_API_BASE", fault_server.api_base)
    judge = get_judge("paper")
    before = len(fault_server.requests_for(PAPER_MODEL))  # the server lives for the session (both backends)
    [verdict] = judge.judge_many([CASE])
    assert isinstance(verdict, Verdict) and verdict.response_type == "deflects" and verdict.engages_with_defeat
    [req] = fault_server.requests_for(PAPER_MODEL)[before:]
    body = req.body
    assert body["model"] == PAPER_MODEL
    assert body["messages"] == [{"role": "user", "content": fill(FIXTURE_JUDGE_PROMPT, CASE)}]
    assert body["response_format"] == {"type": "json_object"}
    assert body.get("reasoning_effort") == "medium"
    assert body.get("max_completion_tokens") == 1200 and "max_tokens" not in body
    assert "Can I get round the rule?" in json.dumps(body) and "seed_case_1" in json.dumps(body)


def test_stored_labels_carry_the_prompt_hash_and_a_changed_prompt_never_mixes(prompted_store, fault_server,
                                                                               monkeypatch, tmp_path):
    monkeypatch.setenv("BR_JUDGE_API_BASE", fault_server.api_base)
    eng = prompted_store
    ids = [r["id"] for r in store.judge_inputs(eng, only_unjudged=False, source="paper")][:3]
    out = asyncio.run(rejudge(eng, response_ids=ids, judge_name="paper:openai/other_judge"))
    assert out["judged"] == 3 and out["judge"].startswith("paper:openai/other_judge@")
    assert {j for j in store.judges_present(eng)} >= {out["judge"]}
    # the paper's own label stays the effective label of its answers (a machine judge only adds a comparison)
    assert all(r["eff_judge"] != out["judge"] for r in store.responses_for(eng, response_ids=ids))
    # a new prompt version: the old name is refused, the new judge has a new name
    new_prompt = FIXTURE_JUDGE_PROMPT + "\nBe strict.\n"
    store.save_prompts(eng, [{"name": "evaluate_response", "sha256": hashlib.sha256(new_prompt.encode()).hexdigest(),
                              "text": new_prompt, "source": "test"}])
    with pytest.raises(JudgeUnavailable, match="another version"):
        get_judge(out["judge"])
    assert get_judge("paper:openai/other_judge").name != out["judge"]


def test_unparsable_judge_output_keeps_the_answer_unjudged(prompted_store, fault_server, monkeypatch):
    monkeypatch.setenv("BR_JUDGE_API_BASE", fault_server.api_base)
    [res] = get_judge("paper:openai/bad;reply=garbage").judge_many([CASE])
    assert not isinstance(res, Verdict) and "JSON" in res.error
    [res] = get_judge("paper:openai/down;status=500").judge_many([CASE])
    assert not isinstance(res, Verdict) and "failed" in res.error


def test_ask_with_the_paper_judge_and_no_key_says_so_in_one_line_before_any_call(prompted_store, store_url):
    import os
    import subprocess
    import sys

    root = ROOT
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(BR_DATABASE_URL=store_url)
    env.pop("BR_JUDGE_API_BASE", None)
    case = store.find_cases(prompted_store, source="paper", limit=1)[0][0]["key"]
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "ask", "--model", "local/smollm2", "--case-id", case,
                           "--judge", "paper"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and NEEDS_KEY in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert store.store_counts(prompted_store)["live_runs"] == 0

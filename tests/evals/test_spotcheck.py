"""Spot-checks end to end on the imported paper store: a fault-server model judged by a fault-server LLM
judge (resume, fresh, cancel, errors, adaptive concurrency), the CLI with the real local model, the
paid-model guard, and the Streamlit page. Needs BR_DATA_SOURCE (the paper store fixture skips without it)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import text

from blindrefusal.analysis.weighted import WEIGHT_BASIS, WEIGHTED_METHOD, WEIGHTED_PAIRED_METHOD
from blindrefusal.evals import spotcheck
from blindrefusal.evals.spotcheck import (
    SpotCheckParams,
    comparison_text,
    estimate_cost,
    results,
    run_spot_check,
    sample_cases,
    to_json,
)
from blindrefusal.evals.spotcheck import bridge as spotcheck_bridge
from blindrefusal.evals.spotcheck import plan as spotcheck_plan
from blindrefusal.evals.spotcheck import run as spotcheck_run
from blindrefusal.evals.spotcheck.params import sample_design
from blindrefusal.judges.distilled.model import load_distilled_judge
from blindrefusal.judges.llm import LLMJudge
from blindrefusal.models.calls import RunSettings
from blindrefusal.models.presets import paper_models, resolve
from blindrefusal.models.sync import run_sync
from tests.support import ROOT

RATE_KEYS = ("helps", "deflects", "hard_refusal", "refusal", "engages")
FAST_FAIL = RunSettings(timeout_s=10.0, max_retries=1, backoff_base_s=0.01, backoff_max_s=0.02)


@pytest.fixture
def sc(paper_store_url, fault_server, monkeypatch):
    """(engine, judge, fault server): the paper store copy and the fault-server judge behind get_judge."""
    from db.engine import get_engine

    judge = LLMJudge(resolve("openai/judge;reply=verdict", api_base=fault_server.api_base))
    for stage in (spotcheck_plan, spotcheck_run):  # the pre-run estimate and the run use the same judge
        monkeypatch.setattr(stage, "get_judge", lambda name=None: judge)
    return get_engine(paper_store_url), judge, fault_server


def unique(prefix: str) -> str:
    """A model name no other test uses (the fault server's counters are per name, per session)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def params_for(srv, judge, name: str, options: str = "delay=0.05;reply=refuse", n: int = 20, **kw) -> SpotCheckParams:
    """No same-judge bridge unless asked (bridge tests below), so judge calls are the run's own."""
    return SpotCheckParams(model=f"openai/{name};{options}", n=n, api_base=srv.api_base, judge=judge.name,
                           **{"bridge_models": 0, **kw})


def run_rows(engine, run_id: int) -> list[dict]:
    sql = """SELECT r.id, r.case_id, r.status, r.attempts, r.eff_response_type, r.eff_judge,
                    (SELECT COUNT(*) FROM judgment j WHERE j.response_id = r.id) AS n_judgments
             FROM response r WHERE r.run_id = :r ORDER BY r.id"""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), {"r": run_id})]


def run_status(engine, run_id: int) -> tuple[str, str]:
    with engine.connect() as conn:
        return tuple(conn.execute(text("SELECT kind, status FROM run WHERE id = :r"), {"r": run_id}).one())


def weighted_mean(values: dict[int, float], params: SpotCheckParams, engine) -> float:
    """Σ_h (N_h / N) × the stratum's mean, over the run's post-strata: the estimand, counted here by hand."""
    of, size = sample_design(engine, params).strata(values)
    groups: dict[str, list[float]] = {}
    for cid, v in values.items():
        groups.setdefault(of[cid], []).append(v)
    total = sum(size[h] for h in groups)
    return sum(size[h] / total * sum(vs) / len(vs) for h, vs in groups.items())


def assert_results_shape(out: dict, model: str, n: int, judge_name: str | None) -> None:
    assert out["model"] == model and out["n"] == n and out["seed"] == 0
    if judge_name is not None:
        assert out["judge"] == judge_name
    for block in ("defeated", "control"):
        b = out[block]
        assert set(RATE_KEYS) <= set(b) and isinstance(b["n"], int)
        for k in RATE_KEYS:
            r = b[k]
            assert {"rate", "lo", "hi", "k", "n", "method"} <= set(r) and r["n"] == b["n"]  # every rate carries its n
            assert r["method"] == WEIGHTED_METHOD
            if b["n"]:
                assert 0.0 <= r["lo"] <= r["rate"] <= r["hi"] <= 1.0, (block, k, r)
    assert set(out["gap"]) == {"diff", "lo", "hi", "significant", "method"}
    assert out["gap"]["method"] == "Newcombe's hybrid score interval"
    if out["gap"]["diff"] is not None:
        assert out["gap"]["lo"] <= out["gap"]["diff"] <= out["gap"]["hi"]
    paper_slugs = {m.paper_slug for m in paper_models()}
    assert set(out["vs_paper_labels"]) == paper_slugs and len(paper_slugs) == 18
    assert set(out["vs_paper"]) <= paper_slugs and set(out["vs_paper"]) == set(out["judge_shift"]["by_model"])
    for slug, v in {**out["vs_paper_labels"], **out["vs_paper"]}.items():
        assert {"diff", "lo", "hi", "significant"} <= set(v), slug
        assert v["lo"] <= v["diff"] <= v["hi"] and v["method"] == WEIGHTED_PAIRED_METHOD, (slug, v)
        assert v["significant"] == (v["lo"] > 0 or v["hi"] < 0), (slug, v)
    assert "release's cases" in out["estimand"]["population"] and out["weights"]["basis"] == WEIGHT_BASIS
    assert "GPT-5.4's labels" in out["estimand"]["labels"]["gpt54_scale"]  # whose labels define each number
    assert 0 < out["weights"]["kish_effective_n"] <= out["defeated"]["n"] or not out["defeated"]["n"]
    rank = out["rank_paper_labels"]
    assert rank["of"] == 19 and "Holm" in rank["method"]
    assert len(rank["significantly_higher"]) == rank["lo"] - 1 and len(rank["significantly_lower"]) == 19 - rank["hi"]
    assert set(out["paper_rates_labels"]) == paper_slugs and "diff" in out["paper_gap_labels"]
    assert 1 <= rank["lo"] <= rank["hi"] <= 19, rank
    if out["vs_paper"]:  # the same-judge rank is among the bridged models
        assert out["rank"]["of"] == len(out["vs_paper"]) + 1 and 1 <= out["rank"]["lo"] <= out["rank"]["hi"]


# ------------------------------------------------------------------ run, results, resume, fresh


def test_spot_check_stores_a_judged_run_compares_with_the_paper_and_resumes_for_free(sc):
    engine, judge, srv = sc
    name = unique("sc")
    params = params_for(srv, judge, name)
    judge_calls = len(srv.requests_for("judge"))
    seen: list[int] = []

    run_id, prog = run_sync(run_spot_check(engine, params, progress=lambda p: seen.append(p.done)))

    # 20 cases, each asked once and judged once
    assert (prog.total, prog.done, prog.calls, prog.errors, prog.skipped) == (20, 20, 20, 0, 0)
    assert len(srv.requests_for(name)) == 20
    assert len(srv.requests_for("judge")) - judge_calls == 20
    assert seen[0] == 0 and seen[-1] == 20 and seen == sorted(seen)
    assert run_status(engine, run_id) == ("spot_check", "done")
    rows = run_rows(engine, run_id)
    sampled = sample_cases(engine, params)
    assert sorted(r["case_id"] for r in rows) == sorted(c.id for c in sampled)
    assert all(r["status"] == "ok" and r["n_judgments"] == 1 and r["eff_judge"] == judge.name for r in rows)
    assert {r["eff_response_type"] for r in rows} == {"deflects"}  # what the fault judge says

    out = to_json(results(engine, run_id))
    assert_results_shape(out, params.model, 20, judge.name)
    n_control = sum(c.is_control for c in sampled)
    assert out["control"]["n"] == n_control >= 1 and out["defeated"]["n"] == 20 - n_control
    d = out["defeated"]
    assert d["helps"]["rate"] == 0.0 and d["deflects"]["rate"] == 1.0 and d["refusal"]["rate"] == 1.0
    assert d["hard_refusal"]["rate"] == 0.0 and d["engages"]["rate"] == 1.0
    assert out["gap"]["diff"] == 0.0 and out["errors"] == 0 and out["blocked"] == 0
    # Without a bridge, nothing is compared under one judge; against GPT-5.4's labels, never helping, it is at
    # least tied for last place.
    assert out["comparison"] == "mixed_judges" and out["vs_paper"] == {} and out["rank"]["lo"] is None
    assert out["rank_paper_labels"]["hi"] == 19
    # Each paired difference is 0 minus that paper model's help rate on the same defeated cases.
    defeated_ids = [c.id for c in sampled if not c.is_control]
    with engine.connect() as conn:
        paper = conn.execute(text(
            "SELECT m.key, r.case_id, r.eff_response_type = 'helps' "
            "FROM response r JOIN model_config m ON m.id = r.model_config_id WHERE r.source = 'paper' "
            f"AND r.eff_response_type IS NOT NULL AND r.case_id IN ({','.join(map(str, defeated_ids))})")).all()
    by_model: dict[str, dict[int, int]] = {}
    for slug, cid, helped in paper:
        by_model.setdefault(slug, {})[cid] = int(helped)
    assert len(by_model) == 18
    for slug, helped in by_model.items():
        assert out["vs_paper_labels"][slug]["diff"] == pytest.approx(-weighted_mean(helped, params, engine)), slug
        assert out["vs_paper_labels"][slug]["n"] == len(helped)
        assert out["paper_rates_labels"][slug]["rate"] == pytest.approx(weighted_mean(helped, params, engine))

    # RESUME: the same parameters again cost no call, to the model or to the judge
    before, judge_before = len(srv.requests_for(name)), len(srv.requests_for("judge"))
    run_id2, prog2 = run_sync(run_spot_check(engine, params))
    assert run_id2 == run_id
    assert (prog2.calls, prog2.skipped, prog2.done, prog2.total) == (0, 20, 20, 20)
    assert len(srv.requests_for(name)) == before and len(srv.requests_for("judge")) == judge_before
    assert len(run_rows(engine, run_id)) == 20 and run_status(engine, run_id) == ("spot_check", "done")

    # FRESH: a new run with 20 new calls; the old run keeps its rows
    run_id3, prog3 = run_sync(run_spot_check(engine, params, fresh=True))
    assert run_id3 != run_id
    assert (prog3.calls, prog3.skipped) == (20, 0)
    assert len(srv.requests_for(name)) == before + 20
    assert len(run_rows(engine, run_id3)) == 20 and len(run_rows(engine, run_id)) == 20


def test_resume_also_works_with_the_default_judge(sc):
    engine, judge, srv = sc
    name = unique("scdefault")
    params = SpotCheckParams(model=f"openai/{name};delay=0.01;reply=refuse", n=10, api_base=srv.api_base)  # judge=None
    run_id, prog = run_sync(run_spot_check(engine, params))
    assert prog.calls == 10
    run_id2, prog2 = run_sync(run_spot_check(engine, params))
    assert len(srv.requests_for(name)) == 10, "the second run re-asked every case"
    assert run_id2 == run_id and prog2.calls == 0


# ------------------------------------------------------------------ cancel


def _cancel_after(k: int) -> tuple[threading.Event, callable]:
    ev = threading.Event()

    def progress(p) -> None:
        if p.done >= k:
            ev.set()

    return ev, progress


def test_a_cancelled_spot_check_keeps_its_answers_and_a_rerun_asks_only_the_rest(sc):
    engine, judge, srv = sc
    name = unique("sccancel")
    params = params_for(srv, judge, name, "delay=0.05;reply=refuse")
    cancel, progress = _cancel_after(3)

    run_id, prog = run_sync(run_spot_check(engine, params, progress=progress, cancel=cancel, concurrency=2))
    assert cancel.is_set()
    assert run_status(engine, run_id) == ("spot_check", "cancelled")
    first = run_rows(engine, run_id)
    assert len(first) == prog.done >= 3  # every answer received before the cancel took effect is stored
    assert all(r["status"] == "ok" and r["eff_response_type"] == "deflects" for r in first)
    asked_first = len(srv.requests_for(name))
    assert asked_first == prog.calls == len(first)
    # the cancel stops cases that have not started: at most the two calls in flight may still finish
    assert asked_first <= 3 + 2, asked_first
    assert prog.done < 20

    run_id2, prog2 = run_sync(run_spot_check(engine, params, concurrency=2))
    assert run_id2 == run_id
    assert prog2.skipped == len(first) and prog2.calls == 20 - len(first)
    assert len(srv.requests_for(name)) == 20  # no case asked twice across the two runs
    rows = run_rows(engine, run_id)
    assert len(rows) == 20 and len({r["case_id"] for r in rows}) == 20
    assert run_status(engine, run_id) == ("spot_check", "done")


# ------------------------------------------------------------------ errors


def test_a_model_that_always_fails_is_counted_as_errors_unjudged_and_retried_on_rerun(sc):
    engine, judge, srv = sc
    name = unique("sc500")
    params = params_for(srv, judge, name, "status=500", n=20)
    judge_calls = len(srv.requests_for("judge"))

    run_id, prog = run_sync(run_spot_check(engine, params, settings=FAST_FAIL))
    assert (prog.done, prog.errors, prog.calls) == (20, 20, 40)  # one retry each
    assert len(srv.requests_for(name)) == 40 and all(r.status == 500 for r in srv.requests_for(name))
    assert len(srv.requests_for("judge")) == judge_calls  # nothing to judge
    rows = run_rows(engine, run_id)
    assert len(rows) == 20 and all(r["status"] == "error" and r["n_judgments"] == 0 and r["eff_response_type"] is None
                                   for r in rows)
    assert run_status(engine, run_id) == ("spot_check", "done")
    out = to_json(results(engine, run_id))
    assert out["defeated"]["n"] == out["control"]["n"] == out["n"] == 0
    assert out["errors"] == 20 and out["vs_paper"] == {} and out["rank"]["lo"] is None
    with engine.connect() as conn:
        errors = [e for (e,) in conn.execute(text("SELECT error FROM response WHERE run_id = :r"), {"r": run_id})]
    assert all("500" in e for e in errors), errors[:2]

    # errors are not "answered": a re-run of the same parameters tries them again
    run_id2, prog2 = run_sync(run_spot_check(engine, params, settings=FAST_FAIL))
    assert run_id2 == run_id and prog2.skipped == 0 and prog2.calls == 40
    assert len(srv.requests_for(name)) == 80


def test_a_rerun_recovers_cases_that_failed(sc):
    engine, judge, srv = sc
    name = unique("scflaky")
    # the first 10 requests get 429; with no retries the first run loses all 10 cases
    params = params_for(srv, judge, name, "fail429=10;retry_after=0.01;reply=refuse", n=10)
    no_retry = RunSettings(timeout_s=10.0, max_retries=0)
    run_id, prog = run_sync(run_spot_check(engine, params, settings=no_retry))
    assert prog.errors == 10 and prog.calls == 10
    run_id2, prog2 = run_sync(run_spot_check(engine, params, settings=no_retry))
    assert run_id2 == run_id and prog2.errors == 0 and prog2.calls == 10 and prog2.skipped == 0
    ok = [r for r in run_rows(engine, run_id) if r["status"] == "ok"]
    assert len(ok) == 10 and len({r["case_id"] for r in ok}) == 10
    assert to_json(results(engine, run_id))["n"] == 10


def test_results_do_not_count_errors_that_a_rerun_has_answered(sc):
    engine, judge, srv = sc
    name = unique("scstale")
    params = params_for(srv, judge, name, "fail429=10;retry_after=0.01;reply=refuse", n=10)
    no_retry = RunSettings(timeout_s=10.0, max_retries=0)
    run_id, _ = run_sync(run_spot_check(engine, params, settings=no_retry))
    run_sync(run_spot_check(engine, params, settings=no_retry))
    out = to_json(results(engine, run_id))
    assert out["n"] == 10
    assert out["errors"] == 0, out["errors"]


# ------------------------------------------------------------------ adaptive concurrency


def test_adaptive_concurrency_answers_every_case_without_a_retry_storm(sc):
    engine, judge, srv = sc
    name = unique("sccap")
    params = params_for(srv, judge, name, "cap=5;delay=0.05;reply=refuse", n=20)

    run_id, prog = run_sync(run_spot_check(engine, params))
    sent = srv.requests_for(name)
    rejected = [r for r in sent if r.status == 429]
    answered = [r for r in sent if r.status == 200]
    print(f"\nadaptive concurrency: client peak {prog.peak_concurrency}, server peak in flight "
          f"{srv.peak_inflight[name]}, 429s {len(rejected)} for 20 cases, calls {prog.calls}")
    assert prog.errors == 0 and len(answered) == 20  # no case lost, none answered twice
    rows = run_rows(engine, run_id)
    assert len(rows) == 20 and all(r["status"] == "ok" and r["eff_response_type"] for r in rows)
    assert sum(r["attempts"] for r in rows) == prog.calls == len(sent)
    assert prog.rate_limited == len(rejected) > 0
    assert len(rejected) < 2 * 20  # no retry storm
    assert prog.peak_concurrency >= 5


def test_adaptive_concurrency_loses_no_case_on_a_larger_sample(sc):
    engine, judge, srv = sc
    name = unique("sccapbig")
    params = params_for(srv, judge, name, "cap=5;delay=0.05;reply=refuse", n=150)
    run_id, prog = run_sync(run_spot_check(engine, params))
    lost = [r for r in run_rows(engine, run_id) if r["status"] != "ok"]
    assert not lost and prog.errors == 0, f"{len(lost)} of 150 cases lost to 429s"


# ------------------------------------------------------------------ cost estimate and the paid-model guard


def test_cost_estimate_for_paid_and_free_models(sc):
    engine, judge, srv = sc
    paid = estimate_cost(engine, SpotCheckParams(model="claude-opus-4-6", n=20))
    assert paid.paid is True and paid.cases == 20
    assert paid.prompt_tokens > 0 and paid.completion_tokens > 0
    # twice the cases, about twice the tokens (both from the paper's average usage)
    paid40 = estimate_cost(engine, SpotCheckParams(model="claude-opus-4-6", n=40))
    assert 1.3 < paid40.prompt_tokens / paid.prompt_tokens < 2.7
    local = estimate_cost(engine, SpotCheckParams(model="local/smollm2", n=20))
    assert local.paid is False and local.cost_usd is None and local.prompt_tokens > 0
    served = estimate_cost(engine, params_for(srv, judge, "estimate"))
    assert served.paid is False


def test_an_unpriced_paid_model_costs_unknown_not_zero(sc):
    from blindrefusal.models.calls import cost_of

    engine, _, _ = sc
    est = estimate_cost(engine, SpotCheckParams(model="claude-opus-4-6", n=20))
    assert est.paid is True
    assert est.cost_usd is None or est.cost_usd > 0, est.cost_usd
    assert cost_of(resolve("claude-opus-4-6"), 1000, 1000) != 0.0


def _cli_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(PYTHONPATH=str(ROOT), LITELLM_LOCAL_MODEL_COST_MAP="True", **extra)
    return env


def test_cli_refuses_a_paid_model_without_yes(paper_store_url):
    from db.engine import get_engine
    from db.read_store import store_counts

    engine = get_engine(paper_store_url)
    before = store_counts(engine)
    # no key is set: even if the guard failed, call_model would stop before any request
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "spot-check", "--model", "claude-opus-4-6", "--n", "5",
                           "--json"], cwd=ROOT, env=_cli_env(BR_DATABASE_URL=paper_store_url),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-2000:])
    assert "--yes" in proc.stderr and "paid" in proc.stderr
    assert proc.stdout.strip() == ""
    after = store_counts(engine)
    assert after["spot_check_runs"] == before["spot_check_runs"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM response WHERE source <> 'paper'")).scalar() == 0


# ------------------------------------------------------------------ the real local model


def test_cli_spot_check_with_the_real_local_model_resumes(paper_store_url, local_model_url):
    env = _cli_env(BR_DATABASE_URL=paper_store_url, BR_LOCAL_MODEL_URL=local_model_url)
    cmd = [sys.executable, "-m", "blindrefusal", "spot-check", "--model", "local/smollm2", "--n", "6", "--json",
           "--judge", "llm:local/smollm2", "--max-tokens", "48", "--bridge-models", "1"]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    out = json.loads(first.stdout)
    assert out["model"] == "local/smollm2" and out["judge"] == "llm:local/smollm2"
    assert out["calls"] >= 6 and out["skipped_already_answered"] == 0
    assert out["peak_concurrency"] == 1  # the local server answers one request at a time
    assert out["errors"] == 0, "a local answer failed"
    for block in ("defeated", "control"):
        assert set(RATE_KEYS) <= set(out[block])
    assert out["control"]["n"] >= 1 or out["defeated"]["n"] >= 1
    assert set(out["gap"]) == {"diff", "lo", "hi", "significant", "method"}
    if out["defeated"]["n"]:  # one paper model bridged by the same (local) judge; all 18 against GPT-5.4's labels
        assert len(out["vs_paper_labels"]) == 18 \
            and 1 <= out["rank_paper_labels"]["lo"] <= out["rank_paper_labels"]["hi"] <= 19
        assert out["comparison"] == "same_judge" and len(out["vs_paper"]) == len(out["judge_shift"]["by_model"]) == 1
    from db.engine import get_engine

    with get_engine(paper_store_url).connect() as conn:
        n_resp, n_ok = conn.execute(text("SELECT COUNT(*), SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) "
                                         "FROM response WHERE run_id = :r"),
                                    {"r": out["run_id"]}).one()
    assert n_resp == 6 and n_ok == 6

    second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)
    assert again["run_id"] == out["run_id"]
    assert again["calls"] == 0 and again["skipped_already_answered"] == 6
    assert '"calls": 0' in second.stdout


def test_a_concurrent_request_does_not_cut_off_a_streaming_local_answer(local_model_url):
    from blindrefusal.models.lm import litellm_module
    from blindrefusal.models.runner import call_model, ready

    async def go():
        spec = ready(resolve("local/smollm2", max_tokens=48))
        streaming = asyncio.Event()

        async def another_request():  # what a judge call does, kept to one token so the test stays fast
            await streaming.wait()
            return await litellm_module().acompletion(
                model="openai/smollm2", api_base=spec.api_base, api_key="sk-no-key-needed", max_tokens=1,
                messages=[{"role": "user", "content": "Hi"}])

        answer, _ = await asyncio.gather(
            call_model(spec, "Tell a short story about a cat.", settings=RunSettings(max_retries=0, timeout_s=120),
                       on_event=lambda _k, e, _p: streaming.set() if e == "token" else None),
            another_request())
        return answer

    answer = asyncio.run(go())
    assert answer.status == "ok" and answer.attempts == 1, answer.error


# ------------------------------------------------------------------ the page


def test_spot_check_page_renders_the_form_and_a_finished_run(sc):
    from streamlit.testing.v1 import AppTest

    engine, judge, srv = sc
    params = params_for(srv, judge, unique("scpage"), "delay=0.01;reply=refuse", n=10)
    run_id, _ = run_sync(run_spot_check(engine, params))

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()  # run the entry point first, so st.navigation resolves the page
    at.switch_page("app_pages/spot_check.py")
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("form")) == 1
    assert "Models (presets)" in [s.label for s in at.multiselect]
    assert "Sample size n" in [n.label for n in at.number_input]
    assert "Estimate and run" in [b.label for b in at.button]
    assert any(f"Run {run_id}" in b.label for b in at.button)  # the earlier spot-check is listed

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = str(run_id)
    at.run()  # run the entry point first, so st.navigation resolves the page
    at.switch_page("app_pages/spot_check.py")
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert "Rank among 19 (mixed judges)" in metrics and metrics["Helps (defeated)"] == "0.0%"  # not bridged
    assert metrics["Deflects (defeated)"] == "100.0%"
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads == ["Report (HTML, opens offline)", "Responses (CSV)", "Responses (JSONL)", "Summary (JSON)"]
    assert any(f"run {run_id}" in s.value for s in at.subheader)

    home = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    home.run()
    for _ in range(240):  # its placement is built once, in the background; Home then shows it to every visitor
        if home.dataframe:
            break
        time.sleep(0.5)
        home.run()
    assert not home.exception and run_id in list(home.dataframe[0].value["run"])

    for garbage in ("abc", f"{run_id},zz", "99999999"):  # a bad link says so and never raises
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["run"] = garbage
        at.run()
        at.switch_page("app_pages/spot_check.py")
        at.run()
        assert not at.exception, (garbage, at.exception)
        assert any("No spot-check run" in w.value for w in at.warning), garbage

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "999999"
    at.run()  # run the entry point first, so st.navigation resolves the page
    at.switch_page("app_pages/spot_check.py")
    at.run()
    assert not at.exception
    assert any("No spot-check run 999999" in w.value for w in at.warning)


def test_the_form_asks_for_gold_labels_says_what_they_buy_and_refuses_more_than_n(paper_store_url):
    """Gold labels from the page: the estimate gives the planned prediction-powered width; m > n is one error."""
    from streamlit.testing.v1 import AppTest

    def estimate(n: int, gold_n: int) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.switch_page("app_pages/spot_check.py")
        at.run()
        at.number_input(key="spot_n").set_value(n)
        at.selectbox(key="spot_gold").set_value("reviewers")
        at.number_input(key="spot_gold_n").set_value(gold_n)
        next(b for b in at.button if b.label == "Estimate and run").click()
        at.run()
        assert not at.exception, at.exception
        return at

    at = estimate(40, 30)  # about 26 of 30 land on defeated cases: refused, naming the size that works
    [error] = [e.value for e in at.error]
    assert "gold labels on defeated cases" in error and "use --gold-n" in error, error
    enough = int(error.split("use --gold-n ")[1].split()[0])
    at = estimate(40, enough)
    text = " ".join(m.value for m in at.markdown)
    assert f"With {enough} gold labels, about" in text and "defeated cases, expect a help-rate interval" in text, text
    at = estimate(40, 50)
    [error] = [e.value for e in at.error]
    assert "gold-n must be between 30 (fewer give no valid interval) and n = 40 (got 50)" in error


# ------------------------------------------------------------------ the same-judge bridge


def _paper_judgments(engine, judge: str, case_ids: list[int]) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(*) FROM judgment j JOIN response r ON r.id = j.response_id WHERE r.source = 'paper' "
            f"AND j.judge = :j AND r.case_id IN ({','.join(map(str, case_ids))})"), {"j": judge}).scalar()


def test_the_distilled_judge_bridges_the_paper_side_so_both_sides_share_one_judge(paper_store_url, fault_server):
    """The real distilled judge on both sides: the paper's answers on the sampled cases are re-judged, stored
    (reused by the next run), never change the release's labels, and give vs_paper, vs_paper_labels and the
    judge's shift, each checked against an independent count."""
    from blindrefusal import store
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    headline_before = store.totals(engine, store.Filters(sources=["paper"]))["defeated"]
    name = unique("bridge")
    params = SpotCheckParams(model=f"openai/{name};reply=refuse", n=20, api_base=fault_server.api_base,
                             judge="distilled")
    sampled = sample_cases(engine, params)
    est = estimate_cost(engine, params, sampled)
    assert len(est.bridge_models) == 18 and est.bridge_calls > 300 and est.judge_calls == 0 and not est.paid
    stages: list[str] = []
    run_id, _ = run_sync(run_spot_check(engine, params, progress=lambda p: stages.append(p.stage)))
    assert stages[-1] == "bridging" and "judging" in stages
    ids = [c.id for c in sampled]
    assert _paper_judgments(engine, "distilled", ids) == est.bridge_calls
    # the distilled judge trained on most paper answers: each bridged label is the cross-fitted one, from the
    # fold judge that never saw the answer's case
    from blindrefusal.judges import JudgeInput
    from blindrefusal.judges.distilled.crossfit import cross_fit_labels

    with engine.connect() as conn:
        bridged = conn.execute(text(
            "SELECT j.judge_version, j.response_type, j.reasoning, r.text, c.key FROM judgment j "
            "JOIN response r ON r.id = j.response_id JOIN \"case\" c ON c.id = r.case_id WHERE r.source = 'paper' "
            f"AND j.judge = 'distilled' AND r.case_id IN ({','.join(map(str, ids))})")).all()
    labels, version = cross_fit_labels(), load_distilled_judge().version
    assert labels is not None and labels.info["judge_version"] == version
    for judge_version, rt, reasoning, answer, key in bridged:
        hit = labels.lookup(JudgeInput("", answer, case_key=key))
        if hit is None:  # an answer the release left unlabelled: no cross-fitted label, the shipped judge's
            assert judge_version == version and "cross-fitted" not in reasoning
            continue
        assert judge_version == version + "+crossfit5"
        assert rt == hit[0].response_type and f"fold {hit[1]}'s judge" in reasoning
    # the release's labels still stand for the paper's answers: the headline and every effective label
    assert store.totals(engine, store.Filters(sources=["paper"]))["defeated"] == headline_before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM response "
                                 "WHERE source = 'paper' AND eff_judge = 'distilled'")).scalar() == 0

    out = to_json(results(engine, run_id))
    assert_results_shape(out, params.model, 20, "distilled")
    assert out["comparison"] == "same_judge" and len(out["vs_paper"]) == 18 and out["rank"]["of"] == 19
    defeated = [c.id for c in sampled if not c.is_control]
    with engine.connect() as conn:  # an independent count of one shift: distilled minus GPT-5.4, same answers
        rows = conn.execute(text(
            "SELECT m.key, r.case_id, d.response_type, p.response_type FROM response r "
            "JOIN model_config m ON m.id = r.model_config_id "
            "JOIN judgment d ON d.response_id = r.id AND d.judge = 'distilled' "
            "JOIN judgment p ON p.response_id = r.id AND p.judge = 'gpt-5.4 (paper)' "
            f"WHERE r.source = 'paper' AND r.case_id IN ({','.join(map(str, defeated))})")).all()
    by_model: dict[str, dict[int, int]] = {}
    for key, cid, d, p in rows:
        by_model.setdefault(key, {})[cid] = (d == "helps") - (p == "helps")
    shifts = {key: weighted_mean(diffs, params, engine) for key, diffs in by_model.items()}
    for key, shift in shifts.items():
        assert out["judge_shift"]["by_model"][key]["diff"] == pytest.approx(shift), key
    per_case: dict[int, list[int]] = {}
    for diffs in by_model.values():
        for cid, d in diffs.items():
            per_case.setdefault(cid, []).append(d)
    mean = out["judge_shift"]["mean"]  # signed, over the models, per case, with its interval (no mean |shift|)
    assert mean["diff"] == pytest.approx(weighted_mean({c: sum(v) / len(v) for c, v in per_case.items()}, params,
                                                       engine))
    assert mean["lo"] < mean["diff"] < mean["hi"] and "mean_abs" not in out["judge_shift"]
    res = results(engine, run_id)
    assert "on both sides" in comparison_text(res)

    # a second spot-check on the same sample reuses the bridge: nothing left to judge on the paper side
    again = SpotCheckParams(model=f"openai/{unique('bridge')};reply=help", n=20, api_base=fault_server.api_base,
                            judge="distilled")
    assert estimate_cost(engine, again).bridge_calls == 0


def test_a_paper_answer_without_a_cross_fitted_label_is_bridged_once_by_the_shipped_judge(paper_store_url):
    """The release left a few answers unlabelled, so they have no cross-fitted label: the bridge labels them
    with the shipped judge, once, and does not come back to them on the next spot-check."""
    from types import SimpleNamespace

    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    with engine.connect() as conn:
        rid, case_id, key = conn.execute(text(
            "SELECT r.id, r.case_id, m.key FROM response r JOIN model_config m ON m.id = r.model_config_id "
            "WHERE r.source = 'paper' AND r.status = 'ok' AND r.text <> '' AND NOT EXISTS (SELECT 1 FROM judgment j "
            "WHERE j.response_id = r.id AND j.judge = 'gpt-5.4 (paper)') ORDER BY r.id LIMIT 1")).first()
    judge, cases = load_distilled_judge(), [SimpleNamespace(id=case_id)]
    assert rid in {r["id"] for r in spotcheck_bridge.bridge_rows(engine, judge, cases, [key])}
    run_sync(spotcheck_bridge.bridge_paper_answers(engine, judge, cases, [key]))
    assert rid not in {r["id"] for r in spotcheck_bridge.bridge_rows(engine, judge, cases, [key])}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT judge_version FROM judgment WHERE response_id = :r AND judge = 'distilled'"),
                            {"r": rid}).scalar() == judge.version


def test_bridge_models_spread_across_the_help_rate_range_and_a_paid_judge_bridges_six(paper_store_url):
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    params = SpotCheckParams(model="local/smollm2", n=60, judge="llm:openai/gpt-5.4-mini")
    cases = sample_cases(engine, params)
    all_models = spotcheck.bridge_models(engine, cases, 100)
    assert len(all_models) == 18
    three = spotcheck.bridge_models(engine, cases, 3)
    # the least and the most helpful, and one from the middle (ranked by GPT-5.4's labels on these cases)
    assert len(three) == 3 and (three[0], three[-1]) == (all_models[0], all_models[-1]) \
        and three[1] == all_models[round((len(all_models) - 1) / 2)]
    assert spotcheck.bridge_models(engine, cases, 0) == []
    paid_judge = LLMJudge(resolve("openai/gpt-5.4-mini"))
    est = estimate_cost(engine, params, cases, judge=paid_judge)
    assert len(est.bridge_models) == spotcheck_bridge.LLM_BRIDGE_DEFAULT == 6 and est.paid and not est.model_paid
    assert est.judge_calls == len(cases) + est.bridge_calls and est.bridge_calls > 0
    assert "Same-judge bridge: 6 paper models" in est.text() and "Judge:" in est.text()
    assert len(estimate_cost(engine, SpotCheckParams(model="local/smollm2", n=60, bridge_models=2), cases,
                             judge=paid_judge).bridge_models) == 2


def test_the_paper_judge_needs_no_bridge(paper_store_url, fault_server, monkeypatch):
    """GPT-5.4 with the authors' prompt (served here by the fault server) is the judge of the release's labels:
    the comparison stands as it is, no paper answer is re-judged."""
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    monkeypatch.setenv("BR_JUDGE_API_BASE", fault_server.api_base)
    params = SpotCheckParams(model=f"openai/{unique('pj')};reply=refuse", n=12, api_base=fault_server.api_base,
                             judge="paper")
    assert estimate_cost(engine, params).bridge_models == []
    run_id, _ = run_sync(run_spot_check(engine, params))
    res = results(engine, run_id)
    assert res.judge.startswith("paper:gpt-5.4-2026-03-05@")
    assert res.comparison == "paper_judge" and res.vs_paper == res.vs_paper_labels and res.judge_shift == {}
    assert "no bridge needed" in comparison_text(res)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM judgment j JOIN response r ON r.id = j.response_id "
                                 "WHERE r.source = 'paper' AND j.judge LIKE 'paper:%'")).scalar() == 0


def test_cli_spot_check_json_has_both_views_and_the_shift(paper_store_url, fault_server):
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "spot-check", "--model",
                           f"openai/{unique('cli')};reply=refuse", "--api-base", fault_server.api_base, "--n", "10",
                           "--judge", "distilled", "--json"], cwd=ROOT, env=_cli_env(BR_DATABASE_URL=paper_store_url),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["comparison"] == "same_judge" and len(out["vs_paper"]) == 18 and len(out["vs_paper_labels"]) == 18
    assert len(out["judge_shift"]["by_model"]) == 18 and out["judge_shift"]["mean"]["diff"] is not None


# ------------------------------------------------------------------ several models, one sample, one report


def test_two_models_on_one_sample_compared_paired_with_a_report_that_opens_offline(paper_store_url, fault_server,
                                                                                    local_model_url, tmp_path):
    """`spot-check --model local/smollm2 --model <fault server> --report r.html`: the real local model and a
    fault-server model answer the same cases, are compared with each other paired under one judge, and the
    report is one file that Chromium renders with every network request refused."""
    refuser = f"openai/{unique('multi')};reply=refuse"
    report = tmp_path / "r.html"
    env = _cli_env(BR_DATABASE_URL=paper_store_url, BR_LOCAL_MODEL_URL=local_model_url)
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "spot-check", "--model", "local/smollm2", "--model",
                           refuser, "--api-base", fault_server.api_base, "--n", "8", "--max-tokens", "32",
                           "--judge", "distilled", "--bridge-models", "2", "--json", "--report", str(report)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert [m["model"] for m in out["models"]] == ["local/smollm2", refuser]
    assert all(m["comparison"] == "same_judge" and len(m["vs_paper"]) == 2 for m in out["models"])
    from blindrefusal import store
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    with engine.connect() as conn:
        per_run = {rid: {c for c, in conn.execute(text("SELECT case_id FROM response WHERE run_id = :r"), {"r": rid})}
                   for rid in (m["run_id"] for m in out["models"])}
        labels = {rid: dict(conn.execute(text(
            "SELECT r.case_id, j.response_type FROM response r JOIN judgment j ON j.response_id = r.id "
            "AND j.judge = 'distilled' JOIN \"case\" c ON c.id = r.case_id WHERE r.run_id = :r "
            "AND c.family <> 'control'"), {"r": rid}).all()) for rid in per_run}
    a, b = per_run
    assert per_run[a] == per_run[b] and len(per_run[a]) == 8  # one sample for both
    [pair] = out["pairwise"]
    common = sorted(set(labels[a]) & set(labels[b]))
    run = store.get_run(engine, a)  # weighted like the sample: by hand, over the run's post-strata
    params = SpotCheckParams(**{k: v for k, v in run["params"].items() if k in SpotCheckParams.__dataclass_fields__})
    expected = weighted_mean({c: (labels[a][c] == "helps") - (labels[b][c] == "helps") for c in common}, params,
                             engine)
    assert (pair["a"], pair["b"], pair["judge"], pair["n"]) == ("local/smollm2", refuser, "distilled", len(common))
    assert pair["diff"] == pytest.approx(expected)

    html = report.read_text(encoding="utf-8")
    assert "SmolLM2" in html and "multi" in html and "Pattison" in html and "95%" in html
    assert "<script>alert" not in html
    from playwright.sync_api import sync_playwright

    from tests.support.browser import ARGS, chromium

    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        page = browser.new_page()
        page.route("http*://**", lambda route: (refused.append(route.request.url), route.abort()))
        page.goto(report.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        assert page.locator(".js-plotly-plot").count() >= 3  # label shares and a comparison per model
        browser.close()
    assert refused == []


def test_models_of_one_spot_check_must_share_the_sample(paper_store_url):
    base = SpotCheckParams(model="local/smollm2", n=10)
    with pytest.raises(spotcheck.SpotCheckError, match="only --model and --system-prompt may differ"):
        run_sync(spotcheck.run_spot_checks(None, [base, SpotCheckParams(model="openai/x", n=11)]))
    with pytest.raises(spotcheck.SpotCheckError, match="given twice"):
        run_sync(spotcheck.run_spot_checks(None, [base, base]))


def test_the_power_hint_names_the_detectable_difference_and_warns_for_a_rank(paper_store_url):
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    def hint(n: int):
        params = SpotCheckParams(model="x", n=n)
        return spotcheck.power_hint(engine, sample_cases(engine, params), sample_design(engine, params))

    small, large = hint(80), hint(1000)
    assert small.min_difference > large.min_difference > 0
    assert 0.05 < small.discordance < 0.5 and small.effective_n <= small.defeated_n  # the paper models' discordance
    assert "pp" in small.text() and "80%" in small.text() and "up or down" in small.text()
    assert small.rank_warning is not None and small.rank_span > large.rank_span

"""Gold labels on a random subset of a spot-check: `spot-check --gold paper:<model> --gold-n M` against the fault
server acting as the gold judge labels only the M sampled answers, keeps them beside the run's own labels, and
the JSON carries the prediction-powered interval beside the judge-only one, with m, λ and the method."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import text

from tests.evals.test_spotcheck import _cli_env, unique
from tests.support import ROOT


def _gold_judgments(engine, run_id: int) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT r.case_id, j.judge, j.precedence FROM judgment j JOIN response r ON r.id = j.response_id "
            "WHERE r.run_id = :r AND j.judge LIKE 'paper:%'"), {"r": run_id}).all()


def _gold_spot_check(store_url: str, srv, models: list[str], gold_model: str, *extra: str) -> tuple[list, dict]:
    """`spot-check` of these models (n = 100, distilled judge) with the fault server as gold judge for 40 answers:
    (the command, the --json output)."""
    cmd = [sys.executable, "-m", "blindrefusal", "spot-check", *(a for m in models for a in ("--model", m)),
           "--api-base", srv.api_base, "--n", "100", "--judge", "distilled", *extra,
           "--gold", f"paper:openai/{gold_model}", "--gold-n", "40", "--json", "--yes"]
    proc = subprocess.run(cmd, cwd=ROOT, env=_gold_env(store_url, srv), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return cmd, json.loads(proc.stdout)


def _gold_env(store_url: str, srv) -> dict:
    return _cli_env(BR_DATABASE_URL=store_url, BR_JUDGE_API_BASE=srv.api_base)


def test_cli_gold_labels_only_the_sampled_subset_and_reports_prediction_powered_intervals(paper_store_url, fault_server,
                                                                                          tmp_path):
    from db.engine import get_engine

    gold_model = unique("gold")
    cmd, out = _gold_spot_check(paper_store_url, fault_server, [f"openai/{unique('m')};reply=help"], gold_model)
    env = _gold_env(paper_store_url, fault_server)
    engine = get_engine(paper_store_url)
    gold = _gold_judgments(engine, out["run_id"])
    # exactly the M drawn answers, once each, and only as comparison labels: the run's own labels stand
    assert len(gold) == 40 == len({cid for cid, _, _ in gold}) == len(fault_server.requests_for(gold_model))
    assert {p for _, _, p in gold} == {0}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM response WHERE run_id = :r AND eff_judge <> 'distilled'"),
                            {"r": out["run_id"]}).scalar() == 0
    g = out["gold"]
    assert g["judge"].startswith(f"paper:openai/{gold_model}@")
    for block in [g["rates"]["helps"], *g["vs_paper"].values()]:
        ppi, judge_only = block["ppi"], block["judge_only"]
        assert {"estimate", "lo", "hi", "lambda", "m", "method"} <= set(ppi) and 25 <= ppi["m"] <= 40
        assert ppi["lo"] <= ppi["estimate"] <= ppi["hi"] and 0 <= ppi["lambda"] <= 1
        assert judge_only["lo"] <= judge_only.get("rate", judge_only.get("diff")) <= judge_only["hi"]
    assert len(g["vs_paper"]) == 18 and "Holm" in g["rank"]["method"]
    # the fault server's gold judge never says "helps": the gold-only score interval stands in at the boundary
    assert g["rates"]["helps"]["ppi"]["estimate"] == 0.0 and g["rates"]["helps"]["ppi"]["hi"] > 0.05
    assert "gold labels alone" in g["rates"]["helps"]["ppi"]["method"]

    # the same settings again: nothing new to answer or to gold-label; the numbers are the same
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(fault_server.requests_for(gold_model)) == 40
    assert json.loads(again.stdout)["gold"] == g
    # the report shows the same, beside the judge-only numbers
    report = tmp_path / "r.html"
    done = subprocess.run(cmd + ["--report", str(report)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    html = report.read_text(encoding="utf-8")
    assert "with gold labels" in html and "prediction-powered" in html and "judge only" in html


def test_gold_settings_are_checked_before_any_call(paper_store_url, fault_server):
    base = [sys.executable, "-m", "blindrefusal", "spot-check", "--model", f"openai/{unique('m')}", "--api-base",
            fault_server.api_base, "--n", "50"]
    env = _cli_env(BR_DATABASE_URL=paper_store_url)
    for extra, says in ((["--gold", "paper:openai/g"], "--gold-n"),
                        (["--gold", "paper:openai/g", "--gold-n", "5"], "30"),
                        (["--gold-n", "40"], "--gold")):
        proc = subprocess.run(base + extra, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode != 0 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_two_models_gold_labelled_on_one_sample_get_a_prediction_powered_difference(paper_store_url, fault_server):
    """Two models, one sample, one gold judge: both runs are gold-labelled on the same random cases, and their
    pairwise difference gets a prediction-powered interval beside the judge-only one. The gold judge here never
    says "helps", so the rectified difference is 0 whatever the cheap judge saw (a helper against a refuser)."""
    gold_model = unique("gold2")
    helper, refuser = f"openai/{unique('a')};reply=help", f"openai/{unique('b')};reply=refuse"
    _, out = _gold_spot_check(paper_store_url, fault_server, [helper, refuser], gold_model, "--bridge-models", "0")
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    a, b = (m["run_id"] for m in out["models"])
    assert {c for c, _, _ in _gold_judgments(engine, a)} == {c for c, _, _ in _gold_judgments(engine, b)}
    assert len(fault_server.requests_for(gold_model)) == 80  # 40 answers of each model
    [pair] = out["pairwise"]
    assert pair["diff"] > 0.2 and pair["lo"] > 0  # the cheap judge: the helper helps more than the refuser
    ppi = pair["prediction_powered"]
    assert ppi["gold_judge"].startswith(f"paper:openai/{gold_model}@") and 25 <= ppi["m"] <= 40
    assert ppi["estimate"] == 0.0 and ppi["lo"] < 0 < ppi["hi"] and "gold labels alone" in ppi["method"]


def test_a_gold_pair_rectifies_a_judge_that_under_counts_one_model_in_the_right_direction():
    """Pure logic: model A truly helps 60%, B 20%; the cheap judge misses a sixth of A's helps, so its A − B
    is ~10 pp short. The prediction-powered A − B (gold labels on a random 120 of 400 cases, both models)
    is back near the truth, and covers it."""
    import numpy as np

    from blindrefusal.analysis.ppi import PPI_METHOD
    from blindrefusal.analysis.weighted import Design
    from blindrefusal.evals.spotcheck.gold import gold_pair

    rng = np.random.default_rng(3)
    n, m = 400, 120
    design = Design(cell_of={c: ("fam", "auth") for c in range(n)}, population={("fam", "auth"): 4000})
    true_a, true_b = rng.random(n) < 0.6, rng.random(n) < 0.2
    cheap_a = {c: int(true_a[c] and rng.random() > 1 / 6) for c in range(n)}
    cheap_b = {c: int(true_b[c]) for c in range(n)}
    gold_ids = [int(c) for c in rng.choice(n, m, replace=False)]
    verdict = {True: ("helps", None, None), False: ("deflects", None, None)}
    est = gold_pair({c: verdict[bool(true_a[c])] for c in gold_ids}, {c: verdict[bool(true_b[c])] for c in gold_ids},
                    cheap_a, cheap_b, design)
    truth = float(true_a.mean() - true_b.mean())
    judge_only = (sum(cheap_a.values()) - sum(cheap_b.values())) / n
    assert est.method == PPI_METHOD and est.m == m and est.n == n
    assert est.lo <= truth <= est.hi and abs(est.estimate - truth) < abs(judge_only - truth) - 0.05


def test_a_gold_size_that_cannot_give_30_defeated_gold_labels_is_refused_naming_the_one_that_can(paper_store_url):
    """About 84% of a sample is defeated cases: 30 gold labels put about 25 on them, and the defeated rates'
    prediction-powered interval needs 30 (issue 40: 1,000 of 1,000 draws had none). Refused with the smallest
    --gold-n that works, which then passes; plan-gold's m never asks for fewer."""
    import pytest

    from blindrefusal.analysis.ppi import MIN_GOLD, plan_gold
    from blindrefusal.evals.spotcheck import SpotCheckError, SpotCheckParams, plan_spot_check, sample_cases
    from blindrefusal.evals.spotcheck.gold import RELEASE_DEFEATED_SHARE, defeated_gold
    from db.engine import get_engine

    engine = get_engine(paper_store_url)
    asked = SpotCheckParams(model="local/smollm2", n=200, seed=3, judge="distilled", gold="reviewers", gold_n=30)
    with pytest.raises(SpotCheckError, match=r"--gold-n 30 puts \d+ gold labels on defeated cases") as refused:
        plan_spot_check(engine, [asked])
    enough = int(str(refused.value).split("use --gold-n ")[1].split()[0])
    cases = sample_cases(engine, asked)
    assert defeated_gold(cases, enough, 3) >= MIN_GOLD > defeated_gold(cases, enough - 1, 3)
    plan_spot_check(engine, [SpotCheckParams(**{**asked.__dict__, "gold_n": enough})])
    plan = plan_gold(100.0, 0.05, 1.0, 0.8, defeated_share=RELEASE_DEFEATED_SHARE, n_max=1290)
    assert int(plan.m * RELEASE_DEFEATED_SHARE) >= MIN_GOLD

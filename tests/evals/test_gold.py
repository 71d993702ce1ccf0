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


def test_cli_gold_labels_only_the_sampled_subset_and_reports_prediction_powered_intervals(paper_store_url, fault_server,
                                                                                          tmp_path):
    from db.engine import get_engine

    gold_model = unique("gold")
    cmd = [sys.executable, "-m", "blindrefusal", "spot-check", "--model", f"openai/{unique('m')};reply=help",
           "--api-base", fault_server.api_base, "--n", "100", "--judge", "distilled",
           "--gold", f"paper:openai/{gold_model}", "--gold-n", "40", "--json", "--yes"]
    env = _cli_env(BR_DATABASE_URL=paper_store_url, BR_JUDGE_API_BASE=fault_server.api_base)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
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
    for extra, says in ((["--gold", "paper:openai/g"], "--gold-n"), (["--gold", "paper:openai/g", "--gold-n", "5"], "30"),
                        (["--gold-n", "40"], "--gold")):
        proc = subprocess.run(base + extra, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode != 0 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr

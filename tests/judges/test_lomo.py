"""Leave one model out, in a reduced form (two models, a sample of the training answers; the full run is
`judge-eval --leave-one-model-out --write`, ~5 min per model, its numbers in the README): each refit never
sees the left-out model, and the reported errors are the judge's rates minus GPT-5.4's on that model's
held-out defeated answers, checked against an independent count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from blindrefusal.judges.distilled import lomo
from blindrefusal.judges.distilled.data import load_rows
from tests.support import ROOT

pytestmark = pytest.mark.slow  # refits the distilled judge

MODELS = ["glm-5", "grok-4"]


def test_each_refit_leaves_its_model_out_and_the_errors_are_counted_on_its_held_out_answers(paper_source, monkeypatch):
    seen_in_training: dict[int, set[str]] = {}
    real_fit = lomo.fit

    def spy(rows, *args, **kwargs):
        seen_in_training[len(seen_in_training)] = {r.model_slug for r in rows}
        return real_fit(rows, *args, **kwargs)

    monkeypatch.setattr(lomo, "fit", spy)
    result = lomo.leave_one_model_out(paper_source, models=MODELS, train_sample=1200)
    assert [MODELS[i] not in slugs and len(slugs) >= 10 for i, slugs in seen_in_training.items()] == [True, True]

    _, test_rows, _ = load_rows(paper_source)
    for slug in MODELS:
        held = [r for r in test_rows if r.model_slug == slug and r.family != "control"]
        m = result["per_model"][slug]
        assert m["n"] == len(held) > 100
        for which in ("unseen", "seen"):
            got = m[which]
            assert got["gpt54_help_rate"] == pytest.approx(sum(r.response_type == "helps" for r in held) / len(held),
                                                           abs=1e-4)
            lo, hi = got["help_rate_error_ci_pp"]
            assert lo <= got["help_rate_error_pp"] <= hi and -100 <= lo and hi <= 100
            assert -1 <= got["kappa_response_type"] <= 1
    s = result["summary"]
    errors = [abs(result["per_model"][m]["unseen"]["help_rate_error_pp"]) for m in MODELS]
    assert s["models"] == 2 and s["unseen"]["help_rate_error_pp"]["max_abs"] == pytest.approx(max(errors))
    assert s["unseen"]["help_rate_error_pp"]["mean_abs"] == pytest.approx(sum(errors) / 2, abs=0.01)


def test_cli_one_line_errors(paper_source):
    env = {**os.environ, "BR_DATA_SOURCE": paper_source}
    for extra, needle in ((["--lomo-model", "no-such-model"], "not a paper model"),
                          (["--lomo-train-sample", "100", "--write"], "never written")):
        proc = subprocess.run([sys.executable, "-m", "blindrefusal", "judge-eval", "--leave-one-model-out", *extra],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_a_new_judge_version_starts_the_measurement_again_and_keeps_the_old_summary():
    """Entries measured with an earlier training pipeline are not resumed from; their summary is kept to compare
    (and stays once the new measurement is complete)."""
    def entry(err: float, version: str | None) -> dict:
        side = {"help_rate_error_pp": err, "engagement_error_pp": 1.0, "kappa_response_type": 0.8}
        return {"n": 200, "unseen": side, "seen": side} | ({"judge_version": version} if version else {})

    doc = {"per_model": {"a": entry(-2.0, None), "b": entry(4.0, "1.1"), "c": entry(-1.0, lomo.VERSION)}}
    current, before = lomo._current(doc)
    assert list(current) == ["c"] and before["judge_version"] == "1.1"
    assert before["summary"]["unseen"]["help_rate_error_pp"] == {"mean_abs": 3.0, "max_abs": 4.0}
    assert before["help_rate_mean_signed_pp"] == 1.0 and before["unseen_help_rate_error_pp"] == {"a": -2.0, "b": 4.0}
    rewritten = lomo._document(current, 0, "x" * 40, before)
    assert lomo._current(rewritten) == (current, before)  # nothing old left: the kept summary stays

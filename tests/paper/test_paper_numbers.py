"""The paper's headline numbers, reproduced from the real release (skipped unless BR_DATA_SOURCE points to a
local copy; `.ci/run` sets it). Run locally with `BR_DATA_SOURCE=/work/shared/blind-refusal`.

Each number is checked three ways: metrics.store_stats on the imported store, `python -m blindrefusal
stats --json` in a subprocess, and the shipped summary (data/paper_summary.csv) through db.summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from blindrefusal import store as q
from blindrefusal.analysis.rates import store_stats
from blindrefusal.config import DATA_DIR
from blindrefusal.paper import taxonomy
from blindrefusal.store import summary_engine
from db.engine import get_engine
from tests.support import ROOT
from vocabulary import COUNT_FIELDS, PAPER_JUDGE

# From the paper (Pattison, Manuali, Lazar 2026) and DESIGN.md; fractions compared at 3 decimals.
PAPER = {
    "responses": 23_189,
    "cases": 1_290,
    "models": 18,
    "defeated": {"n": 19_430, "helps": 0.246, "deflects": 0.708, "hard_refusal": 0.046, "refusal": 0.754,
                 "engages": 0.575},
    "control": {"n": 3_759, "helps": 0.042},
    "by_family": {"illegitimate_authority": 0.329, "content_defeat": 0.236, "application_defeat": 0.238,
                  "exception_justified": 0.227},
    "by_model": {"grok-4": 0.580, "gpt-5-4-mini-base": 0.077},
}


def assert_paper_numbers(s: dict, *, with_cases: bool = True) -> None:
    assert s["responses"] == PAPER["responses"]
    if with_cases:
        assert s["cases"] == PAPER["cases"]
    assert s["models"] == PAPER["models"]
    d = s["defeated"]
    assert d["n"] == PAPER["defeated"]["n"]
    for key in ("helps", "deflects", "hard_refusal", "refusal", "engages"):
        assert round(d[key], 3) == PAPER["defeated"][key], key
    assert d["helps"] + d["refusal"] == pytest.approx(1.0)
    assert s["control"]["n"] == PAPER["control"]["n"]
    assert s["defeated"]["n"] + s["control"]["n"] == s["responses"]
    assert round(s["control"]["helps"], 3) == PAPER["control"]["helps"]
    for fam, helps in PAPER["by_family"].items():
        assert round(s["by_family"][fam]["helps"], 3) == helps, fam
    assert round(s["by_family"]["control"]["helps"], 3) == PAPER["control"]["helps"]
    for model, helps in PAPER["by_model"].items():
        assert round(s["by_model"][model]["helps"], 3) == helps, model
    assert len(s["by_model"]) == PAPER["models"]
    assert sum(v["n"] for v in s["by_model"].values()) == PAPER["defeated"]["n"]
    assert sum(v["n"] for k, v in s["by_family"].items() if k != "control") == PAPER["defeated"]["n"]


def test_store_stats_reproduce_the_paper(paper_store_url):
    engine = get_engine(paper_store_url)
    s = store_stats(engine)
    assert_paper_numbers(s)
    # the labels are the paper judge's own: restricting to it changes nothing (reviewer labels rank below it)
    assert store_stats(engine, judge=PAPER_JUDGE) == s
    counts = q.store_counts(engine)
    assert counts["paper_cases"] == PAPER["cases"]
    assert counts["paper_judged"] == PAPER["responses"]
    assert counts["paper_models"] == PAPER["models"]
    assert counts["paper_responses"] >= counts["paper_judged"]  # failed calls are kept, unjudged
    with engine.connect() as conn:
        judged_twice = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT response_id FROM judgment WHERE judge = :j GROUP BY response_id "
            "HAVING COUNT(*) > 1) AS twice"), {"j": PAPER_JUDGE}).scalar()
        by_status = dict(conn.execute(text(
            "SELECT status || ':' || CASE WHEN eff_response_type IS NULL THEN 'unjudged' ELSE 'judged' END, COUNT(*) "
            "FROM response WHERE source = 'paper' GROUP BY 1")).all())
    assert judged_twice == 0  # each judged response counted once
    # 23,220 stored answers: 23,189 judged, 11 failed calls, and 20 answers the paper's judge never evaluated
    assert by_status == {"ok:judged": 23_189, "error:unjudged": 11, "ok:unjudged": 20}


def _stats_cli(db_url: str, *extra: str) -> dict:
    env = {**os.environ, "BR_DATABASE_URL": db_url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "stats", "--json", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_stats_cli_reproduces_the_paper(paper_store_url):
    s = _stats_cli(paper_store_url)
    assert_paper_numbers(s)
    assert s == json.loads(json.dumps(store_stats(get_engine(paper_store_url))))
    assert _stats_cli(paper_store_url, "--judge", PAPER_JUDGE) == s


def test_every_paper_case_maps_into_the_taxonomy(paper_store_url, paper_source):
    engine = get_engine(paper_store_url)
    with engine.connect() as conn:
        rows = conn.execute(text('SELECT family, subtype, subtype_raw, authority_type, authority_group '
                                 'FROM "case" WHERE source = \'paper\'')).all()
    assert len(rows) == PAPER["cases"]
    unmapped = sorted({(f, raw) for f, sub, raw, _, _ in rows if sub == taxonomy.UNMAPPED})
    assert unmapped == [], f"{len(unmapped)} raw subtype labels have no canonical key: {unmapped[:10]}"
    for fam, sub, raw, auth, group in rows:
        assert fam in taxonomy.FAMILIES
        assert sub in taxonomy.subtypes(fam), (fam, sub, raw)
        assert raw  # the free-text label is kept next to the key
        assert group in taxonomy.authority_groups(), (auth, group)
        assert auth in taxonomy.authority_types(), auth
    used = {sub for _, sub, _, _, _ in rows}
    all_keys = set(taxonomy.all_subtypes())
    assert len(all_keys) == 35
    assert used <= all_keys
    # The release holds no case coded as "never_agreed" (no free-text label names consent or agreement),
    # so 34 of the 35 keys are in use.
    assert all_keys - used == {"never_agreed"}
    assert {f for f, *_ in rows} == set(taxonomy.FAMILIES)
    assert {g for *_, g in rows} == set(taxonomy.authority_groups())
    assert len({a for _, _, _, a, _ in rows}) == len(taxonomy.authority_types()) == 19
    # the dataset's state_mandated label is folded into government
    assert any(raw_group_is_state_mandated(paper_source))

    # the project's taxonomy is the release's matrix
    matrix = json.loads((Path(paper_source) / "data" / "0_inputs" / "matrix.json").read_text())
    assert list(matrix["defeat_families"]) == list(taxonomy.FAMILIES)
    for fam in taxonomy.FAMILIES:
        assert set(matrix["defeat_subtypes"][fam]) == set(taxonomy.subtypes(fam)), fam
    assert set(matrix["authority_groups"]) == set(taxonomy.authority_groups())


def raw_group_is_state_mandated(source: str):
    """Yield True for each case file entry whose raw authority group is state_mandated (read at run time)."""
    for path in sorted((Path(source) / "data" / "2_filtered").glob("*.json")):
        for case in json.loads(path.read_text()).get("cases", []):
            if case.get("authority_group") == "state_mandated":
                yield True


def test_shipped_summary_reproduces_the_paper(paper_store_url):
    summ = summary_engine(DATA_DIR / "paper_summary.csv")
    s = store_stats(summ)
    assert_paper_numbers(s, with_cases=False)
    full = store_stats(get_engine(paper_store_url))
    s.pop("cases"), full.pop("cases")  # the summary holds one synthetic case per cell, not the 1,290 cases
    assert s == full  # every group, every rate, exactly
    for dim in ("subtype", "authority_group", "dual_use"):
        # the counts, exactly (their per-case sums differ: the summary has one synthetic case per cell)
        a = {bool(k) if dim == "dual_use" else k: {p: tuple(getattr(c, f) for f in COUNT_FIELDS) for p, c in v.items()}
             for k, v in q.by_dimension(summ, dim).items()}
        b = {bool(k) if dim == "dual_use" else k: {p: tuple(getattr(c, f) for f in COUNT_FIELDS) for p, c in v.items()}
             for k, v in q.by_dimension(get_engine(paper_store_url), dim).items()}
        assert a == b, dim

"""The release reader and `import-paper` on the synthetic fixture release (tests/support/release_fixture.py).

Expectations are written out from the fixture's own tables (CASES, LABELS, MODELS), not from the code
under test: which raw subtype stands for which canonical key, which response is the error, and so on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from blindrefusal import store as q
from blindrefusal.judges.human import set_human_label
from blindrefusal.paper.importer import import_paper
from blindrefusal.paper.release import read_release
from blindrefusal.paper.source import ReleaseError
from db.engine import get_engine
from tests.support import ROOT
from tests.support.release_fixture import CASES, LABELS, MODELS, write_fixture_release
from vocabulary import PAPER_JUDGE

SLUGS = list(MODELS)  # index 0 = model-a, 1 = model-b (the order LABELS uses)
ERRORED = (4, "model-b")  # the fixture's one failed call: no answer text, no evaluation
CORRUPT_NAME = "model-a_zz_broken.json"

# The canonical key each fixture case must land on (by hand from the taxonomy's 35 keys).
EXPECTED_SUBTYPE = {
    0: "just_and_reasonable",  # control: always the control subtype, whatever the raw label says
    1: "just_and_reasonable",
    2: "just_and_reasonable",
    3: "singled_out_unfairly",  # "subject_is_being_singled_out_unfairly"
    4: "dead_letter",  # already canonical
    5: "absurd_or_arbitrary",  # "absurd_arbitrary"
    6: "unmapped",  # "made_up_subtype_nobody_knows"
    7: "letter_not_spirit",  # "against_the_letter_but_not_the_spirit"
    8: "lacks_jurisdiction",  # "rule_making_body_lacks_jurisdiction"
}
N_CASES = len(CASES)
N_RESPONSES = N_CASES * len(MODELS)
N_JUDGED = N_RESPONSES - 1


def _snapshot(engine) -> dict:
    """Everything an import could change, in a comparable form."""
    with engine.connect() as conn:
        cases = conn.execute(text('SELECT key, family, subtype, subtype_raw, authority_group, rule, dual_use, '
                                  'structural_facts FROM "case" ORDER BY key')).all()
        resp = conn.execute(text("SELECT r.id, c.key, m.key, r.text, r.status, r.error, r.prompt_tokens, "
                                 "r.completion_tokens, r.eff_response_type, r.eff_engages, r.eff_harm, r.eff_judge "
                                 'FROM response r JOIN "case" c ON c.id = r.case_id '
                                 "JOIN model_config m ON m.id = r.model_config_id ORDER BY r.id")).all()
        judg = conn.execute(text("SELECT response_id, judge, response_type, engages_with_defeat, independent_harm, "
                                 "reasoning FROM judgment ORDER BY response_id, judge")).all()
    return {"counts": q.store_counts(engine), "judgment_rows": len(judg), "cases": [tuple(r) for r in cases],
            "responses": [tuple(r) for r in resp], "judgments": [tuple(r) for r in judg]}


def _responses(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT r.*, c.key AS case_key, m.key AS model_key FROM response r "
                                 'JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id'))
        return {(r.case_key, r.model_key): dict(r._mapping) for r in rows}


def _paper_judgments(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT j.*, c.key AS case_key, m.key AS model_key FROM judgment j "
                                 "JOIN response r ON r.id = j.response_id JOIN \"case\" c ON c.id = r.case_id "
                                 "JOIN model_config m ON m.id = r.model_config_id WHERE j.judge = :j"),
                            {"j": PAPER_JUDGE})
        return {(r.case_key, r.model_key): dict(r._mapping) for r in rows}


def _zip_like_github(release_root: Path, target: Path, top: str = "mint-compliant-cameron-0123abcd") -> Path:
    """Zip `release_root/data` as `<top>/data/...`, with directory entries, like a GitHub archive."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(top + "/", "")
        zf.writestr(top + "/README.md", "fixture")
        for path in sorted(release_root.rglob("*")):
            arc = top + "/" + path.relative_to(release_root).as_posix()
            if path.is_dir():
                zf.writestr(arc + "/", "")
            else:
                zf.write(path, arc)
    return target


def test_import_stores_every_field_of_the_fixture(engine, fixture_release):
    result = import_paper(str(fixture_release), engine=engine)
    assert result["cases"] == N_CASES
    assert result["responses"] == N_RESPONSES
    assert result["judgments"] == N_JUDGED
    counts = q.store_counts(engine)
    assert counts["paper_cases"] == N_CASES
    assert counts["paper_responses"] == N_RESPONSES
    assert counts["paper_judged"] == N_JUDGED
    assert counts["paper_models"] == len(MODELS)
    assert counts["unjudged"] == 0  # the only unlabelled response is the error, which is not "ok"
    assert q.judges_present(engine) == [PAPER_JUDGE]

    # Cases: canonical subtype with the raw string kept, groups, dual-use, facts in both encodings.
    for i, (cid, family, raw_sub, authority, group) in enumerate(CASES):
        case = q.get_case(engine, cid)
        assert case is not None, cid
        assert case["family"] == family
        assert case["subtype"] == EXPECTED_SUBTYPE[i], cid
        assert case["subtype_raw"] == raw_sub
        assert case["authority_type"] == authority
        assert case["authority_group"] == ("government" if group == "state_mandated" else group)
        assert bool(case["dual_use"]) is (i == 5), cid
        # odd cases carry a JSON list, even ones a Python-repr string of a list
        assert case["structural_facts"] == ([f"Fixture fact {i}a", f"Fixture fact {i}b"] if i % 2
                                            else [f"Fixture fact {i}"])
        assert case["dimensions"]["kind_of_rule"] == "institutional_policy"
        assert case["dimensions"]["evasion_type"] == "technical"
    profession = q.get_case(engine, "fx_control_profession_1")
    assert profession["authority_group"] == "government"  # not the type's default (semi_voluntary)

    # Responses: repr usage parsed, 'None' error means no error, the failed call kept as an error.
    resp = _responses(engine)
    assert len(resp) == N_RESPONSES
    for i, (cid, *_rest) in enumerate(CASES):
        for m_index, slug in enumerate(SLUGS):
            r = resp[(cid, slug)]
            if (i, slug) == ERRORED:
                assert r["status"] == "error"
                assert r["error"] == "All retries failed"
                assert r["text"] == ""
                assert r["eff_response_type"] is None and r["eff_judge"] is None
                continue
            assert r["status"] == "ok", (cid, slug)
            assert r["error"] is None, (cid, slug)  # the string 'None' must not survive as an error text
            assert r["text"] == f"Fixture answer from {slug} to case {i}."
            if m_index:  # repr string
                assert (r["prompt_tokens"], r["completion_tokens"]) == (10 + i, 20 + i)
            else:  # JSON object
                assert (r["prompt_tokens"], r["completion_tokens"]) == (10, 30)

    # Judgments: dict and repr-string evaluations both parsed; yes/no and bools become booleans.
    judg = _paper_judgments(engine)
    assert len(judg) == N_JUDGED
    for i, (cid, *_rest) in enumerate(CASES):
        for m_index, slug in enumerate(SLUGS):
            if (i, slug) == ERRORED:
                assert (cid, slug) not in judg
                continue
            rt, eng, harm = LABELS[i][m_index]
            j = judg[(cid, slug)]
            assert j["response_type"] == rt, (cid, slug)
            assert bool(j["engages_with_defeat"]) is (eng == "yes"), (cid, slug)
            assert bool(j["independent_harm"]) is harm, (cid, slug)
            assert j["reasoning"] == f"Fixture reasoning {i}."
            assert j["judge_version"] == "fixture-judge"
            r = resp[(cid, slug)]
            assert (r["eff_response_type"], bool(r["eff_engages"]), bool(r["eff_harm"])) == (rt, eng == "yes", harm)
            assert r["eff_judge"] == PAPER_JUDGE

    # Models: the file slug is the key; the judge-side id is kept as a parameter.
    with engine.connect() as conn:
        models = {k: json.loads(p) for k, p in conn.execute(text("SELECT key, params FROM model_config"))}
    assert set(models) == set(SLUGS)
    for slug, model_id in MODELS.items():
        assert models[slug]["openrouter_id"] == model_id
        assert models[slug]["max_tokens"] == 100


def test_reader_reports_unmapped_and_state_mandated_without_losing_the_raw_labels(fixture_release):
    rel = read_release(str(fixture_release))
    by_id = {c.case_id: c for c in rel.cases}
    unknown = by_id["fx_content_defeat_landlord_2"]
    assert unknown.subtype == "unmapped" and unknown.subtype_raw == "made_up_subtype_nobody_knows"
    assert [c.case_id for c in rel.cases if c.subtype == "unmapped"] == ["fx_content_defeat_landlord_2"]
    sm = by_id["fx_control_profession_1"]
    assert (sm.authority_group_raw, sm.authority_group) == ("state_mandated", "government")
    errors = [r for r in rel.responses if r.status != "success"]
    assert [(r.case_id, r.model_slug, r.error) for r in errors] == [
        ("fx_application_defeat_workplace_2", "model-b", "All retries failed")]
    assert all(r.error is None for r in rel.responses if r.status == "success")
    flagged = {r.case_id for r in rel.responses if r.dual_use} | {e.case_id for e in rel.evaluations if e.dual_use}
    assert flagged == {"fx_content_defeat_landlord_1"}


def test_reimport_is_idempotent_and_keeps_human_labels(engine, fixture_release):
    import_paper(str(fixture_release), engine=engine)
    target = _responses(engine)[("fx_application_defeat_workplace_1", "model-a")]  # paper label: helps/yes/no
    assert target["eff_response_type"] == "helps"
    judge = set_human_label(engine, target["id"], "human:Reviewer One", "hard_refusal", engages=False, harm=True,
                            note="disagree with the paper judge")
    before = _snapshot(engine)
    assert before["judgment_rows"] == N_JUDGED + 1

    result = import_paper(str(fixture_release), engine=engine)
    after = _snapshot(engine)
    assert result["cases"] == N_CASES and result["responses"] == N_RESPONSES and result["judgments"] == N_JUDGED
    assert after == before  # same rows, same ids, same labels: the import did not duplicate or reset anything

    again = _responses(engine)[("fx_application_defeat_workplace_1", "model-a")]
    assert again["id"] == target["id"]
    assert (again["eff_response_type"], bool(again["eff_engages"]), bool(again["eff_harm"])) == \
        ("hard_refusal", False, True)
    assert again["eff_judge"] == judge == "human:Reviewer One"
    # the paper's own judgment is still there underneath the human one
    assert _paper_judgments(engine)[("fx_application_defeat_workplace_1", "model-a")]["response_type"] == "helps"


def test_corrupt_release_names_the_file_and_leaves_the_store_unchanged(engine, fixture_release, tmp_path):
    import_paper(str(fixture_release), engine=engine)
    rid = _responses(engine)[("fx_illegitimate_authority_school_1", "model-b")]["id"]
    set_human_label(engine, rid, "human:Reviewer Two", "deflects", engages=True, harm=False)
    before = _snapshot(engine)

    corrupt = write_fixture_release(tmp_path / "corrupt", with_corrupt_file=True)
    # Make the otherwise-valid part of the corrupt release differ from what is stored, so that any
    # partial write before the failure would show up in the snapshot.
    cases_file = corrupt / "data" / "2_filtered" / "control_workplace.json"
    doc = json.loads(cases_file.read_text())
    doc["cases"][0]["unjust_policy"] = "A changed rule that must never reach the store."
    cases_file.write_text(json.dumps(doc))

    with pytest.raises(ReleaseError) as exc_info:
        import_paper(str(corrupt), engine=engine)
    assert CORRUPT_NAME in str(exc_info.value)
    assert _snapshot(engine) == before
    assert q.get_case(engine, "fx_control_workplace_1")["rule"] == "Fixture rule number 0 about widgets."


def test_corrupt_release_into_an_empty_store_writes_nothing(engine, tmp_path):
    corrupt = write_fixture_release(tmp_path / "corrupt", with_corrupt_file=True)
    with pytest.raises(ReleaseError, match=CORRUPT_NAME):
        import_paper(str(corrupt), engine=engine)
    assert q.store_counts(engine) == {"paper_cases": 0, "paper_responses": 0, "paper_judged": 0, "paper_models": 0,
                                      "live_runs": 0, "spot_check_runs": 0, "unjudged": 0}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM judgment")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM run")).scalar() == 0


def _drop_one_response(root: Path) -> Path:
    """A release whose evaluation files judge an answer that its response files no longer hold."""
    path = root / "data" / "3_responses" / "model-a_content_defeat_landlord.json"
    doc = json.loads(path.read_text())
    doc["responses"] = [r for r in doc["responses"] if r["case_id"] != "fx_content_defeat_landlord_1"]
    path.write_text(json.dumps(doc))
    cases_file = root / "data" / "2_filtered" / "control_workplace.json"
    cdoc = json.loads(cases_file.read_text())
    cdoc["cases"][0]["unjust_policy"] = "A changed rule that must never reach the store."
    cases_file.write_text(json.dumps(cdoc))
    return root


def test_write_phase_failure_rolls_back_everything(engine, tmp_path):
    """The release parses, but storing it fails half-way (a judgment with no response): nothing may remain,
    although cases and models were already written inside the transaction when the error came."""
    partial = _drop_one_response(write_fixture_release(tmp_path / "partial"))
    with pytest.raises(Exception, match="fx_content_defeat_landlord_1"):
        import_paper(str(partial), engine=engine)
    assert q.store_counts(engine)["paper_cases"] == 0
    with engine.connect() as conn:
        for table in ("\"case\"", "model_config", "run", "response", "judgment"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table


def test_reimport_drops_responses_that_left_the_release(engine, fixture_release, tmp_path):
    import_paper(str(fixture_release), engine=engine)
    smaller = write_fixture_release(tmp_path / "smaller")
    for folder, key in (("3_responses", "responses"), ("4_evaluated", "evaluations")):
        path = smaller / "data" / folder / "model-a_content_defeat_landlord.json"
        doc = json.loads(path.read_text())
        doc[key] = [r for r in doc[key] if r["case_id"] != "fx_content_defeat_landlord_1"]
        path.write_text(json.dumps(doc))
    import_paper(str(smaller), engine=engine)
    counts = q.store_counts(engine)
    assert counts["paper_judged"] == N_JUDGED - 1
    assert counts["paper_responses"] == N_RESPONSES - 1
    assert counts["unjudged"] == 0


def test_evaluation_without_response_is_a_release_error_naming_the_file(engine, tmp_path):
    partial = _drop_one_response(write_fixture_release(tmp_path / "partial"))
    with pytest.raises(ReleaseError, match="model-a_content_defeat_landlord"):
        import_paper(str(partial), engine=engine)


def test_missing_or_incomplete_source_raises_release_error(engine, tmp_path):
    missing = tmp_path / "no-such-release"
    with pytest.raises(ReleaseError, match="no-such-release"):
        import_paper(str(missing), engine=engine)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReleaseError, match="matrix.json"):
        import_paper(str(empty), engine=engine)

    partial = write_fixture_release(tmp_path / "partial")
    for f in (partial / "data" / "3_responses").iterdir():
        f.unlink()
    with pytest.raises(ReleaseError, match="3_responses"):
        import_paper(str(partial), engine=engine)
    assert q.store_counts(engine)["paper_cases"] == 0


def test_zip_with_a_top_level_folder_imports_like_the_directory(engine, fixture_release, tmp_path):
    import_paper(str(fixture_release), engine=engine)
    from_dir = _snapshot(engine)

    archive = _zip_like_github(fixture_release, tmp_path / "release.zip")
    zip_engine = get_engine(f"sqlite:///{tmp_path / 'from_zip.sqlite'}")
    result = import_paper(str(archive), engine=zip_engine)
    assert (result["cases"], result["responses"], result["judgments"]) == (N_CASES, N_RESPONSES, N_JUDGED)
    from_zip = _snapshot(zip_engine)
    assert from_zip["counts"] == from_dir["counts"]
    assert from_zip["judgment_rows"] == from_dir["judgment_rows"]
    assert from_zip["cases"] == from_dir["cases"]
    strip_ids = lambda rows: sorted(r[1:] for r in rows)  # noqa: E731
    assert strip_ids(from_zip["responses"]) == strip_ids(from_dir["responses"])

    # A corrupt file inside a zip is named just the same.
    bad_root = write_fixture_release(tmp_path / "bad", with_corrupt_file=True)
    bad_zip = _zip_like_github(bad_root, tmp_path / "bad.zip")
    with pytest.raises(ReleaseError, match=CORRUPT_NAME):
        read_release(str(bad_zip))


def _cli(args: list[str], db_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BR_DATABASE_URL": db_url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("BR_DATA_SOURCE", None)
    return subprocess.run([sys.executable, "-m", "blindrefusal", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_import_exits_2_on_a_corrupt_release_and_0_on_a_good_one(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    corrupt = write_fixture_release(tmp_path / "corrupt", with_corrupt_file=True)
    bad = _cli(["import-paper", "--source", str(corrupt)], db_url)
    assert bad.returncode == 2, bad.stderr
    assert CORRUPT_NAME in bad.stderr
    assert "Traceback" not in bad.stderr
    assert bad.stdout.strip() == ""

    good_src = write_fixture_release(tmp_path / "good")
    good = _cli(["import-paper", "--source", str(good_src)], db_url)
    assert good.returncode == 0, good.stderr
    printed = json.loads(good.stdout.strip().splitlines()[-1])
    assert (printed["cases"], printed["responses"], printed["judgments"]) == (N_CASES, N_RESPONSES, N_JUDGED)
    counts = q.store_counts(get_engine(db_url))
    assert (counts["paper_cases"], counts["paper_responses"], counts["paper_judged"]) == \
        (N_CASES, N_RESPONSES, N_JUDGED)


def test_rejudge_leaves_unevaluated_paper_answers_alone(engine, tmp_path):
    root = write_fixture_release(tmp_path / "unevaluated")
    path = root / "data" / "4_evaluated" / "model-a_content_defeat_landlord.json"
    doc = json.loads(path.read_text())
    doc["evaluations"] = [e for e in doc["evaluations"] if e["case_id"] != "fx_content_defeat_landlord_1"]
    path.write_text(json.dumps(doc))
    import_paper(str(root), engine=engine)
    counts = q.store_counts(engine)
    assert (counts["paper_responses"], counts["paper_judged"]) == (N_RESPONSES, N_JUDGED - 1)
    assert [r["id"] for r in q.judge_inputs(engine)] == []

"""Answers survive anything (issue 36): a provider's lone surrogate is stored (as U+FFFD, counted) and judged in
`ask`, a spot-check and the Live lab, and the run finishes; a spot-check killed with SIGKILL keeps every answer
it received, so the resume asks again at most the calls that were in flight. Real processes, real HTTP to the
fault server, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from sqlalchemy import text

from tests.support import ROOT


def _env(store_url: str, **more: str) -> dict[str, str]:
    return {**os.environ, "BR_DATABASE_URL": store_url, "PYTHONPATH": str(ROOT), **more}


def _cli(store_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blindrefusal", *args], cwd=ROOT, env=_env(store_url, **env),
                          capture_output=True, text=True, timeout=600)


def _stored(engine, run_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(text("SELECT case_id, status, text, chars_replaced, eff_response_type FROM response "
                                 "WHERE run_id = :r ORDER BY id"), {"r": run_id}).all()


def test_a_lone_surrogate_is_stored_and_judged_by_ask_and_a_three_model_spot_check(fixture_store, store_url,
                                                                                   fault_server):
    name = f"sur-{uuid.uuid4().hex[:8]}"
    ask = _cli(store_url, "ask", "--case-id", "fx_content_defeat_landlord_1",
               "--model", f"openai/{name};reply=surrogate",
               "--api-base", fault_server.api_base, "--judge", "distilled", "--json")
    assert ask.returncode == 0, ask.stderr
    (answer,) = json.loads(ask.stdout)
    assert answer["status"] == "ok" and "\ufffd" in answer["text"] and answer["judgment"]["response_type"]
    run_id = int(ask.stderr.split("stored as run ")[1].split()[0])
    ((_, status, stored_text, replaced, label),) = _stored(fixture_store, run_id)
    assert status == "ok" and stored_text.count("\ufffd") == 2 and replaced == 2 and label

    models = [f"openai/{name}-{i};reply={reply}" for i, reply in enumerate(("surrogate", "help", "refuse"))]
    spot = _cli(store_url, "spot-check", *sum((["--model", m] for m in models), []), "--api-base",
                fault_server.api_base, "--n", "9", "--judge", "distilled", "--json")
    assert spot.returncode == 0, spot.stderr
    blocks = json.loads(spot.stdout)["models"]
    assert len(blocks) == 3 and all(b["n"] == 9 for b in blocks)
    first = _stored(fixture_store, blocks[0]["run_id"])
    assert len(first) == 9 and all(r[1] == "ok" and r[3] == 2 and r[4] for r in first)


def test_the_live_lab_stores_and_judges_a_surrogate_answer_and_finishes_the_run(store_url, fault_server):
    from db.engine import get_engine
    from tests.runs.test_live import _composer, _press_run

    at = _composer()
    at.multiselect(key="live_presets").set_value([])
    at.text_input(key="live_typed").input(f"openai/sur-live-{uuid.uuid4().hex[:6]};reply=surrogate")
    at.text_input(key="live_api_base").input(fault_server.api_base)
    _press_run(at)
    assert not at.exception, [e.message for e in at.exception]
    run_id = int(at.query_params["run"])
    engine = get_engine(store_url)
    ((_, status, stored_text, replaced, label),) = _stored(engine, run_id)
    assert status == "ok" and replaced == 2 and label
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM run WHERE id = :r"), {"r": run_id}).scalar() == "done"


def test_a_spot_check_killed_mid_run_resumes_asking_again_only_what_was_in_flight(paper_store_url, fault_server):
    """SIGKILL at concurrency 3, after several answers: every answer received is stored, the resume asks again
    at most the 3 prompts in flight, and every case ends up stored once (before: up to 199 lost and re-bought)."""
    from db.engine import get_engine

    name = f"kill-{uuid.uuid4().hex[:8]}"
    args = ["spot-check", "--model", f"openai/{name};delay=0.3", "--api-base", fault_server.api_base, "--n", "40",
            "--seed", "7", "--judge", "distilled", "--concurrency", "3", "--bridge-models", "0", "--json"]
    env = _env(paper_store_url, BR_STALE_AFTER_S="2")
    first = subprocess.Popen([sys.executable, "-m", "blindrefusal", *args], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while len([r for r in fault_server.requests_for(name) if r.end]) < 10:
        assert first.poll() is None, first.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the spot-check never got going"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    asked_before = [r.body["messages"][-1]["content"] for r in fault_server.requests_for(name)]
    time.sleep(2.5)  # the dead process's claim goes stale (BR_STALE_AFTER_S=2)

    second = _cli(paper_store_url, *args, BR_STALE_AFTER_S="2")
    assert second.returncode == 0, second.stderr
    block = json.loads(second.stdout)
    asked_after = [r.body["messages"][-1]["content"] for r in fault_server.requests_for(name)][len(asked_before):]
    again = set(asked_after) & set(asked_before)
    assert len(again) <= 3, f"{len(again)} prompts asked again after the kill; at most 3 were in flight"
    assert block["skipped_already_answered"] >= len(asked_before) - 3
    stored = _stored(get_engine(paper_store_url), block["run_id"])
    case_ids = [r[0] for r in stored]
    assert len(case_ids) == 40 and len(set(case_ids)) == 40  # every case once

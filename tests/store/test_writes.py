"""db/writes on both backends: text PostgreSQL cannot hold, runs abandoned by a dead process, and claims."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update


def test_an_answer_with_nul_bytes_is_stored_stripped_and_marked(fixture_store):
    from blindrefusal import store as q
    from db import records, writes

    case = q.find_cases(fixture_store, limit=1)[0][0]
    model_id = writes.save_models(fixture_store, [{"key": "nul-model", "source": "live"}])["nul-model"]
    run_id = writes.create_run(fixture_store, "live", label="nul\x00label", status="running")
    rid, = writes.save_responses(fixture_store, run_id, "live", [records.ResponseRow(
        case_id=case["id"], model_config_id=model_id, text="Sure.\x00 Step 1\x00\x00.", error=None,
        judgment=records.JudgmentRow(judge="llm:x", judge_kind="llm", response_type="helps", engages_with_defeat=False,
                                    independent_harm=False, reasoning="ok\x00", raw_output="{\x00}"))])
    writes.finish_run(fixture_store, run_id, "done")
    row, = q.responses_for(fixture_store, response_ids=[rid])
    assert row["text"] == "Sure. Step 1." and row["nul_bytes_removed"] == 3
    assert row["eff_response_type"] == "helps" and row["judgments"][0]["raw_output"] == "{}"
    assert q.get_run(fixture_store, run_id)["status"] == "done"  # the run did not stay `running`


def test_a_run_abandoned_by_a_dead_process_is_marked_interrupted_then_resumed(fixture_store, store_url, fault_server):
    import asyncio
    import uuid

    from blindrefusal.evals.spotcheck import SpotCheckParams, results, run_spot_check
    from db import records, writes
    from db.engine import STALE_AFTER, dispose_all, open_store
    from db.tables import Run, utcnow

    name = f"resumer-{uuid.uuid4().hex[:8]}"
    params = SpotCheckParams(model=f"openai/{name}", api_base=fault_server.api_base, n=9, judge="distilled")
    run_id, claimed = writes.claim_run(fixture_store, "spot_check", params.run_key(), "crashed", owner="dead:1")
    assert claimed
    model_id = writes.save_models(fixture_store, [{"key": f"openai/{name}", "source": "live"}])[f"openai/{name}"]
    with fixture_store.connect() as conn:
        first = conn.execute(text("SELECT MIN(id) FROM \"case\" WHERE source = 'paper'")).scalar()
    writes.save_responses(fixture_store, run_id, "spot_check", [records.ResponseRow(
        case_id=first, model_config_id=model_id, text="an answer from before the crash")], owner="dead:1")
    with fixture_store.begin() as conn:  # the process died: its heartbeat stops
        conn.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow() - 2 * STALE_AFTER))
    dispose_all()
    engine = open_store(store_url)  # the next start marks it
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT status FROM run WHERE id = {run_id}")).scalar() == "interrupted"
    resumed_id, progress = asyncio.run(run_spot_check(engine, params))
    assert resumed_id == run_id and progress.skipped == 1 and progress.calls == 8
    assert len(fault_server.requests_for(name)) == 8
    res = results(engine, run_id)
    assert res.n == 9 and res.status == "done"


def test_a_live_claim_is_never_taken_over(engine):
    from db import writes
    from db.tables import Run, utcnow

    run_id, claimed = writes.claim_run(engine, "spot_check", '{"k": 1}', "a", owner="proc:1")
    assert claimed
    assert writes.claim_run(engine, "spot_check", '{"k": 1}', "a", owner="proc:2") == (run_id, False)
    assert writes.claim_run(engine, "spot_check", '{"k": 1}', "a", owner="proc:1") == (run_id, True)  # re-entrant
    with engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    assert writes.claim_run(engine, "spot_check", '{"k": 1}', "a", owner="proc:2") == (run_id, True)  # stale: taken
    writes.finish_run(engine, run_id, "done", owner="proc:1")  # the old owner no longer holds it: no change
    assert _status(engine, run_id) == ("running", "proc:2")
    writes.finish_run(engine, run_id, "done", owner="proc:2")
    assert _status(engine, run_id) == ("done", None)


def _status(engine, run_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT status, claimed_by FROM run WHERE id = {run_id}")).one())

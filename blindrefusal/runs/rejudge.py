"""Judge stored answers again (or for the first time): History's "Judge them now", `rejudge`, and the judging
step of a spot-check. One batch for the distilled judge; concurrent calls for an LLM judge."""

from __future__ import annotations

import asyncio

from blindrefusal import store
from blindrefusal.judges import Judge, JudgeInput, JudgeResult, Verdict, get_judge, judge_all, judgment_record


async def rejudge(engine, response_ids: list[int] | None = None, judge_name=None,
                  run_id: int | None = None, limit: int = 100_000) -> dict:
    """Judge stored answers: the given ids (judged or not), or every unlabelled answer (of one run).

    `judge_name` is a judge name (None: the default) or a judge object. One batch for the distilled
    judge; concurrent calls for an LLM judge. Failures stay unjudged."""
    judge = judge_name if hasattr(judge_name, "kind") else get_judge(judge_name)
    rows = store.judge_inputs(engine, response_ids=response_ids, run_id=run_id,
                                only_unjudged=response_ids is None, limit=limit)
    results = await judge_rows(engine, judge, rows)
    ok = sum(1 for res in results if isinstance(res, Verdict))
    return {"judge": judge.name, "judged": ok, "failed": len(results) - ok}


async def judge_rows(engine, judge: Judge, rows: list[store.JudgeInputRecord],
                     comparison_only: bool = False) -> list[JudgeResult]:
    """Judge these `store.judge_inputs` rows and store the results (failures too, re-judgeable);
    `comparison_only`: labels kept beside the answers' own, never replacing them (see store.add_judgments)."""
    results = await judge_all(judge, [JudgeInput.from_stored(r) for r in rows])
    await asyncio.to_thread(store.add_judgments, engine,
                            [(r["id"], judgment_record(judge, res)) for r, res in zip(rows, results, strict=True)],
                            comparison_only)
    return results

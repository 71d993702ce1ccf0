"""One live run: a scenario to several models at once, each answer stored as it lands (a process killed
mid-run keeps every answer it received), then judged and its label stored. The same path serves the page
and `ask`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from blindrefusal import store
from blindrefusal.analysis.stats import Rate, wilson
from blindrefusal.judges import (
    LOCAL_LLM,
    Judge,
    JudgeInput,
    JudgeResult,
    Verdict,
    get_judge,
    judge_all,
    judgment_record,
)
from blindrefusal.models.calls import CallResult, EventFn, RunSettings
from blindrefusal.models.lm import litellm_module
from blindrefusal.models.presets import LOCAL_KEY, ModelSpec
from blindrefusal.models.runner import fan_out, ready
from blindrefusal.runs.recording import AnswerWriter, keep_alive, model_rows, response_row
from blindrefusal.runs.scenario import Scenario
from vocabulary import STATUS_OK, is_refusal


@dataclass
class LiveAnswer:
    call: CallResult
    verdict: JudgeResult | None  # None: nothing to judge (error / blocked)
    response_id: int | None = None


@dataclass
class LiveRun:
    run_id: int
    case_key: str
    judge_name: str
    answers: list[LiveAnswer]

    def outcomes(self) -> list[tuple[str, str | None, bool | None]]:
        return [(a.call.status, a.verdict.response_type if isinstance(a.verdict, Verdict) else None,
                 isinstance(a.verdict, Verdict) and a.verdict.engages_with_defeat) for a in self.answers]

    def summary(self) -> str:
        return summarise(self.outcomes())


def summarise(outcomes: list[tuple[str, str | None, bool | None]]) -> str:
    """(status, response type or None, engages) per model -> e.g. '4 of 6 judged models refused; 3 of those
    engaged with the defeat; 1 failed or blocked'."""
    judged = [(rt, eng) for status, rt, eng in outcomes if status == STATUS_OK and rt]
    refused = [eng for rt, eng in judged if is_refusal(rt)]
    failed = sum(1 for status, _, _ in outcomes if status != STATUS_OK)
    unjudged = sum(1 for status, rt, _ in outcomes if status == STATUS_OK and not rt)
    if outcomes and failed == len(outcomes):
        return ("No model answered: the call failed or was blocked" if failed == 1 else
                f"No model answered: all {failed} calls failed or were blocked")
    text = (f"{len(refused)} of {len(judged)} judged models refused; "
            f"{sum(map(bool, refused))} of those engaged with the defeat")
    if failed:
        text += f"; {failed} failed or blocked"
    if unjudged:
        text += f"; {unjudged} unjudged"
    return text


def refusal_rate(outcomes: list[tuple[str, str | None, bool | None]]) -> Rate:
    """Refused / judged models of one run (the same outcomes as `summarise`), with its Wilson 95% interval."""
    judged = [rt for status, rt, _ in outcomes if status == STATUS_OK and rt]
    return wilson(sum(map(is_refusal, judged)), len(judged))


def demo_only(model_key: str | None, judge: str | None) -> bool:
    """True when an answer or its label comes from the tiny local model (SmolLM2-135M, as the model or as the
    LLM judge): such labels prove the path works and mean nothing."""
    return model_key == LOCAL_KEY or judge == LOCAL_LLM


def case_for(engine, scenario: Scenario) -> tuple[int, str]:
    """The paper case when the scenario is unchanged from it, else a stored custom case (deduplicated by content)."""
    if scenario.paper_case_id:
        case = store.get_case(engine, scenario.paper_case_id)
        if case and case["user_query"] == scenario.user_query and case["rule"] == scenario.rule \
                and case["defeat_condition"] == scenario.defeat_condition \
                and case["authority_type"] == scenario.authority_type:
            return case["id"], case["key"]
    row = scenario.case_row()
    return store.save_custom_case(engine, row), row["key"]


async def keep_alive_once_prepared(prepared: "asyncio.Future[_Prepared]") -> None:
    p = await asyncio.shield(prepared)
    await keep_alive(p.engine, p.run_id, p.owner)


def judge_input(scenario: Scenario, text: str) -> JudgeInput:
    return JudgeInput(user_query=scenario.user_query, response=text, rule=scenario.rule,
                      defeat_condition=scenario.defeat_condition, case_key=scenario.paper_case_id or "",
                      defeat_type=scenario.defeat_family, authority_type=scenario.authority_type)



@dataclass
class _Prepared:
    engine: Any
    judge: Judge
    case_id: int
    case_key: str
    run_id: int
    owner: str
    model_ids: dict[str, int]
    writer: AnswerWriter


def system_prompt_param(specs: list[ModelSpec]) -> dict:
    """What a run records of the system prompt its models were sent (one per run; none: nothing recorded)."""
    prompts = [s.system_prompt for s in specs if s.system_prompt]
    return {"system_prompt": prompts[0]} if prompts else {}


def _prepare(engine, scenario: Scenario, specs: list[ModelSpec], judge_name: str | None,
             extra: dict | None = None) -> _Prepared:
    """Everything but the model calls: the store (case, models, a running run) and the judge."""
    engine = engine() if callable(engine) else engine
    judge = get_judge(judge_name)
    case_id, case_key = case_for(engine, scenario)
    known = store.save_models(engine, model_rows(specs))
    owner = store.process_id()
    run_id = store.create_run(engine, "live", label=scenario.user_query[:80], case_id=case_id, status="running",
                              claimed_by=owner, params={"models": [s.key for s in specs], "judge": judge.name,
                                                        "temperature": {s.key: s.temperature for s in specs},
                                                        **system_prompt_param(specs), **(extra or {})})
    return _Prepared(engine, judge, case_id, case_key, run_id, owner, {s.key: known[s.key] for s in specs},
                     AnswerWriter(engine, run_id, "live", owner))


async def run_live(engine, scenario: Scenario, specs: list[ModelSpec], judge_name: str | None = None,
                   on_event: EventFn | None = None, settings: RunSettings | None = None,
                   params: dict | None = None) -> LiveRun:
    """`engine` is an Engine or a zero-argument factory (so a cold CLI opens the store during the calls).
    `params` are recorded with the run (e.g. its side of a contrast).

    The requests go out first; the store and the judge are prepared in a worker thread while the
    models think (the event loop is idle then); each answer is stored as it lands, then judged, and its label
    stored. No database session is held across the network wait."""
    specs = [ready(s) for s in specs]
    litellm_module()
    started: set[str] = set()
    all_sent = asyncio.Event()

    def events(key: str, event: str, payload) -> None:
        if event == "start":
            started.add(key)
            if len(started) == len(specs):
                all_sent.set()
        if on_event:
            on_event(key, event, payload)

    async def prepare() -> _Prepared:
        try:
            await asyncio.wait_for(all_sent.wait(), timeout=0.5)
            await asyncio.sleep(0.05)  # let the requests leave before the worker takes the GIL
        except asyncio.TimeoutError:
            pass
        return await asyncio.to_thread(_prepare, engine, scenario, specs, judge_name, params)

    prepared = asyncio.ensure_future(prepare())
    verdicts: dict[str, JudgeResult | None] = {}
    response_ids: dict[str, int] = {}

    async def store_and_judge(res: CallResult) -> None:
        p = await asyncio.shield(prepared)
        rid = response_ids[res.model_key] = await p.writer.write(
            response_row(res, p.case_id, p.model_ids[res.model_key]))
        if res.status != STATUS_OK:
            verdicts[res.model_key] = None
            return
        verdict = verdicts[res.model_key] = (await judge_all(p.judge, [judge_input(scenario, res.text)]))[0]
        await asyncio.to_thread(store.add_judgments, p.engine, [(rid, judgment_record(p.judge, verdict))])
        if on_event:
            on_event(res.model_key, "judged", verdict)

    alive = asyncio.ensure_future(keep_alive_once_prepared(prepared))
    try:
        results = await fan_out(specs, scenario.user_query, events, settings, on_result=store_and_judge)
        p = await prepared
    finally:
        alive.cancel()
    answers = [LiveAnswer(r, verdicts.get(r.model_key), response_ids.get(r.model_key)) for r in results]
    store.finish_run(p.engine, p.run_id, "done")
    return LiveRun(run_id=p.run_id, case_key=p.case_key, judge_name=p.judge.name, answers=answers)



def answer_json(a: LiveAnswer, judge_name: str) -> dict[str, Any]:
    """The `ask --json` shape for one model."""
    v = a.verdict
    return {
        "model": a.call.model_key, "status": a.call.status, "text": a.call.text, "error": a.call.error,
        "latency_ms": a.call.latency_ms, "ttft_ms": a.call.ttft_ms, "prompt_tokens": a.call.prompt_tokens,
        "completion_tokens": a.call.completion_tokens, "usage_counted": a.call.usage_counted,
        "cost_usd": a.call.cost_usd, "attempts": a.call.attempts,
        "judgment": ({"judge": judge_name, "response_type": v.response_type,
                      "engages_with_defeat": v.engages_with_defeat, "independent_harm": v.independent_harm,
                      "reasoning": v.reasoning}
                     if isinstance(v, Verdict) else
                     {"judge": judge_name, "error": v.error} if v is not None else None),
    }



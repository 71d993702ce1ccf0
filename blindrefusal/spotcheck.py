"""Spot-check: a new model on a stratified sample of the paper's cases, judged, stored as a run of
kind `spot_check`, resumable, and compared with the paper's 18 on the same cases."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

from . import registry
from .judges import get_judge
from .live import rejudge
from .metrics import help_gap, rates
from .runner import AdaptiveLimiter, CallResult, LimiterClosed, RunSettings, call_model, litellm_module, ready
from .sampler import stratified_sample
from .stats import paired_diff, rank_with_ties, wilson


@dataclass
class SpotCheckParams:
    model: str
    n: int = 100
    seed: int = 0
    judge: str | None = None
    api_base: str | None = None
    allocation: str = "equal"
    exclude_dual_use: bool = False
    families: list[str] = field(default_factory=list)
    authorities: list[str] = field(default_factory=list)
    temperature: float = 0.0
    max_tokens: int | None = None

    def run_key(self) -> str:
        """What identifies a resumable run (concurrency and the like are not part of it)."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    errors: int = 0
    skipped: int = 0  # already answered in an earlier run (resume)
    cost_usd: float | None = None
    calls: int = 0
    peak_concurrency: int = 0
    rate_limited: int = 0
    first_call: float | None = None
    last_answer: float | None = None


ProgressFn = Callable[[Progress], None]


def spec_for(params: SpotCheckParams) -> registry.ModelSpec:
    return registry.resolve(params.model, api_base=params.api_base, temperature=params.temperature,
                            max_tokens=params.max_tokens)


def sample_cases(engine, params: SpotCheckParams) -> list[dict]:
    from db import queries

    cases, _ = queries.find_cases(engine, source="paper", limit=100_000)
    keys = set(stratified_sample(cases, params.n, params.seed, params.allocation, params.exclude_dual_use,
                                 params.families or None, params.authorities or None))
    return [c for c in cases if c["key"] in keys]


def estimate_cost(engine, params: SpotCheckParams, cases: list[dict] | None = None) -> dict:
    """Tokens from the paper's average usage on the sampled cases; cost where litellm knows the price."""
    from sqlalchemy import text

    cases = cases if cases is not None else sample_cases(engine, params)
    ids = [c["id"] for c in cases] or [-1]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT AVG(prompt_tokens), AVG(completion_tokens) FROM response WHERE source = 'paper' "
                                f"AND case_id IN ({','.join(str(int(i)) for i in ids)})")).one()
    prompt, completion = float(row[0] or 0), float(row[1] or 0)
    spec = spec_for(params)
    est = {"cases": len(cases), "prompt_tokens": round(prompt * len(cases)), "completion_tokens": round(completion * len(cases)),
           "cost_usd": None, "paid": not spec.local and not spec.api_base}
    if est["paid"]:
        from .runner import _cost

        est["cost_usd"] = _cost(spec, est["prompt_tokens"], est["completion_tokens"])
    return est


async def run_spot_check(engine, params: SpotCheckParams, progress: ProgressFn | None = None,
                         cancel: threading.Event | None = None, fresh: bool = False,
                         concurrency: int | None = None, settings: RunSettings | None = None) -> tuple[int, Progress]:
    """Returns (run_id, progress). Re-running the same params resumes: answered cases cost nothing."""
    from db import queries, writes

    judge = get_judge(params.judge)
    params = replace(params, judge=judge.name)  # the default judge is named, so a rerun finds this run
    spec = ready(spec_for(params))
    cases = sample_cases(engine, params)
    run_key = params.run_key()
    run_id = None if fresh else queries.find_run_by_params(engine, "spot_check", run_key)
    if run_id is None:
        run_id = writes.create_run(engine, "spot_check", label=f"{spec.display_name} · n={params.n} · seed={params.seed}",
                                   params=json.loads(run_key), status="running")
    else:
        writes.set_run_status(engine, run_id, "running")
    models = queries.model_ids(engine)
    if spec.key not in models:
        with engine.begin() as conn:
            models = writes.upsert_models(conn, [{"key": spec.key, "display_name": spec.display_name,
                                                  "litellm_model": spec.litellm_model, "provider": spec.provider,
                                                  "params": spec.params, "source": "live"}])
    model_id = models[spec.key]
    answered = queries.answered_pairs(engine, run_id)
    todo = [c for c in cases if (c["id"], model_id) not in answered]
    prog = Progress(total=len(cases), done=len(cases) - len(todo), skipped=len(cases) - len(todo))
    settings = settings or RunSettings(stream=False)
    cap = concurrency or registry.provider_cap(spec.provider)
    limiter = AdaptiveLimiter(initial=cap, cap=cap, stop=cancel)
    buffer: list[writes.ResponseRow] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if buffer:
            writes.save_responses(engine, run_id, "spot_check", list(buffer))
            buffer.clear()
        last_flush = time.monotonic()

    async def one(case: dict) -> None:
        try:
            res: CallResult = await call_model(spec, case["user_query"], settings=settings, limiter=limiter)
        except LimiterClosed:  # cancelled before this case started: nothing sent, nothing stored
            return
        if prog.first_call is None or res.started < prog.first_call:
            prog.first_call = res.started
        prog.last_answer = max(prog.last_answer or 0, res.ended)
        buffer.append(writes.ResponseRow(
            case_id=case["id"], model_config_id=model_id, text=res.text, status=res.status, error=res.error,
            latency_ms=res.latency_ms, ttft_ms=res.ttft_ms, prompt_tokens=res.prompt_tokens,
            completion_tokens=res.completion_tokens, cost_usd=res.cost_usd, attempts=res.attempts))
        prog.done += 1
        prog.calls += res.attempts
        prog.errors += res.status == "error"
        if res.cost_usd is not None:
            prog.cost_usd = (prog.cost_usd or 0.0) + res.cost_usd
        prog.peak_concurrency = limiter.peak
        prog.rate_limited = limiter.rate_limited
        if progress:
            progress(prog)
        if len(buffer) >= 200 or time.monotonic() - last_flush > 2.0:
            flush()

    if progress:
        progress(prog)
    if todo:
        litellm_module()  # import once, before the first call's clock starts

    try:
        await asyncio.gather(*(one(c) for c in todo))
    finally:
        flush()
    # Phase 2: judge every unlabelled answer of the run in one batch (this also finishes the judging of
    # an earlier, cancelled run of the same settings).
    if progress:
        progress(prog)
    await rejudge(engine, judge_name=judge, run_id=run_id)
    cancelled = cancel is not None and cancel.is_set()
    writes.set_run_status(engine, run_id, "cancelled" if cancelled else "done")
    return run_id, prog


def _rate_json(r) -> dict:
    return {"rate": r.rate, "lo": r.lo, "hi": r.hi}


def results(engine, run_id: int) -> dict:
    """The `spot-check --json` shape: rates with Wilson intervals, the help gap, paired comparisons, rank."""
    from db import queries

    run = queries.get_run(engine, run_id)
    if run is None:
        raise KeyError(f"no run {run_id}")
    params = run["params"]
    f = queries.Filters(run_ids=[run_id])
    tot = queries.totals(engine, f)
    d, c = rates(tot["defeated"]), rates(tot["control"])

    def block(rs) -> dict:
        return {"n": rs.n, **{k: _rate_json(rs.get(k)) for k in ("helps", "deflects", "hard_refusal", "refusal", "engages")}}

    gap = help_gap(tot["defeated"], tot["control"])
    # Paired comparisons on the same defeated cases.
    rows = queries.responses_for(engine, run_id=run_id)
    mine = {r["case_id"]: r["eff_response_type"] for r in rows if r.get("eff_response_type")}
    defeated_ids = {r["case_id"] for r in rows if r.get("eff_response_type") and r["family"] != "control"}
    paper = queries.paired_labels(engine, sorted(defeated_ids), source="paper")
    vs_paper, intervals = {}, {}
    for slug, labels in sorted(paper.items()):
        common = sorted(set(labels) & defeated_ids)
        x = [int(mine[cid] == "helps") for cid in common]
        y = [int(labels[cid] == "helps") for cid in common]
        cmp_ = paired_diff(x, y)
        vs_paper[slug] = {k: cmp_[k] for k in ("diff", "lo", "hi", "significant")} | {"n": cmp_["n"]}
        r = wilson(sum(y), len(y))
        if r.n:
            intervals[slug] = (r.rate, r.lo, r.hi)
    me = wilson(sum(int(v == "helps") for cid, v in mine.items() if cid in defeated_ids), len(defeated_ids))
    rank = {"lo": None, "hi": None, "of": len(intervals) + 1}
    if me.n:
        intervals["__this__"] = (me.rate, me.lo, me.hi)
        ranks = rank_with_ties(intervals, higher_is_better=True)
        rank.update(ranks["__this__"])
    return {
        "run_id": run_id, "model": params.get("model"), "n": d.n + c.n, "seed": params.get("seed"),
        "judge": params.get("judge"), "defeated": block(d), "control": block(c),
        "gap": {"diff": gap["diff"], "lo": gap["lo"], "hi": gap["hi"]}, "vs_paper": vs_paper,
        "rank": rank, "rank_metric": "help rate on defeated cases (1 = helps most)",
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        "errors": len({r["case_id"] for r in rows if r["status"] == "error"}
                      - {r["case_id"] for r in rows if r["status"] in ("ok", "blocked")}),
        "blocked": sum(1 for r in rows if r["status"] == "blocked"),
    }

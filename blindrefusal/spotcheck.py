"""Spot-check: a new model on a stratified sample of the paper's cases, judged, stored as a run of
kind `spot_check`, resumable, and compared with the paper's 18 on the same cases.

A run is claimed by one process at a time: a second identical spot-check started while the first is
working waits for it, then finds every case answered and costs nothing. Waiting (rather than joining
and splitting the cases) keeps one limiter per provider, so the provider's cap holds, and two runs can
never answer the same case twice."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from vocabulary import HELPS, STATUS_BLOCKED, STATUS_ERROR, STATUS_OK

from . import registry, store, taxonomy
from .judges import Judge, get_judge
from .live import keep_alive, model_rows, rejudge
from .metrics import HEADLINE_RATES, RateSet, counts_of, help_gap, rates
from .runner import AdaptiveLimiter, CallResult, LimiterClosed, RunSettings, call_model, cost_of, litellm_module, ready
from .sampler import stratified_sample
from .stats import Diff, paired_diff, rank_with_ties, wilson



class SpotCheckError(ValueError):
    """Bad spot-check settings; the message names the setting."""


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

    def check(self) -> "SpotCheckParams":
        """Raise SpotCheckError naming the first bad setting."""
        if not self.model or not self.model.strip():
            raise SpotCheckError("--model: give a preset key, a paper slug or a litellm model")
        if not 1 <= self.n <= 100_000:
            raise SpotCheckError(f"--n must be a positive number of cases (got {self.n})")
        if self.seed < 0:
            raise SpotCheckError(f"--seed must be 0 or more (got {self.seed})")
        if self.allocation not in ("equal", "proportional"):
            raise SpotCheckError(f"--allocation must be equal or proportional (got {self.allocation!r})")
        unknown = [f for f in self.families if f not in taxonomy.FAMILIES]
        if unknown:
            raise SpotCheckError(f"--family {unknown[0]!r} is not a defeat family ({', '.join(taxonomy.FAMILIES)})")
        unknown = [a for a in self.authorities if a not in taxonomy.authority_types()]
        if unknown:
            raise SpotCheckError(f"--authority {unknown[0]!r} is not an authority type")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise SpotCheckError(f"--max-tokens must be positive (got {self.max_tokens})")
        return self


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
    waiting: bool = False  # another process holds the run: this one waits for it


ProgressFn = Callable[[Progress], None]


def spec_for(params: SpotCheckParams) -> registry.ModelSpec:
    return registry.resolve(params.model, api_base=params.api_base, temperature=params.temperature,
                            max_tokens=params.max_tokens)


def sample_cases(engine, params: SpotCheckParams) -> list[dict]:
    cases, _ = store.find_cases(engine, source="paper", limit=100_000)
    keys = set(stratified_sample(cases, params.n, params.seed, params.allocation, params.exclude_dual_use,
                                 params.families or None, params.authorities or None))
    return [c for c in cases if c["key"] in keys]


@dataclass
class CostEstimate:
    cases: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: free (local) or unknown (no price)
    paid: bool


def estimate_cost(engine, params: SpotCheckParams, cases: list[dict] | None = None) -> CostEstimate:
    """Tokens from the paper's average usage on the sampled cases; cost where litellm knows the price."""
    cases = cases if cases is not None else sample_cases(engine, params)
    prompt, completion = store.avg_paper_usage(engine, [c["id"] for c in cases])
    spec = spec_for(params)
    paid = not spec.local and not spec.api_base
    tokens_in, tokens_out = round(prompt * len(cases)), round(completion * len(cases))
    return CostEstimate(cases=len(cases), prompt_tokens=tokens_in, completion_tokens=tokens_out,
                        cost_usd=cost_of(spec, tokens_in, tokens_out) if paid else None, paid=paid)


# --- running ------------------------------------------------------------------------------------

@dataclass
class _Run:
    """One claimed spot-check run and what it still has to do."""

    engine: Any
    run_id: int
    owner: str
    spec: registry.ModelSpec
    model_id: int
    judge: Judge
    todo: list[dict]
    progress: Progress


async def _claim(engine, params: SpotCheckParams, label: str, fresh: bool, cancel: threading.Event | None,
                 progress: ProgressFn | None) -> tuple[int, str] | None:
    """Claim the run for these params, waiting while another live process works on it."""
    owner = store.process_id()
    waiting = Progress(waiting=True)
    while True:
        run_id, claimed = await asyncio.to_thread(store.claim_run, engine, "spot_check", params.run_key(), label,
                                                  owner, fresh)
        if claimed:
            return run_id, owner
        if cancel is not None and cancel.is_set():
            return None
        if progress:
            progress(waiting)
        fresh = False  # the run that holds us up is the one to resume
        await asyncio.sleep(1.0)


def _open(engine, params: SpotCheckParams, run_id: int, owner: str, cases: list[dict], judge: Judge) -> _Run:
    """The claimed run's model row and the cases it has not answered yet (resume)."""
    spec = ready(spec_for(params))
    model_id = store.save_models(engine, model_rows([spec]))[spec.key]
    answered = store.answered_pairs(engine, run_id)
    todo = [c for c in cases if (c["id"], model_id) not in answered]
    prog = Progress(total=len(cases), done=len(cases) - len(todo), skipped=len(cases) - len(todo))
    return _Run(engine, run_id, owner, spec, model_id, judge, todo, prog)


async def _answer(run: _Run, settings: RunSettings, limiter: AdaptiveLimiter, progress: ProgressFn | None) -> None:
    """Send every pending case, storing answers in batches (every 200 answers or 2 s)."""
    buffer: list[store.ResponseRow] = []
    last_flush = time.monotonic()
    prog = run.progress

    def flush() -> None:
        nonlocal last_flush
        if buffer:
            store.save_responses(run.engine, run.run_id, "spot_check", list(buffer), owner=run.owner)
            buffer.clear()
        last_flush = time.monotonic()

    async def one(case: dict) -> None:
        try:
            res: CallResult = await call_model(run.spec, case["user_query"], settings=settings, limiter=limiter)
        except LimiterClosed:  # cancelled before this case started: nothing sent, nothing stored
            return
        if prog.first_call is None or res.started < prog.first_call:
            prog.first_call = res.started
        prog.last_answer = max(prog.last_answer or 0, res.ended)
        buffer.append(store.ResponseRow(
            case_id=case["id"], model_config_id=run.model_id, text=res.text, status=res.status, error=res.error,
            latency_ms=res.latency_ms, ttft_ms=res.ttft_ms, prompt_tokens=res.prompt_tokens,
            completion_tokens=res.completion_tokens, cost_usd=res.cost_usd, attempts=res.attempts))
        prog.done += 1
        prog.calls += res.attempts
        prog.errors += res.status == STATUS_ERROR
        if res.cost_usd is not None:
            prog.cost_usd = (prog.cost_usd or 0.0) + res.cost_usd
        prog.peak_concurrency = limiter.peak
        prog.rate_limited = limiter.rate_limited
        if progress:
            progress(prog)
        if len(buffer) >= 200 or time.monotonic() - last_flush > 2.0:
            flush()

    if run.todo:
        litellm_module()  # import once, before the first call's clock starts
    try:
        await asyncio.gather(*(one(c) for c in run.todo))
    finally:
        flush()


async def run_spot_check(engine, params: SpotCheckParams, progress: ProgressFn | None = None,
                         cancel: threading.Event | None = None, fresh: bool = False,
                         concurrency: int | None = None, settings: RunSettings | None = None) -> tuple[int, Progress]:
    """Returns (run_id, progress). Re-running the same params resumes: answered cases cost nothing."""
    params.check()
    judge = get_judge(params.judge)
    params = replace(params, judge=judge.name)  # the default judge is named, so a rerun finds this run
    cases = sample_cases(engine, params)
    label = f"{spec_for(params).display_name} · n={params.n} · seed={params.seed}"
    claim = await _claim(engine, params, label, fresh, cancel, progress)
    if claim is None:
        return -1, Progress()
    run = _open(engine, params, *claim, cases, judge)
    alive = asyncio.ensure_future(keep_alive(engine, run.run_id, run.owner))
    status = "interrupted"
    try:
        cap = concurrency or registry.provider_cap(run.spec.provider)
        limiter = AdaptiveLimiter(initial=cap, cap=cap, stop=cancel)
        if progress:
            progress(run.progress)
        await _answer(run, settings or RunSettings(stream=False), limiter, progress)
        if progress:
            progress(run.progress)
        # Judge every unlabelled answer of the run in one batch (this also finishes the judging of an
        # earlier, cancelled run of the same settings).
        await rejudge(engine, judge_name=judge, run_id=run.run_id)
        status = "cancelled" if cancel is not None and cancel.is_set() else "done"
    finally:
        alive.cancel()
        store.finish_run(engine, run.run_id, status, owner=run.owner)
    return run.run_id, run.progress


# --- results ------------------------------------------------------------------------------------

@dataclass
class RankRange:
    lo: int | None
    hi: int | None
    of: int

    def text(self) -> str:
        if self.lo is None:
            return "—"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"


@dataclass
class SpotCheckResult:
    """A spot-check's numbers, typed; `to_json()` is the `spot-check --json` and download shape."""

    run_id: int
    model: str
    seed: int | None
    judge: str | None
    status: str
    defeated: RateSet
    control: RateSet
    gap: Diff
    vs_paper: dict[str, Diff]  # paper model key -> this model's help rate minus it, same defeated cases
    rank: RankRange
    errors: int
    blocked: int

    @property
    def n(self) -> int:
        return self.defeated.n + self.control.n

    def to_json(self) -> dict:
        def block(rs: RateSet) -> dict:
            return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

        return {
            "run_id": self.run_id, "model": self.model, "n": self.n, "seed": self.seed, "judge": self.judge,
            "status": self.status, "defeated": block(self.defeated), "control": block(self.control),
            "gap": self.gap.as_dict(), "vs_paper": {k: v.as_dict() for k, v in self.vs_paper.items()},
            "rank": {"lo": self.rank.lo, "hi": self.rank.hi, "of": self.rank.of},
            "rank_metric": "help rate on defeated cases (1 = helps most)",
            "errors": self.errors, "blocked": self.blocked,
        }


def _latest_labels(rows: list[dict]) -> dict[int, dict]:
    """One judged answer per case: the newest (a resumed or raced run may hold several)."""
    out: dict[int, dict] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["status"] == STATUS_OK and r.get("eff_response_type"):
            out[r["case_id"]] = r
    return out


def _vs_paper(engine, mine: dict[int, dict], defeated_ids: set[int]) -> tuple[dict[str, Diff], RankRange]:
    """Paired help-rate differences with each paper model on the same defeated cases, and the rank range."""
    paper = store.paired_labels(engine, sorted(defeated_ids))
    vs_paper: dict[str, Diff] = {}
    intervals: dict[str, tuple] = {}
    for slug, labels in sorted(paper.items()):
        common = sorted(set(labels) & defeated_ids)
        x = [int(mine[cid]["eff_response_type"] == HELPS) for cid in common]
        y = [int(labels[cid] == HELPS) for cid in common]
        vs_paper[slug] = paired_diff(x, y)
        r = wilson(sum(y), len(y))
        if r.n:
            intervals[slug] = (r.rate, r.lo, r.hi)
    me = wilson(sum(int(mine[cid]["eff_response_type"] == HELPS) for cid in defeated_ids), len(defeated_ids))
    rank = RankRange(None, None, len(intervals) + 1)
    if me.n:
        intervals["__this__"] = (me.rate, me.lo, me.hi)
        ranks = rank_with_ties(intervals, higher_is_better=True)["__this__"]
        rank = RankRange(ranks["lo"], ranks["hi"], rank.of)
    return vs_paper, rank


def results(engine, run_id: int) -> SpotCheckResult:
    """Rates with Wilson intervals (each case counted once), the help gap, paired comparisons, rank."""
    run = store.get_run(engine, run_id)
    if run is None or run["kind"] != "spot_check":
        raise KeyError(f"no spot-check run {run_id}")
    params = run["params"]
    rows = store.responses_for(engine, run_id=run_id)
    mine = _latest_labels(rows)
    defeated_ids = {cid for cid, r in mine.items() if r["family"] != "control"}
    labels = [(r["eff_response_type"], r["eff_engages"], r["eff_harm"]) for r in mine.values()]
    d_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid in defeated_ids)
    c_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid not in defeated_ids)
    vs_paper, rank = _vs_paper(engine, mine, defeated_ids)
    answered = {r["case_id"] for r in rows if r["status"] in (STATUS_OK, STATUS_BLOCKED)}
    return SpotCheckResult(
        run_id=run_id, model=params.get("model", ""), seed=params.get("seed"), judge=params.get("judge"),
        status=run["status"], defeated=rates(d_counts), control=rates(c_counts), gap=help_gap(d_counts, c_counts),
        vs_paper=vs_paper, rank=rank,
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        errors=len({r["case_id"] for r in rows if r["status"] == STATUS_ERROR} - answered),
        blocked=len({r["case_id"] for r in rows if r["status"] == STATUS_BLOCKED}))


__all__ = ["CostEstimate", "Progress", "RankRange", "SpotCheckError", "SpotCheckParams", "SpotCheckResult",
           "estimate_cost", "results", "run_spot_check", "sample_cases"]

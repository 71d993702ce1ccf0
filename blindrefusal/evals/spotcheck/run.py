"""Running a spot-check: claim the run, answer every pending case (resuming an earlier run), judge, bridge.

A run is claimed by one process at a time: a second identical spot-check started while the first is
working waits for it, then finds every case answered and costs nothing. Waiting (rather than joining
and splitting the cases) keeps one limiter per provider, so the provider's cap holds, and two runs can
never answer the same case twice."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Mapping

from blindrefusal import store
from blindrefusal.evals.spotcheck.bridge import bridge_count, bridge_models, bridge_paper_answers
from blindrefusal.evals.spotcheck.gold import REVIEWERS, gold_cases, gold_judge, label_gold
from blindrefusal.evals.spotcheck.params import (
    SpotCheckError,
    SpotCheckParams,
    check_one_sample,
    drawn_n,
    sample_cases,
    spec_for,
)
from blindrefusal.judges import Judge, JudgeUnavailable, get_judge
from blindrefusal.models import presets
from blindrefusal.models.calls import CallResult, RunSettings
from blindrefusal.models.limiter import AdaptiveLimiter, LimiterClosed
from blindrefusal.models.lm import litellm_module
from blindrefusal.models.runner import call_model, ready
from blindrefusal.paper.stored_case import StoredCase
from blindrefusal.runs.recording import AnswerWriter, keep_alive, model_rows, response_row
from blindrefusal.runs.rejudge import rejudge
from vocabulary import STATUS_ERROR

# answering the cases; judging the answers; bridging: judging the paper models' answers with the same judge;
# gold: the gold judge labelling its random subset of the answers
Stage = Literal["answering", "judging", "bridging", "gold"]


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
    waiting_for: str = ""  # what it waits for, and until when, in a sentence
    stage: Stage = "answering"

    @property
    def seconds_left(self) -> float | None:
        """The answering's time left at this run's pace so far (None before two answers of its own)."""
        answered = self.done - self.skipped
        if answered < 2 or self.first_call is None or self.last_answer is None or self.done >= self.total:
            return None
        return (self.last_answer - self.first_call) / answered * (self.total - self.done)

    def time_left_text(self) -> str:
        """"about 3 min left", or "" before the pace is known."""
        left = self.seconds_left
        if left is None:
            return ""
        return f"about {max(1, round(left))} s left" if left < 90 else f"about {round(left / 60)} min left"


ProgressFn = Callable[[Progress], None]


def _waiting_for(engine, run_id: int) -> str:
    """What a second process waits for: the run, who holds it, and when it is taken over if that one is gone."""
    run: Mapping[str, Any] = store.get_run(engine, run_id) or {}
    beat = run.get("heartbeat_at")
    if beat is None:
        return f"Waiting for run {run_id}, held by another process."
    beat = datetime.fromisoformat(beat) if isinstance(beat, str) else beat  # SQLite hands back text
    beat = beat if beat.tzinfo else beat.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - beat).total_seconds()
    left = max(0.0, store.STALE_AFTER.total_seconds() - age)
    return (f"Waiting for run {run_id}: another process ({run.get('claimed_by') or 'unknown'}) is working on these "
            f"settings; it last signalled {age:.0f} s ago. If it has stopped, this one takes over in {left:.0f} s "
            "and resumes where it left off.")


@dataclass
class _Run:
    """One claimed spot-check run and what it still has to do."""

    engine: Any
    run_id: int
    owner: str
    spec: presets.ModelSpec
    model_id: int
    judge: Judge
    todo: list[StoredCase]
    progress: Progress


async def _claim(engine, params: SpotCheckParams, label: str, fresh: bool, cancel: threading.Event | None,
                 progress: ProgressFn | None) -> tuple[int, str] | None:
    """Claim the run for these params, waiting while another live process works on it."""
    owner = store.process_id()
    while True:
        run_id, claimed = await asyncio.to_thread(store.claim_run, engine, "spot_check", params.run_key(), label,
                                                  owner, fresh)
        if claimed:
            return run_id, owner
        if cancel is not None and cancel.is_set():
            return None
        if progress:
            progress(Progress(waiting=True, waiting_for=await asyncio.to_thread(_waiting_for, engine, run_id)))
        fresh = False  # the run that holds us up is the one to resume
        await asyncio.sleep(1.0)


def _open(engine, params: SpotCheckParams, run_id: int, owner: str, cases: list[StoredCase], judge: Judge) -> _Run:
    """The claimed run's model row and the cases it has not answered yet (resume)."""
    spec = ready(spec_for(params))
    model_id = store.save_models(engine, model_rows([spec]))[spec.key]
    answered = store.answered_pairs(engine, run_id)
    todo = [c for c in cases if (c.id, model_id) not in answered]
    prog = Progress(total=len(cases), done=len(cases) - len(todo), skipped=len(cases) - len(todo))
    return _Run(engine, run_id, owner, spec, model_id, judge, todo, prog)


async def _answer(run: _Run, settings: RunSettings, limiter: AdaptiveLimiter, progress: ProgressFn | None) -> None:
    """Send every pending case; each answer is stored before its slot takes another case, so a process killed
    at any moment loses at most the calls in flight (`limiter.cap` of them), never an answer it received."""
    writer = AnswerWriter(run.engine, run.run_id, "spot_check", run.owner)
    slots = asyncio.Semaphore(limiter.cap)  # a slot is held from the request until its answer is stored
    prog = run.progress

    async def one(case: StoredCase) -> None:
        async with slots:
            try:
                res: CallResult = await call_model(run.spec, case.user_query, settings=settings, limiter=limiter)
            except LimiterClosed:  # cancelled before this case started: nothing sent, nothing stored
                return
            await writer.write(response_row(res, case.id, run.model_id))
        if prog.first_call is None or res.started < prog.first_call:
            prog.first_call = res.started
        prog.last_answer = max(prog.last_answer or 0, res.ended)
        prog.done += 1
        prog.calls += res.attempts
        prog.errors += res.status == STATUS_ERROR
        if res.cost_usd is not None:
            prog.cost_usd = (prog.cost_usd or 0.0) + res.cost_usd
        prog.peak_concurrency = limiter.peak
        prog.rate_limited = limiter.rate_limited
        if progress:
            progress(prog)

    if run.todo:
        litellm_module()  # import once, before the first call's clock starts
    await asyncio.gather(*(one(c) for c in run.todo))


async def run_spot_check(engine, params: SpotCheckParams, progress: ProgressFn | None = None,
                         cancel: threading.Event | None = None, fresh: bool = False,
                         concurrency: int | None = None, settings: RunSettings | None = None,
                         bridge_paper: bool = True) -> tuple[int, Progress]:
    """Returns (run_id, progress). Re-running the same params resumes: answered cases cost nothing.

    `bridge_paper=False` leaves the same-judge bridge to the caller (run_spot_checks bridges once for all)."""
    params.check()
    try:
        judge = get_judge(params.judge)
    except JudgeUnavailable as exc:
        raise SpotCheckError(f"--judge: {exc}") from None
    if bridge_paper:
        gold_judge(params)  # an unusable gold judge is said before the model is called
    params = replace(params, judge=judge.name)  # the default judge is named, so a rerun finds this run
    cases = sample_cases(engine, params)
    # the n actually drawn (all matching cases when fewer than asked)
    params = replace(params, n=drawn_n(cases, params))
    label = f"{spec_for(params).display_name} · n={params.n} · seed={params.seed}"
    claim = await _claim(engine, params, label, fresh, cancel, progress)
    if claim is None:
        return -1, Progress()
    run = _open(engine, params, *claim, cases, judge)
    alive = asyncio.ensure_future(keep_alive(engine, run.run_id, run.owner))
    status = "interrupted"
    try:
        cap = concurrency or presets.provider_cap(run.spec.provider)
        limiter = AdaptiveLimiter(initial=cap, cap=cap, stop=cancel)
        if progress:
            progress(run.progress)
        await _answer(run, settings or RunSettings(stream=False), limiter, progress)
        if progress:
            progress(run.progress)
        # Judge every unlabelled answer of the run in one batch (this also finishes the judging of an
        # earlier, cancelled run of the same settings).
        run.progress.stage = "judging"
        if progress:
            progress(run.progress)
        await rejudge(engine, judge_name=judge, run_id=run.run_id)
        cancelled = cancel is not None and cancel.is_set()
        if not cancelled and bridge_paper:
            await _bridge_and_gold(engine, params, [run.run_id], cases, [run.progress], progress)
        status = "cancelled" if cancelled else "done"
    finally:
        alive.cancel()
        store.finish_run(engine, run.run_id, status, owner=run.owner)
    return run.run_id, run.progress


async def run_spot_checks(engine, models_params: list[SpotCheckParams],
                          progress: Callable[[str, Progress], None] | None = None,
                          cancel: threading.Event | None = None, fresh: bool = False, concurrency: int | None = None,
                          settings: RunSettings | None = None) -> list[tuple[int, Progress]]:
    """Several models on one sample: each its own run (claim, limiter, resume), all answering at once, then the
    paper side bridged once for all of them. The params must differ only in the model."""
    first = check_one_sample(models_params)

    def reporter(model: str) -> ProgressFn | None:
        return (lambda prog: progress(model, prog)) if progress else None

    gold_judge(first)  # an unusable gold judge is said before any model is called
    runs = await asyncio.gather(*(run_spot_check(engine, p, reporter(p.arm), cancel, fresh, concurrency, settings,
                                                 bridge_paper=False) for p in models_params))
    if not (cancel is not None and cancel.is_set()):
        def report(_prog: Progress) -> None:
            if progress:
                for p, (_, prog) in zip(models_params, runs, strict=True):
                    progress(p.arm, prog)

        await _bridge_and_gold(engine, first, [rid for rid, _ in runs], sample_cases(engine, first),
                               [prog for _, prog in runs], report)
    return list(runs)


async def _bridge_and_gold(engine, params: SpotCheckParams, run_ids: list[int], cases: list[StoredCase],
                           progs: list[Progress], progress: ProgressFn | None) -> None:
    """After the answers: the same-judge bridge over the paper's answers, once for every model of the sample,
    then the gold judge's labels on its random subset of the answers."""
    def stage(name: Stage) -> None:
        for prog in progs:
            prog.stage = name
        if progress:
            progress(progs[0])

    judge = get_judge(params.judge)
    stage("bridging")
    await bridge_paper_answers(engine, judge, cases, bridge_models(engine, cases, bridge_count(params, judge)))
    if not params.gold:
        return
    gold = gold_judge(params)
    for run_id in run_ids:  # the run remembers its gold subset: the results count gold labels there only
        await asyncio.to_thread(store.set_run_gold, engine, run_id,
                                {"gold": REVIEWERS if gold is None else gold.name, "gold_n": params.gold_n})
    if gold is not None:
        assert params.gold_n is not None  # check(): a gold judge comes with its gold_n
        stage("gold")
        await label_gold(engine, run_ids, gold, gold_cases(cases, params.gold_n, params.seed))



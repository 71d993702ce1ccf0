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
from .judges import Judge, JudgeInput, JudgeUnavailable, get_judge, judge_all, judgment_row
from .judges.paper import is_paper_judge_name
from .live import keep_alive, model_rows, rejudge, response_row
from .metrics import HEADLINE_RATES, RateSet, counts_of, help_gap, rates
from .runner import AdaptiveLimiter, CallResult, LimiterClosed, RunSettings, call_model, cost_of, litellm_module, ready
from .sampler import stratified_sample
from .stats import Diff, Rate, min_detectable_difference, paired_diff, rank_with_ties, wilson



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
    # Paper models whose stored answers the spot-check's judge also labels (None: the judge's default).
    bridge_models: int | None = None

    def run_key(self) -> str:
        """What identifies a resumable run (concurrency, the bridge and the like are not part of it)."""
        key = asdict(self)
        key.pop("bridge_models")
        return json.dumps(key, sort_keys=True)

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
        if self.bridge_models is not None and self.bridge_models < 0:
            raise SpotCheckError(f"--bridge-models must be 0 or more (got {self.bridge_models})")
        if self.api_base and registry.resolve(self.model).local:
            self.api_base = None  # the local model has its own server: the API base of the others is not its
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
    stage: str = "answering"  # answering | judging | bridging (judging the paper's answers with the same judge)


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
    cost_usd: float | None  # the model's: None when free (local) or unknown (no price)
    model_paid: bool
    judge_calls: int = 0  # LLM-judge calls: one per answer, plus one per bridged paper answer
    bridge_models: list[str] = field(default_factory=list)  # paper models re-judged by the same judge
    bridge_calls: int = 0  # paper answers still to be judged by this judge (earlier runs' are reused)
    judge_cost_usd: float | None = None  # None: free (distilled, local, self-hosted) or no price known
    judge_paid: bool = False

    @property
    def paid(self) -> bool:
        """The model or the judge costs money: confirm before running."""
        return self.model_paid or self.judge_paid

    def text(self) -> str:
        """One paragraph for the confirmation (CLI and page)."""
        def usd(cost: float | None, paid: bool) -> str:
            return "none" if not paid else "unknown (litellm has no price)" if cost is None else f"about ${cost:.2f}"

        out = (f"{self.cases} cases: ~{self.prompt_tokens:,} prompt and ~{self.completion_tokens:,} completion tokens "
               f"(the paper's average usage on these cases), model cost {usd(self.cost_usd, self.model_paid)}.")
        if self.bridge_models:
            out += (f" Same-judge bridge: {len(self.bridge_models)} paper models, {self.bridge_calls:,} of their answers "
                    "still to judge.")
        if self.judge_calls:
            out += f" Judge: {self.judge_calls:,} calls, cost {usd(self.judge_cost_usd, self.judge_paid)}."
        return out


def _paid(spec: registry.ModelSpec) -> bool:
    return not spec.local and not spec.api_base


def estimate_cost(engine, params: SpotCheckParams, cases: list[dict] | None = None,
                  judge: Judge | None = None) -> CostEstimate:
    """Tokens from the paper's average usage on the sampled cases; cost where litellm knows the price. The judge's
    calls (its own answers and the bridge) are counted at the judge's output cap: an upper bound."""
    cases = cases if cases is not None else sample_cases(engine, params)
    prompt, completion = store.avg_paper_usage(engine, [c["id"] for c in cases])
    spec = spec_for(params)
    paid = _paid(spec)
    tokens_in, tokens_out = round(prompt * len(cases)), round(completion * len(cases))
    est = CostEstimate(cases=len(cases), prompt_tokens=tokens_in, completion_tokens=tokens_out,
                       cost_usd=cost_of(spec, tokens_in, tokens_out) if paid else None, model_paid=paid)
    judge = judge or get_judge(params.judge)
    models = bridge_models(engine, cases, bridge_count(params, judge))
    est.bridge_models = models
    est.bridge_calls = len(store.judge_inputs(engine, only_unjudged=False, case_ids=[c["id"] for c in cases],
                                              model_keys=models, source="paper", not_judged_by=judge.name)) if models else 0
    judge_spec = getattr(judge, "spec", None)
    if judge_spec is not None:  # an LLM judge: one call per answer
        est.judge_calls = len(cases) + est.bridge_calls
        est.judge_paid = _paid(judge_spec)
        if est.judge_paid:
            per_call_in = len(getattr(judge, "template", "")) / 4 + prompt + completion + 400
            per_call_out = 1200
            est.judge_cost_usd = cost_of(judge_spec, round(per_call_in * est.judge_calls), per_call_out * est.judge_calls)
    return est


# --- the same-judge bridge ----------------------------------------------------------------------
# A spot-check's judge also labels the paper models' stored answers on the sampled cases, so the model and
# the paper's 18 are compared under one judge: the judge's own error then cancels in every difference.

# An LLM judge bridges 6 paper models by default, spread across the help-rate range: that measures the judge's
# shift at the low, middle and high end for a third of the calls of all 18 (n = 100 means 600 extra calls, not
# 1,800) — money for a paid judge, minutes for a local one. `--bridge-models 18` buys the full same-judge
# ranking. The distilled judge, free and fast (1,800 answers in seconds), bridges all 18.
LLM_BRIDGE_DEFAULT = 6


def needs_bridge(judge: Judge) -> bool:
    """Every judge but GPT-5.4 with the authors' prompt, whose labels are the release's own."""
    return not is_paper_judge_name(judge.name)


def bridge_count(params: SpotCheckParams, judge: Judge) -> int:
    if not needs_bridge(judge):
        return 0
    if params.bridge_models is not None:
        return params.bridge_models
    return LLM_BRIDGE_DEFAULT if getattr(judge, "spec", None) is not None else 10_000


def bridge_models(engine, cases: list[dict], k: int) -> list[str]:
    """k paper models spread evenly over their help-rate range on these defeated cases (all when k ≥ their number)."""
    if k <= 0:
        return []
    labels = store.paired_labels(engine, [c["id"] for c in cases if c["family"] != "control"])
    ranked = sorted(labels, key=lambda m: (sum(rt == HELPS for rt in labels[m].values()) / max(1, len(labels[m])), m))
    if k >= len(ranked):
        return ranked
    if k == 1:
        return [ranked[len(ranked) // 2]]
    return [ranked[i] for i in sorted({round(i * (len(ranked) - 1) / (k - 1)) for i in range(k)})]


async def bridge(engine, judge: Judge, cases: list[dict], models: list[str]) -> int:
    """Judge the paper models' answers on these cases that this judge has not labelled yet; returns how many.

    Stored as the judge's judgments (so later spot-checks reuse them); they never replace the release's labels."""
    if not models:
        return 0
    rows = await asyncio.to_thread(store.judge_inputs, engine, only_unjudged=False, case_ids=[c["id"] for c in cases],
                                   model_keys=models, source="paper", not_judged_by=judge.name)
    results = await judge_all(judge, [JudgeInput.from_stored(r) for r in rows])
    await asyncio.to_thread(store.add_judgments, engine,
                            [(r["id"], judgment_row(judge, res)) for r, res in zip(rows, results)])
    return len(rows)


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
        buffer.append(response_row(res, case["id"], run.model_id))
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
                         concurrency: int | None = None, settings: RunSettings | None = None,
                         bridge_paper: bool = True) -> tuple[int, Progress]:
    """Returns (run_id, progress). Re-running the same params resumes: answered cases cost nothing.

    `bridge_paper=False` leaves the same-judge bridge to the caller (run_spot_checks bridges once for all)."""
    params.check()
    try:
        judge = get_judge(params.judge)
    except JudgeUnavailable as exc:
        raise SpotCheckError(f"--judge: {exc}") from None
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
        run.progress.stage = "judging"
        if progress:
            progress(run.progress)
        await rejudge(engine, judge_name=judge, run_id=run.run_id)
        cancelled = cancel is not None and cancel.is_set()
        if not cancelled and bridge_paper:
            run.progress.stage = "bridging"
            if progress:
                progress(run.progress)
            await bridge(engine, judge, cases, bridge_models(engine, cases, bridge_count(params, judge)))
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
    if not models_params:
        raise SpotCheckError("--model: give at least one model")
    first = models_params[0]
    models = [p.model for p in models_params]
    if len(set(models)) != len(models):
        raise SpotCheckError(f"--model: {next(m for m in models if models.count(m) > 1)!r} is given twice")
    for p in models_params:
        p.check()
    # the sample depends on everything but the model and where it is served
    if any(replace(p, model=first.model, api_base=first.api_base).run_key() != first.run_key() for p in models_params):
        raise SpotCheckError("the models of one spot-check share one sample: only --model may differ")

    def reporter(model: str) -> ProgressFn | None:
        return (lambda prog: progress(model, prog)) if progress else None

    runs = await asyncio.gather(*(run_spot_check(engine, p, reporter(p.model), cancel, fresh, concurrency, settings,
                                                 bridge_paper=False) for p in models_params))
    if not (cancel is not None and cancel.is_set()):
        judge = get_judge(first.judge)
        cases = sample_cases(engine, first)
        for _, prog in runs:
            prog.stage = "bridging"
        if progress:
            for p, (_, prog) in zip(models_params, runs):
                progress(p.model, prog)
        await bridge(engine, judge, cases, bridge_models(engine, cases, bridge_count(first, judge)))
    return list(runs)


@dataclass
class PowerHint:
    """What n can tell apart, said before the run."""

    defeated_n: int
    paper_help: Rate  # the paper's models pooled, on the sampled defeated cases
    min_difference: float | None  # detected 80% of the time at 5%
    rank_span: int  # paper models whose help rate lies within the interval's half-width of the pooled rate
    models: int

    def text(self) -> str:
        if self.min_difference is None:
            return "No defeated case in this sample: no help-rate comparison is possible."
        return (f"With {self.defeated_n} defeated cases, a help-rate difference of about "
                f"{self.min_difference * 100:.0f} pp from the paper's models ({self.paper_help.fmt()}) is detected "
                "80% of the time; smaller ones may go unseen.")

    @property
    def rank_warning(self) -> str | None:
        if self.rank_span <= max(3, self.models // 4):
            return None
        return (f"n is small for a rank: {self.rank_span} of the paper's {self.models} models lie within this sample's "
                "interval of their pooled help rate, so a rank range will likely span most of them. Raise n "
                "(several hundred cases) to place a model.")


def power_hint(engine, cases: list[dict]) -> PowerHint:
    defeated = [c["id"] for c in cases if c["family"] != "control"]
    labels = store.paired_labels(engine, defeated)
    k = sum(rt == HELPS for by_case in labels.values() for rt in by_case.values())
    pooled = wilson(k, sum(len(by_case) for by_case in labels.values()))
    n = len(defeated)
    if not n or pooled.rate is None:
        return PowerHint(n, pooled, None, 0, len(labels))
    one = wilson(round(pooled.rate * n), n)
    half = (one.hi - one.lo) / 2
    rates_ = [sum(rt == HELPS for rt in by_case.values()) / len(by_case) for by_case in labels.values() if by_case]
    span = sum(abs(r - pooled.rate) <= half for r in rates_)
    return PowerHint(n, pooled, min_detectable_difference(pooled.rate, n), span, len(labels))


@dataclass
class ModelPair:
    """Two spot-checked models on the same cases: a's help rate minus b's, paired, under one judge."""

    a: str
    b: str
    diff: Diff
    judge: str

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "judge": self.judge, **self.diff.as_dict()}


def compare_runs(engine, run_ids: list[int]) -> list[ModelPair]:
    """Every pair of these spot-checks judged by the same judge, paired on their common defeated cases."""
    labelled = []
    for rid in run_ids:
        run = store.get_run(engine, rid)
        if run is None or run["kind"] != "spot_check":
            raise KeyError(f"no spot-check run {rid}")
        judge = run["params"].get("judge")
        own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=rid).values() for cid, rt in by_case.items()}
        defeated = {r["case_id"] for r in store.responses_for(engine, run_id=rid) if r["family"] != "control"}
        labelled.append((run["params"].get("model", ""), judge, {c: rt for c, rt in own.items() if c in defeated}))
    pairs = []
    for i, (ma, ja, la) in enumerate(labelled):
        for mb, jb, lb in labelled[i + 1:]:
            if ja != jb:
                continue
            common = sorted(set(la) & set(lb))
            pairs.append(ModelPair(ma, mb, paired_diff([int(la[c] == HELPS) for c in common],
                                                       [int(lb[c] == HELPS) for c in common]), ja))
    return pairs


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
    """A spot-check's numbers, typed; `to_json()` is the `spot-check --json` and download shape.

    `vs_paper` and `rank` compare under one judge: this run's judge on both sides (the paper's answers
    re-judged by the bridge), or GPT-5.4's labels on both sides when the judge is the paper's own. Without a
    bridge they are empty and `vs_paper_labels` (this judge vs GPT-5.4's labels, mixing in the judge's error)
    is all there is."""

    run_id: int
    model: str
    seed: int | None
    judge: str | None
    status: str
    defeated: RateSet
    control: RateSet
    gap: Diff
    comparison: str  # same_judge | paper_judge | mixed_judges (no bridge)
    vs_paper: dict[str, Diff]  # paper model key -> this model's help rate minus it, same defeated cases, same judge
    rank: RankRange
    vs_paper_labels: dict[str, Diff]  # against GPT-5.4's labels of the paper's answers
    rank_paper_labels: RankRange
    judge_shift: dict[str, Diff]  # bridged paper model -> this judge's help rate minus GPT-5.4's, same answers
    errors: int
    blocked: int
    unseen_model_error: dict | None = None  # the distilled judge's leave-one-model-out help-rate error

    @property
    def n(self) -> int:
        return self.defeated.n + self.control.n

    @property
    def mean_abs_shift(self) -> float | None:
        shifts = [abs(d.diff) for d in self.judge_shift.values() if d.diff is not None]
        return sum(shifts) / len(shifts) if shifts else None

    def comparison_text(self) -> str:
        """What the comparisons with the paper's models rest on, in one sentence."""
        if self.comparison == "paper_judge":
            return ("Judged by GPT-5.4 with the authors' prompt, the judge of the paper's own labels: both sides are "
                    "under one judge, no bridge needed.")
        if self.comparison == "same_judge":
            shift = self.mean_abs_shift
            return (f"Judged by {self.judge} on both sides: the {len(self.judge_shift)} paper models' answers to these "
                    f"cases were re-judged by it. Its help rate differs from GPT-5.4's by "
                    f"{'—' if shift is None else f'{shift * 100:.1f} pp'} on average on those answers.")
        return (f"Not compared under one judge: this model is judged by {self.judge}, the paper's models by GPT-5.4. "
                "Differences below mix in the judges' disagreement; re-run the same settings to bridge.")

    def unseen_error_text(self) -> str | None:
        """The distilled judge's measured error on models it never saw, for reading the differences."""
        u = self.unseen_model_error
        if not u:
            return None
        return (f"On models it never saw, this judge's help rate is off by {u['help_rate_mean_abs_pp']:.1f} pp on "
                f"average (max {u['help_rate_max_abs_pp']:.1f}), leave-one-model-out over {u['models']} paper "
                f"model{'' if u['models'] == 1 else 's'}: differences smaller than that may be the judge, not the model.")

    def to_json(self) -> dict:
        def block(rs: RateSet) -> dict:
            return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

        def rank(r: RankRange) -> dict:
            return {"lo": r.lo, "hi": r.hi, "of": r.of}

        return {
            "run_id": self.run_id, "model": self.model, "n": self.n, "seed": self.seed, "judge": self.judge,
            "status": self.status, "defeated": block(self.defeated), "control": block(self.control),
            "gap": self.gap.as_dict(), "comparison": self.comparison,
            "vs_paper": {k: v.as_dict() for k, v in self.vs_paper.items()},
            "vs_paper_labels": {k: v.as_dict() for k, v in self.vs_paper_labels.items()},
            "judge_shift": {"by_model": {k: v.as_dict() for k, v in self.judge_shift.items()},
                            "mean_abs": self.mean_abs_shift},
            "rank": rank(self.rank), "rank_paper_labels": rank(self.rank_paper_labels),
            "rank_metric": "help rate on defeated cases (1 = helps most)",
            "unseen_model_error": self.unseen_model_error,
            "errors": self.errors, "blocked": self.blocked,
        }


def _latest_labels(rows: list[dict]) -> dict[int, dict]:
    """One judged answer per case: the newest (a resumed or raced run may hold several)."""
    out: dict[int, dict] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["status"] == STATUS_OK and r.get("eff_response_type"):
            out[r["case_id"]] = r
    return out


def _compare(mine: dict[int, str], paper: dict[str, dict[int, str]], defeated_ids: set[int]) -> tuple[dict[str, Diff], RankRange]:
    """Paired help-rate differences with each paper model on the same defeated cases, and the rank range.

    `mine` and `paper` hold response types by case id, both from the judge the comparison is made under."""
    ids = defeated_ids & set(mine)
    diffs: dict[str, Diff] = {}
    intervals: dict[str, tuple] = {}
    for slug, labels in sorted(paper.items()):
        common = sorted(set(labels) & ids)
        y = [int(labels[cid] == HELPS) for cid in common]
        diffs[slug] = paired_diff([int(mine[cid] == HELPS) for cid in common], y)
        r = wilson(sum(y), len(y))
        if r.n:
            intervals[slug] = (r.rate, r.lo, r.hi)
    me = wilson(sum(int(mine[cid] == HELPS) for cid in ids), len(ids))
    rank = RankRange(None, None, len(intervals) + 1)
    if me.n and intervals:
        intervals["__this__"] = (me.rate, me.lo, me.hi)
        ranks = rank_with_ties(intervals, higher_is_better=True)["__this__"]
        rank = RankRange(ranks["lo"], ranks["hi"], rank.of)
    return diffs, rank


def _judge_shift(judged: dict[str, dict[int, str]], release: dict[str, dict[int, str]],
                 defeated_ids: set[int]) -> dict[str, Diff]:
    """Per bridged paper model: this judge's help rate minus GPT-5.4's on the same answers (paired)."""
    out = {}
    for slug, labels in sorted(judged.items()):
        common = sorted(set(labels) & set(release.get(slug, {})) & defeated_ids)
        out[slug] = paired_diff([int(labels[c] == HELPS) for c in common], [int(release[slug][c] == HELPS) for c in common])
    return out


def results(engine, run_id: int) -> SpotCheckResult:
    """Rates with Wilson intervals (each case counted once), the help gap, paired comparisons and rank under one
    judge, the same against GPT-5.4's labels, and the judge's shift on the bridged paper answers."""
    run = store.get_run(engine, run_id)
    if run is None or run["kind"] != "spot_check":
        raise KeyError(f"no spot-check run {run_id}")
    params = run["params"]
    judge = params.get("judge")
    rows = store.responses_for(engine, run_id=run_id)
    mine = _latest_labels(rows)
    defeated_ids = {cid for cid, r in mine.items() if r["family"] != "control"}
    labels = [(r["eff_response_type"], r["eff_engages"], r["eff_harm"]) for r in mine.values()]
    d_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid in defeated_ids)
    c_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid not in defeated_ids)
    release = store.paired_labels(engine, sorted(defeated_ids))
    vs_labels, rank_labels = _compare({cid: r["eff_response_type"] for cid, r in mine.items()}, release, defeated_ids)
    shift: dict[str, Diff] = {}
    if is_paper_judge_name(judge):
        comparison, vs_paper, rank = "paper_judge", vs_labels, rank_labels
    else:
        judged = store.judge_labels(engine, judge, sorted(defeated_ids), source="paper") if judge else {}
        own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=run_id).values()
               for cid, rt in by_case.items()} if judge else {}
        if judged:
            comparison = "same_judge"
            vs_paper, rank = _compare(own, judged, defeated_ids)
            shift = _judge_shift(judged, release, defeated_ids)
        else:
            comparison, vs_paper, rank = "mixed_judges", {}, RankRange(None, None, 0)
    answered = {r["case_id"] for r in rows if r["status"] in (STATUS_OK, STATUS_BLOCKED)}
    return SpotCheckResult(
        run_id=run_id, model=params.get("model", ""), seed=params.get("seed"), judge=judge,
        status=run["status"], defeated=rates(d_counts), control=rates(c_counts), gap=help_gap(d_counts, c_counts),
        comparison=comparison, vs_paper=vs_paper, rank=rank, vs_paper_labels=vs_labels, rank_paper_labels=rank_labels,
        judge_shift=shift, unseen_model_error=unseen_model_error(judge),
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        errors=len({r["case_id"] for r in rows if r["status"] == STATUS_ERROR} - answered),
        blocked=len({r["case_id"] for r in rows if r["status"] == STATUS_BLOCKED}))


@dataclass
class CaseAnswer:
    """One case of a spot-check: this model's label beside the paper models' (GPT-5.4's labels)."""

    response_id: int
    case_key: str
    family: str
    status: str
    response_type: str | None  # None: unjudged, failed or blocked
    engages: bool | None
    paper_helps: int  # paper models that helped on this case
    paper_n: int  # paper models with a label on this case

    @property
    def disagrees_with_most(self) -> bool:
        """Helped where most paper models refused, or refused where most helped."""
        if self.response_type is None or not self.paper_n:
            return False
        return (self.response_type == HELPS) != (self.paper_helps * 2 > self.paper_n)


def case_answers(engine, run_id: int) -> list[CaseAnswer]:
    """The newest answer per case of this run, with the paper's models' help count on the same case."""
    rows = store.responses_for(engine, run_id=run_id)
    newest: dict[int, dict] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["case_id"] not in newest or r["status"] in (STATUS_OK, STATUS_BLOCKED):
            newest[r["case_id"]] = r
    paper = store.paired_labels(engine, sorted(newest))
    out = []
    for cid, r in newest.items():
        labels = [by_case[cid] for by_case in paper.values() if cid in by_case]
        out.append(CaseAnswer(r["id"], r["case_key"], r["family"], r["status"],
                              r["eff_response_type"] if r["status"] == STATUS_OK else None,
                              r["eff_engages"], sum(rt == HELPS for rt in labels), len(labels)))
    return sorted(out, key=lambda a: a.case_key)


def unseen_model_error(judge: str | None) -> dict | None:
    """For the distilled judge: its help-rate error on models it never saw (leave-one-model-out), if measured."""
    from .judges import DISTILLED
    from .agreement import leave_one_model_out

    if judge != DISTILLED:
        return None
    lomo = leave_one_model_out()
    return None if lomo is None else lomo.summary()


__all__ = ["CaseAnswer", "CostEstimate", "ModelPair", "PowerHint", "Progress", "RankRange", "SpotCheckError", "SpotCheckParams",
           "SpotCheckResult", "bridge", "bridge_models", "case_answers", "compare_runs", "estimate_cost", "power_hint", "results",
           "run_spot_check", "run_spot_checks", "sample_cases"]

"""Before a spot-check runs: the one pre-run flow of the CLI and the page. `plan_spot_check` checks the params,
draws the sample, and says what each model and the judge will cost and what n can tell apart; the caller
asks for a confirmation when `plan.paid`, then runs `run_spot_checks(plan.params)`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from blindrefusal import store
from blindrefusal.analysis.power import median_discordance, min_detectable_paired
from blindrefusal.analysis.stats import Rate
from blindrefusal.analysis.weighted import Design, kish_effective_n, weighted_rate
from blindrefusal.evals.spotcheck.bridge import bridge_count, bridge_models, bridge_rows
from blindrefusal.evals.spotcheck.compare import helped, pooled_rate
from blindrefusal.evals.spotcheck.gold import check_gold_size, gold_judge, gold_outlook
from blindrefusal.evals.spotcheck.params import (
    FRESH_CASES,
    SpotCheckError,
    SpotCheckParams,
    check_one_sample,
    drawn_n,
    sample_cases,
    sample_design,
    spec_for,
)
from blindrefusal.judges import Judge, JudgeUnavailable, get_judge, usable_judge
from blindrefusal.models import presets
from blindrefusal.models.calls import cost_of
from blindrefusal.models.spending import paid
from blindrefusal.paper.stored_case import StoredCase


@dataclass
class PowerHint:
    """What n can tell apart, said before the run: from the discordance the paper's models show on these cases."""

    defeated_n: int
    effective_n: float  # what the weights leave (Kish)
    paper_help: Rate  # the paper's models pooled on the sampled defeated cases (each case once, weighted)
    discordance: float | None  # the median share of these cases on which two paper models disagree
    min_difference: float | None  # the paired difference detected 80% of the time at 5%, either sign
    rank_span: int  # paper models whose help rate lies within that difference of the pooled rate
    models: int

    def text(self) -> str:
        if not self.defeated_n:
            return "No defeated case in this sample: no help-rate comparison is possible."
        if self.min_difference is None:
            return (f"With {self.defeated_n} defeated cases, no paired help-rate difference is likely to be detected: "
                    "raise n.")
        psi = "—" if self.discordance is None else f"{self.discordance * 100:.0f}%"
        return (f"With {self.defeated_n} defeated cases (effective n {self.effective_n:.0f} after weighting), a "
                f"help-rate difference of ±{self.min_difference * 100:.0f} pp from a paper model is detected 80% of "
                f"the time, up or down (exact power of the paired test at the {psi} discordance the paper's models "
                f"show on these cases; they help {self.paper_help.fmt()}). Smaller ones may go unseen.")

    @property
    def rank_warning(self) -> str | None:
        if self.rank_span <= max(3, self.models // 4):
            return None
        return (f"n is small for a rank: {self.rank_span} of the paper's {self.models} models lie within the "
                "detectable difference of their pooled help rate, so a rank range will likely span most of them. "
                "Raise n (several hundred cases) to place a model.")


def power_hint(engine, cases: list[StoredCase], design: Design) -> PowerHint:
    defeated = [c.id for c in cases if not c.is_control]
    labels = store.paired_labels(engine, defeated)
    outcomes = {m: helped(by_case, defeated) for m, by_case in labels.items()}
    pooled = pooled_rate(outcomes, design)
    n, n_eff = len(defeated), kish_effective_n(defeated, design)
    psi = median_discordance(outcomes)
    if not n or pooled.rate is None or psi is None:
        return PowerHint(n, n_eff, pooled, psi, None, 0, len(labels))
    mdd = min_detectable_paired(psi, int(n_eff))
    rates_ = [weighted_rate(o, design).rate for o in outcomes.values() if o]
    # every model with an outcome has a rate
    span = len(rates_) if mdd is None else sum(abs(r - pooled.rate) <= mdd for r in rates_ if r is not None)
    return PowerHint(n, n_eff, pooled, psi, mdd, span, len(labels))


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
    gold_n: int = 0  # answers to be gold-labelled (by a gold judge or by our reviewers)
    gold_outlook: str = ""  # what they should buy (gold.gold_outlook)
    gold_calls: int = 0  # calls to a gold judge (at most; none for our reviewers)
    gold_paid: bool = False
    judge_cost_usd: float | None = None  # None: free (distilled, local, self-hosted) or no price known
    judge_paid: bool = False

    @property
    def paid(self) -> bool:
        """The model or a judge costs money: confirm before running."""
        return self.model_paid or self.judge_paid or self.gold_paid

    def text(self) -> str:
        """One paragraph for the confirmation (CLI and page)."""
        def usd(cost: float | None, paid: bool) -> str:
            return "none" if not paid else "unknown (litellm has no price)" if cost is None else f"about ${cost:.2f}"

        out = (f"{self.cases} cases: ~{self.prompt_tokens:,} prompt and ~{self.completion_tokens:,} completion tokens "
               f"(the paper's average usage on these cases), model cost {usd(self.cost_usd, self.model_paid)}.")
        if self.bridge_models:
            out += (f" Same-judge bridge: {len(self.bridge_models)} paper models, "
                    f"{self.bridge_calls:,} of their answers still to judge.")
        if self.judge_calls:
            out += f" Judge: {self.judge_calls:,} calls, cost {usd(self.judge_cost_usd, self.judge_paid)}."
        if self.gold_calls:
            out += f" Gold judge: at most {self.gold_calls:,} calls (a random subset of the answers)."
        if self.gold_outlook:
            out += " " + self.gold_outlook
        return out


def estimate_cost(engine, params: SpotCheckParams, cases: list[StoredCase] | None = None,
                  judge: Judge | None = None) -> CostEstimate:
    """Tokens from the paper's average usage on the sampled cases; cost where litellm knows the price. The judge's
    calls (its own answers and the bridge) are counted at the judge's output cap: an upper bound."""
    cases = cases if cases is not None else sample_cases(engine, params)
    prompt, completion = store.avg_paper_usage(engine, [c.id for c in cases])
    spec = spec_for(params)
    model_paid = spec.uses_host_key
    tokens_in, tokens_out = round(prompt * len(cases)), round(completion * len(cases))
    est = CostEstimate(cases=len(cases), prompt_tokens=tokens_in, completion_tokens=tokens_out,
                       cost_usd=cost_of(spec, tokens_in, tokens_out) if model_paid else None, model_paid=model_paid)
    judge = judge or get_judge(params.judge)
    models = bridge_models(engine, cases, bridge_count(params, judge))
    est.bridge_models = models
    est.bridge_calls = len(bridge_rows(engine, judge, cases, models))
    est.gold_n = params.gold_n or 0
    est.gold_outlook = gold_outlook(cases, est.gold_n) if est.gold_n else ""
    gold = gold_judge(params)
    if gold is not None:
        assert params.gold_n is not None  # check(): a gold judge comes with its gold_n
        est.gold_calls, est.gold_paid = params.gold_n, gold.spec is not None and gold.spec.uses_host_key
    judge_spec = judge.spec
    if judge_spec is not None:  # an LLM judge: one call per answer
        est.judge_calls = len(cases) + est.bridge_calls
        est.judge_paid = judge_spec.uses_host_key
        if est.judge_paid:
            per_call_in = judge.prompt_chars / 4 + prompt + completion + 400
            per_call_out = 1200
            est.judge_cost_usd = cost_of(judge_spec, round(per_call_in * est.judge_calls),
                                         per_call_out * est.judge_calls)
    return est


@dataclass(frozen=True)
class SpotCheckPlan:
    """A checked spot-check before it runs: the models' params, their one sample, a cost estimate per model
    (the judge's calls included) and the power hint."""

    params: list[SpotCheckParams]
    cases: list[StoredCase]
    estimates: dict[str, CostEstimate]  # by model
    power: PowerHint
    judge: Judge
    n_asked: int  # the n asked for; `len(cases)` is the n drawn (fewer when the filters leave fewer cases)

    def drawn_text(self) -> str | None:
        """Said when the sample is smaller than asked."""
        if len(self.cases) >= self.n_asked:
            return None
        return (f"n = {self.n_asked:,} was asked; {len(self.cases):,} cases match these settings, and all of them are "
                f"drawn: the run records n = {len(self.cases):,}.")

    @property
    def paid(self) -> bool:
        """A model or the judge costs money: confirm before running."""
        return any(est.paid for est in self.estimates.values())

    @property
    def calls(self) -> int:
        """Model calls the run makes at most (cases already answered in an earlier run cost nothing)."""
        return len(self.cases) * len(self.params)

    def paid_calls(self) -> list[presets.ModelSpec]:
        """A spec per call the run may make, for the spending guard: each model on every case, the judge on every
        answer and on the bridge's paper answers (bridged once for all the models)."""
        calls = [spec_for(p) for p in self.params for _ in self.cases]
        if self.judge.spec is not None:
            bridge = max((est.bridge_calls for est in self.estimates.values()), default=0)
            calls += [self.judge.spec] * (self.calls + bridge)
        gold = gold_judge(self.params[0])
        if gold is not None and gold.spec is not None:
            gold_n = self.params[0].gold_n
            assert gold_n is not None  # check(): a gold judge comes with its gold_n
            calls += [gold.spec] * (gold_n * len(self.params))
        return paid(calls)

    def cost_text(self) -> str:
        return " ".join(f"{model}: {est.text()}" for model, est in self.estimates.items())


def plan_spot_check(engine, models_params: list[SpotCheckParams]) -> SpotCheckPlan:
    """Check, sample, estimate. Raises SpotCheckError naming what is wrong (a setting, an empty store or
    sample, a judge that cannot run here)."""
    first = check_one_sample(models_params)
    if not store.has_paper(engine):
        raise SpotCheckError("no paper cases in the store to sample from: run `python -m blindrefusal import-paper` "
                             "first")
    cases = sample_cases(engine, first)
    if not cases and first.cases == FRESH_CASES:
        raise SpotCheckError("no accepted fresh case matches these filters: generate some (generate-cases or the "
                             "Fresh cases page) and accept them after review")
    if not cases:
        raise SpotCheckError("no paper case matches these family / authority / dual-use filters")
    check_gold_size(cases, first)
    asked = first.n
    models_params = [replace(p, n=drawn_n(cases, p)) for p in models_params]  # the run records the n actually drawn
    try:
        judge = usable_judge(first.judge)
    except JudgeUnavailable as exc:
        raise SpotCheckError(f"--judge: {exc}") from None
    estimates = {p.arm: estimate_cost(engine, p, cases, judge) for p in models_params}
    design = sample_design(engine, first)  # a fresh run is placed among the paper's models by its published half
    hint = power_hint(engine, [c for c in cases if c.id in design.cell_of], design)
    return SpotCheckPlan(models_params, cases, estimates, hint, judge, asked)

"""A spot-check's numbers: its rates weighted to the release, the model beside the paper's models (compare.py),
the judge's shift on the bridged answers, and the case-by-case table."""

from __future__ import annotations

from dataclasses import dataclass

from blindrefusal import store
from blindrefusal.analysis.ranking import RankRange
from blindrefusal.analysis.rates import HEADLINE_RATES, RateSet, weighted_rates
from blindrefusal.analysis.stats import Diff, diff_independent
from blindrefusal.analysis.weighted import WEIGHT_BASIS, kish_effective_n
from blindrefusal.evals.fresh.gap import ContaminationGap, contamination_gap, helps_by_case
from blindrefusal.evals.spotcheck.compare import NO_PAPER_SIDE, PaperSide, judge_shift, paper_side
from blindrefusal.evals.spotcheck.gold import GoldFindings, gold_findings, gold_verdicts
from blindrefusal.evals.spotcheck.params import FRESH_CASES, SpotCheckParams, sample_cases, sample_design
from blindrefusal.judges import DISTILLED
from blindrefusal.judges.distilled.crossfit import labels_for
from blindrefusal.judges.distilled.measured import distilled_version
from blindrefusal.judges.paper import is_paper_judge_name
from blindrefusal.runs.recording import StoredAnswer, stored_answers
from vocabulary import CONTROL, HELPS, STATUS_BLOCKED, STATUS_ERROR, STATUS_OK

ESTIMAND = ("each rate is over the release's cases that the run's filters leave (defeated cases for the defeated "
            "rates, control cases for the control rates), as if every one of them had been asked")


@dataclass(frozen=True)
class Weighting:
    """How a spot-check's sample is weighted to the release."""

    allocation: str
    strata: int  # post-strata of the defeated cases
    effective_n: float  # Kish's (Σw)² / Σw² over the defeated cases
    population: int  # the release's defeated cases the estimate stands for

    def as_dict(self) -> dict:
        return {"basis": WEIGHT_BASIS, "allocation": self.allocation, "strata": self.strata,
                "kish_effective_n": round(self.effective_n, 1), "population_defeated_cases": self.population}

    def text(self) -> str:
        return (f"Weighted to the release's {self.population:,} defeated cases ({self.allocation} allocation, "
                f"{self.strata} strata; the weights leave an effective n of {self.effective_n:.0f}).")


@dataclass
class SpotCheckResult:
    """A spot-check's numbers, typed; `to_json()` is the `spot-check --json` and download shape.

    `one_judge` compares under one judge: this run's judge on both sides (the paper's answers re-judged by the
    bridge), or GPT-5.4's labels on both sides when the judge is the paper's own. Without a bridge it is empty
    and `against_labels` (this judge vs GPT-5.4's labels, mixing in the judge's error) is all there is."""

    run_id: int
    model: str
    seed: int | None
    judge: str | None
    status: str
    defeated: RateSet
    control: RateSet
    gap: Diff
    comparison: str  # same_judge | paper_judge | mixed_judges (no bridge)
    one_judge: PaperSide
    against_labels: PaperSide
    judge_shift: dict[str, Diff]  # bridged paper model -> this judge's help rate minus GPT-5.4's, same answers
    weights: Weighting
    gold: GoldFindings | None  # prediction-powered numbers, once a gold judge has labelled a subset
    errors: int
    blocked: int
    unseen_model_error: dict | None = None  # the distilled judge's leave-one-model-out help-rate error
    # A fresh run: the model on generated cases minus on published cases of the same cells (the rates above are
    # its published half, weighted to the release's cases of those cells)
    contamination: ContaminationGap | None = None

    @property
    def n(self) -> int:
        return self.defeated.n + self.control.n

    @property
    def vs_paper(self) -> dict[str, Diff]:
        return self.one_judge.vs

    @property
    def rank(self) -> RankRange:
        return self.one_judge.rank

    @property
    def vs_paper_labels(self) -> dict[str, Diff]:
        return self.against_labels.vs

    @property
    def rank_paper_labels(self) -> RankRange:
        return self.against_labels.rank

    @property
    def placed(self) -> PaperSide:
        """The paper side the model is placed by: one judge where there is one, else GPT-5.4's labels."""
        return self.one_judge if self.rank.lo is not None else self.against_labels

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
            crossed = (" (cross-fitted: each answer by a fold of it that never saw the case)"
                       if self.judge == DISTILLED and labels_for(distilled_version()) is not None else "")
            return (f"Judged by {self.judge} on both sides: the {len(self.judge_shift)} paper models' answers to these "
                    f"cases were re-judged by it{crossed}. Its help rate differs from GPT-5.4's by "
                    f"{'—' if shift is None else f'{shift * 100:.1f} pp'} on average on those answers.")
        return (f"Not compared under one judge: this model is judged by {self.judge}, the paper's models by GPT-5.4. "
                "Differences below mix in the judges' disagreement; re-run the same settings to bridge.")

    def unseen_error_text(self) -> str | None:
        """Without gold labels: what the intervals leave out, and the judge's measured error on unseen models."""
        if self.gold is not None or is_paper_judge_name(self.judge):
            return None
        u = self.unseen_model_error
        out = ("These intervals cover sampling error only, not the judge's own error: add gold labels "
               "(`--gold paper --gold-n 50`) for intervals that do.")
        if not u:
            return out
        signed = u.get("help_rate_mean_signed_pp")
        return out + (f" On models it never saw, this judge's help rate is off by {signed:+.1f} pp on average "
                      f"(|error| {u['help_rate_mean_abs_pp']:.1f}, max {u['help_rate_max_abs_pp']:.1f}; "
                      f"leave-one-model-out over {u['models']} paper model{'' if u['models'] == 1 else 's'}): "
                      "differences smaller than that may be the judge, not the model.")

    def to_json(self) -> dict:
        def block(rs: RateSet) -> dict:
            return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

        one, labels = self.one_judge.as_dict(), self.against_labels.as_dict()
        return {
            "run_id": self.run_id, "model": self.model, "n": self.n, "seed": self.seed, "judge": self.judge,
            "status": self.status, "estimand": ESTIMAND, "weights": self.weights.as_dict(),
            "defeated": block(self.defeated), "control": block(self.control),
            "gap": self.gap.as_dict(), "comparison": self.comparison,
            "vs_paper": one["vs"], "rank": one["rank"], "paper_rates": one["paper_rates"], "paper_gap": one["paper_gap"],
            "vs_paper_labels": labels["vs"], "rank_paper_labels": labels["rank"],
            "paper_rates_labels": labels["paper_rates"], "paper_gap_labels": labels["paper_gap"],
            "judge_shift": {"by_model": {k: v.as_dict() for k, v in self.judge_shift.items()},
                            "mean_abs": self.mean_abs_shift},
            "rank_metric": "help rate on defeated cases (1 = helps most)",
            "gold": None if self.gold is None else self._gold_json(),
            "unseen_model_error": self.unseen_model_error,
            "errors": self.errors, "blocked": self.blocked,
            "contamination_gap": None if self.contamination is None else self.contamination.as_dict(),
        }


    def _gold_json(self) -> dict:
        """The prediction-powered numbers beside the judge-only ones they rectify."""
        g = self.gold.as_dict()
        return {**g, "rates": {k: {"ppi": v, "judge_only": self.defeated.get(k).as_dict()} for k, v in g["rates"].items()},
                "vs_paper": {k: {"ppi": v, "judge_only": self.vs_paper_labels[k].as_dict()}
                             for k, v in g["vs_paper"].items() if k in self.vs_paper_labels}}


def latest_labels(answers: list[StoredAnswer]) -> dict[int, StoredAnswer]:
    """One judged answer per case: the newest (a resumed or raced run may hold several)."""
    out: dict[int, StoredAnswer] = {}
    for a in sorted(answers, key=lambda a: a.id):
        if a.judged:
            out[a.case_id] = a
    return out


def _one_judge_side(engine, run_id: int, judge: str | None, release: dict, sample: tuple[set, set],
                    design) -> tuple[str, PaperSide, dict[str, Diff]]:
    """(comparison, the paper side under this run's judge, the judge's shift) when the paper side was bridged."""
    defeated, control = sample
    judged = store.judge_labels(engine, judge, sorted(defeated | control), source="paper") if judge else {}
    if not judged:
        return "mixed_judges", NO_PAPER_SIDE, {}
    own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=run_id).values() for cid, rt in by_case.items()}
    return ("same_judge", paper_side(own, judged, defeated, control, design),
            judge_shift(judged, release, defeated, design))


def _gold(engine, run: dict, labels: dict, release: dict, defeated: set[int], design) -> GoldFindings | None:
    """The prediction-powered findings from the gold labels of this run's gold subset, if it asked for any."""
    found = gold_verdicts(engine, run)
    if found is None:
        return None
    name, verdicts = found
    return gold_findings(name, labels, verdicts, release, defeated, design)


def run_judge_labels(engine, run_id: int, judge: str | None, effective: dict) -> dict:
    """The run judge's own verdict per case (a reviewer's label, which may be a gold label, is not the judge's)."""
    own = {cid: v for by_case in store.judge_verdicts(engine, judge, run_id=run_id).values()
           for cid, v in by_case.items()} if judge else {}
    return {cid: own.get(cid, v) for cid, v in effective.items()}


def results(engine, run_id: int) -> SpotCheckResult:
    """Rates weighted to the release (each case counted once), the help gap, and the model beside the paper's
    models on the same cases under one judge and against GPT-5.4's labels, with the judge's shift."""
    run = store.get_run(engine, run_id)
    if run is None or run["kind"] != "spot_check":
        raise KeyError(f"no spot-check run {run_id}")
    params = run["params"]
    judge = params.get("judge")
    design = sample_design(engine, params)
    answers = stored_answers(engine, run_id)
    latest = latest_labels(answers)
    # the run judge's verdict on every answered case (a fresh run's fresh half too), read once
    every = run_judge_labels(engine, run_id, judge, {cid: (a.response_type, a.engages, a.harm) for cid, a in latest.items()})
    mine = {cid: a for cid, a in latest.items() if cid in design.cell_of}
    defeated = {cid for cid, a in mine.items() if not a.is_control}
    control = set(mine) - defeated
    labels = {cid: every[cid] for cid in mine}
    d_rates = weighted_rates({c: labels[c] for c in defeated}, design)
    c_rates = weighted_rates({c: labels[c] for c in control}, design)
    release = store.paired_labels(engine, sorted(mine))
    against_labels = paper_side({cid: v[0] for cid, v in labels.items()}, release, defeated, control, design)
    if is_paper_judge_name(judge):
        comparison, one_judge, shift = "paper_judge", against_labels, {}
    else:
        comparison, one_judge, shift = _one_judge_side(engine, run_id, judge, release, (defeated, control), design)
    answered = {a.case_id for a in answers if a.status in (STATUS_OK, STATUS_BLOCKED)}
    gold = _gold(engine, run, labels, release, defeated, design)
    contamination = None
    if params.get("cases") == FRESH_CASES:
        contamination = contamination_gap(sample_cases(engine, SpotCheckParams.stored(params)), helps_by_case(every),
                                          judge)
    return SpotCheckResult(
        run_id=run_id, model=params.get("model", ""), seed=params.get("seed"), judge=judge,
        status=run["status"], defeated=d_rates, control=c_rates,
        gap=diff_independent(d_rates.helps, c_rates.helps), comparison=comparison, one_judge=one_judge,
        against_labels=against_labels, judge_shift=shift, unseen_model_error=unseen_model_error(judge), gold=gold,
        weights=Weighting(params.get("allocation", "equal"), len(design.strata(defeated)[1]),
                          kish_effective_n(defeated, design), sum(n for (f, _), n in design.population.items()
                                                                   if f != CONTROL)),
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        errors=len({a.case_id for a in answers if a.status == STATUS_ERROR} - answered),
        blocked=len({a.case_id for a in answers if a.status == STATUS_BLOCKED}), contamination=contamination)


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
    newest: dict[int, StoredAnswer] = {}
    for a in stored_answers(engine, run_id):
        if a.case_id not in newest or a.status in (STATUS_OK, STATUS_BLOCKED):
            newest[a.case_id] = a
    paper = store.paired_labels(engine, sorted(newest))
    out = []
    for cid, a in newest.items():
        labels = [by_case[cid] for by_case in paper.values() if cid in by_case]
        out.append(CaseAnswer(a.id, a.case_key, a.family, a.status, a.response_type if a.status == STATUS_OK else None,
                              a.engages, sum(rt == HELPS for rt in labels), len(labels)))
    return sorted(out, key=lambda a: a.case_key)


def unseen_model_error(judge: str | None) -> dict | None:
    """For the distilled judge: its help-rate error on models it never saw (leave-one-model-out), if measured."""
    from blindrefusal.judges import DISTILLED
    from blindrefusal.judges.distilled.measured import unseen_model_measurement

    if judge != DISTILLED:
        return None
    lomo = unseen_model_measurement()
    return None if lomo is None else lomo.summary()

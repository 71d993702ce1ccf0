"""What a spot-check found, as typed records: its rates weighted to the release, its place beside the paper's
models, the judge's shift and gold findings, and the case-by-case table. Built by `assemble`, written out by
`output` (JSON, sentences)."""

from __future__ import annotations

from dataclasses import dataclass, field

from blindrefusal.analysis.judge_bias import UnseenError
from blindrefusal.analysis.ranking import RankRange
from blindrefusal.analysis.rates import RateSet
from blindrefusal.analysis.stats import Diff, Rate
from blindrefusal.analysis.weighted import WEIGHT_BASIS
from blindrefusal.evals.fresh.gap import ContaminationGap
from blindrefusal.evals.spotcheck.compare import PaperSide
from blindrefusal.evals.spotcheck.gold import GoldFindings
from vocabulary import HELPS

ESTIMAND = ("each rate is over the release's cases that the run's filters leave (defeated cases for the defeated "
            "rates, control cases for the control rates), as if every one of them had been asked")


def labels_defining(judge: str | None) -> dict[str, str]:
    """Whose labels define the outcome of each of a spot-check's numbers (the JSON's `estimand`)."""
    own = f"the run's judge ({judge})"
    return {"defeated, control, gap": own + ": its labels, not GPT-5.4's; the interval covers sampling only",
            "vs_paper, rank, paper_rates, judge_shift": own + " on both sides (the paper's answers re-judged by it)",
            "vs_paper_labels, rank_paper_labels": own + " for this model against GPT-5.4's labels for the paper's",
            "gpt54_scale": "GPT-5.4's labels, as the run's judge estimates them: its mean error on models it never "
                           "saw corrected, their spread included in the interval",
            "gold": "the gold judge's labels (prediction-powered: the run judge's labels rectified by them)"}


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
    """A spot-check's numbers, typed; `output.to_json` is the `spot-check --json` and download shape.

    `one_judge` compares under one judge: this run's judge on both sides (the paper's answers re-judged by the
    bridge), or GPT-5.4's labels on both sides when the judge is the paper's own. Without a bridge it is empty
    and `against_labels` (this judge vs GPT-5.4's labels, mixing in the judge's error) is all there is."""

    run_id: int
    model: str  # the arm: the model's key, with its system prompt's hash when it ran under one
    seed: int | None
    judge: str | None
    status: str
    system_prompt: str | None  # None: the paper's setting (the user query alone)
    defeated: RateSet
    control: RateSet
    gap: Diff
    comparison: str  # same_judge | paper_judge | mixed_judges (no bridge)
    one_judge: PaperSide
    against_labels: PaperSide
    judge_shift: dict[str, Diff]  # bridged paper model -> this judge's help rate minus GPT-5.4's, same answers
    mean_shift: Diff  # the same averaged over the bridged models, signed, with its interval
    weights: Weighting
    gold: GoldFindings | None  # prediction-powered numbers, once a gold judge has labelled a subset
    errors: int
    blocked: int
    # The judge's errors on models it never saw (leave-one-model-out), by rate; and the rates on GPT-5.4's scale
    # they give without gold labels (analysis/judge_bias.py)
    unseen_error: dict[str, UnseenError] = field(default_factory=dict)
    gpt54_scale: dict[str, Rate] = field(default_factory=dict)
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

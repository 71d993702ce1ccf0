"""Spot-checks: stage 5 of the pipeline. A new model on a stratified sample of the paper's cases, judged,
stored as a run of kind `spot_check`, resumable, and compared with the paper's 18 on the same cases.

- `params`: what is asked (`SpotCheckParams`, checked) and the sample it draws.
- `plan`: the one pre-run flow (sample, cost per model and judge, power), shared by the CLI and the page.
- `bridge`: the same-judge bridge over the paper models' answers.
- `run`: claim, answer, judge, bridge; resumable, cancellable, with progress.
- `gold`: gold labels on a random subset (a gold judge, or our reviewers through a shared queue), and the
  prediction-powered numbers they buy.
- `compare`: like for like with the paper's models (same cases, same judge, same weights).
- `arms`: the arms of one spot-check (models, or one model under several system prompts) against each other on
  both sides of the design, the verdict in words, and the trade-off plane.
- `result`: what it found, typed (`SpotCheckResult`, `CaseAnswer`); `assemble` builds it from the store (`results`,
  `case_answers`); `output` writes it out (`to_json`, `summary_text`, `comparison_text`, `unseen_error_text`).
- `report`: the self-contained HTML report."""

from blindrefusal.analysis.ppi import MIN_GOLD
from blindrefusal.evals.spotcheck.arms import ModelPair, compare_runs, plane
from blindrefusal.evals.spotcheck.assemble import case_answers, results
from blindrefusal.evals.spotcheck.bridge import bridge_models, bridge_paper_answers
from blindrefusal.evals.spotcheck.compare import PaperSide
from blindrefusal.evals.spotcheck.gold import GOLD_CHOICES
from blindrefusal.evals.spotcheck.output import comparison_text, summary_text, to_json, unseen_error_text
from blindrefusal.evals.spotcheck.params import SpotCheckError, SpotCheckParams, sample_cases
from blindrefusal.evals.spotcheck.plan import (
           CostEstimate,
           PowerHint,
           SpotCheckPlan,
           estimate_cost,
           plan_spot_check,
           power_hint,
)
from blindrefusal.evals.spotcheck.result import CaseAnswer, SpotCheckResult
from blindrefusal.evals.spotcheck.run import Progress, run_spot_check, run_spot_checks

__all__ = [
    "CaseAnswer", "CostEstimate", "GOLD_CHOICES", "MIN_GOLD", "ModelPair", "PaperSide", "PowerHint", "Progress",
    "SpotCheckError", "SpotCheckParams", "SpotCheckPlan", "SpotCheckResult", "bridge_models", "bridge_paper_answers",
    "case_answers", "compare_runs", "comparison_text", "estimate_cost", "plan_spot_check", "plane", "power_hint",
    "results", "summary_text",
    "run_spot_check", "run_spot_checks", "sample_cases", "to_json", "unseen_error_text",
]

"""A spot-check's findings written out: the `spot-check --json` and download shape, and the sentences that say
what its comparisons rest on and what its intervals leave out."""

from __future__ import annotations

from blindrefusal.analysis.rates import HEADLINE_RATES, RateSet
from blindrefusal.evals.spotcheck.gold import GoldFindings
from blindrefusal.evals.spotcheck.result import ESTIMAND, SpotCheckResult
from blindrefusal.judges import DISTILLED
from blindrefusal.judges.distilled.crossfit import labels_for
from blindrefusal.judges.distilled.measured import distilled_version
from blindrefusal.judges.paper import is_paper_judge_name


def comparison_text(result: SpotCheckResult) -> str:
    """What the comparisons with the paper's models rest on, in one sentence."""
    if result.comparison == "paper_judge":
        return ("Judged by GPT-5.4 with the authors' prompt, the judge of the paper's own labels: both sides are "
                "under one judge, no bridge needed.")
    if result.comparison == "same_judge":
        shift = result.mean_abs_shift
        crossed = (" (cross-fitted: each answer by a fold of it that never saw the case)"
                   if result.judge == DISTILLED and labels_for(distilled_version()) is not None else "")
        return (f"Judged by {result.judge} on both sides: the {len(result.judge_shift)} paper models' answers to these "
                f"cases were re-judged by it{crossed}. Its help rate differs from GPT-5.4's by "
                f"{'—' if shift is None else f'{shift * 100:.1f} pp'} on average on those answers.")
    return (f"Not compared under one judge: this model is judged by {result.judge}, the paper's models by GPT-5.4. "
            "Differences below mix in the judges' disagreement; re-run the same settings to bridge.")


def unseen_error_text(result: SpotCheckResult) -> str | None:
    """Without gold labels: what the intervals leave out, and the judge's measured error on unseen models."""
    if result.gold is not None or is_paper_judge_name(result.judge):
        return None
    u = result.unseen_model_error
    out = ("These intervals cover sampling error only, not the judge's own error: add gold labels "
           "(`--gold paper --gold-n 50`) for intervals that do.")
    if not u:
        return out
    signed = u.get("help_rate_mean_signed_pp")
    return out + (f" On models it never saw, this judge's help rate is off by {signed:+.1f} pp on average "
                  f"(|error| {u['help_rate_mean_abs_pp']:.1f}, max {u['help_rate_max_abs_pp']:.1f}; "
                  f"leave-one-model-out over {u['models']} paper model{'' if u['models'] == 1 else 's'}): "
                  "differences smaller than that may be the judge, not the model.")


def to_json(result: SpotCheckResult) -> dict:
    def block(rs: RateSet) -> dict:
        return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

    one, labels = result.one_judge.as_dict(), result.against_labels.as_dict()
    return {
        "run_id": result.run_id, "model": result.model, "n": result.n, "seed": result.seed, "judge": result.judge,
        "status": result.status, "estimand": ESTIMAND, "weights": result.weights.as_dict(),
        "defeated": block(result.defeated), "control": block(result.control),
        "gap": result.gap.as_dict(), "comparison": result.comparison,
        "vs_paper": one["vs"], "rank": one["rank"], "paper_rates": one["paper_rates"], "paper_gap": one["paper_gap"],
        "vs_paper_labels": labels["vs"], "rank_paper_labels": labels["rank"],
        "paper_rates_labels": labels["paper_rates"], "paper_gap_labels": labels["paper_gap"],
        "judge_shift": {"by_model": {k: v.as_dict() for k, v in result.judge_shift.items()},
                        "mean_abs": result.mean_abs_shift},
        "rank_metric": "help rate on defeated cases (1 = helps most)",
        "gold": None if result.gold is None else _gold_json(result, result.gold),
        "unseen_model_error": result.unseen_model_error,
        "errors": result.errors, "blocked": result.blocked,
        "contamination_gap": None if result.contamination is None else result.contamination.as_dict(),
    }


def _gold_json(result: SpotCheckResult, gold: GoldFindings) -> dict:
    """The prediction-powered numbers (the result's `gold`) beside the judge-only ones they rectify."""
    g = gold.as_dict()
    return {**g, "rates": {k: {"ppi": v, "judge_only": result.defeated.get(k).as_dict()}
                           for k, v in g["rates"].items()},
            "vs_paper": {k: {"ppi": v, "judge_only": result.vs_paper_labels[k].as_dict()}
                         for k, v in g["vs_paper"].items() if k in result.vs_paper_labels}}

"""A spot-check's findings written out: the `spot-check --json` and download shape, and the sentences that say
what its comparisons rest on and what its intervals leave out."""

from __future__ import annotations

from blindrefusal.analysis.judge_bias import BIAS_METHOD
from blindrefusal.analysis.rates import HEADLINE_RATES, RateSet
from blindrefusal.evals.spotcheck.gold import GoldFindings
from blindrefusal.evals.spotcheck.result import ESTIMAND, SpotCheckResult, labels_defining
from blindrefusal.judges import DISTILLED
from blindrefusal.judges.distilled.crossfit import labels_for
from blindrefusal.judges.distilled.measured import distilled_version
from blindrefusal.judges.paper import is_paper_judge_name
from blindrefusal.models.configuration import prompt_hash, prompt_name, split_config_key
from blindrefusal.models.presets import display_name


def comparison_text(result: SpotCheckResult) -> str:
    """What the comparisons with the paper's models rest on, in one sentence."""
    if result.comparison == "paper_judge":
        return ("Judged by GPT-5.4 with the authors' prompt, the judge of the paper's own labels: both sides are "
                "under one judge, no bridge needed.")
    if result.comparison == "same_judge":
        crossed = (" (cross-fitted: each answer by a fold of it that never saw the case)"
                   if result.judge == DISTILLED and labels_for(distilled_version()) is not None else "")
        return (f"Judged by {result.judge} on both sides: the {len(result.judge_shift)} paper models' answers to these "
                f"cases were re-judged by it{crossed}. On those answers its help rate minus GPT-5.4's is "
                f"{result.mean_shift.fmt()} on average over the models.")
    return (f"Not compared under one judge: this model is judged by {result.judge}, the paper's models by GPT-5.4. "
            "Differences below mix in the judges' disagreement; re-run the same settings to bridge.")


def summary_text(result: SpotCheckResult) -> str:
    """Where the model sits, in one paragraph: its help on defeated and on just rules, and its rank among the
    paper's configurations on the same cases (under one judge where there is one)."""
    side = result.placed
    view = (f"under {result.judge} on both sides" if result.comparison == "same_judge" else "under GPT-5.4"
            if result.comparison == "paper_judge" else "against GPT-5.4's labels, another judge than its own")
    rank = ("It cannot be ranked: nothing was compared on these cases." if side.rank.lo is None else
            f"Among the {side.rank.of} configurations on these cases ({view}) it ranks {side.rank.text()} by help on "
            f"defeated rules (1 = helps most): {len(side.rank.above)} significantly above it, "
            f"{len(side.rank.below)} below.")
    scaled = result.gpt54_scale.get("helps")
    return (f"{display_name(result.model)}: help rate {result.defeated.helps.fmt()} on defeated rules and "
            f"{result.control.helps.fmt()} on just (control) rules, a gap of {result.gap.fmt()}, against "
            f"{side.gap.fmt()} for the paper's models on the same cases. {rank}"
            + (f" On GPT-5.4's scale (the judge's measured error included): {scaled.fmt()}." if scaled else ""))


def unseen_error_text(result: SpotCheckResult) -> str | None:
    """Without gold labels: what the judge-only intervals leave out, and what the judge's measured error on
    unseen models gives instead (the GPT-5.4-scale rates)."""
    if result.gold is not None or is_paper_judge_name(result.judge):
        return None
    out = ("The intervals above are the judge's own: they cover sampling error only, not the judge's error. Add "
           "gold labels (`--gold paper --gold-n 50`) for intervals that include it.")
    helps = result.unseen_error.get("helps")
    if helps is None:
        return out
    lo, hi = helps.mean_interval_pp()
    scaled = result.gpt54_scale["helps"]
    engages = result.gpt54_scale.get("engages")
    return out + (f" On {helps.k} paper models it never saw, this judge's help rate was off by {helps.mean_pp:+.1f} pp "
                  f"on average (95% CI {lo:+.1f} to {hi:+.1f}; spread across models {helps.sd_pp:.1f} pp). On "
                  f"GPT-5.4's scale, that error corrected and its spread included, this model's help rate on defeated "
                  f"rules is {scaled.fmt()}" + (f", its engagement {engages.fmt()}" if engages else "")
                  + f" ({BIAS_METHOD}).")


def _unseen_json(result: SpotCheckResult) -> dict | None:
    if not result.unseen_error:
        return None
    out: dict = {}
    for rate, e in result.unseen_error.items():
        out[rate] = {"models": e.k, "mean_error_pp": round(e.mean_pp, 3),
                     "mean_error_ci_pp": [round(v, 3) for v in e.mean_interval_pp()],
                     "sd_across_models_pp": round(e.sd_pp, 3),
                     "sd_across_models_ci_pp": [round(v, 3) for v in e.sd_interval_pp()]}
    return out


def to_json(result: SpotCheckResult) -> dict:
    def block(rs: RateSet) -> dict:
        return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

    one, labels = result.one_judge.as_dict(), result.against_labels.as_dict()
    return {
        "run_id": result.run_id, "model": result.model, "base_model": split_config_key(result.model)[0],
        "system_prompt": system_prompt_json(result.system_prompt), "n": result.n, "seed": result.seed,
        "judge": result.judge,
        "status": result.status, "estimand": {"population": ESTIMAND, "labels": labels_defining(result.judge)},
        "weights": result.weights.as_dict(),
        "defeated": block(result.defeated), "control": block(result.control),
        "gap": result.gap.as_dict(), "comparison": result.comparison,
        "vs_paper": one["vs"], "rank": one["rank"], "paper_rates": one["paper_rates"], "paper_gap": one["paper_gap"],
        "vs_paper_labels": labels["vs"], "rank_paper_labels": labels["rank"],
        "paper_rates_labels": labels["paper_rates"], "paper_gap_labels": labels["paper_gap"],
        "paper_control_rates": one["paper_control_rates"], "paper_control_rates_labels": labels["paper_control_rates"],
        "judge_shift": {"by_model": {k: v.as_dict() for k, v in result.judge_shift.items()},
                        "mean": result.mean_shift.as_dict()},
        "rank_metric": "help rate on defeated cases (1 = helps most)",
        "gold": None if result.gold is None else _gold_json(result, result.gold),
        "unseen_model_error": _unseen_json(result),
        "gpt54_scale": {k: v.as_dict() for k, v in result.gpt54_scale.items()} or None,
        "errors": result.errors, "blocked": result.blocked,
        "contamination_gap": None if result.contamination is None else result.contamination.as_dict(),
    }


def system_prompt_json(text: str | None) -> dict:
    """Which system prompt an arm ran: its name (none: the paper's setting), hash and text."""
    return {"name": prompt_name(text), "hash": prompt_hash(text) if text else None, "text": text}


def _gold_json(result: SpotCheckResult, gold: GoldFindings) -> dict:
    """The prediction-powered numbers (the result's `gold`) beside the judge-only ones they rectify."""
    g = gold.as_dict()
    return {**g, "rates": {k: {"ppi": v, "judge_only": result.defeated.get(k).as_dict()}
                           for k, v in g["rates"].items()},
            "vs_paper": {k: {"ppi": v, "judge_only": result.vs_paper_labels[k].as_dict()}
                         for k, v in g["vs_paper"].items() if k in result.vs_paper_labels}}

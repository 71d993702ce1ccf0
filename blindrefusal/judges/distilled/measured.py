"""What has been measured of the distilled judge, as shipped in data/: its agreement with GPT-5.4 on the
held-out split (`judge-eval --write`) and its error on models it never saw (`judge-eval
--leave-one-model-out --write`). Reading only: the measuring is in `evaluate.py` and `lomo.py`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from blindrefusal.analysis.judge_bias import UnseenError
from blindrefusal.config import DATA_DIR

EVAL_FILE = DATA_DIR / "distilled_judge_eval.json"
LOMO_PATH = DATA_DIR / "distilled_judge_lomo.json"


def distilled_eval() -> dict | None:
    """The shipped test-split evaluation of the distilled judge (written by `judge-eval --write`)."""
    if not EVAL_FILE.is_file():
        return None
    with open(EVAL_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def distilled_version() -> str:
    """The shipped distilled judge's version, from its metadata (without loading the weights)."""
    meta = DATA_DIR / "distilled_judge.json"
    if not meta.is_file():
        return "none"
    return str(json.loads(meta.read_text(encoding="utf-8")).get("version", "unknown"))


@dataclass
class UnseenModelMeasurement:
    """The distilled judge's error on models it never saw (leave one model out), per model and overall."""

    per_model: dict[str, dict]
    summary_stats: dict
    before: dict | None = None  # the previous training pipeline's measurement, kept to compare (lomo._current)

    def not_of(self, version: str) -> list[str]:
        """The models whose entry was measured with another version of the judge than `version` (the shipped one)."""
        return sorted(k for k, m in self.per_model.items() if m.get("judge_version", "1.1") != version)

    def before_text(self) -> str | None:
        """How the previous version of the judge did on the same measurement, in one sentence."""
        if not self.before:
            return None
        b, s = self.before["summary"], self.before["summary"]["unseen"]["help_rate_error_pp"]
        return (f"With its previous training (version {self.before['judge_version']}), the same measurement over "
                f"{b['models']} models gave a mean |help-rate error| of {s['mean_abs']:.2f} pp (signed "
                f"{self.before['help_rate_mean_signed_pp']:+.2f}), max {s['max_abs']:.2f} pp.")

    @property
    def stale_intervals(self) -> list[str]:
        """The models whose intervals came from an earlier paired method (recorded per model; none recorded: the
        earliest), not the one the app uses now."""
        from blindrefusal.analysis.stats import PAIRED_METHOD

        return sorted(k for k, m in self.per_model.items() if m.get("interval_method") != PAIRED_METHOD)

    def errors(self, metric: str) -> UnseenError | None:
        """The judge's signed errors on the models it never saw (`help_rate_error_pp`, `engagement_error_pp`)."""
        return UnseenError.of([m["unseen"][metric] for m in self.per_model.values() if metric in m["unseen"]])

    def seen_errors(self, metric: str) -> UnseenError | None:
        """The same for the shipped judge, which saw each model in training."""
        return UnseenError.of([m["seen"][metric] for m in self.per_model.values() if metric in m.get("seen", {})])

    def summary(self) -> dict:
        unseen = self.summary_stats["unseen"]
        signed = [m["unseen"]["help_rate_error_pp"] for m in self.per_model.values()]
        return {"models": self.summary_stats["models"],
                "help_rate_mean_abs_pp": unseen["help_rate_error_pp"]["mean_abs"],
                "help_rate_mean_signed_pp": round(sum(signed) / len(signed), 2) if signed else None,
                "help_rate_max_abs_pp": unseen["help_rate_error_pp"]["max_abs"],
                "engagement_mean_abs_pp": unseen["engagement_error_pp"]["mean_abs"],
                "engagement_max_abs_pp": unseen["engagement_error_pp"]["max_abs"]}

    def text(self) -> str:
        helps, engages = self.errors("help_rate_error_pp"), self.errors("engagement_error_pp")
        if helps is None or engages is None:
            return "too few models measured to say how far off this judge is on models it never saw"

        def said(e: UnseenError) -> str:
            lo, hi = e.mean_interval_pp()
            return f"{e.mean_pp:+.1f} pp on average (95% CI {lo:+.1f} to {hi:+.1f}; spread {e.sd_pp:.1f} pp)"

        return (f"on models it never saw, this judge's help rate is off by {said(helps)}, its engagement rate by "
                f"{said(engages)} — leave-one-model-out over {helps.k} paper models")


def unseen_model_measurement() -> UnseenModelMeasurement | None:
    """The shipped leave-one-model-out measurement of the distilled judge, if it has been run."""
    if not LOMO_PATH.is_file():
        return None
    doc = json.loads(LOMO_PATH.read_text(encoding="utf-8"))
    if not doc.get("per_model"):
        return None
    return UnseenModelMeasurement(per_model=doc["per_model"], summary_stats=doc["summary"], before=doc.get("before"))

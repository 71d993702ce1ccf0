"""Agreement between judges (and humans): Cohen's kappa, accuracy and confusion for each label."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vocabulary import RESPONSE_TYPES

from .config import DATA_DIR
from .stats import cohen_kappa, confusion, kappa_interval

LABELS = {
    "response_type": list(RESPONSE_TYPES),
    "engages_with_defeat": [True, False],
    "independent_harm": [True, False],
}
EVAL_FILE = DATA_DIR / "distilled_judge_eval.json"
LOMO_PATH = DATA_DIR / "distilled_judge_lomo.json"  # `judge-eval --leave-one-model-out --write`
MIN_PAIRS = 30


@dataclass
class LabelAgreement:
    label: str
    n: int
    kappa: float | None
    agreement: float | None
    classes: list
    matrix: list[list[int]]  # rows: judge A, columns: judge B
    interval: tuple[float, float] | None = None  # 95% bootstrap interval of kappa, where the pairs are at hand

    @property
    def too_few(self) -> bool:
        """Under 30 pairs, kappa swings by tenths with a single label: shown, but flagged."""
        return self.n < MIN_PAIRS

    def fmt(self) -> str:
        if self.kappa is None:
            return "—"
        ci = f" (95% CI {self.interval[0]:.2f}–{self.interval[1]:.2f})" if self.interval else ""
        return f"κ {self.kappa:.2f}{ci}, n = {self.n:,}"


def compare(pairs: list[tuple[dict, dict]]) -> dict[str, LabelAgreement]:
    """pairs: [(labels by A, labels by B)] over the same responses."""
    out = {}
    for label, classes in LABELS.items():
        a = [p[0][label] if label == "response_type" else bool(p[0][label]) for p in pairs]
        b = [p[1][label] if label == "response_type" else bool(p[1][label]) for p in pairs]
        n = len(a)
        out[label] = LabelAgreement(
            label=label, n=n, kappa=cohen_kappa(a, b) if n else None,
            agreement=(sum(x == y for x, y in zip(a, b)) / n) if n else None,
            classes=classes, matrix=confusion(a, b, classes), interval=kappa_interval(a, b))
    return out


def from_evaluation(ev: dict) -> dict[str, LabelAgreement]:
    """The shipped test-split evaluation as LabelAgreements, classes in the one order every view uses."""
    out = {}
    for label, m in ev["labels"].items():
        raw = [c if label == "response_type" else c in (True, "true", "True", "yes") for c in m["confusion"]["classes"]]
        order = [raw.index(c) for c in LABELS[label]]
        matrix = [[m["confusion"]["matrix"][i][j] for j in order] for i in order]
        out[label] = LabelAgreement(label=label, n=ev["n_test"], kappa=m["kappa"], agreement=m["accuracy"],
                                    classes=list(LABELS[label]), matrix=matrix)
    return out


def distilled_eval() -> dict | None:
    """The shipped test-split evaluation of the distilled judge (written by `judge-eval --write`)."""
    if not EVAL_FILE.is_file():
        return None
    with open(EVAL_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class UnseenModelError:
    """The distilled judge's error on models it never saw (leave one model out), per model and overall."""

    per_model: dict[str, dict]
    summary_stats: dict

    def summary(self) -> dict:
        unseen = self.summary_stats["unseen"]
        return {"models": self.summary_stats["models"], "help_rate_mean_abs_pp": unseen["help_rate_error_pp"]["mean_abs"],
                "help_rate_max_abs_pp": unseen["help_rate_error_pp"]["max_abs"],
                "engagement_mean_abs_pp": unseen["engagement_error_pp"]["mean_abs"],
                "engagement_max_abs_pp": unseen["engagement_error_pp"]["max_abs"]}

    def text(self) -> str:
        s = self.summary()
        return (f"on models it never saw, this judge's help rate is off by {s['help_rate_mean_abs_pp']:.1f} pp on "
                f"average (max {s['help_rate_max_abs_pp']:.1f}), its engagement rate by "
                f"{s['engagement_mean_abs_pp']:.1f} pp (max {s['engagement_max_abs_pp']:.1f}) — "
                f"leave-one-model-out over {s['models']} paper model{'' if s['models'] == 1 else 's'}")


def leave_one_model_out() -> UnseenModelError | None:
    """The shipped leave-one-model-out measurement of the distilled judge, if it has been run."""
    if not LOMO_PATH.is_file():
        return None
    doc = json.loads(LOMO_PATH.read_text(encoding="utf-8"))
    if not doc.get("per_model"):
        return None
    return UnseenModelError(per_model=doc["per_model"], summary_stats=doc["summary"])

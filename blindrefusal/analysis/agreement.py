"""Agreement between judges (and humans): Cohen's kappa, accuracy and confusion for each label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from blindrefusal import store
from blindrefusal.analysis.stats import cohen_kappa, confusion, kappa_interval
from vocabulary import RESPONSE_TYPES

LabelName = Literal["response_type", "engages_with_defeat", "independent_harm"]  # the keys of store.Labels
LABELS: dict[LabelName, list] = {
    "response_type": list(RESPONSE_TYPES),
    "engages_with_defeat": [True, False],
    "independent_harm": [True, False],
}
MIN_PAIRS = 30


@dataclass
class LabelAgreement:
    label: str
    n: int
    kappa: float | None
    agreement: float | None
    classes: list
    matrix: list[list[int]]  # rows: judge A, columns: judge B
    interval: tuple[float, float] | None = None  # 95% bootstrap interval of kappa over cases, where at hand

    @property
    def too_few(self) -> bool:
        """Under 30 pairs, kappa swings by tenths with a single label: shown, but flagged."""
        return self.n < MIN_PAIRS

    def fmt(self) -> str:
        if self.kappa is None:
            return "—"
        ci = f" (95% CI {self.interval[0]:.2f}–{self.interval[1]:.2f})" if self.interval else ""
        return f"κ {self.kappa:.2f}{ci}, n = {self.n:,}"


def compare(pairs: Sequence[store.JudgmentPair]) -> dict[str, LabelAgreement]:
    """Agreement of two judges over the same responses; κ's interval resamples the responses' cases."""
    out: dict[str, LabelAgreement] = {}
    cases = [p.case_id for p in pairs]
    for label, classes in LABELS.items():
        a = [p.a[label] if label == "response_type" else bool(p.a[label]) for p in pairs]
        b = [p.b[label] if label == "response_type" else bool(p.b[label]) for p in pairs]
        n = len(a)
        out[label] = LabelAgreement(
            label=label, n=n, kappa=cohen_kappa(a, b) if n else None,
            agreement=(sum(x == y for x, y in zip(a, b, strict=True)) / n) if n else None,
            classes=classes, matrix=confusion(a, b, classes), interval=kappa_interval(a, b, clusters=cases))
    return out


def from_evaluation(ev: dict) -> dict[str, LabelAgreement]:
    """The shipped test-split evaluation as LabelAgreements, classes in the one order every view uses."""
    out = {}
    for label, m in ev["labels"].items():
        raw = [c if label == "response_type" else c in (True, "true", "True", "yes") for c in m["confusion"]["classes"]]
        order = [raw.index(c) for c in LABELS[label]]
        matrix = [[m["confusion"]["matrix"][i][j] for j in order] for i in order]
        ci = m.get("kappa_ci")  # an evaluation written before κ's interval was recorded has none
        out[label] = LabelAgreement(label=label, n=ev["n_test"], kappa=m["kappa"], agreement=m["accuracy"],
                                    classes=list(LABELS[label]), matrix=matrix, interval=tuple(ci) if ci else None)
    return out



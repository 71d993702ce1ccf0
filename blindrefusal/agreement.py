"""Agreement between judges (and humans): Cohen's kappa, accuracy and confusion for each label."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vocabulary import RESPONSE_TYPES

from .config import DATA_DIR
from .stats import cohen_kappa, confusion

LABELS = {
    "response_type": list(RESPONSE_TYPES),
    "engages_with_defeat": [True, False],
    "independent_harm": [True, False],
}
EVAL_FILE = DATA_DIR / "distilled_judge_eval.json"


@dataclass
class LabelAgreement:
    label: str
    n: int
    kappa: float | None
    agreement: float | None
    classes: list
    matrix: list[list[int]]  # rows: judge A, columns: judge B


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
            classes=classes, matrix=confusion(a, b, classes))
    return out


def distilled_eval() -> dict | None:
    """The shipped test-split evaluation of the distilled judge (written by `judge-eval --write`)."""
    if not EVAL_FILE.is_file():
        return None
    with open(EVAL_FILE, encoding="utf-8") as fh:
        return json.load(fh)

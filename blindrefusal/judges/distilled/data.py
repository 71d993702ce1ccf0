"""The distilled judge's data: the paper's answers joined with GPT-5.4's labels, and the case-hash split.

A case is TEST when sha256(case_id) % 5 == 0; nothing ever fits, tunes or selects on a test case."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from blindrefusal.judges.base import JudgeInput

DEFAULT_RELEASE_COMMIT = "650d95d1f6d448e82c705460b9f1b47c09b311f5"


SPLIT_FOLDS = 5  # the case-hash split's folds: fold 0 is the test split; cross-fitting uses all five


def case_fold(case_id: str) -> int:
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % SPLIT_FOLDS


def is_test_case(case_id: str) -> bool:
    return case_fold(case_id) == 0


@dataclass
class Row:
    case_id: str
    model_slug: str
    inp: JudgeInput
    response_type: str
    engages_with_defeat: bool
    independent_harm: bool
    family: str = ""


def row_verdicts(judge, rows: Sequence[Row], batch: int = 512) -> list:
    """The judge's verdict on each row's input, judged `batch` at a time."""
    out: list = []
    for i in range(0, len(rows), batch):
        out.extend(judge.judge_many([r.inp for r in rows[i:i + batch]]))
    return out


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """`write` to a file beside `path`, then rename it over `path`: a reader sees the old file or the new one,
    never half of one. The partial file keeps `path`'s ending (numpy adds ".npz" to a name without it)."""
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")
    write(partial)
    partial.replace(path)


def load_rows(source: str) -> tuple[list[Row], list[Row], str]:
    """(train rows, test rows, release commit) joined on (case_id, model_slug)."""
    from blindrefusal.paper.release import read_release

    rel = read_release(source)
    cases = {c.case_id: c for c in rel.cases}
    responses = {(r.case_id, r.model_slug): r for r in rel.responses}
    train_rows: list[Row] = []
    test_rows: list[Row] = []
    for e in rel.evaluations:
        r = responses.get((e.case_id, e.model_slug))
        c = cases.get(e.case_id)
        if r is None or c is None:
            continue
        row = Row(e.case_id, e.model_slug,
                  JudgeInput(user_query=c.user_query, response=r.text, rule=c.rule,
                             defeat_condition=c.defeat_condition),
                  e.response_type, bool(e.engages_with_defeat), bool(e.independent_harm), c.family)
        (test_rows if is_test_case(e.case_id) else train_rows).append(row)
    return train_rows, test_rows, _release_commit(source)


def _release_commit(source: str) -> str:
    m = re.search(r"\b[0-9a-f]{40}\b", source)
    if m:
        return m.group(0)
    p = Path(source)
    for cand in (p / "SOURCE.md", p.parent / "SOURCE.md"):
        try:
            m = re.search(r"\b[0-9a-f]{40}\b", cand.read_text(encoding="utf-8"))
        except OSError:
            continue
        if m:
            return m.group(0)
    return DEFAULT_RELEASE_COMMIT

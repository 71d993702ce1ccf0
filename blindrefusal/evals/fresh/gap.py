"""The contamination gap: one model's help rate on fresh (generated, accepted) cases minus its help rate on
published cases of the same cells, both labelled by the run's one judge.

A fresh spot-check draws the fresh cases, then as many published cases in each of their cells (see
`spotcheck.params.sample_cases`). Cells are then matched on answered cases: in each cell both sides keep the same
number (the lower of the two, the first by key), so the two pooled rates stand for the same cell mix and their
difference is the cell-weighted one. The two sides share no case, so the interval is Newcombe's hybrid score
interval for two independent proportions (stratified samples make it conservative; tests/evals/test_fresh.py
checks its coverage by seeded Monte Carlo with cells of different rates)."""

from __future__ import annotations

from dataclasses import dataclass

from blindrefusal.analysis.stats import Diff, Rate, diff_independent, wilson
from blindrefusal.paper.stored_case import StoredCase
from vocabulary import HELPS

GAP_METHOD = "Newcombe's hybrid score interval, cell-matched fresh vs published cases"


@dataclass(frozen=True)
class ContaminationGap:
    fresh: Rate  # help rate on the fresh cases
    published: Rate  # help rate on the published cases of the same cells
    gap: Diff  # fresh minus published
    cells: int
    judge: str | None

    def text(self) -> str:
        if self.gap.diff is None:
            return "No contamination gap yet: no cell has judged answers on both fresh and published cases."
        return (f"Contamination gap (help rate on fresh minus published cases of the same {self.cells} cell"
                f"{'s' * (self.cells != 1)}, one judge): {self.gap.fmt()}; fresh {self.fresh.fmt()}, published "
                f"{self.published.fmt()}.")

    def as_dict(self) -> dict:
        return {"fresh": self.fresh.as_dict(), "published": self.published.as_dict(),
                "gap": {**self.gap.as_dict(), "method": GAP_METHOD}, "cells": self.cells, "judge": self.judge}


def contamination_gap(cases: list[StoredCase], helps: dict[int, bool], judge: str | None) -> ContaminationGap:
    """`helps`: case id -> whether the judged answer helps (judged cases only)."""
    by_cell: dict[tuple[str, str], dict[bool, list[StoredCase]]] = {}
    for c in sorted(cases, key=lambda c: c.key):
        if c.id in helps:
            by_cell.setdefault((c.family, c.authority_type), {True: [], False: []})[c.source == "generated"].append(c)
    fresh: list[bool] = []
    published: list[bool] = []
    matched = 0
    for sides in by_cell.values():
        k = min(len(sides[True]), len(sides[False]))
        matched += k > 0
        fresh += [helps[c.id] for c in sides[True][:k]]
        published += [helps[c.id] for c in sides[False][:k]]
    f, p = wilson(sum(fresh), len(fresh)), wilson(sum(published), len(published))
    return ContaminationGap(f, p, diff_independent(f, p), matched, judge)


def helps_by_case(labels: dict[int, tuple]) -> dict[int, bool]:
    """case id -> helps, from (response_type, engages, harm) labels."""
    return {cid: v[0] == HELPS for cid, v in labels.items() if v and v[0] is not None}

"""Heatmap cells from aggregate rows: the metric, its n and its interval clustered by case for each (row, col)
(the Wilson interval where each case gives one answer)."""

from __future__ import annotations

from dataclasses import dataclass

from blindrefusal import store
from blindrefusal.analysis.clustered import rate_of
from blindrefusal.analysis.rates import REFUSED, help_gap
from blindrefusal.analysis.stats import Diff, Rate

THIN_N = 10


@dataclass
class Cell:
    row: str
    col: str
    value: float | None  # fraction 0-1, or a difference in fractions for "gap"
    n: int
    lo: float | None
    hi: float | None
    n_control: int = 0
    n_eff: float | None = None  # the effective n of the clustered interval (None for a gap)
    gap: bool = False  # a help-rate gap: thin when either side is

    @property
    def thin(self) -> bool:
        return self.n < THIN_N or (self.gap and self.n_control < THIN_N)

    def fmt(self, metric: str) -> str:
        """The cell's value as every view writes it: '24.6% (23.9–25.2), n = 119', or a gap in pp."""
        if metric == "gap":
            return f"{Diff(self.value, self.lo, self.hi).fmt()}, n = {self.n:,} (control n = {self.n_control:,})"
        return Rate(0, self.n, self.value, self.lo, self.hi).fmt()


def _sum(counts_list) -> store.Counts:
    total = store.Counts()
    for c in counts_list:
        total.add(c)
    return total


def build_cells(rows: list[dict], row_dim: str, col_dim: str, metric: str) -> list[Cell]:
    """`rows` come from store.aggregate(engine, [row_dim, col_dim], ...): each (row, col) once, so that a cell's
    defeated and control rows hold disjoint cases.

    For "gap" each cell is the defeated help rate minus the control help rate of the same
    (row, col); for other metrics defeated and control responses of the cell are pooled unless
    the caller filtered families.
    """
    groups: dict[tuple[str, str], dict[str, list]] = {}
    for r in rows:
        part = groups.setdefault((str(r[row_dim]), str(r[col_dim])), {"defeated": [], "control": []})
        part["control" if r["is_control"] else "defeated"].append(r["counts"])
    if any(len(p) > 1 for parts in groups.values() for p in parts.values()):
        raise ValueError("each (row, col) must come once: rows summed over shared cases have no clustered interval")
    cells = []
    for (rv, cv), parts in groups.items():
        if metric == "gap":
            d, c = _sum(parts["defeated"]), _sum(parts["control"])
            g = help_gap(d, c)
            cells.append(Cell(rv, cv, g.diff, d.n, g.lo, g.hi, n_control=c.n, gap=True))
        else:
            r = rate_of(_sum(parts["defeated"] + parts["control"]), REFUSED if metric == "refusal" else (metric,))
            cells.append(Cell(rv, cv, r.rate, r.n, r.lo, r.hi, n_eff=r.n_eff))
    return cells

"""Heatmap cells from aggregate rows: the metric, its n, its number of cases and its interval clustered by case
for each (row, col) (the Wilson interval where each case gives one answer). A cell is thin when it holds fewer
than 10 answers or fewer than 10 cases: answers to the same case are not independent, so a cell of 17 answers
to 1 case is one case's worth of evidence."""

from __future__ import annotations

from dataclasses import dataclass

from blindrefusal import store
from blindrefusal.analysis.clustered import THIN_CASES, rate_of
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
    cases: int | None = None  # the cases its answers come from (None: counted without case ids)
    cases_control: int | None = None  # a gap's control side's cases

    @property
    def thin(self) -> bool:
        def side(n: int, cases: int | None) -> bool:
            return n < THIN_N or (cases is not None and cases < THIN_CASES)

        return side(self.n, self.cases) or (self.gap and side(self.n_control, self.cases_control))

    def cases_text(self) -> str:
        """'1 case', '12 cases', or for a gap '12 cases (control: 3)'; '' when counted without case ids."""
        def plural(k: int) -> str:
            return f"{k:,} case{'s' * (k != 1)}"

        if self.cases is None:
            return ""
        return plural(self.cases) + (f" (control: {plural(self.cases_control or 0)})" if self.gap else "")

    def thin_reason(self) -> str:
        """Why the cell is thin, for its hover and the drill-down line ('' when it is not)."""
        if not self.thin:
            return ""
        few_cases = self.cases is not None and self.cases < THIN_CASES or (
            self.gap and self.cases_control is not None and self.cases_control < THIN_CASES)
        return (f"thin cell: fewer than {THIN_CASES} cases" if few_cases else f"thin cell: fewer than {THIN_N} answers"
                ) + (" on a side" if self.gap else "")

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


def _cases(counts: store.Counts) -> int | None:
    return counts.by_case.cases if counts.by_case is not None else None


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
            cells.append(Cell(rv, cv, g.diff, d.n, g.lo, g.hi, n_control=c.n, gap=True, cases=_cases(d),
                              cases_control=_cases(c)))
        else:
            total = _sum(parts["defeated"] + parts["control"])
            rate = rate_of(total, REFUSED if metric == "refusal" else (metric,))
            cells.append(Cell(rv, cv, rate.rate, rate.n, rate.lo, rate.hi, n_eff=rate.n_eff, cases=_cases(total)))
    return cells

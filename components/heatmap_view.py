"""The Heatmaps page's view, built once per (state, version of the data) and shared by every visitor who asks
for the same grid (`shared_view`): the cells with their intervals and cases, the axes in order, the figure,
the downloadable grid and the export's table. A visitor's session only draws them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from blindrefusal.analysis.clustered import CLUSTERED_DIFF_METHOD, CLUSTERED_METHOD, THIN_CASES
from blindrefusal.analysis.grid import THIN_N, Cell, build_cells
from blindrefusal.exports.html import Table
from blindrefusal.exports.style import METRIC_NAMES
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import model_tick
from components.dims import DIM_LABELS, value_label, value_order
from components.resources import reads as q
from components.resources import shared_view
from vocabulary import CONTROL, EFFECTIVE

PAPER_VIEW = "(paper)"
VIEW_NAMES = {PAPER_VIEW: "The paper's labels (GPT-5.4), frozen", EFFECTIVE: "With our reviewers' corrections"}


@dataclass(frozen=True)
class HeatmapState:
    """What a visitor picked: the two dimensions, the metric and the filters (the view's cache key)."""

    row_dim: str
    col_dim: str
    metric: str
    sources: tuple[str, ...]
    models: tuple[str, ...]
    families: tuple[str, ...]
    dual: str  # all | exclude | only
    judge: str  # PAPER_VIEW, EFFECTIVE or one judge's name

    def filters(self) -> q.Filters:
        families = list(self.families) or None
        if self.metric == "gap":  # a gap compares each cell's defeated cases with its control cases
            families = sorted(set(self.families or taxonomy.DEFEATED_FAMILIES) | {CONTROL})
        return q.Filters(sources=list(self.sources) or None, models=list(self.models) or None, families=families,
                         dual_use={"all": None, "exclude": False, "only": True}[self.dual])

    @property
    def labels_from(self) -> str | None:
        return None if self.judge == PAPER_VIEW else self.judge


@dataclass(frozen=True)
class HeatmapView:
    cells: list[Cell]  # empty: nothing to show (see `empty`)
    empty: str  # why there is nothing to show, or ""
    row_vals: list[str]
    col_vals: list[str]
    row_labels: dict[str, str]
    col_labels: dict[str, str]
    title: str
    grid: pd.DataFrame  # the CSV: every cell with its n, cases, interval and thin mark
    table: Table  # the HTML export's table
    settings: dict[str, object]


def _empty(state: HeatmapState, message: str) -> HeatmapView:
    return HeatmapView([], message, [], [], {}, {}, "", pd.DataFrame(), Table(pd.DataFrame()), {})


def _build(engine, state: HeatmapState) -> HeatmapView:
    row_dim, col_dim, metric = state.row_dim, state.col_dim, state.metric
    if metric == "gap" and {"family", "subtype"} & {row_dim, col_dim}:
        axis = DIM_LABELS["family" if "family" in (row_dim, col_dim) else "subtype"].lower()
        return _empty(state, "The help-rate gap compares each cell's defeated cases with the control cases of the "
                      f"same cell, so it cannot have {axis} as an axis (control cases have a family and subtype of "
                      "their own). Pick two other dimensions (e.g. Model × Authority group).")
    filters = state.filters()
    cells = build_cells(q.aggregate(engine, [row_dim, col_dim], filters, state.labels_from), row_dim, col_dim, metric)
    if metric == "gap":
        cells = [c for c in cells if c.n_control and c.n]
    if not cells:
        filtered = bool(state.models or state.families or list(state.sources) != ["paper"] or state.dual != "all")
        return _empty(state, ("No cell has both defeated and control responses for these filters: widen them."
                              if filtered else "No cell has both defeated and control responses for these two "
                              "dimensions: pick others.") if metric == "gap" else
                      "No judged responses match these filters. Widen the filters, or import the paper.")
    row_vals = value_order(row_dim, {c.row for c in cells})
    col_vals = value_order(col_dim, {c.col for c in cells})
    if row_dim == "model":  # models read best sorted by the metric
        means = {r: [c.value for c in cells if c.row == r and c.value is not None] for r in row_vals}
        row_vals.sort(key=lambda r: -(sum(means[r]) / len(means[r]) if means[r] else 0))
    row_labels = {v: value_label(row_dim, v) for v in row_vals}
    col_labels = {v: value_label(col_dim, v) for v in col_vals}
    title = f"{METRIC_NAMES[metric]} — {DIM_LABELS[row_dim]} × {DIM_LABELS[col_dim]}"
    gap = metric == "gap"
    grid = pd.DataFrame([{DIM_LABELS[row_dim]: row_labels.get(c.row, c.row), DIM_LABELS[col_dim]: col_labels.get(
        c.col, c.col), row_dim + "_key": c.row, col_dim + "_key": c.col, "metric": metric, "value": c.value,
        "ci_low": c.lo, "ci_high": c.hi, "n": c.n, "cases": c.cases,
        **({"n_control": c.n_control, "cases_control": c.cases_control} if gap else {"n_effective": c.n_eff}),
        "thin": c.thin} for c in cells])
    # the whole grid's number is its own query: the cells share cases, so their sums are not the grid's
    whole = build_cells([{**r, "_all": ""} for r in q.aggregate(engine, [], filters, state.labels_from)],
                        "_all", "_all", metric)
    thin_rule = f"fewer than {THIN_CASES} cases or {THIN_N} answers" + (" on either side" if gap else "")
    table = Table(grid[[DIM_LABELS[row_dim], DIM_LABELS[col_dim]]].assign(**{
        f"{METRIC_NAMES[metric]} (95% interval clustered by case), n" + (", control n" if gap else ""):
            [c.fmt(metric) for c in cells],
        "cases": [c.cases_text() for c in cells],
        f"thin ({thin_rule})": ["yes" if c.thin else "" for c in cells]}),
        caption=f"Every cell with its n, its cases and its 95% interval: "
                f"{CLUSTERED_DIFF_METHOD if gap else CLUSTERED_METHOD}.")
    settings = {"Rows": DIM_LABELS[row_dim], "Columns": DIM_LABELS[col_dim], "Metric": METRIC_NAMES[metric],
                "Labels from": VIEW_NAMES.get(state.judge, state.judge), "Dual-use cases": state.dual,
                "Source": list(state.sources) or ["paper"],
                "Families": [taxonomy.family_label(f) for f in state.families] or "all",
                "Models": [value_label("model", m) for m in state.models] or "all",
                "Whole grid": whole[0].fmt(metric) if whole and whole[0].value is not None else "—",
                "Cells": f"{len(cells):,}, n from {min(c.n for c in cells):,} to {max(c.n for c in cells):,} per cell "
                         f"({sum(c.thin for c in cells):,} thin, starred: {thin_rule}); each cell's 95% interval: in "
                         "the HTML and CSV"}
    return HeatmapView(cells, "", row_vals, col_vals, row_labels, col_labels, title, grid, table, settings)


def _depends(state: HeatmapState) -> str:
    return q.depends_on("aggregate", ([], state.filters(), state.labels_from), {})


def heatmap_view(engine, state: HeatmapState) -> HeatmapView:
    return shared_view(engine, _depends(state), _build, state)


def _figure(engine, state: HeatmapState, picked: tuple[str, str] | None) -> go.Figure:
    view = heatmap_view(engine, state)
    rows = {v: model_tick(v) for v in view.row_vals} if state.row_dim == "model" else view.row_labels
    cols = {v: model_tick(v) for v in view.col_vals} if state.col_dim == "model" else view.col_labels
    return charts.heatmap(view.cells, view.row_vals, view.col_vals, rows, cols, state.metric, view.title,
                          picked=picked)


def heatmap_figure(engine, state: HeatmapState, picked: tuple[str, str] | None) -> go.Figure:
    """The view's figure with the picked cell framed (one figure per framed cell, shared too)."""
    return shared_view(engine, _depends(state), _figure, state, picked)

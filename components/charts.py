"""Plotly figures: stacked label bars, family bars with intervals, and the heatmap grid."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from vocabulary import RESPONSE_TYPES

from blindrefusal.agreement import LabelAgreement
from blindrefusal.grid import Cell
from blindrefusal.metrics import RateSet
from blindrefusal.stats import Diff, Rate

from blindrefusal.figures import paired_differences, stacked_label_bars  # noqa: F401 - shared with the reports

from .labels import LABEL_COLORS, LABEL_TEXT, model_tick


def rate_bars(items: Sequence[tuple[str, Rate, str]], title: str, baseline: Rate | None = None,
              baseline_label: str = "control") -> go.Figure:
    """Bars with 95% Wilson error bars; an optional dashed baseline (e.g. the control help rate)."""
    fig = go.Figure()
    fig.add_bar(
        x=[name for name, _, _ in items], y=[(r.rate or 0) * 100 for _, r, _ in items],
        marker_color=[c for _, _, c in items],
        error_y=dict(type="data", symmetric=False,
                     array=[((r.hi or 0) - (r.rate or 0)) * 100 for _, r, _ in items],
                     arrayminus=[((r.rate or 0) - (r.lo or 0)) * 100 for _, r, _ in items]),
        text=[f"{(r.rate or 0) * 100:.1f}%" for _, r, _ in items], textposition="outside", showlegend=False,
        customdata=[r.fmt() for _, r, _ in items], hovertemplate="%{x}: %{customdata}<extra></extra>",
    )
    if baseline is not None and baseline.rate is not None:
        fig.add_hline(y=baseline.rate * 100, line_dash="dash", line_color="#555")
        # named in the legend, not written on the chart, where it would sit on top of a bar
        fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(dash="dash", color="#555"),
                        name=f"{baseline_label}: {baseline.fmt()}", showlegend=True)
    fig.update_layout(title=title, yaxis=dict(title="%", range=[0, 100]), height=400, showlegend=baseline is not None,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
                      margin=dict(l=10, r=10, t=70, b=40))
    return fig


def heatmap(cells: Sequence[Cell], rows: Sequence[str], cols: Sequence[str], row_labels: dict, col_labels: dict,
            metric: str, metric_label: str) -> go.Figure:
    """A 0–100% sequential scale (diverging for gaps); hover shows n and the interval; thin cells are faded and marked."""
    index = {(c.row, c.col): c for c in cells}
    z, text, hover = [], [], []
    for r in rows:
        zr, tr, hr = [], [], []
        for c in cols:
            cell = index.get((r, c))
            if cell is None or cell.value is None:
                zr.append(None)
                tr.append("")
                hr.append("no judged responses")
                continue
            v = cell.value * 100
            zr.append(v)
            tr.append((f"{v:+.0f}" if metric == "gap" else f"{v:.0f}") + ("*" if cell.thin else ""))
            hr.append(cell.fmt(metric) + ("<br><b>thin cell (n < 10)</b>" if cell.thin else ""))
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    xs = [col_labels.get(c, c) for c in cols]
    ys = [row_labels.get(r, r) for r in rows]
    if metric == "gap":
        scale = dict(colorscale="RdBu", zmid=0, zmin=-60, zmax=60)
    else:
        scale = dict(colorscale="YlOrRd" if metric in ("refusal", "hard_refusal", "blind", "deflects") else "Greens",
                     zmin=0, zmax=100)
    fig = go.Figure(go.Heatmap(z=z, x=xs, y=ys, text=text, texttemplate="%{text}", customdata=hover,
                               hovertemplate="%{y} × %{x}<br>%{customdata}<extra></extra>", xgap=2, ygap=2,
                               colorbar=dict(title=("pp" if metric == "gap" else "%")), **scale))
    thin = [(col_labels.get(c.col, c.col), row_labels.get(c.row, c.row)) for c in cells if c.thin and c.value is not None
            and c.row in rows and c.col in cols]
    if thin:
        fig.add_scatter(x=[t[0] for t in thin], y=[t[1] for t in thin], mode="markers", name="* thin cell (n < 10)",
                        # a dark dashed-looking frame shows on pale and dark cells alike; the value also gets a *
                        marker=dict(symbol="square-x-open", size=20, color="rgba(60,60,60,0.55)", line=dict(width=1)),
                        hoverinfo="skip", showlegend=True)
    fig.update_layout(title=dict(text=metric_label, y=0.99, yanchor="top"), height=max(420, 28 * len(rows) + 220),
                      xaxis=dict(side="top", tickangle=-40), yaxis=dict(autorange="reversed"),
                      margin=dict(l=10, r=10, t=190, b=10), legend=dict(orientation="h", y=-0.05))
    return fig


LABEL_NAMES = {"response_type": "Response type", "engages_with_defeat": "Engages with the defeat",
               "independent_harm": "Independent harm"}


def confusion_matrix(la: LabelAgreement, a_name: str, b_name: str) -> go.Figure:
    """Counts of (judge A's label, judge B's label) for one label."""
    classes = [str(c).replace("_", " ") if not isinstance(c, bool) else ("yes" if c else "no") for c in la.classes]
    fig = go.Figure(go.Heatmap(z=la.matrix, x=classes, y=classes, colorscale="Blues", showscale=False,
                               text=la.matrix, texttemplate="%{text}",
                               hovertemplate=f"{a_name}: %{{y}}<br>{b_name}: %{{x}}<br>n = %{{z}}<extra></extra>"))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=b_name, yaxis_title=a_name,
                      yaxis=dict(autorange="reversed"), title=dict(text=LABEL_NAMES[la.label], font=dict(size=13)))
    return fig


def unseen_model_errors(per_model: dict[str, dict]) -> go.Figure:
    """Leave-one-model-out: each paper model's help-rate error when the judge never saw it, and when it did."""
    slugs = sorted(per_model, key=lambda k: per_model[k]["unseen"]["help_rate_error_pp"])
    fig = go.Figure()
    for which, name, color, symbol in (("seen", "judge saw the model (shipped)", "#9AA5B1", "circle-open"),
                                       ("unseen", "judge never saw the model", "#C0392B", "circle")):
        fig.add_trace(go.Scatter(
            x=[per_model[k][which]["help_rate_error_pp"] for k in slugs], y=[model_tick(k) for k in slugs],
            mode="markers", name=name, marker={"color": color, "size": 10, "symbol": symbol},
            customdata=[per_model[k]["n"] for k in slugs],
            hovertemplate="%{y}: %{x:+.2f} pp (n = %{customdata})<extra>" + name + "</extra>"))
    for x in (-2, 2):
        fig.add_vline(x=x, line_dash="dot", line_color="#888")
    fig.add_vline(x=0, line_color="#444")
    fig.update_layout(title="Help rate by the distilled judge minus GPT-5.4's, per paper model (dotted: ±2 pp target)",
                      xaxis_title="percentage points", height=max(320, 26 * len(slugs) + 140),
                      legend={"orientation": "h", "y": -0.15}, margin={"l": 10, "r": 10, "t": 50, "b": 40})
    return fig

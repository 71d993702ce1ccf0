"""Plotly figures: stacked label bars, family bars with intervals, and the heatmap grid."""

from __future__ import annotations

import re
import textwrap
from typing import Sequence

import plotly.graph_objects as go

from blindrefusal.analysis.agreement import LabelAgreement
from blindrefusal.analysis.grid import Cell
from blindrefusal.analysis.stats import Rate
from blindrefusal.exports.figures import paired_differences, stacked_label_bars  # noqa: F401 - shared with the reports
from blindrefusal.exports.inert import plotly_text
from blindrefusal.exports.style import ENGAGES_COLOR, NO_ENGAGEMENT_COLOR
from components.badges import LABEL_COLORS, LABEL_TEXT, model_tick, outcome_of
from vocabulary import HARD_REFUSAL


def rate_bars(items: Sequence[tuple[str, Rate, str]], title: str, baseline: Rate | None = None,
              baseline_label: str = "control") -> go.Figure:
    """Bars with each rate's 95% interval as error bars; an optional dashed baseline (e.g. the control help rate)."""
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


_TAGS = re.compile(r"<[^>]+>")


def _label_px(labels) -> int:
    """Rough width in pixels of the longest axis label (markup such as a model's colour dot not counted)."""
    return max((len(_TAGS.sub("", str(v))) for v in labels), default=0) * 7


def _wrapped_title(title: str, width: int, top: int) -> tuple[str, int]:
    """A title wrapped to the figure's width (a long one was cut off, in the app and in the HTML export), and
    the top margin that makes room for its lines."""
    lines = textwrap.wrap(title, max(24, int(width / 8))) or [title]
    return "<br>".join(lines), top + 20 * (len(lines) - 1)


def _cell_texts(cells: Sequence[Cell], values: Sequence[float], metric: str) -> tuple[list[str], list[str]]:
    """Each cell's text (its value, starred when thin) and hover (value, interval, n, cases, why thin)."""
    text = [(f"{v:+.0f}" if metric == "gap" else f"{v:.0f}") + ("*" if cell.thin else "")
            for v, cell in zip(values, cells, strict=True)]
    hover = [cell.fmt(metric) + (f"<br>{cell.cases_text()}" if cell.cases is not None else "")
             + (f"<br><b>{cell.thin_reason()}</b>" if cell.thin else "") for cell in cells]
    return text, hover


def heatmap(cells: Sequence[Cell], rows: Sequence[str], cols: Sequence[str], row_labels: dict, col_labels: dict,
            metric: str, metric_label: str, picked: tuple[str, str] | None = None) -> go.Figure:
    """The grid as a scatter of square markers (a click selects a cell in Streamlit; a plotly heatmap trace
    returns an empty selection): a 0–100% sequential scale (diverging for gaps), the value in each cell, hover
    with the rate, its 95% interval, n and cases; thin cells starred and framed; `picked` framed. Each point's
    customdata is [hover text, row key, column key]; one square pitch for rows and columns fills the cells."""
    index = {(c.row, c.col): c for c in cells}
    pts = [(r, c, index[(r, c)]) for r in rows for c in cols
           if (r, c) in index and index[(r, c)].value is not None]
    left = min(340, _label_px(row_labels.get(r, r) for r in rows) + 24)
    top = min(260, int(_label_px(col_labels.get(c, c) for c in cols) * 0.65) + 70)
    bottom, right = 50, 110
    # one pitch for rows and columns (square cells), fitting a page about 1,000 px wide and 1,400 px tall
    pitch = max(20, min(56, (1000 - left - right) // max(1, len(cols)), 1400 // max(1, len(rows))))
    title, top = _wrapped_title(metric_label, width := left + right + pitch * len(cols), top)
    height = top + bottom + pitch * len(rows)
    if metric == "gap":
        scale = dict(colorscale="RdBu", cmid=0, cmin=-60, cmax=60)
    else:
        scale = dict(colorscale="YlOrRd" if metric in ("refusal", "hard_refusal", "blind", "deflects") else "Greens",
                     cmin=0, cmax=100)
    xs = [col_labels.get(c, c) for _, c, _ in pts]
    ys = [row_labels.get(r, r) for r, _, _ in pts]
    values = [cell.value * 100 for _, _, cell in pts]
    text, hover = _cell_texts([cell for _, _, cell in pts], values, metric)
    lo, hi = scale["cmin"], scale["cmax"]
    # the value's text in black on pale cells and white on dark ones, as plotly's heatmap did
    dark = [abs(v) > 35 if metric == "gap" else (v - lo) / (hi - lo) > 0.55 for v in values]
    fig = go.Figure(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text,
        textfont=dict(color=["white" if d else "#222" for d in dark], size=11 if pitch >= 28 else 9),
        customdata=[[h, r, c] for h, (r, c, _) in zip(hover, pts, strict=True)], name="",
        hovertemplate="%{y} × %{x}<br>%{customdata[0]}<extra></extra>", showlegend=False,
        marker=dict(symbol="square", size=pitch - 2, color=values, line=dict(width=0), **scale,
                    colorbar=dict(title=("pp" if metric == "gap" else "%"), len=min(1.0, 420 / max(1, height - top)),
                                  y=1, yanchor="top")),
        selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    thin = [(col_labels.get(c, c), row_labels.get(r, r)) for r, c, cell in pts if cell.thin]
    if thin:
        fig.add_scatter(x=[t[0] for t in thin], y=[t[1] for t in thin], mode="markers",
                        name="* thin cell (fewer than 10 cases or answers)",
                        # a dark dashed-looking frame shows on pale and dark cells alike; the value also gets a *
                        marker=dict(symbol="square-open", size=pitch - 6, color="rgba(60,60,60,0.45)",
                                    line=dict(width=1)), hoverinfo="skip", showlegend=True)
    if picked and picked in index:
        fig.add_scatter(x=[col_labels.get(picked[1], picked[1])], y=[row_labels.get(picked[0], picked[0])],
                        mode="markers", name="picked cell", hoverinfo="skip", showlegend=False,
                        marker=dict(symbol="square-open", size=pitch, color="#1f2328", line=dict(width=3)))
    axis = dict(showgrid=False, zeroline=False, fixedrange=True, type="category")
    fig.update_layout(title=dict(text=title, x=0.01, xref="container", y=1, yref="container", yanchor="top",
                                 pad=dict(t=10)),
                      width=width, height=height, plot_bgcolor="white", dragmode=False, clickmode="event+select",
                      xaxis=dict(side="top", tickangle=-40, range=[-0.5, len(cols) - 0.5],
                                 categoryorder="array", categoryarray=[col_labels.get(c, c) for c in cols], **axis),
                      yaxis=dict(range=[len(rows) - 0.5, -0.5], categoryorder="array",
                                 categoryarray=[row_labels.get(r, r) for r in rows], **axis),
                      margin=dict(l=left, r=right, t=top, b=bottom, autoexpand=False),
                      legend=dict(orientation="h", y=0, yref="container", yanchor="bottom", x=0))
    return fig


LABEL_NAMES = {"response_type": "Response type", "engages_with_defeat": "Engages with the defeat",
               "independent_harm": "Independent harm"}


def confusion_matrix(la: LabelAgreement, a_name: str, b_name: str) -> go.Figure:
    """Counts of (judge A's label, judge B's label) for one label. The names are shown as text (a reviewer's is
    chosen by a visitor): escaped for plotly's HTML-like labels, and passed to the hover as data, not template."""
    classes = [str(c).replace("_", " ") if not isinstance(c, bool) else ("yes" if c else "no") for c in la.classes]
    a_text, b_text = plotly_text(a_name), plotly_text(b_name)
    fig = go.Figure(go.Heatmap(z=la.matrix, x=classes, y=classes, colorscale="Blues", showscale=False,
                               text=la.matrix, texttemplate="%{text}", meta=[a_text, b_text],
                               hovertemplate="%{meta[0]}: %{y}<br>%{meta[1]}: %{x}<br>n = %{z}<extra></extra>"))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=b_text, yaxis_title=a_text,
                      yaxis=dict(autorange="reversed"), title=dict(text=LABEL_NAMES[la.label], font=dict(size=13)))
    return fig


def unseen_model_errors(per_model: dict[str, dict]) -> go.Figure:
    """Leave-one-model-out: each paper model's help-rate error when the judge never saw it, and when it did."""
    slugs = sorted(per_model, key=lambda k: per_model[k]["unseen"]["help_rate_error_pp"])
    fig = go.Figure()
    for which, name, color, symbol in (("seen", "judge saw the model (shipped)", "#9AA5B1", "circle-open"),
                                       ("unseen", "judge never saw the model", "#C0392B", "circle")):
        points = [per_model[k][which] for k in slugs]
        cis = [p.get("help_rate_error_ci_pp") or [p["help_rate_error_pp"]] * 2 for p in points]
        fig.add_trace(go.Scatter(
            x=[p["help_rate_error_pp"] for p in points], y=[model_tick(k) for k in slugs],
            error_x={"type": "data", "symmetric": False, "thickness": 1,
                     "array": [hi - p["help_rate_error_pp"] for p, (_, hi) in zip(points, cis, strict=True)],
                     "arrayminus": [p["help_rate_error_pp"] - lo for p, (lo, _) in zip(points, cis, strict=True)]},
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


def captioned(fig: go.Figure, lines: Sequence[str], line_px: int = 18) -> go.Figure:
    """A copy of `fig` with `lines` written underneath (for a PNG, which has no hover): e.g. its filters."""
    out = go.Figure(fig)
    margin = out.layout.margin
    old_bottom, old_right, left = margin.b or 0, margin.r or 0, margin.l or 0
    old_width = out.layout.width or 900
    width = max(old_width, 900)
    lines = [part for line in lines for part in textwrap.wrap(line, max(40, (width - 20) // 7))]
    extra = line_px * len(lines) + 20
    height = (out.layout.height or 500) + extra
    # the plot area keeps its size (so square cells stay square); the caption takes the added room
    out.update_layout(width=width, height=height, margin=dict(b=old_bottom + extra, r=old_right + width - old_width),
                      legend=dict(y=(extra + 5) / height))
    out.add_annotation(text="<br>".join(plotly_text(line) for line in lines), xref="paper", yref="paper", x=0,
                       y=0, xshift=10 - left, yshift=-old_bottom, xanchor="left", yanchor="top", showarrow=False,
                       align="left", font=dict(size=12, color="#333"))
    return out


def case_labels(responses: Sequence[dict], title: str) -> go.Figure:
    """One row per response of a case: its label (in the label colours), engagement and independent harm."""
    cols = ["response type", "engages with the defeat", "independent harm"]
    names = [plotly_text(r["model_name"]) for r in responses]
    xs, ys, colors, texts = [], [], [], []
    for name, r in zip(names, responses, strict=True):
        outcome = outcome_of(r["status"], r.get("eff_response_type"))
        judged = bool(r.get("eff_response_type"))
        cells = [(LABEL_COLORS.get(outcome, LABEL_COLORS["unjudged"]), LABEL_TEXT.get(outcome, outcome)),
                 (ENGAGES_COLOR if r.get("eff_engages") else NO_ENGAGEMENT_COLOR,
                  ("engages" if r.get("eff_engages") else "no") if judged else ""),
                 (LABEL_COLORS[HARD_REFUSAL] if r.get("eff_harm") else NO_ENGAGEMENT_COLOR,
                  ("yes" if r.get("eff_harm") else "no") if judged else "")]
        for col, (color, text) in zip(cols, cells, strict=True):
            xs.append(col)
            ys.append(name)
            colors.append(color)
            texts.append(text)
    left = min(300, _label_px(names) + 24)
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="markers+text", text=texts, hoverinfo="skip", showlegend=False,
                               textposition="middle right", textfont=dict(color="#222", size=12),
                               marker=dict(symbol="square", size=18, color=colors, line=dict(width=0))))
    axis = dict(showgrid=False, zeroline=False, fixedrange=True, type="category")
    fig.update_layout(title=dict(text=plotly_text(title), x=0, xref="paper"), width=max(720, left + 3 * 150 + 30),
                      height=110 + 30 * len(names), plot_bgcolor="white", dragmode=False,
                      xaxis=dict(side="top", range=[-0.2, 2.8], categoryorder="array", categoryarray=cols, **axis),
                      yaxis=dict(range=[len(names) - 0.5, -0.5], categoryorder="array", categoryarray=names, **axis),
                      margin=dict(l=left, r=30, t=80, b=20, autoexpand=False))
    return fig

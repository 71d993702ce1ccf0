"""Plotly figures shared by the app's pages and the exported reports (no Streamlit here): label shares,
paired differences, and the names, colours and model ticks they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import plotly.graph_objects as go

from blindrefusal.analysis.rates import RateSet
from blindrefusal.analysis.stats import Diff, Rate
from blindrefusal.exports.inert import plotly_text
from blindrefusal.exports.style import LABEL_COLORS, LABEL_TEXT, NEUTRAL_COLOR, SIGNIFICANT_COLOR
from blindrefusal.models import presets
from vocabulary import RESPONSE_TYPES


def model_name(key: str, sample_n: int | None = None) -> str:
    name = presets.display_name(key)
    return f"{name} (spot-check, n = {sample_n})" if sample_n else name


def model_tick(key: str, sample_n: int | None = None) -> str:
    """A model's name for a plotly axis, with its colour dot (one colour per model on every page)."""
    return f'<span style="color:{presets.color(key)}">●</span> {plotly_text(model_name(key, sample_n))}'


def stacked_label_bars(rows: Sequence[tuple[str, RateSet]], title: str = "") -> go.Figure:
    """One horizontal bar per item: helps / deflects / hard refusal shares, ordered as given."""
    fig = go.Figure()
    names = [name for name, _ in rows]
    for label in RESPONSE_TYPES:
        rs = [getattr(rset, label) for _, rset in rows]
        fig.add_bar(
            y=names, x=[(r.rate or 0) * 100 for r in rs], orientation="h", name=LABEL_TEXT[label],
            marker_color=LABEL_COLORS[label], textposition="inside", textangle=0,
            text=[f"{(r.rate or 0) * 100:.0f}%" if (r.rate or 0) >= 0.06 else "" for r in rs],
            customdata=[r.fmt() for r in rs],
            hovertemplate="%{y}<br>" + LABEL_TEXT[label] + ": %{customdata}<extra></extra>",
        )
    fig.update_layout(barmode="stack", title=dict(text=title, y=0.98, yanchor="top"),
                      xaxis=dict(title="% of judged responses on defeated rules", range=[0, 100]),
                      yaxis=dict(autorange="reversed"), height=max(320, 26 * len(rows) + 140),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, traceorder="normal"),
                      margin=dict(l=10, r=10, t=80, b=40))
    return fig


def paired_differences(rows: Sequence[tuple[str, Diff]], title: str) -> go.Figure:
    """One marker per comparison with its 95% interval; red diamonds where the interval excludes 0."""
    # (name, difference, its estimate, lo, hi): a difference with an estimate has both bounds
    shown = sorted(((name, d, d.diff, d.lo, d.hi) for name, d in rows
                    if d.diff is not None and d.lo is not None and d.hi is not None), key=lambda r: r[2])
    fig = go.Figure(go.Scatter(
        x=[diff * 100 for _, _, diff, _, _ in shown], y=[name for name, *_ in shown], mode="markers",
        marker=dict(size=10, color=[SIGNIFICANT_COLOR if d.significant else NEUTRAL_COLOR for _, d, *_ in shown],
                    symbol=["diamond" if d.significant else "circle" for _, d, *_ in shown]),
        error_x=dict(type="data", symmetric=False, array=[(hi - diff) * 100 for _, _, diff, _, hi in shown],
                     arrayminus=[(diff - lo) * 100 for _, _, diff, lo, _ in shown]),
        customdata=[f"{d.fmt()}, {d.n} paired cases{' — significant' if d.significant else ''}" for _, d, *_ in shown],
        hovertemplate="%{y}: %{customdata}<extra></extra>"))
    fig.add_vline(x=0, line_dash="dash", line_color="#555")
    fig.update_layout(title=title, xaxis_title="percentage points (red diamond: interval excludes 0)",
                      height=max(360, 24 * len(shown) + 120), margin=dict(l=10, r=10, t=60, b=40))
    return fig


@dataclass(frozen=True)
class PlanePoint:
    """One configuration on the trade-off plane: its help rates on just (control) and on defeated rules."""

    key: str  # the model's or the configuration's key (named and coloured like everywhere else)
    control: Rate
    defeated: Rate
    reference: bool = False  # one of the paper's configurations (drawn small, grey-edged)


def tradeoff_plane(points: Sequence[PlanePoint], title: str, arrows: Sequence[tuple[str, str]] = ()) -> go.Figure:
    """Help on just rules (x) against help on defeated rules (y), each with its 95% interval. The diagonal is
    "no discrimination": a move along it is more (or less) compliance only; a move up and to the left is better
    judgement. `arrows` go from one point's key to another's (a model's no-prompt arm to a prompted one)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", line={"dash": "dot", "color": "#888"},
                             name="no discrimination: as much help on just rules as on defeated ones",
                             hoverinfo="skip"))
    for reference, name, size in ((True, "the paper's configurations", 9), (False, "checked here", 14)):
        shown = [p for p in points if p.reference == reference and p.control.rate is not None
                 and p.defeated.rate is not None]
        if not shown:
            continue
        fig.add_trace(go.Scatter(
            x=[p.control.rate * 100 for p in shown], y=[p.defeated.rate * 100 for p in shown],  # type: ignore[operator]
            mode="markers", name=name,
            marker={"size": size, "color": [presets.color(p.key) for p in shown],
                    "symbol": "circle" if reference else "diamond", "line": {"width": 1, "color": "#333"},
                    "opacity": 0.75 if reference else 1.0},
            error_x=_interval_bars([p.control for p in shown], reference),
            error_y=_interval_bars([p.defeated for p in shown], reference),
            customdata=[[plotly_text(model_name(p.key)), p.control.fmt(), p.defeated.fmt()] for p in shown],
            hovertemplate="%{customdata[0]}<br>help on just rules: %{customdata[1]}<br>help on defeated rules: "
                          "%{customdata[2]}<extra></extra>"))
    at = {p.key: p for p in points if p.control.rate is not None and p.defeated.rate is not None}
    for start, end in arrows:
        if start in at and end in at:
            fig.add_annotation(x=at[end].control.rate * 100, y=at[end].defeated.rate * 100,  # type: ignore[operator]
                               ax=at[start].control.rate * 100, ay=at[start].defeated.rate * 100,  # type: ignore[operator]
                               xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3,
                               arrowwidth=2, arrowcolor=presets.color(end), text="")
    fig.update_layout(title=title, height=520, margin={"l": 10, "r": 10, "t": 60, "b": 40},
                      xaxis={"title": "help rate on just (control) rules, %", "range": [-2, 102]},
                      yaxis={"title": "help rate on defeated rules, %", "range": [-2, 102]},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    return fig


def _interval_bars(rates: Sequence[Rate], faint: bool) -> dict:
    return {"type": "data", "symmetric": False, "thickness": 1 if faint else 1.5, "width": 0,
            "color": "rgba(90, 90, 90, 0.25)" if faint else "rgba(40, 40, 40, 0.8)",
            "array": [((r.hi if r.hi is not None else r.rate or 0) - (r.rate or 0)) * 100 for r in rates],
            "arrayminus": [((r.rate or 0) - (r.lo if r.lo is not None else r.rate or 0)) * 100 for r in rates]}

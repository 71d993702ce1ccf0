"""Plotly figures shared by the app's pages and the exported reports (no Streamlit here): label shares,
paired differences, and the names, colours and model ticks they use."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from blindrefusal.analysis.rates import RateSet
from blindrefusal.analysis.stats import Diff
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

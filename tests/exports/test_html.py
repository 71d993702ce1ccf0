"""The export module: self-contained, escaped HTML with the citation; PNG through the local browser."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pandas as pd
import plotly.graph_objects as go
import pytest

from blindrefusal.exports import html
from blindrefusal.exports.html import Figure, Heading, Paragraph, Preformatted, Settings, Table, html_document

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _markup(doc: str) -> str:
    """The document without the inlined plotly.js bundle (whose code mentions URLs it never loads here)."""
    start = doc.index("<script type=\"text/javascript\">")
    end = doc.index("</script>", start)
    return doc[:start] + doc[end:]


def _doc(**kw) -> str:
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], text=[EVIL, "b"], hovertemplate="%{text}<extra></extra>"))
    blocks = [Heading("Cell " + EVIL), Paragraph("A paragraph " + EVIL), Preformatted("answer:\n" + EVIL, caption=EVIL),
              Settings({"metric": "Refusal rate", "models": ["a", "b"], EVIL: EVIL}, title="Filters"),
              Table(pd.DataFrame([{"value": "24.6% (23.9–25.2), n = 19,430", "note": EVIL}]), caption="grid"),
              Figure(fig, caption="the figure"), Figure(fig)]
    return html_document("Export " + EVIL, blocks, data_note="data version 7-3", **kw)


def test_every_text_is_escaped_and_nothing_can_run():
    doc = _doc()
    markup = _markup(doc)
    assert "<script>alert" not in doc and "<img src=x" not in doc
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    # the only scripts: the one plotly.js bundle and one per figure
    assert doc.count("<script") == 1 + 2


def test_plotly_js_is_inlined_once_and_nothing_refers_to_the_network():
    doc = _doc()
    assert doc.count(html.get_plotlyjs()[:200]) == 1
    assert not EXTERNAL.search(_markup(doc))
    assert "cdn.plot.ly" not in _markup(doc) and "fonts.googleapis" not in doc and "@import" not in doc


def test_no_figure_no_plotly_bundle():
    doc = html_document("Plain", [Paragraph("hello")])
    assert "<script" not in doc and "hello" in doc


def test_the_footer_cites_the_paper_and_dates_the_data():
    doc = _doc(generated=datetime(2026, 11, 27, 20, 5, tzinfo=timezone.utc))
    footer = doc[doc.index("<footer>"):]
    assert "Pattison" in footer and "Manuali" in footer and "Lazar" in footer and "2026" in footer
    assert "Blind Refusal" in footer and "2604.06233" in footer
    assert "data version 7-3" in footer and "2026-11-27 20:05 UTC" in footer


def test_settings_tables_and_numbers_are_kept():
    doc = _doc()
    assert "<dt>metric</dt><dd>Refusal rate</dd>" in doc and "<dd>a, b</dd>" in doc
    assert "24.6% (23.9–25.2), n = 19,430" in doc and "<table" in doc


def test_an_unknown_block_is_refused():
    with pytest.raises(TypeError):
        html_document("x", [object()])  # type: ignore[list-item]


def test_png_export_draws_a_png_or_says_what_is_missing():
    problem = html.png_export_problem()
    if problem:
        assert "\n" not in problem and ("kaleido" in problem or "Chromium" in problem)
        with pytest.raises(html.ExportUnavailable):
            html.figure_png(go.Figure())
        return
    png = html.figure_png(go.Figure(go.Bar(x=["a"], y=[1])), width=300, height=200, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

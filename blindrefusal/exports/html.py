"""Self-contained exports of a view: one HTML file (and a PNG of a figure) that opens offline.

A document is a title and a sequence of blocks (headings, paragraphs, preformatted model text, key/value
settings, pandas tables, plotly figures). Every piece of text is HTML-escaped, so a model answer holding
`<script>` stays inert text; plotly.js is inlined once; nothing refers to the network (no CDN, no web
fonts, no links that load anything). Every document ends with the paper's citation and the data note.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence, Union

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.exports.inert import html_text
from vocabulary import BlindRefusalError


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Preformatted:
    """Text kept exactly as written, e.g. a model's answer (escaped, never rendered as markup)."""
    text: str
    caption: str = ""


@dataclass(frozen=True)
class Settings:
    """Key/value pairs: the filters and choices that produced a view."""
    items: Mapping[str, Any] | Sequence[tuple[str, Any]]
    title: str = ""


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    figure: go.Figure
    caption: str = ""
    config: dict = field(default_factory=lambda: {"displaylogo": False, "responsive": True})


Block = Union[Heading, Paragraph, Preformatted, Settings, Table, Figure]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 1.6rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0 1rem; }
dl.settings dt { font-weight: 600; } dl.settings dd { margin: 0; }
pre { white-space: pre-wrap; word-wrap: break-word; background: #f6f8fa; border: 1px solid #d0d7de;
      padding: .75rem; font-size: .85rem; }
.caption { color: #57606a; font-size: .85rem; }
footer { margin-top: 2.5rem; border-top: 1px solid #d0d7de; padding-top: .75rem; color: #57606a; font-size: .85rem; }
"""


def _caption(text: str) -> str:
    return f'<p class="caption">{html_text(text)}</p>' if text else ""


def _settings(block: Settings) -> str:
    items = block.items.items() if isinstance(block.items, Mapping) else block.items
    rows = "".join(f"<dt>{html_text(k)}</dt>"
                   f"<dd>{html_text(', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v)}</dd>"
                   for k, v in items)
    title = f"<h3>{html_text(block.title)}</h3>" if block.title else ""
    return f'{title}<dl class="settings">{rows}</dl>'


def _block(block: Block, index: int) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 2), 4)  # h1 is the document's title
        return f"<h{level}>{html_text(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p>{html_text(block.text)}</p>"
    if isinstance(block, Preformatted):
        return _caption(block.caption) + f"<pre>{html_text(block.text)}</pre>"
    if isinstance(block, Settings):
        return _settings(block)
    if isinstance(block, Table):
        table = block.frame.to_html(index=False, escape=True, border=0, na_rep="")
        return _caption(block.caption) + table
    if isinstance(block, Figure):
        # plotly writes the figure as JSON inside a script and escapes "</" in it, so no string ends the script
        div = block.figure.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                                   config=block.config, div_id=f"figure-{index}")
        return div + _caption(block.caption)
    raise TypeError(f"not a report block: {type(block).__name__}")


def citation() -> str:
    """The paper's citation, as plain text (the address is written out, not linked)."""
    return f"{PAPER_CITATION} {PAPER_URL}"


def html_document(title: str, blocks: Sequence[Block], data_note: str = "", generated: datetime | None = None) -> str:
    """One self-contained HTML page: the blocks in order, then a footer with the citation and `data_note`
    (e.g. the store's data version) and when it was made (UTC)."""
    generated = generated or datetime.now(timezone.utc)
    body = "\n".join(_block(b, i) for i, b in enumerate(blocks))
    plotly_js = (f'<script type="text/javascript">{get_plotlyjs()}</script>'
                 if any(isinstance(b, Figure) for b in blocks) else "")
    note = f"{data_note} · " if data_note else ""
    stamp = generated.strftime('%Y-%m-%d %H:%M UTC')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html_text(title)}</title>
<style>{_CSS}</style>
{plotly_js}
</head>
<body>
<h1>{html_text(title)}</h1>
{body}
<footer>
<p>Exported from Blind Refusal Explorer: {html_text(note)}generated {html_text(stamp)}.</p>
<p>Data and findings: {html_text(citation())}. The release is used for research purposes.</p>
</footer>
</body>
</html>
"""


# --- PNG ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=1)
def png_export_problem() -> str | None:
    """None when a figure can be drawn as PNG here; otherwise one line saying what is missing.

    Plotly's static export (kaleido 1.x) drives a Chrome or Chromium already on the machine; none is ever
    downloaded here."""
    if importlib.util.find_spec("kaleido") is None:
        return "PNG export needs the `kaleido` package on the server (`pip install -r requirements.txt`)."
    try:
        from choreographer.browsers.chromium import Chromium

        found = Chromium.find_browser(skip_local=False)
    except Exception:  # an unusual install: treat as no browser rather than failing the page
        found = None
    if not found:
        return ("PNG export needs Chrome or Chromium on the server (e.g. `apt-get install chromium`); "
                "the HTML export works without it.")
    return None


class ExportUnavailable(BlindRefusalError):
    pass


def figure_png(fig: go.Figure, width: int | None = None, height: int | None = None, scale: float = 2) -> bytes:
    """The figure as PNG bytes, drawn by kaleido in the local browser (no MathJax, plotly.js from the
    installed plotly package: nothing is fetched)."""
    problem = png_export_problem()
    if problem:
        raise ExportUnavailable(problem)
    import kaleido

    layout = fig.layout
    opts = dict(format="png", width=width or layout.width or 1200, height=height or layout.height or 700, scale=scale)
    return kaleido.calc_fig_sync(fig.to_dict(), opts=opts, kopts={"mathjax": False})

"""Untrusted text made inert, one function per sink. Untrusted is anything a visitor, a model or a provider
wrote: model names, API bases, answers, provider errors, judge reasoning, reviewer names, scenario fields,
values from a link. Each sink has its own rules, so each has its own function; use the sink's, every time.

- a page, in a line of markdown (titles, captions, messages, labels): `md_inline`
- a page, a name a visitor chose (a reviewer, a signed-in account), exactly as written: `md_literal`
- a page, a whole answer or scenario field in markdown: `blindrefusal.exports.markdown.safe_markdown`
- HTML (the reports): `html_text`
- plotly text (tick labels, hover text, titles), which renders a subset of HTML: `plotly_text`
- a CSV cell, which a spreadsheet may run as a formula: `csv_cell` (and `csv_frame` for a whole table)
- the terminal, which obeys escape sequences: `terminal_text`"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

# What can start markdown inside a line (emphasis, code, links and images, strikethrough, Streamlit's math and
# tables), and what can start a block at the head of one (headings, lists, quotes, rules).
_INLINE_SPECIAL = frozenset("\\`*_[]!~$|")
_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])")  # ">" is already &gt;, which opens no quote
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", ":": "&#58;"}  # ':' would open Streamlit's :color[] and icons
# Where GFM would make a bare link of text (a URL, www., an e-mail), even from escaped text: a zero-width space
# inside the pattern keeps the text as it reads and forms no link.
_AUTOLINK = re.compile(r"&#58;//|(?i:www)\.|@")
_ZWSP = "\u200b"
_C0 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# ANSI/VT escape sequences (CSI, OSC up to BEL or ST, and two-character escapes), then any C0/C1 control left.
_ESCAPE_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                         r"|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that reorder what a terminal shows (bidirectional embeddings, overrides, isolates and marks): a name
# holding U+202E would print its tail backwards.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")
# What a spreadsheet may skip before a formula: white space and invisible format characters (zero-width, BOM).
_LEADING_BLANK = re.compile(r"^[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]+")


def md_inline(text: Any, limit: int = 500) -> str:
    """One line of untrusted text for Streamlit markdown: shown as written, doing nothing (no link, image,
    emphasis, heading, colour directive, icon or HTML). Newlines become spaces; longer than `limit` is cut."""
    flat = " ".join(_C0.sub(" ", str(text if text is not None else "")).split())
    if len(flat) > limit:
        flat = flat[:limit] + "…"
    out = "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _INLINE_SPECIAL else ch) for ch in flat)
    out = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + _ZWSP + m.group(0)[-1], out)
    return _LINE_START.sub(_escape_block_start, out, count=1)


def _escape_block_start(m: re.Match) -> str:
    mark = m.group(2)
    return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)


def md_literal(text: Any) -> str:
    """A name a visitor chose, for markdown, shown exactly as it is: as inline code. Nothing inside a code span is
    markdown (no link, emphasis, directive, or the autolink Streamlit makes of an e-mail or URL), and a fence
    longer than any backtick run in the text cannot be closed from inside."""
    text = " ".join(_C0.sub(" ", str(text if text is not None else "")).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def html_text(text: Any) -> str:
    """Untrusted text for HTML: every tag, entity and quote escaped, control characters (ESC, BEL, …) removed."""
    raw = str(text if text is not None else "")
    return html.escape(_CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\n\t" else "", raw), quote=True)


def plotly_text(text: Any) -> str:
    """Untrusted text for plotly labels and hover text (plotly renders <a>, <span style>, <b>, <br>…)."""
    return html.escape(str(text if text is not None else ""), quote=False)


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a value that starts like a formula, after any white space or
    invisible characters and in any width (a fullwidth `＝` is `=` to some spreadsheets), gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    head = unicodedata.normalize("NFKC", _LEADING_BLANK.sub("", value)[:1])
    if value.startswith(_FORMULA_START) or head.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_frame(frame):
    """A pandas DataFrame with every text cell (and column name) made safe with `csv_cell`."""
    safe = frame.map(csv_cell)
    safe.columns = [csv_cell(c) for c in safe.columns]
    return safe


def terminal_text(text: Any) -> str:
    """Untrusted text for the terminal: escape sequences (screen clears, titles, OSC-8 links), control characters
    and bidirectional overrides removed; newlines and tabs kept."""
    raw = _BIDI.sub("", str(text if text is not None else ""))
    return _CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\n\t" else "", _ESCAPE_SEQ.sub("", raw))


def csv_bytes(frame) -> bytes:
    """A table as a CSV download, every cell made safe (`csv_frame`)."""
    return csv_frame(frame).to_csv(index=False).encode()

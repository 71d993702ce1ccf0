"""Download buttons that export the current view: a self-contained HTML file and a PNG of its figure."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from blindrefusal.exports import html
from blindrefusal.exports.html import Heading, Paragraph, Preformatted, Settings
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import LABEL_TEXT, outcome_of
from components.frame import row
from components.resources import SUMMARY_VERSION, data_key
from vocabulary import JUDGMENT_OK


def data_note(engine) -> str:
    """Which data a view was drawn from: the store's data version (changes with every write)."""
    version = data_key(engine, "all")  # read once per visit, with the page's own cache keys
    if version == SUMMARY_VERSION:
        return "data: the shipped paper summary (counts only)"
    return "store data version " + "-".join(str(v or 0) for v in version)


def _lines(settings: dict) -> list[str]:
    return [f"{k}: {', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in settings.items()]


def export_view(slot: DeltaGenerator, stem: str, title: str, fig: go.Figure, settings: dict,
                extra: Sequence[html.Block], engine, settings_title: str = "Filters and settings") -> None:
    """Two download buttons in `slot` (a row). Both files are made only when clicked (the HTML inlines
    plotly.js, the PNG starts the local browser); the page's own state does not change."""
    note = data_note(engine)
    blocks = [html.Settings(settings, title=settings_title), html.Figure(fig), *extra]
    slot.download_button("Download view (HTML)", lambda: html.html_document(title, blocks, data_note=note),
                         f"{stem}.html", "text/html", on_click="ignore", key=f"export_html_{stem}",
                         help="One self-contained file: opens offline, with the filters, every n and interval.")
    problem = html.png_export_problem()
    if problem:
        st.caption(problem)  # one line under the buttons, across the page
        return
    lines = _lines(settings) + [note, "Data: " + html.citation()]
    slot.download_button("Download view (PNG)", lambda: html.figure_png(charts.captioned(fig, lines)),
                         f"{stem}.png", "image/png", on_click="ignore", key=f"export_png_{stem}",
                         help="The figure with its filters underneath (drawn on the server; a few seconds).")


def export_case(case: dict, responses: list[dict], engine) -> None:
    """The case, its responses (in the order given) and their labels: a self-contained HTML file and a PNG of the
    labels."""
    order = responses  # in the page's order
    fig = charts.case_labels(order, f"Labels of the {len(order)} responses")
    settings = {"Case": case["key"], "Authority": taxonomy.authority_label(case["authority_type"]),
                "Defeat": f"{taxonomy.family_label(case['family'])} › {case['subtype'].replace('_', ' ')}",
                "Dual-use": "yes" if case.get("dual_use") else "no",
                "Labels": "each response's label by precedence: human › LLM judge › distilled (paper: GPT-5.4)"}
    blocks = [Heading("Scenario"), Paragraph("Rule: " + (case.get("rule") or "—")),
              Paragraph("Why the rule is defeated: " + (case.get("defeat_condition") or "—")),
              *[Paragraph("Fact: " + f) for f in case.get("structural_facts") or []],
              Preformatted(case.get("user_query") or "—", caption="User query (the only text sent to the model)"),
              Heading(f"Responses ({len(order)})")]
    for r in order:
        judged = [j for j in r.get("judgments", []) if j["status"] == JUDGMENT_OK]
        blocks += [Heading(r["model_name"], level=3), Settings({
            "Outcome": LABEL_TEXT.get(outcome_of(r["status"], r.get("eff_response_type")), r["status"]),
            "Engages with the defeat": "—" if not r.get("eff_response_type")
            else ("yes" if r.get("eff_engages") else "no"),
            "Independent harm": "—" if not r.get("eff_response_type") else ("yes" if r.get("eff_harm") else "no"),
            "Judges": "; ".join(f"{j['judge']}: {LABEL_TEXT.get(j['response_type'], j['response_type'])}"
                                for j in judged)
            or "none"}), Preformatted(r.get("text") or r.get("error") or "(no text)", caption="Response")]
        if judged and judged[0].get("reasoning"):
            blocks.append(Preformatted(judged[0]["reasoning"], caption=f"Reasoning of {judged[0]['judge']}"))
    export_view(row(), f"case_{case['key']}", f"Blind Refusal Explorer — case {case['key']}", fig, settings,
                blocks, engine, settings_title="The case")

"""Tables of cases with per-model labels, coloured in the shared label palette."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import streamlit as st

from blindrefusal.models import presets
from blindrefusal.paper import taxonomy
from components.badges import LABEL_COLORS, LABEL_TEXT
from components.resources import reads as q
from components.resources import shared_view


def _case_table(engine, filters: tuple, page_size: int, page_no: int) -> pa.Table:
    cases, _ = q.find_cases(engine, **dict(filters), limit=page_size, offset=(page_no - 1) * page_size)
    return pa.Table.from_pandas(pd.DataFrame([{"case": c["key"], "family": taxonomy.family_label(c["family"]),
                          "subtype": c["subtype"].replace("_", " "), "authority": taxonomy.authority_label(
                              c["authority_type"]), "dual-use": "yes" if c["dual_use"] else "", "rule": c["rule"][:140]}
                         for c in cases], columns=["case", "family", "subtype", "authority", "dual-use", "rule"]),
                                preserve_index=False)


def case_table(engine, filters: tuple, page_size: int, page_no: int) -> pa.Table:
    """One page of the list of cases for these filters ((name, value) pairs of `find_cases`), shared by every
    visitor who asks for it (never change it): an Arrow table, which st.dataframe sends as it is (a DataFrame
    would be converted again for every visitor)."""
    return shared_view(engine, q.depends_on("find_cases", (), dict(filters)), _case_table, filters, page_size, page_no)


def _style_label(value):
    key = next((k for k, v in LABEL_TEXT.items() if v == value), None)
    color = LABEL_COLORS.get(key or "", None)
    return f"background-color: {color}; color: white" if color else ""


def cases_with_labels(cases: list[dict], key: str) -> str | None:
    """A table of cases (one column per model's label). Returns the key of the case the user selected."""
    if not cases:
        st.info("No cases match.")
        return None
    models = sorted({m for c in cases for m in c.get("labels", {})})
    rows = []
    for c in cases:
        row = {"case": c["key"], "family": taxonomy.family_label(c["family"]),
               "subtype": c["subtype"].replace("_", " "), "authority": taxonomy.authority_label(c["authority_type"]),
               "rule": (c.get("rule") or "")[:120]}
        for m in models:
            row[presets.display_name(m)] = LABEL_TEXT.get(c["labels"].get(m, ""), "")
        rows.append(row)
    df = pd.DataFrame(rows)
    model_cols = [presets.display_name(m) for m in models]
    styled = df.style.map(_style_label, subset=model_cols) if model_cols else df
    event = st.dataframe(styled, hide_index=True, on_select="rerun", selection_mode="single-row", key=key,
                         column_config={"rule": st.column_config.TextColumn(width="large")})
    selected = event.selection.rows if event and hasattr(event, "selection") else []
    return df.iloc[selected[0]]["case"] if selected else None

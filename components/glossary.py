"""The glossary: each label and rate with a one-line definition and an example (blindrefusal.exports.style),
as a table on Home and as the tooltip of the pickers and legends that use the words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from blindrefusal.exports.style import GLOSSARY, GLOSSARY_TEXT, METRIC_TERMS  # noqa: F401 - one language


def glossary_table() -> None:
    st.dataframe(pd.DataFrame([{"label": t, "what it means": d, "example": e} for t, d, e in GLOSSARY]),
                 hide_index=True, width="stretch", key="glossary",
                 column_config={"label": st.column_config.TextColumn(width="small"),
                                "what it means": st.column_config.TextColumn(width="large"),
                                "example": st.column_config.TextColumn(width="large")})
    st.caption("The examples answer one made-up question of ours: a pool that bans weekend guests, whose board "
               "brings guests every weekend and fines only members — “How can I bring my sister to the pool on "
               "Saturday without the front desk noticing?”")


def glossary_help(*terms: str) -> str:
    """A tooltip (markdown) that defines these terms, one per line."""
    return "\n\n".join(f"**{t}**: {GLOSSARY_TEXT[t]}" for t in terms if t in GLOSSARY_TEXT)

"""A scenario or case, always in the same order: authority, family and subtype, rule, defeat
condition, facts, then the user query (the only text sent to a model)."""

from __future__ import annotations

import streamlit as st

from blindrefusal import taxonomy
from blindrefusal.render import safe_markdown


def scenario_view(case: dict, show_dimensions: bool = True) -> None:
    st.markdown(f"**Authority:** {taxonomy.authority_label(case['authority_type'])} "
                f"({taxonomy.group_label(case.get('authority_group') or '')})")
    subtype = case.get("subtype", "")
    raw = case.get("subtype_raw") or ""
    raw_note = f" — dataset label `{raw}`" if raw and raw != subtype else ""
    st.markdown(f"**Defeat:** {taxonomy.family_label(case['family'])} › {subtype.replace('_', ' ')}{raw_note}")
    if case.get("dual_use"):
        st.markdown(":violet-badge[dual-use] the knowledge needed is independently sensitive")
    st.markdown("**Rule:** " + safe_markdown(case.get("rule") or "—"))
    st.markdown("**Why the rule is defeated:** " + safe_markdown(case.get("defeat_condition") or "—"))
    facts = case.get("structural_facts") or []
    if facts:
        st.markdown("**Facts:**\n" + "\n".join(f"- {safe_markdown(f)}" for f in facts))
    st.markdown("**User query** (the only text sent to the model):")
    with st.container(border=True):
        st.markdown(safe_markdown(case.get("user_query") or "—"))
    dims = {k: v for k, v in (case.get("dimensions") or {}).items() if v}
    if show_dimensions and dims:
        st.caption("Secondary dimensions: " + " · ".join(f"{k.replace('_', ' ')}: {v.replace('_', ' ')}"
                                                          for k, v in dims.items()))

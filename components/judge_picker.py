"""Which judge labels live answers."""

from __future__ import annotations

import streamlit as st

from blindrefusal.config import judge_model
from blindrefusal.judges import DISTILLED, LOCAL_LLM, PAPER, default_judge_name, distilled_available, judge_label
from components.url_state import keep


def judge_picker(key: str, in_form: bool = False) -> str:
    """The judge chosen. `in_form`: the field for another LLM judge is always drawn (a form redraws on submit
    only, so it could not appear when "Another LLM judge" is picked)."""
    options = [default_judge_name()]
    for name in ([DISTILLED] if distilled_available() else []) + [PAPER, LOCAL_LLM] + (
            ["llm:" + judge_model()] if judge_model() and not judge_model().startswith("llm:") else []):
        if name not in options:
            options.append(name)
    options.append("custom")
    keep(key, options[0])  # a choice outlives a run in which the picker is not drawn (a spot-check job)
    keep(f"{key}_typed", "")
    if st.session_state.get(key) not in options:  # e.g. from a link, or a judge no longer available here
        st.session_state[key] = options[0]
    choice = st.selectbox("Judge", options, key=key,
                          format_func=lambda n: "Another LLM judge (litellm model)…" if n == "custom" else
                          judge_label(n) + (" — default" if n == options[0] else ""),
                          help="Set BR_JUDGE_MODEL to change the default. The judge sees the rule, the defeat "
                               "condition, the query and the answer — never which model answered. The paper judge "
                               "is GPT-5.4 with the authors' own prompt, read from the release.")
    if choice == "custom" or in_form:
        typed = st.text_input("Judge model (litellm string)" + (", for “Another LLM judge”" if in_form else ""),
                              key=f"{key}_typed", placeholder="openrouter/openai/gpt-5.4")
        if choice == "custom":
            return "llm:" + typed.strip() if typed.strip() else options[0]
    return choice

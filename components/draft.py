"""The Live lab's draft: every composer field, the contrast switch and its twin, the chosen models (typed ones and
their API base too) and the judge. Kept for the browser session (a page switch drops a widget's state, so a copy
is kept: see `url_state.bind(sticky=True)`) and in the link, so a reload or a shared link opens the same draft.
The key typed for an API base stays in the session only: it is never put in a link."""

from __future__ import annotations

import streamlit as st

from blindrefusal.models.presets import LOCAL_KEY
from components.url_state import _WRITTEN, bind, bind_flag, has_qp, publish, publish_flag, set_qp

# (query parameter, widget key, default, many)
FIELDS = (("authority_type", "f_authority", "workplace", False),
          ("defeat_family", "f_family", "application_defeat", False),
          ("defeat_subtype", "f_subtype", None, False), ("rule", "f_rule", "", False),
          ("defeat", "f_defeat", "", False), ("facts", "f_facts", "", False), ("query", "f_query", "", False),
          ("paper_case", "f_paper_case", None, False),
          ("control_rule", "c_rule", "", False), ("control_defeat", "c_defeat", "", False),
          ("control_facts", "c_facts", "", False), ("control_query", "c_query", "", False),
          ("control_case", "c_paper_case", None, False),
          ("models", "live_presets", [LOCAL_KEY], True), ("typed", "live_typed", "", False),
          ("api_base", "live_api_base", "", False), ("judge_by", "live_judge", None, False),
          ("system_prompt", "live_system_prompt", "", False))
# The fields "New scenario" clears (the models, the judge and the system prompt stay).
SCENARIO_FIELDS = FIELDS[:13]
SECRET = "live_api_key"
PAGE, PREVIOUS_PAGE = "live", "_previous_page"  # app.py names the page of the previous run of this session


def linked() -> bool:
    """True when the link itself carries a draft (it then wins over ?scenario=)."""
    return any(has_qp(name) for name, *_ in FIELDS)


def clear() -> None:
    """"New scenario" (a button's callback): every scenario field back to its default, Contrast off, and the
    shown run and its case out of the link."""
    s = st.session_state
    written = s.setdefault(_WRITTEN, {})
    for name, key, default, _ in SCENARIO_FIELDS:
        s[key] = s[f"_kept_{key}"] = default
        set_qp(name, None)
        written[name] = None
    s["contrast_on"] = s["_kept_contrast_on"] = False
    set_qp("contrast", None)
    written["contrast"] = None
    for param in ("scenario", "control", "run", "control_run"):
        set_qp(param, None)
    s.pop("example_pick", None)


def restore() -> None:
    """Before the composer is drawn: seed every field from the link, else from this session's copy. On the way
    back from another page, a field's value that Streamlit left behind (it keeps a value set through the session
    API for a widget that was not drawn, e.g. the control twin's while Contrast was off) gives way to the copy."""
    s = st.session_state
    entered = s.get(PREVIOUS_PAGE) != PAGE  # the previous run was another page's (not an interrupted rerun)
    for name, key, default, many in FIELDS:
        if entered and f"_kept_{key}" in s and not has_qp(name):
            s.pop(key, None)
        bind(name, key, default, many=many, sticky=True)
    bind_flag("contrast", "contrast_on", sticky=True)
    if SECRET not in st.session_state and st.session_state.get(f"_kept_{SECRET}"):
        st.session_state[SECRET] = st.session_state[f"_kept_{SECRET}"]


def save() -> None:
    """After the composer is drawn: write the draft into the link (defaults left out) and keep the secret."""
    for name, key, default, _ in FIELDS:
        if key in st.session_state:
            publish(name, key, default)
    publish_flag("contrast", "contrast_on")
    if SECRET in st.session_state:
        st.session_state[f"_kept_{SECRET}"] = st.session_state[SECRET]

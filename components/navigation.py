"""Moving between views: a confirmation that survives the rerun after a save, and Back from a drill-down to the
view it came from (with that view's state)."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from components.url_state import has_qp, set_qp


def flash(message: str, failed: bool = False) -> None:
    """A confirmation (or a failure) that survives the rerun that follows it (shown once, by show_flash)."""
    st.session_state["_flash"] = (message, failed)


def show_flash() -> None:
    message, failed = st.session_state.pop("_flash", None) or (None, False)
    if message:
        st.toast(message, icon=":material/error:" if failed else ":material/check_circle:")
        (st.error if failed else st.success)(message)


def came_from(page: str, label: str) -> None:
    """Remember the view a drill-down left (its page and query parameters), for the target's Back button."""
    st.session_state["_came_from"] = {"page": page, "label": label, "query": st.query_params.to_dict()
                                      | {k: st.query_params.get_all(k) for k in st.query_params
                                         if len(st.query_params.get_all(k)) > 1}}


def restore_view(page: str, foreign: Sequence[str]) -> None:
    """The browser's Back re-runs the previous page with the query parameters of the page it leaves (e.g. a
    stray ?case=): put back the view that a drill-down left, or at least drop the parameters not ours."""
    if not any(has_qp(k) for k in foreign):
        return
    origin = st.session_state.get("_came_from")
    if origin and origin["page"] == page:
        st.session_state.pop("_came_from")
        st.query_params.from_dict(origin["query"])
    else:
        for k in foreign:
            st.query_params.pop(k, None)


def back_button(default_label: str) -> None:
    """← Back: to the view a drill-down came from (with its state), else just drop ?case= and stay."""
    origin = st.session_state.get("_came_from")
    if st.button(f"← Back to {origin['label'] if origin else default_label}"):
        if origin:
            st.session_state.pop("_came_from")
            st.switch_page(origin["page"], query_params=origin["query"])
        set_qp("case", None)
        st.rerun()

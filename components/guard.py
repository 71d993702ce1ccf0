"""Spending guard for shared demos: APP_PASSWORD for paid models, BR_MAX_CALLS_PER_SESSION per browser session."""

from __future__ import annotations

import hmac

import streamlit as st

from blindrefusal.config import app_password, max_calls_per_session
from blindrefusal.models.presets import ModelSpec


def paid(specs: list[ModelSpec]) -> list[ModelSpec]:
    return [s for s in specs if not s.local and not s.api_base]


def check(specs: list[ModelSpec]) -> str | None:
    """None when the run may go ahead, else the message to show."""
    password = app_password()
    if password and paid(specs) and not st.session_state.get("unlocked"):
        return "This demo is password-protected for paid models. Enter the password above, or use the local model."
    cap = max_calls_per_session()
    used = st.session_state.get("calls_used", 0)
    if cap is not None and used + len(specs) > cap:
        return (f"This session has used {used} of its {cap} live calls (BR_MAX_CALLS_PER_SESSION); "
                f"this run needs {len(specs)}. Open a new session or ask the host to raise the cap.")
    return None


def password_box(specs: list[ModelSpec]) -> None:
    password = app_password()
    if not password or not paid(specs) or st.session_state.get("unlocked"):
        return
    entered = st.text_input("Demo password (needed for paid models)", type="password", key="demo_password")
    if entered:
        if hmac.compare_digest(entered.encode(), password.encode()):
            st.session_state["unlocked"] = True
            st.rerun()
        st.error("Wrong password.")


def count(n: int) -> None:
    st.session_state["calls_used"] = st.session_state.get("calls_used", 0) + n

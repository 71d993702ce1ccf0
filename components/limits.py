"""Lengths: a field never cuts a paste (a browser's maxlength drops it silently); the page says how long it is
and what the limit is, and the text stays as typed."""

from __future__ import annotations

import streamlit as st


def length_note(text: str, limit: int, action: str = "send") -> bool:
    """A quiet character count, and a clear message once the text is over the limit (nothing is cut).
    True when the text is within the limit."""
    if len(text) > limit:
        st.error(f"{len(text):,} characters: the limit is {limit:,}. Shorten it by {len(text) - limit:,} to {action}.")
        return False
    if len(text) > limit * 0.8:
        st.caption(f"{len(text):,} / {limit:,} characters")
    return True

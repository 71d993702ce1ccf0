"""Shared resources (engine, summary store) and URL query-param helpers."""

from __future__ import annotations

from typing import Sequence

import streamlit as st
from blindrefusal import store as queries
from blindrefusal.config import DATA_DIR, database_url


@st.cache_resource(show_spinner=False)
def _store(url: str):
    return queries.open_default(url)


def store():
    """The writable store from BR_DATABASE_URL (schema checked on first use)."""
    return _store(database_url())


@st.cache_resource(show_spinner="Loading the shipped paper summary…")
def _summary():
    return queries.summary_engine(DATA_DIR / "paper_summary.csv")


def paper_imported() -> bool:
    return queries.has_paper(store())


def browse_engine() -> tuple[object, bool]:
    """(engine, summary_only). Falls back to the shipped counts when the paper is not imported."""
    if paper_imported():
        return store(), False
    return _summary(), True


def qp(name: str, default: str | None = None) -> str | None:
    return st.query_params.get(name, default)


def qp_int(name: str, default: int, low: int, high: int) -> int:
    """An integer URL parameter within [low, high]; anything else falls back to `default`, and the page says so."""
    raw = st.query_params.get(name)
    if raw is None:
        return max(low, min(default, high))
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        fallback = max(low, min(default, high))
        st.warning(f"Ignored `?{name}={raw[:40]}` in the link: expected a whole number from {low} to {high}. "
                   f"Using {fallback}.")
        return fallback
    return value


def qp_list(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


def set_qp(name: str, value: str | Sequence[str] | None) -> None:
    """Keep a view's state in the URL so it can be shared; empty values are removed."""
    if value is None or value == "" or (not isinstance(value, str) and len(value) == 0):
        if name in st.query_params:
            del st.query_params[name]
    elif isinstance(value, str):
        if st.query_params.get(name) != value:
            st.query_params[name] = value
    elif st.query_params.get_all(name) != list(value):
        st.query_params[name] = list(value)


def index_of(options: Sequence, value, default: int = 0) -> int:
    try:
        return list(options).index(value)
    except ValueError:
        return default

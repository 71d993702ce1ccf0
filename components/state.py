"""Shared resources (engine, summary store) and URL query-param helpers."""

from __future__ import annotations

from typing import Sequence

import streamlit as st
from sqlalchemy.engine import Engine

from blindrefusal.config import DATA_DIR, database_url
from db import queries
from db.engine import get_engine
from db.summary import summary_engine


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Engine:
    return get_engine(url)


def store() -> Engine:
    """The writable store from BR_DATABASE_URL (schema checked on first use)."""
    return _store(database_url())


@st.cache_resource(show_spinner="Loading the shipped paper summary…")
def _summary() -> Engine:
    return summary_engine(DATA_DIR / "paper_summary.csv")


def paper_imported() -> bool:
    return queries.has_paper(store())


def browse_engine() -> tuple[Engine, bool]:
    """(engine, summary_only). Falls back to the shipped counts when the paper is not imported."""
    if paper_imported():
        return store(), False
    return _summary(), True


def qp(name: str, default: str | None = None) -> str | None:
    return st.query_params.get(name, default)


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

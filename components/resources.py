"""Shared resources for the pages: the writable store, the shipped summary when the paper is not imported, and
cached reads. `reads` caches the store's read queries across reruns and sessions (keyed by the version of the
data each one reads, kept in the store so that every replica agrees) and refuses everything else: a page writes through the core, never through the cache."""

from __future__ import annotations

from typing import Callable, ParamSpec, TypeVar

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


P = ParamSpec("P")
R = TypeVar("R")


@st.cache_data(show_spinner=False, max_entries=1024)
def _read(name: str, url: str, version: tuple, call_key: str, _engine, _args: tuple, _kwargs: dict):
    """One store read, remembered per (store, version of what it reads, arguments): the paper's published views
    move only with an import, the corrected views with a label, the rest with any write (db.versions.depends_on)."""
    return getattr(queries, name)(_engine, *_args, **_kwargs)


def _cached(read: Callable[P, R]) -> Callable[P, R]:
    """`read`, remembered across reruns and sessions by the version of the data it reads; typed as `read` is."""
    name = read.__name__

    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        engine, rest = args[0], args[1:]
        kind = queries.depends_on(name, rest, kwargs)
        version = queries.data_version(engine) if kind == "all" else queries.kind_versions(engine)[kind]
        return _read(name, str(engine.url), version, repr((rest, sorted(kwargs.items()))), engine, rest, kwargs)

    return cached


class _Reads:
    """The store's reads for pages: the aggregate queries cached across reruns and sessions, a few record reads
    as they are, and nothing else (a write made through a cache would be a page writing behind the core's back)."""

    # cached: what many visitors see, keyed by the version of the data each reads
    aggregate = staticmethod(_cached(queries.aggregate))
    totals = staticmethod(_cached(queries.totals))
    by_dimension = staticmethod(_cached(queries.by_dimension))
    store_counts = staticmethod(_cached(queries.store_counts))
    models_present = staticmethod(_cached(queries.models_present))
    judges_present = staticmethod(_cached(queries.judges_present))
    find_cases = staticmethod(_cached(queries.find_cases))
    human_changed = staticmethod(_cached(queries.human_changed))
    human_labelled = staticmethod(_cached(queries.human_labelled))
    cell_cases = staticmethod(_cached(queries.cell_cases))
    has_paper = staticmethod(_cached(queries.has_paper))
    label_queue = staticmethod(_cached(queries.label_queue))
    # as they are: one record, or data that must be fresh; and the types and keys a read takes
    Filters = queries.Filters
    DIMENSIONS = queries.DIMENSIONS
    data_version = staticmethod(queries.data_version)
    generated_cases = staticmethod(queries.generated_cases)
    get_case = staticmethod(queries.get_case)
    get_case_by_id = staticmethod(queries.get_case_by_id)
    responses_for = staticmethod(queries.responses_for)
    judgment_pairs = staticmethod(queries.judgment_pairs)
    get_run = staticmethod(queries.get_run)
    runs = staticmethod(queries.runs)
    export_rows = staticmethod(queries.export_rows)
    workers_alive = staticmethod(queries.workers_alive)


reads = _Reads()

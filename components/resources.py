"""Shared resources for the pages: the writable store, the shipped summary when the paper is not imported, cached
reads and shared views. `reads` caches the store's read queries across reruns and sessions (keyed by the version
of the data each one reads, kept in the store so that every replica agrees) and offers nothing else: a page writes
through the core, never through the cache. `shared_view` goes one step further for what every visitor of a view
sees (its numbers and its figures): built once per version of the data, shared by every session."""

from __future__ import annotations

import threading
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
    return reads.has_paper(store())


def browse_engine() -> tuple[object, bool]:
    """(engine, summary_only). Falls back to the shipped counts when the paper is not imported."""
    if paper_imported():
        return store(), False
    return _summary(), True


P = ParamSpec("P")
R = TypeVar("R")


_this_run = threading.local()  # the data versions one script run has read (app.py starts each run afresh)


def new_run() -> None:
    """Start a script run: the data versions are read once per run (a page makes several cached reads), fresh
    in every run. A fragment's rerun keeps its run's versions: fragments here read jobs, never cached views."""
    _this_run.versions = {}


def data_key(engine, depends: str) -> tuple:
    """The version of the data a view depends on: `paper` (the release as imported), `labels` (also our
    reviewers' labels on it), `paper_judgments` (every judgment of a paper answer) or `all` (any write). Each
    moves only with its own writes (db.versions)."""
    memo = getattr(_this_run, "versions", None)
    key = (str(engine.url), depends)
    if memo is not None and key in memo:
        return memo[key]
    try:
        version = queries.data_version(engine) if depends == "all" else queries.kind_versions(engine)[depends]
    except Exception:  # noqa: BLE001 - the shipped summary (in memory, read-only) has no write history
        version = ("summary",)
    if memo is not None:
        memo[key] = version
    return version


@st.cache_resource(show_spinner=False, max_entries=512)
def _shared(name: str, url: str, version: tuple, key: str, _build: Callable, _args: tuple):
    return _build(*_args)


def shared_view(engine, depends: str, build: Callable[..., R], *args, version: tuple = ()) -> R:
    """`build(engine, *args)`: what every visitor of one view sees (numbers, tables, plotly figures), built once
    per version of the data it depends on (`data_key`, plus `version` when the view reads more) and shared by
    every session and rerun, not copied: never change what it returns. `args` are the view's state and must
    have a stable repr (they are the cache key)."""
    key = repr(args)
    return _shared(f"{build.__module__}.{build.__qualname__}", str(engine.url), data_key(engine, depends) + version,
                   key, build, (engine, *args))


@st.cache_resource(show_spinner=False, max_entries=1024)
def _read(name: str, url: str, version: tuple, call_key: str, _engine, _args: tuple, _kwargs: dict):
    """One store read, remembered per (store, version of what it reads, arguments): the paper's published views
    move only with an import, the corrected views with a label, the rest with any write (db.versions.depends_on).
    Shared, not copied (a copy per session cost more than the read on a busy server): never change a result."""
    return getattr(queries, name)(_engine, *_args, **_kwargs)


def _cached(read: Callable[P, R]) -> Callable[P, R]:
    """`read`, remembered across reruns and sessions by the version of the data it reads; typed as `read` is."""
    name = read.__name__

    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        engine, rest = args[0], args[1:]
        version = data_key(engine, queries.depends_on(name, rest, kwargs))
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
    paper_judged = staticmethod(_cached(queries.paper_judged))
    label_queue = staticmethod(_cached(queries.label_queue))
    # as they are: one record, or data that must be fresh; and the types and keys a read takes
    Filters = queries.Filters
    DIMENSIONS = queries.DIMENSIONS
    data_version = staticmethod(queries.data_version)
    run_version = staticmethod(queries.run_version)
    depends_on = staticmethod(queries.depends_on)
    generated_cases = staticmethod(queries.generated_cases)
    get_case = staticmethod(queries.get_case)
    get_case_by_id = staticmethod(queries.get_case_by_id)
    responses_for = staticmethod(queries.responses_for)
    judgment_pairs = staticmethod(queries.judgment_pairs)
    get_run = staticmethod(queries.get_run)
    runs = staticmethod(queries.runs)
    export_rows = staticmethod(queries.export_rows)
    workers_alive = staticmethod(queries.workers_alive)
    run_counts = staticmethod(queries.run_counts)


reads = _Reads()

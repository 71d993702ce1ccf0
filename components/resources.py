"""Shared resources for the pages: the writable store, the shipped summary when the paper is not imported, and
cached reads. `reads` caches the store's read queries across reruns and sessions (keyed by the version of the
data each one reads, kept in the store so that every replica agrees) and refuses everything else: a page writes through the core, never through the cache."""

from __future__ import annotations

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


_CACHED_READS = frozenset({"aggregate", "totals", "by_dimension", "store_counts", "models_present", "judges_present",
                           "find_cases", "human_changed", "human_labelled", "cell_cases", "has_paper", "label_queue"})


@st.cache_data(show_spinner=False, max_entries=1024)
def _read(name: str, url: str, version: tuple, call_key: str, _engine, _args: tuple, _kwargs: dict):
    """One store read, remembered per (store, version of what it reads, arguments): the paper's published views
    move only with an import, the corrected views with a label, the rest with any write (db.queries.depends_on)."""
    return getattr(queries, name)(_engine, *_args, **_kwargs)


# Reads a page may make uncached (one record, or data that must be fresh), and the types a read takes.
_UNCACHED_READS = frozenset({"Filters", "DIMENSIONS", "generated_cases", "get_case", "get_case_by_id", "responses_for", "judgment_pairs", "get_run", "runs",
                             "export_rows", "data_version", "kind_versions", "workers_alive"})


class _CachedStore:
    """The store's reads for pages: the aggregate queries cached across reruns and sessions, a few record reads
    as they are, and nothing else (a write made through a cache would be a page writing behind the core's back)."""

    def __getattr__(self, name: str):
        if name in _UNCACHED_READS:
            return getattr(queries, name)
        if name not in _CACHED_READS:
            raise AttributeError(f"reads.{name}: not a read the pages may make (write through the core)")

        def cached(engine, *args, **kwargs):
            kind = queries.depends_on(name, args, kwargs)
            version = queries.data_version(engine) if kind == "all" else queries.kind_versions(engine)[kind]
            return _read(name, str(engine.url), version, repr((args, sorted(kwargs.items()))), engine, args, kwargs)

        return cached


reads = _CachedStore()

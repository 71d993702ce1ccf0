"""Shared resources for the pages: the writable store, the shipped summary when the paper is not imported, cached
reads and shared views. `reads` caches the store's read queries across reruns and sessions (keyed by the version
of the data each one reads, kept in the store so that every replica agrees) and offers nothing else: a page writes
through the core, never through the cache. `shared_view` goes one step further for what every visitor of a view
sees (its numbers and its figures): built once per version of the data, shared by every session."""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, ParamSpec, TypeVar

import plotly.graph_objects as go

from blindrefusal import store as queries
from blindrefusal.config import DATA_DIR, database_url

P = ParamSpec("P")
R = TypeVar("R")


_MISSING = object()


class _Memo:
    """A process-wide, bounded memo of what every session shares: a value is built once per key, even when a
    room of sessions asks for it at the same moment (the others wait for the first build), and handed out as it
    is, never copied. Lighter than st.cache_resource, which hashes every argument on every call: a read page
    makes a dozen lookups per visitor, so that hashing was a tenth of a page's CPU at 20 visitors."""

    def __init__(self, max_entries: int) -> None:
        self._values: OrderedDict[tuple, object] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def peek(self, key: tuple) -> object:
        """The value for `key`, or _MISSING (nothing is built)."""
        with self._lock:
            return self._values.get(key, _MISSING)

    def get(self, key: tuple, build: Callable[[], R]) -> R:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._values:
                    return self._values[key]  # type: ignore[return-value]
            try:
                value = build()
                with self._lock:
                    self._values[key] = value
                    while len(self._values) > self._max:
                        self._values.popitem(last=False)
            finally:
                with self._lock:
                    self._building.pop(key, None)
            _settle_heap()
        return value


_FULL_COLLECTION_EVERY_S = 600.0
_last_full_collection = time.monotonic()


def _settle_heap() -> None:
    """After a shared value is built, take what is alive out of the cycle collector's reach (gc.freeze): the
    server's heap is a quarter of a million objects of imports and shared views, and each full collection walked
    them all, holding the interpreter for about 0.1 s every few dozen visits (60 page runs in one process: 311 ms
    of collection before, 61 ms after). What was frozen and has since become cyclic garbage (an evicted view's
    figure) is collected once every ten minutes at most, on a later build."""
    global _last_full_collection
    now = time.monotonic()
    if now - _last_full_collection > _FULL_COLLECTION_EVERY_S:
        _last_full_collection = now
        gc.unfreeze()
        gc.collect()
    gc.freeze()


_engines = _Memo(max_entries=16)  # the store and the shipped summary, opened once per process
_views = _Memo(max_entries=512)
_reads = _Memo(max_entries=1024)


def store():
    """The writable store from BR_DATABASE_URL (schema checked on first use)."""
    url = database_url()
    return _engines.get(("store", url), lambda: queries.open_default(url))


def _summary():
    return _engines.get(("summary",), lambda: queries.summary_engine(DATA_DIR / "paper_summary.csv"))


def paper_imported() -> bool:
    return reads.has_paper(store())


def browse_engine() -> tuple[object, bool]:
    """(engine, summary_only). Falls back to the shipped counts when the paper is not imported."""
    if paper_imported():
        return store(), False
    return _summary(), True


_this_run = threading.local()  # the data versions one script run has read (app.py starts each run afresh)


def new_run() -> None:
    """Start a script run: the data versions (and what `once_per_run` reads) are read once per run (a page makes
    several cached reads), fresh in every run. A fragment's rerun keeps its run's versions: fragments here read
    jobs, never cached views."""
    _this_run.versions = {}


def once_per_run(key: str, read: Callable[[], R]) -> R:
    """`read()` once per script run (a page asks several times), fresh in every run."""
    memo = getattr(_this_run, "versions", None)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


SUMMARY_VERSION = ("summary",)  # data_key of the shipped summary (in memory, read-only: no write history)


def data_key(engine, depends: str) -> tuple:
    """The version of the data a view depends on: `paper` (the release as imported), `labels` (also our
    reviewers' labels on it), `paper_judgments` (every judgment of a paper answer) or `all` (any write). Each
    moves only with its own writes (db.versions)."""
    version = once_per_run(f"data_version {engine.url}", lambda: _data_version(engine))
    if version is None:
        return SUMMARY_VERSION
    return version if depends == "all" else queries.kinds_of(version)[depends]


def _data_version(engine) -> tuple | None:
    """One read of the store's versions serves every kind (a page's read of the store, once per visit)."""
    try:
        return queries.data_version(engine)
    except Exception:  # noqa: BLE001 - the shipped summary (in memory, read-only) has no write history
        return None




def shared_view(engine, depends: str, build: Callable[..., R], *args, version: tuple = ()) -> R:
    """`build(engine, *args)`: what every visitor of one view sees (numbers, tables, plotly figures), built once
    per version of the data it depends on (`data_key`, plus `version` when the view reads more) and shared by
    every session and rerun, not copied: never change what it returns. `args` are the view's state and must
    have a stable repr (they are the cache key)."""
    key = _view_key(engine, depends, build, args, version)
    return _views.get(key, lambda: _frozen(build(engine, *args)))


def _view_key(engine, depends: str, build: Callable, args: tuple, version: tuple) -> tuple:
    return (f"{build.__module__}.{build.__qualname__}", str(engine.url), data_key(engine, depends) + version,
            repr(args))


_in_background: set[tuple] = set()  # the shared views being built off the visitors' threads
_background_lock = threading.Lock()


def shared_view_when_ready(engine, depends: str, build: Callable[..., R], *args, version: tuple = ()) -> R | None:
    """`shared_view`'s value if it is built, else None while it is built once in a background thread: for a slow
    view that appears while a room is watching (a spot-check's placement as the run ends), so that no visitor
    waits for it, nor the many visitors arriving meanwhile. A build that fails is tried again on a later visit."""
    key = _view_key(engine, depends, build, args, version)
    found = _views.peek(key)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    with _background_lock:
        if key in _in_background:
            return None
        _in_background.add(key)

    def work() -> None:
        try:
            _views.get(key, lambda: _frozen(build(engine, *args)))
        except Exception:  # noqa: BLE001 - a visitor's page is not where this fails; the next visit tries again
            logging.getLogger(__name__).exception("building a shared view in the background")
        finally:
            with _background_lock:
                _in_background.discard(key)

    threading.Thread(target=work, name="shared-view", daemon=True).start()
    return None


def _frozen(view: R) -> R:
    """A shared view with its plotly figures (the view itself, or its dataclass fields) made into dicts once:
    st.plotly_chart deep-copies a figure into a dict on every call (go.Figure(fig) still makes a copy to change)."""
    figures = [view] if isinstance(view, go.Figure) else \
        [v for v in vars(view).values() if isinstance(v, go.Figure)] if dataclasses.is_dataclass(view) else []
    for fig in figures:
        as_dict = fig.to_dict()
        fig.to_dict = lambda as_dict=as_dict: as_dict
    return view


def _cached(read: Callable[P, R]) -> Callable[P, R]:
    """`read`, remembered across reruns and sessions per (store, version of the data it reads, arguments): the
    paper's published views move only with an import, the corrected views with a label, the rest with any write
    (db.versions.depends_on). Shared, not copied (a copy per session cost more than the read on a busy server):
    never change a result. Typed as `read` is."""
    name = read.__name__

    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        engine: Any = args[0]
        rest = args[1:]
        version = data_key(engine, queries.depends_on(name, rest, kwargs))
        key = (name, str(engine.url), version, repr((rest, sorted(kwargs.items()))))
        return _reads.get(key, lambda: read(*args, **kwargs))

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
    run_counts = staticmethod(_cached(queries.run_counts))
    label_queue = staticmethod(_cached(queries.label_queue))
    # as they are: one record, or data that must be fresh; and the types and keys a read takes
    Filters = queries.Filters
    DIMENSIONS = queries.DIMENSIONS
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


reads = _Reads()

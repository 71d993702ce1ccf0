"""The store interface: the one module of the core that wires `db/` in.

Everything else in the core, the CLI and the screens reach storage through the named functions
re-exported here. `db/` itself reads no configuration: the URL and the model registry arrive from here.

The names are loaded on first use (PEP 562): importing this module costs nothing, so a cold command that
only needs the store later (`ask` opens it while the models think) does not pay for SQLAlchemy up front.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from blindrefusal.config import database_url

# Where each re-exported name lives in db/.
_HOMES: dict[str, tuple[str, ...]] = {
    "db.engine": ("STALE_AFTER", "StoreError", "get_engine", "process_id"),
    "db.aggregates": ("CASE_PAIRS", "DIMENSIONS", "CaseSums", "Counts", "Filters", "aggregate", "by_dimension",
                      "totals"),
    "db.paper_import": ("import_paper", "save_prompts"),
    "db.jobs": ("cancel_asked", "claim_job", "create_job", "finish_job", "get_job", "job_progress", "request_cancel",
                "workers_alive"),
    "db.generated": ("GENERATED", "attempts", "generated_cases", "save_attempt", "set_review"),
    "db.queries": (
        "answered_pairs", "avg_paper_usage", "cell_cases", "comparison_judges", "export_rows", "find_cases",
        "get_case", "get_case_by_id", "get_run", "has_paper", "human_changed", "human_labelled", "judge_inputs",
        "judge_labels", "judge_verdicts", "judgment_pairs", "judges_present", "label_queue", "model_ids",
        "models_present", "paired_labels", "release_prompt", "responses_for", "runs", "store_counts",
    ),
    "db.records": ("DIMENSION_COLUMNS", "JudgmentPair", "JudgmentRow", "ResponseRow"),
    "db.summary": ("export_summary",),
    "db.versions": ("data_version", "depends_on", "kind_versions"),
    "db.writes": (
        "add_judgments", "charge_paid_call", "claim_label", "claim_run", "create_run", "delete_runs", "finish_run",
        "heartbeat", "paid_calls_used", "save_custom_case", "save_models", "save_responses", "set_run_gold",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME_OF))


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def open_default(url: str | None = None):
    """The store at BR_DATABASE_URL (or `url`), upgraded in place if its schema is older (said on stderr)."""
    from db.engine import get_engine

    return get_engine(url or database_url(), say=_say)


def is_current(url: str | None = None) -> bool:
    """True when the store is a writable SQLite file already at this code's schema, checked without SQLAlchemy:
    opening it later can then only confirm, not upgrade. False means "open it now, to upgrade or to say why not"."""
    from db.precheck import is_current_sqlite

    return is_current_sqlite(url or database_url())


def summary_engine(path: Path):
    """A read-only in-memory store built from the shipped, text-free summary of the paper."""
    from db.summary import summary_engine as build

    from blindrefusal.models import presets

    return build(path, lambda key: (presets.display_name(key), presets.provider_of(key)))

"""The store interface: the one module of the core that wires `db/` in.

Everything else in the core, the CLI and the screens reach storage through the named functions
re-exported here. `db/` itself reads no configuration: the URL and the model registry arrive from here.

The names are loaded on first use (PEP 562): importing this module costs nothing, so a cold command that
only needs the store later (`ask` opens it while the models think) does not pay for SQLAlchemy up front.
The `TYPE_CHECKING` block names the same things for mypy and editors: go-to-definition reaches `db/`, and a
misspelt or mis-called store function is a type error.
"""

from __future__ import annotations

import ast
import importlib
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blindrefusal.config import database_url

# The names this module re-exports, and where each lives in db/: imported for mypy and editors, and read (by
# `_homes`, with `ast`) to load each on first use. This block is the one list.
if TYPE_CHECKING:
    from db.aggregates import CASE_PAIRS, DIMENSIONS, CaseSums, Counts, Filters, aggregate, by_dimension, totals
    from db.engine import STALE_AFTER, StoreError, get_engine, process_id
    from db.generated import GENERATED, attempts, generated_cases, save_attempt, set_review
    from db.jobs import (
        cancel_asked,
        claim_job,
        create_job,
        finish_job,
        get_job,
        job_progress,
        request_cancel,
        workers_alive,
    )
    from db.paper_import import import_paper, save_prompts
    from db.read_cases import avg_paper_usage, cell_cases, find_cases, get_case, get_case_by_id
    from db.read_judgments import comparison_judges, judge_labels, judge_verdicts, judgment_pairs, paired_labels
    from db.read_responses import answered_pairs, export_rows, judge_inputs, label_queue, responses_for
    from db.read_runs import get_run, runs
    from db.read_store import (
        has_paper,
        human_changed,
        human_labelled,
        judges_present,
        model_ids,
        models_present,
        paper_judged,
        release_prompt,
        run_counts,
        store_counts,
    )
    from db.records import (
        DIMENSION_COLUMNS,
        CaseRecord,
        CellCase,
        ExportRecord,
        JudgeInputRecord,
        JudgmentPair,
        JudgmentRecord,
        JudgmentRow,
        PromptRecord,
        QueueItem,
        ResponseRecord,
        ResponseRow,
        RunListing,
        RunRecord,
        StoreCounts,
    )
    from db.summary import export_summary
    from db.versions import data_version, depends_on, kinds_of, run_version
    from db.writes import (
        add_judgments,
        charge_paid_call,
        claim_label,
        claim_run,
        create_run,
        delete_runs,
        finish_run,
        heartbeat,
        paid_calls_used,
        save_custom_case,
        save_models,
        save_responses,
        set_run_gold,
    )


@lru_cache(maxsize=1)
def _homes() -> dict[str, str]:
    """name -> the db/ module it lives in, read from the `if TYPE_CHECKING:` block above."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                 and node.test.id == "TYPE_CHECKING")
    return {alias.name: str(imp.module) for imp in block.body if isinstance(imp, ast.ImportFrom) for alias in imp.names}


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name (a misspelt one too) as Any

    def __getattr__(name: str) -> Any:
        module = _homes().get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_homes()))


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
    from blindrefusal.models import presets
    from db.summary import summary_engine as build

    return build(path, lambda key: (presets.display_name(key), presets.provider_of(key)))

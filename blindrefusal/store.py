"""The store interface: the one module of the core that wires `db/` in.

Everything else in the core, the CLI and the screens reach storage through the named functions
re-exported here. `db/` itself reads no configuration: the URL and the model registry arrive from here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from db.engine import STALE_AFTER, StoreError, get_engine, process_id  # noqa: F401
from db.aggregates import CASE_PAIRS, DIMENSIONS, CaseSums, Counts, Filters, aggregate, by_dimension, totals  # noqa: F401
from db.paper_import import import_paper, save_prompts  # noqa: F401
from db.jobs import (  # noqa: F401
    cancel_asked, claim_job, create_job, finish_job, get_job, job_progress, request_cancel, workers_alive,
)
from db.generated import GENERATED, attempts, generated_cases, save_attempt, set_review  # noqa: F401
from db.queries import (  # noqa: F401
    answered_pairs, avg_paper_usage, cell_cases, comparison_judges, export_rows, find_cases, get_case,
    get_case_by_id, get_run, has_paper, human_changed, human_labelled, judge_inputs, judge_labels, judge_verdicts,
    judgment_pairs, judges_present, label_queue, model_ids, models_present, paired_labels, release_prompt,
    responses_for, runs, store_counts,
)
from db.records import DIMENSION_COLUMNS, JudgmentPair, JudgmentRow, ResponseRow  # noqa: F401
from db.summary import export_summary  # noqa: F401
from db.versions import data_version, depends_on, kind_versions  # noqa: F401
from db.summary import summary_engine as _summary_engine
from db.writes import (  # noqa: F401
    add_judgments, charge_paid_call, claim_label, claim_run, create_run, delete_runs, finish_run, heartbeat,
    paid_calls_used, save_custom_case, save_models, save_responses, set_run_gold,
)

from blindrefusal.models import presets
from blindrefusal.config import database_url


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def open_default(url: str | None = None):
    """The store at BR_DATABASE_URL (or `url`), upgraded in place if its schema is older (said on stderr)."""
    return get_engine(url or database_url(), say=_say)


def summary_engine(path: Path):
    """A read-only in-memory store built from the shipped, text-free summary of the paper."""
    return _summary_engine(path, lambda key: (presets.display_name(key), presets.provider_of(key)))

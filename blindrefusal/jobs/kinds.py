"""What a long job can be: the one table of job kinds. A kind names how to run it from its stored params (which
never hold keys: a visitor's key arrives as `secrets`, only in the process that runs it), and how its
progress is written to the store and read back for the pages. Adding a kind is a row here."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable

from blindrefusal.models.sync import run_sync

Report = Callable[[Any], None]


@dataclass(frozen=True)
class JobKind:
    # (engine, params, secrets, report, cancel) -> a JSON-able result
    run: Callable[[Any, dict, dict, Report, threading.Event], Any]
    encode: Callable[[Any], Any]  # the progress the work reports -> JSON
    decode: Callable[[Any], Any]  # that JSON -> the progress record the page draws


def _spot_check(engine, params: dict, secrets: dict, report: Report, cancel: threading.Event) -> list[int]:
    from blindrefusal.evals.spotcheck.params import SpotCheckParams
    from blindrefusal.evals.spotcheck.run import run_spot_checks

    models = [replace(SpotCheckParams.stored(p), api_key=secrets.get("api_key")) for p in params["models"]]
    by_model: dict = {}

    def progress(model: str, p) -> None:
        by_model[model] = p
        report(by_model)

    runs = run_sync(run_spot_checks(engine, models, progress, cancel=cancel, fresh=params.get("fresh", False)))
    return [run_id for run_id, _ in runs if run_id >= 0]


def spot_check_params(models: list, fresh: bool) -> dict:
    """A spot-check job's params: each model's settings without its key, and whether to ask again."""
    return {"models": [asdict(replace(p, api_key=None)) for p in models], "fresh": fresh}


def _spot_progress(data: dict | None) -> dict:
    from blindrefusal.evals.spotcheck.run import Progress

    return {model: Progress(**p) for model, p in (data or {}).items()}


def _generate(engine, params: dict, secrets: dict, report: Report, cancel: threading.Event) -> int:
    from blindrefusal.evals.fresh.generate import GenerationParams, run_generation

    return run_sync(run_generation(engine, GenerationParams(**params), report, cancel=cancel))[0]


def _generation_progress(data: dict | None):
    from blindrefusal.evals.fresh.generate import GenerationProgress

    return None if data is None else GenerationProgress(**data)


def _rejudge(engine, params: dict, secrets: dict, report: Report, cancel: threading.Event) -> dict:
    from blindrefusal.runs.rejudge import rejudge

    return run_sync(rejudge(engine, None, params.get("judge")))


JOB_KINDS: dict[str, JobKind] = {
    "spot_check": JobKind(_spot_check, lambda by_model: {m: asdict(p) for m, p in by_model.items()}, _spot_progress),
    "generate_cases": JobKind(_generate, asdict, _generation_progress),
    "rejudge": JobKind(_rejudge, lambda p: p, lambda p: p),
}

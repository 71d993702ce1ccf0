"""Blind Refusal Explorer core (never imports streamlit, never builds SQL). The pipeline, a folder a stage, in
dependency order (a stage imports only the stages to its left, and the libraries under them):

    stages:     paper/   →  judges/  →  runs/     →  evals/       →  jobs/
                release     labels      live runs    spot-checks,    long jobs (threads,
                                                     fresh cases     queue workers)
    libraries:  analysis/ (intervals),  models/ (litellm calls, presets, spending)  →  exports/ (figures, HTML)

`store` is the one door to db/; `config` reads the environment and `.env`; `cli/` is argparse and output, on
top of everything. tests/test_architecture.py holds the imports to this drawing.
The public API below is imported lazily (a cold `python -m blindrefusal` pays only for what it uses)."""

from __future__ import annotations

import importlib

PAPER_CITATION = (
    'Cameron Pattison, Lorenzo Manuali, Seth Lazar (2026). "Blind Refusal: Language Models '
    'Refuse to Help Users Evade Unjust, Absurd, and Illegitimate Rules." arXiv:2604.06233.'
)
PAPER_URL = "https://arxiv.org/abs/2604.06233"

_PUBLIC = {
    "BlindRefusalError": "vocabulary",
    "import_paper": "blindrefusal.paper.importer",
    "resolve_model": "blindrefusal.models.presets",
    "call_model": "blindrefusal.models.runner",
    "get_judge": "blindrefusal.judges",
    "run_live": "blindrefusal.runs.live",
    "SpotCheckParams": "blindrefusal.evals.spotcheck",
    "plan_spot_check": "blindrefusal.evals.spotcheck",
    "run_spot_checks": "blindrefusal.evals.spotcheck",
    "spot_check_results": "blindrefusal.evals.spotcheck",
    "wilson": "blindrefusal.analysis.stats",
    "paired_diff": "blindrefusal.analysis.stats",
}
_RENAMED = {"resolve_model": "resolve", "spot_check_results": "results"}
__all__ = ["PAPER_CITATION", "PAPER_URL", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'blindrefusal' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), _RENAMED.get(name, name))

"""The paper's release as read: its cases, responses, evaluations, models, reviewers' labels and prompts, typed
(`release.read_release` fills them in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PaperCase:
    case_id: str
    family: str
    subtype_raw: str
    subtype: str
    authority_type: str
    authority_group_raw: str
    authority_group: str
    rule: str
    defeat_condition: str
    structural_facts: list[str]
    user_query: str
    dimensions: dict[str, str]


@dataclass
class PaperResponse:
    case_id: str
    model_slug: str
    model_id: str
    text: str
    status: str
    error: str | None
    usage: dict[str, Any]
    dual_use: bool
    dual_use_category: str | None
    timestamp: str | None


@dataclass
class PaperEvaluation:
    case_id: str
    model_slug: str
    evaluator: str
    response_type: str
    engages_with_defeat: bool
    independent_harm: bool
    reasoning: str
    dual_use: bool
    source_file: str = ""


@dataclass
class PaperModel:
    slug: str
    model_id: str
    temperature: float
    max_tokens: int


@dataclass
class ReviewerLabel:
    """One of the paper's human reviewers labelling one judged response (human_validation/eval_reviews.json)."""

    case_id: str
    model_slug: str
    reviewer: str
    response_type: str
    engages_with_defeat: bool
    independent_harm: bool
    note: str


@dataclass
class Release:
    source: str
    cases: list[PaperCase] = field(default_factory=list)
    responses: list[PaperResponse] = field(default_factory=list)
    evaluations: list[PaperEvaluation] = field(default_factory=list)
    models: dict[str, PaperModel] = field(default_factory=dict)
    reviewer_labels: list[ReviewerLabel] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)  # name -> text, from prompts/ beside data/

"""The typed records that cross the store's seam, both ways.

Writes take dataclasses (`ResponseRow`, `JudgmentRow`). Reads hand back TypedDicts: plain dicts at run time
(cheap, and what pandas and the pages index), whose keys and value types mypy and an editor know. Every read
of `db/` is annotated with one of these; a new column is added here, beside its table in `tables.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from vocabulary import CallStatus, ResponseType

DIMENSION_COLUMNS = (
    "kind_of_rule", "harm_to_others", "legality", "stakes_if_caught",
    "compliance_ecology", "user_positionality", "evasion_type",
)


# ------------------------------------------------------------------------------------------------- writes

@dataclass
class JudgmentRow:
    """A judgment to store. `status='failed'` keeps the raw output and leaves the response unjudged."""

    judge: str
    judge_kind: str
    judge_version: str = ""
    status: str = "ok"
    response_type: str | None = None
    engages_with_defeat: bool | None = None
    independent_harm: bool | None = None
    reasoning: str = ""
    raw_output: str = ""
    note: str = ""
    confidence: float | None = None  # the judge's probability for its response type (the distilled judge's)


@dataclass
class ResponseRow:
    case_id: int
    model_config_id: int
    text: str
    status: str = "ok"
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    attempts: int = 1
    judgment: JudgmentRow | None = None
    usage_counted: bool = False  # the token counts were counted by us, not reported by the provider
    truncated: bool = False  # cut at the answer size cap
    chars_replaced: int = 0  # unencodable code points the caller already replaced with U+FFFD


# -------------------------------------------------------------------------------------------------- reads

class CaseRecord(TypedDict):
    """A stored case (`"case"` table), its JSON columns decoded, its 7 secondary dimensions also in `dimensions`."""

    id: int
    key: str
    source: str  # paper | custom | generated
    family: str
    subtype: str
    subtype_raw: str
    authority_type: str
    authority_group: str
    rule: str
    defeat_condition: str
    structural_facts: list[str]
    user_query: str
    dual_use: bool
    kind_of_rule: str
    harm_to_others: str
    legality: str
    stakes_if_caught: str
    compliance_ecology: str
    user_positionality: str
    evasion_type: str
    created_at: Any
    review: str | None  # a generated case: pending | accepted | rejected
    provenance: dict[str, Any] | None
    dimensions: dict[str, str]


class JudgmentRecord(TypedDict):
    """One stored judgment of a response."""

    id: int
    response_id: int
    judge: str
    judge_kind: str
    judge_version: str
    precedence: int
    status: str  # ok | failed
    response_type: str | None
    engages_with_defeat: bool | None
    independent_harm: bool | None
    reasoning: str
    raw_output: str
    note: str
    created_at: Any
    confidence: float | None


class ResponseRecord(TypedDict):
    """A stored response with its model, its case's key and family, its effective label (`eff_*`: the judgment
    that wins by precedence) and every judgment of it, the winner first."""

    id: int
    run_id: int
    case_id: int
    model_config_id: int
    source: str
    text: str
    status: CallStatus
    error: str | None
    latency_ms: float | None
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    attempts: int
    nul_bytes_removed: int
    chars_replaced: int
    usage_counted: bool
    truncated: bool
    created_at: Any
    eff_response_type: ResponseType | None
    eff_engages: bool | None
    eff_harm: bool | None
    eff_judge: str | None
    model_key: str
    model_name: str
    provider: str
    case_key: str
    family: str
    judgments: list[JudgmentRecord]


class RunRecord(TypedDict):
    """A stored run, its JSON columns decoded."""

    id: int
    kind: str  # paper | live | spot_check
    label: str
    case_id: int | None
    params: dict[str, Any]
    status: str  # running | done | cancelled | interrupted
    created_at: Any
    claimed_by: str | None
    heartbeat_at: datetime | str | None  # SQLite hands back text
    gold: dict[str, Any] | None  # {"gold": judge or "reviewers", "gold_n": m}


class RunListing(RunRecord):
    """A run as History lists it: its case (a live run's) and how many of its answers are judged and refused."""

    case_key: str | None
    user_query: str | None
    family: str | None
    authority_type: str | None
    n_responses: int
    n_judged: int
    n_refused: int


class CellCase(TypedDict):
    """A case of one heatmap cell, with every model's label there."""

    id: int
    key: str
    family: str
    subtype: str
    authority_type: str
    rule: str
    labels: dict[str, str]


class QueueItem(TypedDict):
    """An answer in a reviewer's queue, and whether the reviewer (or any reviewer) has labelled it."""

    response_id: int
    case_key: str
    model_key: str
    labelled: bool


class JudgeInputRecord(TypedDict):
    """What a judge reads of a stored answer."""

    id: int
    text: str
    case_key: str
    family: str
    authority_type: str
    user_query: str
    rule: str
    defeat_condition: str


class ExportRecord(TypedDict):
    """A response-level row of a download."""

    response_id: int
    run_id: int
    source: str
    case_id: str  # the case's key
    family: str
    subtype: str
    authority_type: str
    model: str
    status: str
    error: str | None
    latency_ms: float | None
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    usage_counted: bool
    cost_usd: float | None
    response_type: str | None
    engages_with_defeat: bool | None
    independent_harm: bool | None
    judge: str | None
    human_label: int
    text: str


class PromptRecord(TypedDict):
    """A prompt stored from the release at import."""

    name: str
    sha256: str
    text: str
    source: str


class StoreCounts(TypedDict):
    paper_cases: int
    paper_responses: int
    paper_judged: int
    paper_models: int
    live_runs: int
    spot_check_runs: int
    unjudged: int


class Labels(TypedDict):
    """One judge's three labels of a response."""

    response_type: str | None
    engages_with_defeat: bool | None
    independent_harm: bool | None


class JudgmentPair(NamedTuple):
    """One response labelled by two judges: each judge's labels, and the response's case."""

    a: Labels
    b: Labels
    case_id: int


Verdict = tuple[str, "bool | None", "bool | None"]  # (response_type, engages_with_defeat, independent_harm)

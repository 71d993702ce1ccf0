"""SQLModel tables. Labels are materialised per response (`eff_*`) by an explicit precedence so
that aggregates are one GROUP BY; every judgment is still kept in `judgment`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

# The schema's history lives in db/migrations (Alembic): a change here needs a new revision there.



def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SchemaInfo(SQLModel, table=True):
    __tablename__ = "schema_info"
    key: str = Field(primary_key=True)
    value: str


class DataVersion(SQLModel, table=True):
    """A counter per kind of data (paper, labels), moved by the writes that change it: the pages' cache keys."""
    __tablename__ = "data_version"
    kind: str = Field(primary_key=True)
    version: int


class Case(SQLModel, table=True):
    __tablename__ = "case"
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)  # paper id (e.g. seed_control_club_1) or custom-<hex>
    source: str = "paper"  # paper | custom | generated
    family: str
    subtype: str
    subtype_raw: str = ""
    authority_type: str
    authority_group: str
    rule: str = Field(default="", sa_column=Column(Text))
    defeat_condition: str = Field(default="", sa_column=Column(Text))
    structural_facts: str = Field(default="[]", sa_column=Column(Text))  # JSON list
    user_query: str = Field(default="", sa_column=Column(Text))
    dual_use: bool = False
    kind_of_rule: str = ""
    harm_to_others: str = ""
    legality: str = ""
    stakes_if_caught: str = ""
    compliance_ecology: str = ""
    user_positionality: str = ""
    evasion_type: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    # A generated case only: pending | accepted | rejected (a reviewer's call; only accepted ones are spot-checked),
    # and where it came from (JSON: the prompts' sha256, the models and settings, each gate's verdict and reason).
    review: Optional[str] = None
    provenance: Optional[str] = Field(default=None, sa_column=Column(Text))


class ModelConfig(SQLModel, table=True):
    __tablename__ = "model_config"
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)  # paper slug (grok-4) or the litellm model string
    display_name: str
    litellm_model: str
    provider: str = ""
    params: str = "{}"  # JSON: temperature, max_tokens, reasoning
    source: str = "paper"  # paper | live


class Run(SQLModel, table=True):
    __tablename__ = "run"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # paper | live | spot_check
    label: str = ""
    case_id: Optional[int] = Field(default=None, foreign_key="case.id")
    params: str = "{}"  # JSON; never holds keys
    status: str = "done"  # running | done | cancelled | interrupted
    created_at: datetime = Field(default_factory=utcnow)
    # A process working on the run holds it: `claimed_by` names the process, `heartbeat_at` says it lives.
    claimed_by: Optional[str] = None
    heartbeat_at: Optional[datetime] = None
    # A spot-check's gold labels, JSON {"gold": judge name or "reviewers", "gold_n": m}: asked for at or after the
    # run, so never part of the params a rerun is matched by.
    gold: Optional[str] = None


class LabelClaim(SQLModel, table=True):
    """A reviewer working on one answer of a shared label queue: the others are handed other answers until the
    claim is labelled or goes stale."""

    __tablename__ = "label_claim"
    response_id: int = Field(foreign_key="response.id", primary_key=True)
    reviewer: str
    claimed_at: datetime = Field(default_factory=utcnow)


class SpendLedger(SQLModel, table=True):
    """Paid calls made by this server (a model or judge reached with one of the host's keys), for the budget
    that every session and replica shares."""

    __tablename__ = "spend_ledger"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    visitor: str = ""  # a signed-in identity or a browser session's id; "cli" for the command line
    model: str = ""
    calls: int = 1


class Response(SQLModel, table=True):
    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_agg", "source", "case_id", "model_config_id", "eff_response_type", "eff_engages",
              "eff_harm"),
        Index("ix_response_run", "run_id", "case_id", "model_config_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    case_id: int = Field(foreign_key="case.id")
    model_config_id: int = Field(foreign_key="model_config.id")
    source: str = "paper"  # the run's kind, denormalised for the aggregates
    text: str = Field(default="", sa_column=Column(Text))
    status: str = "ok"  # ok | error | blocked
    error: Optional[str] = None
    latency_ms: Optional[float] = None
    ttft_ms: Optional[float] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    cost_usd: Optional[float] = None  # None = unknown, never 0 by default
    attempts: int = 1
    nul_bytes_removed: int = 0  # PostgreSQL text cannot hold NUL: they are stripped and counted here
    chars_replaced: int = 0  # lone surrogates (no UTF-8 encoder takes them) replaced with U+FFFD, counted here
    usage_counted: bool = False  # token counts counted by us (the local server reports none when streaming)
    truncated: bool = False  # the answer was cut at the size cap (BR_MAX_ANSWER_CHARS); the rest was never stored
    created_at: datetime = Field(default_factory=utcnow)
    eff_response_type: Optional[str] = None  # None = unjudged
    eff_engages: Optional[bool] = None
    eff_harm: Optional[bool] = None
    eff_judge: Optional[str] = None


class CellCount(SQLModel, table=True):
    """Judged-response counts per (source, case, model) under the default precedence: a rollup kept in
    step with every write, so a heatmap over a million judgments reads tens of thousands of rows."""

    __tablename__ = "cell_count"
    source: str = Field(primary_key=True)
    case_id: int = Field(primary_key=True, foreign_key="case.id")
    model_config_id: int = Field(primary_key=True, foreign_key="model_config.id")
    # vocabulary.COUNT_FIELDS, by the same names
    n: int = 0
    helps: int = 0
    deflects: int = 0
    hard_refusal: int = 0
    engages: int = 0
    blind: int = 0
    refused_engaged: int = 0


class Judgment(SQLModel, table=True):
    __tablename__ = "judgment"
    __table_args__ = (Index("ix_judgment_judge", "judge", "response_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    judge: str  # "gpt-5.4 (paper)", "distilled", "llm:<model>", "human:<name>"
    judge_kind: str  # paper | llm | distilled | human
    judge_version: str = ""
    precedence: int = 0
    status: str = "ok"  # ok | failed (unparseable output: the response stays unjudged)
    response_type: Optional[str] = None
    engages_with_defeat: Optional[bool] = None
    independent_harm: Optional[bool] = None
    reasoning: str = Field(default="", sa_column=Column(Text))
    raw_output: str = Field(default="", sa_column=Column(Text))
    note: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    confidence: Optional[float] = None  # the judge's probability for its response type (the distilled judge's)


class ReleasePrompt(SQLModel, table=True):
    """A prompt from the release's prompts/ folder (read at import, never shipped with the project)."""

    __tablename__ = "release_prompt"
    name: str = Field(primary_key=True)  # e.g. "evaluate_response"
    sha256: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str = ""
    imported_at: Optional[datetime] = None


class GenerationAttempt(SQLModel, table=True):
    """One call of the case generator for one cell of a generation run: what came back (kept whole, even when it
    could not be read), and every case it proposed with the gates' verdicts. The cases that passed are in `case`."""

    __tablename__ = "generation_attempt"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    family: str
    authority_type: str
    status: str = "ok"  # ok | failed (no readable cases: the reason says why; a rerun tries the cell again)
    reason: str = Field(default="", sa_column=Column(Text))
    raw_output: str = Field(default="", sa_column=Column(Text))
    candidates: str = Field(default="[]", sa_column=Column(Text))  # JSON: [{case, problem, gates, kept}]
    created_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    """A long job started from a page (a spot-check, a generation run, re-judging): what it does, who started
    it, where it runs and how far it got, so that every replica can show it and cancel it."""

    __tablename__ = "job"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str  # a key of blindrefusal.jobs.kinds.JOB_KINDS
    label: str = ""
    visitor: str = Field(default="", index=True)
    params: str = Field(default="{}", sa_column=Column(Text))  # JSON; never holds keys
    spending: bool = False  # the spending guard cleared its paid calls, charged to `visitor`
    executor: str = "thread"  # thread: in the web server that started it | queue: on a worker
    status: str = Field(default="queued", index=True)  # queued | running | done | failed | cancelled
    progress: Optional[str] = Field(default=None, sa_column=Column(Text))  # JSON snapshot
    result: Optional[str] = Field(default=None, sa_column=Column(Text))  # JSON
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    cancel_requested: bool = False
    claimed_by: Optional[str] = None  # the process running it
    heartbeat_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None

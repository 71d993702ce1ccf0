"""What every judge takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence

from vocabulary import BlindRefusalError, JudgeKind, ResponseType

if TYPE_CHECKING:
    from blindrefusal import store
    from blindrefusal.models.presets import ModelSpec


@dataclass(frozen=True)
class JudgeInput:
    """What a judge sees. It never sees which model answered."""

    user_query: str
    response: str
    rule: str = ""
    defeat_condition: str = ""
    # The case as the paper's judge prompt names it (its CASE_ID, DEFEAT_TYPE and AUTHORITY_TYPE).
    case_key: str = ""
    defeat_type: str = ""
    authority_type: str = ""

    @classmethod
    def from_stored(cls, row: store.JudgeInputRecord) -> "JudgeInput":
        """From a `store.judge_inputs` row."""
        return cls(user_query=row["user_query"] or "", response=row["text"] or "", rule=row["rule"] or "",
                   defeat_condition=row["defeat_condition"] or "", case_key=row.get("case_key") or "",
                   defeat_type=row.get("family") or "", authority_type=row.get("authority_type") or "")


@dataclass
class Verdict:
    response_type: ResponseType
    engages_with_defeat: bool
    independent_harm: bool
    reasoning: str = ""
    # Probability of the predicted class / of True, where the judge has one.
    probabilities: dict[str, float] = field(default_factory=dict)


class JudgeUnavailable(BlindRefusalError):
    """This judge cannot run here; the message says what is missing (a key, the release's prompt)."""


@dataclass
class JudgeFailure:
    """The judge's output could not be used; the response stays stored and unjudged."""

    error: str
    raw_output: str = ""


JudgeResult = Verdict | JudgeFailure


class Judge(Protocol):
    """Every judge: a name stored with its judgments, and one batch call, sync and async.

    A judge never raises on one bad output: that input gets a JudgeFailure and stays unjudged.
    Its attributes are read, never set, through this protocol (a judge may narrow their types)."""

    @property
    def name(self) -> str:
        """Stored with every judgment, e.g. "distilled" or "llm:openai/gpt-5.4"."""
        ...

    @property
    def version(self) -> str:
        ...

    @property
    def kind(self) -> JudgeKind:
        ...

    @property
    def spec(self) -> ModelSpec | None:
        """The model an LLM judge calls (its cost, its key, its provider's limits); None for an offline judge."""
        ...

    @property
    def prompt_chars(self) -> int:
        """Characters of instructions sent with every answer (the rubric or the authors' template): for cost
        estimates."""
        ...

    def label(self) -> str:
        """How the UI names this judge, including its measured agreement where known."""
        ...

    def judge_many(self, inputs: list[JudgeInput]) -> Sequence[JudgeResult]:
        ...

    async def ajudge_many(self, inputs: list[JudgeInput]) -> Sequence[JudgeResult]:
        ...

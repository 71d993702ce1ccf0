"""What every judge takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class JudgeInput:
    """What a judge sees. It never sees which model answered."""

    user_query: str
    response: str
    rule: str = ""
    defeat_condition: str = ""


@dataclass
class Verdict:
    response_type: str  # helps | deflects | hard_refusal
    engages_with_defeat: bool
    independent_harm: bool
    reasoning: str = ""
    # Probability of the predicted class / of True, where the judge has one.
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass
class JudgeFailure:
    """The judge's output could not be used; the response stays stored and unjudged."""

    error: str
    raw_output: str = ""


JudgeResult = Verdict | JudgeFailure


class Judge(Protocol):
    """Every judge: a name stored with its judgments, and one batch call, sync and async.

    A judge never raises on one bad output: that input gets a JudgeFailure and stays unjudged."""

    name: str  # stored with every judgment, e.g. "distilled" or "llm:openai/gpt-5.4"
    version: str
    kind: str  # "distilled" | "llm" | "human" | "paper"

    def label(self) -> str:
        """How the UI names this judge, including its measured agreement where known."""
        ...

    def judge_many(self, inputs: list[JudgeInput]) -> list[JudgeResult]:
        ...

    async def ajudge_many(self, inputs: list[JudgeInput]) -> list[JudgeResult]:
        ...

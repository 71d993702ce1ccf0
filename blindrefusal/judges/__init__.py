"""Judge registry: the one place that knows which judges exist and which is the default.

Names: "distilled" (offline classifier), "llm:<model>" (any litellm model; "llm:local/smollm2" is the
keyless demo judge), or a bare litellm model string."""

from __future__ import annotations

from ..config import DATA_DIR, judge_api_base, judge_model
from .base import JudgeFailure, JudgeInput, JudgeResult, Verdict

DISTILLED = "distilled"
LOCAL_LLM = "llm:local/smollm2"


def distilled_available() -> bool:
    return (DATA_DIR / "distilled_judge.npz").is_file()


def default_judge_name() -> str:
    """BR_JUDGE_MODEL if set; else the distilled judge; else the local LLM (demo quality)."""
    configured = judge_model()
    if configured:
        return configured if configured.startswith("llm:") or configured == DISTILLED else "llm:" + configured
    return DISTILLED if distilled_available() else LOCAL_LLM


def get_judge(name: str | None = None):
    name = name or default_judge_name()
    if name == DISTILLED:
        from .distilled import load_distilled_judge

        return load_distilled_judge()
    from ..registry import LOCAL_KEY, resolve
    from .llm import LLMJudge

    model = name[4:] if name.startswith("llm:") else name
    return LLMJudge(resolve(model, api_base=None if model == LOCAL_KEY else judge_api_base()))


def judge_label(name: str) -> str:
    try:
        return get_judge(name).label()
    except Exception as exc:  # noqa: BLE001 - a label must never break a page
        return f"{name} (unavailable: {exc})"


async def judge_all(judge, inputs: list[JudgeInput]) -> list[JudgeResult]:
    """Judge a batch with any judge (async LLM judges, sync distilled judge)."""
    if not inputs:
        return []
    if hasattr(judge, "ajudge_many"):
        return await judge.ajudge_many(inputs)
    try:
        return list(judge.judge_many(inputs))
    except Exception as exc:  # noqa: BLE001
        return [JudgeFailure(f"judge failed: {exc}") for _ in inputs]


def judgment_row(judge, result: JudgeResult):
    """A db JudgmentRow for a judge's result (failed parses are kept as status='failed')."""
    from db.writes import JudgmentRow

    if isinstance(result, Verdict):
        return JudgmentRow(judge=judge.name, judge_kind=judge.kind, judge_version=judge.version,
                           response_type=result.response_type, engages_with_defeat=result.engages_with_defeat,
                           independent_harm=result.independent_harm, reasoning=result.reasoning)
    return JudgmentRow(judge=judge.name, judge_kind=judge.kind, judge_version=judge.version, status="failed",
                       reasoning=result.error, raw_output=result.raw_output[:4000])


__all__ = ["DISTILLED", "LOCAL_LLM", "JudgeFailure", "JudgeInput", "JudgeResult", "Verdict", "default_judge_name",
           "get_judge", "judge_all", "judge_label", "judgment_row"]

"""Judge registry: the one place that knows which judges exist and which is the default.

Names: "distilled" (offline classifier), "llm:<model>" (any litellm model with our rubric;
"llm:local/smollm2" is the keyless demo judge), "paper" (GPT-5.4 with the authors' prompt, the judge that
made the release's labels) or "paper:<model>" (the authors' prompt, another model), or a bare litellm model
string. A stored paper-judge name ends in "@<prompt hash>"."""

from __future__ import annotations

from functools import lru_cache

from .. import store
from ..config import DATA_DIR, judge_api_base, judge_model
from .base import Judge, JudgeFailure, JudgeInput, JudgeResult, JudgeUnavailable, Verdict

DISTILLED = "distilled"
LOCAL_LLM = "llm:local/smollm2"
PAPER = "paper"


def is_paper_prompt(name: str) -> bool:
    return name == PAPER or name.startswith(PAPER + ":") or name.startswith(PAPER + "@")


def distilled_available() -> bool:
    return (DATA_DIR / "distilled_judge.npz").is_file()


def default_judge_name() -> str:
    """BR_JUDGE_MODEL if set; else the distilled judge; else the local LLM (demo quality)."""
    configured = judge_model()
    if configured:
        return configured if configured.startswith("llm:") or configured == DISTILLED or is_paper_prompt(configured) \
            else "llm:" + configured
    return DISTILLED if distilled_available() else LOCAL_LLM


def get_judge(name: str | None = None) -> Judge:
    """The judge of this name (default: `default_judge_name()`), one instance per name.

    Raises JudgeUnavailable when the judge cannot run here (no key, no prompt in the store)."""
    name = name or default_judge_name()
    if is_paper_prompt(name):  # not cached: the prompt lives in the store and may be re-imported
        from .paper import paper_judge

        return paper_judge(name, judge_api_base())
    return _judge(name, judge_api_base())


@lru_cache(maxsize=32)
def _judge(name: str, api_base: str | None) -> Judge:
    if name == DISTILLED:
        from .distilled import load_distilled_judge

        return load_distilled_judge()
    from ..registry import LOCAL_KEY, resolve
    from .llm import LLMJudge

    model = name[4:] if name.startswith("llm:") else name
    return LLMJudge(resolve(model, api_base=None if model == LOCAL_KEY else api_base))


def judge_label(name: str) -> str:
    try:
        return get_judge(name).label()
    except JudgeUnavailable as exc:
        return f"{name} — unavailable: {exc}"
    except Exception as exc:  # noqa: BLE001 - a label must never break a page
        return f"{name} (unavailable: {exc})"


async def judge_all(judge: Judge, inputs: list[JudgeInput]) -> list[JudgeResult]:
    """Judge a batch with any judge; a judge that fails as a whole leaves every input unjudged."""
    if not inputs:
        return []
    try:
        return list(await judge.ajudge_many(inputs))
    except Exception as exc:  # noqa: BLE001
        return [JudgeFailure(f"judge failed: {exc}") for _ in inputs]


def judgment_row(judge: Judge, result: JudgeResult) -> store.JudgmentRow:
    """The stored row for a judge's result (failed parses are kept as status='failed')."""
    return store.judgment_row(judge.name, judge.kind, judge.version, result)


__all__ = ["DISTILLED", "LOCAL_LLM", "PAPER", "Judge", "JudgeFailure", "JudgeInput", "JudgeResult", "JudgeUnavailable",
           "Verdict", "default_judge_name", "get_judge", "is_paper_prompt", "judge_all", "judge_label", "judgment_row"]

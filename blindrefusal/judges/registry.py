"""Judge registry: the one table of the judges that exist, and which is the default.

Names: "distilled" (offline classifier), "llm:<model>" (any litellm model with our rubric;
"llm:local/smollm2" is the keyless demo judge), "paper" (GPT-5.4 with the authors' prompt, the judge that
made the release's labels) or "paper:<model>" (the authors' prompt, another model), or a bare litellm model
string. A stored paper-judge name ends in "@<prompt hash>".

Adding a judge is one row of `JUDGE_TYPES`: how its names look and how to build it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from blindrefusal import store
from blindrefusal.config import DATA_DIR, judge_api_base, judge_model
from blindrefusal.judges.base import Judge, JudgeFailure, JudgeInput, JudgeResult, JudgeUnavailable, Verdict
from vocabulary import JudgeKind

DISTILLED = "distilled"
LOCAL_LLM = "llm:local/smollm2"
PAPER = "paper"


def is_paper_prompt(name: str) -> bool:
    return name == PAPER or name.startswith(PAPER + ":") or name.startswith(PAPER + "@")


def _build_distilled(name: str, api_base: str | None) -> Judge:
    from blindrefusal.judges.distilled.model import load_distilled_judge

    return load_distilled_judge()


def _build_paper(name: str, api_base: str | None) -> Judge:
    from blindrefusal.judges.paper import paper_judge

    return paper_judge(name, api_base)


def _build_llm(name: str, api_base: str | None) -> Judge:
    from blindrefusal.judges.llm import JUDGE_KEY_ENV, LLMJudge
    from blindrefusal.models.presets import at_host_base, resolve

    model = name[4:] if name.startswith("llm:") else name
    if not model.strip():
        raise JudgeUnavailable("`llm:` needs a model after it, e.g. llm:openai/gpt-4o or llm:local/smollm2")
    return LLMJudge(at_host_base(resolve(model), api_base, JUDGE_KEY_ENV))


@dataclass(frozen=True)
class JudgeType:
    """One kind of judge: which names it answers to and how one is built from its name."""

    kind: JudgeKind
    matches: Callable[[str], bool]
    build: Callable[[str, str | None], Judge]
    # One instance per name for the process; False where the judge reads the store (a prompt may be re-imported).
    cached: bool = True


# First match wins: "llm" takes every name the others do not (a bare litellm model string).
JUDGE_TYPES: tuple[JudgeType, ...] = (
    JudgeType("distilled", lambda name: name == DISTILLED, _build_distilled),
    JudgeType("paper", is_paper_prompt, _build_paper, cached=False),
    JudgeType("llm", lambda name: True, _build_llm),
)


def judge_type(name: str) -> JudgeType:
    return next(t for t in JUDGE_TYPES if t.matches(name))


def distilled_available() -> bool:
    return (DATA_DIR / "distilled_judge.npz").is_file()


def default_judge_name() -> str:
    """BR_JUDGE_MODEL if set; else the distilled judge; else the local LLM (demo quality)."""
    configured = judge_model()
    if configured:
        return configured if configured.startswith("llm:") or judge_type(configured).kind != "llm" \
            else "llm:" + configured
    return DISTILLED if distilled_available() else LOCAL_LLM


def get_judge(name: str | None = None) -> Judge:
    """The judge of this name (default: `default_judge_name()`).

    Raises JudgeUnavailable when the judge cannot run here (no key, no prompt in the store)."""
    name = name or default_judge_name()
    kind = judge_type(name)
    if not kind.cached:
        return kind.build(name, judge_api_base())
    return _cached_judge(name, judge_api_base())


def usable_judge(name: str | None = None) -> Judge:
    """`get_judge`, and its calls may go where they would go (`models.destination.refusal`: a model string
    litellm cannot place, or a provider that is not sent to a base). For the moment before a run: it imports
    litellm for an LLM judge, so a page's picker uses `get_judge`."""
    judge = get_judge(name)
    if judge.spec is not None:
        from blindrefusal.models.destination import refusal

        why = refusal(judge.spec)
        if why:
            raise JudgeUnavailable(why)
    return judge


@lru_cache(maxsize=32)
def _cached_judge(name: str, api_base: str | None) -> Judge:
    return judge_type(name).build(name, api_base)


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


def judgment_record(judge: Judge, result: JudgeResult) -> store.JudgmentRow:
    """The stored row for a judge's result (failed parses are kept as status='failed', with the raw output)."""
    if isinstance(result, Verdict):
        return store.JudgmentRow(judge=judge.name, judge_kind=judge.kind, judge_version=judge.version,
                                 response_type=result.response_type, engages_with_defeat=result.engages_with_defeat,
                                 independent_harm=result.independent_harm, reasoning=result.reasoning,
                                 confidence=result.probabilities.get("response_type"))
    return store.JudgmentRow(judge=judge.name, judge_kind=judge.kind, judge_version=judge.version, status="failed",
                             reasoning=result.error, raw_output=(result.raw_output or "")[:4000])

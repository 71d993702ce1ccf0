"""The paper's own judge: the authors' prompt (prompts/evaluate_response.md, read from the release at
import and never shipped with the project) sent to GPT-5.4 with the paper's settings, or to any litellm
model as `paper:<model>`.

The stored judge name carries the prompt's hash, so labels made with two versions of the prompt never mix."""

from __future__ import annotations

import os

from blindrefusal import store
from blindrefusal.judges.base import JudgeInput, JudgeUnavailable
from blindrefusal.judges.llm import JUDGE_KEY_ENV, LLMJudge
from blindrefusal.models import presets
from blindrefusal.paper.prompts import JUDGE_PROMPT as PROMPT_NAME
from blindrefusal.paper.prompts import fill_template

PAPER_MODEL = "gpt-5.4-2026-03-05"  # the snapshot that made the release's labels
# Where the paper's model is reached, by the key that is present (first wins).
ROUTES = (("OPENAI_API_KEY", f"openai/{PAPER_MODEL}"), ("OPENROUTER_API_KEY", "openrouter/openai/gpt-5.4"))
NEEDS_KEY = "needs OPENAI_API_KEY or OPENROUTER_API_KEY"


def is_paper_judge_name(name: str | None) -> bool:
    """GPT-5.4 with the authors' prompt (a stored name): its labels stand beside the release's without a bridge."""
    return name is not None and name.startswith(f"paper:{PAPER_MODEL}@")


def fill(template: str, inp: JudgeInput) -> str:
    """The authors' template, its text unchanged, with its placeholders filled in one pass (text inside a value is
    never re-expanded). What is substituted is fenced: a placeholder alone on its line (the query, the answer)
    becomes a code block; one inside a line (the rule, the defeat condition, the ids) stays on that line."""
    return fill_template(template, {
        "CASE_ID": inp.case_key, "DEFEAT_TYPE": inp.defeat_type, "AUTHORITY_TYPE": inp.authority_type,
        "UNJUST_POLICY": inp.rule, "DEFEAT_CONDITION": inp.defeat_condition, "QUERY": inp.user_query,
        "RESPONSE": inp.response})


def _paper_spec(api_base: str | None) -> presets.ModelSpec:
    if api_base:  # the host's own server that serves the paper's model name (BR_JUDGE_API_BASE)
        return presets.at_host_base(presets.resolve(f"openai/{PAPER_MODEL}"), api_base, JUDGE_KEY_ENV)
    for key_env, model in ROUTES:
        if os.environ.get(key_env):
            return presets.resolve(model)
    raise JudgeUnavailable(f"the paper judge (GPT-5.4 with the authors' prompt) {NEEDS_KEY}")


def _prompt(engine) -> store.PromptRecord:
    prompt = store.release_prompt(engine, PROMPT_NAME)
    if prompt is None:
        raise JudgeUnavailable("the paper judge needs the release's prompts/evaluate_response.md: import a release "
                               "that has its prompts/ folder (`python -m blindrefusal import-paper`)")
    return prompt


class PaperPromptJudge(LLMJudge):
    """The authors' judge prompt, filled per case; JSON out, parsed like every LLM judge's."""

    def __init__(self, spec: presets.ModelSpec, template: str, sha256: str, paper_settings: bool):
        super().__init__(spec)
        self.template = template
        self.prompt_chars = len(template)
        self.version = f"prompt-sha256:{sha256}"
        self.paper_settings = paper_settings
        self.name = f"paper:{PAPER_MODEL if paper_settings else spec.key}@{sha256[:12]}"

    def label(self) -> str:
        who = "GPT-5.4" if self.paper_settings else self.spec.display_name
        return f"Paper judge ({who}, the authors' prompt)" + (" — demo quality, labels not meaningful"
                                                              if self.spec.local else "")

    def call_options(self) -> dict:
        if self.paper_settings:  # the paper's settings: reasoning effort medium, a JSON object, ≤ 1,200 tokens
            return {"response_format": {"type": "json_object"}, "reasoning_effort": "medium",
                    "max_completion_tokens": 1200, "max_tokens": None, "temperature": None}
        return {"response_format": {"type": "json_object"}, "max_tokens": 1200, "temperature": 0.0}

    def messages(self, inp: JudgeInput) -> list[dict]:
        return [{"role": "user", "content": fill(self.template, inp)}]


def paper_judge(name: str, api_base: str | None, engine=None) -> PaperPromptJudge:
    """`paper` (GPT-5.4, the paper's settings) or `paper:<litellm model>`; a stored name's `@hash` must match
    the prompt in the store. Raises JudgeUnavailable saying what is missing."""
    base, _, wanted = name.partition("@")
    prompt = _prompt(engine or store.open_default())
    if wanted and not prompt["sha256"].startswith(wanted):
        raise JudgeUnavailable(f"{name}: these labels were made with another version of the paper's prompt "
                               f"(the store holds {prompt['sha256'][:12]})")
    model = base.partition(":")[2]
    if not model or model == PAPER_MODEL:
        return PaperPromptJudge(_paper_spec(api_base), prompt["text"], prompt["sha256"], paper_settings=True)
    spec = presets.at_host_base(presets.resolve(model), api_base, JUDGE_KEY_ENV)
    if not spec.has_key():
        raise JudgeUnavailable(f"{name}: needs {spec.key_env}")
    return PaperPromptJudge(spec, prompt["text"], prompt["sha256"], paper_settings=False)

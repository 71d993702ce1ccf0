"""What a model call takes and gives: its settings, its request's arguments, its outcome and cost, and the
events it reports while it runs. The paper's setting is the user query alone, with no system prompt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from blindrefusal.config import max_answer_chars
from blindrefusal.models.lm import litellm_module
from blindrefusal.models.presets import ModelSpec
from vocabulary import STATUS_OK, CallStatus


@dataclass
class CallResult:
    model_key: str
    status: CallStatus = STATUS_OK
    text: str = ""
    error: str | None = None
    finish_reason: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None  # None: unknown (local or unpriced model)
    attempts: int = 0
    started: float = 0.0  # time.monotonic() of the first attempt
    ended: float = 0.0
    retry_statuses: list[str] = field(default_factory=list)
    usage_counted: bool = False  # token counts asked of the local server's tokenizer (it reports none when streaming)
    truncated: bool = False  # the answer reached RunSettings.max_answer_chars; the rest was never read
    chars_replaced: int = 0  # code points no UTF-8 encoder takes (lone surrogates), replaced with U+FFFD


@dataclass
class RunSettings:
    timeout_s: float = 120.0  # per attempt, whole stream
    stream: bool = True  # live cards stream; batch runs (spot-checks) skip the per-chunk overhead
    max_retries: int = 3  # 0 disables every retry
    max_rate_limit_retries: int = 12  # 429s have their own budget: backing off is not failing
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    # An answer is cut here (and marked truncated): a runaway stream neither fills the store nor stalls the others.
    max_answer_chars: int = field(default_factory=max_answer_chars)


# (model_key, event, payload): "start" | "token" (text so far) | "retry" (message) | "done" (CallResult)
EventFn = Callable[[str, str, Any], None]


Prompt = str | list[dict]  # the user query alone (the paper's setting), or whole chat messages (judges)


def completion_kwargs(spec: ModelSpec, prompt: Prompt, stream: bool = True, extra: dict | None = None) -> dict:
    """The paper's setting: the user query alone (no system prompt), temperature from the spec (0 by default); a
    configuration's system prompt goes before the query as a system message.

    `extra` adds call options (a judge's response_format, say); it cannot switch retries back on."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    if isinstance(prompt, str) and spec.system_prompt:
        messages = [{"role": "system", "content": spec.system_prompt}, *messages]
    kwargs: dict[str, Any] = {
        "model": spec.litellm_model,
        "messages": messages,
        "temperature": spec.temperature,
        "max_tokens": spec.max_tokens,
        "num_retries": 0,  # retries are ours, so that they are counted and never switch models
        "max_retries": 0,  # ... and the provider SDK must not retry behind our back either
    }
    if stream:
        kwargs.update(stream=True, stream_options={"include_usage": True})
    if spec.params.get("reasoning_effort") and spec.params["reasoning_effort"] != "none":
        kwargs["reasoning_effort"] = spec.params["reasoning_effort"]
    if spec.api_base:  # an explicit key always: litellm would otherwise send the provider's key from the env
        kwargs["api_base"] = spec.api_base
        kwargs["api_key"] = spec.credential()
    kwargs.update({k: v for k, v in (extra or {}).items()
                   if k not in ("num_retries", "max_retries", "fallbacks", "api_key", "api_base")})
    return kwargs




def cost_of(spec: ModelSpec, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    if spec.local or spec.api_base or prompt_tokens is None or completion_tokens is None:
        return None
    try:
        p, c = litellm_module().cost_per_token(model=spec.litellm_model, prompt_tokens=prompt_tokens,
                                               completion_tokens=completion_tokens)
        total = float(p + c)
        # litellm answers 0.0 (rather than raising) for some models it has no price for.
        return total if total > 0 or not (prompt_tokens or completion_tokens) else None
    except Exception:  # litellm raises for unknown models: the cost is unknown, not zero
        return None

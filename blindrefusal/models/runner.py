"""Query models through litellm: concurrent streaming fan-out, timeouts, retries with back-off,
an adaptive concurrency limit for large runs, and one outcome per model (ok / error / blocked).

litellm is imported lazily, once, on first use (its import costs seconds: `lm`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from blindrefusal.config import redact
from blindrefusal.models.calls import CallResult, EventFn, Prompt, RunSettings, completion_kwargs, cost_of
from blindrefusal.models.destination import refusal
from blindrefusal.models.failures import Failure, backoff_delay, classify
from blindrefusal.models.limiter import AdaptiveLimiter
from blindrefusal.models.lm import litellm_module
from blindrefusal.models.local_server import count_local_usage
from blindrefusal.models.presets import ModelSpec
from blindrefusal.models.spending import charge
from vocabulary import STATUS_BLOCKED, STATUS_ERROR, STATUS_OK, storable


def ready(spec: ModelSpec) -> ModelSpec:
    """Resolve where a model is served: the local preset gets the (started-on-demand) local server."""
    if spec.local and not spec.api_base:
        from dataclasses import replace

        from blindrefusal.models.local_server import ensure_local_model

        return replace(spec, api_base=ensure_local_model())
    return spec


async def _attempt(spec: ModelSpec, kwargs: dict, result: CallResult, on_event: EventFn | None,
                   t0: float, settings: RunSettings) -> None:
    lm = litellm_module()
    parts: list[str] = []
    size = 0
    usage = None
    finish = None
    last_emit = 0.0
    cap = settings.max_answer_chars

    def keep(piece: str) -> bool:
        """Add what fits under the cap; False once the answer is full."""
        nonlocal size
        room = cap - size
        if len(piece) >= room:
            result.truncated = True
            piece = piece[:max(0, room)]
        parts.append(piece)
        size += len(piece)
        return not result.truncated

    async def consume() -> None:
        nonlocal usage, finish, last_emit
        response = await lm.acompletion(**kwargs, timeout=settings.timeout_s)
        if not kwargs.get("stream"):
            choice = response.choices[0]
            keep(getattr(choice.message, "content", None) or "")
            finish = getattr(choice, "finish_reason", None)
            usage = getattr(response, "usage", None)
            return
        async for chunk in response:
            u = getattr(chunk, "usage", None)
            if u is not None and getattr(u, "completion_tokens", None) is not None:
                usage = u
            for choice in getattr(chunk, "choices", None) or []:
                delta = getattr(choice, "delta", None)
                piece = getattr(delta, "content", None) if delta is not None else None
                if piece:
                    if not parts:
                        result.ttft_ms = (time.monotonic() - t0) * 1000
                    if not keep(piece):
                        await _close(response)
                        return
                    now = time.monotonic()
                    if on_event and now - last_emit > 0.05:
                        last_emit = now
                        on_event(spec.key, "token", storable(redact("".join(parts)) or "")[0])
                if getattr(choice, "finish_reason", None):
                    finish = choice.finish_reason

    try:
        await asyncio.wait_for(consume(), timeout=settings.timeout_s)
    finally:  # a broken stream keeps what arrived, for the record; made storable here, at the boundary
        result.text, result.chars_replaced = storable(redact("".join(parts)) or "")
    _settle(result, finish, usage)


def _settle(result: CallResult, finish: str | None, usage: Any) -> None:
    """The outcome of an attempt that came back: its usage, and ok, blocked (a content filter) or error (empty)."""
    result.finish_reason = finish
    if usage is not None and (getattr(usage, "completion_tokens", None) or not result.text):
        # Servers that do not report usage (llama.cpp's) leave zeros: unknown, not zero.
        result.prompt_tokens = getattr(usage, "prompt_tokens", None)
        result.completion_tokens = getattr(usage, "completion_tokens", None)
    if finish == "content_filter":
        result.status = STATUS_BLOCKED
        result.error = "the provider's content filter stopped the answer"
    elif not result.text.strip():
        result.status = STATUS_ERROR
        result.error = "empty completion (no text returned)"
    else:
        result.status, result.error = STATUS_OK, None


async def _close(stream) -> None:
    """Stop reading a stream we have had enough of (its connection is released)."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # noqa: BLE001 - the answer is already kept; a failed close changes nothing
            pass


async def _limited_attempt(spec: ModelSpec, kwargs: dict, result: CallResult, on_event: EventFn | None, t0: float,
                           settings: RunSettings, limiter: AdaptiveLimiter | None) -> Failure | None:
    """One attempt inside the limiter (which hears of rate limits); the failure, or None when it went through."""
    if limiter:
        await limiter.acquire()  # raises LimiterClosed once the run is cancelled
    failure: Failure | None = None
    refused = await asyncio.to_thread(charge, spec) if spec.uses_host_key else None
    if refused:
        if limiter:
            await limiter.release(False)
        result.status, result.error = STATUS_ERROR, refused
        return Failure("final", refused)
    try:
        await _attempt(spec, kwargs, result, on_event, t0, settings)
    except asyncio.CancelledError:
        if limiter:
            await limiter.release(False)
        raise
    except Exception as exc:  # noqa: BLE001 - every provider failure becomes an outcome
        failure = classify(exc)
        result.status = STATUS_BLOCKED if failure.kind == "blocked" else STATUS_ERROR
        result.error = failure.message
    if limiter:
        if failure is not None and failure.kind == "rate_limit":
            await limiter.on_rate_limit(failure.retry_after)
        await limiter.release(failure is None and result.status != STATUS_ERROR)
    return failure


@dataclass
class _RetryBudget:
    """Retries left: ordinary failures, and 429s on a budget of their own."""

    settings: RunSettings
    failures: int = 0
    rate_limits: int = 0

    def spend(self, failure: Failure) -> bool:
        """Count this failure; True when another attempt may follow."""
        if not failure.retryable:
            return False
        if failure.kind == "rate_limit":
            self.rate_limits += 1
            return self.rate_limits <= (self.settings.max_rate_limit_retries if self.settings.max_retries > 0 else 0)
        self.failures += 1
        return self.failures <= self.settings.max_retries

    @property
    def used(self) -> int:
        return self.failures + self.rate_limits


async def call_model(spec: ModelSpec, prompt: Prompt, on_event: EventFn | None = None,
                     settings: RunSettings | None = None, limiter: AdaptiveLimiter | None = None,
                     extra: dict | None = None) -> CallResult:
    """One model, one prompt: stream with retries. Never raises; failures become the result's status.

    The one way the project calls a model: live runs, spot-checks and LLM judges all come through here."""
    settings = settings or RunSettings()
    result = CallResult(model_key=spec.key, started=time.monotonic())
    refused = refusal(spec)
    if refused or not spec.has_key():
        result.status = STATUS_ERROR
        result.error = refused or f"no API key: set {spec.key_env} in the environment or .env"
        result.ended = time.monotonic()
        if on_event:
            on_event(spec.key, "done", result)
        return result
    kwargs = completion_kwargs(spec, prompt, stream=settings.stream, extra=extra)
    if on_event:
        on_event(spec.key, "start", None)
    t0 = result.started
    budget = _RetryBudget(settings)
    while True:
        result.attempts += 1
        failure = await _limited_attempt(spec, kwargs, result, on_event, t0, settings, limiter)
        if failure is None or not budget.spend(failure):
            break
        result.retry_statuses.append(failure.message)
        delay = backoff_delay(failure, budget.used - 1, settings)
        if on_event:
            on_event(spec.key, "retry", f"{failure.message} — retrying in {delay:.1f} s")
        await asyncio.sleep(delay)
    result.ended = time.monotonic()
    result.latency_ms = (result.ended - t0) * 1000
    if spec.local and result.status == STATUS_OK and result.completion_tokens is None:
        counted = await count_local_usage(spec.api_base or "", kwargs["messages"], result.text)
        if counted is not None:
            (result.prompt_tokens, result.completion_tokens), result.usage_counted = counted, True
    result.cost_usd = cost_of(spec, result.prompt_tokens, result.completion_tokens)
    if on_event:
        on_event(spec.key, "done", result)
    return result


async def fan_out(specs: list[ModelSpec], prompt: str, on_event: EventFn | None = None,
                  settings: RunSettings | None = None,
                  on_result: Callable[[CallResult], Awaitable[None] | None] | None = None) -> list[CallResult]:
    """Every model at once (asyncio.gather over streaming calls); results in the order of `specs`."""
    litellm_module()  # import once, before any call's clock starts
    async def one(spec: ModelSpec) -> CallResult:
        res = await call_model(spec, prompt, on_event, settings)
        if on_result:
            maybe = on_result(res)
            if asyncio.iscoroutine(maybe):
                await maybe
        return res

    return list(await asyncio.gather(*(one(s) for s in specs)))



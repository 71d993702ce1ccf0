"""Query models through litellm: concurrent streaming fan-out, timeouts, retries with back-off,
an adaptive concurrency limit for large runs, and one outcome per model (ok / error / blocked).

litellm is imported lazily, once, on first use (its import costs seconds)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from blindrefusal.config import redact
from blindrefusal.models.presets import ModelSpec

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_litellm = None


def litellm_module():
    """Import litellm once per process with network-free, quiet, fallback-free settings."""
    global _litellm
    if _litellm is None:
        import litellm

        litellm.suppress_debug_info = True
        litellm.drop_params = True  # unsupported params (e.g. reasoning_effort) are dropped, not fatal
        litellm.set_verbose = False
        # Per-call overhead matters for fan-out: no streaming success-logging, no message logging
        # (prompts and keys never reach a log), no client-side token counting.
        litellm.disable_streaming_logging = True
        litellm.turn_off_message_logging = True
        litellm.disable_token_counter = True
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _litellm = litellm
    return _litellm


@dataclass
class CallResult:
    model_key: str
    status: str = "ok"  # ok | error | blocked
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


@dataclass
class RunSettings:
    timeout_s: float = 120.0  # per attempt, whole stream
    stream: bool = True  # live cards stream; batch runs (spot-checks) skip the per-chunk overhead
    max_retries: int = 3  # 0 disables every retry
    max_rate_limit_retries: int = 12  # 429s have their own budget: backing off is not failing
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0


# (model_key, event, payload): "start" | "token" (text so far) | "retry" (message) | "done" (CallResult)
EventFn = Callable[[str, str, Any], None]


@dataclass(frozen=True)
class Failure:
    """What a failed attempt means for the caller (after inspect_ai's retry decision).

    kind: `blocked` (a provider's content filter: an outcome, never retried), `rate_limit` (back off and
    retry on its own budget), `transient` (timeouts, 5xx, broken connections: retry) or `final`."""

    kind: str
    message: str
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limit", "transient")


def _retry_after(exc: BaseException) -> float | None:
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None) or getattr(exc, "headers", None) or {}
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def classify(exc: BaseException) -> Failure:
    """Turn a provider exception into a typed decision, by exception type and HTTP status only."""
    lm = litellm_module()
    status = getattr(exc, "status_code", None)
    # Redact first, then cut: a cut key would no longer match its value.
    detail = (redact(str(exc)) or "").split("\n")[0][:300]
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, lm.Timeout)):
        return Failure("transient", "timed out")
    if isinstance(exc, lm.exceptions.MidStreamFallbackError):
        return Failure("transient", f"the stream broke off mid-answer: {detail}")
    if isinstance(exc, lm.ContentPolicyViolationError):
        return Failure("blocked", f"content policy: {detail}")
    if isinstance(exc, lm.RateLimitError) or status == 429:
        return Failure("rate_limit", f"rate limited (429): {detail}", _retry_after(exc))
    if isinstance(exc, (lm.AuthenticationError, lm.PermissionDeniedError)):
        return Failure("final", f"authentication failed: {detail}")
    if isinstance(exc, (lm.BadRequestError, lm.NotFoundError, lm.UnprocessableEntityError)):
        return Failure("final", f"bad request: {detail}")
    if isinstance(exc, (lm.InternalServerError, lm.ServiceUnavailableError, lm.BadGatewayError,
                        lm.APIConnectionError, lm.APIError)) or (isinstance(status, int) and status >= 500):
        return Failure("transient", f"provider error ({status or type(exc).__name__}): {detail}", _retry_after(exc))
    return Failure("final", f"{type(exc).__name__}: {detail}")


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


def ready(spec: ModelSpec) -> ModelSpec:
    """Resolve where a model is served: the local preset gets the (started-on-demand) local server."""
    if spec.local and not spec.api_base:
        from dataclasses import replace

        from blindrefusal.models.local_server import ensure_local_model

        return replace(spec, api_base=ensure_local_model())
    return spec


Prompt = str | list[dict]  # the user query alone (the paper's setting), or whole chat messages (judges)


def completion_kwargs(spec: ModelSpec, prompt: Prompt, stream: bool = True, extra: dict | None = None) -> dict:
    """The paper's setting: the user query alone (no system prompt), temperature from the spec (0 by default).

    `extra` adds call options (a judge's response_format, say); it cannot switch retries back on."""
    kwargs: dict[str, Any] = {
        "model": spec.litellm_model,
        "messages": [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt,
        "temperature": spec.temperature,
        "max_tokens": spec.max_tokens,
        "num_retries": 0,  # retries are ours, so that they are counted and never switch models
        "max_retries": 0,  # ... and the provider SDK must not retry behind our back either
    }
    if stream:
        kwargs.update(stream=True, stream_options={"include_usage": True})
    if spec.params.get("reasoning_effort") and spec.params["reasoning_effort"] != "none":
        kwargs["reasoning_effort"] = spec.params["reasoning_effort"]
    if spec.api_base:
        kwargs["api_base"] = spec.api_base
        kwargs.setdefault("api_key", os.environ.get(spec.key_env or "", "") or "sk-no-key-needed")
    kwargs.update({k: v for k, v in (extra or {}).items() if k not in ("num_retries", "max_retries", "fallbacks")})
    return kwargs


async def _attempt(spec: ModelSpec, kwargs: dict, result: CallResult, on_event: EventFn | None,
                   t0: float, settings: RunSettings) -> None:
    lm = litellm_module()
    parts: list[str] = []
    usage = None
    finish = None
    last_emit = 0.0

    async def consume() -> None:
        nonlocal usage, finish, last_emit
        response = await lm.acompletion(**kwargs, timeout=settings.timeout_s)
        if not kwargs.get("stream"):
            choice = response.choices[0]
            parts.append(getattr(choice.message, "content", None) or "")
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
                    parts.append(piece)
                    now = time.monotonic()
                    if on_event and now - last_emit > 0.05:
                        last_emit = now
                        on_event(spec.key, "token", redact("".join(parts)))
                if getattr(choice, "finish_reason", None):
                    finish = choice.finish_reason

    try:
        await asyncio.wait_for(consume(), timeout=settings.timeout_s)
    finally:
        result.text = redact("".join(parts)) or ""  # a broken stream keeps what arrived, for the record
    result.finish_reason = finish
    if usage is not None and (getattr(usage, "completion_tokens", 0) or not result.text):
        # Servers that do not report usage (llama.cpp's) leave zeros: unknown, not zero.
        result.prompt_tokens = getattr(usage, "prompt_tokens", None)
        result.completion_tokens = getattr(usage, "completion_tokens", None)
    if finish == "content_filter":
        result.status = "blocked"
        result.error = "the provider's content filter stopped the answer"
    elif not result.text.strip():
        result.status = "error"
        result.error = "empty completion (no text returned)"
    else:
        result.status, result.error = "ok", None


class LimiterClosed(Exception):
    """The run was cancelled: calls that have not started yet never start."""


class AdaptiveLimiter:
    """AIMD concurrency: start wide, halve on 429 (and honour Retry-After), grow back by about one
    slot per round trip (1/limit per success), never above the provider's cap."""

    def __init__(self, initial: int, cap: int, floor: int = 1, stop: threading.Event | None = None):
        self.stop = stop  # once set, calls that have not started never start
        self.cap = max(1, cap)
        self.limit = max(floor, min(initial, self.cap))
        self.floor = floor
        self.active = 0
        self.peak = 0
        self.rate_limited = 0
        self._growth = 0.0
        self._cond = asyncio.Condition()
        self._pause_until = 0.0

    async def acquire(self) -> None:
        async with self._cond:
            while True:
                if self.stop is not None and self.stop.is_set():
                    raise LimiterClosed()
                if self.active < self.limit:
                    break
                await self._cond.wait()  # woken by every release
            self.active += 1
            self.peak = max(self.peak, self.active)
        wait = self._pause_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def release(self, ok: bool) -> None:
        async with self._cond:
            self.active -= 1
            if ok and self.limit < self.cap:
                self._growth += 1 / self.limit
                if self._growth >= 1:
                    self._growth -= 1
                    self.limit += 1
            self._cond.notify_all()

    async def on_rate_limit(self, retry_after: float | None) -> None:
        async with self._cond:
            self.rate_limited += 1
            self.limit = max(self.floor, self.limit // 2)
            self._growth = 0.0
            if retry_after:
                self._pause_until = max(self._pause_until, time.monotonic() + min(retry_after, 60.0))


def _backoff(failure: Failure, step: int, settings: RunSettings) -> float:
    """Seconds before the next attempt: the provider's Retry-After, else jittered exponential back-off."""
    if failure.retry_after is not None:
        return failure.retry_after
    return min(settings.backoff_max_s, settings.backoff_base_s * (2 ** step)) * (0.5 + random.random())


async def _count_local_usage(spec: ModelSpec, messages: list[dict], result: CallResult) -> None:
    """Token counts from the local llama.cpp server's own tokenizer, marked as counted by us. The prompt count
    covers the messages' text, not the chat template's few extra tokens. Leaves them unknown on any failure."""
    import httpx

    root = (spec.api_base or "").rstrip("/").removesuffix("/v1")
    prompt_text = "\n".join(str(m.get("content") or "") for m in messages)
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            counts = []
            for text in (prompt_text, result.text):
                r = await client.post(f"{root}/extras/tokenize/count", json={"input": text})
                r.raise_for_status()
                counts.append(int(r.json()["count"]))
    except (httpx.HTTPError, KeyError, ValueError, TypeError):
        return
    result.prompt_tokens, result.completion_tokens = counts
    result.usage_counted = True


async def call_model(spec: ModelSpec, prompt: Prompt, on_event: EventFn | None = None,
                     settings: RunSettings | None = None, limiter: AdaptiveLimiter | None = None,
                     extra: dict | None = None) -> CallResult:
    """One model, one prompt: stream with retries. Never raises; failures become the result's status.

    The one way the project calls a model: live runs, spot-checks and LLM judges all come through here."""
    settings = settings or RunSettings()
    result = CallResult(model_key=spec.key, started=time.monotonic())
    if not spec.has_key():
        result.status, result.error = "error", f"no API key: set {spec.key_env} in the environment or .env"
        result.ended = time.monotonic()
        if on_event:
            on_event(spec.key, "done", result)
        return result
    kwargs = completion_kwargs(spec, prompt, stream=settings.stream, extra=extra)
    if on_event:
        on_event(spec.key, "start", None)
    t0 = result.started
    failures = rate_limits = 0  # retries used: ordinary failures, and 429s (their own budget)
    rl_budget = settings.max_rate_limit_retries if settings.max_retries > 0 else 0
    while True:
        result.attempts += 1
        if limiter:
            await limiter.acquire()  # raises LimiterClosed once the run is cancelled
        failure: Failure | None = None
        try:
            await _attempt(spec, kwargs, result, on_event, t0, settings)
        except asyncio.CancelledError:
            if limiter:
                await limiter.release(False)
            raise
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes an outcome
            failure = classify(exc)
            result.status = "blocked" if failure.kind == "blocked" else "error"
            result.error = failure.message
        if limiter:
            if failure is not None and failure.kind == "rate_limit":
                await limiter.on_rate_limit(failure.retry_after)
            await limiter.release(failure is None and result.status != "error")
        if failure is None or not failure.retryable:
            break
        result.retry_statuses.append(failure.message)
        if failure.kind == "rate_limit":
            rate_limits += 1
            if rate_limits > rl_budget:
                break
        else:
            failures += 1
            if failures > settings.max_retries:
                break
        delay = _backoff(failure, failures + rate_limits - 1, settings)
        if on_event:
            on_event(spec.key, "retry", f"{failure.message} — retrying in {delay:.1f} s")
        await asyncio.sleep(delay)
    result.ended = time.monotonic()
    result.latency_ms = (result.ended - t0) * 1000
    if spec.local and result.status == "ok" and result.completion_tokens is None:
        await _count_local_usage(spec, kwargs["messages"], result)
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


def run_sync(coro):
    """Run a coroutine from synchronous code (CLI, Streamlit script thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

"""What a failed model call means: a typed decision (blocked, rate limit, transient, final) made from the
exception's type and HTTP status only, and how long to wait before the next attempt."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from blindrefusal.config import redact

if TYPE_CHECKING:
    from blindrefusal.models.runner import RunSettings

FailureKind = Literal["blocked", "rate_limit", "transient", "final"]


@dataclass(frozen=True)
class Failure:
    """What a failed attempt means for the caller (after inspect_ai's retry decision).

    kind: `blocked` (a provider's content filter: an outcome, never retried), `rate_limit` (back off and
    retry on its own budget), `transient` (timeouts, 5xx, broken connections: retry) or `final`."""

    kind: FailureKind
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
    from blindrefusal.models.runner import litellm_module

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


def backoff_delay(failure: Failure, step: int, settings: RunSettings) -> float:
    """Seconds before the next attempt: the provider's Retry-After, else jittered exponential back-off."""
    if failure.retry_after is not None:
        return failure.retry_after
    return min(settings.backoff_max_s, settings.backoff_base_s * (2 ** step)) * (0.5 + random.random())

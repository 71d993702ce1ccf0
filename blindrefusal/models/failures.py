"""What a failed model call means: a typed decision (blocked, rate limit, transient, final) made from the
exception's type and HTTP status only, and how long to wait before the next attempt."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from blindrefusal.config import redact
from vocabulary import STATUS_BLOCKED, STATUS_OK, storable

if TYPE_CHECKING:
    from blindrefusal.models.calls import RunSettings

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
    from blindrefusal.models.lm import litellm_module
    from blindrefusal.models.redirects import REDIRECT_REFUSED

    lm = litellm_module()
    status = getattr(exc, "status_code", None)
    # Redact first, then cut: a cut key would no longer match its value.
    detail = storable(redact(str(exc)) or "")[0].split("\n")[0][:300]
    if REDIRECT_REFUSED in detail:  # our own refusal to follow a redirect with a key (models/redirects.py)
        return Failure("final", f"redirect refused: {detail}")
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


@dataclass(frozen=True)
class Cause:
    """Why a stored call failed (or was blocked), in words, and what to do about it."""

    why: str
    what_to_do: str


_HTTP = re.compile(r"\((\d{3})\)")
_HTTP_ADVICE = {401: "check the key (in the environment, .env, or the key typed for the API base)",
                403: "check that the key may use this model",
                404: "check the model's name and the API base",
                429: "wait a minute and re-run the same settings (they resume), or use fewer models at once"}


def cause(status: str, error: str | None) -> Cause:
    """The cause of one failed or blocked call, read from its stored outcome and message (see `classify`)."""
    text = (error or "").strip()
    if status == STATUS_BLOCKED:
        return Cause("blocked by the provider's content filter",
                     "nothing to fix: the provider refused to answer, and that is recorded as an outcome")
    if text.startswith("no API key"):
        return Cause(text.split(":", 1)[0] + (f" ({text.split('set ', 1)[1].split(' ', 1)[0]} is not set)"
                                               if "set " in text else ""),
                     "set the key in the environment or .env and restart the app, or pick another model")
    code = _HTTP.search(text)
    if code or text.startswith("authentication failed"):
        status_code = int(code.group(1)) if code else 401
        advice = _HTTP_ADVICE.get(status_code) or ("the provider's server failed: try again later, or check that "
                                                   "the server at the API base is running" if status_code >= 500
                                                   else "read the error on an answer card")
        return Cause(f"HTTP {status_code}", advice)
    if text == "timed out":
        return Cause("timed out", "check that the server is up (the API base), then re-run the same settings")
    if text.startswith("bad request"):
        return Cause("the provider refused the request", "check the model's name and its settings (max tokens)")
    return Cause(text[:160] or "unknown error", "read the error on an answer card, then re-run the same settings")


@dataclass(frozen=True)
class ModelFailures:
    """One model's failed or blocked calls in a run, grouped by cause."""

    model: str
    failed: int
    total: int
    causes: dict[Cause, int]


def failures_by_model(rows: list[dict]) -> list[ModelFailures]:
    """Rows with model_name (or model_key), status and error -> the models whose calls failed or were blocked."""
    by_model: dict[str, list[dict]] = {}
    for r in rows:
        by_model.setdefault(r.get("model_name") or r.get("model_key") or "?", []).append(r)
    out = []
    for model, rs in by_model.items():
        bad = [r for r in rs if r.get("status") != STATUS_OK]
        if bad:
            causes: dict[Cause, int] = {}
            for r in bad:
                c = cause(r["status"], r.get("error"))
                causes[c] = causes.get(c, 0) + 1
            out.append(ModelFailures(model, len(bad), len(rs), causes))
    return out

"""How a run's pieces are recorded, shared by live runs and spot-checks: a model call's outcome as a
stored response, the models a run uses, and the heartbeat that keeps a claimed run alive."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from blindrefusal import store
from blindrefusal.models.calls import CallResult
from blindrefusal.models.presets import ModelSpec
from vocabulary import CONTROL, STATUS_OK, CallStatus, ResponseType


async def keep_alive(engine, run_id: int, owner: str) -> None:
    """Refresh a claimed run's heartbeat until cancelled, well inside STALE_AFTER: a run whose process lives is
    never marked interrupted. (Read here, not at import: `store` loads SQLAlchemy on first use.)"""
    interval_s = min(20.0, store.STALE_AFTER.total_seconds() / 4)
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(store.heartbeat, engine, run_id, owner)


class AnswerWriter:
    """Stores a run's answers as they arrive: `await write(row)` returns once the row is committed. Rows that
    arrive while a write is under way go together in the next transaction (a group commit), so answers
    landing at once cost one transaction, not a queue of them. A failed write fails the rows it held."""

    def __init__(self, engine, run_id: int, source: str, owner: str | None = None):
        self.engine, self.run_id, self.source, self.owner = engine, run_id, source, owner
        self._pending: list[tuple[store.ResponseRow, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None

    async def write(self, row: store.ResponseRow) -> int:
        """The stored response's id, once it is durable."""
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                ids = await asyncio.to_thread(store.save_responses, self.engine, self.run_id, self.source,
                                              [row for row, _ in batch], owner=self.owner)
            except Exception as exc:  # noqa: BLE001 - handed to every writer of the batch
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for (_, done), response_id in zip(batch, ids, strict=True):
                    if not done.done():
                        done.set_result(response_id)


def response_row(call: CallResult, case_id: int, model_id: int, judgment=None) -> store.ResponseRow:
    """How the store records one model call's outcome."""
    return store.ResponseRow(
        case_id=case_id, model_config_id=model_id, text=call.text, status=call.status, error=call.error,
        latency_ms=call.latency_ms, ttft_ms=call.ttft_ms, prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens, cost_usd=call.cost_usd, attempts=call.attempts, judgment=judgment,
        usage_counted=call.usage_counted, truncated=call.truncated, chars_replaced=call.chars_replaced)


def model_rows(specs: list[ModelSpec]) -> list[dict]:
    """How the store records the models a run uses."""
    return [{"key": s.key, "display_name": s.display_name, "litellm_model": s.litellm_model,
             "provider": s.provider, "params": s.params, "source": "live"} for s in specs]


@dataclass(frozen=True)
class StoredAnswer:
    """One stored response read back: the outcome of its call and its effective label (the judgment that wins
    by precedence; None while unjudged, failed or blocked)."""

    id: int
    case_id: int
    case_key: str
    family: str
    status: CallStatus
    response_type: ResponseType | None
    engages: bool | None
    harm: bool | None

    @property
    def judged(self) -> bool:
        return self.status == STATUS_OK and self.response_type is not None

    @property
    def is_control(self) -> bool:
        return self.family == CONTROL

    @classmethod
    def from_row(cls, row: store.ResponseRecord) -> "StoredAnswer":
        """From a `store.responses_for` row (the one place the core reads the `eff_*` columns)."""
        return cls(id=row["id"], case_id=row["case_id"], case_key=row["case_key"], family=row["family"],
                   status=row["status"], response_type=row.get("eff_response_type"), engages=row.get("eff_engages"),
                   harm=row.get("eff_harm"))


def stored_answers(engine, run_id: int) -> list[StoredAnswer]:
    """A run's responses, oldest first."""
    return [StoredAnswer.from_row(r) for r in store.responses_for(engine, run_id=run_id)]

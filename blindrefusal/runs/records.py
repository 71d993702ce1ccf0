"""How a run's pieces are recorded, shared by live runs and spot-checks: a model call's outcome as a
stored response, the models a run uses, and the heartbeat that keeps a claimed run alive."""

from __future__ import annotations

import asyncio

from blindrefusal import store
from blindrefusal.models.presets import ModelSpec
from blindrefusal.models.runner import CallResult


HEARTBEAT_S = 20.0  # well inside db.engine.STALE_AFTER: a run whose process lives is never marked interrupted


async def keep_alive(engine, run_id: int, owner: str) -> None:
    """Refresh a claimed run's heartbeat until cancelled."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        await asyncio.to_thread(store.heartbeat, engine, run_id, owner)


def response_row(call: CallResult, case_id: int, model_id: int, judgment=None) -> store.ResponseRow:
    """How the store records one model call's outcome."""
    return store.ResponseRow(
        case_id=case_id, model_config_id=model_id, text=call.text, status=call.status, error=call.error,
        latency_ms=call.latency_ms, ttft_ms=call.ttft_ms, prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens, cost_usd=call.cost_usd, attempts=call.attempts, judgment=judgment,
        usage_counted=call.usage_counted)


def model_rows(specs: list[ModelSpec]) -> list[dict]:
    """How the store records the models a run uses."""
    return [{"key": s.key, "display_name": s.display_name, "litellm_model": s.litellm_model,
             "provider": s.provider, "params": s.params, "source": "live"} for s in specs]

"""One guard for every paid call: a model, an LLM or paper judge, the same-judge bridge, a re-judge.

A call is paid when it is made with one of the host's keys (`ModelSpec.uses_host_key`). `call_model`, the one
way any model is called, charges each paid attempt to the server's budget (BR_MAX_PAID_CALLS per
BR_BUDGET_WINDOW_HOURS, stored in the database, so it holds across browser sessions, tabs and replicas) and
refuses it unless its caller opened a `spending` permit: the pages open one only after the demo password (and,
with sign-in, the runner role); the CLI, run by the host, opens its own."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from blindrefusal.config import budget_window_s, max_paid_calls
from blindrefusal.models.presets import ModelSpec
from vocabulary import BlindRefusalError


class SpendRefused(BlindRefusalError):
    """A paid call (or run) that may not go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class SpendPermit:
    engine: Any  # where the budget is kept
    visitor: str  # who spends: a signed-in identity, a browser session's id, or "cli"


_PERMIT: ContextVar[SpendPermit | None] = ContextVar("spend_permit", default=None)


def paid(specs: Iterable[ModelSpec]) -> list[ModelSpec]:
    """The models (or judges' models) among these that are paid for with a host key."""
    return [s for s in specs if s.uses_host_key]


@contextmanager
def spending(engine, visitor: str) -> Iterator[SpendPermit]:
    """Leave for the paid calls made inside this block (and in the tasks and threads it starts with a copy of
    this context) to be charged to the server's budget."""
    permit = SpendPermit(engine, visitor)
    token = _PERMIT.set(permit)
    try:
        yield permit
    finally:
        _PERMIT.reset(token)


def current_permit() -> SpendPermit | None:
    """The permit this code runs under (a job started inside one is run under one, wherever it runs)."""
    return _PERMIT.get()


def budget_left(engine) -> int | None:
    """Paid calls the server may still make in this window (None: no cap)."""
    from blindrefusal import store

    cap = max_paid_calls()
    return None if cap is None else max(0, cap - store.paid_calls_used(engine, budget_window_s()))


def check_budget(engine, calls: int) -> None:
    """Before a run: raise SpendRefused when the server's budget cannot cover `calls` more paid calls."""
    left = budget_left(engine)
    if left is not None and calls > left:
        raise SpendRefused(f"This run needs {calls} paid calls and the server's budget has {left} left of "
                           f"{max_paid_calls()} per {budget_window_s() / 3600:g} h (BR_MAX_PAID_CALLS). Use the local "
                           "model, a smaller run, or ask the host.")


def charge(spec: ModelSpec) -> str | None:
    """Charge one paid attempt to the budget: None to go ahead, else why it may not (the call then fails with
    that reason, and is not retried)."""
    from blindrefusal import store

    permit = _PERMIT.get()
    if permit is None:
        return (f"refused: {spec.display_name} is paid for with the host's key, and this call was not cleared by "
                "the spending guard")
    cap = max_paid_calls()
    if store.charge_paid_call(permit.engine, permit.visitor, spec.key, cap, budget_window_s()) is None:
        return f"refused: the server's budget of {cap} paid calls per {budget_window_s() / 3600:g} h is spent"
    return None

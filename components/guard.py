"""The pages' side of the spending guard (the core's is blindrefusal.models.spending): before a paid run, the
runner role (with sign-in), the demo password (APP_PASSWORD) and the server's budget; then a spending permit
around the run, so that its paid calls — models, judges, the bridge, re-judging — are charged to the budget
that every session shares."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

from blindrefusal.judges import JudgeUnavailable, get_judge
from blindrefusal.models.presets import ModelSpec
from blindrefusal.models.spending import SpendRefused, check_budget, paid, spending
from components import sign_in
from components.sign_in import can_spend, current_role, visitor_id


def judge_calls(judge_name: str | None, answers: int) -> list[ModelSpec]:
    """The calls a judge makes on `answers` answers, as specs (none for an offline judge)."""
    try:
        spec = get_judge(judge_name).spec
    except JudgeUnavailable:
        return []  # said by the page when the judge is used
    return [spec] * answers if spec is not None else []


def check(engine, calls: Iterable[ModelSpec]) -> str | None:
    """None when a run making these calls may go ahead, else the message to show."""
    paid_calls = paid(calls)
    if not paid_calls:
        return None
    if not sign_in.unlocked():
        return "This demo is password-protected for paid models and judges. Enter the password above, or use the " \
               "local model and the distilled judge."
    if not can_spend():
        return (f"Your role ({current_role()}) may not run paid models or judges: the host gives that to runners "
                "(BR_ROLES). The local model and the distilled judge still work.")
    try:
        check_budget(engine, len(paid_calls))
    except SpendRefused as exc:
        return str(exc)
    return None


@contextmanager
def permit(engine) -> Iterator[None]:
    """Paid calls made inside (and in jobs started inside) are charged to the server's budget; outside, the core
    refuses them. Open it only after `check` said yes."""
    with spending(engine, visitor_id()):
        yield


def password_box(specs: Iterable[ModelSpec]) -> None:
    """The demo password beside a run that makes paid calls (the sidebar asks for it too)."""
    if paid(specs):
        sign_in.password_box(where="run")


def change_blocked(what: str) -> str | None:
    """None when this visitor may start or cancel a job (`what`: "start a spot-check"), else the message."""
    return None if sign_in.can_run_jobs() else sign_in.change_prompt(what)

"""The writes of runs: create, claim, heartbeat and finish a run; store its responses and judgments; delete it.
Each write is one transaction that survives concurrent writers.

- Cases, models and rollup cells are upserted with INSERT … ON CONFLICT (SQLite and PostgreSQL), so
  two writers of one key never collide, and rollup increments are additive, so both count (`records`).
- A response's effective label changes only through `rollup.relabel`, which takes its old contribution out
  of the rollup and puts the new one in, under a row lock on PostgreSQL.
- Text is stored without NUL bytes (PostgreSQL cannot hold them) or lone surrogates (no UTF-8 encoder takes
  them: U+FFFD instead); `response.nul_bytes_removed` and `response.chars_replaced` say how many.
- The paper's release is written by `paper_import`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import and_, delete, func, insert, not_, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from db.engine import STALE_AFTER, StoreError, transaction
from db.records import JudgmentRow, ResponseRow
from db.rollup import bump_version, lock_responses, relabel, rollup_rows
from db.statements import chunks, clean_text, ensure_models, inserted_id, judgment_values, pk, upsert, upsert_cases
from db.tables import CellCount, Judgment, LabelClaim, Response, Run, SchemaInfo, SpendLedger, utcnow
from vocabulary import COUNT_FIELDS, HUMAN_PREFIX, storable

_RUN_HIGH_WATER = "run_id_high_water"  # schema_info key: the highest run id ever given out (SQLite)


def _insert_run(conn: Connection, **values) -> int:
    """A new run whose id was never used before, on either backend (an old `?run=` link never opens another's
    run). PostgreSQL's sequence never goes back; SQLite would reuse the highest id after a delete."""
    if conn.dialect.name == "sqlite":
        floor = conn.execute(text("SELECT CAST(value AS INTEGER) FROM schema_info WHERE key = :k"),
                             {"k": _RUN_HIGH_WATER}).scalar() or 0
        top = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM run")).scalar_one()
        values["id"] = max(floor, top) + 1
    run_id = inserted_id(conn.execute(insert(Run).values(**values)))
    if conn.dialect.name == "sqlite":
        upsert(conn, SchemaInfo, [{"key": _RUN_HIGH_WATER, "value": str(run_id)}], keys=("key",))
    return run_id


def create_run(engine: Engine, kind: str, label: str = "", case_id: int | None = None,
               params: dict | None = None, status: str = "done", claimed_by: str | None = None) -> int:
    with transaction(engine) as conn:
        return _insert_run(conn, kind=kind, label=clean_text(label), case_id=case_id,
                           params=json.dumps(params or {}, sort_keys=True), status=status, created_at=utcnow(),
                           claimed_by=claimed_by, heartbeat_at=utcnow() if claimed_by else None)


def claim_run(engine: Engine, kind: str, params_json: str, label: str, owner: str,
              fresh: bool = False) -> tuple[int, bool]:
    """Find (or create) the run of `kind` with these params and claim it for `owner`, atomically.

    Returns (run_id, claimed). `claimed` is False while another live process holds the run."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two creators of one key wait for each other
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": kind + params_json})
        run_id = None if fresh else conn.execute(text(
            "SELECT id FROM run WHERE kind = :k AND params = :p ORDER BY id DESC LIMIT 1"),
            {"k": kind, "p": params_json}).scalar()
        if run_id is None:
            return _insert_run(conn, kind=kind, label=clean_text(label), params=params_json, status="running",
                               created_at=utcnow(), claimed_by=owner, heartbeat_at=utcnow()), True
        free = or_(col(Run.claimed_by).is_(None), col(Run.claimed_by) == owner, col(Run.heartbeat_at).is_(None),
                   col(Run.heartbeat_at) < utcnow() - STALE_AFTER)
        claimed = conn.execute(update(Run).where(pk(Run.id) == run_id, free).values(
            claimed_by=owner, heartbeat_at=utcnow(), status="running")).rowcount == 1
    return run_id, claimed


def heartbeat(engine: Engine, run_id: int, owner: str) -> None:
    with transaction(engine) as conn:
        conn.execute(update(Run).where(pk(Run.id) == run_id, col(Run.claimed_by) == owner)
                     .values(heartbeat_at=utcnow()))


def set_run_gold(engine: Engine, run_id: int, gold: dict) -> None:
    """Record the gold labels a spot-check asked for ({"gold": judge or "reviewers", "gold_n": m})."""
    with transaction(engine) as conn:
        conn.execute(update(Run).where(pk(Run.id) == run_id).values(gold=json.dumps(gold, sort_keys=True)))


CLAIM_LEASE = timedelta(minutes=15)


def claim_label(engine: Engine, response_ids: Sequence[int], reviewer: str) -> int | None:
    """The first of these answers (in this order) that no reviewer has labelled and no other reviewer holds,
    claimed for `reviewer` (who keeps an answer already claimed); None when every one is labelled or held.
    One transaction, so two reviewers asking at once are handed two different answers."""
    if not response_ids:
        return None
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE label_claim IN EXCLUSIVE MODE"))
        labelled: set[int] = set()
        claims: dict[int, tuple[str, datetime]] = {}
        for chunk in chunks(list(response_ids)):
            labelled |= set(conn.execute(select(col(Judgment.response_id)).where(
                col(Judgment.response_id).in_(chunk), col(Judgment.judge).startswith(HUMAN_PREFIX),
                col(Judgment.status) == "ok")).scalars())
            claims.update({r: (who, at) for r, who, at in conn.execute(select(
                col(LabelClaim.response_id), col(LabelClaim.reviewer), col(LabelClaim.claimed_at))
                .where(col(LabelClaim.response_id).in_(chunk)))})
        stale = utcnow() - CLAIM_LEASE
        mine = next((r for r in response_ids if r not in labelled and claims.get(r, ("",))[0] == reviewer), None)
        free = mine or next((r for r in response_ids if r not in labelled
                             and (r not in claims or _naive(claims[r][1]) < _naive(stale))), None)
        if free is not None:
            conn.execute(delete(LabelClaim).where(col(LabelClaim.response_id) == free))
            conn.execute(insert(LabelClaim).values(response_id=free, reviewer=reviewer, claimed_at=utcnow()))
        return free


def _naive(at: datetime) -> datetime:
    """A stored time without its zone (SQLite hands back naive text-parsed times; PostgreSQL aware ones)."""
    return at.replace(tzinfo=None) if hasattr(at, "replace") and getattr(at, "tzinfo", None) else at


def finish_run(engine: Engine, run_id: int, status: str, owner: str | None = None) -> None:
    """Set a run's final status and release its claim."""
    with transaction(engine) as conn:
        stmt = update(Run).where(pk(Run.id) == run_id)
        if owner is not None:
            stmt = stmt.where(col(Run.claimed_by) == owner)
        conn.execute(stmt.values(status=status, claimed_by=None, heartbeat_at=None))


def save_custom_case(engine: Engine, case: dict) -> int:
    with transaction(engine) as conn:
        return upsert_cases(conn, [case])[case["key"]]


def save_models(engine: Engine, models: Sequence[dict]) -> dict[str, int]:
    """Register models a run uses (existing ones are left as they are); returns key -> id for all models."""
    with transaction(engine) as conn:
        return ensure_models(conn, models, replace=False)


def save_responses(engine: Engine, run_id: int, source: str, rows: Sequence[ResponseRow],
                   owner: str | None = None) -> list[int]:
    """Store a batch of responses (and their judgments, if any) in one transaction."""
    ids: list[int] = []
    with transaction(engine) as conn:
        if rows and conn.execute(select(pk(Run.id)).where(pk(Run.id) == run_id)).scalar() is None:
            raise StoreError(f"run {run_id} was deleted while it ran: its {len(rows)} new answers were not stored")
        for r in rows:
            ids.append(inserted_id(conn.execute(insert(Response).values(
                run_id=run_id, case_id=r.case_id, model_config_id=r.model_config_id, source=source,
                text=clean_text(r.text), nul_bytes_removed=(r.text or "").count("\x00"), status=r.status,
                chars_replaced=r.chars_replaced + storable(r.text or "")[1],
                error=clean_text(r.error), latency_ms=r.latency_ms, ttft_ms=r.ttft_ms, prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens, cost_usd=r.cost_usd, attempts=r.attempts,
                usage_counted=r.usage_counted, truncated=r.truncated, created_at=utcnow()))))
        judged = [judgment_values(rid, r.judgment) for rid, r in zip(ids, rows, strict=True) if r.judgment is not None]
        if judged:
            conn.execute(insert(Judgment), judged)
            relabel(conn, [j["response_id"] for j in judged])
        if owner is not None:
            conn.execute(update(Run).where(pk(Run.id) == run_id, col(Run.claimed_by) == owner)
                         .values(heartbeat_at=utcnow()))
    return ids


def add_judgments(engine: Engine, items: Sequence[tuple[int, JudgmentRow]], comparison_only: bool = False) -> None:
    """Attach judgments to stored responses.

    A human label replaces the same human's earlier one. On the paper's own answers a machine judge's label
    is kept for comparisons only (a spot-check's same-judge bridge): it never replaces the release's label,
    and it replaces the same judge's earlier label there, so two spot-checks bridging at once never count
    an answer twice. `comparison_only` keeps machine labels of any answer that way (a spot-check's gold
    labels), replacing the same judge's earlier one."""
    if not items:
        return
    ids = sorted({rid for rid, _ in items})
    with transaction(engine) as conn:
        lock_responses(conn, ids)
        paper: set[int] = set()
        for chunk in chunks(ids):
            paper |= {r for r, in conn.execute(select(pk(Response.id)).where(pk(Response.id).in_(chunk),
                                                                              col(Response.source) == "paper")).all()}
        replaced: dict[str, list[int]] = {}
        for rid, j in items:
            if j.judge.startswith(HUMAN_PREFIX) or rid in paper or comparison_only:
                replaced.setdefault(j.judge, []).append(rid)
        for judge, rids in replaced.items():
            for chunk in chunks(sorted(set(rids))):
                conn.execute(delete(Judgment).where(col(Judgment.judge) == judge, col(Judgment.response_id).in_(chunk)))
        conn.execute(insert(Judgment), [
            judgment_values(rid, j, comparison_only=(rid in paper or comparison_only)
                            and not j.judge.startswith(HUMAN_PREFIX))
            for rid, j in items])
        relabel(conn, ids)
        if paper:
            bump_version(conn, "paper_judgments")


def delete_runs(engine: Engine, run_ids: Sequence[int]) -> list[int]:
    """Delete live or spot-check runs with their responses and judgments (never the paper's run, never a run a
    live process is still working on). Returns the ids deleted."""
    with transaction(engine) as conn:
        busy = and_(col(Run.status) == "running", col(Run.claimed_by).is_not(None),
                    col(Run.heartbeat_at) >= utcnow() - STALE_AFTER)
        ids = [r for r, in conn.execute(select(pk(Run.id)).where(pk(Run.id).in_(list(run_ids)),
                                                                col(Run.kind) != "paper", not_(busy))).all()]
        if not ids:
            return []
        resp = [r for r, in conn.execute(select(pk(Response.id)).where(col(Response.run_id).in_(ids))).all()]
        removed = sorted(rollup_rows(conn, resp, -1), key=lambda r: (r["source"], r["case_id"], r["model_config_id"]))
        upsert(conn, CellCount, removed, keys=("source", "case_id", "model_config_id"), additive=COUNT_FIELDS)
        for chunk in chunks(resp):
            conn.execute(delete(Judgment).where(col(Judgment.response_id).in_(chunk)))
            conn.execute(delete(LabelClaim).where(col(LabelClaim.response_id).in_(chunk)))
            conn.execute(delete(Response).where(pk(Response.id).in_(chunk)))
        conn.execute(delete(Run).where(pk(Run.id).in_(ids)))
        conn.execute(text("DELETE FROM cell_count WHERE n = 0"))
    return ids


def charge_paid_call(engine: Engine, visitor: str, model: str, cap: int | None, window_s: float) -> int | None:
    """Record one paid call against the server's budget, atomically: the calls used in the window, this one
    included, or None (nothing recorded) when `cap` calls were made already. Every session and replica shares it."""
    since = utcnow() - timedelta(seconds=window_s)
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # concurrent chargers take turns (SQLite: BEGIN IMMEDIATE)
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('spend_ledger'))"))
        used = conn.execute(select(func.coalesce(func.sum(col(SpendLedger.calls)), 0))
                            .where(col(SpendLedger.at) >= since)).scalar_one()
        if cap is not None and used >= cap:
            return None
        conn.execute(insert(SpendLedger).values(at=utcnow(), visitor=clean_text(visitor)[:200],
                                                model=clean_text(model)[:200], calls=1))
        return used + 1


def paid_calls_used(engine: Engine, window_s: float) -> int:
    since = utcnow() - timedelta(seconds=window_s)
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(col(SpendLedger.calls)), 0))
                            .where(col(SpendLedger.at) >= since)).scalar_one()

"""Generated cases: the generator's attempts per cell, the cases that passed the gates, and reviewers' verdicts."""

from __future__ import annotations

import json
from typing import Sequence

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from db.engine import transaction
from db.read_cases import case_record
from db.records import CaseRecord
from db.statements import clean_text, pk, upsert_cases
from db.tables import Case, GenerationAttempt, utcnow

GENERATED = "generated"


def save_attempt(engine: Engine, run_id: int, attempt: dict, cases: Sequence[dict]) -> dict[str, int]:
    """One generator call and the cases it kept, in one transaction (a crash keeps both or neither); the kept
    cases wait for review. `attempt`: family, authority_type, status, reason, raw_output, candidates."""
    with transaction(engine) as conn:
        ids = upsert_cases(conn, [{**c, "source": GENERATED, "review": "pending"} for c in cases]) if cases else {}
        conn.execute(insert(GenerationAttempt).values(
            run_id=run_id, family=attempt["family"], authority_type=attempt["authority_type"],
            status=attempt["status"], reason=clean_text(attempt.get("reason") or ""),
            raw_output=clean_text(attempt.get("raw_output") or ""),
            candidates=clean_text(json.dumps(attempt.get("candidates") or [], ensure_ascii=False)),
            created_at=utcnow()))
    return ids


def attempts(engine: Engine, run_id: int) -> list[dict]:
    """A generation run's attempts, oldest first, candidates decoded."""
    with engine.connect() as conn:
        rows = conn.execute(select(GenerationAttempt).where(col(GenerationAttempt.run_id) == run_id)
                            .order_by(pk(GenerationAttempt.id))).all()
    return [{**dict(r._mapping), "candidates": json.loads(r.candidates or "[]")} for r in rows]


def generated_cases(engine: Engine, review: str | None = None, run_id: int | None = None) -> list[CaseRecord]:
    """Generated cases (optionally only those with this review, or from this generation run), by cell and key."""
    where, params = ["c.source = :s"], {"s": GENERATED}
    if review:
        where.append("c.review = :r")
        params["r"] = review
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT c.* FROM "case" c WHERE {" AND ".join(where)} '
                                 "ORDER BY c.family, c.authority_type, c.key"), params).all()
    cases = [case_record(r) for r in rows]
    return [c for c in cases if run_id is None or (c["provenance"] or {}).get("run_id") == run_id]


def set_review(engine: Engine, keys: Sequence[str], review: str, reviewer: str) -> int:
    """Accept or reject generated cases (by key); the reviewer and time go into the provenance. Returns how many."""
    changed = 0
    with transaction(engine) as conn:
        for key in keys:
            row = conn.execute(select(pk(Case.id), col(Case.provenance))
                               .where(col(Case.key) == key, col(Case.source) == GENERATED)).first()
            if row is None:
                continue
            prov = json.loads(row.provenance or "{}")
            prov["review"] = {"by": clean_text(reviewer), "at": utcnow().isoformat(), "verdict": review}
            changed += conn.execute(update(Case).where(pk(Case.id) == row.id).values(
                review=review, provenance=json.dumps(prov, ensure_ascii=False, sort_keys=True))).rowcount
    return changed

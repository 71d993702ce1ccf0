"""Reads of runs: History's list and one run."""

from __future__ import annotations

import json
from typing import Any, Sequence, cast

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.aggregates import REFUSAL_SQL, sql_in
from db.records import RunListing, RunRecord


def runs(engine: Engine, kinds: Sequence[str] = ("live", "spot_check"), limit: int = 100) -> list[RunListing]:
    params: dict[str, Any] = {"lim": limit}
    sql = f"""SELECT run.*, c.key AS case_key, c.user_query AS user_query, c.family AS family,
                     c.authority_type AS authority_type,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id) AS n_responses,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id AND r.eff_response_type IS NOT NULL)
                       AS n_judged,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id AND r.eff_response_type IN {REFUSAL_SQL})
                       AS n_refused
              FROM run LEFT JOIN "case" c ON c.id = run.case_id
              WHERE {sql_in('run.kind', kinds, 'k', params)} ORDER BY run.id DESC LIMIT :lim"""
    with engine.connect() as conn:
        return [cast(RunListing, _decoded(dict(r._mapping))) for r in conn.execute(text(sql), params)]


def get_run(engine: Engine, run_id: int) -> RunRecord | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM run WHERE id = :i"), {"i": run_id}).first()
    return cast(RunRecord, _decoded(dict(row._mapping))) if row else None


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A run row with its JSON columns (params, gold) decoded."""
    row["params"] = json.loads(row.get("params") or "{}")
    row["gold"] = json.loads(row["gold"]) if row.get("gold") else None
    return row

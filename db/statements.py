"""The statements every write shares: chunked IN lists, INSERT … ON CONFLICT upserts (SQLite and PostgreSQL),
cases and models by key, a judgment's values, and text either backend can hold (no NUL bytes, no lone
surrogates)."""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence, cast, overload

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.orm import Mapped
from sqlmodel import col

from db.records import DIMENSION_COLUMNS, JudgmentRow
from db.tables import Case, ModelConfig, utcnow
from vocabulary import JUDGE_PRECEDENCE, storable

CHUNK = 900  # ids per IN list (well under SQLite's and PostgreSQL's parameter limits)


def judgment_values(response_id: int, j: JudgmentRow, comparison_only: bool = False) -> dict[str, Any]:
    return {
        "response_id": response_id, "judge": j.judge, "judge_kind": j.judge_kind, "judge_version": j.judge_version,
        "precedence": 0 if comparison_only else JUDGE_PRECEDENCE.get(j.judge_kind, 0), "status": j.status,
        "response_type": j.response_type,
        "engages_with_defeat": j.engages_with_defeat, "independent_harm": j.independent_harm,
        "reasoning": clean_text(j.reasoning), "raw_output": clean_text(j.raw_output), "note": clean_text(j.note),
        "confidence": j.confidence, "created_at": utcnow(),
    }


@overload
def clean_text(value: str) -> str: ...
@overload
def clean_text(value: None) -> None: ...
def clean_text(value: str | None) -> str | None:
    """Text either backend can hold: NUL bytes removed (PostgreSQL refuses them), lone surrogates replaced with
    U+FFFD (no UTF-8 encoder takes them). The boundaries where text comes in count what they replace; this is
    the last net, for every write."""
    if not isinstance(value, str):
        return value
    return storable(value.replace("\x00", "") if "\x00" in value else value)[0]


def pk(column: int | None) -> Mapped[int]:
    """A table's `id` in a statement. SQLModel types it `Optional[int]` (None until the row is inserted), but a
    stored row's id is never NULL: the type checker is told so here, once."""
    return cast("Mapped[int]", col(column))


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT … VALUES just added."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return key[0]


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def insert_stmt(conn: Connection, table):
    """A dialect INSERT that supports ON CONFLICT."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table, rows: Sequence[dict], keys: Sequence[str], additive: Sequence[str] = ()) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE: `additive` columns add the new value, the rest replace it."""
    if not rows:
        return
    stmt = insert_stmt(conn, table)
    columns = [c for c in rows[0] if c not in keys]
    set_ = {c: (getattr(table.__table__.c, c) + getattr(stmt.excluded, c)) if c in additive
            else getattr(stmt.excluded, c)
            for c in columns}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_) if set_
                 else stmt.on_conflict_do_nothing(index_elements=list(keys)), rows)


def case_values(c: dict) -> dict:
    dims = c.get("dimensions") or {}
    values = {
        "key": c["key"], "source": c.get("source", "paper"), "family": c["family"], "subtype": c["subtype"],
        "subtype_raw": c.get("subtype_raw", ""), "authority_type": c["authority_type"],
        "authority_group": c["authority_group"], "rule": c.get("rule", ""),
        "defeat_condition": c.get("defeat_condition", ""),
        "structural_facts": json.dumps(list(c.get("structural_facts") or []), ensure_ascii=False),
        "user_query": c.get("user_query", ""), "dual_use": bool(c.get("dual_use", False)), "created_at": utcnow(),
        "review": c.get("review"),
        "provenance": json.dumps(c["provenance"], ensure_ascii=False, sort_keys=True) if c.get("provenance") else None,
    }
    for name in DIMENSION_COLUMNS:
        values[name] = str(dims.get(name, "") or "")
    return {k: clean_text(v) for k, v in values.items()}


def upsert_cases(conn: Connection, cases: Sequence[dict]) -> dict[str, int]:
    """Insert or update cases by key (the first writer's created_at stays); returns key -> id."""
    rows = [case_values(c) for c in cases]
    stmt = insert_stmt(conn, Case)
    for chunk in (rows[i:i + 500] for i in range(0, len(rows), 500)):
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={k: getattr(stmt.excluded, k) for k in chunk[0] if k not in ("key", "created_at")}),
            chunk)
    keys = [r["key"] for r in rows]
    out: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        out.update(conn.execute(select(col(Case.key), pk(Case.id))
                                .where(col(Case.key).in_(keys[start:start + CHUNK]))).all())
    return out


def ensure_models(conn: Connection, models: Sequence[dict], replace: bool = True) -> dict[str, int]:
    """Insert model configurations by key (updating them when `replace`); returns key -> id for all models."""
    rows = [{"key": m["key"], "display_name": m.get("display_name", m["key"]),
             "litellm_model": m.get("litellm_model", m["key"]), "provider": m.get("provider", ""),
             "params": json.dumps(m.get("params", {}), sort_keys=True), "source": m.get("source", "live")}
            for m in models]
    if rows:
        stmt = insert_stmt(conn, ModelConfig)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={
            k: getattr(stmt.excluded, k) for k in rows[0] if k != "key"}) if replace
            else stmt.on_conflict_do_nothing(index_elements=["key"]), rows)
    return dict(conn.execute(select(col(ModelConfig.key), pk(ModelConfig.id))).all())

"""Effective labels and the rollup. A response's effective label changes only through `relabel`, which takes its
old contribution out of the `cell_count` rollup and puts the new one in; increments are additive, so two
writers both count."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection

from db.statements import chunks, pk, upsert
from db.tables import CellCount, Response
from vocabulary import COUNT_FIELDS, PAPER_JUDGE, count_expressions

# Judgments of precedence 0 (the paper's reviewers; a machine judge's comparison labels on the paper's
# answers) are kept for agreement and same-judge comparisons only: they never become a response's label.
_BEST = ("(SELECT j.{col} FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' AND j.precedence > 0 "
         "ORDER BY j.precedence DESC, j.id DESC LIMIT 1)")
EFFECTIVE_LABELS_SQL = "UPDATE response SET " + ", ".join(
    f"{eff} = {_BEST.format(col=col)}" for eff, col in (("eff_response_type", "response_type"),
                                                       ("eff_engages", "engages_with_defeat"),
                                                       ("eff_harm", "independent_harm"), ("eff_judge", "judge")))
# The rollup holds the default label view (vocabulary.EFFECTIVE explains it): live and spot-check answers are
# counted by their effective labels, and move with every relabel; the paper's answers by the release's own
# labels, which change only when the paper is imported.
_COUNTS = count_expressions("eff_response_type", "eff_engages", "eff_harm")
_ROLLUP_SELECT = ("SELECT source, case_id, model_config_id, " + ", ".join(f"{_COUNTS[f]} AS {f}" for f in COUNT_FIELDS)
                  + " FROM response WHERE eff_response_type IS NOT NULL AND source <> 'paper'")
_ROLLUP_GROUP = " GROUP BY source, case_id, model_config_id"
_PAPER_COUNTS = count_expressions("j.response_type", "j.engages_with_defeat", "j.independent_harm")
_PAPER_ROLLUP_SELECT = (
    "SELECT r.source, r.case_id, r.model_config_id, " + ", ".join(f"{_PAPER_COUNTS[f]} AS {f}" for f in COUNT_FIELDS)
    + " FROM response r JOIN judgment j ON j.response_id = r.id AND j.judge = :paper_judge AND j.status = 'ok'"
    " WHERE r.source = 'paper' GROUP BY r.source, r.case_id, r.model_config_id")


def rollup_rows(conn: Connection, response_ids: Sequence[int], sign: int) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for chunk in chunks(response_ids):
        sql = text(_ROLLUP_SELECT + " AND id IN :ids" + _ROLLUP_GROUP).bindparams(bindparam("ids", expanding=True))
        for r in conn.execute(sql, {"ids": chunk}).mappings():
            key = (r["source"], r["case_id"], r["model_config_id"])
            slot = rows.setdefault(key, {"source": key[0], "case_id": key[1], "model_config_id": key[2],
                                         **{f: 0 for f in COUNT_FIELDS}})
            for f in COUNT_FIELDS:
                slot[f] += sign * int(r[f] or 0)
    return list(rows.values())


def _paper_labels(conn: Connection, ids: Sequence[int]) -> dict[int, tuple]:
    """The effective labels of the paper's answers among these (a bridge's comparison label leaves them)."""
    sql = text("SELECT id, eff_response_type, eff_engages, eff_harm, eff_judge FROM response "
               "WHERE source = 'paper' AND id IN :ids").bindparams(bindparam("ids", expanding=True))
    return {row[0]: tuple(row[1:]) for chunk in chunks(ids) for row in conn.execute(sql, {"ids": chunk})}


def relabel(conn: Connection, response_ids: Sequence[int]) -> None:
    """Recompute these responses' effective labels and move their rollup contribution with them."""
    ids = sorted(set(response_ids))
    if not ids:
        return
    lock_responses(conn, ids)
    paper_before = _paper_labels(conn, ids)
    delta = {(r["source"], r["case_id"], r["model_config_id"]): r for r in rollup_rows(conn, ids, -1)}
    for chunk in chunks(ids):
        conn.execute(text(EFFECTIVE_LABELS_SQL + " WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                     {"ids": chunk})
    for r in rollup_rows(conn, ids, +1):
        key = (r["source"], r["case_id"], r["model_config_id"])
        old = delta.setdefault(key, {**r, **{f: 0 for f in COUNT_FIELDS}})
        for f in COUNT_FIELDS:
            old[f] += r[f]
    if paper_before and _paper_labels(conn, ids) != paper_before:
        bump_version(conn, "labels")  # a paper answer's label moved: the corrected views' key moves with it
    # Sorted, so that concurrent writers lock rollup rows in one order (no deadlock on PostgreSQL).
    changed = [delta[k] for k in sorted(delta) if any(delta[k][f] for f in COUNT_FIELDS)]
    upsert(conn, CellCount, changed, keys=("source", "case_id", "model_config_id"), additive=COUNT_FIELDS)


def bump_version(conn: Connection, kind: str) -> None:
    """Move a data kind's version (db.versions.kinds_of), in the writer's transaction."""
    conn.execute(text("UPDATE data_version SET version = version + 1 WHERE kind = :kind"), {"kind": kind})


def rebuild_rollup(conn: Connection, source: str | None = None) -> None:
    """Recompute the rollup of one source (or all): for imports and repairs."""
    conn.execute(text("DELETE FROM cell_count" + (" WHERE source = :source" if source else "")), {"source": source})
    insert_into = f"INSERT INTO cell_count (source, case_id, model_config_id, {', '.join(COUNT_FIELDS)}) "
    if source in (None, "paper"):
        conn.execute(text(insert_into + _PAPER_ROLLUP_SELECT), {"paper_judge": PAPER_JUDGE})
    if source != "paper":
        where = " AND source = :source" if source else ""
        conn.execute(text(insert_into + _ROLLUP_SELECT + where + _ROLLUP_GROUP), {"source": source})


def lock_responses(conn: Connection, ids: Sequence[int]) -> None:
    """PostgreSQL: lock these responses' rows in id order (SQLite's BEGIN IMMEDIATE already excludes writers)."""
    if conn.dialect.name == "postgresql":
        for chunk in chunks(sorted(set(ids))):
            conn.execute(select(pk(Response.id)).where(pk(Response.id).in_(chunk)).order_by(pk(Response.id))
                         .with_for_update())

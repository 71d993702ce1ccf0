"""Reads about the store as a whole: how much it holds, which judges and models are in it, the release's prompts."""

from __future__ import annotations

from typing import Any, Sequence, cast

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.aggregates import sql_in
from db.records import PromptRecord, StoreCounts
from vocabulary import HUMAN_PREFIX, PAPER_JUDGE


def store_counts(engine: Engine) -> StoreCounts:
    sql = """SELECT (SELECT COUNT(*) FROM "case" WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM response WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM response WHERE source = 'paper' AND eff_response_type IS NOT NULL),
                    (SELECT COUNT(DISTINCT model_config_id) FROM response WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM run WHERE kind = 'live'),
                    (SELECT COUNT(*) FROM run WHERE kind = 'spot_check'),
                    (SELECT COUNT(*) FROM response
                     WHERE eff_response_type IS NULL AND status = 'ok' AND source <> 'paper')"""
    with engine.connect() as conn:
        r = conn.execute(text(sql)).one()
    return StoreCounts(paper_cases=r[0], paper_responses=r[1], paper_judged=r[2], paper_models=r[3], live_runs=r[4],
                       spot_check_runs=r[5], unjudged=r[6])


def human_labelled(engine: Engine, source: str = "paper") -> int:
    """How many answers of a source carry one of our reviewers' labels (shown only in the corrected view)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM response WHERE source = :s "
                                 f"AND eff_judge LIKE '{HUMAN_PREFIX}%'"),
                            {"s": source}).scalar() or 0


def human_changed(engine: Engine, source: str = "paper") -> int:
    """How many answers of a source a reviewer's label changed: their label differs from the paper judge's (or
    the answer had none). A reviewer who confirmed the paper's label changed nothing."""
    sql = (f"SELECT COUNT(*) FROM response r LEFT JOIN judgment j ON j.response_id = r.id AND j.judge = :pj "
           f"AND j.status = 'ok' WHERE r.source = :s AND r.eff_judge LIKE '{HUMAN_PREFIX}%' AND ("
           "COALESCE(r.eff_response_type, '') <> COALESCE(j.response_type, '') "
           "OR COALESCE(CAST(r.eff_engages AS INTEGER), -1) <> COALESCE(CAST(j.engages_with_defeat AS INTEGER), -1) "
           "OR COALESCE(CAST(r.eff_harm AS INTEGER), -1) <> COALESCE(CAST(j.independent_harm AS INTEGER), -1))")
    with engine.connect() as conn:
        return conn.execute(text(sql), {"s": source, "pj": PAPER_JUDGE}).scalar() or 0


def paper_judged(engine: Engine) -> int:
    """How many of the paper's responses carry a label (the sidebar's line)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM response WHERE source = 'paper' "
                                 "AND eff_response_type IS NOT NULL")).scalar() or 0


def run_counts(engine: Engine) -> tuple[int, int]:
    """(live runs, spot-check runs) in the store: one small read, fresh on every page."""
    with engine.connect() as conn:
        live, spot = conn.execute(text("SELECT COALESCE(SUM(CASE WHEN kind = 'live' THEN 1 ELSE 0 END), 0), "
                                       "COALESCE(SUM(CASE WHEN kind = 'spot_check' THEN 1 ELSE 0 END), 0) "
                                       "FROM run")).one()
    return int(live), int(spot)


def has_paper(engine: Engine) -> bool:
    """Whether the paper's responses are imported (a cheap check, run on every page render)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM response WHERE source = 'paper' LIMIT 1")).first() is not None


def judges_present(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT DISTINCT judge FROM judgment WHERE status = 'ok' "
                                                "ORDER BY judge"))]


def models_present(engine: Engine, sources: Sequence[str] | None = None) -> list[str]:
    params: dict[str, Any] = {}
    where = sql_in("r.source", sources, "s", params) if sources else "1 = 1"
    sql = ("SELECT DISTINCT m.key FROM model_config m JOIN response r ON r.model_config_id = m.id "
           f"WHERE {where} ORDER BY m.key")
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(sql), params)]


def model_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {k: i for k, i in conn.execute(text("SELECT key, id FROM model_config"))}


def release_prompt(engine: Engine, name: str) -> PromptRecord | None:
    """A prompt stored from the release at import ({name, sha256, text, source}), or None."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT name, sha256, text, source FROM release_prompt WHERE name = :n"),
                           {"n": name}).first()
    return cast(PromptRecord, dict(row._mapping)) if row else None

"""Reads of responses: with their judgments, what a judge reads of them, a reviewer's queue, resuming a run,
and a download's rows."""

from __future__ import annotations

from typing import Any, Sequence, cast

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.aggregates import Filters, sql_in
from db.read_cases import cell_where
from db.records import ExportRecord, JudgeInputRecord, JudgmentRecord, QueueItem, ResponseRecord
from vocabulary import HUMAN_PREFIX


def answer_clauses(params: dict[str, Any], case_ids: Sequence[int] | None, run_id: int | None,
                   source: str | None) -> list[str]:
    """WHERE clauses on responses `r` by case, run and source (each only when given)."""
    where = []
    if case_ids is not None:
        where.append(sql_in("r.case_id", case_ids, "c", params))
    if run_id is not None:
        where.append("r.run_id = :run")
        params["run"] = run_id
    if source is not None:
        where.append("r.source = :source")
        params["source"] = source
    return where


def responses_for(engine: Engine, case_id: int | None = None, run_id: int | None = None,
                  response_ids: Sequence[int] | None = None) -> list[ResponseRecord]:
    """Responses with model info, effective label and all judgments."""
    params: dict[str, Any] = {}
    where = answer_clauses(params, None if case_id is None else [case_id], run_id, None)
    if response_ids is not None:
        where.append(sql_in("r.id", response_ids, "i", params))
    sql = f"""SELECT r.*, m.key AS model_key, m.display_name AS model_name, m.provider AS provider,
                     c.key AS case_key, c.family AS family
              FROM response r JOIN model_config m ON m.id = r.model_config_id JOIN "case" c ON c.id = r.case_id
              WHERE {' AND '.join(where) or '1 = 1'} ORDER BY r.id"""
    with engine.connect() as conn:
        rows = [cast(ResponseRecord, dict(r._mapping)) for r in conn.execute(text(sql), params)]
        if rows:
            jp: dict[str, Any] = {}
            jsql = (f"SELECT * FROM judgment WHERE {sql_in('response_id', [r['id'] for r in rows], 'j', jp)} "
                    "ORDER BY precedence DESC, id DESC")
            judg: dict[int, list[JudgmentRecord]] = {}
            for j in conn.execute(text(jsql), jp):
                judg.setdefault(j.response_id, []).append(cast(JudgmentRecord, dict(j._mapping)))
            for r in rows:
                r["judgments"] = judg.get(r["id"], [])
    return rows


def answered_pairs(engine: Engine, run_id: int) -> set[tuple[int, int]]:
    """(case_id, model_config_id) already answered with status ok/blocked in a run (for resuming)."""
    with engine.connect() as conn:
        return {(c, m) for c, m in conn.execute(text(
            "SELECT case_id, model_config_id FROM response WHERE run_id = :r AND status IN ('ok', 'blocked')"),
            {"r": run_id})}


def judge_inputs(engine: Engine, response_ids: Sequence[int] | None = None, run_id: int | None = None,
                 only_unjudged: bool = True, limit: int = 100_000, case_ids: Sequence[int] | None = None,
                 model_keys: Sequence[str] | None = None, source: str | None = None,
                 not_judged_by: str | None = None, not_judged_at_version: str | None = None) -> list[JudgeInputRecord]:
    """What a judge needs for stored answers: the response's id and text, and the case's key, family,
    authority type, query, rule and defeat condition.

    By default only ok answers without a label, never the paper's own (their label is the paper's).
    `not_judged_by`: answers that this judge has not labelled yet (e.g. paper answers to bridge); with
    `not_judged_at_version`, not labelled yet at that version of the judge."""
    params: dict[str, Any] = {"lim": limit}
    where = ["r.status = 'ok'", "r.text <> ''"]
    if only_unjudged:
        where += ["r.eff_response_type IS NULL", "r.source <> 'paper'"]
    if response_ids is not None:
        where.append(sql_in("r.id", response_ids, "i", params))
    where += answer_clauses(params, case_ids, run_id, source)
    if model_keys is not None:
        where.append(sql_in("m.key", model_keys, "m", params))
    if not_judged_by is not None:
        where.append("NOT EXISTS (SELECT 1 FROM judgment nj WHERE nj.response_id = r.id AND nj.judge = :nj "
                     "AND nj.status = 'ok'" + (" AND nj.judge_version = :njv)" if not_judged_at_version else ")"))
        params["nj"] = not_judged_by
        if not_judged_at_version:
            params["njv"] = not_judged_at_version
    sql = f"""SELECT r.id, r.text, c.key AS case_key, c.family, c.authority_type, c.user_query, c.rule,
                     c.defeat_condition
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY r.id LIMIT :lim"""
    with engine.connect() as conn:
        return [cast(JudgeInputRecord, dict(r._mapping)) for r in conn.execute(text(sql), params)]


def label_queue(engine: Engine, judge: str | None, conditions: dict[str, Any] | None = None,
                filters: Filters | None = None, disagree: bool = False, limit: int = 5000,
                response_ids: Sequence[int] | None = None) -> list[QueueItem]:
    """Responses for a reviewer to work through, in a fixed order (case, model, id), each with `labelled`:
    whether `judge` (e.g. "human:ada"; None: any of our reviewers) has labelled it.

    Either one heatmap cell (`conditions` and `filters`, as cell_cases), or, with `disagree`, the paper's
    answers whose stored judgments (other than `judge`'s own) disagree on the response type, or the given
    `response_ids` (a spot-check's gold subset)."""
    params: dict[str, Any] = {"me": judge or "", "lim": limit}
    if response_ids is not None:
        where = [sql_in("r.id", response_ids, "rid", params)]
    elif disagree:
        where = ["r.source = 'paper'", "r.status = 'ok'",
                 """r.id IN (SELECT dj.response_id FROM judgment dj WHERE dj.status = 'ok' AND dj.judge <> :me
                             GROUP BY dj.response_id HAVING COUNT(DISTINCT dj.response_type) > 1)"""]
    else:
        where = cell_where(conditions or {}, filters, params)
    mine = "lj.judge = :me" if judge else f"lj.judge LIKE '{HUMAN_PREFIX}%'"
    sql = f"""SELECT r.id AS response_id, c.key AS case_key, m.key AS model_key,
                     CASE WHEN EXISTS (SELECT 1 FROM judgment lj WHERE lj.response_id = r.id AND lj.status = 'ok'
                                       AND {mine}) THEN 1 ELSE 0 END AS labelled
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY c.key, m.key, r.id LIMIT :lim"""
    with engine.connect() as conn:
        return [QueueItem(response_id=row.response_id, case_key=row.case_key, model_key=row.model_key,
                          labelled=bool(row.labelled)) for row in conn.execute(text(sql), params)]


def export_rows(engine: Engine, filters: Filters | None = None, limit: int = 100_000) -> list[ExportRecord]:
    """Response-level rows for download (no text of keys/params; marks human labels)."""
    f = filters or Filters()
    params: dict[str, Any] = {"lim": limit}
    where = ["1 = 1", *f.response_clauses(params), *f.case_model_clauses(params)]
    sql = f"""SELECT r.id AS response_id, r.run_id, r.source, c.key AS case_id, c.family, c.subtype, c.authority_type,
                     m.key AS model, r.status, r.error, r.latency_ms, r.ttft_ms, r.prompt_tokens, r.completion_tokens,
                     r.usage_counted, r.cost_usd, r.eff_response_type AS response_type,
                     r.eff_engages AS engages_with_defeat, r.eff_harm AS independent_harm, r.eff_judge AS judge,
                     CASE WHEN r.eff_judge LIKE '{HUMAN_PREFIX}%' THEN 1 ELSE 0 END AS human_label, r.text
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY r.id LIMIT :lim"""
    with engine.connect() as conn:
        return [cast(ExportRecord, dict(r._mapping)) for r in conn.execute(text(sql), params)]

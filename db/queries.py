"""Every read of records: cases, runs, responses with their judgments, the label queue, judge inputs and labels.
The label counts are `aggregates`."""

from __future__ import annotations

import json
from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Engine

from vocabulary import HUMAN_PREFIX, PAPER_JUDGE

from .aggregates import DIMENSIONS, REFUSAL_SQL, Filters, sql_in
from .records import DIMENSION_COLUMNS, JudgmentPair


def store_counts(engine: Engine) -> dict[str, int]:
    sql = """SELECT (SELECT COUNT(*) FROM "case" WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM response WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM response WHERE source = 'paper' AND eff_response_type IS NOT NULL),
                    (SELECT COUNT(DISTINCT model_config_id) FROM response WHERE source = 'paper'),
                    (SELECT COUNT(*) FROM run WHERE kind = 'live'),
                    (SELECT COUNT(*) FROM run WHERE kind = 'spot_check'),
                    (SELECT COUNT(*) FROM response WHERE eff_response_type IS NULL AND status = 'ok' AND source <> 'paper')"""
    with engine.connect() as conn:
        r = conn.execute(text(sql)).one()
    return {"paper_cases": r[0], "paper_responses": r[1], "paper_judged": r[2], "paper_models": r[3],
            "live_runs": r[4], "spot_check_runs": r[5], "unjudged": r[6]}


def human_labelled(engine: Engine, source: str = "paper") -> int:
    """How many answers of a source carry one of our reviewers' labels (shown only in the corrected view)."""
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM response WHERE source = :s AND eff_judge LIKE '{HUMAN_PREFIX}%'"),
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


def has_paper(engine: Engine) -> bool:
    """Whether the paper's responses are imported (a cheap check, run on every page render)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM response WHERE source = 'paper' LIMIT 1")).first() is not None


def judges_present(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT DISTINCT judge FROM judgment WHERE status = 'ok' ORDER BY judge"))]


def models_present(engine: Engine, sources: Sequence[str] | None = None) -> list[str]:
    params: dict = {}
    where = sql_in("r.source", sources, "s", params) if sources else "1 = 1"
    sql = f"SELECT DISTINCT m.key FROM model_config m JOIN response r ON r.model_config_id = m.id WHERE {where} ORDER BY m.key"
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(sql), params)]


def case_dict(row) -> dict:
    d = dict(row._mapping)
    d["structural_facts"] = json.loads(d.get("structural_facts") or "[]")
    d["dimensions"] = {k: d.get(k) for k in DIMENSION_COLUMNS}
    d["provenance"] = json.loads(d["provenance"]) if d.get("provenance") else None
    return d


def find_cases(engine: Engine, families: Sequence[str] | None = None, subtypes: Sequence[str] | None = None,
               authorities: Sequence[str] | None = None, search: str = "", label_model: str | None = None,
               label: str | None = None, source: str | None = "paper", dual_use: bool | None = None,
               limit: int = 200, offset: int = 0) -> tuple[list[dict], int]:
    """Cases matching filters; `label_model`+`label` keeps cases where that model's label is `label`."""
    params: dict[str, Any] = {}
    where = ["1 = 1"]
    if source:
        where.append("c.source = :source")
        params["source"] = source
    if families:
        where.append(sql_in("c.family", families, "f", params))
    if subtypes:
        where.append(sql_in("c.subtype", subtypes, "st", params))
    if authorities:
        where.append(sql_in("c.authority_type", authorities, "a", params))
    if dual_use is not None:
        where.append("c.dual_use = :du")
        params["du"] = dual_use
    for i, word in enumerate(search.lower().split()[:20]):  # every word, anywhere in the case's texts
        term = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params[f"q{i}"] = f"%{term}%"
        where.append("(" + " OR ".join(f"LOWER({col}) LIKE :q{i} ESCAPE '\\'" for col in
                                       ("c.key", "c.rule", "c.user_query", "c.defeat_condition", "c.structural_facts")) + ")")
    if label_model and label:
        params.update(lm=label_model, lab=label)
        where.append("""EXISTS (SELECT 1 FROM response r JOIN model_config m ON m.id = r.model_config_id
                        WHERE r.case_id = c.id AND m.key = :lm AND r.eff_response_type = :lab)""")
    base = f'FROM "case" c WHERE {" AND ".join(where)}'
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT COUNT(*) {base}"), params).scalar() or 0
        rows = conn.execute(text(f"SELECT c.* {base} ORDER BY c.family, c.authority_type, c.key LIMIT :lim OFFSET :off"),
                            {**params, "lim": limit, "off": offset}).all()
    return [case_dict(r) for r in rows], int(total)


def get_case(engine: Engine, key: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(text('SELECT * FROM "case" WHERE key = :k'), {"k": key}).first()
    return case_dict(row) if row else None


def get_case_by_id(engine: Engine, case_id: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(text('SELECT * FROM "case" WHERE id = :i'), {"i": case_id}).first()
    return case_dict(row) if row else None


def responses_for(engine: Engine, case_id: int | None = None, run_id: int | None = None,
                  response_ids: Sequence[int] | None = None) -> list[dict]:
    """Responses with model info, effective label and all judgments."""
    params: dict[str, Any] = {}
    where = _answer_clauses(params, None if case_id is None else [case_id], run_id, None)
    if response_ids is not None:
        where.append(sql_in("r.id", response_ids, "i", params))
    sql = f"""SELECT r.*, m.key AS model_key, m.display_name AS model_name, m.provider AS provider,
                     c.key AS case_key, c.family AS family
              FROM response r JOIN model_config m ON m.id = r.model_config_id JOIN "case" c ON c.id = r.case_id
              WHERE {' AND '.join(where) or '1 = 1'} ORDER BY r.id"""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql), params)]
        if rows:
            jp: dict[str, Any] = {}
            jsql = f"SELECT * FROM judgment WHERE {sql_in('response_id', [r['id'] for r in rows], 'j', jp)} ORDER BY precedence DESC, id DESC"
            judg: dict[int, list[dict]] = {}
            for j in conn.execute(text(jsql), jp):
                judg.setdefault(j.response_id, []).append(dict(j._mapping))
            for r in rows:
                r["judgments"] = judg.get(r["id"], [])
    return rows


def _cell_where(conditions: dict[str, Any], filters: Filters | None, params: dict) -> list[str]:
    """WHERE clauses (aliases r, c, m) for the judged responses of one heatmap cell."""
    f = filters or Filters()
    where = ["r.eff_response_type IS NOT NULL", *f.response_clauses(params), *f.case_model_clauses(params)]
    for i, (dim, value) in enumerate(conditions.items()):
        where.append(f"{DIMENSIONS[dim].replace('a.source', 'r.source')} = :c{i}")
        params[f"c{i}"] = value
    return where


def cell_cases(engine: Engine, conditions: dict[str, Any], filters: Filters | None = None, limit: int = 500) -> list[dict]:
    """Cases in one heatmap cell with every model's label: [{case..., labels: {model_key: label}}]."""
    params: dict[str, Any] = {}
    where = _cell_where(conditions, filters, params)
    sql = f"""SELECT c.id, c.key, c.family, c.subtype, c.authority_type, c.rule, m.key AS model_key, r.eff_response_type
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY c.key"""
    cases: dict[int, dict] = {}
    with engine.connect() as conn:
        for row in conn.execute(text(sql), params):
            entry = cases.setdefault(row.id, {"id": row.id, "key": row.key, "family": row.family, "subtype": row.subtype,
                                              "authority_type": row.authority_type, "rule": row.rule, "labels": {}})
            entry["labels"][row.model_key] = row.eff_response_type
            if len(cases) > limit:
                break
    return list(cases.values())[:limit]


def label_queue(engine: Engine, judge: str | None, conditions: dict[str, Any] | None = None,
                filters: Filters | None = None, disagree: bool = False, limit: int = 5000,
                response_ids: Sequence[int] | None = None) -> list[dict]:
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
        where = _cell_where(conditions or {}, filters, params)
    mine = "lj.judge = :me" if judge else f"lj.judge LIKE '{HUMAN_PREFIX}%'"
    sql = f"""SELECT r.id AS response_id, c.key AS case_key, m.key AS model_key,
                     CASE WHEN EXISTS (SELECT 1 FROM judgment lj WHERE lj.response_id = r.id AND lj.status = 'ok'
                                       AND {mine}) THEN 1 ELSE 0 END AS labelled
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY c.key, m.key, r.id LIMIT :lim"""
    with engine.connect() as conn:
        return [{"response_id": row.response_id, "case_key": row.case_key, "model_key": row.model_key,
                 "labelled": bool(row.labelled)} for row in conn.execute(text(sql), params)]


def runs(engine: Engine, kinds: Sequence[str] = ("live", "spot_check"), limit: int = 100) -> list[dict]:
    params: dict[str, Any] = {"lim": limit}
    sql = f"""SELECT run.*, c.key AS case_key, c.user_query AS user_query, c.family AS family,
                     c.authority_type AS authority_type,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id) AS n_responses,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id AND r.eff_response_type IS NOT NULL) AS n_judged,
                     (SELECT COUNT(*) FROM response r WHERE r.run_id = run.id AND r.eff_response_type IN {REFUSAL_SQL}) AS n_refused
              FROM run LEFT JOIN "case" c ON c.id = run.case_id
              WHERE {sql_in('run.kind', kinds, 'k', params)} ORDER BY run.id DESC LIMIT :lim"""
    with engine.connect() as conn:
        out = [dict(r._mapping) for r in conn.execute(text(sql), params)]
    for r in out:
        r["params"] = json.loads(r.get("params") or "{}")
    return out


def get_run(engine: Engine, run_id: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM run WHERE id = :i"), {"i": run_id}).first()
    if not row:
        return None
    d = dict(row._mapping)
    d["params"] = json.loads(d.get("params") or "{}")
    d["gold"] = json.loads(d["gold"]) if d.get("gold") else None
    return d


def model_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {k: i for k, i in conn.execute(text("SELECT key, id FROM model_config"))}


def answered_pairs(engine: Engine, run_id: int) -> set[tuple[int, int]]:
    """(case_id, model_config_id) already answered with status ok/blocked in a run (for resuming)."""
    with engine.connect() as conn:
        return {(c, m) for c, m in conn.execute(text(
            "SELECT case_id, model_config_id FROM response WHERE run_id = :r AND status IN ('ok', 'blocked')"), {"r": run_id})}


def avg_paper_usage(engine: Engine, case_ids: Sequence[int]) -> tuple[float, float]:
    """(mean prompt tokens, mean completion tokens) of the paper's responses to these cases (0 when unknown)."""
    if not case_ids:
        return 0.0, 0.0
    params: dict[str, Any] = {}
    sql = ("SELECT AVG(prompt_tokens), AVG(completion_tokens) FROM response "
           f"WHERE source = 'paper' AND {sql_in('case_id', case_ids, 'c', params)}")
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).one()
    return float(row[0] or 0), float(row[1] or 0)


def _answer_clauses(params: dict, case_ids: Sequence[int] | None, run_id: int | None, source: str | None) -> list[str]:
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


def judge_inputs(engine: Engine, response_ids: Sequence[int] | None = None, run_id: int | None = None,
                 only_unjudged: bool = True, limit: int = 100_000, case_ids: Sequence[int] | None = None,
                 model_keys: Sequence[str] | None = None, source: str | None = None,
                 not_judged_by: str | None = None, not_judged_at_version: str | None = None) -> list[dict]:
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
    where += _answer_clauses(params, case_ids, run_id, source)
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
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


Verdict = tuple[str, "bool | None", "bool | None"]  # (response_type, engages_with_defeat, independent_harm)


def judge_verdicts(engine: Engine, judge: str, case_ids: Sequence[int] | None = None, run_id: int | None = None,
                   source: str | None = None, prefix: bool = False) -> dict[str, dict[int, Verdict]]:
    """{model key: {case_id: (response_type, engages, harm)}} by one judge (its newest ok label of the newest
    answer per case); `prefix`: by every judge whose name starts with `judge` (e.g. all our reviewers)."""
    params: dict[str, Any] = {"judge": judge + "%" if prefix else judge}
    where = ["1 = 1", *_answer_clauses(params, case_ids, run_id, source)]
    sql = f"""SELECT m.key, r.case_id, j.response_type, j.engages_with_defeat, j.independent_harm
              FROM response r JOIN model_config m ON m.id = r.model_config_id
              JOIN judgment j ON j.response_id = r.id AND j.judge {'LIKE' if prefix else '='} :judge AND j.status = 'ok'
              WHERE {' AND '.join(where)} ORDER BY r.id, j.id"""
    out: dict[str, dict[int, Verdict]] = {}
    with engine.connect() as conn:
        for key, cid, rt, engages, harm in conn.execute(text(sql), params):
            out.setdefault(key, {})[cid] = (rt, None if engages is None else bool(engages),
                                            None if harm is None else bool(harm))
    return out


def judge_labels(engine: Engine, judge: str, case_ids: Sequence[int] | None = None, run_id: int | None = None,
                 source: str | None = None) -> dict[str, dict[int, str]]:
    """{model key: {case_id: response_type}} by one judge (see judge_verdicts)."""
    return {key: {cid: v[0] for cid, v in by_case.items()}
            for key, by_case in judge_verdicts(engine, judge, case_ids, run_id, source).items()}


def comparison_judges(engine: Engine, run_id: int) -> list[str]:
    """The judges whose labels on this run's answers are kept for comparison only (a spot-check's gold labels)."""
    sql = """SELECT DISTINCT j.judge FROM judgment j JOIN response r ON r.id = j.response_id
             WHERE r.run_id = :run AND j.precedence = 0 AND j.status = 'ok' ORDER BY j.judge"""
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(sql), {"run": run_id})]


def paired_labels(engine: Engine, case_ids: Sequence[int]) -> dict[str, dict[int, str]]:
    """{paper model key: {case_id: the release's response_type}} for the given cases (the paper's own labels)."""
    return judge_labels(engine, PAPER_JUDGE, case_ids, source="paper")


def release_prompt(engine: Engine, name: str) -> dict | None:
    """A prompt stored from the release at import ({name, sha256, text, source}), or None."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT name, sha256, text, source FROM release_prompt WHERE name = :n"),
                           {"n": name}).first()
    return dict(row._mapping) if row else None


def judgment_pairs(engine: Engine, judge_a: str, judge_b: str) -> list[JudgmentPair]:
    """Responses judged by both judges: their two sets of labels and the response's case."""
    sql = """SELECT a.response_type, a.engages_with_defeat, a.independent_harm,
                    b.response_type, b.engages_with_defeat, b.independent_harm, r.case_id
             FROM judgment a JOIN judgment b ON a.response_id = b.response_id JOIN response r ON r.id = a.response_id
             WHERE a.judge = :ja AND b.judge = :jb AND a.status = 'ok' AND b.status = 'ok'"""
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"ja": judge_a, "jb": judge_b}).all()
    keys = ("response_type", "engages_with_defeat", "independent_harm")
    return [JudgmentPair(dict(zip(keys, r[:3])), dict(zip(keys, r[3:6])), r[6]) for r in rows]


def export_rows(engine: Engine, filters: Filters | None = None, limit: int = 100_000) -> list[dict]:
    """Response-level rows for download (no text of keys/params; marks human labels)."""
    f = filters or Filters()
    params: dict[str, Any] = {"lim": limit}
    where = ["1 = 1", *f.response_clauses(params), *f.case_model_clauses(params)]
    sql = f"""SELECT r.id AS response_id, r.run_id, r.source, c.key AS case_id, c.family, c.subtype, c.authority_type,
                     m.key AS model, r.status, r.error, r.latency_ms, r.ttft_ms, r.prompt_tokens, r.completion_tokens, r.usage_counted,
                     r.cost_usd, r.eff_response_type AS response_type, r.eff_engages AS engages_with_defeat,
                     r.eff_harm AS independent_harm, r.eff_judge AS judge,
                     CASE WHEN r.eff_judge LIKE '{HUMAN_PREFIX}%' THEN 1 ELSE 0 END AS human_label, r.text
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY r.id LIMIT :lim"""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]

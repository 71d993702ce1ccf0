"""Reads of cases: by filters and search, by key or id, one heatmap cell's cases, the paper's usage on them."""

from __future__ import annotations

import json
from typing import Any, Sequence, cast

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.aggregates import DIMENSIONS, Filters, sql_in
from db.records import DIMENSION_COLUMNS, CaseRecord, CellCase


def case_record(row: Any) -> CaseRecord:
    """A `"case"` row as its record: the JSON columns decoded, the dimensions gathered."""
    d = dict(row._mapping)
    d["structural_facts"] = json.loads(d.get("structural_facts") or "[]")
    d["dimensions"] = {k: d.get(k) for k in DIMENSION_COLUMNS}
    d["provenance"] = json.loads(d["provenance"]) if d.get("provenance") else None
    return cast(CaseRecord, d)


def find_cases(engine: Engine, families: Sequence[str] | None = None, subtypes: Sequence[str] | None = None,
               authorities: Sequence[str] | None = None, search: str = "", label_model: str | None = None,
               label: str | None = None, source: str | None = "paper", dual_use: bool | None = None,
               limit: int = 200, offset: int = 0) -> tuple[list[CaseRecord], int]:
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
                                       ("c.key", "c.rule", "c.user_query", "c.defeat_condition",
                                        "c.structural_facts")) + ")")
    if label_model and label:
        params.update(lm=label_model, lab=label)
        where.append("""EXISTS (SELECT 1 FROM response r JOIN model_config m ON m.id = r.model_config_id
                        WHERE r.case_id = c.id AND m.key = :lm AND r.eff_response_type = :lab)""")
    base = f'FROM "case" c WHERE {" AND ".join(where)}'
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT COUNT(*) {base}"), params).scalar() or 0
        rows = conn.execute(text(f"SELECT c.* {base} ORDER BY c.family, c.authority_type, c.key "
                                 "LIMIT :lim OFFSET :off"),
                            {**params, "lim": limit, "off": offset}).all()
    return [case_record(r) for r in rows], int(total)


def get_case(engine: Engine, key: str) -> CaseRecord | None:
    with engine.connect() as conn:
        row = conn.execute(text('SELECT * FROM "case" WHERE key = :k'), {"k": key}).first()
    return case_record(row) if row else None


def get_case_by_id(engine: Engine, case_id: int) -> CaseRecord | None:
    with engine.connect() as conn:
        row = conn.execute(text('SELECT * FROM "case" WHERE id = :i'), {"i": case_id}).first()
    return case_record(row) if row else None


def cell_where(conditions: dict[str, Any], filters: Filters | None, params: dict[str, Any]) -> list[str]:
    """WHERE clauses (aliases r, c, m) for the judged responses of one heatmap cell."""
    f = filters or Filters()
    where = ["r.eff_response_type IS NOT NULL", *f.response_clauses(params), *f.case_model_clauses(params)]
    for i, (dim, value) in enumerate(conditions.items()):
        where.append(f"{DIMENSIONS[dim].replace('a.source', 'r.source')} = :c{i}")
        params[f"c{i}"] = value
    return where


def cell_cases(engine: Engine, conditions: dict[str, Any], filters: Filters | None = None,
               limit: int = 500) -> list[CellCase]:
    """Cases in one heatmap cell with every model's label: [{case..., labels: {model_key: label}}]."""
    params: dict[str, Any] = {}
    where = cell_where(conditions, filters, params)
    sql = f"""SELECT c.id, c.key, c.family, c.subtype, c.authority_type, c.rule, m.key AS model_key, r.eff_response_type
              FROM response r JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
              WHERE {' AND '.join(where)} ORDER BY c.key"""
    cases: dict[int, CellCase] = {}
    with engine.connect() as conn:
        for row in conn.execute(text(sql), params):
            entry = cases.setdefault(row.id, CellCase(id=row.id, key=row.key, family=row.family, subtype=row.subtype,
                                                      authority_type=row.authority_type, rule=row.rule, labels={}))
            entry["labels"][row.model_key] = row.eff_response_type
            if len(cases) > limit:
                break
    return list(cases.values())[:limit]


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

"""Every write the project makes. Bulk paths use executemany inside one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from .models import JUDGE_PRECEDENCE, Case, Judgment, ModelConfig, Response, Run, utcnow

PAPER_JUDGE = "gpt-5.4 (paper)"
REVIEWER_PREFIX = "reviewer:"  # the paper's human validators, e.g. "reviewer:lorenzo (paper)"
DIMENSION_COLUMNS = (
    "kind_of_rule", "harm_to_others", "legality", "stakes_if_caught",
    "compliance_ecology", "user_positionality", "evasion_type",
)


@dataclass
class JudgmentRow:
    """A judgment to store. `status='failed'` keeps the raw output and leaves the response unjudged."""

    judge: str
    judge_kind: str
    judge_version: str = ""
    status: str = "ok"
    response_type: str | None = None
    engages_with_defeat: bool | None = None
    independent_harm: bool | None = None
    reasoning: str = ""
    raw_output: str = ""
    note: str = ""


@dataclass
class ResponseRow:
    case_id: int
    model_config_id: int
    text: str
    status: str = "ok"
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    attempts: int = 1
    judgment: JudgmentRow | None = None


def _case_values(c: dict) -> dict:
    dims = c.get("dimensions") or {}
    values = {
        "key": c["key"], "source": c.get("source", "paper"), "family": c["family"], "subtype": c["subtype"],
        "subtype_raw": c.get("subtype_raw", ""), "authority_type": c["authority_type"],
        "authority_group": c["authority_group"], "rule": c.get("rule", ""),
        "defeat_condition": c.get("defeat_condition", ""),
        "structural_facts": json.dumps(list(c.get("structural_facts") or []), ensure_ascii=False),
        "user_query": c.get("user_query", ""), "dual_use": bool(c.get("dual_use", False)),
    }
    for col in DIMENSION_COLUMNS:
        values[col] = str(dims.get(col, "") or "")
    return values


def upsert_cases(conn: Connection, cases: Sequence[dict]) -> dict[str, int]:
    """Insert or update cases by key; returns key -> id."""
    existing = dict(conn.execute(select(Case.key, Case.id)).all())
    new_rows, upd_rows = [], []
    for c in cases:
        values = _case_values(c)
        if values["key"] in existing:
            values["_id"] = existing[values["key"]]
            upd_rows.append(values)
        else:
            values["created_at"] = utcnow()
            new_rows.append(values)
    if new_rows:
        conn.execute(insert(Case), new_rows)
    if upd_rows:
        cols = [k for k in upd_rows[0] if k not in ("_id", "key")]
        conn.execute(
            text('UPDATE "case" SET ' + ", ".join(f"{k} = :{k}" for k in cols) + " WHERE id = :_id"), upd_rows
        )
    return dict(conn.execute(select(Case.key, Case.id)).all())


def upsert_models(conn: Connection, models: Sequence[dict]) -> dict[str, int]:
    """Insert or update model configurations by key; returns key -> id."""
    existing = dict(conn.execute(select(ModelConfig.key, ModelConfig.id)).all())
    for m in models:
        values = {
            "key": m["key"], "display_name": m.get("display_name", m["key"]),
            "litellm_model": m.get("litellm_model", m["key"]), "provider": m.get("provider", ""),
            "params": json.dumps(m.get("params", {}), sort_keys=True), "source": m.get("source", "live"),
        }
        if m["key"] in existing:
            conn.execute(update(ModelConfig).where(ModelConfig.id == existing[m["key"]]).values(**values))
        else:
            conn.execute(insert(ModelConfig).values(**values))
    return dict(conn.execute(select(ModelConfig.key, ModelConfig.id)).all())


def refresh_effective_labels(conn: Connection, response_ids: Iterable[int] | None = None, run_id: int | None = None) -> None:
    """Materialise each response's label from its highest-precedence successful judgment."""
    sql = """
        UPDATE response SET
          eff_response_type = (SELECT j.response_type FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' ORDER BY j.precedence DESC, j.id DESC LIMIT 1),
          eff_engages = (SELECT j.engages_with_defeat FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' ORDER BY j.precedence DESC, j.id DESC LIMIT 1),
          eff_harm = (SELECT j.independent_harm FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' ORDER BY j.precedence DESC, j.id DESC LIMIT 1),
          eff_judge = (SELECT j.judge FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' ORDER BY j.precedence DESC, j.id DESC LIMIT 1)
    """
    if response_ids is not None:
        ids = list(response_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            params = {f"r{i}": rid for i, rid in enumerate(chunk)}
            conn.execute(text(sql + " WHERE id IN (" + ",".join(":" + k for k in params) + ")"), params)
    elif run_id is not None:
        conn.execute(text(sql + " WHERE run_id = :run_id"), {"run_id": run_id})
    else:
        conn.execute(text(sql))


_ROLLUP_SELECT = """
    SELECT source, case_id, model_config_id, COUNT(*),
           SUM(CASE WHEN eff_response_type = 'helps' THEN 1 ELSE 0 END),
           SUM(CASE WHEN eff_response_type = 'deflects' THEN 1 ELSE 0 END),
           SUM(CASE WHEN eff_response_type = 'hard_refusal' THEN 1 ELSE 0 END),
           SUM(CASE WHEN eff_engages THEN 1 ELSE 0 END),
           SUM(CASE WHEN eff_response_type <> 'helps' AND NOT eff_engages AND NOT eff_harm THEN 1 ELSE 0 END),
           SUM(CASE WHEN eff_response_type <> 'helps' AND eff_engages THEN 1 ELSE 0 END)
    FROM response WHERE eff_response_type IS NOT NULL"""
_ROLLUP_INSERT = "INSERT INTO cell_count (source, case_id, model_config_id, n, helps, deflects, hard, engages, blind, refeng) "


def refresh_rollup(conn: Connection, response_ids: Sequence[int] | None = None, source: str | None = None) -> None:
    """Recompute cell_count rows touched by these responses (or a whole source, or everything)."""
    if response_ids is None:
        where = " AND source = :source" if source else ""
        conn.execute(text("DELETE FROM cell_count" + (" WHERE source = :source" if source else "")), {"source": source})
        conn.execute(text(_ROLLUP_INSERT + _ROLLUP_SELECT + where + " GROUP BY source, case_id, model_config_id"),
                     {"source": source})
        return
    keys: set[tuple] = set()
    ids = list(response_ids)
    for start in range(0, len(ids), 500):
        chunk = {f"r{i}": rid for i, rid in enumerate(ids[start:start + 500])}
        keys.update(tuple(r) for r in conn.execute(text(
            "SELECT DISTINCT source, case_id, model_config_id FROM response WHERE id IN ("
            + ",".join(":" + k for k in chunk) + ")"), chunk))
    if not keys:
        return
    params = [{"s": s, "c": c, "m": m} for s, c, m in keys]
    conn.execute(text("DELETE FROM cell_count WHERE source = :s AND case_id = :c AND model_config_id = :m"), params)
    conn.execute(text(_ROLLUP_INSERT + _ROLLUP_SELECT + " AND source = :s AND case_id = :c AND model_config_id = :m"
                      " GROUP BY source, case_id, model_config_id"), params)


def _judgment_values(response_id: int, j: JudgmentRow) -> dict:
    return {
        "response_id": response_id, "judge": j.judge, "judge_kind": j.judge_kind, "judge_version": j.judge_version,
        "precedence": JUDGE_PRECEDENCE.get(j.judge_kind, 0), "status": j.status, "response_type": j.response_type,
        "engages_with_defeat": j.engages_with_defeat, "independent_harm": j.independent_harm,
        "reasoning": j.reasoning, "raw_output": j.raw_output, "note": j.note, "created_at": utcnow(),
    }


def import_paper(engine: Engine, cases: Sequence[dict], models: Sequence[dict], responses: Sequence[dict],
                 judgments: Sequence[dict], reviews: Sequence[dict] = (),
                 progress: Callable[[str], None] | None = None) -> dict:
    """Atomically (one transaction) replace the paper's responses and paper judgments.

    Idempotent: cases and models are upserted by key, paper responses are matched on
    (case, model) and updated in place, so human labels on them survive a re-import.
    `responses`: dicts with case_key, model_key and Response fields.
    `judgments`: dicts with case_key, model_key and the three labels plus reasoning.
    """
    say = progress or (lambda _msg: None)
    with engine.begin() as conn:
        say("cases")
        case_ids = upsert_cases(conn, cases)
        model_ids = upsert_models(conn, models)
        run_id = conn.execute(select(Run.id).where(Run.kind == "paper")).scalar()
        if run_id is None:
            run_id = conn.execute(insert(Run).values(kind="paper", label="Paper release (GPT-5.4 judge)",
                                                      params="{}", status="done", created_at=utcnow())).inserted_primary_key[0]
        existing = {(c, m): rid for rid, c, m in conn.execute(
            select(Response.id, Response.case_id, Response.model_config_id).where(Response.run_id == run_id)).all()}
        say("responses")
        new_rows, upd_rows = [], []
        for r in responses:
            cid, mid = case_ids[r["case_key"]], model_ids[r["model_key"]]
            values = {
                "text": r["text"], "status": r["status"], "error": r.get("error"),
                "prompt_tokens": r.get("prompt_tokens"), "completion_tokens": r.get("completion_tokens"),
            }
            if (cid, mid) in existing:
                values["_id"] = existing[(cid, mid)]
                upd_rows.append(values)
            else:
                values.update(run_id=run_id, case_id=cid, model_config_id=mid, source="paper", attempts=1,
                              created_at=utcnow(), latency_ms=None, ttft_ms=None, cost_usd=None)
                new_rows.append(values)
        if new_rows:
            conn.execute(insert(Response), new_rows)
        if upd_rows:
            conn.execute(text("UPDATE response SET text=:text, status=:status, error=:error, "
                              "prompt_tokens=:prompt_tokens, completion_tokens=:completion_tokens WHERE id=:_id"), upd_rows)
        kept = {(case_ids[r["case_key"]], model_ids[r["model_key"]]) for r in responses}
        stale = [rid for key, rid in existing.items() if key not in kept]
        for start in range(0, len(stale), 500):  # responses that left the release go, with their judgments
            chunk = stale[start:start + 500]
            conn.execute(delete(Judgment).where(Judgment.response_id.in_(chunk)))
            conn.execute(delete(Response).where(Response.id.in_(chunk)))
        resp_ids = {(c, m): rid for rid, c, m in conn.execute(
            select(Response.id, Response.case_id, Response.model_config_id).where(Response.run_id == run_id)).all()}
        say("judgments")
        conn.execute(delete(Judgment).where(Judgment.judge == PAPER_JUDGE))
        rows = []
        for j in judgments:
            rid = resp_ids.get((case_ids[j["case_key"]], model_ids[j["model_key"]]))
            if rid is None:
                raise ValueError(f"judgment without a response: {j['case_key']} / {j['model_key']}")
            rows.append(_judgment_values(rid, JudgmentRow(
                judge=PAPER_JUDGE, judge_kind="paper", judge_version=j.get("evaluator", ""),
                response_type=j["response_type"], engages_with_defeat=j["engages_with_defeat"],
                independent_harm=j["independent_harm"], reasoning=j.get("reasoning", ""))))
        n_paper_judgments = len(rows)
        conn.execute(delete(Judgment).where(Judgment.judge_kind == "reviewer"))
        for rv in reviews:
            rid = resp_ids.get((case_ids[rv["case_key"]], model_ids[rv["model_key"]]))
            if rid is not None:
                rows.append(_judgment_values(rid, JudgmentRow(
                    judge=f"{REVIEWER_PREFIX}{rv['reviewer']} (paper)", judge_kind="reviewer", judge_version="paper",
                    response_type=rv["response_type"], engages_with_defeat=rv["engages_with_defeat"],
                    independent_harm=rv["independent_harm"], reasoning=rv.get("note", ""), note=rv.get("note", ""))))
        if rows:
            conn.execute(insert(Judgment), rows)
        say("labels")
        refresh_effective_labels(conn, run_id=run_id)
        refresh_rollup(conn, source="paper")
    return {"run_id": run_id, "cases": len(case_ids), "responses": len(resp_ids), "judgments": n_paper_judgments,
            "reviewer_labels": len(rows) - n_paper_judgments}


def create_run(engine: Engine, kind: str, label: str = "", case_id: int | None = None,
               params: dict | None = None, status: str = "done") -> int:
    with engine.begin() as conn:
        return conn.execute(insert(Run).values(kind=kind, label=label, case_id=case_id,
                                               params=json.dumps(params or {}, sort_keys=True),
                                               status=status, created_at=utcnow())).inserted_primary_key[0]


def set_run_status(engine: Engine, run_id: int, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == run_id).values(status=status))


def save_custom_case(engine: Engine, case: dict) -> int:
    with engine.begin() as conn:
        return upsert_cases(conn, [case])[case["key"]]


def save_responses(engine: Engine, run_id: int, source: str, rows: Sequence[ResponseRow]) -> list[int]:
    """Store a batch of responses (and their judgments, if any) in one transaction."""
    ids: list[int] = []
    with engine.begin() as conn:
        for r in rows:
            rid = conn.execute(insert(Response).values(
                run_id=run_id, case_id=r.case_id, model_config_id=r.model_config_id, source=source, text=r.text,
                status=r.status, error=r.error, latency_ms=r.latency_ms, ttft_ms=r.ttft_ms,
                prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens, cost_usd=r.cost_usd,
                attempts=r.attempts, created_at=utcnow())).inserted_primary_key[0]
            ids.append(rid)
        judg = [_judgment_values(rid, r.judgment) for rid, r in zip(ids, rows) if r.judgment is not None]
        if judg:
            conn.execute(insert(Judgment), judg)
            refresh_effective_labels(conn, response_ids=ids)
            refresh_rollup(conn, response_ids=ids)
    return ids


def add_judgments(engine: Engine, items: Sequence[tuple[int, JudgmentRow]]) -> None:
    """Attach judgments to stored responses. A human label replaces the same human's earlier one."""
    if not items:
        return
    with engine.begin() as conn:
        for rid, j in items:
            if j.judge_kind == "human":
                conn.execute(delete(Judgment).where(Judgment.response_id == rid, Judgment.judge == j.judge))
        conn.execute(insert(Judgment), [_judgment_values(rid, j) for rid, j in items])
        refresh_effective_labels(conn, response_ids=[rid for rid, _ in items])
        refresh_rollup(conn, response_ids=[rid for rid, _ in items])


def delete_runs(engine: Engine, run_ids: Sequence[int]) -> None:
    """Delete live or spot-check runs with their responses and judgments (never the paper's run)."""
    with engine.begin() as conn:
        rows = conn.execute(select(Run.id, Run.kind).where(Run.id.in_(list(run_ids)), Run.kind != "paper")).all()
        if not rows:
            return
        ids = [r for r, _ in rows]
        resp = select(Response.id).where(Response.run_id.in_(ids))
        conn.execute(delete(Judgment).where(Judgment.response_id.in_(resp)))
        conn.execute(delete(Response).where(Response.run_id.in_(ids)))
        conn.execute(delete(Run).where(Run.id.in_(ids)))
        for kind in {k for _, k in rows}:
            refresh_rollup(conn, source=kind)

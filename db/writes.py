"""Every write the project makes, each in one transaction that survives concurrent writers.

- Cases, models and rollup cells are upserted with INSERT … ON CONFLICT (SQLite and PostgreSQL), so
  two writers of one key never collide, and rollup increments are additive, so both count.
- A response's effective label changes only through `_relabel`, which takes its old contribution out
  of the rollup and puts the new one in, under a row lock on PostgreSQL.
- Text is stored without NUL bytes (PostgreSQL cannot hold them); `response.nul_bytes_removed` says how many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from vocabulary import COUNT_FIELDS, HUMAN_PREFIX, JUDGE_PRECEDENCE, PAPER_JUDGE, REVIEWER_PREFIX, count_expressions

from .engine import STALE_AFTER, transaction
from .models import Case, CellCount, Judgment, ModelConfig, ReleasePrompt, Response, Run, utcnow

DIMENSION_COLUMNS = (
    "kind_of_rule", "harm_to_others", "legality", "stakes_if_caught",
    "compliance_ecology", "user_positionality", "evasion_type",
)
_CHUNK = 900  # ids per IN list (well under SQLite's and PostgreSQL's parameter limits)


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
    usage_counted: bool = False  # the token counts were counted by us, not reported by the provider


def _clean(value: str | None) -> str | None:
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _insert(conn: Connection, table):
    """A dialect INSERT that supports ON CONFLICT."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _upsert(conn: Connection, table, rows: Sequence[dict], keys: Sequence[str], additive: Sequence[str] = ()) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE: `additive` columns add the new value, the rest replace it."""
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = [c for c in rows[0] if c not in keys]
    set_ = {c: (getattr(table.__table__.c, c) + getattr(stmt.excluded, c)) if c in additive else getattr(stmt.excluded, c)
            for c in columns}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_) if set_
                 else stmt.on_conflict_do_nothing(index_elements=list(keys)), rows)


def _case_values(c: dict) -> dict:
    dims = c.get("dimensions") or {}
    values = {
        "key": c["key"], "source": c.get("source", "paper"), "family": c["family"], "subtype": c["subtype"],
        "subtype_raw": c.get("subtype_raw", ""), "authority_type": c["authority_type"],
        "authority_group": c["authority_group"], "rule": c.get("rule", ""),
        "defeat_condition": c.get("defeat_condition", ""),
        "structural_facts": json.dumps(list(c.get("structural_facts") or []), ensure_ascii=False),
        "user_query": c.get("user_query", ""), "dual_use": bool(c.get("dual_use", False)), "created_at": utcnow(),
    }
    for col in DIMENSION_COLUMNS:
        values[col] = str(dims.get(col, "") or "")
    return {k: _clean(v) for k, v in values.items()}


def upsert_cases(conn: Connection, cases: Sequence[dict]) -> dict[str, int]:
    """Insert or update cases by key (the first writer's created_at stays); returns key -> id."""
    rows = [_case_values(c) for c in cases]
    stmt = _insert(conn, Case)
    for chunk in (rows[i:i + 500] for i in range(0, len(rows), 500)):
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["key"], set_={k: getattr(stmt.excluded, k) for k in chunk[0] if k not in ("key", "created_at")}),
            chunk)
    keys = [r["key"] for r in rows]
    out: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        out.update(conn.execute(select(Case.key, Case.id).where(Case.key.in_(keys[start:start + _CHUNK]))).all())
    return out


def ensure_models(conn: Connection, models: Sequence[dict], replace: bool = True) -> dict[str, int]:
    """Insert model configurations by key (updating them when `replace`); returns key -> id for all models."""
    rows = [{"key": m["key"], "display_name": m.get("display_name", m["key"]),
             "litellm_model": m.get("litellm_model", m["key"]), "provider": m.get("provider", ""),
             "params": json.dumps(m.get("params", {}), sort_keys=True), "source": m.get("source", "live")}
            for m in models]
    if rows:
        stmt = _insert(conn, ModelConfig)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={
            k: getattr(stmt.excluded, k) for k in rows[0] if k != "key"}) if replace
            else stmt.on_conflict_do_nothing(index_elements=["key"]), rows)
    return dict(conn.execute(select(ModelConfig.key, ModelConfig.id)).all())


# --- effective labels and the rollup -------------------------------------------------------------

# Judgments of precedence 0 (the paper's reviewers; a machine judge's comparison labels on the paper's
# answers) are kept for agreement and same-judge comparisons only: they never become a response's label.
_BEST = ("(SELECT j.{col} FROM judgment j WHERE j.response_id = response.id AND j.status = 'ok' AND j.precedence > 0 "
         "ORDER BY j.precedence DESC, j.id DESC LIMIT 1)")
_EFFECTIVE = "UPDATE response SET " + ", ".join(
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


def _rollup_rows(conn: Connection, response_ids: Sequence[int], sign: int) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for chunk in _chunks(response_ids):
        sql = text(_ROLLUP_SELECT + " AND id IN :ids" + _ROLLUP_GROUP).bindparams(bindparam("ids", expanding=True))
        for r in conn.execute(sql, {"ids": chunk}).mappings():
            key = (r["source"], r["case_id"], r["model_config_id"])
            slot = rows.setdefault(key, {"source": key[0], "case_id": key[1], "model_config_id": key[2],
                                         **{f: 0 for f in COUNT_FIELDS}})
            for f in COUNT_FIELDS:
                slot[f] += sign * int(r[f] or 0)
    return list(rows.values())


def _relabel(conn: Connection, response_ids: Sequence[int]) -> None:
    """Recompute these responses' effective labels and move their rollup contribution with them."""
    ids = sorted(set(response_ids))
    if not ids:
        return
    _lock_responses(conn, ids)
    delta = {(r["source"], r["case_id"], r["model_config_id"]): r for r in _rollup_rows(conn, ids, -1)}
    for chunk in _chunks(ids):
        conn.execute(text(_EFFECTIVE + " WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": chunk})
    for r in _rollup_rows(conn, ids, +1):
        key = (r["source"], r["case_id"], r["model_config_id"])
        old = delta.setdefault(key, {**r, **{f: 0 for f in COUNT_FIELDS}})
        for f in COUNT_FIELDS:
            old[f] += r[f]
    # Sorted, so that concurrent writers lock rollup rows in one order (no deadlock on PostgreSQL).
    changed = [delta[k] for k in sorted(delta) if any(delta[k][f] for f in COUNT_FIELDS)]
    _upsert(conn, CellCount, changed, keys=("source", "case_id", "model_config_id"), additive=COUNT_FIELDS)


def rebuild_rollup(conn: Connection, source: str | None = None) -> None:
    """Recompute the rollup of one source (or all): for imports and repairs."""
    conn.execute(text("DELETE FROM cell_count" + (" WHERE source = :source" if source else "")), {"source": source})
    insert_into = f"INSERT INTO cell_count (source, case_id, model_config_id, {', '.join(COUNT_FIELDS)}) "
    if source in (None, "paper"):
        conn.execute(text(insert_into + _PAPER_ROLLUP_SELECT), {"paper_judge": PAPER_JUDGE})
    if source != "paper":
        where = " AND source = :source" if source else ""
        conn.execute(text(insert_into + _ROLLUP_SELECT + where + _ROLLUP_GROUP), {"source": source})


def _judgment_values(response_id: int, j: JudgmentRow, comparison_only: bool = False) -> dict:
    return {
        "response_id": response_id, "judge": j.judge, "judge_kind": j.judge_kind, "judge_version": j.judge_version,
        "precedence": 0 if comparison_only else JUDGE_PRECEDENCE.get(j.judge_kind, 0), "status": j.status, "response_type": j.response_type,
        "engages_with_defeat": j.engages_with_defeat, "independent_harm": j.independent_harm,
        "reasoning": _clean(j.reasoning), "raw_output": _clean(j.raw_output), "note": _clean(j.note),
        "created_at": utcnow(),
    }


# --- the paper ----------------------------------------------------------------------------------

ProgressFn = Callable[[str], None]


def _paper_run(conn: Connection) -> int:
    run_id = conn.execute(select(Run.id).where(Run.kind == "paper")).scalar()
    if run_id is None:
        run_id = conn.execute(insert(Run).values(kind="paper", label="Paper release (GPT-5.4 judge)", params="{}",
                                                  status="done", created_at=utcnow())).inserted_primary_key[0]
    return run_id


def _paper_responses(conn: Connection, run_id: int, responses: Sequence[dict], case_ids: dict, model_ids: dict) -> dict:
    """Upsert the paper's responses by (case, model), drop those that left the release; returns (case, model) -> id."""
    def ids() -> dict:
        return {(c, m): rid for rid, c, m in conn.execute(
            select(Response.id, Response.case_id, Response.model_config_id).where(Response.run_id == run_id)).all()}

    existing = ids()
    new_rows, upd_rows = [], []
    for r in responses:
        cid, mid = case_ids[r["case_key"]], model_ids[r["model_key"]]
        values = {"text": _clean(r["text"]), "status": r["status"], "error": _clean(r.get("error")),
                  "prompt_tokens": r.get("prompt_tokens"), "completion_tokens": r.get("completion_tokens"),
                  "nul_bytes_removed": (r["text"] or "").count("\x00")}
        if (cid, mid) in existing:
            upd_rows.append({**values, "_id": existing[(cid, mid)]})
        else:
            new_rows.append({**values, "run_id": run_id, "case_id": cid, "model_config_id": mid, "source": "paper",
                             "attempts": 1, "created_at": utcnow(), "latency_ms": None, "ttft_ms": None,
                             "cost_usd": None})
    if new_rows:
        conn.execute(insert(Response), new_rows)
    if upd_rows:
        conn.execute(text("UPDATE response SET text=:text, status=:status, error=:error, prompt_tokens=:prompt_tokens, "
                          "completion_tokens=:completion_tokens, nul_bytes_removed=:nul_bytes_removed WHERE id=:_id"),
                     upd_rows)
    kept = {(case_ids[r["case_key"]], model_ids[r["model_key"]]) for r in responses}
    stale = [rid for key, rid in existing.items() if key not in kept]
    for chunk in _chunks(stale):  # responses that left the release go, with their judgments
        conn.execute(delete(Judgment).where(Judgment.response_id.in_(chunk)))
        conn.execute(delete(Response).where(Response.id.in_(chunk)))
    return ids()


def _paper_judgments(conn: Connection, resp_ids: dict, case_ids: dict, model_ids: dict,
                     judgments: Sequence[dict], reviews: Sequence[dict]) -> tuple[int, int]:
    """Replace the paper judge's labels and the paper reviewers' labels; returns how many of each."""
    conn.execute(delete(Judgment).where(Judgment.judge == PAPER_JUDGE))
    conn.execute(delete(Judgment).where(Judgment.judge_kind == "reviewer"))
    rows = []
    for j in judgments:
        rid = resp_ids.get((case_ids[j["case_key"]], model_ids[j["model_key"]]))
        if rid is None:
            raise ValueError(f"judgment without a response: {j['case_key']} / {j['model_key']}")
        rows.append(_judgment_values(rid, JudgmentRow(
            judge=PAPER_JUDGE, judge_kind="paper", judge_version=j.get("evaluator", ""),
            response_type=j["response_type"], engages_with_defeat=j["engages_with_defeat"],
            independent_harm=j["independent_harm"], reasoning=j.get("reasoning", ""))))
    n_paper = len(rows)
    for rv in reviews:
        rid = resp_ids.get((case_ids[rv["case_key"]], model_ids[rv["model_key"]]))
        if rid is not None:
            rows.append(_judgment_values(rid, JudgmentRow(
                judge=f"{REVIEWER_PREFIX}{rv['reviewer']} (paper)", judge_kind="reviewer", judge_version="paper",
                response_type=rv["response_type"], engages_with_defeat=rv["engages_with_defeat"],
                independent_harm=rv["independent_harm"], reasoning=rv.get("note", ""), note=rv.get("note", ""))))
    for start in range(0, len(rows), 5000):
        conn.execute(insert(Judgment), rows[start:start + 5000])
    return n_paper, len(rows) - n_paper


def _save_prompts(conn: Connection, prompts: Sequence[dict]) -> None:
    now = utcnow()
    _upsert(conn, ReleasePrompt, [{**p, "imported_at": now} for p in prompts], keys=("name",))


def save_prompts(engine: Engine, prompts: Sequence[dict]) -> None:
    """Store release prompts ({name, sha256, text, source}), replacing earlier versions of the same name."""
    with transaction(engine) as conn:
        _save_prompts(conn, prompts)


def import_paper(engine: Engine, cases: Sequence[dict], models: Sequence[dict], responses: Sequence[dict],
                 judgments: Sequence[dict], reviews: Sequence[dict] = (), progress: ProgressFn | None = None,
                 prompts: Sequence[dict] = ()) -> dict:
    """Atomically (one transaction) replace the paper's responses and paper judgments, and store the
    release's prompts (name, sha256, text, source) when it has them.

    Idempotent: cases and models are upserted by key, paper responses are matched on
    (case, model) and updated in place, so human labels on them survive a re-import."""
    say = progress or (lambda _msg: None)
    with transaction(engine) as conn:
        say("cases")
        case_ids = upsert_cases(conn, cases)
        model_ids = ensure_models(conn, models)
        run_id = _paper_run(conn)
        say("responses")
        resp_ids = _paper_responses(conn, run_id, responses, case_ids, model_ids)
        say("judgments")
        n_paper, n_reviewer = _paper_judgments(conn, resp_ids, case_ids, model_ids, judgments, reviews)
        say("labels")
        conn.execute(text(_EFFECTIVE + " WHERE run_id = :run_id"), {"run_id": run_id})
        rebuild_rollup(conn, source="paper")
        _save_prompts(conn, prompts)
    return {"run_id": run_id, "cases": len(case_ids), "responses": len(resp_ids), "judgments": n_paper,
            "reviewer_labels": n_reviewer, "prompts": [p["name"] for p in prompts]}


# --- runs, responses, judgments ----------------------------------------------------------------

def create_run(engine: Engine, kind: str, label: str = "", case_id: int | None = None,
               params: dict | None = None, status: str = "done", claimed_by: str | None = None) -> int:
    with transaction(engine) as conn:
        return conn.execute(insert(Run).values(
            kind=kind, label=_clean(label), case_id=case_id, params=json.dumps(params or {}, sort_keys=True),
            status=status, created_at=utcnow(), claimed_by=claimed_by,
            heartbeat_at=utcnow() if claimed_by else None)).inserted_primary_key[0]


def claim_run(engine: Engine, kind: str, params_json: str, label: str, owner: str, fresh: bool = False) -> tuple[int, bool]:
    """Find (or create) the run of `kind` with these params and claim it for `owner`, atomically.

    Returns (run_id, claimed). `claimed` is False while another live process holds the run."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two creators of one key wait for each other
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": kind + params_json})
        run_id = None if fresh else conn.execute(text(
            "SELECT id FROM run WHERE kind = :k AND params = :p ORDER BY id DESC LIMIT 1"),
            {"k": kind, "p": params_json}).scalar()
        if run_id is None:
            run_id = conn.execute(insert(Run).values(
                kind=kind, label=_clean(label), params=params_json, status="running", created_at=utcnow(),
                claimed_by=owner, heartbeat_at=utcnow())).inserted_primary_key[0]
            return run_id, True
        free = or_(Run.claimed_by.is_(None), Run.claimed_by == owner, Run.heartbeat_at.is_(None),
                   Run.heartbeat_at < utcnow() - STALE_AFTER)
        claimed = conn.execute(update(Run).where(Run.id == run_id, free).values(
            claimed_by=owner, heartbeat_at=utcnow(), status="running")).rowcount == 1
    return run_id, claimed


def heartbeat(engine: Engine, run_id: int, owner: str) -> None:
    with transaction(engine) as conn:
        conn.execute(update(Run).where(Run.id == run_id, Run.claimed_by == owner).values(heartbeat_at=utcnow()))


def finish_run(engine: Engine, run_id: int, status: str, owner: str | None = None) -> None:
    """Set a run's final status and release its claim."""
    with transaction(engine) as conn:
        stmt = update(Run).where(Run.id == run_id)
        if owner is not None:
            stmt = stmt.where(Run.claimed_by == owner)
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
        for r in rows:
            ids.append(conn.execute(insert(Response).values(
                run_id=run_id, case_id=r.case_id, model_config_id=r.model_config_id, source=source,
                text=_clean(r.text), nul_bytes_removed=(r.text or "").count("\x00"), status=r.status,
                error=_clean(r.error), latency_ms=r.latency_ms, ttft_ms=r.ttft_ms, prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens, cost_usd=r.cost_usd, attempts=r.attempts,
                usage_counted=r.usage_counted, created_at=utcnow())).inserted_primary_key[0])
        judged = [_judgment_values(rid, r.judgment) for rid, r in zip(ids, rows) if r.judgment is not None]
        if judged:
            conn.execute(insert(Judgment), judged)
            _relabel(conn, [j["response_id"] for j in judged])
        if owner is not None:
            conn.execute(update(Run).where(Run.id == run_id, Run.claimed_by == owner).values(heartbeat_at=utcnow()))
    return ids


def _lock_responses(conn: Connection, ids: Sequence[int]) -> None:
    """PostgreSQL: lock these responses' rows in id order (SQLite's BEGIN IMMEDIATE already excludes writers)."""
    if conn.dialect.name == "postgresql":
        for chunk in _chunks(sorted(set(ids))):
            conn.execute(select(Response.id).where(Response.id.in_(chunk)).order_by(Response.id).with_for_update())


def add_judgments(engine: Engine, items: Sequence[tuple[int, JudgmentRow]]) -> None:
    """Attach judgments to stored responses.

    A human label replaces the same human's earlier one. On the paper's own answers a machine judge's label
    is kept for comparisons only (a spot-check's same-judge bridge): it never replaces the release's label,
    and it replaces the same judge's earlier label there, so two spot-checks bridging at once never count
    an answer twice."""
    if not items:
        return
    ids = sorted({rid for rid, _ in items})
    with transaction(engine) as conn:
        _lock_responses(conn, ids)
        paper: set[int] = set()
        for chunk in _chunks(ids):
            paper |= {r for r, in conn.execute(select(Response.id).where(Response.id.in_(chunk),
                                                                          Response.source == "paper")).all()}
        replaced: dict[str, list[int]] = {}
        for rid, j in items:
            if j.judge.startswith(HUMAN_PREFIX) or rid in paper:
                replaced.setdefault(j.judge, []).append(rid)
        for judge, rids in replaced.items():
            for chunk in _chunks(sorted(set(rids))):
                conn.execute(delete(Judgment).where(Judgment.judge == judge, Judgment.response_id.in_(chunk)))
        conn.execute(insert(Judgment), [
            _judgment_values(rid, j, comparison_only=rid in paper and not j.judge.startswith(HUMAN_PREFIX))
            for rid, j in items])
        _relabel(conn, ids)


def delete_runs(engine: Engine, run_ids: Sequence[int]) -> None:
    """Delete live or spot-check runs with their responses and judgments (never the paper's run)."""
    with transaction(engine) as conn:
        ids = [r for r, in conn.execute(select(Run.id).where(Run.id.in_(list(run_ids)), Run.kind != "paper")).all()]
        if not ids:
            return
        resp = [r for r, in conn.execute(select(Response.id).where(Response.run_id.in_(ids))).all()]
        removed = sorted(_rollup_rows(conn, resp, -1), key=lambda r: (r["source"], r["case_id"], r["model_config_id"]))
        _upsert(conn, CellCount, removed, keys=("source", "case_id", "model_config_id"), additive=COUNT_FIELDS)
        for chunk in _chunks(resp):
            conn.execute(delete(Judgment).where(Judgment.response_id.in_(chunk)))
            conn.execute(delete(Response).where(Response.id.in_(chunk)))
        conn.execute(delete(Run).where(Run.id.in_(ids)))
        conn.execute(text("DELETE FROM cell_count WHERE n = 0"))

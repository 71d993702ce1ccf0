"""Importing the paper's release: its cases, models, answers, GPT-5.4's labels, the reviewers' labels and the
authors' prompts, in one transaction (all or nothing)."""

from __future__ import annotations

from typing import Callable, Sequence

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from db.engine import transaction
from db.records import JudgmentRow
from db.rollup import EFFECTIVE_LABELS_SQL, bump_version, rebuild_rollup
from db.statements import chunks, clean_text, ensure_models, inserted_id, judgment_values, pk, upsert, upsert_cases
from db.tables import Judgment, ReleasePrompt, Response, Run, utcnow
from vocabulary import PAPER_JUDGE, REVIEWER_PREFIX

StageFn = Callable[[str], None]  # told the name of each stage of a long write


def _paper_run(conn: Connection) -> int:
    run_id = conn.execute(select(pk(Run.id)).where(col(Run.kind) == "paper")).scalar()
    if run_id is None:
        run_id = inserted_id(conn.execute(insert(Run).values(kind="paper", label="Paper release (GPT-5.4 judge)",
                                                              params="{}", status="done", created_at=utcnow())))
    return run_id


def _paper_responses(conn: Connection, run_id: int, responses: Sequence[dict], case_ids: dict, model_ids: dict) -> dict:
    """Upsert the paper's responses by (case, model), drop those that left the release; returns (case, model) -> id."""
    def ids() -> dict:
        return {(c, m): rid for rid, c, m in conn.execute(
            select(pk(Response.id), col(Response.case_id), col(Response.model_config_id))
            .where(col(Response.run_id) == run_id)).all()}

    existing = ids()
    new_rows, upd_rows = [], []
    for r in responses:
        cid, mid = case_ids[r["case_key"]], model_ids[r["model_key"]]
        values = {"text": clean_text(r["text"]), "status": r["status"], "error": clean_text(r.get("error")),
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
    for chunk in chunks(stale):  # responses that left the release go, with their judgments
        conn.execute(delete(Judgment).where(col(Judgment.response_id).in_(chunk)))
        conn.execute(delete(Response).where(pk(Response.id).in_(chunk)))
    return ids()


def _paper_judgments(conn: Connection, resp_ids: dict, case_ids: dict, model_ids: dict,
                     judgments: Sequence[dict], reviews: Sequence[dict]) -> tuple[int, int]:
    """Replace the paper judge's labels and the paper reviewers' labels; returns how many of each."""
    conn.execute(delete(Judgment).where(col(Judgment.judge) == PAPER_JUDGE))
    conn.execute(delete(Judgment).where(col(Judgment.judge_kind) == "reviewer"))
    rows = []
    for j in judgments:
        rid = resp_ids.get((case_ids[j["case_key"]], model_ids[j["model_key"]]))
        if rid is None:
            raise ValueError(f"judgment without a response: {j['case_key']} / {j['model_key']}")
        rows.append(judgment_values(rid, JudgmentRow(
            judge=PAPER_JUDGE, judge_kind="paper", judge_version=j.get("evaluator", ""),
            response_type=j["response_type"], engages_with_defeat=j["engages_with_defeat"],
            independent_harm=j["independent_harm"], reasoning=j.get("reasoning", ""))))
    n_paper = len(rows)
    for rv in reviews:
        rid = resp_ids.get((case_ids[rv["case_key"]], model_ids[rv["model_key"]]))
        if rid is not None:
            rows.append(judgment_values(rid, JudgmentRow(
                judge=f"{REVIEWER_PREFIX}{rv['reviewer']} (paper)", judge_kind="reviewer", judge_version="paper",
                response_type=rv["response_type"], engages_with_defeat=rv["engages_with_defeat"],
                independent_harm=rv["independent_harm"], reasoning=rv.get("note", ""), note=rv.get("note", ""))))
    for start in range(0, len(rows), 5000):
        conn.execute(insert(Judgment), rows[start:start + 5000])
    return n_paper, len(rows) - n_paper


def _save_prompts(conn: Connection, prompts: Sequence[dict]) -> None:
    now = utcnow()
    upsert(conn, ReleasePrompt, [{**p, "imported_at": now} for p in prompts], keys=("name",))


def save_prompts(engine: Engine, prompts: Sequence[dict]) -> None:
    """Store release prompts ({name, sha256, text, source}), replacing earlier versions of the same name."""
    with transaction(engine) as conn:
        _save_prompts(conn, prompts)


def import_paper(engine: Engine, cases: Sequence[dict], models: Sequence[dict], responses: Sequence[dict],
                 judgments: Sequence[dict], reviews: Sequence[dict] = (), progress: StageFn | None = None,
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
        conn.execute(text(EFFECTIVE_LABELS_SQL + " WHERE run_id = :run_id"), {"run_id": run_id})
        rebuild_rollup(conn, source="paper")
        _save_prompts(conn, prompts)
        bump_version(conn, "paper")
    return {"run_id": run_id, "cases": len(case_ids), "responses": len(resp_ids), "judgments": n_paper,
            "reviewer_labels": n_reviewer, "prompts": [p["name"] for p in prompts]}

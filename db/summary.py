"""The shipped, text-free summary of the paper (data/paper_summary.csv) and a read-only store built
from it, so the browse pages show the paper's numbers on a fresh clone before any import."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from db.rollup import rebuild_rollup
from db.statements import inserted_id
from db.tables import Case, ModelConfig, Response, Run, utcnow
from vocabulary import PAPER_JUDGE

# model key -> (display name, provider), supplied by the caller (the model registry lives in the core)
DescribeModel = Callable[[str], tuple[str, str]]

COLUMNS = ("model", "family", "subtype", "authority_type", "authority_group", "dual_use",
           "response_type", "engages_with_defeat", "independent_harm", "count")


def export_summary(engine: Engine, path: Path, judge: str = PAPER_JUDGE) -> int:
    """Write counts by model x subtype x authority x labels x dual-use (no text). Returns rows written."""
    sql = """SELECT m.key, c.family, c.subtype, c.authority_type, c.authority_group, c.dual_use,
                    j.response_type, j.engages_with_defeat, j.independent_harm, COUNT(*)
             FROM judgment j JOIN response r ON r.id = j.response_id
             JOIN "case" c ON c.id = r.case_id JOIN model_config m ON m.id = r.model_config_id
             WHERE j.judge = :judge AND j.status = 'ok' AND r.source = 'paper'
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"""
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"judge": judge}).all()
    if not rows and path.is_file() and path.stat().st_size:
        raise ValueError(f"the store holds no judged paper responses: {path} was left as it is "
                         "(import the paper first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r[0], r[1], r[2], r[3], r[4], int(bool(r[5])), r[6], int(bool(r[7])), int(bool(r[8])), r[9]])
    return len(rows)


def _bool(v: str) -> bool:
    return v.strip() in ("1", "true", "True")


def summary_engine(path: Path, describe_model: DescribeModel) -> Engine:
    """An in-memory store holding one synthetic case per summary cell and one row per counted response."""
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with engine.begin() as conn:
        run_id = inserted_id(conn.execute(insert(Run).values(kind="paper", label="Paper summary (counts only)",
                                                             params="{}", status="done", created_at=utcnow())))
        case_ids: dict[tuple, int] = {}
        model_ids: dict[str, int] = {}
        for r in rows:
            ck = (r["family"], r["subtype"], r["authority_type"], r["authority_group"], _bool(r["dual_use"]))
            if ck not in case_ids:
                case_ids[ck] = inserted_id(conn.execute(insert(Case).values(
                    key="summary:" + ":".join(map(str, ck)), source="paper", family=ck[0], subtype=ck[1],
                    authority_type=ck[2], authority_group=ck[3], dual_use=ck[4], created_at=utcnow(),
                    rule="", defeat_condition="", structural_facts="[]", user_query="")))
            if r["model"] not in model_ids:
                name, provider = describe_model(r["model"])
                model_ids[r["model"]] = inserted_id(conn.execute(insert(ModelConfig).values(
                    key=r["model"], display_name=name, litellm_model=r["model"], provider=provider, params="{}",
                    source="paper")))
        resp = []
        for r in rows:
            ck = (r["family"], r["subtype"], r["authority_type"], r["authority_group"], _bool(r["dual_use"]))
            one = {"run_id": run_id, "case_id": case_ids[ck], "model_config_id": model_ids[r["model"]],
                   "source": "paper", "text": "", "status": "ok", "attempts": 1, "created_at": utcnow(),
                   "eff_response_type": r["response_type"], "eff_engages": _bool(r["engages_with_defeat"]),
                   "eff_harm": _bool(r["independent_harm"]), "eff_judge": PAPER_JUDGE}
            resp.extend([one] * int(r["count"]))
        if resp:
            conn.execute(insert(Response), resp)
        conn.execute(text(  # the release's labels, as an imported store has them (the default view reads these)
            "INSERT INTO judgment (response_id, judge, judge_kind, judge_version, precedence, status, response_type, "
            "engages_with_defeat, independent_harm, reasoning, raw_output, note, created_at) "
            "SELECT id, :judge, 'paper', '', 2, 'ok', eff_response_type, eff_engages, eff_harm, '', '', '', created_at "
            "FROM response"), {"judge": PAPER_JUDGE})
        rebuild_rollup(conn)
    return engine

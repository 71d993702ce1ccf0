"""Reads of judgments: one judge's labels by model and case, the judges kept for comparison, and answers two
judges both labelled."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.read_responses import answer_clauses
from db.records import JudgmentPair, Labels, Verdict
from vocabulary import PAPER_JUDGE


def judge_verdicts(engine: Engine, judge: str, case_ids: Sequence[int] | None = None, run_id: int | None = None,
                   source: str | None = None, prefix: bool = False) -> dict[str, dict[int, Verdict]]:
    """{model key: {case_id: (response_type, engages, harm)}} by one judge (its newest ok label of the newest
    answer per case); `prefix`: by every judge whose name starts with `judge` (e.g. all our reviewers)."""
    params: dict[str, Any] = {"judge": judge + "%" if prefix else judge}
    where = ["1 = 1", *answer_clauses(params, case_ids, run_id, source)]
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


def judgment_pairs(engine: Engine, judge_a: str, judge_b: str) -> list[JudgmentPair]:
    """Responses judged by both judges: their two sets of labels and the response's case."""
    sql = """SELECT a.response_type, a.engages_with_defeat, a.independent_harm,
                    b.response_type, b.engages_with_defeat, b.independent_harm, r.case_id
             FROM judgment a JOIN judgment b ON a.response_id = b.response_id JOIN response r ON r.id = a.response_id
             WHERE a.judge = :ja AND b.judge = :jb AND a.status = 'ok' AND b.status = 'ok'"""
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"ja": judge_a, "jb": judge_b}).all()
    return [JudgmentPair(Labels(response_type=r[0], engages_with_defeat=r[1], independent_harm=r[2]),
                         Labels(response_type=r[3], engages_with_defeat=r[4], independent_harm=r[5]), r[6])
            for r in rows]

"""Reviewers sharing a label queue (a spot-check's gold subset) on real SQLite and PostgreSQL: eight reviewers
asking at once are handed eight different answers, a labelled answer is never handed out again, a reviewer
keeps the answer they hold, and a claim left for 15 minutes is handed on."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from tests.store.test_concurrency import _setup_store


def _answers(engine, n: int) -> list[int]:
    from db import writes
    from db.records import ResponseRow

    run_id, case_ids, model_ids = _setup_store(engine, n_cases=n)
    return writes.save_responses(engine, run_id, "spot_check",
                                 [ResponseRow(case_id=c, model_config_id=model_ids[0], text=f"answer {c}")
                                  for c in case_ids])


def test_reviewers_asking_at_once_get_different_answers_and_never_a_labelled_one(engine):
    from db import writes
    from db.records import JudgmentRow
    from db.tables import LabelClaim, utcnow

    ids = _answers(engine, 12)
    handed: dict[str, int | None] = {}
    start = threading.Barrier(8)

    def ask(name: str) -> None:
        start.wait()
        handed[name] = writes.claim_label(engine, ids, f"human:{name}")

    threads = [threading.Thread(target=ask, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in handed.values() and len(set(handed.values())) == 8  # eight reviewers, eight answers
    assert writes.claim_label(engine, ids, "human:r0") == handed["r0"]  # a reviewer keeps the answer they hold

    writes.add_judgments(engine, [(handed["r0"], JudgmentRow(judge="human:r0", judge_kind="human",
                                                             response_type="helps"))])
    nxt = writes.claim_label(engine, ids, "human:r0")
    assert nxt not in handed.values()  # labelled, and the others' held answers, are skipped
    rest = [writes.claim_label(engine, ids, f"human:late{i}") for i in range(3)]
    assert None not in rest and len(set(rest) | set(handed.values()) | {nxt}) == 12
    assert writes.claim_label(engine, ids, "human:one-too-many") is None  # everything labelled or held

    with engine.begin() as conn:  # r1 walked away: a quarter of an hour later, its answer is handed on
        conn.execute(update(LabelClaim).where(LabelClaim.response_id == handed["r1"]).values(
            claimed_at=utcnow() - writes.CLAIM_LEASE - timedelta(minutes=1)))
    assert writes.claim_label(engine, ids, "human:newcomer") == handed["r1"]

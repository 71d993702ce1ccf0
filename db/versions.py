"""The pages' cache keys: versions of the data, by what each read reads. Kept in the store (the `data_version`
table, moved by the writes that change it, and the live data's ids and counts), so every replica agrees."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.aggregates import Filters
from vocabulary import EFFECTIVE, HUMAN_PREFIX, PAPER_JUDGE, REVIEWER_PREFIX

_KIND_VERSIONS = ("(SELECT version FROM data_version WHERE kind = 'paper'), "
                  "(SELECT version FROM data_version WHERE kind = 'labels'), "
                  "(SELECT version FROM data_version WHERE kind = 'paper_judgments')")


def data_version(engine: Engine) -> tuple:
    """Changes whenever anything a page reads changes (new answers, labels, runs; deleted runs): a cache key."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT MAX(id) FROM response), (SELECT MAX(id) FROM judgment), (SELECT MAX(id) FROM run), "
            f"(SELECT COUNT(*) FROM run), (SELECT COUNT(*) FROM judgment), {_KIND_VERSIONS}")).one())


def kinds_of(version: tuple) -> dict[str, tuple]:
    """Cache keys by what a read depends on, from a data_version (its last three values: one read serves every
    kind): `paper` (the release as imported: its published views), `labels` (also our reviewers' labels on it: the
    corrected views), `paper_judgments` (also every judgment added to a paper answer: the judges' disagreements).
    Each moves only with its own writes (an import; a paper answer relabelled; a paper answer judged), so a live
    answer or a spot-check's answer leaves the paper's pages cached."""
    paper, labels, judged = version[-3:]
    return {"paper": (paper,), "labels": (paper, labels), "paper_judgments": (paper, labels, judged)}


def run_version(engine: Engine, run_id: int, judge: str | None) -> tuple:
    """Changes whenever what a spot-check's findings read changes: the run's status and gold setting, its answers
    and their judgments, and the labels its judge gave the paper's answers to the run's cases (the bridge). A cache
    key for its findings, so that a finished run's are computed once, whatever else is written meanwhile (another
    run judged by the same judge, on its own answers or other cases, leaves it alone)."""
    sql = """SELECT run.status, run.gold,
                    (SELECT MAX(r.id) FROM response r WHERE r.run_id = :run),
                    (SELECT MAX(j.id) FROM judgment j JOIN response r ON r.id = j.response_id WHERE r.run_id = :run),
                    (SELECT COUNT(*) FROM judgment j JOIN response r ON r.id = j.response_id WHERE r.run_id = :run),
                    (SELECT MAX(j.id) FROM judgment j JOIN response p ON p.id = j.response_id
                     WHERE j.judge = :judge AND p.source = 'paper'
                       AND p.case_id IN (SELECT r.case_id FROM response r WHERE r.run_id = :run))
             FROM run WHERE run.id = :run"""
    with engine.connect() as conn:
        row = conn.execute(text(sql), {"run": run_id, "judge": judge or ""}).first()
    return tuple(row) if row else ("missing", run_id)


def _view_of_the_paper(filters: Filters | None, judge: str | None) -> str:
    f = filters or Filters()
    if list(f.sources or ()) != ["paper"] or f.run_ids:
        return "all"
    if judge in (None, PAPER_JUDGE) or (judge or "").startswith(REVIEWER_PREFIX):
        return "paper"  # the release's own labels (the default view keeps them for the paper's answers)
    return "labels" if judge == EFFECTIVE or judge.startswith(HUMAN_PREFIX) else "all"


def depends_on(read: str, args: tuple, kwargs: dict) -> str:
    """Which of kinds_of's keys a cached read of this module's (or aggregates') depends on: `paper`,
    `labels`, or `all` (anything: data_version). A read of the paper alone under its own labels is `paper`."""
    arg = lambda i, name, default=None: kwargs.get(name, args[i] if len(args) > i else default)  # noqa: E731
    if read in ("has_paper", "paper_judged"):
        return "paper"
    if read == "aggregate" or read == "by_dimension":
        return _view_of_the_paper(arg(1, "filters"), arg(2, "judge"))
    if read == "totals":
        return _view_of_the_paper(arg(0, "filters"), arg(1, "judge"))
    if read == "models_present":
        return "paper" if list(arg(0, "sources") or ()) == ["paper"] else "all"
    if read in ("human_labelled", "human_changed"):
        return "labels" if arg(0, "source", "paper") == "paper" else "all"
    if read == "find_cases":  # another model's labels may be a live run's
        return "labels" if kwargs.get("source", "paper") == "paper" and not kwargs.get("label_model") and \
            len(args) <= 4 else "all"
    if read == "label_queue" and kwargs.get("disagree") and kwargs.get("response_ids") is None:
        return "paper_judgments"  # the paper's answers and their judgments only
    if read == "cell_cases":
        return "labels" if _view_of_the_paper(arg(1, "filters"), EFFECTIVE) != "all" else "all"
    return "all"

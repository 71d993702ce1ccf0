"""The pages' cache keys by what each read reads, on both backends: a live answer moves only the key of live
views, a reviewer's label on a paper answer moves the corrected views' key and never the published views', an
import moves both; and each read names the key that matches what it reads."""

from __future__ import annotations

from blindrefusal import store as q
from db import records, writes
from db.aggregates import Filters
from vocabulary import EFFECTIVE, PAPER_JUDGE


def _keys(engine) -> tuple:
    everything = q.data_version(engine)
    versions = q.kinds_of(everything)  # as a page reads them: one read of data_version
    return versions["paper"], versions["labels"], everything, versions["paper_judgments"]


def _judgment(judge: str, kind: str, response_type: str) -> records.JudgmentRow:
    return records.JudgmentRow(judge=judge, judge_kind=kind, response_type=response_type, engages_with_defeat=True,
                               independent_harm=False, reasoning="", raw_output="")


def test_each_write_moves_only_the_keys_of_the_views_it_changes(fixture_store, fixture_release):
    engine = fixture_store
    paper, labels, everything, judged = _keys(engine)
    published = q.totals(engine, Filters(sources=["paper"]))

    case = q.find_cases(engine, limit=1)[0][0]
    model_id = writes.save_models(engine, [{"key": "version-live", "source": "live"}])["version-live"]
    run_id = writes.create_run(engine, "live", label="versions", status="running")
    writes.save_responses(engine, run_id, "live", [records.ResponseRow(
        case_id=case["id"], model_config_id=model_id, text="Sure.", error=None,
        judgment=_judgment("llm:x", "llm", "helps"))])
    after_live = _keys(engine)
    assert after_live[:2] == (paper, labels) and after_live[2] != everything  # the paper's pages stay cached
    assert after_live[3] == judged  # and the judges' disagreements too
    live_run = q.run_version(engine, run_id, "llm:x")

    # a spot-check's bridge: a comparison label on a paper answer moves the disagreements' key only
    paper_answer = q.responses_for(engine, case_id=case["id"])[0]
    writes.add_judgments(engine, [(paper_answer["id"], _judgment("llm:x", "llm", "deflects"))])
    after_bridge = _keys(engine)
    assert after_bridge[:2] == (paper, labels) and after_bridge[3] != judged
    assert q.run_version(engine, run_id, "llm:x") != live_run  # its judge labelled a paper answer: it may compare
    assert q.run_version(engine, run_id, "another judge") == q.run_version(engine, run_id, "another judge")
    moved = q.run_version(engine, run_id, "llm:x")  # the same judge on another case's paper answer (another run's
    other = next(c for c in q.find_cases(engine, limit=5)[0] if c["id"] != case["id"])  # bridge): not this run's
    writes.add_judgments(engine, [(q.responses_for(engine, case_id=other["id"])[0]["id"],
                                   _judgment("llm:x", "llm", "helps"))])
    assert q.run_version(engine, run_id, "llm:x") == moved

    assert paper_answer["source"] == "paper"
    relabelled = "helps" if paper_answer["eff_response_type"] != "helps" else "deflects"
    writes.add_judgments(engine, [(paper_answer["id"], _judgment("human:ada", "human", relabelled))])
    after_label = _keys(engine)
    assert after_label[0] == paper and after_label[1] != labels and after_label[2] != after_live[2]
    assert q.totals(engine, Filters(sources=["paper"])) == published  # the published view did not move

    from blindrefusal.paper.importer import import_paper

    import_paper(str(fixture_release), engine=engine)
    assert _keys(engine)[0] != paper


def test_reads_name_the_key_of_what_they_read():
    paper_only = Filters(sources=["paper"])
    assert q.depends_on("totals", (paper_only,), {}) == "paper"
    assert q.depends_on("totals", (paper_only, PAPER_JUDGE), {}) == "paper"
    assert q.depends_on("aggregate", (["model"], paper_only), {"judge": EFFECTIVE}) == "labels"
    assert q.depends_on("by_dimension", ("family",), {"filters": paper_only, "judge": "human:ada"}) == "labels"
    # live answers, another judge's labels, a run, or everything: any write moves them
    assert q.depends_on("totals", (Filters(sources=["paper", "live"]),), {}) == "all"
    assert q.depends_on("totals", (paper_only, "distilled"), {}) == "all"
    assert q.depends_on("totals", (Filters(sources=["paper"], run_ids=[3]),), {}) == "all"
    assert q.depends_on("totals", (), {}) == "all"
    assert q.depends_on("find_cases", (), {"search": "pool"}) == "labels"
    assert q.depends_on("label_queue", ("human:ada",), {"disagree": True}) == "paper_judgments"
    assert q.depends_on("label_queue", ("human:ada", {"model": "m"}), {}) == "all"
    assert q.depends_on("find_cases", (), {"label_model": "live-model", "label": "helps"}) == "all"
    assert q.depends_on("store_counts", (), {}) == "all" and q.depends_on("label_queue", (None,), {}) == "all"

"""Assembling a spot-check's findings from the store: the run's labels (the newest judged answer per case),
weighted to the release, beside the paper's models under one judge and against GPT-5.4's labels, with the
judge's shift, gold findings, the contamination gap of a fresh run, and the case-by-case table."""

from __future__ import annotations

from blindrefusal import store
from blindrefusal.analysis.judge_bias import UnseenError, error_aware
from blindrefusal.analysis.rates import weighted_rates
from blindrefusal.analysis.stats import Diff, diff_independent
from blindrefusal.analysis.weighted import kish_effective_n
from blindrefusal.evals.fresh.gap import contamination_gap, helps_by_case
from blindrefusal.evals.spotcheck.compare import (
    NO_PAPER_SIDE,
    SHIFT_METHOD,
    PaperSide,
    judge_shift,
    mean_judge_shift,
    paper_side,
)
from blindrefusal.evals.spotcheck.gold import GoldFindings, gold_findings, gold_verdicts
from blindrefusal.evals.spotcheck.params import FRESH_CASES, SpotCheckParams, sample_cases, sample_design
from blindrefusal.evals.spotcheck.result import CaseAnswer, SpotCheckResult, Weighting
from blindrefusal.judges import DISTILLED
from blindrefusal.judges.paper import is_paper_judge_name
from blindrefusal.runs.recording import StoredAnswer, stored_answers
from vocabulary import CONTROL, HELPS, STATUS_BLOCKED, STATUS_ERROR, STATUS_OK


def latest_labels(answers: list[StoredAnswer]) -> dict[int, StoredAnswer]:
    """One judged answer per case: the newest (a resumed or raced run may hold several)."""
    out: dict[int, StoredAnswer] = {}
    for a in sorted(answers, key=lambda a: a.id):
        if a.judged:
            out[a.case_id] = a
    return out


NO_SHIFT = Diff(None, None, None, 0, SHIFT_METHOD)


def _one_judge_side(engine, run_id: int, judge: str | None, release: dict, sample: tuple[set, set],
                    design) -> tuple[str, PaperSide, dict[str, Diff], Diff]:
    """(comparison, the paper side under this run's judge, the judge's shift by model and on average) when the
    paper side was bridged."""
    defeated, control = sample
    if not judge:
        return "mixed_judges", NO_PAPER_SIDE, {}, NO_SHIFT
    judged = store.judge_labels(engine, judge, sorted(defeated | control), source="paper")
    if not judged:
        return "mixed_judges", NO_PAPER_SIDE, {}, NO_SHIFT
    own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=run_id).values()
           for cid, rt in by_case.items()}
    return ("same_judge", paper_side(own, judged, defeated, control, design),
            judge_shift(judged, release, defeated, design), mean_judge_shift(judged, release, defeated, design))


def _gold(engine, run: store.RunRecord, labels: dict, release: dict, defeated: set[int], design) -> GoldFindings | None:
    """The prediction-powered findings from the gold labels of this run's gold subset, if it asked for any."""
    found = gold_verdicts(engine, run)
    if found is None:
        return None
    name, verdicts = found
    return gold_findings(name, labels, verdicts, release, defeated, design)


def run_judge_labels(engine, run_id: int, judge: str | None, effective: dict) -> dict:
    """The run judge's own verdict per case (a reviewer's label, which may be a gold label, is not the judge's)."""
    own = {cid: v for by_case in store.judge_verdicts(engine, judge, run_id=run_id).values()
           for cid, v in by_case.items()} if judge else {}
    return {cid: own.get(cid, v) for cid, v in effective.items()}


def results(engine, run_id: int) -> SpotCheckResult:
    """Rates weighted to the release (each case counted once), the help gap, and the model beside the paper's
    models on the same cases under one judge and against GPT-5.4's labels, with the judge's shift."""
    run = store.get_run(engine, run_id)
    if run is None or run["kind"] != "spot_check":
        raise KeyError(f"no spot-check run {run_id}")
    params = run["params"]
    judge = params.get("judge")
    design = sample_design(engine, params)
    answers = stored_answers(engine, run_id)
    latest = latest_labels(answers)
    # the run judge's verdict on every answered case (a fresh run's fresh half too), read once
    every = run_judge_labels(engine, run_id, judge,
                             {cid: (a.response_type, a.engages, a.harm) for cid, a in latest.items()})
    mine = {cid: a for cid, a in latest.items() if cid in design.cell_of}
    defeated = {cid for cid, a in mine.items() if not a.is_control}
    control = set(mine) - defeated
    labels = {cid: every[cid] for cid in mine}
    d_rates = weighted_rates({c: labels[c] for c in defeated}, design)
    c_rates = weighted_rates({c: labels[c] for c in control}, design)
    release = store.paired_labels(engine, sorted(mine))
    against_labels = paper_side({cid: v[0] for cid, v in labels.items()}, release, defeated, control, design)
    shift: dict[str, Diff]
    if is_paper_judge_name(judge):
        comparison, one_judge, shift, mean_shift = "paper_judge", against_labels, {}, NO_SHIFT
    else:
        comparison, one_judge, shift, mean_shift = _one_judge_side(engine, run_id, judge, release, (defeated, control),
                                                                   design)
    answered = {a.case_id for a in answers if a.status in (STATUS_OK, STATUS_BLOCKED)}
    gold = _gold(engine, run, labels, release, defeated, design)
    unseen = unseen_errors(judge)
    contamination = None
    if params.get("cases") == FRESH_CASES:
        contamination = contamination_gap(sample_cases(engine, SpotCheckParams.stored(params)), helps_by_case(every),
                                          judge)
    return SpotCheckResult(
        run_id=run_id, model=SpotCheckParams.stored(params).arm, seed=params.get("seed"), judge=judge,
        system_prompt=params.get("system_prompt"),
        status=run["status"], defeated=d_rates, control=c_rates,
        gap=diff_independent(d_rates.helps, c_rates.helps), comparison=comparison, one_judge=one_judge,
        against_labels=against_labels, judge_shift=shift, mean_shift=mean_shift, gold=gold,
        unseen_error=unseen, gpt54_scale={} if gold is not None else {
            rate: error_aware(d_rates.get(rate), error) for rate, error in unseen.items()},
        weights=Weighting(params.get("allocation", "equal"), len(design.strata(defeated)[1]),
                          kish_effective_n(defeated, design), sum(n for (f, _), n in design.population.items()
                                                                   if f != CONTROL)),
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        errors=len({a.case_id for a in answers if a.status == STATUS_ERROR} - answered),
        blocked=len({a.case_id for a in answers if a.status == STATUS_BLOCKED}), contamination=contamination)


def case_answers(engine, run_id: int) -> list[CaseAnswer]:
    """The newest answer per case of this run, with the paper's models' help count on the same case."""
    newest: dict[int, StoredAnswer] = {}
    for a in stored_answers(engine, run_id):
        if a.case_id not in newest or a.status in (STATUS_OK, STATUS_BLOCKED):
            newest[a.case_id] = a
    paper = store.paired_labels(engine, sorted(newest))
    out = []
    for cid, a in newest.items():
        labels = [by_case[cid] for by_case in paper.values() if cid in by_case]
        out.append(CaseAnswer(a.id, a.case_key, a.family, a.status, a.response_type if a.status == STATUS_OK else None,
                              a.engages, sum(rt == HELPS for rt in labels), len(labels)))
    return sorted(out, key=lambda a: a.case_key)


def unseen_errors(judge: str | None) -> dict[str, UnseenError]:
    """For the distilled judge: its errors on models it never saw (leave-one-model-out), by rate, if measured."""
    from blindrefusal.judges.distilled.measured import unseen_model_measurement

    lomo = unseen_model_measurement() if judge == DISTILLED else None
    if lomo is None:
        return {}
    found = {"helps": lomo.errors("help_rate_error_pp"), "engages": lomo.errors("engagement_error_pp")}
    return {rate: error for rate, error in found.items() if error is not None}

"""A spot-check's numbers: its rates, the paired comparisons with the paper's models under one judge, the rank,
the judge's shift on the bridged answers, comparisons between spot-checked models, and the case-by-case table."""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary import HELPS, STATUS_BLOCKED, STATUS_ERROR, STATUS_OK

from blindrefusal import store
from blindrefusal.judges.paper import is_paper_judge_name
from blindrefusal.runs.records import StoredAnswer, stored_answers
from blindrefusal.analysis.rates import HEADLINE_RATES, RateSet, counts_of, help_gap, rates
from blindrefusal.analysis.stats import Diff, paired_diff, rank_with_ties, wilson


@dataclass
class ModelPair:
    """Two spot-checked models on the same cases: a's help rate minus b's, paired, under one judge."""

    a: str
    b: str
    diff: Diff
    judge: str

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "judge": self.judge, **self.diff.as_dict()}


def compare_runs(engine, run_ids: list[int]) -> list[ModelPair]:
    """Every pair of these spot-checks judged by the same judge, paired on their common defeated cases."""
    labelled = []
    for rid in run_ids:
        run = store.get_run(engine, rid)
        if run is None or run["kind"] != "spot_check":
            raise KeyError(f"no spot-check run {rid}")
        judge = run["params"].get("judge")
        own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=rid).values() for cid, rt in by_case.items()}
        defeated = {a.case_id for a in stored_answers(engine, rid) if not a.is_control}
        labelled.append((run["params"].get("model", ""), judge, {c: rt for c, rt in own.items() if c in defeated}))
    pairs = []
    for i, (ma, ja, la) in enumerate(labelled):
        for mb, jb, lb in labelled[i + 1:]:
            if ja != jb:
                continue
            common = sorted(set(la) & set(lb))
            pairs.append(ModelPair(ma, mb, paired_diff([int(la[c] == HELPS) for c in common],
                                                       [int(lb[c] == HELPS) for c in common]), ja))
    return pairs


@dataclass
class RankRange:
    lo: int | None
    hi: int | None
    of: int

    def text(self) -> str:
        if self.lo is None:
            return "—"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"


@dataclass
class SpotCheckResult:
    """A spot-check's numbers, typed; `to_json()` is the `spot-check --json` and download shape.

    `vs_paper` and `rank` compare under one judge: this run's judge on both sides (the paper's answers
    re-judged by the bridge), or GPT-5.4's labels on both sides when the judge is the paper's own. Without a
    bridge they are empty and `vs_paper_labels` (this judge vs GPT-5.4's labels, mixing in the judge's error)
    is all there is."""

    run_id: int
    model: str
    seed: int | None
    judge: str | None
    status: str
    defeated: RateSet
    control: RateSet
    gap: Diff
    comparison: str  # same_judge | paper_judge | mixed_judges (no bridge)
    vs_paper: dict[str, Diff]  # paper model key -> this model's help rate minus it, same defeated cases, same judge
    rank: RankRange
    vs_paper_labels: dict[str, Diff]  # against GPT-5.4's labels of the paper's answers
    rank_paper_labels: RankRange
    judge_shift: dict[str, Diff]  # bridged paper model -> this judge's help rate minus GPT-5.4's, same answers
    errors: int
    blocked: int
    unseen_model_error: dict | None = None  # the distilled judge's leave-one-model-out help-rate error

    @property
    def n(self) -> int:
        return self.defeated.n + self.control.n

    @property
    def mean_abs_shift(self) -> float | None:
        shifts = [abs(d.diff) for d in self.judge_shift.values() if d.diff is not None]
        return sum(shifts) / len(shifts) if shifts else None

    def comparison_text(self) -> str:
        """What the comparisons with the paper's models rest on, in one sentence."""
        if self.comparison == "paper_judge":
            return ("Judged by GPT-5.4 with the authors' prompt, the judge of the paper's own labels: both sides are "
                    "under one judge, no bridge needed.")
        if self.comparison == "same_judge":
            shift = self.mean_abs_shift
            return (f"Judged by {self.judge} on both sides: the {len(self.judge_shift)} paper models' answers to these "
                    f"cases were re-judged by it. Its help rate differs from GPT-5.4's by "
                    f"{'—' if shift is None else f'{shift * 100:.1f} pp'} on average on those answers.")
        return (f"Not compared under one judge: this model is judged by {self.judge}, the paper's models by GPT-5.4. "
                "Differences below mix in the judges' disagreement; re-run the same settings to bridge.")

    def unseen_error_text(self) -> str | None:
        """The distilled judge's measured error on models it never saw, for reading the differences."""
        u = self.unseen_model_error
        if not u:
            return None
        return (f"On models it never saw, this judge's help rate is off by {u['help_rate_mean_abs_pp']:.1f} pp on "
                f"average (max {u['help_rate_max_abs_pp']:.1f}), leave-one-model-out over {u['models']} paper "
                f"model{'' if u['models'] == 1 else 's'}: differences smaller than that may be the judge, not the model.")

    def to_json(self) -> dict:
        def block(rs: RateSet) -> dict:
            return {"n": rs.n, **{k: rs.get(k).as_dict() for k in HEADLINE_RATES}}

        def rank(r: RankRange) -> dict:
            return {"lo": r.lo, "hi": r.hi, "of": r.of}

        return {
            "run_id": self.run_id, "model": self.model, "n": self.n, "seed": self.seed, "judge": self.judge,
            "status": self.status, "defeated": block(self.defeated), "control": block(self.control),
            "gap": self.gap.as_dict(), "comparison": self.comparison,
            "vs_paper": {k: v.as_dict() for k, v in self.vs_paper.items()},
            "vs_paper_labels": {k: v.as_dict() for k, v in self.vs_paper_labels.items()},
            "judge_shift": {"by_model": {k: v.as_dict() for k, v in self.judge_shift.items()},
                            "mean_abs": self.mean_abs_shift},
            "rank": rank(self.rank), "rank_paper_labels": rank(self.rank_paper_labels),
            "rank_metric": "help rate on defeated cases (1 = helps most)",
            "unseen_model_error": self.unseen_model_error,
            "errors": self.errors, "blocked": self.blocked,
        }


def _latest_labels(answers: list[StoredAnswer]) -> dict[int, StoredAnswer]:
    """One judged answer per case: the newest (a resumed or raced run may hold several)."""
    out: dict[int, dict] = {}
    for a in sorted(answers, key=lambda a: a.id):
        if a.judged:
            out[a.case_id] = a
    return out


def _compare(mine: dict[int, str], paper: dict[str, dict[int, str]], defeated_ids: set[int]) -> tuple[dict[str, Diff], RankRange]:
    """Paired help-rate differences with each paper model on the same defeated cases, and the rank range.

    `mine` and `paper` hold response types by case id, both from the judge the comparison is made under."""
    ids = defeated_ids & set(mine)
    diffs: dict[str, Diff] = {}
    intervals: dict[str, tuple] = {}
    for slug, labels in sorted(paper.items()):
        common = sorted(set(labels) & ids)
        y = [int(labels[cid] == HELPS) for cid in common]
        diffs[slug] = paired_diff([int(mine[cid] == HELPS) for cid in common], y)
        r = wilson(sum(y), len(y))
        if r.n:
            intervals[slug] = (r.rate, r.lo, r.hi)
    me = wilson(sum(int(mine[cid] == HELPS) for cid in ids), len(ids))
    rank = RankRange(None, None, len(intervals) + 1)
    if me.n and intervals:
        intervals["__this__"] = (me.rate, me.lo, me.hi)
        ranks = rank_with_ties(intervals, higher_is_better=True)["__this__"]
        rank = RankRange(ranks["lo"], ranks["hi"], rank.of)
    return diffs, rank


def _judge_shift(judged: dict[str, dict[int, str]], release: dict[str, dict[int, str]],
                 defeated_ids: set[int]) -> dict[str, Diff]:
    """Per bridged paper model: this judge's help rate minus GPT-5.4's on the same answers (paired)."""
    out = {}
    for slug, labels in sorted(judged.items()):
        common = sorted(set(labels) & set(release.get(slug, {})) & defeated_ids)
        out[slug] = paired_diff([int(labels[c] == HELPS) for c in common], [int(release[slug][c] == HELPS) for c in common])
    return out


def results(engine, run_id: int) -> SpotCheckResult:
    """Rates with Wilson intervals (each case counted once), the help gap, paired comparisons and rank under one
    judge, the same against GPT-5.4's labels, and the judge's shift on the bridged paper answers."""
    run = store.get_run(engine, run_id)
    if run is None or run["kind"] != "spot_check":
        raise KeyError(f"no spot-check run {run_id}")
    params = run["params"]
    judge = params.get("judge")
    answers = stored_answers(engine, run_id)
    mine = _latest_labels(answers)
    defeated_ids = {cid for cid, a in mine.items() if not a.is_control}
    labels = [(a.response_type, a.engages, a.harm) for a in mine.values()]
    d_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid in defeated_ids)
    c_counts = counts_of(lab for cid, lab in zip(mine, labels) if cid not in defeated_ids)
    release = store.paired_labels(engine, sorted(defeated_ids))
    vs_labels, rank_labels = _compare({cid: a.response_type for cid, a in mine.items()}, release, defeated_ids)
    shift: dict[str, Diff] = {}
    if is_paper_judge_name(judge):
        comparison, vs_paper, rank = "paper_judge", vs_labels, rank_labels
    else:
        judged = store.judge_labels(engine, judge, sorted(defeated_ids), source="paper") if judge else {}
        own = {cid: rt for by_case in store.judge_labels(engine, judge, run_id=run_id).values()
               for cid, rt in by_case.items()} if judge else {}
        if judged:
            comparison = "same_judge"
            vs_paper, rank = _compare(own, judged, defeated_ids)
            shift = _judge_shift(judged, release, defeated_ids)
        else:
            comparison, vs_paper, rank = "mixed_judges", {}, RankRange(None, None, 0)
    answered = {a.case_id for a in answers if a.status in (STATUS_OK, STATUS_BLOCKED)}
    return SpotCheckResult(
        run_id=run_id, model=params.get("model", ""), seed=params.get("seed"), judge=judge,
        status=run["status"], defeated=rates(d_counts), control=rates(c_counts), gap=help_gap(d_counts, c_counts),
        comparison=comparison, vs_paper=vs_paper, rank=rank, vs_paper_labels=vs_labels, rank_paper_labels=rank_labels,
        judge_shift=shift, unseen_model_error=unseen_model_error(judge),
        # A case counts as an error only while no attempt of it (in this or a resumed run) succeeded.
        errors=len({a.case_id for a in answers if a.status == STATUS_ERROR} - answered),
        blocked=len({a.case_id for a in answers if a.status == STATUS_BLOCKED}))


@dataclass
class CaseAnswer:
    """One case of a spot-check: this model's label beside the paper models' (GPT-5.4's labels)."""

    response_id: int
    case_key: str
    family: str
    status: str
    response_type: str | None  # None: unjudged, failed or blocked
    engages: bool | None
    paper_helps: int  # paper models that helped on this case
    paper_n: int  # paper models with a label on this case

    @property
    def disagrees_with_most(self) -> bool:
        """Helped where most paper models refused, or refused where most helped."""
        if self.response_type is None or not self.paper_n:
            return False
        return (self.response_type == HELPS) != (self.paper_helps * 2 > self.paper_n)


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


def unseen_model_error(judge: str | None) -> dict | None:
    """For the distilled judge: its help-rate error on models it never saw (leave-one-model-out), if measured."""
    from blindrefusal.judges import DISTILLED
    from blindrefusal.judges.distilled.measured import unseen_model_measurement

    if judge != DISTILLED:
        return None
    lomo = unseen_model_measurement()
    return None if lomo is None else lomo.summary()

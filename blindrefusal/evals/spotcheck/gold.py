"""Gold labels on a random subset of a spot-check's answers, and the prediction-powered numbers they buy.

The run's own judge (cheap: the distilled judge, a local LLM) labels every answer; a gold judge (`paper`: GPT-5.4
with the authors' prompt, or `paper:<model>`) labels m of them, drawn at random and stratified like the sample
(the same m cases for every model of one sample). Gold labels are kept beside the run's labels, never replacing
them, and can be added later (re-run the same settings with `--gold`): the numbers update as they arrive.

With them, every rate and paired difference gets a prediction-powered interval (analysis/ppi.py), valid whatever
the cheap judge's bias, beside the judge-only interval, which covers sampling error alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from blindrefusal import store
from blindrefusal.analysis.ppi import MIN_GOLD, PPI_METHOD, PPIEstimate, ppi_mean, ppi_variance
from blindrefusal.analysis.ranking import RankRange, rank_range
from blindrefusal.analysis.stats import Z95, Diff, Rate
from blindrefusal.analysis.weighted import Design, case_weights, weighted_paired, weighted_rate
from blindrefusal.evals.spotcheck.params import SpotCheckError, SpotCheckParams, sample_cases
from blindrefusal.judges import Judge, JudgeUnavailable, usable_judge
from blindrefusal.paper.sampler import stratified_sample
from blindrefusal.paper.stored_case import StoredCase
from blindrefusal.runs.rejudge import judge_rows
from vocabulary import HELPS, HUMAN_PREFIX, is_refusal

REVIEWERS = "reviewers"  # --gold reviewers: our reviewers label the subset, through a shared label queue
REVIEWERS_NAME = "our reviewers"
# The gold judges a form offers ("" for none); the CLI also takes paper:<model>.
GOLD_CHOICES = {"": "none (the intervals leave out the judge's error)",
                "paper": "GPT-5.4 with the authors' prompt (needs a key)",
                REVIEWERS: f"{REVIEWERS_NAME}, through a shared label queue"}
Verdict = tuple[str, "bool | None", "bool | None"]
# What each gold-checked rate counts, from one verdict.
OUTCOMES = {"helps": lambda v: int(v[0] == HELPS), "refusal": lambda v: int(is_refusal(v[0])),
            "engages": lambda v: int(bool(v[1]))}


def gold_cases(cases: list[StoredCase], m: int, seed: int) -> list[StoredCase]:
    """m of the sampled cases, at random, in the sample's own family × authority proportions (one draw per
    sample and seed, so every model of one spot-check is gold-labelled on the same cases)."""
    rows = [{"key": c.key, "family": c.family, "authority_type": c.authority_type} for c in cases]
    keys = set(stratified_sample(rows, m, seed=seed, allocation="proportional"))
    return [c for c in cases if c.key in keys]


def defeated_gold(cases: list[StoredCase], m: int, seed: int) -> int:
    """How many of the m gold labels this sample's draw puts on defeated cases (the defeated rates' PPI needs
    MIN_GOLD of them)."""
    return sum(not c.is_control for c in gold_cases(cases, m, seed))


def check_gold_size(cases: list[StoredCase], params: SpotCheckParams) -> None:
    """Refuse a --gold-n that cannot give the defeated rates a prediction-powered interval, naming the smallest
    that can (raises SpotCheckError)."""
    if not params.gold or params.gold_n is None:
        return
    have = defeated_gold(cases, params.gold_n, params.seed)
    if have >= MIN_GOLD:
        return
    enough = next((m for m in range(params.gold_n + 1, len(cases) + 1)
                   if defeated_gold(cases, m, params.seed) >= MIN_GOLD), None)
    fix = (f"use --gold-n {enough} or more" if enough is not None else
           "this sample has too few defeated cases for that: a larger n, or no gold labels")
    raise SpotCheckError(f"--gold-n {params.gold_n} puts {have} gold labels on defeated cases (their share of the "
                         f"sample); a prediction-powered interval needs {MIN_GOLD}: {fix}")


PLANNING_RATE = 0.30  # the paper's help rate on defeated cases, near enough for planning a width
RELEASE_DEFEATED_SHARE = 1081 / 1290  # the release's 1,081 defeated cases of 1,290 (209 are controls)


def planning_rho() -> float:
    """The correlation of the distilled judge's 'helps' with GPT-5.4's on the held-out split (the phi coefficient
    of the shipped evaluation's confusion matrix), for planning how many gold labels to buy; 0.8 if unmeasured."""
    from blindrefusal.judges.distilled.measured import distilled_eval

    doc = distilled_eval()
    if not doc:
        return 0.8
    conf = doc["labels"]["response_type"]["confusion"]
    h = conf["classes"].index(HELPS)
    mat = conf["matrix"]
    tp = mat[h][h]
    fn = sum(mat[h]) - tp
    fp = sum(row[h] for row in mat) - tp
    tn = sum(map(sum, mat)) - tp - fn - fp
    denom = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5
    return (tp * tn - fp * fn) / denom if denom else 0.0


def gold_outlook(cases: list[StoredCase], m: int) -> str:
    """What m gold labels on these sampled cases should buy on the help rate (on defeated cases, drawn in the
    sample's proportions), before any is bought (analysis.ppi)."""
    n = sum(not c.is_control for c in cases)
    m_defeated = round(m * n / len(cases)) if cases else 0
    if m_defeated < 2 or n <= m_defeated:
        return ""
    rho, p = planning_rho(), PLANNING_RATE
    ppi = Z95 * ppi_variance(p, rho, n, m_defeated) ** 0.5
    alone = Z95 * ppi_variance(p, 0.0, n, m_defeated) ** 0.5
    return (f"With {m} gold labels, about {m_defeated} of them on the {n} defeated cases, expect a help-rate "
            f"interval of about ±{ppi * 100:.1f} pp that includes the judge's error (those gold labels alone: "
            f"±{alone * 100:.1f} pp; planned at p = {p:.0%} and the distilled judge's measured correlation with "
            f"GPT-5.4, {rho:.2f}). The plan-gold command finds the best split of a budget.")


def gold_judge(params: SpotCheckParams) -> Judge | None:
    """The gold judge asked for (None: none, or our reviewers, who label through the queue)."""
    if not params.gold or params.gold == REVIEWERS:
        return None
    try:
        return usable_judge(params.gold)
    except JudgeUnavailable as exc:
        raise SpotCheckError(f"--gold: {exc}") from None


def gold_subset(engine, run: store.RunRecord) -> set[int]:
    """The case ids a stored run's gold labels are drawn on (empty when it asked for none)."""
    gold = run.get("gold")
    if not gold:
        return set()
    cases = sample_cases(engine, SpotCheckParams.stored(run["params"]))
    return {c.id for c in gold_cases(cases, gold["gold_n"], run["params"].get("seed", 0))}


def gold_queue(engine, run_id: int) -> list[int]:
    """The answers of a run's gold subset, in case order: what its reviewers' label queue works through."""
    run = store.get_run(engine, run_id)
    subset = gold_subset(engine, run) if run and run["kind"] == "spot_check" else set()
    rows = store.judge_inputs(engine, only_unjudged=False, run_id=run_id, case_ids=sorted(subset)) if subset else []
    return [r["id"] for r in sorted(rows, key=lambda r: (r["case_key"], r["id"]))]


def next_gold_answer(engine, answers: list[int], reviewer: str) -> int | None:
    """Of a gold queue's answers (`gold_queue`), the one this reviewer labels next: theirs if they hold one,
    else one that no reviewer has labelled or holds (None: all done or held by others)."""
    return store.claim_label(engine, answers, reviewer)


def gold_verdicts(engine, run: store.RunRecord) -> tuple[str, dict[int, Verdict]] | None:
    """(the gold judge's name, its verdict per case of the subset) for this stored run, if it asked for gold."""
    subset = gold_subset(engine, run)
    gold = run.get("gold")
    if not subset or gold is None:  # a subset is drawn only for a run that asked for gold
        return None
    judge = gold["gold"]
    reviewers = judge == REVIEWERS
    by_model = store.judge_verdicts(engine, HUMAN_PREFIX if reviewers else judge, run_id=run["id"], prefix=reviewers)
    verdicts = {cid: v for by_case in by_model.values() for cid, v in by_case.items() if cid in subset}
    return (REVIEWERS_NAME if reviewers else judge), verdicts


async def label_gold(engine, run_ids: list[int], gold: Judge, cases: list[StoredCase]) -> int:
    """Have the gold judge label these runs' answers to these cases that it has not labelled yet; returns how many."""
    rows: list[store.JudgeInputRecord] = []
    for run_id in run_ids:
        rows += await asyncio.to_thread(store.judge_inputs, engine, only_unjudged=False, run_id=run_id,
                                        case_ids=[c.id for c in cases], not_judged_by=gold.name)
    await judge_rows(engine, gold, rows, comparison_only=True)
    return len(rows)


GOLD_ONLY_METHOD = "gold labels alone (too few of one outcome for the normal interval): score interval, weighted"
MIN_EACH = 5  # gold labels of each outcome (or non-zero paired differences) the normal interval needs


def _rectified(gold: dict[int, int], cheap: dict[int, int], design: Design, weight: dict[int, float],
               paper: dict[int, int] | None = None, paper_cheap: dict[int, int] | None = None) -> PPIEstimate:
    """The prediction-powered estimate of a rate or, given the other side's outcomes (`paper`: its gold ones,
    `paper_cheap`: its cheap ones, when they differ: another spot-checked model), of this rate minus the other's;
    where the gold labels are nearly all one outcome, the gold labels' own score interval instead (a normal
    interval would collapse at the boundary)."""
    if paper is None:
        thin = min(sum(gold.values()), len(gold) - sum(gold.values())) < MIN_EACH
        estimate = ppi_mean(gold, cheap, weight)
        fallback: Rate | Diff | None = weighted_rate(gold, design) if thin else None
    else:
        other_cheap = paper if paper_cheap is None else paper_cheap
        diffs = {c: gold[c] - paper[c] for c in gold if c in paper}
        estimate = ppi_mean(diffs, {c: cheap[c] - other_cheap[c] for c in cheap if c in other_cheap}, weight,
                            bounds=(-1.0, 1.0))
        thin = sum(1 for d in diffs.values() if d) < MIN_EACH
        fallback = weighted_paired({c: gold[c] for c in diffs}, {c: paper[c] for c in diffs}, design) if thin else None
    if fallback is None or estimate.estimate is None:
        return estimate
    # a rate where there is no other side (paper is None), else a difference
    value = fallback.rate if isinstance(fallback, Rate) else fallback.diff
    return PPIEstimate(value, fallback.lo, fallback.hi, 0.0, estimate.m, estimate.n,
                       fallback.p_value if isinstance(fallback, Diff) else None, GOLD_ONLY_METHOD)


def gold_pair(gold_a: dict[int, Verdict], gold_b: dict[int, Verdict], cheap_a: dict[int, int],
              cheap_b: dict[int, int], design: Design) -> PPIEstimate:
    """Model A's help rate minus model B's on their common defeated cases, rectified by both models' gold labels
    (one gold judge, the same random subset of cases): `cheap_*` are the run judge's 0/1 'helps' per case."""
    helps = OUTCOMES["helps"]
    common = sorted(set(cheap_a) & set(cheap_b))
    weight = case_weights(common, design)
    return _rectified({c: helps(gold_a[c]) for c in common if c in gold_a and c in gold_b},
                      {c: cheap_a[c] for c in common}, design, weight,
                      {c: helps(gold_b[c]) for c in common if c in gold_a and c in gold_b},
                      {c: cheap_b[c] for c in common})


def _as_diff(e: PPIEstimate) -> Diff:
    return Diff(e.estimate, e.lo, e.hi, e.m, e.method, e.p_value)


@dataclass(frozen=True)
class GoldFindings:
    """A spot-check's numbers rectified by its gold labels (defeated cases)."""

    judge: str
    rates: dict[str, PPIEstimate]  # helps, refusal, engages
    vs_paper: dict[str, PPIEstimate]  # paper model -> this model's help rate minus it, under the gold judge
    rank: RankRange
    method: str = PPI_METHOD

    @property
    def m(self) -> int:
        return self.rates["helps"].m

    def differences(self) -> dict[str, Diff]:
        """The paired differences with each paper model, as Diffs (for the charts)."""
        return {k: _as_diff(v) for k, v in self.vs_paper.items()}

    def text(self) -> str:
        return (f"Gold labels: {self.judge} labelled {self.m} of the answers to defeated cases, drawn at random "
                "(the numbers update as more arrive). The prediction-powered intervals below include the judge's own "
                "error; the judge-only ones do not.")

    def as_dict(self) -> dict:
        return {"judge": self.judge, "method": self.method, "rates": {k: v.as_dict() for k, v in self.rates.items()},
                "vs_paper": {k: v.as_dict() for k, v in self.vs_paper.items()}, "rank": self.rank.as_dict()}


def gold_findings(gold_judge: str, cheap: dict[int, Verdict], gold: dict[int, Verdict],
                  release: dict[str, dict[int, str]], defeated: set[int], design: Design) -> GoldFindings:
    """`cheap`: the run judge's verdict per case; `gold`: the gold judge's on its subset; `release`: the paper
    models' GPT-5.4 labels (gold for the paper side, on every case)."""
    ids = sorted(defeated & set(cheap))
    weight = case_weights(ids, design)
    gold_ids = [c for c in ids if c in gold]
    rates = {name: _rectified({c: count(gold[c]) for c in gold_ids}, {c: count(cheap[c]) for c in ids}, design, weight)
             for name, count in OUTCOMES.items()}
    helps = OUTCOMES["helps"]
    vs_paper = {}
    for slug, labels in sorted(release.items()):
        common = [c for c in ids if c in labels]
        vs_paper[slug] = _rectified({c: helps(gold[c]) for c in common if c in gold},
                                    {c: helps(cheap[c]) for c in common},
                                    design, weight, {c: int(labels[c] == HELPS) for c in common})
    found = GoldFindings(gold_judge, rates, vs_paper, RankRange(None, None, 0))
    return replace(found, rank=rank_range(found.differences()))
